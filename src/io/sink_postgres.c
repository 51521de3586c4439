/*
 * sink_postgres.c — the PostgreSQL sink (see sink.h).
 *
 * The batch lives in memory.  window(), moment() and dead_letter() only
 * append a line of COPY text to the batch of their table; nothing reaches
 * the server before commit().  That is what makes a lost database
 * harmless: when a commit fails — server stopped, connection cut, COMMIT
 * unanswered — the transaction is rolled back (or dies with its
 * connection), the batch is still here, whole, and the next commit()
 * reconnects if it must and sends all of it again, with the newest
 * checkpoint.  The daemon pauses consumption meanwhile, so the batch
 * grows only by what was already in flight.
 *
 * One commit is one transaction, a handful of round trips whatever the
 * batch size:
 *
 *     BEGIN
 *     COPY pg_temp.stage_<table> FROM STDIN      per table with rows
 *     INSERT INTO <table> SELECT DISTINCT ON (key) ... FROM pg_temp.stage_<table>
 *         ORDER BY key, seq DESC ON CONFLICT (key) DO UPDATE SET ...
 *     (the same for the checkpoint: offsets, group states, capture length)
 *     COMMIT
 *
 * COPY is the fastest way into PostgreSQL, but it cannot upsert; the
 * staging tables (temporary, ON COMMIT DELETE ROWS, created once per
 * connection with the column types of their target) give COPY's speed and
 * INSERT ... ON CONFLICT's idempotence.  Upserts are what make a retry
 * safe even when the COMMIT's answer was lost and it is unknown whether
 * it happened: sending the batch again rewrites the same rows with the
 * same values, so nothing is lost or doubled.  DISTINCT ON keeps the last
 * of several rows with one key in a batch (a stream seen in two watermark
 * groups, a file replayed twice), as the SQLite sink's row-by-row upserts
 * do; ON CONFLICT DO UPDATE refuses to touch a row twice in one statement.
 * It also sorts: rows are written in key order, so two daemons that write
 * the same keys (a stream seen on two partitions) lock them in the same
 * order and cannot deadlock.
 *
 * Text: every string goes through escape_text(), which escapes for COPY and
 * makes it valid UTF-8 without NUL (PostgreSQL text can hold neither); the
 * decoder already guarantees this for ids and emotes, so only a pathological
 * file name or detail could differ from SQLite (bad bytes become U+FFFD).
 *
 * Replay uses the same path: the rows of the whole run are one batch that
 * finish() commits, with the end of the runs row, in one transaction.  (The
 * runs row itself is inserted at run_begin, which must return its id, so
 * a run that fails stays visible as one that never finished.)  A batch that
 * size would hold a month's backfill in memory, so replay opens the sink
 * with `one_transaction`: whenever a table's COPY text passes SPILL_BYTES
 * it goes to the server at once, inside the run's transaction (COPY, upsert,
 * empty the staging table), and memory stays bounded.  The price is the
 * retry: once rows have left, a lost connection loses them with its
 * transaction, so that commit fails for good instead of being sent again;
 * the replay exits 1 and running it again rewrites the same rows.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/timestamp.h"
#include "core/utf8.h"
#include "io/dead_key.h"
#include "io/migrations.h"
#include "io/pg.h"
#include "io/sink.h"
#include "io/sink_format.h"
#include "util/clock.h"
#include "util/sha256.h"

/* --- the tables a commit writes ----------------------------------------- */

enum stage_id {
	ST_SUMMARY,
	ST_MOMENTS,
	ST_DEAD,
	ST_OFFSETS, /* the checkpoint: rebuilt by every commit */
	ST_STATE,
	ST_CAPTURE,
	N_STAGES
};
#define FIRST_CHECKPOINT_STAGE ST_OFFSETS

struct stage_def {
	const char *table;
	const char *const *cols; /* the conflict key first */
	int n_cols, n_key;
};

static const char *const summary_cols[] = {
	"stream_id",     "window_start",   "window_end",     "chat_count", "unique_chatters",
	"avg_sentiment", "positive_count", "negative_count", "chat_rate",  "avg_viewers",
	"top_emotes",    "z_score",        "is_anomaly",     "processed_at",
};
static const char *const moment_cols[] = {
	"stream_id", "moment_type", "timestamp", "description", "intensity", "metadata", "detected_at",
};
static const char *const dead_cols[] = {
	"source_key", "partition", "position", "occurrence", "source",
	"reason",     "detail",    "raw",      "received_at",
};
static const char *const offset_cols[] = {
	"consumer_group", "topic", "partition", "next_offset", "updated_at",
};
static const char *const state_cols[] = {"consumer_group", "partition", "state", "updated_at"};
static const char *const capture_cols[] = {"consumer_group", "path_key", "path", "bytes",
                                           "updated_at"};

#define STAGE(table, cols, n_key) {table, cols, (int)(sizeof(cols) / sizeof(cols[0])), n_key}
static const struct stage_def stages[N_STAGES] = {
	STAGE("chat_summary_minute", summary_cols, 3),
	STAGE("moments", moment_cols, 3),
	STAGE("dead_letters", dead_cols, 4),
	STAGE("consumer_offsets", offset_cols, 3),
	STAGE("core_state", state_cols, 2),
	STAGE("capture_lengths", capture_cols, 2),
};

/* The end of a run, written by the next commit (see pg_run_end). */
struct run_end {
	int64_t id, finished_us;
	char *inputs_json;
	struct engine_stats stats;
};

struct pg_sink {
	struct sink base;
	struct pg_target target;
	PGconn *conn; /* NULL while the database is away */
	struct buf stage_text[N_STAGES]; /* COPY text; the batch for rows */
	int64_t stage_rows[N_STAGES];
	char *sql_create, *sql_copy[N_STAGES], *sql_upsert[N_STAGES];
	struct run_end *run_end; /* owned; NULL when none is pending */
	struct buf scratch;
	struct dead_keys *dead_keys;
	bool one_transaction; /* sink_options: rows may spill before commit */
	bool spilled;         /* the open transaction holds rows sent early */
	bool delete_pending;  /* sink_options.delete_rows, until a commit did it */
};

/* How much COPY text of one table a one-transaction sink keeps before
 * sending it: large enough that COPY's per-statement cost vanishes. */
#define SPILL_BYTES (8u << 20)

/* --- SQL, generated once from the stage definitions ---------------------- */

/* "a", "b", ... : the first n columns of d, quoted. */
static void add_cols(struct buf *b, const struct stage_def *d, int n)
{
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s\"%s\"", i ? ", " : "", d->cols[i]);
}

static void make_sql(struct pg_sink *s)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < N_STAGES; i++) {
		const struct stage_def *d = &stages[i];
		buf_printf(&b, "CREATE TEMP TABLE stage_%s ON COMMIT DELETE ROWS AS SELECT", d->table);
		buf_adds(&b, " 0::bigint AS seq, ");
		add_cols(&b, d, d->n_cols);
		buf_printf(&b, " FROM %s WITH NO DATA;\n", d->table);
	}
	s->sql_create = buf_detach(&b);

	for (int i = 0; i < N_STAGES; i++) {
		const struct stage_def *d = &stages[i];
		buf_printf(&b, "COPY pg_temp.stage_%s (seq, ", d->table);
		add_cols(&b, d, d->n_cols);
		buf_adds(&b, ") FROM STDIN");
		s->sql_copy[i] = buf_detach(&b);

		buf_printf(&b, "INSERT INTO %s (", d->table);
		add_cols(&b, d, d->n_cols);
		buf_adds(&b, ") SELECT DISTINCT ON (");
		add_cols(&b, d, d->n_key);
		buf_adds(&b, ") ");
		add_cols(&b, d, d->n_cols);
		buf_printf(&b, " FROM pg_temp.stage_%s ORDER BY ", d->table);
		add_cols(&b, d, d->n_key);
		buf_adds(&b, ", seq DESC ON CONFLICT (");
		add_cols(&b, d, d->n_key);
		buf_adds(&b, ") DO UPDATE SET ");
		for (int c = d->n_key; c < d->n_cols; c++)
			buf_printf(&b, "%s\"%s\" = excluded.\"%s\"", c > d->n_key ? ", " : "", d->cols[c],
			           d->cols[c]);
		buf_adds(&b, ";\n");
		s->sql_upsert[i] = buf_detach(&b);
	}
}

/* --- COPY text --------------------------------------------------------------- */

/* A string for a COPY text field: backslash, tab, newline and carriage
 * return escaped; bytes that are not UTF-8, and NUL, become U+FFFD. */
static void escape_text(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '\\')
			p++;
		buf_add(b, run, (size_t)(p - run));
		if (p == end)
			break;
		const char *esc = *p == '\\' ? "\\\\"
		                  : *p == '\n' ? "\\n"
		                  : *p == '\r' ? "\\r"
		                  : *p == '\t' ? "\\t"
		                  : *p == '\0' ? "\xEF\xBF\xBD"
		                                : NULL;
		if (esc) {
			buf_adds(b, esc);
			p++;
			continue;
		}
		size_t len = *p < 0x80 ? 1 : utf8_sequence_length(p, (size_t)(end - p));
		if (len) {
			buf_add(b, p, len);
			p += len;
		} else {
			buf_adds(b, "\xEF\xBF\xBD");
			p++;
		}
	}
}

/*
 * The columns of a row.  row_begin() writes the row's sequence number in
 * the batch (staging column seq); each col_*() then writes a tab and one
 * field; row_end() the newline.  NULL is \N.
 */
static struct buf *row_begin(struct pg_sink *s, enum stage_id i)
{
	struct buf *b = &s->stage_text[i];
	buf_printf(b, "%" PRId64, s->stage_rows[i]++);
	return b;
}

static void row_end(struct buf *b)
{
	buf_addc(b, '\n');
}

static void col_text(struct buf *b, const char *p, size_t n)
{
	buf_addc(b, '\t');
	escape_text(b, p, n);
}

static void col_cstr(struct buf *b, const char *s)
{
	if (s)
		col_text(b, s, strlen(s));
	else
		buf_adds(b, "\t\\N");
}

static void col_int(struct buf *b, int64_t v)
{
	buf_printf(b, "\t%" PRId64, v);
}

static void col_bool(struct buf *b, bool v)
{
	buf_adds(b, v ? "\tt" : "\tf");
}

/* 17 significant digits: the exact double, read back bit for bit. */
static void col_double(struct buf *b, bool has, double v)
{
	if (!has)
		buf_adds(b, "\t\\N");
	else if (isnan(v))
		buf_adds(b, "\tNaN");
	else if (isinf(v))
		buf_adds(b, v > 0 ? "\tInfinity" : "\t-Infinity");
	else
		buf_printf(b, "\t%.17g", v);
}

/* 'YYYY-MM-DD HH:MM:SS.ffffff', as SQLite stores it. */
static void col_time(struct buf *b, int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	buf_addc(b, '\t');
	buf_add(b, t, timestamp_format(us, t));
}

/* bytea in hex form, \x0a1b..., whose backslash COPY wants doubled. */
static void col_bytea(struct buf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_reserve(b, 4 + 2 * n);
	buf_adds(b, "\t\\\\x");
	for (size_t i = 0; i < n; i++) {
		char h[2] = {hex[(unsigned char)p[i] >> 4], hex[(unsigned char)p[i] & 15]};
		buf_add(b, h, 2);
	}
}

/* A TEXT[] literal with every element quoted, {"a","b\"c"}, then escaped
 * for COPY like any text; tmp is scratch space. */
static void col_text_array(struct buf *b, struct buf *tmp, const struct strview *v, size_t n)
{
	buf_reset(tmp);
	buf_addc(tmp, '{');
	for (size_t i = 0; i < n; i++) {
		buf_adds(tmp, i ? ",\"" : "\"");
		for (size_t j = 0; j < v[i].len; j++) {
			char c = v[i].ptr[j];
			if (c == '"' || c == '\\')
				buf_addc(tmp, '\\');
			buf_addc(tmp, c);
		}
		buf_addc(tmp, '"');
	}
	buf_addc(tmp, '}');
	col_text(b, tmp->data, tmp->len);
}

/* --- rows ---------------------------------------------------------------- */

static int spill(struct pg_sink *s, enum stage_id i);

/* Returns 0, or -1 with err set when a spill failed. */
static int maybe_spill(struct pg_sink *s, enum stage_id i)
{
	if (s->one_transaction && s->stage_text[i].len >= SPILL_BYTES)
		return spill(s, i);
	return 0;
}

static int pg_window(struct sink *base, const struct window_row *r)
{
	struct pg_sink *s = (struct pg_sink *)base;
	struct buf *b = row_begin(s, ST_SUMMARY);
	col_text(b, r->stream_id.ptr, r->stream_id.len);
	col_time(b, r->start_us);
	col_time(b, r->end_us);
	col_int(b, r->chat_count);
	col_int(b, r->unique_chatters);
	col_double(b, r->has_sentiment, r->avg_sentiment);
	col_int(b, r->positive_count);
	col_int(b, r->negative_count);
	col_double(b, true, r->chat_rate);
	col_double(b, r->has_viewers, r->avg_viewers);
	col_text_array(b, &s->scratch, r->top_emotes, r->n_top_emotes);
	col_double(b, r->has_z, r->z_score);
	col_bool(b, r->is_anomaly);
	col_time(b, wall_clock_us());
	row_end(b);
	return maybe_spill(s, ST_SUMMARY);
}

static int pg_moment(struct sink *base, const struct moment *m)
{
	struct pg_sink *s = (struct pg_sink *)base;
	struct buf *b = row_begin(s, ST_MOMENTS);
	col_text(b, m->stream_id.ptr, m->stream_id.len);
	col_cstr(b, m->type);
	col_time(b, m->time_us);
	col_cstr(b, m->description);
	col_double(b, true, m->intensity);
	col_cstr(b, m->metadata);
	col_time(b, wall_clock_us());
	row_end(b);
	return maybe_spill(s, ST_MOMENTS);
}

static int pg_dead_letter(struct sink *base, const struct dead_letter *d)
{
	struct pg_sink *s = (struct pg_sink *)base;
	char key[65];
	int64_t occurrence;
	dead_keys_of(s->dead_keys, d, key, &occurrence);
	struct buf *b = row_begin(s, ST_DEAD);
	col_text(b, key, 64);
	col_int(b, d->pos.partition);
	col_int(b, d->pos.position);
	col_int(b, occurrence);
	col_text(b, d->pos.source.ptr, d->pos.source.len);
	col_cstr(b, dead_reason_name(d->reason));
	col_cstr(b, d->detail);
	col_bytea(b, d->raw, d->raw_len);
	col_time(b, wall_clock_us());
	row_end(b);
	return maybe_spill(s, ST_DEAD);
}

/* capture_lengths' key of a path: its SHA-256 in hex (migration 004), so
 * that a path of any length fits the index. */
static void path_key(const char *path, char hex[65])
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, path, strlen(path));
	sha256_hex(&h, hex);
	sha256_free(&h);
}

/* The checkpoint as rows of the checkpoint stages (emptied first). */
static void stage_checkpoint(struct pg_sink *s, const struct sink_checkpoint *cp)
{
	for (int i = FIRST_CHECKPOINT_STAGE; i < N_STAGES; i++) {
		buf_reset(&s->stage_text[i]);
		s->stage_rows[i] = 0;
	}
	if (!cp)
		return;
	int64_t now = wall_clock_us();
	for (size_t i = 0; i < cp->n_offsets; i++) {
		const struct partition_offset *o = &cp->offsets[i];
		struct buf *b = row_begin(s, ST_OFFSETS);
		col_cstr(b, cp->group);
		col_cstr(b, o->topic);
		col_int(b, o->partition);
		col_int(b, o->next_offset);
		col_time(b, now);
		row_end(b);
	}
	for (size_t i = 0; i < cp->n_states; i++) {
		const struct group_state *g = &cp->states[i];
		struct buf *b = row_begin(s, ST_STATE);
		col_cstr(b, cp->group);
		col_int(b, g->partition);
		col_text(b, g->state, g->len);
		col_time(b, now);
		row_end(b);
	}
	if (cp->capture_path) {
		char key[65];
		path_key(cp->capture_path, key);
		struct buf *b = row_begin(s, ST_CAPTURE);
		col_cstr(b, cp->group);
		col_text(b, key, 64);
		col_cstr(b, cp->capture_path);
		col_int(b, cp->capture_bytes);
		col_time(b, now);
		row_end(b);
	}
}

/* --- the connection -------------------------------------------------------- */

static void drop_connection(struct pg_sink *s)
{
	PQfinish(s->conn);
	s->conn = NULL;
}

/* A connection with its staging tables: the one we have if it is sound,
 * else a new one (one attempt: the caller retries with backoff).
 * *fresh says which. */
static bool ensure_connection(struct pg_sink *s, bool *fresh)
{
	*fresh = false;
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return true;
	drop_connection(s);
	s->conn = pg_connect(&s->target, 0, &s->base.err);
	if (!s->conn)
		return false;
	*fresh = true;
	if (!pg_exec(s->conn, &s->target, s->sql_create, PGRES_COMMAND_OK,
	             "cannot create the staging tables", &s->base.err)) {
		drop_connection(s);
		return false;
	}
	return true;
}

/* After a failure: leave the connection idle, or drop it when its state
 * is in doubt (the next call reconnects). */
static void abandon_transaction(struct pg_sink *s)
{
	if (!s->conn)
		return;
	if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) == PQTRANS_ACTIVE) {
		/* a COPY left open: end it with an error, then drain */
		PQputCopyEnd(s->conn, "commit abandoned");
		PGresult *r;
		while ((r = PQgetResult(s->conn)) != NULL) {
			ExecStatusType st = PQresultStatus(r);
			PQclear(r);
			if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
				drop_connection(s);
				return;
			}
		}
	}
	if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
		PGresult *r = PQexec(s->conn, "ROLLBACK");
		PQclear(r);
	}
	if (PQstatus(s->conn) != CONNECTION_OK || PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		drop_connection(s);
}

/*
 * Run one parameterized statement outside any transaction (the loaders,
 * run_begin), reconnecting once at once when the connection turns out to
 * have died while idle.  Returns the result, which the caller clears, or
 * NULL with err set.
 */
static PGresult *query(struct pg_sink *s, const char *sql, int n, const char *const *params,
                       ExecStatusType expect, const char *what)
{
	for (int attempt = 0;; attempt++) {
		bool fresh;
		if (!ensure_connection(s, &fresh))
			return NULL;
		PGresult *r = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) == expect)
			return r;
		pg_error(&s->base.err, &s->target, what,
		         r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
		PQclear(r);
		bool lost = PQstatus(s->conn) != CONNECTION_OK;
		abandon_transaction(s);
		if (!lost || fresh || attempt)
			return NULL;
	}
}

/* --- commit ------------------------------------------------------------------ */

static bool copy_stage(struct pg_sink *s, enum stage_id i)
{
	struct error *err = &s->base.err;
	char what[160];
	snprintf(what, sizeof(what), "commit failed copying %" PRId64 " rows into %s",
	         s->stage_rows[i], stages[i].table);
	PGresult *r = PQexec(s->conn, s->sql_copy[i]);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		pg_error(err, &s->target, what, r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
		PQclear(r);
		return false;
	}
	PQclear(r);
	/* PQputCopyData takes an int length: send at most 1 MiB at a time. */
	const char *p = s->stage_text[i].data;
	size_t left = s->stage_text[i].len;
	while (left) {
		int n = left > (1u << 20) ? 1 << 20 : (int)left;
		if (PQputCopyData(s->conn, p, n) != 1) {
			pg_error(err, &s->target, what, PQerrorMessage(s->conn));
			return false;
		}
		p += n;
		left -= (size_t)n;
	}
	if (PQputCopyEnd(s->conn, NULL) != 1) {
		pg_error(err, &s->target, what, PQerrorMessage(s->conn));
		return false;
	}
	bool ok = true;
	while ((r = PQgetResult(s->conn)) != NULL) {
		if (ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_error(err, &s->target, what, PQresultErrorMessage(r));
			ok = false;
		}
		PQclear(r);
	}
	return ok;
}

static const char run_end_sql[] =
	"UPDATE runs SET finished_at = $1, inputs = $2, records = $3,"
	" events = $4, accepted = $5, late = $6, dead_letters = $7,"
	" windows = $8, moments = $9, stats = $10, updated_at = $12"
	" WHERE id = $11";

/* The parameters of run_end_sql for e, as text in the caller's v, finished
 * and now, and in s->scratch (the stats JSON), which params point into. */
static void run_end_params(struct pg_sink *s, const struct run_end *e, const char *params[12],
                           char finished[TIMESTAMP_BUFSZ], char now[TIMESTAMP_BUFSZ],
                           char v[8][24])
{
	const struct engine_stats *x = &e->stats;
	timestamp_format(e->finished_us, finished);
	const uint64_t nums[8] = {x->records, x->chat + x->viewer, x->accepted, x->dead[DEAD_LATE],
	                          x->dead_total, x->windows, x->moments, (uint64_t)e->id};
	for (int i = 0; i < 8; i++)
		snprintf(v[i], 24, "%" PRIu64, nums[i]);
	buf_reset(&s->scratch);
	format_stats_json(&s->scratch, x);
	timestamp_format(wall_clock_us(), now);
	const char *p[12] = {e->finished_us ? finished : NULL, e->inputs_json, v[0], v[1],
	                     v[2], v[3], v[4], v[5], v[6], s->scratch.data, v[7], now};
	memcpy(params, p, sizeof(p));
}

/* Inside the open transaction (write_batch). */
static bool write_run_end(struct pg_sink *s)
{
	const char *params[12];
	char finished[TIMESTAMP_BUFSZ], now[TIMESTAMP_BUFSZ], v[8][24];
	run_end_params(s, s->run_end, params, finished, now, v);
	PGresult *r = PQexecParams(s->conn, run_end_sql, 12, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		pg_error(&s->base.err, &s->target, "commit failed recording the end of the run",
		         r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
	PQclear(r);
	return ok;
}

/* The old output rows go in the transaction that writes the new ones
 * (replay --replace).  DELETE rather than TRUNCATE: a reader (a dump, a
 * report) is not blocked and sees the old rows until COMMIT. */
static bool delete_rows(struct pg_sink *s)
{
	return !s->delete_pending ||
	       pg_exec(s->conn, &s->target,
	               "DELETE FROM chat_summary_minute; DELETE FROM moments; DELETE FROM dead_letters",
	               PGRES_COMMAND_OK, "cannot delete the rows it replaces", &s->base.err);
}

/* The whole batch and checkpoint in one transaction; false with err set. */
static bool write_batch(struct pg_sink *s)
{
	struct error *err = &s->base.err;
	if (!s->spilled &&
	    (!pg_exec(s->conn, &s->target, "BEGIN", PGRES_COMMAND_OK, "commit failed at BEGIN", err) ||
	     !delete_rows(s)))
		return false;
	struct buf upserts = BUF_INIT;
	bool ok = true;
	for (int i = 0; i < N_STAGES && ok; i++) {
		if (!s->stage_rows[i])
			continue;
		ok = copy_stage(s, (enum stage_id)i);
		buf_adds(&upserts, s->sql_upsert[i]);
	}
	if (ok && upserts.len)
		ok = pg_exec(s->conn, &s->target, upserts.data, PGRES_COMMAND_OK,
		             "commit failed writing the staged rows", err);
	buf_free(&upserts);
	if (ok && s->run_end)
		ok = write_run_end(s);
	if (!ok)
		return false;
	ok = false;
	PGresult *r = PQexec(s->conn, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		pg_error(err, &s->target, "commit failed at COMMIT",
		         r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
	else if (strcmp(PQcmdStatus(r), "COMMIT")) /* what a failed transaction answers */
		pg_error(err, &s->target, "commit failed at COMMIT", "the transaction was rolled back");
	else
		ok = true;
	PQclear(r);
	return ok;
}

/* Send one table's rows now, inside the run's transaction (opened here
 * the first time), and empty its staging table for the next spill.  The
 * upserts of later spills and of the final commit overwrite earlier ones
 * with the same key, as DISTINCT ON does within one batch. */
static int spill(struct pg_sink *s, enum stage_id i)
{
	struct error *err = &s->base.err;
	bool fresh;
	if (!s->spilled) {
		if (!ensure_connection(s, &fresh) ||
		    !pg_exec(s->conn, &s->target, "BEGIN", PGRES_COMMAND_OK, "cannot start the run's transaction",
		             err) ||
		    !delete_rows(s))
			return -1;
		s->spilled = true;
	}
	char truncate[96];
	snprintf(truncate, sizeof(truncate), "TRUNCATE pg_temp.stage_%s", stages[i].table);
	if (!copy_stage(s, i) ||
	    !pg_exec(s->conn, &s->target, s->sql_upsert[i], PGRES_COMMAND_OK,
	             "cannot write the staged rows", err) ||
	    !pg_exec(s->conn, &s->target, truncate, PGRES_COMMAND_OK, "cannot empty a staging table",
	             err))
		return -1;
	buf_reset(&s->stage_text[i]);
	s->stage_rows[i] = 0;
	return 0;
}

static void forget_batch(struct pg_sink *s)
{
	for (int i = 0; i < N_STAGES; i++) {
		buf_reset(&s->stage_text[i]);
		s->stage_rows[i] = 0;
	}
	if (s->run_end) {
		free(s->run_end->inputs_json);
		free(s->run_end);
		s->run_end = NULL;
	}
}

static void pg_discard(struct sink *base)
{
	struct pg_sink *s = (struct pg_sink *)base;
	if (s->spilled) /* rows already sent go with their transaction */
		abandon_transaction(s);
	s->spilled = false;
	for (int i = 0; i < FIRST_CHECKPOINT_STAGE; i++) {
		buf_reset(&s->stage_text[i]);
		s->stage_rows[i] = 0;
	}
}

static int pg_commit(struct sink *base, const struct sink_checkpoint *cp)
{
	struct pg_sink *s = (struct pg_sink *)base;
	if (cp && !cp->group) {
		pg_error(&base->err, &s->target, "a checkpoint needs a consumer group", NULL);
		return -1;
	}
	bool empty = !cp && !s->run_end && !s->delete_pending;
	for (int i = 0; i < FIRST_CHECKPOINT_STAGE; i++)
		empty &= !s->stage_rows[i];
	if (empty)
		return 0;

	stage_checkpoint(s, cp);
	bool ok = false;
	for (int attempt = 0;; attempt++) {
		bool fresh;
		if (s->spilled && PQstatus(s->conn) != CONNECTION_OK) {
			pg_error(&base->err, &s->target, "the connection was lost with the rows already sent",
			         "run the replay again; it rewrites the same rows");
			break;
		}
		if (!ensure_connection(s, &fresh))
			break;
		if ((ok = write_batch(s)))
			break;
		bool lost = PQstatus(s->conn) != CONNECTION_OK;
		abandon_transaction(s);
		/* A connection that died while idle (server restarted since the
		 * last commit) is replaced at once, once; anything else waits for
		 * the caller's next try.  Rows already spilled died with the
		 * transaction: sending the rest again would commit half a run. */
		if (!lost || fresh || attempt || s->spilled)
			break;
	}
	s->spilled = false;
	if (ok) {
		forget_batch(s);
		s->delete_pending = false;
	}
	else
		stage_checkpoint(s, NULL); /* the batch stays; the next commit brings its checkpoint */
	return ok ? 0 : -1;
}

/* --- the checkpoint, read back ------------------------------------------------- */

static int pg_load_offset(struct sink *base, const char *group, const char *topic,
                          int32_t partition, int64_t *next_offset)
{
	struct pg_sink *s = (struct pg_sink *)base;
	char part[16];
	snprintf(part, sizeof(part), "%" PRId32, partition);
	const char *params[3] = {group, topic, part};
	PGresult *r = query(s,
	                    "SELECT next_offset FROM consumer_offsets"
	                    " WHERE consumer_group = $1 AND topic = $2 AND partition = $3",
	                    3, params, PGRES_TUPLES_OK, "cannot read the committed offsets");
	if (!r)
		return -1;
	*next_offset = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	return 0;
}

static int pg_load_state(struct sink *base, const char *group, int32_t partition, char **state,
                         size_t *len)
{
	struct pg_sink *s = (struct pg_sink *)base;
	char part[16];
	snprintf(part, sizeof(part), "%" PRId32, partition);
	const char *params[2] = {group, part};
	PGresult *r = query(s,
	                    "SELECT state FROM core_state"
	                    " WHERE consumer_group = $1 AND partition = $2",
	                    2, params, PGRES_TUPLES_OK, "cannot read the committed state");
	if (!r)
		return -1;
	*state = NULL;
	*len = 0;
	if (PQntuples(r)) {
		*len = (size_t)PQgetlength(r, 0, 0);
		*state = xstrndup(PQgetvalue(r, 0, 0), *len);
	}
	PQclear(r);
	return 0;
}

static int pg_load_capture_bytes(struct sink *base, const char *group, const char *path,
                                 int64_t *bytes)
{
	struct pg_sink *s = (struct pg_sink *)base;
	char key[65];
	path_key(path, key);
	const char *params[2] = {group, key};
	PGresult *r = query(s,
	                    "SELECT bytes FROM capture_lengths"
	                    " WHERE consumer_group = $1 AND path_key = $2",
	                    2, params, PGRES_TUPLES_OK, "cannot read the committed capture length");
	if (!r)
		return -1;
	*bytes = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	return 0;
}

/* --- what is there ------------------------------------------------------------ */

static const char has_rows_sql[] =
	"SELECT EXISTS (SELECT 1 FROM chat_summary_minute) OR EXISTS (SELECT 1 FROM moments)"
	" OR EXISTS (SELECT 1 FROM dead_letters)";

static int pg_has_rows(struct sink *base, bool *any)
{
	struct pg_sink *s = (struct pg_sink *)base;
	PGresult *r = query(s, has_rows_sql, 0, NULL, PGRES_TUPLES_OK,
	                    "cannot read the output tables");
	if (!r)
		return -1;
	*any = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return 0;
}

/* --- runs ------------------------------------------------------------------------ */

static int pg_run_begin(struct sink *base, struct run_info *run)
{
	struct pg_sink *s = (struct pg_sink *)base;
	char started[TIMESTAMP_BUFSZ];
	timestamp_format(run->started_us, started);
	char host[256], pid[24];
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	/* COPY text is made valid UTF-8; parameters must be too. */
	buf_reset(&s->scratch);
	escape_text(&s->scratch, host, strlen(host));
	const char *params[8] = {run->command, PACKAGE_VERSION, started, run->config_json,
	                         run->inputs_json, run->mode, host[0] ? s->scratch.data : NULL, pid};
	PGresult *r = query(s,
	                    "INSERT INTO runs (command, version, started_at, config, inputs, mode,"
	                    " host, pid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
	                    8, params, PGRES_TUPLES_OK, "cannot record the run");
	if (!r)
		return -1;
	run->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* The end of the run commits with the last rows, in their transaction. */
static int pg_run_end(struct sink *base, const struct run_info *run)
{
	struct pg_sink *s = (struct pg_sink *)base;
	if (s->run_end)
		free(s->run_end->inputs_json);
	else
		s->run_end = xcalloc(1, sizeof(*s->run_end));
	s->run_end->id = run->id;
	s->run_end->finished_us = run->finished_us;
	s->run_end->inputs_json = xstrdup(run->inputs_json);
	s->run_end->stats = *run->stats;
	return 0;
}

/* The run's row now, in a statement of its own (see sink.h): never inside
 * a transaction, so it can be neither part of a batch nor its failure. */
static int pg_run_update(struct sink *base, const struct run_info *run)
{
	struct pg_sink *s = (struct pg_sink *)base;
	if (s->spilled) {
		pg_error(&base->err, &s->target, "cannot update the run while its transaction is open",
		         NULL);
		return -1;
	}
	struct run_end e = {run->id, run->finished_us, (char *)run->inputs_json, *run->stats};
	const char *params[12];
	char finished[TIMESTAMP_BUFSZ], now[TIMESTAMP_BUFSZ], v[8][24];
	run_end_params(s, &e, params, finished, now, v);
	PGresult *r = query(s, run_end_sql, 12, params, PGRES_COMMAND_OK, "cannot update the run");
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

static int pg_finish(struct sink *base)
{
	struct pg_sink *s = (struct pg_sink *)base;
	if (pg_commit(base, NULL))
		return -1;
	drop_connection(s);
	return 0;
}

static void pg_close(struct sink *base)
{
	struct pg_sink *s = (struct pg_sink *)base;
	drop_connection(s);
	forget_batch(s);
	for (int i = 0; i < N_STAGES; i++) {
		buf_free(&s->stage_text[i]);
		free(s->sql_copy[i]);
		free(s->sql_upsert[i]);
	}
	free(s->sql_create);
	buf_free(&s->scratch);
	dead_keys_free(s->dead_keys);
	pg_target_free(&s->target);
	free(base->name);
	free(s);
}

static const struct sink_row_ops pg_rows = {
	.window = pg_window,
	.moment = pg_moment,
	.dead_letter = pg_dead_letter,
	.commit = pg_commit,
	.discard = pg_discard,
	.has_rows = pg_has_rows,
	.finish = pg_finish,
	.close = pg_close,
};

static const struct sink_checkpoint_ops pg_checkpoints = {
	.load_offset = pg_load_offset,
	.load_state = pg_load_state,
	.load_capture_bytes = pg_load_capture_bytes,
};

static const struct sink_run_ops pg_runs = {
	.begin = pg_run_begin,
	.end = pg_run_end,
	.update = pg_run_update,
};

/* --- opening ------------------------------------------------------------------------ */

struct sink *sink_postgres_open(const char *target, const struct sink_options *opt,
                                struct error *err)
{
	struct pg_sink *s = xcalloc(1, sizeof(*s));
	s->base.rows = &pg_rows;
	s->base.checkpoints = &pg_checkpoints;
	s->base.runs = &pg_runs;
	/* opt->replace is a SQLite notion: PostgreSQL rows are upserts. */
	if (!pg_target_init(&s->target, target, opt ? opt->user : NULL, opt ? opt->password : NULL,
	                    err)) {
		free(s);
		return NULL;
	}
	s->base.name = xstrdup(s->target.redacted);
	s->dead_keys = dead_keys_new(opt && opt->count_occurrences);
	s->one_transaction = opt && opt->one_transaction;
	s->delete_pending = opt && opt->delete_rows;
	make_sql(s);
	int applied;
	s->conn = pg_connect(&s->target, opt && opt->connect_once ? 0 : PG_CONNECT_TIMEOUT_S, err);
	if (!s->conn || !migrate_postgres(s->conn, &s->target, &applied, err) ||
	    !pg_exec(s->conn, &s->target, s->sql_create, PGRES_COMMAND_OK,
	             "cannot create the staging tables", err)) {
		pg_close(&s->base);
		return NULL;
	}
	return &s->base;
}
