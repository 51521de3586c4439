/*
 * sink_sqlite.c — the SQLite sink (see sink.h).
 *
 * Rows go straight into the database through prepared upserts, inside a
 * transaction that the first write of a batch opens and commit() closes,
 * together with the checkpoint when there is one (`live --sink sqlite:`).
 * A transaction SQLite rolled back by itself (disk full, I/O error) takes
 * the rows written since the last commit with it; the sink notices — it
 * believes a transaction is open and SQLite says none is — and from then
 * on refuses to commit, because committing the next checkpoint would skip
 * those rows.  A restart recomputes them from the last checkpoint.
 *
 * With options.replace the file is built beside the target, without a
 * journal, and renamed over it at finish(): a failed run leaves the
 * previous output as it was.  Such a fresh file also gets the indexes of
 * chat_summary_minute after its rows (see "Indexes after the load").
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/timestamp.h"
#include "io/dead_key.h"
#include "io/migrations.h"
#include "io/scratch.h"
#include "io/sink.h"
#include "io/sink_format.h"
#include "util/clock.h"
#include "util/new_file.h"

struct sqlite_sink {
	struct sink base;
	sqlite3 *db;
	char *path;     /* the output the user named */
	char *tmp_path; /* the file being built, when replacing */
	int tmp_lock;   /* its scratch lock (io/scratch.h), or -1 */
	sqlite3_stmt *put_window, *put_moment, *put_dead, *put_run, *end_run;
	sqlite3_stmt *put_offset, *put_state, *put_capture;
	sqlite3_stmt *get_offset, *get_state, *get_capture;
	struct buf scratch;
	struct dead_keys *dead_keys;
	struct deferred *deferred; /* chat_summary_minute's indexes, built at finish */
	/* Window rows wait here until batch_rows of them are pending: with
	 * the indexes deferred BATCH_ROWS, going in one statement (see
	 * "Window rows in batches"); otherwise 1. */
	sqlite3_stmt *put_windows; /* INSERT of BATCH_ROWS rows, or NULL */
	struct pending_row *pending;
	size_t n_pending, batch_rows;
	struct buf pending_text; /* the pending rows' texts */
	bool in_txn; /* we opened a transaction and have not committed it */
	bool lost;   /* SQLite rolled it back by itself: the batch is gone */
	bool finished;
};

static bool fail(struct sqlite_sink *s, const char *what)
{
	error_set(&s->base.err, "SQLite %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	return false;
}

static bool exec(struct sqlite_sink *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error_set(&s->base.err, "SQLite %s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return false;
	}
	return true;
}

/* The open transaction of the batch, begun by its first write.  False,
 * with err set, when SQLite rolled back a transaction by itself. */
static bool ensure_txn(struct sqlite_sink *s)
{
	if (!s->lost && s->in_txn && sqlite3_get_autocommit(s->db))
		s->lost = true;
	if (s->lost) {
		error_set(&s->base.err,
		          "SQLite %s: the transaction was rolled back (%s); the rows written since the "
		          "last commit are lost, so nothing more is committed: restart to recompute them "
		          "from the last checkpoint",
		          s->path, sqlite3_errmsg(s->db));
		return false;
	}
	if (!s->in_txn) {
		if (!exec(s, "BEGIN"))
			return false;
		s->in_txn = true;
	}
	return true;
}

static void bind_time(sqlite3_stmt *st, int col, int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	size_t n = timestamp_format(us, t);
	sqlite3_bind_text(st, col, t, (int)n, SQLITE_TRANSIENT);
}

static void bind_opt_double(sqlite3_stmt *st, int col, bool has, double v)
{
	if (has)
		sqlite3_bind_double(st, col, v);
	else
		sqlite3_bind_null(st, col);
}

static int step(struct sqlite_sink *s, sqlite3_stmt *st, const char *what)
{
	if (!ensure_txn(s)) {
		sqlite3_clear_bindings(st);
		return -1;
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fail(s, what);
		return -1;
	}
	return 0;
}

/* --- Window rows in batches ---------------------------------------------
 *
 * On a fresh file (indexes deferred) each window row is a plain INSERT, and
 * then SQLite's cost per statement dominates: chat_summary_minute's id is
 * AUTOINCREMENT, so every INSERT statement reads and rewrites its
 * sqlite_sequence row, besides the statement's own start and end.  One
 * INSERT of BATCH_ROWS rows pays that once (measured on 6 M rows like the
 * 1 M-stream replay's: 3.0 us a row one by one, 1.2-1.4 us in statements of
 * 32).  The rows are copied here (their texts into pending_text) and bound
 * when a batch is full; commit() and finish() write what is left one row
 * at a time, so the ids and the rows are what one INSERT a row gives.
 * Every window row takes this path, so its columns are bound in one place:
 * on any other file (the upsert statement) a batch is one row, written as
 * it comes. */
#define BATCH_ROWS 32
#define WINDOW_COLS 14

struct pending_row {
	size_t text[5]; /* stream_id, window_start, window_end, top_emotes, processed_at */
	uint32_t len[5];
	int64_t chat_count, unique_chatters, positive_count, negative_count;
	double avg_sentiment, chat_rate, avg_viewers, z_score;
	bool has_sentiment, has_viewers, has_z;
	int is_anomaly;
};

static void pend_text(struct sqlite_sink *s, struct pending_row *p, int i, const char *t, size_t n)
{
	p->text[i] = s->pending_text.len;
	p->len[i] = (uint32_t)n;
	buf_add(&s->pending_text, t, n);
}

static void pend_time(struct sqlite_sink *s, struct pending_row *p, int i, int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	pend_text(s, p, i, t, timestamp_format(us, t));
}

/* Bind pending row p at column col + 1.. of st; its texts stay in
 * pending_text until the statement has run. */
static void bind_pending(struct sqlite_sink *s, sqlite3_stmt *st, int col, const struct pending_row *p)
{
	static const int text_col[5] = {1, 2, 3, 11, 14};
	for (int i = 0; i < 5; i++)
		sqlite3_bind_text(st, col + text_col[i], s->pending_text.data + p->text[i], (int)p->len[i],
		                  SQLITE_STATIC);
	sqlite3_bind_int64(st, col + 4, p->chat_count);
	sqlite3_bind_int64(st, col + 5, p->unique_chatters);
	bind_opt_double(st, col + 6, p->has_sentiment, p->avg_sentiment);
	sqlite3_bind_int64(st, col + 7, p->positive_count);
	sqlite3_bind_int64(st, col + 8, p->negative_count);
	sqlite3_bind_double(st, col + 9, p->chat_rate);
	bind_opt_double(st, col + 10, p->has_viewers, p->avg_viewers);
	bind_opt_double(st, col + 12, p->has_z, p->z_score);
	sqlite3_bind_int(st, col + 13, p->is_anomaly);
}

/* Write the pending rows: a full batch in one statement, fewer one by one. */
static int flush_pending(struct sqlite_sink *s)
{
	int rc = 0;
	if (s->put_windows && s->n_pending == BATCH_ROWS) {
		for (size_t i = 0; i < BATCH_ROWS; i++)
			bind_pending(s, s->put_windows, (int)i * WINDOW_COLS, &s->pending[i]);
		rc = step(s, s->put_windows, "writing chat_summary_minute rows");
	} else {
		for (size_t i = 0; i < s->n_pending && rc == 0; i++) {
			bind_pending(s, s->put_window, 0, &s->pending[i]);
			rc = step(s, s->put_window, "writing a chat_summary_minute row");
		}
	}
	s->n_pending = 0;
	buf_reset(&s->pending_text);
	return rc;
}

static int pend_window(struct sqlite_sink *s, const struct window_row *r)
{
	if (!ensure_txn(s)) /* the batch's transaction, begun by its first row */
		return -1;
	struct pending_row *p = &s->pending[s->n_pending];
	pend_text(s, p, 0, r->stream_id.ptr, r->stream_id.len);
	pend_time(s, p, 1, r->start_us);
	pend_time(s, p, 2, r->end_us);
	size_t at = s->pending_text.len;
	format_top_emotes_json(&s->pending_text, r);
	p->text[3] = at;
	p->len[3] = (uint32_t)(s->pending_text.len - at);
	pend_time(s, p, 4, wall_clock_us());
	p->chat_count = r->chat_count;
	p->unique_chatters = r->unique_chatters;
	p->positive_count = r->positive_count;
	p->negative_count = r->negative_count;
	p->has_sentiment = r->has_sentiment;
	p->avg_sentiment = r->avg_sentiment;
	p->chat_rate = r->chat_rate;
	p->has_viewers = r->has_viewers;
	p->avg_viewers = r->avg_viewers;
	p->has_z = r->has_z;
	p->z_score = r->z_score;
	p->is_anomaly = r->is_anomaly;
	return ++s->n_pending == s->batch_rows ? flush_pending(s) : 0;
}

static int sqlite_window(struct sink *base, const struct window_row *r)
{
	return pend_window((struct sqlite_sink *)base, r);
}

static int sqlite_moment(struct sink *base, const struct moment *m)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = s->put_moment;
	sqlite3_bind_text(st, 1, m->stream_id.ptr, (int)m->stream_id.len, SQLITE_TRANSIENT);
	bind_time(st, 2, m->time_us);
	sqlite3_bind_text(st, 3, m->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->description, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 5, m->intensity);
	sqlite3_bind_text(st, 6, m->metadata, -1, SQLITE_TRANSIENT);
	bind_time(st, 7, wall_clock_us());
	return step(s, st, "writing a moment");
}

static int sqlite_dead_letter(struct sink *base, const struct dead_letter *d)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = s->put_dead;
	char key[65];
	int64_t occurrence;
	dead_keys_of(s->dead_keys, d, key, &occurrence);
	sqlite3_bind_text(st, 8, key, 64, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, occurrence);
	sqlite3_bind_text(st, 1, d->pos.source.ptr, (int)d->pos.source.len, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, d->pos.partition);
	sqlite3_bind_int64(st, 3, d->pos.position);
	sqlite3_bind_text(st, 4, dead_reason_name(d->reason), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, d->detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob64(st, 6, d->raw, d->raw_len, SQLITE_TRANSIENT);
	bind_time(st, 7, wall_clock_us());
	return step(s, st, "writing a dead letter");
}

static int put_checkpoint(struct sqlite_sink *s, const struct sink_checkpoint *cp)
{
	char now[TIMESTAMP_BUFSZ];
	timestamp_format(wall_clock_us(), now);
	for (size_t i = 0; i < cp->n_offsets; i++) {
		sqlite3_stmt *st = s->put_offset;
		sqlite3_bind_text(st, 1, cp->group, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, cp->offsets[i].topic, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 3, cp->offsets[i].partition);
		sqlite3_bind_int64(st, 4, cp->offsets[i].next_offset);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
		if (step(s, st, "writing the checkpoint's offsets"))
			return -1;
	}
	for (size_t i = 0; i < cp->n_states; i++) {
		sqlite3_stmt *st = s->put_state;
		sqlite3_bind_text(st, 1, cp->group, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, cp->states[i].partition);
		sqlite3_bind_text64(st, 3, cp->states[i].state, cp->states[i].len, SQLITE_STATIC,
		                    SQLITE_UTF8);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
		if (step(s, st, "writing the checkpoint's state"))
			return -1;
	}
	if (cp->capture_path) {
		sqlite3_stmt *st = s->put_capture;
		sqlite3_bind_text(st, 1, cp->group, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, cp->capture_path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, cp->capture_bytes);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
		if (step(s, st, "writing the checkpoint's capture length"))
			return -1;
	}
	return 0;
}

/* Rows and checkpoint become durable together.  A failed COMMIT (the
 * database busy past the timeout) leaves the transaction open, so that
 * the caller can simply try again. */
static int sqlite_commit(struct sink *base, const struct sink_checkpoint *cp)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	if (cp && !cp->group) {
		error_set(&base->err, "SQLite %s: a checkpoint needs a consumer group", s->path);
		return -1;
	}
	if (s->n_pending && flush_pending(s))
		return -1;
	if (cp && put_checkpoint(s, cp))
		return -1;
	if (!s->in_txn)
		return 0; /* nothing written since the last commit */
	if (!ensure_txn(s))
		return -1;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(s, "committing the rows");
		if (sqlite3_get_autocommit(s->db))
			s->lost = true; /* rolled back, not merely busy */
		return -1;
	}
	s->in_txn = false;
	return 0;
}

/* The batch is the open transaction: rolled back, and the next write
 * begins another. */
static void sqlite_discard(struct sink *base)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	if (s->in_txn && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_txn = s->lost = false;
	s->n_pending = 0; /* rows waiting for their batch's statement go too */
	buf_reset(&s->pending_text);
}

/* Run a prepared lookup with its bindings; *found says whether a row came. */
static int lookup(struct sqlite_sink *s, sqlite3_stmt *st, const char *what, bool *found)
{
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(s, what);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	return 0;
}

static void lookup_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int sqlite_load_offset(struct sink *base, const char *group, const char *topic,
                              int32_t partition, int64_t *next_offset)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = s->get_offset;
	bool found;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, topic, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, partition);
	if (lookup(s, st, "reading the committed offsets", &found))
		return -1;
	*next_offset = found ? sqlite3_column_int64(st, 0) : -1;
	lookup_done(st);
	return 0;
}

static int sqlite_load_state(struct sink *base, const char *group, int32_t partition,
                             char **state, size_t *len)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = s->get_state;
	bool found;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, partition);
	if (lookup(s, st, "reading the committed state", &found))
		return -1;
	*state = NULL;
	*len = 0;
	if (found) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		*len = (size_t)sqlite3_column_bytes(st, 0);
		*state = xstrndup(text ? text : "", *len);
	}
	lookup_done(st);
	return 0;
}

static int sqlite_load_capture_bytes(struct sink *base, const char *group, const char *path,
                                     int64_t *bytes)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = s->get_capture;
	bool found;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	if (lookup(s, st, "reading the committed capture length", &found))
		return -1;
	*bytes = found ? sqlite3_column_int64(st, 0) : -1;
	lookup_done(st);
	return 0;
}

static void bind_stats(sqlite3_stmt *st, int col, const struct engine_stats *x)
{
	sqlite3_bind_int64(st, col, (sqlite3_int64)x->records);
	sqlite3_bind_int64(st, col + 1, (sqlite3_int64)(x->chat + x->viewer));
	sqlite3_bind_int64(st, col + 2, (sqlite3_int64)x->accepted);
	sqlite3_bind_int64(st, col + 3, (sqlite3_int64)x->dead[DEAD_LATE]);
	sqlite3_bind_int64(st, col + 4, (sqlite3_int64)x->dead_total);
	sqlite3_bind_int64(st, col + 5, (sqlite3_int64)x->windows);
	sqlite3_bind_int64(st, col + 6, (sqlite3_int64)x->moments);
}

static int sqlite_has_rows(struct sink *base, bool *any)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT EXISTS (SELECT 1 FROM chat_summary_minute) OR EXISTS (SELECT 1"
	                       " FROM moments) OR EXISTS (SELECT 1 FROM dead_letters)",
	                       -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return fail(s, "reading the output tables") ? 0 : -1;
	}
	*any = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return 0;
}

static int sqlite_run_begin(struct sink *base, struct run_info *run)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = s->put_run;
	sqlite3_bind_text(st, 1, run->command, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, PACKAGE_VERSION, -1, SQLITE_STATIC);
	bind_time(st, 3, run->started_us);
	sqlite3_bind_text(st, 4, run->config_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, run->inputs_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, run->mode, -1, SQLITE_TRANSIENT);
	char host[256];
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		sqlite3_bind_text(st, 7, host, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(st, 8, (sqlite3_int64)getpid());
	if (step(s, st, "recording the run"))
		return -1;
	run->id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int sqlite_run_end(struct sink *base, const struct run_info *run)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	sqlite3_stmt *st = s->end_run;
	buf_reset(&s->scratch);
	format_stats_json(&s->scratch, run->stats);
	if (run->finished_us)
		bind_time(st, 1, run->finished_us);
	bind_time(st, 12, wall_clock_us());
	sqlite3_bind_text(st, 2, run->inputs_json, -1, SQLITE_TRANSIENT);
	bind_stats(st, 3, run->stats);
	sqlite3_bind_text(st, 10, s->scratch.data, (int)s->scratch.len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 11, run->id);
	return step(s, st, "recording the run");
}

/* The run's row now, outside any batch (see sink.h). */
static int sqlite_run_update(struct sink *base, const struct run_info *run)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	if (s->in_txn) {
		error_set(&base->err, "SQLite %s: cannot update the run while a batch is uncommitted",
		          s->path);
		return -1;
	}
	return sqlite_run_end(base, run);
}

static void finalize_all(struct sqlite_sink *s)
{
	sqlite3_stmt **all[] = {&s->put_window, &s->put_windows, &s->put_moment, &s->put_dead,
	                        &s->put_run,    &s->end_run,    &s->put_offset,
	                        &s->put_state,  &s->put_capture, &s->get_offset,
	                        &s->get_state,  &s->get_capture};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

/* --- Indexes after the load ------------------------------------------------
 *
 * A replay into a fresh file writes millions of window rows, and keeping
 * the UNIQUE (stream_id, window_start, window_end) index while they come
 * costs a random B-tree insert per row (rows come by window, the key
 * starts with the stream): with 1 M streams that was more than half of
 * all the CPU the run took.  CREATE INDEX on the loaded table sorts
 * instead.  But a UNIQUE table constraint cannot be added to a table that
 * exists, and the file must end with exactly the schema the migrations
 * make (the same sqlite_master rows, in the same order, with the same
 * SQL), so the schema is edited in place, on this private file only:
 *
 *   open:   the table's SQL loses its UNIQUE clause and its automatic
 *           index becomes a named one; both indexes are dropped (their
 *           pages go to the free list); windows are plain INSERTs;
 *   finish: the unique index is built (duplicates, which only a stream
 *           that arrives on two partitions makes, are first merged as the
 *           upsert would have merged them: the first row's id, the last
 *           row's values), then the window index from its own SQL; then
 *           the sqlite_master rows get back their names, SQL and rowids.
 *
 * The edits use PRAGMA writable_schema and bump schema_version so that
 * SQLite reloads the schema; the file's journal is off while it loads and
 * in memory while the indexes are built, so that a failed statement is
 * undone.  The file on disk is, but for root page
 * numbers and the schema cookie, what the upserts would have built; a run
 * that fails is thrown away with its file anyway.  --append, live and
 * any file not built fresh keep the upserts. */
struct deferred {
	sqlite3_int64 table_rowid, unique_rowid, index_rowid;
	char *table_sql; /* as the migrations wrote it */
	char *index_sql; /* CREATE INDEX chat_summary_by_window ... */
};

#define LOAD_UNIQUE "telemetra_load_unique"
#define WINDOW_KEY "stream_id, window_start, window_end"
#define WINDOW_VALUES                                                                         \
	"chat_count, unique_chatters, avg_sentiment, positive_count, negative_count, chat_rate," \
	" avg_viewers, top_emotes, z_score, is_anomaly, processed_at"

static void deferred_free(struct deferred *d)
{
	if (!d)
		return;
	free(d->table_sql);
	free(d->index_sql);
	free(d);
}

/* One text and one integer from a query of one row; false if no row. */
static bool row_of(struct sqlite_sink *s, const char *sql, sqlite3_int64 *rowid, char **text)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		*rowid = sqlite3_column_int64(st, 0);
		const unsigned char *t = sqlite3_column_text(st, 1);
		if (text)
			*text = t ? xstrdup((const char *)t) : NULL;
	}
	sqlite3_finalize(st);
	return ok;
}

/* Edit sqlite_master under writable_schema, then make SQLite reload it. */
static bool edit_schema(struct sqlite_sink *s, const char *edits)
{
	sqlite3_int64 cookie;
	if (!row_of(s, "PRAGMA schema_version", &cookie, NULL))
		return fail(s, "reading the schema version");
	struct buf b = BUF_INIT;
	buf_printf(&b, "PRAGMA writable_schema = ON; %s; PRAGMA schema_version = %lld;"
	           " PRAGMA writable_schema = OFF", edits, (long long)cookie + 1);
	bool ok = exec(s, b.data);
	buf_free(&b);
	return ok;
}

/* At open, on a freshly migrated file: take chat_summary_minute's indexes
 * away for the load (s->deferred says how to put them back).  Leaves the
 * schema as it is, and returns true, when it is not the one expected. */
static bool defer_indexes(struct sqlite_sink *s)
{
	struct deferred *d = xcalloc(1, sizeof(*d));
	sqlite3_int64 n_other;
	char *stripped = NULL;
	const char *clause = ",\n    UNIQUE (" WINDOW_KEY ")\n";
	bool ok = true;
	if (!row_of(s, "SELECT rowid, sql FROM sqlite_master WHERE type = 'table'"
	               " AND name = 'chat_summary_minute'", &d->table_rowid, &d->table_sql) ||
	    !row_of(s, "SELECT rowid, sql FROM sqlite_master WHERE type = 'index'"
	               " AND name = 'sqlite_autoindex_chat_summary_minute_1' AND sql IS NULL",
	            &d->unique_rowid, NULL) ||
	    !row_of(s, "SELECT rowid, sql FROM sqlite_master WHERE type = 'index'"
	               " AND name = 'chat_summary_by_window' AND sql IS NOT NULL",
	            &d->index_rowid, &d->index_sql) ||
	    !row_of(s, "SELECT count(*), NULL FROM sqlite_master WHERE tbl_name = 'chat_summary_minute'",
	            &n_other, NULL) ||
	    n_other != 3 || !d->table_sql || !strstr(d->table_sql, clause)) {
		deferred_free(d); /* not the schema this knows: keep the upserts */
		return true;
	}
	/* the table's SQL without its UNIQUE clause */
	const char *at = strstr(d->table_sql, clause);
	struct buf b = BUF_INIT;
	buf_add(&b, d->table_sql, (size_t)(at - d->table_sql));
	buf_adds(&b, "\n");
	buf_adds(&b, at + strlen(clause));
	stripped = buf_detach(&b);
	char *edits = sqlite3_mprintf(
		"UPDATE sqlite_master SET sql = %Q WHERE rowid = %lld;"
		" UPDATE sqlite_master SET name = '" LOAD_UNIQUE "', sql = 'CREATE UNIQUE INDEX "
		LOAD_UNIQUE " ON chat_summary_minute (" WINDOW_KEY ")' WHERE rowid = %lld",
		stripped, (long long)d->table_rowid, (long long)d->unique_rowid);
	ok = edit_schema(s, edits) &&
	     exec(s, "DROP INDEX " LOAD_UNIQUE "; DROP INDEX chat_summary_by_window");
	sqlite3_free(edits);
	free(stripped);
	if (!ok) {
		deferred_free(d);
		return false;
	}
	s->deferred = d;
	return true;
}

/* At finish: the indexes, and the schema as the migrations made it. */
static bool build_indexes(struct sqlite_sink *s)
{
	struct deferred *d = s->deferred;
	const char *unique = "CREATE UNIQUE INDEX " LOAD_UNIQUE " ON chat_summary_minute (" WINDOW_KEY ")";
	if (sqlite3_exec(s->db, unique, NULL, NULL, NULL) != SQLITE_OK) {
		/* Duplicate keys: merge them as ON CONFLICT DO UPDATE would have
		 * (the first row keeps its id and takes the last row's values),
		 * in one sort of the table. */
		if (sqlite3_errcode(s->db) != SQLITE_CONSTRAINT)
			return fail(s, "building the chat_summary_minute index");
		if (!exec(s, "CREATE TEMP TABLE telemetra_dups (id INTEGER PRIMARY KEY, keep INTEGER,"
		             " last INTEGER);"
		             " INSERT INTO telemetra_dups SELECT id, keep, last FROM (SELECT id,"
		             " min(id) OVER k AS keep, max(id) OVER k AS last, count(*) OVER k AS n"
		             " FROM chat_summary_minute WINDOW k AS (PARTITION BY " WINDOW_KEY "))"
		             " WHERE n > 1;"
		             " UPDATE chat_summary_minute SET (" WINDOW_VALUES ") = (SELECT " WINDOW_VALUES
		             " FROM chat_summary_minute AS l WHERE l.id = (SELECT last FROM telemetra_dups"
		             " WHERE telemetra_dups.id = chat_summary_minute.id))"
		             " WHERE id IN (SELECT id FROM telemetra_dups WHERE id = keep);"
		             " DELETE FROM chat_summary_minute WHERE id IN (SELECT id FROM telemetra_dups"
		             " WHERE id <> keep);"
		             " DROP TABLE telemetra_dups") ||
		    !exec(s, unique))
			return false;
	}
	if (!exec(s, d->index_sql))
		return false;
	char *edits = sqlite3_mprintf(
		"UPDATE sqlite_master SET rowid = %lld, name = 'sqlite_autoindex_chat_summary_minute_1',"
		" sql = NULL WHERE name = '" LOAD_UNIQUE "';"
		" UPDATE sqlite_master SET rowid = %lld WHERE name = 'chat_summary_by_window';"
		" UPDATE sqlite_master SET sql = %Q WHERE rowid = %lld",
		(long long)d->unique_rowid, (long long)d->index_rowid, d->table_sql,
		(long long)d->table_rowid);
	bool ok = edit_schema(s, edits);
	sqlite3_free(edits);
	return ok;
}

static int sqlite_finish(struct sink *base)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	if (s->deferred && !s->lost) {
		/* The rows first; then the indexes with a journal (in memory: it
		 * holds the few pages that existed before, not the new ones), so
		 * that a CREATE UNIQUE INDEX that meets a duplicate is undone. */
		if (sqlite_commit(base, NULL))
			return -1;
		if (!exec(s, "PRAGMA journal_mode = MEMORY") || !ensure_txn(s) || !build_indexes(s)) {
			error_set(&base->err, "SQLite %s: building the chat_summary_minute indexes: %s",
			          s->path, sqlite3_errmsg(s->db));
			return -1;
		}
		deferred_free(s->deferred);
		s->deferred = NULL;
	}
	if (sqlite_commit(base, NULL))
		return -1;
	finalize_all(s);
	if (sqlite3_close(s->db) != SQLITE_OK)
		return fail(s, "closing") ? 0 : -1;
	s->db = NULL;
	if (s->tmp_path) {
		/* The new file is complete: make it durable, then swap it in, so
		 * that a crash leaves either the old output or the new one. */
		if (!file_put_in_place(s->tmp_path, s->path, &base->err))
			return -1;
		free(s->tmp_path);
		s->tmp_path = NULL;
		s->base.scratch_path = NULL;
		scratch_release(s->tmp_lock);
		s->tmp_lock = -1;
	}
	s->finished = true;
	return 0;
}

static void sqlite_close(struct sink *base)
{
	struct sqlite_sink *s = (struct sqlite_sink *)base;
	finalize_all(s);
	if (s->db) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(s->db);
	}
	if (s->tmp_path) {
		unlink(s->tmp_path);
		free(s->tmp_path);
	}
	if (s->tmp_lock >= 0)
		scratch_release(s->tmp_lock);
	buf_free(&s->scratch);
	buf_free(&s->pending_text);
	free(s->pending);
	deferred_free(s->deferred);
	dead_keys_free(s->dead_keys);
	free(s->path);
	free(base->name);
	free(s);
}

static const struct sink_row_ops sqlite_rows = {
	.window = sqlite_window,
	.moment = sqlite_moment,
	.dead_letter = sqlite_dead_letter,
	.commit = sqlite_commit,
	.discard = sqlite_discard,
	.has_rows = sqlite_has_rows,
	.finish = sqlite_finish,
	.close = sqlite_close,
};

static const struct sink_checkpoint_ops sqlite_checkpoints = {
	.load_offset = sqlite_load_offset,
	.load_state = sqlite_load_state,
	.load_capture_bytes = sqlite_load_capture_bytes,
};

static const struct sink_run_ops sqlite_runs = {
	.begin = sqlite_run_begin,
	.end = sqlite_run_end,
	.update = sqlite_run_update,
};

static bool prepare(struct sqlite_sink *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return fail(s, "preparing a statement");
	return true;
}

struct sink *sink_sqlite_open(const char *path, const struct sink_options *opt, struct error *err)
{
	struct sqlite_sink *s = xcalloc(1, sizeof(*s));
	s->base.rows = &sqlite_rows;
	s->base.checkpoints = &sqlite_checkpoints;
	s->base.runs = &sqlite_runs;
	s->base.name = xstrdup(path);
	s->path = xstrdup(path);
	s->tmp_lock = -1;
	s->dead_keys = dead_keys_new(opt && opt->count_occurrences);
	const char *file = path;
	if (opt && opt->replace) {
		scratch_sweep(path);
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s.tmp-%ld", path, (long)getpid());
		s->tmp_path = buf_detach(&b);
		s->tmp_lock = scratch_claim(s->tmp_path);
		if (s->tmp_lock < 0) {
			error_set(err, "cannot create %s (building it as %s): %s", path, s->tmp_path,
			          strerror(errno));
			free(s->tmp_path);
			s->tmp_path = NULL;
			sqlite_close(&s->base);
			return NULL;
		}
		s->base.scratch_path = s->tmp_path;
		file = s->tmp_path;
	}
	/* NOMUTEX: one thread at a time uses the connection (replay's writer
	 * thread takes it over and hands it back by a join), and SQLite's
	 * serialized mode took its mutex around every bind: ~15 % of the
	 * writer thread's samples with 1 M streams. */
	if (sqlite3_open_v2(file, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		error_set(err, "cannot create SQLite database %s: %s", file,
		          s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite_close(&s->base);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 5000);
	int applied;
	/* A file built from scratch and swapped in at the end needs no
	 * journal: if the run fails it is simply thrown away.  Its load only
	 * appends, so the page cache holds little but the pages being filled,
	 * and CREATE INDEX sorts in as much memory as the cache is allowed:
	 * 1000 KiB rather than SQLite's 2000 KiB, which the 1 M-event bench
	 * file reached and the 250 k-event one did not (peak RSS 18.3 / 21.0 /
	 * 21.1 MB at 250 k / 1 M / 4 M events before; no CPU time lost, also
	 * with 1 M streams: doc/decisions.md, "Replay speed, sixth pass"). */
	if ((s->tmp_path &&
	     !exec(s, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000")) ||
	    !migrate_sqlite(s->db, path, &applied, &s->base.err) ||
	    (s->tmp_path && applied == n_migrations && !defer_indexes(s)) ||
	    !prepare(s, &s->put_window,
	             s->deferred
	             ? "INSERT INTO chat_summary_minute (stream_id, window_start, window_end, chat_count,"
	               " unique_chatters, avg_sentiment, positive_count, negative_count, chat_rate,"
	               " avg_viewers, top_emotes, z_score, is_anomaly, processed_at)"
	               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	             : "INSERT INTO chat_summary_minute (stream_id, window_start, window_end, chat_count,"
	             " unique_chatters, avg_sentiment, positive_count, negative_count, chat_rate,"
	             " avg_viewers, top_emotes, z_score, is_anomaly, processed_at)"
	             " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	             " ON CONFLICT (stream_id, window_start, window_end) DO UPDATE SET"
	             " chat_count = excluded.chat_count, unique_chatters = excluded.unique_chatters,"
	             " avg_sentiment = excluded.avg_sentiment, positive_count = excluded.positive_count,"
	             " negative_count = excluded.negative_count, chat_rate = excluded.chat_rate,"
	             " avg_viewers = excluded.avg_viewers, top_emotes = excluded.top_emotes,"
	             " z_score = excluded.z_score, is_anomaly = excluded.is_anomaly,"
	             " processed_at = excluded.processed_at") ||
	    !prepare(s, &s->put_moment,
	             "INSERT INTO moments (stream_id, timestamp, moment_type, description, intensity,"
	             " metadata, detected_at) VALUES (?,?,?,?,?,?,?)"
	             " ON CONFLICT (stream_id, moment_type, timestamp) DO UPDATE SET"
	             " description = excluded.description, intensity = excluded.intensity,"
	             " metadata = excluded.metadata, detected_at = excluded.detected_at") ||
	    !prepare(s, &s->put_dead,
	             "INSERT INTO dead_letters (source, partition, position, reason, detail, raw,"
	             " received_at, source_key, occurrence) VALUES (?,?,?,?,?,?,?,?,?)"
	             " ON CONFLICT (source_key, partition, position, occurrence) DO UPDATE SET"
	             " source = excluded.source, reason = excluded.reason, detail = excluded.detail,"
	             " raw = excluded.raw, received_at = excluded.received_at") ||
	    !prepare(s, &s->put_run,
	             "INSERT INTO runs (command, version, started_at, config, inputs, mode, host,"
	             " pid) VALUES (?,?,?,?,?,?,?,?)") ||
	    !prepare(s, &s->end_run,
	             "UPDATE runs SET finished_at = ?, inputs = ?, records = ?, events = ?,"
	             " accepted = ?, late = ?, dead_letters = ?, windows = ?, moments = ?, stats = ?,"
	             " updated_at = ?12 WHERE id = ?11") ||
	    !prepare(s, &s->put_offset,
	             "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset,"
	             " updated_at) VALUES (?,?,?,?,?)"
	             " ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET"
	             " next_offset = excluded.next_offset, updated_at = excluded.updated_at") ||
	    !prepare(s, &s->put_state,
	             "INSERT INTO core_state (consumer_group, partition, state, updated_at)"
	             " VALUES (?,?,?,?) ON CONFLICT (consumer_group, partition) DO UPDATE SET"
	             " state = excluded.state, updated_at = excluded.updated_at") ||
	    !prepare(s, &s->put_capture,
	             "INSERT INTO capture_lengths (consumer_group, path, bytes, updated_at)"
	             " VALUES (?,?,?,?) ON CONFLICT (consumer_group, path) DO UPDATE SET"
	             " bytes = excluded.bytes, updated_at = excluded.updated_at") ||
	    !prepare(s, &s->get_offset,
	             "SELECT next_offset FROM consumer_offsets"
	             " WHERE consumer_group = ? AND topic = ? AND partition = ?") ||
	    !prepare(s, &s->get_state,
	             "SELECT state FROM core_state WHERE consumer_group = ? AND partition = ?") ||
	    !prepare(s, &s->get_capture,
	             "SELECT bytes FROM capture_lengths WHERE consumer_group = ? AND path = ?")) {
		*err = s->base.err;
		sqlite_close(&s->base);
		return NULL;
	}
	if (s->deferred) {
		struct buf b = BUF_INIT;
		buf_adds(&b, "INSERT INTO chat_summary_minute (stream_id, window_start, window_end,"
		             " chat_count, unique_chatters, avg_sentiment, positive_count, negative_count,"
		             " chat_rate, avg_viewers, top_emotes, z_score, is_anomaly, processed_at) VALUES ");
		for (int i = 0; i < BATCH_ROWS; i++)
			buf_adds(&b, i ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
		bool ok = prepare(s, &s->put_windows, b.data);
		buf_free(&b);
		if (!ok) {
			*err = s->base.err;
			sqlite_close(&s->base);
			return NULL;
		}
	}
	s->batch_rows = s->put_windows ? BATCH_ROWS : 1;
	s->pending = xcalloc(s->batch_rows, sizeof(*s->pending));
	return &s->base;
}
