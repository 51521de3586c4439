/*
 * telemetra replay — the core over recorded event files, into SQLite.
 *
 * Deterministic: the output rows are a pure function of the input lines, in
 * order, and the configuration.  The output file is built beside the target
 * and swapped in only when the run succeeds, so a failed run leaves the
 * previous output untouched.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/engine.h"
#include "io/input.h"
#include "io/kafka_range.h"
#include "io/lanescan.h"
#include "io/pipeline.h"
#include "io/writer.h"
#include "io/scratch.h"
#include "io/sink.h"
#include "io/sqlite_file.h"
#include "io/target.h"
#include "util/clock.h"
#include "cli/options.h"
#include "util/log.h"
#include "util/new_file.h"
#include "util/summary.h"

static const struct command_help help = {
	"replay",
	CMD_REPLAY,
	"[OPTIONS] FILE...",
	"Run the processing core over recorded event files (JSON Lines, optionally\n"
	"gzip-compressed; - for standard input), in the order given, and write window\n"
	"rows, moments and dead letters to SQLite. Bare events, capture envelopes and\n"
	"control records may be mixed. The result is deterministic: the same input and\n"
	"options give the same rows (see `telemetra dump`).",
};

struct replay {
	struct config cfg;
	struct input **inputs;
	size_t n_inputs;
	struct sink *sink;
	struct engine *engine;
	struct run_info run;
	double started;
	uint64_t total_bytes; /* of the inputs whose size is known; 0 if any is a pipe */
	struct lane_set lanes; /* named by the files, found before reading them */
	struct kafka_range *kafka; /* --kafka: the range read instead of files */
	struct writer *writer; /* --threads 2: the sink's rows on their own thread */
};

/* Why the sink failed: with a writer thread, once it has stopped writing. */
static const char *sink_error(struct replay *r)
{
	if (r->writer)
		writer_drain(r->writer);
	return r->sink->err.msg;
}

#define KAFKA_TIMEOUT_MS 15000
/* How many decoded lines ahead of the engine replay --threads 2 starts
 * each one's table lookups (engine_prefetch); measured in doc/decisions.md. */
#define PREFETCH_AHEAD 8

/* --kafka: every partition of the range is a lane open from the start (as
 * a capture of the range has a lane_open record for each), then every
 * message in the order read.  Returns an exit status. */
static int replay_kafka(struct replay *r)
{
	size_t n;
	const struct kafka_range_part *parts = kafka_range_parts(r->kafka, &n);
	for (size_t i = 0; i < n; i++)
		if (engine_lane_open(r->engine, sv_make(parts[i].topic, strlen(parts[i].topic)),
		                     parts[i].partition)) {
			log_error("%s", sink_error(r));
			return EXIT_RUNTIME;
		}
	struct kafka_message m;
	struct error err;
	int got;
	while ((got = kafka_range_next(r->kafka, &m, KAFKA_TIMEOUT_MS, &err)) > 0)
		if (engine_message(r->engine, m.topic, m.partition, m.offset, m.payload, m.len)) {
			log_error("%s", sink_error(r));
			return EXIT_RUNTIME;
		}
	if (got < 0) {
		log_error("%s", err.msg);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static void notice(void *ctx, const char *msg)
{
	(void)ctx;
	log_warn("%s", msg);
}


/* "replay: 42% of 3 files, 0:12 elapsed, ETA 0:16 | file 2 line ... ": the
 * percentage is over all inputs; with a pipe among them, bytes read. */
static void progress(struct replay *r, const char *path, int64_t line_no, uint64_t done)
{
	const struct engine_stats *st = engine_stats(r->engine);
	double elapsed = monotonic_seconds() - r->started;
	char head[96];
	log_progress_bytes_head(head, sizeof(head), done, r->total_bytes, elapsed);
	log_progress("replay: %s | %s line %" PRId64 " | %" PRIu64 " records, %.2f M/s, %" PRIu64
	             " windows, %" PRIu64 " moments",
	             head, path, line_no, st->records,
	             elapsed > 0 ? (double)st->records / elapsed / 1e6 : 0.0, st->windows, st->moments);
}

static bool is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* What the file at st is, for messages. */
static const char *file_kind(const struct stat *st)
{
	return S_ISDIR(st->st_mode)    ? "a directory"
	       : S_ISLNK(st->st_mode)  ? "a symbolic link"
	       : S_ISFIFO(st->st_mode) ? "a FIFO"
	       : S_ISCHR(st->st_mode)  ? "a character device"
	       : S_ISBLK(st->st_mode)  ? "a block device"
	       : S_ISSOCK(st->st_mode) ? "a socket"
	                               : "not a regular file";
}

/*
 * replay writes a SQLite file at `path` and, unless --append, renames it
 * over whatever is there.  It may replace only what it was asked to: a
 * path that is not a regular file, or is one of the inputs, is refused
 * (exit 2) in every mode; a file that is not a telemetra database (an
 * empty file is nothing to lose) is refused unless --force.  A directory
 * that cannot be written is said now, not after a long run (exit 1).
 */
static bool check_output(const struct replay *r, const char *path, char **names)
{
	struct stat st;
	bool exists = lstat(path, &st) == 0;
	if (exists) {
		if (!S_ISREG(st.st_mode))
			die_usage("output %s is %s, which replay would replace with a SQLite file; give "
			          "another output",
			          path, file_kind(&st));
		new_file_refuse_input(path, (const char *const *)names, r->n_inputs);
		bool ours = false;
		struct error err;
		if (st.st_size > 0 && !sqlite_is_telemetra(path, &ours, &err))
			ours = false;
		if (!ours)
			new_file_refuse_replace(path, "output", "is not a telemetra database", "replay",
			                        r->cfg.append ? "add to" : "replace", r->cfg.force);
	} else if (errno != ENOENT) {
		log_error("cannot use output %s: %s", path, strerror(errno));
		exit(EXIT_RUNTIME);
	}
	struct error err;
	if (!new_file_possible(path, &err)) {
		log_error("output: %s", err.msg);
		exit(EXIT_RUNTIME);
	}
	return exists;
}

/* Feed one file; returns an exit status. */
static int replay_file(struct replay *r, size_t i)
{
	struct input *in = r->inputs[i];
	struct input_info info;
	input_info(in, &info);
	struct strview source = sv_make(info.path, strlen(info.path));
	struct input_line line;
	struct error err;
	int got;
	bool show = !r->cfg.quiet && log_stderr_is_tty();

	while ((got = input_next(in, &line, &err)) > 0) {
		int rc;
		if (line.overlong) {
			char detail[160];
			snprintf(detail, sizeof(detail),
			         "line of %" PRIu64 " bytes is over the %d MiB limit; raw holds its first MiB",
			         line.full_len, INPUT_MAX_LINE >> 20);
			struct record_pos pos = {source, -1, line.number};
			rc = engine_reject(r->engine, &pos, DEAD_TOO_LARGE, detail, line.data, line.len);
		} else if (is_blank(line.data, line.len)) {
			continue; /* blank lines separate nothing and carry nothing */
		} else {
			rc = engine_line(r->engine, source, line.number, line.data, line.len);
		}
		if (rc) {
			log_error("%s", sink_error(r));
			return EXIT_RUNTIME;
		}
		if (show && (line.number & 0xFFFF) == 0) {
			uint64_t done = 0;
			for (size_t k = 0; k <= i; k++) {
				input_info(r->inputs[k], &info);
				done += info.raw_bytes;
			}
			progress(r, info.path, line.number, done);
		}
	}
	if (got == INPUT_DAMAGED) {
		/* Damage is data too: what came before it counts, the rest is one
		 * dead letter, and the run goes on (doc/decisions.md). */
		log_warn("%s; recorded as a dead letter (damaged_input)", err.msg);
		struct record_pos pos = {source, -1, line.number};
		if (engine_reject(r->engine, &pos, DEAD_DAMAGED_INPUT, err.msg, line.data, line.len)) {
			log_error("%s", sink_error(r));
			return EXIT_RUNTIME;
		}
	} else if (got < 0) {
		log_error("%s", err.msg);
		return EXIT_RUNTIME;
	}
	input_info(in, &info);
	if (info.zero_padding)
		log_warn("%s: %" PRIu64 " zero bytes after the gzip data ignored, as gzip(1) does",
		         info.path, info.zero_padding);
	return EXIT_OK;
}

/* --threads 2: every file through the pipeline (io/pipeline.h), whose
 * reader thread decodes what replay_file() decodes here, so that this
 * thread has only the engine and the sink left.  The same steps in the
 * same order as replay_file(), messages included.  Returns an exit
 * status. */
static int replay_pipelined(struct replay *r, const struct core_config *core)
{
	/* The inputs' paths as views (NUL-terminated: the inputs' own copies,
	 * which do not change), measured once rather than per line (strlen
	 * was 0.4 % of this thread). */
	struct strview *sources = xcalloc(r->n_inputs, sizeof(*sources));
	for (size_t i = 0; i < r->n_inputs; i++) {
		struct input_info info;
		input_info(r->inputs[i], &info);
		sources[i] = sv_make(info.path, strlen(info.path));
	}
	struct error err;
	struct pipeline *p = pipeline_start(r->inputs, r->n_inputs, core, &err);
	if (!p) {
		log_error("%s", err.msg);
		free(sources);
		return EXIT_RUNTIME;
	}
	bool show = !r->cfg.quiet && log_stderr_is_tty();
	int status = EXIT_OK;
	const struct pipeline_item *it;
	while (status == EXIT_OK && (it = pipeline_next(p))) {
		/* The lookups of the events a few lines on miss the caches with
		 * many chatters: start them now (issue 12). */
		const struct pipeline_item *ahead = pipeline_peek(p, PREFETCH_AHEAD);
		if (ahead && ahead->kind == PIPELINE_LINE)
			engine_prefetch(r->engine, &ahead->line);
		struct strview source = sources[it->file];
		struct record_pos pos = {source, -1, it->line_no};
		int rc = 0;
		switch (it->kind) {
		case PIPELINE_OVERLONG: {
			char detail[160];
			snprintf(detail, sizeof(detail),
			         "line of %" PRIu64 " bytes is over the %d MiB limit; raw holds its first MiB",
			         it->full_len, INPUT_MAX_LINE >> 20);
			rc = engine_reject(r->engine, &pos, DEAD_TOO_LARGE, detail, it->raw, it->raw_len);
			break;
		}
		case PIPELINE_LINE:
			rc = engine_decoded(r->engine, source, it->line_no, it->raw, it->raw_len, &it->line);
			break;
		case PIPELINE_END:
			if (it->status == INPUT_DAMAGED) {
				log_warn("%s; recorded as a dead letter (damaged_input)", it->message);
				rc = engine_reject(r->engine, &pos, DEAD_DAMAGED_INPUT, it->message, it->raw,
				                   it->raw_len);
			} else if (it->status < 0) {
				log_error("%s", it->message);
				status = EXIT_RUNTIME;
				continue;
			}
			if (!rc && it->zero_padding)
				log_warn("%s: %" PRIu64 " zero bytes after the gzip data ignored, as gzip(1) does",
				         sources[it->file].ptr, it->zero_padding);
			break;
		}
		if (rc) {
			log_error("%s", sink_error(r));
			status = EXIT_RUNTIME;
		} else if (show && it->progress) {
			progress(r, sources[it->file].ptr, it->line_no, it->done_bytes);
		}
	}
	pipeline_free(p);
	free(sources);
	return status;
}

int cmd_replay(int argc, char **argv)
{
	struct replay r = {0};
	struct error err;
	struct core_config core;
	struct lexicon *lexicon = NULL;
	int status = EXIT_RUNTIME;

	config_init(&r.cfg);
	scratch_signals_install("telemetra replay");
	int first = config_load(&r.cfg, &help, argc, argv);
	log_set_quiet(r.cfg.quiet);
	if (first >= argc && !r.cfg.kafka)
		die_usage("no input files; give one or more FILEs, or - for standard input");
	if (first < argc && r.cfg.kafka)
		die_usage("give either --kafka or input FILEs, not both");
	if ((r.cfg.range_from || r.cfg.range_to) && !r.cfg.kafka)
		die_usage("--from and --to bound a Kafka range: give --kafka BROKERS too");
	const char *kafka_topics[] = {r.cfg.chat_topic, r.cfg.viewer_topic};
	struct kafka_range_config krc = {
		.brokers = r.cfg.kafka, .topics = kafka_topics, .n_topics = 2,
		.properties = r.cfg.kafka_props, .n_properties = r.cfg.n_kafka_props,
		.from = r.cfg.range_from, .to = r.cfg.range_to,
	};
	if (r.cfg.kafka && !kafka_range_check(&krc, &err))
		die_usage("%s", err.msg);
	if (r.cfg.sink && r.cfg.output)
		die_usage("give either --output or --sink, not both");
	if (!config_build_core(&r.cfg, &core, &lexicon, &err))
		die_usage("%s", err.msg);
	struct target target = {0};
	if (r.cfg.sink) {
		if (!target_parse(&target, r.cfg.sink, &err))
			die_usage("--sink: %s", err.msg);
	} else {
		target.kind = TARGET_SQLITE;
		target.location = xstrdup(r.cfg.output ? r.cfg.output : DEFAULT_REPLAY_OUTPUT);
		target.shown = xstrdup(target.location);
	}

	if (r.cfg.append && r.cfg.replace)
		die_usage("give either --append or --replace, not both");

	/* Open every input first: a typo in the last name should not cost a
	 * long run. */
	r.n_inputs = (size_t)(argc - first);
	r.inputs = xcalloc(r.n_inputs, sizeof(*r.inputs));
	r.total_bytes = 0;
	bool sizes_known = true;
	for (size_t i = 0; i < r.n_inputs; i++) {
		r.inputs[i] = input_open(argv[first + (int)i], &err);
		if (!r.inputs[i]) {
			log_error("%s", err.msg);
			goto out;
		}
		struct input_info info;
		input_info(r.inputs[i], &info);
		sizes_known &= info.size_hint > 0 || lanescan_rescannable(info.path);
		r.total_bytes += info.size_hint;
	}
	if (!sizes_known)
		r.total_bytes = 0;
	/* --threads 2: the SHA-256 for runs.inputs on a thread of its own,
	 * from now on, while the lanes are scanned on this one. */
	if (r.cfg.threads >= 2)
		for (size_t i = 0; i < r.n_inputs; i++)
			input_hash_aside(r.inputs[i]);
	/* SPEC §7: the lanes the files name are open from the start. */
	if (!lanescan_files((const char *const *)argv + first, r.n_inputs, core.chat_topic,
	                    core.viewer_topic, r.cfg.threads, &r.lanes, &err)) {
		log_error("%s", err.msg);
		goto out;
	}

	bool existed = target.kind == TARGET_SQLITE && check_output(&r, target.location, argv + first);
	struct sink_options sopt = {.replace = !r.cfg.append, .one_transaction = true,
	                            .count_occurrences = true, .delete_rows = r.cfg.replace};
	r.sink = sink_open_target(&target, &sopt, &err);
	if (!r.sink) {
		log_error("%s", err.msg);
		goto out;
	}
	/* A SQLite output is a new file unless --append; PostgreSQL tables
	 * are shared, so rows already there are kept or replaced only when
	 * asked: merging two runs silently mixes their windowings. */
	const char *mode = r.cfg.append ? "append" : existed || r.cfg.replace ? "replace" : "new";
	if (target.kind == TARGET_POSTGRES && !r.cfg.append && !r.cfg.replace) {
		bool any;
		if (sink_has_rows(r.sink, &any)) {
			log_error("%s", sink_error(&r));
			goto out;
		}
		if (any)
			die_usage("%s already holds output rows; give --append to add to them (rows with "
			          "the same key are replaced) or --replace to replace them all in this "
			          "run's transaction",
			          r.sink->name);
	}
	if (r.cfg.kafka) {
		r.kafka = kafka_range_open(&krc, KAFKA_TIMEOUT_MS, &err);
		if (!r.kafka) {
			log_error("%s", err.msg);
			goto out;
		}
		if (kafka_range_size(r.kafka) == 0) {
			log_error("the Kafka range holds no message (--from %s --to %s); nothing replayed",
			          krc.from ? krc.from : "earliest", krc.to ? krc.to : "now");
			goto out;
		}
	}

	json_t *cfg_json = config_to_json(&r.cfg, CMD_REPLAY, false);
	char *cfg_text = json_dumps(cfg_json, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg_json);
	char *inputs_text = r.kafka ? kafka_range_json(r.kafka, r.cfg.kafka)
	                            : inputs_json(r.inputs, r.n_inputs);
	r.run = (struct run_info){.command = "replay", .mode = mode, .started_us = wall_clock_us(),
	                          .config_json = cfg_text, .inputs_json = inputs_text};
	int rc = run_log_begin(r.sink, &r.run);
	free(inputs_text);
	if (rc) {
		log_error("%s", sink_error(&r));
		free(cfg_text);
		goto out;
	}

	struct engine_output out = sink_engine_output(r.sink);
	/* --threads 2: SQLite's rows on a thread of their own (io/writer.h).
	 * PostgreSQL's sink already sends rows as the run goes, and was not
	 * measured on a writer thread. */
	if (r.cfg.threads >= 2 && r.n_inputs && target.kind == TARGET_SQLITE) {
		if (!(r.writer = writer_start(r.sink, &err))) {
			log_error("%s", err.msg);
			goto out_cfg;
		}
		out = writer_output(r.writer);
	}
	out.notice = notice;
	r.engine = engine_new(&core, &out);
	r.started = monotonic_seconds();
	for (size_t i = 0; i < r.lanes.n; i++) {
		const struct lane_seen *l = &r.lanes.lanes[i];
		if (!l->has_open_record &&
		    engine_lane_open(r.engine, sv_make(l->topic, l->topic_len), l->partition)) {
			log_error("%s", sink_error(&r));
			goto out_cfg;
		}
	}
	if (r.cfg.threads >= 2 && r.n_inputs) {
		if ((status = replay_pipelined(&r, &core)) != EXIT_OK)
			goto out_cfg;
	} else {
		for (size_t i = 0; i < r.n_inputs; i++)
			if ((status = replay_file(&r, i)) != EXIT_OK)
				goto out_cfg;
	}
	if (r.kafka && (status = replay_kafka(&r)) != EXIT_OK)
		goto out_cfg;
	status = EXIT_RUNTIME;
	if (engine_finish(r.engine, !r.cfg.no_final_flush)) {
		log_error("%s", sink_error(&r));
		goto out_cfg;
	}
	if (r.writer && writer_drain(r.writer)) {
		log_error("%s", sink_error(&r));
		goto out_cfg;
	}
	double elapsed = monotonic_seconds() - r.started;
	log_progress_done();

	inputs_text = r.kafka ? kafka_range_json(r.kafka, r.cfg.kafka) : inputs_json(r.inputs, r.n_inputs);
	r.run.inputs_json = inputs_text;
	r.run.finished_us = wall_clock_us();
	r.run.stats = engine_stats(r.engine);
	rc = run_log_end(r.sink, &r.run);
	if (!rc)
		rc = sink_finish(r.sink);
	free(inputs_text);
	if (rc) {
		log_error("%s", sink_error(&r));
		goto out_cfg;
	}
	log_summary("replayed", engine_stats(r.engine), r.n_inputs, elapsed, r.sink->name);
	status = EXIT_OK;
	if (r.kafka && engine_stats(r.engine)->records == 0) {
		log_error("the Kafka range holds no message (--from %s --to %s)",
		          krc.from ? krc.from : "earliest", krc.to ? krc.to : "now");
		status = EXIT_RUNTIME;
	} else if (engine_stats(r.engine)->accepted == 0) {
		/* The output is kept: its dead letters say what was wrong. */
		struct buf hint = BUF_INIT;
		const char **topics = xcalloc(r.lanes.n + 1, sizeof(*topics));
		size_t n_topics = 0;
		for (size_t i = 0; i < r.lanes.n; i++) {
			size_t j = 0;
			while (j < n_topics && strcmp(topics[j], r.lanes.lanes[i].topic))
				j++;
			if (j == n_topics)
				topics[n_topics++] = r.lanes.lanes[i].topic;
		}
		summary_no_usable_hint(&hint, engine_stats(r.engine), topics, n_topics,
		                       core.chat_topic, core.viewer_topic);
		log_error("no record was usable: %s; the dead letters are in %s (see telemetra dump)",
		          hint.data, r.sink->name);
		free(topics);
		buf_free(&hint);
		status = EXIT_RUNTIME;
	}

out_cfg:
	free(cfg_text);
out:
	log_progress_done();
	engine_free(r.engine);
	writer_free(r.writer);
	if (r.sink)
		sink_close(r.sink);
	for (size_t i = 0; i < r.n_inputs; i++)
		input_close(r.inputs[i]);
	free(r.inputs);
	lane_set_free(&r.lanes);
	kafka_range_close(r.kafka);
	lexicon_free(lexicon);
	target_free(&target);
	config_free(&r.cfg);
	return status;
}
