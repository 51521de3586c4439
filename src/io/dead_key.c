/*
 * dead_key.c — keys of dead-letter rows (see dead_key.h).
 *
 * One entry per (source, partition) that produced a dead letter, in an
 * open-addressing table; each also caches its source's hash, since dead
 * letters of one file come in runs.
 */
#include "config.h"

#include "io/dead_key.h"

#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"

struct place {
	char *source; /* NULL: empty slot */
	size_t len;
	int32_t partition;
	int64_t last_position;
	int64_t occurrence;
	char key[65];
};

struct dead_keys {
	bool count;
	struct place *slots;
	size_t n_slots, used; /* n_slots a power of two */
};

struct dead_keys *dead_keys_new(bool count)
{
	struct dead_keys *k = xcalloc(1, sizeof(*k));
	k->count = count;
	k->n_slots = 16;
	k->slots = xcalloc(k->n_slots, sizeof(*k->slots));
	return k;
}

void dead_keys_free(struct dead_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n_slots; i++)
		free(k->slots[i].source);
	free(k->slots);
	free(k);
}

static size_t slot_of(const struct dead_keys *k, const char *p, size_t n, int32_t partition)
{
	uint64_t h = hash_bytes(p, n) ^ ((uint64_t)(uint32_t)partition * UINT64_C(0x9E3779B97F4A7C15));
	size_t i = (size_t)h & (k->n_slots - 1);
	while (k->slots[i].source &&
	       !(k->slots[i].partition == partition && k->slots[i].len == n &&
	         !memcmp(k->slots[i].source, p, n)))
		i = (i + 1) & (k->n_slots - 1);
	return i;
}

static void grow(struct dead_keys *k)
{
	struct place *old = k->slots;
	size_t n_old = k->n_slots;
	k->n_slots *= 2;
	k->slots = xcalloc(k->n_slots, sizeof(*k->slots));
	for (size_t i = 0; i < n_old; i++)
		if (old[i].source)
			k->slots[slot_of(k, old[i].source, old[i].len, old[i].partition)] = old[i];
	free(old);
}

void dead_keys_of(struct dead_keys *k, const struct dead_letter *d, char source_key[65],
                  int64_t *occurrence)
{
	const char *p = d->pos.source.ptr ? d->pos.source.ptr : "";
	size_t n = d->pos.source.len;
	size_t i = slot_of(k, p, n, d->pos.partition);
	struct place *pl = &k->slots[i];
	if (!pl->source) {
		if ((k->used + 1) * 4 > k->n_slots * 3) {
			grow(k);
			i = slot_of(k, p, n, d->pos.partition);
			pl = &k->slots[i];
		}
		k->used++;
		pl->source = xmalloc(n + 1);
		memcpy(pl->source, p, n);
		pl->source[n] = '\0';
		pl->len = n;
		pl->partition = d->pos.partition;
		pl->occurrence = 0;
		pl->last_position = d->pos.position;
		struct sha256 h;
		sha256_init(&h);
		sha256_update(&h, p, n);
		sha256_hex(&h, pl->key);
		sha256_free(&h);
	} else if (k->count && d->pos.position <= pl->last_position) {
		pl->occurrence++;
	}
	pl->last_position = d->pos.position;
	memcpy(source_key, pl->key, 65);
	*occurrence = k->count ? pl->occurrence : 0;
}
