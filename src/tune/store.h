/*
 * store.h — the input of `telemetra tune`, read and decoded once.
 *
 * Every configuration of a grid sees the same records; decoding them is
 * most of the cost of a replay, so tune decodes each line once into a
 * compact in-memory record and feeds the records to as many engines as
 * the grid needs, through the core's API for pre-decoded events
 * (engine_event, engine_lane_*, engine_advance).
 *
 * Lines are classified exactly as engine_line() classifies them (bare
 * event, capture envelope, control record; see core/capture.h), with the
 * same decoder (event_decode), so a record fed from the store reaches the
 * engine exactly as the line would have.  What cannot be decoded is a dead
 * letter whatever the configuration: it is counted by reason here and
 * never fed.  (A late event is a dead letter too, but whether an event is
 * late depends on the windowing, so the engines count those.)
 *
 * Records are compact (about 56 bytes per event plus its emote ids and
 * chatter):
 *   - strings (stream ids, emotes, topics) are interned in an append-only
 *     table whose bytes never move, so the views handed to the engine stay
 *     valid for the life of the store; chatters are copied into blocks
 *     that never move either, but not interned (store_find does not know
 *     them: no output names a chatter);
 *   - the message text is not kept: its sentiment score is computed once
 *     for each lexicon the grid uses (store_options.lexicons), which is all
 *     the engine needs of it (event.has_score).
 *
 * Threads: building (store_new, store_line, store_reject) is single
 * threaded; once built, a store is read-only and any number of threads may
 * call store_feed() and store_find() on it concurrently.
 */
#ifndef TELEMETRA_TUNE_STORE_H
#define TELEMETRA_TUNE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/lexicon.h"

struct store_options {
	/* Kafka topics that name an envelope's kind (the core's chat_topic and
	 * viewer_topic); borrowed, must outlive the store. */
	const char *chat_topic, *viewer_topic;
	/* One score per chat event per lexicon.  The array is copied; the
	 * lexicons are borrowed and must live while lines are added. */
	const struct lexicon *const *lexicons;
	size_t n_lexicons;
};

/* What the store holds, for summaries: records, controls, chat, viewer and
 * the configuration-independent dead letters (dead[], dead_total). */
struct store_stats {
	uint64_t records, controls, chat, viewer;
	uint64_t dead[DEAD_REASON_COUNT];
	uint64_t dead_total;
	size_t strings, string_bytes;
	size_t bytes; /* memory held, approximately */
};

struct store;

/* The caller owns the store (store_free). */
struct store *store_new(const struct store_options *opt);
void store_free(struct store *s);

/* At most this many input files. */
#define STORE_MAX_FILES 65535

/* Add one input file (at most STORE_MAX_FILES); returns its index, for
 * store_line().  path is copied. */
uint32_t store_add_file(struct store *s, const char *path);

/* One non-blank line of file `file`, as engine_line() would take it. */
void store_line(struct store *s, uint32_t file, int64_t line_no, const char *line, size_t len);
/* The same line decoded by the caller with record_decode() (on another
 * thread: io/pipeline.h), with the chat's score for lexicon 0 in
 * ev.has_score/score (engine_score), or without it; the message is read
 * only for what is not scored, so it may be empty when there is one
 * lexicon and the score is given. */
struct decoded_line;
void store_decoded(struct store *s, uint32_t file, int64_t line_no, const struct decoded_line *r);
/* A line the reader could not hold whole (engine_reject's case). */
void store_reject(struct store *s, enum dead_reason reason);

/* Feed every record, in input order, to e, with the scores of lexicon
 * number `lexicon`.  Returns 0 or the first non-zero engine status. */
int store_feed(const struct store *s, size_t lexicon, struct engine *e);

/* Where an incremental feed stands: zero it before the first call. */
struct store_cursor {
	size_t record, chat;
};

/* Feed the records stored since *c, if there are at least min_batch of
 * them, and move *c past them; this may be called while the store is
 * still being built, on the thread building it.  Unlike store_feed, it
 * opens no lanes first: a feed made of such calls from an empty store
 * equals store_feed only if store_opens_lanes() is false once the store
 * is built.  Returns 0 or the first non-zero engine status. */
int store_feed_more(const struct store *s, size_t lexicon, struct engine *e,
                    struct store_cursor *c, size_t min_batch);

/* Whether store_feed_more(c, min_batch) would feed anything. */
bool store_feed_due(const struct store *s, const struct store_cursor *c, size_t min_batch);

/* Whether store_feed opens lanes before the first record (lanes named in
 * regular files without a lane_open record of their own). */
bool store_opens_lanes(const struct store *s);

/* The store's own copy of a string, whose bytes live as long as the store;
 * false if the store never saw it. */
bool store_find(const struct store *s, struct strview str, struct strview *stable);
/* The same, with the string's id: dense, below store_stats.strings. */
bool store_find_id(const struct store *s, struct strview str, struct strview *stable,
                   uint32_t *id);

void store_get_stats(const struct store *s, struct store_stats *out);

#endif
