/*
 * score.h — tune's side of the scoring: labels, moments and stream spans
 * in the form core/score.h takes them (that file has the definitions:
 * episodes, matching, false alarms per stream-hour, delays).
 *
 * Stream-hours need each stream's first window start and last window end,
 * which depend on the windowing (window, slide, watermark delay) but not on
 * the detectors; tune_spans() computes them once per windowing pass, with
 * an engine of its own whose detectors are all off, fed from the store.
 */
#ifndef TELEMETRA_TUNE_SCORE_H
#define TELEMETRA_TUNE_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/score.h"
#include "io/labels.h"
#include "tune/run.h"
#include "tune/store.h"

/* The streams of one windowing: spans borrow the store's strings.  Owns v
 * (tune_spans_free). */
struct tune_spans {
	struct score_span *v;
	size_t n, cap;
};

/* The spans of each windowing pass of outcomes[0..n) (outcome.pass), into
 * out[0..passes), computed in parallel by up to jobs threads; the caller
 * frees each. */
void tune_spans(const struct store *store, const struct tune_case *cases,
                const struct tune_outcome *outcomes, size_t n, size_t passes, bool final_flush,
                unsigned jobs, struct tune_spans *out);
void tune_spans_free(struct tune_spans *s);

/* The labels as score_labels (borrowing l's strings): a new array the
 * caller frees. */
struct score_label *tune_score_labels(const struct labels *l);

/* Score one configuration: window_us is its window size. */
void tune_score(const struct score_label *labels, size_t n_labels, const struct tune_outcome *o,
                const struct tune_spans *spans, int64_t tolerance_us, int64_t window_us,
                struct score *out);

#endif
