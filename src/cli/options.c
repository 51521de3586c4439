/*
 * options.c — the one options table (cli/options.h): every option of
 * every command, with its type, default, environment variable, commands and
 * help line, and the code that reads argv, the environment and --config
 * files into a struct config through one validating setter, generates each
 * command's --help from the table, and builds the core's configuration.
 * --help prints each default from a config_init()'d struct through the
 * option's type and offset, so the help cannot drift from the real value;
 * only a default that is not a plain value has a hand-written default_text.
 */
#include "config.h"

#include "cli/options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/lexicon.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/version.h"

enum opt_type {
	T_SECONDS,  /* > 0 seconds, stored as int64 microseconds */
	T_SECONDS0, /* >= 0 seconds */
	T_UINT,     /* >= 0 */
	T_POSUINT,  /* >= 1 */
	T_DOUBLE,
	T_POSDOUBLE, /* > 0 */
	T_FLAG,      /* a switch: bool */
	T_STRING,
	T_CHOICE, /* a string from `choices` */
	T_LIST,   /* repeatable string */
	/* gen's own rules, kept as they were before gen used this table: */
	T_COUNT,    /* uint64_t in [umin, umax], digits only */
	T_RANGE,    /* double in [lo, hi] (MIN_OPEN: lo excluded), `expect` says what */
	T_GSECONDS, /* seconds with an optional s/m/h suffix ("10m"), int64 µs,
	             * >= 0 (MIN_OPEN: > 0), at most 1e9 s */
};

struct opt {
	const char *name;
	int short_name;
	enum opt_type type;
	size_t offset;
	unsigned commands;
	const char *env;
	const char *arg;
	const char *help;
	const char *choices; /* T_CHOICE: "a|b" */
	unsigned flags;
	/* What --help says the default is when it is not a plain value of the
	 * field as config_init() sets it (computed from other options, decided
	 * by the command, or no value such as "off"); NULL: --help prints that
	 * value itself.  The help line never spells a default. */
	const char *default_text;
};

/* The bounds of a T_COUNT or T_RANGE option (gen's), by name. */
struct bounds {
	const char *name;
	uint64_t umin, umax; /* T_COUNT */
	double lo, hi;       /* T_RANGE */
	const char *expect;  /* T_RANGE: the value wanted, for the message */
};

enum {
	TUNABLE = 1 << 0, /* changes the core's results: allowed in tune --grid */
	SECRET = 1 << 1,  /* may hold a password: redacted or left out of output */
	OPTIONAL = 1 << 2, /* no value unless given (it switches something on) */
	DERIVED = 1 << 3,  /* unless given, computed from other options */
	MIN_OPEN = 1 << 4, /* T_RANGE, T_GSECONDS: the lower bound is excluded */
	/* the environment variable is read only when the command line does not
	 * give the option (so a bad value there is not an error then): gen's
	 * CHANNELS and RATE_PER_SEC, as the seed's mock producer read them */
	ENV_IF_UNSET = 1 << 5,
};

#define F(field) offsetof(struct config, field)
#define CORE CMD_CORE

static const struct opt opts[] = {
	/* the core */
	{"window", 0, T_SECONDS, F(window_us), CORE, NULL, "SECONDS",
	 "window size W", NULL, TUNABLE, NULL},
	{"slide", 0, T_SECONDS, F(slide_us), CORE, NULL, "SECONDS",
	 "slide S; W must be a multiple of S, S = W is tumbling", NULL, TUNABLE, NULL},
	{"watermark-delay", 0, T_SECONDS0, F(delay_us), CORE, NULL, "SECONDS",
	 "allowed lateness D behind the largest event time", NULL, TUNABLE, NULL},
	{"history", 0, T_POSUINT, F(history), CORE, NULL, "N",
	 "seed detector, viewer surge, sentiment drop: previous windows in the baseline", NULL, TUNABLE, NULL},
	{"min-history", 0, T_POSUINT, F(min_history), CORE, NULL, "N",
	 "fewer previous windows give a NULL z-score", NULL, TUNABLE | DERIVED, "N"},
	{"min-stddev", 0, T_POSDOUBLE, F(min_stddev), CORE, NULL, "RATE",
	 "seed detector: stddev floor, messages/s", NULL, TUNABLE | DERIVED,
	 "one message per window, 1/W"},
	{"threshold", 0, T_DOUBLE, F(threshold), CORE, "ANOMALY_THRESHOLD", "Z",
	 "z-score above which a window is a chat spike", NULL, TUNABLE, NULL},
	{"top-emotes", 0, T_UINT, F(top_k), CORE, NULL, "K",
	 "emotes kept in top_emotes, most frequent first", NULL, TUNABLE, NULL},
	{"lexicon-positive", 0, T_STRING, F(lexicon_positive), CORE, NULL, "FILE",
	 "positive word list replacing the default", NULL, TUNABLE, NULL},
	{"lexicon-negative", 0, T_STRING, F(lexicon_negative), CORE, NULL, "FILE",
	 "negative word list replacing the default", NULL, TUNABLE, NULL},
	{"merge-moments", 0, T_FLAG, F(merge), CORE, NULL, NULL,
	 "one moment per run of consecutive anomalous windows; --no-merge-moments: one per window", NULL, TUNABLE, NULL},
	{"detector", 0, T_CHOICE, F(detector), CORE, NULL, "pane|seed",
	 "chat spike detector: pane (newest pane vs a negative-binomial baseline) or seed "
	 "(SPEC 5's seed method)", "pane|seed", TUNABLE, NULL},
	{"metric", 0, T_CHOICE, F(metric), CORE, NULL, "messages|chatters|emote-chatters|fresh-emoters",
	 "what the pane detector counts per pane: messages, distinct chatters, distinct chatters with a message carrying an emote, or those counting the ones fresh to the stream (--fresh-span) twice",
	 "messages|chatters|emote-chatters|fresh-emoters", TUNABLE, NULL},
	{"fresh-span", 0, T_SECONDS, F(fresh_us), CORE, NULL, "SECONDS",
	 "metric fresh-emoters: a chatter with no message on the stream in this span before the pane is fresh", NULL, TUNABLE, NULL},
	{"baseline", 0, T_SECONDS, F(baseline_us), CORE, NULL, "SECONDS",
	 "pane detector: span of previous panes in the baseline", NULL, TUNABLE, NULL},
	{"min-baseline", 0, T_SECONDS, F(min_baseline_us), CORE, NULL, "SECONDS",
	 "pane detector: less history gives a NULL z-score", NULL, TUNABLE, NULL},
	{"dispersion", 0, T_DOUBLE, F(dispersion), CORE, NULL, "PHI",
	 "pane detector: floor of the negative-binomial dispersion", NULL, TUNABLE, NULL},
	{"min-fano", 0, T_DOUBLE, F(min_fano), CORE, NULL, "F",
	 "pane detector: floor of a count's variance / mean (1 = Poisson): chat comes in "
	 "clusters (replies) at every rate", NULL, TUNABLE, NULL},
	{"fence", 0, T_DOUBLE, F(fence), CORE, NULL, "K",
	 "pane detector: history counts are clipped to [q1 - K IQR - 1, q3 + K IQR + 1] "
	 "before the baseline is estimated", NULL, TUNABLE, NULL},
	{"long-span", 0, T_SECONDS, F(long_span_us), CORE, NULL, "SECONDS",
	 "pane detector: also score the sum of the newest panes over this span; the slide "
	 "turns it off", NULL, TUNABLE, NULL},
	{"min-excess", 0, T_DOUBLE, F(min_excess), CORE, NULL, "N",
	 "pane detector: least count above the baseline level for a spike", NULL,
	 TUNABLE, NULL},
	{"viewer-surge", 0, T_DOUBLE, F(viewer_surge_threshold), CORE, NULL, "Z",
	 "also detect viewer surges (avg_viewers z above Z)", NULL, TUNABLE | OPTIONAL, NULL},
	{"viewer-surge-min-stddev", 0, T_POSDOUBLE, F(viewer_surge_min_stddev), CORE, NULL,
	 "VIEWERS", "stddev floor of viewer surges", NULL, TUNABLE, NULL},
	{"sentiment-drop", 0, T_DOUBLE, F(sentiment_drop_threshold), CORE, NULL, "Z",
	 "also detect sentiment drops (avg_sentiment z below -Z)", NULL, TUNABLE | OPTIONAL, NULL},
	{"sentiment-drop-min-stddev", 0, T_POSDOUBLE, F(sentiment_drop_min_stddev), CORE, NULL,
	 "SCORE", "stddev floor of sentiment drops", NULL, TUNABLE, NULL},
	{"chat-topic", 0, T_STRING, F(chat_topic), CORE | CMD_CAPTURE, NULL, "TOPIC",
	 "topic of chat events", NULL, 0, NULL},
	{"viewer-topic", 0, T_STRING, F(viewer_topic), CORE | CMD_CAPTURE, NULL, "TOPIC",
	 "topic of viewer events", NULL, 0, NULL},
	{"config", 0, T_STRING, F(config_file), CORE, NULL, "FILE",
	 "read options from a JSON object {\"option\": value}", NULL, 0, NULL},

	/* output */
	{"output", 'o', T_STRING, F(output), CMD_REPLAY, NULL, "PATH",
	 "SQLite output file, replaced unless --append", NULL, 0, DEFAULT_REPLAY_OUTPUT},
	{"output", 'o', T_STRING, F(output), CMD_TUNE, NULL, "PATH",
	 "SQLite file of the results, replaced when the run succeeds", NULL, 0, DEFAULT_TUNE_OUTPUT},
	{"sink", 0, T_STRING, F(sink), CMD_REPLAY | CMD_LIVE, NULL, "sqlite:PATH|postgres:URL",
	 "where rows go, instead of the mode's default", NULL, SECRET, NULL},
	{"append", 0, T_FLAG, F(append), CMD_REPLAY, NULL, NULL,
	 "add to an existing output (rows with the same key are replaced)", NULL, 0, NULL},
	{"replace", 0, T_FLAG, F(replace), CMD_REPLAY, NULL, NULL,
	 "PostgreSQL: delete the output rows there, in the run's transaction", NULL, 0, NULL},
	{"force", 0, T_FLAG, F(force), CMD_REPLAY, NULL, NULL,
	 "let -o replace a file that is not a telemetra database", NULL, 0, NULL},
	{"threads", 0, T_POSUINT, F(threads), CMD_REPLAY, NULL, "N",
	 "1: read, decode and aggregate on one thread; 2 or more: decode on a thread of its own"
	 ", with the same rows", NULL, 0, "2 if two CPUs are online, else 1"},
	{"no-final-flush", 0, T_FLAG, F(no_final_flush), CMD_REPLAY | CMD_TUNE, NULL, NULL,
	 "leave windows open at the end of input, as a stopping daemon does", NULL, 0, NULL},
	{"quiet", 'q', T_FLAG, F(quiet), CORE | CMD_CAPTURE, NULL, NULL,
	 "print no summary, progress or information lines", NULL, 0, NULL},

	/* live */
	{"brokers", 0, T_STRING, F(brokers), CMD_LIVE | CMD_CAPTURE, "KAFKA_BOOTSTRAP_SERVERS", "HOST:PORT,...",
	 "Kafka bootstrap servers", NULL, 0, DEFAULT_BROKERS},
	{"postgres", 0, T_STRING, F(postgres), CMD_LIVE, "POSTGRES_URL", "URL",
	 "PostgreSQL URL, conninfo or jdbc:postgresql:// URL", NULL, SECRET, NULL},
	{"postgres-user", 0, T_STRING, F(postgres_user), CMD_LIVE, "POSTGRES_USER", "USER",
	 "PostgreSQL user, unless the URL names one", NULL, 0, NULL},
	{"postgres-password", 0, T_STRING, F(postgres_password), CMD_LIVE, "POSTGRES_PASSWORD",
	 "PASSWORD", "PostgreSQL password (prefer the environment)", NULL, SECRET, NULL},
	{"group", 0, T_STRING, F(group), CMD_LIVE, NULL, "ID",
	 "Kafka consumer group", NULL, 0, NULL},
	{"offset-reset", 0, T_CHOICE, F(offset_reset), CMD_LIVE, NULL, "earliest|latest",
	 "where a new group starts in a partition", "earliest|latest", 0, NULL},
	{"trigger", 0, T_SECONDS, F(trigger_us), CMD_LIVE, NULL, "SECONDS",
	 "commit a batch at least this often", NULL, 0, NULL},
	{"max-batch", 0, T_POSUINT, F(max_batch), CMD_LIVE, NULL, "N",
	 "commit a batch after this many records", NULL, 0, NULL},
	{"idle-timeout", 0, T_SECONDS, F(idle_timeout_us), CMD_LIVE, NULL, "SECONDS",
	 "a caught-up partition silent this long stops holding the watermark", NULL, 0, NULL},
	{"idle-advance", 0, T_SECONDS0, F(idle_advance_us), CMD_LIVE, NULL, "SECONDS",
	 "when nothing arrives this long, advance the watermark by wall time", NULL, 0, "off"},
	{"capture", 0, T_STRING, F(capture), CMD_LIVE, NULL, "FILE",
	 "record everything consumed, for an exact replay", NULL, 0, NULL},
	{"kafka-property", 'X', T_LIST, F(kafka_props), CMD_LIVE | CMD_CAPTURE | CMD_REPLAY, NULL, "KEY=VALUE",
	 "librdkafka property (TLS, SASL, ...); repeatable", NULL, 0, NULL},
	{"checkpoint-location", 0, T_STRING, F(checkpoint_location), CMD_LIVE, "CHECKPOINT_LOCATION",
	 "PATH", "accepted for the seed's compatibility; state lives in the database", NULL, 0, NULL},
	{"reset-state", 0, T_FLAG, F(reset_state), CMD_LIVE, NULL, NULL,
	 "discard saved state made with other --window/--slide/... (resume from the offsets)", NULL, 0, NULL},
	/* operating the daemon */
	{"log-format", 0, T_CHOICE, F(log_format), CMD_LIVE, "LOG_FORMAT", "text|json",
	 "log lines as text or as one JSON object each", "text|json", 0, NULL},
	{"log-interval", 0, T_SECONDS, F(log_interval_us), CMD_LIVE, NULL, "SECONDS",
	 "log a summary of the commits this often", NULL, 0, NULL},
	{"log-file", 0, T_STRING, F(log_file), CMD_LIVE, NULL, "FILE",
	 "append the log to FILE instead of stderr; reopened on SIGHUP", NULL, 0, NULL},
	{"metrics", 0, T_STRING, F(metrics), CMD_LIVE, "METRICS_ADDR", "ADDR:PORT",
	 "serve Prometheus /metrics, /healthz and /readyz on ADDR:PORT", NULL, 0, "off"},
	{"ready-max-age", 0, T_SECONDS, F(ready_max_age_us), CMD_LIVE, NULL, "SECONDS",
	 "/readyz fails when the database was last reached longer ago", NULL, 0, NULL},

	/* capture, replay --kafka (io/kafka_range.h) */
	{"output", 'o', T_STRING, F(output), CMD_CAPTURE, NULL, "FILE",
	 "the capture file to write (- for standard output); never overwritten", NULL, 0, NULL},
	{"kafka", 0, T_STRING, F(kafka), CMD_REPLAY, NULL, "HOST:PORT,...",
	 "read a bounded range of Kafka (--from, --to) instead of files", NULL, 0, NULL},
	{"from", 0, T_STRING, F(range_from), CMD_REPLAY | CMD_CAPTURE, NULL,
	 "earliest|TIME|TOPIC:PART:OFFSET,...", "start of the Kafka range", NULL, 0,
	 "earliest"},
	{"to", 0, T_STRING, F(range_to), CMD_REPLAY | CMD_CAPTURE, NULL, "now|TIME|end",
	 "end of the Kafka range: its end now, a time, or the end reached while reading",
	 NULL, 0, "now"},

	/* tune */
	{"grid", 0, T_LIST, F(grid), CMD_TUNE, NULL, "NAME=VALUES",
	 "vary option NAME over VALUES: a,b,c or start:stop:step; repeatable", NULL, 0, NULL},
	{"grid-file", 0, T_STRING, F(grid_file), CMD_TUNE, NULL, "FILE",
	 "the grid as JSON {\"NAME\": [values] or \"start:stop:step\"}", NULL, 0, NULL},
	{"labels", 0, T_STRING, F(labels), CMD_TUNE, NULL, "FILE",
	 "true moments (JSON Lines) to score each configuration against", NULL, 0, NULL},
	{"tolerance", 0, T_SECONDS0, F(tolerance_us), CMD_TUNE, NULL, "SECONDS",
	 "how far a detected moment may be from a label and still match", NULL, 0, NULL},
	{"jobs", 'j', T_POSUINT, F(jobs), CMD_TUNE, NULL, "N",
	 "configurations run in parallel", NULL, 0, "the number of online CPUs"},
	{"best", 0, T_STRING, F(best), CMD_TUNE, NULL, "FILE",
	 "write the winning configuration as a --config file (- for stdout: only the JSON)", NULL,
	 0, NULL},
	{"objective", 0, T_STRING, F(objective), CMD_TUNE, NULL, "f1|f2|precision@recall=R",
	 "what the winner maximises; ties: F1, fewer false alarms, less delay", NULL, 0, "f1"},

	/* dump */
	{"output", 'o', T_STRING, F(output), CMD_DUMP, NULL, "FILE",
	 "write to FILE instead of standard output (whole or not at all)", NULL, 0, NULL},

	/* report */
	{"output", 'o', T_STRING, F(output), CMD_REPORT, NULL, "FILE",
	 "write the page to FILE (- for standard output); replaced only when complete", NULL,
	 0, "report.html"},
	{"labels", 0, T_STRING, F(labels), CMD_REPORT, NULL, "FILE",
	 "mark true moments: JSON Lines {stream_id, start, end, kind}, as `telemetra gen "
	 "--labels` writes them; the page then opens with precision, recall, F1 and false alarms "
	 "per stream-hour, scored as `telemetra tune` scores, and lists the missed labels and the "
	 "false moments", NULL, 0, NULL},
	{"tolerance", 0, T_SECONDS0, F(tolerance_us), CMD_REPORT, NULL, "SECONDS",
	 "how far a moment may be from a label and still match, as in tune", NULL, 0, NULL},
	{"decoys", 0, T_STRING, F(decoys), CMD_REPORT, NULL, "FILE",
	 "draw decoys (the same format, as `gen --decoys` writes them) and name the one each "
	 "false moment fell for", NULL, 0, NULL},
	{"title", 0, T_STRING, F(title), CMD_REPORT, NULL, "TEXT",
	 "the page's title", NULL, 0, "one naming the database"},
	{"stream", 0, T_LIST, F(streams), CMD_REPORT, NULL, "ID", "only this stream (repeatable)",
	 NULL, 0, NULL},
	{"from", 0, T_STRING, F(range_from), CMD_REPORT, NULL, "TIME",
	 "only windows overlapping [from, to) and moments in it (RFC 3339), e.g. a day of a busy "
	 "database", NULL, 0, NULL},
	{"to", 0, T_STRING, F(range_to), CMD_REPORT, NULL, "TIME", "the end of that range", NULL, 0, NULL},

	/* gen: output */
#define GEN(n, s, t, f, e, a, h, ...)                                                           \
	{.name = n, .short_name = s, .type = t, .offset = F(f), .commands = CMD_GEN, .env = e,     \
	 .arg = a, .help = h, __VA_ARGS__}
	/* gen's defaults are config_init()'s; cmd/gen.c decides only what
	 * default_text says (the start, the endless span). */
	GEN("output", 'o', T_STRING, output, NULL, "FILE",
	    "write to FILE ('-' = stdout); gzip-compressed when FILE ends in .gz",
	    .default_text = "standard output"),
	GEN("kafka", 0, T_STRING, kafka, NULL, "BROKERS",
	    "produce to Kafka instead (key = stream_id)"),
	GEN("chat-topic", 0, T_STRING, chat_topic, NULL, "TOPIC",
	    "topic of chat events and malformed lines"),
	GEN("viewer-topic", 0, T_STRING, viewer_topic, NULL, "TOPIC",
	    "topic of viewer events"),
	GEN("kafka-property", 'X', T_LIST, kafka_props, NULL, "KEY=VALUE",
	    "librdkafka producer property (repeatable)"),
	GEN("rate", 0, T_RANGE, rate, "RATE_PER_SEC", "N",
	    "pace the output at N events/s of wall time; without --chat-rate, the chat rate is "
	    "derived from N so that event time keeps up with the wall clock; the command line wins "
	    "over the environment", .flags = MIN_OPEN | ENV_IF_UNSET,
	    .default_text = "as fast as possible"),
	GEN("labels", 0, T_STRING, labels, NULL, "FILE",
	    "write the true moments to FILE (JSON Lines: stream_id, start, end, kind); start is "
	    "when chat starts reacting"),
	GEN("decoys", 0, T_STRING, decoys, NULL, "FILE",
	    "write the non-moments to FILE (same format; kind ad_break, level_shift, gift_train, "
	    "spammer, bot, stream_start, stream_end, raid_out)"),
	GEN("force", 0, T_FLAG, force, NULL, NULL,
	    "let -o, --labels and --decoys replace files that exist"),
	GEN("quiet", 'q', T_FLAG, quiet, NULL, NULL, "no summary line"),
	/* gen: traffic */
	GEN("seed", 0, T_COUNT, gen_seed, NULL, "N", "random seed"),
	GEN("streams", 0, T_COUNT, gen_streams, NULL, "N", "number of streams"),
	GEN("channels", 0, T_STRING, channels, "CHANNELS", "LIST",
	    "comma-separated stream ids (sets --streams); the command line (--channels or "
	    "--streams) wins over the environment", .flags = ENV_IF_UNSET),
	GEN("duration", 0, T_GSECONDS, duration_us, NULL, "SECONDS",
	    "span of event time, a suffix s, m or h accepted; 0 = endless, as with --events or "
	    "--kafka unless given"),
	GEN("events", 0, T_COUNT, gen_events, NULL, "N",
	    "stop after N lines (exactly N when the span allows; without --duration the span is "
	    "open)", .flags = OPTIONAL),
	GEN("start", 0, T_STRING, start, NULL, "TIME|now",
	    "event time of the start, RFC 3339", .default_text = "2025-11-23T12:00:00Z"),
	GEN("rate-min", 0, T_RANGE, rate_min, NULL, "R",
	    "per-stream chat rates are spread log-uniformly over [min, max] messages/s; the "
	    "default min is one a minute", .flags = MIN_OPEN),
	GEN("rate-max", 0, T_RANGE, rate_max, NULL, "R", "the top of that spread", .flags = MIN_OPEN),
	GEN("chat-rate", 0, T_RANGE, chat_rate, NULL, "R",
	    "the same spread, scaled to a mean of R messages/s per stream",
	    .flags = MIN_OPEN | OPTIONAL),
	GEN("branching", 0, T_RANGE, branching, NULL, "B",
	    "self-excitation: each message triggers B more on average (replies, emote walls), 0 "
	    "to 0.95, 0 = Poisson arrivals"),
	GEN("reply-delay", 0, T_GSECONDS, reply_delay_us, NULL, "S",
	    "mean delay of a triggered message", .flags = MIN_OPEN),
	GEN("decoy-rate", 0, T_RANGE, decoy_rate, NULL, "N",
	    "decoys per stream-hour: ad breaks, level shifts, sub-gift trains, spammers, bots in "
	    "turn"),
	GEN("no-edges", 0, T_FLAG, no_edges, NULL, NULL,
	    "no stream start (ramp, greetings) or end (\"gn\" waves, outgoing raid, offline "
	    "before the end)"),
	GEN("viewer-interval", 0, T_GSECONDS, viewer_interval_us, NULL, "S",
	    "seconds between viewer-count updates", .flags = MIN_OPEN),
	GEN("spikes", 0, T_COUNT, gen_spikes, NULL, "N",
	    "N true moments: hype, funny, fail (a burst of reactions 2-6 s after the play, 10-60 "
	    "s, many chatters) and incoming raids (viewer jump, new chatters); none in a stream's "
	    "first 5 minutes or last 6, episodes 5 minutes apart"),
	/* gen: disorder and bad input (fractions of lines) */
	GEN("disorder", 0, T_RANGE, disorder, NULL, "F",
	    "fraction of lines displaced by less than the watermark delay"),
	GEN("late", 0, T_RANGE, late, NULL, "F",
	    "fraction displaced by more than delay + 60 s"),
	GEN("malformed", 0, T_RANGE, malformed, NULL, "F",
	    "fraction of broken lines of varied kinds"),
	GEN("watermark-delay", 0, T_GSECONDS, delay_us, NULL, "S",
	    "the delay D of the above", .flags = MIN_OPEN),
#undef GEN

	/* migrate: one database; POSTGRES_URL yields to --sqlite (cmd/migrate.c) */
	{"postgres", 0, T_STRING, F(postgres), CMD_MIGRATE, "POSTGRES_URL", "URL",
	 "a PostgreSQL URL, conninfo or jdbc:postgresql:// URL (the environment's is not used "
	 "with --sqlite)", NULL, SECRET, NULL},
	{"sqlite", 0, T_STRING, F(sqlite), CMD_MIGRATE, NULL, "PATH",
	 "a SQLite file, created if missing", NULL, 0, NULL},
	{"postgres-user", 0, T_STRING, F(postgres_user), CMD_MIGRATE, "POSTGRES_USER", "USER",
	 "PostgreSQL user, unless the URL names one", NULL, 0, NULL},
	{"postgres-password", 0, T_STRING, F(postgres_password), CMD_MIGRATE, "POSTGRES_PASSWORD",
	 "PASSWORD", "PostgreSQL password, unless the URL has one (prefer the environment)", NULL,
	 SECRET, NULL},
};

static const struct bounds bounds[] = {
	{"seed", 0, UINT64_MAX, 0, 0, NULL},
	{"streams", 1, 100000, 0, 0, NULL},
	{"events", 1, UINT64_C(1000000000000), 0, 0, NULL},
	{"spikes", 0, 1000000, 0, 0, NULL},
	{"rate", 0, 0, 0, 1e9, "events per second, > 0 (e.g. 100)"},
	{"rate-min", 0, 0, 0, 1e6, "messages per second per stream, > 0 (e.g. 0.05)"},
	{"rate-max", 0, 0, 0, 1e6, "messages per second per stream, > 0 (e.g. 50)"},
	{"chat-rate", 0, 0, 0, 1e6, "messages per second per stream, > 0 (e.g. 3 or 0.5)"},
	{"branching", 0, 0, 0, 0.95, "a branching ratio from 0 to 0.95, e.g. 0.5"},
	{"decoy-rate", 0, 0, 0, 1000, "decoys per stream-hour from 0 to 1000, e.g. 1"},
	{"disorder", 0, 0, 0, 1, "a fraction from 0 to 1, e.g. 0.01"},
	{"late", 0, 0, 0, 1, "a fraction from 0 to 1, e.g. 0.001"},
	{"malformed", 0, 0, 0, 1, "a fraction from 0 to 1, e.g. 0.001"},
};

static const struct bounds *bounds_of(const struct opt *o)
{
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		if (!strcmp(bounds[i].name, o->name))
			return &bounds[i];
	abort(); /* a T_COUNT or T_RANGE option without bounds */
}

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* An option listed once per command group (-o: replay's database, capture's
 * file) shares its field: free and copy it once. */
static bool first_of_field(size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (opts[j].offset == opts[i].offset)
			return false;
	return true;
}

static const struct opt *find_opt(const char *name, unsigned mask)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if ((opts[i].commands & mask) && !strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->window_us = 60 * USEC_PER_SEC;
	c->slide_us = 10 * USEC_PER_SEC;
	c->delay_us = 10 * USEC_PER_SEC;
	c->top_k = 10;
	c->history = 10;
	c->threshold = 3.0;
	c->merge = true;
	c->detector = xstrdup("pane");
	c->metric = xstrdup("fresh-emoters");
	c->baseline_us = 900 * USEC_PER_SEC;
	c->min_baseline_us = 300 * USEC_PER_SEC;
	c->dispersion = 0.1;
	c->min_excess = 5;
	c->min_fano = 1.75;
	c->fence = 2;
	c->long_span_us = 20 * USEC_PER_SEC;
	c->fresh_us = 450 * USEC_PER_SEC;
	c->viewer_surge_min_stddev = 1.0;
	c->sentiment_drop_min_stddev = 0.05;
	c->chat_topic = xstrdup("telemetra.events.chat");
	c->viewer_topic = xstrdup("telemetra.events.viewer");
	c->group = xstrdup("telemetra");
	c->offset_reset = xstrdup("latest");
	c->trigger_us = USEC_PER_SEC;
	c->max_batch = 50000;
	c->idle_timeout_us = 5 * USEC_PER_SEC;
	c->log_format = xstrdup("text");
	c->log_interval_us = 30 * USEC_PER_SEC;
	c->ready_max_age_us = 30 * USEC_PER_SEC;
	c->tolerance_us = 30 * USEC_PER_SEC;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	c->jobs = cores > 0 ? (unsigned)cores : 1;
	c->threads = cores >= 2 ? 2 : 1;
	/* gen (the traffic model's defaults, gen/generator.c) */
	c->gen_seed = 1;
	c->gen_streams = 10;
	c->duration_us = 600 * USEC_PER_SEC; /* unless --events or --kafka: see gen.c */
	c->rate_min = 1.0 / 60.0;
	c->rate_max = 30.0;
	c->branching = 0.5;
	c->reply_delay_us = 3 * USEC_PER_SEC;
	c->decoy_rate = 1.0;
	c->viewer_interval_us = 5 * USEC_PER_SEC;
	c->disorder = 0.01;
	c->late = 0.001;
	c->malformed = 0.001;
	c->set = xcalloc(N_OPTS, sizeof(bool));
	c->from_env = xcalloc(N_OPTS, sizeof(bool));
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		void *field = (char *)c + opts[i].offset;
		if (!first_of_field(i))
			continue;
		if (opts[i].type == T_STRING || opts[i].type == T_CHOICE) {
			free(*(char **)field);
		} else if (opts[i].type == T_LIST) {
			char **list = *(char ***)field;
			size_t *n = (size_t *)((char *)field + sizeof(char **));
			for (size_t j = 0; j < *n; j++)
				free(list[j]);
			free(list);
		}
	}
	free(c->set);
	free(c->from_env);
	memset(c, 0, sizeof(*c));
}

void config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	for (size_t i = 0; i < N_OPTS; i++) {
		void *field = (char *)dst + opts[i].offset;
		if (!first_of_field(i))
			continue;
		if (opts[i].type == T_STRING || opts[i].type == T_CHOICE) {
			char **s = field;
			if (*s)
				*s = xstrdup(*s);
		} else if (opts[i].type == T_LIST) {
			char ***list = field;
			size_t n = *(size_t *)((char *)field + sizeof(char **));
			if (!*list)
				continue;
			char **copy = xcalloc(n ? n : 1, sizeof(*copy));
			for (size_t j = 0; j < n; j++)
				copy[j] = xstrdup((*list)[j]);
			*list = copy;
		}
	}
	dst->set = xcalloc(N_OPTS, sizeof(bool));
	memcpy(dst->set, src->set, N_OPTS * sizeof(bool));
	dst->from_env = xcalloc(N_OPTS, sizeof(bool));
	memcpy(dst->from_env, src->from_env, N_OPTS * sizeof(bool));
}

bool parse_seconds(const char *s, int64_t *us)
{
	/* Decimal text only, converted exactly: 0.1 s is 100000 µs, not a
	 * binary approximation of it. */
	const char *p = s;
	int64_t whole = 0, frac = 0;
	int nfrac = 0;
	if (!*p)
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > INT64_C(9000000000))
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++, nfrac++)
			if (nfrac < 6)
				frac = frac * 10 + (*p - '0');
			else if (*p != '0')
				return false; /* finer than a microsecond */
		if (nfrac == 0)
			return false;
	}
	if (*p || p == s)
		return false;
	for (int i = nfrac < 6 ? nfrac : 6; i < 6; i++)
		frac *= 10;
	*us = whole * USEC_PER_SEC + frac;
	return true;
}

static bool parse_uint(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > 100000000)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	if (!*s)
		return false;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* gen's seconds: a number with an optional s / m / h suffix, into
 * microseconds (rounded), in [0, 1e9] s. */
static bool parse_suffixed_seconds(const char *s, bool allow_zero, int64_t *us)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	double unit = 1.0;
	if (end != s && *end && !end[1]) {
		if (*end == 's')
			unit = 1.0, end++;
		else if (*end == 'm')
			unit = 60.0, end++;
		else if (*end == 'h')
			unit = 3600.0, end++;
	}
	v *= unit;
	if (!s[0] || end == s || *end || errno || !isfinite(v) || v < 0 || (!allow_zero && v == 0) ||
	    v > 1e9)
		return false;
	*us = (int64_t)(v * 1e6 + 0.5);
	return true;
}

static bool set_value(struct config *c, const struct opt *o, const char *value, const char *origin,
                      struct error *err)
{
	void *field = (char *)c + o->offset;
	switch (o->type) {
	case T_COUNT: {
		const struct bounds *r = bounds_of(o);
		char *end;
		errno = 0;
		unsigned long long v = 0;
		bool ok = value[0] && value[0] != '-' && value[0] != '+' && value[0] != ' ';
		if (ok)
			v = strtoull(value, &end, 10);
		if (!ok || errno || *end || v < r->umin || v > r->umax) {
			error_set(err, "%s: '%s' is not valid; expected an integer from %" PRIu64 " to %" PRIu64,
			          origin, value, r->umin, r->umax);
			return false;
		}
		*(uint64_t *)field = (uint64_t)v;
		return true;
	}
	case T_RANGE: {
		const struct bounds *r = bounds_of(o);
		char *end;
		errno = 0;
		double v = strtod(value, &end);
		if (!value[0] || end == value || *end || errno || !isfinite(v) || v > r->hi || v < r->lo ||
		    ((o->flags & MIN_OPEN) && v == r->lo)) {
			error_set(err, "%s: '%s' is not valid; expected %s", origin, value, r->expect);
			return false;
		}
		*(double *)field = v;
		return true;
	}
	case T_GSECONDS: {
		int64_t us;
		bool positive = o->flags & MIN_OPEN;
		if (!parse_suffixed_seconds(value, !positive, &us)) {
			error_set(err, "%s: '%s' is not valid; expected %s seconds (a number, optionally with "
			          "a suffix s, m or h)", origin, value,
			          positive ? "a positive number of" : "0 or more");
			return false;
		}
		*(int64_t *)field = us;
		return true;
	}
	case T_SECONDS:
	case T_SECONDS0: {
		int64_t us;
		if (!parse_seconds(value, &us) || (o->type == T_SECONDS && us == 0)) {
			error_set(err, "%s: expected %s number of seconds such as 10 or 0.5, got '%s'",
			          origin, o->type == T_SECONDS ? "a positive" : "a", value);
			return false;
		}
		*(int64_t *)field = us;
		return true;
	}
	case T_UINT:
	case T_POSUINT: {
		unsigned v;
		if (!parse_uint(value, &v) || (o->type == T_POSUINT && v == 0)) {
			error_set(err, "%s: expected a%s whole number, got '%s'", origin,
			          o->type == T_POSUINT ? " positive" : "", value);
			return false;
		}
		*(unsigned *)field = v;
		return true;
	}
	case T_DOUBLE:
	case T_POSDOUBLE: {
		double v;
		if (!parse_double(value, &v) || (o->type == T_POSDOUBLE && v <= 0)) {
			error_set(err, "%s: expected a%s number, got '%s'", origin,
			          o->type == T_POSDOUBLE ? " positive" : "", value);
			return false;
		}
		*(double *)field = v;
		return true;
	}
	case T_FLAG:
		/* The same two words everywhere: command line, config file, grid. */
		if (!strcmp(value, "true")) {
			*(bool *)field = true;
		} else if (!strcmp(value, "false")) {
			*(bool *)field = false;
		} else {
			error_set(err, "%s: expected true or false, got '%s'", origin, value);
			return false;
		}
		return true;
	case T_CHOICE: {
		size_t n = strlen(value);
		const char *p = o->choices;
		bool ok = false;
		while (*p && !ok) {
			size_t len = strcspn(p, "|");
			ok = len == n && !strncmp(p, value, n);
			p += len + (p[len] == '|');
		}
		if (!ok) {
			error_set(err, "%s: expected one of %s, got '%s'", origin, o->choices, value);
			return false;
		}
	}
		/* fall through */
	case T_STRING:
		if (!*value) {
			error_set(err, "%s: expected a value, got an empty string", origin);
			return false;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return true;
	case T_LIST: {
		char ***list = field;
		size_t *n = (size_t *)((char *)field + sizeof(char **));
		*list = xrealloc(*list, (*n + 1) * sizeof(**list));
		(*list)[(*n)++] = xstrdup(value);
		return true;
	}
	}
	return false;
}

bool config_set(struct config *c, unsigned mask, const char *name, const char *value,
                const char *origin, struct error *err)
{
	const struct opt *o = find_opt(name, mask);
	if (!o) {
		error_set(err, "%s: unknown option \"%s\"", origin, name);
		return false;
	}
	if (!set_value(c, o, value, origin, err))
		return false;
	c->set[o - opts] = true;
	return true;
}

bool config_given(const struct config *c, unsigned mask, const char *name)
{
	const struct opt *o = find_opt(name, mask);
	return o && c->set[o - opts];
}

bool config_from_env(const struct config *c, unsigned mask, const char *name)
{
	const struct opt *o = find_opt(name, mask);
	return o && c->from_env[o - opts];
}

bool config_is_tunable(const char *name)
{
	const struct opt *o = find_opt(name, CMD_CORE);
	return o && (o->flags & TUNABLE);
}

size_t config_tunable_names(const char **names, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!(opts[i].flags & TUNABLE))
			continue;
		if (n < max)
			names[n] = opts[i].name;
		n++;
	}
	return n;
}

char *config_value_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_true(v))
		return xstrdup("true");
	if (json_is_false(v))
		return xstrdup("false");
	if (json_is_integer(v))
		return json_dumps(v, JSON_ENCODE_ANY);
	if (json_is_real(v)) {
		/* The shortest text that reads back as the same double, without an
		 * exponent when one can do: 0.1, not 0.10000000000000001, and 10,
		 * not 1e+01, which a duration in microseconds rejects. */
		double d = json_real_value(v);
		char text[40];
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(text, sizeof(text), "%.*g", prec, d);
			if (strtod(text, NULL) == d && !strchr(text, 'e'))
				return xstrdup(text);
		}
		snprintf(text, sizeof(text), "%.17g", d);
		return xstrdup(text);
	}
	return NULL;
}

bool config_set_json(struct config *c, unsigned mask, json_t *obj, const char *origin,
                     struct error *err)
{
	const char *key;
	json_t *v;
	if (!json_is_object(obj)) {
		error_set(err, "%s: expected a JSON object of options, such as {\"threshold\": 3.5}",
		          origin);
		return false;
	}
	json_object_foreach(obj, key, v) {
		char where[600];
		snprintf(where, sizeof(where), "%s: \"%s\"", origin, key);
		const struct opt *o = find_opt(key, mask);
		if (!o || !strcmp(key, "config")) {
			error_set(err, "%s: unknown option \"%s\" (see --help for the option names)", origin,
			          key);
			return false;
		}
		if (o->type == T_LIST && json_is_array(v)) {
			size_t i;
			json_t *item;
			json_array_foreach(v, i, item) {
				char *text = config_value_text(item);
				bool ok = text && config_set(c, mask, key, text, where, err);
				if (!text)
					error_set(err, "%s: expected strings in the array", where);
				free(text);
				if (!ok)
					return false;
			}
			continue;
		}
		/* Strict: a number is a JSON number, a switch true or false, a
		 * name a string ("60" or 1 where the other is meant is a slip
		 * worth stopping for). */
		const char *want = NULL;
		switch (o->type) {
		case T_FLAG: want = json_is_boolean(v) ? NULL : "true or false"; break;
		case T_STRING:
		case T_CHOICE:
		case T_LIST: want = json_is_string(v) ? NULL : "a string"; break;
		default: want = json_is_number(v) ? NULL : "a number"; break;
		}
		if (want) {
			error_set(err, "%s: expected %s, got %s", where, want,
			          json_is_string(v) ? "a string" : json_is_boolean(v) ? "a boolean"
			          : json_is_number(v) ? "a number" : json_is_null(v) ? "null"
			          : "an array or object");
			return false;
		}
		char *text = config_value_text(v);
		if (!text) {
			error_set(err, "%s: expected a string, number or boolean", where);
			return false;
		}
		bool ok = config_set(c, mask, key, text, where, err);
		free(text);
		if (!ok)
			return false;
	}
	return true;
}

/* "PATH:LINE" of the first line of path that holds "key" as a key, for
 * messages about a value (jansson keeps no positions once parsed). */
static void key_origin(const char *path, const char *key, char *out, size_t n)
{
	snprintf(out, n, "config file %s", path);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	char pat[300];
	snprintf(pat, sizeof(pat), "\"%.250s\"", key);
	for (int no = 1; getline(&line, &cap, f) > 0; no++) {
		char *at = strstr(line, pat);
		if (at && strchr(at + strlen(pat), ':')) {
			snprintf(out, n, "config file %s:%d", path, no);
			break;
		}
	}
	free(line);
	fclose(f);
}

static bool load_file(struct config *c, unsigned mask, const char *path, struct error *err)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0)
			error_set(err, "config file %s: %s", path, jerr.text);
		else
			error_set(err, "config file %s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return false;
	}
	/* One key at a time, so that a bad value names its line. */
	bool ok = json_is_object(root);
	if (!ok)
		error_set(err, "config file %s: expected a JSON object of options, such as "
		               "{\"threshold\": 3.5}", path);
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (!ok)
			break;
		char origin[700];
		key_origin(path, key, origin, sizeof(origin));
		json_t *one = json_object();
		json_object_set(one, key, v);
		ok = config_set_json(c, mask, one, origin, err);
		json_decref(one);
	}
	json_decref(root);
	return ok;
}

void option_problem(char *buf, size_t n, int ch, char **argv, const struct option *longopts)
{
	/* glibc has moved optind past a long option (and past a short one
	 * that ended its word), but not past a short one inside a cluster
	 * such as -qZ: the word that holds it is the one that starts with
	 * "--" or contains optopt. */
	const char *word = optind > 0 ? argv[optind - 1] : NULL;
	bool is_long = word && !strncmp(word, "--", 2) && word[2];
	if (is_long && optopt > 0) {
		/* A long option whose val is a character: is it the one typed? */
		size_t len = strcspn(word + 2, "=");
		bool match = false;
		for (const struct option *o = longopts; o->name && !match; o++)
			match = o->val == optopt && !strncmp(o->name, word + 2, len);
		is_long = match;
	}
	if (is_long) {
		int len = (int)strcspn(word, "=");
		if (ch == ':')
			snprintf(buf, n, "option '%.*s' needs a value", len, word);
		else if (optopt > 0 && word[len] == '=')
			snprintf(buf, n, "option '%.*s' takes no value", len, word);
		else
			snprintf(buf, n, "unknown option '%.*s'", len > 100 ? 100 : len, word);
	} else if (ch == ':') {
		snprintf(buf, n, "option '-%c' needs a value", optopt);
	} else if (optopt > 0 && optopt < 256) {
		snprintf(buf, n, "unknown option '-%c'", optopt);
	} else {
		snprintf(buf, n, "unknown option '%.100s'", word ? word : "");
	}
}

/* Seconds in microseconds as decimal text, exactly: "60", "0.5". */
static void seconds_text(char *buf, size_t n, int64_t us)
{
	int len = snprintf(buf, n, "%" PRId64 ".%06" PRId64, us / USEC_PER_SEC, us % USEC_PER_SEC);
	while (len > 0 && buf[len - 1] == '0')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';
}

/* The shortest text of v that reads back as v: 3, 0.1, 0.016666666666666666. */
static void double_text(char *buf, size_t n, double v)
{
	if (v == trunc(v) && fabs(v) < 1e15) { /* 30, not 3e+01 */
		snprintf(buf, n, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/*
 * The default of option o as --help shows it, into buf[0..n): its
 * default_text, or the value config_init() gave its field in d (seconds as
 * seconds, numbers as the shortest text that reads back, a switch that is
 * on as "on", strings as they are).  False when there is none to show: an
 * OPTIONAL option, a list, an unset string, a switch that is off.
 */
static bool default_text(const struct opt *o, const struct config *d, char *buf, size_t n)
{
	const void *field = (const char *)d + o->offset;
	if (o->default_text) {
		snprintf(buf, n, "%s", o->default_text);
		return true;
	}
	if (o->flags & DERIVED)
		abort(); /* a default computed from other options must be described */
	if (o->flags & OPTIONAL)
		return false;
	switch (o->type) {
	case T_SECONDS:
	case T_SECONDS0:
	case T_GSECONDS:
		seconds_text(buf, n, *(const int64_t *)field);
		return true;
	case T_UINT:
	case T_POSUINT:
		snprintf(buf, n, "%u", *(const unsigned *)field);
		return true;
	case T_COUNT:
		snprintf(buf, n, "%" PRIu64, *(const uint64_t *)field);
		return true;
	case T_DOUBLE:
	case T_POSDOUBLE:
	case T_RANGE:
		double_text(buf, n, *(const double *)field);
		return true;
	case T_FLAG:
		snprintf(buf, n, "on");
		return *(const bool *)field;
	case T_STRING:
	case T_CHOICE: {
		const char *s = *(char *const *)field;
		if (s)
			snprintf(buf, n, "%s", s);
		return s != NULL;
	}
	case T_LIST:
		break;
	}
	return false;
}

static void print_help(const struct command_help *cmd)
{
	/* The defaults shown are those of a fresh configuration, so the help
	 * cannot disagree with what a run without options uses. */
	struct config d;
	config_init(&d);
	printf("Usage: telemetra %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->synopsis, cmd->summary);
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		if (!(o->commands & cmd->mask))
			continue;
		char left[80];
		int n = snprintf(left, sizeof(left), "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
		                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
		                 o->arg ? "=" : "", o->arg ? o->arg : "");
		if (n > 34)
			printf("%s\n%-36s", left, "");
		else
			printf("%-36s", left);
		printf("%s", o->help);
		char def[128];
		if (default_text(o, &d, def, sizeof(def)))
			printf(" (default %s)", def);
		if (o->env)
			printf(" [env %s]", o->env);
		putchar('\n');
	}
	printf("  -h, --help                        print this help and exit\n"
	       "  -V, --version                     print the version and exit\n\n"
	       "Precedence: command line > environment > --config file > defaults.\n"
	       "Exit status: 0 success, 1 runtime error, 2 usage or configuration error.\n"
	       "See telemetra(1) for details.\n");
	config_free(&d);
}

int config_load(struct config *c, const struct command_help *cmd, int argc, char **argv)
{
	enum { OPT_HELP = 1000, OPT_VERSION, FIRST_OPT };
	/* Every switch NAME also has --no-NAME (FIRST_OPT + N_OPTS + i), which
	 * sets it false: a default that is on can be turned off. */
	const int FIRST_NO = FIRST_OPT + (int)N_OPTS;
	struct option *longopts = xcalloc(2 * N_OPTS + 3, sizeof(*longopts));
	char **no_names = xcalloc(N_OPTS, sizeof(*no_names));
	char shortopts[64] = ":hV"; /* leading colon: a missing value is ch ':' */
	size_t n = 0;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!(opts[i].commands & cmd->mask))
			continue;
		/* A switch also takes --x=true|false (optional_argument: only in
		 * the attached form, so `--x FILE` still leaves FILE alone). */
		longopts[n++] = (struct option){opts[i].name,
		                                opts[i].type == T_FLAG ? optional_argument
		                                                       : required_argument,
		                                NULL, FIRST_OPT + (int)i};
		if (opts[i].type == T_FLAG && strncmp(opts[i].name, "no-", 3)) {
			size_t len = strlen(opts[i].name) + 4;
			no_names[i] = xcalloc(len, 1);
			snprintf(no_names[i], len, "no-%s", opts[i].name);
			longopts[n++] = (struct option){no_names[i], no_argument, NULL, FIRST_NO + (int)i};
		}
		if (opts[i].short_name) {
			size_t l = strlen(shortopts);
			shortopts[l] = (char)opts[i].short_name;
			shortopts[l + 1] = opts[i].type == T_FLAG ? '\0' : ':';
			shortopts[l + 2] = '\0';
		}
	}
	longopts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};

	/* First pass: collect; values are applied after the config file and
	 * the environment, which they override. */
	struct pending {
		const struct opt *o;
		const char *value;
	} *pending = xcalloc((size_t)argc + 1, sizeof(*pending));
	size_t n_pending = 0;
	const char *config_path = NULL;
	enum { GO_ON, WANT_HELP, WANT_VERSION, BAD_OPTION } outcome = GO_ON;
	char problem[256] = "";
	int ch;
	/* The loop only records what it sees; help, version and errors are
	 * acted on after the option tables are freed. */
	opterr = 0;
	optind = 1;
	while (outcome == GO_ON && (ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct opt *o = NULL;
		if (ch == 'h' || ch == OPT_HELP) {
			outcome = WANT_HELP;
		} else if (ch == OPT_VERSION || ch == 'V') {
			outcome = WANT_VERSION;
		} else if (ch == '?' || ch == ':') {
			outcome = BAD_OPTION;
			if (optopt && optopt < FIRST_OPT)
				option_problem(problem, sizeof(problem), ch, argv, longopts);
			else if (optopt >= FIRST_NO)
				snprintf(problem, sizeof(problem), "option '--no-%s' takes no value",
				         opts[optopt - FIRST_NO].name);
			else if (optopt >= FIRST_OPT)
				snprintf(problem, sizeof(problem), "option '--%s' needs a value (%s)",
				         opts[optopt - FIRST_OPT].name, opts[optopt - FIRST_OPT].arg);
			else
				option_problem(problem, sizeof(problem), ch, argv, longopts);
		} else {
			bool negated = ch >= FIRST_NO;
			if (negated) {
				o = &opts[ch - FIRST_NO];
			} else if (ch >= FIRST_OPT) {
				o = &opts[ch - FIRST_OPT];
			} else {
				for (size_t i = 0; i < N_OPTS && !o; i++)
					if (opts[i].short_name == ch && (opts[i].commands & cmd->mask))
						o = &opts[i];
			}
			if (!strcmp(o->name, "config"))
				config_path = optarg;
			const char *value = optarg;
			if (o->type == T_FLAG && negated)
				value = "false";
			else if (o->type == T_FLAG && !optarg)
				value = "true";
			else if (o->type == T_FLAG && strcmp(optarg, "true") && strcmp(optarg, "false")) {
				outcome = BAD_OPTION;
				snprintf(problem, sizeof(problem),
				         "option '--%s' takes true or false after '=', got '%.100s'", o->name,
				         optarg);
				break;
			}
			pending[n_pending++] = (struct pending){o, value};
		}
	}
	free(longopts);
	for (size_t i = 0; i < N_OPTS; i++)
		free(no_names[i]);
	free(no_names);
	if (outcome != GO_ON)
		free(pending);
	if (outcome == WANT_HELP) {
		print_help(cmd);
		config_free(c);
		exit(EXIT_OK);
	}
	if (outcome == WANT_VERSION) {
		print_version();
		config_free(c);
		exit(EXIT_OK);
	}
	if (outcome == BAD_OPTION)
		die_usage("%s", problem);

	struct error err;
	if (config_path && !load_file(c, cmd->mask, config_path, &err))
		die_usage("%s", err.msg);
	for (size_t i = 0; i < N_OPTS; i++) {
		const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
		if (!v || !*v || !(opts[i].commands & cmd->mask))
			continue;
		bool on_command_line = false;
		for (size_t j = 0; j < n_pending && (opts[i].flags & ENV_IF_UNSET); j++)
			on_command_line = on_command_line || pending[j].o == &opts[i];
		if (on_command_line)
			continue;
		if (!config_set(c, cmd->mask, opts[i].name, v, opts[i].env, &err))
			die_usage("%s", err.msg);
		c->from_env[i] = true;
	}
	for (size_t i = 0; i < n_pending; i++) {
		char origin[64];
		snprintf(origin, sizeof(origin), "--%s", pending[i].o->name);
		if (!config_set(c, cmd->mask, pending[i].o->name, pending[i].value, origin, &err))
			die_usage("%s", err.msg);
		c->from_env[pending[i].o - opts] = false;
	}
	free(pending);
	return optind;
}

static bool read_text_file(const char *path, char **data, size_t *len, struct error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		error_set(err, "cannot open %s: %s", path, strerror(errno));
		return false;
	}
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		error_set(err, "cannot read %s", path);
		buf_free(&b);
		return false;
	}
	*len = b.len;
	*data = buf_detach(&b);
	return true;
}

static bool add_lexicon(struct lexicon *lex, enum polarity pol, const char *path,
                        const char *builtin, const char *builtin_name, struct error *err)
{
	if (!path)
		return lexicon_add_list(lex, pol, builtin, strlen(builtin), builtin_name, err);
	char *text;
	size_t len;
	if (!read_text_file(path, &text, &len, err))
		return false;
	bool ok = lexicon_add_list(lex, pol, text, len, path, err);
	free(text);
	return ok;
}

static bool is_set(const struct config *c, const char *name)
{
	const struct opt *o = find_opt(name, CMD_CORE | CMD_LIVE | CMD_TUNE | CMD_REPLAY);
	return o && c->set[o - opts];
}

bool config_build_core(const struct config *c, struct core_config *core, struct lexicon **lexicon,
                       struct error *err)
{
	if (c->window_us % c->slide_us) {
		error_set(err,
		          "--window (%g s) must be a multiple of --slide (%g s); for tumbling windows give "
		          "both the same value",
		          (double)c->window_us / 1e6, (double)c->slide_us / 1e6);
		return false;
	}
	if (c->window_us / c->slide_us > 10000) {
		error_set(err, "--window / --slide is %" PRId64 " panes per window; at most 10000",
		          c->window_us / c->slide_us);
		return false;
	}
	unsigned min_history = is_set(c, "min-history") ? c->min_history : c->history;
	if (min_history > c->history) {
		error_set(err, "--min-history (%u) cannot exceed --history (%u)", min_history, c->history);
		return false;
	}

	memset(core, 0, sizeof(*core));
	/* only the metric that reads them pays for the chatters' last messages */
	core->window = (struct window_config){c->window_us, c->slide_us, c->top_k,
	                                      !strcmp(c->metric, "fresh-emoters") ? c->fresh_us : 0};
	core->watermark_delay_us = c->delay_us;
	core->chat_topic = c->chat_topic;
	core->viewer_topic = c->viewer_topic;
	core->detect.merge = c->merge;
	core->detect.method = strcmp(c->detector, "seed") ? DETECT_PANE : DETECT_SEED;
	core->detect.window_panes = (unsigned)(c->window_us / c->slide_us);
	core->detect.slide_us = c->slide_us;
	if (core->detect.method == DETECT_PANE) {
		/* Spans in panes of the slide, rounded down, at least one. */
		int64_t h = c->baseline_us / c->slide_us, mh = c->min_baseline_us / c->slide_us;
		if (h > 100000) {
			error_set(err, "--baseline / --slide is %" PRId64 " panes; at most 100000", h);
			return false;
		}
		if (c->min_baseline_us > c->baseline_us) {
			error_set(err, "--min-baseline (%g s) cannot exceed --baseline (%g s)",
			          (double)c->min_baseline_us / 1e6, (double)c->baseline_us / 1e6);
			return false;
		}
		if (!(c->dispersion > 0) || c->dispersion > 100) {
			error_set(err, "--dispersion must be above 0 and at most 100, got %g",
			          c->dispersion);
			return false;
		}
		if (!(c->min_fano >= 1) || c->min_fano > 100) {
			error_set(err, "--min-fano must be at least 1 (Poisson) and at most 100, got %g",
			          c->min_fano);
			return false;
		}
		if (!(c->fence >= 0) || c->fence > 100) {
			error_set(err, "--fence must be at least 0 and at most 100 IQRs, got %g", c->fence);
			return false;
		}
		core->detect.pane = (struct pane_config){
			.metric = !strcmp(c->metric, "fresh-emoters")    ? METRIC_FRESH_EMOTERS
			          : !strcmp(c->metric, "emote-chatters") ? METRIC_EMOTE_CHATTERS
			          : !strcmp(c->metric, "chatters")     ? METRIC_CHATTERS
			                                               : METRIC_MESSAGES,
			.history = h < 1 ? 1 : (unsigned)h,
			.min_history = mh < 1 ? 1 : (unsigned)mh,
			.dispersion = c->dispersion,
			.min_excess = c->min_excess,
			.min_fano = c->min_fano,
			.fence = c->fence,
			.fresh_us = c->fresh_us,
			.long_span = c->long_span_us / c->slide_us < 1
			                     ? 1
			                     : (unsigned)(c->long_span_us / c->slide_us),
		};
		if (c->long_span_us / c->slide_us > 1000) {
			error_set(err, "--long-span / --slide is at most 1000 panes");
			return false;
		}
	}

	struct detector_config *d = core->detect.det;
	d[DETECTOR_CHAT_SPIKE] = (struct detector_config){
		.enabled = true,
		.history = c->history,
		.min_history = min_history,
		/* One message per window, in messages per second. */
		.min_stddev = is_set(c, "min-stddev") ? c->min_stddev
		                                      : (double)USEC_PER_SEC / (double)c->window_us,
		.threshold = c->threshold,
	};
	d[DETECTOR_VIEWER_SURGE] = d[DETECTOR_CHAT_SPIKE];
	d[DETECTOR_VIEWER_SURGE].enabled = is_set(c, "viewer-surge");
	d[DETECTOR_VIEWER_SURGE].threshold = c->viewer_surge_threshold;
	d[DETECTOR_VIEWER_SURGE].min_stddev = c->viewer_surge_min_stddev;
	d[DETECTOR_SENTIMENT_DROP] = d[DETECTOR_CHAT_SPIKE];
	d[DETECTOR_SENTIMENT_DROP].enabled = is_set(c, "sentiment-drop");
	d[DETECTOR_SENTIMENT_DROP].threshold = c->sentiment_drop_threshold;
	d[DETECTOR_SENTIMENT_DROP].min_stddev = c->sentiment_drop_min_stddev;

	struct lexicon *lex = lexicon_new();
	if (!add_lexicon(lex, POLARITY_POSITIVE, c->lexicon_positive, lexicon_default_positive,
	                 "default positive lexicon", err) ||
	    !add_lexicon(lex, POLARITY_NEGATIVE, c->lexicon_negative, lexicon_default_negative,
	                 "default negative lexicon", err)) {
		lexicon_free(lex);
		return false;
	}
	*lexicon = lex;
	core->lexicon = lex;
	return true;
}

json_t *config_to_json(const struct config *c, unsigned mask, bool tunable_only)
{
	json_t *obj = json_object();
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		const void *field = (const char *)c + o->offset;
		if (!(o->commands & mask) || !strcmp(o->name, "config") ||
		    (tunable_only && !(o->flags & TUNABLE)) ||
		    ((o->flags & (OPTIONAL | DERIVED)) && !c->set[i]))
			continue;
		if (o->flags & SECRET) {
			/* URLs may embed a password: keep them, redacted. */
			const char *v = *(char *const *)field;
			if (v && strcmp(o->name, "postgres-password")) {
				char *r = redact_secrets(v);
				json_object_set_new(obj, o->name, json_string(r));
				free(r);
			}
			continue;
		}
		json_t *v = NULL;
		switch (o->type) {
		case T_SECONDS:
		case T_SECONDS0: {
			int64_t us = *(const int64_t *)field;
			v = us % USEC_PER_SEC ? json_real((double)us / 1e6) : json_integer(us / USEC_PER_SEC);
			break;
		}
		case T_UINT:
		case T_POSUINT:
			v = json_integer(*(const unsigned *)field);
			break;
		case T_GSECONDS: {
			int64_t us = *(const int64_t *)field;
			v = us % USEC_PER_SEC ? json_real((double)us / 1e6) : json_integer(us / USEC_PER_SEC);
			break;
		}
		case T_COUNT: /* JSON integers are signed */
			v = json_integer((json_int_t)*(const uint64_t *)field);
			break;
		case T_RANGE:
			v = json_real(*(const double *)field);
			break;
		case T_DOUBLE:
		case T_POSDOUBLE:
			v = json_real(*(const double *)field);
			break;
		case T_FLAG:
			v = json_boolean(*(const bool *)field);
			break;
		case T_STRING:
		case T_CHOICE: {
			const char *s = *(char *const *)field;
			v = s ? json_string(s) : NULL;
			break;
		}
		case T_LIST: {
			char *const *list = *(char **const *)field;
			size_t n = *(const size_t *)((const char *)field + sizeof(char **));
			if (!n)
				break;
			v = json_array();
			for (size_t j = 0; j < n; j++)
				json_array_append_new(v, json_string(list[j]));
			break;
		}
		}
		if (v)
			json_object_set_new(obj, o->name, v);
	}
	/* Defaults that depend on other options, resolved — except in a config
	 * file meant to be reused (tunable_only), where an explicit 1/W would
	 * stop following the window if someone edited it. */
	if ((mask & CMD_CORE) && !tunable_only && !is_set(c, "min-history"))
		json_object_set_new(obj, "min-history", json_integer(c->history));
	if ((mask & CMD_CORE) && !tunable_only && !is_set(c, "min-stddev"))
		json_object_set_new(obj, "min-stddev",
		                    json_real((double)USEC_PER_SEC / (double)c->window_us));
	return obj;
}
