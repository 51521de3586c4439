/*
 * watermark.c — lanes and the global watermark (core/watermark.h,
 * SPEC §4): a hash table of lanes by (topic, partition), each lane's
 * watermark, and the minimum over the open lanes that windows close
 * against.
 */
#include "config.h"

#include "core/watermark.h"

#include <stdlib.h>
#include <string.h>

void watermarks_init(struct watermarks *wm, int64_t delay_us)
{
	memset(wm, 0, sizeof(*wm));
	wm->delay_us = delay_us;
	wm->global = TIME_NEG_INF;
	wm->max_open = TIME_NEG_INF;
}

void watermarks_free(struct watermarks *wm)
{
	for (uint32_t i = 0; i < wm->n_lanes; i++)
		free(wm->lanes[i].topic);
	free(wm->lanes);
	free(wm->table);
	free(wm->active);
	memset(wm, 0, sizeof(*wm));
}

/* --- lookup ------------------------------------------------------------- */

static uint64_t lane_hash(struct strview topic, int32_t partition)
{
	return hash_bytes(topic.ptr, topic.len) ^ ((uint64_t)(uint32_t)partition * 0x9E3779B97F4A7C15u);
}

static uint32_t *slot_of(const struct watermarks *wm, struct strview topic, int32_t partition,
                         uint64_t h)
{
	for (uint32_t i = (uint32_t)h & wm->table_mask;; i = (i + 1) & wm->table_mask) {
		uint32_t v = wm->table[i];
		if (!v)
			return &wm->table[i];
		const struct lane *l = &wm->lanes[v - 1];
		if (l->hash == h && l->partition == partition && l->topic_len == topic.len &&
		    memcmp(l->topic, topic.ptr, topic.len) == 0)
			return &wm->table[i];
	}
}

uint32_t watermarks_find_lane(const struct watermarks *wm, struct strview topic, int32_t partition)
{
	if (!wm->table)
		return LANE_NONE;
	uint32_t v = *slot_of(wm, topic, partition, lane_hash(topic, partition));
	return v ? v - 1 : LANE_NONE;
}

static void rehash(struct watermarks *wm)
{
	free(wm->table);
	wm->table_mask = wm->table_mask ? wm->table_mask * 2 + 1 : 3; /* a group has a lane or two */
	wm->table = xcalloc((size_t)wm->table_mask + 1, sizeof(*wm->table));
	for (uint32_t s = 0; s < wm->n_lanes; s++) {
		uint32_t i = (uint32_t)wm->lanes[s].hash & wm->table_mask;
		while (wm->table[i])
			i = (i + 1) & wm->table_mask;
		wm->table[i] = s + 1;
	}
}

uint32_t watermarks_lane(struct watermarks *wm, struct strview topic, int32_t partition)
{
	uint32_t i = watermarks_find_lane(wm, topic, partition);
	if (i != LANE_NONE)
		return i;
	if (!wm->cap_lanes) { /* room for chat and viewer lanes: most groups have no more */
		wm->lanes = xmalloc(2 * sizeof(*wm->lanes));
		wm->cap_lanes = 2;
	}
	wm->lanes = grow_array(wm->lanes, sizeof(*wm->lanes), &wm->cap_lanes, (size_t)wm->n_lanes + 1);
	uint64_t h = lane_hash(topic, partition);
	wm->lanes[wm->n_lanes] = (struct lane){
		.topic = xstrndup(topic.ptr, topic.len),
		.topic_len = topic.len,
		.partition = partition,
		.max_time = TIME_NEG_INF,
		.hash = h,
		.heap_pos = LANE_NONE,
	};
	i = wm->n_lanes++;
	if ((uint64_t)wm->n_lanes * 2 > wm->table_mask)
		rehash(wm);
	else
		*slot_of(wm, topic, partition, h) = i + 1;
	return i;
}

int64_t watermarks_lane_value(const struct watermarks *wm, uint32_t lane)
{
	int64_t m = wm->lanes[lane].max_time;
	return m == TIME_NEG_INF ? TIME_NEG_INF : m - wm->delay_us;
}

/* --- the heap of active lanes ------------------------------------------ */

static int64_t key(const struct watermarks *wm, uint32_t pos)
{
	return wm->lanes[wm->active[pos]].max_time;
}

static void place(struct watermarks *wm, uint32_t pos, uint32_t lane)
{
	wm->active[pos] = lane;
	wm->lanes[lane].heap_pos = pos;
}

static void sift_up(struct watermarks *wm, uint32_t pos)
{
	uint32_t lane = wm->active[pos];
	int64_t k = wm->lanes[lane].max_time;
	while (pos > 0 && key(wm, (pos - 1) / 2) > k) {
		place(wm, pos, wm->active[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	place(wm, pos, lane);
}

static void sift_down(struct watermarks *wm, uint32_t pos)
{
	uint32_t lane = wm->active[pos];
	int64_t k = wm->lanes[lane].max_time;
	for (;;) {
		uint32_t c = 2 * pos + 1;
		if (c >= wm->n_active)
			break;
		if (c + 1 < wm->n_active && key(wm, c + 1) < key(wm, c))
			c++;
		if (key(wm, c) >= k)
			break;
		place(wm, pos, wm->active[c]);
		pos = c;
	}
	place(wm, pos, lane);
}

static void activate(struct watermarks *wm, uint32_t lane)
{
	if (wm->lanes[lane].heap_pos != LANE_NONE)
		return;
	wm->active = grow_array(wm->active, sizeof(*wm->active), &wm->cap_active,
	                        (size_t)wm->n_active + 1);
	place(wm, wm->n_active++, lane);
	sift_up(wm, wm->n_active - 1);
}

static void deactivate(struct watermarks *wm, uint32_t lane)
{
	uint32_t pos = wm->lanes[lane].heap_pos;
	if (pos == LANE_NONE)
		return;
	wm->lanes[lane].heap_pos = LANE_NONE;
	uint32_t last = wm->active[--wm->n_active];
	if (pos == wm->n_active)
		return;
	place(wm, pos, last);
	sift_up(wm, pos);
	sift_down(wm, wm->lanes[last].heap_pos);
}

/* --- the global watermark ------------------------------------------------ */

/* The minimum over the open non-idle lanes; with none, the largest open
 * lane; and never backwards. */
static void update_global(struct watermarks *wm)
{
	int64_t m = wm->n_active ? wm->lanes[wm->active[0]].max_time : wm->max_open;
	int64_t candidate = m == TIME_NEG_INF ? TIME_NEG_INF : m - wm->delay_us;
	if (candidate > wm->global)
		wm->global = candidate;
}

/* max_open after the lane at hand stopped being open: a scan, but only
 * when that lane held the maximum (lanes close at rebalances). */
static void recompute_max_open(struct watermarks *wm)
{
	wm->max_open = TIME_NEG_INF;
	for (uint32_t i = 0; i < wm->n_lanes; i++)
		if (wm->lanes[i].open && wm->lanes[i].max_time > wm->max_open)
			wm->max_open = wm->lanes[i].max_time;
}

static void set_open(struct watermarks *wm, uint32_t lane, bool open, bool idle)
{
	struct lane *l = &wm->lanes[lane];
	bool was_open = l->open;
	wm->n_open += open - was_open;
	l->open = open;
	l->idle = open && idle;
	if (open && !idle)
		activate(wm, lane);
	else
		deactivate(wm, lane);
	if (open && l->max_time > wm->max_open)
		wm->max_open = l->max_time;
	else if (!open && was_open && l->max_time == wm->max_open)
		recompute_max_open(wm);
	update_global(wm);
}

void watermarks_open(struct watermarks *wm, uint32_t lane) { set_open(wm, lane, true, false); }

void watermarks_idle(struct watermarks *wm, uint32_t lane)
{
	if (!wm->lanes[lane].open)
		return;
	set_open(wm, lane, true, true);
}

void watermarks_close(struct watermarks *wm, uint32_t lane) { set_open(wm, lane, false, false); }

void watermarks_observe(struct watermarks *wm, uint32_t lane, int64_t t)
{
	struct lane *l = &wm->lanes[lane];
	if (t <= l->max_time)
		return; /* the lane's watermark did not move, nor can the global */
	l->max_time = t;
	if (l->heap_pos != LANE_NONE)
		sift_down(wm, l->heap_pos);
	if (l->open && t > wm->max_open)
		wm->max_open = t;
	update_global(wm);
}

void watermarks_raise(struct watermarks *wm, int64_t t)
{
	if (t > wm->global)
		wm->global = t;
}

void watermarks_restore(struct watermarks *wm, uint32_t lane, int64_t max_time, bool open,
                        bool idle)
{
	struct lane *l = &wm->lanes[lane];
	deactivate(wm, lane);
	l->max_time = max_time;
	/* As set_open, but the global watermark is the saved one: restoring a
	 * lane must not move it. */
	int64_t global = wm->global;
	set_open(wm, lane, open, idle);
	wm->global = global;
}
