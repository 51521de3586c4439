#include "config.h"

#include "io/migrations.h"

/* Generated from sql/ by src/embed.sh (see Makefile.am). */
extern const char sql_sqlite_001_initial[];
extern const char sql_postgres_001_initial[];
extern const char sql_sqlite_002_checkpoint[];
extern const char sql_postgres_002_checkpoint[];

const struct migration migrations[] = {
	{1, "initial", sql_sqlite_001_initial, sql_postgres_001_initial},
	{2, "checkpoint", sql_sqlite_002_checkpoint, sql_postgres_002_checkpoint},
};

const int n_migrations = sizeof(migrations) / sizeof(migrations[0]);
