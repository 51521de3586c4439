/*
 * target.h — what the user names as a database, parsed in one place.
 *
 * Every command that reads or writes a database (replay --sink and -o,
 * live --sink/--postgres, dump, report, migrate) turns the user's text into
 * a struct target here, so that "is this PostgreSQL?" has one answer:
 *
 *   sqlite:PATH                 a SQLite file
 *   PATH                        a SQLite file (no scheme)
 *   postgres:TARGET             PostgreSQL; TARGET is any of the three below
 *   postgresql://... postgres://...   a libpq URI
 *   host=... dbname=...         a libpq conninfo (a keyword libpq knows, '=')
 *   jdbc:postgresql://...       the seed's JDBC URL
 *
 * Anything else that starts with a scheme ("mysql://x", "file:x", "jdbc:mysql:")
 * is refused rather than taken for a file name: a typo must not become a
 * SQLite file called "mysql://x".  A file whose name has a colon in it is
 * written sqlite:NAME or ./NAME.  A refused target is a usage error (exit 2).
 *
 * No message built here shows a password: `shown` is the target with every
 * password replaced by ***.
 */
#ifndef TELEMETRA_TARGET_H
#define TELEMETRA_TARGET_H

#include <stdbool.h>

#include "core/common.h"

enum target_kind { TARGET_SQLITE, TARGET_POSTGRES };

struct target {
	enum target_kind kind;
	/* SQLite: the file path.  PostgreSQL: the URI, conninfo or JDBC URL,
	 * without the "postgres:" prefix, as pg_target_init() takes it. */
	char *location;
	char *shown; /* for messages: the path, or the target redacted */
};

/* Parse spec into t (which then owns copies: target_free).  False, with
 * err saying what is wrong and what to write instead, for a target that
 * names no database this program can use (an unknown scheme, an empty
 * path); err never holds a password. */
bool target_parse(struct target *t, const char *spec, struct error *err);
void target_free(struct target *t);

/* The kind's name for messages: "SQLite" or "PostgreSQL". */
const char *target_kind_name(enum target_kind kind);

#endif
