/*
 * line_output.h — JSON Lines out to a named file (whole or not at all,
 * gzip when the name ends in .gz) or stdout.
 */
#ifndef TELEMETRA_LINE_OUTPUT_H
#define TELEMETRA_LINE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <zlib.h>

#include "util/new_file.h"

struct output {
	const char *name; /* for messages */
	FILE *f;          /* plain file or stdout */
	gzFile gz;        /* or gzip */
	bool is_stdout;
	struct new_file file; /* a named file appears whole or not at all */
	char *buf;
	size_t len;
	bool failed;
};

/* Open path ("-" or NULL: stdout); a named file must not exist yet unless
 * new_file allows it.  False after logging; then there is nothing to
 * close.  The output owns its buffer and file until output_close. */
bool output_open(struct output *o, const char *path);

/* Append one line (a newline is added).  False after logging. */
bool output_line(struct output *o, const char *data, size_t len);

/* Push buffered lines through to the file descriptor (for live feeds). */
bool output_sync(struct output *o);

/* Flush and close; a named file is put in place only when everything was
 * written and keep is true (else removed).  False (after logging) when
 * anything failed. */
bool output_close(struct output *o, bool keep);

#endif
