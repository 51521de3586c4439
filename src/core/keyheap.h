/*
 * keyheap.h — a binary min-heap of (key, value) pairs, least key first,
 * ties broken by the smaller value, so that pops come out in one order
 * whatever order the pushes came in (the determinism contract).
 *
 * The windower schedules stream releases with it (core/window.c): a
 * stream is pushed with the closed window index from which its state can
 * go, and popped once the windows close that far.  Entries are not
 * removed or updated in place; a user that needs that keeps its own
 * current key and skips stale entries when they come out.
 *
 * A zeroed struct is an empty heap; keyheap_free() releases its array.
 */
#ifndef TELEMETRA_KEYHEAP_H
#define TELEMETRA_KEYHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keyheap_entry {
	int64_t key;
	uint32_t value;
};

struct keyheap {
	struct keyheap_entry *v;
	size_t n, cap;
};

void keyheap_push(struct keyheap *h, int64_t key, uint32_t value);
/* The least entry, if any, without removing it. */
bool keyheap_peek(const struct keyheap *h, struct keyheap_entry *out);
/* Remove and return the least entry; false if the heap is empty. */
bool keyheap_pop(struct keyheap *h, struct keyheap_entry *out);
void keyheap_free(struct keyheap *h);

#endif
