/*
 * telemetra migrate — create or upgrade the output schema.
 *
 * The numbered migrations of sql/ ship inside the binary; each database
 * records the versions it has in schema_version, so running this again is
 * harmless.  The sinks apply the same migrations when they open, so this
 * command is for preparing a database ahead of time (or checking it).
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "io/migrations.h"
#include "io/pg.h"
#include "io/target.h"
#include "util/log.h"
#include "cli/options.h"

/* The options and their help are in cli/options.c (CMD_MIGRATE). */
static const struct command_help help = {
	"migrate",
	CMD_MIGRATE,
	"(--postgres URL | --sqlite PATH)",
	"Apply the schema migrations a database is missing: the output tables\n"
	"(chat_summary_minute, moments, dead_letters, runs), the live daemon's\n"
	"checkpoint tables and schema_version. Migrations already applied are\n"
	"skipped, so running it again does nothing.  Without --postgres or\n"
	"--sqlite, the database is $POSTGRES_URL.",
};

static void report(int version, int applied)
{
	if (applied)
		printf("schema at version %d: applied %d migration%s\n", version, applied,
		       applied == 1 ? "" : "s");
	else
		printf("already at version %d\n", version);
}

static int migrate_sqlite_file(const char *path)
{
	sqlite3 *db = NULL;
	struct error err;
	int applied = 0, version = -1, status = EXIT_RUNTIME;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		log_error("cannot open SQLite database %s: %s", path,
		          db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (!migrate_sqlite(db, path, &applied, &err)) {
		log_error("%s", err.msg);
		goto out;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (version < 0) {
		log_error("SQLite %s: cannot read the schema version: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	report(version, applied);
	status = EXIT_OK;
out:
	sqlite3_close(db);
	return status;
}

static int migrate_postgres_target(const char *target, const char *user, const char *password)
{
	struct pg_target t;
	struct error err;
	PGconn *conn = NULL;
	PGresult *r = NULL;
	int applied = 0, status = EXIT_RUNTIME;
	if (!pg_target_init(&t, target, user, password, &err)) {
		log_error("%s", err.msg);
		return EXIT_RUNTIME;
	}
	if (!(conn = pg_connect(&t, PG_CONNECT_TIMEOUT_S, &err)) ||
	    !migrate_postgres(conn, &t, &applied, &err)) {
		log_error("%s", err.msg);
		goto out;
	}
	r = PQexec(conn, "SELECT max(version) FROM schema_version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_error(&err, &t, "cannot read the schema version", PQresultErrorMessage(r));
		log_error("%s", err.msg);
		goto out;
	}
	report(atoi(PQgetvalue(r, 0, 0)), applied);
	status = EXIT_OK;
out:
	PQclear(r);
	PQfinish(conn);
	pg_target_free(&t);
	return status;
}

/* An argument as it may be shown: it could be a URL with a password. */
static const char *shown(const char *arg)
{
	static char text[256];
	char *r = conninfo_redact(arg);
	snprintf(text, sizeof(text), "%s", r);
	free(r);
	return text;
}

int cmd_migrate(int argc, char **argv)
{
	struct config cfg; /* owns the option values; freed before returning */
	config_init(&cfg);
	int first = config_load(&cfg, &help, argc, argv);
	if (first < argc)
		die_usage("unexpected argument '%s'; give the database with --postgres or --sqlite",
		          shown(argv[first]));
	/* POSTGRES_URL is only the default database: --sqlite overrides it
	 * (the command line's --postgres with --sqlite is a conflict). */
	const char *sqlite = cfg.sqlite;
	const char *postgres =
		sqlite && config_from_env(&cfg, CMD_MIGRATE, "postgres") ? NULL : cfg.postgres;
	if (postgres && sqlite)
		die_usage("give either --postgres or --sqlite, not both");
	if (!postgres && !sqlite)
		die_usage("no database: give --postgres URL or --sqlite PATH, or set POSTGRES_URL");
	if (sqlite) {
		int status = migrate_sqlite_file(sqlite);
		config_free(&cfg);
		return status;
	}

	/* The one target parser decides; a bare word is a database name for
	 * libpq here, as --postgres always took it. */
	struct target t;
	struct error err;
	struct buf spec = BUF_INIT;
	bool prefixed = !strncmp(postgres, "sqlite:", 7) || !strncmp(postgres, "postgres", 8) ||
	                !strncmp(postgres, "jdbc:", 5);
	buf_printf(&spec, "%s%s", prefixed ? "" : "postgres:", postgres);
	bool ok = target_parse(&t, spec.data, &err);
	buf_free(&spec);
	if (!ok)
		die_usage("--postgres: %s", err.msg);
	if (t.kind != TARGET_POSTGRES)
		die_usage("--postgres takes a PostgreSQL URL, not %s; use --sqlite PATH", t.shown);
	int status = migrate_postgres_target(t.location, cfg.postgres_user, cfg.postgres_password);
	target_free(&t);
	config_free(&cfg);
	return status;
}
