/*
 * sqlite_file.c — existing SQLite files, opened by readers (dump) and
 * judged before replay -o replaces them.
 *
 * A reader must be able to read what a crashed writer left: a run killed
 * during --append leaves a hot journal, which SQLite rolls back at the
 * first read — a write, which a read-only connection cannot do ("attempt to
 * write a readonly database").  sqlite_open_existing() then opens the file
 * read-write (never creating it), so that SQLite restores the last
 * committed state, exactly as the next writer would, and says so.  SQLite
 * calls a journal hot only when no live connection holds a lock on the
 * database, so a writer still at work is never disturbed.
 */
#include "config.h"

#include "io/sqlite_file.h"

#include <sqlite3.h>
#include <string.h>

#include "util/log.h"

sqlite3 *sqlite_open_existing(const char *path, struct error *err)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		error_set(err, "cannot open SQLite database %s: %s", path,
		          db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	/* The first read is where SQLite finds a hot journal. */
	int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return db;
	int ext = sqlite3_extended_errcode(db);
	if (ext != SQLITE_READONLY_ROLLBACK && ext != SQLITE_READONLY_RECOVERY &&
	    rc != SQLITE_READONLY) {
		error_set(err, "cannot read SQLite database %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_close(db);
	db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
	    sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		error_set(err, "SQLite database %s holds the journal of a writer that stopped mid-way, "
		          "and it cannot be rolled back: %s; run any telemetra command that writes it "
		          "(or sqlite3 %s 'PRAGMA quick_check') with write permission",
		          path, db ? sqlite3_errmsg(db) : "out of memory", path);
		sqlite3_close(db);
		return NULL;
	}
	log_info("%s: rolled back what a writer that stopped mid-way had left unfinished; the file "
	         "holds its last committed state",
	         path);
	return db;
}

bool sqlite_is_telemetra(const char *path, bool *yes, struct error *err)
{
	*yes = false;
	sqlite3 *db = sqlite_open_existing(path, err);
	if (!db)
		return false;
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(db,
	                             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name"
	                             " IN ('schema_version', 'chat_summary_minute', 'moments')",
	                             -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_step(st) == SQLITE_ROW;
	if (ok)
		*yes = sqlite3_column_int(st, 0) == 3;
	else
		error_set(err, "cannot read SQLite database %s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok;
}
