#include "config.h"

#include "core/watermark.h"

#include <stdlib.h>
#include <string.h>

void watermarks_init(struct watermarks *wm, int64_t delay_us)
{
	memset(wm, 0, sizeof(*wm));
	wm->delay_us = delay_us;
	wm->global = TIME_NEG_INF;
}

void watermarks_free(struct watermarks *wm)
{
	for (uint32_t i = 0; i < wm->n_lanes; i++)
		free(wm->lanes[i].topic);
	free(wm->lanes);
	wm->lanes = NULL;
	wm->n_lanes = 0;
}

uint32_t watermarks_find_lane(const struct watermarks *wm, struct strview topic, int32_t partition)
{
	/* Lanes are few (topics x partitions), so a linear search is fine. */
	for (uint32_t i = 0; i < wm->n_lanes; i++)
		if (wm->lanes[i].partition == partition && sv_eq_cstr(topic, wm->lanes[i].topic))
			return i;
	return LANE_NONE;
}

uint32_t watermarks_lane(struct watermarks *wm, struct strview topic, int32_t partition)
{
	uint32_t i = watermarks_find_lane(wm, topic, partition);
	if (i != LANE_NONE)
		return i;
	wm->lanes = grow_array(wm->lanes, sizeof(*wm->lanes), &wm->cap_lanes, (size_t)wm->n_lanes + 1);
	wm->lanes[wm->n_lanes] = (struct lane){
		.topic = xstrndup(topic.ptr, topic.len),
		.partition = partition,
		.max_time = TIME_NEG_INF,
	};
	return wm->n_lanes++;
}

int64_t watermarks_lane_value(const struct watermarks *wm, uint32_t lane)
{
	int64_t m = wm->lanes[lane].max_time;
	return m == TIME_NEG_INF ? TIME_NEG_INF : m - wm->delay_us;
}

static void recompute(struct watermarks *wm)
{
	int64_t min_open = TIME_POS_INF, max_any = TIME_NEG_INF;
	bool any_open = false;
	for (uint32_t i = 0; i < wm->n_lanes; i++) {
		const struct lane *l = &wm->lanes[i];
		int64_t v = watermarks_lane_value(wm, i);
		if (l->open && !l->idle) {
			any_open = true;
			if (v < min_open)
				min_open = v;
		} else if (l->open && v > max_any) {
			max_any = v;
		}
	}
	int64_t candidate = any_open ? min_open : max_any;
	if (candidate > wm->global)
		wm->global = candidate;
}

void watermarks_open(struct watermarks *wm, uint32_t lane)
{
	wm->lanes[lane].open = true;
	wm->lanes[lane].idle = false;
	recompute(wm);
}

void watermarks_idle(struct watermarks *wm, uint32_t lane)
{
	if (!wm->lanes[lane].open)
		return;
	wm->lanes[lane].idle = true;
	recompute(wm);
}

void watermarks_close(struct watermarks *wm, uint32_t lane)
{
	wm->lanes[lane].open = false;
	wm->lanes[lane].idle = false;
	recompute(wm);
}

void watermarks_observe(struct watermarks *wm, uint32_t lane, int64_t t)
{
	struct lane *l = &wm->lanes[lane];
	if (t <= l->max_time)
		return; /* the lane's watermark did not move, nor can the global */
	l->max_time = t;
	recompute(wm);
}

void watermarks_raise(struct watermarks *wm, int64_t t)
{
	if (t > wm->global)
		wm->global = t;
}
