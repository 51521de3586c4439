/*
 * capture_file.c — the live daemon's capture file (see capture_file.h):
 * lines are built in c->line by core/capture.c's writers and appended to a
 * 1 MiB stdio buffer; capture_file_sync() is the one fsync, at each commit.
 */
#include "config.h"

#include "io/capture_file.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

char *capture_file_path(const char *given, struct error *err)
{
	char *dir = xstrdup(given);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : given;
	if (slash)
		*slash = '\0';
	char real[PATH_MAX];
	if (!realpath(slash ? (*dir ? dir : "/") : ".", real)) {
		error_set(err, "--capture %s: %s", given, strerror(errno));
		free(dir);
		return NULL;
	}
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", strcmp(real, "/") ? real : "", base);
	free(dir);
	return buf_detach(&path);
}

/* The length of the open file, which is where an append-mode stream
 * writes next. */
static int64_t end_of(struct capture_file *c)
{
	if (fseeko(c->f, 0, SEEK_END) != 0)
		die("cannot find the end of the capture %s: %s", c->path, strerror(errno));
	return (int64_t)ftello(c->f);
}

void capture_file_open(struct capture_file *c, char *path, int64_t committed)
{
	c->path = path;
	c->f = fopen(c->path, "ab");
	if (!c->f)
		die("cannot open the capture %s: %s", c->path, strerror(errno));
	setvbuf(c->f, NULL, _IOFBF, 1 << 20);
	int64_t length = end_of(c);
	if (committed > length)
		log_warn("capture %s is shorter than at the last commit (%lld bytes): a replay of it "
		         "will not match the database", c->path, (long long)committed);
	c->committed = committed >= 0 && committed < length ? committed : length;
	int64_t cut = capture_file_cut_back(c);
	if (cut)
		log_info("capture %s cut back from %lld to %lld bytes, its length at the last commit",
		         c->path, (long long)length, (long long)c->committed);
}

static void flush_line(struct capture_file *c)
{
	if (c->line.len && fwrite(c->line.data, 1, c->line.len, c->f) != c->line.len)
		die("cannot write the capture %s: %s", c->path, strerror(errno));
	buf_reset(&c->line);
}

void capture_file_lane(struct capture_file *c, enum control_kind kind, const char *topic,
                       int32_t partition)
{
	if (!c->f)
		return;
	capture_write_lane(&c->line, kind, sv_make(topic, strlen(topic)), partition);
	flush_line(c);
}

void capture_file_message(struct capture_file *c, const struct kafka_message *m)
{
	if (!c->f)
		return;
	capture_write_envelope(&c->line, m->topic, m->partition, m->offset, m->timestamp_ms, m->key,
	                       m->key_len, m->payload, m->len);
	flush_line(c);
}

void capture_file_advance(struct capture_file *c, int64_t target_us)
{
	if (!c->f)
		return;
	capture_write_advance(&c->line, target_us);
	flush_line(c);
}

int64_t capture_file_sync(struct capture_file *c)
{
	if (!c->f)
		return -1;
	if (fflush(c->f) != 0 || fsync(fileno(c->f)) != 0)
		die("cannot write the capture %s: %s", c->path, strerror(errno));
	return (int64_t)ftello(c->f);
}

void capture_file_committed(struct capture_file *c, int64_t bytes)
{
	if (c->f)
		c->committed = bytes;
}

int64_t capture_file_cut_back(struct capture_file *c)
{
	if (!c->f)
		return 0;
	/* Written out first, so that the cut also takes what the buffer held. */
	if (fflush(c->f) != 0)
		die("cannot write the capture %s: %s", c->path, strerror(errno));
	int64_t end = end_of(c);
	if (end <= c->committed)
		return 0;
	if (ftruncate(fileno(c->f), (off_t)c->committed) != 0)
		die("cannot cut the capture %s back to its last commit: %s", c->path, strerror(errno));
	if (end_of(c) != c->committed)
		die("the capture %s is not %lld bytes long after cutting it back", c->path,
		    (long long)c->committed);
	return end - c->committed;
}

int64_t capture_file_reopen(struct capture_file *c, struct error *err)
{
	FILE *f = fopen(c->path, "ab");
	if (!f) {
		error_set(err, "cannot reopen the capture %s: %s", c->path, strerror(errno));
		return -1;
	}
	if (fclose(c->f) != 0)
		die("cannot write the capture %s: %s", c->path, strerror(errno));
	c->f = f;
	setvbuf(c->f, NULL, _IOFBF, 1 << 20);
	return c->committed = end_of(c);
}

void capture_file_close(struct capture_file *c)
{
	if (c->f)
		fclose(c->f);
	free(c->path);
	buf_free(&c->line);
	*c = (struct capture_file){0};
}
