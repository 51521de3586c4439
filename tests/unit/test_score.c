/*
 * test_score.c — core/score.c: moments into episodes, episodes matched to
 * labels, the rates, false alarms per stream-hour and the delays, on cases
 * small enough to count by hand.
 */
#include "config.h"

#include "core/score.h"

#include "unit.h"

#define TOL 1e-9

static struct strview S(const char *s)
{
	return sv_make(s, strlen(s));
}

static struct score_moment M(const char *stream, const char *type, int start, int end)
{
	return (struct score_moment){S(stream), S(type), SEC(start), SEC(end)};
}

/* Windows of 60 s every 10 s: one moment per anomalous window. */
START_TEST(episodes_overlap_or_touch)
{
	struct score_moment m[] = {
		M("a", "chat_spike", 100, 160), /* 100..220: overlapping, then touching */
		M("a", "chat_spike", 110, 170),
		M("a", "chat_spike", 160, 220),
		M("a", "chat_spike", 221, 281),  /* a gap of 1 s: a new episode */
		M("a", "viewer_surge", 120, 180), /* another type: its own */
		M("b", "chat_spike", 130, 190),  /* another stream: its own */
	};
	struct score_input in = {NULL, 0, m, 6, NULL, 0, SEC(30), SEC(60)};
	struct score s;
	struct score_detail d;
	score_compute(&in, &s, &d);
	ck_assert_uint_eq(s.moments, 6);
	ck_assert_uint_eq(s.episodes, 4);
	ck_assert_uint_eq(s.false_positives, 4);
	ck_assert_uint_eq(d.n_episodes, 4);
	/* Sorted by stream, start, type. */
	ck_assert(sv_eq(d.episodes[0].stream_id, S("a")) && sv_eq(d.episodes[0].type, S("chat_spike")));
	ck_assert_int_eq(d.episodes[0].start_us, SEC(100));
	ck_assert_int_eq(d.episodes[0].end_us, SEC(220));
	ck_assert_uint_eq(d.episodes[0].moments, 3);
	ck_assert(sv_eq(d.episodes[1].type, S("viewer_surge")));
	ck_assert_int_eq(d.episodes[2].start_us, SEC(221));
	ck_assert(sv_eq(d.episodes[3].stream_id, S("b")));
	ck_assert_double_eq_tol(s.precision, 0, TOL);
	ck_assert_double_eq_tol(s.recall, 0, TOL);
	ck_assert_double_eq_tol(s.f1, 0, TOL);
	ck_assert(!s.has_delay);
	score_detail_free(&d);
}
END_TEST

/* The same burst merged (one moment per run) and unmerged: same score. */
START_TEST(merging_changes_nothing)
{
	struct score_label l[] = {{S("a"), SEC(130), SEC(150)}};
	struct score_moment unmerged[] = {M("a", "chat_spike", 100, 160), M("a", "chat_spike", 110, 170),
	                                  M("a", "chat_spike", 140, 200)};
	struct score_moment merged[] = {M("a", "chat_spike", 100, 170), M("a", "chat_spike", 140, 200)};
	struct score_input in = {l, 1, unmerged, 3, NULL, 0, SEC(30), SEC(60)};
	struct score a, b;
	score_compute(&in, &a, NULL);
	in.moments = merged;
	in.n_moments = 2;
	score_compute(&in, &b, NULL);
	ck_assert_uint_eq(a.episodes, 1);
	ck_assert_uint_eq(b.episodes, 1);
	ck_assert_double_eq_tol(a.precision, 1, TOL);
	ck_assert_double_eq_tol(b.precision, 1, TOL);
	/* Delay: the first window ends at 100 + 60; the label starts at 130. */
	ck_assert_double_eq_tol(a.median_delay_s, 30, TOL);
	ck_assert_double_eq_tol(b.median_delay_s, 30, TOL);
}
END_TEST

START_TEST(tolerance_edges)
{
	struct score_label l[] = {{S("a"), SEC(300), SEC(310)}};
	struct score_moment m[] = {M("a", "chat_spike", 340, 400)}; /* starts 30 s after the end */
	struct score_input in = {l, 1, m, 1, NULL, 0, SEC(30), SEC(60)};
	struct score s;
	score_compute(&in, &s, NULL);
	ck_assert_uint_eq(s.true_positives, 1);
	in.tolerance_us = SEC(30) - 1;
	score_compute(&in, &s, NULL);
	ck_assert_uint_eq(s.true_positives, 0);
	ck_assert_uint_eq(s.false_negatives, 1);
	ck_assert_uint_eq(s.false_positives, 1);
	/* Ending exactly at label start - T does not overlap: [start, end). */
	struct score_moment before[] = {M("a", "chat_spike", 210, 270)};
	in = (struct score_input){l, 1, before, 1, NULL, 0, SEC(30), SEC(60)};
	score_compute(&in, &s, NULL);
	ck_assert_uint_eq(s.true_positives, 0);
}
END_TEST

/* Three labels, two found: F1, F2, the delays' mean and median, false
 * alarms per stream-hour. */
START_TEST(rates_and_delays)
{
	struct score_label l[] = {
		{S("a"), SEC(1000), SEC(1020)}, /* found by the episode at 990: delay 990+60-1000 = 50 */
		{S("a"), SEC(5000), SEC(5100)}, /* found at 5000: delay 60; and a later episode too */
		{S("b"), SEC(100), SEC(110)},   /* missed */
	};
	struct score_moment m[] = {
		M("a", "chat_spike", 990, 1050), M("a", "chat_spike", 5000, 5060),
		M("a", "chat_spike", 5070, 5130), /* a second episode on the same label */
		M("b", "chat_spike", 3000, 3060), /* false */
	};
	struct score_span sp[] = {{S("a"), SEC(0), SEC(3600)}, {S("b"), SEC(0), SEC(1800)}};
	struct score_input in = {l, 3, m, 4, sp, 2, SEC(30), SEC(60)};
	struct score s;
	struct score_detail d;
	score_compute(&in, &s, &d);
	ck_assert_uint_eq(s.episodes, 4);
	ck_assert_uint_eq(s.true_positives, 2);
	ck_assert_uint_eq(s.false_negatives, 1);
	ck_assert_uint_eq(s.false_positives, 1);
	ck_assert_double_eq_tol(s.precision, 0.75, TOL);
	ck_assert_double_eq_tol(s.recall, 2.0 / 3, TOL);
	ck_assert_double_eq_tol(s.f1, 2 * 0.75 * (2.0 / 3) / (0.75 + 2.0 / 3), TOL);
	ck_assert_double_eq_tol(s.f2, 5 * 0.75 * (2.0 / 3) / (4 * 0.75 + 2.0 / 3), TOL);
	ck_assert_double_eq_tol(s.stream_hours, 1.5, TOL);
	ck_assert_double_eq_tol(s.false_per_stream_hour, 1 / 1.5, TOL);
	ck_assert(s.has_delay);
	ck_assert_double_eq_tol(s.mean_delay_s, 55, TOL);
	ck_assert_double_eq_tol(s.median_delay_s, 55, TOL); /* even count: the middle two's mean */
	ck_assert(d.label_matched[0] && d.label_matched[1] && !d.label_matched[2]);
	ck_assert_double_eq_tol(d.label_delay_s[0], 50, TOL);
	score_detail_free(&d);
	/* window_us 0: the first moment's own end. */
	in.window_us = 0;
	score_compute(&in, &s, NULL);
	ck_assert_double_eq_tol(s.mean_delay_s, 55, TOL);
}
END_TEST

Suite *score_suite(void)
{
	Suite *s = suite_create("score");
	TCase *tc = tcase_create("score");
	tcase_add_test(tc, episodes_overlap_or_touch);
	tcase_add_test(tc, merging_changes_nothing);
	tcase_add_test(tc, tolerance_edges);
	tcase_add_test(tc, rates_and_delays);
	suite_add_tcase(s, tc);
	return s;
}
