/*
 * report_html.h — `telemetra report`: a self-contained HTML page from the
 * SQLite output of a replay.
 *
 * The page has a header (the runs that produced the database and their
 * configuration), an overview of the streams, one inline SVG chart per
 * stream (chat_rate over time, the z-score baseline band, the spike
 * threshold, detected moments as markers and, given a labels file, the true
 * moments as shaded spans) and the table of moments by intensity.  It needs
 * nothing but itself: inline CSS and SVG, no script, no external URL, no
 * font to fetch; it is well-formed XML as well as HTML5, so that user data
 * (stream ids, descriptions, label kinds) can never break it.
 *
 * Usage: report_labels_load() (optional), report_open() to check the
 * database before any output is created, report_write(), report_close().
 * Errors are returned as one sentence in struct error, naming the file.
 */
#ifndef TELEMETRA_REPORT_HTML_H
#define TELEMETRA_REPORT_HTML_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/common.h"

/* A true moment from a labels file (`telemetra gen --labels`). */
struct report_label {
	char *stream_id; /* owned; may hold any bytes, length below */
	size_t stream_id_len;
	char *kind;      /* owned; "label" when the line has none */
	int64_t start_us, end_us;
};

/* The labels of a file, sorted by (stream_id bytes, start, end).  Owns its
 * array and the strings in it; release with report_labels_free(). */
struct report_labels {
	struct report_label *v;
	size_t n;
};

/* Read a JSON Lines file of {stream_id, start, end, kind} objects; start
 * and end are RFC 3339 text, end >= start; blank lines are skipped.  On
 * failure *out is left empty and err names the file and line. */
bool report_labels_load(const char *path, struct report_labels *out, struct error *err);
void report_labels_free(struct report_labels *labels);

struct report;

/* Open a telemetra SQLite output read-only and check that it has the
 * tables and columns the report reads.  Returns NULL with err set ("PATH:
 * reason") when it cannot be opened or is not a telemetra output.  The
 * caller owns the result (report_close); db_path is copied. */
struct report *report_open(const char *db_path, struct error *err);
void report_close(struct report *r);

struct report_params {
	const char *title;                   /* NULL: a title naming the database */
	const struct report_labels *labels;  /* NULL: no labels file */
	const char *labels_path;             /* shown in the page; may be NULL */
};

/* Write the whole page to out.  Nothing here is owned by the callee.
 * Returns false with err set when the database cannot be read; a write
 * error on out is left for the caller to find with ferror(). */
bool report_write(struct report *r, const struct report_params *p, FILE *out, struct error *err);

#endif
