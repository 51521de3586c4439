/*
 * telemetra tune — a grid of configurations over recorded event files.
 *
 *   options ─► grid ─► one core configuration per grid point (validated
 *                      by the one option setter, before any input is read)
 *   inputs  ─► store   (read and decoded once; src/tune/store.h)
 *   store + configurations ─► windowing passes shared by configurations
 *                      with the same windowing, judging passes shared by
 *                      those that differ only in thresholds and merging,
 *                      a decision pass per configuration, in parallel
 *                      (src/tune/run.h)
 *   moments + labels ─► precision / recall / F1 / delay (src/tune/score.h)
 *   results ─► tuning_results in SQLite, a table on stdout, --best
 *                      (src/tune/output.h)
 *
 * Base options given on the command line (or --config, or the environment)
 * apply to every configuration; the grid varies options on top of them.
 * Each configuration's numbers are those of `telemetra replay` with the
 * same options: the windowing and the detectors are the core's own, fed the
 * same records in the same order (see run.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/engine.h"
#include "io/input.h"
#include "io/pipeline.h"
#include "tune/grid.h"
#include "tune/output.h"
#include "tune/run.h"
#include "tune/score.h"
#include "tune/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/new_file.h"
#include "cli/options.h"

static const struct command_help help = {
	"tune",
	CMD_TUNE,
	"[OPTIONS] [--grid NAME=VALUES]... FILE...",
	"Run a grid of configurations over recorded event files (as `replay` reads\n"
	"them) and compare them. NAME is a core option (window, slide, watermark-delay,\n"
	"history, min-history, min-stddev, threshold, top-emotes, lexicon-positive,\n"
	"lexicon-negative, merge-moments, ...); VALUES a list 2,2.5,3 or a range\n"
	"START:STOP:STEP (2:3:0.5 is 2, 2.5, 3). The configurations are the product of\n"
	"the --grid options (and of --grid-file, a JSON object {\"NAME\": [values] or\n"
	"\"START:STOP:STEP\"}), on top of the other options given. The input is decoded\n"
	"once; configurations with the same windowing share it, and run in parallel.\n"
	"Each gives the windows and moments `telemetra replay` gives with its options.\n"
	"\n"
	"With --labels (true moments, JSON Lines {\"stream_id\",\"start\",\"end\"}, as\n"
	"written by `telemetra gen --labels`), moments are scored as a user sees them:\n"
	"the moments of one stream and type whose windows overlap or touch form one\n"
	"episode (merged or not). An episode matches a label of its stream when its\n"
	"[start, end) overlaps [label start - T, label end + T], T the --tolerance.\n"
	"true_positives = labels matched, false_negatives = labels not matched,\n"
	"false_positives = episodes matching no label; precision = matching episodes /\n"
	"episodes, recall = true_positives / labels, f1 their harmonic mean (each 0 when\n"
	"undefined); false_per_stream_hour = false_positives / stream-hours (per stream,\n"
	"its first window's start to its last window's end); delay = end of the first\n"
	"window of the earliest matching episode - label start (median_delay_s and\n"
	"mean_delay_s over the matched labels).\n"
	"\n"
	"Results: one row per configuration in the table tuning_results of the SQLite\n"
	"output (with the configuration as JSON and as columns), and a table on stdout,\n"
	"best first: by the --objective, then f1, then fewer false alarms, then less\n"
	"delay; without labels, by moments. A warning says when a winning value is the\n"
	"lowest or highest of its grid range (3 or more numbers). --best writes the\n"
	"winner as a --config file for replay and live; --best - writes only that JSON\n"
	"to stdout, and the table to stderr.",
};

/* The lexicon of each distinct pair of word-list files in the grid. */
struct lexicon_entry {
	char *positive, *negative; /* the files (owned copies); NULL: built in */
	struct lexicon *lex;       /* owned */
};

struct tune {
	struct config base;
	struct grid grid;
	size_t n; /* configurations */
	struct tune_case *cases;
	struct tune_early *early; /* the first windowing pass, fed while reading */
	json_t **options; /* per configuration: its tunable options (owned) */
	struct lexicon_entry *lexicons;
	size_t n_lexicons, cap_lexicons;
	struct labels labels;
	struct input **inputs;
	size_t n_inputs;
	struct store *store;
	struct tune_outcome *outcomes;
	struct score *scores;
	struct score_label *score_labels; /* borrowing labels' strings */
	struct tune_spans *spans;         /* per windowing pass */
	size_t n_spans;
	struct tune_objective objective;
	/* progress lines */
	uint64_t total_bytes; /* of the inputs, 0 if any size is unknown (a pipe) */
	double started;       /* monotonic: the read's start, then the run's */
	double shown;         /* when the last running line was shown */
};

/* "tune: reading 42%, 0:12 elapsed, ETA 0:16 | FILE line N"; done = raw
 * bytes read of all inputs so far. */
static void show_reading(const struct tune *t, const char *path, int64_t line_no, uint64_t done)
{
	double elapsed = monotonic_seconds() - t->started;
	char head[96];
	log_progress_bytes_head(head, sizeof(head), done, t->total_bytes, elapsed);
	log_progress("tune: reading %s | %s line %" PRId64, head, path, line_no);
}

/* tune_run's progress: at most four lines a second, and the last one. */
static void show_running(void *ctx, size_t done, size_t total)
{
	struct tune *t = ctx;
	double now = monotonic_seconds();
	if (done < total && now - t->shown < 0.25)
		return;
	t->shown = now;
	char head[96];
	log_progress_head(head, sizeof(head), total ? (double)done / (double)total : 1, now - t->started);
	log_progress("tune: running %s | %zu of %zu steps (windowing passes and configurations)", head,
	             done, total);
}

static bool same_path(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void build_grid(struct tune *t)
{
	struct error err;
	for (size_t i = 0; i < t->base.n_grid; i++)
		if (!grid_add_spec(&t->grid, t->base.grid[i], &t->base, &err))
			die_usage("%s", err.msg);
	if (t->base.grid_file && !grid_add_file(&t->grid, t->base.grid_file, &t->base, &err))
		die_usage("%s", err.msg);
}

/* "window=65 slide=10": configuration i's grid values, for messages. */
static void describe(const struct tune *t, size_t i, struct buf *out)
{
	for (size_t d = 0; d < t->grid.n_dims; d++)
		buf_printf(out, "%s%s=%s", d ? " " : "", t->grid.dims[d].name, grid_value(&t->grid, i, d));
	if (!t->grid.n_dims)
		buf_adds(out, "the options given");
}

/* The lexicon of config c, shared with earlier configurations that name
 * the same files; *index is its number in the store. */
static const struct lexicon *share_lexicon(struct tune *t, const struct config *c,
                                           struct lexicon *built, size_t *index)
{
	for (size_t l = 0; l < t->n_lexicons; l++) {
		struct lexicon_entry *e = &t->lexicons[l];
		if (same_path(e->positive, c->lexicon_positive) &&
		    same_path(e->negative, c->lexicon_negative)) {
			lexicon_free(built);
			*index = l;
			return e->lex;
		}
	}
	t->lexicons = grow_array(t->lexicons, sizeof(*t->lexicons), &t->cap_lexicons,
	                         t->n_lexicons + 1);
	t->lexicons[t->n_lexicons] = (struct lexicon_entry){
		c->lexicon_positive ? xstrdup(c->lexicon_positive) : NULL,
		c->lexicon_negative ? xstrdup(c->lexicon_negative) : NULL,
		built,
	};
	*index = t->n_lexicons;
	return t->lexicons[t->n_lexicons++].lex;
}

/* Every grid point as a core configuration; any bad one is a usage error. */
static void build_cases(struct tune *t)
{
	t->n = grid_size(&t->grid);
	t->cases = xcalloc(t->n, sizeof(*t->cases));
	t->options = xcalloc(t->n, sizeof(*t->options));
	for (size_t i = 0; i < t->n; i++) {
		struct config c;
		struct error err;
		struct lexicon *lex;
		config_copy(&c, &t->base);
		if (!grid_apply(&t->grid, i, &c, &err) ||
		    !config_build_core(&c, &t->cases[i].core, &lex, &err)) {
			struct buf what = BUF_INIT;
			describe(t, i, &what);
			die_usage("configuration %zu of %zu (%s): %s", i + 1, t->n, what.data, err.msg);
		}
		t->cases[i].core.lexicon = share_lexicon(t, &c, lex, &t->cases[i].lexicon);
		/* Not tunable, hence the same for all: borrow the base's. */
		t->cases[i].core.chat_topic = t->base.chat_topic;
		t->cases[i].core.viewer_topic = t->base.viewer_topic;
		t->options[i] = config_to_json(&c, CMD_CORE, true);
		config_free(&c);
	}
}


/* Read and decode every input into the store with a reader thread
 * (io/pipeline.h: it splits, decodes and scores with lexicon 0 while this
 * thread interns and stores), as replay --threads 2 reads; false after
 * logging.  The same lines reach the store as read_serial() gives it. */
static bool read_pipelined(struct tune *t, const uint32_t *files, const char *const *paths)
{
	struct core_config core = t->cases[0].core;
	core.lexicon = t->lexicons[0].lex;
	struct error err;
	struct pipeline *p = pipeline_start(t->inputs, t->n_inputs, &core, &err);
	if (!p) {
		log_error("%s", err.msg);
		return false;
	}
	bool show = !t->base.quiet && log_stderr_is_tty();
	bool ok = true;
	/* This thread has time to spare while the reader thread decodes: it
	 * windows what it has stored, for the first windowing key
	 * (tune/run.h). */
	t->early = tune_early_start(t->store, t->cases, t->n);
	const struct pipeline_item *it;
	while (ok && (it = pipeline_next(p))) {
		switch (it->kind) {
		case PIPELINE_OVERLONG:
			store_reject(t->store, DEAD_TOO_LARGE);
			break;
		case PIPELINE_LINE:
			store_decoded(t->store, files[it->file], it->line_no, &it->line);
			break;
		case PIPELINE_END:
			if (it->status == INPUT_DAMAGED) {
				log_warn("%s; counted as a dead letter (damaged_input)", it->message);
				store_reject(t->store, DEAD_DAMAGED_INPUT);
			} else if (it->status < 0) {
				log_error("%s", it->message);
				ok = false;
			}
			break;
		}
		if (show && it->progress)
			show_reading(t, paths[it->file], it->line_no, it->done_bytes);
		tune_early_feed(t->early);
	}
	pipeline_free(p);
	return ok;
}

/* The same on this thread alone (-j 1, or several lexicons, which the
 * reader thread does not score). */
static bool read_serial(struct tune *t, const uint32_t *files)
{
	bool show = !t->base.quiet && log_stderr_is_tty();
	bool ok = true;
	uint64_t before = 0; /* raw bytes of the inputs before this one */
	for (size_t i = 0; i < t->n_inputs && ok; i++) {
		struct input *in = t->inputs[i];
		struct input_info info;
		uint32_t file = files[i];
		struct input_line line;
		struct error err;
		int got;
		while ((got = input_next(in, &line, &err)) > 0) {
			if (line.overlong)
				store_reject(t->store, DEAD_TOO_LARGE);
			else if (line.len > 0 && strspn(line.data, " \t\r") < line.len)
				store_line(t->store, file, line.number, line.data, line.len);
			if (show && (line.number & 0xFFFF) == 0) {
				input_info(in, &info);
				show_reading(t, info.path, line.number, before + info.raw_bytes);
			}
		}
		input_info(in, &info);
		before += info.raw_bytes;
		if (got == INPUT_DAMAGED) { /* as replay: the rest of the file is one dead letter */
			log_warn("%s; counted as a dead letter (damaged_input)", err.msg);
			store_reject(t->store, DEAD_DAMAGED_INPUT);
		} else if (got < 0) {
			log_error("%s", err.msg);
			ok = false;
		}
	}
	return ok;
}

/* Read and decode every input into a new store; false after logging. */
static bool read_inputs(struct tune *t)
{
	const struct lexicon **lexicons = xcalloc(t->n_lexicons, sizeof(*lexicons));
	for (size_t l = 0; l < t->n_lexicons; l++)
		lexicons[l] = t->lexicons[l].lex;
	struct store_options opt = {t->base.chat_topic, t->base.viewer_topic, lexicons,
	                            t->n_lexicons};
	t->store = store_new(&opt);
	uint32_t *files = xcalloc(t->n_inputs, sizeof(*files));
	const char **paths = xcalloc(t->n_inputs, sizeof(*paths));
	uint64_t total = 0;
	bool sizes_known = true;
	for (size_t i = 0; i < t->n_inputs; i++) {
		struct input_info info;
		input_info(t->inputs[i], &info);
		paths[i] = info.path; /* the input's own copy: it does not change */
		files[i] = store_add_file(t->store, info.path);
		total += info.size_hint;
		sizes_known &= info.size_hint != 0;
	}
	t->total_bytes = sizes_known ? total : 0;
	t->started = monotonic_seconds();
	bool pipelined = t->base.jobs > 1 && t->n_lexicons == 1;
	/* As replay --threads 2: the SHA-256 for runs.inputs on a thread of its
	 * own, not on the reader thread, which is the read's critical path. */
	if (pipelined)
		for (size_t i = 0; i < t->n_inputs; i++)
			input_hash_aside(t->inputs[i]);
	bool ok = pipelined ? read_pipelined(t, files, paths) : read_serial(t, files);
	log_progress_done();
	free(paths);
	free(files);
	free(lexicons);
	return ok;
}

static void notice(void *ctx, const char *msg)
{
	(void)ctx;
	log_warn("%s", msg);
}

static bool write_best(const struct tune *t, const struct tune_row *best)
{
	const char *path = t->base.best;
	/* Values here are short decimals (thresholds, floors, seconds): 15
	 * digits print them as written and read back as the same doubles. */
	int flags = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15);
	if (!strcmp(path, "-")) {
		json_dumpf(best->options, stdout, flags);
		fputc('\n', stdout);
		return fflush(stdout) == 0;
	}
	struct new_file nf;
	struct error err;
	if (!new_file_create(&nf, path, &err)) {
		log_error("%s", err.msg);
		return false;
	}
	if (json_dumpfd(best->options, nf.fd, flags) != 0 || write(nf.fd, "\n", 1) != 1) {
		log_error("cannot write %s: %s", path, strerror(errno ? errno : EIO));
		new_file_discard(&nf);
		return false;
	}
	if (!new_file_commit(&nf, &err)) {
		log_error("%s", err.msg);
		return false;
	}
	log_info("best: configuration %zu (F1 %.3f) written to %s", best->index + 1, best->score->f1,
	         path);
	return true;
}

static void tune_free(struct tune *t)
{
	for (size_t i = 0; i < t->n; i++) {
		json_decref(t->options[i]);
		if (t->outcomes)
			tune_outcome_free(&t->outcomes[i]);
	}
	free(t->options);
	tune_early_free(t->early); /* before the store and cases it uses */
	free(t->cases);
	free(t->outcomes);
	free(t->scores);
	free(t->score_labels);
	for (size_t p = 0; p < t->n_spans; p++)
		tune_spans_free(&t->spans[p]);
	free(t->spans);
	for (size_t l = 0; l < t->n_lexicons; l++) {
		free(t->lexicons[l].positive);
		free(t->lexicons[l].negative);
		lexicon_free(t->lexicons[l].lex);
	}
	free(t->lexicons);
	store_free(t->store);
	for (size_t i = 0; i < t->n_inputs; i++)
		input_close(t->inputs[i]);
	free(t->inputs);
	labels_free(&t->labels);
	grid_free(&t->grid);
	config_free(&t->base);
}

/* Options, grid, configurations and labels: every usage error is found
 * here, before any input is read. */
static void prepare(struct tune *t, int argc, char **argv, int *first)
{
	struct error err;
	config_init(&t->base);
	*first = config_load(&t->base, &help, argc, argv);
	log_set_quiet(t->base.quiet);
	if (*first >= argc)
		die_usage("no input files; give one or more FILEs, or - for standard input");
	if ((size_t)(argc - *first) > STORE_MAX_FILES)
		die_usage("at most %d input files", STORE_MAX_FILES);
	if (t->base.best && !t->base.labels)
		die_usage("--best needs --labels: the best configuration is the one with the highest F1 "
		          "against the true moments");
	if (!tune_objective_parse(t->base.objective, &t->objective, &err))
		die_usage("%s", err.msg);
	if (t->base.objective && !t->base.labels)
		die_usage("--objective needs --labels: it is computed against the true moments");
	/* Neither result file may take the place of what the run reads. */
	size_t n_in = (size_t)(argc - *first);
	const char **reads = xcalloc(n_in + 1, sizeof(*reads));
	for (size_t i = 0; i < n_in; i++)
		reads[i] = argv[*first + (int)i];
	reads[n_in] = t->base.labels;
	new_file_refuse_input(t->base.output ? t->base.output : DEFAULT_TUNE_OUTPUT, reads, n_in + 1);
	new_file_refuse_input(t->base.best, reads, n_in + 1);
	free(reads);
	build_grid(t);
	build_cases(t);
	if (t->base.labels && !labels_load(&t->labels, t->base.labels, &err))
		die_usage("%s", err.msg);
}

/* Open every input first: a typo in the last name should not cost a long
 * read.  False after logging. */
static bool open_inputs(struct tune *t, char **paths, size_t n)
{
	struct error err;
	t->n_inputs = n;
	t->inputs = xcalloc(n, sizeof(*t->inputs));
	for (size_t i = 0; i < n; i++) {
		t->inputs[i] = input_open(paths[i], &err);
		if (!t->inputs[i]) {
			log_error("%s", err.msg);
			return false;
		}
	}
	return true;
}

/* The rows of the results, scored against the labels if there are any;
 * the caller frees the array. */
static struct tune_row *score_all(struct tune *t)
{
	struct tune_row *rows = xcalloc(t->n, sizeof(*rows));
	if (t->base.labels) {
		t->scores = xcalloc(t->n, sizeof(*t->scores));
		t->score_labels = tune_score_labels(&t->labels);
	}
	for (size_t i = 0; i < t->n; i++) {
		rows[i] = (struct tune_row){i, t->options[i], &t->outcomes[i], NULL};
		if (t->scores) {
			tune_score(t->score_labels, t->labels.n, &t->outcomes[i],
			           &t->spans[t->outcomes[i].pass], t->base.tolerance_us,
			           t->cases[i].core.window.size_us, &t->scores[i]);
			rows[i].score = &t->scores[i];
		}
	}
	return rows;
}

/* Warn, one line per dimension, when the winner's value of a numeric
 * dimension with 3 or more values is its lowest or highest: the best may
 * lie beyond the range searched.  (With two values every value is an
 * edge, and booleans and files have no beyond.) */
static void warn_edges(const struct tune *t, const struct tune_row *best)
{
	for (size_t d = 0; d < t->grid.n_dims; d++) {
		const struct grid_dim *dim = &t->grid.dims[d];
		if (dim->n_values < 3)
			continue;
		double lo = 0, hi = 0;
		const char *lo_text = NULL, *hi_text = NULL;
		bool numeric = true;
		for (size_t k = 0; k < dim->n_values && numeric; k++) {
			char *end;
			double x = strtod(dim->values[k], &end);
			numeric = end != dim->values[k] && !*end;
			if (k == 0 || x < lo)
				lo = x, lo_text = dim->values[k];
			if (k == 0 || x > hi)
				hi = x, hi_text = dim->values[k];
		}
		if (!numeric || lo == hi)
			continue;
		const char *value = grid_value(&t->grid, best->index, d);
		double v = strtod(value, NULL);
		if (v == lo || v == hi)
			log_warn("the best %s, %s, is the %s value of its grid (%s to %s): the best may lie "
			         "beyond; extend the range",
			         dim->name, value, v == lo ? "lowest" : "highest", lo_text, hi_text);
	}
}

/* SQLite, the table on stdout, --best; an exit status. */
static int report(struct tune *t, const struct tune_row *rows, const struct tune_run_stats *rs,
                  int64_t started_us, const char *output)
{
	const char **varied = xcalloc(t->grid.n_dims ? t->grid.n_dims : 1, sizeof(*varied));
	for (size_t d = 0; d < t->grid.n_dims; d++)
		varied[d] = t->grid.dims[d].name;
	json_t *base_json = config_to_json(&t->base, CMD_TUNE, false);
	char *config_text = json_dumps(base_json, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(base_json);
	char *inputs_text = inputs_json(t->inputs, t->n_inputs);
	struct store_stats in;
	store_get_stats(t->store, &in);
	struct tune_results res = {
		.rows = rows,
		.n_rows = t->n,
		.varied = varied,
		.n_varied = t->grid.n_dims,
		.scored = t->scores != NULL,
		.objective = t->objective,
		.config_json = config_text,
		.inputs_json = inputs_text,
		.input = &in,
		.passes = rs->passes,
		.jobs = t->base.jobs,
		.started_us = started_us,
		.finished_us = wall_clock_us(),
	};

	int status = EXIT_RUNTIME;
	struct error err;
	const struct tune_row **ranked = tune_rank(&res);
	if (!tune_write_sqlite(output, &res, &err)) {
		log_error("%s", err.msg);
	} else {
		/* --best -: stdout is the JSON alone, so that it can be piped. */
		bool best_stdout = t->base.best && !strcmp(t->base.best, "-");
		FILE *table = best_stdout ? stderr : stdout;
		tune_print_table(table, &res, ranked);
		bool written = fflush(table) == 0;
		bool qualified = !t->scores || tune_objective_met(&t->objective, ranked[0]->score);
		if (t->scores && qualified)
			warn_edges(t, ranked[0]);
		if (!qualified)
			log_warn("no configuration reaches recall %g (the highest is %.3f, configuration "
			         "%zu): none qualifies for --objective %s",
			         t->objective.min_recall, ranked[0]->score->recall, ranked[0]->index + 1,
			         t->base.objective);
		if (!written)
			log_error("cannot write the table to standard output");
		else if (t->base.best && !qualified)
			log_error("--best: no configuration qualifies, nothing written to %s",
			          t->base.best);
		else if (!t->base.best || write_best(t, ranked[0]))
			status = EXIT_OK;
	}
	free(ranked);
	free(config_text);
	free(inputs_text);
	free(varied);
	return status;
}

static void summarize(const struct tune *t, const struct tune_run_stats *rs, double read_s,
                      double run_s, const char *output)
{
	struct store_stats in;
	store_get_stats(t->store, &in);
	log_info("tuned %zu configuration%s (%zu windowing pass%s, %u job%s) over %zu file%s: "
	         "%" PRIu64 " records, %" PRIu64 " events, %" PRIu64 " dead letters before "
	         "windowing; read in %.2f s (%.0f MB held), ran in %.2f s (windowing %.2f s, "
	         "detection %.2f s of work) into %s",
	         t->n, t->n == 1 ? "" : "s", rs->passes, rs->passes == 1 ? "" : "es", t->base.jobs,
	         t->base.jobs == 1 ? "" : "s", t->n_inputs, t->n_inputs == 1 ? "" : "s", in.records,
	         in.chat + in.viewer, in.dead_total, read_s, (double)in.bytes / 1e6, run_s,
	         rs->windowing_seconds, rs->detect_seconds, output);
}

int cmd_tune(int argc, char **argv)
{
	struct tune t = {0};
	int first, status = EXIT_RUNTIME;
	prepare(&t, argc, argv, &first);
	const char *output = t.base.output ? t.base.output : DEFAULT_TUNE_OUTPUT;
	/* Where the results go is checked before the grid runs, not after. */
	struct error err;
	if (!new_file_possible(output, &err) ||
	    (t.base.best && strcmp(t.base.best, "-") && !new_file_possible(t.base.best, &err))) {
		log_error("%s", err.msg);
		tune_free(&t);
		return EXIT_RUNTIME;
	}

	int64_t started_us = wall_clock_us();
	double t0 = monotonic_seconds();
	if (!open_inputs(&t, argv + first, (size_t)(argc - first)) || !read_inputs(&t))
		goto out;
	double t1 = monotonic_seconds();

	struct tune_run_options ropt = {
		.jobs = t.base.jobs,
		.final_flush = !t.base.no_final_flush,
		.spans = t.base.labels != NULL,
		.notice = notice,
	};
	if (!t.base.quiet && log_stderr_is_tty()) {
		ropt.progress = show_running;
		ropt.progress_ctx = &t;
		t.started = t1;
	}
	struct tune_run_stats rstats;
	t.outcomes = xcalloc(t.n, sizeof(*t.outcomes));
	tune_run_early(t.store, t.cases, t.n, &ropt, t.early, t.outcomes, &rstats);
	log_progress_done(); /* before the table on stdout */
	t.spans = rstats.spans;
	t.n_spans = t.spans ? rstats.passes : 0;
	double t2 = monotonic_seconds();

	struct tune_row *rows = score_all(&t);
	status = report(&t, rows, &rstats, started_us, output);
	free(rows);
	if (status == EXIT_OK)
		summarize(&t, &rstats, t1 - t0, t2 - t1, output);
out:
	log_progress_done();
	tune_free(&t);
	return status;
}
