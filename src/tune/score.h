/*
 * score.h — tune's side of the scoring: labels, moments and stream spans
 * in the form core/score.h takes them (that file has the definitions:
 * episodes, matching, false alarms per stream-hour, delays).
 *
 * Stream-hours need each stream's first window start and last window end,
 * which depend on the windowing (window, slide, watermark delay) but not on
 * the detectors; the windowing passes record them (tune/run.h).
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

/* Spans (struct tune_spans, tune/run.h) come with the windowing passes
 * (tune_run_options.spans). */
void tune_spans_free(struct tune_spans *s);

/* The labels as score_labels (borrowing l's strings): a new array the
 * caller frees. */
struct score_label *tune_score_labels(const struct labels *l);

/* Score one configuration: window_us is its window size. */
void tune_score(const struct score_label *labels, size_t n_labels, const struct tune_outcome *o,
                const struct tune_spans *spans, int64_t tolerance_us, int64_t window_us,
                struct score *out);

#endif
