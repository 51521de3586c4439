/*
 * lanescan.c — a first pass over event files for the lanes they name (see
 * lanescan.h).  Each line that may name a lane is decoded as replay will
 * decode it, except the envelope payloads, so that only lines replay takes
 * as envelopes and lane control records name lanes: a bad envelope opens
 * nothing.
 */
#include "config.h"

#include "io/lanescan.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json_scan.h"
#include "io/input.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Where could a line name a lane?  Only where it has a "topic" member,
 * spelled out or with \u escapes (the only escapes that make letters).
 * Most lines of most files are bare events with neither, so this search is
 * the whole cost of the pre-scan for them.  It runs over a block of many
 * lines at once (input_next_block), so that lines are not split twice,
 * once here and once by the real pass: only a line around a hit is
 * delimited.  One pass looks for "\u", or for a 't' with a 'c' four bytes
 * on (Muła's SIMD substring filter), confirmed by memcmp; neither pattern
 * holds a "\n" or "\r", so a hit lies inside one line, as it did when
 * each line was searched alone.  Returns the offset of the first hit at
 * or after `from`, or n.
 */
#define NO_HIT ((size_t)-1)

/* The hit of one block at `at`, from the SIMD filter's two masks (bit k:
 * a 't' at k with a 'c' at k + 4, in m; a "\u" at k, in esc): the first
 * "topic" confirmed before the first "\u", else that "\u", else
 * NO_HIT.  Both block widths decide it here, so they cannot disagree. */
static inline size_t block_hit(const char *at, unsigned m, unsigned esc)
{
	unsigned first_esc = esc ? (unsigned)__builtin_ctz(esc) : UINT32_MAX;
	for (; m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctz(m);
		if (k > first_esc)
			break;
		if (!memcmp(at + k + 1, "opi", 3))
			return k;
	}
	return esc ? first_esc : NO_HIT;
}

static size_t next_candidate_sse2(const char *p, size_t n, size_t i)
{
#ifdef __SSE2__
	const __m128i t = _mm_set1_epi8('t'), c = _mm_set1_epi8('c');
	const __m128i bs = _mm_set1_epi8('\\'), u = _mm_set1_epi8('u');
	for (; i + 16 + 4 <= n; i += 16) {
		__m128i first = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i second = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		__m128i last = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 4));
		unsigned esc = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(first, bs), _mm_cmpeq_epi8(second, u)));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(first, t), _mm_cmpeq_epi8(last, c)));
		size_t k = block_hit(p + i, m, esc);
		if (k != NO_HIT)
			return i + k;
	}
#endif
	for (; i < n; i++)
		if ((p[i] == '\\' && i + 1 < n && p[i + 1] == 'u') ||
		    (p[i] == 't' && n - i >= 5 && !memcmp(p + i, "topic", 5)))
			return i;
	return n;
}

#if defined(__x86_64__) && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_PATH 1
#include <immintrin.h>

/* The same filter 32 bytes at a time: the search is most of the pre-scan
 * and runs from cache (read_lines), so it is bound by instructions. */
__attribute__((target("avx2"))) static size_t next_candidate_avx2(const char *p, size_t n,
                                                                  size_t i)
{
	const __m256i t = _mm256_set1_epi8('t'), c = _mm256_set1_epi8('c');
	const __m256i bs = _mm256_set1_epi8('\\'), u = _mm256_set1_epi8('u');
	for (; i + 32 + 4 <= n; i += 32) {
		__m256i first = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i second = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 1));
		__m256i last = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 4));
		__m256i e = _mm256_and_si256(_mm256_cmpeq_epi8(first, bs), _mm256_cmpeq_epi8(second, u));
		__m256i h = _mm256_and_si256(_mm256_cmpeq_epi8(first, t), _mm256_cmpeq_epi8(last, c));
		if (_mm256_testz_si256(_mm256_or_si256(e, h), _mm256_or_si256(e, h)))
			continue;
		size_t k = block_hit(p + i, (unsigned)_mm256_movemask_epi8(h),
		                     (unsigned)_mm256_movemask_epi8(e));
		if (k != NO_HIT)
			return i + k;
	}
	return next_candidate_sse2(p, n, i);
}
#endif

/* The path follows the JSON scanner's (TELEMETRA_SCANNER), so that
 * tests/scan-paths.sh compares every one. */
static size_t next_candidate(const char *p, size_t n, size_t i)
{
#ifdef HAVE_AVX2_PATH
	if (jscan_simd_active() == JSCAN_AVX2)
		return next_candidate_avx2(p, n, i);
#endif
	return next_candidate_sse2(p, n, i);
}

/* Decode the lines of text[0..n) that may name a lane, as replay will. */
static void scan_block(struct record_decoder *dec, const char *text, size_t n,
                       struct lane_set *set)
{
	for (size_t at = next_candidate(text, n, 0); at < n;) {
		const char *nl = memrchr(text, '\n', at);
		size_t start = nl ? (size_t)(nl - text) + 1 : 0;
		nl = memchr(text + at, '\n', n - at);
		size_t end = nl ? (size_t)(nl - text) : n;
		size_t len = end - start;
		/* input_next() would hand an overlong line over cut short and
		 * flagged, and replay makes it a dead letter: it names nothing. */
		if (len <= INPUT_MAX_LINE) {
			if (len && text[end - 1] == '\r')
				len--;
			struct decoded_line r;
			record_decode(dec, text + start, len, false, &r);
			lane_set_note(set, &r);
		}
		at = end < n ? next_candidate(text, n, end + 1) : n;
	}
}

/*
 * A regular file is read here with read() into one buffer that stays in
 * the cache, and searched a megabyte at a time: not line by line, and
 * not mapped (a page fault per few pages, and madvise to give them back,
 * cost more than the copy).  The lines seen
 * are those of input_next_block(): whole lines, the last one possibly
 * without its "\n", one over INPUT_MAX_LINE skipped (it names nothing).
 * False when the file cannot be read: err says so.
 */
#define READ_CHUNK (1024 * 1024)

/* The lines of fd from byte `from` (a line's start) to the end of the
 * file, or to byte `to` (just after a "\n") when it is not UINT64_MAX,
 * into *set.  False when the file cannot be read: err says so. */
static bool read_lines(struct record_decoder *dec, int fd, const char *path, uint64_t from,
                       uint64_t to, struct lane_set *set, struct error *err)
{
	size_t cap = READ_CHUNK, have = 0;
	char *buf = xmalloc(cap);
	bool skipping = false; /* inside an overlong line, until its "\n" */
	bool ok = true;
	uint64_t pos = from;
	for (;;) {
		if (cap - have < READ_CHUNK / 2) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		size_t want = cap - have;
		if (to != UINT64_MAX && to - pos < want)
			want = (size_t)(to - pos);
		ssize_t got = want ? pread(fd, buf + have, want, (off_t)pos) : 0;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			error_set(err, "cannot read %s: %s", path, strerror(errno));
			ok = false;
			break;
		}
		if (got == 0) {
			if (have && !skipping)
				scan_block(dec, buf, have, set);
			break;
		}
		pos += (uint64_t)got;
		size_t from_byte = have;
		have += (size_t)got;
		if (skipping) {
			const char *nl = memchr(buf + from_byte, '\n', have - from_byte);
			if (!nl) {
				have = 0;
				continue;
			}
			from_byte = 0;
			size_t cut = (size_t)(nl - buf) + 1;
			memmove(buf, buf + cut, have - cut);
			have -= cut;
			skipping = false;
		}
		/* buf[0..from_byte) holds no "\n": it was cut after the last one. */
		const char *nl = memrchr(buf + from_byte, '\n', have - from_byte);
		if (nl) {
			size_t len = (size_t)(nl - buf);
			scan_block(dec, buf, len, set);
			memmove(buf, nl + 1, have - len - 1);
			have -= len + 1;
		} else if (have > INPUT_MAX_LINE) {
			skipping = true; /* the rest of this line is not kept */
			have = 0;
		}
		if (cap > 4 * READ_CHUNK && have < READ_CHUNK) { /* a long line has gone */
			cap = READ_CHUNK;
			buf = xrealloc(buf, cap);
		}
	}
	free(buf);
	return ok;
}

/*
 * With two threads a large file is scanned in two halves at once, cut
 * just after a "\n" near its middle, the second half into a lane set of
 * its own; the lanes of that set are then added to the first in their
 * order, which gives the set one pass in file order gives (a lane keeps
 * the place of its first appearance, and is open-recorded if either half
 * says so).  The pre-scan is on the critical path: the engine cannot start
 * before it is done.
 */
#define SPLIT_MIN (16u << 20) /* smaller files: one pass, the thread costs more */
#define SPLIT_LOOK (64u << 10) /* how far past the middle a "\n" is looked for */

struct half {
	struct record_decoder dec;
	int fd;
	const char *path;
	uint64_t from;
	struct lane_set set;
	struct error err;
	bool ok;
};

static void *scan_half(void *arg)
{
	struct half *h = arg;
	h->ok = read_lines(&h->dec, h->fd, h->path, h->from, UINT64_MAX, &h->set, &h->err);
	return NULL;
}

/* Where to cut fd (size bytes) in two: just after a "\n" near its
 * middle, or 0 for no cut. */
static uint64_t split_point(int fd, uint64_t size)
{
	if (size < SPLIT_MIN)
		return 0;
	char *look = xmalloc(SPLIT_LOOK);
	uint64_t mid = size / 2, cut = 0;
	ssize_t got;
	do
		got = pread(fd, look, SPLIT_LOOK, (off_t)mid);
	while (got < 0 && errno == EINTR);
	const char *nl = got > 0 ? memchr(look, '\n', (size_t)got) : NULL;
	if (nl)
		cut = mid + (uint64_t)(nl - look) + 1;
	free(look);
	return cut;
}

static bool scan_file(struct record_decoder *dec, const char *path, unsigned threads,
                      struct lane_set *set, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, "cannot open %s: %s", path, strerror(errno));
		return false;
	}
	struct stat st;
	uint64_t cut = threads >= 2 && fstat(fd, &st) == 0 ? split_point(fd, (uint64_t)st.st_size) : 0;
	struct half h = {.dec = {.chat_topic = dec->chat_topic, .viewer_topic = dec->viewer_topic},
	                 .fd = fd, .path = path, .from = cut};
	pthread_t thread;
	bool two = cut && pthread_create(&thread, NULL, scan_half, &h) == 0;
	bool ok = read_lines(dec, fd, path, 0, two ? cut : UINT64_MAX, set, err);
	if (two) {
		pthread_join(thread, NULL);
		if (ok && !h.ok) {
			*err = h.err;
			ok = false;
		}
		for (size_t i = 0; i < h.set.n; i++) {
			const struct lane_seen *l = &h.set.lanes[i];
			lane_set_add(set, sv_make(l->topic, l->topic_len), l->partition, l->has_open_record);
		}
	}
	lane_set_free(&h.set);
	record_decoder_free(&h.dec);
	close(fd);
	return ok;
}

bool lanescan_rescannable(const char *path)
{
	struct stat st;
	return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool lanescan_files(const char *const *paths, size_t n, const char *chat_topic,
                    const char *viewer_topic, unsigned threads, struct lane_set *set,
                    struct error *err)
{
	struct record_decoder dec = {.chat_topic = chat_topic, .viewer_topic = viewer_topic};
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		if (!lanescan_rescannable(paths[i]))
			continue;
		struct input *in = input_open(paths[i], err);
		if (!in) {
			ok = false;
			break;
		}
		if (input_lines_stay(in)) { /* a regular file: in blocks */
			input_close(in);
			ok = scan_file(&dec, paths[i], threads, set, err);
			continue;
		}
		input_skip_digest(in); /* the real pass computes it */
		struct input_line block;
		int got;
		while ((got = input_next_block(in, &block, err)) > 0)
			if (!block.overlong)
				scan_block(&dec, block.data, block.len, set);
		/* Damage ends the scan of this file: the lanes before it count,
		 * and the real pass records the damage as a dead letter. */
		ok = got == 0 || got == INPUT_DAMAGED;
		input_close(in);
	}
	record_decoder_free(&dec);
	return ok;
}
