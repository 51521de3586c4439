/*
 * run.h — running a grid of configurations over a decoded store.
 *
 * A configuration's results come from two stages of the core, and most
 * grids vary only the second:
 *
 *   windowing   records ─► lanes, watermarks, panes ─► window rows
 *               (depends on window, slide, watermark delay, top emotes and
 *               the lexicon: the *windowing key*)
 *   detection   window rows ─► z-scores, anomalies, moments
 *               (threshold, history, min-history, min-stddev, merging,
 *               further detectors)
 *
 * So configurations are grouped by windowing key, and each group shares
 * one *windowing pass*: an engine fed from the store whose seam
 * (core/pipeline.h) is a recorder in place of its detection stage.  The
 * recording is the seam's calls in order: each row, closed(group, k) after
 * each close, end(group) at the final flush.  Each configuration of the
 * group then replays the recording into a detection stage of its own
 * (struct detection: one struct detectors per group), call for call, so
 * its detectors see the rows, closes and ends the engine's detectors would
 * have seen, and the numbers are those of a replay with the same options
 * by construction.  The recording also gives each stream's span (its
 * first window's start, last window's end) for scoring.
 *
 * Detection itself is judging (scores and baselines: the costly part) and
 * deciding (thresholds, runs, moments; core/detector.h).  Configurations of
 * one windowing key that judge alike (detect_same_judging: they differ only
 * in thresholds and merging) share one *judging pass*, which keeps the
 * verdict on every recorded row; each then makes its own *decision pass*
 * over the verdicts (DETECTION_JUDGE, DETECTION_DECIDE), with the same
 * closes and ends.  A configuration alone judges and decides in one pass
 * (DETECTION_FULL, detectors_on_window as in the engine).  So a threshold
 * sweep costs one windowing pass, one judging pass and one decision pass
 * (a few comparisons a row) per threshold.  Decision passes run in
 * batches (up to 16 configurations, one walk over the recording, each
 * row handed to every stage of the batch in turn), so that a row's
 * verdicts are read from memory once a batch, not once a threshold.
 *
 * Parallelism: windowing passes run in parallel, and so do the judging
 * passes of a recorded group and the decision batches of a judged one; a
 * worker prefers decisions, then judgings (they free verdicts and
 * recordings as their groups finish) and starts a new windowing pass
 * otherwise.  Every result depends on its configuration alone, never on
 * scheduling, so the output is the same for any number of jobs.
 */
#ifndef TELEMETRA_TUNE_RUN_H
#define TELEMETRA_TUNE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/score.h"
#include "tune/store.h"

/* One configuration.  core.lexicon must be the store's lexicon number
 * `lexicon` (configurations with the same lexicon files share it). */
struct tune_case {
	struct core_config core;
	size_t lexicon;
};

/* A detected moment, as scoring needs it. */
struct tune_moment {
	struct strview stream_id; /* the store's copy: valid while the store is */
	const char *type;         /* static (detector_name) */
	int64_t time_us;          /* start of the (first) anomalous window */
	int64_t end_us;           /* end of the (last) anomalous window */
	double intensity;
};

/* What one configuration produced.  Owns `moment_list`
 * (tune_outcome_free). */
struct tune_outcome {
	uint64_t windows;           /* window rows */
	uint64_t anomalous_windows; /* rows with is_anomaly */
	uint64_t moments;
	uint64_t accepted, late; /* events, from the shared windowing pass */
	struct tune_moment *moment_list; /* `moments` entries, in emission order */
	size_t pass;              /* which windowing pass it shared */
	double windowing_seconds; /* that pass's time (shared, not divided) */
	double detect_seconds;    /* its own detection pass (a shared judging: its share) */
};

void tune_outcome_free(struct tune_outcome *o);

struct tune_run_options {
	unsigned jobs;    /* threads, >= 1 */
	bool final_flush; /* engine_finish(final_flush) */
	bool spans;       /* compute each pass's stream spans (tune_run_stats.spans) */
	/* Optional: the core's notices (keying errors), from the first
	 * windowing pass only, so that each is said once.  Called from a
	 * worker thread. */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
	/* Optional: how far the run is, as steps done of steps in all (a
	 * windowing pass and a configuration's decisions are one step each),
	 * after each step; called from a worker thread under the scheduler's
	 * lock, so it must be quick and must not call back into tune_run. */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

/* The streams of one windowing, each with its first window's start and
 * its last window's end, for stream-hours (core/score.h); they borrow the
 * store's strings.  Owns v (tune_spans_free, tune/score.h). */
struct tune_spans {
	struct score_span *v;
	size_t n, cap;
};

struct tune_run_stats {
	size_t passes;            /* windowing passes: distinct windowing keys */
	/* With opt.spans: passes entries, the spans of each pass (outcome.pass);
	 * the caller frees each and the array. */
	struct tune_spans *spans;
	double windowing_seconds; /* summed over passes (CPU-ish time) */
	double detect_seconds;    /* summed over configurations */
};

/* Run cases[0..n) over the store; out[i] receives case i's outcome (the
 * caller frees each with tune_outcome_free).  Cannot fail: the core's
 * output goes to memory, and allocation failure aborts. */
void tune_run(const struct store *store, const struct tune_case *cases, size_t n,
              const struct tune_run_options *opt, struct tune_outcome *out,
              struct tune_run_stats *stats);

/*
 * An early windowing pass: the first windowing key's pass (cases[0]'s)
 * can be fed as the store fills (tune_early_feed after each batch the
 * reader stores, on the reading thread), so that windowing overlaps the
 * reader thread's decoding: the reading thread, which only interns and
 * stores, would otherwise wait on the decoder for most of the read, one
 * core of two idle.  tune_run_early then uses it as that pass if the
 * store's feed turned out to be what the early one fed (no lane opened
 * from the start: store_opens_lanes), and runs the pass itself otherwise;
 * its notices are said then, once.  Results are the same either way.
 * tune_early_start returns NULL when there is no case; cases and store
 * must outlive it.  The caller frees it with tune_early_free after
 * tune_run_early (NULL is fine everywhere).
 */
struct tune_early;
struct tune_early *tune_early_start(const struct store *store, const struct tune_case *cases,
                                    size_t n);
void tune_early_feed(struct tune_early *early);
void tune_early_free(struct tune_early *early);
void tune_run_early(const struct store *store, const struct tune_case *cases, size_t n,
                    const struct tune_run_options *opt, struct tune_early *early,
                    struct tune_outcome *out, struct tune_run_stats *stats);

#endif
