/*
 * engine.c — the processing core (core/engine.h): records in order, each
 * decoded (core/record.c), put in its lane and watermark group, dropped as
 * late or scored and added to a pane; windows closed as watermarks pass
 * them, their rows judged by the detectors; and each group's checkpoint
 * saved and loaded (through core/state.h).
 */
#include "config.h"

#include "core/engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/capture.h"
#include "core/record.h"
#include "core/state.h"
#include "core/timestamp.h"
#include "core/watermark.h"

#define STATE_VERSION 1

/* The lanes of one partition number and everything their events feed. */
struct group {
	int32_t partition;
	size_t slot; /* in its set's array */
	struct watermarks wm;
	struct windower *win;
	struct detectors *det;
};

/* Groups by partition: an array, and a table to find them by (open
 * addressing, linear probing); the set owns both, not the groups. */
struct group_set {
	struct group **v;
	size_t n, cap;
	struct group **table;
	size_t mask;
};

struct engine {
	struct core_config cfg;
	struct engine_output out;
	struct record_decoder rec; /* lines and messages, decoded as tune decodes them */
	/* The groups records go to, in order of creation but for removals
	 * (see engine_drop_group). */
	struct group_set open;
	/* Groups whose every lane was closed (engine_lane_close), kept aside
	 * in case their partition comes back in the same input. */
	struct group_set closed;
	struct group *last; /* the group of the previous record: usually the next one's */
	struct engine_stats stats;
	/* Which group each stream_id was first seen in, for the keying check:
	 * an open-addressing table (linear probing, never shrinks) keyed by
	 * the 64-bit hash_bytes() of the id, not by the id itself, so that a
	 * stream costs 12 bytes a slot here rather than an interned copy of
	 * its name for the life of the engine (issue 9: 1 M streams).  Two ids
	 * with one hash (about 2^-64 a pair) would share one entry: at worst
	 * one wrong or missed keying notice, never a change to any output.
	 * key_hash[i] == 0 marks an empty slot (a hash of 0 is stored as 1);
	 * key_seen[i] is partition + 2 (1 = already reported). */
	uint64_t *key_hash;
	int32_t *key_seen;
	size_t key_mask, key_count; /* key_mask + 1 slots, 0 before the first */
	/* While the engine has had one group only (a file without envelopes:
	 * every record is in group -1), every stream it has seen was first
	 * seen there, so the table need not say so: it holds only the streams
	 * released since (the windower forgets them), and the live ones are
	 * added from the group's windower when a second group comes, or a
	 * group is loaded or dropped (key_materialize).  The 1 M-stream replay
	 * saves the table's 25 MB. */
	bool key_lazy;
	bool ended; /* engine_finish: no record comes after (so no second group) */
};

/* The detectors' way to a stream's id: the windower keeps a stream at
 * least as long as they hold state for it (consider_release asks them
 * first), so they keep no copy. */
static struct strview stream_name(const void *win, uint32_t stream)
{
	return windower_stream_name(win, stream);
}

static struct group *group_new(const struct engine *e, int32_t partition)
{
	struct group *g = xcalloc(1, sizeof(*g));
	g->partition = partition;
	watermarks_init(&g->wm, e->cfg.watermark_delay_us);
	g->win = windower_new(&e->cfg.window);
	g->det = detectors_new(&e->cfg.detect);
	detectors_set_names(g->det, stream_name, g->win);
	return g;
}

static void group_free(struct group *g)
{
	if (!g)
		return;
	watermarks_free(&g->wm);
	windower_free(g->win);
	detectors_free(g->det);
	free(g);
}

/* Groups are found by hash: a capture may hold 100 k partitions, and a
 * linear search per record made that quadratic. */
static size_t group_home(const struct group_set *set, int32_t partition)
{
	return (size_t)(((uint64_t)(uint32_t)partition * 0x9E3779B97F4A7C15u) >> 32) & set->mask;
}

static struct group *set_find(const struct group_set *set, int32_t partition)
{
	if (!set->table)
		return NULL;
	for (size_t i = group_home(set, partition);; i = (i + 1) & set->mask) {
		struct group *g = set->table[i];
		if (!g || g->partition == partition)
			return g;
	}
}

static struct group *find_group(const struct engine *e, int32_t partition)
{
	if (e->last && e->last->partition == partition)
		return e->last;
	return set_find(&e->open, partition);
}

static void table_put(struct group_set *set, struct group *g)
{
	size_t i = group_home(set, g->partition);
	while (set->table[i])
		i = (i + 1) & set->mask;
	set->table[i] = g;
}

/* Add g (whose partition has no group in the set) to its array and table. */
static void set_add(struct group_set *set, struct group *g)
{
	set->v = grow_array(set->v, sizeof(*set->v), &set->cap, set->n + 1);
	g->slot = set->n;
	set->v[set->n++] = g;
	if (set->n * 2 > set->mask) {
		free(set->table);
		set->mask = set->mask ? set->mask * 2 + 1 : 15;
		set->table = xcalloc(set->mask + 1, sizeof(*set->table));
		for (size_t k = 0; k < set->n; k++)
			table_put(set, set->v[k]);
	} else {
		table_put(set, g);
	}
}

/* Take g out of the array (the last group takes its slot) and the table
 * (backward-shift deletion, so that no probe chain is broken). */
static void set_remove(struct group_set *set, struct group *g)
{
	struct group *moved = set->v[--set->n];
	set->v[g->slot] = moved;
	moved->slot = g->slot;
	size_t i = group_home(set, g->partition);
	while (set->table[i] != g)
		i = (i + 1) & set->mask;
	for (size_t j = (i + 1) & set->mask; set->table[j]; j = (j + 1) & set->mask) {
		size_t home = group_home(set, set->table[j]->partition);
		/* j's entry may fill the hole at i if its home is not in (i, j] */
		if (((j - home) & set->mask) >= ((j - i) & set->mask)) {
			set->table[i] = set->table[j];
			i = j;
		}
	}
	set->table[i] = NULL;
}

/* Frees the groups and the set's arrays. */
static void set_free(struct group_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		group_free(set->v[i]);
	free(set->v);
	free(set->table);
}

static void add_group(struct engine *e, struct group *g) { set_add(&e->open, g); }

static void key_materialize(struct engine *e);

/* Take g out of set (the open or the closed groups), for a close or a
 * drop: its streams leave the windower's word with it, so the lazy keying
 * ends first (key_materialize), and the next record cannot find it as the
 * last group. */
static void detach_group(struct engine *e, struct group_set *set, struct group *g)
{
	key_materialize(e);
	if (e->last == g)
		e->last = NULL;
	set_remove(set, g);
}

/* The group of partition, made if it has none: a closed one back from
 * aside as it was at its close, else a new one. */
static struct group *group_of(struct engine *e, int32_t partition)
{
	struct group *g = find_group(e, partition);
	if (!g && (g = set_find(&e->closed, partition)) != NULL) {
		set_remove(&e->closed, g); /* closing it ended the lazy keying */
		add_group(e, g);
	} else if (!g) {
		if (e->open.n)
			key_materialize(e); /* a second group: no longer the only one */
		g = group_new(e, partition);
		add_group(e, g);
	}
	return e->last = g;
}

struct engine *engine_new(const struct core_config *cfg, const struct engine_output *out)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	e->out = *out;
	e->rec.chat_topic = cfg->chat_topic;
	e->rec.viewer_topic = cfg->viewer_topic;
	e->key_lazy = true;
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	record_decoder_free(&e->rec);
	set_free(&e->open);
	set_free(&e->closed);
	free(e->key_hash);
	free(e->key_seen);
	free(e);
}

const struct engine_stats *engine_stats(const struct engine *e) { return &e->stats; }

void engine_stats_minus(struct engine_stats *out, const struct engine_stats *a,
                        const struct engine_stats *b)
{
	out->records = a->records - b->records;
	out->controls = a->controls - b->controls;
	out->chat = a->chat - b->chat;
	out->viewer = a->viewer - b->viewer;
	out->accepted = a->accepted - b->accepted;
	for (int r = 0; r < DEAD_REASON_COUNT; r++)
		out->dead[r] = a->dead[r] - b->dead[r];
	out->dead_total = a->dead_total - b->dead_total;
	out->windows = a->windows - b->windows;
	out->moments = a->moments - b->moments;
	out->streams_released = a->streams_released - b->streams_released;
}

void engine_watermark_range(const struct engine *e, int64_t *lowest, int64_t *highest)
{
	*lowest = e->open.n ? TIME_POS_INF : TIME_NEG_INF;
	*highest = TIME_NEG_INF;
	for (size_t i = 0; i < e->open.n; i++) {
		int64_t g = e->open.v[i]->wm.global;
		if (g < *lowest)
			*lowest = g;
		if (g > *highest)
			*highest = g;
	}
}

/* --- output ------------------------------------------------------------ */

static int put_dead(struct engine *e, const struct record_pos *pos, enum dead_reason reason,
                    const char *detail, const char *raw, size_t raw_len)
{
	e->stats.dead[reason]++;
	e->stats.dead_total++;
	struct dead_letter dl = {*pos, reason, detail, raw ? raw : "", raw ? raw_len : 0};
	return e->out.dead_letter(e->out.ctx, &dl);
}

static int on_moment(void *ctx, const struct moment *m)
{
	struct engine *e = ctx;
	e->stats.moments++;
	return e->out.moment(e->out.ctx, m);
}

/* The seam (core/pipeline.h): the caller's consumer if it plugged one,
 * else the group's own detectors. */
static int seam_row(struct engine *e, struct group *g, struct window_row *row)
{
	if (e->out.seam)
		return e->out.seam->row(e->out.seam->ctx, g->partition, row);
	return detectors_on_window(g->det, row, on_moment, e);
}

static int seam_closed(struct engine *e, struct group *g, int64_t closed_k)
{
	if (e->out.seam)
		return e->out.seam->closed(e->out.seam->ctx, g->partition, closed_k);
	return detectors_on_closed(g->det, closed_k, on_moment, e);
}

static int seam_end(struct engine *e, struct group *g)
{
	if (e->out.seam)
		return e->out.seam->end(e->out.seam->ctx, g->partition);
	return detectors_flush(g->det, on_moment, e);
}

static int64_t seam_release(struct engine *e, struct group *g, uint32_t s, int64_t closed_k)
{
	if (e->out.seam)
		return e->out.seam->release(e->out.seam->ctx, g->partition, s, closed_k);
	return detectors_release_stream(g->det, s, closed_k);
}

/* Windows are emitted group by group, so the group at hand is e->last. */
static int on_window(void *ctx, struct window_row *row)
{
	struct engine *e = ctx;
	int rc = seam_row(e, e->last, row);
	if (rc)
		return rc;
	e->stats.windows++;
	return e->out.window(e->out.ctx, row);
}

/* Stream s of g holds no pane: release it now if nothing it holds can
 * reach an output any more, else hold it until it cannot (or for good).
 * The windower knows about panes; the detectors judge their own state
 * (detectors_release_stream states the rule, doc/decisions.md explains
 * it).  A stream released here and seen again starts from nothing, which
 * is what its state had become equivalent to: the rows are those of a run
 * that kept it. */
static uint64_t key_hash_of(struct strview stream_id);
static void key_put(struct engine *e, uint64_t h, int32_t partition);

static void consider_release(struct engine *e, struct group *g, uint32_t s, int64_t closed_k)
{
	int64_t at = seam_release(e, g, s, closed_k);
	if (at <= closed_k) {
		/* the name goes with the release: hashed first, for the keying table */
		bool keep_key = e->key_lazy && !e->ended && e->out.notice &&
		                windower_stream_live(g->win, s);
		uint64_t h = keep_key ? key_hash_of(windower_stream_name(g->win, s)) : 0;
		if (windower_release(g->win, s)) {
			e->stats.streams_released++;
			if (keep_key)
				key_put(e, h, g->partition);
		} else
			windower_hold(g->win, s, at); /* still held from before: goes at its turn */
	} else if (at != INT64_MAX) {
		windower_hold(g->win, s, at);
	}
}

static void release_streams(struct engine *e, struct group *g)
{
	int64_t closed_k = windower_closed_k(g->win);
	const uint32_t *emptied;
	size_t n = windower_emptied(g->win, &emptied);
	for (size_t i = 0; i < n; i++)
		consider_release(e, g, emptied[i], closed_k);
	for (uint32_t s; (s = windower_due_release(g->win)) != UINT32_MAX;)
		consider_release(e, g, s, closed_k);
}

/* Emit whatever the group's global watermark has closed, then let go of
 * the streams that can no longer affect any output. */
static int settle(struct engine *e, struct group *g)
{
	if (g->wm.global < windower_next_close(g->win))
		return 0;
	e->last = g;
	int rc = windower_close(g->win, g->wm.global, on_window, e);
	if (!rc)
		rc = seam_closed(e, g, windower_closed_k(g->win));
	if (!rc)
		release_streams(e, g);
	return rc;
}

/* --- events ------------------------------------------------------------ */

/* The keying table's slot for hash h: its own, or the empty one it would
 * take.  The table has a free slot (load stays at most 3/4). */
static size_t key_slot(const struct engine *e, uint64_t h)
{
	size_t i = (size_t)h & e->key_mask;
	while (e->key_hash[i] && e->key_hash[i] != h)
		i = (i + 1) & e->key_mask;
	return i;
}

/* Doubles the keying table (the engine owns both arrays). */
static void key_grow(struct engine *e)
{
	uint64_t *old_hash = e->key_hash;
	int32_t *old_seen = e->key_seen;
	size_t old_slots = e->key_hash ? e->key_mask + 1 : 0;
	size_t slots = old_slots ? old_slots * 2 : 1024;
	e->key_hash = xcalloc(slots, sizeof(*e->key_hash));
	e->key_seen = xmalloc(slots * sizeof(*e->key_seen));
	e->key_mask = slots - 1;
	for (size_t j = 0; j < old_slots; j++) {
		if (!old_hash[j])
			continue;
		size_t i = key_slot(e, old_hash[j]);
		e->key_hash[i] = old_hash[j];
		e->key_seen[i] = old_seen[j];
	}
	free(old_hash);
	free(old_seen);
}

/* The table's key for a stream of hash h (hash_bytes of its id): 0 marks
 * an empty slot. */
static uint64_t key_of_hash(uint64_t h) { return h ? h : 1; }

static uint64_t key_hash_of(struct strview stream_id)
{
	return key_of_hash(hash_bytes(stream_id.ptr, stream_id.len));
}

/* The slot of hash h, added (never seen: key_seen 0) if it has none. */
static size_t key_find_or_add(struct engine *e, uint64_t h)
{
	if (!e->key_hash || (e->key_count + 1) * 4 > (e->key_mask + 1) * 3)
		key_grow(e);
	size_t i = key_slot(e, h);
	if (!e->key_hash[i]) {
		e->key_hash[i] = h;
		e->key_seen[i] = 0;
		e->key_count++;
	}
	return i;
}

/* Record that the stream of hash h was seen in partition, unless an
 * earlier sight (or report) is recorded: what check_keying records. */
static void key_put(struct engine *e, uint64_t h, int32_t partition)
{
	size_t i = key_find_or_add(e, h);
	if (e->key_seen[i] == 0)
		e->key_seen[i] = partition + 2;
}

/* Leave the lazy keying (see struct engine): the sole group's live
 * streams into the table, which from now on records every stream. */
static void key_materialize(struct engine *e)
{
	if (!e->key_lazy)
		return;
	e->key_lazy = false;
	if (!e->out.notice || !e->open.n)
		return;
	const struct group *g = e->open.v[0]; /* the only one */
	for (uint32_t s = 0; s < windower_stream_count(g->win); s++)
		if (windower_stream_live(g->win, s))
			key_put(e, key_hash_of(windower_stream_name(g->win, s)), g->partition);
}

/* A stream_id (of hash h, hash_bytes of it) must live in one group; say
 * so once if it does not. */
static void check_keying(struct engine *e, const struct group *g, struct strview stream_id,
                         uint64_t h)
{
	if (!e->out.notice || e->key_lazy) /* lazy: g is the only group there has been */
		return;
	size_t i = key_find_or_add(e, key_of_hash(h)); /* may move key_seen */
	int32_t *seen = &e->key_seen[i];
	if (*seen == 0) {
		*seen = g->partition + 2;
	} else if (*seen >= 2 && *seen != g->partition + 2) {
		char msg[512];
		snprintf(msg, sizeof(msg),
		         "keying error: stream \"%.*s\" arrives on partition %d after partition %d; "
		         "producers must key both topics by stream_id, with equal partition counts",
		         (int)stream_id.len, stream_id.ptr, g->partition, *seen - 2);
		e->out.notice(e->out.ctx, msg);
		*seen = 1;
	}
}

/* An id's hash_bytes(): the decoder's (carried in ev), or computed for an
 * event built without them. */
static uint64_t id_hash(const struct event *ev, uint64_t carried, struct strview id)
{
	return ev->has_hashes ? carried : hash_bytes(id.ptr, id.len);
}

static int process_event(struct engine *e, struct group *g, uint32_t lane_idx,
                         const struct event *ev, const struct record_pos *pos, const char *raw,
                         size_t len)
{
	const struct lane *lane = &g->wm.lanes[lane_idx];
	if (!lane->open || lane->idle)
		watermarks_open(&g->wm, lane_idx); /* a first event opens, a new one reopens */

	e->stats.chat += ev->kind == EVENT_CHAT;
	e->stats.viewer += ev->kind == EVENT_VIEWER;

	int64_t lane_wm = watermarks_lane_value(&g->wm, lane_idx);
	int64_t first_k = windower_admit(g->win, ev->time_us, lane_wm);
	int rc = 0;
	if (first_k == WINDOW_LATE) {
		char t[TIMESTAMP_BUFSZ], w[TIMESTAMP_BUFSZ], detail[160];
		int64_t behind = g->wm.global > lane_wm ? g->wm.global : lane_wm;
		timestamp_format(ev->time_us, t);
		timestamp_format(behind, w);
		snprintf(detail, sizeof(detail),
		         "event time %s reaches no open window: watermark is %s", t, w);
		rc = put_dead(e, pos, DEAD_LATE, detail, raw, len);
	} else {
		/* One lookup of the stream per event; the keying check only when
		 * the stream is new to its group (first sight, or back after a
		 * release), which is the only time its group can differ. */
		bool created;
		uint64_t sh = id_hash(ev, ev->stream_hash, ev->stream_id);
		uint32_t stream = windower_stream_add_hashed(g->win, ev->stream_id, sh, &created);
		if (created)
			check_keying(e, g, ev->stream_id, sh);
		if (ev->kind == EVENT_CHAT) {
			int64_t score = ev->score;
			if (!ev->has_score) {
				unsigned p, n;
				sentiment_count(e->cfg.lexicon, ev->message.ptr, ev->message.len, &p, &n);
				score = sentiment_score_scaled(p, n);
			}
			struct chat_contribution c = {score, ev->chatter, ev->emotes, ev->n_emotes};
			uint64_t ch = id_hash(ev, ev->chatter_hash, ev->chatter);
			windower_add_chat_hashed(g->win, stream, ev->time_us, first_k, &c, ch);
		} else {
			windower_add_viewer(g->win, stream, ev->time_us, first_k, ev->viewer_count);
		}
		e->stats.accepted++;
	}
	watermarks_observe(&g->wm, lane_idx, ev->time_us);
	return rc ? rc : settle(e, g);
}

static int message(struct engine *e, struct strview topic, int32_t partition, int64_t offset,
                   const char *payload, size_t len)
{
	struct record_pos pos = {topic, partition, offset};
	struct event ev;
	enum dead_reason reason;

	if (!record_decode_message(&e->rec, topic, payload, len, &ev, &reason))
		return put_dead(e, &pos, reason, e->rec.err.msg, payload, len);
	struct group *g = group_of(e, partition);
	return process_event(e, g, watermarks_lane(&g->wm, topic, partition), &ev, &pos, payload, len);
}

int engine_event(struct engine *e, struct strview topic, int32_t partition,
                 const struct record_pos *pos, const struct event *ev, const char *raw,
                 size_t len)
{
	e->stats.records++;
	struct group *g = group_of(e, partition);
	return process_event(e, g, watermarks_lane(&g->wm, topic, partition), ev, pos, raw, len);
}

int engine_message(struct engine *e, struct strview topic, int32_t partition, int64_t offset,
                   const char *payload, size_t len)
{
	e->stats.records++;
	return message(e, topic, partition, offset, payload, len);
}

static int control(struct engine *e, const struct capture_control *c)
{
	e->stats.controls++;
	switch (c->kind) {
	case CONTROL_LANE_OPEN:
		return engine_lane_open(e, c->topic, c->partition);
	case CONTROL_LANE_IDLE:
		return engine_lane_idle(e, c->topic, c->partition);
	case CONTROL_LANE_CLOSE:
		return engine_lane_close(e, c->topic, c->partition);
	case CONTROL_ADVANCE:
		return engine_advance(e, c->watermark_us);
	}
	return 0;
}

void engine_score(const struct core_config *cfg, struct event *ev)
{
	if (ev->kind != EVENT_CHAT || ev->has_score)
		return;
	unsigned p, n;
	sentiment_count(cfg->lexicon, ev->message.ptr, ev->message.len, &p, &n);
	ev->score = sentiment_score_scaled(p, n);
	ev->has_score = true;
}

void engine_prefetch(const struct engine *e, const struct decoded_line *r)
{
	const struct event *ev = &r->ev;
	if (!(r->type == LINE_EVENT || (r->type == LINE_ENVELOPE && r->payload_ok)) ||
	    !ev->has_hashes)
		return;
	int32_t partition = r->type == LINE_EVENT ? -1 : r->env.partition;
	const struct group *g = find_group(e, partition);
	if (g)
		windower_prefetch(g->win, ev->stream_hash, ev->kind == EVENT_CHAT, ev->chatter_hash);
}

int engine_decoded(struct engine *e, struct strview source, int64_t line_no, const char *line,
                   size_t len, const struct decoded_line *r)
{
	struct record_pos pos = {source, -1, line_no};
	e->stats.records++;

	switch (r->type) {
	case LINE_DEAD:
		return put_dead(e, &pos, r->reason, r->detail, line, len);
	case LINE_EVENT: {
		struct group *g = group_of(e, -1);
		return process_event(e, g, watermarks_lane(&g->wm, SV_LIT(""), -1), &r->ev, &pos, line,
		                     len);
	}
	case LINE_CONTROL:
		return control(e, &r->control);
	case LINE_ENVELOPE:
		break;
	}
	struct record_pos at = {r->env.topic, r->env.partition, r->env.offset};
	if (!r->payload_ok)
		return put_dead(e, &at, r->reason, r->detail, r->env.value.ptr, r->env.value.len);
	struct group *g = group_of(e, r->env.partition);
	return process_event(e, g, watermarks_lane(&g->wm, r->env.topic, r->env.partition), &r->ev,
	                     &at, r->env.value.ptr, r->env.value.len);
}

int engine_line(struct engine *e, struct strview source, int64_t line_no, const char *line,
                size_t len)
{
	struct decoded_line r;
	record_decode(&e->rec, line, len, true, &r);
	return engine_decoded(e, source, line_no, line, len, &r);
}

int engine_reject(struct engine *e, const struct record_pos *pos, enum dead_reason reason,
                  const char *detail, const char *raw, size_t raw_len)
{
	e->stats.records++;
	return put_dead(e, pos, reason, detail, raw, raw_len);
}

/* --- control ----------------------------------------------------------- */

int engine_lane_open(struct engine *e, struct strview topic, int32_t partition)
{
	struct group *g = group_of(e, partition);
	watermarks_open(&g->wm, watermarks_lane(&g->wm, topic, partition));
	return settle(e, g);
}

int engine_lane_idle(struct engine *e, struct strview topic, int32_t partition)
{
	struct group *g = find_group(e, partition);
	uint32_t lane = g ? watermarks_find_lane(&g->wm, topic, partition) : LANE_NONE;
	if (lane == LANE_NONE)
		return 0;
	watermarks_idle(&g->wm, lane);
	return settle(e, g);
}

/* A closed lane left this process with its partition, and its windows are
 * now its next owner's to finish.  So closing emits nothing: settling here
 * would finalize windows early against the group's remaining lanes (chat/p
 * is closed a moment before viewer/p), and those half-filled rows would
 * overwrite the next owner's.  Once no lane of the group is open or idle,
 * the group itself has left: nothing advances, flushes or saves it, its
 * state lives on in the checkpoint written at the close.  It is kept
 * aside, though, because its next owner may be the same daemon (the
 * partition given back, or the next capture of a set replayed in one
 * run): the owner that loads that checkpoint resumes the group exactly as
 * it was, so a record or lane_open of the partition in the same input
 * takes it back (group_of).  A group that keeps a lane emits what the
 * close let through with its next record. */
int engine_lane_close(struct engine *e, struct strview topic, int32_t partition)
{
	struct group *g = find_group(e, partition);
	uint32_t lane = g ? watermarks_find_lane(&g->wm, topic, partition) : LANE_NONE;
	if (lane == LANE_NONE)
		return 0;
	watermarks_close(&g->wm, lane);
	if (g->wm.n_open)
		return 0;
	detach_group(e, &e->open, g);
	set_add(&e->closed, g);
	return 0;
}

int engine_advance(struct engine *e, int64_t watermark_us)
{
	for (size_t i = 0; i < e->open.n; i++) {
		watermarks_raise(&e->open.v[i]->wm, watermark_us);
		int rc = settle(e, e->open.v[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int engine_finish(struct engine *e, bool final_flush)
{
	/* End of input: the final flush releases every stream, and a table of
	 * them all (1 M streams: 25 MB at the very end) would serve no record. */
	e->ended = true;
	if (!final_flush)
		return 0;
	for (size_t i = 0; i < e->open.n; i++) {
		struct group *g = e->open.v[i];
		watermarks_raise(&g->wm, TIME_POS_INF);
		int rc = settle(e, g);
		if (!rc)
			rc = seam_end(e, g);
		if (rc)
			return rc;
	}
	return 0;
}

/* --- checkpoints --------------------------------------------------------- */

static struct state *state_time_or_null(int64_t t)
{
	return t == TIME_NEG_INF ? state_null() : state_integer((state_int)t);
}

char *engine_save_group(const struct engine *e, int32_t partition)
{
	const struct group *g = find_group(e, partition);
	if (!g)
		return NULL;
	struct state *lanes = state_array();
	for (uint32_t i = 0; i < g->wm.n_lanes; i++) {
		const struct lane *l = &g->wm.lanes[i];
		state_append(lanes, state_pack("{sssiso sbsb}", "topic", l->topic, "partition",
		                               (int)l->partition, "max_time",
		                               state_time_or_null(l->max_time), "open", l->open,
		                               "idle", l->idle));
	}
	struct state *detectors = state_object();
	for (uint32_t s = 0; s < windower_stream_count(g->win); s++) {
		struct state *d =
			windower_stream_live(g->win, s) ? detectors_checkpoint_stream(g->det, s) : NULL;
		if (d) {
			struct strview name = windower_stream_name(g->win, s);
			char *key = xstrndup(name.ptr, name.len);
			state_set(detectors, key, d);
			free(key);
		}
	}
	/* The group's metadata and detectors as checkpoint values; the windows,
	 * which are most of the state, written directly (see windower_save). */
	struct state *meta = state_pack("{sisisososo}", "version", STATE_VERSION, "partition",
	                                (int)g->partition, "global",
	                                state_time_or_null(g->wm.global), "lanes", lanes,
	                                "detectors", detectors);
	struct state_error perr;
	struct state *fp = e->cfg.state_fingerprint
	                           ? state_parse(e->cfg.state_fingerprint,
	                                         strlen(e->cfg.state_fingerprint), &perr)
	                           : NULL;
	if (fp)
		state_set(meta, "fingerprint", fp);
	/* 17 significant digits: every double comes back with the same bits. */
	char *head = state_dump(meta);
	state_free(meta);
	struct buf out = BUF_INIT;
	buf_add(&out, head, strlen(head) - 1); /* all but the closing brace */
	free(head);
	buf_adds(&out, ",\"windows\":");
	windower_save(g->win, &out);
	buf_addc(&out, '}');
	char *text = buf_detach(&out);
	return text;
}

static bool load_time(const struct state *v, int64_t *t)
{
	if (state_is_null(v)) {
		*t = TIME_NEG_INF;
		return true;
	}
	if (!state_is_integer(v))
		return false;
	*t = state_integer_value(v);
	return true;
}

bool engine_load_group(struct engine *e, const char *text, size_t len, struct error *err)
{
	/* Loaded streams are not recorded as seen (only streams created by
	 * an event are), which the lazy keying could not tell apart. */
	key_materialize(e);
	struct state_error jerr;
	struct state *state = state_parse(text, len, &jerr);
	if (!state) {
		error_set(err, "saved state is not JSON: %s", jerr.text);
		return false;
	}
	int version, partition;
	struct state *global, *lanes, *windows, *detectors, *fingerprint = NULL;
	bool ok = false;
	struct group *g = NULL;
	/* The fingerprint is the caller's to check (engine_state_fingerprint). */
	if (state_unpack(state, &jerr, "{sisisosososos?o}", "version", &version,
	                 "partition", &partition, "global", &global, "lanes", &lanes, "windows",
	                 &windows, "detectors", &detectors, "fingerprint", &fingerprint) ||
	    !state_is_array(lanes) || !state_is_object(detectors)) {
		error_set(err, "saved state has the wrong shape: %s", jerr.text);
		goto out;
	}
	if (version != STATE_VERSION) {
		error_set(err, "saved state has version %d; this telemetra reads version %d", version,
		          STATE_VERSION);
		goto out;
	}
	g = group_new(e, partition);
	if (!load_time(global, &g->wm.global)) {
		error_set(err, "saved state: bad global watermark");
		goto out;
	}
	size_t i;
	struct state *l;
	state_array_foreach(lanes, i, l) {
		const char *topic;
		int lane_partition, open, idle;
		struct state *max;
		if (state_unpack(l, &jerr, "{sssisosbsb}", "topic", &topic, "partition",
		                 &lane_partition, "max_time", &max, "open", &open, "idle", &idle)) {
			error_set(err, "saved state: bad lane: %s", jerr.text);
			goto out;
		}
		uint32_t idx = watermarks_lane(&g->wm, sv_make(topic, strlen(topic)), lane_partition);
		int64_t max_time;
		if (!load_time(max, &max_time)) {
			error_set(err, "saved state: bad lane time");
			goto out;
		}
		watermarks_restore(&g->wm, idx, max_time, open, idle);
	}
	if (!windower_load(g->win, windows, err))
		goto out;
	const char *name;
	void *it;
	struct state *d;
	state_object_foreach(detectors, it, name, d) {
		struct strview id = sv_make(name, strlen(name));
		if (!detectors_load_stream(g->det, windower_stream(g->win, id), id, d, err))
			goto out;
	}
	/* Streams saved with detector state but no pane wait for their
	 * release as they did in the saving process (which was not saved:
	 * it follows from the state). */
	for (uint32_t s = 0; s < windower_stream_count(g->win); s++)
		if (!windower_stream_has_panes(g->win, s))
			consider_release(e, g, s, windower_closed_k(g->win));
	engine_drop_group(e, partition);
	add_group(e, g);
	g = NULL;
	ok = true;
out:
	group_free(g);
	state_free(state);
	return ok;
}

char *engine_state_fingerprint(const char *text, size_t len)
{
	struct state_error jerr;
	struct state *state = state_parse(text, len, &jerr);
	struct state *fp = state ? state_object_get(state, "fingerprint") : NULL;
	char *out = state_is_object(fp) ? state_dump(fp) : NULL;
	state_free(state);
	return out;
}

void engine_drop_group(struct engine *e, int32_t partition)
{
	struct group_set *set = &e->open;
	struct group *g = find_group(e, partition);
	if (!g && (g = set_find(&e->closed, partition)) != NULL)
		set = &e->closed;
	if (!g)
		return;
	detach_group(e, set, g); /* its streams are forgotten, not their keying */
	if (e->out.seam) /* the engine's own detectors go with the group */
		e->out.seam->drop(e->out.seam->ctx, partition);
	group_free(g);
}

size_t engine_group_partitions(const struct engine *e, int32_t *out, size_t max)
{
	for (size_t i = 0; i < e->open.n && i < max; i++)
		out[i] = e->open.v[i]->partition;
	return e->open.n;
}

size_t engine_group_watermarks(const struct engine *e, int32_t *parts, int64_t *watermarks,
                               size_t max)
{
	for (size_t i = 0; i < e->open.n && i < max; i++) {
		parts[i] = e->open.v[i]->partition;
		watermarks[i] = e->open.v[i]->wm.global;
	}
	return e->open.n;
}
