/*
 * watermark.h — lanes and the global watermark (SPEC §4).
 *
 * Input arrives in lanes, each an ordered sequence (a Kafka partition, or
 * the default lane of bare events in files).  A lane's watermark is the
 * largest event time it has seen minus the delay D (-inf before its first
 * event).  The global watermark is the minimum over the open lanes, and
 * never moves backwards; windows close against it.
 *
 *   lane states:   unopened --open--> open --idle--> idle --event--> open
 *
 * An idle lane has caught up and gone quiet: it leaves the minimum so that
 * it cannot stall every window.  When no lane is open at all, the global
 * watermark rises to the largest lane watermark (the minimum over an empty
 * set would be +inf, which would flush every window and make every later
 * event late; see doc/decisions.md).
 */
#ifndef TELEMETRA_WATERMARK_H
#define TELEMETRA_WATERMARK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"

#define LANE_NONE UINT32_MAX

/* Read the fields; change them only through the functions below, which
 * keep the lookup table and the heap in step. */
struct lane {
	char *topic; /* "" for the default lane of bare events */
	size_t topic_len;
	int32_t partition;
	int64_t max_time; /* TIME_NEG_INF before the first event */
	bool open;
	bool idle;
	uint64_t hash;
	uint32_t heap_pos; /* in `active`, or LANE_NONE */
};

/* Lanes are found by hash (topic, partition), and the open, non-idle ones
 * are kept in a min-heap by max_time, so that an event costs O(log lanes)
 * however many lanes there are (100 k topics or partitions are plausible
 * in a capture; a linear scan per event made that quadratic). */
struct watermarks {
	int64_t delay_us;
	int64_t global;
	struct lane *lanes;
	uint32_t n_lanes;
	size_t cap_lanes;
	uint32_t n_open;   /* lanes open (idle or not) */
	int64_t max_open;  /* the largest max_time of an open lane (TIME_NEG_INF: none) */
	uint32_t *table;   /* lane index + 1, 0 = empty; open addressing */
	uint32_t table_mask;
	uint32_t *active;  /* heap of open non-idle lanes, least max_time first */
	uint32_t n_active;
	size_t cap_active;
};

void watermarks_init(struct watermarks *wm, int64_t delay_us);
void watermarks_free(struct watermarks *wm);

/* Index of the lane (topic, partition), created unopened on first use. */
uint32_t watermarks_lane(struct watermarks *wm, struct strview topic, int32_t partition);
/* Index of an existing lane or LANE_NONE. */
uint32_t watermarks_find_lane(const struct watermarks *wm, struct strview topic, int32_t partition);

/* The lane's own watermark: max event time - D, or TIME_NEG_INF. */
int64_t watermarks_lane_value(const struct watermarks *wm, uint32_t lane);

/* Open (or reopen after idle) a lane; recomputes the global watermark. */
void watermarks_open(struct watermarks *wm, uint32_t lane);
/* Mark an open lane idle: it leaves the minimum until its next event. */
void watermarks_idle(struct watermarks *wm, uint32_t lane);
/* Remove a lane from the minimum for good (its partition was revoked). */
void watermarks_close(struct watermarks *wm, uint32_t lane);
/* Record an event time seen on an open lane; recomputes the global. */
void watermarks_observe(struct watermarks *wm, uint32_t lane, int64_t t);
/* Raise the global watermark to at least t (control "advance", end of input). */
void watermarks_raise(struct watermarks *wm, int64_t t);
/* Set a lane as a checkpoint saved it. */
void watermarks_restore(struct watermarks *wm, uint32_t lane, int64_t max_time, bool open,
                        bool idle);

#endif
