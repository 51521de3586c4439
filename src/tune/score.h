/*
 * score.h — scoring detected moments against true ones (`tune --labels`).
 *
 * Labels are JSON Lines, one true moment per line, as `telemetra gen
 * --labels` writes them:
 *     {"stream_id":"stream_014","start":"2025-11-23T12:06:33Z","end":"…","kind":"hype"}
 * start and end are RFC 3339 times or epoch numbers, as event timestamps;
 * kind is optional and not used for matching.  Blank lines are skipped.
 *
 * Matching, with tolerance T:
 *   a moment matches a label when both have the same stream_id and the
 *   moment's interval [time_us, end_us) overlaps [start - T, end + T]
 *   (i.e. time_us <= end + T and end_us > start - T).
 * Counts and rates:
 *   TP = labels matched by at least one moment
 *   FN = labels matched by none                      (TP + FN = labels)
 *   FP = moments that match no label
 *   precision = moments matching some label / moments   (0 without moments)
 *   recall    = TP / labels                              (0 without labels)
 *   F1 = 2 · precision · recall / (precision + recall)   (0 when both are 0)
 *   mean detection delay = over matched labels, the mean of
 *     (end_us of the matching moment that ends first) - label start,
 *   in seconds: how long after the true start the evidence was complete.
 *   Undefined (NULL) without a matched label.
 * Precision counts moments, recall counts labels: several moments on one
 * label (a burst split in two runs) lower nothing, and one moment covering
 * two labels counts for both.
 */
#ifndef TELEMETRA_TUNE_SCORE_H
#define TELEMETRA_TUNE_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "io/labels.h"
#include "tune/run.h"

struct score {
	size_t labels;
	size_t true_positives, false_positives, false_negatives;
	double precision, recall, f1;
	bool has_delay;
	double mean_delay_s;
};

void score_moments(const struct labels *l, const struct tune_moment *moments, size_t n,
                   int64_t tolerance_us, struct score *out);

#endif
