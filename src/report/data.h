/*
 * data.h — what the report reads from a telemetra output, for the other
 * files of src/report/ (not for commands: they use report/report.h).
 *
 * struct report is the open database: a SQLite file read-only (filtered
 * through temporary views), or an in-memory SQLite copy of a PostgreSQL
 * target's rows (data_pg.c), with the statements the page steps through
 * prepared at open time.  The loaders below turn rows into arrays the
 * caller owns; the page streams the runs and moments tables straight from
 * r->runs and r->table instead, one row at a time.
 */
#ifndef TELEMETRA_REPORT_DATA_H
#define TELEMETRA_REPORT_DATA_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"
#include "core/score.h"
#include "report/report.h"

/* The program's defaults, for a database without a runs table. */
#define DEFAULT_HISTORY 10
#define DEFAULT_THRESHOLD 3.0
#define DEFAULT_WINDOW_S 60.0

struct report {
	char *path;
	sqlite3 *db;
	bool has_runs;
	sqlite3_stmt *streams, *windows, *moments, *table, *runs;
	sqlite3_stmt *all_moments, *spans; /* for the scores */
};

/* The configuration that shaped the rows: from the newest run, else the
 * program's defaults (window and slide then inferred from the rows). */
struct run_cfg {
	long long run_id; /* 0: no run */
	unsigned history;
	double threshold;
	double min_stddev; /* <= 0: 1 / window */
	double window_s;   /* <= 0: unknown */
	double slide_s;    /* <= 0: unknown */
	bool merge;
	bool pane; /* the chat spike detector is the pane detector */
};

struct stream_info {
	char *id; /* owned */
	size_t len;
	long long windows, anomalies, moments;
};

struct wrow {
	int64_t start, end;
	double rate, z, viewers, sentiment;
	bool has_rate, has_z, has_viewers, has_sentiment;
	bool has_band;
	double mean, sd;
};

/* A moment of the stream being drawn; strings owned. */
struct smoment {
	int64_t ts;
	int64_t win_start, win_end; /* the window it marks: its own, or its peak */
	bool has_win;
	char *type, *desc;
	double intensity;
	bool has_intensity;
	bool has_base; /* baseline of chat_rate recorded in the metadata */
	double base_mean, base_sd;
	/* The pane detector's comparison (metadata "detector": "pane"): the
	 * count of its metric over the scored span against the baseline
	 * level and spread of that span. */
	bool is_pane;
	int64_t scored_start, scored_end;
	double value, level, spread, dispersion, p_value;
	char metric[16]; /* "chatters", "messages" or "emote-chatters" (a fixed list) */
};

void smoments_free(struct smoment *m, size_t n);

/* The text of column col as a time; false when NULL or not a time. */
bool column_time(sqlite3_stmt *st, int col, int64_t *us);
/* The string member key of o as a time; false when absent or not one. */
bool json_time_field(json_t *o, const char *key, int64_t *us);

/* Every stream with its counts, sorted by id, into *out: a new array that
 * the caller frees with streams_free (NULL when there is none). */
bool load_streams(struct report *r, struct stream_info **out, size_t *count, struct error *err);
void streams_free(struct stream_info *v, size_t n);
/* The windows of stream s into *out, a new array that the caller frees
 * (NULL when there are none). */
bool load_rows(struct report *r, const struct stream_info *s, struct wrow **out, size_t *count,
               struct error *err);
/* The moments of stream s into *out, a new array that the caller frees
 * with smoments_free (NULL when there are none). */
bool load_moments(struct report *r, const struct stream_info *s, struct smoment **out,
                  size_t *count, struct error *err);

/* The scored output.  Owns everything (page_score_free). */
struct page_score {
	struct score s;
	struct score_detail d;
	struct score_moment *moments;
	size_t n_moments, cap_moments;
	struct score_span *spans;
	size_t n_spans, cap_spans;
	struct score_label *labels;
	char **strs; /* the strings the views above point into */
	size_t n_strs, cap_strs;
	int64_t window_us;
};

void page_score_free(struct page_score *ps);
/* Read the moments and the streams' spans and score them into *ps, which
 * the caller frees with page_score_free (also on failure). */
bool load_score(struct report *r, const struct report_params *p, const struct run_cfg *cfg,
                struct page_score *ps, struct error *err);

/* data_pg.c: copy the rows f keeps of the PostgreSQL target into db (an
 * empty SQLite database), as tables shaped like a telemetra output's;
 * *shown is the target redacted (the caller frees it, also on failure). */
bool report_pg_copy(const char *target, const struct report_filter *f, sqlite3 *db,
                    char **shown, struct error *err);

#endif
