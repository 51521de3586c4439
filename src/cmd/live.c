/*
 * telemetra live — the daemon: Kafka in, PostgreSQL out, exactly once.
 *
 * This file is the command: its options, the order things are opened in
 * (options and -X checked first, then the database, the capture, the
 * engine, the consumer), the stop sequence and the clean-up.  How the
 * daemon consumes, commits and survives rebalances and outages is
 * src/daemon/ (daemon.h tells the whole story); the capture file is
 * io/capture_file.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "daemon/daemon.h"
#include "io/kafka_conf.h"
#include "util/clock.h"
#include "cli/fingerprint.h"
#include "util/log.h"
#include "util/secret.h"

static const struct command_help help = {
	"live",
	CMD_LIVE,
	"[OPTIONS]",
	"Consume chat and viewer events from Kafka (a consumer group) and write window\n"
	"rows, moments and dead letters to PostgreSQL, exactly once: rows, offsets and\n"
	"the core's state commit in one transaction per batch, so that a restart after\n"
	"any crash resumes without losing or doubling a row. Several daemons in one\n"
	"group split the partitions between them.",
};

int cmd_live(int argc, char **argv)
{
	struct daemon d = {0};
	struct error err;
	config_init(&d.cfg);
	int first = config_load(&d.cfg, &help, argc, argv);
	log_set_quiet(d.cfg.quiet);
	/* A daemon's log: a timestamp and a level on every line. */
	log_set_format(!strcmp(d.cfg.log_format, "json") ? LOG_JSON : LOG_TEXT);
	if (d.cfg.log_file && log_open_file(d.cfg.log_file) != 0)
		die_usage("--log-file %s: %s", d.cfg.log_file, strerror(errno));
	if (first < argc)
		die_usage("unexpected argument '%s': live takes options only", argv[first]);
	if (!config_build_core(&d.cfg, &d.core, &d.lexicon, &err))
		die_usage("%s", err.msg);
	d.fingerprint = fingerprint_of(&d.cfg, &err);
	if (!d.fingerprint)
		die_usage("%s", err.msg);
	d.core.state_fingerprint = d.fingerprint;

	struct buf spec = BUF_INIT;
	if (d.cfg.sink)
		buf_adds(&spec, d.cfg.sink);
	else if (d.cfg.postgres)
		buf_printf(&spec, "postgres:%s", d.cfg.postgres);
	else
		die_usage("no database: give --postgres URL, or set POSTGRES_URL");
	struct target parsed; /* a bad target is a usage error, not a database to wait for */
	if (!target_parse(&parsed, spec.data, &err))
		die_usage("%s", err.msg);
	target_free(&parsed);
	/* A property librdkafka refuses is a usage error, said before the
	 * database is waited for or a broker is dialled. */
	if (!kafka_conf_check(d.cfg.kafka_props, d.cfg.n_kafka_props, &err))
		die_usage("%s", err.msg);
	d.target = redact_secrets(spec.data);
	const char *brokers = d.cfg.brokers ? d.cfg.brokers : DEFAULT_BROKERS;
	char *config_json = ops_log_configuration(&d.cfg, CMD_LIVE);
	int64_t started_us = wall_clock_us();

	struct ops_config oc = {d.cfg.metrics, (double)d.cfg.log_interval_us / 1e6,
	                        (double)d.cfg.ready_max_age_us / 1e6};
	bool usage;
	d.ops = ops_new(&oc, &usage, &err);
	if (!d.ops && usage)
		die_usage("%s", err.msg);
	if (!d.ops)
		die("%s", err.msg);
	if (d.cfg.metrics) {
		struct log_field f[] = {LF_STR("address", d.cfg.metrics), LF_INT("port", ops_port(d.ops))};
		log_event(LOG_INFO, "metrics_listening", f, 2,
		          "serving /metrics, /healthz and /readyz on %s (port %d)", d.cfg.metrics,
		          ops_port(d.ops));
	}

	daemon_install_signals();

	if (!daemon_open_sink(&d, spec.data)) {
		buf_free(&spec);
		return EXIT_RUNTIME;
	}
	buf_free(&spec);
	if (d.cfg.capture)
		daemon_open_capture(&d);

	struct engine_output out = daemon_engine_output(&d);
	d.engine = engine_new(&d.core, &out);

	const char *topics[] = {d.cfg.chat_topic, d.cfg.viewer_topic};
	struct kafka_source_config kc = {
		.brokers = brokers,
		.group = d.cfg.group,
		.topics = topics,
		.n_topics = 2,
		.offset_reset = d.cfg.offset_reset,
		.properties = d.cfg.kafka_props,
		.n_properties = d.cfg.n_kafka_props,
	};
	struct kafka_source_handlers kh = daemon_kafka_handlers(&d);
	d.source = kafka_source_new(&kc, &kh, &err);
	if (!d.source)
		die_usage("%s", err.msg);
	log_info("consuming %s and %s from %s as group %s; committing every %.3g s or %u records",
	         d.cfg.chat_topic, d.cfg.viewer_topic, brokers, d.cfg.group,
	         (double)d.cfg.trigger_us / 1e6, d.cfg.max_batch);

	json_t *inputs = json_pack("{s:s, s:s, s:[s, s], s:s?}", "brokers", brokers, "group",
	                           d.cfg.group, "topics", d.cfg.chat_topic, d.cfg.viewer_topic,
	                           "capture", d.capture.path);
	char *inputs_json = json_dumps(inputs, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(inputs);
	d.run = (struct run_info){.command = "live", .mode = "live", .started_us = started_us,
	                          .config_json = config_json, .inputs_json = inputs_json,
	                          .stats = &d.committed_stats};

	d.advance_base = monotonic_seconds();
	daemon_run(&d);
	int status = daemon_stop(&d);

	capture_file_close(&d.capture);
	ops_free(d.ops);
	sink_close(d.sink);
	engine_free(d.engine);
	lexicon_free(d.lexicon);
	lanes_free(&d.lanes);
	free(d.emitted);
	free(d.latency);
	free(config_json);
	free(inputs_json);
	free(d.fingerprint);
	free(d.target);
	config_free(&d.cfg);
	return status;
}
