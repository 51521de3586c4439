/*
 * pipeline.h — the core's two stages and the seam between them.
 *
 *             stage 1: windowing                        stage 2: detection
 *   events ─► watermarks ─► windower ─► seam ─────────► detectors ─► moments
 *   (per group: lanes,      (panes,     row(g, row)     (per group, per stream:
 *    lateness)               closes)    closed(g, k)     judge, then decide)
 *                                       end(g)
 *                                       release(g, s, k)?
 *                                       drop(g)
 *
 * Windowing (core/watermark.h, core/window.h) turns a group's events into
 * finalized window rows.  Each time the group's global watermark passes
 * window ends, the windower *closes* them: the rows of one close arrive
 * stream by stream, each stream's in window order, then closed(g, k) says
 * that every window of group g up to k has been emitted.  At the end of a
 * bounded input (final flush) the group's last close is followed by
 * end(g).  Between closes windowing may let go of a stream that holds no
 * pane, and asks the seam first: release(g, s, k) returns the least
 * closed index from which stream s's state downstream is equivalent to
 * none (detectors_release_stream's contract); a later stream may then
 * reuse index s, so a consumer that keeps state by index must either say
 * "not yet" or key its state by stream id.
 *
 * When a group leaves (its lanes closed), drop(g) says so: its windows and
 * detectors go, and a later group of that number starts from nothing.
 *
 * Detection (core/detector.h) is a consumer of the seam: for a row,
 * detectors_on_window (judging and deciding); for closed, detectors_on_
 * closed (runs that cannot grow end); for end, detectors_flush; for
 * release, detectors_release_stream; for drop, detectors_free; one struct
 * detectors per group.
 *
 * The engine (core/engine.h) is the composition: its windowing feeds its
 * own detection stage through this seam, then hands each row, with the
 * detectors' fields filled in, to its output.  A caller may plug another
 * consumer into the seam instead (engine_output.seam): tune records the
 * seam once per windowing and replays the recording into many detection
 * stages (struct detection below), so its moments are the engine's by
 * construction, not by a copy of the engine's order of calls.
 */
#ifndef TELEMETRA_CORE_PIPELINE_H
#define TELEMETRA_CORE_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/detector.h"
#include "core/window.h"

/* The seam, as a consumer implements it.  Every callback returns 0 or
 * non-zero to stop (release returns an index instead); row may fill the
 * row's detector fields (z_score, has_z, is_anomaly).  Everything pointed
 * to is valid only during the call. */
struct seam {
	void *ctx;
	int (*row)(void *ctx, int32_t group, struct window_row *row);
	int (*closed)(void *ctx, int32_t group, int64_t closed_k);
	int (*end)(void *ctx, int32_t group);
	int64_t (*release)(void *ctx, int32_t group, uint32_t stream, int64_t closed_k);
	/* The group left (engine_drop_group: its last lane closed, or its
	 * partition was revoked): its state downstream goes too, and a group
	 * of that number seen later starts afresh, windows and detectors. */
	void (*drop)(void *ctx, int32_t group);
};

/*
 * A detection stage on its own: one struct detectors per group (made on a
 * group's first row), fed through its seam, emitting moments to emit.
 * How each row is detected:
 *   DETECTION_FULL    detectors_on_window, as in the engine
 *   DETECTION_JUDGE   detectors_judge into verdicts[i] for the i-th row
 *                     seen (no moment: a judging to be decided later)
 *   DETECTION_DECIDE  detectors_decide with verdicts[i] for the i-th row,
 *                     which must be the rows judged, in the same order
 * verdicts is the caller's (n_verdicts entries; rows past them are a bug
 * and abort).  The caller owns the stage (detection_free).
 */
enum detection_mode { DETECTION_FULL, DETECTION_JUDGE, DETECTION_DECIDE };

struct detection;
struct detection *detection_new(const struct detect_config *cfg, enum detection_mode mode,
                                struct row_verdicts *verdicts, size_t n_verdicts,
                                moment_emit_fn emit, void *emit_ctx);
void detection_free(struct detection *d);
/* Bare moments from every group's detectors (detectors_set_bare_moments);
 * before the first row. */
void detection_set_bare_moments(struct detection *d);
/* Its consumer side (ctx is d). */
struct seam detection_seam(struct detection *d);

#endif
