/*
 * common.h — small types shared by every part of telemetra.
 *
 * Time is an int64 count of microseconds since the Unix epoch, UTC, for
 * every timestamp the program handles.  INT64_MIN and INT64_MAX stand for
 * "minus infinity" (a lane that has seen nothing) and "plus infinity" (the
 * watermark at the end of a bounded input); no real event can carry them,
 * because the timestamp parser only accepts years 0001..9999.
 */
#ifndef TELEMETRA_COMMON_H
#define TELEMETRA_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USEC_PER_SEC INT64_C(1000000)
#define TIME_NEG_INF INT64_MIN
#define TIME_POS_INF INT64_MAX

/* A borrowed, length-delimited byte string; never owns its bytes. */
struct strview {
	const char *ptr;
	size_t len;
};

#define SV_NULL ((struct strview){NULL, 0})
#define SV_LIT(s) ((struct strview){(s), sizeof(s) - 1})

static inline struct strview sv_make(const char *p, size_t n) { return (struct strview){p, n}; }
bool sv_eq(struct strview a, struct strview b);
bool sv_eq_cstr(struct strview a, const char *s);
/* Byte-order comparison, shorter first on a common prefix (memcmp order). */
int sv_cmp(struct strview a, struct strview b);

/* The value of a hexadecimal digit of either case; -1 for any other byte. */
static inline int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Errors in the pure core are returned, never printed: a function that can
 * fail takes a struct error * and fills in one human sentence (what, where,
 * what to do).  The caller decides how to report it.
 */
struct error {
	char msg[512];
};

void error_set(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that cannot fail: out of memory aborts the process, because
 * no caller could do anything sensible with half an aggregate. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);
/* Grow *array (of elem_size elements, capacity *cap) to hold at least need. */
void *grow_array(void *array, size_t elem_size, size_t *cap, size_t need);

/* 64-bit FNV-1a variant good enough for hash tables keyed by short strings. */
uint64_t hash_bytes(const void *p, size_t n);

/* Floor division and modulo for negative times (before 1970). */
static inline int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

#endif
