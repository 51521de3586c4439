/*
 * gen.c — `telemetra gen`: write a synthetic, seeded, reproducible event
 * log to a file (JSON Lines, gzip when the name ends in .gz), to stdout, or
 * to Kafka; the project's load generator.  The traffic model lives in
 * gen/generator.c, the Kafka producer in io/kafka_producer.c; the file
 * output in io/line_output.c; this file parses options and does the
 * pacing.
 *
 * Replaces the seed's Python mock producer, whose environment variables it
 * honours: CHANNELS (comma-separated stream ids) and RATE_PER_SEC (same as
 * --rate).  The command line wins over the environment.  The options, with
 * their defaults, value rules and help, are in cli/options.c (CMD_GEN).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/timestamp.h"
#include "gen/generator.h"
#include "io/kafka_conf.h"
#include "io/kafka_producer.h"
#include "io/line_output.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/new_file.h"
#include "cli/options.h"

/* The options, their defaults and their help are in cli/options.c
 * (CMD_GEN). */
static const struct command_help help = {
	"gen",
	CMD_GEN,
	"[OPTIONS]",
	"Write a synthetic, seeded, reproducible log of chat and viewer events\n"
	"(JSON Lines) shaped like real chat, with true moments and decoys, to a\n"
	"file, stdout or Kafka.\n"
	"The same options and --seed give the same bytes.\n"
	"\n"
	"Examples:\n"
	"  telemetra gen --events 1000000 --streams 50 --spikes 20 --labels l.jsonl -o ev.jsonl.gz\n"
	"  telemetra gen --streams 40 --duration 3h --rate-min 0.05 --rate-max 50 --spikes 240 \\\n"
	"      --labels moments.jsonl --decoys decoys.jsonl -o ev.jsonl\n"
	"  telemetra gen --kafka localhost:9092 --rate 200 --start now",
};

/* Free what parse_channels() returned. */
static void free_channels(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Split a comma-separated list of stream ids (CHANNELS, --channels). */
static char **parse_channels(const char *what, const char *list, size_t *count)
{
	char **ids = NULL;
	size_t n = 0, cap = 0;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *e = comma ? comma : p + strlen(p);
		const char *b = p;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		const char *f = e;
		while (f > b && (f[-1] == ' ' || f[-1] == '\t'))
			f--;
		if (f > b) {
			char *id = xstrndup(b, (size_t)(f - b));
			for (size_t i = 0; i < n; i++)
				if (!strcmp(ids[i], id))
					die_usage("%s lists the stream '%s' twice", what, id);
			ids = grow_array(ids, sizeof(char *), &cap, n + 1);
			ids[n++] = id;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!n)
		die_usage("%s is empty; expected comma-separated stream ids, e.g. stream_001,stream_002", what);
	*count = n;
	return ids;
}

static volatile sig_atomic_t interrupted;

/* The first SIGINT / SIGTERM stops the generation (what was produced is
 * still flushed); a second one abandons the flush. */
static void on_signal(int sig)
{
	(void)sig;
	interrupted = interrupted < 2 ? interrupted + 1 : 2;
}

/* ------------------------------------------------------------------------ */

static bool write_labels(const struct gen_label *labels, size_t n, const char *path)
{
	struct new_file nf;
	struct error err;
	FILE *f = NULL;
	if (!new_file_create(&nf, path, &err)) {
		log_error("%s", err.msg);
		return false;
	}
	if (!(f = fdopen(nf.fd, "wb"))) {
		log_error("cannot create %s: %s", path, strerror(errno));
		new_file_discard(&nf);
		return false;
	}
	nf.fd = -1; /* f owns it */
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		gen_label_json(&labels[i], &b);
		buf_addc(&b, '\n');
	}
	bool ok = b.len == 0 || fwrite(b.data, 1, b.len, f) == b.len;
	ok = !ferror(f) && ok;
	buf_free(&b);
	if (fclose(f) != 0 || !ok) {
		log_error("cannot write %s: %s", path, strerror(errno));
		new_file_discard(&nf);
		return false;
	}
	if (!new_file_commit(&nf, &err)) {
		log_error("%s", err.msg);
		return false;
	}
	return true;
}

int cmd_gen(int argc, char **argv)
{
	struct config cfg; /* owns every option's text; freed at the end */
	config_init(&cfg);
	int first = config_load(&cfg, &help, argc, argv);
	if (first < argc)
		die_usage("unexpected argument '%s'; gen takes options only", argv[first]);
	log_set_quiet(cfg.quiet);
#define GIVEN(name) config_given(&cfg, CMD_GEN, name)

	struct gen_options o;
	gen_options_default(&o); /* the start time; the rest from cfg */
	o.seed = cfg.gen_seed;
	o.streams = (size_t)cfg.gen_streams;
	o.duration_us = cfg.duration_us;
	o.max_events = cfg.gen_events;
	o.rate_min = cfg.rate_min;
	o.rate_max = cfg.rate_max;
	o.chat_rate = cfg.chat_rate;
	o.branching = cfg.branching;
	o.reply_delay_us = cfg.reply_delay_us;
	o.decoy_rate = cfg.decoy_rate;
	o.edges = !cfg.no_edges;
	o.viewer_interval_us = cfg.viewer_interval_us;
	o.spikes = (unsigned)cfg.gen_spikes;
	o.disorder = cfg.disorder;
	o.late = cfg.late;
	o.malformed = cfg.malformed;
	o.watermark_delay_us = cfg.delay_us;
	const char *output = cfg.output, *labels = cfg.labels, *decoys = cfg.decoys;
	const char *brokers = cfg.kafka, *start = cfg.start;
	const char *chat_topic = cfg.chat_topic, *viewer_topic = cfg.viewer_topic;
	bool have_streams = GIVEN("streams"), have_duration = GIVEN("duration");
	bool have_chat_rate = GIVEN("chat-rate"), have_range = GIVEN("rate-min") || GIVEN("rate-max");
	double rate = cfg.rate;
	bool have_rate = GIVEN("rate");
	char **props = cfg.kafka_props;
	size_t nprops = cfg.n_kafka_props;

	/* CHANNELS, the seed mock producer's variable, yields to --streams as
	 * well as to --channels (options.c: ENV_IF_UNSET does the latter). */
	char **channels = NULL;
	size_t nchannels = 0;
	bool channels_env = config_from_env(&cfg, CMD_GEN, "channels");
	if (cfg.channels && !(channels_env && have_streams))
		channels = parse_channels(channels_env ? "CHANNELS" : "--channels", cfg.channels,
		                          &nchannels);
	if (channels && have_streams && nchannels != o.streams)
		die_usage("--streams %zu and --channels with %zu ids disagree; give one of them", o.streams, nchannels);
	if (channels) {
		o.streams = nchannels;
		o.stream_ids = (const char *const *)channels;
	}
#undef GIVEN

	if (start) {
		if (!strcmp(start, "now")) {
			o.start_us = wall_clock_us();
		} else if (!timestamp_parse_text(start, strlen(start), &o.start_us)) {
			die_usage("--start: '%s' is not a time; expected RFC 3339 (e.g. 2025-11-23T12:00:00Z) or 'now'",
			          start);
		}
	}
	if (!have_duration && (o.max_events || brokers))
		o.duration_us = 0; /* endless; otherwise config_init()'s default span */
	if (have_rate && !have_chat_rate && !have_range) {
		double viewer = 1e6 / (double)o.viewer_interval_us;
		double chat = rate / (double)o.streams - viewer;
		if (chat < 0.01) {
			log_warn("--rate %g is below the %g viewer updates/s of %zu streams; chat is kept at 0.01 "
			         "messages/s per stream and event time runs behind the wall clock",
			         rate, viewer * (double)o.streams, o.streams);
			chat = 0.01;
		}
		o.chat_rate = chat;
	}
	if (o.rate_min > o.rate_max)
		die_usage("--rate-min %g is above --rate-max %g", o.rate_min, o.rate_max);
	if (have_range && have_chat_rate)
		die_usage("--chat-rate and --rate-min/--rate-max both set the rates; give one of them");
	if (o.disorder + o.late > 1)
		die_usage("--disorder + --late must not exceed 1");
	if (o.disorder > 0 && o.watermark_delay_us < 2)
		die_usage("--watermark-delay must be positive when --disorder is");
	if (brokers && output)
		die_usage("--output and --kafka are exclusive; choose one destination");
	if (o.spikes && o.duration_us == 0 && o.max_events == 0)
		die_usage("--spikes needs a bounded run; add --duration SECONDS or --events N");

	/* Before anything is generated or written: none of the three is put
	 * in place of an existing file unless --force says so. */
	new_file_refuse_replace(output, "output", NULL, "gen", "replace", cfg.force);
	new_file_refuse_replace(labels, "--labels file", NULL, "gen", "replace", cfg.force);
	new_file_refuse_replace(decoys, "--decoys file", NULL, "gen", "replace", cfg.force);

	struct error err;
	if (brokers && !kafka_conf_check(props, nprops, &err))
		die_usage("%s", err.msg); /* before the labels are written */
	struct gen *g = gen_create(&o, &err);
	if (!g)
		die_usage("%s", err.msg);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int status = EXIT_OK;
	size_t nlabels, ndecoys;
	const struct gen_label *lv = gen_labels(g, &nlabels), *dv = gen_decoys(g, &ndecoys);
	if ((labels && !write_labels(lv, nlabels, labels)) || (decoys && !write_labels(dv, ndecoys, decoys))) {
		gen_free(g);
		free_channels(channels, nchannels);
		config_free(&cfg);
		return EXIT_RUNTIME;
	}

	struct output out;
	struct kafka_producer *k = NULL;
	memset(&out, 0, sizeof(out));
	if (brokers) {
		bool usage;
		k = kafka_producer_new(brokers, props, nprops, chat_topic, viewer_topic, &interrupted, &err, &usage);
		if (!k) {
			gen_free(g);
			if (usage)
				die_usage("%s", err.msg);
			log_error("%s", err.msg);
			free_channels(channels, nchannels);
			config_free(&cfg);
			return EXIT_RUNTIME;
		}
	} else if (!output_open(&out, output)) {
		gen_free(g);
		free_channels(channels, nchannels);
		config_free(&cfg);
		return EXIT_RUNTIME;
	}

	double t0 = monotonic_seconds(), last_progress = t0, last_sync = t0;
	struct gen_line line;
	uint64_t n = 0;
	bool ok = true;
	while (!interrupted && gen_next(g, &line)) {
		if (brokers) {
			kafka_producer_send(k, line.stream_id, line.stream_id_len, line.data, line.len,
			                    line.kind == GEN_VIEWER && !line.malformed);
		} else if (!output_line(&out, line.data, line.len)) {
			ok = false;
			break;
		}
		n++;
		if (have_rate) {
			double target = t0 + (double)n / rate;
			double now = monotonic_seconds();
			if (target > now + 0.001) {
				if (!brokers && now - last_sync > 0.2) {
					if (!output_sync(&out)) {
						ok = false;
						break;
					}
					last_sync = now;
				}
				while (!interrupted && (now = monotonic_seconds()) < target) {
					double wait = target - now;
					if (brokers) {
						kafka_producer_poll(k, (int)(wait * 1000) + 1);
					} else {
						struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
						nanosleep(&ts, NULL);
					}
				}
			}
		}
		if ((n & 0xFFFF) == 0 || have_rate) {
			double now = monotonic_seconds();
			if (now - last_progress >= 1.0) {
				/* how far: by count with --events, else by event time over
				 * the span (lines are nearly in time order); endless: no ETA */
				double f = o.max_events ? (double)n / (double)o.max_events
				           : o.duration_us ? (double)(line.time_us - o.start_us) /
				                                 (double)o.duration_us
				                           : -1;
				char head[96];
				log_progress_head(head, sizeof(head), f > 1 ? 1 : f, now - t0);
				log_progress("gen: %s | %" PRIu64 " events, %.0f/s", head, n, (double)n / (now - t0));
				last_progress = now;
			}
		}
	}
	log_progress_done();
	if (brokers) {
		if (!kafka_producer_close(k))
			status = EXIT_RUNTIME;
	} else if (!output_close(&out, ok) || !ok) {
		status = EXIT_RUNTIME;
	}

	struct gen_stats st;
	gen_get_stats(g, &st);
	double span = st.lines ? (double)(st.max_time_us - st.min_time_us) / 1e6 : 0.0;
	if (status == EXIT_OK)
		log_info("%" PRIu64 " events (%" PRIu64 " chat, %" PRIu64 " viewer; %" PRIu64 " malformed, %" PRIu64
		         " out of order, %" PRIu64 " late), %" PRIu64 " bytes, %zu moments, %zu decoys, %.1f s of event time, "
		         "%.2f s%s",
		         st.lines, st.chat, st.viewer, st.malformed, st.disordered, st.late,
		         st.bytes + (brokers ? 0 : st.lines),
		         nlabels, ndecoys, span, monotonic_seconds() - t0, interrupted ? " (interrupted)" : "");
	gen_free(g);
	free_channels(channels, nchannels);
	config_free(&cfg);
	return status;
}
