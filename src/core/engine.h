/*
 * engine.h — the processing core: one ordered sequence of records in,
 * window rows, moments and dead letters out (SPEC §1–§5).
 *
 *   record ─► decode ─► lane/lateness ─► sentiment ─► pane ─┐
 *                │            │                               │ watermark passes
 *                ▼            ▼                               ▼ a window's end
 *           dead letter   dead letter (late)        window row ─► detectors ─► moments
 *
 * The engine does no I/O and reads no clock: output rows are a pure
 * function of the records fed and the configuration (the determinism
 * contract).  It does not know what feeds it or where its output goes: the
 * caller passes records in and receives results through engine_output.
 *
 * Groups.  Lanes are grouped by partition number: chat/3 and viewer/3 carry
 * the events of the same streams (producers key both topics by stream_id,
 * with equal partition counts), so they form group 3, with its own global
 * watermark, windows and detectors; the bare events of files form group -1.
 * A group's results depend only on its own lanes, which is what lets a
 * partition move between daemons of a consumer group with its state (see
 * engine_save_group), and lets any split of partitions between daemons give
 * the same rows as one daemon.  Within a group, SPEC §4 applies as written.
 *
 * Stages.  The engine composes the core's two stages, windowing and
 * detection, joined by the seam that core/pipeline.h describes.
 */
#ifndef TELEMETRA_ENGINE_H
#define TELEMETRA_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/detector.h"
#include "core/event.h"
#include "core/lexicon.h"
#include "core/pipeline.h"
#include "core/window.h"

struct core_config {
	struct window_config window;
	int64_t watermark_delay_us;
	struct detect_config detect;
	const struct lexicon *lexicon; /* borrowed; must outlive the engine */
	const char *chat_topic;        /* borrowed */
	const char *viewer_topic;      /* borrowed */
	/* Optional: a JSON object saved with each group's state, naming the
	 * options the state depends on (cli/fingerprint.h); borrowed. */
	const char *state_fingerprint;
};

/* Where a record came from: a file line (partition -1, position = line
 * number) or a Kafka message (position = offset). */
struct record_pos {
	struct strview source; /* file path or topic */
	int32_t partition;
	int64_t position;
};

struct dead_letter {
	struct record_pos pos;
	enum dead_reason reason;
	const char *detail;
	const char *raw;
	size_t raw_len;
};

/* The engine's output port.  Each callback returns 0, or non-zero to stop
 * the engine, which then returns that value from the call that fed it.
 * Everything pointed to is valid only during the callback. */
struct engine_output {
	void *ctx;
	int (*window)(void *ctx, const struct window_row *row);
	int (*moment)(void *ctx, const struct moment *m);
	int (*dead_letter)(void *ctx, const struct dead_letter *dl);
	/* Optional: something an operator should know, in one sentence. */
	void (*notice)(void *ctx, const char *msg);
	/* Optional: a consumer of the windowing stage's output in place of
	 * the engine's own detection stage (core/pipeline.h); borrowed.  Rows
	 * still reach `window`, after the seam's row callback. */
	const struct seam *seam;
};

struct engine_stats {
	uint64_t records;   /* lines and messages fed, control records included */
	uint64_t controls;
	uint64_t chat;      /* decoded events by kind */
	uint64_t viewer;
	uint64_t accepted;  /* events that reached at least one window */
	uint64_t dead[DEAD_REASON_COUNT];
	uint64_t dead_total; /* late included */
	uint64_t windows;
	uint64_t moments;
	uint64_t streams_released; /* stream states let go (engine.c, consider_release) */
};

struct engine;

/* The caller owns the engine (engine_free); cfg is copied, but the lexicon
 * and topic strings it points to are borrowed. */
struct engine *engine_new(const struct core_config *cfg, const struct engine_output *out);
void engine_free(struct engine *e);

/* One line of an event file: a bare event (default lane), an envelope or a
 * control record.  source names the file. */
int engine_line(struct engine *e, struct strview source, int64_t line_no, const char *line,
                size_t len);
/*
 * The same in two steps, for a caller that decodes on another thread
 * (replay --threads): engine_score() gives a decoded chat event its
 * sentiment score (needs only the configuration's lexicon, which is
 * read-only, so any thread may call it), and engine_decoded() feeds a line
 * that record_decode() decoded, with any decoder, exactly as engine_line()
 * would have.  line/len are the raw line, for its dead letter (a dead or a
 * late bare event); every view in *r must stay valid during the call.
 */
void engine_score(const struct core_config *cfg, struct event *ev);
struct decoded_line;
int engine_decoded(struct engine *e, struct strview source, int64_t line_no, const char *line,
                   size_t len, const struct decoded_line *r);
/* A hint, for a caller holding decoded lines that engine_decoded() will
 * get soon: fetch into the cache the table slots r's event will look up
 * (its stream's and its chatter's).  Changes no state and no output; a
 * line without an event, or an event built without has_hashes, is
 * ignored. */
void engine_prefetch(const struct engine *e, const struct decoded_line *r);
/* An event decoded by the caller (topic "" and partition -1 for the
 * default lane of bare events).  raw, for a late event's dead letter, may
 * be NULL. */
int engine_event(struct engine *e, struct strview topic, int32_t partition,
                 const struct record_pos *pos, const struct event *ev, const char *raw,
                 size_t len);
/* One Kafka message (payload NULL for a tombstone). */
int engine_message(struct engine *e, struct strview topic, int32_t partition, int64_t offset,
                   const char *payload, size_t len);
/* A record the source could not even hand over whole (e.g. a line too
 * long to buffer): recorded as a dead letter and counted. */
int engine_reject(struct engine *e, const struct record_pos *pos, enum dead_reason reason,
                  const char *detail, const char *raw, size_t raw_len);

/* Control records (SPEC §4, and lane_close).  A group whose last lane
 * closes leaves: nothing advances, flushes or saves it, but it is kept
 * aside, and a later record or lane_open of its partition takes it back as
 * it was at the close (what a daemon given the partition back loads from
 * the checkpoint it committed at the close), unless engine_drop_group()
 * forgets it first. */
int engine_lane_open(struct engine *e, struct strview topic, int32_t partition);
int engine_lane_idle(struct engine *e, struct strview topic, int32_t partition);
int engine_lane_close(struct engine *e, struct strview topic, int32_t partition);
int engine_advance(struct engine *e, int64_t watermark_us);

/* End of input: no record may follow.  With final_flush the watermark goes
 * to +inf: every open window is emitted, then every open moment run.
 * Without, they stay open, as when a live daemon stops. */
int engine_finish(struct engine *e, bool final_flush);

const struct engine_stats *engine_stats(const struct engine *e);
/* *out = a - b, field by field: the counts of what happened between two
 * snapshots b and a (a taken later), or a count net of a part set aside. */
void engine_stats_minus(struct engine_stats *out, const struct engine_stats *a,
                        const struct engine_stats *b);
/* The lowest and highest global watermark over the groups (TIME_NEG_INF
 * when there is no group). */
void engine_watermark_range(const struct engine *e, int64_t *lowest, int64_t *highest);

/*
 * Checkpoints.  engine_save_group() serializes one group (lanes, global
 * watermark, open panes, detector histories and runs) as JSON text that the
 * caller frees; NULL if the engine has no such group.  engine_load_group()
 * installs a saved group in place of any group of that partition.
 * engine_drop_group() forgets a partition's group, open or closed (its
 * partitions were revoked and its state committed, or lost).  engine_group_partitions() lists the groups' partition
 * numbers into out (up to max) and returns how many there are.
 */
char *engine_save_group(const struct engine *e, int32_t partition);
/* The fingerprint saved with a state (compact JSON, sorted keys; the
 * caller frees it), or NULL if the state has none (saved before
 * fingerprints) or is not readable. */
char *engine_state_fingerprint(const char *state, size_t len);
bool engine_load_group(struct engine *e, const char *state, size_t len, struct error *err);
void engine_drop_group(struct engine *e, int32_t partition);
size_t engine_group_partitions(const struct engine *e, int32_t *out, size_t max);
/* The same, with each group's global watermark (for the daemon's metrics). */
size_t engine_group_watermarks(const struct engine *e, int32_t *parts, int64_t *watermarks,
                               size_t max);

#endif
