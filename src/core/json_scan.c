/*
 * json_scan.c — the validating, zero-copy scanner of one flat JSON object
 * on the per-event path (core/json_scan.h), with AVX2, SSE2 and portable
 * loops over plain string bytes, the best the machine has chosen at
 * start-up.
 */
#include "config.h"

#include "core/json_scan.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

struct scanner {
	const char *start;
	const char *end;
	struct error *err;
};

static void fail(struct scanner *s, const char *at, const char *what)
{
	if (at >= s->end)
		error_set(s->err, "the record ends early (truncated?): %s", what);
	else
		error_set(s->err, "%s at byte %zu", what, (size_t)(at - s->start) + 1);
}

static inline const char *skip_ws(const char *p, const char *end)
{
	if (p < end && (unsigned char)*p > ' ')
		return p; /* compact JSON: the usual case, one test */
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/*
 * Skip string bytes that need no attention: everything but a quote, a
 * backslash or a control character.  Strings (the chat message above all)
 * are most of an event's bytes, so this is the scanner's hot loop, a block
 * at a time: 32 bytes with AVX2, 16 with SSE2, 8 with portable SWAR.  Each
 * returns the exact first special byte (or end), never just the block
 * holding one, so that scan_string() handles each special byte once.
 */
static inline const char *skip_plain_portable(const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
		/* A byte's high bit is set where it is zero (q, b) or below 0x20
		 * (w); a borrow can only mark bytes above a truly special one,
		 * so the lowest marked byte is exact. */
		uint64_t special = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) &
		                   highs;
		if (special) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return p + __builtin_ctzll(special) / 8;
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
		p++;
	return p;
}

#ifdef __SSE2__
#include <emmintrin.h>

static inline const char *skip_plain_sse2(const char *p, const char *end)
{
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1F);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i special = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
			_mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl)); /* unsigned v <= 0x1F */
		int mask = _mm_movemask_epi8(special);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
	return skip_plain_portable(p, end);
}
#endif

#if defined(__x86_64__) && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_PATH 1
#include <immintrin.h>

/* Compiled for AVX2 whatever the build's flags; called only where the CPU
 * has it (jscan_simd_best). */
__attribute__((target("avx2"))) static const char *skip_plain_avx2(const char *p,
                                                                   const char *end)
{
	const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
	const __m256i ctl = _mm256_set1_epi8(0x1F);
	while (end - p >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i special = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
			_mm256_cmpeq_epi8(_mm256_max_epu8(v, ctl), ctl));
		unsigned mask = (unsigned)_mm256_movemask_epi8(special);
		if (mask)
			return p + __builtin_ctz(mask);
		p += 32;
	}
	return skip_plain_sse2(p, end); /* the last block under 32 bytes */
}
#endif

/* Set once at start-up (below) or by jscan_simd_select(); read on every
 * string. */
static enum jscan_simd simd_active = JSCAN_PORTABLE;

enum jscan_simd jscan_simd_best(void)
{
#ifdef HAVE_AVX2_PATH
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return JSCAN_AVX2;
#endif
#ifdef __SSE2__
	return JSCAN_SSE2;
#else
	return JSCAN_PORTABLE;
#endif
}

__attribute__((constructor)) static void simd_init(void)
{
	simd_active = jscan_simd_best();
}

bool jscan_simd_select(enum jscan_simd which)
{
	if (which > jscan_simd_best())
		return false;
	simd_active = which;
	return true;
}

enum jscan_simd jscan_simd_active(void)
{
	return simd_active;
}

const char *jscan_simd_name(enum jscan_simd which)
{
	switch (which) {
	case JSCAN_AVX2: return "avx2";
	case JSCAN_SSE2: return "sse2";
	case JSCAN_PORTABLE: break;
	}
	return "portable";
}

static inline const char *skip_plain(const char *p, const char *end)
{
	switch (simd_active) {
#ifdef HAVE_AVX2_PATH
	case JSCAN_AVX2: return skip_plain_avx2(p, end);
#endif
#ifdef __SSE2__
	case JSCAN_SSE2: return skip_plain_sse2(p, end);
#endif
	default: return skip_plain_portable(p, end);
	}
}

const char *jscan_skip_plain(const char *p, const char *end)
{
	return skip_plain(p, end);
}

/* Most strings (keys, ids, timestamps) end within 16 bytes: look at
 * those inline with SSE2, which every x86-64 has, before the call to
 * the selected path; the answer is the same exact byte either way. */
static inline const char *skip_plain_first(const char *p, const char *end)
{
#ifdef __SSE2__
	if (simd_active != JSCAN_PORTABLE && end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i special = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
			_mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F)));
		int mask = _mm_movemask_epi8(special);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	return skip_plain(p, end);
}

/* The rest of scan_string(), from p, the first byte that needs a look;
 * open is the opening quote. */
static const char *scan_string_rest(struct scanner *s, const char *open, const char *p,
                                    bool *escaped)
{
	for (;;) {
		if (p >= s->end) {
			fail(s, open, "unterminated string starting");
			return NULL;
		}
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p;
		if (c < 0x20) {
			fail(s, p, "control character inside a string");
			return NULL;
		}
		if (c == '\\') {
			*escaped = true;
			if (p + 1 >= s->end) {
				fail(s, open, "unterminated string starting");
				return NULL;
			}
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u':
				if (s->end - p < 6 || hex_digit_value(p[2]) < 0 || hex_digit_value(p[3]) < 0 ||
				    hex_digit_value(p[4]) < 0 || hex_digit_value(p[5]) < 0) {
					fail(s, p, "invalid \\u escape");
					return NULL;
				}
				p += 6;
				break;
			default:
				fail(s, p, "invalid escape sequence");
				return NULL;
			}
			p = skip_plain(p, s->end);
			continue;
		}
		p = skip_plain(p + 1, s->end);
	}
}

/* p points just past the opening quote; returns the closing quote or NULL.
 * Inline for the usual string, plain to its quote; the rest out of line. */
static inline const char *scan_string(struct scanner *s, const char *p, bool *escaped)
{
	*escaped = false;
	const char *q = skip_plain_first(p, s->end);
	if (q < s->end && *q == '"')
		return q;
	return scan_string_rest(s, p - 1, q, escaped);
}

static const char *scan_number(struct scanner *s, const char *p)
{
	const char *q = p;
	if (q < s->end && *q == '-')
		q++;
	if (q >= s->end || *q < '0' || *q > '9') {
		fail(s, p, "invalid number");
		return NULL;
	}
	if (*q == '0')
		q++;
	else
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	if (q < s->end && *q == '.') {
		q++;
		if (q >= s->end || *q < '0' || *q > '9') {
			fail(s, p, "invalid number");
			return NULL;
		}
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < s->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < s->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= s->end || *q < '0' || *q > '9') {
			fail(s, p, "invalid number");
			return NULL;
		}
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	}
	return q;
}

static const char *scan_literal(struct scanner *s, const char *p, const char *word, size_t n)
{
	if ((size_t)(s->end - p) < n || memcmp(p, word, n) != 0) {
		fail(s, p, "invalid literal");
		return NULL;
	}
	return p + n;
}

/* A scalar at p (string, number, literal); returns the byte after it. */
static const char *scan_scalar(struct scanner *s, const char *p)
{
	bool esc;
	const char *q;
	if (p >= s->end) {
		fail(s, p, "unexpected end of input");
		return NULL;
	}
	switch (*p) {
	case '"':
		q = scan_string(s, p + 1, &esc);
		return q ? q + 1 : NULL;
	case 't': return scan_literal(s, p, "true", 4);
	case 'f': return scan_literal(s, p, "false", 5);
	case 'n': return scan_literal(s, p, "null", 4);
	default:
		if (*p != '-' && (*p < '0' || *p > '9')) {
			fail(s, p, "unexpected character");
			return NULL;
		}
		return scan_number(s, p);
	}
}

/*
 * A nested array or object at p, validated and skipped; returns the byte
 * after it.  Iterative, with the open brackets kept as one bit each (1 =
 * object): nested values are never read, only skipped, so no depth is too
 * deep for valid JSON — a recursion limit would make a valid event whose
 * ignored field nests deeply "not JSON".  The first 256 levels live on the
 * stack; deeper ones in a heap array freed before returning (at most one
 * bit per byte of input).
 */
static const char *scan_container(struct scanner *s, const char *p)
{
	uint64_t small[4], *bits = small;
	size_t cap = sizeof(small) * 8, depth = 0;
	const char *ret = NULL;
	enum { OPENED, VALUE, AFTER } state = OPENED;
	goto open;
	for (;;) {
		switch (state) {
		case VALUE:
			p = skip_ws(p, s->end);
			if (p < s->end && (*p == '{' || *p == '[')) {
			open:
				if (depth == cap) {
					uint64_t *more = xmalloc(cap / 4);
					memcpy(more, bits, cap / 8);
					if (bits != small)
						free(bits);
					bits = more;
					cap *= 2;
				}
				if (*p == '{')
					bits[depth / 64] |= UINT64_C(1) << (depth % 64);
				else
					bits[depth / 64] &= ~(UINT64_C(1) << (depth % 64));
				depth++;
				p++;
				state = OPENED;
				continue;
			}
			p = scan_scalar(s, p);
			if (!p)
				goto out;
			state = AFTER;
			continue;
		case OPENED:
		case AFTER: {
			bool object = bits[(depth - 1) / 64] >> ((depth - 1) % 64) & 1;
			char close = object ? '}' : ']';
			p = skip_ws(p, s->end);
			if (p < s->end && *p == close) {
				p++;
				if (--depth == 0) {
					ret = p;
					goto out;
				}
				state = AFTER;
				continue;
			}
			if (state == AFTER) {
				if (p >= s->end || *p != ',') {
					fail(s, p, object ? "expected ',' or '}'" : "expected ',' or ']'");
					goto out;
				}
				p = skip_ws(p + 1, s->end);
			}
			if (object) {
				bool esc;
				if (p >= s->end || *p != '"') {
					fail(s, p, "expected a string key");
					goto out;
				}
				p = scan_string(s, p + 1, &esc);
				if (!p)
					goto out;
				p = skip_ws(p + 1, s->end);
				if (p >= s->end || *p != ':') {
					fail(s, p, "expected ':' after an object key");
					goto out;
				}
				p++;
			}
			state = VALUE;
			continue;
		}
		}
	}
out:
	if (bits != small)
		free(bits);
	return ret;
}

static const char *scan_value(struct scanner *s, const char *p, struct jscan_value *v)
{
	const char *q;
	if (p >= s->end) {
		fail(s, p, "unexpected end of input");
		return NULL;
	}
	v->escaped = false;
	switch (*p) {
	case '"':
		q = scan_string(s, p + 1, &v->escaped);
		if (!q)
			return NULL;
		v->type = JS_STRING;
		v->text = sv_make(p + 1, (size_t)(q - p - 1));
		return q + 1;
	case '{':
	case '[':
		q = scan_container(s, p);
		v->type = *p == '{' ? JS_OBJECT : JS_ARRAY;
		break;
	case 't':
		q = scan_literal(s, p, "true", 4);
		v->type = JS_TRUE;
		break;
	case 'f':
		q = scan_literal(s, p, "false", 5);
		v->type = JS_FALSE;
		break;
	case 'n':
		q = scan_literal(s, p, "null", 4);
		v->type = JS_NULL;
		break;
	default:
		if (*p != '-' && (*p < '0' || *p > '9')) {
			fail(s, p, "unexpected character");
			return NULL;
		}
		q = scan_number(s, p);
		v->type = JS_NUMBER;
		break;
	}
	if (q)
		v->text = sv_make(p, (size_t)(q - p));
	return q;
}

/*
 * An array of strings only at p, scanned as scan_value() would, its
 * elements recorded into scan->elems unless scan is NULL; returns the byte
 * after it, or NULL when it is anything else or not valid, with nothing
 * decided: the caller then scans it with scan_value(), which gives the
 * verdict and the message (err may have been set here first).  Recorded:
 * the "emotes" of a chat event, which the decoder then need not scan
 * again.  Not recorded: any other array, such as "badges" (the general
 * container scan cost ~170 instructions even for "[]").
 */
__attribute__((always_inline)) static inline const char *string_array(struct scanner *s,
                                                                      const char *p,
                                                                      struct jscan *scan)
{
	if (scan)
		scan->n_elems = 0;
	p = skip_ws(p + 1, s->end);
	if (p < s->end && *p == ']')
		return p + 1;
	for (;;) {
		if (p >= s->end || *p != '"')
			return NULL;
		bool escaped;
		const char *q = scan_string(s, p + 1, &escaped);
		if (!q)
			return NULL;
		if (scan) {
			if (scan->n_elems == scan->elems_cap)
				scan->elems = grow_array(scan->elems, sizeof(*scan->elems),
				                         &scan->elems_cap, scan->n_elems + 1);
			struct jscan_value *e = &scan->elems[scan->n_elems++];
			e->escaped = escaped;
			e->type = JS_STRING;
			e->text = sv_make(p + 1, (size_t)(q - p - 1));
		}
		p = skip_ws(q + 1, s->end);
		if (p < s->end && *p == ',') {
			p = skip_ws(p + 1, s->end);
			continue;
		}
		if (p < s->end && *p == ']')
			return p + 1;
		return NULL;
	}
}

__attribute__((always_inline)) static inline enum jscan_key classify_name(const char *k,
                                                                           size_t n)
{
	/* By length first: one switch and at most three comparisons of a few
	 * bytes (inlined; no memcmp call) per member. */
#define IS(name) (memcmp(k, name, sizeof(name) - 1) == 0)
	switch (n) {
	case 4: return IS("type") ? JK_TYPE : JK_OTHER;
	case 5: return IS("topic") ? JK_TOPIC : JK_OTHER;
	case 6: return IS("emotes") ? JK_EMOTES : IS("offset") ? JK_OFFSET : JK_OTHER;
	case 7: return IS("message") ? JK_MESSAGE : IS("user_id") ? JK_USER_ID
	             : IS("channel") ? JK_CHANNEL : IS("control") ? JK_CONTROL : JK_OTHER;
	case 8: return IS("username") ? JK_USERNAME : JK_OTHER;
	case 9: return IS("timestamp") ? JK_TIMESTAMP : IS("stream_id") ? JK_STREAM_ID
	             : IS("partition") ? JK_PARTITION : JK_OTHER;
	case 12: return IS("viewer_count") ? JK_VIEWER_COUNT : JK_OTHER;
	default: return JK_OTHER;
	}
#undef IS
}

static size_t decode_into(const char *raw, size_t n, char *out);

static enum jscan_key classify_key(const struct jscan_value *key)
{
	if (!key->escaped)
		return classify_name(key->text.ptr, key->text.len);
	/* Rare: a key with escapes.  A known name (at most 12 characters, 6
	 * bytes each when escaped) is never longer than this when raw. */
	char tmp[128];
	if (key->text.len > sizeof(tmp))
		return JK_OTHER;
	return classify_name(tmp, decode_into(key->text.ptr, key->text.len, tmp));
}

enum jscan_status jscan_object(struct jscan *scan, const char *text, size_t len,
                                       struct error *err)
{
	struct scanner s = {text, text + len, err};
	const char *p = skip_ws(text, s.end);
	scan->n = 0;
	scan->elems_of = 0;
	memset(scan->known, 0, sizeof(scan->known));
	if (p >= s.end) {
		error_set(err, "empty record");
		return JSCAN_NOT_JSON;
	}
	if (*p != '{') {
		struct jscan_value v;
		const char *q = scan_value(&s, p, &v);
		if (!q)
			return JSCAN_NOT_JSON;
		q = skip_ws(q, s.end);
		if (q != s.end) {
			fail(&s, q, "unexpected characters after the JSON value");
			return JSCAN_NOT_JSON;
		}
		error_set(err, "a JSON %s, not an object",
		          v.type == JS_ARRAY ? "array" : v.type == JS_STRING ? "string" :
		          v.type == JS_NUMBER ? "number" : v.type == JS_NULL ? "null" : "boolean");
		return JSCAN_NOT_OBJECT;
	}

	p = skip_ws(p + 1, s.end);
	if (p < s.end && *p == '}') {
		p++;
	} else {
		for (;;) {
			if (scan->n == scan->cap)
				scan->members = grow_array(scan->members, sizeof(*scan->members),
				                           &scan->cap, scan->n + 1);
			struct jscan_member *m = &scan->members[scan->n];
			if (p >= s.end || *p != '"') {
				fail(&s, p, "expected a string key");
				return JSCAN_NOT_JSON;
			}
			const char *q = scan_string(&s, p + 1, &m->key.escaped);
			if (!q)
				return JSCAN_NOT_JSON;
			m->key.type = JS_STRING;
			m->key.text = sv_make(p + 1, (size_t)(q - p - 1));
			/* Compact JSON, '"key":v' with v not blank, is decided
			 * in one test; anything else goes the general way. */
			if (s.end - q > 2 && q[1] == ':' && (unsigned char)q[2] > ' ') {
				p = q + 2;
			} else {
				p = skip_ws(q + 1, s.end);
				if (p >= s.end || *p != ':') {
					fail(&s, p, "expected ':' after an object key");
					return JSCAN_NOT_JSON;
				}
				p = skip_ws(p + 1, s.end);
			}
			enum jscan_key k = m->key.escaped ? classify_key(&m->key)
			                   : classify_name(m->key.text.ptr, m->key.text.len);
			const char *after = NULL;
			if (k == JK_EMOTES && p < s.end && *p == '[') {
				after = string_array(&s, p, scan);
				if (after)
					scan->elems_of = (uint32_t)scan->n + 1;
				else
					scan->elems_of = 0; /* elems were written over */
			} else if (p < s.end && *p == '[') {
				after = string_array(&s, p, NULL);
			}
			if (after) {
				m->value.type = JS_ARRAY;
				m->value.escaped = false;
				m->value.text = sv_make(p, (size_t)(after - p));
			}
			if (after) {
				p = after;
			} else if (p < s.end && *p == '"') {
				/* The usual value, a string: scan_value()'s case, inline. */
				const char *close = scan_string(&s, p + 1, &m->value.escaped);
				if (!close)
					return JSCAN_NOT_JSON;
				m->value.type = JS_STRING;
				m->value.text = sv_make(p + 1, (size_t)(close - p - 1));
				p = close + 1;
			} else {
				p = scan_value(&s, p, &m->value);
				if (!p)
					return JSCAN_NOT_JSON;
			}
			scan->n++;
			if (k != JK_OTHER)
				scan->known[k] = (uint32_t)scan->n;
			if (s.end - p > 1 && p[0] == ',' && p[1] == '"') {
				p++; /* compact: the next key right after the comma */
				continue;
			}
			p = skip_ws(p, s.end);
			if (p < s.end && *p == ',') {
				p = skip_ws(p + 1, s.end);
				continue;
			}
			if (p < s.end && *p == '}') {
				p++;
				break;
			}
			fail(&s, p, "expected ',' or '}'");
			return JSCAN_NOT_JSON;
		}
	}
	p = skip_ws(p, s.end);
	if (p != s.end) {
		fail(&s, p, "unexpected characters after the JSON object");
		return JSCAN_NOT_JSON;
	}
	return JSCAN_OK;
}

void jscan_free(struct jscan *scan)
{
	free(scan->members);
	scan->members = NULL;
	scan->n = scan->cap = 0;
	free(scan->elems);
	scan->elems = NULL;
	scan->n_elems = scan->elems_cap = 0;
	scan->elems_of = 0;
}

/* Decode escapes of raw[0..n) into out (which must hold n bytes). */
static size_t decode_into(const char *raw, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		char c = raw[i];
		if (c != '\\') {
			out[o++] = c;
			i++;
			continue;
		}
		char e = raw[i + 1];
		i += 2;
		switch (e) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			uint32_t cp = (uint32_t)(hex_digit_value(raw[i]) << 12 | hex_digit_value(raw[i + 1]) << 8 |
			                         hex_digit_value(raw[i + 2]) << 4 | hex_digit_value(raw[i + 3]));
			i += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= n && raw[i] == '\\' && raw[i + 1] == 'u') {
				uint32_t lo = (uint32_t)(hex_digit_value(raw[i + 2]) << 12 | hex_digit_value(raw[i + 3]) << 8 |
				                         hex_digit_value(raw[i + 4]) << 4 | hex_digit_value(raw[i + 5]));
				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 6;
				}
			}
			if (cp >= 0xD800 && cp < 0xE000) {
				/* Lone surrogate: keep its (invalid) 3-byte form, see header. */
				out[o++] = (char)(0xE0 | (cp >> 12));
				out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				out[o++] = (char)(0x80 | (cp & 0x3F));
			} else {
				o += utf8_encode(cp, out + o);
			}
			break;
		}
		default: out[o++] = e; break; /* '"', '\\', '/' */
		}
	}
	return o;
}

void jscan_string_unescape(const struct jscan_value *v, struct buf *scratch, struct strview *out)
{
	/* Decoding never lengthens: every escape is at least as long as the
	 * bytes it stands for. */
	buf_reserve(scratch, v->text.len);
	char *dst = scratch->data + scratch->len;
	size_t n = decode_into(v->text.ptr, v->text.len, dst);
	scratch->len += n;
	scratch->data[scratch->len] = '\0';
	*out = sv_make(dst, n);
}

bool jscan_key_eq(const struct jscan_value *key, const char *name, size_t name_len)
{
	if (!key->escaped)
		return key->text.len == name_len && memcmp(key->text.ptr, name, name_len) == 0;
	if (key->text.len > 256)
		return false;
	char tmp[256];
	size_t n = decode_into(key->text.ptr, key->text.len, tmp);
	return n == name_len && memcmp(tmp, name, name_len) == 0;
}

const struct jscan_member *jscan_find(const struct jscan *scan, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = scan->n; i-- > 0;)
		if (jscan_key_eq(&scan->members[i].key, name, len))
			return &scan->members[i];
	return NULL;
}

void jscan_array_begin(struct jscan_array_iter *it, const struct jscan_value *array)
{
	/* text is "[ ... ]": start after the bracket, stop before the last. */
	it->p = array->text.ptr + 1;
	it->end = array->text.ptr + array->text.len - 1;
}

bool jscan_array_next(struct jscan_array_iter *it, struct jscan_value *elem)
{
	struct scanner s = {it->p, it->end, NULL};
	const char *p = skip_ws(it->p, it->end);
	if (p < it->end && *p == ',')
		p = skip_ws(p + 1, it->end);
	if (p >= it->end)
		return false;
	const char *q = scan_value(&s, p, elem);
	if (!q)
		return false; /* cannot happen on validated text */
	it->p = q;
	return true;
}

bool jscan_integer(const struct jscan_value *v, int64_t *out)
{
	if (v->type != JS_NUMBER)
		return false;
	const char *p = v->text.ptr, *end = p + v->text.len;
	bool neg = false;
	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= end)
		return false;
	/* Accumulate the magnitude; a negative number may reach 2^63. */
	uint64_t limit = neg ? UINT64_C(9223372036854775808) : UINT64_C(9223372036854775807);
	uint64_t acc = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false; /* fraction or exponent */
		if (acc > (limit - (uint64_t)(*p - '0')) / 10)
			return false;
		acc = acc * 10 + (uint64_t)(*p - '0');
	}
	*out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return true;
}
