/*
 * kafka_producer.c — librdkafka's producer behind kafka_producer.h, for the
 * load generator.  Errors from librdkafka's background threads are logged
 * at most once every 5 seconds, so an unreachable broker does not flood
 * the terminal; the first delivery error is kept for the final message.
 */
#include "config.h"

#include "io/kafka_producer.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/kafka_conf.h"
#include "util/clock.h"
#include "util/log.h"

struct kafka_producer {
	rd_kafka_t *rk;
	const char *chat_topic, *viewer_topic;
	const volatile sig_atomic_t *stop;
	uint64_t produced, delivered, failed;
	double last_error_log;
	char first_error[256];
};

static bool stopping(const struct kafka_producer *k) { return k->stop && *k->stop >= 2; }

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct kafka_producer *k = opaque;
	if (m->err) {
		if (!k->failed)
			snprintf(k->first_error, sizeof(k->first_error), "%s", rd_kafka_err2str(m->err));
		k->failed++;
	} else {
		k->delivered++;
	}
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct kafka_producer *k = opaque;
	double now = monotonic_seconds();
	if (err == RD_KAFKA_RESP_ERR__FATAL || now - k->last_error_log >= 5.0) {
		log_warn("kafka: %s", reason);
		k->last_error_log = now;
	}
}

struct kafka_producer *kafka_producer_new(const char *brokers, char *const *props, size_t nprops,
                                          const char *chat_topic, const char *viewer_topic,
                                          const volatile sig_atomic_t *stop, struct error *err,
                                          bool *usage)
{
	char errstr[512];
	*usage = true;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		error_set(err, "--kafka '%s': %s", brokers, errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	/* keep each partition in the order we produce: the disorder is ours */
	rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "linger.ms", "20", errstr, sizeof(errstr));
	/* librdkafka's log lines wait in the main queue for rd_kafka_poll, on
	 * our thread: log.h is not for librdkafka's threads. */
	rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof(errstr));
	if (!kafka_conf_apply(conf, props, nprops, err)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	struct kafka_producer *k = xcalloc(1, sizeof(*k));
	k->chat_topic = chat_topic;
	k->viewer_topic = viewer_topic;
	k->stop = stop;
	k->last_error_log = -1e9;
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_conf_log);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_opaque(conf, k);
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!k->rk) {
		rd_kafka_conf_destroy(conf);
		error_set(err, "cannot create the Kafka producer: %s", errstr);
		*usage = false;
		free(k);
		return NULL;
	}
	rd_kafka_set_log_queue(k->rk, NULL);
	/* Fail in seconds, not after message.timeout.ms (5 minutes) of
	 * retrying, when no broker can be reached at all: wait at most 10 s,
	 * or message.timeout.ms if -X sets it shorter. */
	int wait_ms = 10000;
	for (size_t i = 0; i < nprops; i++)
		if (!strncmp(props[i], "message.timeout.ms=", 19) && atoi(props[i] + 19) > 0 &&
		    atoi(props[i] + 19) < wait_ms)
			wait_ms = atoi(props[i] + 19);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t merr = rd_kafka_metadata(k->rk, 0, NULL, &md, wait_ms);
	if (merr) {
		error_set(err, "cannot reach Kafka at %s within %.1f s (%s): messages not delivered",
		          brokers, wait_ms / 1000.0, rd_kafka_err2str(merr));
		*usage = false;
		rd_kafka_poll(k->rk, 0); /* librdkafka's own account of why, logged */
		rd_kafka_destroy(k->rk);
		free(k);
		return NULL;
	}
	rd_kafka_metadata_destroy(md);
	return k;
}

void kafka_producer_send(struct kafka_producer *k, const char *key, size_t key_len, const char *data,
                         size_t len, bool viewer)
{
	const char *topic = viewer ? k->viewer_topic : k->chat_topic;
	for (;;) {
		rd_kafka_resp_err_t err = rd_kafka_producev(
		    k->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
		    RD_KAFKA_V_VALUE((void *)data, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping(k)) {
			rd_kafka_poll(k->rk, 50);
			continue;
		}
		k->produced++;
		if (err) {
			if (!k->failed)
				snprintf(k->first_error, sizeof(k->first_error), "%s", rd_kafka_err2str(err));
			k->failed++;
		}
		break;
	}
	rd_kafka_poll(k->rk, 0);
}

void kafka_producer_poll(struct kafka_producer *k, int timeout_ms) { rd_kafka_poll(k->rk, timeout_ms); }

bool kafka_producer_close(struct kafka_producer *k)
{
	while (rd_kafka_outq_len(k->rk) > 0 && !stopping(k)) {
		rd_kafka_flush(k->rk, 1000);
		if (rd_kafka_outq_len(k->rk) > 0)
			log_progress("waiting for Kafka to take %d messages", rd_kafka_outq_len(k->rk));
	}
	log_progress_done();
	if (rd_kafka_outq_len(k->rk) > 0) {
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(k->rk, 2000);
	}
	uint64_t lost = k->produced - k->delivered;
	rd_kafka_destroy(k->rk);
	if (lost)
		log_error("%" PRIu64 " of %" PRIu64 " messages were not delivered to Kafka (%s)", lost, k->produced,
		          k->first_error[0] ? k->first_error : "interrupted");
	free(k);
	return lost == 0;
}
