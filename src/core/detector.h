/*
 * detector.h — z-score anomaly detectors and moments (SPEC §5).
 *
 * A detector watches one metric of a stream's finalized windows, in window
 * order.  For each window it compares the value with the *previous* N
 * values of that stream (never including the window itself, unlike the
 * seed, whose self-inclusion capped z near 3):
 *
 *     z = (value - mean) / max(stddev, min_stddev)      population stddev
 *
 * With fewer than min_history previous values z is NULL.  A window is
 * anomalous when direction·z > threshold, and yields a moment; with merging,
 * a run of anomalous windows k, k+1, ... yields one moment when the run ends
 * (at the first window after it that closes non-anomalous or empty).
 *
 *   detector         metric          direction  moment_type
 *   chat_spike       chat_rate       up         chat_spike   (z in the row)
 *   viewer_surge     avg_viewers     up         viewer_surge
 *   sentiment_drop   avg_sentiment   down       sentiment_drop
 *
 * Windows where the metric is NULL (no viewer events, no chat) are skipped:
 * they neither get a z nor enter the history.
 */
#ifndef TELEMETRA_DETECTOR_H
#define TELEMETRA_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>


#include "core/window.h"

enum detector_kind {
	DETECTOR_CHAT_SPIKE,
	DETECTOR_VIEWER_SURGE,
	DETECTOR_SENTIMENT_DROP,
	DETECTOR_COUNT
};

const char *detector_name(enum detector_kind k);

struct detector_config {
	bool enabled;
	unsigned history;     /* N: previous windows in the baseline */
	unsigned min_history; /* 1..N: fewer previous windows => z is NULL */
	double min_stddev;    /* > 0, in the metric's unit */
	double threshold;
};

/* Which method judges the windows (SPEC §5).  Zero is the seed's, so a
 * zeroed configuration keeps the seed's behaviour. */
enum detect_method {
	DETECT_SEED, /* z of the window vs the previous N (overlapping) windows */
	DETECT_PANE, /* the newest pane vs a negative-binomial baseline of panes */
};

/* What the pane method counts in a pane. */
enum detect_metric {
	METRIC_MESSAGES,
	METRIC_CHATTERS,
	METRIC_EMOTE_CHATTERS, /* chatters with a message carrying an emote */
	METRIC_FRESH_EMOTERS,  /* the same, those fresh to the stream counting twice */
};

const char *detect_method_name(enum detect_method m);
const char *detect_metric_name(enum detect_metric m);

/* The pane method's parameters (chat_spike only; see detector.c). */
struct pane_config {
	enum detect_metric metric;
	unsigned history;     /* H: previous panes in the baseline */
	unsigned min_history; /* 1..H: fewer known panes => z is NULL */
	double dispersion;    /* floor of the negative-binomial phi, > 0 */
	double min_excess;    /* a spike needs count - level >= this */
	unsigned long_span;   /* L >= 1: also score the newest L panes' sum */
	double min_fano;      /* floor of a count's variance / mean (>= 1; below 1: none) */
	double fence;         /* K: history clipped to [q1 - K IQR - 1, q3 + K IQR + 1] */
	int64_t fresh_us;     /* fresh-emoters: the windower's fresh span (metadata only) */
};

struct detect_config {
	struct detector_config det[DETECTOR_COUNT];
	bool merge;
	enum detect_method method;
	struct pane_config pane;
	/* The windowing, which the pane method needs: panes per window (W/S)
	 * and the slide S in microseconds.  0 = unknown (seed method only). */
	unsigned window_panes;
	int64_t slide_us;
};

/* A moment, as emitted; all pointers are valid only during the callback. */
struct moment {
	uint32_t stream;
	struct strview stream_id;
	const char *type;
	int64_t time_us; /* start of the (first) anomalous window */
	int64_t end_us;  /* end of the (last) anomalous window */
	const char *description; /* NULL from bare detectors (below) */
	double intensity; /* z for spikes and surges, -z for drops */
	const char *metadata; /* compact JSON object, keys sorted; NULL when bare */
};

typedef int (*moment_emit_fn)(void *ctx, const struct moment *m);

struct detectors;

/* The caller owns the result (detectors_free). */
struct detectors *detectors_new(const struct detect_config *cfg);
void detectors_free(struct detectors *d);

/* Where a moment finds its stream's id: fn(ctx, stream) returns the id the
 * stream's rows carried, for as long as the detectors hold state for it
 * (until detectors_release_stream frees it, or detectors_free); the view
 * need stay valid only until the moment's callback returns.  The engine's
 * windower knows every stream it has rows for, so the detectors need not
 * keep a copy of each id (16 bytes a stream).  Without it (the default),
 * they keep one.  Call it before the first row. */
typedef struct strview (*stream_name_fn)(const void *ctx, uint32_t stream);
void detectors_set_names(struct detectors *d, stream_name_fn fn, const void *ctx);

/* Bare moments: description and metadata NULL, everything else as
 * usual.  Building them (a JSON object of ~25 members per anomalous
 * window, its text, the description's printf) is most of deciding an
 * anomalous row; a consumer that reads neither (tune keeps stream, type,
 * times and intensity) says so here, before the first row.  A saved
 * run then has "peak_metadata": null. */
void detectors_set_bare_moments(struct detectors *d);

/* Judge one finalized window: fills row->z_score, has_z and is_anomaly
 * (chat_spike) and emits or accumulates moments.  Rows of a stream must
 * arrive in window order. */
int detectors_on_window(struct detectors *d, struct window_row *row, moment_emit_fn emit, void *ctx);
/* Every window <= closed_k has been emitted: end runs that cannot grow. */
int detectors_on_closed(struct detectors *d, int64_t closed_k, moment_emit_fn emit, void *ctx);
/* End of a bounded input: emit every open run. */
int detectors_flush(struct detectors *d, moment_emit_fn emit, void *ctx);

/* Release a stream's detector state if nothing it holds can change any
 * row or moment from window closed_k + 1 on (every window up to closed_k
 * has been judged, and detectors_on_closed called for it).  Returns the
 * least closed_k from which that holds: at most closed_k means the state
 * was freed (the index reads as never seen); INT64_MAX means never, as the
 * state stands.  The rule is in detector.c, next to the code it depends on. */
int64_t detectors_release_stream(struct detectors *d, uint32_t stream, int64_t closed_k);
/* A stream's saved state, as detectors_save_stream writes it, also for a
 * stream whose history an earlier release check packed (the caller owns
 * the result; NULL: nothing to save). */
struct state *detectors_checkpoint_stream(const struct detectors *d, uint32_t stream);

/* z-score of value against the history hist[0..n), oldest first; the
 * baseline mean and stddev are returned too.  Exposed for unit tests. */
double zscore(const double *hist, unsigned n, double value, double min_stddev, double *mean,
              double *stddev);

/* The pane method's baseline of a history hist[0..n) of pane counts, and
 * its verdict on x, the sum of `span` panes that follow it (1 <= span <= n),
 * against the history's own span-pane sums: see detector.c.  scratch
 * holds 2n doubles (the caller's).  Exposed for unit tests. */
struct pane_verdict {
	unsigned span;     /* panes the scored value sums */
	double value;      /* the scored value */
	double excess;     /* value - span * level */
	double level;      /* robust mean count per pane (of the span-sums / span) */
	double spread;     /* of a span-sum: sqrt(M + phi M^2), M = span * level */
	double dispersion; /* phi of the span-sums used: max(floor, (F - 1) / M, estimate) */
	double p_value;    /* mid-p upper tail of x */
	double z;          /* probit(1 - p_value) */
};
void pane_judge(const double *hist, unsigned n, double x, unsigned span,
                double dispersion_floor, double min_fano, double fence, double *scratch,
                struct pane_verdict *out);

/*
 * Judging and deciding.  detectors_on_window() is two steps: *judging*
 * scores the row (z, baseline, the pane verdict) and moves the
 * histories, and depends on no threshold and not on merging; *deciding*
 * compares the score with the threshold, fills the row's chat-spike
 * fields and emits or accumulates moments.  A caller that judges the same
 * rows under many thresholds (tune) judges once, with one detectors
 * object, keeps the verdicts, and decides them with a fresh detectors
 * object per configuration: detectors_decide() on each row, in the order
 * the verdicts were made, then detectors_on_closed()/detectors_flush() as
 * usual.  The moments are those detectors_on_window() gives, bit for bit,
 * whenever detect_same_judging() holds between the two configurations.
 */
enum verdict_state {
	VERDICT_OFF,       /* the detector is disabled */
	VERDICT_NO_METRIC, /* the row has no value of its metric: ends a run */
	VERDICT_WINDOW,    /* z of the window's value */
	VERDICT_PANE,      /* the pane method's chat spike: `pane` holds the verdict */
};
struct detector_verdict {
	uint8_t state;  /* enum verdict_state */
	bool has_z;
	bool eligible;  /* anomalous if direction * z passes the threshold */
	double value, z, mean, sd;
	unsigned n_hist;
	struct pane_verdict pane;
};
struct row_verdicts {
	struct detector_verdict det[DETECTOR_COUNT];
};
void detectors_judge(struct detectors *d, const struct window_row *row, struct row_verdicts *out);
int detectors_decide(struct detectors *d, struct window_row *row, const struct row_verdicts *v,
                     moment_emit_fn emit, void *ctx);
/* Whether a and b judge every row alike (they may differ in thresholds
 * and merging only). */
bool detect_same_judging(const struct detect_config *a, const struct detect_config *b);

/* Special functions the pane method needs, written here so that the core
 * depends on nothing but libm's basics (and gives the same bits
 * everywhere).  Exposed for unit tests. */
double nb_upper_tail(double x, double mean, double phi); /* P(X >= x), x integer */
double nb_pmf(double x, double mean, double phi);
double probit(double p); /* inverse standard normal CDF, 0 < p < 1 */
double incbeta(double a, double b, double x); /* regularized I_x(a, b) */

#endif

/*
 * State, for the live daemon's checkpoints: the history and open run of
 * every detector of one stream, as a new JSON object (the caller owns it),
 * or NULL if the detectors have never seen the stream.  Loading puts it
 * back under the stream's (possibly new) index.
 */
struct state; /* core/state.h */
struct state *detectors_save_stream(const struct detectors *d, uint32_t stream);
bool detectors_load_stream(struct detectors *d, uint32_t stream, struct strview stream_id,
                           const struct state *state, struct error *err);
