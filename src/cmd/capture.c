/*
 * telemetra capture — a bounded range of both topics, read from Kafka
 * into a capture file that `telemetra replay` reads.
 *
 * The file holds a lane_open record for every partition of the range,
 * then every message as an envelope (core/capture.h), in the order read.
 * No consumer group is joined and no offset committed (io/kafka_range.h):
 * capturing a production cluster moves nobody's offsets.  The output is
 * written beside its name and moved into place only when the whole range
 * was read; an existing file is never overwritten.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/capture.h"
#include "io/kafka_range.h"
#include "util/log.h"
#include "cli/options.h"

#define KAFKA_TIMEOUT_MS 15000

static const struct command_help help = {
	"capture",
	CMD_CAPTURE,
	"--brokers B [--from earliest|TIME|TOPIC:PART:OFFSET,...] [--to now|TIME|end] -o FILE",
	"Read a bounded range of the chat and viewer topics from Kafka into a capture\n"
	"file (envelopes and lane_open records) that `telemetra replay` reads, without\n"
	"joining a consumer group or committing offsets. TIME is RFC 3339 or epoch\n"
	"seconds/milliseconds, compared with the messages' Kafka timestamps; --to TIME\n"
	"excludes messages at or after TIME. A range with no message is an error.",
};

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

int cmd_capture(int argc, char **argv)
{
	struct config cfg;
	struct error err;
	config_init(&cfg);
	int first = config_load(&cfg, &help, argc, argv);
	log_set_quiet(cfg.quiet);
	if (first < argc)
		die_usage("unexpected argument '%s'", argv[first]);
	if (!cfg.output)
		die_usage("no output; give -o FILE (or -o - for standard output)");
	const char *topics[] = {cfg.chat_topic, cfg.viewer_topic};
	struct kafka_range_config rc = {
		.brokers = cfg.brokers ? cfg.brokers : DEFAULT_BROKERS,
		.topics = topics,
		.n_topics = 2,
		.properties = cfg.kafka_props,
		.n_properties = cfg.n_kafka_props,
		.from = cfg.range_from,
		.to = cfg.range_to,
	};
	if (!kafka_range_check(&rc, &err))
		die_usage("%s", err.msg);

	bool to_stdout = !strcmp(cfg.output, "-");
	if (!to_stdout && access(cfg.output, F_OK) == 0) {
		log_error("%s exists; capture never overwrites a file: give another -o, or remove it",
		          cfg.output);
		config_free(&cfg);
		return EXIT_USAGE;
	}

	int status = EXIT_RUNTIME;
	int fd = -1;
	char *tmp = NULL;
	struct kafka_range *r = kafka_range_open(&rc, KAFKA_TIMEOUT_MS, &err);
	if (!r) {
		log_error("%s", err.msg);
		goto out;
	}
	if (to_stdout) {
		fd = STDOUT_FILENO;
	} else {
		size_t n = strlen(cfg.output) + 32;
		tmp = xmalloc(n);
		snprintf(tmp, n, "%s.tmp-%ld", cfg.output, (long)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			log_error("cannot create %s: %s", cfg.output, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto out;
		}
	}

	struct buf b = BUF_INIT;
	size_t n_parts;
	const struct kafka_range_part *parts = kafka_range_parts(r, &n_parts);
	for (size_t i = 0; i < n_parts; i++)
		capture_write_lane(&b, CONTROL_LANE_OPEN, sv_make(parts[i].topic, strlen(parts[i].topic)),
		                   parts[i].partition);
	uint64_t n_msgs = 0;
	struct kafka_message m;
	int got;
	bool io_ok = true;
	while ((got = kafka_range_next(r, &m, KAFKA_TIMEOUT_MS, &err)) > 0) {
		capture_write_envelope(&b, m.topic, m.partition, m.offset, m.timestamp_ms, m.key,
		                       m.key_len, m.payload, m.len);
		n_msgs++;
		if (b.len >= 1 << 20) {
			io_ok = write_all(fd, b.data, b.len);
			buf_reset(&b);
			if (!io_ok)
				break;
		}
	}
	if (io_ok)
		io_ok = write_all(fd, b.data, b.len);
	buf_free(&b);
	if (!io_ok) {
		log_error("cannot write %s: %s", cfg.output, strerror(errno));
		goto out;
	}
	if (got < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (n_msgs == 0) {
		log_error("the range holds no message (--from %s --to %s over %zu partitions of %s and "
		          "%s); nothing written",
		          cfg.range_from ? cfg.range_from : "earliest", cfg.range_to ? cfg.range_to : "now",
		          n_parts, topics[0], topics[1]);
		goto out;
	}
	if (!to_stdout) {
		if (fsync(fd) || close(fd)) {
			fd = -1;
			log_error("cannot write %s: %s", cfg.output, strerror(errno));
			goto out;
		}
		fd = -1;
		/* link, not rename: a file created meanwhile is not replaced */
		if (link(tmp, cfg.output)) {
			log_error("cannot create %s: %s", cfg.output, strerror(errno));
			goto out;
		}
	}
	char *range = kafka_range_json(r, rc.brokers);
	log_info("captured %" PRIu64 " messages of %zu partitions into %s: %s", n_msgs, n_parts,
	         to_stdout ? "standard output" : cfg.output, range);
	free(range);
	status = EXIT_OK;
out:
	if (fd >= 0 && !to_stdout)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	kafka_range_close(r);
	config_free(&cfg);
	return status;
}
