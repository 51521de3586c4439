/*
 * report_html.c — render a telemetra SQLite output as one HTML page.
 *
 * Design
 * ------
 * The page is written top to bottom in one pass over the database, so that
 * memory holds one stream's windows at a time, never the whole table:
 *
 *   header      title, database, the rows of `runs` (command, version,
 *               inputs, counts, the configuration as JSON)
 *   overview    the streams, sorted by id (byte order, as SQLite's BINARY
 *               collation and sv_cmp), with their counts and links
 *   charts      one inline SVG per stream (render_chart)
 *   moments     every moment, by intensity descending
 *
 * Self-contained: inline CSS, inline SVG, no script, no external URL, no
 * web font; a Content-Security-Policy of default-src 'none' makes any
 * accidental fetch fail loudly in a browser instead of working by chance.
 * The markup is XHTML-style well-formed (every element closed, attributes
 * quoted, only XML's predefined entities), so the page parses as XML as
 * well as HTML5.  All user data — stream ids, descriptions, moment types,
 * label kinds, paths, configuration text — goes through put_text(), which
 * escapes & < > " ' and replaces what XML cannot hold (C0 controls other
 * than tab and newline, invalid UTF-8, U+FFFE/U+FFFF) with U+FFFD.  User
 * data never becomes an id or a class name: those are built from indexes
 * and a fixed list of moment types.
 *
 * Charts.  Each window is drawn at its midpoint, so a window that covers a
 * spike sits over the spike's labelled span.  The line breaks where the
 * stream has no row for one or more slides (no event at all: the detector
 * has no history there either).
 *
 * The baseline band is what the chat_spike detector compared each window
 * with: mean ± population stddev of the previous N rows' chat_rate (SPEC
 * §5, N = `history`).  The database keeps z but not the baseline, so it is
 * recovered as follows:
 *   - where a moment's metadata records baseline_mean / baseline_stddev for
 *     chat_rate (the window itself, or the peak window of a merged moment),
 *     those values are used: they are what the detector saw;
 *   - every other window whose z_score is known is recomputed from the
 *     previous min(N, rows so far) rows of the stream, with the detector's
 *     own zscore() (same two-pass arithmetic, same bits);
 *   - windows with a NULL z (fewer than min-history previous rows) get no
 *     band.
 * N, the threshold, min-stddev, window and slide come from the newest run
 * in `runs` (config JSON), with the program's defaults when the table is
 * absent.  A database filled by several runs with --append has one history
 * per run in the detector but one continuous history here; the moments'
 * own baselines stay exact in that case.  The dashed line is the spike
 * threshold mean + threshold · max(stddev, min-stddev): a window above it
 * is a chat_spike.
 *
 * Large inputs: past THIN_ABOVE windows in a stream, each line keeps only
 * the lowest and highest point of every pixel column (in time order), which
 * keeps the outline of spikes exactly and bounds a chart to about two
 * points per pixel column; the page says so under the chart.
 */
#include "config.h"

#include "io/report_html.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/detector.h"
#include "core/score.h"
#include "core/timestamp.h"
#include "core/utf8.h"

/* Chart geometry, in SVG user units (the SVG scales to the page width). */
#define CHART_W 1200
#define CHART_H 320
#define PLOT_L 64.0
#define PLOT_R 40.0
#define PLOT_T 40.0
#define PLOT_B 52.0
#define PLOT_W (CHART_W - PLOT_L - PLOT_R)
#define PLOT_H (CHART_H - PLOT_T - PLOT_B)
/* More windows than this in a stream: thin every line to min/max per
 * pixel column. */
#define THIN_ABOVE 2000

/* Program defaults (README's replay options), used without a runs table. */
#define DEFAULT_HISTORY 10
#define DEFAULT_THRESHOLD 3.0
#define DEFAULT_WINDOW_S 60.0

/* ------------------------------------------------------------------------ */
/* Escaping and small formatting helpers                                    */

/* Write n bytes of user data as text that is safe in element content and in
 * a quoted attribute, in HTML5 and in XML. */
static void put_text(FILE *out, const char *s, size_t n)
{
	static const char repl[] = "\xEF\xBF\xBD"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		if (c < 0x80) {
			switch (c) {
			case '&': fputs("&amp;", out); break;
			case '<': fputs("&lt;", out); break;
			case '>': fputs("&gt;", out); break;
			case '"': fputs("&quot;", out); break;
			case '\'': fputs("&#39;", out); break;
			case '\t':
			case '\n': fputc(c, out); break;
			default:
				if (c < 0x20 || c == 0x7F)
					fputs(repl, out);
				else
					fputc(c, out);
			}
			i++;
			continue;
		}
		size_t k = utf8_sequence_length(p + i, n - i);
		if (k == 0) {
			fputs(repl, out);
			i++;
			continue;
		}
		/* C1 controls and the two non-characters XML excludes. */
		if ((k == 2 && c == 0xC2 && p[i + 1] < 0xA0) ||
		    (k == 3 && c == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE))
			fputs(repl, out);
		else
			fwrite(p + i, 1, k, out);
		i += k;
	}
}

static void put_str(FILE *out, const char *s)
{
	if (s)
		put_text(out, s, strlen(s));
}

/* "YYYY-MM-DD HH:MM:SS", with ".ffffff" only when there are microseconds. */
static void put_time(FILE *out, int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	size_t n = timestamp_format(us, t);
	if (n >= 26 && !strcmp(t + 19, ".000000"))
		n = 19;
	fwrite(t, 1, n, out);
}

/* A count with thin spaces between thousands: 1 234 567. */
static void put_count(FILE *out, long long v)
{
	char d[32];
	int n = snprintf(d, sizeof d, "%lld", v < 0 ? -v : v);
	if (v < 0)
		fputc('-', out);
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			fputs("\xE2\x80\x89", out); /* U+2009 thin space */
		fputc(d[i], out);
	}
}

/* A rate or other real with a precision suited to its size. */
static void put_real(FILE *out, double v)
{
	double a = fabs(v);
	fprintf(out, "%.*f", a >= 100 ? 0 : a >= 1 ? 2 : 3, v);
}

static bool column_time(sqlite3_stmt *st, int col, int64_t *us)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return s && timestamp_parse_text(s, (size_t)sqlite3_column_bytes(st, col), us);
}

/* Byte-order comparison of two length-delimited strings (sv_cmp's order,
 * which is also SQLite's BINARY collation). */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	return sv_cmp(sv_make(a, an), sv_make(b, bn));
}

/* ------------------------------------------------------------------------ */
/* Labels                                                                   */


/* ------------------------------------------------------------------------ */
/* The database                                                             */

struct report {
	char *path;
	sqlite3 *db;
	bool has_runs;
	sqlite3_stmt *streams, *windows, *moments, *table, *runs;
	sqlite3_stmt *all_moments, *spans; /* for the scores */
};

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
};

static void cfg_from_json(struct run_cfg *c, json_t *o)
{
	json_t *v;
	if (json_is_integer(v = json_object_get(o, "history")) && json_integer_value(v) > 0 &&
	    json_integer_value(v) < 1000000)
		c->history = (unsigned)json_integer_value(v);
	if (json_is_number(v = json_object_get(o, "threshold")))
		c->threshold = json_number_value(v);
	if (json_is_number(v = json_object_get(o, "min-stddev")))
		c->min_stddev = json_number_value(v);
	if (json_is_number(v = json_object_get(o, "window")))
		c->window_s = json_number_value(v);
	if (json_is_number(v = json_object_get(o, "slide")))
		c->slide_s = json_number_value(v);
	c->merge = json_is_true(json_object_get(o, "merge-moments"));
}

static void put_opt(FILE *out, bool *first, const char *name, const char *fmt_value)
{
	fputs(*first ? "" : " \xC2\xB7 ", out);
	*first = false;
	fputs(name, out);
	fputc(' ', out);
	put_str(out, fmt_value);
}

/* The runs table of the header; fills *cfg from the newest run. */
static bool write_runs(struct report *r, FILE *out, struct run_cfg *cfg, struct error *err)
{
	if (!r->has_runs) {
		fputs("<p class=\"note\">This database has no <code>runs</code> table; the charts "
		      "assume the default configuration.</p>\n",
		      out);
		return true;
	}
	int rc, n = 0;
	sqlite3_stmt *st = r->runs;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0)
			fputs("<table class=\"runs\">\n<thead><tr><th>run</th><th>command</th>"
			      "<th>started (UTC)</th><th>inputs</th><th>configuration</th>"
			      "<th class=\"num\">records</th><th class=\"num\">events</th>"
			      "<th class=\"num\">dead letters</th><th class=\"num\">windows</th>"
			      "<th class=\"num\">moments</th></tr></thead>\n<tbody>\n",
			      out);
		cfg->run_id = sqlite3_column_int64(st, 0);
		fprintf(out, "<tr><td class=\"num\">%lld</td><td>", (long long)cfg->run_id);
		put_str(out, (const char *)sqlite3_column_text(st, 1));
		fputc(' ', out);
		put_str(out, (const char *)sqlite3_column_text(st, 2));
		fputs("</td><td>", out);
		int64_t us;
		if (column_time(st, 3, &us))
			put_time(out, us - us % USEC_PER_SEC);
		else
			put_str(out, (const char *)sqlite3_column_text(st, 3));
		if (sqlite3_column_type(st, 4) == SQLITE_NULL)
			fputs(" (unfinished)", out);
		fputs("</td><td>", out);
		/* inputs: [{"path", "bytes", ...}] */
		const char *inputs = (const char *)sqlite3_column_text(st, 6);
		json_t *in = inputs ? json_loads(inputs, 0, NULL) : NULL;
		if (json_is_array(in)) {
			size_t i;
			json_t *f;
			json_array_foreach(in, i, f) {
				json_t *p = json_object_get(f, "path"), *b = json_object_get(f, "bytes");
				fputs(i ? "<br/>" : "", out);
				fputs("<code>", out);
				if (json_is_string(p))
					put_text(out, json_string_value(p), json_string_length(p));
				fputs("</code>", out);
				if (json_is_integer(b)) {
					fputs(" (", out);
					put_count(out, (long long)json_integer_value(b));
					fputs(" bytes)", out);
				}
			}
		} else {
			put_str(out, inputs);
		}
		json_decref(in);
		fputs("</td><td>", out);
		const char *config = (const char *)sqlite3_column_text(st, 5);
		json_t *c = config ? json_loads(config, 0, NULL) : NULL;
		*cfg = (struct run_cfg){cfg->run_id, DEFAULT_HISTORY, DEFAULT_THRESHOLD, 0, 0, 0, false};
		if (json_is_object(c)) {
			cfg_from_json(cfg, c);
			char v[64];
			bool first = true;
			static const char *const keys[] = {"window", "slide", "watermark-delay",
			                                   "history", "min-history", "min-stddev",
			                                   "threshold", "viewer-surge",
			                                   "sentiment-drop"};
			for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
				json_t *x = json_object_get(c, keys[k]);
				if (json_is_integer(x))
					snprintf(v, sizeof v, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
				else if (json_is_real(x))
					snprintf(v, sizeof v, "%g", json_real_value(x));
				else
					continue;
				put_opt(out, &first, keys[k], v);
			}
			put_opt(out, &first, "merge-moments", cfg->merge ? "on" : "off");
			char *all = json_dumps(c, JSON_INDENT(1) | JSON_SORT_KEYS);
			fputs("<details><summary>all options</summary><pre>", out);
			put_str(out, all);
			fputs("</pre></details>", out);
			free(all);
		} else {
			put_str(out, config);
		}
		json_decref(c);
		fputs("</td>", out);
		for (int col = 7; col <= 11; col++) {
			fputs("<td class=\"num\">", out);
			if (sqlite3_column_type(st, col) != SQLITE_NULL)
				put_count(out, (long long)sqlite3_column_int64(st, col));
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	if (rc != SQLITE_DONE) {
		error_set(err, "%s: reading table runs: %s", r->path, sqlite3_errmsg(r->db));
		return false;
	}
	if (n)
		fputs("</tbody>\n</table>\n", out);
	else
		fputs("<p class=\"note\">The <code>runs</code> table is empty; the charts assume the "
		      "default configuration.</p>\n",
		      out);
	if (n > 1)
		fprintf(out,
		        "<p class=\"note\">Several runs wrote this database; the charts use the "
		        "configuration of run %lld.</p>\n",
		        (long long)cfg->run_id);
	return true;
}

/* ------------------------------------------------------------------------ */
/* One stream                                                               */

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
};

static void smoments_free(struct smoment *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].type);
		free(m[i].desc);
	}
	free(m);
}

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
	json_decref(o);
}

/* The class of a moment marker: from a fixed list, never from user data. */
static const char *marker_class(const char *type)
{
	if (!strcmp(type, "chat_spike"))
		return "mk-spike";
	if (!strcmp(type, "viewer_surge"))
		return "mk-surge";
	if (!strcmp(type, "sentiment_drop"))
		return "mk-drop";
	return "mk-other";
}

static int double_cmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* Index of the row whose window starts at t, or -1.  Rows are sorted. */
static long find_row(const struct wrow *rows, size_t n, int64_t t)
{
	size_t a = 0, b = n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (rows[m].start < t)
			a = m + 1;
		else
			b = m;
	}
	return a < n && rows[a].start == t ? (long)a : -1;
}

struct pt {
	double x, y;
};

/* Keep, per pixel column (floor of x), the lowest and the highest point, in
 * their time order.  In place; returns the new count. */
static size_t thin_points(struct pt *p, size_t n)
{
	size_t w = 0, i = 0;
	while (i < n) {
		double col = floor(p[i].x);
		size_t j = i, lo = i, hi = i;
		for (; j < n && floor(p[j].x) == col; j++) {
			if (p[j].y < p[lo].y)
				lo = j;
			if (p[j].y > p[hi].y)
				hi = j;
		}
		struct pt a = p[lo < hi ? lo : hi], b = p[lo < hi ? hi : lo];
		p[w++] = a;
		if (lo != hi)
			p[w++] = b;
		i = j;
	}
	return w;
}

static void put_points(FILE *out, const struct pt *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%.1f,%.1f", i ? " " : "", p[i].x, p[i].y);
}

struct chart {
	FILE *out;
	int64_t t0, t1;
	double ymax;
	bool thin;
	size_t drawn; /* points of the chat_rate line, for the note under a thinned chart */
};

static double cx(const struct chart *c, int64_t t)
{
	return PLOT_L + (double)(t - c->t0) / (double)(c->t1 - c->t0) * PLOT_W;
}

static double cy(const struct chart *c, double v)
{
	return PLOT_T + PLOT_H - v / c->ymax * PLOT_H;
}

static int64_t mid(const struct wrow *w)
{
	return w->start + (w->end - w->start) / 2;
}

enum series { S_RATE, S_UPPER, S_LOWER, S_THRESHOLD };

/* Draw one series over rows [a, b): a polyline (or polygon for the band). */
static void draw_segment(struct chart *c, const struct wrow *rows, size_t a, size_t b,
                         enum series s, double threshold, double min_sd, struct pt *scratch)
{
	size_t n = 0;
	for (size_t i = a; i < b; i++) {
		const struct wrow *w = &rows[i];
		double v = s == S_RATE    ? w->rate
		           : s == S_UPPER ? w->mean + w->sd
		           : s == S_LOWER ? w->mean - w->sd
		                          : w->mean + threshold * (w->sd > min_sd ? w->sd : min_sd);
		scratch[n++] = (struct pt){cx(c, mid(w)), cy(c, v)};
	}
	if (c->thin)
		n = thin_points(scratch, n);
	if (s == S_RATE)
		c->drawn += n;
	if (s == S_RATE && n == 1) {
		fprintf(c->out, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.5\"/>\n",
		        scratch[0].x, scratch[0].y);
		return;
	}
	if (s == S_UPPER) {
		/* The band: upper edge forward, lower edge backward. */
		size_t m = n;
		for (size_t i = a; i < b; i++) {
			const struct wrow *w = &rows[i];
			scratch[m++] = (struct pt){cx(c, mid(w)), cy(c, w->mean - w->sd)};
		}
		size_t lower = m - n;
		if (c->thin)
			lower = thin_points(scratch + n, m - n);
		for (size_t i = 0; i < lower / 2; i++) {
			struct pt t = scratch[n + i];
			scratch[n + i] = scratch[n + lower - 1 - i];
			scratch[n + lower - 1 - i] = t;
		}
		fputs("<polygon class=\"band\" points=\"", c->out);
		put_points(c->out, scratch, n + lower);
		fputs("\"/>\n", c->out);
		return;
	}
	fprintf(c->out, "<polyline class=\"%s\" points=\"", s == S_RATE ? "rate" : "thr");
	put_points(c->out, scratch, n);
	fputs("\"/>\n", c->out);
}

/* Draw series s over each maximal run of rows that have its values (a rate;
 * for the band and threshold, a baseline) and no gap of more than a slide. */
static void draw_series(struct chart *c, const struct wrow *rows, size_t n, int64_t slide_us,
                        enum series s, double threshold, double min_sd, struct pt *scratch)
{
	size_t a = 0;
	while (a < n) {
		bool ok_a = s == S_RATE ? rows[a].has_rate : rows[a].has_band;
		if (!ok_a) {
			a++;
			continue;
		}
		size_t b = a + 1;
		while (b < n && (s == S_RATE ? rows[b].has_rate : rows[b].has_band) &&
		       rows[b].start - rows[b - 1].start <= slide_us)
			b++;
		draw_segment(c, rows, a, b, s, threshold, min_sd, scratch);
		a = b;
	}
}

/* A "nice" step (1, 2 or 5 times a power of ten) near raw. */
static double nice_step(double raw)
{
	double e = pow(10, floor(log10(raw)));
	double f = raw / e;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

static void draw_axes(struct chart *c)
{
	FILE *out = c->out;
	/* y: rate ticks */
	double step = nice_step(c->ymax / 5);
	int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	fputs("<g class=\"yaxis\">\n", out);
	for (int i = 0;; i++) {
		double v = i * step;
		if (v > c->ymax * (1 + 1e-9))
			break;
		double y = cy(c, v);
		fprintf(out,
		        "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
		        PLOT_L, y, PLOT_L + PLOT_W, y, PLOT_L - 6, y + 4, decimals, v);
	}
	fprintf(out,
	        "<text class=\"atitle\" transform=\"translate(16 %.1f) rotate(-90)\" "
	        "text-anchor=\"middle\">chat_rate (messages/s)</text>\n</g>\n",
	        PLOT_T + PLOT_H / 2);

	/* x: time ticks at round UTC times, at most ~9 of them */
	static const int64_t steps_s[] = {1,     2,     5,     10,     15,     30,     60,
	                                  120,   300,   600,   900,    1800,   3600,   7200,
	                                  10800, 21600, 43200, 86400,  172800, 604800, 1209600,
	                                  2592000, 7776000, 31536000};
	int64_t span_us = c->t1 - c->t0, st_us = 0;
	for (size_t i = 0; i < sizeof steps_s / sizeof steps_s[0]; i++) {
		st_us = steps_s[i] * USEC_PER_SEC;
		if (span_us / st_us <= 9)
			break;
	}
	char a[TIMESTAMP_BUFSZ], b[TIMESTAMP_BUFSZ];
	timestamp_format(c->t0, a);
	timestamp_format(c->t1 - 1, b);
	bool multiday = memcmp(a, b, 10) != 0;
	int off, len; /* the part of "YYYY-MM-DD HH:MM:SS" a tick shows */
	if (st_us >= 86400 * USEC_PER_SEC)
		off = 0, len = 10;
	else if (multiday)
		off = 5, len = st_us < 60 * USEC_PER_SEC ? 14 : 11;
	else if (st_us < 60 * USEC_PER_SEC)
		off = 11, len = 8;
	else
		off = 11, len = 5;
	fputs("<g class=\"xaxis\">\n", out);
	for (int64_t t = (floor_div(c->t0 - 1, st_us) + 1) * st_us; t <= c->t1; t += st_us) {
		double x = cx(c, t);
		char s[TIMESTAMP_BUFSZ];
		timestamp_format(t, s);
		fprintf(out,
		        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*s</text>\n",
		        x, PLOT_T + PLOT_H, x, PLOT_T + PLOT_H + 5, x, PLOT_T + PLOT_H + 19, len,
		        s + off);
	}
	fprintf(out,
	        "<text class=\"atitle\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time (UTC), "
	        "%.10s",
	        PLOT_L + PLOT_W / 2, (double)CHART_H - 10, a);
	if (multiday)
		fprintf(out, " \xE2\x80\x93 %.10s", b);
	fputs("</text>\n</g>\n", out);
	fprintf(out, "<rect class=\"axis\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
	        PLOT_L, PLOT_T, PLOT_W, PLOT_H);
}

/* The legend along the top of a chart; which_markers: bit i set when the
 * stream has a moment of marker class i (0 spike, 1 surge, 2 drop, 3 other). */
static void draw_legend(FILE *out, unsigned which_markers, bool labels)
{
	static const char *const mk_class[] = {"mk-spike", "mk-surge", "mk-drop", "mk-other"};
	static const char *const mk_text[] = {"chat_spike moment", "viewer_surge moment",
	                                      "sentiment_drop moment", "other moment"};
	double x = PLOT_L, y = 18;
	fputs("<g class=\"legend\">\n", out);
	fprintf(out,
	        "<line class=\"rate\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
	        "<text x=\"%.1f\" y=\"%.1f\">chat_rate</text>\n",
	        x, y, x + 22, y, x + 28, y + 4);
	x += 28 + 9 * 6.6 + 20;
	fprintf(out,
	        "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"12\"/>"
	        "<text x=\"%.1f\" y=\"%.1f\">baseline mean \xC2\xB1 stddev</text>\n",
	        x, y - 6, x + 28, y + 4);
	x += 28 + 22 * 6.6 + 20;
	fprintf(out,
	        "<line class=\"thr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
	        "<text x=\"%.1f\" y=\"%.1f\">spike threshold</text>\n",
	        x, y, x + 22, y, x + 28, y + 4);
	x += 28 + 15 * 6.6 + 20;
	for (int i = 0; i < 4; i++) {
		if (!(which_markers & (1u << i)) && i != 0)
			continue;
		fprintf(out,
		        "<circle class=\"mk %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
		        mk_class[i], x + 6, y, x + 16, y + 4, mk_text[i]);
		x += 16 + strlen(mk_text[i]) * 6.6 + 20;
	}
	if (labels)
		fprintf(out,
		        "<rect class=\"label\" x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"12\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\">true moment (label)</text>\n",
		        x, y - 6, x + 28, y + 4);
	fputs("</g>\n", out);
}

/* Read the windows of stream s into *out, a new array that the caller
 * frees (NULL when there are none). */
static bool load_rows(struct report *r, const struct stream_info *s, struct wrow **out,
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
static bool load_moments(struct report *r, const struct stream_info *s, struct smoment **out,
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

/* The baseline band of every row (see the comment at the top). */
static void compute_band(struct wrow *rows, size_t n, const struct smoment *ms, size_t nm,
                         unsigned history)
{
	double *hist = xmalloc((history ? history : 1) * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].has_z || !rows[i].has_rate)
			continue;
		/* The previous min(N, available) rows with a rate, oldest first. */
		unsigned k = 0;
		for (size_t j = i; j-- > 0 && k < history;)
			if (rows[j].has_rate)
				k++;
		if (k == 0)
			continue;
		unsigned f = k;
		for (size_t j = i; j-- > 0 && f > 0;)
			if (rows[j].has_rate)
				hist[--f] = rows[j].rate;
		zscore(hist, k, rows[i].rate, 1, &rows[i].mean, &rows[i].sd);
		rows[i].has_band = true;
	}
	free(hist);
	for (size_t i = 0; i < nm; i++) {
		if (!ms[i].has_base)
			continue;
		long k = find_row(rows, n, ms[i].win_start);
		if (k >= 0 && rows[k].has_rate) {
			rows[k].mean = ms[i].base_mean;
			rows[k].sd = ms[i].base_sd;
			rows[k].has_band = isfinite(ms[i].base_mean) && isfinite(ms[i].base_sd);
		}
	}
}

/* A panel under the main plot: one metric of the windows over the same
 * time axis, for the markers of the detector that watches it. */
#define PANEL_H 130
#define PANEL_PAD 22.0
enum panel_kind { P_VIEWERS, P_SENTIMENT };
struct panel {
	bool on;
	enum panel_kind kind;
	double top, h, lo, hi;
};

static double panel_y(const struct panel *p, double v)
{
	return p->top + p->h - (v - p->lo) / (p->hi - p->lo) * p->h;
}

static struct panel draw_panel(const struct chart *c, const struct wrow *rows, size_t n,
                               int64_t slide_us, double y0, enum panel_kind kind,
                               struct pt *scratch)
{
	FILE *out = c->out;
	struct panel p = {true, kind, y0 + PANEL_PAD, PANEL_H - 2 * PANEL_PAD, 0, 0};
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		bool has = kind == P_VIEWERS ? rows[i].has_viewers : rows[i].has_sentiment;
		double v = kind == P_VIEWERS ? rows[i].viewers : rows[i].sentiment;
		if (!has || !isfinite(v))
			continue;
		p.lo = !any || v < p.lo ? v : p.lo;
		p.hi = !any || v > p.hi ? v : p.hi;
		any = true;
	}
	if (!any || p.hi <= p.lo) {
		p.lo -= 1;
		p.hi += 1;
	}
	const char *name = kind == P_VIEWERS ? "avg_viewers" : "avg_sentiment";
	fprintf(out,
	        "<g class=\"panel\"><rect class=\"axis\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
	        "height=\"%.1f\"/>\n<text class=\"atitle\" x=\"%.1f\" y=\"%.1f\">%s (%s markers)"
	        "</text>\n",
	        PLOT_L, p.top, PLOT_W, p.h, PLOT_L, p.top - 6, name,
	        kind == P_VIEWERS ? "viewer_surge" : "sentiment_drop");
	fprintf(out,
	        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>"
	        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
	        PLOT_L - 6, p.top + 4, kind == P_VIEWERS ? 0 : 2, p.hi, PLOT_L - 6, p.top + p.h + 4,
	        kind == P_VIEWERS ? 0 : 2, p.lo);
	/* The line, broken where a slide is missing, as the rate's. */
	size_t a = 0;
	while (a < n) {
		size_t m = 0, b = a;
		for (; b < n; b++) {
			bool has = kind == P_VIEWERS ? rows[b].has_viewers : rows[b].has_sentiment;
			double v = kind == P_VIEWERS ? rows[b].viewers : rows[b].sentiment;
			if (!has || !isfinite(v) || (m && rows[b].start - rows[b - 1].start > slide_us))
				break;
			scratch[m++] = (struct pt){cx(c, mid(&rows[b])), panel_y(&p, v)};
		}
		if (c->thin)
			m = thin_points(scratch, m);
		if (m > 1) {
			fputs("<polyline class=\"metric\" points=\"", out);
			put_points(out, scratch, m);
			fputs("\"/>\n", out);
		}
		a = b > a ? b : a + 1;
	}
	fputs("</g>\n", out);
	return p;
}

/* Labels or decoys of the stream as spans of the plot's height. */
static void draw_spans(FILE *out, const struct chart *c, const struct labels *l, struct strview id,
                       const char *cls, const char *what)
{
	size_t lo, hi;
	labels_of_stream(l, id, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		const struct label *x = &l->v[i];
		if (x->end_us < c->t0 || x->start_us > c->t1)
			continue;
		double x0 = cx(c, x->start_us < c->t0 ? c->t0 : x->start_us);
		double x1 = cx(c, x->end_us > c->t1 ? c->t1 : x->end_us);
		if (x1 - x0 < 2)
			x0 -= 1, x1 = x0 + 2;
		fprintf(out,
		        "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
		        "<title>",
		        cls, x0, PLOT_T, x1 - x0, PLOT_H);
		fputs(what, out);
		fputs(": ", out);
		put_str(out, x->kind);
		fputs(", ", out);
		put_time(out, x->start_us);
		fputs(" \xE2\x80\x93 ", out);
		put_time(out, x->end_us);
		fputs(" UTC</title></rect>\n", out);
	}
}

static bool render_stream(struct report *r, size_t index, const struct stream_info *s,
                          const struct report_params *p, const struct run_cfg *cfg,
                          FILE *out, struct error *err)
{
	const struct labels *labels = p->labels;
	size_t n = 0, nm = 0;
	struct wrow *rows = NULL;
	struct smoment *ms = NULL;
	if (!load_rows(r, s, &rows, &n, err))
		return false;
	if (!load_moments(r, s, &ms, &nm, err)) {
		free(rows);
		return false;
	}
	size_t llo, lhi;
	labels_of_stream(labels, sv_make(s->id, s->len), &llo, &lhi);

	fprintf(out, "<section class=\"stream\" id=\"s%zu\">\n<h3>", index + 1);
	put_text(out, s->id, s->len);
	fputs("</h3>\n<p class=\"stats\">", out);

	/* The time range: the windows, else the moments. */
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	double peak = 0, ssum = 0;
	size_t vn = 0, sn = 0;
	double *viewers = xmalloc((n ? n : 1) * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		t0 = rows[i].start < t0 ? rows[i].start : t0;
		t1 = rows[i].end > t1 ? rows[i].end : t1;
		if (rows[i].has_rate && rows[i].rate > peak)
			peak = rows[i].rate;
		if (rows[i].has_viewers)
			viewers[vn++] = rows[i].viewers;
		if (rows[i].has_sentiment)
			ssum += rows[i].sentiment, sn++;
	}
	for (size_t i = 0; i < nm && n == 0; i++) {
		t0 = ms[i].ts < t0 ? ms[i].ts : t0;
		t1 = ms[i].ts > t1 ? ms[i].ts : t1;
	}
	put_count(out, (long long)n);
	fputs(n == 1 ? " window" : " windows", out);
	if (t0 <= t1) {
		fputs(", ", out);
		put_time(out, t0);
		fputs(" \xE2\x80\x93 ", out);
		put_time(out, t1);
		fputs(" UTC", out);
	}
	if (n) {
		fputs(" \xC2\xB7 peak chat_rate ", out);
		put_real(out, peak);
		fputs(" messages/s", out);
	}
	if (vn) { /* the median: one absurd viewer count must not make the figure */
		qsort(viewers, vn, sizeof(double), double_cmp);
		fputs(" \xC2\xB7 median viewers ", out);
		put_count(out, llround(vn % 2 ? viewers[vn / 2]
		                              : (viewers[vn / 2 - 1] + viewers[vn / 2]) / 2));
	}
	free(viewers);
	if (sn) {
		fputs(" \xC2\xB7 mean sentiment ", out);
		fprintf(out, "%+.2f", ssum / (double)sn);
	}
	fputs(" \xC2\xB7 ", out);
	put_count(out, s->anomalies);
	fputs(" anomalous \xC2\xB7 ", out);
	put_count(out, (long long)nm);
	fputs(nm == 1 ? " moment" : " moments", out);
	if (labels) {
		fputs(" \xC2\xB7 ", out);
		put_count(out, (long long)(lhi - llo));
		fputs(lhi - llo == 1 ? " label" : " labels", out);
	}
	fputs("</p>\n", out);

	if (t0 > t1) {
		fputs("<p class=\"note\">No windows and no moments.</p>\n</section>\n", out);
		free(rows);
		smoments_free(ms, nm);
		return true;
	}
	if (t1 == t0)
		t1 = t0 + USEC_PER_SEC;

	unsigned history = cfg->history ? cfg->history : DEFAULT_HISTORY;
	compute_band(rows, n, ms, nm, history);
	double window_s = cfg->window_s > 0 ? cfg->window_s
	                  : n             ? (double)(rows[0].end - rows[0].start) / USEC_PER_SEC
	                                  : DEFAULT_WINDOW_S;
	double min_sd = cfg->min_stddev > 0 ? cfg->min_stddev : 1.0 / window_s;
	int64_t slide_us = cfg->slide_s > 0 ? (int64_t)llround(cfg->slide_s * USEC_PER_SEC) : 0;
	if (slide_us <= 0) { /* inferred: the smallest step between windows */
		slide_us = INT64_MAX;
		for (size_t i = 1; i < n; i++)
			if (rows[i].start > rows[i - 1].start &&
			    rows[i].start - rows[i - 1].start < slide_us)
				slide_us = rows[i].start - rows[i - 1].start;
	}

	struct chart c = {out, t0, t1, 0, n > THIN_ABOVE, 0};
	for (size_t i = 0; i < n; i++) {
		if (rows[i].has_rate && rows[i].rate > c.ymax)
			c.ymax = rows[i].rate;
		if (rows[i].has_band && rows[i].mean + rows[i].sd > c.ymax)
			c.ymax = rows[i].mean + rows[i].sd;
		/* The threshold line too: it is never clipped. */
		double thr = rows[i].has_band ? rows[i].mean + cfg->threshold * (rows[i].sd > min_sd
		                                                                     ? rows[i].sd
		                                                                     : min_sd)
		                              : 0;
		if (isfinite(thr) && thr > c.ymax)
			c.ymax = thr;
	}
	if (c.ymax <= 0)
		c.ymax = 1;
	double ystep = nice_step(c.ymax * 1.08 / 5);
	c.ymax = ceil(c.ymax * 1.08 / ystep) * ystep;

	unsigned which = 0;
	for (size_t i = 0; i < nm; i++) {
		const char *k = marker_class(ms[i].type);
		which |= 1u << (!strcmp(k, "mk-spike") ? 0 : !strcmp(k, "mk-surge") ? 1
		                                            : !strcmp(k, "mk-drop")  ? 2
		                                                                     : 3);
	}

	/* A panel of its own metric under the chat_rate plot for the viewer
	 * surges (avg_viewers) and the sentiment drops (avg_sentiment). */
	bool panel_viewers = which & 2, panel_sentiment = which & 4;
	int height = CHART_H + (panel_viewers + panel_sentiment) * PANEL_H;
	fprintf(out,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 %d %d\" "
	        "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"s%zut\">\n"
	        "<title id=\"s%zut\">chat_rate of stream ",
	        CHART_W, height, CHART_W, height, index + 1, index + 1);
	put_text(out, s->id, s->len);
	fprintf(out,
	        "</title>\n<defs><clipPath id=\"clip%zu\"><rect x=\"%.1f\" y=\"%.1f\" "
	        "width=\"%.1f\" height=\"%.1f\"/></clipPath></defs>\n",
	        index + 1, PLOT_L, PLOT_T, PLOT_W, PLOT_H);
	draw_legend(out, which, labels != NULL);

	/* Labels and decoys first, beneath everything. */
	if (p->decoys)
		draw_spans(out, &c, p->decoys, sv_make(s->id, s->len), "decoy", "decoy");
	if (labels)
		draw_spans(out, &c, labels, sv_make(s->id, s->len), "label", "label");
	draw_axes(&c);

	struct pt *scratch = xmalloc((2 * n + 1) * sizeof(*scratch));
	fprintf(out, "<g clip-path=\"url(#clip%zu)\">\n", index + 1);
	draw_series(&c, rows, n, slide_us, S_UPPER, cfg->threshold, min_sd, scratch);
	draw_series(&c, rows, n, slide_us, S_THRESHOLD, cfg->threshold, min_sd, scratch);
	draw_series(&c, rows, n, slide_us, S_RATE, cfg->threshold, min_sd, scratch);
	fputs("</g>\n", out);

	/* Moments on top: at the midpoint of the window they mark, on the line;
	 * smaller when there are many, so that the line stays visible. */
	double radius = nm <= 60 ? 5 : nm <= 200 ? 3.5 : 2.5;
	struct panel pv = {0}, pz = {0};
	if (panel_viewers)
		pv = draw_panel(&c, rows, n, slide_us, CHART_H, P_VIEWERS, scratch);
	if (panel_sentiment)
		pz = draw_panel(&c, rows, n, slide_us, CHART_H + panel_viewers * PANEL_H, P_SENTIMENT,
		                scratch);
	free(scratch);
	for (size_t i = 0; i < nm; i++) {
		const struct smoment *m = &ms[i];
		int64_t ws = m->has_win ? m->win_start : m->ts;
		long k = find_row(rows, n, ws);
		const char *cls = marker_class(m->type);
		/* Each detector's marker on its own metric. */
		const struct panel *pn = !strcmp(cls, "mk-surge") ? &pv
		                         : !strcmp(cls, "mk-drop") ? &pz
		                                                   : NULL;
		double x, y;
		if (k >= 0) {
			x = cx(&c, mid(&rows[k]));
			if (pn && pn->on)
				y = panel_y(pn, pn->kind == P_VIEWERS ? (rows[k].has_viewers ? rows[k].viewers : pn->lo)
				                                      : (rows[k].has_sentiment ? rows[k].sentiment : pn->lo));
			else
				y = cy(&c, rows[k].has_rate ? rows[k].rate : 0);
		} else {
			x = cx(&c, m->has_win ? m->win_start + (m->win_end - m->win_start) / 2 : m->ts);
			y = pn && pn->on ? panel_y(pn, pn->lo) : cy(&c, 0);
		}
		fprintf(out, "<circle class=\"mk %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"><title>",
		        marker_class(m->type), x, y, radius);
		put_str(out, m->type);
		fputs(" at ", out);
		put_time(out, m->ts);
		fputs(" UTC", out);
		if (m->has_intensity)
			fprintf(out, ", intensity %.2f", m->intensity);
		fputs(": ", out);
		put_str(out, m->desc);
		fputs("</title></circle>\n", out);
	}
	fputs("</svg>\n", out);
	if (c.thin)
		fprintf(out,
		        "<p class=\"note\">This stream has %zu windows: each line is thinned to "
		        "the lowest and highest value of every pixel column (%zu points for the "
		        "chat_rate line), which keeps the peaks.</p>\n",
		        n, c.drawn);
	fputs("</section>\n", out);
	free(rows);
	smoments_free(ms, nm);
	return true;
}

/* ------------------------------------------------------------------------ */
/* The page                                                                 */

static const char page_css[] =
	"body{font-family:system-ui,\"DejaVu Sans\",\"Liberation Sans\",Arial,sans-serif;"
	"color:#1d2330;background:#fff;max-width:1240px;margin:24px auto;padding:0 20px;"
	"line-height:1.4}\n"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;"
	"border-bottom:1px solid #dde1e8;padding-bottom:4px}h3{font-size:16px;margin:24px 0 2px}\n"
	"table{border-collapse:collapse;font-size:13px;margin:6px 0}\n"
	"th,td{border-bottom:1px solid #e3e6eb;padding:4px 8px;text-align:left;vertical-align:top}\n"
	"th{background:#f3f5f8;font-weight:600}\n"
	".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.time{white-space:nowrap}\n"
	"code,pre{font-family:ui-monospace,\"DejaVu Sans Mono\",\"Liberation Mono\",monospace;"
	"font-size:12px}\n"
	"pre{background:#f6f7f9;padding:6px;margin:4px 0;max-height:240px;overflow:auto}\n"
	"summary{cursor:pointer;color:#4a5263}\n"
	".sub,.stats,.note{color:#4a5263;font-size:13px}.stats{margin:2px 0 6px}\n"
	".note{margin:4px 0}\n"
	"ul.notes{font-size:13px;color:#4a5263;padding-left:20px}\n"
	"svg.chart{display:block;width:100%;height:auto;max-width:1200px;border:1px solid #e3e6eb;"
	"border-radius:4px;background:#fff}\n"
	"svg.chart text{font-size:12px;fill:#4a5263}\n"
	"svg.chart .atitle{font-size:12px;fill:#1d2330}\n"
	".grid{stroke:#edf0f4;stroke-width:1}\n"
	".axis{stroke:#8a93a3;stroke-width:1;fill:none}\n"
	".rate{fill:none;stroke:#1f6fb4;stroke-width:1.6;stroke-linejoin:round}\n"
	".dot{fill:#1f6fb4}\n"
	".metric{fill:none;stroke:#6b7486;stroke-width:1.3;stroke-linejoin:round}\n"
	".band{fill:#1f6fb4;fill-opacity:.17;stroke:none}\n"
	".thr{fill:none;stroke:#c8372d;stroke-width:1.2;stroke-dasharray:6 4;stroke-opacity:.75}\n"
	".label{fill:#f29d38;fill-opacity:.28;stroke:#e08a1e;stroke-opacity:.6}\n"
	".decoy{fill:#8a93a3;fill-opacity:.22;stroke:#5d6573;stroke-opacity:.6;stroke-dasharray:3 2}\n"
	".mk{stroke:#fff;stroke-width:1.5}\n"
	".mk-spike{fill:#c8372d}.mk-surge{fill:#7b4bb7}.mk-drop{fill:#2e8b57}.mk-other{fill:#555}\n"
	"a{color:#1f5f9e}\n";

static void write_head(FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n"
	      "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\"/>\n"
	      "<meta name=\"generator\" content=\"telemetra " PACKAGE_VERSION "\"/>\n<title>",
	      out);
	put_str(out, title);
	fputs("</title>\n<style>\n", out);
	fputs(page_css, out);
	fputs("</style>\n</head>\n<body>\n<h1>", out);
	put_str(out, title);
	fputs("</h1>\n", out);
}

/* Every stream with its counts, sorted by id, into *out: a new array that
 * the caller frees with streams_free (NULL when there is none). */
static bool load_streams(struct report *r, struct stream_info **out, size_t *count,
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

static void streams_free(struct stream_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

static long find_stream(const struct stream_info *v, size_t n, const char *id, size_t len)
{
	size_t a = 0, b = n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = bytes_cmp(v[m].id, v[m].len, id, len);
		if (c == 0)
			return (long)m;
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	return -1;
}

static void write_overview(FILE *out, const struct stream_info *v, size_t n,
                           const struct labels *labels)
{
	fprintf(out, "<h2 id=\"streams\">Streams (%zu)</h2>\n", n);
	if (!n) {
		fputs("<p class=\"note\">The database holds no windows and no moments.</p>\n", out);
		return;
	}
	fputs("<table class=\"streams\">\n<thead><tr><th>stream</th><th class=\"num\">windows</th>"
	      "<th class=\"num\">anomalous</th><th class=\"num\">moments</th>",
	      out);
	if (labels)
		fputs("<th class=\"num\">labels</th>", out);
	fputs("</tr></thead>\n<tbody>\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<tr><td><a href=\"#s%zu\">", i + 1);
		put_text(out, v[i].id, v[i].len);
		fputs("</a></td><td class=\"num\">", out);
		put_count(out, v[i].windows);
		fputs("</td><td class=\"num\">", out);
		put_count(out, v[i].anomalies);
		fputs("</td><td class=\"num\">", out);
		put_count(out, v[i].moments);
		fputs("</td>", out);
		if (labels) {
			size_t lo, hi;
			labels_of_stream(labels, sv_make(v[i].id, v[i].len), &lo, &hi);
			fputs("<td class=\"num\">", out);
			put_count(out, (long long)(hi - lo));
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
	/* Labels of streams the database does not have: say so, once each. */
	if (labels) {
		size_t missing = 0;
		for (size_t i = 0; i < labels->n; i++) {
			const struct label *l = &labels->v[i];
			if (i && !bytes_cmp(l->stream_id, l->stream_id_len, labels->v[i - 1].stream_id,
			                    labels->v[i - 1].stream_id_len))
				continue;
			if (find_stream(v, n, l->stream_id, l->stream_id_len) >= 0)
				continue;
			fputs(missing++ ? ", " : "<p class=\"note\">Labelled streams that are not in the "
			                         "database: ",
			      out);
			fputs("<code>", out);
			put_text(out, l->stream_id, l->stream_id_len);
			fputs("</code>", out);
		}
		if (missing)
			fputs("</p>\n", out);
	}
}

static void write_notes(FILE *out, const struct run_cfg *cfg, const char *labels_path,
                        const char *decoys_path)
{
	fputs("<ul class=\"notes\">\n"
	      "<li>Each window is drawn at its midpoint; the line breaks where a stream has no "
	      "window (no event at all for a whole window).</li>\n",
	      out);
	fprintf(out,
	        "<li>The shaded band is the z-score baseline, mean \xC2\xB1 population stddev of "
	        "the previous %u windows' chat_rate (from the moment's metadata where one was "
	        "detected, recomputed elsewhere); it is drawn where z is known. The dashed line "
	        "is the spike threshold, mean + %g \xC3\x97 max(stddev, min-stddev): a window "
	        "above it is a chat_spike.</li>\n",
	        cfg->history, cfg->threshold);
	fputs("<li>Markers are detected moments, on the window that fired (the peak window of a "
	      "merged moment); hover one for its description.",
	      out);
	if (labels_path) {
		fputs(" Orange spans are the true moments of <code>", out);
		put_str(out, labels_path);
		fputs("</code>.", out);
	}
	if (decoys_path) {
		fputs(" Grey hatched spans are the decoys of <code>", out);
		put_str(out, decoys_path);
		fputs("</code>: traffic that looks like a moment but is not one.", out);
	}
	fprintf(out,
	        "</li>\n<li>Streams with more than %d windows are drawn thinned: the lowest and "
	        "highest value of each pixel column.</li>\n</ul>\n",
	        THIN_ABOVE);
}

/* ------------------------------------------------------------------------ */
/* Scores against the labels: core/score.c, the code tune uses              */

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

static void page_score_free(struct page_score *ps)
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
	int64_t w = (int64_t)(DEFAULT_WINDOW_S * USEC_PER_SEC), a, b;
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
static bool load_score(struct report *r, const struct report_params *p, const struct run_cfg *cfg,
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

/* The episode that moment (id, type, ts) belongs to, or NULL. */
static const struct score_episode *episode_of(const struct page_score *ps, struct strview id,
                                              struct strview type, int64_t ts)
{
	size_t a = 0, b = ps->d.n_episodes;
	while (a < b) { /* the first episode of the stream */
		size_t m = a + (b - a) / 2;
		if (sv_cmp(ps->d.episodes[m].stream_id, id) < 0)
			a = m + 1;
		else
			b = m;
	}
	for (; a < ps->d.n_episodes && sv_eq(ps->d.episodes[a].stream_id, id); a++) {
		const struct score_episode *e = &ps->d.episodes[a];
		if (e->start_us > ts)
			break;
		if (sv_eq(e->type, type) && ts < e->end_us)
			return e;
	}
	return NULL;
}

/* The kind of a decoy of the stream overlapping [start - T, end + T], or
 * NULL. */
static const char *decoy_kind(const struct labels *decoys, struct strview id, int64_t start,
                              int64_t end, int64_t tol)
{
	size_t lo, hi;
	labels_of_stream(decoys, id, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (start <= decoys->v[i].end_us + tol && end > decoys->v[i].start_us - tol)
			return decoys->v[i].kind;
	return NULL;
}

static void put_fig(FILE *out, const char *name, int decimals, double v)
{
	fputs("<tr><th>", out);
	fputs(name, out);
	fputs("</th><td class=\"num\">", out);
	fprintf(out, "%.*f", decimals, v);
	fputs("</td></tr>\n", out);
}

/* The scores, then the missed labels and the false moments. */
static void write_score(FILE *out, const struct page_score *ps, const struct report_params *p,
                        const struct stream_info *v, size_t nv)
{
	const struct score *s = &ps->s;
	fputs("<h2 id=\"score\">Against the labels</h2>\n<table class=\"score\">\n<tbody>\n", out);
	put_fig(out, "precision", 3, s->precision);
	put_fig(out, "recall", 3, s->recall);
	put_fig(out, "F1", 3, s->f1);
	put_fig(out, "false alarms per stream-hour", 2, s->false_per_stream_hour);
	put_fig(out, "true positives (labels found)", 0, (double)s->true_positives);
	put_fig(out, "false positives (false episodes)", 0, (double)s->false_positives);
	put_fig(out, "false negatives (labels missed)", 0, (double)s->false_negatives);
	put_fig(out, "episodes", 0, (double)s->episodes);
	put_fig(out, "moments", 0, (double)s->moments);
	put_fig(out, "stream-hours", 2, s->stream_hours);
	if (s->has_delay) {
		put_fig(out, "median delay (s)", 1, s->median_delay_s);
		put_fig(out, "mean delay (s)", 1, s->mean_delay_s);
	}
	fputs("</tbody>\n</table>\n", out);
	fprintf(out,
	        "<p class=\"note\">Scored as <code>telemetra tune</code> scores: the moments of one "
	        "stream and type whose windows overlap or touch are one episode; an episode matches "
	        "a label of its stream within a tolerance of %g s; stream-hours run from each "
	        "stream's first window to its last; the delay is from a label's start to the end "
	        "of the first window of its earliest matching episode.</p>\n",
	        (double)p->tolerance_us / USEC_PER_SEC);

	fprintf(out, "<h2 id=\"missed\">Missed labels (%zu)</h2>\n", s->false_negatives);
	if (s->false_negatives) {
		fputs("<table class=\"missed\">\n<thead><tr><th>stream</th><th>start (UTC)</th>"
		      "<th>end (UTC)</th><th>kind</th></tr></thead>\n<tbody>\n",
		      out);
		for (size_t i = 0; i < p->labels->n; i++) {
			if (ps->d.label_matched[i])
				continue;
			const struct label *l = &p->labels->v[i];
			long k = find_stream(v, nv, l->stream_id, l->stream_id_len);
			fputs("<tr><td>", out);
			if (k >= 0)
				fprintf(out, "<a href=\"#s%ld\">", k + 1);
			put_text(out, l->stream_id, l->stream_id_len);
			fputs(k >= 0 ? "</a>" : "", out);
			fputs("</td><td class=\"time\">", out);
			put_time(out, l->start_us);
			fputs("</td><td class=\"time\">", out);
			put_time(out, l->end_us);
			fputs("</td><td>", out);
			put_str(out, l->kind);
			fputs("</td></tr>\n", out);
		}
		fputs("</tbody>\n</table>\n", out);
	}
	fprintf(out, "<h2 id=\"false\">False moments (%zu)</h2>\n", s->false_positives);
	if (s->false_positives) {
		fputs("<table class=\"false\">\n<thead><tr><th>stream</th><th>start (UTC)</th>"
		      "<th>end (UTC)</th><th>type</th><th class=\"num\">moments</th>",
		      out);
		if (p->decoys)
			fputs("<th>decoy</th>", out);
		fputs("</tr></thead>\n<tbody>\n", out);
		for (size_t i = 0; i < ps->d.n_episodes; i++) {
			const struct score_episode *e = &ps->d.episodes[i];
			if (e->matched)
				continue;
			long k = find_stream(v, nv, e->stream_id.ptr, e->stream_id.len);
			fputs("<tr><td>", out);
			if (k >= 0)
				fprintf(out, "<a href=\"#s%ld\">", k + 1);
			put_text(out, e->stream_id.ptr, e->stream_id.len);
			fputs(k >= 0 ? "</a>" : "", out);
			fputs("</td><td class=\"time\">", out);
			put_time(out, e->start_us);
			fputs("</td><td class=\"time\">", out);
			put_time(out, e->end_us);
			fputs("</td><td>", out);
			put_text(out, e->type.ptr, e->type.len);
			fprintf(out, "</td><td class=\"num\">%zu</td>", e->moments);
			if (p->decoys) {
				fputs("<td>", out);
				put_str(out, decoy_kind(p->decoys, e->stream_id, e->start_us, e->end_us,
				                        p->tolerance_us));
				fputs("</td>", out);
			}
			fputs("</tr>\n", out);
		}
		fputs("</tbody>\n</table>\n", out);
	}
}

static bool write_moments_table(struct report *r, FILE *out, const struct stream_info *v,
                                size_t nv, const struct page_score *ps, struct error *err)
{
	bool labels = ps != NULL;
	sqlite3_stmt *st = r->table;
	int rc;
	size_t n = 0;
	fputs("<h2 id=\"moments\">Moments</h2>\n", out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0) {
			fputs("<table class=\"moments\">\n<thead><tr><th class=\"num\">#</th>"
			      "<th>stream</th><th>time (UTC)</th><th>type</th>"
			      "<th class=\"num\">intensity</th>",
			      out);
			if (labels)
				fputs("<th>label</th>", out);
			fputs("<th>description</th></tr></thead>\n<tbody>\n", out);
		}
		const char *id = (const char *)sqlite3_column_text(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		long k = find_stream(v, nv, id ? id : "", len);
		fprintf(out, "<tr><td class=\"num\">%zu</td><td>", n);
		if (k >= 0)
			fprintf(out, "<a href=\"#s%ld\">", k + 1);
		put_text(out, id, len);
		fputs(k >= 0 ? "</a></td><td class=\"time\">" : "</td><td class=\"time\">", out);
		int64_t ts;
		bool has_ts = column_time(st, 1, &ts);
		if (has_ts)
			put_time(out, ts);
		else
			put_str(out, (const char *)sqlite3_column_text(st, 1));
		fputs("</td><td>", out);
		put_text(out, (const char *)sqlite3_column_text(st, 2),
		         (size_t)sqlite3_column_bytes(st, 2));
		fputs("</td><td class=\"num\">", out);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			fprintf(out, "%.2f", sqlite3_column_double(st, 4));
		fputs("</td>", out);
		if (labels) {
			/* Its episode matched a label (the scores' own matching). */
			const struct score_episode *e =
				has_ts ? episode_of(ps, sv_make(id ? id : "", len),
				                    sv_make((const char *)sqlite3_column_text(st, 2),
				                            (size_t)sqlite3_column_bytes(st, 2)),
				                    ts)
				       : NULL;
			fputs(e && e->matched ? "<td>yes</td>" : "<td></td>", out);
		}
		fputs("<td>", out);
		put_text(out, (const char *)sqlite3_column_text(st, 3),
		         (size_t)sqlite3_column_bytes(st, 3));
		fputs("</td></tr>\n", out);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error_set(err, "%s: reading table moments: %s", r->path, sqlite3_errmsg(r->db));
		return false;
	}
	if (n)
		fputs("</tbody>\n</table>\n", out);
	else
		fputs("<p class=\"note\">No moments were detected.</p>\n", out);
	return true;
}

bool report_write(struct report *r, const struct report_params *p, FILE *out, struct error *err)
{
	struct buf title = BUF_INIT;
	if (p->title)
		buf_adds(&title, p->title);
	else
		buf_printf(&title, "telemetra report: %s", r->path);
	write_head(out, title.data);
	buf_free(&title);

	fputs("<p class=\"sub\">Database <code>", out);
	put_str(out, r->path);
	fputs("</code>", out);
	if (p->labels_path) {
		fputs(", labels <code>", out);
		put_str(out, p->labels_path);
		fprintf(out, "</code> (%zu)", p->labels ? p->labels->n : 0);
	}
	if (p->decoys_path) {
		fputs(", decoys <code>", out);
		put_str(out, p->decoys_path);
		fprintf(out, "</code> (%zu)", p->decoys ? p->decoys->n : 0);
	}
	fputs(". Times are UTC.</p>\n", out);

	/* The runs give the configuration the scores need (the window), but
	 * the scores come first on the page: the runs table is rendered into
	 * memory and written after them. */
	struct run_cfg cfg = {0, DEFAULT_HISTORY, DEFAULT_THRESHOLD, 0, 0, 0, false};
	char *runs_html = NULL;
	size_t runs_len = 0;
	FILE *mem = open_memstream(&runs_html, &runs_len);
	if (!mem) {
		error_set(err, "out of memory");
		return false;
	}
	bool runs_ok = write_runs(r, mem, &cfg, err);
	if (fclose(mem) != 0 && runs_ok) {
		error_set(err, "out of memory");
		runs_ok = false;
	}
	size_t nv = 0;
	struct stream_info *v = NULL;
	if (!runs_ok || !load_streams(r, &v, &nv, err)) {
		free(runs_html);
		return false;
	}
	/* What judges the configuration first: the scores, what was missed
	 * and what was false; then the runs and the moments; then the charts. */
	struct page_score ps;
	bool scored = p->labels != NULL;
	if (scored && !load_score(r, p, &cfg, &ps, err)) {
		page_score_free(&ps);
		streams_free(v, nv);
		free(runs_html);
		return false;
	}
	if (scored)
		write_score(out, &ps, p, v, nv);
	fputs("<h2 id=\"runs\">Runs</h2>\n", out);
	fwrite(runs_html, 1, runs_len, out);
	free(runs_html);
	write_overview(out, v, nv, p->labels);
	bool ok = write_moments_table(r, out, v, nv, scored ? &ps : NULL, err);
	if (ok && nv) {
		fputs("<h2 id=\"charts\">Charts</h2>\n", out);
		write_notes(out, &cfg, p->labels_path, p->decoys_path);
	}
	for (size_t i = 0; i < nv && ok; i++)
		ok = render_stream(r, i, &v[i], p, &cfg, out, err);
	if (scored)
		page_score_free(&ps);
	streams_free(v, nv);
	if (!ok)
		return false;
	fputs("<p class=\"sub\">Generated by telemetra " PACKAGE_VERSION ".</p>\n</body>\n</html>\n",
	      out);
	return true;
}
