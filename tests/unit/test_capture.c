/*
 * test_capture.c — the three kinds of line in an event file (SPEC §7,
 * core/capture.h): classification, envelope parsing (value, value null,
 * value_base64), control records, and the writers (exact text and round
 * trips).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/capture.h"
#include "unit.h"

#define T1_US (INT64_C(1763901296) * USEC_PER_SEC) /* 2025-11-23T12:34:56Z */

static struct jscan js;
static struct buf scratch;
static struct error err;

static void setup(void)
{
	memset(&js, 0, sizeof(js));
	memset(&scratch, 0, sizeof(scratch));
	err.msg[0] = '\0';
}

static void teardown(void)
{
	jscan_free(&js);
	buf_free(&scratch);
}

/* Scan a line; reserve scratch as the parsers require. */
static void scan(const char *line)
{
	ck_assert_msg(jscan_object(&js, line, strlen(line), &err) == JSCAN_OK, "%s: %s", line,
	              err.msg);
	buf_reset(&scratch);
	buf_reserve(&scratch, strlen(line) + 16);
}

static enum capture_kind classify(const char *line)
{
	scan(line);
	return capture_classify(&js);
}

START_TEST(classify_lines)
{
	ck_assert_int_eq(classify("{\"timestamp\":0,\"stream_id\":\"s\",\"viewer_count\":1}"),
	                 CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"topic\":\"t\",\"partition\":0,\"offset\":5,\"value\":\"{}\"}"),
	                 CAPTURE_ENVELOPE);
	/* all three of topic, partition, offset make an envelope */
	ck_assert_int_eq(classify("{\"topic\":\"t\",\"partition\":0,\"value\":\"{}\"}"), CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"topic\":\"t\",\"offset\":0,\"value\":\"{}\"}"), CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"partition\":0,\"offset\":0,\"value\":\"{}\"}"), CAPTURE_EVENT);
	/* kcat -J */
	ck_assert_int_eq(classify("{\"topic\":\"t\",\"partition\":1,\"offset\":0,\"tstype\":\"create\","
	                          "\"ts\":1796154420346,\"broker\":1,\"key\":null,\"payload\":\"{}\"}"),
	                 CAPTURE_ENVELOPE);
	/* a control member makes a control record, whatever else is there... */
	ck_assert_int_eq(classify("{\"control\":\"lane_open\",\"topic\":\"t\",\"partition\":0}"),
	                 CAPTURE_CONTROL);
	ck_assert_int_eq(classify("{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"control\":5}"),
	                 CAPTURE_CONTROL);
	/* ...but an event's own members make an event, whatever else is there
	 * (issue 9 item 11: these valid events were dead letters) */
	ck_assert_int_eq(classify("{\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\","
	                          "\"message\":\"m\",\"topic\":\"t\",\"partition\":0,\"offset\":1}"),
	                 CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"control\":\"lane_open\",\"timestamp\":0,\"stream_id\":\"s\","
	                          "\"viewer_count\":1}"),
	                 CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"channel\":\"s\",\"control\":1}"), CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"stream\\u005fid\":\"s\",\"control\":1}"), CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"control\":1,\"timestamp\":null}"), CAPTURE_EVENT);
	/* escaped keys count */
	ck_assert_int_eq(classify("{\"\\u0074opic\":\"t\",\"partition\":0,\"offs\\u0065t\":1,"
	                          "\"value\":null}"),
	                 CAPTURE_ENVELOPE);
	ck_assert_int_eq(classify("{\"contro\\u006c\":\"advance\"}"), CAPTURE_CONTROL);
	/* near misses are events */
	ck_assert_int_eq(classify("{\"Topic\":\"t\",\"partition\":0,\"offset\":1}"), CAPTURE_EVENT);
	ck_assert_int_eq(classify("{\"controls\":1}"), CAPTURE_EVENT);
	ck_assert_int_eq(classify("{}"), CAPTURE_EVENT);
}
END_TEST

static bool envelope(const char *line, struct capture_envelope *env)
{
	scan(line);
	err.msg[0] = '\0';
	return capture_parse_envelope(&js, &scratch, env, &err);
}

START_TEST(envelope_value)
{
	struct capture_envelope env;
	ck_assert(envelope("{\"topic\":\"telemetra.events.chat\",\"partition\":3,\"offset\":42,"
	                   "\"timestamp_ms\":1763901296000,\"key\":\"s1\","
	                   "\"value\":\"{\\\"stream_id\\\":\\\"s1\\\",\\\"n\\\":\\\"\\\\u00e9\\\"}\"}",
	                   &env));
	ck_assert_sv_eq(env.topic, "telemetra.events.chat");
	ck_assert_int_eq(env.partition, 3);
	ck_assert_int_eq(env.offset, 42);
	/* the raw payload, one level of escaping removed, inner escapes kept */
	ck_assert_sv_eq(env.value, "{\"stream_id\":\"s1\",\"n\":\"\\u00e9\"}");
	/* unescaped value: a view into the line itself */
	const char *line = "{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value\":\"not json\"}";
	ck_assert(envelope(line, &env));
	ck_assert_sv_eq(env.value, "not json");
	ck_assert_ptr_eq(env.value.ptr, strstr(line, "not json"));
	/* an empty payload is a payload */
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value\":\"\"}", &env));
	ck_assert_ptr_nonnull(env.value.ptr);
	ck_assert_uint_eq(env.value.len, 0);
	/* limits */
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":2147483647,\"offset\":9223372036854775807,"
	                   "\"value\":\"x\"}",
	                   &env));
	ck_assert_int_eq(env.partition, INT32_MAX);
	ck_assert_int_eq(env.offset, INT64_MAX);
	/* a topic of CAPTURE_TOPIC_MAX bytes, multi-byte characters included */
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"topic\":\"\xc3\xa9");
	for (int i = 2; i < CAPTURE_TOPIC_MAX; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\",\"partition\":0,\"offset\":0,\"value\":\"x\"}");
	ck_assert(envelope(b.data, &env));
	ck_assert_uint_eq(env.topic.len, CAPTURE_TOPIC_MAX);
	/* one more is too long */
	buf_reset(&b);
	buf_adds(&b, "{\"topic\":\"");
	for (int i = 0; i <= CAPTURE_TOPIC_MAX; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\",\"partition\":0,\"offset\":0,\"value\":\"x\"}");
	ck_assert(!envelope(b.data, &env));
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
	buf_free(&b);
}
END_TEST

START_TEST(envelope_kcat)
{
	struct capture_envelope env;
	ck_assert(envelope("{\"topic\":\"telemetra.events.chat\",\"partition\":1,\"offset\":7,"
	                   "\"tstype\":\"create\",\"ts\":1796154420346,\"broker\":1,\"key\":\"k\","
	                   "\"payload\":\"{\\\"a\\\":1}\"}",
	                   &env));
	ck_assert_sv_eq(env.topic, "telemetra.events.chat");
	ck_assert_int_eq(env.partition, 1);
	ck_assert_int_eq(env.offset, 7);
	ck_assert_sv_eq(env.value, "{\"a\":1}");
	/* kcat writes invalid UTF-8 as it is: kept, byte for byte */
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"payload\":\"h\xffi\"}", &env));
	ck_assert_sv_eq(env.value, "h\xffi");
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"payload\":null}", &env));
	ck_assert_ptr_null(env.value.ptr);
	ck_assert(!envelope("{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"payload\":5}", &env));
	ck_assert_ptr_nonnull(strstr(err.msg, "payload"));
}
END_TEST

START_TEST(envelope_null_and_base64)
{
	struct capture_envelope env;
	/* a tombstone */
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"value\":null}", &env));
	ck_assert_ptr_null(env.value.ptr);
	ck_assert_uint_eq(env.value.len, 0);
	/* base64: "aGk=" = "hi"; "/w==" = FF; "AP8A" = 00 FF 00; "" = "" */
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"value_base64\":\"aGk=\"}",
	                   &env));
	ck_assert_sv_bytes(env.value, "hi", 2);
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"value_base64\":\"/w==\"}",
	                   &env));
	ck_assert_sv_bytes(env.value, "\xff", 1);
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"value_base64\":\"AP8A\"}",
	                   &env));
	ck_assert_sv_bytes(env.value, "\x00\xff\x00", 3);
	/* "{\"a\":\xff}" = 7B 22 61 22 3A FF 7D -> "eyJhIjr/fQ==" */
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":1,\"offset\":7,"
	                   "\"value_base64\":\"eyJhIjr/fQ==\"}",
	                   &env));
	ck_assert_sv_bytes(env.value, "{\"a\":\xff}", 7);
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"value_base64\":\"\"}", &env));
	ck_assert_uint_eq(env.value.len, 0);
	/* value wins over value_base64 */
	ck_assert(envelope("{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"value_base64\":\"aGk=\","
	                   "\"value\":\"v\"}",
	                   &env));
	ck_assert_sv_eq(env.value, "v");
}
END_TEST

START_TEST(envelope_errors)
{
	static const struct {
		const char *line;
		const char *word; /* the message names it */
	} c[] = {
		{"{\"topic\":5,\"partition\":0,\"offset\":0,\"value\":\"x\"}", "\"topic\""},
		{"{\"topic\":null,\"partition\":0,\"offset\":0,\"value\":\"x\"}", "\"topic\""},
		/* issue 9 item 7: a topic is text both sinks keep as given */
		{"{\"topic\":\"\",\"partition\":0,\"offset\":0,\"value\":\"x\"}", "empty"},
		{"{\"topic\":\"a\\u0000b\",\"partition\":0,\"offset\":0,\"value\":\"x\"}", "NUL"},
		{"{\"topic\":\"a\xff\",\"partition\":0,\"offset\":0,\"value\":\"x\"}", "UTF-8"},
		{"{\"topic\":\"\\ud800\",\"partition\":0,\"offset\":0,\"value\":\"x\"}", "UTF-8"},
		{"{\"topic\":\"t\",\"partition\":-1,\"offset\":0,\"value\":\"x\"}", "\"partition\""},
		{"{\"topic\":\"t\",\"partition\":2147483648,\"offset\":0,\"value\":\"x\"}", "\"partition\""},
		{"{\"topic\":\"t\",\"partition\":\"0\",\"offset\":0,\"value\":\"x\"}", "\"partition\""},
		{"{\"topic\":\"t\",\"partition\":0.5,\"offset\":0,\"value\":\"x\"}", "\"partition\""},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":-1,\"value\":\"x\"}", "\"offset\""},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":1e3,\"value\":\"x\"}", "\"offset\""},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0}", "\"value\""},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value\":5}", "\"value\""},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value\":{\"a\":1}}", "\"value\""},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value_base64\":\"abc\"}", "value_base64"},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value_base64\":\"a*==\"}", "value_base64"},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value_base64\":\"=AAA\"}", "value_base64"},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value_base64\":\"AA==AA==\"}",
		 "value_base64"},
		{"{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value_base64\":5}", "value"},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct capture_envelope env;
		ck_assert_msg(!envelope(c[i].line, &env), "accepted %s", c[i].line);
		ck_assert_msg(strstr(err.msg, c[i].word) != NULL, "%s: \"%s\" lacks %s", c[i].line,
		              err.msg, c[i].word);
	}
}
END_TEST

START_TEST(envelope_base64_padding_inside)
{
	/* RFC 4648: '=' may only end the text.  "QQ=B" has one in the middle.
	 * POSSIBLE BUG (reported, minor): base64_decode() accepts it, treating
	 * that '=' as zero bits and still emitting the last byte ("A\x01"). */
	struct capture_envelope env;
	ck_assert(!envelope("{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"value_base64\":\"QQ=B\"}",
	                    &env));
}
END_TEST

static bool control(const char *line, struct capture_control *c)
{
	scan(line);
	err.msg[0] = '\0';
	return capture_parse_control(&js, &scratch, c, &err);
}

START_TEST(control_records)
{
	struct capture_control c;
	ck_assert(control("{\"control\":\"lane_open\",\"topic\":\"telemetra.events.chat\","
	                  "\"partition\":2}",
	                  &c));
	ck_assert_int_eq(c.kind, CONTROL_LANE_OPEN);
	ck_assert_sv_eq(c.topic, "telemetra.events.chat");
	ck_assert_int_eq(c.partition, 2);
	ck_assert(control("{\"partition\":0,\"topic\":\"v\",\"control\":\"lane_idle\"}", &c));
	ck_assert_int_eq(c.kind, CONTROL_LANE_IDLE);
	ck_assert_sv_eq(c.topic, "v");
	ck_assert_int_eq(c.partition, 0);
	ck_assert(control("{\"control\":\"lane_close\",\"topic\":\"t\\u00e9\",\"partition\":9}", &c));
	ck_assert_int_eq(c.kind, CONTROL_LANE_CLOSE);
	ck_assert_sv_eq(c.topic, "t\xc3\xa9");
	ck_assert(control("{\"control\":\"advance\",\"watermark\":\"2025-11-23T12:34:56Z\"}", &c));
	ck_assert_int_eq(c.kind, CONTROL_ADVANCE);
	ck_assert_int_eq(c.watermark_us, T1_US);
	ck_assert(control("{\"control\":\"advance\",\"watermark\":\"2025-11-23T18:04:56.5+05:30\"}",
	                  &c));
	ck_assert_int_eq(c.watermark_us, T1_US + 500000);
}
END_TEST

START_TEST(control_errors)
{
	static const struct {
		const char *line;
		const char *word;
	} c[] = {
		{"{\"control\":5}", "\"control\""},
		{"{\"control\":\"pause\",\"topic\":\"t\",\"partition\":0}", "lane_open"},
		{"{\"control\":\"Lane_open\",\"topic\":\"t\",\"partition\":0}", "lane_open"},
		{"{\"control\":\"lane_open\",\"partition\":0}", "\"topic\""},
		{"{\"control\":\"lane_idle\",\"topic\":\"a\\u0000\",\"partition\":0}", "NUL"},
		{"{\"control\":\"lane_open\",\"topic\":\"\xc3\",\"partition\":0}", "UTF-8"},
		{"{\"control\":\"lane_open\",\"topic\":\"t\"}", "\"partition\""},
		{"{\"control\":\"lane_idle\",\"topic\":\"t\",\"partition\":-1}", "\"partition\""},
		{"{\"control\":\"advance\"}", "\"watermark\""},
		{"{\"control\":\"advance\",\"watermark\":1763901296}", "\"watermark\""},
		{"{\"control\":\"advance\",\"watermark\":\"soon\"}", "\"watermark\""},
		{"{\"control\":\"advance\",\"watermark\":\"2025-11-23T12:34:60Z\"}", "\"watermark\""},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct capture_control cc;
		ck_assert_msg(!control(c[i].line, &cc), "accepted %s", c[i].line);
		ck_assert_msg(strstr(err.msg, c[i].word) != NULL, "%s: \"%s\" lacks %s", c[i].line,
		              err.msg, c[i].word);
	}
}
END_TEST

START_TEST(write_exact)
{
	struct buf out = BUF_INIT;
	capture_write_envelope(&out, SV_LIT("telemetra.events.chat"), 3, 42, INT64_C(1763901296000),
	                       NULL, 0, "{\"a\":1}", 7);
	ck_assert_str_eq(out.data, "{\"topic\":\"telemetra.events.chat\",\"partition\":3,\"offset\":42,"
	                           "\"timestamp_ms\":1763901296000,\"key\":null,"
	                           "\"value\":\"{\\\"a\\\":1}\"}\n");
	buf_reset(&out);
	/* FF FE is not UTF-8: base64, "//4=" (111111 111111 111110 00....) */
	capture_write_envelope(&out, SV_LIT("t"), 0, 0, 0, "k1", 2, "\xff\xfe", 2);
	ck_assert_str_eq(out.data, "{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"timestamp_ms\":0,"
	                           "\"key\":\"k1\",\"value_base64\":\"//4=\"}\n");
	buf_reset(&out);
	/* a tombstone */
	capture_write_envelope(&out, SV_LIT("t"), 1, 2, 3, NULL, 0, NULL, 0);
	ck_assert_str_eq(out.data, "{\"topic\":\"t\",\"partition\":1,\"offset\":2,\"timestamp_ms\":3,"
	                           "\"key\":null,\"value\":null}\n");
	buf_reset(&out);
	capture_write_lane(&out, CONTROL_LANE_IDLE, SV_LIT("chat"), 7);
	ck_assert_str_eq(out.data, "{\"control\":\"lane_idle\",\"topic\":\"chat\",\"partition\":7}\n");
	buf_reset(&out);
	capture_write_lane(&out, CONTROL_LANE_OPEN, SV_LIT("c"), 0);
	capture_write_lane(&out, CONTROL_LANE_CLOSE, SV_LIT("c"), 1);
	ck_assert_str_eq(out.data, "{\"control\":\"lane_open\",\"topic\":\"c\",\"partition\":0}\n"
	                           "{\"control\":\"lane_close\",\"topic\":\"c\",\"partition\":1}\n");
	buf_reset(&out);
	capture_write_advance(&out, T1_US + 500000);
	ck_assert_str_eq(out.data,
	                 "{\"control\":\"advance\",\"watermark\":\"2025-11-23T12:34:56.500000Z\"}\n");
	buf_free(&out);
}
END_TEST

START_TEST(write_parse_round_trip)
{
	/* Whatever the payload, writing an envelope and parsing it back gives
	 * the same bytes: a bad payload stays bad on replay. */
	static const struct {
		const char *bytes;
		size_t n;
	} payloads[] = {
#define P(lit) {lit, sizeof(lit) - 1}
		P("{\"stream_id\":\"s\",\"message\":\"caf\xc3\xa9 \\\"q\\\" \\\\\"}"),
		P("line\nbreak\ttab\r\x01\x1f\x7f"),
		P("nul\0inside"),
		P("\xff"), /* invalid UTF-8: 1, 2, 3, 4 bytes -> every base64 padding */
		P("\xc3("),
		P("ab\xed\xa0\x80"), /* an encoded surrogate */
		P("\xf0\x9f\x98\x80\xff"),
		P("\xe2\x82\xac"), /* valid: stays text */
		P(""),
#undef P
	};
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		struct buf out = BUF_INIT;
		capture_write_envelope(&out, SV_LIT("topic"), 5, (int64_t)i, 1, "key", 3,
		                       payloads[i].bytes, payloads[i].n);
		ck_assert_msg(out.data[out.len - 1] == '\n', "case %zu: no newline", i);
		ck_assert_msg(memchr(out.data, '\n', out.len - 1) == NULL, "case %zu: not one line", i);
		scan(out.data);
		ck_assert_int_eq(capture_classify(&js), CAPTURE_ENVELOPE);
		struct capture_envelope env;
		ck_assert_msg(capture_parse_envelope(&js, &scratch, &env, &err), "case %zu: %s", i,
		              err.msg);
		ck_assert_sv_eq(env.topic, "topic");
		ck_assert_int_eq(env.partition, 5);
		ck_assert_int_eq(env.offset, (int64_t)i);
		ck_assert_ptr_nonnull(env.value.ptr);
		ck_assert_msg(env.value.len == payloads[i].n &&
		                  (payloads[i].n == 0 ||
		                   memcmp(env.value.ptr, payloads[i].bytes, payloads[i].n) == 0),
		              "case %zu: payload changed", i);
		buf_free(&out);
	}
	/* controls too */
	struct buf out = BUF_INIT;
	capture_write_advance(&out, -SEC(1) - 1);
	struct capture_control c;
	ck_assert(control(out.data, &c));
	ck_assert_int_eq(c.kind, CONTROL_ADVANCE);
	ck_assert_int_eq(c.watermark_us, -SEC(1) - 1);
	buf_reset(&out);
	capture_write_lane(&out, CONTROL_LANE_CLOSE, SV_LIT("a\"b"), 12);
	ck_assert(control(out.data, &c));
	ck_assert_int_eq(c.kind, CONTROL_LANE_CLOSE);
	ck_assert_sv_eq(c.topic, "a\"b");
	ck_assert_int_eq(c.partition, 12);
	buf_free(&out);
}
END_TEST

Suite *capture_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, classify_lines);
	tcase_add_test(tc, envelope_value);
	tcase_add_test(tc, envelope_kcat);
	tcase_add_test(tc, envelope_null_and_base64);
	tcase_add_test(tc, envelope_errors);
	tcase_add_test(tc, envelope_base64_padding_inside);
	tcase_add_test(tc, control_records);
	tcase_add_test(tc, control_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, write_exact);
	tcase_add_test(tc, write_parse_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
