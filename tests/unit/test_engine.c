/*
 * test_engine.c — the processing core end to end, through its callbacks
 * (SPEC §1–§5, core/engine.h): exact window rows for a few events, late
 * events as dead letters, lanes (a lane ahead of the global watermark),
 * envelopes and control records, idle lanes and advance, final flush or
 * not, merged moments.
 *
 * Times are offsets from T = 1700000000 s = 2023-11-14T22:13:20Z, a
 * multiple of every slide used here; P0 = T / S is the pane (and window)
 * index at T.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/engine.h"
#include "unit.h"

#define T INT64_C(1700000000)
#define AT(off) SEC(T + (off))
#define CHAT_TOPIC "telemetra.events.chat"
#define VIEWER_TOPIC "telemetra.events.viewer"
#define TOL 1e-9

/* --- output collector ---------------------------------------------------- */

#define MAX_ROWS 32
#define MAX_MOMS 8
#define MAX_DEAD 16

struct erow {
	char stream[32];
	int64_t k, start, end, chat, unique, pos, neg;
	bool has_sent, has_viewers, has_z, anomaly;
	double avg_sent, rate, avg_viewers, z;
	size_t n_top;
	char top[4][32];
	uint32_t top_count[4];
};

struct emom {
	char stream[32];
	char type[32];
	int64_t time_us, end_us;
	double intensity;
};

struct edead {
	enum dead_reason reason;
	char source[64];
	int32_t partition;
	int64_t position;
	char detail[256];
	char raw[256];
	size_t raw_len;
};

struct out {
	struct erow rows[MAX_ROWS];
	size_t n_rows;
	struct emom moms[MAX_MOMS];
	size_t n_moms;
	struct edead dead[MAX_DEAD];
	size_t n_dead;
	int notices;
	char notice[512];
	int window_rc, dead_rc; /* what the callbacks return */
};

static int on_window(void *ctx, const struct window_row *w)
{
	struct out *o = ctx;
	ck_assert_uint_lt(o->n_rows, MAX_ROWS);
	struct erow *r = &o->rows[o->n_rows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->stream, sizeof(r->stream), "%s", sv_z(w->stream_id));
	r->k = w->k;
	r->start = w->start_us;
	r->end = w->end_us;
	r->chat = w->chat_count;
	r->unique = w->unique_chatters;
	r->pos = w->positive_count;
	r->neg = w->negative_count;
	r->has_sent = w->has_sentiment;
	r->has_viewers = w->has_viewers;
	r->has_z = w->has_z;
	r->anomaly = w->is_anomaly;
	r->avg_sent = w->has_sentiment ? w->avg_sentiment : 0;
	r->rate = w->chat_rate;
	r->avg_viewers = w->has_viewers ? w->avg_viewers : 0;
	r->z = w->has_z ? w->z_score : 0;
	r->n_top = w->n_top_emotes;
	for (size_t i = 0; i < w->n_top_emotes && i < 4; i++) {
		snprintf(r->top[i], sizeof(r->top[i]), "%s", sv_z(w->top_emotes[i]));
		r->top_count[i] = w->top_emote_counts[i];
	}
	return o->window_rc;
}

static int on_moment(void *ctx, const struct moment *m)
{
	struct out *o = ctx;
	ck_assert_uint_lt(o->n_moms, MAX_MOMS);
	struct emom *e = &o->moms[o->n_moms++];
	memset(e, 0, sizeof(*e));
	snprintf(e->stream, sizeof(e->stream), "%s", sv_z(m->stream_id));
	snprintf(e->type, sizeof(e->type), "%s", m->type);
	e->time_us = m->time_us;
	e->end_us = m->end_us;
	e->intensity = m->intensity;
	return 0;
}

static int on_dead(void *ctx, const struct dead_letter *dl)
{
	struct out *o = ctx;
	ck_assert_uint_lt(o->n_dead, MAX_DEAD);
	struct edead *d = &o->dead[o->n_dead++];
	memset(d, 0, sizeof(*d));
	d->reason = dl->reason;
	snprintf(d->source, sizeof(d->source), "%s", sv_z(dl->pos.source));
	d->partition = dl->pos.partition;
	d->position = dl->pos.position;
	snprintf(d->detail, sizeof(d->detail), "%s", dl->detail ? dl->detail : "");
	d->raw_len = dl->raw_len;
	memcpy(d->raw, dl->raw, dl->raw_len < sizeof(d->raw) - 1 ? dl->raw_len : sizeof(d->raw) - 1);
	return o->dead_rc;
}

static void on_notice(void *ctx, const char *msg)
{
	struct out *o = ctx;
	o->notices++;
	snprintf(o->notice, sizeof(o->notice), "%s", msg);
}

/* --- set-up ----------------------------------------------------------------- */

static struct lexicon *lex;
static struct out out;

static void setup(void)
{
	struct error err;
	lex = lexicon_new();
	ck_assert(lexicon_add_list(lex, POLARITY_POSITIVE, "good\ngreat\n", 11, "pos", &err));
	ck_assert(lexicon_add_list(lex, POLARITY_NEGATIVE, "bad\n", 4, "neg", &err));
	memset(&out, 0, sizeof(out));
}

static void teardown(void) { lexicon_free(lex); }

/* W, S, D in seconds; chat_spike on with N = min_history = 10 (so no z in
 * short tests), min_stddev = 1/W, threshold 3. */
static struct core_config config(int64_t w, int64_t s, int64_t d)
{
	struct core_config c;
	memset(&c, 0, sizeof(c));
	c.window = (struct window_config){SEC(w), SEC(s), 10, 0};
	c.watermark_delay_us = SEC(d);
	c.detect.det[DETECTOR_CHAT_SPIKE] =
		(struct detector_config){true, 10, 10, 1.0 / (double)w, 3.0};
	c.lexicon = lex;
	c.chat_topic = CHAT_TOPIC;
	c.viewer_topic = VIEWER_TOPIC;
	return c;
}

static struct engine *engine(const struct core_config *c, struct out *o)
{
	struct engine_output port = {o, on_window, on_moment, on_dead, on_notice, NULL};
	return engine_new(c, &port);
}

static int line(struct engine *e, int64_t no, const char *text)
{
	return engine_line(e, SV_LIT("events.jsonl"), no, text, strlen(text));
}

/* A chat message on a Kafka lane of the chat topic. */
static int kchat(struct engine *e, int32_t partition, int64_t offset, int64_t t_off,
                 const char *user)
{
	char payload[256];
	snprintf(payload, sizeof(payload),
	         "{\"timestamp\":%lld,\"stream_id\":\"s\",\"user_id\":\"%s\",\"message\":\"hi\"}",
	         (long long)(T + t_off), user);
	return engine_message(e, SV_LIT(CHAT_TOPIC), partition, offset, payload, strlen(payload));
}

/* A message on a Kafka lane of the viewer topic. */
static int kviewer(struct engine *e, int32_t partition, int64_t offset, int64_t t_off,
                   int64_t count)
{
	char payload[256];
	snprintf(payload, sizeof(payload), "{\"timestamp\":%lld,\"stream_id\":\"s\",\"viewer_count\":%lld}",
	         (long long)(T + t_off), (long long)count);
	return engine_message(e, SV_LIT(VIEWER_TOPIC), partition, offset, payload, strlen(payload));
}

/* The global watermark of the engine's only group (engine.h: lanes are
 * grouped by partition number, each group with its own watermark). */
static int64_t gwm(const struct engine *e)
{
	int64_t lo, hi;
	engine_watermark_range(e, &lo, &hi);
	ck_assert_int_eq(lo, hi);
	return lo;
}

static void check_row(const struct erow *r, const char *stream, int64_t k, int64_t start_off,
                      int64_t end_off, int64_t chat, int64_t unique)
{
	ck_assert_str_eq(r->stream, stream);
	ck_assert_int_eq(r->k, k);
	ck_assert_int_eq(r->start, AT(start_off));
	ck_assert_int_eq(r->end, AT(end_off));
	ck_assert_int_eq(r->chat, chat);
	ck_assert_int_eq(r->unique, unique);
}

/* --- a few events, exact rows ------------------------------------------------- */

/*
 * W = 20 s, S = 10 s, D = 5 s, one default lane (bare lines).  P0 = T/10.
 *   1 chat   T+1  s1 alice "good stream" [Kappa]          score +1
 *   2 chat   T+4  s1 bob   "bad bad great"                P=1 N=1: 0
 *   3 viewer T+5  s1 100
 *   4 chat   T+12 s1 alice "GOOD good great" [Kappa, PogChamp]  +1 (distinct)
 *   5 viewer T+15 s1 200   -> watermark T+10 closes window P0-1 [T-10, T+10)
 *   6 chat   T+9  s1 carol "bad"  -1; lane watermark T+10: only window P0
 *   7 chat   T-20 s1 dave  -> windows P0-3, P0-2 are closed: late
 *   8 not JSON
 *   9 viewer_count -3  -> negative_count
 *  10 viewer T+16 s2 7  -> windows P0, P0+1 of s2 (viewer only)
 * Rows:
 *   s1 P0-1 [T-10,T+10): lines 1, 2, 3: chat 2, unique 2, sentiment (1+0)/2,
 *        pos 1, rate 2/20, viewers 100, [Kappa 1]
 *   s1 P0   [T, T+20):   lines 1-6: chat 4 (1,2,4,6), unique 3, (1+0+1-1)/4,
 *        pos 2, neg 1, rate 0.2, viewers 150, [Kappa 2, PogChamp 1]
 *   s1 P0+1 [T+10,T+30): lines 4, 5: chat 1, sentiment 1, viewers 200,
 *        [Kappa 1, PogChamp 1] (tie: byte order)
 *   s2 P0, P0+1: chat 0, sentiment NULL, rate 0, viewers 7
 */
static const char *const basic_lines[] = {
	"{\"timestamp\":1700000001,\"stream_id\":\"s1\",\"user_id\":\"alice\","
	"\"message\":\"good stream\",\"emotes\":[\"Kappa\"]}",
	"{\"timestamp\":1700000004,\"stream_id\":\"s1\",\"user_id\":\"bob\","
	"\"message\":\"bad bad great\"}",
	"{\"timestamp\":1700000005,\"stream_id\":\"s1\",\"viewer_count\":100}",
	"{\"timestamp\":\"2023-11-14T22:13:32Z\",\"stream_id\":\"s1\",\"user_id\":\"alice\","
	"\"message\":\"GOOD good great\",\"emotes\":[\"Kappa\",\"PogChamp\"]}",
	"{\"timestamp\":1700000015,\"stream_id\":\"s1\",\"viewer_count\":200}",
	"{\"timestamp\":1700000009,\"stream_id\":\"s1\",\"user_id\":\"carol\",\"message\":\"bad\"}",
	"{\"timestamp\":1699999980,\"stream_id\":\"s1\",\"user_id\":\"dave\",\"message\":\"good\"}",
	"this is not json",
	"{\"timestamp\":1700000016,\"stream_id\":\"s2\",\"viewer_count\":-3}",
	"{\"timestamp\":1700000016,\"stream_id\":\"s2\",\"viewer_count\":7}",
};

static struct engine *feed_basic(struct core_config *c)
{
	*c = config(20, 10, 5);
	struct engine *e = engine(c, &out);
	for (size_t i = 0; i < 10; i++) {
		ck_assert_int_eq(line(e, (int64_t)i + 1, basic_lines[i]), 0);
		if (i == 3)
			ck_assert_uint_eq(out.n_rows, 0);
		if (i == 4) /* line 5 moved the watermark to T+10 */
			ck_assert_uint_eq(out.n_rows, 1);
	}
	return e;
}

START_TEST(basic_rows_final_flush)
{
	const int64_t P0 = T / 10;
	struct core_config c;
	struct engine *e = feed_basic(&c);
	ck_assert_int_eq(gwm(e), AT(11)); /* T+16 - 5 */
	ck_assert_int_eq(engine_finish(e, true), 0);
	ck_assert_int_eq(gwm(e), TIME_POS_INF);
	ck_assert_uint_eq(out.n_rows, 5);

	const struct erow *r = &out.rows[0];
	check_row(r, "s1", P0 - 1, -10, 10, 2, 2);
	ck_assert_int_eq(r->pos, 1);
	ck_assert_int_eq(r->neg, 0);
	ck_assert(r->has_sent);
	ck_assert_double_eq_tol(r->avg_sent, 0.5, TOL);
	ck_assert_double_eq_tol(r->rate, 0.1, TOL);
	ck_assert(r->has_viewers);
	ck_assert_double_eq_tol(r->avg_viewers, 100, TOL);
	ck_assert_uint_eq(r->n_top, 1);
	ck_assert_str_eq(r->top[0], "Kappa");
	ck_assert(!r->has_z); /* 10 windows of history needed */
	ck_assert(!r->anomaly);

	r = &out.rows[1];
	check_row(r, "s1", P0, 0, 20, 4, 3);
	ck_assert_int_eq(r->pos, 2);
	ck_assert_int_eq(r->neg, 1);
	ck_assert_double_eq_tol(r->avg_sent, 0.25, TOL);
	ck_assert_double_eq_tol(r->rate, 0.2, TOL);
	ck_assert_double_eq_tol(r->avg_viewers, 150, TOL);
	ck_assert_uint_eq(r->n_top, 2);
	ck_assert_str_eq(r->top[0], "Kappa");
	ck_assert_uint_eq(r->top_count[0], 2);
	ck_assert_str_eq(r->top[1], "PogChamp");
	ck_assert_uint_eq(r->top_count[1], 1);

	r = &out.rows[2];
	check_row(r, "s1", P0 + 1, 10, 30, 1, 1);
	ck_assert_int_eq(r->pos, 1);
	ck_assert_double_eq_tol(r->avg_sent, 1.0, TOL);
	ck_assert_double_eq_tol(r->rate, 0.05, TOL);
	ck_assert_double_eq_tol(r->avg_viewers, 200, TOL);
	ck_assert_uint_eq(r->n_top, 2);
	ck_assert_str_eq(r->top[0], "Kappa");
	ck_assert_str_eq(r->top[1], "PogChamp");

	for (size_t i = 3; i < 5; i++) {
		r = &out.rows[i];
		check_row(r, "s2", P0 + (int64_t)i - 3, 10 * ((int64_t)i - 3), 10 * ((int64_t)i - 3) + 20,
		          0, 0);
		ck_assert(!r->has_sent); /* avg_sentiment NULL */
		ck_assert_double_eq(r->rate, 0.0);
		ck_assert(r->has_viewers);
		ck_assert_double_eq_tol(r->avg_viewers, 7, TOL);
		ck_assert_uint_eq(r->n_top, 0);
	}

	/* dead letters: source position, reason, raw bytes */
	ck_assert_uint_eq(out.n_dead, 3);
	const struct edead *d = &out.dead[0];
	ck_assert_int_eq(d->reason, DEAD_LATE);
	ck_assert_str_eq(dead_reason_name(d->reason), "late");
	ck_assert_str_eq(d->source, "events.jsonl");
	ck_assert_int_eq(d->partition, -1);
	ck_assert_int_eq(d->position, 7);
	ck_assert_str_eq(d->raw, basic_lines[6]);
	ck_assert_uint_eq(d->raw_len, strlen(basic_lines[6]));
	ck_assert_ptr_nonnull(strstr(d->detail, "2023-11-14 22:13:00")); /* the event's time */
	ck_assert_ptr_nonnull(strstr(d->detail, "2023-11-14 22:13:30")); /* the watermark */
	ck_assert_int_eq(out.dead[1].reason, DEAD_NOT_JSON);
	ck_assert_int_eq(out.dead[1].position, 8);
	ck_assert_str_eq(out.dead[1].raw, "this is not json");
	ck_assert_int_eq(out.dead[2].reason, DEAD_NEGATIVE_COUNT);
	ck_assert_int_eq(out.dead[2].position, 9);
	ck_assert_ptr_nonnull(strstr(out.dead[2].detail, "\"viewer_count\""));

	const struct engine_stats *st = engine_stats(e);
	ck_assert_uint_eq(st->records, 10);
	ck_assert_uint_eq(st->controls, 0);
	ck_assert_uint_eq(st->chat, 5); /* decoded chats, the late one included */
	ck_assert_uint_eq(st->viewer, 3);
	ck_assert_uint_eq(st->accepted, 7);
	ck_assert_uint_eq(st->dead[DEAD_LATE], 1);
	ck_assert_uint_eq(st->dead[DEAD_NOT_JSON], 1);
	ck_assert_uint_eq(st->dead[DEAD_NEGATIVE_COUNT], 1);
	ck_assert_uint_eq(st->dead_total, 3);
	ck_assert_uint_eq(st->windows, 5);
	ck_assert_uint_eq(st->moments, 0);
	ck_assert_uint_eq(out.n_moms, 0);
	ck_assert_int_eq(out.notices, 0); /* file lanes have no partition to check */
	engine_free(e);
}
END_TEST

START_TEST(basic_rows_no_final_flush)
{
	/* Without the final flush, only what the watermark (T+11) closed. */
	struct core_config c;
	struct engine *e = feed_basic(&c);
	ck_assert_int_eq(engine_finish(e, false), 0);
	ck_assert_uint_eq(out.n_rows, 1);
	check_row(&out.rows[0], "s1", T / 10 - 1, -10, 10, 2, 2);
	ck_assert_int_eq(gwm(e), AT(11));
	ck_assert_uint_eq(engine_stats(e)->windows, 1);
	ck_assert_uint_eq(out.n_dead, 3);
	engine_free(e);
}
END_TEST

/* --- lanes ------------------------------------------------------------------------ */

/*
 * W = 30 s, S = 10 s, D = 10 s.  Two Kafka lanes of one group (engine.h:
 * lanes are grouped by partition number, so chat/0 and viewer/0 share a
 * global watermark), both assigned (opened) first.  The viewer lane has one
 * early event; the chat lane runs ahead.
 *   viewer/0 off0  T+5    v=50: viewer lane at -inf: windows P0-2, P0-1, P0
 *   chat/0   off0  T+100  a0: windows P0+8..P0+10; chat lane watermark T+90;
 *                         global = min(T+90, T-5) = T-5: nothing with data closes
 *   chat/0   off1  T+85   a1: late in its lane only: windows ending after T+90,
 *                         P0+7 [T+70,T+100) and P0+8; not P0+6 [T+60,T+90)
 *   chat/0   off2  T+75   a2: window P0+7 only (P0+5, P0+6 end at or before T+90)
 *   chat/0   off3  T+65   a3: windows P0+4..P0+6 all end <= T+90: late, although
 *                         the global watermark is only T-5
 * Final flush: rows P0-2, P0-1, P0 (the viewer event), P0+7 {a1, a2},
 * P0+8 {a1, a0}, P0+9 {a0}, P0+10 {a0}.  No row for P0+5 or P0+6.
 */
static void check_lane_rows(const struct out *o)
{
	const int64_t P0 = T / 10;
	ck_assert_uint_eq(o->n_rows, 7);
	for (size_t i = 0; i < 3; i++) {
		check_row(&o->rows[i], "s", P0 - 2 + (int64_t)i, 10 * (int64_t)i - 20,
		          10 * (int64_t)i + 10, 0, 0);
		ck_assert(o->rows[i].has_viewers);
		ck_assert_double_eq_tol(o->rows[i].avg_viewers, 50, TOL);
	}
	check_row(&o->rows[3], "s", P0 + 7, 70, 100, 2, 2);
	check_row(&o->rows[4], "s", P0 + 8, 80, 110, 2, 2);
	check_row(&o->rows[5], "s", P0 + 9, 90, 120, 1, 1);
	check_row(&o->rows[6], "s", P0 + 10, 100, 130, 1, 1);
	ck_assert(!o->rows[3].has_viewers);
	ck_assert_uint_eq(o->n_dead, 1);
	ck_assert_int_eq(o->dead[0].reason, DEAD_LATE);
	ck_assert_str_eq(o->dead[0].source, CHAT_TOPIC);
	ck_assert_int_eq(o->dead[0].partition, 0);
	ck_assert_int_eq(o->dead[0].position, 3);
}

START_TEST(lane_ahead_skips_only_its_windows)
{
	struct core_config c = config(30, 10, 10);
	struct engine *e = engine(&c, &out);
	ck_assert_int_eq(engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0), 0);
	ck_assert_int_eq(engine_lane_open(e, SV_LIT(VIEWER_TOPIC), 0), 0);
	ck_assert_int_eq(kviewer(e, 0, 0, 5, 50), 0);
	ck_assert_int_eq(kchat(e, 0, 0, 100, "a0"), 0);
	ck_assert_int_eq(gwm(e), AT(-5));
	ck_assert_int_eq(kchat(e, 0, 1, 85, "a1"), 0);
	ck_assert_int_eq(kchat(e, 0, 2, 75, "a2"), 0);
	ck_assert_int_eq(kchat(e, 0, 3, 65, "a3"), 0);
	ck_assert_uint_eq(out.n_rows, 0);
	ck_assert_int_eq(gwm(e), AT(-5));
	ck_assert_int_eq(engine_finish(e, true), 0);
	check_lane_rows(&out);
	ck_assert_uint_eq(engine_stats(e)->accepted, 4);
	ck_assert_uint_eq(engine_stats(e)->dead[DEAD_LATE], 1);
	ck_assert_int_eq(out.notices, 0); /* one stream, one partition number */
	engine_free(e);
}
END_TEST

START_TEST(lane_interleaving_does_not_matter)
{
	/* The same two lane sequences, the viewer lane's event last: same rows,
	 * same dead letter (SPEC §4: output depends on the order within lanes
	 * only, while no lane goes idle). */
	struct core_config c = config(30, 10, 10);
	struct engine *e = engine(&c, &out);
	ck_assert_int_eq(engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0), 0);
	ck_assert_int_eq(engine_lane_open(e, SV_LIT(VIEWER_TOPIC), 0), 0);
	ck_assert_int_eq(kchat(e, 0, 0, 100, "a0"), 0);
	ck_assert_int_eq(kchat(e, 0, 1, 85, "a1"), 0);
	ck_assert_int_eq(kchat(e, 0, 2, 75, "a2"), 0);
	ck_assert_int_eq(kchat(e, 0, 3, 65, "a3"), 0);
	ck_assert_int_eq(gwm(e), TIME_NEG_INF); /* the viewer lane: nothing yet */
	ck_assert_int_eq(kviewer(e, 0, 0, 5, 50), 0);
	ck_assert_int_eq(engine_finish(e, true), 0);
	check_lane_rows(&out);
	engine_free(e);

	/* and field for field the same as the first order */
	static struct out first;
	memset(&first, 0, sizeof(first));
	e = engine(&c, &first);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	engine_lane_open(e, SV_LIT(VIEWER_TOPIC), 0);
	kviewer(e, 0, 0, 5, 50);
	kchat(e, 0, 0, 100, "a0");
	kchat(e, 0, 1, 85, "a1");
	kchat(e, 0, 2, 75, "a2");
	kchat(e, 0, 3, 65, "a3");
	engine_finish(e, true);
	ck_assert_uint_eq(first.n_rows, out.n_rows);
	ck_assert(memcmp(first.rows, out.rows, out.n_rows * sizeof(out.rows[0])) == 0);
	engine_free(e);
}
END_TEST

START_TEST(single_lane_same_events)
{
	/* Contrast: the same chat events in one lane with no other lane — the
	 * classic watermark.  a0 moves it to T+90 and closes P0+6 and before at
	 * once; a1, a2 then count exactly as above, a3 is late. */
	const int64_t P0 = T / 10;
	struct core_config c = config(30, 10, 10);
	struct engine *e = engine(&c, &out);
	kchat(e, 0, 0, 100, "a0");
	ck_assert_int_eq(gwm(e), AT(90));
	kchat(e, 0, 1, 85, "a1");
	kchat(e, 0, 2, 75, "a2");
	kchat(e, 0, 3, 65, "a3");
	ck_assert_int_eq(engine_finish(e, true), 0);
	ck_assert_uint_eq(out.n_rows, 4);
	check_row(&out.rows[0], "s", P0 + 7, 70, 100, 2, 2);
	check_row(&out.rows[1], "s", P0 + 8, 80, 110, 2, 2);
	check_row(&out.rows[2], "s", P0 + 9, 90, 120, 1, 1);
	check_row(&out.rows[3], "s", P0 + 10, 100, 130, 1, 1);
	ck_assert_uint_eq(out.n_dead, 1);
	ck_assert_int_eq(out.dead[0].position, 3);
	engine_free(e);
}
END_TEST

START_TEST(partitions_are_separate_groups)
{
	/* chat/0 and chat/1 are different groups: an empty chat/1 does not hold
	 * back partition 0's windows.  A stream seen on both partitions breaks
	 * the keying rule and is reported, once. */
	const int64_t P0 = T / 10;
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 1);
	kchat(e, 0, 0, 5, "a");
	kchat(e, 0, 1, 15, "a"); /* group 0 at T+15: window P0 closes */
	ck_assert_uint_eq(out.n_rows, 1);
	check_row(&out.rows[0], "s", P0, 0, 10, 1, 1);
	int64_t lo, hi;
	engine_watermark_range(e, &lo, &hi);
	ck_assert_int_eq(lo, TIME_NEG_INF); /* group 1 */
	ck_assert_int_eq(hi, AT(15));       /* group 0 */
	int32_t parts[4];
	ck_assert_uint_eq(engine_group_partitions(e, parts, 4), 2);
	ck_assert_int_eq(out.notices, 0);
	kchat(e, 1, 0, 16, "b");
	ck_assert_int_eq(out.notices, 1);
	ck_assert_ptr_nonnull(strstr(out.notice, "\"s\""));
	kchat(e, 1, 1, 17, "b");
	kchat(e, 0, 2, 18, "a");
	ck_assert_int_eq(out.notices, 1);
	engine_free(e);
}
END_TEST

START_TEST(keying_check_over_many_streams)
{
	/* The keying table grows past its first size: 3 000 streams on
	 * partition 0, then each again on partition 0 (no notice) and on
	 * partition 1 (one notice each, once). */
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 1);
	enum { N = 3000 };
	char payload[256];
	for (int round = 0; round < 4; round++) {
		int32_t part = round < 2 ? 0 : 1;
		for (int i = 0; i < N; i++) {
			snprintf(payload, sizeof(payload),
			         "{\"timestamp\":%lld,\"stream_id\":\"k%d\",\"user_id\":\"u\","
			         "\"message\":\"hi\"}",
			         (long long)(T + round), i);
			ck_assert_int_eq(engine_message(e, SV_LIT(CHAT_TOPIC), part,
			                                (int64_t)round * N + i, payload, strlen(payload)),
			                 0);
		}
		ck_assert_int_eq(out.notices, round < 2 ? 0 : N);
	}
	ck_assert_ptr_nonnull(strstr(out.notice, "\"k2999\""));
	engine_free(e);
}
END_TEST

/* --- envelopes and control records in a file --------------------------------- */

START_TEST(envelopes_and_controls)
{
	/* W = S = 10 s, D = 0. */
	const int64_t P0 = T / 10;
	static const char *const lines[] = {
		/* 1 */ "{\"control\":\"lane_open\",\"topic\":\"" CHAT_TOPIC "\",\"partition\":0}",
		/* 2 */ "{\"control\":\"lane_open\",\"topic\":\"" VIEWER_TOPIC "\",\"partition\":0}",
		/* 3: the topic says viewer, even with a message in the payload */
		"{\"topic\":\"" VIEWER_TOPIC "\",\"partition\":0,\"offset\":10,\"timestamp_ms\":0,"
		"\"key\":null,\"value\":\"{\\\"timestamp\\\":1700000001,\\\"stream_id\\\":\\\"s\\\","
		"\\\"viewer_count\\\":5,\\\"message\\\":\\\"x\\\"}\"}",
		/* 4 */
		"{\"topic\":\"" CHAT_TOPIC "\",\"partition\":0,\"offset\":20,\"value\":\"{\\\"timestamp\\\":"
		"1700000002,\\\"stream_id\\\":\\\"s\\\",\\\"user_id\\\":\\\"u\\\",\\\"message\\\":"
		"\\\"good\\\"}\"}",
		/* 5: a tombstone */
		"{\"topic\":\"" CHAT_TOPIC "\",\"partition\":0,\"offset\":21,\"value\":null}",
		/* 6: a bad payload, kept as received */
		"{\"topic\":\"" CHAT_TOPIC "\",\"partition\":0,\"offset\":22,\"value\":\"{\\\"oops\\\"\"}",
		/* 7: a payload that was not UTF-8 */
		"{\"topic\":\"" CHAT_TOPIC "\",\"partition\":0,\"offset\":23,\"value_base64\":\"/w==\"}",
		/* 8: a bad envelope */
		"{\"topic\":\"" CHAT_TOPIC "\",\"partition\":-1,\"offset\":24,\"value\":\"{}\"}",
		/* 9: a bad control record */
		"{\"control\":\"rewind\",\"topic\":\"t\",\"partition\":0}",
		/* 10: advance to T+40: window P0 closes */
		"{\"control\":\"advance\",\"watermark\":\"2023-11-14T22:14:00Z\"}",
		/* 11: an unknown topic: the kind comes from "type"; a new lane */
		"{\"topic\":\"other\",\"partition\":0,\"offset\":1,\"value\":\"{\\\"type\\\":\\\"chat\\\","
		"\\\"timestamp\\\":1700000041,\\\"stream_id\\\":\\\"s\\\",\\\"user_id\\\":\\\"u\\\","
		"\\\"message\\\":\\\"bad\\\"}\"}",
	};
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	for (size_t i = 0; i < 11; i++) {
		ck_assert_int_eq(line(e, (int64_t)i + 1, lines[i]), 0);
		if (i == 8)
			ck_assert_uint_eq(out.n_rows, 0);
	}
	ck_assert_uint_eq(out.n_rows, 1); /* the advance closed window P0 */
	ck_assert_int_eq(gwm(e), AT(40));
	ck_assert_int_eq(engine_finish(e, true), 0);

	ck_assert_uint_eq(out.n_rows, 2);
	check_row(&out.rows[0], "s", P0, 0, 10, 1, 1);
	ck_assert(out.rows[0].has_viewers);
	ck_assert_double_eq_tol(out.rows[0].avg_viewers, 5, TOL);
	ck_assert_double_eq_tol(out.rows[0].avg_sent, 1.0, TOL);
	check_row(&out.rows[1], "s", P0 + 4, 40, 50, 1, 1);
	ck_assert(!out.rows[1].has_viewers);
	ck_assert_double_eq_tol(out.rows[1].avg_sent, -1.0, TOL);

	ck_assert_uint_eq(out.n_dead, 5);
	/* payload problems are reported at topic/partition/offset */
	ck_assert_int_eq(out.dead[0].reason, DEAD_NOT_JSON);
	ck_assert_str_eq(out.dead[0].source, CHAT_TOPIC);
	ck_assert_int_eq(out.dead[0].partition, 0);
	ck_assert_int_eq(out.dead[0].position, 21);
	ck_assert_uint_eq(out.dead[0].raw_len, 0);
	ck_assert_int_eq(out.dead[1].reason, DEAD_NOT_JSON);
	ck_assert_int_eq(out.dead[1].position, 22);
	ck_assert_str_eq(out.dead[1].raw, "{\"oops\"");
	ck_assert_int_eq(out.dead[2].reason, DEAD_NOT_JSON);
	ck_assert_int_eq(out.dead[2].position, 23);
	ck_assert_uint_eq(out.dead[2].raw_len, 1);
	ck_assert_int_eq((unsigned char)out.dead[2].raw[0], 0xff);
	/* line problems at file:line, with the whole line */
	ck_assert_int_eq(out.dead[3].reason, DEAD_BAD_ENVELOPE);
	ck_assert_str_eq(out.dead[3].source, "events.jsonl");
	ck_assert_int_eq(out.dead[3].partition, -1);
	ck_assert_int_eq(out.dead[3].position, 8);
	ck_assert_str_eq(out.dead[3].raw, lines[7]);
	ck_assert_ptr_nonnull(strstr(out.dead[3].detail, "\"partition\""));
	ck_assert_int_eq(out.dead[4].reason, DEAD_BAD_CONTROL);
	ck_assert_int_eq(out.dead[4].position, 9);

	const struct engine_stats *st = engine_stats(e);
	ck_assert_uint_eq(st->records, 11);
	ck_assert_uint_eq(st->controls, 3);
	ck_assert_uint_eq(st->chat, 2);
	ck_assert_uint_eq(st->viewer, 1);
	ck_assert_uint_eq(st->accepted, 3);
	ck_assert_uint_eq(st->dead[DEAD_NOT_JSON], 3);
	ck_assert_uint_eq(st->dead[DEAD_BAD_ENVELOPE], 1);
	ck_assert_uint_eq(st->dead[DEAD_BAD_CONTROL], 1);
	ck_assert_uint_eq(st->dead_total, 5);
	ck_assert_int_eq(out.notices, 0); /* stream "s" only ever on partition 0 */
	engine_free(e);
}
END_TEST

START_TEST(events_that_look_like_captures)
{
	/* Issue 9 items 7 and 11.  W = S = 10 s, D = 0, bare events. */
	struct buf deep = BUF_INIT;
	buf_adds(&deep, "{\"timestamp\":1700000003,\"stream_id\":\"s\",\"user_id\":\"d\","
	                "\"message\":\"m\",\"extra\":");
	for (int i = 0; i < 200; i++)
		buf_adds(&deep, "[");
	for (int i = 0; i < 200; i++)
		buf_adds(&deep, "]");
	buf_adds(&deep, "}");
	const char *lines[] = {
		/* an event with envelope fields stays an event */
		"{\"timestamp\":1700000001,\"stream_id\":\"s\",\"user_id\":\"a\",\"message\":\"m\","
		"\"topic\":\"x\",\"partition\":0,\"offset\":1}",
		/* and one with a control field */
		"{\"timestamp\":1700000002,\"stream_id\":\"s\",\"viewer_count\":7,"
		"\"control\":\"lane_open\"}",
		/* an ignored field 200 levels deep */
		deep.data,
		/* a topic with a NUL: a bad envelope, not a new lane */
		"{\"topic\":\"" CHAT_TOPIC "\\u0000x\",\"partition\":0,\"offset\":2,\"value\":\"{}\"}",
		"{\"control\":\"lane_open\",\"topic\":\"a\\u0000\",\"partition\":0}",
	};
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ck_assert_int_eq(line(e, (int64_t)i + 1, lines[i]), 0);
	ck_assert_int_eq(engine_finish(e, true), 0);
	const struct engine_stats *st = engine_stats(e);
	ck_assert_uint_eq(st->accepted, 3);
	ck_assert_uint_eq(st->chat, 2);
	ck_assert_uint_eq(st->viewer, 1);
	ck_assert_uint_eq(out.n_rows, 1);
	ck_assert_int_eq(out.rows[0].chat, 2);
	ck_assert_uint_eq(out.n_dead, 2);
	ck_assert_int_eq(out.dead[0].reason, DEAD_BAD_ENVELOPE);
	ck_assert_int_eq(out.dead[0].position, 4);
	ck_assert_ptr_nonnull(strstr(out.dead[0].detail, "NUL"));
	ck_assert_int_eq(out.dead[1].reason, DEAD_BAD_CONTROL);
	/* no lane was opened by either: the only group is the bare events' */
	int32_t parts[4];
	ck_assert_uint_eq(engine_group_partitions(e, parts, 4), 1);
	ck_assert_int_eq(parts[0], -1);
	engine_free(e);
	buf_free(&deep);
}
END_TEST

START_TEST(idle_lane_and_advance)
{
	/* W = S = 10 s, D = 0; lanes chat/0 and viewer/0 (one group) assigned.
	 *   chat T+5, chat T+25: the viewer lane has nothing: global -inf, no row
	 *   viewer lane idle: global = T+25: window P0 [T, T+10) closes
	 *   viewer T+12: the lane reopens; window P0+1 [T+10, T+20) is closed: late
	 *   viewer T+27 (4 viewers): window P0+2; global min(T+25, T+27) = T+25
	 *   advance T+40: windows up to P0+3 close: P0+2 = {chat T+25, viewer T+27}
	 *   finish without flush: nothing more. */
	const int64_t P0 = T / 10;
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	engine_lane_open(e, SV_LIT(VIEWER_TOPIC), 0);
	ck_assert_int_eq(kchat(e, 0, 0, 5, "a"), 0);
	ck_assert_int_eq(kchat(e, 0, 1, 25, "a"), 0);
	ck_assert_uint_eq(out.n_rows, 0);
	ck_assert_int_eq(gwm(e), TIME_NEG_INF);
	/* idling a lane that does not exist changes nothing */
	ck_assert_int_eq(engine_lane_idle(e, SV_LIT(VIEWER_TOPIC), 7), 0);
	ck_assert_int_eq(engine_lane_idle(e, SV_LIT("nope"), 0), 0);
	ck_assert_int_eq(gwm(e), TIME_NEG_INF);
	ck_assert_int_eq(engine_lane_idle(e, SV_LIT(VIEWER_TOPIC), 0), 0);
	ck_assert_int_eq(gwm(e), AT(25));
	ck_assert_uint_eq(out.n_rows, 1);
	check_row(&out.rows[0], "s", P0, 0, 10, 1, 1);
	ck_assert_int_eq(kviewer(e, 0, 0, 12, 3), 0);
	ck_assert_uint_eq(out.n_dead, 1);
	ck_assert_int_eq(out.dead[0].reason, DEAD_LATE);
	ck_assert_str_eq(out.dead[0].source, VIEWER_TOPIC);
	ck_assert_int_eq(kviewer(e, 0, 1, 27, 4), 0);
	ck_assert_int_eq(gwm(e), AT(25));
	ck_assert_int_eq(engine_advance(e, AT(40)), 0);
	ck_assert_int_eq(gwm(e), AT(40));
	ck_assert_uint_eq(out.n_rows, 2);
	check_row(&out.rows[1], "s", P0 + 2, 20, 30, 1, 1);
	ck_assert(out.rows[1].has_viewers);
	ck_assert_double_eq_tol(out.rows[1].avg_viewers, 4, TOL);
	/* an advance backwards is ignored */
	ck_assert_int_eq(engine_advance(e, AT(0)), 0);
	ck_assert_int_eq(gwm(e), AT(40));
	ck_assert_int_eq(engine_finish(e, false), 0);
	ck_assert_uint_eq(out.n_rows, 2);
	engine_free(e);
}
END_TEST

START_TEST(lane_close_releases_minimum)
{
	/* A lane closed while its group stays (the partition's other topic is
	 * still ours) leaves the minimum for good; what that lets through is
	 * emitted with the group's next record, not by the close itself. */
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	engine_lane_open(e, SV_LIT(VIEWER_TOPIC), 0);
	kchat(e, 0, 0, 5, "a");
	kchat(e, 0, 1, 15, "a");
	ck_assert_uint_eq(out.n_rows, 0);
	ck_assert_int_eq(engine_lane_close(e, SV_LIT(VIEWER_TOPIC), 0), 0);
	ck_assert_int_eq(gwm(e), AT(15));
	ck_assert_uint_eq(out.n_rows, 0);
	kchat(e, 0, 2, 16, "a");
	ck_assert_uint_eq(out.n_rows, 1); /* window P0 */
	engine_free(e);
}
END_TEST

START_TEST(group_leaves_with_its_lanes)
{
	/* The CI failure of the two-daemon test, in miniature: partition 0 is
	 * revoked while its viewer lane is ahead of its chat lane.  Closing
	 * chat/0 first must not finalize [0, 10) against viewer/0 alone (a row
	 * without the chat still to come, which would overwrite the next
	 * owner's); once viewer/0 closes too, the group has left: nothing is
	 * emitted, not even by a final flush. */
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	engine_lane_open(e, SV_LIT(VIEWER_TOPIC), 0);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 1);
	engine_lane_open(e, SV_LIT(VIEWER_TOPIC), 1);
	kchat(e, 0, 0, 5, "a");
	kviewer(e, 0, 0, 25, 100);
	kchat(e, 1, 0, 5, "b");
	ck_assert_int_eq(engine_lane_close(e, SV_LIT(CHAT_TOPIC), 0), 0);
	ck_assert_uint_eq(out.n_rows, 0);
	ck_assert_int_eq(engine_lane_close(e, SV_LIT(VIEWER_TOPIC), 0), 0);
	int32_t parts[4];
	ck_assert_uint_eq(engine_group_partitions(e, parts, 4), 1);
	ck_assert_int_eq(parts[0], 1);
	ck_assert_int_eq(engine_finish(e, true), 0);
	ck_assert_uint_eq(out.n_rows, 1); /* partition 1's window only */
	ck_assert_int_eq(out.rows[0].chat, 1);
	ck_assert(!out.rows[0].has_viewers);
	engine_free(e);
}
END_TEST

START_TEST(closed_group_comes_back_as_it_left)
{
	/* A daemon given its partition back resumes the group from the
	 * checkpoint it committed at the close; a replay of its capture must
	 * do the same, not start the group empty: the window open at the close
	 * counts the chats from before it and after. */
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	kchat(e, 0, 0, 1, "a");
	kchat(e, 0, 1, 2, "b");
	ck_assert_int_eq(engine_lane_close(e, SV_LIT(CHAT_TOPIC), 0), 0);
	ck_assert_uint_eq(engine_group_partitions(e, NULL, 0), 0); /* it has left */
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	kchat(e, 0, 2, 3, "c");
	kchat(e, 0, 3, 15, "c");
	ck_assert_uint_eq(out.n_rows, 1);
	ck_assert_int_eq(out.rows[0].chat, 3);
	ck_assert_int_eq(engine_finish(e, true), 0);
	engine_free(e);

	/* A group dropped after its close (what the daemon does) is gone. */
	memset(&out, 0, sizeof(out));
	e = engine(&c, &out);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	kchat(e, 0, 0, 1, "a");
	engine_lane_close(e, SV_LIT(CHAT_TOPIC), 0);
	engine_drop_group(e, 0);
	engine_lane_open(e, SV_LIT(CHAT_TOPIC), 0);
	kchat(e, 0, 1, 3, "c");
	kchat(e, 0, 2, 15, "c");
	ck_assert_uint_eq(out.n_rows, 1);
	ck_assert_int_eq(out.rows[0].chat, 1);
	engine_free(e);
}
END_TEST

/* --- merged moments --------------------------------------------------------------- */

/* W = S = 10 s, D = 0, N = min_history = 3, floor 0.1/s, threshold 3. */
static struct core_config merge_config(bool merge)
{
	struct core_config c = config(10, 10, 0);
	c.detect.det[DETECTOR_CHAT_SPIKE] = (struct detector_config){true, 3, 3, 0.1, 3.0};
	c.detect.merge = merge;
	return c;
}

/* count chat lines in window P0 + w, at T + 10w + j. */
static void window_chats(struct engine *e, int64_t *no, int64_t w, int count)
{
	for (int j = 0; j < count; j++) {
		char l[256];
		snprintf(l, sizeof(l),
		         "{\"timestamp\":%lld,\"stream_id\":\"s\",\"user_id\":\"u%d\",\"message\":\"m\"}",
		         (long long)(T + 10 * w + j), j);
		ck_assert_int_eq(line(e, ++*no, l), 0);
	}
}

/* Windows P0 .. P0+4 with 1, 1, 1, 5, 10 messages: chat rates 0.1, 0.1,
 * 0.1, 0.5, 1.0.  P0+3: z = 0.4/0.1 = 4.  P0+4 vs {.1,.1,.5}: mean 7/30,
 * sd 4√2/30, z = 23/(4√2) = 4.0659.  Both anomalous: one episode. */
static void spike(struct engine *e, int64_t *no)
{
	static const int counts[] = {1, 1, 1, 5, 10};
	for (int w = 0; w < 5; w++)
		window_chats(e, no, w, counts[w]);
}

static void check_episode(const struct out *o)
{
	ck_assert_uint_eq(o->n_moms, 1);
	ck_assert_str_eq(o->moms[0].stream, "s");
	ck_assert_str_eq(o->moms[0].type, "chat_spike");
	ck_assert_int_eq(o->moms[0].time_us, AT(30)); /* first window's start */
	ck_assert_int_eq(o->moms[0].end_us, AT(50));  /* last window's end */
	ck_assert_double_eq_tol(o->moms[0].intensity, 23.0 / (4.0 * sqrt(2.0)), TOL); /* peak */
}

/* --- checkpoints ------------------------------------------------------------------ */

/* A checkpoint taken mid-run and loaded into a fresh engine must carry on
 * exactly as the engine it came from: same rows, same moments, including
 * an open merged run, pane contents (chatters, emotes, viewers) and the
 * detector history, which all travel in the state. */
START_TEST(checkpoint_resumes_exactly)
{
	struct core_config c = merge_config(true);
	struct out a = {0}, b = {0};
	struct engine *ea = engine(&c, &a);
	int64_t no = 0;
	static const int counts[] = {1, 1, 1, 5};
	for (int w = 0; w < 4; w++)
		window_chats(ea, &no, w, counts[w]);
	char l[256];
	snprintf(l, sizeof(l), "{\"timestamp\":%lld,\"stream_id\":\"s\",\"viewer_count\":42}",
	         (long long)(T + 40));
	ck_assert_int_eq(line(ea, ++no, l), 0); /* closes window 3: an anomalous run opens */
	snprintf(l, sizeof(l),
	         "{\"timestamp\":%lld,\"stream_id\":\"s\",\"user_id\":\"x\",\"message\":\"pog\","
	         "\"emotes\":[\"Kappa\",\"Kappa\"]}",
	         (long long)(T + 41));
	ck_assert_int_eq(line(ea, ++no, l), 0);
	ck_assert_uint_eq(a.n_moms, 0); /* the run is open, nothing emitted yet */

	char *state = engine_save_group(ea, -1);
	ck_assert_ptr_nonnull(state);
	ck_assert_ptr_null(engine_save_group(ea, 7)); /* no such group */
	struct engine *eb = engine(&c, &b);
	struct error err;
	ck_assert_msg(engine_load_group(eb, state, strlen(state), &err), "%s", err.msg);
	/* Saving the loaded group gives the same text: nothing was lost. */
	char *again = engine_save_group(eb, -1);
	ck_assert_str_eq(again, state);
	free(again);
	free(state);

	a = (struct out){0};
	int64_t no_b = no;
	for (int j = 2; j < 10; j++) { /* the rest of window 4, then a calm window 5 */
		snprintf(l, sizeof(l),
		         "{\"timestamp\":%lld,\"stream_id\":\"s\",\"user_id\":\"v%d\",\"message\":\"m\"}",
		         (long long)(T + 40 + j), j);
		ck_assert_int_eq(line(ea, ++no, l), 0);
		ck_assert_int_eq(line(eb, ++no_b, l), 0);
	}
	window_chats(ea, &no, 5, 1);
	window_chats(eb, &no_b, 5, 1);
	ck_assert_int_eq(engine_finish(ea, true), 0);
	ck_assert_int_eq(engine_finish(eb, true), 0);

	ck_assert_uint_gt(a.n_rows, 0);
	ck_assert_uint_eq(a.n_rows, b.n_rows);
	ck_assert_uint_eq(a.n_moms, 1); /* the run over windows 3 and 4 */
	ck_assert_uint_eq(b.n_moms, 1);
	ck_assert_mem_eq(a.rows, b.rows, a.n_rows * sizeof(a.rows[0]));
	ck_assert_mem_eq(a.moms, b.moms, sizeof(a.moms[0]));
	ck_assert_int_eq(b.moms[0].time_us, AT(30));
	engine_free(ea);
	engine_free(eb);
}
END_TEST

START_TEST(checkpoint_rejects_garbage)
{
	struct core_config c = merge_config(false);
	struct out o = {0};
	struct engine *e = engine(&c, &o);
	struct error err;
	ck_assert(!engine_load_group(e, "not json", 8, &err));
	const char *v2 = "{\"version\":2,\"partition\":0,\"global\":null,\"lanes\":[],"
	                 "\"windows\":{\"closed_k\":null,\"streams\":[]},\"detectors\":{}}";
	ck_assert(!engine_load_group(e, v2, strlen(v2), &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "version 2"));
	size_t n = engine_group_partitions(e, NULL, 0);
	ck_assert_uint_eq(n, 0);
	engine_free(e);
}
END_TEST

START_TEST(merged_moment_ends_on_normal_window)
{
	struct core_config c = merge_config(true);
	struct engine *e = engine(&c, &out);
	int64_t no = 0;
	spike(e, &no);
	window_chats(e, &no, 5, 1); /* T+50: closes P0+4; the run is open */
	ck_assert_uint_eq(out.n_rows, 5);
	ck_assert_uint_eq(out.n_moms, 0);
	/* T+60 closes P0+5, which is not anomalous: the episode ends */
	window_chats(e, &no, 6, 1);
	ck_assert_uint_eq(out.n_rows, 6);
	check_episode(&out);
	for (int i = 0; i < 3; i++)
		ck_assert(!out.rows[i].has_z);
	ck_assert(out.rows[3].anomaly);
	ck_assert_double_eq_tol(out.rows[3].z, 4.0, TOL);
	ck_assert(out.rows[4].anomaly);
	ck_assert_double_eq_tol(out.rows[4].z, 23.0 / (4.0 * sqrt(2.0)), TOL);
	/* P0+5 (0.1) vs {.1,.5,1}: z = -13/√122 */
	ck_assert(!out.rows[5].anomaly);
	ck_assert_double_eq_tol(out.rows[5].z, -13.0 / sqrt(122.0), TOL);
	ck_assert_int_eq(engine_finish(e, true), 0);
	ck_assert_uint_eq(out.n_moms, 1);
	ck_assert_uint_eq(engine_stats(e)->moments, 1);
	engine_free(e);
}
END_TEST

START_TEST(merged_moment_ends_on_empty_window)
{
	struct core_config c = merge_config(true);
	struct engine *e = engine(&c, &out);
	int64_t no = 0;
	spike(e, &no); /* last line T+49: P0+3 closed, P0+4 open */
	ck_assert_uint_eq(out.n_rows, 4);
	ck_assert_uint_eq(out.n_moms, 0);
	/* T+60: closes P0+4 (anomalous, the run grows) and P0+5 (empty): the
	 * run cannot grow any more */
	window_chats(e, &no, 6, 1);
	ck_assert_uint_eq(out.n_rows, 5);
	check_episode(&out);
	ck_assert_int_eq(engine_finish(e, true), 0);
	ck_assert_uint_eq(out.n_moms, 1);
	engine_free(e);
}
END_TEST

START_TEST(merged_moment_final_flush)
{
	struct core_config c = merge_config(true);
	struct engine *e = engine(&c, &out);
	int64_t no = 0;
	spike(e, &no);
	ck_assert_int_eq(engine_finish(e, true), 0); /* closes P0+4, ends the run */
	ck_assert_uint_eq(out.n_rows, 5);
	check_episode(&out);
	engine_free(e);
}
END_TEST

START_TEST(merged_moment_no_final_flush)
{
	struct core_config c = merge_config(true);
	struct engine *e = engine(&c, &out);
	int64_t no = 0;
	spike(e, &no);
	ck_assert_int_eq(engine_finish(e, false), 0); /* like a live daemon stopping */
	ck_assert_uint_eq(out.n_rows, 4);
	ck_assert_uint_eq(out.n_moms, 0);
	engine_free(e);
}
END_TEST

START_TEST(unmerged_moments)
{
	struct core_config c = merge_config(false);
	struct engine *e = engine(&c, &out);
	int64_t no = 0;
	spike(e, &no);
	ck_assert_uint_eq(out.n_moms, 1); /* P0+3 closed at T+49 */
	ck_assert_int_eq(out.moms[0].time_us, AT(30));
	ck_assert_int_eq(out.moms[0].end_us, AT(40));
	ck_assert_double_eq_tol(out.moms[0].intensity, 4.0, TOL);
	ck_assert_int_eq(engine_finish(e, true), 0);
	ck_assert_uint_eq(out.n_moms, 2);
	ck_assert_int_eq(out.moms[1].time_us, AT(40));
	ck_assert_int_eq(out.moms[1].end_us, AT(50));
	ck_assert_double_eq_tol(out.moms[1].intensity, 23.0 / (4.0 * sqrt(2.0)), TOL);
	engine_free(e);
}
END_TEST

/* --- plumbing ------------------------------------------------------------------ */

START_TEST(callbacks_can_stop)
{
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	out.dead_rc = 5;
	ck_assert_int_eq(line(e, 1, "nope"), 5);
	out.dead_rc = 0;
	ck_assert_int_eq(line(e, 2, "{\"timestamp\":1700000001,\"stream_id\":\"s\",\"viewer_count\":1}"),
	                 0);
	out.window_rc = 9;
	ck_assert_int_eq(engine_finish(e, true), 9);
	ck_assert_uint_eq(out.n_rows, 1);
	engine_free(e);
}
END_TEST

START_TEST(reject_and_too_large)
{
	struct core_config c = config(10, 10, 0);
	struct engine *e = engine(&c, &out);
	struct record_pos pos = {SV_LIT("big.jsonl"), -1, 12};
	ck_assert_int_eq(engine_reject(e, &pos, DEAD_TOO_LARGE, "line too long", "abc", 3), 0);
	ck_assert_uint_eq(out.n_dead, 1);
	ck_assert_int_eq(out.dead[0].reason, DEAD_TOO_LARGE);
	ck_assert_str_eq(out.dead[0].source, "big.jsonl");
	ck_assert_int_eq(out.dead[0].position, 12);
	ck_assert_str_eq(out.dead[0].detail, "line too long");
	ck_assert_str_eq(out.dead[0].raw, "abc");

	/* a valid event line of 1 MiB + 1 byte, and as much junk */
	size_t n = 1024 * 1024 + 1;
	char *big = malloc(n + 1);
	const char *head = "{\"timestamp\":1700000001,\"stream_id\":\"s\",\"viewer_count\":1,\"pad\":\"";
	size_t h = strlen(head);
	memcpy(big, head, h);
	memset(big + h, 'x', n - h - 2);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	ck_assert_int_eq(engine_line(e, SV_LIT("big.jsonl"), 13, big, n), 0);
	memset(big, 'x', n);
	ck_assert_int_eq(engine_line(e, SV_LIT("big.jsonl"), 14, big, n), 0);
	free(big);
	ck_assert_uint_eq(out.n_dead, 3);
	ck_assert_int_eq(out.dead[1].reason, DEAD_TOO_LARGE);
	ck_assert_int_eq(out.dead[1].position, 13);
	ck_assert_uint_eq(out.dead[1].raw_len, n);
	ck_assert_int_eq(out.dead[2].reason, DEAD_TOO_LARGE);
	ck_assert_uint_eq(engine_stats(e)->records, 3);
	ck_assert_uint_eq(engine_stats(e)->dead[DEAD_TOO_LARGE], 3);
	ck_assert_uint_eq(engine_stats(e)->accepted, 0);
	engine_free(e);
}
END_TEST

Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, basic_rows_final_flush);
	tcase_add_test(tc, basic_rows_no_final_flush);
	suite_add_tcase(s, tc);
	tc = tcase_create("lanes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lane_ahead_skips_only_its_windows);
	tcase_add_test(tc, lane_interleaving_does_not_matter);
	tcase_add_test(tc, single_lane_same_events);
	tcase_add_test(tc, partitions_are_separate_groups);
	tcase_add_test(tc, keying_check_over_many_streams);
	tcase_add_test(tc, envelopes_and_controls);
	tcase_add_test(tc, events_that_look_like_captures);
	tcase_add_test(tc, idle_lane_and_advance);
	tcase_add_test(tc, lane_close_releases_minimum);
	tcase_add_test(tc, closed_group_comes_back_as_it_left);
	tcase_add_test(tc, group_leaves_with_its_lanes);
	suite_add_tcase(s, tc);
	tc = tcase_create("moments");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, merged_moment_ends_on_normal_window);
	tcase_add_test(tc, merged_moment_ends_on_empty_window);
	tcase_add_test(tc, merged_moment_final_flush);
	tcase_add_test(tc, merged_moment_no_final_flush);
	tcase_add_test(tc, unmerged_moments);
	suite_add_tcase(s, tc);
	tc = tcase_create("plumbing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, callbacks_can_stop);
	tcase_add_test(tc, reject_and_too_large);
	tcase_add_test(tc, checkpoint_resumes_exactly);
	tcase_add_test(tc, checkpoint_rejects_garbage);
	suite_add_tcase(s, tc);
	return s;
}
