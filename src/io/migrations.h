/*
 * migrations.h — the schema, as numbered SQL files from sql/ that ship
 * inside the binary.  Each database records the versions it has applied in
 * schema_version; applying is idempotent: a version already there is
 * skipped, so `telemetra migrate` and every sink's start-up can run it.
 */
#ifndef TELEMETRA_MIGRATIONS_H
#define TELEMETRA_MIGRATIONS_H

#include <stdbool.h>

#include "core/common.h"

struct migration {
	int version;
	const char *name;
	const char *sqlite_sql;
	const char *postgres_sql;
};

extern const struct migration migrations[];
extern const int n_migrations;

struct sqlite3;
/* Apply the missing migrations to an open SQLite database; *applied gets
 * how many were new.  Each runs in its own transaction.  name names the
 * database in messages. */
bool migrate_sqlite(struct sqlite3 *db, const char *name, int *applied, struct error *err);

struct pg_conn;
struct pg_target;
/* The same for PostgreSQL, with every missing migration in one
 * transaction that first takes an advisory lock, so that daemons starting
 * together apply each migration once.  t names the database in messages. */
bool migrate_postgres(struct pg_conn *db, const struct pg_target *t, int *applied,
                      struct error *err);

/* `telemetra migrate`: open the database (a SQLite file, created if need
 * be; a PostgreSQL target as pg_target_init takes it, with the user and
 * password used where it names none, each may be NULL), apply the missing
 * migrations and read the schema version reached into *version; *applied
 * gets how many were new.  false with err set ("cannot open SQLite
 * database PATH: ...", never a password). */
bool migrate_sqlite_path(const char *path, int *version, int *applied, struct error *err);
bool migrate_postgres_target(const char *target, const char *user, const char *password,
                             int *version, int *applied, struct error *err);

#endif
