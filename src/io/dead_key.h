/*
 * dead_key.h — the key of a dead-letter row, the same in both sinks.
 *
 * Every dead letter counted must be a row, and a source of any length must
 * fit an index.  A row's key is therefore (source_key, partition,
 * position, occurrence), where source_key is the SHA-256 of the source's
 * bytes (the full text stays in `source`) and occurrence tells apart the
 * dead letters of one run that come from the same place:
 *
 *   - counting (replay): per (source, partition), positions normally only
 *     grow — lines of a file, offsets of a partition in a capture.  A
 *     position at or below the last one seen there means the place is read
 *     again (the same file given twice, a duplicated envelope), and the
 *     occurrence goes up by one.  Within one occurrence positions strictly
 *     grow, so no two dead letters of a run share a key; the memory is one
 *     entry per (source, partition), not per dead letter.
 *   - not counting (live): occurrence is always 0.  A Kafka offset names
 *     one message, and the daemon reading it again after a crash or a
 *     rebalance must rewrite the same row, not add one.
 *
 * A later run (replay --append) that reads the same place again rewrites
 * those rows, as it does window rows: keys say where a record came from.
 */
#ifndef TELEMETRA_DEAD_KEY_H
#define TELEMETRA_DEAD_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"

struct dead_keys;

/* A new key maker (dead_keys_free); count: see above. */
struct dead_keys *dead_keys_new(bool count);
void dead_keys_free(struct dead_keys *k);

/* The key of d: source_key as 64 hex digits and a NUL, and occurrence. */
void dead_keys_of(struct dead_keys *k, const struct dead_letter *d, char source_key[65],
                  int64_t *occurrence);

#endif
