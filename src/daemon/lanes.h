/*
 * lanes.h — what the live daemon knows of each (topic, partition) it has
 * seen: whether it owns it, where it is in it, whether it went idle.  A
 * table that grows with the partitions (no fixed bound); a lane is never
 * removed, so that the metrics keep its count after a rebalance took it.
 */
#ifndef TELEMETRA_DAEMON_LANES_H
#define TELEMETRA_DAEMON_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct lane {
	char *topic; /* owned by the table */
	int32_t partition;
	int64_t next_offset; /* -1: not known yet */
	double last_message; /* monotonic seconds */
	bool owned;
	bool revoked; /* revoked in the rebalance under way */
	bool caught_up;
	bool idle;
	uint64_t consumed; /* records, since start: for the metrics */
};

struct lanes {
	struct lane *v;
	size_t n, cap;
	struct lane *last; /* into v[]: the lane of the last lookup */
};

/* The lane of (topic, partition), added (not owned, offset unknown) when
 * new.  The pointer is valid until the next lookup adds a lane. */
struct lane *lanes_find(struct lanes *t, const char *topic, size_t topic_len,
                        int32_t partition);

/* Append "chat [0 1 2 3], viewer [0 1]" for the lanes pick() chooses. */
void lanes_summary(const struct lanes *t, bool (*pick)(const struct lane *), struct buf *out);
bool lane_is_owned(const struct lane *l);
/* Whether a lane of partition (of any topic) is owned: its watermark
 * group is still this daemon's. */
bool lanes_own_partition(const struct lanes *t, int32_t partition);

/* Free every lane; t is {0} again. */
void lanes_free(struct lanes *t);

#endif
