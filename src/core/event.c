/*
 * event.c — decoding one event's JSON bytes into a struct event by the
 * field rules of core/event.h (SPEC §2), every violation a dead-letter
 * reason, and the names of those reasons.
 */
#include "config.h"

#include "core/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "core/utf8.h"

static const char *const reason_names[DEAD_REASON_COUNT] = {
	[DEAD_NOT_JSON] = "not_json",
	[DEAD_NOT_OBJECT] = "not_object",
	[DEAD_TOO_LARGE] = "too_large",
	[DEAD_MISSING_FIELD] = "missing_field",
	[DEAD_WRONG_TYPE] = "wrong_type",
	[DEAD_BAD_TIMESTAMP] = "bad_timestamp",
	[DEAD_NEGATIVE_COUNT] = "negative_count",
	[DEAD_INVALID_UTF8] = "invalid_utf8",
	[DEAD_BAD_FIELD] = "bad_field",
	[DEAD_UNKNOWN_KIND] = "unknown_kind",
	[DEAD_BAD_ENVELOPE] = "bad_envelope",
	[DEAD_BAD_CONTROL] = "bad_control",
	[DEAD_DAMAGED_INPUT] = "damaged_input",
	[DEAD_LATE] = "late",
};

const char *dead_reason_name(enum dead_reason r)
{
	return (unsigned)r < DEAD_REASON_COUNT ? reason_names[r] : "unknown";
}

void event_decoder_free(struct event_decoder *d)
{
	jscan_free(&d->scan);
	buf_free(&d->scratch);
	free(d->emotes);
	d->emotes = NULL;
	d->emotes_cap = 0;
}

struct decode_ctx {
	struct event_decoder *d;
	enum dead_reason *reason;
	struct error *err;
};

static bool reject(struct decode_ctx *c, enum dead_reason r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool reject(struct decode_ctx *c, enum dead_reason r, const char *fmt, ...)
{
	va_list ap;
	*c->reason = r;
	va_start(ap, fmt);
	if (c->err)
		vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return false;
}

/* Is s[0..n) ASCII without NUL?  Eight bytes at a time, the last word
 * overlapping the one before, and a short string as two overlapping
 * halves (a byte-wise tail was ~90 of the reader's instructions a line):
 * ids are short, and for such an id the two checks below (UTF-8, then
 * NUL) cannot fail, so it can skip both.  A false answer only sends it
 * the long way. */
static bool plain_ascii(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t w, bad = 0;
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			bad |= (w | ((w - ones) & ~w)) & highs; /* a high bit, or a zero byte */
		}
		memcpy(&w, s + n - 8, 8);
	} else if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		w = (uint64_t)hi << 32 | lo;
	} else if (n) {
		/* Three of its bytes (some twice), the rest a letter. */
		w = UINT64_C(0x6161616161000000) | (unsigned char)s[0] |
		    (uint64_t)(unsigned char)s[n / 2] << 8 | (uint64_t)(unsigned char)s[n - 1] << 16;
	} else {
		return true;
	}
	bad |= (w | ((w - ones) & ~w)) & highs;
	return !bad;
}

/* An identifier: a non-empty string or an integer literal, valid UTF-8
 * without NUL. */
static bool read_id(struct decode_ctx *c, const struct jscan_value *v, const char *field,
                    struct strview *out)
{
	int64_t ignored;
	if (v->type == JS_STRING)
		jscan_string(v, &c->d->scratch, out);
	else if (jscan_integer(v, &ignored))
		*out = v->text;
	else
		return reject(c, DEAD_WRONG_TYPE, "field \"%s\" must be a string or an integer", field);
	if (out->len == 0)
		return reject(c, DEAD_BAD_FIELD, "field \"%s\" is empty", field);
	if (plain_ascii(out->ptr, out->len))
		return true;
	if (!utf8_valid(out->ptr, out->len))
		return reject(c, DEAD_INVALID_UTF8, "field \"%s\" is not valid UTF-8", field);
	if (memchr(out->ptr, '\0', out->len))
		return reject(c, DEAD_BAD_FIELD, "field \"%s\" contains a NUL character", field);
	return true;
}

/* The value of the last member named k, NULL when absent or null. */
static inline const struct jscan_value *field(const struct jscan *scan, enum jscan_key k)
{
	const struct jscan_member *m = jscan_known(scan, k);
	return m && m->value.type != JS_NULL ? &m->value : NULL;
}

static size_t utf8_chars(struct strview s)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		n += ((unsigned char)s.ptr[i] & 0xC0) != 0x80;
	return n;
}

static bool decode_kind(struct decode_ctx *c, const struct jscan_value *type,
                        const struct jscan_value *viewer_count, const struct jscan_value *message,
                        enum event_kind *kind)
{
	if (type) {
		if (type->type != JS_STRING)
			return reject(c, DEAD_WRONG_TYPE, "field \"%s\" must be a string", "type");
		struct strview t;
		jscan_string(type, &c->d->scratch, &t);
		/* Compared inline: sv_eq_cstr() was a strlen and a call. */
		if (t.len == 4 && memcmp(t.ptr, "chat", 4) == 0) {
			*kind = EVENT_CHAT;
			return true;
		}
		if (t.len == 6 && memcmp(t.ptr, "viewer", 6) == 0) {
			*kind = EVENT_VIEWER;
			return true;
		}
		return reject(c, DEAD_UNKNOWN_KIND,
		              "field \"%s\" is neither \"chat\" nor \"viewer\"", "type");
	}
	if (viewer_count) {
		*kind = EVENT_VIEWER;
		return true;
	}
	if (message) {
		*kind = EVENT_CHAT;
		return true;
	}
	return reject(c, DEAD_UNKNOWN_KIND,
	              "cannot tell chat from viewer: no \"type\", \"viewer_count\" or \"message\"");
}

/* The next element of the emotes array: the scanner's record of it, or
 * the array walked again. */
static inline bool next_element(const struct jscan *scan, bool recorded, size_t *next,
                                struct jscan_array_iter *it, struct jscan_value *e)
{
	if (!recorded)
		return jscan_array_next(it, e);
	if (*next >= scan->n_elems)
		return false;
	*e = scan->elems[(*next)++];
	return true;
}

static bool decode_emotes(struct decode_ctx *c, const struct jscan_value *v, struct event *ev)
{
	struct event_decoder *d = c->d;
	if (v->type != JS_ARRAY)
		return reject(c, DEAD_WRONG_TYPE, "field \"%s\" must be an array of strings", "emotes");
	/* The scanner recorded the elements when they are all strings: they
	 * need no second scan (each is what jscan_array_next() would give). */
	const struct jscan *scan = &d->scan;
	bool recorded = scan->elems_of && scan->elems_of == scan->known[JK_EMOTES];
	size_t next = 0;
	struct jscan_array_iter it;
	struct jscan_value e;
	if (!recorded)
		jscan_array_begin(&it, v);
	while (next_element(scan, recorded, &next, &it, &e)) {
		struct strview s;
		if (e.type != JS_STRING)
			return reject(c, DEAD_WRONG_TYPE, "field \"%s\" must be an array of strings",
			              "emotes");
		jscan_string(&e, &d->scratch, &s);
		if (!plain_ascii(s.ptr, s.len)) {
			if (!utf8_valid(s.ptr, s.len))
				return reject(c, DEAD_INVALID_UTF8, "an entry of \"%s\" is not valid UTF-8",
				              "emotes");
			if (memchr(s.ptr, '\0', s.len))
				return reject(c, DEAD_BAD_FIELD, "an entry of \"%s\" contains a NUL character",
				              "emotes");
		}
		if (s.len == 0)
			continue;
		d->emotes = grow_array(d->emotes, sizeof(*d->emotes), &d->emotes_cap, ev->n_emotes + 1);
		d->emotes[ev->n_emotes++] = s;
	}
	ev->emotes = d->emotes;
	return true;
}

bool event_decode_scanned(struct event_decoder *d, size_t raw_len, enum event_kind kind_hint,
                          struct event *ev, enum dead_reason *reason, struct error *err)
{
	struct decode_ctx c = {d, reason, err};

	/* Every string decoded below lands in scratch, and views into scratch
	 * must not move: reserve the worst case once (decoded strings are never
	 * longer than their raw text; the chatter id is copied once more). */
	buf_reset(&d->scratch);
	buf_reserve(&d->scratch, 2 * raw_len + 16);

	/* The members the decoder reads, found by the scanner as it went;
	 * everything else is ignored.  null counts as absent.  Looked up as
	 * needed, not all fourteen up front. */
#define F(k) field(&d->scan, k)

	memset(ev, 0, sizeof(*ev));
	ev->kind = kind_hint;
	if (ev->kind == EVENT_UNKNOWN &&
	    !decode_kind(&c, F(JK_TYPE), F(JK_VIEWER_COUNT), F(JK_MESSAGE), &ev->kind))
		return false;

	const struct jscan_value *sid = F(JK_STREAM_ID) ? F(JK_STREAM_ID) : F(JK_CHANNEL);
	if (!sid)
		return reject(&c, DEAD_MISSING_FIELD, "required field \"%s\" is missing", "stream_id");
	if (!read_id(&c, sid, F(JK_STREAM_ID) ? "stream_id" : "channel", &ev->stream_id))
		return false;
	/* (No more characters than bytes.) */
	if (ev->stream_id.len > STREAM_ID_MAX_CHARS && utf8_chars(ev->stream_id) > STREAM_ID_MAX_CHARS)
		return reject(&c, DEAD_BAD_FIELD, "field \"%s\" is longer than 255 characters",
		              "stream_id");
	ev->stream_hash = hash_bytes(ev->stream_id.ptr, ev->stream_id.len);

	const struct jscan_value *ts = F(JK_TIMESTAMP);
	if (!ts)
		return reject(&c, DEAD_MISSING_FIELD, "required field \"%s\" is missing", "timestamp");
	if (ts->type == JS_STRING) {
		struct strview t;
		jscan_string(ts, &d->scratch, &t);
		if (!timestamp_parse_text_cached(&d->day, t.ptr, t.len, &ev->time_us))
			return reject(&c, DEAD_BAD_TIMESTAMP,
			              "field \"%s\" is not an RFC 3339 time such as 2025-11-23T12:34:56Z",
			              "timestamp");
	} else if (ts->type == JS_NUMBER) {
		if (!timestamp_parse_number(ts->text.ptr, ts->text.len, &ev->time_us))
			return reject(&c, DEAD_BAD_TIMESTAMP,
			              "field \"%s\" is a number outside years 0001..9999", "timestamp");
	} else {
		return reject(&c, DEAD_WRONG_TYPE,
		              "field \"%s\" must be an RFC 3339 string or epoch seconds/milliseconds",
		              "timestamp");
	}

	if (ev->kind == EVENT_VIEWER) {
		const struct jscan_value *vc = F(JK_VIEWER_COUNT);
		if (!vc)
			return reject(&c, DEAD_MISSING_FIELD, "required field \"%s\" is missing",
			              "viewer_count");
		if (!jscan_integer(vc, &ev->viewer_count))
			return reject(&c, DEAD_WRONG_TYPE, "field \"%s\" must be an integer", "viewer_count");
		if (ev->viewer_count < 0)
			return reject(&c, DEAD_NEGATIVE_COUNT, "field \"%s\" is negative", "viewer_count");
		ev->has_hashes = true;
		return true;
	}

	const struct jscan_value *uid = F(JK_USER_ID) ? F(JK_USER_ID) : F(JK_USERNAME);
	if (!uid)
		return reject(&c, DEAD_MISSING_FIELD, "required field \"%s\" (or \"username\") is missing",
		              "user_id");
	struct strview who;
	if (!read_id(&c, uid, F(JK_USER_ID) ? "user_id" : "username", &who))
		return false;
	char *dst = d->scratch.data + d->scratch.len;
	dst[0] = F(JK_USER_ID) ? 'u' : 'n';
	dst[1] = ':';
	memcpy(dst + 2, who.ptr, who.len);
	d->scratch.len += who.len + 2;
	ev->chatter = sv_make(dst, who.len + 2);
	ev->chatter_hash = hash_bytes(ev->chatter.ptr, ev->chatter.len);

	const struct jscan_value *msg = F(JK_MESSAGE);
	if (!msg)
		return reject(&c, DEAD_MISSING_FIELD, "required field \"%s\" is missing", "message");
	if (msg->type != JS_STRING)
		return reject(&c, DEAD_WRONG_TYPE, "field \"%s\" must be a string", "message");
	jscan_string(msg, &d->scratch, &ev->message);

	if (F(JK_EMOTES) && !decode_emotes(&c, F(JK_EMOTES), ev))
		return false;
	ev->has_hashes = true;
	return true;
#undef F
}

bool event_decode(struct event_decoder *d, const char *raw, size_t len, enum event_kind kind_hint,
                  struct event *ev, enum dead_reason *reason, struct error *err)
{
	if (len > EVENT_MAX_BYTES) {
		*reason = DEAD_TOO_LARGE;
		error_set(err, "record of %zu bytes is over the 1 MiB limit", len);
		return false;
	}
	switch (jscan_object(&d->scan, raw, len, err)) {
	case JSCAN_OK:
		break;
	case JSCAN_NOT_JSON:
		*reason = DEAD_NOT_JSON;
		return false;
	case JSCAN_NOT_OBJECT:
		*reason = DEAD_NOT_OBJECT;
		return false;
	}
	return event_decode_scanned(d, len, kind_hint, ev, reason, err);
}
