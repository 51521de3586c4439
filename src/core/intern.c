/*
 * intern.c — the reference-counted string interner (core/intern.h):
 * chatters and emotes as small dense ids, reused once no pane holds them.
 */
#include "config.h"

#include "core/intern.h"

#include <stdlib.h>
#include <string.h>

/* A slot holds id + 1 below the low half of the string's hash (TAG): the
 * half its home slot is taken from, so that a deletion finds the home of
 * each slot it may shift from the slot alone; reading the entries for it
 * was a cache miss per slot with many chatters.  The tag's bits above the
 * table's mask still tell most strings of one probe run apart. */
#define TAG(h) ((uint64_t)(uint32_t)(h) << 32)
#define SLOT_TAG(v) ((v) & 0xFFFFFFFF00000000ULL)
#define SLOT_HOME(v, mask) ((uint32_t)((v) >> 32) & (mask))
#define SLOT_ID(v) ((uint32_t)(v) - 1)

/*
 * Strings shorter than INLINE bytes (chatter and emote names mostly are)
 * live in their entry: no allocation when one comes and no free when it
 * goes, and the comparison that confirms a match reads the entry the
 * probe already has in cache instead of a separate block.
 *
 * Entries live in chunks that never move, so that interner_str() stays
 * valid for as long as the id does: chunk c holds FIRST_CHUNK << c
 * entries, so an interner of a handful of strings stays small and one of
 * millions needs a few dozen chunks.
 */
#define INLINE 16
#define FIRST_BITS 2
#define FIRST_CHUNK (1u << FIRST_BITS)
#define MAX_CHUNKS (32 - FIRST_BITS + 1)
#define FREE_LEN UINT32_MAX /* the len of a free id's entry */

struct entry { /* 32 bytes: two to a cache line */
	uint64_t hash;
	uint32_t len; /* FREE_LEN: a free id */
	uint32_t refs;
	union {
		char *heap;      /* len >= INLINE */
		char in[INLINE]; /* len < INLINE, NUL-terminated */
	} s;
};

struct interner {
	struct entry *chunks[MAX_CHUNKS];
	uint32_t n_entries; /* ids ever handed out: the id limit */
	uint32_t cap_entries; /* ids the chunks hold */
	uint32_t *free_ids;
	uint32_t n_free;
	size_t cap_free;
	/* Slots hold id + 1 in the low 32 bits (0 = empty) and the low 32
	 * bits of the string's hash above them (TAG), so that a probe past another
	 * string is decided in the table, without a cache miss on its entry
	 * (with 5 000 streams the live chatters outgrow the caches). */
	uint64_t *table;
	uint32_t mask;
	uint32_t live;
};

static inline struct entry *entry_of(const struct interner *in, uint32_t id)
{
	uint32_t x = id + FIRST_CHUNK;
	unsigned c = 31u - (unsigned)__builtin_clz(x) - FIRST_BITS;
	return &in->chunks[c][x - (FIRST_CHUNK << c)];
}

static inline const char *entry_str(const struct entry *e)
{
	return e->len < INLINE ? e->s.in : e->s.heap;
}

/* a[0..n) == b[0..n) for n < INLINE, reading no byte past either end. */
static inline bool short_equal(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		uint64_t x, y, u, v;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&u, a + n - 8, 8);
		memcpy(&v, b + n - 8, 8);
		return ((x ^ y) | (u ^ v)) == 0;
	}
	if (n >= 4) {
		uint32_t x, y, u, v;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return ((x ^ y) | (u ^ v)) == 0;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

struct interner *interner_new(void)
{
	struct interner *in = xcalloc(1, sizeof(*in));
	in->mask = 7; /* small: a group of 100 k partitions holds one stream, few chatters */
	in->table = xcalloc(in->mask + 1, sizeof(*in->table));
	return in;
}

void interner_free(struct interner *in)
{
	if (!in)
		return;
	for (uint32_t i = 0; i < in->n_entries; i++) {
		struct entry *e = entry_of(in, i);
		if (e->len != FREE_LEN && e->len >= INLINE)
			free(e->s.heap);
	}
	for (size_t c = 0; c < MAX_CHUNKS; c++)
		free(in->chunks[c]);
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
		const struct entry *e = entry_of(in, id);
		if (e->len == FREE_LEN)
			continue;
		uint32_t i = (uint32_t)e->hash & in->mask;
		while (in->table[i])
			i = (i + 1) & in->mask;
		in->table[i] = TAG(e->hash) | (id + 1);
	}
}

uint32_t interner_intern(struct interner *in, const char *s, size_t n)
{
	return interner_intern_hashed(in, s, n, hash_bytes(s, n));
}

void interner_prefetch(const struct interner *in, uint64_t h)
{
	__builtin_prefetch(&in->table[(uint32_t)h & in->mask]);
}

uint32_t interner_intern_hashed(struct interner *in, const char *s, size_t n, uint64_t h)
{
	uint32_t i = (uint32_t)h & in->mask;
	for (uint64_t v; (v = in->table[i]); i = (i + 1) & in->mask) {
		if (SLOT_TAG(v) != TAG(h))
			continue;
		const struct entry *e = entry_of(in, SLOT_ID(v));
		if (e->hash == h && e->len == n &&
		    (n < INLINE ? short_equal(e->s.in, s, n) : memcmp(e->s.heap, s, n) == 0))
			return SLOT_ID(v);
	}

	uint32_t id;
	if (in->n_free) {
		id = in->free_ids[--in->n_free];
	} else {
		if (in->n_entries == in->cap_entries) {
			unsigned c = 0;
			while (in->chunks[c])
				c++;
			in->chunks[c] = xmalloc((size_t)(FIRST_CHUNK << c) * sizeof(struct entry));
			in->cap_entries += FIRST_CHUNK << c;
		}
		id = in->n_entries++;
	}
	struct entry *e = entry_of(in, id);
	e->hash = h;
	e->len = (uint32_t)n;
	e->refs = 0;
	if (n < INLINE) {
		memcpy(e->s.in, s, n);
		e->s.in[n] = '\0';
	} else {
		e->s.heap = xstrndup(s, n);
	}
	in->table[i] = TAG(h) | (id + 1);
	in->live++;
	if ((uint64_t)in->live * 2 > in->mask)
		rehash(in, (in->mask + 1) * 2);
	return id;
}

void interner_retain(struct interner *in, uint32_t id) { entry_of(in, id)->refs++; }

void interner_release(struct interner *in, uint32_t id)
{
	struct entry *e = entry_of(in, id);
	if (--e->refs)
		return;

	/* Find the slot, then delete by backward shift: later members of the
	 * probe run move up so that no lookup ever stops early at a hole. */
	uint32_t i = (uint32_t)e->hash & in->mask;
	while ((uint32_t)in->table[i] != id + 1)
		i = (i + 1) & in->mask;
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & in->mask; in->table[j]; j = (j + 1) & in->mask) {
		uint32_t home = SLOT_HOME(in->table[j], in->mask);
		/* Move j into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (!stays) {
			in->table[hole] = in->table[j];
			hole = j;
		}
	}
	in->table[hole] = 0;

	if (e->len >= INLINE)
		free(e->s.heap);
	e->len = FREE_LEN;
	in->free_ids = grow_array(in->free_ids, sizeof(*in->free_ids), &in->cap_free,
	                          (size_t)in->n_free + 1);
	in->free_ids[in->n_free++] = id;
	in->live--;
}

struct strview interner_str(const struct interner *in, uint32_t id)
{
	const struct entry *e = entry_of(in, id);
	return sv_make(entry_str(e), e->len);
}

uint64_t interner_hash(const struct interner *in, uint32_t id) { return entry_of(in, id)->hash; }
uint32_t interner_refs(const struct interner *in, uint32_t id) { return entry_of(in, id)->refs; }
uint32_t interner_id_limit(const struct interner *in) { return in->n_entries; }
uint32_t interner_count(const struct interner *in) { return in->live; }
