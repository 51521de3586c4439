/*
 * kafka_range.h — a bounded read of Kafka topics, for `telemetra capture`
 * and `telemetra replay --kafka`.
 *
 * Unlike the daemon's consumer (kafka_source.h) it joins no consumer group
 * and commits nothing: it looks the partitions up, maps the range's two
 * ends to offsets, assigns the partitions itself and reads each from its
 * start offset to its end offset.  The range:
 *
 *   --from earliest             each partition's first offset
 *   --from TIME                 the first message with a timestamp >= TIME
 *                               (librdkafka's offsets_for_times)
 *   --from T:P:O,T:P:O,...      exactly these partitions, from these offsets
 *                               (other partitions are not read)
 *   --to now                    each partition's end when the read starts
 *   --to TIME                   messages with a timestamp < TIME
 *   --to end                    until the partition's end is reached while
 *                               reading (messages produced meanwhile too)
 *
 * TIME is RFC 3339 (2025-11-23T12:00:00Z) or epoch seconds/milliseconds,
 * compared with the messages' Kafka timestamps (CreateTime unless the
 * topic says LogAppendTime), not with the events' own times.
 */
#ifndef TELEMETRA_KAFKA_RANGE_H
#define TELEMETRA_KAFKA_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"
#include "io/kafka_source.h"

struct kafka_range_config {
	const char *brokers;
	const char *const *topics;
	size_t n_topics;
	char *const *properties; /* "key=value", applied last */
	size_t n_properties;
	const char *from, *to; /* as above; NULL = earliest / now */
};

/* One partition of the range, resolved. */
struct kafka_range_part {
	char *topic;
	int32_t partition;
	int64_t start;   /* first offset to read */
	int64_t end;     /* first offset not to read; -1 with --to end (found while reading) */
	int64_t next;    /* the next offset expected */
	bool done;
};

struct kafka_range;

/* Parse the range and check the -X properties (false, err: a usage
 * error), before anything connects. */
bool kafka_range_check(const struct kafka_range_config *cfg, struct error *err);

/* Connect, resolve the partitions and their offsets, assign.  NULL with
 * err set when Kafka cannot be reached within timeout_ms or a topic or
 * partition does not exist.  The caller owns the result (kafka_range_close). */
struct kafka_range *kafka_range_open(const struct kafka_range_config *cfg, int timeout_ms,
                                     struct error *err);

/* The partitions (valid for the life of the range). */
const struct kafka_range_part *kafka_range_parts(const struct kafka_range *r, size_t *n);
/* Messages the range holds, when every end is known (else -1). */
int64_t kafka_range_size(const struct kafka_range *r);

/* 1: *msg holds the next message (valid until the next call); 0: every
 * partition is done; -1: an error (err), e.g. Kafka gone for timeout_ms. */
int kafka_range_next(struct kafka_range *r, struct kafka_message *msg, int timeout_ms,
                     struct error *err);

/* The range read, as JSON text for the runs table (caller frees):
 * [{"topic","partition","from_offset","to_offset"}]. */
char *kafka_range_json(const struct kafka_range *r, const char *brokers);

void kafka_range_close(struct kafka_range *r);

#endif
