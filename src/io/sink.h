/*
 * sink.h — the one interface through which results reach a database.
 *
 * A sink receives the core's output (window rows, moments, dead letters)
 * and makes it durable at commit().  Two implementations: SQLite
 * (sink_sqlite.c) and PostgreSQL (sink_postgres.c), usable from every mode
 * (`--sink sqlite:PATH`, `--sink postgres:URL`).  Rows are written as
 * upserts on their keys, so writing a row again is harmless.
 *
 * Life cycle:  sink_open → (rows… sink_commit)… → sink_finish → sink_close.
 * sink_close() without sink_finish() abandons whatever was not committed; a replaced
 * SQLite output is then left as it was before the run.
 */
#ifndef TELEMETRA_SINK_H
#define TELEMETRA_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "io/target.h"

/* Where a consumer is in one partition: the next offset to read. */
struct partition_offset {
	const char *topic;
	int32_t partition;
	int64_t next_offset;
};

/* The serialized state of one watermark group (engine_save_group). */
struct group_state {
	int32_t partition;
	const char *state;
	size_t len;
};

/*
 * What a live batch commits together with its rows, in the same
 * transaction (NULL for replay): the consumer group's next offsets, the
 * state of every watermark group the daemon owns, and how long the capture
 * file was when this batch was complete (so that a restart can cut off
 * what was captured but never committed).
 */
struct sink_checkpoint {
	const char *group;
	const struct partition_offset *offsets;
	size_t n_offsets;
	const struct group_state *states;
	size_t n_states;
	const char *capture_path; /* absolute; NULL without --capture */
	int64_t capture_bytes;
};

/*
 * A row of the runs table: what produced the rows beside it.
 *
 * run_log_begin() inserts the row at once (outside any batch), so that a run
 * that dies stays visible as one that never finished, and sets id.
 * run_log_end() writes the counts with the next commit (PostgreSQL: in its
 * transaction, so the counts always match the committed rows); it may be
 * called again and again, finished_us 0 leaving finished_at NULL.
 *
 * run_log_update() writes the same columns at once, in a statement of its own
 * outside any transaction (an error while a one-transaction run has rows
 * on the server, or SQLite has a batch open): the live daemon calls it
 * after a batch committed, with the counts of what is committed, so that
 * its runs row never takes part in — nor can fail — a batch's transaction.
 */
struct run_info {
	const char *command; /* "replay", "live", "tune", ... */
	const char *mode;    /* how it wrote: "new", "append", "replace", "live"; may be NULL */
	int64_t started_us, finished_us; /* finished_us 0: still running */
	const char *config_json;
	const char *inputs_json;
	const struct engine_stats *stats;
	int64_t id; /* set by run_begin */
};

struct sink;

/*
 * A sink plays three parts, each a table of operations of its own, so
 * that a caller sees which part it uses (and a future backend may leave
 * one out), and each reached through the wrapper functions below, never
 * through the tables:
 *
 *   the row sink: rows in, commit() makes them durable — atomically with
 *     the live daemon's checkpoint when there is one — and finish() puts
 *     the output in place;
 *   the checkpoint store: what the last commit's checkpoint says, read
 *     back by a daemon taking over partitions;
 *   the run log: the runs table, what produced the rows beside it.
 *
 * Each returns 0, or -1 with s->err set, unless said otherwise.
 */
struct sink_row_ops {
	int (*window)(struct sink *s, const struct window_row *row);
	int (*moment)(struct sink *s, const struct moment *m);
	int (*dead_letter)(struct sink *s, const struct dead_letter *dl);
	int (*commit)(struct sink *s, const struct sink_checkpoint *cp);
	void (*discard)(struct sink *s);
	int (*has_rows)(struct sink *s, bool *any);
	int (*finish)(struct sink *s);
	void (*close)(struct sink *s);
};

struct sink_checkpoint_ops {
	int (*load_offset)(struct sink *s, const char *group, const char *topic, int32_t partition,
	                   int64_t *next_offset);
	int (*load_state)(struct sink *s, const char *group, int32_t partition, char **state,
	                  size_t *len);
	int (*load_capture_bytes)(struct sink *s, const char *group, const char *path,
	                          int64_t *bytes);
};

struct sink_run_ops {
	int (*begin)(struct sink *s, struct run_info *run);
	int (*end)(struct sink *s, const struct run_info *run);
	int (*update)(struct sink *s, const struct run_info *run);
};

struct sink {
	const struct sink_row_ops *rows;
	const struct sink_checkpoint_ops *checkpoints;
	const struct sink_run_ops *runs;
	char *name;  /* for messages: the path, or the redacted URL */
	/* The file being built and renamed into place at finish (SQLite with
	 * options.replace), which a dying process should remove; else NULL.
	 * Owned by the sink. */
	const char *scratch_path;
	struct error err; /* why the last call failed */
};

/* --- the row sink ----------------------------------------------------------- */

int sink_window(struct sink *s, const struct window_row *row);
int sink_moment(struct sink *s, const struct moment *m);
int sink_dead_letter(struct sink *s, const struct dead_letter *dl);
/* Make everything written since the last commit durable, atomically with
 * the checkpoint if there is one (cp NULL: none). */
int sink_commit(struct sink *s, const struct sink_checkpoint *cp);
/* Drop everything written since the last commit, which is never to be
 * committed (a live daemon that lost its partitions resumes from the last
 * commit and computes it again).  The sink stays open. */
void sink_discard(struct sink *s);
/* Do the output tables (windows, moments, dead letters) hold rows? */
int sink_has_rows(struct sink *s, bool *any);
/* Success: commit and put the output in place. */
int sink_finish(struct sink *s);
/* Free the sink; without sink_finish() what was not committed is
 * abandoned.  NULL is fine. */
void sink_close(struct sink *s);

/* --- the checkpoint store ------------------------------------------------------ */

/* What the last checkpoint of `group` says, for a daemon taking over
 * partitions: the next offset of (topic, partition), or -1; the state of a
 * watermark group as malloc'd text the caller frees, or NULL; the
 * committed length of a capture file, or -1. */
int checkpoint_load_offset(struct sink *s, const char *group, const char *topic,
                           int32_t partition, int64_t *next_offset);
int checkpoint_load_state(struct sink *s, const char *group, int32_t partition, char **state,
                          size_t *len);
int checkpoint_load_capture_bytes(struct sink *s, const char *group, const char *path,
                                  int64_t *bytes);

/* --- the run log (see struct run_info) ---------------------------------------- */

int run_log_begin(struct sink *s, struct run_info *run);
int run_log_end(struct sink *s, const struct run_info *run);
int run_log_update(struct sink *s, const struct run_info *run);

struct sink_options {
	bool replace; /* SQLite: build a new file and swap it in at finish */
	/* The run is one transaction that only finish() commits (replay):
	 * PostgreSQL may send rows before it, to keep memory bounded. */
	bool one_transaction;
	/* Dead letters from the same place in this run are distinct rows
	 * (replay); without it a place is one row (live: a re-read offset).
	 * See io/dead_key.h. */
	bool count_occurrences;
	/* PostgreSQL: delete the rows of the output tables in the same
	 * transaction that writes the new ones (replay --replace), so that
	 * readers see the old rows or the new, never neither. */
	bool delete_rows;
	/* PostgreSQL: connect once, without the few seconds of retries (and
	 * their warnings) that one-shot commands get: the caller retries. */
	bool connect_once;
	/* PostgreSQL: used when the URL names no user / password (the seed's
	 * POSTGRES_USER and POSTGRES_PASSWORD).  Never logged. */
	const char *user;
	const char *password;
};

/* Any target of io/target.h ("sqlite:PATH", a path, a PostgreSQL URL,
 * conninfo or JDBC URL).  NULL on error, with err saying what and where
 * (never a password).  The caller owns the sink (close).  A caller that
 * must tell a bad target (exit 2) from an unreachable database (exit 1)
 * parses it first with target_parse() and calls sink_open_target(). */
struct sink *sink_open(const char *spec, const struct sink_options *opt, struct error *err);
struct sink *sink_open_target(const struct target *t, const struct sink_options *opt,
                              struct error *err);
struct sink *sink_sqlite_open(const char *path, const struct sink_options *opt, struct error *err);
struct sink *sink_postgres_open(const char *conninfo, const struct sink_options *opt,
                                struct error *err);

/* The sink as the engine's output port. */
struct engine_output sink_engine_output(struct sink *s);

#endif
