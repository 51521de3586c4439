/*
 * page.c — render a telemetra output as one HTML page (report/report.h).
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
 *   charts      one inline SVG per stream (svg.c)
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
 * The files of src/report/: data.c (and data_pg.c) read the rows,
 * baseline.c recovers the baseline each window was compared against,
 * svg.c draws one stream's chart, markup.c escapes; this file writes the
 * page around them.  The runs and moments tables are streamed from
 * data.c one row at a time; this file knows no database.
 */
#include "config.h"

#include "report/report.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/score.h"
#include "core/timestamp.h"
#include "report/baseline.h"
#include "report/data.h"
#include "report/markup.h"
#include "report/svg.h"

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
	/* A run that names no detector predates the pane detector: seed. */
	v = json_object_get(o, "detector");
	c->pane = json_is_string(v) && !strcmp(json_string_value(v), "pane");
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
	if (!report_has_runs(r)) {
		fputs("<p class=\"note\">This database has no <code>runs</code> table; the charts "
		      "assume the default configuration.</p>\n",
		      out);
		return true;
	}
	int rc, n = 0;
	struct run_row row;
	while ((rc = next_run(r, &row, err)) == 1) {
		if (n++ == 0)
			fputs("<table class=\"runs\">\n<thead><tr><th>run</th><th>command</th>"
			      "<th>started (UTC)</th><th>inputs</th><th>configuration</th>"
			      "<th class=\"num\">records</th><th class=\"num\">events</th>"
			      "<th class=\"num\">dead letters</th><th class=\"num\">windows</th>"
			      "<th class=\"num\">moments</th></tr></thead>\n<tbody>\n",
			      out);
		cfg->run_id = row.id;
		fprintf(out, "<tr><td class=\"num\">%lld</td><td>", (long long)cfg->run_id);
		put_str(out, row.command);
		fputc(' ', out);
		put_str(out, row.version);
		fputs("</td><td>", out);
		if (row.has_started_us)
			put_time(out, row.started_us - row.started_us % USEC_PER_SEC);
		else
			put_str(out, row.started);
		if (!row.finished)
			fputs(" (unfinished)", out);
		fputs("</td><td>", out);
		/* inputs: [{"path", "bytes", ...}] */
		const char *inputs = row.inputs;
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
		const char *config = row.config;
		json_t *c = config ? json_loads(config, 0, NULL) : NULL;
		*cfg = (struct run_cfg){cfg->run_id, report_defaults()->history,
		                        report_defaults()->threshold, 0, 0, 0, false, true};
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
		for (int col = 0; col < 5; col++) {
			fputs("<td class=\"num\">", out);
			if (row.has_count[col])
				put_count(out, row.count[col]);
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	if (rc < 0)
		return false;
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

static int double_cmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
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

	unsigned history = cfg->history ? cfg->history : report_defaults()->history;
	compute_band(rows, n, ms, nm, history, !cfg->pane);
	svg_chart(out, index, s, rows, n, ms, nm, t0, t1, p, cfg);
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
	if (cfg->pane)
		fputs("<li>The chat spike detector is the pane detector: it compares the count of "
		      "its metric (chatters with emotes, chatters or messages) over the newest "
		      "pane or panes with a "
		      "negative-binomial baseline of the panes before. The database records that "
		      "baseline for each chat_spike only, so the panel under the chart shows, per "
		      "chat_spike, the scored span's count (the marker) against the baseline level "
		      "\xC2\xB1 spread of that span (the shaded box; hover it for the dispersion "
		      "and p-value); no band is drawn for the other windows.</li>\n",
		      out);
	else
		fprintf(out,
		        "<li>The shaded band is the z-score baseline, mean \xC2\xB1 population stddev "
		        "of the previous %u windows' chat_rate (from the moment's metadata where one "
		        "was detected, recomputed elsewhere); it is drawn where z is known. The dashed "
		        "line is the spike threshold, mean + %g \xC3\x97 max(stddev, min-stddev): a "
		        "window above it is a chat_spike.</li>\n",
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
	struct table_moment m;
	int rc;
	size_t n = 0;
	fputs("<h2 id=\"moments\">Moments</h2>\n", out);
	while ((rc = next_table_moment(r, &m, err)) == 1) {
		if (n++ == 0) {
			fputs("<table class=\"moments\">\n<thead><tr><th class=\"num\">#</th>"
			      "<th>stream</th><th>time (UTC)</th><th>type</th>"
			      "<th class=\"num\">intensity</th>",
			      out);
			if (labels)
				fputs("<th>label</th>", out);
			fputs("<th>description</th></tr></thead>\n<tbody>\n", out);
		}
		const char *id = m.stream_id;
		size_t len = m.stream_id_len;
		long k = find_stream(v, nv, id ? id : "", len);
		fprintf(out, "<tr><td class=\"num\">%zu</td><td>", n);
		if (k >= 0)
			fprintf(out, "<a href=\"#s%ld\">", k + 1);
		put_text(out, id, len);
		fputs(k >= 0 ? "</a></td><td class=\"time\">" : "</td><td class=\"time\">", out);
		if (m.has_time_us)
			put_time(out, m.time_us);
		else
			put_str(out, m.time);
		fputs("</td><td>", out);
		put_text(out, m.type, m.type_len);
		fputs("</td><td class=\"num\">", out);
		if (m.has_intensity)
			fprintf(out, "%.2f", m.intensity);
		fputs("</td>", out);
		if (labels) {
			/* Its episode matched a label (the scores' own matching). */
			const struct score_episode *e =
				m.has_time_us ? episode_of(ps, sv_make(id ? id : "", len),
				                           sv_make(m.type, m.type_len), m.time_us)
				              : NULL;
			fputs(e && e->matched ? "<td>yes</td>" : "<td></td>", out);
		}
		fputs("<td>", out);
		put_text(out, m.desc, m.desc_len);
		fputs("</td></tr>\n", out);
	}
	if (rc < 0)
		return false;
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
		buf_printf(&title, "telemetra report: %s", report_path(r));
	write_head(out, title.data);
	buf_free(&title);

	fputs("<p class=\"sub\">Database <code>", out);
	put_str(out, report_path(r));
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
	struct run_cfg cfg = {0, report_defaults()->history, report_defaults()->threshold,
	                      0, 0, 0, false, true};
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
