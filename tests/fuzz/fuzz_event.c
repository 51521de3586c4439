/*
 * fuzz_event.c — the event decoder (core/event.c over core/json_scan.c)
 * on arbitrary bytes, with every kind hint a source can give.
 *
 * Invariants of an accepted event: a kind, a finite time, a stream_id of
 * 1..255 characters of valid UTF-8, a chatter and emotes of valid UTF-8 (a
 * message may be anything), a viewer_count >= 0; a rejected one has a reason and a message.  The input
 * is copied to a buffer of exactly its size, so that ASan sees any read
 * past the end.
 */
#include "config.h"

#include <string.h>

#include "core/event.h"
#include "core/timestamp.h"
#include "core/utf8.h"
#include "fuzz.h"

static void check_text(const char *what, struct strview s)
{
	FUZZ_CHECK(s.len == 0 || s.ptr, "%s", what);
	FUZZ_CHECK(utf8_valid(s.ptr, s.len), "%s is not valid UTF-8", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum event_kind hints[] = {EVENT_UNKNOWN, EVENT_CHAT, EVENT_VIEWER};
	char *raw = malloc(size ? size : 1);
	memcpy(raw, data, size);
	struct event_decoder dec = {0};
	for (size_t h = 0; h < sizeof(hints) / sizeof(hints[0]); h++) {
		struct event ev;
		enum dead_reason reason = DEAD_REASON_COUNT;
		struct error err = {0};
		if (!event_decode(&dec, raw, size, hints[h], &ev, &reason, &err)) {
			FUZZ_CHECK(reason < DEAD_REASON_COUNT && reason != DEAD_LATE, "reason %d", reason);
			FUZZ_CHECK(err.msg[0], "a rejection without a message");
			continue;
		}
		FUZZ_CHECK(ev.kind == EVENT_CHAT || ev.kind == EVENT_VIEWER, "kind %d", ev.kind);
		FUZZ_CHECK(hints[h] == EVENT_UNKNOWN || ev.kind == hints[h], "kind %d against hint %d",
		           ev.kind, hints[h]);
		FUZZ_CHECK(ev.time_us != TIME_NEG_INF && ev.time_us != TIME_POS_INF, "time");
		FUZZ_CHECK(ev.stream_id.len > 0, "empty stream_id");
		check_text("stream_id", ev.stream_id);
		size_t chars = 0;
		for (size_t i = 0; i < ev.stream_id.len; i++)
			chars += ((unsigned char)ev.stream_id.ptr[i] & 0xC0) != 0x80;
		FUZZ_CHECK(chars <= STREAM_ID_MAX_CHARS, "stream_id of %zu characters", chars);
		if (ev.kind == EVENT_VIEWER) {
			FUZZ_CHECK(ev.viewer_count >= 0, "viewer_count %lld", (long long)ev.viewer_count);
		} else {
			check_text("chatter", ev.chatter);
			FUZZ_CHECK(ev.message.len == 0 || ev.message.ptr, "message");
			for (size_t i = 0; i < ev.n_emotes; i++)
				check_text("emote", ev.emotes[i]);
		}
	}
	event_decoder_free(&dec);
	free(raw);
	return 0;
}
