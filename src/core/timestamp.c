/*
 * timestamp.c — event times in and out (core/timestamp.h, SPEC §2):
 * RFC 3339 text and epoch numbers parsed exactly into microseconds, and
 * formatted back as the output tables store them.
 */
#include "config.h"

#include "core/timestamp.h"

#include <stdio.h>
#include <string.h>

#include "core/common.h"

/* Howard Hinnant's algorithms, valid for the whole proleptic Gregorian range. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read exactly n decimal digits at s[*i]. */
static bool digits(const char *s, size_t len, size_t *i, int n, unsigned *out)
{
	unsigned v = 0;
	if (*i + (size_t)n > len)
		return false;
	for (int k = 0; k < n; k++) {
		char c = s[*i + (size_t)k];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*i += (size_t)n;
	*out = v;
	return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i < len && s[*i] == c) {
		(*i)++;
		return true;
	}
	return false;
}

/* The date of s[0..n), "YYYY-MM-DD" in its first 10 bytes, checked, as
 * days since 1970. */
static bool parse_date(const char *s, size_t n, int64_t *days)
{
	size_t i = 0;
	unsigned year, mon, day;
	if (!digits(s, n, &i, 4, &year) || !expect(s, n, &i, '-') || !digits(s, n, &i, 2, &mon) ||
	    !expect(s, n, &i, '-') || !digits(s, n, &i, 2, &day))
		return false;
	if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
		return false;
	*days = days_from_civil(year, mon, day);
	return true;
}

/*
 * The rest of a time in the form every producer we know writes,
 * "THH:MM:SS.ffffffZ" (27 bytes in all), read as two 8-byte words: true
 * with *out_us set only where the general parse below gives the same;
 * false for anything else, which then takes that parse.  It was ~200
 * instructions of the reader's ~3500 a line, byte by byte.
 */
static bool parse_after_date_usual(const char *s, size_t n, int64_t days, int64_t *out_us)
{
	if (n != 27 || s[10] != 'T')
		return false;
	uint64_t a, b; /* "HH:MM:SS", ".ffffffZ" */
	memcpy(&a, s + 11, 8);
	memcpy(&b, s + 19, 8);
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	(void)a, (void)b, (void)days, (void)out_us;
	return false;
#else
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
	/* The digits' bytes, and the other bytes' exact values. */
	const uint64_t a_digits = UINT64_C(0x8080008080008080), b_digits = UINT64_C(0x0080808080808000);
	const uint64_t a_fixed = UINT64_C(0x00003A00003A0000), b_fixed = UINT64_C(0x5A0000000000002E);
	if (((a | b) & highs) || (a & ~((a_digits >> 7) * 0xFF)) != a_fixed ||
	    (b & ~((b_digits >> 7) * 0xFF)) != b_fixed)
		return false;
	/* Below '0' or above '9' (bytes under 0x80: no carry between them). */
	uint64_t a_bad = (~((a | highs) - ones * '0') | (a + ones * (0x80 - '9' - 1))) & a_digits;
	uint64_t b_bad = (~((b | highs) - ones * '0') | (b + ones * (0x80 - '9' - 1))) & b_digits;
	if (a_bad | b_bad)
		return false;
	a ^= ones * '0'; /* a digit's value; no borrow from '.' as with a subtraction */
	b ^= ones * '0';
#define DIGIT(w, k) ((unsigned)((w) >> (8 * (k)) & 0xFF))
	unsigned hh = DIGIT(a, 0) * 10 + DIGIT(a, 1), mm = DIGIT(a, 3) * 10 + DIGIT(a, 4);
	unsigned ss = DIGIT(a, 6) * 10 + DIGIT(a, 7);
	int64_t frac_us = ((((DIGIT(b, 1) * 10 + DIGIT(b, 2)) * 10 + DIGIT(b, 3)) * 10 + DIGIT(b, 4)) * 10 +
	                   DIGIT(b, 5)) * 10 + DIGIT(b, 6);
#undef DIGIT
	if (hh > 23 || mm > 59 || ss > 59)
		return false;
	int64_t us = (days * 86400 + hh * 3600 + mm * 60 + ss) * USEC_PER_SEC + frac_us;
	if (us < TIMESTAMP_MIN_US || us > TIMESTAMP_MAX_US)
		return false;
	*out_us = us;
	return true;
#endif
}

/* The rest of a time after its date (s[10..n)), given the date's days. */
static bool parse_after_date(const char *s, size_t n, int64_t days, int64_t *out_us)
{
	if (parse_after_date_usual(s, n, days, out_us))
		return true;
	size_t i = 10;
	unsigned hh, mm, ss;
	if (i >= n || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return false;
	i++;
	if (!digits(s, n, &i, 2, &hh) || !expect(s, n, &i, ':') || !digits(s, n, &i, 2, &mm) ||
	    !expect(s, n, &i, ':') || !digits(s, n, &i, 2, &ss))
		return false;
	if (hh > 23 || mm > 59 || ss > 59)
		return false;

	int64_t frac_us = 0;
	if (i < n && s[i] == '.') {
		i++;
		int nd = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (nd < 6)
				frac_us = frac_us * 10 + (s[i] - '0');
			nd++;
			i++;
		}
		if (nd == 0 || nd > 9)
			return false;
		for (int k = nd; k < 6; k++)
			frac_us *= 10;
	}

	int64_t offset_s = 0;
	if (i < n) {
		if (s[i] == 'Z' || s[i] == 'z') {
			i++;
		} else if (s[i] == '+' || s[i] == '-') {
			int sign = s[i] == '-' ? -1 : 1;
			unsigned oh, om = 0;
			i++;
			if (!digits(s, n, &i, 2, &oh))
				return false;
			if (i < n) {
				expect(s, n, &i, ':');
				if (!digits(s, n, &i, 2, &om))
					return false;
			}
			if (oh > 23 || om > 59)
				return false;
			offset_s = sign * (int64_t)(oh * 3600 + om * 60);
		} else {
			return false;
		}
	}
	if (i != n)
		return false;

	int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
	int64_t us = secs * USEC_PER_SEC + frac_us;
	if (us < TIMESTAMP_MIN_US || us > TIMESTAMP_MAX_US)
		return false;
	*out_us = us;
	return true;
}

bool timestamp_parse_text(const char *s, size_t n, int64_t *out_us)
{
	int64_t days;
	return parse_date(s, n, &days) && parse_after_date(s, n, days, out_us);
}

bool timestamp_parse_text_cached(struct timestamp_day_cache *c, const char *s, size_t n,
                                 int64_t *out_us)
{
	if (n >= 10 && c->valid && memcmp(s, c->date, 10) == 0)
		return parse_after_date(s, n, c->days, out_us);
	int64_t days;
	if (!parse_date(s, n, &days))
		return false;
	c->valid = true;
	memcpy(c->date, s, 10);
	c->days = days;
	return parse_after_date(s, n, days, out_us);
}

bool timestamp_parse_number(const char *s, size_t n, int64_t *out_us)
{
	/* Collect the significant digits D and the exponent E of value = D·10^E,
	 * following the JSON number grammar exactly. */
	size_t i = 0;
	bool neg = false;
	char dig[40];
	int ndig = 0;
	int64_t exp10 = 0;
	bool any_nonzero = false;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	if (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
		return false; /* leading zero */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (s[i] != '0')
			any_nonzero = true;
		if (!any_nonzero)
			continue;
		if (ndig < (int)sizeof(dig))
			dig[ndig++] = s[i];
		else
			exp10++; /* digits beyond our precision only scale the value */
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (s[i] != '0')
				any_nonzero = true;
			if (!any_nonzero) {
				exp10--;
				continue;
			}
			if (ndig < (int)sizeof(dig)) {
				dig[ndig++] = s[i];
				exp10--;
			}
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		int esign = 1;
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			esign = s[i] == '-' ? -1 : 1;
			i++;
		}
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		int64_t e = 0;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		exp10 += esign * e;
	}
	if (i != n)
		return false;
	if (ndig == 0) {
		*out_us = 0;
		return true;
	}

	/* value = 0.d1d2...dn × 10^mag; integer digits of the value = mag. */
	int64_t mag = ndig + exp10;
	int scale = (!neg && mag >= 12) ? 3 : 6; /* ms when value >= 1e11, else s */
	int64_t int_digits = mag + scale;        /* digits of the microsecond count */
	if (int_digits > 18)
		return false;
	int64_t acc = 0;
	for (int64_t k = 0; k < int_digits; k++)
		acc = acc * 10 + (k < ndig ? dig[k] - '0' : 0);
	int64_t us = neg ? -acc : acc;
	if (us < TIMESTAMP_MIN_US || us > TIMESTAMP_MAX_US)
		return false;
	*out_us = us;
	return true;
}

/* v as exactly `width` decimal digits, most significant first. */
static char *put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

/* Every window row carries three timestamps, so this runs millions of
 * times in a large replay: the digits are written by hand (snprintf was
 * 4-7 % of the SQLite writer's time); a year outside 0..9999, which no
 * accepted time has, still goes through snprintf. */
static size_t format(int64_t us, char sep, bool zulu, char out[TIMESTAMP_BUFSZ])
{
	int64_t secs = floor_div(us, USEC_PER_SEC);
	int64_t frac = us - secs * USEC_PER_SEC;
	int64_t days = floor_div(secs, 86400);
	int64_t sod = secs - days * 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		int n = snprintf(out, TIMESTAMP_BUFSZ, "%04d-%02u-%02u%c%02d:%02d:%02d.%06d%s", (int)y, m,
		                 d, sep, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
		                 (int)frac, zulu ? "Z" : "");
		return n > 0 ? (size_t)n : 0;
	}
	char *p = put_digits(out, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = sep;
	p = put_digits(p, (unsigned)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod % 60), 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)frac, 6);
	if (zulu)
		*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}

size_t timestamp_format(int64_t us, char out[TIMESTAMP_BUFSZ]) { return format(us, ' ', false, out); }

size_t timestamp_format_rfc3339(int64_t us, char out[TIMESTAMP_BUFSZ])
{
	return format(us, 'T', true, out);
}
