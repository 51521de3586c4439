/*
 * line_output.c — JSON Lines out to a named file or stdout, for gen: a
 * named file is written under a temporary name and appears whole or not
 * at all (util/new_file.c), gzip-compressed when its name ends in .gz;
 * lines go through one 256 KiB buffer.  Every failure is logged once, with
 * the file's name, and makes the output fail from then on.
 */
#include "config.h"

#include "io/line_output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "util/log.h"

#define OUT_BUFSZ (256 * 1024)

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

bool output_open(struct output *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->buf = xmalloc(OUT_BUFSZ);
	if (!path || !strcmp(path, "-")) {
		o->name = "stdout";
		o->f = stdout;
		o->is_stdout = true;
		return true;
	}
	o->name = path;
	struct error err;
	if (!new_file_create(&o->file, path, &err)) {
		log_error("%s", err.msg);
		goto fail;
	}
	if (ends_with(path, ".gz")) {
		o->gz = gzdopen(o->file.fd, "wb3"); /* level 3: ~2x faster than 6, 8 % larger */
		if (!o->gz) {
			log_error("cannot create %s: %s", path, errno ? strerror(errno) : "out of memory");
			new_file_discard(&o->file);
			goto fail;
		}
		o->file.fd = -1; /* gzclose closes it */
		gzbuffer(o->gz, 128 * 1024);
		return true;
	}
	o->f = fdopen(o->file.fd, "wb");
	if (!o->f) {
		log_error("cannot create %s: %s", path, strerror(errno));
		new_file_discard(&o->file);
		goto fail;
	}
	o->file.fd = -1; /* fclose closes it */
	return true;
fail:
	free(o->buf); /* the caller does not close an output that did not open */
	o->buf = NULL;
	return false;
}

static bool output_flush(struct output *o)
{
	if (o->failed)
		return false;
	if (o->len) {
		if (o->gz) {
			if (gzwrite(o->gz, o->buf, (unsigned)o->len) != (int)o->len) {
				int zerr;
				const char *msg = gzerror(o->gz, &zerr);
				log_error("cannot write %s: %s", o->name, zerr == Z_ERRNO ? strerror(errno) : msg);
				o->failed = true;
				return false;
			}
		} else if (fwrite(o->buf, 1, o->len, o->f) != o->len) {
			log_error("cannot write %s: %s", o->name, strerror(errno));
			o->failed = true;
			return false;
		}
		o->len = 0;
	}
	return true;
}

bool output_sync(struct output *o)
{
	if (!output_flush(o))
		return false;
	if (o->gz)
		return gzflush(o->gz, Z_SYNC_FLUSH) == Z_OK || (o->failed = true, false);
	if (fflush(o->f) != 0) {
		log_error("cannot write %s: %s", o->name, strerror(errno));
		o->failed = true;
		return false;
	}
	return true;
}

bool output_line(struct output *o, const char *data, size_t len)
{
	if (o->len + len + 1 > OUT_BUFSZ) {
		if (!output_flush(o))
			return false;
		if (len + 1 > OUT_BUFSZ) { /* a line larger than the buffer */
			bool ok = o->gz ? gzwrite(o->gz, data, (unsigned)len) == (int)len
			                : fwrite(data, 1, len, o->f) == len;
			if (!ok) {
				log_error("cannot write %s: %s", o->name, strerror(errno));
				o->failed = true;
				return false;
			}
			o->buf[o->len++] = '\n';
			return true;
		}
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	o->buf[o->len++] = '\n';
	return true;
}

bool output_close(struct output *o, bool keep)
{
	bool ok = output_flush(o);
	if (o->gz) {
		int rc = gzclose(o->gz);
		if (rc != Z_OK && ok) {
			log_error("cannot write %s: %s", o->name, rc == Z_ERRNO ? strerror(errno) : "gzip error");
			ok = false;
		}
	} else if (o->is_stdout) {
		if ((fflush(stdout) != 0 || ferror(stdout)) && ok) {
			log_error("cannot write %s: %s", o->name, strerror(errno));
			ok = false;
		}
	} else if (o->f) {
		bool err = ferror(o->f) != 0;
		if ((fclose(o->f) != 0 || err) && ok) {
			log_error("cannot write %s: %s", o->name, strerror(errno));
			ok = false;
		}
	}
	free(o->buf);
	o->buf = NULL;
	ok = ok && !o->failed;
	if (o->file.tmp) {
		struct error err;
		if (!ok || !keep) {
			new_file_discard(&o->file);
		} else if (!new_file_commit(&o->file, &err)) {
			log_error("%s", err.msg);
			ok = false;
		}
	}
	return ok;
}
