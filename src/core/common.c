/*
 * common.c — the small helpers every part of telemetra shares
 * (core/common.h): string views and their comparison, one-sentence errors,
 * and the allocators that die with a message on out-of-memory instead of
 * returning NULL.
 */
#include "config.h"

#include "core/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sv_eq(struct strview a, struct strview b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool sv_eq_cstr(struct strview a, const char *s)
{
	return sv_eq(a, sv_make(s, strlen(s)));
}

int sv_cmp(struct strview a, struct strview b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
	if (c)
		return c;
	return (a.len > b.len) - (a.len < b.len);
}

void error_set(struct error *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static void out_of_memory(size_t n)
{
	/* The only output the core ever produces: there is no one to return to. */
	fprintf(stderr, "telemetra: out of memory (allocating %zu bytes)\n", n); /* purity: allowed */
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		out_of_memory(count * n);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

void *grow_array(void *array, size_t elem_size, size_t *cap, size_t need)
{
	if (need <= *cap)
		return array;
	size_t n = *cap ? *cap : 4;
	while (n < need)
		n *= 2;
	array = xrealloc(array, n * elem_size);
	*cap = n;
	return array;
}

uint64_t hash_bytes(const void *p, size_t n)
{
	/* FNV-1a over 8-byte words, then a final avalanche (splitmix64). */
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	while (n--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}
