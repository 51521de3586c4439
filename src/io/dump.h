/*
 * dump.h — the canonical text form of an output database (SPEC §6).
 *
 * The output tables as CSV, one section per table, rows sorted by their
 * key, doubles with 6 decimals, JSON with sorted keys, wall-clock columns
 * (processed_at, detected_at, received_at) and surrogate ids left out.  It
 * is the same text for SQLite and PostgreSQL, so golden tests and the
 * live-versus-replay checks compare it byte for byte.
 */
#ifndef TELEMETRA_DUMP_H
#define TELEMETRA_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/common.h"

enum col_kind { C_TEXT, C_INT, C_REAL, C_BOOL, C_TIME, C_JSON, C_BYTES };

struct col_def {
	const char *name;
	enum col_kind kind;
};

struct table_def {
	const char *name;
	const struct col_def *cols;
	int n_cols;
};

/* One value as a database returns it: C_INT fills i, C_REAL d, C_BOOL i
 * (0/1), every other kind s/len. */
struct cell {
	bool null;
	int64_t i;
	double d;
	const char *s;
	size_t len;
};

typedef void (*dump_row_fn)(void *ctx, const struct cell *cells);

/* A database that can list the rows of a table, cells in column order. */
typedef bool (*dump_fetch_fn)(void *db, const struct table_def *t, dump_row_fn row, void *ctx,
                              struct error *err);

/* Write the canonical dump of the rows fetch() lists to out. */
bool dump_with(dump_fetch_fn fetch, void *db, FILE *out, struct error *err);

/* The adapters (dump_sqlite.c, dump_postgres.c): the canonical dump of a
 * SQLite file, or of a PostgreSQL target (the location of a struct target:
 * URI, conninfo or JDBC URL), to out. */
bool dump_sqlite(const char *path, FILE *out, struct error *err);
bool dump_postgres(const char *conninfo, FILE *out, struct error *err);

#endif
