/*
 * keyheap.c — the min-heap of (key, value) pairs of core/keyheap.h: an
 * array in the usual implicit layout (children of i at 2i + 1, 2i + 2).
 * The heap owns its array; entries are plain values.
 */
#include "config.h"

#include "core/keyheap.h"

#include <stdlib.h>

#include "core/common.h"

static bool before(const struct keyheap_entry *a, const struct keyheap_entry *b)
{
	return a->key < b->key || (a->key == b->key && a->value < b->value);
}

void keyheap_push(struct keyheap *h, int64_t key, uint32_t value)
{
	h->v = grow_array(h->v, sizeof(*h->v), &h->cap, h->n + 1);
	struct keyheap_entry e = {key, value};
	size_t i = h->n++;
	while (i > 0 && before(&e, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = e;
}

bool keyheap_peek(const struct keyheap *h, struct keyheap_entry *out)
{
	if (!h->n)
		return false;
	*out = h->v[0];
	return true;
}

bool keyheap_pop(struct keyheap *h, struct keyheap_entry *out)
{
	if (!h->n)
		return false;
	*out = h->v[0];
	struct keyheap_entry last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return true;
}

void keyheap_free(struct keyheap *h)
{
	free(h->v);
	*h = (struct keyheap){0};
}
