/*
 * score.h — scoring detected moments against true ones, as a user sees
 * them: per reported episode, not per window or per moment.
 *
 * One implementation for `tune --labels` (every configuration of a grid)
 * and `report --labels` (the page of one output database), so that the two
 * print the same figures for the same rows.  Pure computation: the callers
 * read the labels (io/labels.h) and the moments (the core's, or a
 * database's) and hand them over as the plain arrays below.
 *
 * Episodes.  The moments of one stream and one type, in time order, form
 * one episode while each starts no later than the end of the episode so
 * far (its windows overlap or touch the previous ones).  Unmerged moments
 * (one per anomalous window) and merged ones (one per run of consecutive
 * anomalous windows) therefore give the same episodes: a burst reported as
 * two moments, or whose z dips for a window, is one thing a user looks at.
 *
 * Matching, with tolerance T: an episode matches a label when the stream
 * ids are equal and the episode's [start, end) overlaps [label start - T,
 * label end + T] (start <= label end + T and end > label start - T).
 *   TP = labels matched by at least one episode;  FN = labels - TP
 *   FP = episodes matching no label (false alarms)
 *   precision = matching episodes / episodes   (0 without episodes)
 *   recall    = TP / labels                    (0 without labels)
 *   F1 = 2PR / (P + R), F2 = 5PR / (4P + R)    (0 when the sum is 0)
 *   stream-hours = the sum over the streams of the input of (end of the
 *     stream's last window - start of its first window), in hours
 *   false_per_stream_hour = FP / stream-hours  (0 without stream-hours)
 *   delay of a matched label = end of the first window of the earliest
 *     matching episode - label start, in seconds (when the evidence that
 *     something happens was first complete); mean and median over the
 *     matched labels (the median of an even count is the mean of the two
 *     middle values), undefined without a matched label.
 */
#ifndef TELEMETRA_CORE_SCORE_H
#define TELEMETRA_CORE_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

struct score_label {
	struct strview stream_id;
	int64_t start_us, end_us;
};

struct score_moment {
	struct strview stream_id, type;
	int64_t time_us; /* start of its (first) window */
	int64_t end_us;  /* end of its (last) window */
};

/* One stream of the input: its first window's start, last window's end. */
struct score_span {
	struct strview stream_id;
	int64_t first_us, last_us;
};

/* Everything borrowed from the caller. */
struct score_input {
	const struct score_label *labels; /* sorted by stream_id bytes (labels_load's order) */
	size_t n_labels;
	const struct score_moment *moments; /* any order */
	size_t n_moments;
	const struct score_span *spans; /* one per stream, any order */
	size_t n_spans;
	int64_t tolerance_us;
	/* The window size: the first window of an episode ends at its start +
	 * window_us.  0: at the end of the episode's first moment. */
	int64_t window_us;
};

struct score {
	size_t labels, moments, episodes;
	size_t true_positives, false_positives, false_negatives;
	double precision, recall, f1, f2;
	double stream_hours, false_per_stream_hour;
	bool has_delay; /* some label is matched */
	double mean_delay_s, median_delay_s;
};

/* An episode, for listing the false ones (and the matched ones). */
struct score_episode {
	struct strview stream_id, type; /* borrowed from the input's moments */
	int64_t start_us, end_us;
	size_t moments;
	bool matched;
};

/* Per item results, for a report: owned, free with score_detail_free. */
struct score_detail {
	struct score_episode *episodes; /* sorted by stream_id, start, type */
	size_t n_episodes;
	bool *label_matched;      /* per input label */
	double *label_delay_s;    /* per input label; valid where matched */
};

/* Score in against its labels into *out; with detail non-NULL, also the
 * episodes and the per-label results (the caller frees them). */
void score_compute(const struct score_input *in, struct score *out, struct score_detail *detail);
void score_detail_free(struct score_detail *d);

/* F-beta of a score: (1 + b²)PR / (b²P + R), 0 when that sum is 0. */
double score_fbeta(double precision, double recall, double beta);

#endif
