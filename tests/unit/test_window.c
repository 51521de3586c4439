/*
 * test_window.c — pane arithmetic, sliding and tumbling windows, lateness
 * cuts (slices), aggregates and top-K (SPEC §4, core/window.h).
 *
 * Notation in comments: S = slide, W = size, n = W/S; pane p covers
 * [pS, (p+1)S); window k covers [kS, kS + W) = panes k .. k+n-1 and closes
 * when the watermark reaches (k+n)S.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/lexicon.h"
#include "core/state.h"
#include "core/window.h"
#include "unit.h"

#define MAX_ROWS 64
#define MAX_TOP 8

struct row {
	char stream[32];
	int64_t k, start, end;
	int64_t chat, unique, pos, neg, score_sum, viewer_events;
	int64_t pane_chat, pane_chatters, pane_emoters, pane_fresh;
	bool has_sent, has_viewers;
	double avg_sent, rate, avg_viewers;
	size_t n_top;
	char top[MAX_TOP][32];
	uint32_t top_count[MAX_TOP];
};

struct rows {
	struct row r[MAX_ROWS];
	size_t n;
};

static int collect(void *ctx, struct window_row *w)
{
	struct rows *rs = ctx;
	ck_assert_uint_lt(rs->n, MAX_ROWS);
	struct row *r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->stream, sizeof(r->stream), "%s", sv_z(w->stream_id));
	r->k = w->k;
	r->start = w->start_us;
	r->end = w->end_us;
	r->chat = w->chat_count;
	r->unique = w->unique_chatters;
	r->pos = w->positive_count;
	r->neg = w->negative_count;
	r->score_sum = w->score_sum;
	r->viewer_events = w->viewer_events;
	r->pane_chat = w->pane_chat_count;
	r->pane_chatters = w->pane_chatters;
	r->pane_emoters = w->pane_emote_chatters;
	r->pane_fresh = w->pane_fresh_emote_chatters;
	r->has_sent = w->has_sentiment;
	r->has_viewers = w->has_viewers;
	r->avg_sent = w->avg_sentiment;
	r->rate = w->chat_rate;
	r->avg_viewers = w->avg_viewers;
	ck_assert_uint_le(w->n_top_emotes, MAX_TOP);
	r->n_top = w->n_top_emotes;
	for (size_t i = 0; i < w->n_top_emotes; i++) {
		snprintf(r->top[i], sizeof(r->top[i]), "%s", sv_z(w->top_emotes[i]));
		r->top_count[i] = w->top_emote_counts[i];
	}
	return 0;
}

/* A new windower loaded from w's checkpoint (the caller frees it), after
 * checking that the saved text holds `must_hold` when it is not NULL. */
static struct windower *reloaded(const struct windower *w, const struct window_config *cfg,
                                 const char *must_hold)
{
	struct buf saved = BUF_INIT;
	windower_save(w, &saved);
	if (must_hold)
		ck_assert_ptr_nonnull(strstr(saved.data, must_hold));
	struct state_error jerr;
	struct state *state = state_parse(saved.data, saved.len, &jerr);
	ck_assert_msg(state != NULL, "%s", jerr.text);
	struct windower *back = windower_new(cfg);
	struct error err;
	ck_assert_msg(windower_load(back, state, &err), "%s", err.msg);
	state_free(state);
	buf_free(&saved);
	return back;
}

static struct windower *make(int64_t size_s, int64_t slide_s, unsigned top_k)
{
	struct window_config cfg = {SEC(size_s), SEC(slide_s), top_k, 0};
	return windower_new(&cfg);
}

/* Add a chat with no lane watermark (first window from windower_admit). */
static void chat(struct windower *w, const char *stream, int64_t t, const char *who,
                 int64_t score, const char *const *emotes, size_t n_emotes)
{
	struct strview ev[8];
	ck_assert_uint_le(n_emotes, 8);
	for (size_t i = 0; i < n_emotes; i++)
		ev[i] = sv_make(emotes[i], strlen(emotes[i]));
	int64_t first = windower_admit(w, t, TIME_NEG_INF);
	ck_assert(first != WINDOW_LATE);
	struct chat_contribution c = {score, sv_make(who, strlen(who)), ev, n_emotes};
	windower_add_chat(w, windower_stream(w, sv_make(stream, strlen(stream))), t, first, &c);
}

static void chat_at(struct windower *w, const char *stream, int64_t t, int64_t first_k,
                    const char *who)
{
	struct chat_contribution c = {0, sv_make(who, strlen(who)), NULL, 0};
	windower_add_chat(w, windower_stream(w, sv_make(stream, strlen(stream))), t, first_k, &c);
}

static void viewer(struct windower *w, const char *stream, int64_t t, int64_t count)
{
	int64_t first = windower_admit(w, t, TIME_NEG_INF);
	ck_assert(first != WINDOW_LATE);
	windower_add_viewer(w, windower_stream(w, sv_make(stream, strlen(stream))), t, first, count);
}

START_TEST(admit_pane_arithmetic)
{
	/* W = 30 s, S = 10 s: n = 3; an event at t is in windows p-2 .. p. */
	struct windower *w = make(30, 10, 10);
	ck_assert_int_eq(windower_admit(w, SEC(25), TIME_NEG_INF), 0);     /* p = 2 */
	ck_assert_int_eq(windower_admit(w, SEC(20), TIME_NEG_INF), 0);     /* boundary: p = 2 */
	ck_assert_int_eq(windower_admit(w, SEC(20) - 1, TIME_NEG_INF), -1); /* p = 1 */
	ck_assert_int_eq(windower_admit(w, 0, TIME_NEG_INF), -2);
	ck_assert_int_eq(windower_admit(w, SEC(1763901296), TIME_NEG_INF), 176390129 - 2);
	/* before 1970: panes floor, not truncate */
	ck_assert_int_eq(windower_admit(w, -1, TIME_NEG_INF), -3);           /* p = -1 */
	ck_assert_int_eq(windower_admit(w, -SEC(10), TIME_NEG_INF), -3);     /* p = -1 */
	ck_assert_int_eq(windower_admit(w, -SEC(10) - 1, TIME_NEG_INF), -4); /* p = -2 */
	ck_assert_int_eq(windower_admit(w, -SEC(25), TIME_NEG_INF), -5);     /* p = -3 */
	windower_free(w);
}
END_TEST

START_TEST(admit_lane_watermark)
{
	/* n = 3, S = 10 s.  Window k ends at (k+3)·10 s and counts only if that
	 * end is > the lane watermark L: k >= floor(L/S) - 3 + 1. */
	struct windower *w = make(30, 10, 10);
	int64_t L = SEC(90); /* windows ending after 90 s: k >= 7 */
	ck_assert_int_eq(windower_admit(w, SEC(85), L), 7);      /* p = 8: windows 7, 8 */
	ck_assert_int_eq(windower_admit(w, SEC(75), L), 7);      /* p = 7: window 7 only */
	ck_assert_int_eq(windower_admit(w, SEC(70), L), 7);      /* p = 7 */
	ck_assert_int_eq(windower_admit(w, SEC(70) - 1, L), WINDOW_LATE); /* p = 6 < 7 */
	ck_assert_int_eq(windower_admit(w, SEC(95), L), 7);      /* p = 9: 7, 8, 9 all end > 90 */
	ck_assert_int_eq(windower_admit(w, SEC(125), L), 10);    /* p = 12: 10..12, unaffected */
	/* an end equal to the watermark does not count: L = 90 s excludes
	 * window 6 = [60, 90); L = 90 s - 1 µs keeps it */
	ck_assert_int_eq(windower_admit(w, SEC(65), SEC(90) - 1), 6);
	ck_assert_int_eq(windower_admit(w, SEC(65), SEC(90)), WINDOW_LATE);
	/* negative watermarks */
	ck_assert_int_eq(windower_admit(w, -SEC(5), -SEC(10)), -3); /* p = -1; k >= -1-3+1 */
	ck_assert_int_eq(windower_admit(w, -SEC(15), -SEC(10)), -3); /* p = -2: k = -3 only */
	ck_assert_int_eq(windower_admit(w, -SEC(25), -SEC(10)), -3); /* [-30, 0) ends at 0 > -10 */
	/* t = -35 s: windows -6..-4 end at -30, -20, -10 s, none after -10 s */
	ck_assert_int_eq(windower_admit(w, -SEC(35), -SEC(10)), WINDOW_LATE);
	windower_free(w);
}
END_TEST

START_TEST(close_boundaries)
{
	/* An event at t = 0 is in windows -2, -1, 0 (ends 10, 20, 30 s); each is
	 * emitted once the watermark is >= its end, not before. */
	struct rows rs = {0};
	struct windower *w = make(30, 10, 10);
	chat(w, "s", 0, "u", 0, NULL, 0);
	ck_assert_int_eq(windower_closed_k(w), WINDOW_NONE_CLOSED);
	ck_assert_int_eq(windower_close(w, TIME_NEG_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 0);
	ck_assert_int_eq(windower_close(w, SEC(10) - 1, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 0);
	ck_assert_int_eq(windower_close(w, SEC(10), collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_eq(rs.r[0].k, -2);
	ck_assert_int_eq(rs.r[0].start, -SEC(20));
	ck_assert_int_eq(rs.r[0].end, SEC(10));
	ck_assert_int_eq(windower_closed_k(w), -2);
	ck_assert_int_eq(windower_next_close(w), SEC(20)); /* end of window -1 */
	ck_assert_int_eq(windower_close(w, SEC(20) - 1, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 1);
	/* a watermark that moves backwards closes nothing */
	ck_assert_int_eq(windower_close(w, SEC(5), collect, &rs), 0);
	ck_assert_int_eq(windower_closed_k(w), -2);
	/* one step closes two windows */
	ck_assert_int_eq(windower_close(w, SEC(30), collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_int_eq(rs.r[1].k, -1);
	ck_assert_int_eq(rs.r[2].k, 0);
	ck_assert_int_eq(rs.r[2].end, SEC(30));
	/* each window emitted exactly once */
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_int_eq(windower_next_close(w), TIME_POS_INF);
	windower_free(w);
}
END_TEST

START_TEST(before_1970)
{
	/* An event at t = -1 µs: pane -1, windows -3, -2, -1 =
	 * [-30, 0), [-20, 10), [-10, 20) seconds. */
	struct rows rs = {0};
	struct windower *w = make(30, 10, 10);
	chat(w, "s", -1, "u", 0, NULL, 0);
	ck_assert_int_eq(windower_close(w, 0, collect, &rs), 0); /* closes window -3 */
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 3);
	static const int64_t start[] = {-30, -20, -10};
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(rs.r[i].k, -3 + (int64_t)i);
		ck_assert_int_eq(rs.r[i].start, SEC(start[i]));
		ck_assert_int_eq(rs.r[i].end, SEC(start[i] + 30));
		ck_assert_int_eq(rs.r[i].chat, 1);
	}
	windower_free(w);

	/* Tumbling, a year before the epoch: 1969-01-01 = -365 days. */
	struct rows rt = {0};
	w = make(60, 60, 10);
	int64_t t = -SEC(365 * 86400) + SEC(59); /* 1969-01-01T00:00:59Z */
	chat(w, "s", t, "u", 0, NULL, 0);
	chat(w, "s", t + 1, "u", 0, NULL, 0); /* 00:00:59.000001 - same minute */
	chat(w, "s", t + SEC(1), "u", 0, NULL, 0); /* 00:01:00 - next minute */
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rt), 0);
	ck_assert_uint_eq(rt.n, 2);
	ck_assert_int_eq(rt.r[0].start, -SEC(365 * 86400));
	ck_assert_int_eq(rt.r[0].chat, 2);
	ck_assert_int_eq(rt.r[1].start, -SEC(365 * 86400) + SEC(60));
	ck_assert_int_eq(rt.r[1].chat, 1);
	windower_free(w);
}
END_TEST

START_TEST(tumbling_w_equals_s)
{
	/* W = S = 10 s: every event in exactly one window. */
	struct rows rs = {0};
	struct windower *w = make(10, 10, 10);
	ck_assert_int_eq(windower_admit(w, SEC(15), TIME_NEG_INF), 1);
	ck_assert_int_eq(windower_admit(w, SEC(10), TIME_NEG_INF), 1);
	ck_assert_int_eq(windower_admit(w, SEC(10) - 1, TIME_NEG_INF), 0);
	ck_assert_int_eq(windower_admit(w, -SEC(5), TIME_NEG_INF), -1);
	/* lane watermark 10 s: window 0 = [0, 10) ends at 10, not > 10 */
	ck_assert_int_eq(windower_admit(w, SEC(5), SEC(10)), WINDOW_LATE);
	ck_assert_int_eq(windower_admit(w, SEC(5), SEC(10) - 1), 0);
	chat(w, "s", SEC(5), "a", 0, NULL, 0);
	chat(w, "s", SEC(10), "a", 0, NULL, 0);
	chat(w, "s", SEC(15), "b", 0, NULL, 0);
	chat(w, "s", SEC(45), "a", 0, NULL, 0); /* windows 2, 3 stay empty */
	chat(w, "s", -SEC(5), "a", 0, NULL, 0);
	ck_assert_int_eq(windower_close(w, SEC(20), collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_int_eq(rs.r[0].k, -1);
	ck_assert_int_eq(rs.r[0].chat, 1);
	ck_assert_int_eq(rs.r[1].k, 0);
	ck_assert_int_eq(rs.r[1].chat, 1);
	ck_assert_int_eq(rs.r[2].k, 1);
	ck_assert_int_eq(rs.r[2].chat, 2);
	ck_assert_int_eq(rs.r[2].unique, 2);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 4); /* a row only for windows with an event */
	ck_assert_int_eq(rs.r[3].k, 4);
	ck_assert_int_eq(rs.r[3].start, SEC(40));
	ck_assert_int_eq(rs.r[3].end, SEC(50));
	windower_free(w);
}
END_TEST

START_TEST(closed_windows_make_events_late)
{
	struct rows rs = {0};
	struct windower *w = make(30, 10, 10);
	chat(w, "s", SEC(72), "u", 0, NULL, 0);
	/* watermark 75 s: windows ending <= 75 s, k + 3 <= 7, are closed */
	ck_assert_int_eq(windower_close(w, SEC(75), collect, &rs), 0);
	ck_assert_int_eq(windower_closed_k(w), 4);
	ck_assert_uint_eq(rs.n, 0); /* windows 5..7 hold the event; none closed */
	ck_assert_int_eq(windower_next_close(w), SEC(80));
	ck_assert_int_eq(windower_admit(w, SEC(55), TIME_NEG_INF), 5); /* p = 5: only window 5 */
	ck_assert_int_eq(windower_admit(w, SEC(50), TIME_NEG_INF), 5);
	ck_assert_int_eq(windower_admit(w, SEC(50) - 1, TIME_NEG_INF), WINDOW_LATE);
	ck_assert_int_eq(windower_admit(w, SEC(45), TIME_NEG_INF), WINDOW_LATE);
	/* the larger of the two cuts applies */
	ck_assert_int_eq(windower_admit(w, SEC(65), SEC(80)), 6);
	ck_assert_int_eq(windower_admit(w, SEC(65), SEC(20)), 5);
	windower_free(w);
}
END_TEST

START_TEST(aggregates)
{
	/* W = 20 s, S = 10 s.  Window 0 = [0, 20) gets everything below;
	 * window 1 = [10, 30) only pane 1. */
	const int64_t S = SCORE_SCALE;
	struct rows rs = {0};
	struct windower *w = make(20, 10, 10);
	chat(w, "s", SEC(1), "alice", S, NULL, 0);     /* +1 */
	chat(w, "s", SEC(2), "alice", 0, NULL, 0);     /*  0 */
	chat(w, "s", SEC(3), "bob", -S / 3, NULL, 0);  /* -1/3 */
	viewer(w, "s", SEC(4), 100);
	chat(w, "s", SEC(12), "alice", S / 3, NULL, 0); /* +1/3; alice again, other pane */
	viewer(w, "s", SEC(15), 201);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 3); /* windows -1, 0, 1 */
	const struct row *r = &rs.r[1];
	ck_assert_int_eq(r->k, 0);
	ck_assert_str_eq(r->stream, "s");
	ck_assert_int_eq(r->chat, 4);
	ck_assert_int_eq(r->unique, 2); /* alice counted once across panes */
	ck_assert_int_eq(r->pos, 2);
	ck_assert_int_eq(r->neg, 1);
	ck_assert_int_eq(r->score_sum, S); /* 1 + 0 - 1/3 + 1/3, exactly */
	ck_assert(r->has_sent);
	ck_assert_double_eq_tol(r->avg_sent, 0.25, 1e-15);
	ck_assert_double_eq_tol(r->rate, 0.2, 1e-15); /* 4 messages / 20 s */
	ck_assert(r->has_viewers);
	ck_assert_int_eq(r->viewer_events, 2);
	ck_assert_double_eq_tol(r->avg_viewers, 150.5, 1e-12);
	/* window -1 = [-10, 10): pane 0 only */
	r = &rs.r[0];
	ck_assert_int_eq(r->chat, 3);
	ck_assert_int_eq(r->unique, 2);
	ck_assert_double_eq_tol(r->avg_sent, 2.0 / 9.0, 1e-15); /* (1 + 0 - 1/3) / 3 */
	ck_assert_double_eq_tol(r->avg_viewers, 100.0, 1e-12);
	/* window 1 = [10, 30): pane 1 only */
	r = &rs.r[2];
	ck_assert_int_eq(r->chat, 1);
	ck_assert_int_eq(r->unique, 1);
	ck_assert_int_eq(r->pos, 1);
	ck_assert_double_eq_tol(r->avg_sent, 1.0 / 3.0, 1e-15);
	ck_assert_double_eq_tol(r->rate, 0.05, 1e-15);
	windower_free(w);
}
END_TEST

START_TEST(viewer_only_window)
{
	struct rows rs = {0};
	struct windower *w = make(10, 10, 10);
	viewer(w, "s", SEC(1), 7);
	viewer(w, "s", SEC(2), 0);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_eq(rs.r[0].chat, 0);
	ck_assert_int_eq(rs.r[0].unique, 0);
	ck_assert(!rs.r[0].has_sent); /* avg_sentiment NULL */
	ck_assert_double_eq(rs.r[0].rate, 0.0);
	ck_assert(rs.r[0].has_viewers);
	ck_assert_double_eq_tol(rs.r[0].avg_viewers, 3.5, 1e-12);
	ck_assert_uint_eq(rs.r[0].n_top, 0);
	windower_free(w);
}
END_TEST

START_TEST(top_k_ties)
{
	/* K = 3.  Counts: d 3, a 2, b 2, c 2, aa 1.  Count descending, ties by
	 * byte order ascending: d, a, b — c loses the tie for third place. */
	struct rows rs = {0};
	struct windower *w = make(10, 10, 3);
	static const char *const m1[] = {"c", "b", "a", "d"};
	static const char *const m2[] = {"d", "aa", "c"};
	static const char *const m3[] = {"b", "d", "a"};
	chat(w, "s", SEC(1), "u", 0, m1, 4);
	chat(w, "s", SEC(2), "u", 0, m2, 3);
	chat(w, "s", SEC(3), "u", 0, m3, 3);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_uint_eq(rs.r[0].n_top, 3);
	ck_assert_str_eq(rs.r[0].top[0], "d");
	ck_assert_uint_eq(rs.r[0].top_count[0], 3);
	ck_assert_str_eq(rs.r[0].top[1], "a");
	ck_assert_uint_eq(rs.r[0].top_count[1], 2);
	ck_assert_str_eq(rs.r[0].top[2], "b");
	ck_assert_uint_eq(rs.r[0].top_count[2], 2);
	windower_free(w);
}
END_TEST

START_TEST(top_k_byte_order)
{
	/* All tied at 1: byte order, shorter first on a common prefix:
	 * "Kappa" (0x4B) < "KappaHD" < "kappa" (0x6B) < "kappa\xc3\xa9". */
	struct rows rs = {0};
	struct windower *w = make(10, 10, 10);
	static const char *const m[] = {"kappa\xc3\xa9", "kappa", "KappaHD", "Kappa"};
	chat(w, "s", SEC(1), "u", 0, m, 4);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.r[0].n_top, 4); /* fewer than K: all of them */
	ck_assert_str_eq(rs.r[0].top[0], "Kappa");
	ck_assert_str_eq(rs.r[0].top[1], "KappaHD");
	ck_assert_str_eq(rs.r[0].top[2], "kappa");
	ck_assert_str_eq(rs.r[0].top[3], "kappa\xc3\xa9");
	windower_free(w);
}
END_TEST

START_TEST(top_k_across_panes)
{
	/* W = 30 s, S = 10 s.  x: 1 in pane 0, 2 in pane 1 -> 3 in window 0;
	 * y: 2 in pane 2 only.  Window 0 [0, 30): x 3, y 2.  Window 1 [10, 40):
	 * y 2, x 2 (tie, byte order puts x first).  Window 2 [20, 50): y 2. */
	struct rows rs = {0};
	struct windower *w = make(30, 10, 10);
	static const char *const x[] = {"x"}, *const xx[] = {"x", "x"}, *const yy[] = {"y", "y"};
	chat(w, "s", SEC(5), "u", 0, x, 1);
	chat(w, "s", SEC(15), "u", 0, xx, 2); /* the same emote twice in one message: 2 uses */
	chat(w, "s", SEC(25), "u", 0, yy, 2);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 5); /* windows -2 .. 2 */
	const struct row *r = &rs.r[2];
	ck_assert_int_eq(r->k, 0);
	ck_assert_uint_eq(r->n_top, 2);
	ck_assert_str_eq(r->top[0], "x");
	ck_assert_uint_eq(r->top_count[0], 3);
	ck_assert_str_eq(r->top[1], "y");
	ck_assert_uint_eq(r->top_count[1], 2);
	r = &rs.r[3];
	ck_assert_int_eq(r->k, 1);
	ck_assert_str_eq(r->top[0], "x");
	ck_assert_uint_eq(r->top_count[0], 2);
	ck_assert_str_eq(r->top[1], "y");
	ck_assert_uint_eq(r->top_count[1], 2);
	r = &rs.r[4];
	ck_assert_uint_eq(r->n_top, 1);
	ck_assert_str_eq(r->top[0], "y");
	r = &rs.r[0]; /* window -2 [-20, 10): pane 0 only */
	ck_assert_uint_eq(r->n_top, 1);
	ck_assert_uint_eq(r->top_count[0], 1);
	windower_free(w);
}
END_TEST

START_TEST(top_k_zero)
{
	struct rows rs = {0};
	struct windower *w = make(10, 10, 0);
	static const char *const m[] = {"a"};
	chat(w, "s", SEC(1), "u", 0, m, 1);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.r[0].n_top, 0);
	windower_free(w);
}
END_TEST

START_TEST(streams)
{
	struct rows rs = {0};
	struct windower *w = make(10, 10, 10);
	ck_assert_uint_eq(windower_find_stream(w, SV_LIT("b")), UINT32_MAX);
	chat(w, "b", SEC(25), "u", 0, NULL, 0);
	chat(w, "a", SEC(5), "u", 0, NULL, 0);
	chat(w, "b", SEC(5), "u", 0, NULL, 0);
	ck_assert_uint_eq(windower_stream_count(w), 2);
	ck_assert_uint_eq(windower_find_stream(w, SV_LIT("b")), 0); /* order of first sight */
	ck_assert_uint_eq(windower_find_stream(w, SV_LIT("a")), 1);
	ck_assert_sv_eq(windower_stream_name(w, 1), "a");
	ck_assert_uint_eq(windower_find_stream(w, SV_LIT("c")), UINT32_MAX);
	/* many streams: the table grows and keeps every index */
	char name[16];
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "x%d", i);
		ck_assert_uint_eq(windower_stream(w, sv_make(name, strlen(name))), 2 + (uint32_t)i);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "x%d", i);
		ck_assert_uint_eq(windower_find_stream(w, sv_make(name, strlen(name))), 2 + (uint32_t)i);
	}
	/* stream by stream, each stream's windows in order */
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_str_eq(rs.r[0].stream, "b");
	ck_assert_int_eq(rs.r[0].k, 0);
	ck_assert_str_eq(rs.r[1].stream, "b");
	ck_assert_int_eq(rs.r[1].k, 2);
	ck_assert_str_eq(rs.r[2].stream, "a");
	ck_assert_int_eq(rs.r[2].k, 0);
	windower_free(w);
}
END_TEST

START_TEST(slices_lane_ahead)
{
	/* The window.h scenario: a lane ahead of the global watermark.  n = 3,
	 * S = 10 s; nothing closed globally; the lane's watermark is 90 s, so
	 * its events count only in windows ending after 90 s (k >= 7).
	 *   e1 t=100 "a", on time          -> windows 8, 9, 10
	 *   e2 t=85  "b", lane-late        -> windows 7, 8     (slice of pane 8)
	 *   e3 t=75  "c", lane-late        -> window 7         (slice of pane 7)
	 *   e4 t=85  "d", other lane, -inf -> windows 6, 7, 8  (main of pane 8)
	 *   e5 t=86  "b", lane-late        -> windows 7, 8     (same slice as e2)
	 * Rows: 6 {d}; 7 {c, d, b, b}; 8 {d, b, b, a}; 9 {a}; 10 {a}.
	 * Window 5 [50, 80) holds only e3's slice, which skips it: no row. */
	struct rows rs = {0};
	struct windower *w = make(30, 10, 10);
	const int64_t L = SEC(90);
	int64_t k1 = windower_admit(w, SEC(100), TIME_NEG_INF);
	int64_t k2 = windower_admit(w, SEC(85), L);
	int64_t k3 = windower_admit(w, SEC(75), L);
	int64_t k4 = windower_admit(w, SEC(85), TIME_NEG_INF);
	int64_t k5 = windower_admit(w, SEC(86), L);
	ck_assert_int_eq(k1, 8);
	ck_assert_int_eq(k2, 7);
	ck_assert_int_eq(k3, 7);
	ck_assert_int_eq(k4, 6);
	ck_assert_int_eq(k5, 7);
	chat_at(w, "s", SEC(100), k1, "a");
	chat_at(w, "s", SEC(85), k2, "b");
	chat_at(w, "s", SEC(75), k3, "c");
	chat_at(w, "s", SEC(85), k4, "d");
	chat_at(w, "s", SEC(86), k5, "b");
	ck_assert_uint_eq(windower_open_panes(w), 3); /* panes 7, 8, 10 */
	ck_assert_uint_eq(windower_live_chatters(w), 4);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	static const struct {
		int64_t k, chat, unique;
	} want[] = {{6, 1, 1}, {7, 4, 3}, {8, 4, 3}, {9, 1, 1}, {10, 1, 1}};
	ck_assert_uint_eq(rs.n, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_int_eq(rs.r[i].k, want[i].k);
		ck_assert_int_eq(rs.r[i].chat, want[i].chat);
		ck_assert_int_eq(rs.r[i].unique, want[i].unique);
	}
	ck_assert_uint_eq(windower_open_panes(w), 0);
	ck_assert_uint_eq(windower_live_chatters(w), 0); /* every reference released */
	windower_free(w);
}
END_TEST

START_TEST(slices_after_partial_close)
{
	/* A slice made before a close keeps its first window; a later event of
	 * the same cut, once the global close has caught up, lands in the main
	 * aggregate and must count the same.  n = 3, S = 10 s. */
	struct rows rs = {0};
	struct windower *w = make(30, 10, 10);
	chat_at(w, "s", SEC(85), windower_admit(w, SEC(85), SEC(90)), "x"); /* first 7 */
	ck_assert_int_eq(windower_close(w, SEC(100), collect, &rs), 0);     /* closes k <= 7 */
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_eq(rs.r[0].k, 7);
	ck_assert_int_eq(rs.r[0].chat, 1);
	int64_t k = windower_admit(w, SEC(86), SEC(90));
	ck_assert_int_eq(k, 8); /* window 7 is closed now */
	chat_at(w, "s", SEC(86), k, "y");
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 2);
	ck_assert_int_eq(rs.r[1].k, 8);
	ck_assert_int_eq(rs.r[1].chat, 2);
	ck_assert_int_eq(rs.r[1].unique, 2);
	windower_free(w);
}
END_TEST

START_TEST(panes_freed_when_done)
{
	/* n = 3: pane p is last needed by window p. */
	struct rows rs = {0};
	struct windower *w = make(30, 10, 10);
	chat(w, "s", SEC(5), "only-in-pane-0", 0, NULL, 0);
	chat(w, "s", SEC(15), "u", 0, NULL, 0);
	chat(w, "s", SEC(25), "u", 0, NULL, 0);
	ck_assert_uint_eq(windower_open_panes(w), 3);
	ck_assert_uint_eq(windower_live_chatters(w), 2);
	ck_assert_int_eq(windower_close(w, SEC(30), collect, &rs), 0); /* k <= 0 */
	ck_assert_uint_eq(windower_open_panes(w), 2);
	ck_assert_uint_eq(windower_live_chatters(w), 1);
	ck_assert_uint_eq(rs.n, 3); /* windows -2, -1, 0 */
	ck_assert_int_eq(rs.r[2].chat, 3);
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(windower_open_panes(w), 0);
	ck_assert_uint_eq(windower_live_chatters(w), 0);
	ck_assert_uint_eq(rs.n, 5);
	windower_free(w);
}
END_TEST

static int stop_at_second(void *ctx, struct window_row *row)
{
	(void)row;
	int *calls = ctx;
	return ++*calls == 2 ? 42 : 0;
}

START_TEST(emit_can_stop)
{
	struct windower *w = make(10, 10, 10);
	chat(w, "s", SEC(5), "u", 0, NULL, 0);
	chat(w, "s", SEC(15), "u", 0, NULL, 0);
	chat(w, "s", SEC(25), "u", 0, NULL, 0);
	int calls = 0;
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, stop_at_second, &calls), 42);
	ck_assert_int_eq(calls, 2);
	windower_free(w);
}
END_TEST

START_TEST(score_sum_order_independent)
{
	/* Integer score sums: the same events in any order give the same
	 * bits of avg_sentiment. */
	const int64_t S = SCORE_SCALE;
	static const int64_t sc[] = {S / 3, -S / 7, S / 11, S, -S / 13, S / 16};
	struct rows r1 = {0}, r2 = {0};
	struct windower *a = make(10, 10, 10), *b = make(10, 10, 10);
	for (size_t i = 0; i < 6; i++) {
		chat(a, "s", SEC(1), "u", sc[i], NULL, 0);
		chat(b, "s", SEC(1), "u", sc[5 - i], NULL, 0);
	}
	windower_close(a, TIME_POS_INF, collect, &r1);
	windower_close(b, TIME_POS_INF, collect, &r2);
	ck_assert_int_eq(r1.r[0].score_sum, r2.r[0].score_sum);
	ck_assert(memcmp(&r1.r[0].avg_sent, &r2.r[0].avg_sent, sizeof(double)) == 0);
	ck_assert_int_eq(r1.r[0].pos, 4);
	ck_assert_int_eq(r1.r[0].neg, 2);
	windower_free(a);
	windower_free(b);
}
END_TEST

/* Issue 9 item 8: viewer_count may be anything up to INT64_MAX; the pane
 * sum must not overflow (UBSan caught it, release builds said -1), in a
 * pane, across panes, and through a checkpoint. */
START_TEST(viewer_sum_never_overflows)
{
	struct window_config cfg = {SEC(30), SEC(10), 10, 0};
	struct windower *w = windower_new(&cfg);
	viewer(w, "s", SEC(1), INT64_MAX);
	viewer(w, "s", SEC(2), INT64_MAX);
	viewer(w, "s", SEC(12), INT64_MAX - 2);
	viewer(w, "t", SEC(3), INT64_MAX);
	viewer(w, "t", SEC(4), 1);

	struct windower *back = reloaded(w, &cfg, NULL);

	struct windower *both[] = {w, back};
	for (int i = 0; i < 2; i++) {
		struct rows rs = {0};
		ck_assert_int_eq(windower_close(both[i], TIME_POS_INF, collect, &rs), 0);
		/* s: windows -2, -1 hold panes 0 and 1 (3 events), window 0 all
		 * three, window 1 pane 1 alone; t: windows -2..0, 2 events */
		for (size_t r = 0; r < rs.n; r++) {
			const struct row *row = &rs.r[r];
			ck_assert(row->has_viewers);
			ck_assert(row->avg_viewers > 0);
			if (strcmp(row->stream, "t") == 0)
				ck_assert_double_eq(row->avg_viewers, 4611686018427387904.0); /* 2^62 */
			else
				ck_assert_double_eq(row->avg_viewers, (double)INT64_MAX);
		}
		ck_assert_uint_eq(rs.n, 7);
		windower_free(both[i]);
	}
}
END_TEST

/* The newest pane's counts for the pane detector: messages, distinct
 * chatters, and distinct chatters with a message carrying an emote (one
 * with an emote and one without counts once); the same through a
 * checkpoint. */
START_TEST(pane_emote_chatters)
{
	static const char *const lul[] = {"LUL"}, *const two[] = {"Pog", "LUL"};
	struct window_config cfg = {SEC(20), SEC(10), 10, 0};
	struct windower *w = windower_new(&cfg);
	chat(w, "s", SEC(1), "old", 0, lul, 1);    /* pane 0: not the newest of window 0 */
	chat(w, "s", SEC(11), "alice", 0, NULL, 0); /* pane 1 */
	chat(w, "s", SEC(12), "alice", 0, lul, 1);  /* alice: both kinds, once */
	chat(w, "s", SEC(13), "bob", 0, two, 2);
	chat(w, "s", SEC(14), "bob", 0, lul, 1);
	chat(w, "s", SEC(15), "carol", 0, NULL, 0); /* no emote */
	chat(w, "s", SEC(21), "erin", 0, lul, 1);   /* pane 2 */

	struct windower *back = reloaded(w, &cfg, "\"emoters\":[");

	struct windower *both[] = {w, back};
	for (int i = 0; i < 2; i++) {
		struct rows rs = {0};
		ck_assert_int_eq(windower_close(both[i], TIME_POS_INF, collect, &rs), 0);
		ck_assert_uint_eq(rs.n, 4); /* windows -1, 0, 1, 2 */
		/* window 0 = panes 0, 1; its newest pane is 1 */
		ck_assert_int_eq(rs.r[1].k, 0);
		ck_assert_int_eq(rs.r[1].pane_chat, 5);
		ck_assert_int_eq(rs.r[1].pane_chatters, 3);
		ck_assert_int_eq(rs.r[1].pane_emoters, 2); /* alice, bob */
		/* window 1 = panes 1, 2: pane 2 is erin's */
		ck_assert_int_eq(rs.r[2].k, 1);
		ck_assert_int_eq(rs.r[2].pane_chat, 1);
		ck_assert_int_eq(rs.r[2].pane_chatters, 1);
		ck_assert_int_eq(rs.r[2].pane_emoters, 1);
		/* window 2 = panes 2, 3: pane 3 is empty */
		ck_assert_int_eq(rs.r[3].pane_chatters, 0);
		ck_assert_int_eq(rs.r[3].pane_emoters, 0);
		/* window -1's newest pane is pane 0: old */
		ck_assert_int_eq(rs.r[0].pane_emoters, 1);
		windower_free(both[i]);
	}
}
END_TEST

/* Issue 9, item 9: a close visits only the streams with panes it can
 * close (a heap by first pane), yet emits exactly what a scan of every
 * stream did, in stream order within one close; a pane added before a
 * stream's first pane moves the stream up. */
START_TEST(close_visits_streams_by_first_pane)
{
	struct rows rs = {0};
	struct windower *w = make(10, 10, 10); /* tumbling: window k = pane k */
	char name[24]; /* "s" and any size_t: no truncation to warn of */
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "s%02d", i);
		chat(w, name, SEC(10 * (40 - i)), "u", 0, NULL, 0); /* s00 latest, s39 earliest */
	}
	chat(w, "s00", SEC(25), "u", 0, NULL, 0); /* s00 also in pane 2: moves up */
	/* watermark 50 s closes windows <= 4: panes 1..4 = s39..s36, and s00's pane 2 */
	ck_assert_int_eq(windower_close(w, SEC(50), collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 5);
	ck_assert_str_eq(rs.r[0].stream, "s00"); /* stream order, not time order */
	ck_assert_int_eq(rs.r[0].k, 2);
	ck_assert_str_eq(rs.r[1].stream, "s36");
	ck_assert_str_eq(rs.r[4].stream, "s39");
	ck_assert_int_eq(rs.r[4].k, 1);
	rs.n = 0;
	ck_assert_int_eq(windower_close(w, TIME_POS_INF, collect, &rs), 0);
	ck_assert_uint_eq(rs.n, 36);
	for (size_t i = 0; i < rs.n; i++) { /* s00 (pane 40) .. s35 (pane 5) */
		snprintf(name, sizeof(name), "s%02zu", i);
		ck_assert_str_eq(rs.r[i].stream, name);
		ck_assert_int_eq(rs.r[i].k, 40 - (int64_t)i);
	}
	ck_assert_uint_eq(windower_open_panes(w), 0);
	windower_free(w);
}
END_TEST

/* The newest pane's emote chatters who wrote nothing on the stream in the
 * fresh span (60 s) before the pane, per stream, through a checkpoint;
 * the table of last messages keeps no chatter alive in the interner.
 * W = 20 s, S = 10 s: window k = panes k, k + 1. */
START_TEST(pane_fresh_emote_chatters)
{
	static const char *const lul[] = {"LUL"};
	struct window_config cfg = {SEC(20), SEC(10), 10, SEC(60)};
	struct windower *w = windower_new(&cfg);
	chat(w, "s", SEC(1), "alice", 0, lul, 1); /* pane 0 */
	chat(w, "s", SEC(2), "bob", 0, NULL, 0);
	chat(w, "s", SEC(31), "alice", 0, lul, 1); /* pane 3: alice, bob seen 30 s ago */
	chat(w, "s", SEC(32), "bob", 0, lul, 1);
	chat(w, "s", SEC(33), "carol", 0, lul, 1); /* never seen: fresh */
	chat(w, "t", SEC(34), "alice", 0, lul, 1); /* fresh on t */
	struct rows rs = {0};
	ck_assert_int_eq(windower_close(w, SEC(40), collect, &rs), 0); /* k <= 2 */
	ck_assert_uint_eq(rs.n, 4); /* s: -1, 0, 2; t: 2 */
	for (size_t r = 0; r < rs.n; r++) {
		if (rs.r[r].k == 2 && !strcmp(rs.r[r].stream, "s")) {
			ck_assert_int_eq(rs.r[r].pane_emoters, 3);
			ck_assert_int_eq(rs.r[r].pane_fresh, 1); /* carol */
		} else if (rs.r[r].k == 2) {
			ck_assert_int_eq(rs.r[r].pane_fresh, 1);
		}
	}

	struct windower *back = reloaded(w, &cfg, "\"seen\":[[");

	struct windower *both[] = {w, back};
	for (int i = 0; i < 2; i++) {
		chat(both[i], "s", SEC(45), "dave", 0, lul, 1);   /* pane 4: fresh */
		chat(both[i], "s", SEC(101), "alice", 0, lul, 1); /* pane 10: 70 s after pane 3 */
		chat(both[i], "s", SEC(102), "dave", 0, lul, 1);  /* 57 s after: not fresh */
		memset(&rs, 0, sizeof(rs));
		ck_assert_int_eq(windower_close(both[i], TIME_POS_INF, collect, &rs), 0);
		bool saw4 = false, saw10 = false;
		for (size_t r = 0; r < rs.n; r++) {
			if (strcmp(rs.r[r].stream, "s"))
				continue; /* t: no newest pane after 3 */
			if (rs.r[r].k == 3) { /* newest pane 4 */
				ck_assert_int_eq(rs.r[r].pane_fresh, 1);
				saw4 = true;
			}
			if (rs.r[r].k == 9) { /* newest pane 10 */
				ck_assert_int_eq(rs.r[r].pane_emoters, 2);
				ck_assert_int_eq(rs.r[r].pane_fresh, 1); /* alice */
				saw10 = true;
			}
		}
		ck_assert(saw4 && saw10);
		ck_assert_uint_eq(windower_live_chatters(both[i]), 0);
		windower_free(both[i]);
	}
}
END_TEST

Suite *window_suite(void)
{
	Suite *s = suite_create("window");
	TCase *tc = tcase_create("arithmetic");
	tcase_add_test(tc, admit_pane_arithmetic);
	tcase_add_test(tc, admit_lane_watermark);
	tcase_add_test(tc, close_boundaries);
	tcase_add_test(tc, before_1970);
	tcase_add_test(tc, tumbling_w_equals_s);
	tcase_add_test(tc, closed_windows_make_events_late);
	suite_add_tcase(s, tc);
	tc = tcase_create("aggregates");
	tcase_add_test(tc, aggregates);
	tcase_add_test(tc, viewer_only_window);
	tcase_add_test(tc, viewer_sum_never_overflows);
	tcase_add_test(tc, top_k_ties);
	tcase_add_test(tc, top_k_byte_order);
	tcase_add_test(tc, top_k_across_panes);
	tcase_add_test(tc, top_k_zero);
	tcase_add_test(tc, streams);
	tcase_add_test(tc, score_sum_order_independent);
	suite_add_tcase(s, tc);
	tc = tcase_create("slices");
	tcase_add_test(tc, slices_lane_ahead);
	tcase_add_test(tc, slices_after_partial_close);
	tcase_add_test(tc, panes_freed_when_done);
	tcase_add_test(tc, emit_can_stop);
	tcase_add_test(tc, close_visits_streams_by_first_pane);
	tcase_add_test(tc, pane_emote_chatters);
	tcase_add_test(tc, pane_fresh_emote_chatters);
	suite_add_tcase(s, tc);
	return s;
}
