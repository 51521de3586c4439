/*
 * record.h — one line of an event file, decoded once, the same way for
 * every consumer (SPEC §2, §7).
 *
 * replay (engine_line) and tune (tune/store.c) both take lines of files;
 * before this module each classified and decoded them with its own copy of
 * the same steps, and every rule (what is an envelope, which reason a bad
 * line gets) had to be changed twice.  record_decode() is the one place:
 *
 *   line ─► JSON object? ─► capture_classify ─┬─ event    ─► event_decode
 *                                              ├─ envelope ─► capture_parse_envelope
 *                                              │               └─► payload: event_decode
 *                                              └─ control  ─► capture_parse_control
 *
 * The kind of an envelope's payload comes from its topic (record_kind_of_
 * topic), as for a Kafka message; record_decode_message() is that step
 * alone, for the live daemon's messages.
 *
 * The lane set (struct lane_set) collects the lanes named in files before
 * they are read for real: SPEC §7 opens every lane that appears in a file
 * at the start of the input, unless the file has a lane_open record for it.
 */
#ifndef TELEMETRA_RECORD_H
#define TELEMETRA_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/capture.h"
#include "core/event.h"

enum line_type {
	LINE_DEAD,     /* the line itself is unusable: reason, detail */
	LINE_EVENT,    /* a bare event: ev */
	LINE_ENVELOPE, /* env; its payload decoded into ev when payload_ok, else
	                    reason/detail say why (a dead letter at topic/partition/offset) */
	LINE_CONTROL,  /* control */
};

struct decoded_line {
	enum line_type type;
	enum dead_reason reason;
	const char *detail; /* the decoder's message; valid until the next call */
	struct event ev;
	struct capture_envelope env;
	bool payload_ok;
	struct capture_control control;
};

/* Reusable decoding state; owns its buffers.  Zero-initialise, set the
 * topics (borrowed: they must outlive the decoder), free with
 * record_decoder_free(). */
struct record_decoder {
	const char *chat_topic, *viewer_topic;
	struct event_decoder dec;
	struct buf line_scratch; /* envelope and control fields */
	struct error err;
};

void record_decoder_free(struct record_decoder *d);

/* The kind a topic names (EVENT_UNKNOWN for any other topic). */
enum event_kind record_kind_of_topic(const struct record_decoder *d, struct strview topic);

/*
 * Decode one line.  Views in *out point into line or the decoder's
 * buffers, valid until the next call.  With decode_payload false an
 * envelope's payload is left undecoded (payload_ok false, reason unset):
 * what a scan for lanes needs, at a fraction of the cost.
 */
void record_decode(struct record_decoder *d, const char *line, size_t len, bool decode_payload,
                   struct decoded_line *out);

/* A Kafka message's payload (NULL for a tombstone): false with *reason
 * and d->err set when it is not a usable event. */
bool record_decode_message(struct record_decoder *d, struct strview topic, const char *payload,
                           size_t len, struct event *ev, enum dead_reason *reason);

/* --- the lanes a set of files names ----------------------------------------- */

struct lane_seen {
	char *topic; /* NUL-terminated copy */
	size_t topic_len;
	int32_t partition;
	bool has_open_record; /* a lane_open control record names it */
};

/* Lanes in the order first seen.  Zero-initialise; free with lane_set_free. */
struct lane_set {
	struct lane_seen *lanes;
	size_t n, cap;
	uint32_t *slots; /* open addressing: index + 1, 0 = empty */
	size_t mask;
};

/* Note the lane a decoded line names, if any (an envelope, or a control
 * record other than advance). */
void lane_set_note(struct lane_set *set, const struct decoded_line *r);
void lane_set_add(struct lane_set *set, struct strview topic, int32_t partition, bool open_record);
void lane_set_free(struct lane_set *set);

#endif
