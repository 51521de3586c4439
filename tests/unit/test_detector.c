/*
 * test_detector.c — z-score detectors and moments (SPEC §5,
 * core/detector.h), fed with hand-made window rows: the baseline is the
 * previous N windows only, history edges (min_history), the stddev floor,
 * the strict threshold, moments, and merged runs.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/detector.h"
#include "unit.h"

#define TOL 1e-9

/* --- zscore() ------------------------------------------------------------ */

START_TEST(zscore_basic)
{
	/* {1,2,3,4}: mean 2.5, population variance (2.25+0.25+0.25+2.25)/4 =
	 * 1.25; value 6: z = 3.5 / sqrt(1.25) = 3.130495168... */
	static const double h[] = {1, 2, 3, 4};
	double mean = -1, sd = -1;
	double z = zscore(h, 4, 6.0, 0.1, &mean, &sd);
	ck_assert_double_eq_tol(mean, 2.5, TOL);
	ck_assert_double_eq_tol(sd, sqrt(1.25), TOL);
	ck_assert_double_eq_tol(z, 3.5 / sqrt(1.25), TOL);
	ck_assert_double_eq_tol(z, 3.1304951685, 1e-9);
	/* below the mean: negative */
	z = zscore(h, 4, 1.0, 0.1, &mean, &sd);
	ck_assert_double_eq_tol(z, -1.5 / sqrt(1.25), TOL);
}
END_TEST

START_TEST(zscore_stddev_floor)
{
	/* A flat history has stddev 0: the floor stands in. */
	static const double flat[] = {2, 2, 2};
	double mean, sd;
	double z = zscore(flat, 3, 5.0, 0.5, &mean, &sd);
	ck_assert_double_eq(mean, 2.0);
	ck_assert_double_eq(sd, 0.0); /* the reported stddev is the real one */
	ck_assert_double_eq_tol(z, 6.0, TOL); /* 3 / 0.5 */
	ck_assert_double_eq_tol(zscore(flat, 3, 2.0, 0.5, &mean, &sd), 0.0, TOL);
	ck_assert_double_eq_tol(zscore(flat, 3, 1.0, 0.5, &mean, &sd), -2.0, TOL);
	/* stddev below the floor: floor; above: stddev.  {1,2,3,4} has
	 * sd = 1.118. */
	static const double h[] = {1, 2, 3, 4};
	ck_assert_double_eq_tol(zscore(h, 4, 6.0, 2.0, &mean, &sd), 3.5 / 2.0, TOL);
	ck_assert_double_eq_tol(zscore(h, 4, 6.0, 1.0, &mean, &sd), 3.5 / sqrt(1.25), TOL);
	/* one value of history */
	static const double one[] = {10};
	ck_assert_double_eq_tol(zscore(one, 1, 7.0, 1.0, &mean, &sd), -3.0, TOL);
	ck_assert_double_eq(mean, 10.0);
}
END_TEST

/* --- detectors_on_window -------------------------------------------------- */

#define MAX_MOMENTS 16

struct mom {
	char stream[32];
	char type[32];
	int64_t time_us, end_us;
	double intensity;
	char *description;
	char *metadata;
};

struct moms {
	struct mom m[MAX_MOMENTS];
	size_t n;
};

static int collect(void *ctx, const struct moment *m)
{
	struct moms *ms = ctx;
	ck_assert_uint_lt(ms->n, MAX_MOMENTS);
	struct mom *o = &ms->m[ms->n++];
	snprintf(o->stream, sizeof(o->stream), "%s", sv_z(m->stream_id));
	snprintf(o->type, sizeof(o->type), "%s", m->type);
	o->time_us = m->time_us;
	o->end_us = m->end_us;
	o->intensity = m->intensity;
	o->description = strdup(m->description);
	o->metadata = strdup(m->metadata);
	return 0;
}

static void moms_free(struct moms *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].description);
		free(ms->m[i].metadata);
	}
	ms->n = 0;
}

/* Tumbling 10 s windows: window k = [10k, 10k + 10) s. */
static struct window_row row(uint32_t stream, const char *id, int64_t k, double chat_rate)
{
	struct window_row r;
	memset(&r, 0, sizeof(r));
	r.stream = stream;
	r.stream_id = sv_make(id, strlen(id));
	r.k = k;
	r.start_us = SEC(10 * k);
	r.end_us = SEC(10 * k + 10);
	r.chat_rate = chat_rate;
	r.chat_count = (int64_t)llround(chat_rate * 10);
	r.has_sentiment = r.chat_count > 0;
	return r;
}

static struct detect_config spike_only(unsigned n, unsigned min_history, double min_sd,
                                       double threshold, bool merge)
{
	struct detect_config c;
	memset(&c, 0, sizeof(c));
	c.det[DETECTOR_CHAT_SPIKE] = (struct detector_config){true, n, min_history, min_sd, threshold};
	c.merge = merge;
	return c;
}

/* Feed chat rates for stream 0 as windows k0, k0+1, ...; record z. */
struct judged {
	bool has_z[16];
	double z[16];
	bool anomaly[16];
};

static void feed(struct detectors *d, const double *rates, size_t n, int64_t k0, struct moms *ms,
                 struct judged *j)
{
	for (size_t i = 0; i < n; i++) {
		struct window_row r = row(0, "s", k0 + (int64_t)i, rates[i]);
		ck_assert_int_eq(detectors_on_window(d, &r, collect, ms), 0);
		j->has_z[i] = r.has_z;
		j->z[i] = r.z_score;
		j->anomaly[i] = r.is_anomaly;
	}
}

START_TEST(history_is_previous_n_only)
{
	/* N = 3, min_history = 3, floor 1, threshold 3.  Rates:
	 *   r0 10, r1 1, r2 1  -> fewer than 3 previous windows: no z
	 *   r3 1   vs {10,1,1}: mean 4, sd sqrt((36+9+9)/3) = sqrt(18):
	 *          z = -3/sqrt(18) = -0.7071
	 *   r4 5   vs {1,1,1} (10 has left the baseline): sd 0 -> floor 1: z = 4
	 *   r5 2   vs {1,1,5}: mean 7/3, var (16+16+64)/9/3 = 32/9, sd 4√2/3:
	 *          z = (2 - 7/3) / (4√2/3) = -1/(4√2) = -0.1768
	 *   r6 9   vs {1,5,2}: mean 8/3, var (25+49+4)/9/3 = 26/9, sd √26/3:
	 *          z = (19/3) / (√26/3) = 19/√26 = 3.7262
	 * If the current window were in its own baseline (the seed's mistake),
	 * r4 would be judged against {1,1,5}: z = (5 - 7/3)/(4√2/3) = √2, no
	 * anomaly. */
	static const double rates[] = {10, 1, 1, 1, 5, 2, 9};
	struct detect_config cfg = spike_only(3, 3, 1.0, 3.0, false);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 7, 100, &ms, &j);
	for (int i = 0; i < 3; i++) {
		ck_assert(!j.has_z[i]);
		ck_assert(!j.anomaly[i]);
	}
	ck_assert(j.has_z[3]);
	ck_assert_double_eq_tol(j.z[3], -3.0 / sqrt(18.0), TOL);
	ck_assert(!j.anomaly[3]);
	ck_assert_double_eq_tol(j.z[4], 4.0, TOL);
	ck_assert(j.anomaly[4]);
	ck_assert_double_eq_tol(j.z[5], -1.0 / (4.0 * sqrt(2.0)), TOL);
	ck_assert(!j.anomaly[5]);
	ck_assert_double_eq_tol(j.z[6], 19.0 / sqrt(26.0), TOL);
	ck_assert(j.anomaly[6]);
	/* one moment per anomalous window (no merging) */
	ck_assert_uint_eq(ms.n, 2);
	ck_assert_str_eq(ms.m[0].type, "chat_spike");
	ck_assert_str_eq(ms.m[0].stream, "s");
	ck_assert_int_eq(ms.m[0].time_us, SEC(1040)); /* window 104 */
	ck_assert_int_eq(ms.m[0].end_us, SEC(1050));
	ck_assert_double_eq_tol(ms.m[0].intensity, 4.0, TOL);
	ck_assert_int_eq(ms.m[1].time_us, SEC(1060));
	ck_assert_double_eq_tol(ms.m[1].intensity, 19.0 / sqrt(26.0), TOL);
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(no_z_before_min_history)
{
	/* However large the value, fewer than min_history previous windows
	 * give a NULL z and no anomaly. */
	static const double rates[] = {0.1, 0.1, 1000};
	struct detect_config cfg = spike_only(3, 3, 0.1, 3.0, false);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 3, 0, &ms, &j);
	ck_assert(!j.has_z[2]);
	ck_assert(!j.anomaly[2]);
	ck_assert_uint_eq(ms.n, 0);
	detectors_free(d);
}
END_TEST

START_TEST(min_history_below_n)
{
	/* N = 3, min_history = 1: z from the second window on, against what
	 * there is.  r1 vs {10}: sd 0 -> floor 1: z = -9.  r2 vs {10, 1}:
	 * mean 5.5, sd 4.5, z = (4 - 5.5) / 4.5 = -1/3. */
	static const double rates[] = {10, 1, 4};
	struct detect_config cfg = spike_only(3, 1, 1.0, 3.0, false);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 3, 0, &ms, &j);
	ck_assert(!j.has_z[0]);
	ck_assert(j.has_z[1]);
	ck_assert_double_eq_tol(j.z[1], -9.0, TOL);
	ck_assert(j.has_z[2]);
	ck_assert_double_eq_tol(j.z[2], -1.0 / 3.0, TOL);
	detectors_free(d);
}
END_TEST

START_TEST(threshold_is_strict)
{
	/* vs {1,1,1} with floor 1: value 4 gives z = 3 exactly: not > 3. */
	static const double rates[] = {1, 1, 1, 4};
	struct detect_config cfg = spike_only(3, 3, 1.0, 3.0, false);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 4, 0, &ms, &j);
	ck_assert(j.has_z[3]);
	ck_assert_double_eq(j.z[3], 3.0);
	ck_assert(!j.anomaly[3]);
	ck_assert_uint_eq(ms.n, 0);
	detectors_free(d);
	/* 4.5 gives 3.5: anomalous */
	static const double rates2[] = {1, 1, 1, 4.5};
	d = detectors_new(&cfg);
	feed(d, rates2, 4, 0, &ms, &j);
	ck_assert(j.anomaly[3]);
	ck_assert_uint_eq(ms.n, 1);
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(stddev_floor_in_detector)
{
	/* The default floor is one message per window: 1/W = 0.1 msg/s for
	 * W = 10 s.  vs {0.1, 0.1, 0.1}: value 0.5 gives z = 0.4/0.1 = 4. */
	static const double rates[] = {0.1, 0.1, 0.1, 0.5};
	struct detect_config cfg = spike_only(3, 3, 0.1, 3.0, false);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 4, 0, &ms, &j);
	ck_assert_double_eq_tol(j.z[3], 4.0, TOL);
	ck_assert(j.anomaly[3]);
	ck_assert_uint_eq(ms.n, 1);
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(moment_metadata)
{
	static const double rates[] = {0.1, 0.1, 0.1};
	struct detect_config cfg = spike_only(3, 3, 0.1, 3.0, false);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 3, 176390129, &ms, &j);
	/* window 176390132 = [2025-11-23T12:35:20Z, 12:35:30Z) */
	struct window_row r = row(0, "s", 176390132, 0.5);
	static const struct strview emotes[] = {{"Kappa", 5}, {"LUL", 3}};
	static const uint32_t counts[] = {3, 1};
	r.unique_chatters = 4;
	r.top_emotes = emotes;
	r.top_emote_counts = counts;
	r.n_top_emotes = 2;
	r.avg_sentiment = 0.25;
	r.has_sentiment = true;
	ck_assert_int_eq(detectors_on_window(d, &r, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_ptr_null(strchr(ms.m[0].description, '\n')); /* one line */
	ck_assert_ptr_nonnull(strstr(ms.m[0].description, "chat spike"));

	json_error_t jerr;
	json_t *m = json_loads(ms.m[0].metadata, 0, &jerr);
	ck_assert_msg(m != NULL, "metadata is not JSON: %s", ms.m[0].metadata);
	ck_assert(json_is_object(m));
	ck_assert_str_eq(json_string_value(json_object_get(m, "window_start")),
	                 "2025-11-23T12:35:20.000000Z");
	ck_assert_str_eq(json_string_value(json_object_get(m, "window_end")),
	                 "2025-11-23T12:35:30.000000Z");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "chat_count")), 5);
	ck_assert_double_eq_tol(json_number_value(json_object_get(m, "chat_rate")), 0.5, TOL);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "unique_chatters")), 4);
	ck_assert(json_is_null(json_object_get(m, "avg_viewers")));
	ck_assert_double_eq_tol(json_number_value(json_object_get(m, "avg_sentiment")), 0.25, TOL);
	json_t *top = json_object_get(m, "top_emotes");
	ck_assert(json_is_array(top));
	ck_assert_uint_eq(json_array_size(top), 2);
	ck_assert_str_eq(json_string_value(json_array_get(top, 0)), "Kappa");
	ck_assert_str_eq(json_string_value(json_array_get(top, 1)), "LUL");
	ck_assert_double_eq_tol(json_number_value(json_object_get(m, "baseline_mean")), 0.1, TOL);
	ck_assert_double_eq_tol(json_number_value(json_object_get(m, "baseline_stddev")), 0.0, TOL);
	ck_assert_double_eq_tol(json_number_value(json_object_get(m, "threshold")), 3.0, TOL);
	ck_assert_double_eq_tol(json_number_value(json_object_get(m, "z_score")), 4.0, TOL);
	json_decref(m);
	/* keys sorted, compact: the text is deterministic */
	ck_assert_ptr_nonnull(strstr(ms.m[0].metadata, "\"avg_sentiment\":"));
	ck_assert_ptr_null(strstr(ms.m[0].metadata, ", "));
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(merge_run_ends_on_normal_window)
{
	/* N = 3, floor 0.1, threshold 3.  Rates 0.1 0.1 0.1 0.5 1.0 0.1:
	 *   k3 0.5 vs {.1,.1,.1}: z = 4
	 *   k4 1.0 vs {.1,.1,.5}: mean 7/30, sd 4√2/30: z = 23/(4√2) = 4.0659
	 *   k5 0.1 vs {.1,.5,1}: z = -13/√122 < 0: the run ends here.
	 * One moment: from window 3's start to window 4's end, peak z 4.0659. */
	static const double rates[] = {0.1, 0.1, 0.1, 0.5, 1.0};
	struct detect_config cfg = spike_only(3, 3, 0.1, 3.0, true);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 5, 0, &ms, &j);
	ck_assert(j.anomaly[3]);
	ck_assert(j.anomaly[4]);
	ck_assert_double_eq_tol(j.z[4], 23.0 / (4.0 * sqrt(2.0)), TOL);
	ck_assert_uint_eq(ms.n, 0); /* the run is still open */
	/* everything up to window 4 has been emitted: the run can still grow */
	ck_assert_int_eq(detectors_on_closed(d, 4, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 0);
	struct window_row r = row(0, "s", 5, 0.1);
	ck_assert_int_eq(detectors_on_window(d, &r, collect, &ms), 0);
	ck_assert(!r.is_anomaly);
	ck_assert_double_eq_tol(r.z_score, -13.0 / sqrt(122.0), TOL);
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_str_eq(ms.m[0].type, "chat_spike");
	ck_assert_int_eq(ms.m[0].time_us, SEC(30));
	ck_assert_int_eq(ms.m[0].end_us, SEC(50));
	ck_assert_double_eq_tol(ms.m[0].intensity, 23.0 / (4.0 * sqrt(2.0)), TOL);
	/* the metadata says how long, and where the peak was */
	json_t *m = json_loads(ms.m[0].metadata, 0, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "windows")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(m, "window_start")),
	                 "1970-01-01T00:00:30.000000Z");
	ck_assert_str_eq(json_string_value(json_object_get(m, "window_end")),
	                 "1970-01-01T00:00:50.000000Z");
	ck_assert_str_eq(json_string_value(json_object_get(m, "peak_window_start")),
	                 "1970-01-01T00:00:40.000000Z");
	json_decref(m);
	/* nothing left to flush */
	ck_assert_int_eq(detectors_flush(d, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 1);
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(merge_run_ends_on_empty_window)
{
	/* Same run; window 5 is empty (no row).  Once every window <= 5 is
	 * closed, the run cannot grow and is emitted. */
	static const double rates[] = {0.1, 0.1, 0.1, 0.5, 1.0};
	struct detect_config cfg = spike_only(3, 3, 0.1, 3.0, true);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	feed(d, rates, 5, 0, &ms, &j);
	ck_assert_int_eq(detectors_on_closed(d, 4, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 0);
	ck_assert_int_eq(detectors_on_closed(d, 5, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_int_eq(ms.m[0].time_us, SEC(30));
	ck_assert_int_eq(ms.m[0].end_us, SEC(50));
	ck_assert_int_eq(detectors_on_closed(d, 6, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 1); /* emitted once */
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(merge_flush_and_gaps)
{
	struct detect_config cfg = spike_only(3, 3, 0.1, 3.0, true);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	struct judged j;
	static const double rates[] = {0.1, 0.1, 0.1, 0.5};
	feed(d, rates, 4, 0, &ms, &j); /* run opens at window 3 (z = 4) */
	/* window 5 (4 is missing: a gap) anomalous too: vs {.1,.1,.5}
	 * (z = 23/(4√2) as above, with 1.0).  The gap ends the first run and
	 * starts another. */
	struct window_row r = row(0, "s", 5, 1.0);
	ck_assert_int_eq(detectors_on_window(d, &r, collect, &ms), 0);
	ck_assert(r.is_anomaly);
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_int_eq(ms.m[0].time_us, SEC(30));
	ck_assert_int_eq(ms.m[0].end_us, SEC(40));
	ck_assert_double_eq_tol(ms.m[0].intensity, 4.0, TOL);
	/* end of input: the open run is emitted */
	ck_assert_int_eq(detectors_flush(d, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 2);
	ck_assert_int_eq(ms.m[1].time_us, SEC(50));
	ck_assert_int_eq(ms.m[1].end_us, SEC(60));
	ck_assert_double_eq_tol(ms.m[1].intensity, 23.0 / (4.0 * sqrt(2.0)), TOL);
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(streams_independent)
{
	/* Stream 1's flat history is not disturbed by stream 0's spike. */
	struct detect_config cfg = spike_only(2, 2, 0.1, 3.0, false);
	struct detectors *d = detectors_new(&cfg);
	struct moms ms = {0};
	for (int64_t k = 0; k < 2; k++) {
		struct window_row a = row(0, "a", k, 0.1), b = row(1, "b", k, 0.1);
		ck_assert_int_eq(detectors_on_window(d, &a, collect, &ms), 0);
		ck_assert_int_eq(detectors_on_window(d, &b, collect, &ms), 0);
	}
	struct window_row a = row(0, "a", 2, 5.0), b = row(1, "b", 2, 0.2);
	ck_assert_int_eq(detectors_on_window(d, &a, collect, &ms), 0);
	ck_assert_int_eq(detectors_on_window(d, &b, collect, &ms), 0);
	ck_assert(a.is_anomaly);
	ck_assert_double_eq_tol(b.z_score, 1.0, TOL); /* (0.2 - 0.1) / 0.1 */
	ck_assert(!b.is_anomaly);
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_str_eq(ms.m[0].stream, "a");
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(viewer_surge_and_sentiment_drop)
{
	/* Windows without the metric (no viewer events / no chat) are skipped:
	 * no z, not in the history.  N = 2. */
	struct detect_config c;
	memset(&c, 0, sizeof(c));
	c.det[DETECTOR_VIEWER_SURGE] = (struct detector_config){true, 2, 2, 1.0, 3.0};
	c.det[DETECTOR_SENTIMENT_DROP] = (struct detector_config){true, 2, 2, 0.05, 3.0};
	struct detectors *d = detectors_new(&c);
	struct moms ms = {0};
	static const struct {
		bool viewers;
		double avg_viewers;
		bool sent;
		double avg_sent;
	} w[] = {
		{true, 10, true, 0.5},
		{false, 0, false, 0},  /* neither metric: skipped by both */
		{true, 10, true, 0.5},
		{true, 50, true, -0.5}, /* viewers vs {10,10}: z = 40 / 1; sentiment vs {.5,.5}:
		                           z = -1 / 0.05 = -20, a drop: intensity 20 */
	};
	for (int64_t k = 0; k < 4; k++) {
		struct window_row r = row(0, "s", k, 0);
		r.has_viewers = w[k].viewers;
		r.avg_viewers = w[k].avg_viewers;
		r.viewer_events = w[k].viewers;
		r.has_sentiment = w[k].sent;
		r.avg_sentiment = w[k].avg_sent;
		ck_assert_int_eq(detectors_on_window(d, &r, collect, &ms), 0);
		ck_assert(!r.has_z); /* chat_spike is disabled: no z in the row */
	}
	ck_assert_uint_eq(ms.n, 2);
	ck_assert_str_eq(ms.m[0].type, "viewer_surge");
	ck_assert_double_eq_tol(ms.m[0].intensity, 40.0, TOL);
	ck_assert_int_eq(ms.m[0].time_us, SEC(30));
	ck_assert_str_eq(ms.m[1].type, "sentiment_drop");
	ck_assert_double_eq_tol(ms.m[1].intensity, 20.0, TOL);
	/* a rise in sentiment is not a drop */
	struct window_row r = row(0, "s", 4, 0);
	r.has_sentiment = true;
	r.avg_sentiment = 1.0;
	ck_assert_int_eq(detectors_on_window(d, &r, collect, &ms), 0);
	ck_assert_uint_eq(ms.n, 2);
	ck_assert_str_eq(detector_name(DETECTOR_CHAT_SPIKE), "chat_spike");
	ck_assert_str_eq(detector_name(DETECTOR_VIEWER_SURGE), "viewer_surge");
	ck_assert_str_eq(detector_name(DETECTOR_SENTIMENT_DROP), "sentiment_drop");
	moms_free(&ms);
	detectors_free(d);
}
END_TEST

START_TEST(disabled_detector)
{
	struct detect_config c;
	memset(&c, 0, sizeof(c));
	struct detectors *d = detectors_new(&c);
	struct moms ms = {0};
	for (int64_t k = 0; k < 5; k++) {
		struct window_row r = row(0, "s", k, k == 4 ? 100.0 : 0.1);
		ck_assert_int_eq(detectors_on_window(d, &r, collect, &ms), 0);
		ck_assert(!r.has_z);
		ck_assert(!r.is_anomaly);
	}
	ck_assert_uint_eq(ms.n, 0);
	detectors_free(d);
}
END_TEST

Suite *detector_suite(void)
{
	Suite *s = suite_create("detector");
	TCase *tc = tcase_create("zscore");
	tcase_add_test(tc, zscore_basic);
	tcase_add_test(tc, zscore_stddev_floor);
	suite_add_tcase(s, tc);
	tc = tcase_create("windows");
	tcase_add_test(tc, history_is_previous_n_only);
	tcase_add_test(tc, no_z_before_min_history);
	tcase_add_test(tc, min_history_below_n);
	tcase_add_test(tc, threshold_is_strict);
	tcase_add_test(tc, stddev_floor_in_detector);
	tcase_add_test(tc, moment_metadata);
	tcase_add_test(tc, streams_independent);
	tcase_add_test(tc, viewer_surge_and_sentiment_drop);
	tcase_add_test(tc, disabled_detector);
	suite_add_tcase(s, tc);
	tc = tcase_create("merge");
	tcase_add_test(tc, merge_run_ends_on_normal_window);
	tcase_add_test(tc, merge_run_ends_on_empty_window);
	tcase_add_test(tc, merge_flush_and_gaps);
	suite_add_tcase(s, tc);
	return s;
}
