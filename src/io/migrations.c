/*
 * migrations.c — the numbered migrations of sql/, and applying them to
 * SQLite and PostgreSQL: the one place that knows the schema's history
 * (the sinks apply them on open; `telemetra migrate` opens a database
 * here, applies them and reads the version it reached).
 */
#include "config.h"

#include "io/migrations.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "io/pg.h"
#include "util/clock.h"
#include "util/sha256.h"

/* telemetra_sha256(x): the dead letters' source_key of x, for migrations
 * that key rows already there (003). */
static void sql_sha256(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	char hex[65];
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]));
	sha256_hex(&h, hex);
	sha256_free(&h);
	sqlite3_result_text(ctx, hex, 64, SQLITE_TRANSIENT);
}

/* Generated from sql/ by src/embed.sh (see Makefile.am). */
extern const char sql_sqlite_001_initial[];
extern const char sql_postgres_001_initial[];
extern const char sql_sqlite_002_checkpoint[];
extern const char sql_postgres_002_checkpoint[];
extern const char sql_sqlite_003_dead_letter_keys_runs[];
extern const char sql_postgres_003_dead_letter_keys_runs[];
extern const char sql_sqlite_004_capture_path_key[];
extern const char sql_postgres_004_capture_path_key[];

const struct migration migrations[] = {
	{1, "initial", sql_sqlite_001_initial, sql_postgres_001_initial},
	{2, "checkpoint", sql_sqlite_002_checkpoint, sql_postgres_002_checkpoint},
	{3, "dead_letter_keys_runs", sql_sqlite_003_dead_letter_keys_runs,
	 sql_postgres_003_dead_letter_keys_runs},
	{4, "capture_path_key", sql_sqlite_004_capture_path_key, sql_postgres_004_capture_path_key},
};

const int n_migrations = sizeof(migrations) / sizeof(migrations[0]);

/* --- SQLite --------------------------------------------------------------- */

bool migrate_sqlite(sqlite3 *db, const char *name, int *applied, struct error *err)
{
	char *msg = NULL;
	sqlite3_stmt *st = NULL;
	int current = 0;
	const struct migration *m = NULL;
	*applied = 0;
	if (sqlite3_create_function(db, "telemetra_sha256", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
	                            NULL, sql_sha256, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(db,
	                 "CREATE TABLE IF NOT EXISTS schema_version ("
	                 " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
	                 NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &st,
	                       NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	current = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;

	for (int i = 0; i < n_migrations; i++) {
		m = &migrations[i];
		if (m->version <= current)
			continue;
		char now[TIMESTAMP_BUFSZ];
		timestamp_format(wall_clock_us(), now);
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, m->sqlite_sql, NULL, NULL, &msg) != SQLITE_OK)
			goto fail_tx;
		if (sqlite3_prepare_v2(db, "INSERT INTO schema_version VALUES (?, ?, ?)", -1, &st, NULL) !=
		    SQLITE_OK)
			goto fail_tx;
		sqlite3_bind_int(st, 1, m->version);
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail_tx;
		sqlite3_finalize(st);
		st = NULL;
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
			goto fail_tx;
		(*applied)++;
	}
	return true;

fail_tx:
	error_set(err, "SQLite %s: migration %03d_%s failed: %s", name, m->version, m->name,
	          msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return false;
fail:
	error_set(err, "SQLite %s: cannot read the schema version: %s", name,
	          msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_finalize(st);
	return false;
}

/* --- PostgreSQL ------------------------------------------------------------ */

/* pg_advisory_xact_lock key of telemetra's migrations: "telemetr" in ASCII. */
#define MIGRATION_LOCK "8387219686549603442"

bool migrate_postgres(PGconn *db, const struct pg_target *t, int *applied, struct error *err)
{
	*applied = 0;
	if (!pg_exec(db, t, "BEGIN", PGRES_COMMAND_OK, "cannot start the migration", err))
		return false;
	const struct migration *m = NULL;
	PGresult *r = NULL;
	if (!pg_exec(db, t,
	             "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
	             " CREATE TABLE IF NOT EXISTS schema_version ("
	             " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)",
	             PGRES_COMMAND_OK, "cannot read the schema version", err))
		goto fail;
	r = PQexec(db, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_error(err, t, "cannot read the schema version", PQresultErrorMessage(r));
		goto fail;
	}
	int current = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	r = NULL;

	for (int i = 0; i < n_migrations; i++) {
		m = &migrations[i];
		if (m->version <= current)
			continue;
		char what[128], version[16], now[TIMESTAMP_BUFSZ];
		snprintf(what, sizeof(what), "migration %03d_%s failed", m->version, m->name);
		snprintf(version, sizeof(version), "%d", m->version);
		timestamp_format(wall_clock_us(), now);
		if (!pg_exec(db, t, m->postgres_sql, PGRES_COMMAND_OK, what, err))
			goto fail;
		const char *params[3] = {version, m->name, now};
		r = PQexecParams(db, "INSERT INTO schema_version VALUES ($1, $2, $3)", 3, NULL, params,
		                 NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_error(err, t, what, PQresultErrorMessage(r));
			goto fail;
		}
		PQclear(r);
		r = NULL;
		(*applied)++;
	}
	r = PQexec(db, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT")) {
		pg_error(err, t, "the migrations could not be committed", PQresultErrorMessage(r));
		goto fail;
	}
	PQclear(r);
	return true;

fail:
	PQclear(r);
	PQclear(PQexec(db, "ROLLBACK"));
	*applied = 0;
	return false;
}

/* --- a whole database, for `telemetra migrate` ------------------------------ */

bool migrate_sqlite_path(const char *path, int *version, int *applied, struct error *err)
{
	sqlite3 *db = NULL;
	bool ok = false;
	*applied = 0;
	*version = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		error_set(err, "cannot open SQLite database %s: %s", path,
		          db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (!migrate_sqlite(db, path, applied, err))
		goto out;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			*version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (*version < 0) {
		error_set(err, "SQLite %s: cannot read the schema version: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	ok = true;
out:
	sqlite3_close(db);
	return ok;
}

bool migrate_postgres_target(const char *target, const char *user, const char *password,
                             int *version, int *applied, struct error *err)
{
	struct pg_target t;
	PGconn *conn = NULL;
	PGresult *r = NULL;
	bool ok = false;
	*applied = 0;
	if (!pg_target_init(&t, target, user, password, err))
		return false;
	if (!(conn = pg_connect(&t, PG_CONNECT_TIMEOUT_S, err)) ||
	    !migrate_postgres(conn, &t, applied, err))
		goto out;
	r = PQexec(conn, "SELECT max(version) FROM schema_version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_error(err, &t, "cannot read the schema version", PQresultErrorMessage(r));
		goto out;
	}
	*version = atoi(PQgetvalue(r, 0, 0));
	ok = true;
out:
	PQclear(r);
	PQfinish(conn);
	pg_target_free(&t);
	return ok;
}
