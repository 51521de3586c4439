/*
 * gen.c — `telemetra gen`: write a synthetic, seeded, reproducible event
 * log to a file (JSON Lines, gzip when the name ends in .gz), to stdout, or
 * to Kafka; the project's load generator.  The traffic model lives in
 * gen/generator.c, the Kafka producer in io/kafka_producer.c; this file
 * parses options and does the file I/O and the pacing.
 *
 * Replaces the seed's Python mock producer, whose environment variables it
 * honours: CHANNELS (comma-separated stream ids) and RATE_PER_SEC (same as
 * --rate).  The command line wins over the environment.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/timestamp.h"
#include "gen/generator.h"
#include "io/kafka_conf.h"
#include "io/kafka_producer.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/new_file.h"
#include "util/options.h"

#define DEFAULT_CHAT_TOPIC "telemetra.events.chat"
#define DEFAULT_VIEWER_TOPIC "telemetra.events.viewer"
#define OUT_BUFSZ (256 * 1024)

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: telemetra gen [OPTIONS]\n"
	        "\n"
	        "Write a synthetic, seeded, reproducible log of chat and viewer events\n"
	        "(JSON Lines) shaped like real chat, with true moments and decoys, to a\n"
	        "file, stdout or Kafka.\n"
	        "The same options and --seed give the same bytes.\n"
	        "\n"
	        "Output:\n"
	        "  -o, --output FILE          write to FILE ('-' = stdout, the default);\n"
	        "                             gzip-compressed when FILE ends in .gz\n"
	        "      --kafka BROKERS        produce to Kafka instead (key = stream_id)\n"
	        "      --chat-topic TOPIC     topic of chat events and malformed lines\n"
	        "                             (default " DEFAULT_CHAT_TOPIC ")\n"
	        "      --viewer-topic TOPIC   topic of viewer events (default " DEFAULT_VIEWER_TOPIC ")\n"
	        "  -X KEY=VALUE               librdkafka producer property (repeatable)\n"
	        "      --rate N               pace the output at N events/s of wall time\n"
	        "                             (default: as fast as possible); without\n"
	        "                             --chat-rate, the chat rate is derived from N so\n"
	        "                             that event time keeps up with the wall clock\n"
	        "      --labels FILE          write the true moments to FILE (JSON Lines:\n"
	        "                             stream_id, start, end, kind); start is when\n"
	        "                             chat starts reacting\n"
	        "      --decoys FILE          write the non-moments to FILE (same format;\n"
	        "                             kind ad_break, level_shift, gift_train,\n"
	        "                             spammer, bot, stream_start, stream_end, raid_out)\n"
	        "  -q, --quiet                no summary line\n"
	        "\n"
	        "Traffic:\n"
	        "      --seed N               random seed (default 1)\n"
	        "      --streams N            number of streams (default 10)\n"
	        "      --channels LIST        comma-separated stream ids (sets --streams)\n"
	        "      --duration SECONDS     span of event time (default 600; 0 = endless;\n"
	        "                             endless by default with --kafka); a suffix\n"
	        "                             s, m or h is accepted\n"
	        "      --events N             stop after N lines (exactly N when the span\n"
	        "                             allows; without --duration the span is open)\n"
	        "      --start TIME|now       event time of the start (RFC 3339, default\n"
	        "                             2025-11-23T12:00:00Z)\n"
	        "      --rate-min R, --rate-max R\n"
	        "                             per-stream chat rates, spread log-uniformly over\n"
	        "                             [min, max] messages/s (default 0.0167, one a\n"
	        "                             minute, to 30)\n"
	        "      --chat-rate R          the same spread, scaled to a mean of R\n"
	        "                             messages/s per stream\n"
	        "      --branching B          self-excitation: each message triggers B more\n"
	        "                             on average (replies, emote walls), 0 to 0.95\n"
	        "                             (default 0.5; 0 = Poisson arrivals)\n"
	        "      --reply-delay S        mean delay of a triggered message (default 3)\n"
	        "      --decoy-rate N         decoys per stream-hour: ad breaks, level shifts,\n"
	        "                             sub-gift trains, spammers, bots in turn\n"
	        "                             (default 1)\n"
	        "      --no-edges             no stream start (ramp, greetings) or end (\"gn\"\n"
	        "                             waves, outgoing raid, offline before the end)\n"
	        "      --viewer-interval S    seconds between viewer-count updates (default 5)\n"
	        "      --spikes N             N true moments: hype, funny, fail (a burst of\n"
	        "                             reactions 2-6 s after the play, 10-60 s, many\n"
	        "                             chatters) and incoming raids (viewer jump, new\n"
	        "                             chatters); none in a stream's first 5 minutes\n"
	        "                             or last 6, episodes 5 minutes apart\n"
	        "\n"
	        "Disorder and bad input (fractions of lines):\n"
	        "      --disorder F           displaced by less than the watermark delay\n"
	        "                             (default 0.01)\n"
	        "      --late F               displaced by more than delay + 60 s (default 0.001)\n"
	        "      --malformed F          broken lines of varied kinds (default 0.001)\n"
	        "      --watermark-delay S    the delay D of the above (default 10)\n"
	        "\n"
	        "  -h, --help                 show this help\n"
	        "  -V, --version              show the version\n"
	        "\n"
	        "Environment (the command line wins): CHANNELS (as --channels),\n"
	        "RATE_PER_SEC (as --rate).\n"
	        "Examples:\n"
	        "  telemetra gen --events 1000000 --streams 50 --spikes 20 --labels l.jsonl -o ev.jsonl.gz\n"
	        "  telemetra gen --streams 40 --duration 3h --rate-min 0.05 --rate-max 50 --spikes 240 \\\n"
	        "      --labels moments.jsonl --decoys decoys.jsonl -o ev.jsonl\n"
	        "  telemetra gen --kafka localhost:9092 --rate 200 --start now\n");
}

/* ------------------------------------------------------------------------ */
/* Option values                                                             */

static uint64_t parse_uint(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	if (!arg[0] || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ')
		goto bad;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	return (uint64_t)v;
bad:
	die_usage("%s: '%s' is not valid; expected an integer from %" PRIu64 " to %" PRIu64, opt, arg, min,
	          max);
}

static double parse_real(const char *opt, const char *arg, double min, double max, bool min_open,
                         const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (!arg[0] || end == arg || *end || errno || !isfinite(v) || v > max || v < min ||
	    (min_open && v == min))
		die_usage("%s: '%s' is not valid; expected %s", opt, arg, what);
	return v;
}

/* Seconds, with an optional s / m / h suffix, into microseconds. */
static int64_t parse_gen_seconds(const char *opt, const char *arg, bool allow_zero)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	double unit = 1.0;
	if (end != arg && *end && !end[1]) {
		if (*end == 's')
			unit = 1.0, end++;
		else if (*end == 'm')
			unit = 60.0, end++;
		else if (*end == 'h')
			unit = 3600.0, end++;
	}
	v *= unit;
	if (!arg[0] || end == arg || *end || errno || !isfinite(v) || v < 0 || (!allow_zero && v == 0) ||
	    v > 1e9)
		die_usage("%s: '%s' is not valid; expected %s seconds (a number, optionally with a suffix s, "
		          "m or h)",
		          opt, arg, allow_zero ? "0 or more" : "a positive number of");
	return (int64_t)(v * 1e6 + 0.5);
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

/* ------------------------------------------------------------------------ */
/* File / stdout output                                                      */

struct output {
	const char *name; /* for messages */
	FILE *f;          /* plain file or stdout */
	gzFile gz;        /* or gzip */
	bool is_stdout;
	struct new_file file; /* a named file appears whole or not at all */
	char *buf;
	size_t len;
	bool failed;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static bool output_open(struct output *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->buf = xmalloc(OUT_BUFSZ);
	if (!path || !strcmp(path, "-")) {
		o->name = "stdout";
		o->f = stdout;
		o->is_stdout = true;
		return true;
	}
	o->name = path;
	struct error err;
	if (!new_file_create(&o->file, path, &err)) {
		log_error("%s", err.msg);
		return false;
	}
	if (ends_with(path, ".gz")) {
		o->gz = gzdopen(o->file.fd, "wb3"); /* level 3: ~2x faster than 6, 8 % larger */
		if (!o->gz) {
			log_error("cannot create %s: %s", path, errno ? strerror(errno) : "out of memory");
			new_file_discard(&o->file);
			return false;
		}
		o->file.fd = -1; /* gzclose closes it */
		gzbuffer(o->gz, 128 * 1024);
		return true;
	}
	o->f = fdopen(o->file.fd, "wb");
	if (!o->f) {
		log_error("cannot create %s: %s", path, strerror(errno));
		new_file_discard(&o->file);
		return false;
	}
	o->file.fd = -1; /* fclose closes it */
	return true;
}

static bool output_flush(struct output *o)
{
	if (o->failed)
		return false;
	if (o->len) {
		if (o->gz) {
			if (gzwrite(o->gz, o->buf, (unsigned)o->len) != (int)o->len) {
				int zerr;
				const char *msg = gzerror(o->gz, &zerr);
				log_error("cannot write %s: %s", o->name, zerr == Z_ERRNO ? strerror(errno) : msg);
				o->failed = true;
				return false;
			}
		} else if (fwrite(o->buf, 1, o->len, o->f) != o->len) {
			log_error("cannot write %s: %s", o->name, strerror(errno));
			o->failed = true;
			return false;
		}
		o->len = 0;
	}
	return true;
}

/* Push buffered lines through to the file descriptor (for live feeds). */
static bool output_sync(struct output *o)
{
	if (!output_flush(o))
		return false;
	if (o->gz)
		return gzflush(o->gz, Z_SYNC_FLUSH) == Z_OK || (o->failed = true, false);
	if (fflush(o->f) != 0) {
		log_error("cannot write %s: %s", o->name, strerror(errno));
		o->failed = true;
		return false;
	}
	return true;
}

static inline bool output_line(struct output *o, const char *data, size_t len)
{
	if (o->len + len + 1 > OUT_BUFSZ) {
		if (!output_flush(o))
			return false;
		if (len + 1 > OUT_BUFSZ) { /* a line larger than the buffer */
			bool ok = o->gz ? gzwrite(o->gz, data, (unsigned)len) == (int)len
			                : fwrite(data, 1, len, o->f) == len;
			if (!ok) {
				log_error("cannot write %s: %s", o->name, strerror(errno));
				o->failed = true;
				return false;
			}
			o->buf[o->len++] = '\n';
			return true;
		}
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	o->buf[o->len++] = '\n';
	return true;
}

/* Flush and close; a named file is put in place only when everything was
 * written and keep is true (else removed).  False (after logging) when
 * anything failed. */
static bool output_close(struct output *o, bool keep)
{
	bool ok = output_flush(o);
	if (o->gz) {
		int rc = gzclose(o->gz);
		if (rc != Z_OK && ok) {
			log_error("cannot write %s: %s", o->name, rc == Z_ERRNO ? strerror(errno) : "gzip error");
			ok = false;
		}
	} else if (o->is_stdout) {
		if ((fflush(stdout) != 0 || ferror(stdout)) && ok) {
			log_error("cannot write %s: %s", o->name, strerror(errno));
			ok = false;
		}
	} else if (o->f) {
		bool err = ferror(o->f) != 0;
		if ((fclose(o->f) != 0 || err) && ok) {
			log_error("cannot write %s: %s", o->name, strerror(errno));
			ok = false;
		}
	}
	free(o->buf);
	o->buf = NULL;
	ok = ok && !o->failed;
	if (o->file.tmp) {
		struct error err;
		if (!ok || !keep) {
			new_file_discard(&o->file);
		} else if (!new_file_commit(&o->file, &err)) {
			log_error("%s", err.msg);
			ok = false;
		}
	}
	return ok;
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

enum {
	OPT_SEED = 256,
	OPT_STREAMS,
	OPT_CHANNELS,
	OPT_DURATION,
	OPT_EVENTS,
	OPT_START,
	OPT_CHAT_RATE,
	OPT_VIEWER_INTERVAL,
	OPT_SPIKES,
	OPT_LABELS,
	OPT_DISORDER,
	OPT_LATE,
	OPT_MALFORMED,
	OPT_WATERMARK_DELAY,
	OPT_KAFKA,
	OPT_CHAT_TOPIC,
	OPT_VIEWER_TOPIC,
	OPT_RATE,
	OPT_RATE_MIN,
	OPT_RATE_MAX,
	OPT_BRANCHING,
	OPT_REPLY_DELAY,
	OPT_DECOY_RATE,
	OPT_DECOYS,
	OPT_NO_EDGES,
	OPT_NO_QUIET,
};

int cmd_gen(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"streams", required_argument, NULL, OPT_STREAMS},
	    {"channels", required_argument, NULL, OPT_CHANNELS},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"events", required_argument, NULL, OPT_EVENTS},
	    {"start", required_argument, NULL, OPT_START},
	    {"chat-rate", required_argument, NULL, OPT_CHAT_RATE},
	    {"viewer-interval", required_argument, NULL, OPT_VIEWER_INTERVAL},
	    {"spikes", required_argument, NULL, OPT_SPIKES},
	    {"labels", required_argument, NULL, OPT_LABELS},
	    {"disorder", required_argument, NULL, OPT_DISORDER},
	    {"late", required_argument, NULL, OPT_LATE},
	    {"malformed", required_argument, NULL, OPT_MALFORMED},
	    {"watermark-delay", required_argument, NULL, OPT_WATERMARK_DELAY},
	    {"kafka", required_argument, NULL, OPT_KAFKA},
	    {"chat-topic", required_argument, NULL, OPT_CHAT_TOPIC},
	    {"viewer-topic", required_argument, NULL, OPT_VIEWER_TOPIC},
	    {"rate", required_argument, NULL, OPT_RATE},
	    {"rate-min", required_argument, NULL, OPT_RATE_MIN},
	    {"rate-max", required_argument, NULL, OPT_RATE_MAX},
	    {"branching", required_argument, NULL, OPT_BRANCHING},
	    {"reply-delay", required_argument, NULL, OPT_REPLY_DELAY},
	    {"decoy-rate", required_argument, NULL, OPT_DECOY_RATE},
	    {"decoys", required_argument, NULL, OPT_DECOYS},
	    {"no-edges", optional_argument, NULL, OPT_NO_EDGES}, /* --no-edges[=true|false] */
	    {"no-quiet", no_argument, NULL, OPT_NO_QUIET},
	    {"quiet", optional_argument, NULL, 'q'}, /* --quiet[=true|false] */
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct gen_options o;
	gen_options_default(&o);
	const char *output = NULL, *labels = NULL, *decoys = NULL, *brokers = NULL;
	bool have_range = false;
	const char *chat_topic = DEFAULT_CHAT_TOPIC, *viewer_topic = DEFAULT_VIEWER_TOPIC;
	const char *start = NULL;
	bool have_streams = false, have_duration = false, have_chat_rate = false;
	char **channels = NULL;
	size_t nchannels = 0;
	double rate = 0.0;
	bool have_rate = false;
	char **props = NULL;
	size_t nprops = 0, capprops = 0;

	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":o:X:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_SEED: o.seed = parse_uint("--seed", optarg, 0, UINT64_MAX); break;
		case OPT_STREAMS:
			o.streams = (size_t)parse_uint("--streams", optarg, 1, 100000);
			have_streams = true;
			break;
		case OPT_CHANNELS: channels = parse_channels("--channels", optarg, &nchannels); break;
		case OPT_DURATION:
			o.duration_us = parse_gen_seconds("--duration", optarg, true);
			have_duration = true;
			break;
		case OPT_EVENTS: o.max_events = parse_uint("--events", optarg, 1, UINT64_C(1000000000000)); break;
		case OPT_START: start = optarg; break;
		case OPT_CHAT_RATE:
			o.chat_rate = parse_real("--chat-rate", optarg, 0, 1e6, true,
			                         "messages per second per stream, > 0 (e.g. 3 or 0.5)");
			have_chat_rate = true;
			break;
		case OPT_VIEWER_INTERVAL:
			o.viewer_interval_us = parse_gen_seconds("--viewer-interval", optarg, false);
			break;
		case OPT_SPIKES: o.spikes = (unsigned)parse_uint("--spikes", optarg, 0, 1000000); break;
		case OPT_LABELS: labels = optarg; break;
		case OPT_DECOYS: decoys = optarg; break;
		case OPT_RATE_MIN:
			o.rate_min = parse_real("--rate-min", optarg, 0, 1e6, true,
			                        "messages per second per stream, > 0 (e.g. 0.05)");
			have_range = true;
			break;
		case OPT_RATE_MAX:
			o.rate_max = parse_real("--rate-max", optarg, 0, 1e6, true,
			                        "messages per second per stream, > 0 (e.g. 50)");
			have_range = true;
			break;
		case OPT_BRANCHING:
			o.branching = parse_real("--branching", optarg, 0, 0.95, false,
			                         "a branching ratio from 0 to 0.95, e.g. 0.5");
			break;
		case OPT_REPLY_DELAY: o.reply_delay_us = parse_gen_seconds("--reply-delay", optarg, false); break;
		case OPT_DECOY_RATE:
			o.decoy_rate = parse_real("--decoy-rate", optarg, 0, 1000, false,
			                          "decoys per stream-hour from 0 to 1000, e.g. 1");
			break;
		case OPT_NO_EDGES:
			if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false"))
				die_usage("option '--no-edges' takes true or false after '=', got '%s'", optarg);
			o.edges = optarg && !strcmp(optarg, "false");
			break;
		case OPT_NO_QUIET: log_set_quiet(false); break;
		case OPT_DISORDER:
			o.disorder = parse_real("--disorder", optarg, 0, 1, false, "a fraction from 0 to 1, e.g. 0.01");
			break;
		case OPT_LATE: o.late = parse_real("--late", optarg, 0, 1, false, "a fraction from 0 to 1, e.g. 0.001"); break;
		case OPT_MALFORMED:
			o.malformed = parse_real("--malformed", optarg, 0, 1, false, "a fraction from 0 to 1, e.g. 0.001");
			break;
		case OPT_WATERMARK_DELAY:
			o.watermark_delay_us = parse_gen_seconds("--watermark-delay", optarg, false);
			break;
		case OPT_KAFKA:
			if (!optarg[0])
				die_usage("--kafka: expected a broker list, e.g. localhost:9092");
			brokers = optarg;
			break;
		case OPT_CHAT_TOPIC:
			if (!optarg[0])
				die_usage("--chat-topic: expected a topic name");
			chat_topic = optarg;
			break;
		case OPT_VIEWER_TOPIC:
			if (!optarg[0])
				die_usage("--viewer-topic: expected a topic name");
			viewer_topic = optarg;
			break;
		case OPT_RATE:
			rate = parse_real("--rate", optarg, 0, 1e9, true, "events per second, > 0 (e.g. 100)");
			have_rate = true;
			break;
		case 'X':
			props = grow_array(props, sizeof(char *), &capprops, nprops + 1);
			props[nprops++] = optarg;
			break;
		case 'q':
			if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false"))
				die_usage("option '--quiet' takes true or false after '=', got '%s'", optarg);
			log_set_quiet(!optarg || !strcmp(optarg, "true"));
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': print_version(); return EXIT_OK;
		default: {
			char problem[160];
			option_problem(problem, sizeof problem, c, argv, longopts);
			die_usage("%s", problem);
		}
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'; gen takes options only", argv[optind]);

	/* environment of the seed's mock producer; the command line wins */
	const char *env;
	if (!channels && !have_streams && (env = getenv("CHANNELS")) && env[0])
		channels = parse_channels("CHANNELS", env, &nchannels);
	if (channels && have_streams && nchannels != o.streams)
		die_usage("--streams %zu and --channels with %zu ids disagree; give one of them", o.streams, nchannels);
	if (channels) {
		o.streams = nchannels;
		o.stream_ids = (const char *const *)channels;
	}
	if (!have_rate && (env = getenv("RATE_PER_SEC")) && env[0]) {
		rate = parse_real("RATE_PER_SEC", env, 0, 1e9, true, "events per second, > 0 (e.g. 100)");
		have_rate = true;
	}

	if (start) {
		if (!strcmp(start, "now")) {
			o.start_us = wall_clock_us();
		} else if (!timestamp_parse_text(start, strlen(start), &o.start_us)) {
			die_usage("--start: '%s' is not a time; expected RFC 3339 (e.g. 2025-11-23T12:00:00Z) or 'now'",
			          start);
		}
	}
	if (!have_duration)
		o.duration_us = (o.max_events || brokers) ? 0 : INT64_C(600) * USEC_PER_SEC;
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
			return EXIT_RUNTIME;
		}
	} else if (!output_open(&out, output)) {
		gen_free(g);
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
				log_progress("%" PRIu64 " events, %.0f/s", n, (double)n / (now - t0));
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
	if (channels) {
		for (size_t i = 0; i < nchannels; i++)
			free(channels[i]);
		free(channels);
	}
	free(props);
	return status;
}
