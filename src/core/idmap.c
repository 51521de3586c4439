/*
 * idmap.c — the pane aggregates' containers keyed by interned ids
 * (core/idmap.h): the set of chatters and the emote counts of a pane, dense
 * arrays for iteration beside an open-addressing index for membership.
 */
#include "config.h"

#include "core/idmap.h"

#include <stdlib.h>

#include "core/common.h"

static inline uint32_t slot_of(uint32_t id, uint32_t mask)
{
	/* Fibonacci hashing spreads dense ids over the table. */
	return (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

/* Double the table and place the members again: by id + 1 for a set,
 * by position + 1 for an idcount's keys (see idmap.h). */
static void grow(struct idset *s, bool by_pos)
{
	s->cap = s->cap ? s->cap * 2 : 8;
	free(s->table);
	s->table = xcalloc(s->cap, sizeof(*s->table));
	s->ids = xrealloc(s->ids, s->cap / 2 * sizeof(*s->ids));
	for (uint32_t pos = 0; pos < s->n; pos++) {
		uint32_t j = slot_of(s->ids[pos], s->cap - 1);
		while (s->table[j])
			j = (j + 1) & (s->cap - 1);
		s->table[j] = by_pos ? pos + 1 : s->ids[pos] + 1;
	}
}

/* An idcount's keys: the position of id in ids[], adding it if absent
 * (*added says which). */
static uint32_t find_or_add(struct idset *s, uint32_t id, bool *added)
{
	if (s->n + 1 > s->cap / 2)
		grow(s, true);
	uint32_t mask = s->cap - 1;
	for (uint32_t j = slot_of(id, mask);; j = (j + 1) & mask) {
		uint32_t v = s->table[j];
		if (!v) {
			s->table[j] = s->n + 1;
			s->ids[s->n] = id;
			*added = true;
			return s->n++;
		}
		if (s->ids[v - 1] == id) {
			*added = false;
			return v - 1;
		}
	}
}

bool idset_add(struct idset *s, uint32_t id)
{
	/* The table holds the ids themselves: a probe is decided there, with
	 * no read of ids[] (a second cache miss per event with 5 000 streams
	 * of small panes). */
	if (s->n + 1 > s->cap / 2)
		grow(s, false);
	uint32_t mask = s->cap - 1;
	for (uint32_t j = slot_of(id, mask);; j = (j + 1) & mask) {
		uint32_t v = s->table[j];
		if (!v) {
			s->table[j] = id + 1;
			s->ids[s->n++] = id;
			return true;
		}
		if (v == id + 1)
			return false;
	}
}

void idset_free(struct idset *s)
{
	free(s->ids);
	free(s->table);
	*s = (struct idset){0};
}

bool idcount_add(struct idcount *m, uint32_t id, uint32_t by)
{
	uint32_t old_cap = m->keys.cap;
	bool added;
	uint32_t pos = find_or_add(&m->keys, id, &added);
	if (m->keys.cap != old_cap)
		m->counts = xrealloc(m->counts, m->keys.cap / 2 * sizeof(*m->counts));
	if (added)
		m->counts[pos] = 0;
	m->counts[pos] += by;
	return added;
}

void idcount_free(struct idcount *m)
{
	idset_free(&m->keys);
	free(m->counts);
	m->counts = NULL;
}
