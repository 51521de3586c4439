/*
 * event.h — decoding one event record (SPEC §2) and the dead-letter reasons.
 *
 * An event is decoded from its raw JSON bytes into a struct event whose
 * strings are views: into the raw bytes when they needed no unescaping,
 * otherwise into the decoder's scratch buffer.  Either way they are valid
 * until the next event_decode() on the same decoder, and the caller must
 * copy anything it keeps longer.
 *
 * Field rules (SPEC §2, and doc/decisions.md for what the SPEC leaves open):
 *   stream_id (alias channel)       string or integer literal; 1..255
 *                                   characters, valid UTF-8, no NUL
 *   user_id, else username          string or integer literal, non-empty,
 *                                   valid UTF-8; names the chatter
 *   timestamp                       RFC 3339 text or epoch number
 *   message                         string, may be empty, any bytes
 *   emotes (optional)               array of strings (valid UTF-8, no NUL)
 *   viewer_count                    integer literal >= 0
 *   null counts as absent.
 * The kind comes from a hint (the Kafka topic), else from "type"
 * ("chat"/"viewer"), else viewer_count present => viewer, message present
 * => chat.
 */
#ifndef TELEMETRA_EVENT_H
#define TELEMETRA_EVENT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/json_scan.h"
#include "core/timestamp.h"

#define EVENT_MAX_BYTES (1024 * 1024)
#define STREAM_ID_MAX_CHARS 255

enum event_kind {
	EVENT_UNKNOWN = 0,
	EVENT_CHAT,
	EVENT_VIEWER,
};

/* Why a record became a dead letter.  The names (dead_reason_name) are
 * stable: they are stored in the dead_letters table and printed in
 * summaries. */
enum dead_reason {
	DEAD_NOT_JSON,
	DEAD_NOT_OBJECT,
	DEAD_TOO_LARGE,
	DEAD_MISSING_FIELD,
	DEAD_WRONG_TYPE,
	DEAD_BAD_TIMESTAMP,
	DEAD_NEGATIVE_COUNT,
	DEAD_INVALID_UTF8,
	DEAD_BAD_FIELD,
	DEAD_UNKNOWN_KIND,
	DEAD_BAD_ENVELOPE,
	DEAD_BAD_CONTROL,
	DEAD_DAMAGED_INPUT, /* the unreadable rest of a damaged (gzip) file */
	DEAD_LATE,
	DEAD_REASON_COUNT
};

const char *dead_reason_name(enum dead_reason r);

struct event {
	enum event_kind kind;
	int64_t time_us;
	struct strview stream_id;
	/* The chatter's identity: "u:" + user_id, or "n:" + username when
	 * user_id is absent, so that a user id and a display name that happen
	 * to be equal are not counted as one person. */
	struct strview chatter;
	struct strview message;
	struct strview *emotes;
	size_t n_emotes;
	int64_t viewer_count;
	/* A sentiment score computed beforehand (SCORE_SCALE units), for
	 * callers that feed the same event to many engines; the decoder leaves
	 * has_score false and the engine scores the message itself. */
	bool has_score;
	int64_t score;
	/* hash_bytes() of stream_id and of chatter, computed where the event
	 * is decoded (on replay's reader thread with --threads 2), so that the
	 * engine neither hashes them again nor waits to know where to look:
	 * it can prefetch the table slots of events still queued
	 * (engine_prefetch).  An event built by hand leaves has_hashes false
	 * and the engine hashes the ids itself. */
	bool has_hashes;
	uint64_t stream_hash;
	uint64_t chatter_hash;
};

/* Reusable decoding state; owns its buffers.  Zero-initialise, free with
 * event_decoder_free(). */
struct event_decoder {
	struct jscan scan;
	struct buf scratch;
	struct strview *emotes;
	size_t emotes_cap;
	struct timestamp_day_cache day; /* the last date parsed */
};

void event_decoder_free(struct event_decoder *d);

/*
 * Decode raw[0..len) into *ev.  kind_hint is EVENT_UNKNOWN unless the
 * source knows the kind (a Kafka topic).  On failure returns false and sets
 * *reason and err (one sentence naming the field).  A record whose top-level
 * object was already scanned into d->scan can be decoded without scanning
 * again by event_decode_scanned().
 */
bool event_decode(struct event_decoder *d, const char *raw, size_t len, enum event_kind kind_hint,
                  struct event *ev, enum dead_reason *reason, struct error *err);
bool event_decode_scanned(struct event_decoder *d, size_t raw_len, enum event_kind kind_hint,
                          struct event *ev, enum dead_reason *reason, struct error *err);

#endif
