/*
 * dump_sqlite.c — `telemetra dump` of a SQLite file: fetches the cells of
 * each table for the canonicaliser of dump.c.
 * The file is opened with sqlite_open_existing() (io/sqlite_file.h), which
 * copes with the hot journal of a writer that crashed.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "io/dump.h"
#include "io/sqlite_file.h"

static bool sqlite_fetch(void *dbp, const struct table_def *t, dump_row_fn row, void *ctx,
                         struct error *err)
{
	sqlite3 *db = dbp;
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT ");
	for (int i = 0; i < t->n_cols; i++)
		buf_printf(&sql, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
	buf_printf(&sql, " FROM %s", t->name);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		error_set(err, "cannot read table %s: %s (is this a telemetra output?)", t->name,
		          sqlite3_errmsg(db));
		buf_free(&sql);
		return false;
	}
	buf_free(&sql);
	struct cell cells[16];
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < t->n_cols; i++) {
			struct cell *c = &cells[i];
			memset(c, 0, sizeof(*c));
			c->null = sqlite3_column_type(st, i) == SQLITE_NULL;
			switch (t->cols[i].kind) {
			case C_INT:
			case C_BOOL:
				c->i = sqlite3_column_int64(st, i);
				break;
			case C_REAL:
				c->d = sqlite3_column_double(st, i);
				break;
			case C_BYTES:
				c->s = sqlite3_column_blob(st, i);
				c->len = (size_t)sqlite3_column_bytes(st, i);
				break;
			default:
				c->s = (const char *)sqlite3_column_text(st, i);
				c->len = (size_t)sqlite3_column_bytes(st, i);
				break;
			}
			if (!c->s)
				c->s = "";
		}
		row(ctx, cells);
	}
	bool ok = rc == SQLITE_DONE;
	if (!ok)
		error_set(err, "reading table %s: %s", t->name, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return ok;
}

bool dump_sqlite(const char *path, FILE *out, struct error *err)
{
	sqlite3 *db = sqlite_open_existing(path, err);
	if (!db)
		return false;
	bool ok = dump_with(sqlite_fetch, db, out, err);
	sqlite3_close(db);
	if (!ok) {
		struct error inner = *err;
		error_set(err, "%s: %s", path, inner.msg);
	}
	return ok;
}
