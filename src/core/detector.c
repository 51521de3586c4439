/*
 * detector.c — the chat-spike, viewer-surge and sentiment-drop detectors
 * (SPEC §5), in two methods behind one interface (core/detector.h).
 *
 * seed: the seed's z over the previous N windows, bit for bit.
 *
 * pane (the default): a window is judged by its newest slide pane
 * [end - S, end), which no other scored value shares, against the H panes
 * before it (panes between emitted rows held no event: known zeros):
 *
 *   x      = the pane's count (messages, or distinct chatters)
 *   fence  = [q25 - K IQR - 1, q75 + K IQR + 1]   (quartiles of the H;
 *                                                  K = --fence, default 2)
 *   c_i    = the history values clipped to the fence
 *   m      = (sum c_i + 0.5) / H          level (Jeffreys: never 0)
 *   s2     = mean of (c_i - m)^2
 *   phi    = max(phi_floor, (F - 1) / m, (s2 - m) / m^2)  over-dispersion
 *   X      ~ NegBin(mean m, variance m + phi m^2)
 *   p      = P(X > x) + P(X = x) / 2                  mid-p upper tail
 *   z      = probit(1 - p)                            equivalent z
 *   anomalous when z > threshold and x - m >= min_excess
 *
 * A burst spread over 20-30 s puts only part of itself in each pane, so
 * the sum of the newest L panes (the long span, default L = 2) is scored
 * too, against the H panes before all L of them: the same formulas, with
 * the history's own L-pane sums (overlapping, H - L + 1 of them) in place
 * of the panes, so that M, the level of a sum, and its dispersion include
 * what neighbouring panes share (self-exciting chat: a sum of L panes
 * varies more than L independent ones would; assuming independence made
 * ordinary 20 s bursts look like spikes).  Two tests are made, so the
 * smaller p becomes 1 - (1 - p)^2 (Sidak, about 2p) before
 * z = probit(1 - p), and the
 * winning span's count and level are the ones reported and checked
 * against min_excess (x - M).
 *
 * Clipping to the fence keeps a burst (or an ad break's silence) from
 * moving its own baseline, and an earlier moment still in the history
 * from hiding the next one, while a lasting change of level moves the
 * quartiles and is absorbed within about H/4..H/2 panes.  K = 2 since the
 * Fano floor: before it, a fence under 3 IQR clipped the ordinary tail of
 * bursty chat too and under-estimated phi on quiet streams; with the floor
 * setting their least variance, 2 IQR finds more small-stream moments
 * (doc/decisions.md, "The fence").  A stream silent
 * for H panes or more starts afresh: its history is empty again, and z is
 * NULL until min_history panes are known, as at a stream's start.
 * doc/decisions.md ("Detector") gives the measurements behind the choice.
 *
 * With the pane method, viewer surges and sentiment drops keep their
 * z-score on the window's value but compare it with the previous
 * non-overlapping windows only (k - n, k - 2n, ...: n = W/S), so that the
 * baseline shares no event with the value either.
 */
#include "config.h"

#include "core/detector.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "core/timestamp.h"

struct detector_def {
	const char *name;   /* also the moment_type */
	const char *metric; /* the window column it watches */
	int direction;      /* +1: anomalous above the baseline; -1: below */
	const char *what;   /* for descriptions */
	const char *unit;
};

static const struct detector_def defs[DETECTOR_COUNT] = {
	[DETECTOR_CHAT_SPIKE] = {"chat_spike", "chat_rate", 1, "chat spike", " messages/s"},
	[DETECTOR_VIEWER_SURGE] = {"viewer_surge", "avg_viewers", 1, "viewer surge", " viewers"},
	[DETECTOR_SENTIMENT_DROP] = {"sentiment_drop", "avg_sentiment", -1, "sentiment drop", ""},
};

const char *detector_name(enum detector_kind k) { return defs[k].name; }

const char *detect_method_name(enum detect_method m) { return m == DETECT_PANE ? "pane" : "seed"; }

const char *detect_metric_name(enum detect_metric m)
{
	return m == METRIC_FRESH_EMOTERS    ? "fresh-emoters"
	       : m == METRIC_EMOTE_CHATTERS ? "emote-chatters"
	       : m == METRIC_CHATTERS     ? "chatters"
	                                  : "messages";
}

/* The peak of an open run of anomalous windows (merge mode); allocated
 * while the run is open only (series.run). */
struct run {
	int64_t first_k, last_k;
	int64_t first_start, last_end;
	unsigned windows;
	double peak_intensity;
	double peak_value, peak_z, peak_mean, peak_stddev;
	unsigned peak_span; /* pane method: panes the peak's value sums */
	json_t *peak_metadata; /* owned */
};

/* One detector's memory of one stream: the last `cap` values, oldest
 * first at ring[(head + i) % cap]; with the pane method, for the chat
 * spike the values are pane counts (and last_pane the newest pane), for
 * the others window values with their window index in ks[].
 *
 * The arrays are allocated on the first value and grow geometrically up
 * to cap (`alloc` elements each): most streams of a large run see a few
 * windows only, and a full history is ~2 KB.  While n < cap the ring has
 * not wrapped (head is 0: it moves only once n == cap, and every reset
 * sets it to 0), so growing is a realloc that keeps the order; the wrap
 * arithmetic stays on cap, so the arrays are full-size before it runs.
 * ring, sorted1 and sortedL share one allocation (ring's), alloc doubles
 * each in that order: one malloc per series instead of three.  A series
 * itself is allocated on its first row (series_get), so a stream costs
 * nothing for a detector that is off or never had its metric. */
struct series {
	double *ring;
	int64_t *ks; /* pane method, viewer surge and sentiment drop */
	unsigned cap, n, head;
	unsigned alloc; /* elements allocated in ring, ks, sorted1, sortedL */
	bool uses_ks;   /* ks is kept (pane method, not the chat spike) */
	bool sorted;    /* sorted1 and sortedL are kept (pane method, chat spike) */
	bool has_last;
	int64_t last_pane; /* pane method, chat spike: the newest pane pushed */
	unsigned seen;     /* panes known since the start (or a restart), <= cap */
	/* Pane method, chat spike: the history kept sorted as it slides, so
	 * that its quartiles need no sort per window.  sorted1: the n values;
	 * sortedL: the L-sums of ring[j .. j + L) for j = 0 .. n - 2L + 1 (the
	 * baseline of the long span, which excludes the newest L - 1 panes),
	 * n - 2L + 2 of them when positive (<= n).  Both in ring's block. */
	double *sorted1, *sortedL;
	struct run *run; /* owned; NULL when no run is open (most of the time) */
};

/* The pane method's chat spike history of an idle stream, packed: the
 * stream has no pane, no run and no other series, and waits in the
 * windower's release heap (often ~H panes: nearly every stream of a large
 * set of streams seen once).  Only what the exact rule reads stays: the
 * last pane, `seen`, and the non-zero values of the n in history order
 * (pane counts: most are known zeros).  A series made from it
 * (series_unpack) is the series it was made from, but for allocation
 * sizes and the ring's rotation, which no output depends on. */
struct pack {
	int64_t last_pane;
	uint32_t n, seen, m;
	struct packed_value {
		uint32_t at; /* 0 = oldest */
		double value;
	} v[]; /* m of them */
};

/* A pack of at most one non-zero value, kept in the stream's state in
 * place of its series pointers: a stream seen once (the 1 M-stream case)
 * holds one non-zero pane, and a pack of its own was a 48-byte block. */
struct small_pack {
	int64_t last_pane;
	uint32_t n, seen;
	uint32_t at;  /* the non-zero value's place, */
	double value; /* or 0: none */
};

/* One stream's detector state: 40 bytes, of which its id is none (see
 * struct detectors): with 1 M streams alive at once each byte here is a
 * megabyte. */
struct stream_state {
	bool live;    /* the index is in use (has an id) */
	bool in_runs; /* listed in detectors.runs */
	bool small;   /* packed in place: `sp` holds it, and no series or pack is */
	union {
		struct {
			struct series *series[DETECTOR_COUNT]; /* owned; NULL until its first row */
			struct pack *pack; /* owned; then every series is NULL (see struct pack) */
		};
		struct small_pack sp; /* when small */
	};
};

_Static_assert(sizeof(struct small_pack) <= sizeof(struct series *) * (DETECTOR_COUNT + 1),
               "a small pack fits in the space of the series and pack pointers");

struct detectors {
	struct detect_config cfg;
	struct stream_state *streams; /* indexed by the windower's stream index */
	uint32_t n_streams;
	size_t cap_streams; /* grown geometrically: one new stream at a time
	                     * made 1 M streams 1 M reallocs (mremap) */
	/* Scratch shared by the group's streams, allocated on first use and
	 * grown to the longest history judged so far (<= max_n): a group
	 * (partition) that never judges a history costs nothing. */
	double *hist;    /* one history, oldest first */
	double *scratch; /* the long span's L-sums of hist */
	unsigned scratch_n, max_n; /* elements of each; the largest cap */
	/* The streams that may hold an open moment run (merge mode): a close
	 * ends runs for these only, not by a scan of every stream ever seen
	 * (1 M streams made each close a loop of 1 M x 3).  An entry may be
	 * stale (its stream released, or its runs ended): a close drops it.
	 * Runs made by detectors_load_stream are found by one scan at the
	 * first close (runs_scanned), which is why loads come before it. */
	uint32_t *runs;
	size_t n_runs, cap_runs;
	bool runs_scanned;
	/* The streams' ids, for moments emitted after their row: the caller's
	 * (detectors_set_names), or else copies kept here, indexed as streams
	 * (owned: the live ones' ptr). */
	stream_name_fn name_fn;
	const void *name_ctx;
	struct strview *ids;
	/* Moments without description and metadata (detectors_set_bare_moments):
	 * no JSON is built for an anomalous window, and a run keeps no
	 * peak_metadata. */
	bool bare;
};

void detectors_set_names(struct detectors *d, stream_name_fn fn, const void *ctx)
{
	d->name_fn = fn;
	d->name_ctx = ctx;
}

void detectors_set_bare_moments(struct detectors *d) { d->bare = true; }

static struct strview id_view(const struct detectors *d, uint32_t stream)
{
	return d->name_fn ? d->name_fn(d->name_ctx, stream) : d->ids[stream];
}

/* Free a live stream's copy of its id, if the detectors keep copies. */
static void id_free(struct detectors *d, uint32_t stream)
{
	if (!d->name_fn && d->streams[stream].live) {
		free((char *)d->ids[stream].ptr);
		d->ids[stream] = sv_make(NULL, 0);
	}
}

static bool pane_chat(const struct detect_config *cfg, int k)
{
	return cfg->method == DETECT_PANE && k == DETECTOR_CHAT_SPIKE;
}

static unsigned series_cap(const struct detect_config *cfg, int k)
{
	if (cfg->method != DETECT_PANE)
		return cfg->det[k].history;
	if (k == DETECTOR_CHAT_SPIKE)
		return cfg->pane.history;
	unsigned n = cfg->window_panes ? cfg->window_panes : 1;
	return cfg->det[k].history * n;
}

struct detectors *detectors_new(const struct detect_config *cfg)
{
	struct detectors *d = xcalloc(1, sizeof(*d));
	d->cfg = *cfg;
	unsigned max_n = 1;
	for (int k = 0; k < DETECTOR_COUNT; k++)
		if (cfg->det[k].enabled && series_cap(cfg, k) > max_n)
			max_n = series_cap(cfg, k);
	d->max_n = max_n;
	return d;
}

/* The group's scratch, at least n elements each (n <= max_n); both are
 * freed by detectors_free only. */
static void scratch_reserve(struct detectors *d, unsigned n)
{
	if (n <= d->scratch_n)
		return;
	unsigned want = d->scratch_n ? d->scratch_n : 16;
	while (want < n)
		want *= 2;
	if (want > d->max_n)
		want = d->max_n > n ? d->max_n : n;
	d->hist = xrealloc(d->hist, want * sizeof(*d->hist));
	d->scratch = xrealloc(d->scratch, want * sizeof(*d->scratch));
	d->scratch_n = want;
}

/* A series and everything it owns (NULL: nothing). */
static void series_free(struct series *s)
{
	if (!s)
		return;
	free(s->ring); /* sorted1 and sortedL too */
	free(s->ks);
	if (s->run)
		json_decref(s->run->peak_metadata);
	free(s->run);
	free(s);
}

void detectors_free(struct detectors *d)
{
	if (!d)
		return;
	for (uint32_t s = 0; s < d->n_streams; s++) {
		if (!d->streams[s].small) {
			for (int k = 0; k < DETECTOR_COUNT; k++)
				series_free(d->streams[s].series[k]);
			free(d->streams[s].pack);
		}
		id_free(d, s);
	}
	free(d->streams);
	free(d->ids);
	free(d->runs);
	free(d->hist);
	free(d->scratch);
	free(d);
}

static struct series *series_unpack(const struct detectors *d, const struct stream_state *st);
static void pack_free(struct stream_state *st);

static struct stream_state *stream_state(struct detectors *d, const struct window_row *row)
{
	if (row->stream >= d->n_streams) {
		/* room for one first: most groups of a many-partition input hold one */
		size_t had = d->cap_streams;
		if (!d->cap_streams && row->stream == 0) {
			d->streams = xrealloc(d->streams, sizeof(*d->streams));
			d->cap_streams = 1;
		} else {
			d->streams = grow_array(d->streams, sizeof(*d->streams), &d->cap_streams,
			                        (size_t)row->stream + 1);
		}
		if (!d->name_fn && d->cap_streams != had)
			d->ids = xrealloc(d->ids, d->cap_streams * sizeof(*d->ids));
		memset(d->streams + d->n_streams, 0,
		       (row->stream + 1 - d->n_streams) * sizeof(*d->streams));
		d->n_streams = row->stream + 1;
	}
	struct stream_state *st = &d->streams[row->stream];
	if (st->pack || st->small) { /* back from idle: its series as it was */
		struct series *s = series_unpack(d, st);
		pack_free(st);
		st->series[DETECTOR_CHAT_SPIKE] = s;
	}
	if (!st->live) {
		if (!d->name_fn)
			d->ids[row->stream] = sv_make(xstrndup(row->stream_id.ptr, row->stream_id.len),
			                              row->stream_id.len);
		st->live = true;
	}
	return st;
}

/* The series of detector k of a stream, made (empty, no arrays: see
 * series_reserve) on first use; the stream owns it (series_free). */
static struct series *series_get(const struct detectors *d, struct stream_state *st, int k)
{
	if (st->series[k])
		return st->series[k];
	struct series *s = xcalloc(1, sizeof(*s));
	s->cap = series_cap(&d->cfg, k);
	s->uses_ks = d->cfg.method == DETECT_PANE && k != DETECTOR_CHAT_SPIKE;
	s->sorted = pane_chat(&d->cfg, k);
	st->series[k] = s;
	return s;
}

/* Room for n values (n <= cap) in every array the series keeps: doubling
 * from 1, at most cap.  The series owns the arrays (series_free). */
static void series_reserve(struct series *s, unsigned n)
{
	if (n <= s->alloc)
		return;
	unsigned old = s->alloc, want = old ? old : 1;
	while (want < n)
		want *= 2;
	if (want > s->cap)
		want = s->cap;
	if (s->uses_ks)
		s->ks = xrealloc(s->ks, want * sizeof(*s->ks));
	if (!s->sorted) {
		s->ring = xrealloc(s->ring, want * sizeof(*s->ring));
	} else {
		/* [ring | sorted1 | sortedL], each old long, become want long:
		 * move the later arrays first (they only move up). */
		s->ring = xrealloc(s->ring, 3 * (size_t)want * sizeof(*s->ring));
		memmove(s->ring + 2 * (size_t)want, s->ring + 2 * (size_t)old, old * sizeof(*s->ring));
		memmove(s->ring + want, s->ring + old, old * sizeof(*s->ring));
		s->sorted1 = s->ring + want;
		s->sortedL = s->ring + 2 * (size_t)want;
	}
	s->alloc = want;
}

static void series_push(struct series *s, double value, int64_t k)
{
	unsigned at;
	if (s->n < s->cap) {
		series_reserve(s, s->n + 1);
		at = (s->head + s->n) % s->cap;
		s->n++;
	} else {
		at = s->head;
		s->head = (s->head + 1) % s->cap;
	}
	s->ring[at] = value;
	if (s->uses_ks)
		s->ks[at] = k;
}

double zscore(const double *hist, unsigned n, double value, double min_stddev, double *mean,
              double *stddev)
{
	/* Two passes, in a fixed order: numerically sound, and the same bits on
	 * every run. */
	double sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += hist[i];
	double m = sum / n;
	double ss = 0;
	for (unsigned i = 0; i < n; i++)
		ss += (hist[i] - m) * (hist[i] - m);
	double sd = sqrt(ss / n);
	*mean = m;
	*stddev = sd;
	return (value - m) / (sd > min_stddev ? sd : min_stddev);
}

/* --- special functions ----------------------------------------------------- */

/* log Gamma(x), x > 0: Lanczos (g = 7, n = 9), about 15 digits.  Not libm's
 * lgamma, which writes the global signgam (tune runs detectors in threads). */
static double log_gamma(double x)
{
	static const double c[9] = {0.99999999999980993,  676.5203681218851,
	                            -1259.1392167224028,  771.32342877765313,
	                            -176.61502916214059,  12.507343278686905,
	                            -0.13857109526572012, 9.9843695780195716e-6,
	                            1.5056327351493116e-7};
	if (x < 0.5) /* reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x) */
		return log(M_PI / fabs(sin(M_PI * x))) - log_gamma(1 - x);
	x -= 1;
	double a = c[0], t = x + 7.5;
	for (int i = 1; i < 9; i++)
		a += c[i] / (x + i);
	return 0.5 * log(2 * M_PI) + (x + 0.5) * log(t) - t + log(a);
}

/* The continued fraction of I_x(a, b) (modified Lentz), for
 * x < (a + 1) / (a + b + 2), where it converges fast. */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double qab = a + b, qap = a + 1, qam = a - 1;
	double c = 1, dd = 1 - qab * x / qap;
	if (fabs(dd) < tiny)
		dd = tiny;
	dd = 1 / dd;
	double h = dd;
	for (int m = 1; m <= 100000; m++) {
		int m2 = 2 * m;
		double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		dd = 1 + aa * dd;
		if (fabs(dd) < tiny)
			dd = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		dd = 1 / dd;
		h *= dd * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		dd = 1 + aa * dd;
		if (fabs(dd) < tiny)
			dd = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		dd = 1 / dd;
		double del = dd * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

double incbeta(double a, double b, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	double lbt = log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1) / (a + b + 2))
		return exp(lbt) * betacf(a, b, x) / a;
	return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

/* NegBin with mean m and variance m + phi m^2: r = 1/phi successes, each
 * trial failing with q = m / (r + m); X counts the failures. */
double nb_upper_tail(double x, double mean, double phi)
{
	if (x <= 0)
		return 1;
	if (mean <= 0)
		return 0;
	double r = 1 / phi, q = mean / (r + mean);
	return incbeta(x, r, q); /* P(X >= x) = I_q(x, r) */
}

double nb_pmf(double x, double mean, double phi)
{
	if (x < 0)
		return 0;
	if (mean <= 0)
		return x == 0;
	double r = 1 / phi, q = mean / (r + mean);
	return exp(log_gamma(x + r) - log_gamma(r) - log_gamma(x + 1) + r * log1p(-q) + x * log(q));
}

/* Acklam's rational approximation of the inverse normal CDF (relative
 * error 1.15e-9), refined by one Halley step on erfc to full precision. */
double probit(double p)
{
	static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
	                            -2.759285104469687e+02, 1.383577518672690e+02,
	                            -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
	                            -1.556989798598866e+02, 6.680131188771972e+01,
	                            -1.328068155288572e+01};
	static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
	                            -2.400758277161838e+00, -2.549732539343734e+00,
	                            4.374664141464968e+00,  2.938163982698783e+00};
	static const double e[4] = {7.784695709041462e-03, 3.224671290700398e-01,
	                            2.445134137142996e+00, 3.754408661907416e+00};
	const double lo = 0.02425, hi = 1 - lo;
	double x;
	if (p <= 0)
		return -HUGE_VAL;
	if (p >= 1)
		return HUGE_VAL;
	if (p < lo) {
		double q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
	} else if (p <= hi) {
		double q = p - 0.5, r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	} else {
		double q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
	}
	double err = 0.5 * erfc(-x / M_SQRT2) - p;
	double u = err * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

/* --- the pane method ------------------------------------------------------ */

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return a < b ? -1 : a > b;
}

/* The quantile q of sorted v[0..n): linear between order statistics. */
static double quantile(const double *v, unsigned n, double q)
{
	double pos = q * (n - 1);
	unsigned i = (unsigned)pos;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

/* The equivalent z of an upper-tail p: probit(1 - p), and -40 for a p
 * within rounding of 1 (no evidence at all). */
static double p_to_z(double p)
{
	double z = p >= 1 ? -HUGE_VAL : -probit(p);
	return z < -40 ? -40 : z;
}

/* Mid-p upper tail of x under NegBin(m, phi): P(X > x) + P(X = x) / 2. */
static double pane_tail(double x, double m, double phi)
{
	return nb_upper_tail(x + 1, m, phi) + 0.5 * nb_pmf(x, m, phi);
}

/* The span-sums of hist[0..n): v[0 .. n - span] (in order: the same bits
 * every run); returns how many. */
static unsigned span_sums(const double *hist, unsigned n, unsigned span, double *v)
{
	double acc = 0;
	for (unsigned i = 0; i < n; i++) {
		acc += hist[i];
		if (i >= span)
			acc -= hist[i - span];
		if (i + 1 >= span)
			v[i + 1 - span] = span == 1 ? hist[i] : acc;
	}
	return n - (span - 1);
}

/* The verdict on x against the span-sums v[0..ns), in history order, and
 * the same values sorted (the caller's). */
static void judge_sums(const double *v, const double *sorted, unsigned ns, double x,
                       unsigned span, double dispersion_floor, double min_fano, double fence,
                       struct pane_verdict *out)
{
	double q1 = quantile(sorted, ns, 0.25), q3 = quantile(sorted, ns, 0.75);
	double lo = q1 - fence * (q3 - q1) - 1, hi = q3 + fence * (q3 - q1) + 1;
	double sum = 0;
	for (unsigned i = 0; i < ns; i++) {
		double c = v[i] < lo ? lo : v[i] > hi ? hi : v[i];
		sum += c;
	}
	double m = (sum + 0.5) / ns;
	double ss = 0;
	for (unsigned i = 0; i < ns; i++) {
		double c = v[i] < lo ? lo : v[i] > hi ? hi : v[i];
		ss += (c - m) * (c - m);
	}
	double phi = (ss / ns - m) / (m * m);
	if (!(phi > dispersion_floor))
		phi = dispersion_floor;
	/* The variance is at least min_fano x the mean: NegBin's m + phi m^2
	 * alone tends to Poisson at low counts, while chat comes in clusters
	 * (a message draws replies) at every rate, and a history of mostly
	 * zeros cannot show it (doc/decisions.md, "Small streams"). */
	if (phi < (min_fano - 1) / m)
		phi = (min_fano - 1) / m;
	/* The floor applies to every span's own dispersion (not floor / L as
	 * for independent panes): measured, floor / L fired on more ordinary
	 * 20 s bursts (doc/decisions.md). */
	double p = pane_tail(x, m, phi);
	if (p < 1e-300)
		p = 1e-300;
	if (p > 1)
		p = 1;
	out->level = m / span;
	out->spread = sqrt(m + phi * m * m);
	out->dispersion = phi;
	out->span = span;
	out->value = x;
	out->excess = x - m;
	out->p_value = p;
	out->z = p_to_z(p);
}

void pane_judge(const double *hist, unsigned n, double x, unsigned span,
                double dispersion_floor, double min_fano, double fence, double *scratch,
                struct pane_verdict *out)
{
	/* The baseline of a span of L panes is the history's own L-pane sums
	 * (overlapping: n - L + 1 of them), not L independent panes: chat is
	 * self-exciting, so neighbouring panes rise and fall together and a
	 * sum of L varies more than L times one pane's variance.  L = 1: the
	 * panes themselves. */
	double *v = scratch, *sorted = scratch + n;
	unsigned ns = span_sums(hist, n, span, v);
	memcpy(sorted, v, ns * sizeof(*sorted));
	qsort(sorted, ns, sizeof(*sorted), cmp_double);
	judge_sums(v, sorted, ns, x, span, dispersion_floor, min_fano, fence, out);
}

/* Sorted arrays of n values: insert x, remove one value equal to x (which
 * must be there).  Binary search, then one memmove: O(n) moves of 8 bytes
 * instead of a sort per window (issue 12's profile). */
static size_t sorted_lower(const double *a, unsigned n, double x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void sorted_insert(double *a, unsigned n, double x)
{
	size_t at = sorted_lower(a, n, x);
	memmove(a + at + 1, a + at, (n - at) * sizeof(*a));
	a[at] = x;
}

static void sorted_remove(double *a, unsigned n, double x)
{
	size_t at = sorted_lower(a, n, x);
	if (at < n) /* always: x is one of them */
		memmove(a + at, a + at + 1, (n - at - 1) * sizeof(*a));
}

/* --- moments ------------------------------------------------------------- */

static json_t *json_time(int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	timestamp_format_rfc3339(us, t);
	return json_string(t);
}

static json_t *json_opt_real(bool has, double v) { return has ? json_real(v) : json_null(); }

/* How one window was judged, for metadata and descriptions. */
struct judgement {
	double value; /* the scored value (a pane count with the pane method) */
	double z, mean, sd;
	unsigned n_hist;
	const struct pane_verdict *pane; /* the pane method's chat spike, else NULL */
};

static json_t *moment_metadata(const struct detectors *d, enum detector_kind k,
                               const struct window_row *row, const struct judgement *j)
{
	const struct detector_config *c = &d->cfg.det[k];
	json_t *top = json_array();
	for (size_t i = 0; i < row->n_top_emotes; i++)
		json_array_append_new(top, json_stringn(row->top_emotes[i].ptr, row->top_emotes[i].len));
	json_t *m = json_object();
	json_object_set_new(m, "window_start", json_time(row->start_us));
	json_object_set_new(m, "window_end", json_time(row->end_us));
	json_object_set_new(m, "chat_count", json_integer(row->chat_count));
	json_object_set_new(m, "chat_rate", json_real(row->chat_rate));
	json_object_set_new(m, "unique_chatters", json_integer(row->unique_chatters));
	json_object_set_new(m, "avg_viewers", json_opt_real(row->has_viewers, row->avg_viewers));
	json_object_set_new(m, "avg_sentiment", json_opt_real(row->has_sentiment, row->avg_sentiment));
	json_object_set_new(m, "top_emotes", top);
	json_object_set_new(m, "detector", json_string(detect_method_name(d->cfg.method)));
	json_object_set_new(m, "value", json_real(j->value));
	json_object_set_new(m, "z_score", json_real(j->z));
	json_object_set_new(m, "threshold", json_real(c->threshold));
	if (j->pane) {
		const struct pane_config *pc = &d->cfg.pane;
		double slide_s = (double)d->cfg.slide_us / (double)USEC_PER_SEC;
		json_object_set_new(m, "metric", json_string(detect_metric_name(pc->metric)));
		json_object_set_new(m, "scored_start",
		                    json_time(row->end_us - (int64_t)j->pane->span * d->cfg.slide_us));
		json_object_set_new(m, "scored_panes", json_integer(j->pane->span));
		json_object_set_new(m, "long_span_panes", json_integer(pc->long_span));
		json_object_set_new(m, "scored_end", json_time(row->end_us));
		json_object_set_new(m, "p_value", json_real(j->pane->p_value));
		/* level and spread of the scored span (scored_panes x one pane's) */
		json_object_set_new(m, "baseline_level", json_real(j->mean));
		json_object_set_new(m, "baseline_spread", json_real(j->sd));
		json_object_set_new(m, "baseline_pane_level", json_real(j->pane->level));
		json_object_set_new(m, "baseline_dispersion", json_real(j->pane->dispersion));
		json_object_set_new(m, "baseline_panes", json_integer(j->n_hist));
		json_object_set_new(m, "baseline_seconds", json_real(slide_s * j->n_hist));
		json_object_set_new(m, "history_panes", json_integer(pc->history));
		json_object_set_new(m, "min_history_panes", json_integer(pc->min_history));
		json_object_set_new(m, "dispersion_floor", json_real(pc->dispersion));
		json_object_set_new(m, "min_excess", json_real(pc->min_excess));
		json_object_set_new(m, "min_fano", json_real(pc->min_fano));
		json_object_set_new(m, "fence", json_real(pc->fence));
		if (pc->metric == METRIC_FRESH_EMOTERS)
			json_object_set_new(m, "fresh_span_seconds",
			                    json_real((double)pc->fresh_us / (double)USEC_PER_SEC));
		return m;
	}
	json_object_set_new(m, "metric", json_string(defs[k].metric));
	json_object_set_new(m, "baseline_mean", json_real(j->mean));
	json_object_set_new(m, "baseline_stddev", json_real(j->sd));
	json_object_set_new(m, "baseline_windows", json_integer(j->n_hist));
	json_object_set_new(m, "history", json_integer(c->history));
	json_object_set_new(m, "min_history", json_integer(c->min_history));
	json_object_set_new(m, "min_stddev", json_real(c->min_stddev));
	return m;
}

static int emit_moment(const struct detectors *d, uint32_t stream,
                       enum detector_kind k, int64_t start, int64_t end, unsigned windows,
                       unsigned span, double value, double z, double mean, double sd, double intensity,
                       json_t *metadata, moment_emit_fn emit, void *ctx)
{
	const struct detector_def *def = &defs[k];
	struct moment m = {
		.stream = stream,
		.stream_id = id_view(d, stream),
		.type = def->name,
		.time_us = start,
		.end_us = end,
		.intensity = intensity,
	};
	if (d->bare)
		return emit(ctx, &m); /* metadata is NULL: nothing was built */
	char desc[512];
	char val[128];
	if (pane_chat(&d->cfg, k))
		snprintf(val, sizeof(val), "%.0f %s in %g s", value,
		         d->cfg.pane.metric == METRIC_EMOTE_CHATTERS ? "chatters with emotes"
		         : d->cfg.pane.metric == METRIC_FRESH_EMOTERS
		                 ? "chatters with emotes (fresh ones twice)"
		                 : detect_metric_name(d->cfg.pane.metric),
		         (double)(span * d->cfg.slide_us) / (double)USEC_PER_SEC);
	else
		snprintf(val, sizeof(val), "%.2f%s", value, def->unit);
	if (windows > 1) {
		char a[TIMESTAMP_BUFSZ], b[TIMESTAMP_BUFSZ];
		timestamp_format(start, a);
		timestamp_format(end, b);
		a[19] = b[19] = '\0'; /* whole seconds read better */
		snprintf(desc, sizeof(desc),
		         "%s over %u windows from %s to %s: peak %s, z = %.2f against a baseline of "
		         "%.2f ± %.2f",
		         def->what, windows, a, b, val, z, mean, sd);
	} else {
		snprintf(desc, sizeof(desc), "%s: %s, z = %.2f against a baseline of %.2f ± %.2f",
		         def->what, val, z, mean, sd);
	}
	char *meta = json_dumps(metadata, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	m.description = desc;
	m.metadata = meta;
	int rc = emit(ctx, &m);
	free(meta);
	return rc;
}

/* List a stream that gets an open run (detectors.runs). */
static void track_runs(struct detectors *d, struct stream_state *st, uint32_t stream)
{
	if (st->in_runs)
		return;
	st->in_runs = true;
	d->runs = grow_array(d->runs, sizeof(*d->runs), &d->cap_runs, d->n_runs + 1);
	d->runs[d->n_runs++] = stream;
}

static int end_run(struct detectors *d, uint32_t stream, enum detector_kind k, moment_emit_fn emit,
                   void *ctx)
{
	struct stream_state *st = &d->streams[stream];
	struct series *s = st->small ? NULL : st->series[k];
	if (!s || !s->run)
		return 0;
	struct run *r = s->run;
	json_t *meta = r->peak_metadata; /* NULL when bare */
	if (meta) {
		json_object_set(meta, "peak_window_start", json_object_get(meta, "window_start"));
		json_object_set(meta, "peak_window_end", json_object_get(meta, "window_end"));
		json_object_set_new(meta, "window_start", json_time(r->first_start));
		json_object_set_new(meta, "window_end", json_time(r->last_end));
		json_object_set_new(meta, "windows", json_integer(r->windows));
	}
	int rc = emit_moment(d, stream, k, r->first_start, r->last_end, r->windows,
	                     r->peak_span, r->peak_value, r->peak_z, r->peak_mean, r->peak_stddev,
	                     r->peak_intensity, meta, emit, ctx);
	json_decref(meta);
	free(r);
	s->run = NULL;
	return rc;
}

static bool metric_of(enum detector_kind k, const struct window_row *row, double *value)
{
	switch (k) {
	case DETECTOR_CHAT_SPIKE:
		*value = row->chat_rate;
		return true;
	case DETECTOR_VIEWER_SURGE:
		*value = row->avg_viewers;
		return row->has_viewers;
	case DETECTOR_SENTIMENT_DROP:
		*value = row->avg_sentiment;
		return row->has_sentiment;
	default:
		return false;
	}
}

/* The pane method's chat spike history: the i-th value, oldest first, and
 * the sum of L values from the j-th (pane counts are integers, so any
 * order of summing gives the bits span_sums gives). */
static double ring_at(const struct series *s, unsigned i) { return s->ring[(s->head + i) % s->cap]; }

static double ring_sum(const struct series *s, unsigned j, unsigned L)
{
	double acc = 0;
	for (unsigned i = 0; i < L; i++)
		acc += ring_at(s, j + i);
	return acc;
}

/* How many L-sums the long span's baseline has with n panes known. */
static unsigned long_sums(unsigned n, unsigned L) { return L > 1 && n >= 2 * L - 1 ? n - 2 * L + 2 : 0; }

/* Push a pane count, keeping sorted1 and sortedL as struct series says. */
static void pane_push(struct series *s, double x, unsigned L)
{
	unsigned n = s->n, ns = long_sums(n, L);
	if (n == s->cap) {
		sorted_remove(s->sorted1, n, ring_at(s, 0));
		if (ns)
			sorted_remove(s->sortedL, ns, ring_sum(s, 0, L));
		series_push(s, x, 0);
		sorted_insert(s->sorted1, n - 1, x);
		if (ns)
			sorted_insert(s->sortedL, ns - 1, ring_sum(s, n - 2 * L + 1, L));
		return;
	}
	series_push(s, x, 0);
	sorted_insert(s->sorted1, n, x);
	if (long_sums(n + 1, L))
		sorted_insert(s->sortedL, ns, ring_sum(s, n + 2 - 2 * L, L));
}

/* Sort a history loaded from a checkpoint (once). */
static void pane_sort(struct series *s, unsigned L)
{
	unsigned ns = long_sums(s->n, L);
	if (!s->n)
		return; /* nothing allocated, nothing to sort */
	for (unsigned i = 0; i < s->n; i++)
		s->sorted1[i] = ring_at(s, i);
	for (unsigned j = 0; j < ns; j++)
		s->sortedL[j] = ring_sum(s, j, L);
	qsort(s->sorted1, s->n, sizeof(*s->sorted1), cmp_double);
	qsort(s->sortedL, ns, sizeof(*s->sortedL), cmp_double);
}

/* The pane method's chat spike: catch up the panes since the last row
 * (known zeros), judge the newest pane against the history, push it. */
static bool judge_pane(struct detectors *d, struct series *s, const struct window_row *row,
                       struct judgement *j, struct pane_verdict *v, bool *has_z_out)
{
	const struct pane_config *pc = &d->cfg.pane;
	int64_t pane = row->k + (int64_t)(d->cfg.window_panes ? d->cfg.window_panes : 1) - 1;
	double x = (double)(pc->metric == METRIC_FRESH_EMOTERS
	                            ? row->pane_emote_chatters + row->pane_fresh_emote_chatters
	                    : pc->metric == METRIC_EMOTE_CHATTERS ? row->pane_emote_chatters
	                    : pc->metric == METRIC_CHATTERS       ? row->pane_chatters
	                                                          : row->pane_chat_count);
	if (s->has_last) {
		int64_t gap = pane - s->last_pane - 1; /* rows arrive in order: >= 0 */
		if (gap >= (int64_t)s->cap) {
			s->n = s->head = s->seen = 0; /* silent for a whole history: start afresh */
		} else {
			for (int64_t i = 0; i < gap; i++) {
				pane_push(s, 0, pc->long_span);
				if (s->seen < s->cap)
					s->seen++;
			}
		}
	}
	bool has_z = s->n > 0 && s->seen >= pc->min_history;
	j->value = x;
	j->n_hist = s->n;
	j->pane = v;
	if (has_z) {
		scratch_reserve(d, s->n);
		for (unsigned i = 0; i < s->n; i++)
			d->hist[i] = s->ring[(s->head + i) % s->cap];
		judge_sums(d->hist, s->sorted1, s->n, x, 1, pc->dispersion, pc->min_fano, pc->fence,
		           v);
		/* The long span: the newest L panes' sum, against the panes before
		 * all L of them; two tests, so the smaller p is corrected. */
		unsigned L = pc->long_span, tests = 1;
		if (L > 1 && s->n >= 2 * L - 1) { /* at least one L-sum before the span */
			struct pane_verdict vl;
			double xl = x;
			for (unsigned i = 1; i < L; i++)
				xl += d->hist[s->n - i];
			unsigned ns = span_sums(d->hist, s->n - (L - 1), L, d->scratch);
			judge_sums(d->scratch, s->sortedL, ns, xl, L, pc->dispersion, pc->min_fano,
			           pc->fence, &vl);
			tests = 2;
			if (vl.p_value < v->p_value)
				*v = vl;
		}
		if (tests > 1) {
			/* Sidak: P(either of two independent tests <= p) = 1 - (1 - p)^2,
			 * which is 2p for a small p and stays below 1 for any p < 1. */
			v->p_value = v->p_value * (2 - v->p_value);
			v->z = p_to_z(v->p_value);
		}
		/* What the scored span was expected to hold: the level of the
		 * history's L-sums, with their spread. */
		j->value = v->value;
		j->z = v->z;
		j->mean = v->span * v->level;
		j->sd = v->spread;
	}
	pane_push(s, x, pc->long_span);
	if (s->seen < s->cap)
		s->seen++;
	s->has_last = true;
	s->last_pane = pane;
	*has_z_out = has_z;
	return has_z && v->excess >= pc->min_excess; /* anomalous if z passes the threshold */
}

/* Any other detector: z of the window's value against the history (the
 * previous N windows; with the pane method only the non-overlapping ones). */
static bool judge_window(struct detectors *d, enum detector_kind k, struct series *s,
                         const struct window_row *row, double value, struct judgement *j)
{
	const struct detector_config *c = &d->cfg.det[k];
	unsigned n = 0;
	scratch_reserve(d, s->n);
	if (!s->uses_ks) {
		for (unsigned i = 0; i < s->n; i++)
			d->hist[i] = s->ring[(s->head + i) % s->cap];
		n = s->n;
	} else {
		/* Newest first, then reversed: windows k - n, k - 2n, ... */
		int64_t wp = d->cfg.window_panes ? d->cfg.window_panes : 1;
		for (unsigned i = s->n; i-- > 0 && n < c->history;) {
			unsigned at = (s->head + i) % s->cap;
			int64_t back = row->k - s->ks[at];
			if (back >= wp && back % wp == 0)
				d->hist[n++] = s->ring[at];
		}
		for (unsigned i = 0; i < n / 2; i++) {
			double t = d->hist[i];
			d->hist[i] = d->hist[n - 1 - i];
			d->hist[n - 1 - i] = t;
		}
	}
	bool has_z = n >= c->min_history;
	j->value = value;
	j->n_hist = n;
	j->pane = NULL;
	if (has_z)
		j->z = zscore(d->hist, n, value, c->min_stddev, &j->mean, &j->sd);
	/* Push the value: it is history for the next windows only. */
	series_push(s, value, row->k);
	return has_z; /* anomalous if direction * z passes the threshold */
}

/* Judge row with detector k, its threshold aside: scores and histories
 * only, no moment (so judging never depends on a threshold or on merging:
 * detect_same_judging says so, and tune relies on it). */
static void judge(struct detectors *d, struct stream_state *st, int k, const struct window_row *row,
                  struct detector_verdict *out)
{
	const struct detector_config *c = &d->cfg.det[k];
	struct judgement j = {0};
	memset(out, 0, sizeof(*out));
	if (!c->enabled) {
		out->state = VERDICT_OFF;
		return;
	}
	if (pane_chat(&d->cfg, k)) {
		out->eligible = judge_pane(d, series_get(d, st, k), row, &j, &out->pane, &out->has_z);
		out->state = VERDICT_PANE;
	} else {
		double value;
		if (!metric_of(k, row, &value)) {
			out->state = VERDICT_NO_METRIC;
			return;
		}
		out->eligible = judge_window(d, k, series_get(d, st, k), row, value, &j);
		out->has_z = j.n_hist >= c->min_history;
		out->state = VERDICT_WINDOW;
	}
	out->value = j.value;
	out->z = j.z;
	out->mean = j.mean;
	out->sd = j.sd;
	out->n_hist = j.n_hist;
}

/* Decide a judged row under detector k's threshold and the merging:
 * the row's chat-spike fields, moments emitted or accumulated in runs. */
static int decide(struct detectors *d, struct stream_state *st, int k, struct window_row *row,
                  const struct detector_verdict *v, moment_emit_fn emit, void *ctx)
{
	const struct detector_config *c = &d->cfg.det[k];
	if (v->state == VERDICT_OFF)
		return 0;
	if (v->state == VERDICT_NO_METRIC)
		return end_run(d, row->stream, k, emit, ctx);
	struct judgement j = {v->value, v->z, v->mean, v->sd, v->n_hist,
	                      v->state == VERDICT_PANE ? &v->pane : NULL};
	bool anomalous = v->eligible && defs[k].direction * v->z > c->threshold;
	if (k == DETECTOR_CHAT_SPIKE) {
		row->has_z = v->has_z;
		row->z_score = v->has_z ? j.z : 0;
		row->is_anomaly = anomalous;
	}
	if (!anomalous)
		return end_run(d, row->stream, k, emit, ctx);

	int rc = 0;
	struct series *s = series_get(d, st, k);
	double intensity = defs[k].direction * j.z;
	json_t *meta = d->bare ? NULL : moment_metadata(d, k, row, &j);
	if (!d->cfg.merge) {
		rc = emit_moment(d, row->stream, k, row->start_us, row->end_us, 1,
		                 j.pane ? j.pane->span : 1, j.value,
		                 j.z, j.mean, j.sd, intensity, meta, emit, ctx);
		json_decref(meta);
		return rc;
	}
	if (s->run && row->k != s->run->last_k + 1) {
		rc = end_run(d, row->stream, k, emit, ctx);
		if (rc) {
			json_decref(meta);
			return rc;
		}
	}
	if (!s->run) {
		track_runs(d, st, row->stream);
		s->run = xmalloc(sizeof(*s->run));
		*s->run = (struct run){.first_k = row->k,
		                       .first_start = row->start_us, .peak_intensity = -HUGE_VAL};
	}
	struct run *r = s->run;
	r->last_k = row->k;
	r->last_end = row->end_us;
	r->windows++;
	if (intensity > r->peak_intensity) {
		json_decref(r->peak_metadata);
		r->peak_metadata = meta;
		r->peak_intensity = intensity;
		r->peak_value = j.value;
		r->peak_span = j.pane ? j.pane->span : 1;
		r->peak_z = j.z;
		r->peak_mean = j.mean;
		r->peak_stddev = j.sd;
	} else {
		json_decref(meta);
	}
	return 0;
}

static void clear_row(struct window_row *row)
{
	row->has_z = false;
	row->is_anomaly = false;
	row->z_score = 0;
}

int detectors_on_window(struct detectors *d, struct window_row *row, moment_emit_fn emit, void *ctx)
{
	struct stream_state *st = stream_state(d, row);
	int rc = 0;
	clear_row(row);
	for (int k = 0; k < DETECTOR_COUNT && !rc; k++) {
		struct detector_verdict v;
		judge(d, st, k, row, &v);
		rc = decide(d, st, k, row, &v, emit, ctx);
	}
	return rc;
}

void detectors_judge(struct detectors *d, const struct window_row *row, struct row_verdicts *out)
{
	struct stream_state *st = stream_state(d, row);
	for (int k = 0; k < DETECTOR_COUNT; k++)
		judge(d, st, k, row, &out->det[k]);
}

int detectors_decide(struct detectors *d, struct window_row *row, const struct row_verdicts *v,
                     moment_emit_fn emit, void *ctx)
{
	struct stream_state *st = stream_state(d, row);
	int rc = 0;
	clear_row(row);
	for (int k = 0; k < DETECTOR_COUNT && !rc; k++)
		rc = decide(d, st, k, row, &v->det[k], emit, ctx);
	return rc;
}

/* Everything judge() reads of the configuration: thresholds and merging
 * are decide()'s alone.  A field that judging comes to depend on (say a
 * baseline leaving out anomalous values, which would bring the threshold
 * in) must be compared here. */
bool detect_same_judging(const struct detect_config *a, const struct detect_config *b)
{
	for (int k = 0; k < DETECTOR_COUNT; k++) {
		const struct detector_config *x = &a->det[k], *y = &b->det[k];
		if (x->enabled != y->enabled)
			return false;
		if (x->enabled && (x->history != y->history || x->min_history != y->min_history ||
		                   x->min_stddev != y->min_stddev))
			return false;
	}
	const struct pane_config *p = &a->pane, *q = &b->pane;
	return a->method == b->method && p->metric == q->metric && p->history == q->history &&
	       p->min_history == q->min_history && p->dispersion == q->dispersion &&
	       p->min_excess == q->min_excess && p->min_fano == q->min_fano &&
	       p->fence == q->fence &&
	       p->long_span == q->long_span &&
	       a->window_panes == b->window_panes && a->slide_us == b->slide_us;
}

static bool has_run(const struct stream_state *st)
{
	if (st->small)
		return false;
	for (int k = 0; k < DETECTOR_COUNT; k++)
		if (st->series[k] && st->series[k]->run)
			return true;
	return false;
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return (a > b) - (a < b);
}

int detectors_on_closed(struct detectors *d, int64_t closed_k, moment_emit_fn emit, void *ctx)
{
	if (!d->cfg.merge)
		return 0;
	if (!d->runs_scanned) {
		for (uint32_t s = 0; s < d->n_streams; s++)
			if (has_run(&d->streams[s]))
				track_runs(d, &d->streams[s], s);
		d->runs_scanned = true;
	}
	/* In stream order, then detector order, as a scan of every stream
	 * ends them: moments come out in the same order. */
	if (d->n_runs > 1)
		qsort(d->runs, d->n_runs, sizeof(*d->runs), cmp_u32);
	size_t kept = 0;
	int rc = 0;
	for (size_t i = 0; i < d->n_runs; i++) {
		uint32_t s = d->runs[i];
		if (i && s == d->runs[i - 1])
			continue; /* listed again after a release and a reuse */
		struct stream_state *st = &d->streams[s];
		for (int k = 0; k < DETECTOR_COUNT && !rc && !st->small; k++) {
			const struct series *se = st->series[k];
			if (se && se->run && se->run->last_k < closed_k)
				rc = end_run(d, s, k, emit, ctx);
		}
		if (has_run(st))
			d->runs[kept++] = s;
		else
			st->in_runs = false;
	}
	d->n_runs = kept;
	return rc;
}

int detectors_flush(struct detectors *d, moment_emit_fn emit, void *ctx)
{
	return detectors_on_closed(d, INT64_MAX, emit, ctx);
}

/* --- releasing a stream ---------------------------------------------------- */

/*
 * The rule (doc/decisions.md, "Releasing a stream's state"): a stream's
 * state is equivalent to no state at all for every row still to come
 * (windows > closed_k) when
 *   - no moment run is open: a run with last_k ends at the first close
 *     past last_k (detectors_on_closed), so it holds release to last_k + 1;
 *   - pane method, chat spike: judge_pane's next row has pane
 *     p >= closed_k + 1 + n - 1 (n = W/S), and a gap p - last_pane - 1 >= H
 *     (the ring's cap) empties the history and `seen`, which is exactly a
 *     fresh series; so from closed_k >= last_pane + H + 1 - n.  A history
 *     without last_pane (loaded from a seed-method state) has no horizon;
 *   - any other series (seed method, viewer surge, sentiment drop): its
 *     baseline is the previous values however old (judge_window has no age
 *     limit), so only an empty one may go; a non-empty one never does.
 */
static void stream_pack(struct detectors *d, struct stream_state *st);

int64_t detectors_release_stream(struct detectors *d, uint32_t stream, int64_t closed_k)
{
	if (stream >= d->n_streams || !d->streams[stream].live)
		return INT64_MIN;
	struct stream_state *st = &d->streams[stream];
	int64_t wp = d->cfg.window_panes ? d->cfg.window_panes : 1, at = INT64_MIN;
	if (st->pack || st->small) { /* as its chat spike series below */
		int64_t lp = st->small ? st->sp.last_pane : st->pack->last_pane;
		at = lp + (int64_t)series_cap(&d->cfg, DETECTOR_CHAT_SPIKE) + 1 - wp;
		if (at > closed_k)
			return at;
		pack_free(st);
		id_free(d, stream);
		memset(st, 0, sizeof(*st));
		return at;
	}
	for (int k = 0; k < DETECTOR_COUNT; k++) {
		const struct series *s = st->series[k];
		if (!s)
			continue;
		if (s->run && s->run->last_k + 1 > at)
			at = s->run->last_k + 1;
		if (pane_chat(&d->cfg, k) && s->has_last) {
			if (s->last_pane > INT64_MAX / 2 || s->last_pane < INT64_MIN / 2)
				return INT64_MAX; /* not a pane of any real time: keep it */
			if (s->last_pane + (int64_t)s->cap + 1 - wp > at)
				at = s->last_pane + (int64_t)s->cap + 1 - wp;
		} else if (s->n) {
			return INT64_MAX;
		}
	}
	if (at > closed_k) {
		stream_pack(d, st);
		return at;
	}
	for (int k = 0; k < DETECTOR_COUNT; k++)
		series_free(st->series[k]);
	id_free(d, stream);
	memset(st, 0, sizeof(*st));
	return at;
}

/* The series a packed stream's pack (struct pack, or struct small_pack
 * in place) was made from; the caller owns it. */
static struct series *series_unpack(const struct detectors *d, const struct stream_state *st)
{
	const struct pack *p = st->small ? NULL : st->pack;
	struct packed_value one = {st->sp.at, st->sp.value};
	uint32_t n = p ? p->n : st->sp.n, m = p ? p->m : st->sp.value != 0;
	const struct packed_value *v = p ? p->v : &one;
	struct series *s = xcalloc(1, sizeof(*s));
	s->cap = series_cap(&d->cfg, DETECTOR_CHAT_SPIKE);
	s->sorted = true;
	series_reserve(s, n);
	for (uint32_t i = 0; i < n; i++)
		s->ring[i] = 0;
	for (uint32_t j = 0; j < m; j++)
		s->ring[v[j].at] = v[j].value;
	s->n = n;
	s->seen = p ? p->seen : st->sp.seen;
	s->has_last = true;
	s->last_pane = p ? p->last_pane : st->sp.last_pane;
	pane_sort(s, d->cfg.pane.long_span);
	return s;
}

/* Free a packed stream's pack: the stream then holds no series either. */
static void pack_free(struct stream_state *st)
{
	if (!st->small)
		free(st->pack);
	memset(&st->sp, 0, sizeof(st->sp));
	st->small = false;
	st->pack = NULL;
}

/* Pack an idle stream waiting for its release, when all it holds is the
 * pane method's chat spike history (see struct pack). */
static void stream_pack(struct detectors *d, struct stream_state *st)
{
	struct series *s = st->series[DETECTOR_CHAT_SPIKE];
	if (!pane_chat(&d->cfg, DETECTOR_CHAT_SPIKE) || !s || !s->has_last || s->run)
		return;
	for (int k = 0; k < DETECTOR_COUNT; k++)
		if (k != DETECTOR_CHAT_SPIKE && st->series[k])
			return;
	uint32_t m = 0;
	for (unsigned i = 0; i < s->n; i++)
		m += ring_at(s, i) != 0;
	if (m <= 1) {
		struct small_pack sp = {.last_pane = s->last_pane, .n = s->n, .seen = s->seen};
		for (unsigned i = 0; i < s->n; i++)
			if (ring_at(s, i) != 0) {
				sp.at = i;
				sp.value = ring_at(s, i);
			}
		series_free(s);
		st->sp = sp; /* over the series pointers, all NULL now */
		st->small = true;
		return;
	}
	struct pack *p = xmalloc(sizeof(*p) + m * sizeof(p->v[0]));
	*p = (struct pack){.last_pane = s->last_pane, .n = s->n, .seen = s->seen, .m = m};
	m = 0;
	for (unsigned i = 0; i < s->n; i++) {
		double x = ring_at(s, i);
		if (x != 0)
			p->v[m++] = (struct packed_value){i, x};
	}
	series_free(s);
	st->series[DETECTOR_CHAT_SPIKE] = NULL;
	st->pack = p;
}

static struct state *save_state(const struct detect_config *cfg, const struct stream_state *st);

struct state *detectors_checkpoint_stream(const struct detectors *d, uint32_t stream)
{
	if (stream >= d->n_streams || (!d->streams[stream].pack && !d->streams[stream].small))
		return detectors_save_stream(d, stream);
	/* The saved state of the series the pack stands for, written by the
	 * one save function (which reads only the series). */
	struct stream_state st = {0};
	st.series[DETECTOR_CHAT_SPIKE] = series_unpack(d, &d->streams[stream]);
	struct state *out = save_state(&d->cfg, &st);
	series_free(st.series[DETECTOR_CHAT_SPIKE]);
	return out;
}

/* --- state --------------------------------------------------------------- */

/* An open run's metadata (a jansson object, as moment_metadata built it)
 * into a checkpoint value and back, as text: 17 significant digits make
 * the round trip exact, so the checkpoint reads as it did when it held
 * the object itself.  Both return a new value the caller owns, NULL when
 * out of memory. */
static struct state *metadata_save(const json_t *meta)
{
	char *text = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	struct state_error e;
	struct state *v = text ? state_parse(text, strlen(text), &e) : NULL;
	free(text);
	return v;
}

static json_t *metadata_load(const struct state *v)
{
	char *text = state_dump(v);
	json_t *meta = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return meta;
}

/* Per detector {"values": [...], "run": null|{...}}, as the seed method
 * always wrote it; the pane method adds "ks" (window of each value) or
 * "last_pane" and "seen" (its chat spike). */
struct state *detectors_save_stream(const struct detectors *d, uint32_t stream)
{
	if (stream >= d->n_streams || !d->streams[stream].live)
		return NULL;
	static const struct stream_state no_series; /* a packed stream's, in place */
	const struct stream_state *st = &d->streams[stream];
	return save_state(&d->cfg, st->small ? &no_series : st);
}

/* One stream's state (its series as they are: a packed one is the
 * caller's to unpack first) as a new value the caller owns.  Reads
 * nothing of st but its series. */
static struct state *save_state(const struct detect_config *cfg, const struct stream_state *st)
{
	struct state *out = state_object();
	for (int k = 0; k < DETECTOR_COUNT; k++) {
		const struct series *s = st->series[k];
		const struct detector_config *c = &cfg->det[k];
		if (!c->enabled || !s || (!s->n && !s->run && !s->has_last))
			continue;
		struct state *values = state_array();
		for (unsigned i = 0; i < s->n; i++)
			state_append(values, state_real(s->ring[(s->head + i) % s->cap]));
		struct state *run = state_null();
		if (s->run) {
			const struct run *r = s->run;
			run = state_pack("{sIsIsIsIsisfsfsfsfsfso}", "first_k", (state_int)r->first_k,
			                 "last_k", (state_int)r->last_k, "first_start",
			                 (state_int)r->first_start, "last_end", (state_int)r->last_end,
			                 "windows", (int)r->windows, "peak_intensity", r->peak_intensity,
			                 "peak_value", r->peak_value, "peak_z", r->peak_z, "peak_mean",
			                 r->peak_mean, "peak_stddev", r->peak_stddev, "peak_metadata",
			                 r->peak_metadata ? metadata_save(r->peak_metadata)
			                                  : state_null());
			if (pane_chat(cfg, k))
				state_set(run, "peak_span", state_integer(r->peak_span));
		}
		struct state *o = state_pack("{soso}", "values", values, "run", run);
		if (s->uses_ks) {
			struct state *ks = state_array();
			for (unsigned i = 0; i < s->n; i++)
				state_append(ks, state_integer(s->ks[(s->head + i) % s->cap]));
			state_set(o, "ks", ks);
		}
		if (pane_chat(cfg, k) && s->has_last) {
			state_set(o, "last_pane", state_integer(s->last_pane));
			state_set(o, "seen", state_integer(s->seen));
		}
		state_set(out, defs[k].name, o);
	}
	return out;
}

bool detectors_load_stream(struct detectors *d, uint32_t stream, struct strview stream_id,
                           const struct state *state, struct error *err)
{
	struct window_row row = {.stream = stream, .stream_id = stream_id};
	struct stream_state *st = stream_state(d, &row);
	const char *name;
	void *it;
	struct state *v;
	state_object_foreach(state, it, name, v) {
		int k = 0;
		while (k < DETECTOR_COUNT && strcmp(defs[k].name, name))
			k++;
		const struct detector_config *c = k < DETECTOR_COUNT ? &d->cfg.det[k] : NULL;
		if (!c || !c->enabled) {
			/* A detector switched off since the state was saved: drop it. */
			continue;
		}
		struct state *values, *run, *ks = NULL, *last_pane = NULL, *seen = NULL;
		struct state_error jerr;
		if (state_unpack(v, &jerr, "{sosos?os?os?o}", "values", &values, "run",
		                 &run, "ks", &ks, "last_pane", &last_pane, "seen", &seen) ||
		    !state_is_array(values) || (ks && !state_is_array(ks)) ||
		    (last_pane && !state_is_integer(last_pane)) || (seen && !state_is_integer(seen))) {
			error_set(err, "bad detector state: %s", jerr.text);
			return false;
		}
		struct series *s = series_get(d, st, k);
		/* Keep the newest values if the history was shortened.  A state
		 * saved by the other method is read as far as it fits: a window
		 * index missing (seed -> pane) reads as "too far back to use". */
		size_t n = state_array_size(values), skip = n > s->cap ? n - s->cap : 0;
		s->n = 0;
		s->head = 0;
		series_reserve(s, (unsigned)(n - skip));
		for (size_t i = skip; i < n; i++) {
			struct state *x = state_array_get(values, i);
			struct state *kx = ks ? state_array_get(ks, i) : NULL;
			if (!state_is_number(x) || (ks && !state_is_integer(kx))) {
				error_set(err, "bad detector history value");
				return false;
			}
			if (s->uses_ks)
				s->ks[s->n] = kx ? state_integer_value(kx) : INT64_MIN / 2;
			s->ring[s->n++] = state_number_value(x);
		}
		if (pane_chat(&d->cfg, k))
			pane_sort(s, d->cfg.pane.long_span);
		s->has_last = pane_chat(&d->cfg, k) && last_pane;
		s->last_pane = last_pane ? state_integer_value(last_pane) : 0;
		if (pane_chat(&d->cfg, k)) {
			state_int sn = seen ? state_integer_value(seen) : (state_int)s->n;
			s->seen = sn < 0 ? 0 : sn > (state_int)s->cap ? s->cap : (unsigned)sn;
		}
		if (state_is_object(run)) {
			struct run got = {0}, *r = &got;
			state_int first_k, last_k, first_start, last_end;
			int windows, peak_span = 1;
			struct state *meta;
			if (state_unpack(run, &jerr, "{sIsIsIsIsisfsfsfsfsfsos?i}",
			                 "first_k", &first_k, "last_k", &last_k, "first_start",
			                 &first_start, "last_end", &last_end, "windows", &windows,
			                 "peak_intensity", &r->peak_intensity, "peak_value",
			                 &r->peak_value, "peak_z", &r->peak_z, "peak_mean",
			                 &r->peak_mean, "peak_stddev", &r->peak_stddev,
			                 "peak_metadata", &meta, "peak_span", &peak_span)) {
				error_set(err, "bad moment run in saved state: %s", jerr.text);
				return false;
			}
			r->first_k = first_k;
			r->last_k = last_k;
			r->first_start = first_start;
			r->last_end = last_end;
			r->windows = (unsigned)windows;
			r->peak_span = peak_span < 1 ? 1 : (unsigned)peak_span;
			r->peak_metadata = metadata_load(meta);
			if (s->run)
				json_decref(s->run->peak_metadata);
			else
				s->run = xmalloc(sizeof(*s->run));
			*s->run = got;
		}
	}
	return true;
}
