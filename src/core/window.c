/*
 * window.c — sliding windows from per-slide panes (core/window.h,
 * SPEC §4): the stream table, events added to their pane (or a late
 * slice), windows combined from their panes when the watermark closes
 * them, and the panes' checkpoint written as text and read back through
 * core/state.h.
 */
#include "config.h"

#include "core/window.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/idmap.h"
#include "core/intern.h"
#include "core/keyheap.h"
#include "core/lexicon.h"
#include "core/state.h"

/* viewer_count is any int64 >= 0, so a sum of them needs more than 64
 * bits; 128 hold 2^64 events of INT64_MAX.  avg_viewers() keeps the
 * average exact to the last bit of the double. */
__extension__ typedef unsigned __int128 viewer_sum_t;

static double avg_viewers(viewer_sum_t sum, int64_t n)
{
	if (sum <= UINT64_MAX) /* as before: one rounding, of the sum */
		return (double)(uint64_t)sum / (double)n;
	viewer_sum_t q = sum / (uint64_t)n, r = sum % (uint64_t)n;
	return (double)(uint64_t)q + (double)(uint64_t)r / (double)n; /* q <= INT64_MAX */
}

/* What a set of events adds up to: the aggregate of a pane, or of a slice
 * of a pane (see the header comment). */
struct agg {
	int64_t chat_count;
	int64_t positive_count;
	int64_t negative_count;
	int64_t score_sum;
	viewer_sum_t viewer_sum; /* 128 bits: counts up to INT64_MAX never overflow it */
	int64_t viewer_events;
	struct idset chatters;  /* interned chatter ids, each retained once */
	struct idset emoters;   /* those with a message carrying an emote: a subset
	                         * of chatters, whose retain they share */
	struct idcount emotes;  /* interned emote id -> uses, each retained once */
};

struct slice {
	int64_t first_k; /* the first window these events count in */
	struct agg agg;
};

struct pane {
	int64_t index;
	struct agg main;
	struct slice *slices; /* usually none */
	size_t n_slices;
};

/* Names up to this long (nearly all) are kept in the stream itself: a
 * block of their own cost a 32-byte malloc chunk a stream ("s123456"),
 * 32 MB of the 1 M-stream replay. */
#define NAME_INLINE 15

/* 48 bytes: with 1 M streams alive at once each byte here is a megabyte,
 * so the name's hash is not kept (the table's tag holds its high half; a
 * deletion or a growth hashes the names again). */
struct stream {
	union {
		char in[NAME_INLINE + 1]; /* len <= NAME_INLINE: NUL-terminated here */
		char *ptr;                /* longer: an owned block */
	} name;
	struct pane **panes; /* sorted by index, only panes that hold events */
	int64_t release_k;   /* with no panes: may go once closed_k >= this */
	uint32_t len : 30;
	uint32_t live : 1; /* 0 for a released index, free for reuse */
	uint32_t held : 1; /* has an entry in windower.release */
	uint32_t n_panes;
	uint32_t cap_panes;
	uint32_t due_pos; /* in windower.due while it has panes, else UINT32_MAX */
};

_Static_assert(sizeof(struct stream) == 48, "a stream stays 48 bytes");

/* The stream's name (NUL-terminated), wherever it is kept; valid until the
 * stream is released or the streams array grows (a new stream). */
static const char *name_of(const struct stream *s)
{
	return s->len <= NAME_INLINE ? s->name.in : s->name.ptr;
}

/* Free a live stream's name block, if it has one. */
static void name_free(struct stream *s)
{
	if (s->live && s->len > NAME_INLINE)
		free(s->name.ptr);
}

struct emote_rank {
	uint32_t count;
	struct strview name;
};

struct windower {
	struct window_config cfg;
	int64_t n; /* panes per window: W / S */
	int64_t closed_k;
	size_t open_panes;

	struct stream *streams;
	uint32_t n_streams;
	size_t cap_streams;
	/* stream index + 1 in the low 32 bits (0 = empty), the high half of
	 * the name's hash above: a probe reads a stream only on a tag match */
	uint64_t *stream_table;
	uint32_t stream_mask;
	uint32_t live_streams; /* n_streams less the released */

	/* The streams that hold panes, least first pane first: a close visits
	 * only the streams it has windows to emit or panes to free for, not
	 * every stream ever seen (1 M streams seen once each made every close
	 * a scan of 1 M). */
	struct due {
		int64_t first_pane; /* the key, copied here: comparisons stay in the heap */
		uint32_t stream;
	} *due;
	uint32_t n_due;
	size_t cap_due;
	uint32_t *closing; /* scratch: the streams one close visits */
	size_t cap_closing;
	uint32_t n_emptied; /* closing[0..n_emptied): those the last close left without panes */

	/* Released stream indexes, reused before new ones (so that the index
	 * space, and the detectors' arrays indexed by it, stay as small as the
	 * live streams), and the streams waiting for their release: by
	 * release_k, at most one entry a stream (see windower_hold). */
	uint32_t *free_streams;
	uint32_t n_free_streams;
	size_t cap_free_streams;
	struct keyheap release;

	struct interner *chatters;
	struct interner *emotes;

	/* When each (stream, chatter) last wrote, for window_row's
	 * pane_fresh_emote_chatters (cfg.fresh_us > 0): open addressing keyed
	 * by one 64-bit mix of the two names' hashes (not by indexes, which are
	 * reused after a release, nor by interned ids, which go with the
	 * panes), holding the newest pane a window has counted the chatter in.
	 * 16 bytes an entry, because with many streams alive at once (1 M
	 * streams seen once each) the table holds one entry per stream for the
	 * whole fresh span; two pairs colliding on the mix would count one
	 * chatter as not fresh, at odds of one in 2^64 a pair.  Entries too old
	 * to matter to any window still to close are dropped when the table
	 * would grow (seen_reserve); allocated with the first entry. */
	struct seen {
		uint64_t key; /* seen_key(stream hash, chatter hash); 0: empty */
		int64_t last_pane;
	} *seen;
	size_t seen_mask; /* capacity - 1 (a power of two less one), 0 before the first */
	size_t seen_n;
	int64_t fresh_panes; /* cfg.fresh_us in panes */

	/* Scratch for combining a window: an id counts as seen in the current
	 * window when its stamp equals `stamp`, which increases per window, so
	 * nothing needs clearing between windows. */
	uint64_t stamp;
	uint64_t *chatter_stamp;
	size_t chatter_stamp_cap;
	uint64_t *emote_stamp;
	uint32_t *emote_total;
	size_t emote_cap;
	uint32_t *touched;
	size_t touched_cap;
	struct emote_rank *ranks;
	size_t ranks_cap;
	struct strview *top;
	uint32_t *top_counts;
};

struct windower *windower_new(const struct window_config *cfg)
{
	struct windower *w = xcalloc(1, sizeof(*w));
	w->cfg = *cfg;
	w->n = cfg->size_us / cfg->slide_us;
	w->closed_k = WINDOW_NONE_CLOSED;
	/* A group costs what it holds: with 100 k partitions most hold one
	 * stream and one chatter and no emote, and every fixed allocation here
	 * was paid (in page faults as much as in malloc) 100 k times.  So the
	 * stream table starts tiny and the top-K arrays come with the first
	 * window that has emotes. */
	w->stream_mask = 3;
	w->stream_table = xcalloc(w->stream_mask + 1, sizeof(*w->stream_table));
	w->chatters = interner_new();
	w->emotes = interner_new();
	w->fresh_panes = cfg->fresh_us > 0 ? (cfg->fresh_us + cfg->slide_us - 1) / cfg->slide_us : 0;
	return w;
}

static void agg_free(struct windower *w, struct agg *a)
{
	for (uint32_t i = 0; i < a->chatters.n; i++)
		interner_release(w->chatters, a->chatters.ids[i]);
	for (uint32_t i = 0; i < a->emotes.keys.n; i++)
		interner_release(w->emotes, a->emotes.keys.ids[i]);
	idset_free(&a->chatters);
	idset_free(&a->emoters);
	idcount_free(&a->emotes);
}

static void pane_free(struct windower *w, struct pane *p)
{
	agg_free(w, &p->main);
	for (size_t i = 0; i < p->n_slices; i++)
		agg_free(w, &p->slices[i].agg);
	free(p->slices);
	free(p);
	w->open_panes--;
}

void windower_free(struct windower *w)
{
	if (!w)
		return;
	for (uint32_t s = 0; s < w->n_streams; s++) {
		struct stream *st = &w->streams[s];
		for (size_t i = 0; i < st->n_panes; i++)
			pane_free(w, st->panes[i]);
		free(st->panes);
		name_free(st);
	}
	free(w->streams);
	free(w->stream_table);
	free(w->due);
	free(w->closing);
	free(w->free_streams);
	keyheap_free(&w->release);
	interner_free(w->chatters);
	interner_free(w->emotes);
	free(w->seen);
	free(w->chatter_stamp);
	free(w->emote_stamp);
	free(w->emote_total);
	free(w->touched);
	free(w->ranks);
	free(w->top);
	free(w->top_counts);
	free(w);
}

/* --- streams ---------------------------------------------------------- */

#define TAG(h) ((h) & 0xFFFFFFFF00000000ULL)

/* grow_array, but a first element gets room for one only: most groups of
 * a many-partition input hold one stream. */
static void *grow_from_one(void *array, size_t elem_size, size_t *cap, size_t need)
{
	if (!*cap && need == 1) {
		*cap = 1;
		return xrealloc(array, elem_size);
	}
	return grow_array(array, elem_size, cap, need);
}

static uint64_t stream_hash(const struct stream *s) { return hash_bytes(name_of(s), s->len); }

static uint64_t *stream_slot(const struct windower *w, struct strview id, uint64_t h)
{
	for (uint32_t i = (uint32_t)h & w->stream_mask;; i = (i + 1) & w->stream_mask) {
		uint64_t v = w->stream_table[i];
		if (!v)
			return &w->stream_table[i];
		if (TAG(v) != TAG(h))
			continue;
		const struct stream *s = &w->streams[(uint32_t)v - 1];
		if (s->len == id.len && memcmp(name_of(s), id.ptr, id.len) == 0)
			return &w->stream_table[i];
	}
}

uint32_t windower_find_stream(const struct windower *w, struct strview id)
{
	uint64_t v = *stream_slot(w, id, hash_bytes(id.ptr, id.len));
	return v ? (uint32_t)v - 1 : UINT32_MAX;
}

uint32_t windower_stream_add(struct windower *w, struct strview id, bool *created)
{
	return windower_stream_add_hashed(w, id, hash_bytes(id.ptr, id.len), created);
}

void windower_prefetch(const struct windower *w, uint64_t stream_hash, bool is_chat,
                       uint64_t chatter_hash)
{
	if (is_chat)
		interner_prefetch(w->chatters, chatter_hash);
	__builtin_prefetch(&w->stream_table[(uint32_t)stream_hash & w->stream_mask]);
}

uint32_t windower_stream_add_hashed(struct windower *w, struct strview id, uint64_t h,
                                    bool *created)
{
	uint64_t *slot = stream_slot(w, id, h);
	if (created)
		*created = !*slot;
	if (*slot)
		return (uint32_t)*slot - 1;
	if (id.len >= 1u << 30)
		abort(); /* len's 30 bits: ids are at most 255 characters (core/event.h) */
	uint32_t idx;
	if (w->n_free_streams) {
		idx = w->free_streams[--w->n_free_streams];
	} else {
		w->streams = grow_from_one(w->streams, sizeof(*w->streams), &w->cap_streams,
		                           (size_t)w->n_streams + 1);
		idx = w->n_streams++;
	}
	struct stream *st = &w->streams[idx];
	*st = (struct stream){.len = (uint32_t)id.len, .live = 1, .due_pos = UINT32_MAX};
	if (id.len <= NAME_INLINE)
		memcpy(st->name.in, id.ptr, id.len); /* NUL after it: zeroed above */
	else
		st->name.ptr = xstrndup(id.ptr, id.len);
	*slot = TAG(h) | (idx + 1);
	w->live_streams++;
	if ((uint64_t)w->live_streams * 2 > w->stream_mask) {
		free(w->stream_table);
		w->stream_mask = w->stream_mask * 2 + 1;
		w->stream_table = xcalloc(w->stream_mask + 1, sizeof(*w->stream_table));
		for (uint32_t s = 0; s < w->n_streams; s++) {
			if (!w->streams[s].live)
				continue;
			uint64_t hs = stream_hash(&w->streams[s]);
			uint32_t i = (uint32_t)hs & w->stream_mask;
			while (w->stream_table[i])
				i = (i + 1) & w->stream_mask;
			w->stream_table[i] = TAG(hs) | (s + 1);
		}
	}
	return idx;
}

uint32_t windower_stream(struct windower *w, struct strview id)
{
	return windower_stream_add(w, id, NULL);
}

/* Take stream s out of the table (backward-shift deletion: the entries
 * after it in its probe run move up, so no lookup stops early at a hole),
 * free its name and put its index on the free list. */
static void stream_release(struct windower *w, uint32_t s)
{
	struct stream *st = &w->streams[s];
	uint32_t mask = w->stream_mask, i = (uint32_t)stream_hash(st) & mask;
	while ((uint32_t)w->stream_table[i] != s + 1)
		i = (i + 1) & mask;
	for (uint32_t j = (i + 1) & mask; w->stream_table[j]; j = (j + 1) & mask) {
		uint32_t home = (uint32_t)stream_hash(&w->streams[(uint32_t)w->stream_table[j] - 1]) & mask;
		/* j's entry may fill the hole at i if its home is not in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			w->stream_table[i] = w->stream_table[j];
			i = j;
		}
	}
	w->stream_table[i] = 0;
	name_free(st);
	free(st->panes);
	*st = (struct stream){.due_pos = UINT32_MAX};
	w->free_streams = grow_array(w->free_streams, sizeof(*w->free_streams),
	                             &w->cap_free_streams, (size_t)w->n_free_streams + 1);
	w->free_streams[w->n_free_streams++] = s;
	w->live_streams--;
}

bool windower_stream_live(const struct windower *w, uint32_t s)
{
	return s < w->n_streams && w->streams[s].live;
}

uint32_t windower_live_streams(const struct windower *w) { return w->live_streams; }

bool windower_stream_has_panes(const struct windower *w, uint32_t s)
{
	return s < w->n_streams && w->streams[s].n_panes;
}

struct strview windower_stream_name(const struct windower *w, uint32_t s)
{
	return sv_make(name_of(&w->streams[s]), w->streams[s].len);
}

uint32_t windower_stream_count(const struct windower *w) { return w->n_streams; }

/* --- adding events ---------------------------------------------------- */

int64_t windower_admit(const struct windower *w, int64_t t, int64_t lane_watermark)
{
	int64_t p = floor_div(t, w->cfg.slide_us);
	int64_t first = p - w->n + 1;
	if (first <= w->closed_k)
		first = w->closed_k + 1;
	if (lane_watermark != TIME_NEG_INF) {
		/* Window k ends at (k + n)·S; it is beyond the watermark when
		 * k >= floor(watermark / S) - n + 1. */
		int64_t lane_first = floor_div(lane_watermark, w->cfg.slide_us) - w->n + 1;
		if (lane_first > first)
			first = lane_first;
	}
	return first > p ? WINDOW_LATE : first;
}

/* --- the streams due for a close: a min-heap by first pane ------------- */

static bool due_before(const struct due *a, const struct due *b)
{
	return a->first_pane < b->first_pane ||
	       (a->first_pane == b->first_pane && a->stream < b->stream);
}

static void due_place(struct windower *w, uint32_t pos, struct due d)
{
	w->due[pos] = d;
	w->streams[d.stream].due_pos = pos;
}

static void due_up(struct windower *w, uint32_t pos)
{
	struct due d = w->due[pos];
	while (pos > 0 && due_before(&d, &w->due[(pos - 1) / 2])) {
		due_place(w, pos, w->due[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	due_place(w, pos, d);
}

static void due_down(struct windower *w, uint32_t pos)
{
	struct due d = w->due[pos];
	for (;;) {
		uint32_t c = 2 * pos + 1;
		if (c >= w->n_due)
			break;
		if (c + 1 < w->n_due && due_before(&w->due[c + 1], &w->due[c]))
			c++;
		if (!due_before(&w->due[c], &d))
			break;
		due_place(w, pos, w->due[c]);
		pos = c;
	}
	due_place(w, pos, d);
}

/* A stream got a new first pane (it only ever moves earlier while the
 * stream is in the heap): into the heap, or up in it. */
static void due_update(struct windower *w, uint32_t s)
{
	struct stream *st = &w->streams[s];
	if (st->due_pos == UINT32_MAX) {
		w->due = grow_array(w->due, sizeof(*w->due), &w->cap_due, (size_t)w->n_due + 1);
		st->due_pos = w->n_due++;
	}
	w->due[st->due_pos] = (struct due){st->panes[0]->index, s};
	due_up(w, st->due_pos);
}

static uint32_t due_pop(struct windower *w)
{
	uint32_t s = w->due[0].stream;
	w->streams[s].due_pos = UINT32_MAX;
	if (--w->n_due) {
		due_place(w, 0, w->due[w->n_due]);
		due_down(w, 0);
	}
	return s;
}

static struct pane *find_or_add_pane(struct windower *w, struct stream *s, int64_t index)
{
	size_t lo = 0, hi = s->n_panes;
	/* Events mostly land in the newest pane: look there first. */
	if (hi && s->panes[hi - 1]->index == index)
		return s->panes[hi - 1];
	if (hi && s->panes[hi - 1]->index < index) {
		lo = hi;
	} else {
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (s->panes[mid]->index < index)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < s->n_panes && s->panes[lo]->index == index)
			return s->panes[lo];
	}
	size_t cap = s->cap_panes;
	s->panes = grow_array(s->panes, sizeof(*s->panes), &cap, (size_t)s->n_panes + 1);
	s->cap_panes = (uint32_t)cap; /* a stream's open panes: far below 2^32 */
	memmove(&s->panes[lo + 1], &s->panes[lo], (s->n_panes - lo) * sizeof(*s->panes));
	struct pane *p = xcalloc(1, sizeof(*p));
	p->index = index;
	s->panes[lo] = p;
	s->n_panes++;
	w->open_panes++;
	if (lo == 0)
		due_update(w, (uint32_t)(s - w->streams));
	return p;
}

/* The aggregate an event of pane p counting from window first_k goes to. */
static struct agg *target_agg(struct windower *w, uint32_t stream, int64_t t, int64_t first_k)
{
	int64_t index = floor_div(t, w->cfg.slide_us);
	struct pane *p = find_or_add_pane(w, &w->streams[stream], index);
	int64_t full = index - w->n + 1;
	if (full <= w->closed_k)
		full = w->closed_k + 1;
	if (first_k <= full)
		return &p->main;
	for (size_t i = 0; i < p->n_slices; i++)
		if (p->slices[i].first_k == first_k)
			return &p->slices[i].agg;
	p->slices = xrealloc(p->slices, (p->n_slices + 1) * sizeof(*p->slices));
	p->slices[p->n_slices] = (struct slice){.first_k = first_k};
	return &p->slices[p->n_slices++].agg;
}

void windower_add_chat(struct windower *w, uint32_t stream, int64_t t, int64_t first_k,
                       const struct chat_contribution *c)
{
	windower_add_chat_hashed(w, stream, t, first_k, c, hash_bytes(c->chatter.ptr, c->chatter.len));
}

void windower_add_chat_hashed(struct windower *w, uint32_t stream, int64_t t, int64_t first_k,
                              const struct chat_contribution *c, uint64_t chatter_hash)
{
	struct agg *a = target_agg(w, stream, t, first_k);
	a->chat_count++;
	a->score_sum += c->score;
	a->positive_count += c->score > 0;
	a->negative_count += c->score < 0;
	uint32_t id = interner_intern_hashed(w->chatters, c->chatter.ptr, c->chatter.len, chatter_hash);
	if (idset_add(&a->chatters, id))
		interner_retain(w->chatters, id);
	if (c->n_emotes)
		(void)idset_add(&a->emoters, id);
	for (size_t i = 0; i < c->n_emotes; i++) {
		id = interner_intern(w->emotes, c->emotes[i].ptr, c->emotes[i].len);
		if (idcount_add(&a->emotes, id, 1))
			interner_retain(w->emotes, id);
	}
}

void windower_add_viewer(struct windower *w, uint32_t stream, int64_t t, int64_t first_k,
                         int64_t viewer_count)
{
	struct agg *a = target_agg(w, stream, t, first_k);
	a->viewer_sum += (uint64_t)viewer_count; /* >= 0: the decoder rejects negatives */
	a->viewer_events++;
}

/* --- closing windows --------------------------------------------------- */

static void combine_agg(struct windower *w, const struct agg *a, struct window_row *row,
                        size_t *n_touched)
{
	row->chat_count += a->chat_count;
	row->positive_count += a->positive_count;
	row->negative_count += a->negative_count;
	row->score_sum += a->score_sum;
	row->viewer_events += a->viewer_events;
	for (uint32_t i = 0; i < a->chatters.n; i++) {
		uint32_t id = a->chatters.ids[i];
		if (w->chatter_stamp[id] != w->stamp) {
			w->chatter_stamp[id] = w->stamp;
			row->unique_chatters++;
		}
	}
	for (uint32_t i = 0; i < a->emotes.keys.n; i++) {
		uint32_t id = a->emotes.keys.ids[i];
		if (w->emote_stamp[id] != w->stamp) {
			w->emote_stamp[id] = w->stamp;
			w->emote_total[id] = 0;
			w->touched = grow_array(w->touched, sizeof(*w->touched), &w->touched_cap,
			                        *n_touched + 1);
			w->touched[(*n_touched)++] = id;
		}
		w->emote_total[id] += a->emotes.counts[i];
	}
}

static int rank_cmp(const void *pa, const void *pb)
{
	const struct emote_rank *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return sv_cmp(a->name, b->name);
}

static void ensure_scratch(struct windower *w)
{
	size_t need = interner_id_limit(w->chatters);
	if (need > w->chatter_stamp_cap) {
		size_t old = w->chatter_stamp_cap;
		w->chatter_stamp = grow_array(w->chatter_stamp, sizeof(*w->chatter_stamp),
		                              &w->chatter_stamp_cap, need);
		memset(w->chatter_stamp + old, 0, (w->chatter_stamp_cap - old) * sizeof(uint64_t));
	}
	need = interner_id_limit(w->emotes);
	if (need > w->emote_cap) {
		size_t old = w->emote_cap, cap = w->emote_cap;
		w->emote_stamp = grow_array(w->emote_stamp, sizeof(*w->emote_stamp), &cap, need);
		w->emote_total = xrealloc(w->emote_total, cap * sizeof(*w->emote_total));
		memset(w->emote_stamp + old, 0, (cap - old) * sizeof(uint64_t));
		w->emote_cap = cap;
	}
}

/* --- when a chatter last wrote on a stream ------------------------------ */

/* The key of (stream, chatter), never 0 (the empty slot's). */
static uint64_t seen_key(uint64_t sh, uint64_t ch)
{
	uint64_t key = sh ^ (ch * 0x9E3779B97F4A7C15u);
	return key ? key : 1;
}

static bool seen_empty(const struct seen *e) { return !e->key; }

static struct seen *seen_slot(struct seen *tab, size_t mask, uint64_t key)
{
	size_t i = (size_t)(key >> 7) & mask;
	while (!seen_empty(&tab[i]) && tab[i].key != key)
		i = (i + 1) & mask;
	return &tab[i];
}

/* The first pane any window still to close may look back to: windows
 * after closed_k have a newest pane >= closed_k + n, and look back
 * fresh_panes from it. */
static int64_t seen_horizon(const struct windower *w)
{
	if (w->closed_k == WINDOW_NONE_CLOSED || w->closed_k >= INT64_MAX / 2)
		return INT64_MIN;
	return w->closed_k + w->n - w->fresh_panes;
}

/* Rebuild the table into `mask + 1` slots, without the entries older than
 * the horizon. */
static void seen_rebuild(struct windower *w, size_t mask)
{
	struct seen *old = w->seen, *tab = xcalloc(mask + 1, sizeof(*tab));
	int64_t horizon = seen_horizon(w);
	size_t n = 0;
	for (size_t i = 0; old && i <= w->seen_mask; i++) {
		if (seen_empty(&old[i]) || old[i].last_pane < horizon)
			continue;
		*seen_slot(tab, mask, old[i].key) = old[i];
		n++;
	}
	free(old);
	w->seen = tab;
	w->seen_mask = mask;
	w->seen_n = n;
}

/* Room for one more entry, at most three quarters full: stale entries go
 * first, and the table doubles only if the live ones fill half of it (so a
 * sweep frees at least a quarter: amortized O(1) an entry). */
static void seen_reserve(struct windower *w)
{
	if (!w->seen) {
		seen_rebuild(w, 15);
		return;
	}
	if ((w->seen_n + 1) * 4 <= (w->seen_mask + 1) * 3)
		return;
	seen_rebuild(w, w->seen_mask); /* a sweep */
	if ((w->seen_n + 1) * 2 > w->seen_mask + 1) /* still over half full: grow */
		seen_rebuild(w, w->seen_mask * 2 + 1);
}

static void seen_note_key(struct windower *w, uint64_t key, int64_t pane)
{
	seen_reserve(w);
	struct seen *e = seen_slot(w->seen, w->seen_mask, key);
	if (seen_empty(e)) {
		*e = (struct seen){key, pane};
		w->seen_n++;
	} else if (pane > e->last_pane) {
		e->last_pane = pane;
	}
}

/* Whether the chatter wrote nothing on the stream that a window counted in
 * the fresh_panes panes before `pane`. */
static bool seen_fresh(const struct windower *w, uint64_t sh, uint64_t ch, int64_t pane)
{
	if (!w->seen)
		return true;
	const struct seen *e = seen_slot(w->seen, w->seen_mask, seen_key(sh, ch));
	return seen_empty(e) || e->last_pane < pane - w->fresh_panes;
}

static uint64_t chatter_hash(const struct windower *w, uint32_t id)
{
	return interner_hash(w->chatters, id); /* hash_bytes of the name, kept */
}

/* The newest pane's emote chatters who are fresh (counted in
 * row->pane_emote_chatters already, with the current stamp: each once),
 * then every chatter of the pane noted as seen in it. */
static void pane_fresh(struct windower *w, const struct pane *p, int64_t k, uint64_t sh,
                       struct window_row *row)
{
	w->stamp++;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j <= p->n_slices; j++) {
			const struct agg *a = j == 0 ? &p->main : &p->slices[j - 1].agg;
			if (j > 0 && p->slices[j - 1].first_k > k)
				continue;
			const struct idset *ids = pass == 0 ? &a->emoters : &a->chatters;
			for (uint32_t i = 0; i < ids->n; i++) {
				uint32_t id = ids->ids[i];
				if (pass == 0) {
					if (w->chatter_stamp[id] == w->stamp)
						continue;
					w->chatter_stamp[id] = w->stamp;
					row->pane_fresh_emote_chatters +=
						seen_fresh(w, sh, chatter_hash(w, id), p->index);
				} else {
					seen_note_key(w, seen_key(sh, chatter_hash(w, id)), p->index);
				}
			}
		}
	}
}

/* Add one aggregate of the newest pane to the row's pane counts. */
static void pane_part(struct windower *w, const struct agg *a, struct window_row *row)
{
	row->pane_chat_count += a->chat_count;
	for (uint32_t i = 0; i < a->chatters.n; i++) {
		uint32_t id = a->chatters.ids[i];
		if (w->chatter_stamp[id] != w->stamp) {
			w->chatter_stamp[id] = w->stamp;
			row->pane_chatters++;
		}
	}
}

/* The same for the chatters with an emote: a second pass, with its own
 * stamp, after pane_part() has seen every aggregate of the pane. */
static void pane_emoters(struct windower *w, const struct agg *a, struct window_row *row)
{
	for (uint32_t i = 0; i < a->emoters.n; i++) {
		uint32_t id = a->emoters.ids[i];
		if (w->chatter_stamp[id] != w->stamp) {
			w->chatter_stamp[id] = w->stamp;
			row->pane_emote_chatters++;
		}
	}
}

/* Combine window k of stream s from its panes first..(index <= k+n-1). */
static void combine_window(struct windower *w, uint32_t s, size_t first, int64_t k,
                           struct window_row *row)
{
	const struct stream *st = &w->streams[s];
	viewer_sum_t viewer_sum = 0;
	size_t n_touched = 0;

	memset(row, 0, sizeof(*row));
	w->stamp++;
	for (size_t i = first; i < st->n_panes && st->panes[i]->index <= k + w->n - 1; i++) {
		const struct pane *p = st->panes[i];
		combine_agg(w, &p->main, row, &n_touched);
		viewer_sum += p->main.viewer_sum;
		for (size_t j = 0; j < p->n_slices; j++) {
			if (p->slices[j].first_k <= k) {
				combine_agg(w, &p->slices[j].agg, row, &n_touched);
				viewer_sum += p->slices[j].agg.viewer_sum;
			}
		}
	}

	/* The newest pane, k + n - 1, as this window counts it: its main
	 * aggregate and the slices that count from k on.  (Its slices all start
	 * after k, the pane's first window, so in practice only main; the loop
	 * keeps the definition exact whatever slicing does.)  Chatters of
	 * several aggregates are counted once, with a fresh stamp. */
	if (first < st->n_panes) {
		size_t last = first;
		while (last + 1 < st->n_panes && st->panes[last + 1]->index <= k + w->n - 1)
			last++;
		const struct pane *p = st->panes[last];
		if (p->index == k + w->n - 1) {
			w->stamp++;
			pane_part(w, &p->main, row);
			for (size_t j = 0; j < p->n_slices; j++)
				if (p->slices[j].first_k <= k)
					pane_part(w, &p->slices[j].agg, row);
			w->stamp++;
			pane_emoters(w, &p->main, row);
			for (size_t j = 0; j < p->n_slices; j++)
				if (p->slices[j].first_k <= k)
					pane_emoters(w, &p->slices[j].agg, row);
			if (w->fresh_panes)
				pane_fresh(w, p, k, stream_hash(st), row);
		}
	}

	row->stream = s;
	row->stream_id = windower_stream_name(w, s);
	row->k = k;
	row->start_us = k * w->cfg.slide_us;
	row->end_us = row->start_us + w->cfg.size_us;
	row->chat_rate = (double)row->chat_count / ((double)w->cfg.size_us / (double)USEC_PER_SEC);
	row->has_sentiment = row->chat_count > 0;
	row->avg_sentiment = row->has_sentiment
		? (double)row->score_sum / ((double)SCORE_SCALE * (double)row->chat_count) : 0.0;
	row->has_viewers = row->viewer_events > 0;
	row->avg_viewers = row->has_viewers ? avg_viewers(viewer_sum, row->viewer_events) : 0.0;

	/* Top K by insertion into a sorted array of K: most candidates lose to
	 * the current K-th at once, so this beats sorting all of them. */
	size_t k_max = w->cfg.top_k, n_top = 0;
	size_t want = (n_touched < k_max ? n_touched : k_max) + 1;
	if (n_touched && want > w->ranks_cap) { /* ranks, top and top_counts: ranks_cap each */
		size_t cap = w->ranks_cap;
		w->ranks = grow_array(w->ranks, sizeof(*w->ranks), &cap, want);
		w->top = xrealloc(w->top, cap * sizeof(*w->top));
		w->top_counts = xrealloc(w->top_counts, cap * sizeof(*w->top_counts));
		w->ranks_cap = cap;
	}
	for (size_t i = 0; i < n_touched && k_max; i++) {
		struct emote_rank cand = {w->emote_total[w->touched[i]],
		                          interner_str(w->emotes, w->touched[i])};
		if (n_top == k_max && rank_cmp(&cand, &w->ranks[n_top - 1]) >= 0)
			continue;
		size_t j = n_top < k_max ? n_top++ : n_top - 1;
		while (j > 0 && rank_cmp(&cand, &w->ranks[j - 1]) < 0) {
			w->ranks[j] = w->ranks[j - 1];
			j--;
		}
		w->ranks[j] = cand;
	}
	for (size_t i = 0; i < n_top; i++) {
		w->top[i] = w->ranks[i].name;
		w->top_counts[i] = w->ranks[i].count;
	}
	row->top_emotes = w->top;
	row->top_emote_counts = w->top_counts;
	row->n_top_emotes = n_top;
}

static int close_stream(struct windower *w, uint32_t s, int64_t k_last, window_emit_fn emit,
                        void *ctx)
{
	struct stream *st = &w->streams[s];
	if (!st->n_panes)
		return 0;
	int64_t k = w->closed_k + 1;
	if (k < st->panes[0]->index - w->n + 1)
		k = st->panes[0]->index - w->n + 1;
	size_t i = 0;
	while (k <= k_last) {
		while (i < st->n_panes && st->panes[i]->index < k)
			i++;
		if (i == st->n_panes)
			break;
		if (st->panes[i]->index > k + w->n - 1) {
			k = st->panes[i]->index - w->n + 1; /* skip windows with no pane */
			continue;
		}
		struct window_row row;
		combine_window(w, s, i, k, &row);
		if (row.chat_count + row.viewer_events > 0) {
			int rc = emit(ctx, &row);
			if (rc)
				return rc;
		}
		k++;
	}

	/* Pane p is last used by window p: every pane <= k_last is done. */
	size_t drop = 0;
	while (drop < st->n_panes && st->panes[drop]->index <= k_last)
		pane_free(w, st->panes[drop++]);
	memmove(st->panes, st->panes + drop, (st->n_panes - drop) * sizeof(*st->panes));
	st->n_panes -= drop;
	if (!st->n_panes) { /* most streams of a large set are quiet most of the time */
		free(st->panes);
		st->panes = NULL;
		st->cap_panes = 0;
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int windower_close(struct windower *w, int64_t watermark, window_emit_fn emit, void *ctx)
{
	if (watermark == TIME_NEG_INF)
		return 0;
	int64_t k_last = watermark == TIME_POS_INF
		? INT64_MAX / 2
		: floor_div(watermark, w->cfg.slide_us) - w->n;
	if (k_last <= w->closed_k)
		return 0;
	ensure_scratch(w);
	/* The streams whose first pane is in a window <= k_last, visited in
	 * stream order, as a scan of every stream would visit them, so that
	 * rows come out in the same order. */
	size_t n = 0;
	while (w->n_due && w->due[0].first_pane - w->n + 1 <= k_last) {
		w->closing = grow_array(w->closing, sizeof(*w->closing), &w->cap_closing, n + 1);
		w->closing[n++] = due_pop(w);
	}
	if (n > 1)
		qsort(w->closing, n, sizeof(*w->closing), cmp_u32);
	int rc = 0;
	uint32_t emptied = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t s = w->closing[i];
		if (!rc)
			rc = close_stream(w, s, k_last, emit, ctx);
		if (w->streams[s].n_panes)
			due_update(w, s); /* after a stop too: the heap stays whole */
		else
			w->closing[emptied++] = s; /* i >= emptied: nothing unvisited is overwritten */
	}
	w->n_emptied = emptied;
	if (rc)
		return rc;
	w->closed_k = k_last;
	return 0;
}

size_t windower_emptied(const struct windower *w, const uint32_t **streams)
{
	*streams = w->closing;
	return w->n_emptied;
}

/* --- releasing streams ------------------------------------------------------ */

void windower_hold(struct windower *w, uint32_t s, int64_t release_k)
{
	struct stream *st = &w->streams[s];
	st->release_k = release_k;
	if (st->held)
		return; /* its entry comes out first and is pushed again with this k */
	st->held = true;
	keyheap_push(&w->release, release_k, s);
}

uint32_t windower_due_release(struct windower *w)
{
	struct keyheap_entry e;
	while (keyheap_peek(&w->release, &e) && e.key <= w->closed_k) {
		keyheap_pop(&w->release, &e);
		struct stream *st = &w->streams[e.value];
		st->held = false;
		if (st->n_panes)
			continue; /* events came: it is asked again when its panes empty */
		if (st->release_k > w->closed_k) {
			windower_hold(w, e.value, st->release_k); /* held longer since it was pushed */
			continue;
		}
		return e.value;
	}
	return UINT32_MAX;
}

bool windower_release(struct windower *w, uint32_t s)
{
	struct stream *st = &w->streams[s];
	if (!st->live || st->n_panes || st->held)
		return false;
	stream_release(w, s);
	return true;
}

int64_t windower_next_close(const struct windower *w)
{
	if (w->closed_k == WINDOW_NONE_CLOSED)
		return TIME_NEG_INF + 1; /* any real watermark may close something */
	if (w->closed_k >= INT64_MAX / 2)
		return TIME_POS_INF;
	return (w->closed_k + 1 + w->n) * w->cfg.slide_us;
}

int64_t windower_closed_k(const struct windower *w) { return w->closed_k; }
size_t windower_open_panes(const struct windower *w) { return w->open_panes; }
uint32_t windower_live_chatters(const struct windower *w) { return interner_count(w->chatters); }

/* --- state --------------------------------------------------------------- */

/* State is written as text directly: building it as a jansson tree
 * allocated a node per chatter of every open pane at every commit, which
 * measured as nearly half of the live daemon's CPU.  It is read back
 * through core/state.h (windower_load). */
static void agg_save(const struct windower *w, const struct agg *a, struct buf *out)
{
	buf_printf(out,
	           "{\"chat\":%" PRId64 ",\"positive\":%" PRId64 ",\"negative\":%" PRId64
	           ",\"score\":%" PRId64 ",\"viewer_sum\":%" PRId64 ",\"viewer_events\":%" PRId64,
	           a->chat_count, a->positive_count, a->negative_count, a->score_sum,
	           (int64_t)(uint64_t)a->viewer_sum, a->viewer_events);
	/* The bits above the low 64 only when there are any, so that states
	 * saved before the sum grew to 128 bits read the same. */
	if (a->viewer_sum >> 64)
		buf_printf(out, ",\"viewer_sum_hi\":%" PRIu64, (uint64_t)(a->viewer_sum >> 64));
	buf_adds(out, ",\"chatters\":[");
	for (uint32_t i = 0; i < a->chatters.n; i++) {
		struct strview s = interner_str(w->chatters, a->chatters.ids[i]);
		if (i)
			buf_addc(out, ',');
		buf_add_json_string(out, s.ptr, s.len);
	}
	buf_addc(out, ']');
	/* Only when there are any: states saved before the key existed, and
	 * those without emotes, read and write the same. */
	if (a->emoters.n) {
		buf_adds(out, ",\"emoters\":[");
		for (uint32_t i = 0; i < a->emoters.n; i++) {
			struct strview s = interner_str(w->chatters, a->emoters.ids[i]);
			if (i)
				buf_addc(out, ',');
			buf_add_json_string(out, s.ptr, s.len);
		}
		buf_addc(out, ']');
	}
	buf_adds(out, ",\"emotes\":[");
	for (uint32_t i = 0; i < a->emotes.keys.n; i++) {
		struct strview s = interner_str(w->emotes, a->emotes.keys.ids[i]);
		buf_adds(out, i ? ",[" : "[");
		buf_add_json_string(out, s.ptr, s.len);
		buf_printf(out, ",%" PRIu32 "]", a->emotes.counts[i]);
	}
	buf_adds(out, "]}");
}

void windower_save(const struct windower *w, struct buf *out)
{
	if (w->closed_k == WINDOW_NONE_CLOSED)
		buf_adds(out, "{\"closed_k\":null,\"streams\":[");
	else
		buf_printf(out, "{\"closed_k\":%" PRId64 ",\"streams\":[", w->closed_k);
	bool first_stream = true;
	for (uint32_t s = 0; s < w->n_streams; s++) {
		const struct stream *st = &w->streams[s];
		if (!st->n_panes)
			continue;
		buf_adds(out, first_stream ? "{\"id\":" : ",{\"id\":");
		first_stream = false;
		buf_add_json_string(out, name_of(st), st->len);
		buf_adds(out, ",\"panes\":[");
		for (size_t i = 0; i < st->n_panes; i++) {
			const struct pane *p = st->panes[i];
			buf_printf(out, "%s{\"index\":%" PRId64 ",\"main\":", i ? "," : "", p->index);
			agg_save(w, &p->main, out);
			buf_adds(out, ",\"slices\":[");
			for (size_t j = 0; j < p->n_slices; j++) {
				buf_printf(out, "%s{\"first_k\":%" PRId64 ",\"agg\":", j ? "," : "",
				           p->slices[j].first_k);
				agg_save(w, &p->slices[j].agg, out);
				buf_addc(out, '}');
			}
			buf_adds(out, "]}");
		}
		buf_adds(out, "]}");
	}
	buf_addc(out, ']');
	/* when chatters last wrote (only with fresh_us, only what a window
	 * still to close can look back to); the keys as signed 64-bit
	 * integers, the state's integers */
	if (w->seen_n) {
		int64_t horizon = seen_horizon(w);
		bool first = true;
		buf_adds(out, ",\"seen\":[");
		for (size_t i = 0; i <= w->seen_mask; i++) {
			const struct seen *e = &w->seen[i];
			if (seen_empty(e) || e->last_pane < horizon)
				continue;
			buf_printf(out, "%s[%" PRId64 ",%" PRId64 "]", first ? "" : ",", (int64_t)e->key,
			           e->last_pane);
			first = false;
		}
		buf_addc(out, ']');
	}
	buf_addc(out, '}');
}

static bool agg_load(struct windower *w, struct agg *a, const struct state *j, struct error *err)
{
	state_int chat, pos, neg, score, vsum, vsum_hi = 0, vn;
	struct state *chatters, *emotes, *emoters = NULL;
	struct state_error jerr;
	if (state_unpack(j, &jerr, "{sIsIsIsIsIs?IsIsos?oso}", "chat", &chat,
	                 "positive", &pos, "negative", &neg, "score", &score, "viewer_sum", &vsum,
	                 "viewer_sum_hi", &vsum_hi, "viewer_events", &vn, "chatters", &chatters,
	                 "emoters", &emoters, "emotes", &emotes) ||
	    !state_is_array(chatters) || !state_is_array(emotes) ||
	    (emoters && !state_is_array(emoters)) || vsum_hi < 0) {
		error_set(err, "bad pane in saved state: %s", jerr.text);
		return false;
	}
	*a = (struct agg){.chat_count = chat, .positive_count = pos, .negative_count = neg,
	                  .score_sum = score, .viewer_events = vn};
	a->viewer_sum = (viewer_sum_t)(uint64_t)vsum_hi << 64 | (uint64_t)vsum;
	size_t i;
	struct state *v;
	state_array_foreach(chatters, i, v) {
		if (!state_is_string(v)) {
			error_set(err, "bad chatter in saved state");
			return false;
		}
		uint32_t id =
			interner_intern(w->chatters, state_string_value(v), state_string_length(v));
		if (idset_add(&a->chatters, id))
			interner_retain(w->chatters, id);
	}
	state_array_foreach(emoters, i, v) { /* no-op on NULL */
		if (!state_is_string(v)) {
			error_set(err, "bad chatter in saved state");
			return false;
		}
		/* one of the chatters (added if the state left it out, so that
		 * the subset, and the retain it relies on, hold) */
		uint32_t id = interner_intern(w->chatters, state_string_value(v), state_string_length(v));
		if (idset_add(&a->chatters, id))
			interner_retain(w->chatters, id);
		(void)idset_add(&a->emoters, id);
	}
	state_array_foreach(emotes, i, v) {
		const char *name;
		size_t len;
		state_int count;
		if (state_unpack(v, &jerr, "[s%I]", &name, &len, &count)) {
			error_set(err, "bad emote in saved state: %s", jerr.text);
			return false;
		}
		uint32_t id = interner_intern(w->emotes, name, len);
		if (idcount_add(&a->emotes, id, (uint32_t)count))
			interner_retain(w->emotes, id);
	}
	return true;
}

bool windower_load(struct windower *w, const struct state *state, struct error *err)
{
	struct state *closed, *streams, *seen = NULL;
	struct state_error jerr;
	if (state_unpack(state, &jerr, "{sosos?o}", "closed_k", &closed, "streams", &streams,
	                 "seen", &seen) ||
	    !state_is_array(streams) || !(state_is_null(closed) || state_is_integer(closed)) ||
	    (seen && !state_is_array(seen))) {
		error_set(err, "bad window state: %s", jerr.text);
		return false;
	}
	w->closed_k = state_is_null(closed) ? WINDOW_NONE_CLOSED : state_integer_value(closed);
	size_t i, j, k;
	struct state *sj, *pj, *cj;
	state_array_foreach(streams, i, sj) {
		const char *id;
		size_t id_len;
		struct state *panes;
		if (state_unpack(sj, &jerr, "{ss%so}", "id", &id, &id_len, "panes",
		                 &panes) || !state_is_array(panes)) {
			error_set(err, "bad stream in saved state: %s", jerr.text);
			return false;
		}
		uint32_t s = windower_stream(w, sv_make(id, id_len));
		state_array_foreach(panes, j, pj) {
			state_int index;
			struct state *main_agg, *slices;
			if (state_unpack(pj, &jerr, "{sIsoso}", "index", &index, "main",
			                 &main_agg, "slices", &slices) || !state_is_array(slices)) {
				error_set(err, "bad pane in saved state: %s", jerr.text);
				return false;
			}
			size_t had = w->streams[s].n_panes;
			struct pane *p = find_or_add_pane(w, &w->streams[s], index);
			if (w->streams[s].n_panes == had) { /* its aggregate would leak */
				error_set(err, "bad window state: pane %" PRId64 " of stream %s saved twice",
				          (int64_t)index, name_of(&w->streams[s]));
				return false;
			}
			if (!agg_load(w, &p->main, main_agg, err))
				return false;
			state_array_foreach(slices, k, cj) {
				state_int first_k;
				struct state *agg;
				if (state_unpack(cj, &jerr, "{sIso}", "first_k", &first_k, "agg",
				                 &agg)) {
					error_set(err, "bad pane slice in saved state: %s", jerr.text);
					return false;
				}
				p->slices = xrealloc(p->slices, (p->n_slices + 1) * sizeof(*p->slices));
				/* zeroed: a slice that fails to load is still freed with the pane */
				p->slices[p->n_slices] = (struct slice){.first_k = first_k};
				if (!agg_load(w, &p->slices[p->n_slices++].agg, agg, err))
					return false;
			}
		}
	}
	struct state *ej;
	state_array_foreach(seen, i, ej) { /* no-op on NULL: a state from before */
		state_int key, last;
		if (state_unpack(ej, &jerr, "[II]", &key, &last)) {
			error_set(err, "bad seen chatter in saved state: %s", jerr.text);
			return false;
		}
		if (key == 0) {
			error_set(err, "bad seen chatter in saved state: key 0 (the empty slot's)");
			return false;
		}
		if (w->fresh_panes)
			seen_note_key(w, (uint64_t)key, last);
	}
	return true;
}
