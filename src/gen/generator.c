/*
 * generator.c — the traffic model of `telemetra gen`: when each stream
 * chats, who writes, how many watch, and which episodes (true moments and
 * decoys) happen where.  Serialization and the arrival order (disorder,
 * late and malformed lines) are here too; the words are in vocab.c and
 * the random numbers in rng.c.
 *
 * Model, per stream:
 *   - a mean chat rate r from the log-uniform spread of the options, and a
 *     viewer level consistent with it (about 400·r^0.8 viewers, ±25 %);
 *   - arrivals are a Hawkes process with an exponential kernel, simulated
 *     in its cluster form: "immigrant" messages arrive as a Poisson process
 *     at r·(1 − b)·(modulation), and every message triggers Poisson(b)
 *     further ones (replies, emote walls) after Exp(reply delay), so the
 *     mean stays r and 10 s counts are over-dispersed;
 *   - the modulation: a smooth random curve (±25 %, knots every 10–30 min),
 *     the viewer count (raiders chat too), persistent level shifts, the
 *     stream's start (chat ramps up from a fifth over 2–5 min, greetings)
 *     and end ("gn" waves over 2.5–5 min, then on half of the streams an
 *     outgoing raid: copy-pasted raid messages; then offline), ad breaks
 *     (chat at 10–25 % for 1–3 min, then a surge of "back" messages);
 *   - chatters: ~0.3·viewers users with Zipf(1.1) activity, so a few write
 *     most messages; they come from a global id pool, so heavy chatters show
 *     up on several streams; usernames and badges derive from the id;
 *   - single-user trains: a sub-gift train (one gifter, 3–50 messages under
 *     a second apart), a spammer (one copypasta 15–50 times in 0.5–2 min),
 *     a bot (20–60 templated lines at a fixed 1–3 s cadence);
 *   - true moments (hype, funny, fail): 2–6 s after the play, a burst of
 *     reaction messages and emotes that peaks within 2 s and decays over
 *     10–60 s, 2–5 times the stream's rate (at least 6–14 messages on the
 *     smallest streams), written by chatters drawn uniformly, so many
 *     distinct ones; reactions are mostly independent of each other (they
 *     trigger a quarter of the usual branching), so a moment's size varies
 *     like a Poisson count; incoming raids: the viewer count jumps by 30–150 %
 *     (raiders stay and slowly leave) and a burst of NEW chatters greets.
 * Moments and decoys of one stream never overlap and are 5 minutes apart;
 * none is in a stream's first 5 minutes or (with a bounded span) its last 6.
 *
 * Determinism: only + - * / sqrt and exact helpers on doubles, with our own
 * exp() and log(); contraction to fused multiply-add is turned off.
 */
#include "config.h"

#include "gen/generator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "gen/rng.h"
#include "gen/vocab.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define SEC(x) ((int64_t)((x) * 1e6))
#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Episode placement: the first WARMUP of every stream holds only its start
 * (so a detector has its history), episodes of one stream are at least GAP
 * apart, and the last TAIL of the span holds none (with a bounded span and
 * edges, the stream's end lives there). */
#define WARMUP_US SEC(300)
#define GAP_US SEC(300)
#define TAIL_US SEC(60)
#define TAIL_EDGES_US SEC(360)
/* Late events are displaced by more than D + LATE_MIN, at most
 * D + LATE_MIN + LATE_RANGE. */
#define LATE_MIN_US SEC(60)
#define LATE_RANGE_US SEC(120)
/* The rate is piecewise constant: re-evaluated at least this often. */
#define STEP_SHAPED_US SEC(1)
#define STEP_FLAT_US SEC(30)
/* Reactions to a play are mostly independent (people react to the play,
 * not to each other): they trigger this fraction of the usual branching,
 * so that a moment's size varies like a Poisson count, not like a few
 * clusters. */
#define REACT_BRANCHING 0.25
/* A bound on pending triggered messages of one stream (memory). */
#define MAX_KIDS 1000000

/* ------------------------------------------------------------------------ */
/* Generator state                                                           */

enum ep_kind {
	EP_HYPE,
	EP_FUNNY,
	EP_FAIL,
	EP_RAID,
	EP_AD_BREAK, /* the first decoy */
	EP_LEVEL_SHIFT,
	EP_GIFT_TRAIN,
	EP_SPAMMER,
	EP_BOT,
	EP_STREAM_START,
	EP_STREAM_END,
	EP_RAID_OUT,
	EP_COUNT
};
#define EP_MID_DECOYS 5 /* AD_BREAK .. BOT */

static const char *const EP_NAME[EP_COUNT] = {
    "hype", "funny", "fail", "raid", "ad_break", "level_shift", "gift_train",
    "spammer", "bot", "stream_start", "stream_end", "raid_out",
};

static bool ep_is_moment(enum ep_kind k) { return k < EP_AD_BREAK; }

struct episode {
	size_t stream;
	enum ep_kind kind;
	int64_t lead;         /* moments: play to reaction (placement only) */
	int64_t len;          /* length of the labelled interval */
	int64_t start, end;   /* the labelled interval [start, end) */
	int64_t split;        /* ad break: the return of chat */
	double peak;          /* extra messages/s at the top of the shape */
	double tau;           /* decay of the shape, seconds */
	double mult;          /* ad break: chat factor; level shift: new level */
	uint32_t count;       /* trains: number of messages */
	uint64_t user;        /* trains: the sender */
	uint64_t variant;     /* which copypasta / bot line / raid line */
	double raid_jump;     /* raid: viewers added at start */
	uint32_t raid_pool;   /* raid: number of distinct raiders */
	uint32_t index;       /* for raider and train user ids */
	bool dropped;         /* a decoy that did not fit */
};

/* A pending message: triggered by an earlier one, or part of a train. */
struct kid {
	int64_t t;
	uint64_t seq;
	uint64_t user; /* 0: pick by style */
	uint64_t variant;
	enum gen_style style;
	uint32_t ep; /* index + 1 of the raid whose raiders may write it, or 0 */
};

struct stream {
	char *id;
	size_t id_len;
	char *id_json; /* JSON string literal, quotes included */
	size_t id_json_len;
	struct rng rng;
	double base_rate; /* mean messages/s without episodes */
	double v_level;   /* viewer level */
	double log_v;     /* current log viewers (walk) */
	double raid_boost;
	int64_t last_tick; /* time of the previous viewer update */
	double mood_base, mood;
	int64_t knot_t0, knot_len;
	double knot_v0, knot_v1;
	struct zipf zipf; /* chatter ranks */
	uint32_t chatters;
	uint32_t salt;
	struct episode **ep; /* this stream's episodes, by start */
	size_t nep, ep_pos;
	struct episode **shift; /* its level shifts, by start */
	size_t nshift;
	size_t raid_seen;      /* raids already applied to the viewer count */
	int64_t live_end;      /* no events at or after (INT64_MAX: open) */
	int64_t next_imm;      /* the next immigrant message */
	struct kid *kids;      /* min-heap by (t, seq) */
	size_t nkids, capkids;
	uint64_t kseq;
	uint64_t last_count; /* viewer count of the last update */
	uint64_t seq;
};

struct src { /* an entry of the source heap */
	int64_t t;
	uint32_t id; /* stream * 2 + kind */
};

struct pend { /* a displaced line waiting for its arrival */
	int64_t key;
	uint64_t seq;
	char *text;
	size_t len;
	int64_t time;
	uint32_t stream;
	unsigned char kind, malformed, delay_class;
};

struct gen {
	struct gen_options o;
	uint64_t seed;
	size_t nstreams;
	struct stream *st;
	struct episode *eps;
	size_t neps;
	struct gen_label *labels, *decoys;
	size_t nlabels, ndecoys;
	struct vocab *vocab;
	uint64_t user_pool;
	double exp_neg_b; /* e^-branching */
	double b_react, exp_neg_br; /* the branching of reactions, e^-it */

	struct src *heap; /* 2 * nstreams entries */
	size_t nheap;
	int64_t end_time;
	int64_t frontier;
	bool gen_done;

	struct rng arrival, broken;
	struct pend *pend;
	size_t npend, cappend;
	uint64_t pseq;
	char *owned; /* text of the last pending line returned */

	/* the event being built */
	struct buf line;
	struct buf msg;
	int64_t cur_time;
	uint32_t cur_stream;
	enum gen_kind cur_kind;
	bool cur_malformed;
	int64_t ts_sec;
	char ts[TIMESTAMP_BUFSZ];

	struct gen_stats stats;
};

void gen_options_default(struct gen_options *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->streams = 10;
	o->stream_ids = NULL;
	o->start_us = GEN_DEFAULT_START_US;
	o->duration_us = SEC(600);
	o->max_events = 0;
	o->rate_min = 1.0 / 60.0;
	o->rate_max = 30.0;
	o->chat_rate = 0.0;
	o->branching = 0.5;
	o->reply_delay_us = SEC(3);
	o->decoy_rate = 1.0;
	o->edges = true;
	o->viewer_interval_us = SEC(5);
	o->spikes = 0;
	o->disorder = 0.01;
	o->late = 0.001;
	o->malformed = 0.001;
	o->watermark_delay_us = SEC(10);
}

/* Mean factor of the ±25 % smooth modulation of chat rates (about 1.01). */
#define MODULATION_MEAN 1.01

/* The rate of stratum k of n over [lo, hi] (log-uniform middles). */
static double stratum_rate(const struct gen_options *o, size_t k, size_t n)
{
	double a = det_log(o->rate_min), b = det_log(o->rate_max);
	return det_exp(a + (b - a) * ((double)k + 0.5) / (double)n);
}

/* Mean per-stream rate of the options (exact for the strata). */
static double mean_rate(const struct gen_options *o)
{
	if (o->chat_rate > 0.0)
		return o->chat_rate;
	double sum = 0.0;
	for (size_t k = 0; k < o->streams; k++)
		sum += stratum_rate(o, k, o->streams);
	return sum / (double)o->streams;
}

double gen_expected_rate(const struct gen_options *o)
{
	double viewer = o->viewer_interval_us > 0 ? 1e6 / (double)o->viewer_interval_us : 0.0;
	return (double)o->streams * (mean_rate(o) * MODULATION_MEAN + viewer);
}

/* ------------------------------------------------------------------------ */
/* Text helpers                                                              */

static inline void add(struct buf *b, const char *s, size_t n) { buf_add(b, s, n); }
#define ADDL(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

static void add_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	add(b, tmp + i, sizeof(tmp) - i);
}

static void add_ts(struct gen *g, struct buf *b, int64_t us)
{
	int64_t sec = floor_div(us, USEC_PER_SEC);
	int64_t frac = us - sec * USEC_PER_SEC;
	if (sec != g->ts_sec) {
		timestamp_format_rfc3339(sec * USEC_PER_SEC, g->ts);
		g->ts_sec = sec;
	}
	char *f = g->ts + 20; /* "YYYY-MM-DDTHH:MM:SS." */
	for (int i = 5; i >= 0; i--) {
		f[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	add(b, g->ts, 27);
}

static void add_uuid(struct buf *b, uint64_t a, uint64_t c)
{
	static const char hex[] = "0123456789abcdef";
	char u[36];
	a = (a & ~UINT64_C(0xF000)) | UINT64_C(0x4000);                        /* version 4 */
	c = (c & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);                  /* variant 10 */
	int k = 0;
	for (int i = 15; i >= 0; i--) {
		if (k == 8 || k == 13 || k == 18)
			u[k++] = '-';
		u[k++] = hex[(a >> (i * 4)) & 15];
	}
	for (int i = 15; i >= 0; i--) {
		if (k == 18 || k == 23)
			u[k++] = '-';
		u[k++] = hex[(c >> (i * 4)) & 15];
	}
	add(b, u, 36);
}

/* ------------------------------------------------------------------------ */
/* Pending messages of a stream (min-heap by time, then sequence)            */

static inline bool kid_less(const struct kid *a, const struct kid *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void kid_push(struct stream *s, struct kid k)
{
	if (s->nkids >= MAX_KIDS || k.t >= s->live_end)
		return;
	k.seq = s->kseq++;
	s->kids = grow_array(s->kids, sizeof(*s->kids), &s->capkids, s->nkids + 1);
	size_t i = s->nkids++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!kid_less(&k, &s->kids[parent]))
			break;
		s->kids[i] = s->kids[parent];
		i = parent;
	}
	s->kids[i] = k;
}

static struct kid kid_pop(struct stream *s)
{
	struct kid top = s->kids[0];
	struct kid last = s->kids[--s->nkids];
	size_t n = s->nkids, i = 0;
	for (;;) {
		size_t l = 2 * i + 1, m = l;
		if (l >= n)
			break;
		if (l + 1 < n && kid_less(&s->kids[l + 1], &s->kids[l]))
			m = l + 1;
		if (!kid_less(&s->kids[m], &last))
			break;
		s->kids[i] = s->kids[m];
		i = m;
	}
	if (n)
		s->kids[i] = last;
	return top;
}

/* ------------------------------------------------------------------------ */
/* Stream dynamics                                                           */

/* The episode in effect at t (they never overlap), or NULL; advances the
 * stream's cursor, so t must not decrease between calls. */
static struct episode *current_episode(struct stream *s, int64_t t)
{
	while (s->ep_pos < s->nep && s->ep[s->ep_pos]->end <= t)
		s->ep_pos++;
	if (s->ep_pos < s->nep && s->ep[s->ep_pos]->start <= t)
		return s->ep[s->ep_pos];
	return NULL;
}

static double modulation(struct stream *s, int64_t t)
{
	while (t >= s->knot_t0 + s->knot_len) {
		s->knot_t0 += s->knot_len;
		s->knot_len = SEC(rng_range(&s->rng, 600.0, 1800.0));
		s->knot_v0 = s->knot_v1;
		s->knot_v1 = rng_range(&s->rng, -0.25, 0.25);
	}
	double u = (double)(t - s->knot_t0) / (double)s->knot_len;
	double w = u * u * (3.0 - 2.0 * u);
	return det_exp(s->knot_v0 + (s->knot_v1 - s->knot_v0) * w);
}

/* The product of the level shifts begun by t; each takes 20 s. */
static double level_at(const struct stream *s, int64_t t)
{
	double lvl = 1.0;
	for (size_t i = 0; i < s->nshift && s->shift[i]->start <= t; i++) {
		double u = clampd((double)(t - s->shift[i]->start) / 20e6, 0.0, 1.0);
		lvl *= 1.0 + (s->shift[i]->mult - 1.0) * u;
	}
	return lvl;
}

/* A burst: a quarter of its top at `from`, the top 2 s later, then a decay
 * e^(-(u - 2)/tau); its integral over [0, d] is 1.25 + tau (1 - e^(-(d-2)/tau)). */
static double shape(int64_t from, int64_t t, double tau)
{
	double u = (double)(t - from) / 1e6;
	if (u < 2.0)
		return u < 0 ? 0.0 : 0.25 + 0.375 * u;
	return det_exp(-(u - 2.0) / tau);
}

/* The rates of a stream at t: background (chat as usual) and extra (the
 * episode's own messages, of style *style), and the time up to which they
 * hold. */
struct rates {
	double bg, extra;
	enum gen_style style;
	struct episode *ep;
	int64_t until;
};

static void rates_at(struct stream *s, int64_t t, struct rates *r)
{
	double viewers = det_exp(s->log_v);
	double vf = clampd(sqrt(1.0 + s->raid_boost / (viewers > 1.0 ? viewers : 1.0)), 1.0, 4.0);
	double bg = s->base_rate * modulation(s, t) * vf * level_at(s, t);
	double extra = 0.0;
	enum gen_style style = STY_NORMAL;
	int64_t step = STEP_FLAT_US;
	int64_t until = INT64_MAX;
	struct episode *k = current_episode(s, t);
	if (k) {
		double u = (double)(t - k->start) / (double)(k->end - k->start);
		until = k->end;
		switch (k->kind) {
		case EP_HYPE:
		case EP_FUNNY:
		case EP_FAIL:
		case EP_RAID:
			extra = k->peak * shape(k->start, t, k->tau);
			style = k->kind == EP_HYPE    ? STY_HYPE
			        : k->kind == EP_FUNNY ? STY_FUNNY
			        : k->kind == EP_FAIL  ? STY_FAIL
			                              : STY_RAID_IN;
			step = STEP_SHAPED_US;
			break;
		case EP_AD_BREAK:
			if (t < k->split) {
				bg *= k->mult;
				until = k->split;
			} else {
				extra = k->peak * shape(k->split, t, k->tau);
				style = STY_AD_RETURN;
				step = STEP_SHAPED_US;
			}
			break;
		case EP_STREAM_START:
			bg *= 0.2 + 0.8 * u;
			extra = k->peak * (1.0 - u);
			style = STY_GREET;
			step = SEC(5);
			break;
		case EP_STREAM_END:
			bg *= 1.0 - 0.5 * u;
			extra = k->peak;
			style = STY_GN;
			step = SEC(5);
			break;
		case EP_RAID_OUT:
			bg *= 0.3;
			extra = k->peak;
			style = STY_RAID_OUT;
			break;
		case EP_LEVEL_SHIFT:
			step = SEC(2); /* the level ramps */
			break;
		case EP_GIFT_TRAIN:
		case EP_SPAMMER:
		case EP_BOT:
		case EP_COUNT: break; /* trains are pending messages */
		}
	} else if (s->ep_pos < s->nep) {
		until = s->ep[s->ep_pos]->start;
	}
	if (t + step < until)
		until = t + step;
	if (s->live_end < until)
		until = s->live_end;
	r->bg = bg;
	r->extra = extra;
	r->style = style;
	r->ep = k;
	r->until = until;
}

/* The next immigrant after t (INT64_MAX when the stream is offline). */
static int64_t next_immigrant(struct gen *g, struct stream *s, int64_t t)
{
	double keep = 1.0 - g->o.branching;
	for (;;) {
		if (t >= s->live_end)
			return INT64_MAX;
		struct rates r;
		rates_at(s, t, &r);
		double lam = r.bg * keep + r.extra * (r.ep && ep_is_moment(r.ep->kind) ? 1.0 : keep);
		double gap = lam > 0.0 ? rng_exp(&s->rng) / lam : 1e9;
		if (gap > 1e6)
			gap = 1e6;
		int64_t cand = t + (int64_t)(gap * 1e6);
		if (cand >= r.until) { /* memoryless: restart at the rate change */
			t = r.until;
			continue;
		}
		return cand > t ? cand : t + 1;
	}
}

/* Viewer target of a stream at t: its level, shifted, ramping at the start
 * and falling at the end. */
static double viewer_target(struct stream *s, int64_t t, const struct episode *k)
{
	double v = s->v_level * level_at(s, t);
	if (k && k->start <= t && t < k->end) {
		double u = (double)(t - k->start) / (double)(k->end - k->start);
		if (k->kind == EP_STREAM_START)
			v *= 0.3 + 0.7 * u;
		else if (k->kind == EP_STREAM_END)
			v *= 1.0 - 0.4 * u;
		else if (k->kind == EP_RAID_OUT)
			v *= 0.5;
	}
	return v > 1.0 ? v : 1.0;
}

/* Viewer model and mood, advanced at every viewer update. */
static uint64_t viewer_tick(struct stream *s, int64_t t)
{
	double dt = (double)(t - s->last_tick) / 1e6;
	if (dt < 0.0)
		dt = 0.0;
	s->last_tick = t;
	double sq = sqrt(dt);
	struct episode *k = current_episode(s, t);
	double lv = det_log(viewer_target(s, t, k));
	double pull = clampd(0.02 * dt, 0.0, 1.0);
	s->log_v += -pull * (s->log_v - lv) + 0.01 * sq * rng_normal(&s->rng);
	s->raid_boost *= det_exp(-dt / 1800.0);
	s->mood += (s->mood_base - s->mood) * dt / 600.0 + 0.0231 * sq * rng_normal(&s->rng);
	s->mood = clampd(s->mood, -1.0, 1.0);
	/* raids that have started since the previous tick */
	for (size_t i = s->raid_seen; i < s->nep && s->ep[i]->start <= t; i++) {
		if (s->ep[i]->kind == EP_RAID)
			s->raid_boost += s->ep[i]->raid_jump;
		s->raid_seen = i + 1;
	}
	double v = det_exp(s->log_v) + s->raid_boost;
	return (uint64_t)(v + 0.5);
}

/* A regular chatter of rank `rank` -> user id: a fixed scramble of the
 * global pool, so that busy chatters of one stream are sometimes busy on
 * another one too. */
static uint64_t regular(const struct gen *g, const struct stream *s, uint64_t rank)
{
	return 1000 + mix64(g->seed ^ ((uint64_t)s->salt << 32) ^ rank) % g->user_pool;
}

/* Who writes a message of this style: a Zipf-ranked regular for ordinary
 * chat, any of the stream's chatters alike for reactions (so a moment draws
 * many distinct ones), a new user for raiders. */
static uint64_t pick_user(struct gen *g, struct stream *s, enum gen_style style, const struct episode *k)
{
	switch (style) {
	case STY_RAID_IN:
		if (k && k->kind == EP_RAID && rng_chance(&s->rng, 0.85))
			return 1000 + g->user_pool + (uint64_t)k->index * 100000 + rng_below(&s->rng, k->raid_pool);
		return regular(g, s, rng_below(&s->rng, s->chatters));
	case STY_HYPE:
	case STY_FUNNY:
	case STY_FAIL:
	case STY_GREET:
	case STY_GN:
	case STY_RAID_OUT: return regular(g, s, rng_below(&s->rng, s->chatters));
	default: return regular(g, s, zipf_draw(&s->zipf, &s->rng));
	}
}

/* ------------------------------------------------------------------------ */
/* Serialization, with optional faults                                       */

enum fault {
	F_NONE,
	F_NOT_JSON,
	F_TRUNCATED,
	F_NOT_OBJECT,
	F_NO_STREAM,
	F_NO_TIMESTAMP,
	F_NO_REQUIRED,
	F_BAD_TIMESTAMP,
	F_NEGATIVE,
	F_WRONG_TYPE,
	F_BAD_UTF8,
	F_COUNT
};

static const char *const BAD_TIMESTAMPS[] = {
	"\"2025-13-45T12:00:00Z\"", "\"2025-11-23T25:61:00Z\"", "\"2025-11-23T12:00:60Z\"",
	"\"23/11/2025 12:00:00\"",  "\"yesterday\"",            "\"\"",
	"\"2025-11-23\"",           "\"0000-01-01T00:00:00Z\"", "1e400",
	"\"2025-11-23T12:00:00.123456Zjunk\"",
};

static const char *const NOT_JSON[] = {
	"<html><head><title>502 Bad Gateway</title></head></html>",
	"ERROR: connection reset by peer",
	"{'type': 'chat', 'stream_id': 'stream_001', 'message': 'hi'}",
	"{\"type\":\"chat\" \"stream_id\":\"stream_001\"}",
	"chat stream_001 u42 hello world",
	"{\"type\":\"viewer\",\"viewer_count\":12,}",
	"}{",
	"NaN",
	"{\"message\":\"unterminated}",
};

static const char *const NOT_OBJECT[] = {
	"null", "42", "true", "\"chat\"", "[]", "[{\"type\":\"chat\"}]",
};

static void add_stream_field(struct gen *g, struct buf *b, struct stream *s, enum fault f)
{
	if (f == F_NO_STREAM)
		return;
	ADDL(b, ",\"stream_id\":");
	if (f == F_WRONG_TYPE && rng_chance(&g->broken, 0.3)) {
		static const char *const wrong[] = {"true", "[\"stream_001\"]", "{\"id\":1}", "1.5"};
		const char *w = wrong[rng_below(&g->broken, NITEMS(wrong))];
		add(b, w, strlen(w));
	} else if (f == F_BAD_UTF8) {
		ADDL(b, "\"stream_\xC3\x28\xFF");
		add(b, s->id_json + 1, s->id_json_len - 1);
	} else {
		add(b, s->id_json, s->id_json_len);
	}
}

static void add_timestamp_field(struct gen *g, struct buf *b, int64_t t, enum fault f)
{
	if (f == F_NO_TIMESTAMP)
		return;
	ADDL(b, ",\"timestamp\":");
	if (f == F_BAD_TIMESTAMP) {
		const char *bad = BAD_TIMESTAMPS[rng_below(&g->broken, NITEMS(BAD_TIMESTAMPS))];
		add(b, bad, strlen(bad));
	} else {
		buf_addc(b, '"');
		add_ts(g, b, t);
		buf_addc(b, '"');
	}
}

static void add_event_head(struct gen *g, struct buf *b, struct stream *s, int64_t t, const char *type,
                           uint64_t kindbit, enum fault f)
{
	uint64_t h = mix64(g->seed ^ mix64(((uint64_t)(s - g->st) << 1 | kindbit) + (s->seq << 24)));
	ADDL(b, "{\"event_id\":\"");
	add_uuid(b, h, mix64(h ^ UINT64_C(0x5bd1e995)));
	ADDL(b, "\",\"type\":\"");
	add(b, type, strlen(type));
	buf_addc(b, '"');
	if (f == F_WRONG_TYPE && rng_chance(&g->broken, 0.2)) {
		ADDL(b, ",\"timestamp\":true");
	} else {
		add_timestamp_field(g, b, t, f);
	}
	add_stream_field(g, b, s, f);
}

/* Turn a complete line into one of the whole-line faults. */
static void break_line(struct gen *g, struct buf *b, enum fault f)
{
	if (f == F_TRUNCATED) {
		size_t cut = 1 + (size_t)rng_below(&g->broken, b->len > 2 ? b->len - 2 : 1);
		b->len = cut;
		b->data[cut] = '\0';
	} else if (f == F_NOT_JSON) {
		const char *s = NOT_JSON[rng_below(&g->broken, NITEMS(NOT_JSON))];
		buf_reset(b);
		add(b, s, strlen(s));
	} else if (f == F_NOT_OBJECT) {
		if (rng_chance(&g->broken, 0.5)) { /* the event wrapped in an array */
			char *copy = xstrndup(b->data, b->len);
			size_t n = b->len;
			buf_reset(b);
			buf_addc(b, '[');
			add(b, copy, n);
			buf_addc(b, ']');
			free(copy);
		} else {
			const char *s = NOT_OBJECT[rng_below(&g->broken, NITEMS(NOT_OBJECT))];
			buf_reset(b);
			add(b, s, strlen(s));
		}
	}
}


/* The chat event of (style, user, variant) into g->line. */
static void build_chat(struct gen *g, struct stream *s, int64_t t, enum gen_style style, uint64_t uid,
                       uint64_t variant, enum fault f)
{
	struct buf *b = &g->line;
	const struct word *emo[VOCAB_MAX_EMOTES];
	size_t nemo = vocab_message(g->vocab, &s->rng, style, s->mood, variant, &g->msg, emo);

	buf_reset(b);
	add_event_head(g, b, s, t, "chat", 0, f);
	if (!(f == F_NO_REQUIRED && rng_chance(&g->broken, 0.5))) {
		ADDL(b, ",\"user_id\":");
		if (f == F_WRONG_TYPE && rng_chance(&g->broken, 0.5)) {
			ADDL(b, "null");
		} else {
			ADDL(b, "\"u");
			add_u64(b, uid);
			buf_addc(b, '"');
		}
		ADDL(b, ",\"username\":\"");
		vocab_username(b, uid);
		buf_addc(b, '"');
	} else {
		f = F_NONE; /* user_id dropped, keep the message (username stays out too) */
		ADDL(b, ",\"user\":\"u");
		add_u64(b, uid);
		buf_addc(b, '"');
	}
	if (f == F_NO_REQUIRED) {
		/* no message field */
	} else if (f == F_WRONG_TYPE) {
		ADDL(b, ",\"message\":");
		add_u64(b, 1 + rng_below(&g->broken, 99999));
	} else {
		ADDL(b, ",\"message\":\"");
		add(b, g->msg.data ? g->msg.data : "", g->msg.len);
		buf_addc(b, '"');
	}
	ADDL(b, ",\"emotes\":[");
	for (size_t i = 0; i < nemo; i++) {
		if (i)
			buf_addc(b, ',');
		buf_addc(b, '"');
		add(b, emo[i]->s, emo[i]->len);
		buf_addc(b, '"');
	}
	buf_addc(b, ']');
	vocab_badges(b, uid, s->salt);
	buf_addc(b, '}');
}

/* The next chat message of a stream: the earlier of its next immigrant and
 * its first pending message (INT64_MAX: none). */
static int64_t next_chat_time(const struct stream *s)
{
	int64_t t = s->next_imm;
	if (s->nkids && s->kids[0].t < t)
		t = s->kids[0].t;
	return t;
}

/* Emit the stream's next chat message (at time t) into g->line and plan
 * what it triggers. */
static void emit_chat(struct gen *g, struct stream *s, int64_t t, enum fault f)
{
	enum gen_style style;
	uint64_t uid, variant = 0;
	struct episode *k = NULL;
	if (s->nkids && s->kids[0].t <= s->next_imm) {
		struct kid c = kid_pop(s);
		style = c.style;
		variant = c.variant;
		k = c.ep ? &g->eps[c.ep - 1] : NULL;
		uid = c.user ? c.user : pick_user(g, s, style, k);
	} else {
		struct rates r;
		rates_at(s, t, &r);
		/* which part of the immigrant rate (see next_immigrant()) this is */
		double keep = 1.0 - g->o.branching;
		double ex = r.extra * (r.ep && ep_is_moment(r.ep->kind) ? 1.0 : keep);
		bool extra = ex > 0.0 && rng_unif(&s->rng) * (r.bg * keep + ex) < ex;
		style = extra ? r.style : STY_NORMAL;
		k = r.ep;
		if (style == STY_RAID_OUT)
			variant = k->variant;
		uid = pick_user(g, s, style, k);
		s->next_imm = next_immigrant(g, s, t);
	}
	build_chat(g, s, t, style, uid, variant, f);

	/* what this message triggers: replies, emote walls, and the same
	 * reaction copied by others */
	if (style == STY_BOT || !(g->o.branching > 0.0))
		return;
	bool reaction = style == STY_HYPE || style == STY_FUNNY || style == STY_FAIL || style == STY_RAID_IN;
	unsigned n = reaction ? rng_poisson_small(&s->rng, g->b_react, g->exp_neg_br)
	                      : rng_poisson_small(&s->rng, g->o.branching, g->exp_neg_b);
	for (unsigned i = 0; i < n; i++) {
		struct kid c = {0};
		c.t = t + 1 + (int64_t)(rng_exp(&s->rng) * (double)g->o.reply_delay_us);
		switch (style) {
		case STY_HYPE:
		case STY_FUNNY:
		case STY_FAIL:
		case STY_RAID_IN:
		case STY_GREET:
		case STY_GN:
		case STY_RAID_OUT:
			c.style = rng_chance(&s->rng, 0.7) ? style : STY_REPLY;
			c.variant = variant;
			c.ep = k ? (uint32_t)(k - g->eps) + 1 : 0;
			break;
		case STY_WALL:
			c.style = rng_chance(&s->rng, 0.5) ? STY_WALL : STY_REPLY;
			c.variant = variant;
			break;
		default:
			c.style = rng_chance(&s->rng, 0.15) ? STY_WALL : STY_REPLY;
			c.variant = rng_below(&s->rng, vocab_wall_emotes());
			break;
		}
		if (c.style == STY_REPLY)
			c.ep = 0;
		kid_push(s, c);
	}
}
static void build_viewer(struct gen *g, struct stream *s, int64_t t, uint64_t count, enum fault f)
{
	struct buf *b = &g->line;
	buf_reset(b);
	add_event_head(g, b, s, t, "viewer", 1, f);
	if (f == F_NO_REQUIRED)
		ADDL(b, ",\"viewers\":");
	else
		ADDL(b, ",\"viewer_count\":");
	if (f == F_NEGATIVE) {
		buf_addc(b, '-');
		add_u64(b, 1 + count);
	} else if (f == F_WRONG_TYPE) {
		switch (rng_below(&g->broken, 3)) {
		case 0:
			buf_addc(b, '"');
			add_u64(b, count);
			buf_addc(b, '"');
			break;
		case 1:
			add_u64(b, count);
			ADDL(b, ".5");
			break;
		default:
			ADDL(b, "null");
			break;
		}
	} else {
		add_u64(b, count);
	}
	buf_addc(b, '}');
}

/* ------------------------------------------------------------------------ */
/* Heaps                                                                     */

static inline bool src_less(const struct src *a, const struct src *b)
{
	return a->t < b->t || (a->t == b->t && a->id < b->id);
}

static void src_sift_down(struct src *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && src_less(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && src_less(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct src t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static inline bool pend_less(const struct pend *a, const struct pend *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void pend_push(struct gen *g, struct pend p)
{
	g->pend = grow_array(g->pend, sizeof(*g->pend), &g->cappend, g->npend + 1);
	size_t i = g->npend++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pend_less(&p, &g->pend[parent]))
			break;
		g->pend[i] = g->pend[parent];
		i = parent;
	}
	g->pend[i] = p;
}

static struct pend pend_pop(struct gen *g)
{
	struct pend top = g->pend[0];
	struct pend last = g->pend[--g->npend];
	size_t n = g->npend, i = 0;
	for (;;) {
		size_t l = 2 * i + 1, m = l;
		if (l >= n)
			break;
		if (l + 1 < n && pend_less(&g->pend[l + 1], &g->pend[l]))
			m = l + 1;
		if (!pend_less(&g->pend[m], &last))
			break;
		g->pend[i] = g->pend[m];
		i = m;
	}
	if (n)
		g->pend[i] = last;
	return top;
}

/* ------------------------------------------------------------------------ */
/* Setup: where the episodes go                                              */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_episode(const void *a, const void *b)
{
	const struct episode *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->stream > y->stream) - (x->stream < y->stream);
}

static void shuffle(size_t *v, size_t n, struct rng *r)
{
	for (size_t i = n; i > 1; i--) { /* Fisher–Yates */
		size_t j = (size_t)rng_below(r, i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Draw the kind-specific shape of a mid-stream episode (not yet placed):
 * its lead and length. */
static void draw_episode(struct episode *k, const struct stream *s, struct rng *r)
{
	double base = s->base_rate;
	switch (k->kind) {
	case EP_HYPE:
	case EP_FUNNY:
	case EP_FAIL: {
		double dur = rng_range(r, 10.0, 60.0);
		k->lead = SEC(rng_range(r, 2.0, 6.0));
		k->len = SEC(dur);
		k->tau = dur / 3.0;
		double msgs = rng_range(r, 2.0, 5.0) * base * dur;
		double floor_msgs = rng_range(r, 6.0, 14.0);
		k->peak = msgs > floor_msgs ? msgs : floor_msgs; /* total, for now */
		break;
	}
	case EP_RAID: {
		double dur = rng_range(r, 20.0, 60.0);
		k->lead = SEC(rng_range(r, 1.0, 3.0)); /* the raid lands, chat greets */
		k->len = SEC(dur);
		k->tau = dur / 2.5;
		k->raid_jump = s->v_level * rng_range(r, 0.3, 1.5);
		if (k->raid_jump < 8.0)
			k->raid_jump = 8.0 + rng_range(r, 0.0, 12.0);
		k->raid_pool = (uint32_t)clampd(k->raid_jump * 0.3, 8.0, 99999.0);
		double msgs = (double)k->raid_pool * rng_range(r, 0.4, 0.8);
		double floor_msgs = rng_range(r, 8.0, 16.0);
		k->peak = msgs > floor_msgs ? msgs : floor_msgs;
		break;
	}
	case EP_AD_BREAK: {
		double brk = rng_range(r, 60.0, 180.0), ret = rng_range(r, 20.0, 45.0);
		k->len = SEC(brk + ret);
		k->split = SEC(brk); /* relative until placed */
		k->mult = rng_range(r, 0.1, 0.25);
		k->tau = ret / 3.0;
		k->peak = rng_range(r, 0.8, 1.5) * base; /* messages/s at the top */
		break;
	}
	case EP_LEVEL_SHIFT:
		k->len = SEC(120);
		k->mult = rng_range(r, 1.5, 2.2);
		if (rng_chance(r, 0.5)) /* as often down as up, by as much */
			k->mult = 1.0 / k->mult;
		break;
	case EP_GIFT_TRAIN: {
		double cap = 5.0 + (base * 15.0 < 42.0 ? base * 15.0 : 42.0);
		k->count = 3 + (uint32_t)rng_below(r, (uint64_t)cap);
		k->tau = rng_range(r, 0.3, 1.0); /* spacing, s */
		k->len = SEC((double)k->count * k->tau + 1.0);
		break;
	}
	case EP_SPAMMER:
		k->count = 15 + (uint32_t)rng_below(r, 36);
		k->len = SEC(rng_range(r, 30.0, 120.0));
		k->variant = rng_next(r);
		break;
	case EP_BOT:
		k->count = 20 + (uint32_t)rng_below(r, 41);
		k->tau = rng_range(r, 1.0, 3.0); /* period, s */
		k->len = SEC((double)k->count * k->tau + 1.0);
		k->variant = rng_next(r) & ~UINT64_C(0xFFFFFFFF);
		break;
	case EP_STREAM_START:
	case EP_STREAM_END:
	case EP_RAID_OUT:
	case EP_COUNT: break;
	}
}

/* Moments: the peak that gives the drawn total of messages (immigrants
 * only: the triggered ones, at the branching of reactions, make up the
 * rest).  The peak is in immigrants/s. */
static void finish_moment(struct episode *k, double branching)
{
	double dur = (double)k->len / 1e6;
	double integral = 1.25 + k->tau * (1.0 - det_exp(-(dur - 2.0) / k->tau));
	k->peak = k->peak * (1.0 - branching) / integral;
}

/* Plan moments and decoys over streams and [start, start + span).  Returns
 * false (with *err) when the moments do not fit; decoys that do not fit
 * are dropped. */
static bool plan_episodes(struct gen *g, int64_t span, bool bounded, struct error *err)
{
	struct rng r;
	rng_seed(&r, g->seed, UINT64_C(0xC0FFEE));
	size_t n = g->nstreams;
	size_t *order = xmalloc(n * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	shuffle(order, n, &r);

	size_t nmom = g->o.spikes;
	double hours = (double)span / 3.6e9 * (double)n;
	size_t ndec = (size_t)(g->o.decoy_rate * hours + 0.5);
	if (ndec > 1000000)
		ndec = 1000000;
	size_t cap = nmom + ndec + (g->o.edges ? 3 * n : 0);
	g->eps = xcalloc(cap ? cap : 1, sizeof(struct episode));
	g->neps = 0;
	for (size_t i = 0; i < nmom; i++) {
		struct episode *k = &g->eps[g->neps++];
		k->stream = order[i % n];
		double u = rng_unif(&r);
		k->kind = u < 0.3 ? EP_HYPE : u < 0.55 ? EP_FUNNY : u < 0.8 ? EP_FAIL : EP_RAID;
		draw_episode(k, &g->st[k->stream], &r);
	}
	size_t kinds[EP_MID_DECOYS];
	for (size_t i = 0; i < EP_MID_DECOYS; i++)
		kinds[i] = EP_AD_BREAK + i;
	shuffle(kinds, EP_MID_DECOYS, &r);
	for (size_t i = 0; i < ndec; i++) {
		struct episode *k = &g->eps[g->neps++];
		/* offset by the moments so that decoys go first to streams with fewer */
		k->stream = order[(nmom + i) % n];
		k->kind = (enum ep_kind)kinds[i % EP_MID_DECOYS];
		draw_episode(k, &g->st[k->stream], &r);
	}

	int64_t tail = bounded && g->o.edges ? TAIL_EDGES_US : TAIL_US;
	int64_t *u = xmalloc((g->neps ? g->neps : 1) * sizeof(int64_t));
	size_t *mine = xmalloc((g->neps ? g->neps : 1) * sizeof(size_t));
	bool ok = true;
	for (size_t s = 0; s < n && ok; s++) {
		size_t cnt = 0, moments = 0;
		int64_t need = WARMUP_US + tail, need_moments = WARMUP_US + tail;
		for (size_t i = 0; i < g->neps; i++)
			if (g->eps[i].stream == s) {
				int64_t foot = g->eps[i].lead + g->eps[i].len + (cnt ? GAP_US : 0);
				if (ep_is_moment(g->eps[i].kind)) {
					need_moments += g->eps[i].lead + g->eps[i].len + (moments ? GAP_US : 0);
					moments++;
				}
				need += foot;
				mine[cnt++] = i;
			}
		if (!cnt)
			continue;
		if (need_moments > span && moments) {
			error_set(err,
			          "%u moments do not fit: stream %s gets %zu of them and would need %.0f s, but "
			          "the span is %.0f s (the first %.0f s and the last %.0f s of a stream hold "
			          "none and moments of a stream are %.0f s apart); use fewer --spikes, more "
			          "--streams or a longer --duration / more --events",
			          g->o.spikes, g->st[s].id, moments, (double)need_moments / 1e6, (double)span / 1e6,
			          (double)WARMUP_US / 1e6, (double)tail / 1e6, (double)GAP_US / 1e6);
			ok = false;
			break;
		}
		/* drop decoys, the last first, until the rest fits */
		for (size_t j = cnt; j-- > 0 && need > span;) {
			struct episode *k = &g->eps[mine[j]];
			if (ep_is_moment(k->kind))
				continue;
			k->dropped = true;
			need -= k->lead + k->len + GAP_US;
		}
		size_t kept = 0;
		need = WARMUP_US + tail;
		for (size_t j = 0; j < cnt; j++)
			if (!g->eps[mine[j]].dropped) {
				struct episode *k = &g->eps[mine[j]];
				need += k->lead + k->len + (kept ? GAP_US : 0);
				mine[kept++] = mine[j];
			}
		cnt = kept;
		shuffle(mine, cnt, &r);
		int64_t slack = span - need;
		if (slack < 0)
			slack = 0;
		for (size_t j = 0; j < cnt; j++)
			u[j] = (int64_t)(rng_unif(&r) * (double)slack);
		qsort(u, cnt, sizeof(int64_t), cmp_i64);
		int64_t off = g->o.start_us + WARMUP_US;
		for (size_t j = 0; j < cnt; j++) {
			struct episode *k = &g->eps[mine[j]];
			k->start = off + u[j] + k->lead;
			k->end = k->start + k->len;
			if (k->kind == EP_AD_BREAK)
				k->split += k->start;
			off += k->lead + k->len + GAP_US; /* u[] are offsets into the slack */
		}
	}
	free(u);
	free(mine);
	free(order);
	if (!ok)
		return false;
	/* compact away the dropped decoys */
	size_t w = 0;
	for (size_t i = 0; i < g->neps; i++)
		if (!g->eps[i].dropped)
			g->eps[w++] = g->eps[i];
	g->neps = w;
	for (size_t i = 0; i < g->neps; i++)
		if (ep_is_moment(g->eps[i].kind))
			finish_moment(&g->eps[i], g->o.branching * REACT_BRANCHING);
	return true;
}

/* Stream start, and with a bounded span the end (and some outgoing raids):
 * appended to g->eps (room was made by plan_episodes()). */
static void plan_edges(struct gen *g, bool bounded)
{
	struct rng r;
	rng_seed(&r, g->seed, UINT64_C(0xED6E));
	size_t first_raid_out = (size_t)rng_below(&r, g->nstreams);
	for (size_t i = 0; i < g->nstreams; i++) {
		struct stream *s = &g->st[i];
		struct episode *k = &g->eps[g->neps++];
		k->stream = i;
		k->kind = EP_STREAM_START;
		k->start = g->o.start_us;
		k->len = SEC(rng_range(&r, 120.0, 300.0));
		k->end = k->start + k->len;
		k->peak = rng_range(&r, 0.5, 1.0) * s->base_rate + 0.02;
		if (!bounded)
			continue;
		s->live_end = g->end_time - SEC(rng_range(&r, 0.0, 60.0));
		bool raid_out = i == first_raid_out || rng_chance(&r, 0.5);
		int64_t out = raid_out ? SEC(rng_range(&r, 45.0, 90.0)) : 0;
		int64_t zone = SEC(rng_range(&r, 150.0, 300.0)) - out;
		k = &g->eps[g->neps++];
		k->stream = i;
		k->kind = EP_STREAM_END;
		k->start = s->live_end - out - zone;
		k->end = s->live_end - out;
		k->len = zone;
		k->peak = rng_range(&r, 0.5, 1.5) * s->base_rate + 0.02;
		if (!raid_out)
			continue;
		k = &g->eps[g->neps++];
		k->stream = i;
		k->kind = EP_RAID_OUT;
		k->start = s->live_end - out;
		k->end = s->live_end;
		k->len = out;
		k->peak = rng_range(&r, 2.0, 4.0) * s->base_rate + 0.2;
		k->variant = rng_next(&r);
	}
}

/* Expected number of extra events the planned episodes add. */
static double episode_extra_events(const struct gen *g)
{
	double extra = 0.0;
	for (size_t i = 0; i < g->neps; i++) {
		const struct episode *k = &g->eps[i];
		const struct stream *s = &g->st[k->stream];
		if (ep_is_moment(k->kind))
			extra += k->peak / (1.0 - g->o.branching * REACT_BRANCHING) * (1.25 + k->tau);
		if (k->kind == EP_RAID)
			extra += s->base_rate * (sqrt(1.0 + k->raid_jump / s->v_level) - 1.0) * 1800.0;
		extra += k->count;
	}
	return extra;
}

/* The messages of the single-user trains, pending from the start. */
static void push_trains(struct gen *g)
{
	uint64_t special = 1000 + g->user_pool + UINT64_C(1000000000);
	for (size_t i = 0; i < g->neps; i++) {
		struct episode *k = &g->eps[i];
		struct stream *s = &g->st[k->stream];
		if (k->kind != EP_GIFT_TRAIN && k->kind != EP_SPAMMER && k->kind != EP_BOT)
			continue;
		k->user = special + i;
		for (uint32_t j = 0; j < k->count; j++) {
			struct kid c = {0};
			c.user = k->user;
			if (k->kind == EP_GIFT_TRAIN) {
				c.t = k->start + SEC(k->tau * (double)j * rng_range(&s->rng, 0.8, 1.2));
				c.style = STY_GIFT;
				c.variant = regular(g, s, rng_below(&s->rng, s->chatters)) + 7;
			} else if (k->kind == EP_SPAMMER) {
				c.t = k->start + (int64_t)(rng_unif(&s->rng) * (double)(k->len - SEC(1)));
				c.style = STY_SPAM;
				c.variant = k->variant;
			} else {
				c.t = k->start + SEC(k->tau * ((double)j + rng_range(&s->rng, -0.05, 0.05)));
				c.style = STY_BOT;
				c.variant = k->variant | (j + 1);
			}
			if (c.t < k->start)
				c.t = k->start;
			kid_push(s, c);
		}
	}
}

static void make_name(size_t i, char *out, size_t cap)
{
	/* stream_001 ... stream_999, stream_1000 ... */
	char d[24];
	size_t k = sizeof(d);
	size_t v = i + 1;
	int digits = 0;
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
		digits++;
	} while (v);
	while (digits < 3) {
		d[--k] = '0';
		digits++;
	}
	size_t n = sizeof(d) - k;
	if (7 + n + 1 > cap)
		n = cap - 8;
	memcpy(out, "stream_", 7);
	memcpy(out + 7, d + k, n);
	out[7 + n] = '\0';
}

struct gen *gen_create(const struct gen_options *o, struct error *err)
{
	if (o->streams < 1) {
		error_set(err, "the number of streams must be at least 1");
		return NULL;
	}
	if (o->chat_rate < 0.0 || o->chat_rate > 1e6) {
		error_set(err, "the chat rate must be > 0 and at most 1e6 messages/s per stream");
		return NULL;
	}
	if (!(o->rate_min > 0.0) || !(o->rate_max >= o->rate_min) || o->rate_max > 1e6) {
		error_set(err, "the rate range must have 0 < minimum <= maximum <= 1e6 messages/s");
		return NULL;
	}
	if (!(o->branching >= 0.0) || o->branching > 0.95) {
		error_set(err, "the branching ratio must be in [0, 0.95]");
		return NULL;
	}
	if (o->reply_delay_us <= 0) {
		error_set(err, "the reply delay must be > 0");
		return NULL;
	}
	if (!(o->decoy_rate >= 0.0) || o->decoy_rate > 1000.0) {
		error_set(err, "the decoy rate must be in [0, 1000] per stream-hour");
		return NULL;
	}
	if (o->viewer_interval_us <= 0) {
		error_set(err, "the viewer interval must be > 0");
		return NULL;
	}
	if (o->disorder < 0 || o->late < 0 || o->malformed < 0 || o->disorder > 1 || o->late > 1 ||
	    o->malformed > 1 || o->disorder + o->late > 1) {
		error_set(err, "the fractions of disorder, late and malformed lines must be in [0, 1], "
		               "and disorder + late at most 1");
		return NULL;
	}
	if (o->disorder > 0 && o->watermark_delay_us < 2) {
		error_set(err, "disorder needs a watermark delay > 0");
		return NULL;
	}
	if (o->start_us < TIMESTAMP_MIN_US || o->start_us > TIMESTAMP_MAX_US / 2) {
		error_set(err, "the start time is out of range");
		return NULL;
	}
	if (o->duration_us < 0 || o->duration_us > TIMESTAMP_MAX_US - o->start_us - SEC(86400)) {
		error_set(err, "the duration is out of range");
		return NULL;
	}
	if (o->stream_ids) {
		for (size_t i = 0; i < o->streams; i++)
			if (!o->stream_ids[i] || !o->stream_ids[i][0]) {
				error_set(err, "stream id %zu is empty", i + 1);
				return NULL;
			}
	}
	if (o->spikes > 0 && o->duration_us == 0 && o->max_events == 0) {
		error_set(err, "moments need a bounded run: give a duration or a number of events");
		return NULL;
	}

	struct gen *g = xcalloc(1, sizeof(*g));
	g->o = *o;
	g->o.stream_ids = NULL;
	g->seed = mix64(o->seed ^ UINT64_C(0x7E1E3E7A));
	g->nstreams = o->streams;
	g->st = xcalloc(g->nstreams, sizeof(struct stream));
	g->ts_sec = INT64_MIN;
	g->stats.min_time_us = INT64_MAX;
	g->stats.max_time_us = INT64_MIN;
	g->vocab = vocab_new();
	g->exp_neg_b = det_exp(-o->branching);
	g->b_react = o->branching * REACT_BRANCHING;
	g->exp_neg_br = det_exp(-g->b_react);

	/* streams: rates from the strata in a seeded order */
	struct rng setup;
	rng_seed(&setup, g->seed, UINT64_C(0x5E7));
	size_t *stratum = xmalloc(g->nstreams * sizeof(size_t));
	for (size_t i = 0; i < g->nstreams; i++)
		stratum[i] = i;
	shuffle(stratum, g->nstreams, &setup);
	double scale = 1.0;
	if (o->chat_rate > 0.0) {
		struct gen_options plain = *o;
		plain.chat_rate = 0.0;
		scale = o->chat_rate / mean_rate(&plain);
	}
	uint64_t pool = 0;
	struct buf tmp = BUF_INIT;
	for (size_t i = 0; i < g->nstreams; i++) {
		struct stream *s = &g->st[i];
		char name[32];
		const char *id = o->stream_ids ? o->stream_ids[i] : (make_name(i, name, sizeof(name)), name);
		s->id = xstrdup(id);
		s->id_len = strlen(id);
		buf_reset(&tmp);
		buf_add_json_string(&tmp, s->id, s->id_len);
		s->id_json_len = tmp.len;
		s->id_json = xstrndup(tmp.data, tmp.len);
		rng_seed(&s->rng, g->seed, 1000 + i);
		s->salt = (uint32_t)mix64(g->seed + i);
		s->base_rate = stratum_rate(o, stratum[i], g->nstreams) * scale;
		s->v_level = 5.0 + 400.0 * det_pow(s->base_rate, 0.8) * det_exp(0.25 * rng_normal(&setup));
		if (s->v_level > 1e7)
			s->v_level = 1e7;
		s->log_v = det_log(s->v_level) + 0.05 * rng_normal(&setup);
		s->mood_base = rng_range(&setup, -0.4, 0.5);
		s->mood = clampd(s->mood_base + 0.4 * rng_normal(&setup), -1.0, 1.0);
		s->knot_len = SEC(rng_range(&setup, 600.0, 1800.0));
		s->knot_t0 = o->start_us - (int64_t)(rng_unif(&setup) * (double)s->knot_len);
		s->knot_v0 = rng_range(&setup, -0.25, 0.25);
		s->knot_v1 = rng_range(&setup, -0.25, 0.25);
		s->chatters = (uint32_t)clampd(5.0 + 0.3 * s->v_level, 5.0, 100000.0);
		pool += s->chatters;
		zipf_init(&s->zipf, s->chatters, 1.1);
		s->last_tick = o->start_us;
		s->live_end = INT64_MAX;
	}
	free(stratum);
	buf_free(&tmp);
	g->user_pool = pool * 4 / 5 + 100;

	/* span and episodes */
	g->end_time = o->duration_us > 0 ? o->start_us + o->duration_us : INT64_MAX;
	bool bounded = o->duration_us > 0;
	int64_t span = o->duration_us;
	double extra = 0.0;
	for (int iter = 0; iter < 8; iter++) {
		int64_t s2 = span;
		if (o->max_events) {
			double est = ((double)o->max_events - extra) / gen_expected_rate(o) * 0.9;
			if (est < 0)
				est = 0;
			int64_t est_us = SEC(est);
			if (s2 == 0 || est_us < s2)
				s2 = est_us;
		}
		free(g->eps);
		g->eps = NULL;
		if (s2 == 0) { /* endless: no mid-stream episodes */
			g->eps = xcalloc(g->nstreams * 3 + 1, sizeof(struct episode));
			g->neps = 0;
			break;
		}
		if (!plan_episodes(g, s2, bounded, err)) {
			gen_free(g);
			return NULL;
		}
		double e2 = episode_extra_events(g);
		if (!o->max_events || e2 <= extra * 1.02 + 1.0)
			break;
		extra = e2;
	}
	if (o->edges)
		plan_edges(g, bounded);
	qsort(g->eps, g->neps, sizeof(struct episode), cmp_episode);

	/* labels and decoys; raiders' index */
	g->labels = xcalloc(g->neps + 1, sizeof(struct gen_label));
	g->decoys = xcalloc(g->neps + 1, sizeof(struct gen_label));
	for (size_t i = 0; i < g->neps; i++) {
		struct episode *k = &g->eps[i];
		struct stream *s = &g->st[k->stream];
		k->index = (uint32_t)i;
		struct gen_label l = {k->stream, s->id, k->start, k->end, EP_NAME[k->kind]};
		if (ep_is_moment(k->kind))
			g->labels[g->nlabels++] = l;
		else
			g->decoys[g->ndecoys++] = l;
		s->nep++;
		if (k->kind == EP_LEVEL_SHIFT)
			s->nshift++;
	}
	for (size_t i = 0; i < g->nstreams; i++) {
		struct stream *s = &g->st[i];
		s->ep = xcalloc(s->nep + 1, sizeof(struct episode *));
		s->shift = xcalloc(s->nshift + 1, sizeof(struct episode *));
		s->nep = s->nshift = 0;
	}
	for (size_t i = 0; i < g->neps; i++) {
		struct episode *k = &g->eps[i];
		struct stream *s = &g->st[k->stream];
		s->ep[s->nep++] = k;
		if (k->kind == EP_LEVEL_SHIFT)
			s->shift[s->nshift++] = k;
	}
	push_trains(g);

	/* sources */
	g->heap = xmalloc(2 * g->nstreams * sizeof(struct src));
	for (size_t i = 0; i < g->nstreams; i++) {
		struct stream *s = &g->st[i];
		s->last_count = (uint64_t)(det_exp(s->log_v) + 0.5);
		s->next_imm = next_immigrant(g, s, o->start_us);
		g->heap[g->nheap++] = (struct src){next_chat_time(s), (uint32_t)(2 * i)};
		g->heap[g->nheap++] = (struct src){
		    o->start_us + (int64_t)(rng_unif(&s->rng) * (double)o->viewer_interval_us),
		    (uint32_t)(2 * i + 1)};
	}
	for (size_t i = g->nheap / 2; i-- > 0;)
		src_sift_down(g->heap, g->nheap, i);

	rng_seed(&g->arrival, g->seed, UINT64_C(0xA77));
	rng_seed(&g->broken, g->seed, UINT64_C(0xBAD));
	g->frontier = INT64_MIN;
	return g;
}

void gen_free(struct gen *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nstreams; i++) {
		free(g->st[i].id);
		free(g->st[i].id_json);
		free(g->st[i].ep);
		free(g->st[i].shift);
		free(g->st[i].kids);
	}
	free(g->st);
	vocab_free(g->vocab);
	free(g->eps);
	free(g->labels);
	free(g->decoys);
	free(g->heap);
	for (size_t i = 0; i < g->npend; i++)
		free(g->pend[i].text);
	free(g->pend);
	free(g->owned);
	buf_free(&g->line);
	buf_free(&g->msg);
	free(g);
}

/* ------------------------------------------------------------------------ */
/* Generation                                                                */

static enum fault pick_fault(struct gen *g)
{
	if (!(g->o.malformed > 0.0) || !rng_chance(&g->broken, g->o.malformed))
		return F_NONE;
	return (enum fault)(1 + rng_below(&g->broken, F_COUNT - 1));
}

/* Generate the next event in time order into g->line.  False at the end. */
static bool generate_one(struct gen *g)
{
	struct src *top = &g->heap[0];
	int64_t t = top->t;
	if (t >= g->end_time || t == INT64_MAX)
		return false;
	uint32_t id = top->id;
	struct stream *s = &g->st[id / 2];
	enum gen_kind kind = (id & 1) ? GEN_VIEWER : GEN_CHAT;
	enum fault f = pick_fault(g);

	s->seq++;
	if (kind == GEN_CHAT) {
		emit_chat(g, s, t, f == F_NEGATIVE ? F_NONE : f);
		if (f == F_NEGATIVE) /* a viewer update with a negative count instead */
			build_viewer(g, s, t, s->last_count, f);
		top->t = next_chat_time(s);
	} else {
		uint64_t count = viewer_tick(s, t);
		s->last_count = count;
		build_viewer(g, s, t, count, f);
		double jitter = rng_range(&s->rng, 0.9, 1.1);
		top->t = t + (int64_t)((double)g->o.viewer_interval_us * jitter);
		if (top->t <= t)
			top->t = t + 1;
		if (top->t >= s->live_end) /* offline: no more viewer counts */
			top->t = INT64_MAX;
	}
	if (f != F_NONE)
		break_line(g, &g->line, f);
	src_sift_down(g->heap, g->nheap, 0);

	g->frontier = t;
	g->cur_time = t;
	g->cur_stream = id / 2;
	g->cur_kind = kind;
	g->cur_malformed = f != F_NONE;
	return true;
}

static void account(struct gen *g, struct gen_line *out, int delay_class)
{
	struct gen_stats *st = &g->stats;
	st->lines++;
	if (out->kind == GEN_CHAT)
		st->chat++;
	else
		st->viewer++;
	if (out->malformed)
		st->malformed++;
	if (delay_class == 1)
		st->disordered++;
	else if (delay_class == 2)
		st->late++;
	st->bytes += out->len;
	if (out->time_us < st->min_time_us)
		st->min_time_us = out->time_us;
	if (out->time_us > st->max_time_us)
		st->max_time_us = out->time_us;
}

static void fill_line(struct gen *g, struct gen_line *out, const char *data, size_t len, uint32_t stream,
                      enum gen_kind kind, bool malformed, int64_t t)
{
	out->data = data;
	out->len = len;
	out->stream_id = g->st[stream].id;
	out->stream_id_len = g->st[stream].id_len;
	out->kind = kind;
	out->malformed = malformed;
	out->time_us = t;
}

bool gen_next(struct gen *g, struct gen_line *out)
{
	free(g->owned);
	g->owned = NULL;
	if (g->o.max_events && g->stats.lines >= g->o.max_events)
		return false;
	for (;;) {
		if (g->npend && (g->gen_done || g->pend[0].key <= g->frontier)) {
			struct pend p = pend_pop(g);
			g->owned = p.text;
			fill_line(g, out, p.text, p.len, p.stream, (enum gen_kind)p.kind, p.malformed, p.time);
			account(g, out, p.delay_class);
			return true;
		}
		if (g->gen_done || !generate_one(g)) {
			g->gen_done = true;
			if (!g->npend)
				return false;
			continue;
		}
		/* arrival delay */
		int64_t delay = 0;
		int cls = 0;
		double a = rng_unif(&g->arrival);
		if (a < g->o.disorder) {
			int64_t dmax = g->o.watermark_delay_us - 1; /* strictly below D */
			delay = 1 + (int64_t)(rng_unif(&g->arrival) * (double)dmax);
			if (delay > dmax)
				delay = dmax;
			cls = 1;
		} else if (a < g->o.disorder + g->o.late) {
			delay = g->o.watermark_delay_us + LATE_MIN_US + 1 +
			        (int64_t)(rng_unif(&g->arrival) * (double)LATE_RANGE_US);
			cls = 2;
		}
		if (delay == 0 && (!g->npend || g->pend[0].key > g->cur_time)) {
			fill_line(g, out, g->line.data, g->line.len, g->cur_stream, g->cur_kind, g->cur_malformed,
			          g->cur_time);
			account(g, out, 0);
			return true;
		}
		struct pend p = {
		    .key = g->cur_time + delay,
		    .seq = g->pseq++,
		    .text = xstrndup(g->line.data, g->line.len),
		    .len = g->line.len,
		    .time = g->cur_time,
		    .stream = g->cur_stream,
		    .kind = (unsigned char)g->cur_kind,
		    .malformed = g->cur_malformed,
		    .delay_class = (unsigned char)cls,
		};
		pend_push(g, p);
	}
}

const struct gen_label *gen_labels(const struct gen *g, size_t *count)
{
	*count = g->nlabels;
	return g->labels;
}

const struct gen_label *gen_decoys(const struct gen *g, size_t *count)
{
	*count = g->ndecoys;
	return g->decoys;
}

void gen_label_json(const struct gen_label *l, struct buf *out)
{
	char ts[TIMESTAMP_BUFSZ];
	buf_adds(out, "{\"stream_id\":");
	buf_add_json_string(out, l->stream_id, strlen(l->stream_id));
	buf_adds(out, ",\"start\":\"");
	buf_add(out, ts, timestamp_format_rfc3339(l->start_us, ts));
	buf_adds(out, "\",\"end\":\"");
	buf_add(out, ts, timestamp_format_rfc3339(l->end_us, ts));
	buf_adds(out, "\",\"kind\":\"");
	buf_adds(out, l->kind);
	buf_adds(out, "\"}");
}

void gen_get_stats(const struct gen *g, struct gen_stats *out) { *out = g->stats; }
