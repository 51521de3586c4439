#include "config.h"

#include "io/input.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/sha256.h"

#define CHUNK (1024 * 1024)

/*
 * Two ways to read.  A regular uncompressed file is mapped: lines are views
 * into the page cache and no byte is copied (reading with read() cost a
 * quarter of a replay in kernel copies alone).  Anything else — gzip, a
 * pipe, standard input — is read in chunks, inflated if need be, into a
 * line buffer.  Either way the raw bytes are hashed as they go by.
 *
 * A mapped file that another process truncates while we read it (a live
 * daemon cutting its capture back at restart) would kill us with SIGBUS
 * at the first page past its new end.  The handler below catches that for
 * our own mappings only: it maps zero pages over the rest of the file,
 * flags the input, and lets the read go on; next_mapped() then sees the
 * flag and fails with a message instead of a crash.
 */
struct input {
	char *path;
	int fd;
	bool is_stdin;
	uint64_t size_hint;
	struct sha256 hash;
	char digest[65];
	bool unhashed; /* input_skip_digest(): mapped bytes are not hashed */
	bool defer_release; /* input_defer_release() */

	/* input_hash_aside(): a thread of its own hashes the file from the
	 * start, without waiting for the reader (so it can run while the
	 * lanes are scanned), reading it with pread() into a buffer of its
	 * own, so resident memory stays bounded whoever is ahead.  hashed is
	 * the hasher's to write, hash_stop the closer's. */
	bool hash_aside, hasher_running;
	pthread_t hasher;
	atomic_size_t hashed;
	atomic_bool hash_stop;

	/* a mapped file */
	const char *map;
	size_t map_len, map_pos, map_hashed, map_released;
	struct mapping *mapping; /* its slot in mappings[] */

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

/* The mapped inputs, as the SIGBUS handler sees them.  A fixed table:
 * the handler may not take locks or follow pointers that may be moving.
 * Inputs beyond MAX_MAPPINGS are read with read() instead. */
#define MAX_MAPPINGS 64
static struct mapping {
	char *volatile start; /* NULL: a free slot */
	size_t len;
	volatile sig_atomic_t shrank;
} mappings[MAX_MAPPINGS];
static long page_size;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	char *addr = si->si_addr;
	for (size_t i = 0; i < MAX_MAPPINGS; i++) {
		char *start = mappings[i].start;
		if (!start || addr < start || addr >= start + mappings[i].len)
			continue;
		char *page = (char *)((uintptr_t)addr & ~(uintptr_t)(page_size - 1));
		/* mmap is a plain system call on Linux, safe here in practice. */
		if (mmap(page, (size_t)(start + mappings[i].len - page), PROT_READ,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
			mappings[i].shrank = 1;
			return; /* the faulting read runs again, on zeros */
		}
	}
	/* Not ours: die of it as if we had not been here. */
	signal(sig, SIG_DFL);
}

static struct mapping *track_mapping(const char *map, size_t len)
{
	if (!page_size) {
		struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, NULL))
			return NULL;
		page_size = sysconf(_SC_PAGESIZE);
	}
	for (size_t i = 0; i < MAX_MAPPINGS; i++) {
		if (!mappings[i].start) {
			mappings[i].len = len;
			mappings[i].shrank = 0;
			mappings[i].start = (char *)map;
			return &mappings[i];
		}
	}
	return NULL;
}

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
		void *map = mmap(NULL, in->size_hint, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED && (in->mapping = track_mapping(map, in->size_hint))) {
			madvise(map, in->size_hint, MADV_SEQUENTIAL);
			in->map = map;
			in->map_len = in->size_hint;
			in->sniffed = true;
			return in;
		}
		if (map != MAP_FAILED)
			munmap(map, in->size_hint);
	}
	in->raw = xmalloc(CHUNK);
	in->cap = 2 * CHUNK;
	in->buf = xmalloc(in->cap);
	return in;
}

static void join_hasher(struct input *in, bool stop);

bool input_lines_stay(const struct input *in)
{
	return in->map != NULL;
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
	if (in->map) {
		in->mapping->start = NULL;
		munmap((void *)in->map, in->map_len);
	}
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
	info->raw_bytes = in->map ? in->map_pos : in->hash.length;
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
	/* Read with pread() into a buffer of its own, not from the mapping:
	 * touching the mapping ahead of the reader faulted its pages in and
	 * then had to give them back (madvise) to keep memory bounded, and the
	 * reader faulted them in again.  The page cache is shared, so reading
	 * costs one copy and no memory; the mapping is the reader's alone. */
	unsigned char *buf = xmalloc(CHUNK);
	size_t pos = 0;
	while (pos < in->map_len && !atomic_load_explicit(&in->hash_stop, memory_order_relaxed)) {
		size_t want = in->map_len - pos < CHUNK ? in->map_len - pos : CHUNK;
		ssize_t n = pread(in->fd, buf, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrank or unreadable: no digest; the reader says why */
		sha256_update(&in->hash, buf, (size_t)n);
		pos += (size_t)n;
		atomic_store_explicit(&in->hashed, pos, memory_order_release);
	}
	free(buf);
	return NULL;
}

void input_hash_aside(struct input *in)
{
	if (!in->map || in->unhashed || in->hasher_running || in->map_pos)
		return;
	in->hash_aside = in->hasher_running = pthread_create(&in->hasher, NULL, hasher, in) == 0;
}

/* Wait for the hasher, which has finished or is told to stop. */
static void join_hasher(struct input *in, bool stop)
{
	if (!in->hasher_running)
		return;
	if (stop)
		atomic_store(&in->hash_stop, true);
	pthread_join(in->hasher, NULL);
	in->hasher_running = false;
	in->map_hashed = atomic_load(&in->hashed);
	if (in->map_hashed == in->map_len)
		in->raw_eof = true;
}

/* Hash the mapped bytes up to `upto`, a chunk at a time, while they are
 * still warm from the parser. */
static void hash_map(struct input *in, size_t upto)
{
	if (in->hash_aside) {
		if (in->hasher_running && upto == in->map_len)
			join_hasher(in, false);
		return;
	}
	if (in->unhashed) {
		in->map_hashed = upto;
	} else {
		while (in->map_hashed + CHUNK <= upto) {
			sha256_update(&in->hash, in->map + in->map_hashed, CHUNK);
			in->map_hashed += CHUNK;
		}
		if (upto == in->map_len && in->map_hashed < upto) {
			sha256_update(&in->hash, in->map + in->map_hashed, upto - in->map_hashed);
			in->map_hashed = upto;
		}
	}
	if (in->map_hashed == in->map_len)
		in->raw_eof = true;
}

/* How far the mapping may be given back: the hasher reads the file on
 * its own; else up to what is hashed. */
static size_t releasable(const struct input *in)
{
	return in->hash_aside ? in->map_len : in->map_hashed;
}

/* Give back the whole chunks of the mapping before offset `upto` that
 * are hashed already. */
static void release(struct input *in, size_t upto)
{
	size_t done = upto & ~(size_t)(CHUNK - 1);
	if (done > releasable(in))
		done = releasable(in) & ~(size_t)(CHUNK - 1);
	if (done > in->map_released) {
		madvise((char *)in->map + in->map_released, done - in->map_released, MADV_DONTNEED);
		in->map_released = done;
	}
}

void input_defer_release(struct input *in)
{
	in->defer_release = true;
}

void input_release(struct input *in, const char *upto)
{
	if (in->map && !upto)
		release(in, in->map_len);
	else if (in->map && upto >= in->map && upto <= in->map + in->map_len)
		release(in, (size_t)(upto - in->map));
}

static int next_mapped(struct input *in, struct input_line *line, struct error *err)
{
	if (in->map_pos >= in->map_len) {
		hash_map(in, in->map_len);
		return 0;
	}
	/* Pages behind the line about to be read are done with: let them go,
	 * so that resident memory stays bounded however long the file is. */
	if (!in->defer_release)
		release(in, in->map_pos);
	const char *p = in->map + in->map_pos;
	size_t rest = in->map_len - in->map_pos;
	const char *nl = memchr(p, '\n', rest);
	size_t len = nl ? (size_t)(nl - p) : rest;
	in->map_pos += len + (nl != NULL);
	hash_map(in, in->map_pos);
	if (in->mapping->shrank) {
		struct stat st;
		error_set(err,
		          "%s shrank while being read (from %llu to %lld bytes), at line %lld: "
		          "something truncated it; read a copy, or wait for the writer",
		          in->path, (unsigned long long)in->map_len,
		          fstat(in->fd, &st) ? -1LL : (long long)st.st_size, (long long)in->line_no + 1);
		return -1;
	}
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
	if (in->map)
		return next_mapped(in, line, err);
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

/* A mapped file's next run of whole lines, about CHUNK bytes of them (or
 * one longer line), for input_next_block(). */
static int next_mapped_block(struct input *in, struct input_line *block, struct error *err)
{
	if (in->map_pos >= in->map_len) {
		hash_map(in, in->map_len);
		return 0;
	}
	size_t done = in->map_pos & ~(size_t)(CHUNK - 1);
	if (done > in->map_released && done <= releasable(in)) {
		madvise((char *)in->map + in->map_released, done - in->map_released, MADV_DONTNEED);
		in->map_released = done;
	}
	const char *p = in->map + in->map_pos;
	size_t rest = in->map_len - in->map_pos, len;
	const char *nl = NULL;
	if (rest > CHUNK) {
		nl = memrchr(p, '\n', CHUNK);
		if (!nl)
			nl = memchr(p + CHUNK, '\n', rest - CHUNK);
	} else if (p[rest - 1] == '\n') {
		nl = p + rest - 1;
	}
	len = nl ? (size_t)(nl - p) : rest;
	in->map_pos += len + (nl != NULL);
	hash_map(in, in->map_pos);
	if (in->mapping->shrank) {
		struct stat st;
		error_set(err,
		          "%s shrank while being read (from %llu to %lld bytes): something truncated "
		          "it; read a copy, or wait for the writer",
		          in->path, (unsigned long long)in->map_len,
		          fstat(in->fd, &st) ? -1LL : (long long)st.st_size);
		return -1;
	}
	block->data = p;
	block->len = block->full_len = len;
	block->number = 0;
	block->overlong = false;
	return 1;
}

int input_next_block(struct input *in, struct input_line *block, struct error *err)
{
	if (in->map)
		return next_mapped_block(in, block, err);
	int got = input_next(in, block, err);
	if (got == 1 && !block->overlong)
		block->len = block->full_len; /* with its "\r", as a mapped block has */
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
