/*
 * svg.c — the chart of one stream: chat_rate over time, the baseline band
 * and the spike threshold, labels and decoys as spans, a panel of its own
 * metric for the viewer surges and the sentiment drops, and the moments as
 * markers.
 *
 * Charts.  Each window is drawn at its midpoint, so a window that covers a
 * spike sits over the spike's labelled span.  The line breaks where the
 * stream has no row for one or more slides (no event at all: the detector
 * has no history there either).
 *
 * Large inputs: past THIN_ABOVE windows in a stream, each line keeps only
 * the lowest and highest point of every pixel column (in time order), which
 * keeps the outline of spikes exactly and bounds a chart to about two
 * points per pixel column; the page says so under the chart.
 */
#include "config.h"

#include "report/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "report/baseline.h"
#include "report/markup.h"

#define CHART_W 1200
#define CHART_H 320
#define PLOT_L 64.0
#define PLOT_R 40.0
#define PLOT_T 40.0
#define PLOT_B 52.0
#define PLOT_W (CHART_W - PLOT_L - PLOT_R)
#define PLOT_H (CHART_H - PLOT_T - PLOT_B)

/* The class of a moment marker: from a fixed list, never from user data. */
const char *marker_class(const char *type)
{
	if (!strcmp(type, "chat_spike"))
		return "mk-spike";
	if (!strcmp(type, "viewer_surge"))
		return "mk-surge";
	if (!strcmp(type, "sentiment_drop"))
		return "mk-drop";
	return "mk-other";
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

/* Keep, per pixel column, only the point of the envelope: the smallest y
 * (the highest value) when top, else the largest.  For the band's edges and
 * the threshold, which change slowly, the outer envelope is all a pixel
 * can show, and half the points of thin_points().  In place; returns the
 * new count. */
static size_t thin_envelope(struct pt *p, size_t n, bool top)
{
	size_t w = 0, i = 0;
	while (i < n) {
		double col = floor(p[i].x);
		size_t j = i, k = i;
		for (; j < n && floor(p[j].x) == col; j++)
			if (top ? p[j].y < p[k].y : p[j].y > p[k].y)
				k = j;
		p[w++] = p[k];
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
		n = s == S_RATE ? thin_points(scratch, n) : thin_envelope(scratch, n, true);
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
			lower = thin_envelope(scratch + n, m - n, false);
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
static void draw_legend(FILE *out, unsigned which_markers, bool labels, bool band)
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
	if (band) {
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
	}
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

/* A panel under the main plot: one metric of the windows over the same
 * time axis, for the markers of the detector that watches it. */
#define PANEL_H 130
#define PANEL_PAD 22.0
enum panel_kind { P_VIEWERS, P_SENTIMENT, P_PANE };
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

/* The pane detector's comparisons, one per chat_spike moment it recorded:
 * the count of its metric over the scored span (the marker, drawn by the
 * caller) against the baseline level ± spread of that span (a band as
 * wide as the span).  The database has this only for moments; the other
 * windows' baselines are not recorded, so nothing is drawn for them. */
static struct panel draw_pane_panel(const struct chart *c, const struct smoment *ms, size_t nm,
                                    double y0)
{
	FILE *out = c->out;
	struct panel p = {true, P_PANE, y0 + PANEL_PAD, PANEL_H - 2 * PANEL_PAD, 0, 0};
	const char *metric = "chatters";
	for (size_t i = 0; i < nm; i++) {
		if (!ms[i].is_pane)
			continue;
		metric = ms[i].metric;
		double top = ms[i].value > ms[i].level + ms[i].spread ? ms[i].value
		                                                      : ms[i].level + ms[i].spread;
		p.hi = top > p.hi ? top : p.hi;
	}
	p.hi = p.hi > 0 ? p.hi * 1.08 : 1;
	fprintf(out,
	        "<g class=\"panel\"><rect class=\"axis\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
	        "height=\"%.1f\"/>\n<text class=\"atitle\" x=\"%.1f\" y=\"%.1f\">%s (chat_spike "
	        "markers: the scored span's count against the pane detector's baseline level "
	        "\xC2\xB1 spread)</text>\n",
	        PLOT_L, p.top, PLOT_W, p.h, PLOT_L, p.top - 6, metric);
	fprintf(out,
	        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>"
	        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n",
	        PLOT_L - 6, p.top + 4, p.hi, PLOT_L - 6, p.top + p.h + 4);
	for (size_t i = 0; i < nm; i++) {
		const struct smoment *m = &ms[i];
		if (!m->is_pane || m->scored_end < c->t0 || m->scored_start > c->t1)
			continue;
		double x0 = cx(c, m->scored_start < c->t0 ? c->t0 : m->scored_start);
		double x1 = cx(c, m->scored_end > c->t1 ? c->t1 : m->scored_end);
		if (x1 - x0 < 2)
			x0 -= 1, x1 = x0 + 2;
		double lo = m->level - m->spread > 0 ? m->level - m->spread : 0;
		double ya = panel_y(&p, m->level + m->spread), yb = panel_y(&p, lo);
		fprintf(out,
		        "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		        "height=\"%.1f\"><title>baseline of ",
		        x0, ya, x1 - x0, yb - ya > 1 ? yb - ya : 1);
		fputs(m->metric, out);
		fputs(" over ", out);
		put_time(out, m->scored_start);
		fputs(" \xE2\x80\x93 ", out);
		put_time(out, m->scored_end);
		fprintf(out, " UTC: level %.2f \xC2\xB1 spread %.2f", m->level, m->spread);
		if (isfinite(m->dispersion))
			fprintf(out, ", dispersion %.3g", m->dispersion);
		fprintf(out, "; counted %.0f", m->value);
		if (isfinite(m->p_value))
			fprintf(out, ", p %.3g", m->p_value);
		fputs("</title></rect>\n", out);
		fprintf(out,
		        "<line class=\"rate\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		        x0, panel_y(&p, m->level), x1, panel_y(&p, m->level));
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

void svg_chart(FILE *out, size_t index, const struct stream_info *s, const struct wrow *rows,
        size_t n, const struct smoment *ms, size_t nm, int64_t t0, int64_t t1,
        const struct report_params *p, const struct run_cfg *cfg)
{
	const struct labels *labels = p->labels;
	double window_s = cfg->window_s > 0 ? cfg->window_s
	                  : n             ? (double)(rows[0].end - rows[0].start) / USEC_PER_SEC
	                                  : report_defaults()->window_s;
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
	/* And, for the pane detector, one of the count it compares: the band
	 * of the chat_rate plot would be the seed detector's, which the pane
	 * detector does not use, so it is not drawn there. */
	bool panel_pane = false, band = false;
	for (size_t i = 0; i < nm; i++)
		panel_pane |= ms[i].is_pane;
	for (size_t i = 0; i < n && !band; i++)
		band = rows[i].has_band;
	band |= !cfg->pane;
	int height = CHART_H + (panel_pane + panel_viewers + panel_sentiment) * PANEL_H;
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
	draw_legend(out, which, labels != NULL, band);

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
	struct panel pv = {0}, pz = {0}, pp = {0};
	if (panel_pane)
		pp = draw_pane_panel(&c, ms, nm, CHART_H);
	if (panel_viewers)
		pv = draw_panel(&c, rows, n, slide_us, CHART_H + panel_pane * PANEL_H, P_VIEWERS,
		                scratch);
	if (panel_sentiment)
		pz = draw_panel(&c, rows, n, slide_us,
		                CHART_H + (panel_pane + panel_viewers) * PANEL_H, P_SENTIMENT, scratch);
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
		if (m->is_pane && pp.on) { /* the count the pane detector scored */
			x = cx(&c, m->scored_start + (m->scored_end - m->scored_start) / 2);
			y = panel_y(&pp, m->value > 0 ? m->value : 0);
		} else if (k >= 0) {
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
		        "chat_rate line), which keeps the peaks; the band and the threshold to "
		        "their outer envelope.</p>\n",
		        n, c.drawn);
}
