/*
 * data.c — the report's reading side: open a telemetra output (a SQLite
 * file read-only, or PostgreSQL through data_pg.c's in-memory copy), check
 * that it has the tables and columns the page reads before any output
 * exists, apply --stream/--from/--to, and load one stream's windows and
 * moments, the stream list and the scoring inputs.
 *
 * The filter on a SQLite file is a pair of temporary views named like the
 * tables (SQLite resolves temp first), so the queries need no WHERE of
 * their own; PostgreSQL applies it in its own queries instead.  A moment's
 * metadata is read here too: the window it marks and, where the detector
 * recorded it, the baseline it compared against (report/baseline.c).
 */
#include "config.h"

#include "report/data.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli/options.h"
#include "core/buf.h"
#include "core/timestamp.h"

struct report {
	char *path;
	sqlite3 *db;
	bool has_runs;
	sqlite3_stmt *streams, *windows, *moments, *table, *runs;
	sqlite3_stmt *all_moments, *spans; /* for the scores */
};

/* The text of column col as a time; false when NULL or not a time. */
static bool column_time(sqlite3_stmt *st, int col, int64_t *us)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return s && timestamp_parse_text(s, (size_t)sqlite3_column_bytes(st, col), us);
}

const struct report_defaults *report_defaults(void)
{
	static struct report_defaults d;
	if (!d.history) {
		struct config c;
		config_init(&c);
		d = (struct report_defaults){c.history, c.threshold,
		                             (double)c.window_us / USEC_PER_SEC};
		config_free(&c);
	}
	return &d;
}

const char *report_path(const struct report *r)
{
	return r->path;
}

bool report_has_runs(const struct report *r)
{
	return r->has_runs;
}

int next_run(struct report *r, struct run_row *row, struct error *err)
{
	sqlite3_stmt *st = r->runs;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		error_set(err, "%s: reading table runs: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	row->id = sqlite3_column_int64(st, 0);
	row->command = (const char *)sqlite3_column_text(st, 1);
	row->version = (const char *)sqlite3_column_text(st, 2);
	row->started = (const char *)sqlite3_column_text(st, 3);
	row->has_started_us = column_time(st, 3, &row->started_us);
	row->finished = sqlite3_column_type(st, 4) != SQLITE_NULL;
	row->config = (const char *)sqlite3_column_text(st, 5);
	row->inputs = (const char *)sqlite3_column_text(st, 6);
	for (int i = 0; i < 5; i++) {
		row->has_count[i] = sqlite3_column_type(st, 7 + i) != SQLITE_NULL;
		row->count[i] = (long long)sqlite3_column_int64(st, 7 + i);
	}
	return 1;
}

int next_table_moment(struct report *r, struct table_moment *m, struct error *err)
{
	sqlite3_stmt *st = r->table;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		error_set(err, "%s: reading table moments: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	m->stream_id = (const char *)sqlite3_column_text(st, 0);
	m->stream_id_len = (size_t)sqlite3_column_bytes(st, 0);
	m->time = (const char *)sqlite3_column_text(st, 1);
	m->has_time_us = column_time(st, 1, &m->time_us);
	m->type = (const char *)sqlite3_column_text(st, 2);
	m->type_len = (size_t)sqlite3_column_bytes(st, 2);
	m->desc = (const char *)sqlite3_column_text(st, 3);
	m->desc_len = (size_t)sqlite3_column_bytes(st, 3);
	m->has_intensity = sqlite3_column_type(st, 4) != SQLITE_NULL;
	m->intensity = sqlite3_column_double(st, 4);
	return 1;
}

void report_close(struct report *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->streams);
	sqlite3_finalize(r->windows);
	sqlite3_finalize(r->moments);
	sqlite3_finalize(r->table);
	sqlite3_finalize(r->runs);
	sqlite3_finalize(r->all_moments);
	sqlite3_finalize(r->spans);
	sqlite3_close(r->db);
	free(r->path);
	free(r);
}

static bool prepare(struct report *r, sqlite3_stmt **st, const char *table, const char *sql,
                    struct error *err)
{
	if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) == SQLITE_OK)
		return true;
	error_set(err, "%s: cannot read table %s: %s (is this a telemetra output?)", r->path, table,
	          sqlite3_errmsg(r->db));
	return false;
}

/* Temporary views named like the tables, which SQLite resolves before the
 * database's own (temp comes first): the filter without touching the
 * queries below.  Literals, since a view takes no parameter. */
static bool filter_views(struct report *r, const struct report_filter *f, struct error *err)
{
	if (!f || (!f->n_streams && !f->has_from && !f->has_to))
		return true;
	struct buf streams = BUF_INIT, win = BUF_INIT, mom = BUF_INIT;
	for (size_t i = 0; i < f->n_streams; i++) {
		char *q = sqlite3_mprintf("%s%Q", i ? ", " : "stream_id IN (", f->streams[i]);
		buf_adds(&streams, q);
		sqlite3_free(q);
	}
	if (f->n_streams)
		buf_addc(&streams, ')');
	char t[TIMESTAMP_BUFSZ];
	buf_adds(&win, streams.len ? streams.data : "1");
	buf_adds(&mom, streams.len ? streams.data : "1");
	if (f->has_from) {
		timestamp_format(f->from_us, t);
		buf_printf(&win, " AND window_end > '%s'", t);
		buf_printf(&mom, " AND timestamp >= '%s'", t);
	}
	if (f->has_to) {
		timestamp_format(f->to_us, t);
		buf_printf(&win, " AND window_start < '%s'", t);
		buf_printf(&mom, " AND timestamp < '%s'", t);
	}
	struct buf sql = BUF_INIT;
	buf_printf(&sql,
	           "CREATE TEMP VIEW chat_summary_minute AS SELECT * FROM main.chat_summary_minute"
	           " WHERE %s; CREATE TEMP VIEW moments AS SELECT * FROM main.moments WHERE %s",
	           win.data, mom.data);
	char *msg = NULL;
	bool ok = sqlite3_exec(r->db, sql.data, NULL, NULL, &msg) == SQLITE_OK;
	if (!ok)
		error_set(err, "%s: cannot filter: %s (is this a telemetra output?)", r->path,
		          msg ? msg : sqlite3_errmsg(r->db));
	sqlite3_free(msg);
	buf_free(&sql);
	buf_free(&streams);
	buf_free(&win);
	buf_free(&mom);
	return ok;
}

struct report *report_open(const struct target *t, const struct report_filter *f,
                    struct error *err)
{
	struct report *r = xcalloc(1, sizeof(*r));
	const char *path = t->location;
	if (t->kind == TARGET_POSTGRES) {
		if (sqlite3_open_v2(":memory:", &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
		                    NULL) != SQLITE_OK ||
		    !report_pg_copy(path, f, r->db, &r->path, err)) {
			if (!r->db)
				error_set(err, "out of memory");
			report_close(r);
			return NULL;
		}
		f = NULL; /* PostgreSQL applied it */
	} else {
		struct stat sb;
		if (stat(path, &sb) != 0) {
			error_set(err, "cannot open %s: %s", path, strerror(errno));
			free(r);
			return NULL;
		}
		if (S_ISDIR(sb.st_mode)) {
			error_set(err, "cannot open %s: %s", path, strerror(EISDIR));
			free(r);
			return NULL;
		}
		r->path = xstrdup(path);
		if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
			error_set(err, "cannot open %s: %s", path,
			          r->db ? sqlite3_errmsg(r->db) : "out of memory");
			report_close(r);
			return NULL;
		}
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db,
	                       "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN"
	                       " ('chat_summary_minute', 'moments', 'runs')",
	                       -1, &st, NULL) != SQLITE_OK) {
		error_set(err, "cannot read %s: %s", r->path, sqlite3_errmsg(r->db));
		report_close(r);
		return NULL;
	}
	bool has_summary = false, has_moments = false;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		has_summary |= !strcmp(name, "chat_summary_minute");
		has_moments |= !strcmp(name, "moments");
		r->has_runs |= !strcmp(name, "runs");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		error_set(err, "cannot read %s: %s", r->path, sqlite3_errmsg(r->db));
		report_close(r);
		return NULL;
	}
	if (!has_summary || !has_moments) {
		error_set(err, "%s is not a telemetra output: it has no %s table", r->path,
		          has_summary ? "moments" : "chat_summary_minute");
		report_close(r);
		return NULL;
	}
	if (!filter_views(r, f, err)) {
		report_close(r);
		return NULL;
	}
	/* Prepared now, so that a missing column is found before any output. */
	if (!prepare(r, &r->streams, "chat_summary_minute",
	             "SELECT stream_id, sum(w), sum(a), sum(m) FROM ("
	             " SELECT stream_id, count(*) AS w, sum(is_anomaly <> 0) AS a, 0 AS m"
	             " FROM chat_summary_minute GROUP BY stream_id"
	             " UNION ALL SELECT stream_id, 0, 0, count(*) FROM moments GROUP BY stream_id)"
	             " GROUP BY stream_id ORDER BY stream_id",
	             err) ||
	    !prepare(r, &r->windows, "chat_summary_minute",
	             "SELECT window_start, window_end, chat_rate, z_score, avg_viewers, avg_sentiment"
	             " FROM chat_summary_minute WHERE stream_id = ?1"
	             " ORDER BY window_start, window_end",
	             err) ||
	    !prepare(r, &r->moments, "moments",
	             "SELECT timestamp, moment_type, description, intensity, metadata"
	             " FROM moments WHERE stream_id = ?1 ORDER BY timestamp, moment_type",
	             err) ||
	    !prepare(r, &r->table, "moments",
	             "SELECT stream_id, timestamp, moment_type, description, intensity, metadata"
	             " FROM moments ORDER BY intensity IS NULL, intensity DESC, stream_id,"
	             " timestamp, moment_type",
	             err) ||
	    !prepare(r, &r->all_moments, "moments",
	             "SELECT stream_id, moment_type, timestamp, metadata FROM moments"
	             " ORDER BY stream_id, moment_type, timestamp",
	             err) ||
	    !prepare(r, &r->spans, "chat_summary_minute",
	             "SELECT stream_id, min(window_start), max(window_end) FROM chat_summary_minute"
	             " GROUP BY stream_id ORDER BY stream_id",
	             err) ||
	    (r->has_runs &&
	     !prepare(r, &r->runs, "runs",
	              "SELECT id, command, version, started_at, finished_at, config, inputs,"
	              " records, events, dead_letters, windows, moments FROM runs ORDER BY id",
	              err))) {
		report_close(r);
		return NULL;
	}
	return r;
}

void smoments_free(struct smoment *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].type);
		free(m[i].desc);
	}
	free(m);
}

/* The string member key of o as a time; false when absent or not one. */
static bool json_time_field(json_t *o, const char *key, int64_t *us)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) &&
	       timestamp_parse_text(json_string_value(v), json_string_length(v), us);
}

/* Fill the marker window and recorded baseline of m from its metadata. */
static void moment_metadata(struct smoment *m, const char *meta, size_t len)
{
	json_t *o = meta ? json_loadb(meta, len, 0, NULL) : NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	m->has_win = (json_time_field(o, "peak_window_start", &m->win_start) &&
	              json_time_field(o, "peak_window_end", &m->win_end)) ||
	             (json_time_field(o, "window_start", &m->win_start) &&
	              json_time_field(o, "window_end", &m->win_end));
	json_t *metric = json_object_get(o, "metric"), *bm = json_object_get(o, "baseline_mean"),
	       *bs = json_object_get(o, "baseline_stddev");
	bool is_rate = metric ? json_is_string(metric) && !strcmp(json_string_value(metric), "chat_rate")
	                      : !strcmp(m->type, "chat_spike");
	if (is_rate && m->has_win && json_is_number(bm) && json_is_number(bs)) {
		m->has_base = true;
		m->base_mean = json_number_value(bm);
		m->base_sd = json_number_value(bs);
	}
	json_t *det = json_object_get(o, "detector"), *val = json_object_get(o, "value"),
	       *lvl = json_object_get(o, "baseline_level"), *spr = json_object_get(o, "baseline_spread");
	if (json_is_string(det) && !strcmp(json_string_value(det), "pane") &&
	    json_time_field(o, "scored_start", &m->scored_start) &&
	    json_time_field(o, "scored_end", &m->scored_end) && m->scored_end > m->scored_start &&
	    json_is_number(val) && json_is_number(lvl) && json_is_number(spr) &&
	    isfinite(json_number_value(val)) && isfinite(json_number_value(lvl)) &&
	    isfinite(json_number_value(spr))) {
		m->is_pane = true;
		m->value = json_number_value(val);
		m->level = json_number_value(lvl);
		m->spread = json_number_value(spr);
		json_t *d = json_object_get(o, "baseline_dispersion"), *p = json_object_get(o, "p_value");
		m->dispersion = json_is_number(d) ? json_number_value(d) : NAN;
		m->p_value = json_is_number(p) ? json_number_value(p) : NAN;
		/* The name shown is one of a fixed list, never user data. */
		const char *mn = json_is_string(metric) ? json_string_value(metric) : "";
		snprintf(m->metric, sizeof m->metric, "%s",
		         !strcmp(mn, "messages")         ? "messages"
		         : !strcmp(mn, "emote-chatters") ? "emote-chatters"
		         : !strcmp(mn, "fresh-emoters")  ? "fresh-emoters"
		                                         : "chatters");
	}
	json_decref(o);
}

/* Read the windows of stream s into *out, a new array that the caller
 * frees (NULL when there are none). */
bool load_rows(struct report *r, const struct stream_info *s, struct wrow **out,
               size_t *count, struct error *err)
{
	sqlite3_stmt *st = r->windows;
	sqlite3_bind_text(st, 1, s->id, (int)s->len, SQLITE_STATIC);
	struct wrow *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	bool ok = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows = grow_array(rows, sizeof(*rows), &cap, n + 1);
		struct wrow *w = &rows[n];
		memset(w, 0, sizeof(*w));
		if (!column_time(st, 0, &w->start) || !column_time(st, 1, &w->end) ||
		    w->end <= w->start) {
			error_set(err, "%s: table chat_summary_minute: bad window \"%s\" .. \"%s\"",
			          r->path, (const char *)sqlite3_column_text(st, 0),
			          (const char *)sqlite3_column_text(st, 1));
			ok = false;
			break;
		}
		w->has_rate = sqlite3_column_type(st, 2) != SQLITE_NULL;
		w->rate = sqlite3_column_double(st, 2);
		w->has_z = sqlite3_column_type(st, 3) != SQLITE_NULL;
		w->z = sqlite3_column_double(st, 3);
		w->has_viewers = sqlite3_column_type(st, 4) != SQLITE_NULL;
		w->viewers = sqlite3_column_double(st, 4);
		w->has_sentiment = sqlite3_column_type(st, 5) != SQLITE_NULL;
		w->sentiment = sqlite3_column_double(st, 5);
		if (!isfinite(w->rate) || !isfinite(w->z))
			w->has_rate = w->has_z = false;
		n++;
	}
	if (ok && rc != SQLITE_DONE) {
		error_set(err, "%s: reading table chat_summary_minute: %s", r->path,
		          sqlite3_errmsg(r->db));
		ok = false;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!ok) {
		free(rows);
		return false;
	}
	*out = rows;
	*count = n;
	return true;
}

/* Read the moments of stream s into *out, a new array that the caller
 * frees with smoments_free (NULL when there are none). */
bool load_moments(struct report *r, const struct stream_info *s, struct smoment **out,
                  size_t *count, struct error *err)
{
	sqlite3_stmt *st = r->moments;
	sqlite3_bind_text(st, 1, s->id, (int)s->len, SQLITE_STATIC);
	struct smoment *ms = NULL;
	size_t n = 0, cap = 0;
	int rc;
	bool ok = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ms = grow_array(ms, sizeof(*ms), &cap, n + 1);
		struct smoment *m = &ms[n];
		memset(m, 0, sizeof(*m));
		if (!column_time(st, 0, &m->ts)) {
			error_set(err, "%s: table moments: bad timestamp \"%s\"", r->path,
			          (const char *)sqlite3_column_text(st, 0));
			ok = false;
			break;
		}
		const char *type = (const char *)sqlite3_column_text(st, 1);
		const char *desc = (const char *)sqlite3_column_text(st, 2);
		m->type = xstrndup(type ? type : "", (size_t)sqlite3_column_bytes(st, 1));
		m->desc = xstrndup(desc ? desc : "", (size_t)sqlite3_column_bytes(st, 2));
		m->has_intensity = sqlite3_column_type(st, 3) != SQLITE_NULL;
		m->intensity = sqlite3_column_double(st, 3);
		n++;
		moment_metadata(m, (const char *)sqlite3_column_text(st, 4),
		                (size_t)sqlite3_column_bytes(st, 4));
	}
	if (ok && rc != SQLITE_DONE) {
		error_set(err, "%s: reading table moments: %s", r->path, sqlite3_errmsg(r->db));
		ok = false;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!ok) {
		smoments_free(ms, n);
		return false;
	}
	*out = ms;
	*count = n;
	return true;
}

bool load_streams(struct report *r, struct stream_info **out, size_t *count,
                  struct error *err)
{
	struct stream_info *v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	sqlite3_stmt *st = r->streams;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = grow_array(v, sizeof(*v), &cap, n + 1);
		const char *id = (const char *)sqlite3_column_text(st, 0);
		v[n].len = (size_t)sqlite3_column_bytes(st, 0);
		v[n].id = xstrndup(id ? id : "", v[n].len);
		v[n].windows = sqlite3_column_int64(st, 1);
		v[n].anomalies = sqlite3_column_int64(st, 2);
		v[n].moments = sqlite3_column_int64(st, 3);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error_set(err, "%s: reading the streams: %s", r->path, sqlite3_errmsg(r->db));
		for (size_t i = 0; i < n; i++)
			free(v[i].id);
		free(v);
		return false;
	}
	*out = v;
	*count = n;
	return true;
}

void streams_free(struct stream_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

void page_score_free(struct page_score *ps)
{
	score_detail_free(&ps->d);
	for (size_t i = 0; i < ps->n_strs; i++)
		free(ps->strs[i]);
	free(ps->strs);
	free(ps->moments);
	free(ps->spans);
	free(ps->labels);
	memset(ps, 0, sizeof(*ps));
}

/* A copy of column col owned by ps, as a view. */
static struct strview keep_column(struct page_score *ps, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	ps->strs = grow_array(ps->strs, sizeof(*ps->strs), &ps->cap_strs, ps->n_strs + 1);
	char *copy = xstrndup(t ? t : "", n);
	ps->strs[ps->n_strs++] = copy;
	return sv_make(copy, n);
}

/* The window size: the newest run's, else the first window's. */
static int64_t window_size_us(struct report *r, const struct run_cfg *cfg)
{
	if (cfg->window_s > 0)
		return (int64_t)llround(cfg->window_s * USEC_PER_SEC);
	sqlite3_stmt *st;
	int64_t w = (int64_t)(report_defaults()->window_s * USEC_PER_SEC), a, b;
	if (sqlite3_prepare_v2(r->db,
	                       "SELECT window_start, window_end FROM chat_summary_minute LIMIT 1", -1,
	                       &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && column_time(st, 0, &a) && column_time(st, 1, &b) &&
		    b > a)
			w = b - a;
		sqlite3_finalize(st);
	}
	return w;
}

/* Read the moments and the streams' spans and score them into *ps. */
bool load_score(struct report *r, const struct report_params *p, const struct run_cfg *cfg,
                struct page_score *ps, struct error *err)
{
	memset(ps, 0, sizeof(*ps));
	ps->window_us = window_size_us(r, cfg);
	int rc;
	sqlite3_stmt *st = r->all_moments;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct score_moment m;
		if (!column_time(st, 2, &m.time_us)) {
			error_set(err, "%s: table moments: bad timestamp \"%s\"", r->path,
			          (const char *)sqlite3_column_text(st, 2));
			sqlite3_reset(st);
			return false;
		}
		/* Its end: the metadata's window_end (the last window of a merged
		 * moment), else one window. */
		m.end_us = m.time_us + ps->window_us;
		const char *meta = (const char *)sqlite3_column_text(st, 3);
		json_t *o = meta ? json_loadb(meta, (size_t)sqlite3_column_bytes(st, 3), 0, NULL) : NULL;
		int64_t e;
		if (json_is_object(o) && json_time_field(o, "window_end", &e) && e > m.time_us)
			m.end_us = e;
		json_decref(o);
		m.stream_id = keep_column(ps, st, 0);
		m.type = keep_column(ps, st, 1);
		ps->moments = grow_array(ps->moments, sizeof(*ps->moments), &ps->cap_moments,
		                         ps->n_moments + 1);
		ps->moments[ps->n_moments++] = m;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error_set(err, "%s: reading table moments: %s", r->path, sqlite3_errmsg(r->db));
		return false;
	}
	st = r->spans;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct score_span sp;
		if (!column_time(st, 1, &sp.first_us) || !column_time(st, 2, &sp.last_us))
			continue; /* load_rows reports a bad window */
		sp.stream_id = keep_column(ps, st, 0);
		ps->spans = grow_array(ps->spans, sizeof(*ps->spans), &ps->cap_spans, ps->n_spans + 1);
		ps->spans[ps->n_spans++] = sp;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error_set(err, "%s: reading table chat_summary_minute: %s", r->path,
		          sqlite3_errmsg(r->db));
		return false;
	}
	const struct labels *l = p->labels;
	ps->labels = xcalloc(l->n ? l->n : 1, sizeof(*ps->labels));
	for (size_t i = 0; i < l->n; i++)
		ps->labels[i] = (struct score_label){sv_make(l->v[i].stream_id, l->v[i].stream_id_len),
		                                     l->v[i].start_us, l->v[i].end_us};
	struct score_input in = {ps->labels, l->n,         ps->moments,     ps->n_moments,
	                         ps->spans,  ps->n_spans,  p->tolerance_us, ps->window_us};
	score_compute(&in, &ps->s, &ps->d);
	return true;
}
