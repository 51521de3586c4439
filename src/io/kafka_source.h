/*
 * kafka_source.h — the consumer side of Kafka, for the live daemon.
 *
 * A librdkafka consumer in a consumer group, reduced to what the daemon
 * needs: messages one at a time, and rebalances as two callbacks.  Where a
 * partition starts is always decided by the caller (from its own committed
 * checkpoint in the database), never by offsets committed to Kafka: the
 * checkpoint and the rows it covers commit in one database transaction,
 * which is what makes the output exactly-once.  Offsets are still
 * committed to Kafka afterwards, asynchronously, so that the usual lag
 * monitoring (kafka-consumer-groups --describe) keeps working.
 */
#ifndef TELEMETRA_KAFKA_SOURCE_H
#define TELEMETRA_KAFKA_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"

#define KAFKA_OFFSET_UNKNOWN (-1001) /* RD_KAFKA_OFFSET_INVALID: use auto.offset.reset */

struct topic_partition {
	const char *topic;
	int32_t partition;
	int64_t offset; /* assign: where to start (the callee fills it in) */
};

struct kafka_source_config {
	const char *brokers;
	const char *group;
	const char *const *topics;
	size_t n_topics;
	const char *offset_reset; /* "earliest" or "latest" */
	char *const *properties;  /* "key=value" librdkafka properties, applied last */
	size_t n_properties;
};

/* Called from inside kafka_source_poll() during a rebalance. */
struct kafka_source_handlers {
	void *ctx;
	/* Partitions were assigned: set each tps[i].offset (or leave it
	 * KAFKA_OFFSET_UNKNOWN).  Return 0, or -1 to stop the daemon: no
	 * partition is taken and every later kafka_source_poll returns -1. */
	int (*assigned)(void *ctx, struct topic_partition *tps, size_t n);
	/* Partitions are being taken away: commit what is theirs now.  lost:
	 * the group already gave them to another member (our session expired
	 * while we were stalled), so what is theirs is no longer ours to
	 * commit. */
	void (*revoked)(void *ctx, const struct topic_partition *tps, size_t n, bool lost);
	/* The broker connection state changed (up = messages can flow). */
	void (*connection)(void *ctx, bool up, const char *reason);
};

struct kafka_message {
	struct strview topic;
	int32_t partition;
	int64_t offset;
	int64_t timestamp_ms;
	const char *key;   /* NULL if none */
	size_t key_len;
	const char *payload; /* NULL for a tombstone */
	size_t len;
	bool eof; /* no message: the partition is caught up to its end */
};

struct kafka_source;

/* NULL on a configuration error (err says which property and why). */
struct kafka_source *kafka_source_new(const struct kafka_source_config *cfg,
                                      const struct kafka_source_handlers *h, struct error *err);

/* Wait up to timeout_ms for one message.  1: *msg holds a message or an
 * end-of-partition notice, valid until the next poll; 0: nothing came;
 * -1: the assigned handler asked to stop (the caller stops and closes). */
int kafka_source_poll(struct kafka_source *src, int timeout_ms, struct kafka_message *msg);

/* Stop fetching from every assigned partition (the database is away), or
 * start again; group membership is kept as long as poll is called.  A
 * partition paused stays so across rebalances, given away and back, until
 * kafka_source_resume(); one assigned after the pause is not paused. */
void kafka_source_pause(struct kafka_source *src);
void kafka_source_resume(struct kafka_source *src);

/* While paused, ask the brokers for the end offsets of what is paused
 * (waiting up to timeout_ms), for kafka_source_lag: the high watermarks
 * librdkafka caches come with fetches, and a paused partition fetches
 * nothing, so the lag would stand still through an outage.  Does nothing
 * when not paused; a failed request keeps the previous answer. */
void kafka_source_refresh_ends(struct kafka_source *src, int timeout_ms);

/* Messages published but not yet consumed in (topic, partition), from the
 * client's cached high watermark, or while paused the brokers' end offset
 * if kafka_source_refresh_ends() learnt a later one; -1 when unknown. */
int64_t kafka_source_lag(struct kafka_source *src, const char *topic, int32_t partition,
                         int64_t next_offset);

/* Tell Kafka how far we are (asynchronous, advisory). */
void kafka_source_commit_async(struct kafka_source *src, const struct topic_partition *tps,
                               size_t n);

/* Leave the group (the revoked handler runs) and free everything. */
void kafka_source_close(struct kafka_source *src);

#endif
