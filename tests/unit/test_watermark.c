/*
 * test_watermark.c — lanes and the global watermark (SPEC §4,
 * core/watermark.h): lane watermark = max event time - D (-inf before the
 * first event), global = min over open, non-idle lanes, never backwards;
 * idle lanes leave the minimum; advance raises it.
 */
#include "config.h"

#include <stdio.h>

#include "core/watermark.h"
#include "unit.h"

static struct watermarks wm;

static void setup(void) { watermarks_init(&wm, SEC(10)); }
static void teardown(void) { watermarks_free(&wm); }

static uint32_t lane(const char *topic, int32_t partition)
{
	return watermarks_lane(&wm, sv_make(topic, strlen(topic)), partition);
}

START_TEST(initial_state)
{
	ck_assert_int_eq(wm.global, TIME_NEG_INF);
	ck_assert_int_eq(wm.delay_us, SEC(10));
	ck_assert_uint_eq(wm.n_lanes, 0);
	ck_assert_uint_eq(watermarks_find_lane(&wm, SV_LIT(""), -1), LANE_NONE);
}
END_TEST

START_TEST(lane_identity)
{
	uint32_t a = lane("chat", 0), b = lane("chat", 1), c = lane("viewer", 0), d = lane("", -1);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_ne(a, c);
	ck_assert_uint_ne(b, c);
	ck_assert_uint_ne(c, d);
	ck_assert_uint_eq(lane("chat", 0), a);
	ck_assert_uint_eq(watermarks_find_lane(&wm, SV_LIT("chat"), 1), b);
	ck_assert_uint_eq(watermarks_find_lane(&wm, SV_LIT("cha"), 1), LANE_NONE);
	ck_assert_uint_eq(watermarks_find_lane(&wm, SV_LIT("chat"), 2), LANE_NONE);
	ck_assert_uint_eq(watermarks_find_lane(&wm, SV_LIT(""), -1), d);
	ck_assert_uint_eq(wm.n_lanes, 4);
	/* created unopened, with no event: watermark -inf, global unchanged */
	ck_assert(!wm.lanes[a].open);
	ck_assert_int_eq(watermarks_lane_value(&wm, a), TIME_NEG_INF);
	ck_assert_int_eq(wm.global, TIME_NEG_INF);
}
END_TEST

START_TEST(single_lane_is_max_minus_delay)
{
	uint32_t a = lane("", -1);
	watermarks_open(&wm, a);
	ck_assert_int_eq(wm.global, TIME_NEG_INF); /* open, no event yet */
	watermarks_observe(&wm, a, SEC(100));
	ck_assert_int_eq(watermarks_lane_value(&wm, a), SEC(90));
	ck_assert_int_eq(wm.global, SEC(90));
	watermarks_observe(&wm, a, SEC(95)); /* out of order: max unchanged */
	ck_assert_int_eq(watermarks_lane_value(&wm, a), SEC(90));
	ck_assert_int_eq(wm.global, SEC(90));
	watermarks_observe(&wm, a, SEC(100) + 1);
	ck_assert_int_eq(wm.global, SEC(90) + 1);
	/* before 1970 */
	struct watermarks w2;
	watermarks_init(&w2, 0);
	uint32_t l = watermarks_lane(&w2, SV_LIT("t"), 0);
	watermarks_open(&w2, l);
	watermarks_observe(&w2, l, -SEC(3600));
	ck_assert_int_eq(w2.global, -SEC(3600));
	watermarks_free(&w2);
}
END_TEST

START_TEST(global_is_min_of_open_lanes)
{
	uint32_t a = lane("chat", 0), b = lane("chat", 1);
	watermarks_open(&wm, a);
	watermarks_open(&wm, b);
	watermarks_observe(&wm, a, SEC(100));
	/* b has seen nothing: -inf holds everything back */
	ck_assert_int_eq(wm.global, TIME_NEG_INF);
	watermarks_observe(&wm, b, SEC(50));
	ck_assert_int_eq(wm.global, SEC(40));
	watermarks_observe(&wm, b, SEC(130));
	ck_assert_int_eq(wm.global, SEC(90)); /* now a is the minimum */
	watermarks_observe(&wm, a, SEC(200));
	ck_assert_int_eq(wm.global, SEC(120));
	/* a lane that exists but is not open is not in the minimum */
	uint32_t c = lane("chat", 2);
	ck_assert_int_eq(wm.global, SEC(120));
	(void)c;
}
END_TEST

START_TEST(idle_leaves_minimum)
{
	uint32_t a = lane("chat", 0), b = lane("chat", 1);
	watermarks_open(&wm, a);
	watermarks_open(&wm, b);
	watermarks_observe(&wm, a, SEC(100));
	watermarks_observe(&wm, b, SEC(30));
	ck_assert_int_eq(wm.global, SEC(20));
	watermarks_idle(&wm, b);
	ck_assert(wm.lanes[b].idle);
	ck_assert_int_eq(wm.global, SEC(90)); /* only a counts */
	/* all idle: the global rises to the largest lane watermark */
	watermarks_idle(&wm, a);
	ck_assert_int_eq(wm.global, SEC(90));
	/* reopening b (its next event) brings it back into the minimum, but
	 * the global never moves backwards */
	watermarks_open(&wm, b);
	ck_assert(!wm.lanes[b].idle);
	ck_assert_int_eq(wm.global, SEC(90));
	watermarks_observe(&wm, b, SEC(110));
	ck_assert_int_eq(wm.global, SEC(100)); /* b is the only open lane */
	watermarks_open(&wm, a);
	ck_assert_int_eq(wm.global, SEC(100)); /* a at 90 would be a step back */
	watermarks_observe(&wm, a, SEC(105));
	ck_assert_int_eq(wm.global, SEC(100));
	watermarks_observe(&wm, a, SEC(150));
	ck_assert_int_eq(wm.global, SEC(100)); /* min(140, 100) */
	watermarks_observe(&wm, b, SEC(160));
	ck_assert_int_eq(wm.global, SEC(140));
}
END_TEST

START_TEST(idle_all_without_events)
{
	/* Every lane idle and none has an event: the global stays -inf. */
	uint32_t a = lane("chat", 0);
	watermarks_open(&wm, a);
	watermarks_idle(&wm, a);
	ck_assert_int_eq(wm.global, TIME_NEG_INF);
	/* an unopened lane cannot go idle */
	uint32_t b = lane("chat", 1);
	watermarks_idle(&wm, b);
	ck_assert(!wm.lanes[b].idle);
	ck_assert(!wm.lanes[b].open);
}
END_TEST

START_TEST(close_removes_lane)
{
	uint32_t a = lane("chat", 0), b = lane("chat", 1);
	watermarks_open(&wm, a);
	watermarks_open(&wm, b);
	watermarks_observe(&wm, a, SEC(100));
	ck_assert_int_eq(wm.global, TIME_NEG_INF);
	watermarks_close(&wm, b); /* revoked: out of the minimum for good */
	ck_assert(!wm.lanes[b].open);
	ck_assert_int_eq(wm.global, SEC(90));
	watermarks_observe(&wm, a, SEC(120));
	ck_assert_int_eq(wm.global, SEC(110));
	/* closing the last lane leaves the global where it was */
	watermarks_close(&wm, a);
	ck_assert_int_eq(wm.global, SEC(110));
}
END_TEST

START_TEST(raise_only_raises)
{
	uint32_t a = lane("chat", 0);
	watermarks_open(&wm, a);
	watermarks_raise(&wm, SEC(50));
	ck_assert_int_eq(wm.global, SEC(50)); /* even above an open lane at -inf */
	watermarks_raise(&wm, SEC(40));
	ck_assert_int_eq(wm.global, SEC(50));
	watermarks_observe(&wm, a, SEC(55)); /* lane at 45 s: global stays */
	ck_assert_int_eq(wm.global, SEC(50));
	watermarks_observe(&wm, a, SEC(70));
	ck_assert_int_eq(wm.global, SEC(60));
	watermarks_raise(&wm, TIME_POS_INF);
	ck_assert_int_eq(wm.global, TIME_POS_INF);
	watermarks_observe(&wm, a, SEC(1000));
	ck_assert_int_eq(wm.global, TIME_POS_INF);
}
END_TEST

START_TEST(many_lanes)
{
	for (int32_t p = 0; p < 40; p++) {
		uint32_t l = lane("t", p);
		watermarks_open(&wm, l);
		watermarks_observe(&wm, l, SEC(100 + p));
	}
	ck_assert_uint_eq(wm.n_lanes, 40);
	ck_assert_int_eq(wm.global, SEC(90)); /* partition 0: 100 - 10 */
	for (int32_t p = 0; p < 40; p++)
		ck_assert_uint_eq(lane("t", p), (uint32_t)p);
}
END_TEST

/* The heap and the table against the definition (SPEC §4), computed the
 * slow way after each of many random operations on a few lanes, sharing
 * event times so that ties between lanes are common. */
static int64_t reference_global(const struct watermarks *w, int64_t before)
{
	int64_t min_open = TIME_POS_INF, max_any = TIME_NEG_INF;
	bool any_open = false;
	for (uint32_t i = 0; i < w->n_lanes; i++) {
		int64_t v = watermarks_lane_value(w, i);
		if (w->lanes[i].open && !w->lanes[i].idle) {
			any_open = true;
			if (v < min_open)
				min_open = v;
		} else if (w->lanes[i].open && v > max_any) {
			max_any = v;
		}
	}
	int64_t c = any_open ? min_open : max_any;
	return c > before ? c : before;
}

START_TEST(heap_matches_definition)
{
	uint64_t x = 88172645463325252u;
	for (int op = 0; op < 20000; op++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		char topic[8];
		snprintf(topic, sizeof(topic), "t%u", (unsigned)(x % 3));
		uint32_t l = watermarks_lane(&wm, sv_make(topic, strlen(topic)), (int32_t)((x >> 8) % 5));
		int64_t before = wm.global;
		switch ((x >> 16) % 8) {
		case 0: watermarks_open(&wm, l); break;
		case 1: watermarks_idle(&wm, l); break;
		case 2: watermarks_close(&wm, l); break;
		default:
			if (!wm.lanes[l].open)
				watermarks_open(&wm, l);
			before = wm.global;
			watermarks_observe(&wm, l, SEC((int64_t)(x >> 24) % 50 + op / 100));
		}
		ck_assert_int_eq(wm.global, reference_global(&wm, before));
		uint32_t n_open = 0;
		for (uint32_t i = 0; i < wm.n_lanes; i++)
			n_open += wm.lanes[i].open;
		ck_assert_uint_eq(wm.n_open, n_open);
	}
	ck_assert_uint_eq(wm.n_lanes, 15);
}
END_TEST

Suite *watermark_suite(void)
{
	Suite *s = suite_create("watermark");
	TCase *tc = tcase_create("lanes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, initial_state);
	tcase_add_test(tc, lane_identity);
	tcase_add_test(tc, single_lane_is_max_minus_delay);
	tcase_add_test(tc, global_is_min_of_open_lanes);
	tcase_add_test(tc, idle_leaves_minimum);
	tcase_add_test(tc, idle_all_without_events);
	tcase_add_test(tc, close_removes_lane);
	tcase_add_test(tc, raise_only_raises);
	tcase_add_test(tc, many_lanes);
	tcase_add_test(tc, heap_matches_definition);
	suite_add_tcase(s, tc);
	return s;
}
