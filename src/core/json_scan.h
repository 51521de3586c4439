/*
 * json_scan.h — a validating, zero-copy scanner for one JSON object.
 *
 * Why not jansson here: a DOM parser allocates a node per value, and its
 * measured cost on a typical 286-byte chat event (~5.5 µs) alone exceeds the
 * whole per-event budget of replay (1 µs).  Events are flat objects of which
 * we read half a dozen members, so this scanner validates the complete text
 * against RFC 8259 but records only the top-level members, as spans into the
 * caller's bytes.  Nested values are validated and skipped.  Strings are
 * decoded only when the caller asks for one (jscan_string), and only if
 * it contains escapes.  jansson remains the JSON library for everything that
 * is not on the per-event path: configuration, state, metadata, dumps.
 *
 * Deliberate leniency: bytes inside strings are not checked for UTF-8
 * validity (SPEC §2 rejects invalid UTF-8 only in key fields, which the
 * event decoder checks after decoding).  Duplicate keys: the last one wins.
 */
#ifndef TELEMETRA_JSON_SCAN_H
#define TELEMETRA_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/common.h"

enum jscan_type {
	JS_NULL,
	JS_FALSE,
	JS_TRUE,
	JS_NUMBER,
	JS_STRING,
	JS_ARRAY,
	JS_OBJECT,
};

struct jscan_value {
	enum jscan_type type;
	/* JS_STRING: the raw bytes between the quotes (escapes not decoded);
	 * every other type: the whole value text. */
	struct strview text;
	bool escaped; /* a string containing at least one backslash escape */
};

struct jscan_member {
	struct jscan_value key; /* always a JS_STRING */
	struct jscan_value value;
};

/*
 * The member names the per-event path reads (core/event.c, core/capture.c),
 * classified by the scanner as it records each key, while the key's bytes
 * are at hand: the event decoder and capture_classify() then look their
 * members up by index instead of walking and comparing every key again.
 * A key spelled with escapes ("stream\u005fid") is decoded to classify it.
 */
enum jscan_key {
	JK_OTHER,
	JK_TIMESTAMP,
	JK_STREAM_ID,
	JK_CHANNEL,
	JK_USER_ID,
	JK_USERNAME,
	JK_MESSAGE,
	JK_EMOTES,
	JK_VIEWER_COUNT,
	JK_TYPE,
	JK_CONTROL,
	JK_TOPIC,
	JK_PARTITION,
	JK_OFFSET,
	JK_COUNT
};

/* The members of one scanned object.  Owns the members array, which is
 * reused from one jscan_object() call to the next: scanning a stream of
 * events allocates nothing after the first few.  Free with jscan_free(). */
struct jscan {
	struct jscan_member *members;
	size_t n;
	size_t cap;
	/* By enum jscan_key: 1 + the index of the last member of that name
	 * (duplicate keys: the last one wins, as in jscan_find), 0 for none. */
	uint32_t known[JK_COUNT];
	/* The elements of the last "emotes" member, recorded while it was
	 * scanned when it is an array of strings only, so that the decoder
	 * need not scan it again: elems_of is 1 + that member's index (compare
	 * with known[JK_EMOTES]), 0 when none was recorded. */
	struct jscan_value *elems;
	size_t n_elems, elems_cap;
	uint32_t elems_of;
};

enum jscan_status {
	JSCAN_OK,
	JSCAN_NOT_JSON,   /* the text is not one valid JSON value */
	JSCAN_NOT_OBJECT, /* valid JSON, but not an object */
};

/* Scan text[0..len) as one JSON object surrounded by optional whitespace.
 * On failure, err (optional) says what and at which byte. */
enum jscan_status jscan_object(struct jscan *scan, const char *text, size_t len,
                                       struct error *err);
void jscan_free(struct jscan *scan);

/* The last member named by key (not JK_OTHER), or NULL: jscan_find()
 * without the search. */
static inline const struct jscan_member *jscan_known(const struct jscan *scan, enum jscan_key key)
{
	return scan->known[key] ? &scan->members[scan->known[key] - 1] : NULL;
}

/*
 * Which block scanner finds the bytes of a string that need attention
 * (quote, backslash, control character).  Chosen when the program starts:
 * AVX2 (32 bytes a step) where the CPU has it, else SSE2 (16; every x86-64
 * has it), else portable 8-byte SWAR.  All give the same results;
 * jscan_simd_select() forces one, so tests can run and compare them all.
 * Not thread-safe: select before other threads scan.
 */
enum jscan_simd {
	JSCAN_PORTABLE,
	JSCAN_SSE2,
	JSCAN_AVX2,
};
/* false, leaving the choice as it was, when this build or CPU lacks it. */
bool jscan_simd_select(enum jscan_simd which);
enum jscan_simd jscan_simd_active(void);
enum jscan_simd jscan_simd_best(void); /* what this CPU and build allow */
const char *jscan_simd_name(enum jscan_simd which);
/* The first byte in [p, end) that is a quote, a backslash or below 0x20,
 * or end: the active scanner's hot loop, exposed for tests. */
const char *jscan_skip_plain(const char *p, const char *end);

/* The last member whose (decoded) key equals name, or NULL. */
const struct jscan_member *jscan_find(const struct jscan *scan, const char *name);

/* Does a raw key span equal name?  Handles escaped keys. */
bool jscan_key_eq(const struct jscan_value *key, const char *name, size_t name_len);

/*
 * Decode a JS_STRING value.  Without escapes, *out points into the scanned
 * text itself; otherwise the decoded bytes are appended to scratch (which
 * the caller owns) and *out points into scratch, valid until scratch is
 * reset, freed or grown.  Decoding never lengthens a string, so a caller
 * that keeps several views reserves the length of the scanned text in
 * scratch first (buf_reserve); scratch then never grows while it decodes.
 * A \u escape naming a lone surrogate is encoded as its 3-byte form, which
 * is not valid UTF-8: key-field checks reject it, and the tokenizer treats
 * it as word bytes.
 */
void jscan_string_unescape(const struct jscan_value *v, struct buf *scratch, struct strview *out);
static inline void jscan_string(const struct jscan_value *v, struct buf *scratch,
                                struct strview *out)
{
	/* Inline for the usual string, without escapes (a call each was ~5 %
	 * of the reader's instructions). */
	if (!v->escaped)
		*out = v->text;
	else
		jscan_string_unescape(v, scratch, out);
}

/* Iterate the elements of an already-validated JS_ARRAY value:
 *   struct jscan_array_iter it; jscan_array_begin(&it, &v);
 *   struct jscan_value e; while (jscan_array_next(&it, &e)) ...          */
struct jscan_array_iter {
	const char *p;
	const char *end;
};
void jscan_array_begin(struct jscan_array_iter *it, const struct jscan_value *array);
bool jscan_array_next(struct jscan_array_iter *it, struct jscan_value *elem);

/* Is the value a JSON integer literal (no fraction, no exponent) that fits
 * int64?  Stores it in *out. */
bool jscan_integer(const struct jscan_value *v, int64_t *out);

#endif
