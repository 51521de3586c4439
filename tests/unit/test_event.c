/*
 * test_event.c — decoding one event record (SPEC §2, core/event.h): both
 * kinds, the aliases, kind detection order, every dead-letter reason the
 * decoder produces with the field named in its message, integer ids, the
 * 255-character stream_id limit, null as absent, and emotes validation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/event.h"
#include "unit.h"

#define T1_US (INT64_C(1763901296) * USEC_PER_SEC) /* 2025-11-23T12:34:56Z */

/* A decoder per test; the event's views live until the next decode. */
static struct event_decoder dec;
static struct event ev;
static enum dead_reason reason;
static struct error err;

static void setup(void)
{
	memset(&dec, 0, sizeof(dec));
	memset(&ev, 0, sizeof(ev));
	reason = DEAD_REASON_COUNT;
	err.msg[0] = '\0';
}

static void teardown(void) { event_decoder_free(&dec); }

static bool decode_hint(const char *json, enum event_kind hint)
{
	reason = DEAD_REASON_COUNT;
	err.msg[0] = '\0';
	return event_decode(&dec, json, strlen(json), hint, &ev, &reason, &err);
}

static bool decode(const char *json) { return decode_hint(json, EVENT_UNKNOWN); }

/* The record is a dead letter for `want`, and the message names `field`
 * (in quotes) when field is not NULL. */
static void expect_dead(const char *json, enum event_kind hint, enum dead_reason want,
                        const char *field)
{
	ck_assert_msg(!decode_hint(json, hint), "accepted: %s", json);
	ck_assert_msg(reason == want, "%s: reason %s, want %s (%s)", json, dead_reason_name(reason),
	              dead_reason_name(want), err.msg);
	ck_assert_msg(err.msg[0] != '\0', "%s: no message", json);
	if (field) {
		char quoted[64];
		snprintf(quoted, sizeof(quoted), "\"%s\"", field);
		ck_assert_msg(strstr(err.msg, quoted) != NULL, "%s: message \"%s\" does not name %s",
		              json, err.msg, quoted);
	}
}

START_TEST(chat_full)
{
	ck_assert(decode("{\"timestamp\":\"2025-11-23T12:34:56Z\",\"stream_id\":\"s1\","
	                 "\"user_id\":\"u1\",\"username\":\"Alice\",\"message\":\"hi there\","
	                 "\"emotes\":[\"Kappa\",\"PogChamp\"],\"event_id\":\"e-1\","
	                 "\"badges\":[\"sub\"],\"extra\":{\"x\":[1,2]}}"));
	ck_assert_int_eq(ev.kind, EVENT_CHAT);
	ck_assert_int_eq(ev.time_us, T1_US);
	ck_assert_sv_eq(ev.stream_id, "s1");
	/* user_id present: it names the chatter, username is ignored. */
	ck_assert_sv_eq(ev.chatter, "u:u1");
	ck_assert_sv_eq(ev.message, "hi there");
	ck_assert_uint_eq(ev.n_emotes, 2);
	ck_assert_sv_eq(ev.emotes[0], "Kappa");
	ck_assert_sv_eq(ev.emotes[1], "PogChamp");
	/* The ids' hashes travel with the event (the engine trusts them in
	 * place of hashing again): they must be hash_bytes() of the views. */
	ck_assert(ev.has_hashes);
	ck_assert(ev.stream_hash == hash_bytes(ev.stream_id.ptr, ev.stream_id.len));
	ck_assert(ev.chatter_hash == hash_bytes(ev.chatter.ptr, ev.chatter.len));
	/* ... whichever alias named them, escaped or not. */
	ck_assert(decode("{\"timestamp\":0,\"channel\":\"c\\u0041\",\"username\":\"B\\tb\","
	                 "\"message\":\"\"}"));
	ck_assert_sv_eq(ev.stream_id, "cA");
	ck_assert(ev.has_hashes);
	ck_assert(ev.stream_hash == hash_bytes("cA", 2));
	ck_assert(ev.chatter_hash == hash_bytes("n:B\tb", 5));
}
END_TEST

START_TEST(viewer_full)
{
	ck_assert(decode("{\"timestamp\":1763901296,\"stream_id\":\"s1\",\"viewer_count\":1234,"
	                 "\"event_id\":\"v-9\",\"other\":null}"));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	ck_assert_int_eq(ev.time_us, T1_US);
	ck_assert_sv_eq(ev.stream_id, "s1");
	ck_assert_int_eq(ev.viewer_count, 1234);
	ck_assert(ev.has_hashes);
	ck_assert(ev.stream_hash == hash_bytes("s1", 2));
	ck_assert(decode("{\"timestamp\":1763901296500,\"stream_id\":\"s1\",\"viewer_count\":0}"));
	ck_assert_int_eq(ev.viewer_count, 0);
	ck_assert_int_eq(ev.time_us, T1_US + 500000); /* epoch milliseconds */
}
END_TEST

START_TEST(aliases)
{
	/* The seed producer's names: channel, message_id, username. */
	ck_assert(decode("{\"timestamp\":\"2025-11-23 12:34:56\",\"channel\":\"chan\","
	                 "\"message_id\":\"m1\",\"username\":\"Alice\",\"message\":\"yo\"}"));
	ck_assert_int_eq(ev.kind, EVENT_CHAT);
	ck_assert_sv_eq(ev.stream_id, "chan");
	ck_assert_sv_eq(ev.chatter, "n:Alice"); /* a display name, not a user id */
	/* stream_id beats channel whichever comes first. */
	ck_assert(decode("{\"stream_id\":\"s\",\"channel\":\"c\",\"timestamp\":0,\"user_id\":\"u\","
	                 "\"message\":\"\"}"));
	ck_assert_sv_eq(ev.stream_id, "s");
	ck_assert(decode("{\"channel\":\"c\",\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\","
	                 "\"message\":\"\"}"));
	ck_assert_sv_eq(ev.stream_id, "s");
	/* user_id beats username whichever comes first. */
	ck_assert(decode("{\"username\":\"n\",\"user_id\":\"u\",\"stream_id\":\"s\",\"timestamp\":0,"
	                 "\"message\":\"\"}"));
	ck_assert_sv_eq(ev.chatter, "u:u");
	/* A user id and a display name that are equal are different chatters. */
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"x\",\"message\":\"\"}"));
	ck_assert_sv_eq(ev.chatter, "u:x");
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"username\":\"x\",\"message\":\"\"}"));
	ck_assert_sv_eq(ev.chatter, "n:x");
	/* Viewer events take the channel alias too. */
	ck_assert(decode("{\"channel\":\"c\",\"timestamp\":0,\"viewer_count\":3}"));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	ck_assert_sv_eq(ev.stream_id, "c");
}
END_TEST

START_TEST(kind_detection_order)
{
	/* type beats viewer_count and message */
	ck_assert(decode("{\"type\":\"chat\",\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\","
	                 "\"message\":\"m\",\"viewer_count\":5}"));
	ck_assert_int_eq(ev.kind, EVENT_CHAT);
	ck_assert(decode("{\"type\":\"viewer\",\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\","
	                 "\"message\":\"m\",\"viewer_count\":5}"));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	ck_assert_int_eq(ev.viewer_count, 5);
	/* type viewer without a count: the count is missing, not "chat" */
	expect_dead("{\"type\":\"viewer\",\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\","
	            "\"message\":\"m\"}",
	            EVENT_UNKNOWN, DEAD_MISSING_FIELD, "viewer_count");
	/* no type: viewer_count beats message */
	ck_assert(decode("{\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\",\"message\":\"m\","
	                 "\"viewer_count\":5}"));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	/* only message: chat */
	ck_assert(decode("{\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\",\"message\":\"m\"}"));
	ck_assert_int_eq(ev.kind, EVENT_CHAT);
	/* none of the three */
	expect_dead("{\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\"}", EVENT_UNKNOWN,
	            DEAD_UNKNOWN_KIND, NULL);
	/* type must be "chat" or "viewer" (exactly) */
	expect_dead("{\"type\":\"follow\",\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\","
	            "\"message\":\"m\"}",
	            EVENT_UNKNOWN, DEAD_UNKNOWN_KIND, "type");
	expect_dead("{\"type\":\"Chat\",\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\","
	            "\"message\":\"m\"}",
	            EVENT_UNKNOWN, DEAD_UNKNOWN_KIND, "type");
	expect_dead("{\"type\":1,\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\","
	            "\"message\":\"m\"}",
	            EVENT_UNKNOWN, DEAD_WRONG_TYPE, "type");
	/* an escaped type string is decoded first */
	ck_assert(decode("{\"type\":\"v\\u0069ewer\",\"timestamp\":0,\"stream_id\":\"s\","
	                 "\"viewer_count\":1}"));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	/* the kind hint (the Kafka topic / envelope topic) beats everything */
	ck_assert(decode_hint("{\"type\":\"chat\",\"timestamp\":0,\"stream_id\":\"s\","
	                      "\"message\":\"m\",\"viewer_count\":5}",
	                      EVENT_VIEWER));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	expect_dead("{\"timestamp\":0,\"stream_id\":\"s\",\"viewer_count\":5}", EVENT_CHAT,
	            DEAD_MISSING_FIELD, "user_id");
	expect_dead("{\"type\":\"nonsense\",\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\"}",
	            EVENT_CHAT, DEAD_MISSING_FIELD, "message");
}
END_TEST

START_TEST(dead_not_json_not_object)
{
	expect_dead("{\"timestamp\":0,", EVENT_UNKNOWN, DEAD_NOT_JSON, NULL);
	expect_dead("", EVENT_UNKNOWN, DEAD_NOT_JSON, NULL);
	expect_dead("hello", EVENT_UNKNOWN, DEAD_NOT_JSON, NULL);
	expect_dead("[{\"timestamp\":0}]", EVENT_UNKNOWN, DEAD_NOT_OBJECT, NULL);
	expect_dead("\"chat\"", EVENT_CHAT, DEAD_NOT_OBJECT, NULL);
	ck_assert_str_eq(dead_reason_name(DEAD_NOT_JSON), "not_json");
	ck_assert_str_eq(dead_reason_name(DEAD_NOT_OBJECT), "not_object");
}
END_TEST

/* A valid chat event of exactly `size` bytes, padded in the message. */
static char *event_of_size(size_t size)
{
	static const char head[] = "{\"timestamp\":0,\"stream_id\":\"s\",\"user_id\":\"u\",\"message\":\"";
	static const char tail[] = "\"}";
	char *s = malloc(size + 1);
	size_t h = sizeof(head) - 1, t = sizeof(tail) - 1;
	memcpy(s, head, h);
	memset(s + h, 'a', size - h - t);
	memcpy(s + size - t, tail, t);
	s[size] = '\0';
	return s;
}

START_TEST(dead_too_large)
{
	/* "a record over 1 MiB": 1048576 bytes is fine, one more is not. */
	char *s = event_of_size(EVENT_MAX_BYTES);
	ck_assert(event_decode(&dec, s, EVENT_MAX_BYTES, EVENT_UNKNOWN, &ev, &reason, &err));
	ck_assert_uint_eq(ev.message.len, EVENT_MAX_BYTES - 58); /* 56 bytes before, 2 after */
	free(s);
	s = event_of_size(EVENT_MAX_BYTES + 1);
	ck_assert(!event_decode(&dec, s, EVENT_MAX_BYTES + 1, EVENT_UNKNOWN, &ev, &reason, &err));
	ck_assert_int_eq(reason, DEAD_TOO_LARGE);
	ck_assert_str_eq(dead_reason_name(reason), "too_large");
	free(s);
	/* Too large wins over not JSON: nobody should parse 2 MiB of junk. */
	s = malloc(2 * EVENT_MAX_BYTES);
	memset(s, 'x', 2 * EVENT_MAX_BYTES);
	ck_assert(!event_decode(&dec, s, 2 * EVENT_MAX_BYTES, EVENT_UNKNOWN, &ev, &reason, &err));
	ck_assert_int_eq(reason, DEAD_TOO_LARGE);
	free(s);
}
END_TEST

START_TEST(dead_missing_field)
{
	expect_dead("{\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\"}", EVENT_UNKNOWN,
	            DEAD_MISSING_FIELD, "stream_id");
	expect_dead("{\"stream_id\":\"s\",\"user_id\":\"u\",\"message\":\"m\"}", EVENT_UNKNOWN,
	            DEAD_MISSING_FIELD, "timestamp");
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"message\":\"m\"}", EVENT_UNKNOWN,
	            DEAD_MISSING_FIELD, "user_id");
	/* ...and the message mentions the alternative */
	ck_assert_ptr_nonnull(strstr(err.msg, "\"username\""));
	expect_dead("{\"type\":\"chat\",\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\"}",
	            EVENT_UNKNOWN, DEAD_MISSING_FIELD, "message");
	expect_dead("{\"type\":\"viewer\",\"stream_id\":\"s\",\"timestamp\":0}", EVENT_UNKNOWN,
	            DEAD_MISSING_FIELD, "viewer_count");
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0}", EVENT_VIEWER, DEAD_MISSING_FIELD,
	            "viewer_count");
	ck_assert_str_eq(dead_reason_name(DEAD_MISSING_FIELD), "missing_field");
}
END_TEST

START_TEST(dead_wrong_type)
{
	static const struct {
		const char *json;
		const char *field;
	} c[] = {
		{"{\"stream_id\":true,\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\"}", "stream_id"},
		{"{\"stream_id\":1.5,\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\"}", "stream_id"},
		{"{\"stream_id\":1e3,\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\"}", "stream_id"},
		{"{\"stream_id\":[\"s\"],\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\"}", "stream_id"},
		{"{\"channel\":{},\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\"}", "channel"},
		{"{\"stream_id\":\"s\",\"timestamp\":true,\"user_id\":\"u\",\"message\":\"m\"}", "timestamp"},
		{"{\"stream_id\":\"s\",\"timestamp\":[0],\"user_id\":\"u\",\"message\":\"m\"}", "timestamp"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":2.5,\"message\":\"m\"}", "user_id"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"username\":false,\"message\":\"m\"}", "username"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":5,\"type\":\"chat\"}",
		 "message"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":[\"m\"]}", "message"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":\"5\"}", "viewer_count"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":5.0}", "viewer_count"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":1e3}", "viewer_count"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":true}", "viewer_count"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":99999999999999999999}",
		 "viewer_count"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":\"Kappa\"}",
		 "emotes"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":[\"Kappa\",1]}",
		 "emotes"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":[[\"Kappa\"]]}",
		 "emotes"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":[null]}",
		 "emotes"},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		expect_dead(c[i].json, EVENT_UNKNOWN, DEAD_WRONG_TYPE, c[i].field);
	ck_assert_str_eq(dead_reason_name(DEAD_WRONG_TYPE), "wrong_type");
}
END_TEST

START_TEST(dead_bad_timestamp)
{
	static const char *const c[] = {
		"{\"stream_id\":\"s\",\"timestamp\":\"yesterday\",\"viewer_count\":1}",
		"{\"stream_id\":\"s\",\"timestamp\":\"2025-11-23T25:00:00Z\",\"viewer_count\":1}",
		"{\"stream_id\":\"s\",\"timestamp\":\"2025-11-23T12:34:60Z\",\"viewer_count\":1}",
		"{\"stream_id\":\"s\",\"timestamp\":\"\",\"viewer_count\":1}",
		"{\"stream_id\":\"s\",\"timestamp\":\"1763901296\",\"viewer_count\":1}",
		"{\"stream_id\":\"s\",\"timestamp\":1e20,\"viewer_count\":1}",
		"{\"stream_id\":\"s\",\"timestamp\":-1e12,\"viewer_count\":1}",
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		expect_dead(c[i], EVENT_UNKNOWN, DEAD_BAD_TIMESTAMP, "timestamp");
	ck_assert_str_eq(dead_reason_name(DEAD_BAD_TIMESTAMP), "bad_timestamp");
	/* An escaped timestamp string is decoded before parsing. */
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":\"2025\\u002d11-23T12:34:56Z\","
	                 "\"viewer_count\":1}"));
	ck_assert_int_eq(ev.time_us, T1_US);
}
END_TEST

START_TEST(dead_negative_count)
{
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":-1}", EVENT_UNKNOWN,
	            DEAD_NEGATIVE_COUNT, "viewer_count");
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":-9223372036854775807}",
	            EVENT_UNKNOWN, DEAD_NEGATIVE_COUNT, "viewer_count");
	ck_assert_str_eq(dead_reason_name(DEAD_NEGATIVE_COUNT), "negative_count");
	/* -0 is zero, not negative */
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":-0}"));
	ck_assert_int_eq(ev.viewer_count, 0);
}
END_TEST

START_TEST(dead_invalid_utf8)
{
	static const struct {
		const char *json;
		const char *field;
	} c[] = {
		/* raw invalid bytes */
		{"{\"stream_id\":\"s\xff\",\"timestamp\":0,\"viewer_count\":1}", "stream_id"},
		/* in the first, then the second 8-byte word of a longer id */
		{"{\"stream_id\":\"stream\xc3(_0123456\",\"timestamp\":0,\"viewer_count\":1}", "stream_id"},
		{"{\"stream_id\":\"stream_01234\xff\",\"timestamp\":0,\"viewer_count\":1}", "stream_id"},
		{"{\"channel\":\"\xc3(\",\"timestamp\":0,\"viewer_count\":1}", "channel"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"\xed\xa0\x80\",\"message\":\"m\"}",
		 "user_id"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"username\":\"\xc0\xaf\",\"message\":\"m\"}",
		 "username"},
		/* a lone surrogate escape decodes to invalid UTF-8 */
		{"{\"stream_id\":\"\\ud800\",\"timestamp\":0,\"viewer_count\":1}", "stream_id"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"a\\udc00\",\"message\":\"m\"}",
		 "user_id"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":[\"ok\",\"\\ud83d\"]}",
		 "emotes"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":[\"\xf8\x88\x80\x80\x80\"]}",
		 "emotes"},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		expect_dead(c[i].json, EVENT_UNKNOWN, DEAD_INVALID_UTF8, c[i].field);
	ck_assert_str_eq(dead_reason_name(DEAD_INVALID_UTF8), "invalid_utf8");
	/* A surrogate pair is fine, and the message may hold any bytes. */
	ck_assert(decode("{\"stream_id\":\"\\ud83d\\ude00\",\"timestamp\":0,\"user_id\":\"u\","
	                 "\"message\":\"\xff\xfe \\ud800\"}"));
	ck_assert_sv_eq(ev.stream_id, "\xf0\x9f\x98\x80");
	ck_assert_sv_bytes(ev.message, "\xff\xfe \xed\xa0\x80", 6);
}
END_TEST

START_TEST(dead_bad_field)
{
	static const struct {
		const char *json;
		const char *field;
	} c[] = {
		{"{\"stream_id\":\"\",\"timestamp\":0,\"viewer_count\":1}", "stream_id"},
		{"{\"channel\":\"\",\"timestamp\":0,\"viewer_count\":1}", "channel"},
		{"{\"stream_id\":\"a\\u0000b\",\"timestamp\":0,\"viewer_count\":1}", "stream_id"},
		{"{\"stream_id\":\"stream\\u0000_0123456\",\"timestamp\":0,\"viewer_count\":1}",
		 "stream_id"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":[\"KappaPride\\u0000\"]}",
		 "emotes"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"\",\"message\":\"m\"}", "user_id"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"username\":\"\",\"message\":\"m\"}", "username"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"\\u0000\",\"message\":\"m\"}",
		 "user_id"},
		{"{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
		 "\"emotes\":[\"Kap\\u0000pa\"]}",
		 "emotes"},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		expect_dead(c[i].json, EVENT_UNKNOWN, DEAD_BAD_FIELD, c[i].field);
	ck_assert_str_eq(dead_reason_name(DEAD_BAD_FIELD), "bad_field");
	/* An empty user_id is not replaced by a username. */
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"\",\"username\":\"n\","
	            "\"message\":\"m\"}",
	            EVENT_UNKNOWN, DEAD_BAD_FIELD, "user_id");
}
END_TEST

START_TEST(reason_names)
{
	/* Stable names: they are stored in the dead_letters table. */
	ck_assert_str_eq(dead_reason_name(DEAD_UNKNOWN_KIND), "unknown_kind");
	ck_assert_str_eq(dead_reason_name(DEAD_BAD_ENVELOPE), "bad_envelope");
	ck_assert_str_eq(dead_reason_name(DEAD_BAD_CONTROL), "bad_control");
	ck_assert_str_eq(dead_reason_name(DEAD_LATE), "late");
	ck_assert_str_eq(dead_reason_name(DEAD_REASON_COUNT), "unknown");
	/* Every reason has a distinct name. */
	for (int a = 0; a < DEAD_REASON_COUNT; a++)
		for (int b = a + 1; b < DEAD_REASON_COUNT; b++)
			ck_assert_str_ne(dead_reason_name((enum dead_reason)a),
			                 dead_reason_name((enum dead_reason)b));
}
END_TEST

START_TEST(integer_ids)
{
	ck_assert(decode("{\"stream_id\":42,\"timestamp\":0,\"user_id\":123456789,\"message\":\"m\"}"));
	ck_assert_sv_eq(ev.stream_id, "42");
	ck_assert_sv_eq(ev.chatter, "u:123456789");
	ck_assert(decode("{\"channel\":-7,\"timestamp\":0,\"username\":0,\"message\":\"m\"}"));
	ck_assert_sv_eq(ev.stream_id, "-7");
	ck_assert_sv_eq(ev.chatter, "n:0");
	/* the literal is kept as written */
	ck_assert(decode("{\"stream_id\":9223372036854775807,\"timestamp\":0,\"viewer_count\":1}"));
	ck_assert_sv_eq(ev.stream_id, "9223372036854775807");
}
END_TEST

/* {"stream_id":"<n copies of unit>","timestamp":0,"viewer_count":1} */
static char *with_stream_id(const char *unit, size_t n)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"stream_id\":\"");
	for (size_t i = 0; i < n; i++)
		buf_adds(&b, unit);
	buf_adds(&b, "\",\"timestamp\":0,\"viewer_count\":1}");
	return buf_detach(&b);
}

START_TEST(stream_id_length)
{
	/* 1..255 characters (not bytes). */
	char *s = with_stream_id("a", 255);
	ck_assert(decode(s));
	ck_assert_uint_eq(ev.stream_id.len, 255);
	free(s);
	s = with_stream_id("a", 256);
	expect_dead(s, EVENT_UNKNOWN, DEAD_BAD_FIELD, "stream_id");
	free(s);
	s = with_stream_id("\xc3\xa9", 255); /* 255 × é = 510 bytes */
	ck_assert(decode(s));
	ck_assert_uint_eq(ev.stream_id.len, 510);
	free(s);
	s = with_stream_id("\xc3\xa9", 256);
	expect_dead(s, EVENT_UNKNOWN, DEAD_BAD_FIELD, "stream_id");
	free(s);
	s = with_stream_id("\xf0\x9f\x98\x80", 255); /* 4-byte characters */
	ck_assert(decode(s));
	free(s);
	s = with_stream_id("\\u00e9", 255); /* counted after unescaping */
	ck_assert(decode(s));
	ck_assert_uint_eq(ev.stream_id.len, 510);
	free(s);
	s = with_stream_id("\\u00e9", 256);
	expect_dead(s, EVENT_UNKNOWN, DEAD_BAD_FIELD, "stream_id");
	free(s);
}
END_TEST

START_TEST(null_is_absent)
{
	ck_assert(decode("{\"stream_id\":null,\"channel\":\"c\",\"timestamp\":0,\"viewer_count\":1}"));
	ck_assert_sv_eq(ev.stream_id, "c");
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":null,\"username\":\"bob\","
	                 "\"message\":\"m\"}"));
	ck_assert_sv_eq(ev.chatter, "n:bob");
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
	                 "\"emotes\":null}"));
	ck_assert_uint_eq(ev.n_emotes, 0);
	ck_assert(decode("{\"type\":null,\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":3}"));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	/* viewer_count null: not a viewer event, so a chat */
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":null,\"user_id\":\"u\","
	                 "\"message\":\"m\"}"));
	ck_assert_int_eq(ev.kind, EVENT_CHAT);
	expect_dead("{\"stream_id\":null,\"timestamp\":0,\"viewer_count\":1}", EVENT_UNKNOWN,
	            DEAD_MISSING_FIELD, "stream_id");
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":null,\"viewer_count\":1}", EVENT_UNKNOWN,
	            DEAD_MISSING_FIELD, "timestamp");
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":null,\"message\":\"m\"}",
	            EVENT_UNKNOWN, DEAD_MISSING_FIELD, "user_id");
	expect_dead("{\"type\":\"chat\",\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\","
	            "\"message\":null}",
	            EVENT_UNKNOWN, DEAD_MISSING_FIELD, "message");
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":null}", EVENT_VIEWER,
	            DEAD_MISSING_FIELD, "viewer_count");
	/* message null and no other hint: nothing says what it is */
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":null}",
	            EVENT_UNKNOWN, DEAD_UNKNOWN_KIND, NULL);
}
END_TEST

START_TEST(duplicate_keys_last_wins)
{
	ck_assert(decode("{\"stream_id\":\"a\",\"timestamp\":0,\"stream_id\":\"b\",\"viewer_count\":1,"
	                 "\"viewer_count\":2}"));
	ck_assert_sv_eq(ev.stream_id, "b");
	ck_assert_int_eq(ev.viewer_count, 2);
	/* a later null erases an earlier value */
	ck_assert(decode("{\"stream_id\":\"a\",\"stream_id\":null,\"channel\":\"c\",\"timestamp\":0,"
	                 "\"viewer_count\":1}"));
	ck_assert_sv_eq(ev.stream_id, "c");
	/* an escaped key is the same key */
	ck_assert(decode("{\"stream_id\":\"a\",\"stream\\u005fid\":\"b\",\"timestamp\":0,"
	                 "\"viewer_count\":1}"));
	ck_assert_sv_eq(ev.stream_id, "b");
}
END_TEST

START_TEST(emotes_validation)
{
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
	                 "\"emotes\":[]}"));
	ck_assert_uint_eq(ev.n_emotes, 0);
	/* empty names are skipped; duplicates are kept (each use counts) */
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
	                 "\"emotes\":[\"\",\"Kappa\",\"\",\"Kappa\", \"\\u004bappa\",\"\\ud83d\\ude00\"]}"));
	ck_assert_uint_eq(ev.n_emotes, 4);
	ck_assert_sv_eq(ev.emotes[0], "Kappa");
	ck_assert_sv_eq(ev.emotes[1], "Kappa");
	ck_assert_sv_eq(ev.emotes[2], "Kappa");
	ck_assert_sv_eq(ev.emotes[3], "\xf0\x9f\x98\x80");
	/* duplicate "emotes": the last counts, whichever of them the scanner
	 * recorded (an array of strings) or did not */
	expect_dead("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
	            "\"emotes\":[\"Kappa\"],\"emotes\":[\"a\",1]}",
	            EVENT_UNKNOWN, DEAD_WRONG_TYPE, "emotes");
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
	                 "\"emotes\":[1],\"emotes\":[\"a\",\"\",\"b\"]}"));
	ck_assert_uint_eq(ev.n_emotes, 2);
	ck_assert_sv_eq(ev.emotes[1], "b");
	/* a viewer event's emotes are not looked at */
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"viewer_count\":1,\"emotes\":5}"));
	ck_assert_uint_eq(ev.n_emotes, 0);
	/* many emotes: the array grows */
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"m\","
	             "\"emotes\":[");
	for (int i = 0; i < 100; i++)
		buf_printf(&b, "%s\"e%d\"", i ? "," : "", i);
	buf_adds(&b, "]}");
	ck_assert(decode(b.data));
	ck_assert_uint_eq(ev.n_emotes, 100);
	ck_assert_sv_eq(ev.emotes[99], "e99");
	buf_free(&b);
}
END_TEST

START_TEST(message_forms)
{
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\",\"message\":\"\"}"));
	ck_assert_int_eq(ev.kind, EVENT_CHAT);
	ck_assert_uint_eq(ev.message.len, 0);
	ck_assert(decode("{\"stream_id\":\"s\",\"timestamp\":0,\"user_id\":\"u\","
	                 "\"message\":\"caf\\u00e9 \\\"ok\\\"\\n\"}"));
	ck_assert_sv_eq(ev.message, "caf\xc3\xa9 \"ok\"\n");
}
END_TEST

START_TEST(escapes_everywhere)
{
	/* Every string field escaped at once: all views must be right (they
	 * share the decoder's scratch buffer). */
	ck_assert(decode("{\"type\":\"\\u0063hat\",\"stream_id\":\"s\\u0031\","
	                 "\"timestamp\":\"2025-11-23T12:34:56\\u005a\",\"user_id\":\"\\u0075\\u0031\","
	                 "\"message\":\"\\u0068i\",\"emotes\":[\"\\u0045\",\"\\u0046\"]}"));
	ck_assert_int_eq(ev.kind, EVENT_CHAT);
	ck_assert_sv_eq(ev.stream_id, "s1");
	ck_assert_int_eq(ev.time_us, T1_US);
	ck_assert_sv_eq(ev.chatter, "u:u1");
	ck_assert_sv_eq(ev.message, "hi");
	ck_assert_uint_eq(ev.n_emotes, 2);
	ck_assert_sv_eq(ev.emotes[0], "E");
	ck_assert_sv_eq(ev.emotes[1], "F");
}
END_TEST

START_TEST(decoder_reuse_and_scanned)
{
	ck_assert(decode("{\"stream_id\":\"\\u0041\",\"timestamp\":0,\"user_id\":\"u\","
	                 "\"message\":\"m\",\"emotes\":[\"x\",\"y\",\"z\"]}"));
	ck_assert_uint_eq(ev.n_emotes, 3);
	/* A following event does not inherit the previous one's fields. */
	ck_assert(decode("{\"stream_id\":\"B\",\"timestamp\":1,\"user_id\":\"v\",\"message\":\"n\"}"));
	ck_assert_sv_eq(ev.stream_id, "B");
	ck_assert_uint_eq(ev.n_emotes, 0);
	ck_assert_int_eq(ev.time_us, SEC(1));
	/* A failure in between does not disturb the next success. */
	expect_dead("{\"stream_id\":\"B\",\"timestamp\":1}", EVENT_UNKNOWN, DEAD_UNKNOWN_KIND, NULL);
	/* event_decode_scanned: the object was scanned into dec.scan already. */
	const char *raw = "{\"stream_id\":\"C\",\"timestamp\":2,\"viewer_count\":9}";
	ck_assert_int_eq(jscan_object(&dec.scan, raw, strlen(raw), NULL), JSCAN_OK);
	ck_assert(event_decode_scanned(&dec, strlen(raw), EVENT_UNKNOWN, &ev, &reason, &err));
	ck_assert_int_eq(ev.kind, EVENT_VIEWER);
	ck_assert_sv_eq(ev.stream_id, "C");
	ck_assert_int_eq(ev.viewer_count, 9);
}
END_TEST

Suite *event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("decode");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, chat_full);
	tcase_add_test(tc, viewer_full);
	tcase_add_test(tc, aliases);
	tcase_add_test(tc, kind_detection_order);
	tcase_add_test(tc, integer_ids);
	tcase_add_test(tc, stream_id_length);
	tcase_add_test(tc, null_is_absent);
	tcase_add_test(tc, duplicate_keys_last_wins);
	tcase_add_test(tc, emotes_validation);
	tcase_add_test(tc, message_forms);
	tcase_add_test(tc, escapes_everywhere);
	tcase_add_test(tc, decoder_reuse_and_scanned);
	suite_add_tcase(s, tc);
	tc = tcase_create("dead_letters");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dead_not_json_not_object);
	tcase_add_test(tc, dead_too_large);
	tcase_add_test(tc, dead_missing_field);
	tcase_add_test(tc, dead_wrong_type);
	tcase_add_test(tc, dead_bad_timestamp);
	tcase_add_test(tc, dead_negative_count);
	tcase_add_test(tc, dead_invalid_utf8);
	tcase_add_test(tc, dead_bad_field);
	tcase_add_test(tc, reason_names);
	suite_add_tcase(s, tc);
	return s;
}
