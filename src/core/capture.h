/*
 * capture.h — the three kinds of line in an event file (SPEC §7).
 *
 *   bare event   {"timestamp":…,"stream_id":…,…}
 *   envelope     {"topic":T,"partition":P,"offset":O,"timestamp_ms":…,"key":…,"value":"<raw>"}
 *                kcat -J: {"topic":T,"partition":P,"offset":O,"tstype":…,"ts":…,"broker":…,
 *                          "key":…,"payload":"<raw>"}
 *   control      {"control":"lane_open"|"lane_idle"|"lane_close","topic":T,"partition":P}
 *                {"control":"advance","watermark":"<RFC 3339>"}
 *
 * An envelope keeps a Kafka message exactly as received, so that a bad
 * payload stays bad on replay and is reported at the same topic/partition/
 * offset.  A payload that is not valid UTF-8 cannot sit in a JSON string
 * without being altered, so the daemon writes it as "value_base64" instead;
 * a null payload (a tombstone) is "value": null.  "lane_close" records a
 * partition revoked from this daemon; like the other control records it
 * replays the daemon's wall-clock decisions at the same point.
 *
 * The writers append one line, newline included, to a buffer.
 */
#ifndef TELEMETRA_CAPTURE_H
#define TELEMETRA_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/json_scan.h"

enum capture_kind {
	CAPTURE_EVENT,
	CAPTURE_ENVELOPE,
	CAPTURE_CONTROL,
};

enum control_kind {
	CONTROL_LANE_OPEN,
	CONTROL_LANE_IDLE,
	CONTROL_LANE_CLOSE,
	CONTROL_ADVANCE,
};

/* An envelope's or control record's topic: valid UTF-8, no NUL, 1 to this
 * many bytes (Kafka's own limit is 249 characters of [a-zA-Z0-9._-]). */
#define CAPTURE_TOPIC_MAX 255

struct capture_envelope {
	struct strview topic;
	int32_t partition;
	int64_t offset;
	struct strview value; /* the raw payload; ptr NULL for a null payload */
};

struct capture_control {
	enum control_kind kind;
	struct strview topic;
	int32_t partition;
	int64_t watermark_us;
};

/*
 * What a scanned line is, by the names of its top-level members alone:
 *   1. a "timestamp", "stream_id" or "channel" member makes an event: every
 *      valid event has them, and no envelope or control record does, so a
 *      valid event is never taken for anything else, whatever other fields
 *      (topic, partition, offset, control) it carries;
 *   2. else a "control" member makes a control record;
 *   3. else "topic", "partition" and "offset" together make an envelope
 *      (a telemetra capture's or kcat -J's);
 *   4. else an event (which then fails as one: a missing field).
 * Bad values never change the kind: a control record with a bad topic is a
 * bad_control dead letter, not an event.
 */
enum capture_kind capture_classify(const struct jscan *scan);

/* Parse an envelope/control line already scanned into scan.  Strings that
 * need decoding go to scratch, which the caller owns and must have reserved
 * to at least the line's length first, so that no view into it moves. */
bool capture_parse_envelope(const struct jscan *scan, struct buf *scratch,
                            struct capture_envelope *out, struct error *err);
bool capture_parse_control(const struct jscan *scan, struct buf *scratch,
                           struct capture_control *out, struct error *err);

void capture_write_envelope(struct buf *out, struct strview topic, int32_t partition,
                            int64_t offset, int64_t timestamp_ms, const char *key, size_t key_len,
                            const char *value, size_t value_len);
void capture_write_lane(struct buf *out, enum control_kind kind, struct strview topic,
                        int32_t partition);
void capture_write_advance(struct buf *out, int64_t watermark_us);

#endif
