/*
 * window.h — sliding windows computed from per-slide panes (SPEC §4).
 *
 * Time is cut into panes of the slide S: pane p covers [p·S, (p+1)·S).
 * Window k covers [k·S, k·S + W), i.e. the n = W/S panes k .. k+n-1, so an
 * event touches exactly one pane, and a window is combined from n panes
 * only once, when it closes.  Nothing is ever copied into n windows.
 *
 *      pane:     p-2   p-1    p    p+1
 *             ...|-----|-----|-----|-----|...
 *   window p-1:     [=================]          (n = 3 here)
 *   window p:             [=================]
 *
 * Lateness cuts a pane in two.  An event counts only in the windows whose
 * end is beyond both its lane's watermark and the global one (SPEC §4).
 * Windows ending at or before the global watermark are closed and already
 * emitted, so leaving them out needs nothing.  But a lane can be ahead of
 * the global watermark: its late event must skip windows that are still
 * open.  Such events go to a *slice* of the pane tagged with the first
 * window they count in; combining window k takes a pane's main aggregate
 * plus its slices with first_k <= k.  Slices are rare (late-in-lane events
 * while another lane holds the watermark back) and cost nothing otherwise.
 *
 * The windower also owns the stream table: each stream_id gets a dense
 * index, in order of first appearance, used by the detectors too.
 *
 * Chatters and emotes are interned (core/intern.h); a pane aggregate holds
 * their ids, and each id is referenced once per aggregate that holds it, so
 * freeing a pane releases exactly what it held.
 */
#ifndef TELEMETRA_WINDOW_H
#define TELEMETRA_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"

#define WINDOW_LATE INT64_MAX

struct window_config {
	int64_t size_us;  /* W */
	int64_t slide_us; /* S; W is a positive multiple of S */
	unsigned top_k;   /* emotes kept per window */
	/* > 0: rows count pane_fresh_emote_chatters, chatters who wrote
	 * nothing on the stream in this span before the pane (0: not counted,
	 * and nothing is kept per chatter) */
	int64_t fresh_us;
};

/* A finalized window, as emitted.  Strings are views valid only during the
 * emit callback; the detector fields are filled in by core/detector.c. */
struct window_row {
	uint32_t stream;
	struct strview stream_id;
	int64_t k;
	int64_t start_us;
	int64_t end_us;
	int64_t chat_count;
	int64_t unique_chatters;
	int64_t positive_count;
	int64_t negative_count;
	int64_t score_sum;  /* in SCORE_SCALE units */
	double avg_sentiment; /* valid if has_sentiment (chat_count > 0) */
	bool has_sentiment;
	double chat_rate;
	double avg_viewers; /* valid if has_viewers */
	bool has_viewers;
	int64_t viewer_events;
	const struct strview *top_emotes;
	const uint32_t *top_emote_counts;
	size_t n_top_emotes;
	/* The newest pane of the window, [end - S, end), as counted in this
	 * window: the pane detector scores it (core/detector.c). */
	int64_t pane_chat_count;
	int64_t pane_chatters;
	/* of those, the chatters with a message carrying an emote (the
	 * event's emotes list): the reactions an editor finds a clip by */
	int64_t pane_emote_chatters;
	/* of those, the ones with no message on this stream in the
	 * window_config.fresh_us before the pane (in panes a window counted):
	 * chatters who rarely write, whom a moment brings out */
	int64_t pane_fresh_emote_chatters;
	double z_score; /* valid if has_z */
	bool has_z;
	bool is_anomaly;
};

/* What one chat event adds to its pane. */
struct chat_contribution {
	int64_t score; /* SCORE_SCALE units */
	struct strview chatter;
	const struct strview *emotes;
	size_t n_emotes;
};

struct windower;

/* Create a windower; the caller owns it (windower_free). */
struct windower *windower_new(const struct window_config *cfg);
void windower_free(struct windower *w);

/* Index of a stream, creating it on first sight (or on its first event
 * after windower_release); *created, if not NULL, says which.  One hash,
 * one probe sequence: the engine's only stream lookup per event. */
uint32_t windower_stream_add(struct windower *w, struct strview stream_id, bool *created);
/* The same with h = hash_bytes(stream_id) already known (struct event's
 * stream_hash). */
uint32_t windower_stream_add_hashed(struct windower *w, struct strview stream_id, uint64_t h,
                                    bool *created);
uint32_t windower_stream(struct windower *w, struct strview stream_id);
/* Index of an existing stream, or UINT32_MAX. */
uint32_t windower_find_stream(const struct windower *w, struct strview stream_id);
struct strview windower_stream_name(const struct windower *w, uint32_t stream);
/* The bound of stream indexes (released ones included, until reused). */
uint32_t windower_stream_count(const struct windower *w);
/* Whether index s names a stream (false once released, until reused). */
bool windower_stream_live(const struct windower *w, uint32_t s);
uint32_t windower_live_streams(const struct windower *w);
bool windower_stream_has_panes(const struct windower *w, uint32_t s);

/*
 * The first window an event at time t counts in, given the watermark of its
 * lane before the event (the global watermark is already known to the
 * windower through windower_close), or WINDOW_LATE if it reaches none.
 */
int64_t windower_admit(const struct windower *w, int64_t t, int64_t lane_watermark);

void windower_add_chat(struct windower *w, uint32_t stream, int64_t t, int64_t first_k,
                       const struct chat_contribution *c);
/* The same with chatter_hash = hash_bytes(c->chatter) already known. */
void windower_add_chat_hashed(struct windower *w, uint32_t stream, int64_t t, int64_t first_k,
                              const struct chat_contribution *c, uint64_t chatter_hash);
/* A hint that an event of a stream hashed stream_hash (and, for chat, a
 * chatter hashed chatter_hash; is_chat false ignores it) will come soon:
 * the table slots its lookups start from are fetched into the cache.
 * Changes nothing. */
void windower_prefetch(const struct windower *w, uint64_t stream_hash, bool is_chat,
                       uint64_t chatter_hash);
void windower_add_viewer(struct windower *w, uint32_t stream, int64_t t, int64_t first_k,
                         int64_t viewer_count);

/* Called for each closed window, stream by stream, each stream's windows in
 * order; a non-zero return stops the close and is returned. */
typedef int (*window_emit_fn)(void *ctx, struct window_row *row);

/*
 * Close every window ending at or before `watermark` (the global
 * watermark; TIME_POS_INF closes all), emitting those that received at
 * least one event, then free the panes no open window needs.
 */
int windower_close(struct windower *w, int64_t watermark, window_emit_fn emit, void *ctx);

/* The watermark at which the next window closes (the end of the first open
 * window): callers skip windower_close() until the watermark reaches it. */
int64_t windower_next_close(const struct windower *w);
/* Index of the last closed window (WINDOW_NONE_CLOSED if none yet). */
int64_t windower_closed_k(const struct windower *w);
#define WINDOW_NONE_CLOSED (INT64_MIN / 2)

/*
 * Releasing streams.  A stream whose panes are all closed holds only its
 * name and index here; what else it holds (detector histories) is the
 * caller's to judge.  After each windower_close, windower_emptied() lists
 * the streams that close left without panes (valid until the next close);
 * the caller either releases one at once, or holds it with the closed
 * window index from which it may go (windower_hold; a later hold with a
 * larger index extends it), and windower_due_release() then returns, one
 * at a time, the held streams whose index the windows have closed to and
 * that got no event since, to be judged again.  windower_release() frees
 * the stream's name and index, which a later stream may reuse: it
 * refuses (false) a stream with panes or one still held, which the caller
 * holds instead.  The engine applies the rule (core/engine.c, settle).
 */
size_t windower_emptied(const struct windower *w, const uint32_t **streams);
void windower_hold(struct windower *w, uint32_t stream, int64_t release_k);
uint32_t windower_due_release(struct windower *w); /* UINT32_MAX: none due */
bool windower_release(struct windower *w, uint32_t stream);

/* Open panes and interned strings, for memory accounting and tests. */
size_t windower_open_panes(const struct windower *w);
uint32_t windower_live_chatters(const struct windower *w);

#endif

/*
 * State, for the live daemon's checkpoints.  windower_save() appends a JSON
 * object holding every open pane to out; windower_load() fills a fresh
 * windower from one, parsed.  Strings travel as strings, so the interned
 * ids of the loading process may differ.  Stream indexes are assigned anew
 * in the order saved.
 */
struct buf;
struct state;
void windower_save(const struct windower *w, struct buf *out);
bool windower_load(struct windower *w, const struct state *state, struct error *err);
