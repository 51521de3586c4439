#include "config.h"

#include "core/idmap.h"

#include <stdlib.h>

#include "core/common.h"

static inline uint32_t slot_of(uint32_t id, uint32_t mask)
{
	/* Fibonacci hashing spreads dense ids over the table. */
	return (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

static void idset_grow(struct idset *s)
{
	uint32_t old_cap = s->cap, *old = s->keys;
	s->cap = old_cap ? old_cap * 2 : 8;
	s->keys = xcalloc(s->cap, sizeof(*s->keys));
	for (uint32_t i = 0; i < old_cap; i++) {
		if (!old[i])
			continue;
		uint32_t j = slot_of(old[i] - 1, s->cap - 1);
		while (s->keys[j])
			j = (j + 1) & (s->cap - 1);
		s->keys[j] = old[i];
	}
	free(old);
}

bool idset_add(struct idset *s, uint32_t id)
{
	if ((s->n + 1) * 2 > s->cap)
		idset_grow(s);
	uint32_t mask = s->cap - 1;
	for (uint32_t j = slot_of(id, mask);; j = (j + 1) & mask) {
		if (s->keys[j] == id + 1)
			return false;
		if (!s->keys[j]) {
			s->keys[j] = id + 1;
			s->n++;
			return true;
		}
	}
}

void idset_free(struct idset *s)
{
	free(s->keys);
	*s = (struct idset){0};
}

static void idcount_grow(struct idcount *m)
{
	uint32_t old_cap = m->cap, *old_keys = m->keys, *old_counts = m->counts;
	m->cap = old_cap ? old_cap * 2 : 8;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->counts = xcalloc(m->cap, sizeof(*m->counts));
	for (uint32_t i = 0; i < old_cap; i++) {
		if (!old_keys[i])
			continue;
		uint32_t j = slot_of(old_keys[i] - 1, m->cap - 1);
		while (m->keys[j])
			j = (j + 1) & (m->cap - 1);
		m->keys[j] = old_keys[i];
		m->counts[j] = old_counts[i];
	}
	free(old_keys);
	free(old_counts);
}

bool idcount_add(struct idcount *m, uint32_t id, uint32_t by)
{
	if ((m->n + 1) * 2 > m->cap)
		idcount_grow(m);
	uint32_t mask = m->cap - 1;
	for (uint32_t j = slot_of(id, mask);; j = (j + 1) & mask) {
		if (m->keys[j] == id + 1) {
			m->counts[j] += by;
			return false;
		}
		if (!m->keys[j]) {
			m->keys[j] = id + 1;
			m->counts[j] = by;
			m->n++;
			return true;
		}
	}
}

void idcount_free(struct idcount *m)
{
	free(m->keys);
	free(m->counts);
	*m = (struct idcount){0};
}
