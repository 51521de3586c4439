/*
 * lanescan.c — a first pass over event files for the lanes they name (see
 * lanescan.h).  Each line that may name a lane is decoded as replay will
 * decode it, except the envelope payloads, so that only lines replay takes
 * as envelopes and lane control records name lanes: a bad envelope opens
 * nothing.
 */
#include "config.h"

#include "io/lanescan.h"

#include <string.h>
#include <sys/stat.h>

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
static size_t next_candidate(const char *p, size_t n, size_t i)
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
		for (; m; m &= m - 1) {
			unsigned k = (unsigned)__builtin_ctz(m);
			if (esc && (unsigned)__builtin_ctz(esc) < k)
				break;
			if (!memcmp(p + i + k + 1, "opi", 3))
				return i + k;
		}
		if (esc)
			return i + (unsigned)__builtin_ctz(esc);
	}
#endif
	for (; i < n; i++)
		if ((p[i] == '\\' && i + 1 < n && p[i + 1] == 'u') ||
		    (p[i] == 't' && n - i >= 5 && !memcmp(p + i, "topic", 5)))
			return i;
	return n;
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

bool lanescan_rescannable(const char *path)
{
	struct stat st;
	return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool lanescan_files(const char *const *paths, size_t n, const char *chat_topic,
                    const char *viewer_topic, struct lane_set *set, struct error *err)
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
