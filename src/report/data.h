/*
 * data.h — what the report reads from a telemetra output, for the other
 * files of src/report/ (not for commands: they use report/report.h).
 *
 * struct report (private to data.c) is the open database: a SQLite file
 * read-only (filtered through temporary views), or an in-memory SQLite
 * copy of a PostgreSQL target's rows (data_pg.c), with its statements
 * prepared at open time.  The loaders below turn rows into arrays the
 * caller owns; the runs and moments tables are handed out one row at a
 * time instead (next_run, next_table_moment), so that the page holds no
 * table and knows no backend: both backends are read through these
 * functions, since data_pg.c fills the same SQLite shape.
 */
#ifndef TELEMETRA_REPORT_DATA_H
#define TELEMETRA_REPORT_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"
#include "core/score.h"
#include "report/report.h"

/* The program's defaults, for a database without a runs table: the
 * options table's (cli/options.c), never repeated here.  Static; built on
 * first use. */
struct report_defaults {
	unsigned history;
	double threshold;
	double window_s;
};
const struct report_defaults *report_defaults(void);

struct sqlite3; /* data_pg.c's copy target, below */

/* The database as named in messages and on the page ("PATH", or a
 * PostgreSQL target redacted); owned by r. */
const char *report_path(const struct report *r);
/* Whether the database has a runs table (a sink's output always has). */
bool report_has_runs(const struct report *r);

/* One row of the runs table.  The strings are the database's, NULL where
 * the cell is NULL, valid until the next call on r. */
struct run_row {
	long long id;
	const char *command, *version;
	const char *started; /* as stored; started_us when it reads as a time */
	bool has_started_us;
	int64_t started_us;
	bool finished;
	const char *config, *inputs; /* JSON text, as stored */
	bool has_count[5];
	long long count[5]; /* records, events, dead letters, windows, moments */
};
/* The next run, oldest first, into *row: 1; 0 after the last; -1 with err
 * set ("PATH: reading table runs: ...").  Only where report_has_runs. */
int next_run(struct report *r, struct run_row *row, struct error *err);

/* One row of the moments table by intensity descending (NULL last), then
 * stream, time and type.  Views into the database as in struct run_row:
 * a NULL cell is NULL with length 0. */
struct table_moment {
	const char *stream_id;
	size_t stream_id_len;
	const char *time; /* as stored; time_us when it reads as a time */
	bool has_time_us;
	int64_t time_us;
	const char *type, *desc;
	size_t type_len, desc_len;
	bool has_intensity;
	double intensity;
};
/* The next moment into *m: 1; 0 after the last (the table can then be
 * read again); -1 with err set ("PATH: reading table moments: ..."). */
int next_table_moment(struct report *r, struct table_moment *m, struct error *err);

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
	char metric[16]; /* "chatters", "messages", "emote-chatters" or "fresh-emoters" (a fixed list) */
};

void smoments_free(struct smoment *m, size_t n);

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
bool report_pg_copy(const char *target, const struct report_filter *f, struct sqlite3 *db,
                    char **shown, struct error *err);

#endif
