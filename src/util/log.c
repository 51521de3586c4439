#include "config.h"

#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *current_command;
static int quiet;
static int progress_showing;

void log_set_command(const char *command) { current_command = command; }
const char *log_command(void) { return current_command; }
void log_set_quiet(int q) { quiet = q; }

int log_stderr_is_tty(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = isatty(STDERR_FILENO);
	return cached;
}

static void clear_progress(void)
{
	if (progress_showing) {
		fputs("\r\033[K", stderr);
		progress_showing = 0;
	}
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	clear_progress();
	fputs("telemetra", stderr);
	if (current_command)
		fprintf(stderr, " %s", current_command);
	fputs(": ", stderr);
	if (level)
		fprintf(stderr, "%s: ", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void log_info(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warning", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'telemetra%s%s --help' for more information.\n",
	        current_command ? " " : "", current_command ? current_command : "");
	exit(EXIT_USAGE);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
	exit(EXIT_RUNTIME);
}

void log_progress(const char *fmt, ...)
{
	if (quiet || !log_stderr_is_tty())
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("\r\033[K", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	progress_showing = 1;
}

void log_progress_done(void) { clear_progress(); }
