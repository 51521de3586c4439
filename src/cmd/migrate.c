/*
 * telemetra migrate — create or upgrade the output schema.
 *
 * The numbered migrations of sql/ ship inside the binary; each database
 * records the versions it has in schema_version, so running this again is
 * harmless.  The sinks apply the same migrations when they open, so this
 * command is for preparing a database ahead of time (or checking it).
 */
#include "config.h"

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

/* Migrate the database (a SQLite file when sqlite is set, else the
 * PostgreSQL target) and say where its schema is now. */
static int migrate(const char *sqlite, const char *postgres, const struct config *cfg)
{
	struct error err;
	int version, applied;
	bool ok = sqlite ? migrate_sqlite_path(sqlite, &version, &applied, &err)
	                 : migrate_postgres_target(postgres, cfg->postgres_user,
	                                           cfg->postgres_password, &version, &applied, &err);
	if (!ok) {
		log_error("%s", err.msg);
		return EXIT_RUNTIME;
	}
	report(version, applied);
	return EXIT_OK;
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
		int status = migrate(sqlite, NULL, &cfg);
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
	int status = migrate(NULL, t.location, &cfg);
	target_free(&t);
	config_free(&cfg);
	return status;
}
