/*
 * kafka_source.c — librdkafka's consumer behind kafka_source.h: a group
 * member with the range assignor (so chat/p and viewer/p, one watermark
 * group, stay together), no automatic commits or offset stores, end-of-
 * partition notices, and rebalances handed to the daemon's handlers.
 */
#include "config.h"

#include "io/kafka_source.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/kafka_conf.h"
#include "util/log.h"

struct kafka_source {
	rd_kafka_t *rk;
	struct kafka_source_handlers h;
	rd_kafka_message_t *held; /* the message handed out by the last poll */
	bool connected;
	bool stopped; /* the assigned handler returned -1: poll says so */
	/* What kafka_source_pause() paused, until kafka_source_resume().
	 * librdkafka keeps a partition's pause through a rebalance, even one
	 * that gives it away and back (librdkafka issue #1849), so resuming
	 * only the assignment of the moment would leave a partition that was
	 * away meanwhile paused for good: assigned, never fetched. */
	rd_kafka_topic_partition_list_t *paused;
	rd_kafka_topic_partition_list_t *ends; /* while paused: their end offsets */
};

static struct topic_partition *to_tps(const rd_kafka_topic_partition_list_t *list)
{
	struct topic_partition *tps = xcalloc((size_t)list->cnt + 1, sizeof(*tps));
	for (int i = 0; i < list->cnt; i++)
		tps[i] = (struct topic_partition){list->elems[i].topic, list->elems[i].partition,
		                                  KAFKA_OFFSET_UNKNOWN};
	return tps;
}

static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t code,
                      rd_kafka_topic_partition_list_t *list, void *opaque)
{
	struct kafka_source *src = opaque;
	struct topic_partition *tps = to_tps(list);
	if (code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (src->h.assigned(src->h.ctx, tps, (size_t)list->cnt) == 0) {
			for (int i = 0; i < list->cnt; i++)
				list->elems[i].offset = tps[i].offset == KAFKA_OFFSET_UNKNOWN
					? RD_KAFKA_OFFSET_INVALID : tps[i].offset;
			rd_kafka_assign(rk, list);
		} else {
			rd_kafka_assign(rk, NULL);
			src->stopped = true;
		}
	} else {
		src->h.revoked(src->h.ctx, tps, (size_t)list->cnt, rd_kafka_assignment_lost(rk) == 1);
		rd_kafka_assign(rk, NULL);
	}
	free(tps);
}

static void error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	(void)rk;
	struct kafka_source *src = opaque;
	if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT ||
	    code == RD_KAFKA_RESP_ERR__RESOLVE) {
		if (src->connected) {
			src->connected = false;
			if (src->h.connection)
				src->h.connection(src->h.ctx, false, reason);
		}
	}
}

struct kafka_source *kafka_source_new(const struct kafka_source_config *cfg,
                                      const struct kafka_source_handlers *h, struct error *err)
{
	struct kafka_source *src = xcalloc(1, sizeof(*src));
	src->h = *h;
	src->connected = true;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];

	if (!kafka_conf_set(conf, "bootstrap.servers", cfg->brokers, err) ||
	    !kafka_conf_set(conf, "group.id", cfg->group, err) ||
	    !kafka_conf_set(conf, "enable.auto.commit", "false", err) ||
	    !kafka_conf_set(conf, "enable.auto.offset.store", "false", err) ||
	    !kafka_conf_set(conf, "enable.partition.eof", "true", err) ||
	    /* range gives partition p of every topic to the same member, so
	     * chat/p and viewer/p (one watermark group) stay together. */
	    !kafka_conf_set(conf, "partition.assignment.strategy", "range", err) ||
	    !kafka_conf_set(conf, "auto.offset.reset", cfg->offset_reset, err) ||
	    /* Keep fetching while the daemon commits: with librdkafka's default
	     * (100,000) the prefetch stalled during every commit and the
	     * daemon ran at 160,000 records/s instead of 350,000.  Memory stays
	     * bounded by queued.max.messages.kbytes. */
	    !kafka_conf_set(conf, "queued.min.messages", "500000", err) ||
	    !kafka_conf_set(conf, "client.id", "telemetra", err) ||
	    !kafka_conf_set(conf, "log.queue", "true", err))
		goto fail;
	if (!kafka_conf_apply(conf, cfg->properties, cfg->n_properties, err))
		goto fail;
	rd_kafka_conf_set_opaque(conf, src);
	rd_kafka_conf_set_rebalance_cb(conf, rebalance);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	/* librdkafka's lines join the daemon's log at their own level (its
	 * log_level property, 6 by default, and -X debug=... choose how many).
	 * With log.queue they arrive through the consumer queue, so on the
	 * thread that polls, between the daemon's own lines. */
	rd_kafka_conf_set_log_cb(conf, kafka_conf_log);

	src->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!src->rk) {
		/* rd_kafka_new() takes the configuration only when it succeeds. */
		error_set(err, "cannot create the Kafka consumer: %s", why);
		goto fail;
	}
	conf = NULL;
	rd_kafka_set_log_queue(src->rk, NULL); /* the main queue, forwarded to the consumer's: */
	rd_kafka_poll_set_consumer(src->rk);

	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new((int)cfg->n_topics);
	for (size_t i = 0; i < cfg->n_topics; i++)
		rd_kafka_topic_partition_list_add(topics, cfg->topics[i], RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t rc = rd_kafka_subscribe(src->rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (rc) {
		error_set(err, "cannot subscribe: %s", rd_kafka_err2str(rc));
		rd_kafka_destroy(src->rk);
		free(src);
		return NULL;
	}
	return src;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	free(src);
	return NULL;
}

int kafka_source_poll(struct kafka_source *src, int timeout_ms, struct kafka_message *msg)
{
	if (src->held) {
		rd_kafka_message_destroy(src->held);
		src->held = NULL;
	}
	if (src->stopped)
		return -1;
	/* Rebalance callbacks run inside this call. */
	rd_kafka_message_t *m = rd_kafka_consumer_poll(src->rk, timeout_ms);
	if (src->stopped) {
		if (m)
			rd_kafka_message_destroy(m);
		return -1;
	}
	if (!m)
		return 0;
	if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		/* Transient consumer errors are retried by librdkafka; report a
		 * lost connection once through the handler. */
		if (src->connected && src->h.connection) {
			src->connected = false;
			src->h.connection(src->h.ctx, false, rd_kafka_message_errstr(m));
		}
		rd_kafka_message_destroy(m);
		return 0;
	}
	if (!src->connected) {
		src->connected = true;
		if (src->h.connection)
			src->h.connection(src->h.ctx, true, "messages are flowing again");
	}
	src->held = m;
	const char *topic = rd_kafka_topic_name(m->rkt);
	rd_kafka_timestamp_type_t tstype;
	*msg = (struct kafka_message){
		.topic = sv_make(topic, strlen(topic)),
		.partition = m->partition,
		.offset = m->offset,
		.timestamp_ms = rd_kafka_message_timestamp(m, &tstype),
		.key = m->key,
		.key_len = m->key_len,
		.payload = m->payload,
		.len = m->len,
		.eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF,
	};
	return 1;
}

void kafka_source_pause(struct kafka_source *src)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	if (src->paused || rd_kafka_assignment(src->rk, &parts) || !parts)
		return;
	rd_kafka_pause_partitions(src->rk, parts);
	src->paused = parts;
}

void kafka_source_resume(struct kafka_source *src)
{
	if (!src->paused)
		return;
	rd_kafka_resume_partitions(src->rk, src->paused);
	rd_kafka_topic_partition_list_destroy(src->paused);
	src->paused = NULL;
	if (src->ends)
		rd_kafka_topic_partition_list_destroy(src->ends);
	src->ends = NULL;
}

void kafka_source_refresh_ends(struct kafka_source *src, int timeout_ms)
{
	if (!src->paused || !src->paused->cnt)
		return;
	rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_copy(src->paused);
	for (int i = 0; i < ends->cnt; i++)
		ends->elems[i].offset = RD_KAFKA_OFFSET_END; /* as a time: the latest offset */
	if (rd_kafka_offsets_for_times(src->rk, ends, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_topic_partition_list_destroy(ends);
		return;
	}
	if (src->ends)
		rd_kafka_topic_partition_list_destroy(src->ends);
	src->ends = ends;
}

int64_t kafka_source_lag(struct kafka_source *src, const char *topic, int32_t partition,
                         int64_t next_offset)
{
	int64_t low, high;
	if (rd_kafka_get_watermark_offsets(src->rk, topic, partition, &low, &high))
		high = -1;
	const rd_kafka_topic_partition_t *end =
		src->ends ? rd_kafka_topic_partition_list_find(src->ends, topic, partition) : NULL;
	if (end && !end->err && end->offset > high)
		high = end->offset;
	if (high < 0 || next_offset < 0)
		return -1;
	return high > next_offset ? high - next_offset : 0;
}

void kafka_source_commit_async(struct kafka_source *src, const struct topic_partition *tps,
                               size_t n)
{
	if (!n)
		return;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(list, tps[i].topic, tps[i].partition)->offset =
			tps[i].offset;
	rd_kafka_commit(src->rk, list, 1);
	rd_kafka_topic_partition_list_destroy(list);
}

void kafka_source_close(struct kafka_source *src)
{
	if (!src)
		return;
	if (src->held)
		rd_kafka_message_destroy(src->held);
	if (src->paused)
		rd_kafka_topic_partition_list_destroy(src->paused);
	if (src->ends)
		rd_kafka_topic_partition_list_destroy(src->ends);
	rd_kafka_consumer_close(src->rk);
	rd_kafka_destroy(src->rk);
	free(src);
}
