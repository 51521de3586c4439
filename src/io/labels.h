/*
 * labels.h — files of true moments, as `telemetra gen --labels` writes them
 * and `tune --labels` and `report --labels` read them: JSON Lines
 *
 *   {"stream_id":"stream_007","start":"2025-11-23T12:15:24Z","end":"...","kind":"hype"}
 *
 * start and end are RFC 3339 text or epoch numbers (as event timestamps);
 * stream_id a string or an integer; kind optional.  Blank lines are
 * skipped; anything else that is not a label fails the whole file, naming
 * the line, since a silently dropped label would skew every score.
 */
#ifndef TELEMETRA_LABELS_H
#define TELEMETRA_LABELS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"

struct label {
	char *stream_id; /* owned; any bytes, length below */
	size_t stream_id_len;
	char *kind; /* owned; "label" when the line has none */
	int64_t start_us, end_us;
};

/* Sorted by (stream_id bytes, start, end).  Owns its array and strings. */
struct labels {
	struct label *v;
	size_t n;
};

/* Read a labels file into *l (zeroed first).  On failure err says which
 * file, which line and what is wrong, and *l is empty. */
bool labels_load(struct labels *l, const char *path, struct error *err);
void labels_free(struct labels *l);

/* The labels of one stream: [*lo, *hi) in l->v. */
void labels_of_stream(const struct labels *l, struct strview stream_id, size_t *lo, size_t *hi);

#endif
