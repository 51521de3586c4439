/*
 * report.h — `telemetra report`: a self-contained HTML page from a
 * telemetra output (SQLite or PostgreSQL).  The one header of src/report/
 * that commands include.
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
 * With labels, the top of the page scores the output as `tune` does (one
 * implementation, core/score.c): precision, recall, F1, false alarms per
 * stream-hour, then the missed labels and the false moments (episodes).
 *
 * Usage: labels_load() (io/labels.h, optional), report_open() to check the
 * database before any output is created, report_write(), report_close().
 * Errors are returned as one sentence in struct error, naming the file.
 */
#ifndef TELEMETRA_REPORT_REPORT_H
#define TELEMETRA_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/common.h"
#include "io/labels.h"
#include "io/target.h"

struct report;

/* Which rows the page shows (all when zeroed): windows of the streams
 * named (any when none) overlapping [from, to), moments in [from, to). */
struct report_filter {
	const char *const *streams;
	size_t n_streams;
	bool has_from, has_to;
	int64_t from_us, to_us;
};

/* Open a telemetra output read-only and check that it has the
 * tables and columns the report reads.  Returns NULL with err set ("PATH:
 * reason") when it cannot be opened or is not a telemetra output.  The
 * caller owns the result (report_close); t is borrowed.  A PostgreSQL
 * target is read into an in-memory SQLite copy of the
 * rows the filter keeps (data_pg.c); a SQLite file is filtered through
 * temporary views of the same names. */
struct report *report_open(const struct target *t, const struct report_filter *f,
                           struct error *err);
void report_close(struct report *r);

struct report_params {
	const char *title;                   /* NULL: a title naming the database */
	const struct labels *labels;  /* NULL: no labels file */
	const char *labels_path;             /* shown in the page; may be NULL */
	/* With labels: the scores at the top (core/score.h, as tune computes
	 * them) with this tolerance. */
	int64_t tolerance_us;
	const struct labels *decoys; /* NULL: none; drawn, and named by false alarms */
	const char *decoys_path;
};

/* Write the whole page to out.  Nothing here is owned by the callee.
 * Returns false with err set when the database cannot be read; a write
 * error on out is left for the caller to find with ferror(). */
bool report_write(struct report *r, const struct report_params *p, FILE *out, struct error *err);

#endif
