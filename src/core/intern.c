/*
 * intern.c — the reference-counted string interner (core/intern.h):
 * chatters and emotes as small dense ids, reused once no pane holds them.
 */
#include "config.h"

#include "core/intern.h"

#include <stdlib.h>
#include <string.h>

#define TAG(h) ((h) & 0xFFFFFFFF00000000ULL)
#define SLOT_ID(v) ((uint32_t)(v) - 1)

struct entry {
	char *str; /* NULL for a free id */
	uint32_t len;
	uint32_t refs;
	uint64_t hash;
};

struct interner {
	struct entry *entries;
	uint32_t n_entries; /* ids ever handed out: the id limit */
	size_t cap_entries;
	uint32_t *free_ids;
	uint32_t n_free;
	size_t cap_free;
	/* Slots hold id + 1 in the low 32 bits (0 = empty) and the high 32
	 * bits of the string's hash above them, so that a probe past another
	 * string is decided in the table, without a cache miss on its entry
	 * (with 5 000 streams the live chatters outgrow the caches). */
	uint64_t *table;
	uint32_t mask;
	uint32_t live;
};

struct interner *interner_new(void)
{
	struct interner *in = xcalloc(1, sizeof(*in));
	in->mask = 15; /* small: a group of 100 k partitions holds one stream, few chatters */
	in->table = xcalloc(in->mask + 1, sizeof(*in->table));
	return in;
}

void interner_free(struct interner *in)
{
	if (!in)
		return;
	for (uint32_t i = 0; i < in->n_entries; i++)
		free(in->entries[i].str);
	free(in->entries);
	free(in->free_ids);
	free(in->table);
	free(in);
}

static void rehash(struct interner *in, uint32_t new_size)
{
	free(in->table);
	in->mask = new_size - 1;
	in->table = xcalloc(new_size, sizeof(*in->table));
	for (uint32_t id = 0; id < in->n_entries; id++) {
		if (!in->entries[id].str)
			continue;
		uint32_t i = (uint32_t)in->entries[id].hash & in->mask;
		while (in->table[i])
			i = (i + 1) & in->mask;
		in->table[i] = TAG(in->entries[id].hash) | (id + 1);
	}
}

uint32_t interner_intern(struct interner *in, const char *s, size_t n)
{
	uint64_t h = hash_bytes(s, n);
	uint32_t i = (uint32_t)h & in->mask;
	for (uint64_t v; (v = in->table[i]); i = (i + 1) & in->mask) {
		if (TAG(v) != TAG(h))
			continue;
		const struct entry *e = &in->entries[SLOT_ID(v)];
		if (e->hash == h && e->len == n && memcmp(e->str, s, n) == 0)
			return SLOT_ID(v);
	}

	uint32_t id;
	if (in->n_free) {
		id = in->free_ids[--in->n_free];
	} else {
		in->entries = grow_array(in->entries, sizeof(*in->entries), &in->cap_entries,
		                         (size_t)in->n_entries + 1);
		id = in->n_entries++;
	}
	in->entries[id] = (struct entry){xstrndup(s, n), (uint32_t)n, 0, h};
	in->table[i] = TAG(h) | (id + 1);
	in->live++;
	if ((uint64_t)in->live * 2 > in->mask)
		rehash(in, (in->mask + 1) * 2);
	return id;
}

void interner_retain(struct interner *in, uint32_t id) { in->entries[id].refs++; }

void interner_release(struct interner *in, uint32_t id)
{
	struct entry *e = &in->entries[id];
	if (--e->refs)
		return;

	/* Find the slot, then delete by backward shift: later members of the
	 * probe run move up so that no lookup ever stops early at a hole. */
	uint32_t i = (uint32_t)e->hash & in->mask;
	while ((uint32_t)in->table[i] != id + 1)
		i = (i + 1) & in->mask;
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & in->mask; in->table[j]; j = (j + 1) & in->mask) {
		uint32_t home = (uint32_t)in->entries[SLOT_ID(in->table[j])].hash & in->mask;
		/* Move j into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (!stays) {
			in->table[hole] = in->table[j];
			hole = j;
		}
	}
	in->table[hole] = 0;

	free(e->str);
	e->str = NULL;
	in->free_ids = grow_array(in->free_ids, sizeof(*in->free_ids), &in->cap_free,
	                          (size_t)in->n_free + 1);
	in->free_ids[in->n_free++] = id;
	in->live--;
}

struct strview interner_str(const struct interner *in, uint32_t id)
{
	return sv_make(in->entries[id].str, in->entries[id].len);
}

uint32_t interner_refs(const struct interner *in, uint32_t id) { return in->entries[id].refs; }
uint32_t interner_id_limit(const struct interner *in) { return in->n_entries; }
uint32_t interner_count(const struct interner *in) { return in->live; }
