/*
 * input.c — reading event files line by line (io/input.h, SPEC §7):
 * plain files mapped, gzip inflated member by member, standard input read,
 * lines cut and the raw bytes counted and hashed for the runs table.
 */
#include "config.h"

#include "io/input.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/sha256.h"

#define CHUNK (1024 * 1024)

/*
 * Two ways to read.  A regular uncompressed file is read with read() into
 * segments of about a megabyte, in which its lines stay until released
 * (input_release, or at the next line without input_defer_release), so
 * that another thread may read them after the next call without a copy.
 * (It was mapped: on this kind of machine — a virtual one — each page
 * fault of the mapping cost more than copying the page, and giving the
 * pages back to keep memory bounded cost as much again.)  Anything else —
 * gzip, a pipe, standard input — is read in chunks, inflated if need be,
 * into one line buffer.  Either way the raw bytes are hashed as they go
 * by, or by a thread of their own (input_hash_aside), in the segments
 * they were read into.
 *
 * A file that another process truncates while we read it (a live daemon
 * cutting its capture back at restart) ends before the size it had when
 * opened: that is an error with a message, not a short read taken as the
 * end.  A file that grows is read to the size it had when opened.
 */
struct seg {
	struct seg *next;
	size_t len, cap;
	uint64_t file_end; /* file offset after the last byte read into it */
	char data[]; /* cap bytes */
};

#define SEG_BYTES (CHUNK - 64)  /* a segment's usual capacity */
#define SEG_MIN_READ (64 * 1024) /* a shorter room left is not read into */
#define HASH_QUEUE 16            /* reads queued for the hasher, at most */

struct input {
	char *path;
	int fd;
	bool is_stdin;
	uint64_t size_hint;
	struct sha256 hash;
	char digest[65];
	bool unhashed; /* input_skip_digest(): a regular file's bytes are not hashed */
	bool defer_release; /* input_defer_release() */

	/* input_hash_aside(): a thread of its own hashes the bytes the reader
	 * has read into its segments, in file order, rather than reading the
	 * file a second time (a kernel copy of every byte).  The reader queues
	 * each read's span (hash_q, under hash_mu); a segment is given back
	 * or written over only once the hasher is past it (hash_wait).  The
	 * segments stay the reader's to allocate and free; the hasher only
	 * reads them.  hashed is the hasher's to write (under hash_mu; read
	 * without it too), hash_stop the closer's. */
	bool hash_aside, hasher_running;
	pthread_t hasher;
	pthread_mutex_t hash_mu;
	pthread_cond_t hash_more, hash_done; /* to the hasher; to the reader */
	struct hash_span {
		const unsigned char *p;
		size_t len;
	} hash_q[HASH_QUEUE];
	size_t hash_head, hash_tail; /* spans queued; spans hashed */
	atomic_uint_fast64_t hashed; /* file bytes hashed */
	bool hash_stop;

	/* a regular file read into segments (seg mode) */
	bool seg_mode;
	struct seg *segs, *seg_last; /* oldest first; the last one is read into */
	struct seg *seg_pool;        /* given back, for reuse */
	size_t seg_pos;              /* next line's start in seg_last */
	size_t seg_scanned;          /* bytes of that line known to hold no "\n" */
	uint64_t file_read;          /* bytes read from the file */
	uint64_t seg_consumed;       /* bytes handed out as lines (with their "\n") */
	bool seg_eof;

	/* raw bytes from the file */
	unsigned char *raw;
	size_t raw_len, raw_pos;
	bool raw_eof;
	bool sniffed, gzip;
	z_stream zs;
	bool zs_ready, zs_member_done;

	char *head; /* the start of an overlong line, kept while the rest is skipped */

	/* Damage: the gzip data could not be read on from damage_offset (a
	 * byte offset in the file).  Text decoded before it is still handed
	 * out line by line; then input_next() reports the damage once. */
	bool damaged, damage_reported, in_padding;
	uint64_t damage_offset, zero_padding;
	char damage[200];

	/* decoded text; lines live in buf[start, end) */
	char *buf;
	size_t cap, start, end;
	bool text_eof;
	int64_t line_no;
};

void input_skip_digest(struct input *in)
{
	in->unhashed = true;
}

struct input *input_open(const char *path, struct error *err)
{
	int fd;
	bool is_stdin = strcmp(path, "-") == 0;
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			error_set(err, "cannot open %s: %s", path, strerror(errno));
			return NULL;
		}
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		error_set(err, "cannot read %s: it is a directory", path);
		if (!is_stdin)
			close(fd);
		return NULL;
	}
	struct input *in = xcalloc(1, sizeof(*in));
	in->path = xstrdup(path);
	in->fd = fd;
	in->is_stdin = is_stdin;
	in->size_hint = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? (uint64_t)st.st_size : 0;
	sha256_init(&in->hash);
	unsigned char magic[2];
	if (in->size_hint >= 2 && pread(fd, magic, 2, 0) == 2 && !(magic[0] == 0x1f && magic[1] == 0x8b)) {
		in->seg_mode = true;
		in->sniffed = true;
		return in;
	}
	in->raw = xmalloc(CHUNK);
	in->cap = 2 * CHUNK;
	in->buf = xmalloc(in->cap);
	return in;
}

static void join_hasher(struct input *in, bool stop);

bool input_lines_stay(const struct input *in)
{
	return in->seg_mode;
}

static void free_segs(struct seg *s)
{
	while (s) {
		struct seg *next = s->next;
		free(s);
		s = next;
	}
}

void input_close(struct input *in)
{
	if (!in)
		return;
	if (!in->is_stdin)
		close(in->fd);
	if (in->zs_ready)
		inflateEnd(&in->zs);
	join_hasher(in, true);
	free_segs(in->segs);
	free_segs(in->seg_pool);
	sha256_free(&in->hash);
	free(in->raw);
	free(in->buf);
	free(in->head);
	free(in->path);
	free(in);
}

void input_info(struct input *in, struct input_info *info)
{
	info->path = in->path;
	info->raw_bytes = in->seg_mode ? in->seg_consumed : in->hash.length;
	info->size_hint = in->size_hint;
	info->gzip = in->gzip;
	info->zero_padding = in->zero_padding;
	if (in->raw_eof && !in->digest[0])
		sha256_hex(&in->hash, in->digest);
	memcpy(info->sha256, in->raw_eof ? in->digest : "", in->raw_eof ? 65 : 1);
}

/* Read more raw bytes, appending to raw[] (emptied first when consumed);
 * false on a read error.  Sets raw_eof at the end of the file. */
static bool read_raw(struct input *in, struct error *err)
{
	if (in->raw_pos == in->raw_len)
		in->raw_pos = in->raw_len = 0;
	for (;;) {
		ssize_t n = read(in->fd, in->raw + in->raw_len, CHUNK - in->raw_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, "cannot read %s: %s", in->path, strerror(errno));
			return false;
		}
		if (n == 0)
			in->raw_eof = true;
		sha256_update(&in->hash, in->raw + in->raw_len, (size_t)n);
		in->raw_len += (size_t)n;
		return true;
	}
}

/* gzip is recognised by its magic bytes 1f 8b, not by the file name. */
static bool sniff(struct input *in, struct error *err)
{
	while (in->raw_len < 2 && !in->raw_eof)
		if (!read_raw(in, err))
			return false;
	in->gzip = in->raw_len >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b;
	in->sniffed = true;
	return true;
}

/* Make room for at least `want` more bytes after buf[end). */
static void make_room(struct input *in, size_t want)
{
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->cap - in->end < want) {
		while (in->cap - in->end < want)
			in->cap *= 2;
		in->buf = xrealloc(in->buf, in->cap);
	}
}

/* The file offset of raw[raw_pos]. */
static uint64_t raw_offset(const struct input *in)
{
	return in->hash.length - (in->raw_len - in->raw_pos);
}

/* Stop reading at damage: the rest of the file is skipped (its bytes are
 * still hashed) and reported by input_next() once the text before it is
 * out. */
static void damage(struct input *in, uint64_t offset, const char *why)
{
	in->damaged = true;
	in->damage_offset = offset;
	snprintf(in->damage, sizeof(in->damage), "%s", why);
	in->raw_pos = in->raw_len;
}

/* Append more decoded text to buf; sets text_eof at the end of input. */
static bool fill(struct input *in, struct error *err)
{
	make_room(in, CHUNK);
	if (!in->sniffed && !sniff(in, err))
		return false;
	for (;;) {
		if (in->raw_pos == in->raw_len) {
			if (in->raw_eof) {
				if (in->gzip && in->zs_ready && !in->zs_member_done && !in->damaged)
					damage(in, in->hash.length, "gzip data ends early (truncated file?)");
				in->text_eof = true;
				return true;
			}
			if (!read_raw(in, err))
				return false;
			continue;
		}
		if (!in->gzip) {
			size_t n = in->raw_len - in->raw_pos;
			if (n > in->cap - in->end)
				n = in->cap - in->end;
			memcpy(in->buf + in->end, in->raw + in->raw_pos, n);
			in->end += n;
			in->raw_pos += n;
			return true;
		}
		if (in->damaged) { /* nothing after the damage can be trusted */
			in->raw_pos = in->raw_len;
			continue;
		}
		if (in->zs_member_done || in->in_padding) {
			/* After a member: another member, zero padding (tape blocks;
			 * gzip(1) ignores it too), or garbage. */
			if (in->raw[in->raw_pos] == 0 || in->in_padding) {
				in->in_padding = true;
				while (in->raw_pos < in->raw_len && in->raw[in->raw_pos] == 0) {
					in->raw_pos++;
					in->zero_padding++;
				}
				if (in->raw_pos == in->raw_len)
					continue;
			}
			if (in->raw[in->raw_pos] != 0x1f) {
				damage(in, raw_offset(in),
				       in->in_padding ? "trailing garbage after the zero padding of the gzip data"
				                      : "trailing garbage after the gzip data");
				continue;
			}
			in->in_padding = false;
		}
		if (!in->zs_ready || in->zs_member_done) {
			if (in->zs_ready)
				inflateEnd(&in->zs);
			memset(&in->zs, 0, sizeof(in->zs));
			if (inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK) {
				error_set(err, "%s: cannot start gzip decompression", in->path);
				return false;
			}
			in->zs_ready = true;
			in->zs_member_done = false;
		}
		in->zs.next_in = in->raw + in->raw_pos;
		in->zs.avail_in = (uInt)(in->raw_len - in->raw_pos);
		in->zs.next_out = (Bytef *)in->buf + in->end;
		in->zs.avail_out = (uInt)(in->cap - in->end);
		int rc = inflate(&in->zs, Z_NO_FLUSH);
		in->raw_pos = in->raw_len - in->zs.avail_in;
		size_t produced = (in->cap - in->end) - in->zs.avail_out;
		in->end += produced;
		if (rc == Z_STREAM_END) {
			in->zs_member_done = true; /* another member may follow */
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			char why[160];
			snprintf(why, sizeof(why), "corrupt gzip data (%s)",
			         in->zs.msg ? in->zs.msg : "inflate failed");
			damage(in, raw_offset(in), why);
			if (produced)
				return true;
			continue;
		}
		if (produced)
			return true;
	}
}

static void *hasher(void *arg)
{
	struct input *in = arg;
	pthread_mutex_lock(&in->hash_mu);
	for (;;) {
		while (in->hash_tail == in->hash_head && !in->hash_stop &&
		       atomic_load_explicit(&in->hashed, memory_order_relaxed) < in->size_hint)
			pthread_cond_wait(&in->hash_more, &in->hash_mu);
		if (in->hash_stop || in->hash_tail == in->hash_head)
			break; /* told to stop, or all of it */
		struct hash_span sp = in->hash_q[in->hash_tail % HASH_QUEUE];
		pthread_mutex_unlock(&in->hash_mu);
		/* The span is the reader's segment, which it neither changes
		 * nor gives back before `hashed` is past it. */
		sha256_update(&in->hash, sp.p, sp.len);
		pthread_mutex_lock(&in->hash_mu);
		in->hash_tail++;
		uint64_t done = atomic_load_explicit(&in->hashed, memory_order_relaxed) + sp.len;
		atomic_store_explicit(&in->hashed, done, memory_order_release);
		pthread_cond_signal(&in->hash_done);
	}
	pthread_mutex_unlock(&in->hash_mu);
	return NULL;
}

void input_hash_aside(struct input *in)
{
	if (!in->seg_mode || in->unhashed || in->hasher_running || in->file_read)
		return;
	pthread_mutex_init(&in->hash_mu, NULL);
	pthread_cond_init(&in->hash_more, NULL);
	pthread_cond_init(&in->hash_done, NULL);
	in->hash_aside = in->hasher_running = pthread_create(&in->hasher, NULL, hasher, in) == 0;
	if (!in->hasher_running) {
		pthread_cond_destroy(&in->hash_done);
		pthread_cond_destroy(&in->hash_more);
		pthread_mutex_destroy(&in->hash_mu);
	}
}

/* Reader: hand the bytes just read at p to the hasher (waiting while it
 * has HASH_QUEUE spans to do). */
static void hash_queue(struct input *in, const char *p, size_t len)
{
	pthread_mutex_lock(&in->hash_mu);
	while (in->hash_head - in->hash_tail == HASH_QUEUE)
		pthread_cond_wait(&in->hash_done, &in->hash_mu);
	in->hash_q[in->hash_head % HASH_QUEUE] = (struct hash_span){(const unsigned char *)p, len};
	in->hash_head++;
	pthread_cond_signal(&in->hash_more);
	pthread_mutex_unlock(&in->hash_mu);
}

/* Reader: wait until the hasher is past file offset `upto`, so that the
 * bytes before it may be given back or written over.  No-op without a
 * hasher. */
static void hash_wait(struct input *in, uint64_t upto)
{
	if (!in->hasher_running || atomic_load_explicit(&in->hashed, memory_order_acquire) >= upto)
		return;
	pthread_mutex_lock(&in->hash_mu);
	while (atomic_load_explicit(&in->hashed, memory_order_acquire) < upto)
		pthread_cond_wait(&in->hash_done, &in->hash_mu);
	pthread_mutex_unlock(&in->hash_mu);
}

/* Wait for the hasher, which has finished or is told to stop. */
static void join_hasher(struct input *in, bool stop)
{
	if (!in->hasher_running)
		return;
	if (stop) {
		pthread_mutex_lock(&in->hash_mu);
		in->hash_stop = true;
		pthread_cond_signal(&in->hash_more);
		pthread_mutex_unlock(&in->hash_mu);
	}
	pthread_join(in->hasher, NULL);
	in->hasher_running = false;
	pthread_cond_destroy(&in->hash_done);
	pthread_cond_destroy(&in->hash_more);
	pthread_mutex_destroy(&in->hash_mu);
	if (atomic_load(&in->hashed) == in->size_hint)
		in->raw_eof = true;
}

void input_defer_release(struct input *in)
{
	in->defer_release = true;
}

/* Segments before seg_last are done with: into the pool (one kept). */
static void release_segs(struct input *in, const char *upto)
{
	while (in->segs != in->seg_last &&
	       !(upto && upto >= in->segs->data && upto <= in->segs->data + in->segs->len)) {
		struct seg *s = in->segs;
		hash_wait(in, s->file_end); /* it is written over or freed next */
		in->segs = s->next;
		if (!in->seg_pool && s->cap == SEG_BYTES) {
			s->next = NULL;
			in->seg_pool = s;
		} else {
			free(s);
		}
	}
}

void input_release(struct input *in, const char *upto)
{
	if (in->seg_mode)
		release_segs(in, upto);
}

/* A new segment to read into, holding the `keep` bytes at from (the start
 * of a line that the last one could not hold whole). */
static void new_seg(struct input *in, const char *from, size_t keep)
{
	size_t cap = keep + SEG_MIN_READ > SEG_BYTES ? 2 * keep + SEG_MIN_READ : SEG_BYTES;
	struct seg *s;
	if (cap == SEG_BYTES && in->seg_pool) {
		s = in->seg_pool;
		in->seg_pool = NULL;
	} else {
		s = xmalloc(sizeof(*s) + cap);
		s->cap = cap;
	}
	s->next = NULL;
	if (keep)
		memcpy(s->data, from, keep);
	s->len = keep;
	s->file_end = in->file_read;
	if (in->seg_last)
		in->seg_last->next = s;
	else
		in->segs = s;
	in->seg_last = s;
	in->seg_pos = 0;
}

/* Read more of the file into seg_last (a new one if it has little room);
 * sets seg_eof at the size the file had when opened.  False with err set
 * when it cannot be read or has shrunk. */
static bool read_seg(struct input *in, struct error *err)
{
	struct seg *s = in->seg_last;
	if (!s || s->cap - s->len < SEG_MIN_READ) {
		size_t keep = s ? s->len - in->seg_pos : 0;
		new_seg(in, s ? s->data + in->seg_pos : NULL, keep);
		s = in->seg_last;
	}
	uint64_t left = in->size_hint - in->file_read;
	size_t want = s->cap - s->len < left ? s->cap - s->len : (size_t)left;
	for (;;) {
		ssize_t n = pread(in->fd, s->data + s->len, want, (off_t)in->file_read);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, "cannot read %s: %s", in->path, strerror(errno));
			return false;
		}
		if (n == 0) {
			struct stat st;
			error_set(err,
			          "%s shrank while being read (from %llu to %lld bytes), at line %lld: "
			          "something truncated it; read a copy, or wait for the writer",
			          in->path, (unsigned long long)in->size_hint,
			          fstat(in->fd, &st) ? -1LL : (long long)st.st_size,
			          (long long)in->line_no + 1);
			return false;
		}
		if (in->hash_aside)
			hash_queue(in, s->data + s->len, (size_t)n);
		else if (!in->unhashed)
			sha256_update(&in->hash, s->data + s->len, (size_t)n);
		s->len += (size_t)n;
		in->file_read += (uint64_t)n;
		s->file_end = in->file_read;
		if (in->file_read == in->size_hint)
			in->seg_eof = true;
		return true;
	}
}

/* At the end of a regular file: the digest, once every byte is hashed. */
static void seg_done(struct input *in)
{
	if (in->hasher_running)
		join_hasher(in, false);
	else if (!in->hash_aside)
		in->raw_eof = true;
}

/* The line starting at seg_pos, overlong: keep its first INPUT_HEAD_BYTES
 * where they are, read past the rest up to its "\n" (into the bytes after
 * the head) and put what follows it after the head. */
static bool skip_overlong(struct input *in, struct input_line *line, struct error *err)
{
	size_t head_end = in->seg_pos + INPUT_HEAD_BYTES;
	uint64_t total = in->seg_last->len - in->seg_pos;
	bool newline = false;
	/* The bytes after the head are written over: hashed first. */
	hash_wait(in, in->file_read);
	in->seg_last->len = head_end; /* room enough after it: no new segment */
	while (!in->seg_eof) {
		if (!read_seg(in, err))
			return false;
		hash_wait(in, in->file_read);
		struct seg *s = in->seg_last;
		const char *from = s->data + head_end;
		const char *nl = memchr(from, '\n', s->len - head_end);
		if (nl) {
			total += (uint64_t)(nl - from);
			size_t after = s->len - (size_t)(nl + 1 - s->data);
			memmove(s->data + head_end, nl + 1, after);
			s->len = head_end + after;
			newline = true;
			break;
		}
		total += s->len - head_end;
		s->len = head_end;
	}
	line->data = in->seg_last->data + in->seg_pos;
	line->len = INPUT_HEAD_BYTES;
	line->full_len = total;
	line->overlong = true;
	line->number = ++in->line_no;
	in->seg_consumed += total + newline;
	in->seg_pos = head_end;
	in->seg_scanned = 0;
	return true;
}

static int next_seg(struct input *in, struct input_line *line, struct error *err)
{
	/* The lines handed out before are done with, unless said otherwise. */
	if (!in->defer_release)
		release_segs(in, NULL);
	for (;;) {
		struct seg *s = in->seg_last;
		size_t avail = s ? s->len - in->seg_pos : 0;
		const char *p = s ? s->data + in->seg_pos : NULL;
		const char *nl = avail > in->seg_scanned
			? memchr(p + in->seg_scanned, '\n', avail - in->seg_scanned) : NULL;
		size_t len;
		if (nl) {
			len = (size_t)(nl - p);
		} else if (in->seg_eof) {
			if (!avail) {
				seg_done(in);
				return 0;
			}
			len = avail; /* the last line, without its "\n" */
		} else if (avail > INPUT_MAX_LINE) {
			if (!skip_overlong(in, line, err))
				return -1;
			return 1;
		} else {
			in->seg_scanned = avail;
			if (!read_seg(in, err))
				return -1;
			continue;
		}
		in->seg_pos += len + (nl != NULL);
		in->seg_consumed += len + (nl != NULL);
		in->seg_scanned = 0;
		line->data = p;
		line->number = ++in->line_no;
		line->full_len = len;
		line->overlong = len > INPUT_MAX_LINE;
		if (line->overlong)
			len = INPUT_HEAD_BYTES;
		else if (len && p[len - 1] == '\r')
			len--;
		line->len = len;
		return 1;
	}
}

/* The damage, as one more "line": what was decoded of the line it cut
 * (up to INPUT_HEAD_BYTES), numbered as the next line. */
static int report_damage(struct input *in, struct input_line *line, struct error *err)
{
	size_t len = in->end - in->start;
	in->damage_reported = true;
	line->data = in->buf + in->start;
	line->len = len > INPUT_HEAD_BYTES ? INPUT_HEAD_BYTES : len;
	line->full_len = len;
	line->overlong = false;
	line->number = in->line_no + 1;
	in->start = in->end;
	error_set(err,
	          "%s: %s at byte %llu of %llu; the %lld complete line%s before %s read, the rest "
	          "is lost%s",
	          in->path, in->damage, (unsigned long long)in->damage_offset,
	          (unsigned long long)in->hash.length, (long long)in->line_no,
	          in->line_no == 1 ? "" : "s", in->line_no == 1 ? "was" : "were",
	          len ? " (raw holds the start of the line it cut)" : "");
	return INPUT_DAMAGED;
}

int input_next(struct input *in, struct input_line *line, struct error *err)
{
	if (in->seg_mode)
		return next_seg(in, line, err);
	size_t scanned = 0; /* bytes of the pending line already searched */
	for (;;) {
		char *nl = memchr(in->buf + in->start + scanned, '\n', in->end - in->start - scanned);
		if (!nl && in->text_eof && in->damaged && !in->damage_reported)
			return report_damage(in, line, err);
		if (nl || (in->text_eof && in->end > in->start)) {
			size_t len = nl ? (size_t)(nl - (in->buf + in->start)) : in->end - in->start;
			line->data = in->buf + in->start;
			line->number = ++in->line_no;
			line->overlong = false;
			line->full_len = len;
			in->start += len + (nl != NULL);
			if (len && line->data[len - 1] == '\r')
				len--;
			line->len = len;
			return 1;
		}
		if (in->text_eof)
			return 0;
		scanned = in->end - in->start;
		if (scanned > INPUT_MAX_LINE) {
			/* Keep the head of the line for the dead letter, skip the rest. */
			if (!in->head)
				in->head = xmalloc(INPUT_HEAD_BYTES);
			memcpy(in->head, in->buf + in->start, INPUT_HEAD_BYTES);
			line->number = ++in->line_no;
			line->overlong = true;
			uint64_t total = scanned;
			in->start = in->end;
			for (;;) {
				if (!fill(in, err))
					return -1;
				char *e = memchr(in->buf + in->start, '\n', in->end - in->start);
				if (e) {
					total += (uint64_t)(e - (in->buf + in->start));
					in->start = (size_t)(e - in->buf) + 1;
					break;
				}
				total += in->end - in->start;
				in->start = in->end;
				if (in->text_eof)
					break;
			}
			line->full_len = total;
			line->data = in->head;
			line->len = INPUT_HEAD_BYTES;
			return 1;
		}
		if (!fill(in, err))
			return -1;
	}
}

int input_next_block(struct input *in, struct input_line *block, struct error *err)
{
	int got = input_next(in, block, err);
	if (got == 1 && !block->overlong)
		block->len = block->full_len; /* with its "\r", as a block has */
	return got;
}

char *inputs_json(struct input *const *inputs, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		struct input_info info;
		input_info(inputs[i], &info);
		json_t *o = json_pack("{s:s, s:I, s:b}", "path", info.path, "bytes",
		                      (json_int_t)info.raw_bytes, "gzip", info.gzip);
		if (info.sha256[0])
			json_object_set_new(o, "sha256", json_string(info.sha256));
		json_array_append_new(list, o);
	}
	char *text = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return text;
}
