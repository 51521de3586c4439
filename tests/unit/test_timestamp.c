/*
 * test_timestamp.c — event time parsing and formatting (SPEC §2,
 * core/timestamp.h): every accepted text and number form, the rejects, the
 * representable range, times before 1970, and the output formats.
 *
 * Reference instant used throughout, derived by hand:
 *   2025-11-23T12:34:56Z
 *   days 1970-01-01 .. 2025-01-01: 55 years of 365 days + 14 leap days
 *     (1972, 1976, ..., 2024) = 20075 + 14 = 20089
 *   2025-01-01 .. 2025-11-23: Jan..Oct = 31+28+31+30+31+30+31+31+30+31 = 304,
 *     plus 22 days = 326
 *   20415 days * 86400 = 1763856000 s; 12:34:56 = 45296 s
 *   => 1763901296 s
 */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/timestamp.h"
#include "unit.h"

#define T1_S INT64_C(1763901296)
#define T1_US (T1_S * USEC_PER_SEC)

static bool text(const char *s, int64_t *out) { return timestamp_parse_text(s, strlen(s), out); }
static bool number(const char *s, int64_t *out)
{
	return timestamp_parse_number(s, strlen(s), out);
}

struct text_case {
	const char *in;
	int64_t want;
};

static void check_text_cases(const struct text_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t got = INT64_C(-42);
		ck_assert_msg(text(c[i].in, &got), "rejected \"%s\"", c[i].in);
		ck_assert_msg(got == c[i].want, "\"%s\": got %lld, want %lld", c[i].in, (long long)got,
		              (long long)c[i].want);
	}
}

static void check_text_rejects(const char *const *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t got = INT64_C(-42);
		ck_assert_msg(!text(c[i], &got), "accepted \"%s\"", c[i]);
		ck_assert_msg(got == INT64_C(-42), "\"%s\": output written on failure", c[i]);
	}
}

START_TEST(text_epoch_and_reference)
{
	static const struct text_case c[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"1970-01-01T00:00:01Z", SEC(1)},
		{"2025-11-23T12:34:56Z", T1_US},
		/* 2023-11-14T22:13:20Z is the well-known epoch second 1700000000. */
		{"2023-11-14T22:13:20Z", SEC(1700000000)},
		/* 2000-03-01: 30 years of 365 days + 7 leap days (1972..1996) = 10957
		 * days to 2000-01-01, + 31 + 29 = 11017 days. */
		{"2000-03-01T00:00:00Z", SEC(INT64_C(11017) * 86400)},
	};
	check_text_cases(c, sizeof(c) / sizeof(c[0]));
}
END_TEST

START_TEST(text_separators_and_zone_letters)
{
	static const struct text_case c[] = {
		{"2025-11-23T12:34:56Z", T1_US},
		{"2025-11-23t12:34:56Z", T1_US},
		{"2025-11-23 12:34:56Z", T1_US},
		{"2025-11-23T12:34:56z", T1_US},
		{"2025-11-23 12:34:56", T1_US}, /* no offset means UTC */
		{"2025-11-23T12:34:56", T1_US},
	};
	check_text_cases(c, sizeof(c) / sizeof(c[0]));
}
END_TEST

START_TEST(text_offsets)
{
	static const struct text_case c[] = {
		{"2025-11-23T12:34:56+00:00", T1_US},
		{"2025-11-23T12:34:56-00:00", T1_US},
		{"2025-11-23T18:04:56+05:30", T1_US}, /* 18:04:56 - 5:30 = 12:34:56 */
		{"2025-11-23T18:04:56+0530", T1_US},  /* ±HHMM */
		{"2025-11-23T17:34:56+05", T1_US},    /* ±HH */
		{"2025-11-23T07:34:56-05:00", T1_US},
		{"2025-11-23T07:04:56-0530", T1_US},
		{"2025-11-24T01:04:56+12:30", T1_US}, /* offset crosses midnight */
		{"2025-11-22T23:34:56-13:00", T1_US},
		{"2025-11-23T12:34:56.789012+00:00", T1_US + 789012},
		{"2025-11-23T12:34:56.5-23:59", T1_US + 500000 + SEC(23 * 3600 + 59 * 60)},
	};
	check_text_cases(c, sizeof(c) / sizeof(c[0]));
}
END_TEST

START_TEST(text_fraction_digits)
{
	/* 0..9 fractional digits; beyond the microsecond truncated, never
	 * rounded (.9999999 stays .999999). */
	static const struct text_case c[] = {
		{"2025-11-23T12:34:56.7Z", T1_US + 700000},
		{"2025-11-23T12:34:56.78Z", T1_US + 780000},
		{"2025-11-23T12:34:56.789Z", T1_US + 789000},
		{"2025-11-23T12:34:56.7890Z", T1_US + 789000},
		{"2025-11-23T12:34:56.78901Z", T1_US + 789010},
		{"2025-11-23T12:34:56.789012Z", T1_US + 789012},
		{"2025-11-23T12:34:56.7890129Z", T1_US + 789012},
		{"2025-11-23T12:34:56.78901299Z", T1_US + 789012},
		{"2025-11-23T12:34:56.789012999Z", T1_US + 789012},
		{"2025-11-23T12:34:56.999999999Z", T1_US + 999999},
		{"2025-11-23T12:34:56.000000001Z", T1_US},
		{"2025-11-23T12:34:56.000001", T1_US + 1},
		{"2025-11-23T12:34:56.5+05:30", T1_US + 500000 - SEC(5 * 3600 + 30 * 60)},
	};
	check_text_cases(c, sizeof(c) / sizeof(c[0]));
}
END_TEST

START_TEST(text_before_1970)
{
	static const struct text_case c[] = {
		{"1969-12-31T23:59:59Z", -SEC(1)},
		{"1969-12-31T23:59:59.5Z", -500000},
		{"1969-12-31T23:59:59.999999Z", -1},
		/* Truncation drops digits: .9999999 is .999999, i.e. -1 µs. */
		{"1969-12-31T23:59:59.9999999Z", -1},
		{"1969-12-31T00:00:00Z", -SEC(86400)},
		{"1970-01-01T00:30:00+01:00", -SEC(1800)},
		/* 1900-01-01: 70 years, 17 leap days (1904..1968; 1900 is not leap):
		 * 70 * 365 + 17 = 25567 days = 2208988800 s before the epoch. */
		{"1900-01-01T00:00:00Z", -SEC(INT64_C(2208988800))},
	};
	check_text_cases(c, sizeof(c) / sizeof(c[0]));
}
END_TEST

START_TEST(text_range_limits)
{
	static const struct text_case c[] = {
		{"0001-01-01T00:00:00Z", TIMESTAMP_MIN_US},
		{"0001-01-01T00:30:00+00:30", TIMESTAMP_MIN_US},
		{"9999-12-31T23:59:59.999999Z", TIMESTAMP_MAX_US},
		{"9999-12-31T23:59:59.999999999Z", TIMESTAMP_MAX_US},
		{"9999-12-31T23:59:59.999999-00:00", TIMESTAMP_MAX_US},
	};
	check_text_cases(c, sizeof(c) / sizeof(c[0]));
	static const char *const bad[] = {
		"0000-12-31T23:59:59Z",      /* year 0 */
		"0001-01-01T00:00:00+00:01", /* 0000-12-31T23:59Z */
		"9999-12-31T23:59:59-00:01", /* 10000-01-01T00:00:59Z */
		"9999-12-31T23:30:00-01:00",
	};
	check_text_rejects(bad, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

START_TEST(text_calendar)
{
	static const struct text_case c[] = {
		/* 2024-02-29 = 2024-03-01 minus one day */
		{"2024-02-29T00:00:00Z", SEC(1709251200) - SEC(86400)},
		{"2000-02-29T00:00:00Z", SEC(INT64_C(11017) * 86400) - SEC(86400)},
		{"2025-12-31T23:59:59Z", SEC(INT64_C(20089) * 86400 + 364 * 86400 + 86399)},
	};
	check_text_cases(c, sizeof(c) / sizeof(c[0]));
	static const char *const bad[] = {
		"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-04-31T00:00:00Z",
		"2025-06-31T00:00:00Z", "2025-13-01T00:00:00Z", "2025-00-10T00:00:00Z",
		"2025-11-00T00:00:00Z", "2025-11-32T00:00:00Z",
	};
	check_text_rejects(bad, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

START_TEST(text_rejects)
{
	static const char *const bad[] = {
		"",
		"2025-11-23",
		"2025-11-23T",
		"2025-11-23T12:34",
		"2025-11-23T12:34Z",
		"2025-11-23T12:34:60Z", /* leap second */
		"2025-11-23T24:00:00Z",
		"2025-11-23T12:60:00Z",
		"2025-11-23T12:34:56.Z",          /* no fraction digit */
		"2025-11-23T12:34:56.",
		"2025-11-23T12:34:56.1234567890Z", /* 10 fraction digits */
		"2025-11-23T12:34:56,5Z",
		"2025-11-23T12:34:56+5:30",
		"2025-11-23T12:34:56+05:3",
		"2025-11-23T12:34:56+05:",
		"2025-11-23T12:34:56+053",
		"2025-11-23T12:34:56+05:30:00",
		"2025-11-23T12:34:56+24:00",
		"2025-11-23T12:34:56+05:60",
		"2025-11-23T12:34:56+",
		"2025-11-23T12:34:56 +00:00",
		"2025-11-23T12:34:56ZZ",
		"2025-11-23T12:34:56Z ",
		" 2025-11-23T12:34:56Z",
		"2025-11-23T12:34:56UTC",
		"2025/11/23T12:34:56Z",
		"2025-11-23X12:34:56Z",
		"2025-11-23_12:34:56Z",
		"25-11-23T12:34:56Z",
		"02025-11-23T12:34:56Z",
		"2025-1-23T12:34:56Z",
		"2025-11-23T1:34:56Z",
		"2025-11-23T12:34:5Z",
		"+2025-11-23T12:34:56Z",
		"1763901296",
		"yesterday",
	};
	check_text_rejects(bad, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

START_TEST(text_respects_length)
{
	/* The parser reads exactly n bytes, not up to a NUL. */
	const char *s = "2025-11-23T12:34:56Zjunk";
	int64_t got = 0;
	ck_assert(timestamp_parse_text(s, 20, &got));
	ck_assert_int_eq(got, T1_US);
	ck_assert(!timestamp_parse_text(s, 21, &got));
	ck_assert(!timestamp_parse_text(s, 18, &got)); /* "…12:34:5" */
	/* The fraction stops at n too. */
	s = "2025-11-23T12:34:56.78901234";
	ck_assert(timestamp_parse_text(s, 22, &got)); /* ".78" */
	ck_assert_int_eq(got, T1_US + 780000);
}
END_TEST

START_TEST(text_cached_agrees)
{
	/* The day cache gives timestamp_parse_text()'s answer whatever came
	 * before: the same date with good and bad times, a bad date after a
	 * good one of the same bytes' prefix, and an empty cache against a
	 * date of NUL bytes (its zeroed bytes must not count as a date). */
	static const char nul_date[] = "\0\0\0\0\0\0\0\0\0\0T12:34:56Z";
	struct { const char *s; size_t n; } cases[] = {
		{nul_date, sizeof(nul_date) - 1},
		{"2025-11-23T12:34:56Z", 20},
		{"2025-11-23T12:34:56.5+01:00", 27},
		{"2025-11-23T24:00:00Z", 20},
		{"2025-11-23", 10},
		{"2025-11-2", 9},
		{"2025-02-29T00:00:00Z", 20},
		{"2024-02-29T00:00:00Z", 20},
		{"2024-02-29T00:00:00Zjunk", 24},
		{"2024-02-30T00:00:00Z", 20},
		{"2024-02-29 23:59:59.999999999Z", 30},
		{"0000-01-01T00:00:00Z", 20},
		{"2025-11-23T12:34:56Z", 20},
	};
	struct timestamp_day_cache c = {0};
	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			int64_t want = -1, got = -1;
			bool ok = timestamp_parse_text(cases[i].s, cases[i].n, &want);
			ck_assert_msg(timestamp_parse_text_cached(&c, cases[i].s, cases[i].n, &got) == ok,
			              "case %zu: cached verdict differs", i);
			if (ok)
				ck_assert_int_eq(got, want);
		}
}
END_TEST

struct num_case {
	const char *in;
	int64_t want;
};

START_TEST(number_seconds_and_milliseconds)
{
	static const struct num_case c[] = {
		{"0", 0},
		{"-0", 0},
		{"0.0", 0},
		{"1763901296", T1_US},
		{"1763901296.789012", T1_US + 789012},
		{"1763901296.7890129", T1_US + 789012}, /* truncated, not rounded */
		{"1763901296.9999999", T1_US + 999999},
		{"1.763901296e9", T1_US},
		{"1763901296e0", T1_US},
		{"17639012960E-1", T1_US},
		{"1E3", SEC(1000)},
		{"1000e-3", SEC(1)},
		{"0.000001", 1},
		{"0.0000009", 0},
		{"1763901296789", T1_US + 789000}, /* >= 1e11: milliseconds */
		{"1763901296789.5", T1_US + 789500},
		{"1763901296789.123456", T1_US + 789123},
		{"1.763901296789e12", T1_US + 789000},
		/* The boundary: values below 1e11 are seconds, 1e11 and above ms. */
		{"99999999999", SEC(INT64_C(99999999999))},
		{"99999999999.999999", SEC(INT64_C(99999999999)) + 999999},
		{"100000000000", INT64_C(100000000000) * 1000},
		{"1e11", INT64_C(100000000000) * 1000},
		{"100000000000.0", INT64_C(100000000000) * 1000},
		/* Before 1970: negative values are always seconds (< 1e11). */
		{"-1", -SEC(1)},
		{"-1.5", -1500000},
		{"-0.0000015", -1}, /* truncated toward zero */
		{"-2208988800", -SEC(INT64_C(2208988800))},
		{"-50000000000", -SEC(INT64_C(50000000000))},
		/* Limits: 0001-01-01 in seconds, 9999-12-31T23:59:59.999 in ms. */
		{"-62135596800", TIMESTAMP_MIN_US},
		{"253402300799999", INT64_C(253402300799999) * 1000},
		{"253402300799999.999", TIMESTAMP_MAX_US},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t got = INT64_C(-42);
		ck_assert_msg(number(c[i].in, &got), "rejected %s", c[i].in);
		ck_assert_msg(got == c[i].want, "%s: got %lld, want %lld", c[i].in, (long long)got,
		              (long long)c[i].want);
	}
}
END_TEST

START_TEST(number_rejects)
{
	static const char *const bad[] = {
		"", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "1x", "1 ", " 1", "0x10",
		"NaN", "Infinity", "1,5", "\"1\"", "--1",
		"-62135596801",     /* one second before 0001-01-01 */
		"253402300800000",  /* ms: 10000-01-01T00:00:00Z */
		"1e20", "1e400", "-1e12",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t got = INT64_C(-42);
		ck_assert_msg(!number(bad[i], &got), "accepted \"%s\"", bad[i]);
		ck_assert_msg(got == INT64_C(-42), "\"%s\": output written on failure", bad[i]);
	}
}
END_TEST

START_TEST(format_forms)
{
	char out[TIMESTAMP_BUFSZ];
	ck_assert_uint_eq(timestamp_format(0, out), 26);
	ck_assert_str_eq(out, "1970-01-01 00:00:00.000000");
	timestamp_format(-1, out);
	ck_assert_str_eq(out, "1969-12-31 23:59:59.999999");
	timestamp_format(-SEC(86400) - 1, out);
	ck_assert_str_eq(out, "1969-12-30 23:59:59.999999");
	timestamp_format(T1_US + 789012, out);
	ck_assert_str_eq(out, "2025-11-23 12:34:56.789012");
	timestamp_format(TIMESTAMP_MIN_US, out);
	ck_assert_str_eq(out, "0001-01-01 00:00:00.000000");
	timestamp_format(TIMESTAMP_MAX_US, out);
	ck_assert_str_eq(out, "9999-12-31 23:59:59.999999");
	ck_assert_uint_eq(timestamp_format_rfc3339(T1_US, out), 27);
	ck_assert_str_eq(out, "2025-11-23T12:34:56.000000Z");
	timestamp_format_rfc3339(-500000, out);
	ck_assert_str_eq(out, "1969-12-31T23:59:59.500000Z");
}
END_TEST

START_TEST(format_parse_round_trip)
{
	static const int64_t v[] = {
		0, 1, -1, T1_US, T1_US + 123456, -SEC(1) - 1, TIMESTAMP_MIN_US, TIMESTAMP_MAX_US,
		SEC(951868800) - 1, /* 2000-02-29T23:59:59.999999Z: 11017 days - 1 µs */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char a[TIMESTAMP_BUFSZ], b[TIMESTAMP_BUFSZ];
		int64_t back = 0;
		timestamp_format(v[i], a);
		ck_assert_msg(text(a, &back) && back == v[i], "round trip of %s", a);
		timestamp_format_rfc3339(v[i], b);
		ck_assert_msg(text(b, &back) && back == v[i], "round trip of %s", b);
	}
}
END_TEST

/* The hand-written digits against the C library's calendar (gmtime_r on
 * a 64-bit time_t) and snprintf, over times spread across the whole
 * accepted range. */
START_TEST(format_matches_libc)
{
	uint64_t x = 88172645463325252u; /* xorshift64 */
	uint64_t span = (uint64_t)(TIMESTAMP_MAX_US - TIMESTAMP_MIN_US) + 1;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int64_t us = TIMESTAMP_MIN_US + (int64_t)(x % span);
		if (i < 4)
			us = (int64_t[]){TIMESTAMP_MIN_US, TIMESTAMP_MAX_US, 0, -1}[i];
		int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
		time_t t = (time_t)secs;
		struct tm tm;
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		char want[64], got[TIMESTAMP_BUFSZ], got_z[TIMESTAMP_BUFSZ];
		int n = snprintf(want, sizeof(want), "%04d-%02d-%02d %02d:%02d:%02d.%06d", tm.tm_year + 1900,
		                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		                 (int)(us - secs * 1000000));
		ck_assert_uint_eq(timestamp_format(us, got), (size_t)n);
		ck_assert_str_eq(got, want);
		want[10] = 'T';
		strcat(want, "Z");
		ck_assert_uint_eq(timestamp_format_rfc3339(us, got_z), (size_t)n + 1);
		ck_assert_str_eq(got_z, want);
	}
}
END_TEST

START_TEST(civil_days)
{
	ck_assert_int_eq(days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(days_from_civil(2025, 11, 23), 20415);
	ck_assert_int_eq(days_from_civil(1, 1, 1), -719162); /* 62135596800 / 86400 */
	int64_t y;
	unsigned m, d;
	civil_from_days(-1, &y, &m, &d);
	ck_assert_int_eq(y, 1969);
	ck_assert_uint_eq(m, 12);
	ck_assert_uint_eq(d, 31);
	civil_from_days(20415, &y, &m, &d);
	ck_assert_int_eq(y, 2025);
	ck_assert_uint_eq(m, 11);
	ck_assert_uint_eq(d, 23);
	/* The two are inverse over the whole range, and consecutive days are
	 * consecutive dates. */
	for (int64_t z = -719162; z <= 2932896; z += 997) {
		civil_from_days(z, &y, &m, &d);
		ck_assert_int_eq(days_from_civil(y, m, d), z);
	}
}
END_TEST

Suite *timestamp_suite(void)
{
	Suite *s = suite_create("timestamp");
	TCase *tc = tcase_create("text");
	tcase_add_test(tc, text_epoch_and_reference);
	tcase_add_test(tc, text_separators_and_zone_letters);
	tcase_add_test(tc, text_offsets);
	tcase_add_test(tc, text_fraction_digits);
	tcase_add_test(tc, text_before_1970);
	tcase_add_test(tc, text_range_limits);
	tcase_add_test(tc, text_calendar);
	tcase_add_test(tc, text_rejects);
	tcase_add_test(tc, text_respects_length);
	tcase_add_test(tc, text_cached_agrees);
	suite_add_tcase(s, tc);
	tc = tcase_create("number");
	tcase_add_test(tc, number_seconds_and_milliseconds);
	tcase_add_test(tc, number_rejects);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_set_timeout(tc, 60); /* gmtime_r per sample: slow under sanitizers */
	tcase_add_test(tc, format_forms);
	tcase_add_test(tc, format_parse_round_trip);
	tcase_add_test(tc, format_matches_libc);
	tcase_add_test(tc, civil_days);
	suite_add_tcase(s, tc);
	return s;
}
