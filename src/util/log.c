/*
 * log.c — formatting, escaping and writing the program's log lines.
 *
 * One mutex serialises lines: the daemon's HTTP thread (metrics) may log
 * while the consumer does.  It is recursive because a failed allocation
 * while formatting ends in die(), which logs.
 */
#include "config.h"

#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/common.h"
#include "util/clock.h"

static const char *current_command;
static int quiet;
static int progress_showing;
static enum log_format format = LOG_PLAIN;
static char *file_path;
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void log_set_command(const char *command) { current_command = command; }
const char *log_command(void) { return current_command; }
void log_set_quiet(int q) { quiet = q; }
void log_set_format(enum log_format f) { format = f; }
const char *log_file_path(void) { return file_path; }

bool log_parse_format(const char *name, enum log_format *f)
{
	static const char *const names[] = {"plain", "text", "json"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, names[i])) {
			*f = (enum log_format)i;
			return true;
		}
	return false;
}

static int open_onto_stderr(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&lock);
	fflush(stderr);
	int rc = dup2(fd, STDERR_FILENO);
	pthread_mutex_unlock(&lock);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc < 0 ? -1 : 0;
}

int log_open_file(const char *path)
{
	if (open_onto_stderr(path))
		return -1;
	free(file_path);
	file_path = xstrdup(path);
	return 0;
}

int log_reopen(void)
{
	return file_path ? open_onto_stderr(file_path) : 0;
}

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

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void log_escape(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t run = i;
		/* the common case: printable ASCII, copied in one go */
		while (run < len && p[run] >= 0x20 && p[run] < 0x7f)
			run++;
		buf_add(out, p + i, run - i);
		i = run;
		if (i >= len)
			break;
		unsigned c = p[i];
		size_t seq = utf8_seq(p + i, len - i);
		if (c == '\n') {
			buf_adds(out, "\\n");
		} else if (c == '\r') {
			buf_adds(out, "\\r");
		} else if (c == '\t') {
			buf_adds(out, "\\t");
		} else if (c < 0x20 || c == 0x7f || !seq) {
			buf_printf(out, "\\x%02x", c);
		} else if (seq == 2 && c == 0xc2 && p[i + 1] < 0xa0) {
			/* U+0080..U+009F: C1 controls (CSI among them) */
			buf_printf(out, "\\u%04x", (unsigned)p[i + 1]);
			i += 2;
			continue;
		} else {
			buf_add(out, p + i, seq);
			i += seq;
			continue;
		}
		i++;
	}
}

static void timestamp(char *out, size_t size)
{
	int64_t us = wall_clock_us();
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03dZ", date, (int)(us % 1000000 / 1000));
}

static void add_json_field(struct buf *b, const struct log_field *f, struct buf *tmp)
{
	buf_addc(b, ',');
	buf_add_json_string(b, f->key, strlen(f->key));
	buf_addc(b, ':');
	switch (f->type) {
	case 's':
		if (!f->s) {
			buf_adds(b, "null");
			break;
		}
		buf_reset(tmp);
		log_escape(tmp, f->s, strlen(f->s));
		buf_add_json_string(b, tmp->data, tmp->len);
		break;
	case 'i':
		buf_printf(b, "%lld", (long long)f->i);
		break;
	case 'd':
		if (f->d != f->d || f->d - f->d != 0) /* NaN, infinities: not JSON */
			buf_adds(b, "null");
		else
			buf_printf(b, "%.17g", f->d);
		break;
	case 'b':
		buf_adds(b, f->i ? "true" : "false");
		break;
	case 'j':
		buf_adds(b, f->s ? f->s : "null");
		break;
	}
}

static void vlog_event(enum log_level level, const char *event, const struct log_field *fields,
                       size_t n_fields, const char *fmt, va_list ap)
{
	struct buf raw = BUF_INIT, msg = BUF_INIT, line = BUF_INIT;
	buf_vprintf(&raw, fmt, ap);
	log_escape(&msg, raw.data ? raw.data : "", raw.len);
	char ts[48];
	if (format != LOG_PLAIN)
		timestamp(ts, sizeof(ts));
	switch (format) {
	case LOG_PLAIN:
		buf_adds(&line, "telemetra");
		if (current_command)
			buf_printf(&line, " %s", current_command);
		buf_adds(&line, ": ");
		if (level >= LOG_WARN)
			buf_printf(&line, "%s: ", level_names[level]);
		buf_add(&line, msg.data ? msg.data : "", msg.len);
		break;
	case LOG_TEXT:
		buf_printf(&line, "%s %s telemetra%s%s: ", ts, level_names[level],
		           current_command ? " " : "", current_command ? current_command : "");
		buf_add(&line, msg.data ? msg.data : "", msg.len);
		break;
	case LOG_JSON:
		buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
		if (current_command)
			buf_printf(&line, ",\"cmd\":\"%s\"", current_command);
		if (event)
			buf_printf(&line, ",\"event\":\"%s\"", event);
		buf_adds(&line, ",\"msg\":");
		buf_add_json_string(&line, msg.data ? msg.data : "", msg.len);
		for (size_t i = 0; i < n_fields; i++)
			add_json_field(&line, &fields[i], &raw);
		buf_addc(&line, '}');
		break;
	}
	buf_addc(&line, '\n');
	pthread_mutex_lock(&lock);
	clear_progress();
	fwrite(line.data, 1, line.len, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&lock);
	buf_free(&raw);
	buf_free(&msg);
	buf_free(&line);
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	vlog_event(level, NULL, NULL, 0, fmt, ap);
}

void log_event(enum log_level level, const char *event, const struct log_field *fields,
               size_t n_fields, const char *fmt, ...)
{
	if (quiet && level <= LOG_INFO)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog_event(level, event, fields, n_fields, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_WARN, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERROR, fmt, ap);
	va_end(ap);
}

void log_library(const char *library, int syslog_level, const char *facility, const char *msg)
{
	/* syslog: 0..3 error, 4 warning, 5..6 info, 7 debug */
	enum log_level level = syslog_level <= 3 ? LOG_ERROR
	                       : syslog_level == 4 ? LOG_WARN
	                       : syslog_level <= 6 ? LOG_INFO : LOG_DEBUG;
	if (quiet && level <= LOG_INFO)
		return;
	struct log_field f[] = {LF_STR("library", library), LF_STR("facility", facility),
	                        LF_INT("syslog_level", syslog_level)};
	log_event(level, "library_log", f, 3, "%s %s: %s", library, facility, msg);
}

static void vusage(const char *fmt, va_list ap)
{
	vlog(LOG_ERROR, fmt, ap);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vusage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'telemetra%s%s --help' for more information.\n",
	        current_command ? " " : "", current_command ? current_command : "");
	exit(EXIT_USAGE);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(EXIT_RUNTIME);
}

void log_progress(const char *fmt, ...)
{
	if (quiet || !log_stderr_is_tty())
		return;
	va_list ap;
	va_start(ap, fmt);
	struct buf raw = BUF_INIT, msg = BUF_INIT;
	buf_vprintf(&raw, fmt, ap);
	va_end(ap);
	log_escape(&msg, raw.data ? raw.data : "", raw.len);
	pthread_mutex_lock(&lock);
	fputs("\r\033[K", stderr);
	fwrite(msg.data ? msg.data : "", 1, msg.len, stderr);
	fflush(stderr);
	progress_showing = 1;
	pthread_mutex_unlock(&lock);
	buf_free(&raw);
	buf_free(&msg);
}

/* "m:ss", or "h:mm:ss" from an hour on */
static int clock_text(char *out, size_t n, double seconds)
{
	long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
	if (s >= 3600)
		return snprintf(out, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	return snprintf(out, n, "%ld:%02ld", s / 60, s % 60);
}

void log_progress_head(char *out, size_t n, double fraction, double elapsed)
{
	char el[24], eta[24];
	clock_text(el, sizeof(el), elapsed);
	if (fraction < 0) {
		snprintf(out, n, "%s elapsed", el);
	} else if (fraction < 0.001) {
		snprintf(out, n, "%3.0f%%, %s elapsed", 100.0 * fraction, el);
	} else {
		clock_text(eta, sizeof(eta), elapsed / fraction - elapsed);
		snprintf(out, n, "%3.0f%%, %s elapsed, ETA %s", 100.0 * fraction, el, eta);
	}
}

void log_progress_bytes_head(char *out, size_t n, uint64_t done, uint64_t total, double elapsed)
{
	if (total) {
		log_progress_head(out, n, (double)done / (double)total, elapsed);
		return;
	}
	char el[64];
	log_progress_head(el, sizeof(el), -1, elapsed);
	snprintf(out, n, "%.1f MB read, %s", (double)done / 1e6, el);
}

void log_progress_done(void)
{
	pthread_mutex_lock(&lock);
	clear_progress();
	pthread_mutex_unlock(&lock);
}
