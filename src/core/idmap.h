/*
 * idmap.h — small containers keyed by interned ids, for the per-pane
 * aggregates: the set of chatters of a pane and the emote counts of a pane.
 *
 * Members are kept twice: densely, in insertion order, in ids[] (what
 * window combining iterates, with no empty slots to skip), and in an
 * open-addressing table (what membership tests probe; 0 marks an empty
 * slot): of id + 1 in a set, so that a probe reads nothing else, and of
 * position + 1 into ids[] for an idcount's keys, whose counts go by
 * position.
 * A zeroed struct is an empty container; the table doubles at half load.
 */
#ifndef TELEMETRA_IDMAP_H
#define TELEMETRA_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

struct idset {
	uint32_t *ids; /* the members, dense */
	uint32_t n;
	uint32_t *table; /* id + 1 (idcount keys: position + 1 into ids[]), or 0 */
	uint32_t cap;    /* table size: 0 or a power of two; ids[] holds cap / 2 */
};

/* Add id (below UINT32_MAX, as interned ids are); true if it was not yet
 * present. */
bool idset_add(struct idset *s, uint32_t id);
void idset_free(struct idset *s);

struct idcount {
	struct idset keys;
	uint32_t *counts; /* parallel to keys.ids */
};

/* Add `by` to id's count; true if id was not yet present. */
bool idcount_add(struct idcount *m, uint32_t id, uint32_t by);
void idcount_free(struct idcount *m);

#endif
