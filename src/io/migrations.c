#include "config.h"

#include "io/migrations.h"

/* Generated from sql/ by src/embed.sh (see Makefile.am). */
extern const char sql_sqlite_001_initial[];
extern const char sql_postgres_001_initial[];

const struct migration migrations[] = {
	{1, "initial", sql_sqlite_001_initial, sql_postgres_001_initial},
};

const int n_migrations = sizeof(migrations) / sizeof(migrations[0]);
