/*
 * output.h — where tune's results go: a SQLite table and a readable table.
 *
 * SQLite (-o, default tune.db), built beside the target and renamed into
 * place only when complete, like replay's output.  It has the usual schema
 * (sql/sqlite/, applied by migrate_sqlite) so that `runs` records the run:
 * command "tune", the base configuration, the inputs with sizes and
 * SHA-256, and the counts that do not depend on the configuration.  Next
 * to it, tuning_results holds one row per configuration, in grid order:
 *
 *   id                 1 + the configuration's index in the grid
 *   run_id             runs.id
 *   config             its tunable options as a JSON object, the same
 *                      object --best writes (a --config file)
 *   <option>           one column per tunable option ('-' becomes '_'):
 *                      window, slide, threshold, merge_moments, ...
 *   windows, anomalous_windows, moments, accepted, late, dead_letters
 *   moments_per_stream JSON object {stream_id: moments}
 *   labels, episodes, true_positives, false_positives, false_negatives,
 *   precision, recall, f1, f2, false_per_stream_hour, stream_hours,
 *   mean_delay_s, median_delay_s             (NULL without --labels;
 *                      core/score.h defines them: per episode)
 *   windowing_pass     which shared windowing pass produced its rows
 *   windowing_seconds  that pass's time (shared by its configurations)
 *   detect_seconds     its own detection pass (with a shared judging pass:
 *                      its share of it plus its own decision pass)
 *
 * The option columns are dynamic (they are the options of the run), which
 * is why this table is created here rather than by a migration.
 *
 * Ranking (stdout and --best): with labels, the objective (F1, F2, or
 * precision among the configurations whose recall reaches R, those first)
 * descending, then F1 descending, then fewer false alarms (false episodes),
 * then lower median delay (none: last), then grid order; without labels,
 * moments descending, then grid order.
 */
#ifndef TELEMETRA_TUNE_OUTPUT_H
#define TELEMETRA_TUNE_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/common.h"
#include "tune/run.h"
#include "tune/score.h"
#include "tune/store.h"

struct tune_row {
	size_t index;                       /* in the grid, from 0 */
	const json_t *options;              /* its tunable options */
	const struct tune_outcome *outcome;
	const struct score *score; /* NULL without labels */
};

/* What the winner maximises (--objective). */
struct tune_objective {
	enum { OBJECTIVE_F1, OBJECTIVE_F2, OBJECTIVE_PRECISION_AT_RECALL } kind;
	double min_recall; /* precision@recall=R: R, in (0, 1] */
};

/* Parse "f1", "f2" or "precision@recall=R" (NULL: f1); false with err set
 * saying what is accepted. */
bool tune_objective_parse(const char *text, struct tune_objective *o, struct error *err);

/* Does the row qualify under the objective (recall >= R; always for F)? */
bool tune_objective_met(const struct tune_objective *o, const struct score *s);

/* Everything borrowed from the caller. */
struct tune_results {
	const struct tune_row *rows; /* in grid order */
	size_t n_rows;
	const char *const *varied; /* option names the grid varies, in grid order */
	size_t n_varied;
	bool scored; /* rows have scores */
	struct tune_objective objective;
	/* for the runs table */
	const char *config_json; /* the base configuration */
	const char *inputs_json;
	const struct store_stats *input;
	size_t passes;
	unsigned jobs;
	int64_t started_us, finished_us;
};

/* The rows in ranking order, as a new array the caller frees. */
const struct tune_row **tune_rank(const struct tune_results *r);

/* Write (replace) the SQLite file at path. */
bool tune_write_sqlite(const char *path, const struct tune_results *r, struct error *err);

/* The readable table: the varied options first, then the counts and, with
 * labels, the scores; rows in the order given. */
void tune_print_table(FILE *out, const struct tune_results *r, const struct tune_row *const *rows);

#endif
