/*
 * test_json.c — the zero-copy JSON object scanner (core/json_scan.h):
 * RFC 8259 validation, not-an-object, nesting of any depth, string
 * escapes including \u surrogate pairs and lone surrogates, duplicate keys
 * (last wins), arrays, and integer literals.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/json_scan.h"
#include "core/utf8.h"
#include "unit.h"

static enum jscan_status scan_str(struct jscan *js, const char *text, struct error *err)
{
	return jscan_object(js, text, strlen(text), err);
}

START_TEST(valid_object_members)
{
	struct jscan js = {0};
	struct error err = {{0}};
	const char *t = "{\"a\":1,\"b\":\"x\",\"c\":[1,2,{\"d\":null}],\"e\":{\"f\":true},"
	                "\"g\":false,\"h\":-1.5e+3,\"i\":null,\"j\":true}";
	ck_assert_int_eq(scan_str(&js, t, &err), JSCAN_OK);
	ck_assert_uint_eq(js.n, 8);
	static const struct {
		const char *key;
		enum jscan_type type;
		const char *text;
	} want[] = {
		{"a", JS_NUMBER, "1"},
		{"b", JS_STRING, "x"}, /* a string's text is between the quotes */
		{"c", JS_ARRAY, "[1,2,{\"d\":null}]"},
		{"e", JS_OBJECT, "{\"f\":true}"},
		{"g", JS_FALSE, "false"},
		{"h", JS_NUMBER, "-1.5e+3"},
		{"i", JS_NULL, "null"},
		{"j", JS_TRUE, "true"},
	};
	for (size_t i = 0; i < 8; i++) {
		ck_assert_sv_eq(js.members[i].key.text, want[i].key);
		ck_assert_int_eq(js.members[i].key.type, JS_STRING);
		ck_assert_int_eq(js.members[i].value.type, want[i].type);
		ck_assert_sv_eq(js.members[i].value.text, want[i].text);
		ck_assert(!js.members[i].value.escaped);
	}
	/* Spans point into the caller's bytes: zero-copy. */
	ck_assert_ptr_eq(js.members[1].value.text.ptr, strstr(t, "x\""));
	jscan_free(&js);
}
END_TEST

START_TEST(valid_whitespace_and_empty)
{
	struct jscan js = {0};
	ck_assert_int_eq(scan_str(&js, " \t\r\n{ \"a\" :\t1 ,\n\"b\" : [ ] , \"c\":{ } } \r\n", NULL),
	                 JSCAN_OK);
	ck_assert_uint_eq(js.n, 3);
	ck_assert_sv_eq(js.members[1].value.text, "[ ]");
	ck_assert_int_eq(scan_str(&js, "{}", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.n, 0); /* reused scanner: members reset */
	ck_assert_int_eq(scan_str(&js, "  { }  ", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.n, 0);
	/* Bytes inside strings are not checked for UTF-8 (deliberate leniency). */
	ck_assert_int_eq(scan_str(&js, "{\"m\":\"\xff\xfe\"}", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.members[0].value.text.len, 2);
	/* Valid UTF-8 and DEL pass too. */
	ck_assert_int_eq(scan_str(&js, "{\"m\":\"caf\xc3\xa9 \x7f \xf0\x9f\x98\x80\"}", NULL), JSCAN_OK);
	jscan_free(&js);
}
END_TEST

START_TEST(invalid_json)
{
	static const char *const bad[] = {
		"",
		"   ",
		"{",
		"}",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\":1,}",
		"{,}",
		"{'a':1}",
		"{a:1}",
		"{1:1}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":.5}",
		"{\"a\":+1}",
		"{\"a\":1e}",
		"{\"a\":1e+}",
		"{\"a\":-}",
		"{\"a\":--1}",
		"{\"a\":0x1}",
		"{\"a\":NaN}",
		"{\"a\":Infinity}",
		"{\"a\":tru}",
		"{\"a\":nul}",
		"{\"a\":True}",
		"{\"a\":nullx}",
		"{\"a\":[1,]}",
		"{\"a\":[1 2]}",
		"{\"a\":[}",
		"{\"a\":{\"b\"}}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":\"\\u12G4\"}",
		"{\"a\":\"\\U0041\"}",
		"{\"a\":\"\\\"}",
		"{\"a\":\"tab\there\"}",
		"{\"a\":\"new\nline\"}",
		"{\"a\":\"nul\x01\"}",
		"{\"a\":\"unterminated}",
		"{\"a\":1}}",
		"{\"a\":1} {}",
		"{\"a\":1}x",
		"{\"a\" 1}",
		"{\"a\":1\"b\":2}",
		"{\"a\":1;\"b\":2}",
		"{\"a\":\f1}",
		"\xef\xbb\xbf{}", /* a byte order mark is not JSON whitespace */
		"[1,",
		"[] x",
		"\"unterminated",
		"nul",
		"-",
	};
	struct jscan js = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct error err = {{0}};
		ck_assert_msg(scan_str(&js, bad[i], &err) == JSCAN_NOT_JSON, "accepted: %s", bad[i]);
		ck_assert_msg(err.msg[0] != '\0', "no error message for: %s", bad[i]);
	}
	/* The message says where. */
	struct error err = {{0}};
	ck_assert_int_eq(scan_str(&js, "{\"a\":tru}", &err), JSCAN_NOT_JSON);
	ck_assert_ptr_nonnull(strstr(err.msg, "byte 6"));
	/* The length is respected: a valid prefix of a longer buffer. */
	ck_assert_int_eq(jscan_object(&js, "{\"a\":1}garbage", 7, NULL), JSCAN_OK);
	ck_assert_int_eq(jscan_object(&js, "{\"a\":1}", 6, NULL), JSCAN_NOT_JSON);
	jscan_free(&js);
}
END_TEST

START_TEST(not_an_object)
{
	static const struct {
		const char *text;
		const char *word;
	} c[] = {
		{"[1,2]", "array"}, {" [ ] ", "array"}, {"\"s\"", "string"}, {"42", "number"},
		{"-0.5e3", "number"}, {"null", "null"}, {"true", "boolean"}, {"false", "boolean"},
	};
	struct jscan js = {0};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct error err = {{0}};
		ck_assert_msg(scan_str(&js, c[i].text, &err) == JSCAN_NOT_OBJECT, "%s", c[i].text);
		ck_assert_msg(strstr(err.msg, c[i].word) != NULL, "%s: \"%s\"", c[i].text, err.msg);
		ck_assert_msg(strstr(err.msg, "not an object") != NULL, "%s", err.msg);
	}
	jscan_free(&js);
}
END_TEST

/* "{\"a\":" + depth '[' + depth ']' + "}" */
static char *nested_in_object(int depth)
{
	char *s = malloc((size_t)depth * 2 + 8);
	size_t n = 0;
	memcpy(s, "{\"a\":", 5);
	n = 5;
	for (int i = 0; i < depth; i++)
		s[n++] = '[';
	for (int i = 0; i < depth; i++)
		s[n++] = ']';
	s[n++] = '}';
	s[n] = '\0';
	return s;
}

static char *nested_arrays(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);
	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[2 * depth - 1 - i] = ']';
	}
	s[2 * depth] = '\0';
	return s;
}

START_TEST(nesting_any_depth)
{
	/* Nested values are skipped, not read: valid JSON of any depth is
	 * valid (issue 9 item 11: 65 levels inside an ignored field used to be
	 * "not JSON"), and a deep invalid one is still invalid, without
	 * recursion (100 000 levels would overflow a recursive scanner). */
	struct jscan js = {0};
	struct error err = {{0}};
	static const int depths[] = {1, 63, 64, 65, 255, 256, 257, 1000, 100000};
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		char *s = nested_in_object(depths[i]);
		ck_assert_msg(scan_str(&js, s, &err) == JSCAN_OK, "depth %d: %s", depths[i], err.msg);
		ck_assert_int_eq(js.n, 1);
		ck_assert_int_eq(js.members[0].value.type, JS_ARRAY);
		ck_assert_int_eq(js.members[0].value.text.len, (size_t)depths[i] * 2);
		/* one bracket short: not JSON, at any depth */
		size_t n = strlen(s);
		s[n - 2] = '}';
		s[n - 1] = '\0';
		ck_assert_msg(scan_str(&js, s, &err) == JSCAN_NOT_JSON, "depth %d", depths[i]);
		free(s);
	}

	/* Objects nest the same way: {"a":{"a":...{}...}}, and mixed */
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"timestamp\":1,\"x\":");
	for (int i = 0; i < 5000; i++)
		buf_adds(&b, i % 2 ? "{\"a\":" : "[1, ");
	buf_adds(&b, "null");
	for (int i = 5000; i-- > 0;)
		buf_adds(&b, i % 2 ? "}" : "]");
	buf_adds(&b, ",\"z\":2}");
	ck_assert_int_eq(jscan_object(&js, b.data, b.len, &err), JSCAN_OK);
	ck_assert_int_eq(js.n, 3);
	ck_assert_ptr_nonnull(jscan_find(&js, "z"));
	/* a mismatched bracket deep inside */
	b.data[b.len - 10] = b.data[b.len - 10] == '}' ? ']' : '}';
	ck_assert_int_eq(jscan_object(&js, b.data, b.len, &err), JSCAN_NOT_JSON);
	buf_free(&b);

	/* A top-level array: valid JSON (not an object) at any depth. */
	char *s = nested_arrays(100000);
	ck_assert_int_eq(scan_str(&js, s, &err), JSCAN_NOT_OBJECT);
	free(s);
	jscan_free(&js);
}
END_TEST

/* Scan {"s":<literal>} and decode the string member. */
static void decode_one(const char *object, struct buf *scratch, struct strview *out)
{
	static struct jscan js;
	jscan_free(&js);
	ck_assert_int_eq(scan_str(&js, object, NULL), JSCAN_OK);
	ck_assert_uint_eq(js.n, 1);
	ck_assert_int_eq(js.members[0].value.type, JS_STRING);
	jscan_string(&js.members[0].value, scratch, out);
	/* The members array is freed here; the views point into object or
	 * scratch, not into it. */
	jscan_free(&js);
}

START_TEST(escapes_simple)
{
	struct buf scratch = BUF_INIT;
	struct strview v;
	decode_one("{\"s\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"}", &scratch, &v);
	ck_assert_sv_eq(v, "a\"b\\c/d\be\ff\ng\rh\ti");

	/* No escape: the view is the raw text itself, scratch untouched. */
	const char *plain = "{\"s\":\"plain text\"}";
	buf_reset(&scratch);
	decode_one(plain, &scratch, &v);
	ck_assert_sv_eq(v, "plain text");
	ck_assert_ptr_eq(v.ptr, plain + 6);
	ck_assert_uint_eq(scratch.len, 0);
	buf_free(&scratch);
}
END_TEST

START_TEST(escapes_unicode)
{
	static const struct {
		const char *object;
		const char *bytes;
		size_t n;
		bool valid_utf8;
	} c[] = {
		{"{\"s\":\"\\u0041\"}", "A", 1, true},
		{"{\"s\":\"\\u00e9\"}", "\xc3\xa9", 2, true},
		{"{\"s\":\"\\u00E9\"}", "\xc3\xa9", 2, true},
		{"{\"s\":\"\\u20ac\"}", "\xe2\x82\xac", 3, true},
		{"{\"s\":\"\\uffff\"}", "\xef\xbf\xbf", 3, true},
		{"{\"s\":\"\\u0000\"}", "\0", 1, true},
		/* U+1F600 = D83D DE00 -> F0 9F 98 80 */
		{"{\"s\":\"\\ud83d\\ude00\"}", "\xf0\x9f\x98\x80", 4, true},
		{"{\"s\":\"\\uD83D\\uDE00!\"}", "\xf0\x9f\x98\x80!", 5, true},
		/* U+10FFFF = DBFF DFFF -> F4 8F BF BF; U+10000 = D800 DC00 */
		{"{\"s\":\"\\udbff\\udfff\"}", "\xf4\x8f\xbf\xbf", 4, true},
		{"{\"s\":\"\\ud800\\udc00\"}", "\xf0\x90\x80\x80", 4, true},
		/* Lone surrogates keep their 3-byte form (invalid UTF-8). */
		{"{\"s\":\"\\ud800\"}", "\xed\xa0\x80", 3, false},
		{"{\"s\":\"\\ud800x\"}", "\xed\xa0\x80x", 4, false},
		{"{\"s\":\"\\udc00\"}", "\xed\xb0\x80", 3, false},
		{"{\"s\":\"\\udfff\\ud800\"}", "\xed\xbf\xbf\xed\xa0\x80", 6, false},
		/* ...followed by U+E000, just past the low surrogates: no pair */
		{"{\"s\":\"\\ud800\\ue000\"}", "\xed\xa0\x80\xee\x80\x80", 6, false},
		/* A high surrogate followed by a non-surrogate escape. */
		{"{\"s\":\"\\ud800\\u0041\"}", "\xed\xa0\x80" "A", 4, false},
		/* ...or by a second high surrogate. */
		{"{\"s\":\"\\ud83d\\ud83d\\ude00\"}", "\xed\xa0\xbd\xf0\x9f\x98\x80", 7, false},
		/* A high surrogate followed by a backslash but not \u. */
		{"{\"s\":\"\\ud83d\\n\"}", "\xed\xa0\xbd\n", 4, false},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct buf scratch = BUF_INIT;
		struct strview v;
		decode_one(c[i].object, &scratch, &v);
		ck_assert_msg(v.len == c[i].n && memcmp(v.ptr, c[i].bytes, c[i].n) == 0,
		              "case %zu: %s decoded to %zu bytes", i, c[i].object, v.len);
		ck_assert_msg(utf8_valid(v.ptr, v.len) == c[i].valid_utf8, "case %zu: %s", i,
		              c[i].object);
		buf_free(&scratch);
	}
}
END_TEST

START_TEST(scratch_views_stay_valid)
{
	/* json_scan.h: views into scratch stay valid while scratch does not
	 * grow, and it does not grow once the caller has reserved the length
	 * of the scanned text (decoding never lengthens).  Decode a short
	 * escaped string, then a long one, into the same reserved scratch: the
	 * first view must still point into scratch and read its bytes. */
	struct jscan js = {0};
	struct buf scratch = BUF_INIT;
	struct buf text = BUF_INIT;
	buf_adds(&text, "{\"a\":\"x\\ty\",\"b\":\"");
	for (int i = 0; i < 300; i++)
		buf_adds(&text, "\\n");
	buf_adds(&text, "\"}");
	ck_assert_int_eq(jscan_object(&js, text.data, text.len, NULL), JSCAN_OK);
	buf_reserve(&scratch, text.len);
	const char *before = scratch.data;
	struct strview first, second;
	jscan_string(&js.members[0].value, &scratch, &first);
	jscan_string(&js.members[1].value, &scratch, &second);
	ck_assert_uint_eq(second.len, 300);
	ck_assert_uint_eq(first.len, 3);
	uintptr_t lo = (uintptr_t)scratch.data, hi = lo + scratch.len, p = (uintptr_t)first.ptr;
	bool inside = p >= lo && p + first.len <= hi;
	bool moved = scratch.data != before;
	/* read the view only if it is inside the live buffer */
	bool same = inside && memcmp(first.ptr, "x\ty", 3) == 0;
	buf_free(&text); /* free before asserting: no leak when it fails */
	buf_free(&scratch);
	jscan_free(&js);
	ck_assert_msg(!moved, "scratch grew although the text's length was reserved");
	ck_assert_msg(inside, "the first view no longer points into scratch after the second decode");
	ck_assert(same);
}
END_TEST

START_TEST(find_last_key_wins)
{
	struct jscan js = {0};
	ck_assert_int_eq(scan_str(&js, "{\"a\":1,\"b\":2,\"a\":3}", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.n, 3); /* every member is recorded */
	const struct jscan_member *m = jscan_find(&js, "a");
	ck_assert_ptr_nonnull(m);
	ck_assert_sv_eq(m->value.text, "3");
	ck_assert_sv_eq(jscan_find(&js, "b")->value.text, "2");
	ck_assert_ptr_null(jscan_find(&js, "c"));
	ck_assert_ptr_null(jscan_find(&js, "A"));
	ck_assert_ptr_null(jscan_find(&js, ""));

	/* Escaped keys match their decoded form, and count as duplicates. */
	ck_assert_int_eq(scan_str(&js, "{\"a\":1,\"\\u0061\":2}", NULL), JSCAN_OK);
	ck_assert_sv_eq(jscan_find(&js, "a")->value.text, "2");
	ck_assert_int_eq(scan_str(&js, "{\"str\\u0065am\":7,\"\\\"q\":8}", NULL), JSCAN_OK);
	ck_assert_ptr_nonnull(jscan_find(&js, "stream"));
	ck_assert(js.members[0].key.escaped);
	ck_assert(jscan_key_eq(&js.members[0].key, "stream", 6));
	ck_assert(!jscan_key_eq(&js.members[0].key, "strea", 5));
	ck_assert(jscan_key_eq(&js.members[1].key, "\"q", 2));
	/* The empty key is a key. */
	ck_assert_int_eq(scan_str(&js, "{\"\":0}", NULL), JSCAN_OK);
	ck_assert_ptr_nonnull(jscan_find(&js, ""));
	jscan_free(&js);
}
END_TEST

START_TEST(array_iteration)
{
	struct jscan js = {0};
	ck_assert_int_eq(
		scan_str(&js, "{\"e\":[ \"x\" , 1 ,[2,3],{\"k\":\"v,]\"},null, \"a\\\"]\" ]}", NULL),
		JSCAN_OK);
	struct jscan_array_iter it;
	struct jscan_value e;
	static const enum jscan_type types[] = {JS_STRING, JS_NUMBER, JS_ARRAY, JS_OBJECT, JS_NULL,
	                                        JS_STRING};
	static const char *const texts[] = {"x", "1", "[2,3]", "{\"k\":\"v,]\"}", "null", "a\\\"]"};
	size_t n = 0;
	jscan_array_begin(&it, &js.members[0].value);
	while (jscan_array_next(&it, &e)) {
		ck_assert_uint_lt(n, 6);
		ck_assert_int_eq(e.type, types[n]);
		ck_assert_sv_eq(e.text, texts[n]);
		n++;
	}
	ck_assert_uint_eq(n, 6);

	static const char *const empty[] = {"{\"e\":[]}", "{\"e\":[ \n ]}"};
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(scan_str(&js, empty[i], NULL), JSCAN_OK);
		jscan_array_begin(&it, &js.members[0].value);
		ck_assert(!jscan_array_next(&it, &e));
	}
	jscan_free(&js);
}
END_TEST

START_TEST(integers)
{
	struct jscan js = {0};
	static const struct {
		const char *lit;
		bool ok;
		int64_t want;
	} c[] = {
		{"0", true, 0},
		{"-0", true, 0},
		{"42", true, 42},
		{"-42", true, -42},
		{"9223372036854775807", true, INT64_MAX},
		{"-9223372036854775807", true, -INT64_MAX},
		{"9223372036854775808", false, 0},
		{"18446744073709551616", false, 0},
		{"1.0", false, 0},
		{"1e2", false, 0},
		{"1E2", false, 0},
		{"-1.5", false, 0},
		{"\"5\"", false, 0},
		{"true", false, 0},
		{"null", false, 0},
		{"[1]", false, 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "{\"n\":%s}", c[i].lit);
		ck_assert_int_eq(scan_str(&js, text, NULL), JSCAN_OK);
		int64_t got = 12345;
		ck_assert_msg(jscan_integer(&js.members[0].value, &got) == c[i].ok, "%s", c[i].lit);
		if (c[i].ok)
			ck_assert_msg(got == c[i].want, "%s: got %lld", c[i].lit, (long long)got);
	}
	jscan_free(&js);
}
END_TEST

START_TEST(integer_int64_min)
{
	/* json_scan.h: "Is the value a JSON integer literal ... that fits
	 * int64?"  -9223372036854775808 fits.
	 * BUG (reported): jscan_integer() caps the magnitude at INT64_MAX for
	 * both signs, so INT64_MIN is refused. */
	struct jscan js = {0};
	int64_t got = 0;
	enum jscan_status st1 = scan_str(&js, "{\"n\":-9223372036854775808}", NULL);
	bool min_ok = st1 == JSCAN_OK && jscan_integer(&js.members[0].value, &got);
	enum jscan_status st2 = scan_str(&js, "{\"n\":-9223372036854775809}", NULL);
	int64_t ignored;
	bool below_ok = st2 == JSCAN_OK && jscan_integer(&js.members[0].value, &ignored);
	jscan_free(&js); /* before asserting: no leak when it fails */
	ck_assert_int_eq(st1, JSCAN_OK);
	ck_assert_int_eq(st2, JSCAN_OK);
	ck_assert(min_ok);
	ck_assert(got == INT64_MIN);
	ck_assert(!below_ok);
}
END_TEST

/* --- the block scanners: SIMD and portable paths agree ---------------------- */

static const enum jscan_simd all_paths[] = {JSCAN_PORTABLE, JSCAN_SSE2, JSCAN_AVX2};

/* A special byte (or a plain one next to the boundary of "special") at each
 * offset of buffers of every length around the 8/16/32-byte block sizes,
 * from start offsets on and off those blocks: each path stops exactly where a byte loop does.
 * The buffers are exactly their length, so ASan sees any over-read. */
START_TEST(skip_plain_paths_agree)
{
	static const unsigned char probes[] = {'"', '\\', 0x00, 0x01, 0x1F, 0x0A,
	                                       0x20, 0x7F, 0x80, 0xFF, '/', '!', '#', 0x5B, 0x5D};
	enum jscan_simd saved = jscan_simd_active();
	size_t tried = 0;
	for (size_t len = 0; len <= 70; len++) {
		for (size_t at = 0; at <= len; at++) {
			for (size_t pr = 0; pr < sizeof(probes); pr++) {
				char *b = malloc(len ? len : 1);
				memset(b, 'a', len);
				if (at < len)
					b[at] = (char)probes[pr];
				static const size_t starts[] = {0, 1, 3, 8, 15, 16, 17, 31, 33};
				for (size_t f = 0; f < sizeof(starts) / sizeof(starts[0]); f++) {
					size_t from = starts[f];
					if (from > len)
						break;
					const char *want = b + from;
					while (want < b + len && *want != '"' && *want != '\\' &&
					       (unsigned char)*want >= 0x20)
						want++;
					for (size_t i = 0; i < sizeof(all_paths) / sizeof(all_paths[0]); i++) {
						if (!jscan_simd_select(all_paths[i]))
							continue;
						tried += all_paths[i] != JSCAN_PORTABLE;
						ck_assert_msg(jscan_skip_plain(b + from, b + len) == want,
						              "%s: len %zu, 0x%02x at %zu, from %zu",
						              jscan_simd_name(all_paths[i]), len, probes[pr], at, from);
					}
				}
				free(b);
			}
		}
	}
	jscan_simd_select(saved);
#if defined(__x86_64__)
	ck_assert_uint_gt(tried, 0); /* SSE2 at least was compared */
	ck_assert(jscan_simd_best() >= JSCAN_SSE2);
#endif
}
END_TEST

/* Whole objects whose strings cross 16- and 32-byte block edges, with an
 * escape, a control character, a quote or a multi-byte UTF-8 character at
 * each position: every path gives the same verdict, message, spans and
 * decoded strings. */
START_TEST(scan_paths_agree)
{
	static const char *const inserts[] = {
		"\\\"", "\\\\", "\\u00e9", "\\ud83d\\ude00", "\\n", "\x01", "\x1f", "\"",
		"\xc3\xa9", "\xf0\x9f\x91\x80", "\\", "\\u12", "\\x", "\x7f",
	};
	enum jscan_simd saved = jscan_simd_active();
	struct buf text = BUF_INIT;
	for (size_t ins = 0; ins < sizeof(inserts) / sizeof(inserts[0]); ins++) {
		for (size_t pad = 0; pad <= 70; pad++) {
			for (int tail = 0; tail < 2; tail++) {
				buf_reset(&text);
				buf_printf(&text, "{\"k%.*s\":\"%.*s%s%s\",\"stream_id\":\"s\"%s", (int)(pad % 7),
				         "xxxxxxx", (int)pad,
				         "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
				         inserts[ins], tail ? "zzzzzzzzzzzzzzzzz" : "", tail ? "}" : "");
				struct jscan ref = {0};
				struct error ref_err = {{0}};
				ck_assert(jscan_simd_select(JSCAN_PORTABLE));
				char *exact = malloc(text.len);
				memcpy(exact, text.data, text.len);
				enum jscan_status want = jscan_object(&ref, exact, text.len, &ref_err);
				struct buf ref_s = BUF_INIT;
				struct strview ref_v = SV_NULL;
				if (want == JSCAN_OK)
					jscan_string(&ref.members[0].value, &ref_s, &ref_v);
				for (size_t i = 1; i < sizeof(all_paths) / sizeof(all_paths[0]); i++) {
					if (!jscan_simd_select(all_paths[i]))
						continue;
					struct jscan js = {0};
					struct error err = {{0}};
					enum jscan_status got = jscan_object(&js, exact, text.len, &err);
					ck_assert_msg(got == want && strcmp(err.msg, ref_err.msg) == 0,
					              "%s on %s: %d \"%s\", portable %d \"%s\"",
					              jscan_simd_name(all_paths[i]), text.data, got, err.msg, want,
					              ref_err.msg);
					if (got == JSCAN_OK) {
						ck_assert_uint_eq(js.n, ref.n);
						for (size_t m = 0; m < js.n; m++) {
							ck_assert_ptr_eq(js.members[m].value.text.ptr,
							                 ref.members[m].value.text.ptr);
							ck_assert_uint_eq(js.members[m].value.text.len,
							                  ref.members[m].value.text.len);
							ck_assert_int_eq(js.members[m].value.escaped,
							                 ref.members[m].value.escaped);
						}
						struct buf s = BUF_INIT;
						struct strview v;
						jscan_string(&js.members[0].value, &s, &v);
						ck_assert_uint_eq(v.len, ref_v.len);
						ck_assert(memcmp(v.ptr, ref_v.ptr, v.len) == 0);
						ck_assert_ptr_nonnull(jscan_known(&js, JK_STREAM_ID));
						buf_free(&s);
					}
					jscan_free(&js);
				}
				buf_free(&ref_s);
				jscan_free(&ref);
				free(exact);
			}
		}
	}
	buf_free(&text);
	jscan_simd_select(saved);
}
END_TEST

/* The members the scanner classifies: by any spelling, the last one wins,
 * unknown names are not classified. */
START_TEST(known_keys)
{
	struct jscan js = {0};
	ck_assert_int_eq(scan_str(&js, "{\"stream_id\":1,\"stream\\u005fid\":2,\"Type\":3,"
	                                "\"typ\":4,\"types\":5,\"\\u0074opic\":6,\"offset\":null}", NULL),
	                 JSCAN_OK);
	ck_assert_sv_eq(jscan_known(&js, JK_STREAM_ID)->value.text, "2");
	ck_assert_sv_eq(jscan_known(&js, JK_TOPIC)->value.text, "6");
	ck_assert_int_eq(jscan_known(&js, JK_OFFSET)->value.type, JS_NULL);
	ck_assert_ptr_null(jscan_known(&js, JK_TYPE));
	ck_assert_ptr_null(jscan_known(&js, JK_CHANNEL));
	/* A new scan forgets the last one's members. */
	ck_assert_int_eq(scan_str(&js, "{\"message\":\"m\"}", NULL), JSCAN_OK);
	ck_assert_ptr_null(jscan_known(&js, JK_STREAM_ID));
	ck_assert_sv_eq(jscan_known(&js, JK_MESSAGE)->value.text, "m");
	ck_assert_int_eq(scan_str(&js, "[1]", NULL), JSCAN_NOT_OBJECT);
	ck_assert_ptr_null(jscan_known(&js, JK_MESSAGE));
	jscan_free(&js);
}
END_TEST

START_TEST(emotes_recorded)
{
	struct jscan js = {0};
	struct error err = {{0}}, err2 = {{0}};
	/* An array of strings is recorded, escapes flagged. */
	ck_assert_int_eq(scan_str(&js, "{\"emotes\": [ \"a\" , \"b\\u0063\"],\"x\":1}", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.elems_of, js.known[JK_EMOTES]);
	ck_assert_uint_eq(js.n_elems, 2);
	ck_assert_sv_eq(js.elems[0].text, "a");
	ck_assert(!js.elems[0].escaped && js.elems[1].escaped);
	ck_assert_sv_eq(jscan_known(&js, JK_EMOTES)->value.text, "[ \"a\" , \"b\\u0063\"]");
	ck_assert_int_eq(jscan_known(&js, JK_EMOTES)->value.type, JS_ARRAY);
	ck_assert_int_eq(scan_str(&js, "{\"emotes\":[]}", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.elems_of, js.known[JK_EMOTES]);
	ck_assert_uint_eq(js.n_elems, 0);
	/* Anything else is scanned as any array, and not recorded; the last
	 * "emotes" is the one that counts. */
	ck_assert_int_eq(scan_str(&js, "{\"emotes\":[\"a\",1]}", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.elems_of, 0);
	ck_assert_int_eq(scan_str(&js, "{\"emotes\":[\"a\"],\"emotes\":[[\"b\"]]}", NULL), JSCAN_OK);
	ck_assert_uint_ne(js.elems_of, js.known[JK_EMOTES]);
	ck_assert_int_eq(scan_str(&js, "{\"emotes\":[{}],\"emotes\":[\"c\"]}", NULL), JSCAN_OK);
	ck_assert_uint_eq(js.elems_of, js.known[JK_EMOTES]);
	ck_assert_sv_eq(js.elems[0].text, "c");
	/* A broken array fails as it did when any array was scanned alike:
	 * the same message as the same array under another name. */
	const char *bad[] = {"[\"a\",]", "[\"a\"", "[\"a\" \"b\"]", "[\"a\\x\"]", "[\"a", "[\"a\",1,]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char t1[64], t2[64];
		snprintf(t1, sizeof(t1), "{\"emotes\":%s}", bad[i]);
		snprintf(t2, sizeof(t2), "{\"emoteZ\":%s}", bad[i]);
		ck_assert_int_eq(scan_str(&js, t1, &err), JSCAN_NOT_JSON);
		ck_assert_int_eq(scan_str(&js, t2, &err2), JSCAN_NOT_JSON);
		ck_assert_str_eq(err.msg, err2.msg);
	}
	jscan_free(&js);
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json_scan");
	TCase *tc = tcase_create("validation");
	tcase_add_test(tc, valid_object_members);
	tcase_add_test(tc, valid_whitespace_and_empty);
	tcase_add_test(tc, invalid_json);
	tcase_add_test(tc, not_an_object);
	tcase_add_test(tc, nesting_any_depth);
	suite_add_tcase(s, tc);
	tc = tcase_create("strings");
	tcase_add_test(tc, escapes_simple);
	tcase_add_test(tc, escapes_unicode);
	tcase_add_test(tc, scratch_views_stay_valid);
	suite_add_tcase(s, tc);
	tc = tcase_create("access");
	tcase_add_test(tc, find_last_key_wins);
	tcase_add_test(tc, array_iteration);
	tcase_add_test(tc, integers);
	tcase_add_test(tc, integer_int64_min);
	tcase_add_test(tc, known_keys);
	tcase_add_test(tc, emotes_recorded);
	suite_add_tcase(s, tc);
	tc = tcase_create("simd");
	tcase_set_timeout(tc, 60); /* a few hundred thousand scans: slow under sanitizers */
	tcase_add_test(tc, skip_plain_paths_agree);
	tcase_add_test(tc, scan_paths_agree);
	suite_add_tcase(s, tc);
	return s;
}
