/*
 * log.h — the one error-reporting path of the telemetra program.
 *
 * Every diagnostic is a single line on stderr, prefixed with the program and
 * the running subcommand:  "telemetra replay: error: cannot open x.jsonl: ..."
 * so that a log aggregator or a grep sees one event per line.  Passwords
 * never reach this layer: callers log redacted connection strings only
 * (see conninfo_redact() in io/pg.h).
 *
 * Exit statuses are part of the interface that scripts rely on:
 *   0  success (dead letters and late events are data, not failures)
 *   1  runtime error: unreadable input, full disk, lost database
 *   2  usage or configuration error; the message carries a hint
 */
#ifndef TELEMETRA_LOG_H
#define TELEMETRA_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum exit_status {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};

/* The subcommand named in every line; a static string, not copied. */
void log_set_command(const char *command);
const char *log_command(void);

/* When quiet, log_info() prints nothing; warnings and errors always print. */
void log_set_quiet(int quiet);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report a usage/configuration error, point at --help, exit 2. */
noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report a runtime error and exit 1. */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Progress lines overwrite themselves on a terminal; a log line printed
 * while one is showing first clears it. */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_progress_done(void);
int log_stderr_is_tty(void);

#endif
