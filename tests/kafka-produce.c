/*
 * kafka-produce — put event files into Kafka as the real producers would,
 * for the live daemon's integration tests.
 *
 *   kafka-produce BROKERS FILE...
 *
 * Each line goes to telemetra.events.viewer if it has a viewer_count,
 * else to telemetra.events.chat, keyed by its stream_id (or channel), so
 * that both topics are keyed alike and stream s lands in the same
 * partition number of both.  Lines that are not JSON objects still go to
 * the chat topic, unkeyed: the daemon must turn them into dead letters.
 * Exit status: 0 when every message was acknowledged, 1 otherwise.
 */
#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_scan.h"

static int failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		fprintf(stderr, "kafka-produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
		failed++;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: kafka-produce BROKERS FILE...\n");
		return 2;
	}
	char why[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], why, sizeof(why)) ||
	    rd_kafka_conf_set(conf, "enable.idempotence", "true", why, sizeof(why)) ||
	    /* Few, large message sets: the mock cluster keeps a limited number
	     * of them per partition, whatever their size. */
	    rd_kafka_conf_set(conf, "linger.ms", "50", why, sizeof(why)) ||
	    rd_kafka_conf_set(conf, "batch.num.messages", "100000", why, sizeof(why)) ||
	    rd_kafka_conf_set(conf, "batch.size", "4000000", why, sizeof(why))) {
		fprintf(stderr, "kafka-produce: %s\n", why);
		return 2;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (!rk) {
		fprintf(stderr, "kafka-produce: %s\n", why);
		return 1;
	}
	struct jscan scan = {0};
	struct buf key = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	long sent = 0;
	for (int i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		ssize_t n;
		while ((n = getline(&line, &cap, f)) > 0) {
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				n--;
			if (n == 0)
				continue;
			const char *topic = "telemetra.events.chat";
			buf_reset(&key);
			bool keyed = false;
			if (jscan_object(&scan, line, (size_t)n, NULL) == JSCAN_OK) {
				if (jscan_find(&scan, "viewer_count"))
					topic = "telemetra.events.viewer";
				const struct jscan_member *m = jscan_find(&scan, "stream_id");
				if (!m)
					m = jscan_find(&scan, "channel");
				if (m && (m->value.type == JS_STRING || m->value.type == JS_NUMBER)) {
					struct strview s;
					jscan_string(&m->value, &key, &s);
					buf_reset(&key);
					buf_add(&key, s.ptr, s.len);
					keyed = true;
				}
			}
			rd_kafka_resp_err_t err;
			do {
				err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
				                        RD_KAFKA_V_VALUE(line, (size_t)n),
				                        RD_KAFKA_V_KEY(keyed ? key.data : NULL, keyed ? key.len : 0),
				                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
				if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
					rd_kafka_poll(rk, 100);
			} while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
			if (err) {
				fprintf(stderr, "kafka-produce: %s\n", rd_kafka_err2str(err));
				return 1;
			}
			sent++;
			rd_kafka_poll(rk, 0);
		}
		fclose(f);
	}
	if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "kafka-produce: flush timed out\n");
		failed++;
	}
	rd_kafka_destroy(rk);
	jscan_free(&scan);
	buf_free(&key);
	free(line);
	printf("%ld\n", sent);
	return failed ? 1 : 0;
}
