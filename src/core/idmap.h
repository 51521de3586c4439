/*
 * idmap.h — small open-addressing containers keyed by interned ids, for the
 * per-pane aggregates: the set of chatters of a pane and the emote counts of
 * a pane.  Both start unallocated (a zeroed struct is an empty container) and
 * grow by doubling at half load; keys are stored as id + 1 so that 0 marks
 * an empty slot.  Iterate with: for (i = 0; i < cap; i++) if (keys[i]) ...
 */
#ifndef TELEMETRA_IDMAP_H
#define TELEMETRA_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

struct idset {
	uint32_t *keys;
	uint32_t n;
	uint32_t cap; /* 0 or a power of two */
};

/* Add id; true if it was not yet present. */
bool idset_add(struct idset *s, uint32_t id);
void idset_free(struct idset *s);

struct idcount {
	uint32_t *keys;
	uint32_t *counts;
	uint32_t n;
	uint32_t cap;
};

/* Add by to id's count; true if id was not yet present. */
bool idcount_add(struct idcount *m, uint32_t id, uint32_t by);
void idcount_free(struct idcount *m);

#endif
