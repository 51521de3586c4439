/*
 * store.c — tune's decoded input: records, interned strings, scores.
 *
 *   line ─► jscan ─► bare event / envelope / control ─► event_decode
 *                                                            │
 *        records[]: type, lane, time, stream, chatter,  ◄────┘
 *                   emote ids, viewer_count, position
 *        scores[lexicon][chat ordinal]
 *        strtab: every stream id, emote and topic once; chatters copied;
 *                both in blocks that never move
 *
 * store_line() decodes a line with record_decode(), as engine_line()
 * (core/engine.c) does, so that the records fed by store_feed() are exactly
 * the events and controls the engine would have taken from the same lines,
 * and the dead letters it counts are those the engine would have written
 * (all but `late`).
 */
#include "config.h"

#include "tune/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/capture.h"
#include "core/record.h"
#include "io/lanescan.h"

/* --- interned strings -------------------------------------------------- */

#define STRTAB_BLOCK (64 * 1024)

struct str_entry {
	const char *ptr;
	uint32_t len;
	uint32_t hash;
};

/* A slot carries what a probe compares (hash, length, where the bytes
 * are) beside its id, so that a lookup touches the slot and the bytes but
 * never entries[] (a cache miss per lookup on a big table). */
struct str_slot {
	const char *ptr;
	uint32_t len;
	uint32_t hash;
	uint32_t id1; /* id + 1, or 0 for empty */
};

/* Append-only: an id, once given, names the same bytes for the life of the
 * table, and those bytes never move (they live in blocks, not in a
 * reallocated buffer), so views of them can be handed out freely. */
struct strtab {
	struct str_entry *entries; /* by id */
	uint32_t n;
	size_t cap;
	struct str_slot *slots; /* open addressing */
	uint32_t mask;
	char **blocks;
	size_t n_blocks, cap_blocks;
	size_t block_used, block_size; /* of the last block */
	size_t bytes;
};

static void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
	t->mask = 1023;
	t->slots = xcalloc(t->mask + 1, sizeof(*t->slots));
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n_blocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	free(t->entries);
	free(t->slots);
}

static const char *strtab_copy(struct strtab *t, const char *p, size_t n)
{
	if (n == 0)
		return "";
	if (t->n_blocks == 0 || t->block_size - t->block_used < n) {
		size_t size = n > STRTAB_BLOCK ? n : STRTAB_BLOCK;
		t->blocks = grow_array(t->blocks, sizeof(*t->blocks), &t->cap_blocks, t->n_blocks + 1);
		t->blocks[t->n_blocks++] = xmalloc(size);
		t->block_used = 0;
		t->block_size = size;
		t->bytes += size;
	}
	char *dst = t->blocks[t->n_blocks - 1] + t->block_used;
	memcpy(dst, p, n);
	t->block_used += n;
	return dst;
}

/* Equal bytes? Strings here are mostly short (names, emotes), where a
 * word-at-a-time loop beats the call into memcmp. */
static bool bytes_equal(const char *a, const char *b, size_t n)
{
	while (n >= 8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
		a += 8, b += 8, n -= 8;
	}
	while (n--)
		if (*a++ != *b++)
			return false;
	return true;
}

/* The table's hash: hash_bytes' tail loop takes a multiply a byte, and
 * the strings here are mostly under 16 bytes (stream ids, emotes), hashed
 * several times an event; up to 16 bytes, two overlapping loads and one
 * mix do.  Longer strings take hash_bytes. */
static uint32_t str_hash(const char *p, size_t n)
{
	uint64_t a, b;
	if (n > 16)
		return (uint32_t)hash_bytes(p, n);
	if (n >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + n - 8, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, p, 4);
		memcpy(&y, p + n - 4, 4);
		a = x, b = y;
	} else if (n > 0) {
		a = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
		    (uint64_t)(unsigned char)p[n - 1] << 16;
		b = 0;
	} else {
		a = b = 0;
	}
	uint64_t h = (a ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
	h ^= (b + n) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

/* The slot holding str, or the empty slot where it would go. */
static struct str_slot *strtab_slot(const struct strtab *t, const char *p, size_t n,
                                    uint32_t hash)
{
	for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		struct str_slot *slot = &t->slots[i];
		if (!slot->id1)
			return slot;
		if (slot->hash == hash && slot->len == n && bytes_equal(slot->ptr, p, n))
			return slot;
	}
}

static void strtab_grow(struct strtab *t)
{
	uint32_t size = (t->mask + 1) * 2;
	free(t->slots);
	t->slots = xcalloc(size, sizeof(*t->slots));
	t->mask = size - 1;
	for (uint32_t id = 0; id < t->n; id++) {
		const struct str_entry *e = &t->entries[id];
		uint32_t i = e->hash & t->mask;
		while (t->slots[i].id1)
			i = (i + 1) & t->mask;
		t->slots[i] = (struct str_slot){e->ptr, e->len, e->hash, id + 1};
	}
}

static uint32_t strtab_intern(struct strtab *t, struct strview s)
{
	uint32_t hash = str_hash(s.ptr, s.len);
	struct str_slot *slot = strtab_slot(t, s.ptr, s.len, hash);
	if (slot->id1)
		return slot->id1 - 1;
	t->entries = grow_array(t->entries, sizeof(*t->entries), &t->cap, (size_t)t->n + 1);
	t->entries[t->n] = (struct str_entry){strtab_copy(t, s.ptr, s.len), (uint32_t)s.len, hash};
	*slot = (struct str_slot){t->entries[t->n].ptr, (uint32_t)s.len, hash, t->n + 1};
	t->n++;
	if (t->n * 2 > t->mask) /* keep the load under one half */
		strtab_grow(t);
	return t->n - 1;
}

static struct strview strtab_get(const struct strtab *t, uint32_t id)
{
	return sv_make(t->entries[id].ptr, t->entries[id].len);
}

/* --- records ----------------------------------------------------------- */

enum record_type {
	REC_CHAT,
	REC_VIEWER,
	REC_LANE_OPEN,
	REC_LANE_IDLE,
	REC_LANE_CLOSE,
	REC_ADVANCE,
};

struct record {
	int64_t time_us;  /* event time; REC_ADVANCE: the watermark */
	int64_t position; /* line number of a bare event, offset of an envelope */
	union {
		int64_t viewer_count; /* REC_VIEWER */
		const char *chatter;  /* REC_CHAT: its bytes, in the chatter arena */
	} u;
	size_t emotes_at;   /* REC_CHAT: emote ids [emotes_at, +n_emotes) */
	uint32_t n_emotes;
	uint32_t stream; /* string id */
	uint32_t lane; /* events and lane controls: index into lanes */
	uint32_t chatter_len; /* REC_CHAT */
	uint16_t file; /* the input file it came from */
	uint8_t type;  /* enum record_type */
	bool envelope; /* a Kafka message: its position is topic/partition/offset */
};

/* A (topic, partition) lane as the engine names it; bare events are the
 * lane ("", -1). */
struct lane {
	uint32_t topic; /* string id */
	int32_t partition;
	/* SPEC §7, as replay's lane scan (io/lanescan.h) decides it: named in
	 * a file that can be read twice, and whether by a lane_open record */
	bool in_file, open_record;
};

struct store {
	struct store_options opt;
	struct strtab strings;
	/* Chatters, copied but not interned: there are about as many as
	 * events, no output row names one, and the engine interns them anyway;
	 * a lookup in a table that size costs a cache miss or two an event,
	 * and keeping them out of `strings` keeps that table small enough to
	 * stay in cache for the stream ids and emotes every event names. */
	struct strtab chatters; /* its blocks only */
	struct strview *files; /* the input files' paths (owned, NUL-terminated) */
	bool *rescannable; /* by file: io/lanescan.h's lanescan_rescannable() */
	size_t n_files, cap_files;
	struct lane *lanes;
	uint32_t n_lanes;
	uint32_t bare_lane; /* 1 + the lane ("", -1), or 0 before the first bare event */
	size_t cap_lanes;
	struct record *records;
	size_t n_records, cap_records;
	uint32_t *emote_ids;
	size_t n_emote_ids, cap_emote_ids;
	int64_t **scores; /* [lexicon][chat ordinal], SCORE_SCALE units */
	size_t n_chat, cap_chat;
	struct store_stats stats;

	/* decoding state, as engine_line() keeps it */
	struct record_decoder rec;
};

struct store *store_new(const struct store_options *opt)
{
	struct store *s = xcalloc(1, sizeof(*s));
	s->opt = *opt;
	s->rec.chat_topic = opt->chat_topic;
	s->rec.viewer_topic = opt->viewer_topic;
	const struct lexicon **lexicons = xcalloc(opt->n_lexicons ? opt->n_lexicons : 1,
	                                          sizeof(*lexicons));
	memcpy(lexicons, opt->lexicons, opt->n_lexicons * sizeof(*lexicons));
	s->opt.lexicons = lexicons;
	strtab_init(&s->strings); /* chatters: zeroed, blocks only */
	s->scores = xcalloc(opt->n_lexicons ? opt->n_lexicons : 1, sizeof(*s->scores));
	return s;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	strtab_free(&s->strings);
	strtab_free(&s->chatters);
	for (size_t i = 0; i < s->n_files; i++)
		free((char *)s->files[i].ptr);
	free(s->files);
	free(s->rescannable);
	free(s->lanes);
	free(s->records);
	free(s->emote_ids);
	for (size_t l = 0; l < s->opt.n_lexicons; l++)
		free(s->scores[l]);
	free(s->scores);
	free((void *)s->opt.lexicons);
	record_decoder_free(&s->rec);
	free(s);
}

uint32_t store_add_file(struct store *s, const char *path)
{
	size_t cap = s->cap_files;
	s->files = grow_array(s->files, sizeof(*s->files), &s->cap_files, s->n_files + 1);
	s->rescannable = grow_array(s->rescannable, sizeof(*s->rescannable), &cap, s->n_files + 1);
	s->files[s->n_files] = sv_make(xstrdup(path), strlen(path));
	s->rescannable[s->n_files] = lanescan_rescannable(path);
	return (uint32_t)s->n_files++;
}

static uint32_t lane_of(struct store *s, struct strview topic, int32_t partition)
{
	uint32_t t = strtab_intern(&s->strings, topic);
	/* Lanes are few (one per topic and partition) and records come in runs
	 * of one lane: search from the most recent. */
	for (uint32_t i = s->n_lanes; i-- > 0;)
		if (s->lanes[i].topic == t && s->lanes[i].partition == partition)
			return i;
	s->lanes = grow_array(s->lanes, sizeof(*s->lanes), &s->cap_lanes, (size_t)s->n_lanes + 1);
	s->lanes[s->n_lanes] = (struct lane){t, partition, false, false};
	return s->n_lanes++;
}

static struct record *new_record(struct store *s, enum record_type type, uint32_t file)
{
	s->records = grow_array(s->records, sizeof(*s->records), &s->cap_records, s->n_records + 1);
	struct record *r = &s->records[s->n_records++];
	memset(r, 0, sizeof(*r));
	r->type = (uint8_t)type;
	r->file = (uint16_t)file;
	return r;
}

static void dead(struct store *s, enum dead_reason reason)
{
	s->stats.dead[reason]++;
	s->stats.dead_total++;
}

static void add_event(struct store *s, uint32_t file, const struct event *ev, uint32_t lane,
                      int64_t position, bool envelope)
{
	struct record *r = new_record(s, ev->kind == EVENT_CHAT ? REC_CHAT : REC_VIEWER, file);
	r->time_us = ev->time_us;
	r->position = position;
	r->lane = lane;
	r->envelope = envelope;
	r->stream = strtab_intern(&s->strings, ev->stream_id);
	if (ev->kind != EVENT_CHAT) {
		s->stats.viewer++;
		r->u.viewer_count = ev->viewer_count;
		return;
	}
	s->stats.chat++;
	r->u.chatter = strtab_copy(&s->chatters, ev->chatter.ptr, ev->chatter.len);
	r->chatter_len = (uint32_t)ev->chatter.len;
	r->emotes_at = s->n_emote_ids;
	r->n_emotes = (uint32_t)ev->n_emotes;
	s->emote_ids = grow_array(s->emote_ids, sizeof(*s->emote_ids), &s->cap_emote_ids,
	                          s->n_emote_ids + ev->n_emotes);
	for (size_t i = 0; i < ev->n_emotes; i++)
		s->emote_ids[s->n_emote_ids++] = strtab_intern(&s->strings, ev->emotes[i]);

	/* The message is scored now, once per lexicon, and then forgotten
	 * (a decoder thread may have scored it with the first lexicon). */
	size_t cap = s->cap_chat;
	for (size_t l = 0; l < s->opt.n_lexicons; l++) {
		int64_t score = ev->score;
		if (l > 0 || !ev->has_score) {
			unsigned pos, neg;
			sentiment_count(s->opt.lexicons[l], ev->message.ptr, ev->message.len, &pos, &neg);
			score = sentiment_score_scaled(pos, neg);
		}
		cap = s->cap_chat;
		s->scores[l] = grow_array(s->scores[l], sizeof(**s->scores), &cap, s->n_chat + 1);
		s->scores[l][s->n_chat] = score;
	}
	s->cap_chat = cap;
	s->n_chat++;
}

static void add_control(struct store *s, uint32_t file, const struct capture_control *c)
{
	static const enum record_type types[] = {
		[CONTROL_LANE_OPEN] = REC_LANE_OPEN,
		[CONTROL_LANE_IDLE] = REC_LANE_IDLE,
		[CONTROL_LANE_CLOSE] = REC_LANE_CLOSE,
		[CONTROL_ADVANCE] = REC_ADVANCE,
	};
	s->stats.controls++;
	uint32_t lane = c->kind == CONTROL_ADVANCE ? 0 : lane_of(s, c->topic, c->partition);
	if (c->kind != CONTROL_ADVANCE && s->rescannable[file]) {
		s->lanes[lane].in_file = true;
		s->lanes[lane].open_record |= c->kind == CONTROL_LANE_OPEN;
	}
	struct record *r = new_record(s, types[c->kind], file);
	r->lane = lane;
	r->time_us = c->watermark_us;
}

void store_decoded(struct store *s, uint32_t file, int64_t line_no, const struct decoded_line *r)
{
	s->stats.records++;
	switch (r->type) {
	case LINE_DEAD:
		dead(s, r->reason);
		return;
	case LINE_EVENT:
		/* the default lane of bare events: looked up once, not a line */
		if (!s->bare_lane)
			s->bare_lane = lane_of(s, SV_LIT(""), -1) + 1;
		add_event(s, file, &r->ev, s->bare_lane - 1, line_no, false);
		return;
	case LINE_CONTROL:
		add_control(s, file, &r->control);
		return;
	case LINE_ENVELOPE: {
		uint32_t lane = lane_of(s, r->env.topic, r->env.partition);
		s->lanes[lane].in_file |= s->rescannable[file]; /* bad payload or not */
		if (!r->payload_ok)
			dead(s, r->reason);
		else
			add_event(s, file, &r->ev, lane, r->env.offset, true);
		return;
	}
	}
}

void store_line(struct store *s, uint32_t file, int64_t line_no, const char *line, size_t len)
{
	struct decoded_line r;
	record_decode(&s->rec, line, len, true, &r);
	store_decoded(s, file, line_no, &r);
}

void store_reject(struct store *s, enum dead_reason reason)
{
	s->stats.records++;
	dead(s, reason);
}

/* --- feeding an engine ------------------------------------------------- */

/* SPEC §7: a lane named in a file that replay's lane scan reads, and not
 * opened by a lane_open record of its own, is open from the start, as
 * replay opens it after its lane scan.  The one statement of that rule:
 * store_feed follows it, and store_opens_lanes tells the early pass (which
 * fed without it) whether it was needed. */
static bool open_from_start(const struct lane *l)
{
	return l->in_file && !l->open_record;
}

bool store_opens_lanes(const struct store *s)
{
	for (uint32_t i = 0; i < s->n_lanes; i++)
		if (open_from_start(&s->lanes[i]))
			return true;
	return false;
}

int store_feed(const struct store *s, size_t lexicon, struct engine *e)
{
	const struct strtab *t = &s->strings;
	int rc = 0;

	for (uint32_t i = 0; i < s->n_lanes && !rc; i++)
		if (open_from_start(&s->lanes[i]))
			rc = engine_lane_open(e, strtab_get(t, s->lanes[i].topic), s->lanes[i].partition);
	struct store_cursor c = {0, 0};
	return rc ? rc : store_feed_more(s, lexicon, e, &c, 0);
}

bool store_feed_due(const struct store *s, const struct store_cursor *c, size_t min_batch)
{
	return s->n_records - c->record >= min_batch && s->n_records > c->record;
}

int store_feed_more(const struct store *s, size_t lexicon, struct engine *e,
                    struct store_cursor *c, size_t min_batch)
{
	if (!store_feed_due(s, c, min_batch))
		return 0;
	const struct strtab *t = &s->strings;
	const int64_t *scores = s->scores[lexicon];
	struct strview *emotes = NULL; /* this call's own: feeds may run in parallel */
	size_t cap_emotes = 0, chat = c->chat;
	int rc = 0;
	size_t i = c->record;
	for (; i < s->n_records && !rc; i++) {
		const struct record *r = &s->records[i];
		/* The engine's work between two records evicts what the
		 * hardware prefetcher brought in: a profile of a grid puts
		 * most of this loop's time on loading the record, its score
		 * and its emotes.  Ask for them a few records ahead (a hint:
		 * reading past the end is not done, prefetching is harmless). */
		if (i + 8 < s->n_records) {
			const struct record *ahead = &s->records[i + 8];
			__builtin_prefetch(ahead);
			__builtin_prefetch(&s->emote_ids[ahead->emotes_at]);
			__builtin_prefetch(ahead->type == REC_CHAT ? ahead->u.chatter : NULL);
			if (chat + 8 < s->n_chat)
				__builtin_prefetch(&scores[chat + 8]);
		}
		const struct lane *lane = &s->lanes[r->lane];
		switch ((enum record_type)r->type) {
		case REC_CHAT:
		case REC_VIEWER: {
			struct event ev = {
				.kind = r->type == REC_CHAT ? EVENT_CHAT : EVENT_VIEWER,
				.time_us = r->time_us,
				.stream_id = strtab_get(t, r->stream),
				.message = SV_LIT(""),
			};
			if (r->type == REC_CHAT) {
				if (r->n_emotes > cap_emotes)
					emotes = grow_array(emotes, sizeof(*emotes), &cap_emotes, r->n_emotes);
				for (uint32_t k = 0; k < r->n_emotes; k++)
					emotes[k] = strtab_get(t, s->emote_ids[r->emotes_at + k]);
				ev.chatter = sv_make(r->u.chatter, r->chatter_len);
				ev.emotes = emotes;
				ev.n_emotes = r->n_emotes;
				ev.has_score = true;
				ev.score = scores[chat++];
			} else {
				ev.viewer_count = r->u.viewer_count;
			}
			struct strview topic = strtab_get(t, lane->topic);
			struct record_pos pos = {
				r->envelope ? topic : s->files[r->file],
				lane->partition,
				r->position,
			};
			rc = engine_event(e, topic, lane->partition, &pos, &ev, NULL, 0);
			break;
		}
		case REC_LANE_OPEN:
			rc = engine_lane_open(e, strtab_get(t, lane->topic), lane->partition);
			break;
		case REC_LANE_IDLE:
			rc = engine_lane_idle(e, strtab_get(t, lane->topic), lane->partition);
			break;
		case REC_LANE_CLOSE:
			rc = engine_lane_close(e, strtab_get(t, lane->topic), lane->partition);
			break;
		case REC_ADVANCE:
			rc = engine_advance(e, r->time_us);
			break;
		}
	}
	c->record = i;
	c->chat = chat;
	free(emotes);
	return rc;
}

bool store_find_id(const struct store *s, struct strview str, struct strview *stable,
                   uint32_t *id)
{
	const struct strtab *t = &s->strings;
	uint32_t slot =
	    strtab_slot(t, str.ptr, str.len, str_hash(str.ptr, str.len))->id1;
	if (!slot)
		return false;
	*stable = strtab_get(t, slot - 1);
	*id = slot - 1;
	return true;
}

bool store_find(const struct store *s, struct strview str, struct strview *stable)
{
	uint32_t id;
	return store_find_id(s, str, stable, &id);
}

void store_get_stats(const struct store *s, struct store_stats *out)
{
	*out = s->stats;
	out->strings = s->strings.n;
	out->bytes = s->strings.bytes + s->chatters.bytes + s->strings.cap * sizeof(struct str_entry) +
	             ((size_t)s->strings.mask + 1) * sizeof(struct str_slot) +
	             s->cap_records * sizeof(struct record) + s->cap_emote_ids * sizeof(uint32_t) +
	             s->opt.n_lexicons * s->cap_chat * sizeof(int64_t);
	out->string_bytes = s->strings.bytes;
}
