/*
 * log.h — the one error-reporting path of the telemetra program.
 *
 * Every diagnostic is a single line on stderr, prefixed with the program and
 * the running subcommand:  "telemetra replay: error: cannot open x.jsonl: ..."
 * so that a log aggregator or a grep sees one event per line.  Passwords
 * never reach this layer: callers log redacted connection strings only
 * (see conninfo_redact() in io/pg.h).
 *
 * Every line is escaped here, whatever its origin: control characters,
 * C1 controls and bytes that are not UTF-8 become visible escapes (\n,
 * \x1b, ...), so that a value from input (a stream_id with ESC or CR/LF)
 * can neither forge a log line nor drive the terminal.
 *
 * Formats: LOG_PLAIN (the one-shot commands' terse lines, above);
 * LOG_TEXT, for a daemon: "2026-12-01T19:33:57.123Z info telemetra live:
 * msg", an RFC 3339 UTC timestamp and a level on every line; LOG_JSON:
 * one object per line {"ts", "level", "cmd", "event", "msg", fields...}.
 *
 * Exit statuses are part of the interface that scripts rely on:
 *   0  success (dead letters and late events are data, not failures)
 *   1  runtime error: unreadable input, full disk, lost database
 *   2  usage or configuration error; the message carries a hint
 */
#ifndef TELEMETRA_LOG_H
#define TELEMETRA_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

struct buf;

enum exit_status {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};

enum log_format { LOG_PLAIN, LOG_TEXT, LOG_JSON };
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* The subcommand named in every line; a static string, not copied. */
void log_set_command(const char *command);
const char *log_command(void);

/* When quiet, log_info() prints nothing; warnings and errors always print. */
void log_set_quiet(int quiet);

void log_set_format(enum log_format format);
/* "plain", "text" or "json"; false for anything else. */
bool log_parse_format(const char *name, enum log_format *format);

/* Send every log line to path (appended, created 0640) instead of the
 * original stderr: the file takes stderr's place, so that whatever a
 * library writes there lands in it too.  log_reopen() opens the same path
 * again (after a rotation moved the old file away).  0, or -1 with errno. */
int log_open_file(const char *path);
int log_reopen(void);
const char *log_file_path(void); /* NULL when logging to stderr */

/* One field of a structured log event; the msg carries the same facts in
 * prose for the text formats, JSON adds the fields as members. */
struct log_field {
	const char *key;
	char type; /* 's' string, 'i' integer, 'd' number, 'b' boolean, 'j' raw JSON */
	const char *s;
	int64_t i;
	double d;
};
#define LF_STR(k, v) ((struct log_field){(k), 's', (v), 0, 0})
#define LF_INT(k, v) ((struct log_field){(k), 'i', NULL, (int64_t)(v), 0})
#define LF_NUM(k, v) ((struct log_field){(k), 'd', NULL, 0, (double)(v)})
#define LF_BOOL(k, v) ((struct log_field){(k), 'b', NULL, (v) ? 1 : 0, 0})
#define LF_JSON(k, v) ((struct log_field){(k), 'j', (v), 0, 0})

/* A named event (e.g. "partitions_assigned") with its fields. */
void log_event(enum log_level level, const char *event, const struct log_field *fields,
               size_t n_fields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line of a library's own log at a syslog level (0 emergency .. 7
 * debug), named by its facility, e.g. librdkafka's. */
void log_library(const char *library, int syslog_level, const char *facility, const char *msg);

/* Append s[0..len) with control characters, C1 controls and invalid UTF-8
 * escaped (\n \r \t, others \xNN; a backslash stays as it is), for any place
 * a value from input reaches a terminal. */
void log_escape(struct buf *out, const char *s, size_t len);

/* Report a usage/configuration error, point at --help, exit 2. */
noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report a runtime error and exit 1. */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Progress lines overwrite themselves on a terminal; a log line printed
 * while one is showing first clears it. */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_progress_done(void);
/* The head of a progress line into out[0..n): "42%, 0:12 elapsed, ETA
 * 0:16" for `fraction` of the work done (0 to 1) in `elapsed` seconds;
 * without a meaningful fraction yet (under 0.1 %, or negative: unknown),
 * the elapsed time alone after `fraction`'s percentage or nothing.  Times
 * of an hour or more are h:mm:ss. */
void log_progress_head(char *out, size_t n, double fraction, double elapsed);
/* The same for bytes done of `total`; with total 0 (a pipe among the
 * inputs, size unknown) "12.3 MB read, 0:12 elapsed". */
void log_progress_bytes_head(char *out, size_t n, uint64_t done, uint64_t total, double elapsed);
int log_stderr_is_tty(void);

#endif
