/*
 * data_pg.c — `telemetra report` of a PostgreSQL database: the rows the
 * page needs, copied into an in-memory SQLite database of the same shape,
 * so that page.c renders both kinds of output with one code path
 * (and the page of PostgreSQL rows equals the page of the same rows in
 * SQLite, byte for byte, but for the database's name).
 *
 * Only the columns the page reads are copied, and only the rows the
 * filters keep (--stream, --from, --to, applied by PostgreSQL), in one
 * REPEATABLE READ READ ONLY transaction (a consistent snapshot while a
 * daemon writes), one row at a time (single-row mode).  Cells are fetched
 * as dump_postgres.c fetches them: timestamps with to_char() in SQLite's
 * text form, JSONB as text, doubles by strtod of PostgreSQL's shortest
 * exact output, booleans 't'/'f'.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/timestamp.h"
#include "io/pg.h"
#include "report/data.h"

#define TS(c) "to_char(" c ", 'YYYY-MM-DD HH24:MI:SS.US')"

static const char schema[] =
	"CREATE TABLE chat_summary_minute (stream_id TEXT NOT NULL, window_start TEXT NOT NULL,"
	" window_end TEXT NOT NULL, chat_rate REAL, z_score REAL, avg_viewers REAL,"
	" avg_sentiment REAL, is_anomaly INTEGER);"
	"CREATE TABLE moments (stream_id TEXT NOT NULL, timestamp TEXT NOT NULL,"
	" moment_type TEXT NOT NULL, description TEXT, intensity REAL, metadata TEXT);"
	"CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, version TEXT NOT NULL,"
	" started_at TEXT NOT NULL, finished_at TEXT, config TEXT NOT NULL, inputs TEXT NOT NULL,"
	" records INTEGER, events INTEGER, dead_letters INTEGER, windows INTEGER, moments INTEGER);";

static const char indexes[] =
	"CREATE INDEX csm_stream ON chat_summary_minute (stream_id, window_start);"
	"CREATE INDEX moments_stream ON moments (stream_id, timestamp);";

struct copy {
	PGconn *conn;
	const struct pg_target *t;
	sqlite3 *db;
	const char *path; /* redacted, for messages */
};

/* The filter as a WHERE clause over PostgreSQL parameters: the streams,
 * then from, then to.  start/end are the row's time columns (the same for
 * a moment's timestamp); params receives the values (borrowed or in
 * storage); end NULL: a point in time (a moment). */
static void where(struct buf *sql, const struct report_filter *f, const char *start,
                  const char *end, const char **params, int *n, char (*storage)[TIMESTAMP_BUFSZ])
{
	const char *glue = " WHERE ";
	if (f && f->n_streams) {
		buf_printf(sql, "%sstream_id IN (", glue);
		for (size_t i = 0; i < f->n_streams; i++) {
			params[*n] = f->streams[i];
			buf_printf(sql, "%s$%d", i ? ", " : "", ++*n);
		}
		buf_addc(sql, ')');
		glue = " AND ";
	}
	if (f && f->has_from) {
		timestamp_format(f->from_us, storage[0]);
		params[*n] = storage[0];
		/* A window overlapping [from, to); a moment inside it. */
		buf_printf(sql, "%s%s %s $%d::timestamp", glue, end ? end : start, end ? ">" : ">=", ++*n);
		glue = " AND ";
	}
	if (f && f->has_to) {
		timestamp_format(f->to_us, storage[1]);
		params[*n] = storage[1];
		buf_printf(sql, "%s%s < $%d::timestamp", glue, start, ++*n);
	}
}

/* Run select (with the filter) and insert every row into table via an
 * INSERT of n_cols values; kinds per column: 'T' text, 'R' real, 'I'
 * integer, 'B' boolean. */
static bool copy_rows(struct copy *c, const char *select, const struct report_filter *f,
                      const char *start, const char *end, const char *table, const char *kinds,
                      struct error *err)
{
	int n_cols = (int)strlen(kinds);
	struct buf sql = BUF_INIT;
	buf_adds(&sql, select);
	const char **params = xcalloc((f ? f->n_streams : 0) + 2, sizeof(*params));
	char storage[2][TIMESTAMP_BUFSZ];
	int n = 0;
	if (start)
		where(&sql, f, start, end, params, &n, storage);
	bool ok = PQsendQueryParams(c->conn, sql.data, n, NULL, params, NULL, NULL, 0) &&
	          PQsetSingleRowMode(c->conn);
	free(params);
	buf_free(&sql);
	if (!ok) {
		pg_error(err, c->t, "cannot read the database", PQerrorMessage(c->conn));
		return false;
	}
	buf_printf(&sql, "INSERT INTO %s VALUES (", table);
	for (int i = 0; i < n_cols; i++)
		buf_adds(&sql, i ? ", ?" : "?");
	buf_addc(&sql, ')');
	sqlite3_stmt *ins = NULL;
	if (sqlite3_prepare_v2(c->db, sql.data, -1, &ins, NULL) != SQLITE_OK) {
		error_set(err, "%s: in-memory copy: %s", c->path, sqlite3_errmsg(c->db));
		ok = false;
	}
	buf_free(&sql);
	PGresult *r;
	while ((r = PQgetResult(c->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && ok) {
			sqlite3_reset(ins);
			for (int i = 0; i < n_cols; i++) {
				if (PQgetisnull(r, 0, i)) {
					sqlite3_bind_null(ins, i + 1);
					continue;
				}
				const char *v = PQgetvalue(r, 0, i);
				switch (kinds[i]) {
				case 'R':
					sqlite3_bind_double(ins, i + 1, strtod(v, NULL));
					break;
				case 'I':
					sqlite3_bind_int64(ins, i + 1, strtoll(v, NULL, 10));
					break;
				case 'B':
					sqlite3_bind_int(ins, i + 1, v[0] == 't');
					break;
				default:
					sqlite3_bind_text(ins, i + 1, v, PQgetlength(r, 0, i), SQLITE_TRANSIENT);
					break;
				}
			}
			if (sqlite3_step(ins) != SQLITE_DONE) {
				error_set(err, "%s: in-memory copy: %s", c->path, sqlite3_errmsg(c->db));
				ok = false;
			}
		} else if (st != PGRES_TUPLES_OK && ok) {
			struct buf what = BUF_INIT;
			buf_printf(&what, "cannot read table %s (is this a telemetra output?)", table);
			pg_error(err, c->t, what.data, PQresultErrorMessage(r));
			buf_free(&what);
			ok = false;
		}
		PQclear(r);
	}
	sqlite3_finalize(ins);
	return ok;
}

bool report_pg_copy(const char *target, const struct report_filter *f, sqlite3 *db,
                    char **shown, struct error *err)
{
	struct pg_target t;
	*shown = NULL;
	if (!pg_target_init(&t, target, getenv("POSTGRES_USER"), getenv("POSTGRES_PASSWORD"), err))
		return false;
	*shown = xstrdup(t.redacted);
	struct copy c = {NULL, &t, db, t.redacted};
	char *msg = NULL;
	bool ok = (c.conn = pg_connect(&t, PG_CONNECT_TIMEOUT_S, err)) != NULL &&
	          pg_exec(c.conn, &t, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	                  PGRES_COMMAND_OK, "cannot start a read-only transaction", err);
	if (ok && sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		error_set(err, "%s: in-memory copy: %s", t.redacted, msg ? msg : "out of memory");
		ok = false;
	}
	sqlite3_free(msg);
	if (ok && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		error_set(err, "%s: in-memory copy: %s", t.redacted, sqlite3_errmsg(db));
		ok = false;
	}
	ok = ok &&
	     copy_rows(&c,
	               "SELECT stream_id, " TS("window_start") ", " TS("window_end") ", chat_rate,"
	               " z_score, avg_viewers, avg_sentiment, is_anomaly FROM chat_summary_minute",
	               f, "window_start", "window_end", "chat_summary_minute", "TTTRRRRB", err) &&
	     copy_rows(&c,
	               "SELECT stream_id, " TS("timestamp") ", moment_type, description, intensity,"
	               " metadata::text FROM moments",
	               f, "timestamp", NULL, "moments", "TTTTRT", err) &&
	     copy_rows(&c,
	               "SELECT id, command, version, " TS("started_at") ", " TS("finished_at") ","
	               " config::text, inputs::text, records, events, dead_letters, windows, moments"
	               " FROM runs",
	               NULL, NULL, NULL, "runs", "ITTTTTTIIIII", err);
	if (ok && (sqlite3_exec(db, indexes, NULL, NULL, NULL) != SQLITE_OK ||
	           sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)) {
		error_set(err, "%s: in-memory copy: %s", t.redacted, sqlite3_errmsg(db));
		ok = false;
	}
	PQfinish(c.conn);
	pg_target_free(&t);
	return ok;
}
