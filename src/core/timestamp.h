/*
 * timestamp.h — event time parsing and formatting (SPEC §2).
 *
 * Internally a time is int64 microseconds since 1970-01-01T00:00:00Z.
 * Accepted inputs:
 *   text    YYYY-MM-DD(T|t| )HH:MM:SS[.f{1,9}][Z|z|±HH:MM|±HHMM|±HH]
 *           no offset means UTC; digits past the microsecond are truncated
 *   number  JSON number text: epoch seconds when the value is < 1e11,
 *           epoch milliseconds otherwise; converted exactly from the decimal
 *           digits (no binary floating point), truncated toward zero
 * Only years 0001..9999 are representable, which keeps INT64_MIN/MAX free to
 * mean -inf/+inf.  Leap seconds (:60) are rejected: POSIX time has no slot
 * for them, and silently folding them would move an event across a pane.
 */
#ifndef TELEMETRA_TIMESTAMP_H
#define TELEMETRA_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMESTAMP_MIN_US INT64_C(-62135596800000000) /* 0001-01-01T00:00:00Z */
#define TIMESTAMP_MAX_US INT64_C(253402300799999999) /* 9999-12-31T23:59:59.999999Z */

/* "YYYY-MM-DD HH:MM:SS.ffffff" plus NUL; also fits the RFC 3339 form. */
#define TIMESTAMP_BUFSZ 32

bool timestamp_parse_text(const char *s, size_t n, int64_t *out_us);

/* The last date timestamp_parse_text_cached() parsed: the events of a log
 * share a few dates, and checking and converting one (days_from_civil, the
 * month's length) was a third of parsing a time.  Zero-initialised means
 * empty; the caller owns it (one per decoder: it is not shared). */
struct timestamp_day_cache {
	bool valid;
	char date[10]; /* "YYYY-MM-DD", valid */
	int64_t days;
};
/* timestamp_parse_text(), the same answer, with the date looked up in c. */
bool timestamp_parse_text_cached(struct timestamp_day_cache *c, const char *s, size_t n,
                                 int64_t *out_us);
bool timestamp_parse_number(const char *s, size_t n, int64_t *out_us);

/* "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), the form stored in SQLite and dumps.
 * Returns the length written (26). */
size_t timestamp_format(int64_t us, char out[TIMESTAMP_BUFSZ]);
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ", the form written into JSON. */
size_t timestamp_format_rfc3339(int64_t us, char out[TIMESTAMP_BUFSZ]);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
