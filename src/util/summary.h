/*
 * summary.h — the one-paragraph report at the end of a run.
 */
#ifndef TELEMETRA_SUMMARY_H
#define TELEMETRA_SUMMARY_H

#include <stddef.h>

#include "core/engine.h"

/* "replayed 2 files: 1000 records, 990 events accepted, ... in 0.5 s
 * (2.0 M records/s) into out.db" on stderr, unless quiet. */
void log_summary(const char *verb, const struct engine_stats *st, size_t n_files, double seconds,
                 const char *destination);

/* A run in which no record was usable (no event accepted) fails: this
 * appends to out one sentence naming the likely cause (no records, wrong
 * format, wrong topic names, all late), from the dead letters by reason
 * and the topics the input's envelopes named (topics[0..n_topics), may be
 * empty).  The topics are the configured chat and viewer topics. */
struct buf;
void summary_no_usable_hint(struct buf *out, const struct engine_stats *st,
                            const char *const *topics, size_t n_topics, const char *chat_topic,
                            const char *viewer_topic);

#endif
