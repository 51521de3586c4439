/*
 * kafka_producer.h — produce lines to Kafka for `telemetra gen --kafka`: a
 * small adapter over librdkafka's producer, keyed by stream_id, chat lines
 * (and malformed ones) to one topic, viewer lines to another.
 *
 * Idempotent, so that each partition keeps the order the lines were
 * produced in (the disorder of a generated log is the generator's).
 * Delivery is counted; kafka_producer_close() waits for every message and
 * says how many were lost.
 */
#ifndef TELEMETRA_IO_KAFKA_PRODUCER_H
#define TELEMETRA_IO_KAFKA_PRODUCER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

struct kafka_producer;

/* Create a producer for `brokers` with librdkafka properties `props`
 * ("KEY=VALUE", borrowed).  `stop` (borrowed, may be NULL) is read while
 * waiting: at 2 or more, waiting for room or delivery is abandoned.
 * Returns NULL and fills *err on failure; *usage is then true when the
 * options were wrong (a bad broker list or property), false for a runtime
 * failure.  The caller owns the producer: kafka_producer_close(). */
struct kafka_producer *kafka_producer_new(const char *brokers, char *const *props, size_t nprops,
                                          const char *chat_topic, const char *viewer_topic,
                                          const volatile sig_atomic_t *stop, struct error *err,
                                          bool *usage);

/* Produce one line (copied) keyed by `key`; to the viewer topic when
 * `viewer`, else to the chat topic.  Waits while librdkafka's queue is full. */
void kafka_producer_send(struct kafka_producer *k, const char *key, size_t key_len, const char *data,
                         size_t len, bool viewer);

/* Serve delivery reports for up to timeout_ms (pacing waits here). */
void kafka_producer_poll(struct kafka_producer *k, int timeout_ms);

/* Wait for every message to be delivered (or to fail), then free the
 * producer.  True when all were delivered; otherwise logs how many were
 * not. */
bool kafka_producer_close(struct kafka_producer *k);

#endif
