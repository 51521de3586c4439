/*
 * sqlite_file.h — existing SQLite files: opening one to read whatever a
 * crashed writer left, and telling telemetra's outputs from other files.
 */
#ifndef TELEMETRA_SQLITE_FILE_H
#define TELEMETRA_SQLITE_FILE_H

#include <stdbool.h>

#include "core/common.h"

struct sqlite3;

/* An existing SQLite file opened for reading, even when a crashed writer
 * left a hot journal (then it is rolled back, which needs write access,
 * and logged).  NULL with err set; the caller closes the handle
 * (sqlite3_close). */
struct sqlite3 *sqlite_open_existing(const char *path, struct error *err);

/* Is path a SQLite database with telemetra's output tables?  False with
 * err set when it cannot be read as SQLite at all (then it is not). */
bool sqlite_is_telemetra(const char *path, bool *yes, struct error *err);

#endif
