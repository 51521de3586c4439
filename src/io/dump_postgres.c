/*
 * dump_postgres.c — `telemetra dump` of a PostgreSQL database.
 *
 * dump.c does the canonical form; this file only fetches cells the way
 * the SQLite side does, so that the text comes out the same:
 *
 *   timestamps  to_char(.., 'YYYY-MM-DD HH24:MI:SS.US'), SQLite's text form
 *   TEXT[]/JSONB  to_jsonb(..)::text, JSON text canonicalized by dump.c
 *   doubles     strtod of PostgreSQL's output, which (extra_float_digits 1,
 *               the default since PostgreSQL 12, set by pg_connect anyway)
 *               is the shortest text that reads back as the same double
 *   bytea       encode(.., 'hex'), decoded here to the raw bytes
 *   booleans    't' / 'f'
 *
 * The three tables are read in one REPEATABLE READ READ ONLY transaction,
 * so that a dump taken while a daemon commits is one consistent snapshot;
 * rows come one at a time (single-row mode), never a whole table at once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"
#include "io/dump.h"
#include "io/pg.h"

struct pg_dump {
	PGconn *conn;
	const struct pg_target *target;
	struct buf bytes[16]; /* decoded bytea per column, valid during a row */
};

static void decode_hex(struct buf *out, const char *s, size_t n)
{
	buf_reset(out);
	buf_reserve(out, n / 2 + 1);
	for (size_t i = 0; i + 1 < n; i += 2) {
		int hi = hex_digit_value(s[i]), lo = hex_digit_value(s[i + 1]);
		if (hi >= 0 && lo >= 0)
			buf_addc(out, (char)(hi << 4 | lo));
	}
}

static bool pg_fetch(void *ctx, const struct table_def *t, dump_row_fn row, void *row_ctx,
                     struct error *err)
{
	struct pg_dump *d = ctx;
	if (t->n_cols > 16) {
		error_set(err, "table %s has too many columns to dump", t->name);
		return false;
	}
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT ");
	for (int i = 0; i < t->n_cols; i++) {
		const char *c = t->cols[i].name;
		buf_adds(&sql, i ? ", " : "");
		switch (t->cols[i].kind) {
		case C_TIME:
			buf_printf(&sql, "to_char(\"%s\", 'YYYY-MM-DD HH24:MI:SS.US')", c);
			break;
		case C_JSON:
			buf_printf(&sql, "to_jsonb(\"%s\")::text", c);
			break;
		case C_BYTES:
			buf_printf(&sql, "encode(\"%s\", 'hex')", c);
			break;
		default:
			buf_printf(&sql, "\"%s\"", c);
			break;
		}
	}
	buf_printf(&sql, " FROM %s", t->name);
	bool ok = PQsendQuery(d->conn, sql.data) && PQsetSingleRowMode(d->conn);
	buf_free(&sql);
	if (!ok) {
		pg_error(err, d->target, "cannot read the database", PQerrorMessage(d->conn));
		return false;
	}

	struct cell cells[16];
	PGresult *r;
	while ((r = PQgetResult(d->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && ok) {
			for (int i = 0; i < t->n_cols; i++) {
				struct cell *c = &cells[i];
				memset(c, 0, sizeof(*c));
				c->null = PQgetisnull(r, 0, i);
				c->s = PQgetvalue(r, 0, i);
				c->len = (size_t)PQgetlength(r, 0, i);
				switch (t->cols[i].kind) {
				case C_INT:
					c->i = strtoll(c->s, NULL, 10);
					break;
				case C_BOOL:
					c->i = c->s[0] == 't';
					break;
				case C_REAL:
					c->d = strtod(c->s, NULL);
					break;
				case C_BYTES:
					decode_hex(&d->bytes[i], c->s, c->len);
					c->s = d->bytes[i].data ? d->bytes[i].data : "";
					c->len = d->bytes[i].len;
					break;
				default:
					break;
				}
			}
			row(row_ctx, cells);
		} else if (st != PGRES_TUPLES_OK && ok) {
			struct buf what = BUF_INIT;
			buf_printf(&what, "cannot read table %s (is this a telemetra output?)", t->name);
			pg_error(err, d->target, what.data, PQresultErrorMessage(r));
			buf_free(&what);
			ok = false;
		}
		PQclear(r);
	}
	return ok;
}

/* POSTGRES_USER and POSTGRES_PASSWORD, the seed's environment, apply when
 * the target names no user or password, as for `telemetra live`. */
bool dump_postgres(const char *target, FILE *out, struct error *err)
{
	struct pg_target t;
	if (!pg_target_init(&t, target, getenv("POSTGRES_USER"), getenv("POSTGRES_PASSWORD"), err))
		return false;
	struct pg_dump d = {.target = &t};
	bool ok = (d.conn = pg_connect(&t, PG_CONNECT_TIMEOUT_S, err)) != NULL &&
	          pg_exec(d.conn, &t, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	                  PGRES_COMMAND_OK, "cannot start a read-only transaction", err) &&
	          dump_with(pg_fetch, &d, out, err);
	PQfinish(d.conn);
	for (size_t i = 0; i < sizeof(d.bytes) / sizeof(d.bytes[0]); i++)
		buf_free(&d.bytes[i]);
	pg_target_free(&t);
	return ok;
}
