/*
 * fuzz_scan.c — the JSON scanner's block paths (core/json_scan.c) on
 * arbitrary bytes.
 *
 * Invariants: every SIMD path this CPU has (portable, SSE2, AVX2) gives
 * the same verdict, the same message and the same member spans for the
 * same text, and jscan_skip_plain() stops at the same byte from every
 * offset; the keys the scanner classifies (jscan_known) are the members
 * jscan_find() finds by name; and capture_classify() on those agrees with
 * a plain walk over every key, as it was written before the scanner
 * classified them.
 */
#include "config.h"

#include <string.h>

#include "core/capture.h"
#include "core/json_scan.h"
#include "fuzz.h"

static const char *const names[JK_COUNT] = {
	[JK_TIMESTAMP] = "timestamp", [JK_STREAM_ID] = "stream_id", [JK_CHANNEL] = "channel",
	[JK_USER_ID] = "user_id",     [JK_USERNAME] = "username",   [JK_MESSAGE] = "message",
	[JK_EMOTES] = "emotes",       [JK_VIEWER_COUNT] = "viewer_count", [JK_TYPE] = "type",
	[JK_CONTROL] = "control",     [JK_TOPIC] = "topic",         [JK_PARTITION] = "partition",
	[JK_OFFSET] = "offset",
};

static enum capture_kind walk_classify(const struct jscan *scan)
{
	bool topic = false, partition = false, offset = false, control = false;
	for (size_t i = 0; i < scan->n; i++) {
		const struct jscan_value *k = &scan->members[i].key;
		if (jscan_key_eq(k, "timestamp", 9) || jscan_key_eq(k, "stream_id", 9) ||
		    jscan_key_eq(k, "channel", 7))
			return CAPTURE_EVENT;
		control |= jscan_key_eq(k, "control", 7);
		topic |= jscan_key_eq(k, "topic", 5);
		partition |= jscan_key_eq(k, "partition", 9);
		offset |= jscan_key_eq(k, "offset", 6);
	}
	if (control)
		return CAPTURE_CONTROL;
	return topic && partition && offset ? CAPTURE_ENVELOPE : CAPTURE_EVENT;
}

static bool same_value(const struct jscan_value *a, const struct jscan_value *b)
{
	return a->type == b->type && a->escaped == b->escaped && a->text.ptr == b->text.ptr &&
	       a->text.len == b->text.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	char *text = malloc(size ? size : 1);
	memcpy(text, data, size);
	const char *end = text + size;
	enum jscan_simd best = jscan_simd_best(), saved = jscan_simd_active();

	struct jscan ref = {0}, js = {0};
	struct error ref_err = {{0}}, err = {{0}};
	FUZZ_CHECK(jscan_simd_select(JSCAN_PORTABLE), "portable path refused");
	enum jscan_status ref_st = jscan_object(&ref, text, size, &ref_err);
	for (enum jscan_simd path = JSCAN_PORTABLE; path <= best; path++) {
		FUZZ_CHECK(jscan_simd_select(path), "%s refused", jscan_simd_name(path));
		/* Every start offset of a short input; of a long one, the first
		 * 4 KiB (quadratic otherwise). */
		for (size_t i = 0; i <= size && i <= 4096; i++) {
			FUZZ_CHECK(jscan_simd_select(JSCAN_PORTABLE), "portable");
			const char *want = jscan_skip_plain(text + i, end);
			jscan_simd_select(path);
			const char *got = jscan_skip_plain(text + i, end);
			FUZZ_CHECK(got == want, "%s skip from %zu: %td, portable %td", jscan_simd_name(path),
			           i, got - text, want - text);
		}
		memset(&err, 0, sizeof(err));
		enum jscan_status st = jscan_object(&js, text, size, &err);
		FUZZ_CHECK(st == ref_st, "%s status %d, portable %d", jscan_simd_name(path), st, ref_st);
		FUZZ_CHECK(strcmp(err.msg, ref_err.msg) == 0, "%s: \"%s\", portable \"%s\"",
		           jscan_simd_name(path), err.msg, ref_err.msg);
		if (st != JSCAN_OK)
			continue;
		FUZZ_CHECK(js.n == ref.n, "%s: %zu members, portable %zu", jscan_simd_name(path), js.n,
		           ref.n);
		for (size_t i = 0; i < js.n; i++)
			FUZZ_CHECK(same_value(&js.members[i].key, &ref.members[i].key) &&
			                   same_value(&js.members[i].value, &ref.members[i].value),
			           "%s: member %zu differs", jscan_simd_name(path), i);
		FUZZ_CHECK(memcmp(js.known, ref.known, sizeof(js.known)) == 0, "%s: known differs",
		           jscan_simd_name(path));
	}
	jscan_simd_select(saved);

	if (ref_st == JSCAN_OK) {
		for (int k = 1; k < JK_COUNT; k++)
			FUZZ_CHECK(jscan_known(&ref, (enum jscan_key)k) == jscan_find(&ref, names[k]),
			           "known \"%s\" is not jscan_find's", names[k]);
		FUZZ_CHECK(capture_classify(&ref) == walk_classify(&ref), "capture_classify %d, walk %d",
		           (int)capture_classify(&ref), (int)walk_classify(&ref));
		/* Recorded emotes are the array's elements, walked again. */
		if (ref.elems_of && ref.elems_of == ref.known[JK_EMOTES]) {
			const struct jscan_value *arr = &ref.members[ref.elems_of - 1].value;
			FUZZ_CHECK(arr->type == JS_ARRAY, "recorded emotes are not an array");
			struct jscan_array_iter it;
			struct jscan_value e;
			size_t i = 0;
			jscan_array_begin(&it, arr);
			while (jscan_array_next(&it, &e)) {
				FUZZ_CHECK(i < ref.n_elems && same_value(&e, &ref.elems[i]),
				           "recorded emote %zu differs", i);
				i++;
			}
			FUZZ_CHECK(i == ref.n_elems, "%zu emotes recorded, %zu in the array", ref.n_elems, i);
		}
	}
	jscan_free(&ref);
	jscan_free(&js);
	free(text);
	return 0;
}
