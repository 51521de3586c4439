/*
 * lanescan.c — a first pass over event files for the lanes they name (see
 * lanescan.h).  Each line is decoded as replay will decode it, except the
 * envelope payloads, so that only lines replay takes as envelopes and
 * lane control records name lanes: a bad envelope opens nothing.
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
 * Could this line name a lane?  Only if it has a "topic" member, spelled
 * out or with \u escapes (the only escapes that make letters).  Most lines
 * of most files are bare events with neither, so this is the whole cost of
 * the pre-scan for them: one pass that looks for "\u", or for a 't' with
 * a 'c' four bytes on (Muła's SIMD substring filter), confirmed by memcmp.  glibc's memmem was a tenth of a whole replay.
 */
static bool may_name_lane(const char *p, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i t = _mm_set1_epi8('t'), c = _mm_set1_epi8('c');
	const __m128i bs = _mm_set1_epi8('\\'), u = _mm_set1_epi8('u');
	for (; i + 16 + 4 <= n; i += 16) {
		__m128i first = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i second = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		__m128i last = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 4));
		if (_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(first, bs), _mm_cmpeq_epi8(second, u))))
			return true;
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(first, t), _mm_cmpeq_epi8(last, c)));
		for (; m; m &= m - 1)
			if (!memcmp(p + i + (unsigned)__builtin_ctz(m) + 1, "opi", 3))
				return true;
	}
#endif
	for (; i < n; i++)
		if ((p[i] == '\\' && i + 1 < n && p[i + 1] == 'u') ||
		    (p[i] == 't' && n - i >= 5 && !memcmp(p + i, "topic", 5)))
			return true;
	return false;
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
		struct input_line line;
		int got;
		while ((got = input_next(in, &line, err)) > 0) {
			if (line.overlong || !may_name_lane(line.data, line.len))
				continue;
			struct decoded_line r;
			record_decode(&dec, line.data, line.len, false, &r);
			lane_set_note(set, &r);
		}
		/* Damage ends the scan of this file: the lanes before it count,
		 * and the real pass records the damage as a dead letter. */
		ok = got == 0 || got == INPUT_DAMAGED;
		input_close(in);
	}
	record_decoder_free(&dec);
	return ok;
}
