/*
 * options.h — every option of the core-running commands, parsed in one place.
 *
 * One table (config.c) describes each option once: its long name (which is
 * also its key in a --config JSON file and its NAME in `tune --grid`), its
 * type, the environment variable that may set it, which commands take it,
 * and its help line.  Every value, from whatever origin, goes through
 * config_set(), so it is validated the same way everywhere.
 *
 * Precedence (SPEC §8): command line > environment > config file > defaults.
 */
#ifndef TELEMETRA_OPTIONS_H
#define TELEMETRA_OPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"
#include "core/engine.h"

/* Which commands take an option (a bit mask). */
enum {
	CMD_REPLAY = 1 << 0,
	CMD_LIVE = 1 << 1,
	CMD_TUNE = 1 << 2,
	CMD_CORE = CMD_REPLAY | CMD_LIVE | CMD_TUNE,
	CMD_CAPTURE = 1 << 3,
	CMD_DUMP = 1 << 4,
	CMD_REPORT = 1 << 5,
	CMD_GEN = 1 << 6,
	CMD_MIGRATE = 1 << 7,
};

/* Defaults that a command applies when an option is not given (the field
 * stays NULL, so that "given" can be told from "default"); --help prints
 * the same constants. */
#define DEFAULT_REPLAY_OUTPUT "telemetra.db"
#define DEFAULT_TUNE_OUTPUT "tune.db"
#define DEFAULT_BROKERS "localhost:9092"

struct config {
	/* core */
	int64_t window_us, slide_us, delay_us;
	unsigned top_k, history, min_history;
	double min_stddev, threshold;
	bool merge;
	char *detector, *metric; /* chat spike detector and its metric */
	int64_t baseline_us, min_baseline_us, long_span_us, fresh_us;
	double dispersion, min_excess, min_fano, fence;
	char *lexicon_positive, *lexicon_negative;
	char *chat_topic, *viewer_topic;
	double viewer_surge_threshold, viewer_surge_min_stddev;
	double sentiment_drop_threshold, sentiment_drop_min_stddev;
	/* output */
	char *output, *sink;
	bool append, no_final_flush, quiet;
	bool replace, force; /* replay: replace PostgreSQL rows; replay, gen: overwrite an -o file */
	unsigned threads; /* replay: 1, or a reader thread beside the engine's */
	/* live */
	char *brokers, *postgres, *postgres_user, *postgres_password;
	char *group, *offset_reset, *capture, *checkpoint_location;
	int64_t trigger_us, idle_timeout_us, idle_advance_us;
	unsigned max_batch;
	bool reset_state;
	char **kafka_props;
	size_t n_kafka_props;
	/* operating the daemon */
	char *log_format, *log_file, *metrics;
	int64_t log_interval_us, ready_max_age_us;
	/* capture, replay --kafka: a bounded range of Kafka */
	char *kafka, *range_from, *range_to;
	/* tune */
	char **grid;
	size_t n_grid;
	char *grid_file, *labels, *best;
	char *objective; /* NULL: f1 */
	int64_t tolerance_us;
	unsigned jobs;
	/* report (labels, tolerance, output, from, to: the fields above) */
	char *title, *decoys;
	char **streams;
	size_t n_streams;

	/* gen (output, kafka, labels, decoys, the topics, delay_us, kafka_props
	 * and quiet: the fields above) */
	uint64_t gen_seed, gen_streams, gen_events, gen_spikes;
	char *channels, *start;
	int64_t duration_us, viewer_interval_us, reply_delay_us;
	double rate, rate_min, rate_max, chat_rate, branching, decoy_rate;
	double disorder, late, malformed;
	bool no_edges;
	/* migrate (postgres, postgres_user, postgres_password: above) */
	char *sqlite;

	char *config_file;
	bool *set; /* per option: given explicitly (any origin) */
	bool *from_env; /* per option: its value came from the environment */
};

/* What a command tells config_load() about itself, for --help. */
struct command_help {
	const char *name;     /* "replay" */
	unsigned mask;        /* CMD_REPLAY */
	const char *synopsis; /* "[OPTIONS] FILE..." */
	const char *summary;  /* a paragraph */
};

void config_init(struct config *c);
void config_free(struct config *c);
/* A deep copy of src into dst (uninitialised); the caller owns dst
 * (config_free), e.g. a base configuration that a grid point varies. */
void config_copy(struct config *dst, const struct config *src);

/*
 * Load the configuration of a command from argv, the environment and an
 * optional --config file.  Handles --help and --version (exit 0), and
 * reports any bad option or value with a hint (exit 2).  Returns the index
 * of the first positional argument.
 */
int config_load(struct config *c, const struct command_help *cmd, int argc, char **argv);

/* Set one option by name from text, validating it; origin names where the
 * value came from in error messages ("--window", "best.json", ...). */
bool config_set(struct config *c, unsigned mask, const char *name, const char *value,
                const char *origin, struct error *err);
/* Was option name (of the commands in mask) given, from any origin; and
 * does its value come from the environment (rather than the command line
 * or a config file)? */
bool config_given(const struct config *c, unsigned mask, const char *name);
bool config_from_env(const struct config *c, unsigned mask, const char *name);
/* Is name an option of these commands that changes the core's results? */
bool config_is_tunable(const char *name);
/* The names of the tunable options in table order, into names[0..max);
 * returns how many there are (static strings), for hints. */
size_t config_tunable_names(const char **names, size_t max);
/* The text form of a JSON scalar as a command-line value (a new string the
 * caller frees), or NULL if v is not a string, number or boolean. */
char *config_value_text(const json_t *v);
/* Apply a JSON object {option: value, ...} (a config file). */
bool config_set_json(struct config *c, unsigned mask, json_t *obj, const char *origin,
                     struct error *err);

/*
 * Check the combination of options and build the core configuration,
 * reading lexicon files.  On success *lexicon is a new lexicon owned by
 * the caller (lexicon_free), which core->lexicon borrows.
 */
bool config_build_core(const struct config *c, struct core_config *core, struct lexicon **lexicon,
                       struct error *err);

/* The effective configuration as a new JSON object (secrets redacted or
 * left out), for the runs table, and with tunable_only for `tune --best`.
 * mask selects the options by command. */
json_t *config_to_json(const struct config *c, unsigned mask, bool tunable_only);

/* What went wrong with the option getopt_long() just returned ch ('?' or
 * ':') for, into buf[0..n), naming the option as the user typed it ("-Z",
 * "--bogus", never the value after '=', which may be a password): "unknown
 * option '-Z'", "option '--output' needs a value", "option '--help' takes
 * no value".  Call it before getopt_long() is called again; longopts is
 * the table it was given. */
struct option;
void option_problem(char *buf, size_t n, int ch, char **argv, const struct option *longopts);

/* Parse a duration in seconds ("10", "0.5") into microseconds. */
bool parse_seconds(const char *s, int64_t *us);

#endif
