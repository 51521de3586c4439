/*
 * unit.h — the suites of the core's unit tests (run by unit_main.c), and a
 * few helpers they share.
 *
 * The unit tests link only libcore.a: the pure core must be testable with
 * no I/O, no clock and no database.
 */
#ifndef TELEMETRA_TESTS_UNIT_H
#define TELEMETRA_TESTS_UNIT_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "core/common.h"

Suite *timestamp_suite(void);
Suite *score_suite(void);
Suite *json_suite(void);
Suite *event_suite(void);
Suite *lexicon_suite(void);
Suite *intern_suite(void);
Suite *window_suite(void);
Suite *watermark_suite(void);
Suite *detector_suite(void);
Suite *capture_suite(void);
Suite *engine_suite(void);
Suite *release_suite(void);

/* Seconds to the core's microseconds. */
#define SEC(s) ((int64_t)(s) * USEC_PER_SEC)

/*
 * A strview as a NUL-terminated string, for ck_assert_str_eq (whose failure
 * message shows both strings).  Four rotating buffers, so that a few can be
 * used in one expression; longer views are cut, which the length check in
 * ck_assert_sv_eq catches.
 */
static inline const char *sv_z(struct strview sv)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t n = sv.len < sizeof(bufs[0]) - 1 ? sv.len : sizeof(bufs[0]) - 1;
	if (n)
		memcpy(b, sv.ptr, n);
	b[n] = '\0';
	return b;
}

/* A view equals a C string: same length, same bytes. */
#define ck_assert_sv_eq(sv, expected)                                      \
	do {                                                                   \
		struct strview sv_eq_v_ = (sv);                                    \
		const char *sv_eq_e_ = (expected);                                 \
		ck_assert_str_eq(sv_z(sv_eq_v_), sv_eq_e_);                        \
		ck_assert_uint_eq(sv_eq_v_.len, strlen(sv_eq_e_));                 \
	} while (0)

/* A view equals n given bytes (which may include NUL). */
#define ck_assert_sv_bytes(sv, bytes, n)                                   \
	do {                                                                   \
		struct strview sv_b_v_ = (sv);                                     \
		ck_assert_uint_eq(sv_b_v_.len, (n));                               \
		if ((n) > 0)                                                       \
			ck_assert_mem_eq(sv_b_v_.ptr, (bytes), (n));                   \
	} while (0)

#endif
