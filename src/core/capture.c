/*
 * capture.c — recognising the three kinds of line of an event file and
 * taking an envelope apart (core/capture.h): a capture or kcat -J envelope
 * is checked member by member and its payload (text or base64) handed back
 * as the raw event bytes, so that a bad message stays bad on replay.
 */
#include "config.h"

#include "core/capture.h"

#include <inttypes.h>
#include <string.h>

#include "core/timestamp.h"
#include "core/utf8.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_encode(struct buf *out, const unsigned char *p, size_t n)
{
	buf_reserve(out, (n + 2) / 3 * 4);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		buf_addc(out, b64[(v >> 18) & 63]);
		buf_addc(out, b64[(v >> 12) & 63]);
		buf_addc(out, i + 1 < n ? b64[(v >> 6) & 63] : '=');
		buf_addc(out, i + 2 < n ? b64[v & 63] : '=');
	}
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

static bool base64_decode(struct strview in, struct buf *out, struct strview *res)
{
	if (in.len % 4)
		return false;
	buf_reserve(out, in.len / 4 * 3);
	char *start = out->data + out->len;
	size_t n = 0;
	for (size_t i = 0; i < in.len; i += 4) {
		int v[4];
		bool last = i + 4 == in.len;
		/* '=' pads only the end of the last quad: "xx==" or "xxx=". */
		if ((in.ptr[i + 2] == '=' && in.ptr[i + 3] != '=') ||
		    ((in.ptr[i + 2] == '=' || in.ptr[i + 3] == '=') && !last))
			return false;
		for (int j = 0; j < 4; j++) {
			char c = in.ptr[i + j];
			v[j] = (c == '=' && last && j >= 2) ? 0 : b64_value(c);
			if (v[j] < 0)
				return false;
		}
		uint32_t w = (uint32_t)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		start[n++] = (char)(w >> 16);
		if (in.ptr[i + 2] != '=')
			start[n++] = (char)(w >> 8);
		if (in.ptr[i + 3] != '=')
			start[n++] = (char)w;
	}
	out->len += n;
	out->data[out->len] = '\0';
	*res = sv_make(start, n);
	return true;
}

enum capture_kind capture_classify(const struct jscan *scan)
{
	/* This runs on every line of a file: the scanner has classified the
	 * names already. */
	if (scan->known[JK_TIMESTAMP] || scan->known[JK_STREAM_ID] || scan->known[JK_CHANNEL])
		return CAPTURE_EVENT;
	if (scan->known[JK_CONTROL])
		return CAPTURE_CONTROL;
	return scan->known[JK_TOPIC] && scan->known[JK_PARTITION] && scan->known[JK_OFFSET]
	               ? CAPTURE_ENVELOPE
	               : CAPTURE_EVENT;
}

static bool get_string(const struct jscan *scan, const char *name, struct buf *scratch,
                       struct strview *out, struct error *err)
{
	const struct jscan_member *m = jscan_find(scan, name);
	if (!m || m->value.type != JS_STRING) {
		error_set(err, "\"%s\" must be a string", name);
		return false;
	}
	buf_reserve(scratch, m->value.text.len);
	jscan_string(&m->value, scratch, out);
	return true;
}

/* A topic names a lane and a dead letter's source, and is compared and
 * stored as text by both sinks: it must be text that survives that. */
static bool get_topic(const struct jscan *scan, struct buf *scratch, struct strview *out,
                      struct error *err)
{
	if (!get_string(scan, "topic", scratch, out, err))
		return false;
	if (out->len == 0) {
		error_set(err, "\"topic\" is empty");
		return false;
	}
	if (out->len > CAPTURE_TOPIC_MAX) {
		error_set(err, "\"topic\" is longer than %d bytes (Kafka's limit is 249)",
		          CAPTURE_TOPIC_MAX);
		return false;
	}
	if (!utf8_valid(out->ptr, out->len)) {
		error_set(err, "\"topic\" is not valid UTF-8");
		return false;
	}
	if (memchr(out->ptr, '\0', out->len)) {
		error_set(err, "\"topic\" contains a NUL character");
		return false;
	}
	return true;
}

static bool get_int(const struct jscan *scan, const char *name, int64_t lo, int64_t hi,
                    int64_t *out, struct error *err)
{
	const struct jscan_member *m = jscan_find(scan, name);
	if (!m || !jscan_integer(&m->value, out) || *out < lo || *out > hi) {
		error_set(err, "\"%s\" must be an integer from %" PRId64 " to %" PRId64, name, lo, hi);
		return false;
	}
	return true;
}

bool capture_parse_envelope(const struct jscan *scan, struct buf *scratch,
                            struct capture_envelope *out, struct error *err)
{
	int64_t partition;
	if (!get_topic(scan, scratch, &out->topic, err) ||
	    !get_int(scan, "partition", 0, INT32_MAX, &partition, err) ||
	    !get_int(scan, "offset", 0, INT64_MAX, &out->offset, err))
		return false;
	out->partition = (int32_t)partition;

	/* kcat -J names the payload "payload" (and writes its bytes as they
	 * are, invalid UTF-8 included); a telemetra capture names it "value". */
	const struct jscan_member *v = jscan_find(scan, "value");
	const struct jscan_member *v64 = jscan_find(scan, "value_base64");
	const struct jscan_member *kc = jscan_find(scan, "payload");
	if (!v && !v64 && kc)
		v = kc;
	if (v && v->value.type == JS_STRING) {
		buf_reserve(scratch, v->value.text.len);
		jscan_string(&v->value, scratch, &out->value);
		return true;
	}
	if (v && v->value.type == JS_NULL) {
		out->value = SV_NULL;
		return true;
	}
	if (!v && v64 && v64->value.type == JS_STRING && !v64->value.escaped) {
		if (base64_decode(v64->value.text, scratch, &out->value))
			return true;
		error_set(err, "\"value_base64\" is not valid base64");
		return false;
	}
	error_set(err, "an envelope needs \"value\" or \"payload\" (a string or null), or "
	               "\"value_base64\"");
	return false;
}

bool capture_parse_control(const struct jscan *scan, struct buf *scratch,
                           struct capture_control *out, struct error *err)
{
	struct strview kind;
	if (!get_string(scan, "control", scratch, &kind, err))
		return false;
	if (sv_eq_cstr(kind, "advance")) {
		struct strview t;
		out->kind = CONTROL_ADVANCE;
		if (!get_string(scan, "watermark", scratch, &t, err))
			return false;
		if (!timestamp_parse_text(t.ptr, t.len, &out->watermark_us)) {
			error_set(err, "\"watermark\" is not an RFC 3339 time");
			return false;
		}
		return true;
	}
	if (sv_eq_cstr(kind, "lane_open"))
		out->kind = CONTROL_LANE_OPEN;
	else if (sv_eq_cstr(kind, "lane_idle"))
		out->kind = CONTROL_LANE_IDLE;
	else if (sv_eq_cstr(kind, "lane_close"))
		out->kind = CONTROL_LANE_CLOSE;
	else {
		error_set(err, "unknown control record; expected lane_open, lane_idle, lane_close or "
		               "advance");
		return false;
	}
	int64_t partition;
	if (!get_topic(scan, scratch, &out->topic, err) ||
	    !get_int(scan, "partition", 0, INT32_MAX, &partition, err))
		return false;
	out->partition = (int32_t)partition;
	return true;
}

static void write_bytes_field(struct buf *out, const char *name, const char *p, size_t n)
{
	if (!p) {
		buf_printf(out, ",\"%s\":null", name);
	} else if (utf8_valid(p, n)) {
		buf_printf(out, ",\"%s\":", name);
		buf_add_json_string(out, p, n);
	} else {
		buf_printf(out, ",\"%s_base64\":\"", name);
		base64_encode(out, (const unsigned char *)p, n);
		buf_addc(out, '"');
	}
}

void capture_write_envelope(struct buf *out, struct strview topic, int32_t partition,
                            int64_t offset, int64_t timestamp_ms, const char *key, size_t key_len,
                            const char *value, size_t value_len)
{
	buf_adds(out, "{\"topic\":");
	buf_add_json_string(out, topic.ptr, topic.len);
	buf_printf(out, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp_ms\":%" PRId64,
	           partition, offset, timestamp_ms);
	write_bytes_field(out, "key", key, key_len);
	write_bytes_field(out, "value", value, value_len);
	buf_adds(out, "}\n");
}

void capture_write_lane(struct buf *out, enum control_kind kind, struct strview topic,
                        int32_t partition)
{
	static const char *const names[] = {
		[CONTROL_LANE_OPEN] = "lane_open",
		[CONTROL_LANE_IDLE] = "lane_idle",
		[CONTROL_LANE_CLOSE] = "lane_close",
	};
	buf_printf(out, "{\"control\":\"%s\",\"topic\":", names[kind]);
	buf_add_json_string(out, topic.ptr, topic.len);
	buf_printf(out, ",\"partition\":%" PRId32 "}\n", partition);
}

void capture_write_advance(struct buf *out, int64_t watermark_us)
{
	char t[TIMESTAMP_BUFSZ];
	timestamp_format_rfc3339(watermark_us, t);
	buf_printf(out, "{\"control\":\"advance\",\"watermark\":\"%s\"}\n", t);
}
