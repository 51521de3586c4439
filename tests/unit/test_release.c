/*
 * test_release.c — state that scales with distinct keys: the key-ordered
 * heap (core/keyheap.h), the windower's stream table with released and
 * reused indexes (core/window.h), and the engine's release of a stream's
 * state (core/engine.c, consider_release; the rule in core/detector.c):
 * a stream that comes back after its state was released gives exactly the
 * rows and moments of a run in which nothing could be released (the same
 * events with a watermark delay longer than the input, so that no window
 * closes before the end), and a checkpoint taken while a stream waits for
 * its release resumes exactly.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/engine.h"
#include "core/keyheap.h"
#include "unit.h"

/* --- keyheap ------------------------------------------------------------- */

START_TEST(keyheap_orders_by_key_then_value)
{
	struct keyheap h = {0};
	struct keyheap_entry e;
	ck_assert(!keyheap_pop(&h, &e));
	ck_assert(!keyheap_peek(&h, &e));
	/* A scrambled permutation of 0..999 as keys, with ties: key = x / 3. */
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t x = (i * 7919u) % 1000u;
		keyheap_push(&h, (int64_t)(x / 3) - 100, x);
	}
	int64_t last_key = INT64_MIN;
	uint32_t last_value = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		ck_assert(keyheap_peek(&h, &e));
		struct keyheap_entry p;
		ck_assert(keyheap_pop(&h, &p));
		ck_assert_int_eq(p.key, e.key);
		ck_assert_uint_eq(p.value, e.value);
		ck_assert(p.key > last_key || (p.key == last_key && p.value > last_value));
		ck_assert_int_eq(p.key, (int64_t)(p.value / 3) - 100);
		ck_assert_uint_eq(p.value, i); /* keys rise with values: all of them, in order */
		last_key = p.key;
		last_value = p.value;
	}
	ck_assert(!keyheap_pop(&h, &e));
	/* Interleaved pushes and pops, against a count of what must be there. */
	for (int round = 0; round < 50; round++) {
		keyheap_push(&h, 10 - round % 7, (uint32_t)round);
		keyheap_push(&h, INT64_MAX, (uint32_t)round);
		ck_assert(keyheap_pop(&h, &e));
		ck_assert_int_lt(e.key, INT64_MAX);
	}
	ck_assert_uint_eq(h.n, 50);
	for (int i = 0; i < 50; i++) {
		ck_assert(keyheap_pop(&h, &e));
		ck_assert_int_eq(e.key, INT64_MAX);
		ck_assert_uint_eq(e.value, (uint32_t)i);
	}
	keyheap_free(&h);
	ck_assert_ptr_null(h.v);
}
END_TEST

/* --- the windower's stream table ------------------------------------------- */

static struct strview name_of(char *buf, size_t cap, int i)
{
	int n = snprintf(buf, cap, "stream-%d", i);
	return sv_make(buf, (size_t)n);
}

START_TEST(stream_table_release_and_reuse)
{
	struct window_config cfg = {SEC(10), SEC(10), 3, 0};
	struct windower *w = windower_new(&cfg);
	char buf[32];
	enum { N = 5000 };
	bool created;
	for (int i = 0; i < N; i++) {
		ck_assert_uint_eq(windower_stream_add(w, name_of(buf, sizeof(buf), i), &created),
		                  (uint32_t)i);
		ck_assert(created);
	}
	ck_assert_uint_eq(windower_stream_add(w, name_of(buf, sizeof(buf), 17), &created), 17);
	ck_assert(!created);
	/* Release every third stream: each deletion shifts probe runs, so every
	 * survivor must still be found, and no released one. */
	for (int i = 0; i < N; i += 3) {
		ck_assert(windower_release(w, (uint32_t)i));
		ck_assert(!windower_stream_live(w, (uint32_t)i));
		ck_assert(!windower_release(w, (uint32_t)i)); /* twice: refused */
	}
	ck_assert_uint_eq(windower_live_streams(w), N - (N + 2) / 3);
	for (int i = 0; i < N; i++) {
		uint32_t s = windower_find_stream(w, name_of(buf, sizeof(buf), i));
		if (i % 3 == 0) {
			ck_assert_uint_eq(s, UINT32_MAX);
		} else {
			ck_assert_uint_eq(s, (uint32_t)i);
			ck_assert_sv_eq(windower_stream_name(w, s), buf);
		}
	}
	/* New streams take the released indexes before any new one, so the
	 * index space stays the size of the live set. */
	for (int i = N; i < N + (N + 2) / 3; i++) {
		uint32_t s = windower_stream_add(w, name_of(buf, sizeof(buf), i), &created);
		ck_assert(created);
		ck_assert_uint_lt(s, N);
		ck_assert_uint_eq(s % 3, 0);
		ck_assert_sv_eq(windower_stream_name(w, s), buf);
	}
	ck_assert_uint_eq(windower_stream_count(w), N);
	ck_assert_uint_eq(windower_live_streams(w), N);
	/* A released stream that comes back is a new stream, found again. */
	uint32_t back = windower_stream_add(w, name_of(buf, sizeof(buf), 0), &created);
	ck_assert(created);
	ck_assert_uint_eq(back, N);
	ck_assert_uint_eq(windower_find_stream(w, name_of(buf, sizeof(buf), 0)), back);
	windower_free(w);
}
END_TEST

START_TEST(stream_with_panes_is_not_released)
{
	struct window_config cfg = {SEC(10), SEC(10), 3, 0};
	struct windower *w = windower_new(&cfg);
	uint32_t s = windower_stream(w, SV_LIT("s"));
	struct chat_contribution c = {0, SV_LIT("u"), NULL, 0};
	windower_add_chat(w, s, SEC(5), windower_admit(w, SEC(5), TIME_NEG_INF), &c);
	ck_assert(!windower_release(w, s));
	ck_assert(windower_stream_live(w, s));
	/* Held: refused until its entry comes out, and it comes out only once
	 * the windows closed to its index and its panes are gone. */
	windower_hold(w, s, 2);
	ck_assert_uint_eq(windower_due_release(w), UINT32_MAX);
	windower_free(w);
}
END_TEST

static int count_rows(void *ctx, struct window_row *row)
{
	(void)row;
	++*(int *)ctx;
	return 0;
}

START_TEST(held_streams_come_due_in_order)
{
	struct window_config cfg = {SEC(10), SEC(10), 3, 0};
	struct windower *w = windower_new(&cfg);
	struct chat_contribution c = {0, SV_LIT("u"), NULL, 0};
	uint32_t a = windower_stream(w, SV_LIT("a")), b = windower_stream(w, SV_LIT("b"));
	windower_add_chat(w, a, SEC(5), windower_admit(w, SEC(5), TIME_NEG_INF), &c);
	windower_add_chat(w, b, SEC(6), windower_admit(w, SEC(6), TIME_NEG_INF), &c);
	int rows = 0;
	ck_assert_int_eq(windower_close(w, SEC(10), count_rows, &rows), 0);
	ck_assert_int_eq(rows, 2);
	const uint32_t *emptied;
	ck_assert_uint_eq(windower_emptied(w, &emptied), 2);
	ck_assert_uint_eq(emptied[0], a);
	ck_assert_uint_eq(emptied[1], b);
	windower_hold(w, b, 3);
	windower_hold(w, a, 3);
	windower_hold(w, a, 5); /* extended: still one entry */
	ck_assert_uint_eq(windower_due_release(w), UINT32_MAX); /* closed_k is 0 */
	ck_assert_int_eq(windower_close(w, SEC(40), count_rows, &rows), 0); /* closed_k 3 */
	ck_assert_uint_eq(windower_emptied(w, &emptied), 0);
	ck_assert_uint_eq(windower_due_release(w), b);
	ck_assert(windower_release(w, b));
	ck_assert_uint_eq(windower_due_release(w), UINT32_MAX); /* a was extended to 5 */
	ck_assert(!windower_release(w, a));                     /* held */
	/* a gets an event in pane 6: when its entry comes out at closed_k 5,
	 * it holds a pane and is skipped; the close that empties it lists it. */
	windower_add_chat(w, a, SEC(65), windower_admit(w, SEC(65), TIME_NEG_INF), &c);
	ck_assert_int_eq(windower_close(w, SEC(60), count_rows, &rows), 0); /* closed_k 5 */
	ck_assert_uint_eq(windower_emptied(w, &emptied), 0);
	ck_assert_uint_eq(windower_due_release(w), UINT32_MAX);
	ck_assert(!windower_release(w, a)); /* it has a pane */
	ck_assert_int_eq(windower_close(w, SEC(70), count_rows, &rows), 0); /* closed_k 6 */
	ck_assert_int_eq(rows, 3);
	ck_assert_uint_eq(windower_emptied(w, &emptied), 1);
	ck_assert_uint_eq(emptied[0], a);
	ck_assert(windower_release(w, a)); /* no panes, no longer held */
	ck_assert_uint_eq(windower_live_streams(w), 0);
	windower_free(w);
}
END_TEST

/* --- the engine: release changes no output ---------------------------------- */

#define T INT64_C(1700000000)

struct text {
	char **lines;
	size_t n, cap;
};

static void text_add(struct text *t, const char *s)
{
	t->lines = grow_array(t->lines, sizeof(*t->lines), &t->cap, t->n + 1);
	t->lines[t->n++] = xstrdup(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void text_free(struct text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	*t = (struct text){0};
}

/* Every field of a row and of a moment that reaches a sink, as text with
 * every double to the last bit, so that two runs compare exactly. */
static int on_window(void *ctx, const struct window_row *r)
{
	char s[1024];
	int n = snprintf(s, sizeof(s),
	                 "W %s %lld %lld %lld %lld %lld %lld %lld %d %a %a %d %a %lld %d %a %d |",
	                 sv_z(r->stream_id), (long long)r->k, (long long)r->start_us,
	                 (long long)r->chat_count, (long long)r->unique_chatters,
	                 (long long)r->positive_count, (long long)r->negative_count,
	                 (long long)r->score_sum, r->has_sentiment,
	                 r->has_sentiment ? r->avg_sentiment : 0.0, r->chat_rate, r->has_viewers,
	                 r->has_viewers ? r->avg_viewers : 0.0, (long long)r->viewer_events,
	                 r->has_z, r->has_z ? r->z_score : 0.0, r->is_anomaly);
	for (size_t i = 0; i < r->n_top_emotes && n < (int)sizeof(s) - 64; i++)
		n += snprintf(s + n, sizeof(s) - (size_t)n, " %s:%u", sv_z(r->top_emotes[i]),
		              r->top_emote_counts[i]);
	text_add(ctx, s);
	return 0;
}

static int on_moment(void *ctx, const struct moment *m)
{
	char s[2048];
	snprintf(s, sizeof(s), "M %s %s %lld %lld %a %s %s", sv_z(m->stream_id), m->type,
	         (long long)m->time_us, (long long)m->end_us, m->intensity, m->description,
	         m->metadata);
	text_add(ctx, s);
	return 0;
}

static int on_dead(void *ctx, const struct dead_letter *dl)
{
	(void)ctx;
	ck_abort_msg("unexpected dead letter: %s", dl->detail);
	return 0;
}

static struct lexicon *lex;

static void setup(void)
{
	struct error err;
	lex = lexicon_new();
	ck_assert(lexicon_add_list(lex, POLARITY_POSITIVE, "good\n", 5, "pos", &err));
	ck_assert(lexicon_add_list(lex, POLARITY_NEGATIVE, "bad\n", 4, "neg", &err));
}

static void teardown(void) { lexicon_free(lex); }

/* The defaults of the command line: W 60 s, S 10 s, the pane detector
 * with H = 90 panes (900 s), merged moments; `optional` also switches on
 * the viewer-surge and sentiment-drop detectors, whose histories have no
 * horizon. */
static struct core_config config(int64_t delay_s, bool optional)
{
	struct core_config c;
	memset(&c, 0, sizeof(c));
	c.window = (struct window_config){SEC(60), SEC(10), 3, 0};
	c.watermark_delay_us = SEC(delay_s);
	c.detect.merge = true;
	c.detect.method = DETECT_PANE;
	c.detect.window_panes = 6;
	c.detect.slide_us = SEC(10);
	c.detect.pane = (struct pane_config){METRIC_CHATTERS, 90, 30, 0.1, 5, 2, 1.5, 2, 0};
	c.detect.det[DETECTOR_CHAT_SPIKE] = (struct detector_config){true, 10, 10, 1.0 / 60, 3.0};
	c.detect.det[DETECTOR_VIEWER_SURGE] = (struct detector_config){optional, 10, 10, 1.0, 2.0};
	c.detect.det[DETECTOR_SENTIMENT_DROP] = (struct detector_config){optional, 10, 10, 0.05, 2.0};
	c.lexicon = lex;
	c.chat_topic = "telemetra.events.chat";
	c.viewer_topic = "telemetra.events.viewer";
	return c;
}

struct feed {
	char **lines;
	size_t n, cap;
};

static void feed_add(struct feed *f, int64_t t_ms, const char *stream, const char *body)
{
	char l[512];
	snprintf(l, sizeof(l), "{\"timestamp\":%lld,\"stream_id\":\"%s\",%s}",
	         (long long)(T * 1000 + t_ms), stream, body);
	f->lines = grow_array(f->lines, sizeof(*f->lines), &f->cap, f->n + 1);
	f->lines[f->n++] = xstrdup(l);
}

/*
 * Stream "a" chats for 400 s (a steady 1 message/s from 8 chatters, with a
 * viewer count), falls silent for `gap_s`, then comes back and chats on
 * steadily for 450 s, with a burst of 30 chatters in one pane 350 s after
 * its return (when even a stream that starts afresh has enough history
 * for a z).  Stream "b"
 * chats every 2 s throughout and keeps the watermark moving, so that with
 * the default delay a's windows close during its silence.
 */
static void build(struct feed *f, int64_t gap_s)
{
	char body[256];
	int64_t back = 400 + gap_s, burst = back + 350, end = back + 450;
	for (int64_t ms = 0; ms < end * 1000; ms += 500) {
		int64_t s = ms / 1000;
		if (ms % 2000 == 0) {
			snprintf(body, sizeof(body), "\"user_id\":\"b%lld\",\"message\":\"good\"",
			         (long long)(s % 5));
			feed_add(f, ms, "b", body);
		}
		bool a_on = s < 400 || s >= back;
		if (a_on && ms % 1000 == 0) {
			snprintf(body, sizeof(body),
			         "\"user_id\":\"a%lld\",\"message\":\"%s\",\"emotes\":[\"Kappa\"]",
			         (long long)(s % 8), s % 3 ? "good" : "bad");
			feed_add(f, ms, "a", body);
			if (s % 10 == 0) {
				snprintf(body, sizeof(body), "\"viewer_count\":%lld", (long long)(100 + s % 7));
				feed_add(f, ms, "a", body);
			}
		}
		if (s >= burst && s < burst + 10 && ms % 1000 == 500) { /* the burst */
			for (int u = 0; u < 3; u++) {
				snprintf(body, sizeof(body), "\"user_id\":\"x%lld-%d\",\"message\":\"pog\"",
				         (long long)s, u);
				feed_add(f, ms, "a", body);
			}
		}
	}
}

static void feed_free(struct feed *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->lines[i]);
	free(f->lines);
}

static struct engine *new_engine(const struct core_config *c, struct text *out)
{
	struct engine_output port = {out, on_window, on_moment, on_dead, NULL, NULL};
	return engine_new(c, &port);
}

/* Feed lines [from, to) of f. */
static void run(struct engine *e, const struct feed *f, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		ck_assert_int_eq(engine_line(e, SV_LIT("in.jsonl"), (int64_t)i + 1, f->lines[i],
		                             strlen(f->lines[i])),
		                 0);
}

static void assert_same(struct text *a, struct text *b, const char *what)
{
	qsort(a->lines, a->n, sizeof(*a->lines), cmp_str);
	qsort(b->lines, b->n, sizeof(*b->lines), cmp_str);
	ck_assert_msg(a->n == b->n, "%s: %zu lines against %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		ck_assert_msg(!strcmp(a->lines[i], b->lines[i]), "%s: line %zu:\n  %s\n  %s", what, i,
		              a->lines[i], b->lines[i]);
}

static bool has_line(const struct text *t, const char *prefix)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strncmp(t->lines[i], prefix, strlen(prefix)))
			return true;
	return false;
}

/* Gaps around the horizon: a's last row judges pane 39 + 5 (its windows
 * run on 5 panes past its last event); it may go once closed_k >=
 * last_pane + H + 1 - n, and it comes back after the gap. */
static const int64_t gaps[] = {300, 850, 890, 900, 910, 920, 960, 1500};

START_TEST(released_stream_comes_back_with_the_same_rows)
{
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		for (int optional = 0; optional < 2; optional++) {
			struct feed f = {0};
			build(&f, gaps[g]);
			struct core_config live = config(5, optional), held = config(1000000, optional);
			struct text a = {0}, b = {0};
			struct engine *ea = new_engine(&live, &a), *eb = new_engine(&held, &b);
			run(ea, &f, 0, f.n);
			run(eb, &f, 0, f.n);
			uint64_t released = engine_stats(ea)->streams_released;
			ck_assert_uint_eq(engine_stats(eb)->streams_released, 0); /* nothing closed yet */
			ck_assert_int_eq(engine_finish(ea, true), 0);
			ck_assert_int_eq(engine_finish(eb, true), 0);
			/* a is let go during a long enough silence, and only then;
			 * with a viewer or sentiment history, never. */
			if (optional)
				ck_assert_uint_eq(released, 0);
			else if (gaps[g] >= 960)
				ck_assert_uint_ge(released, 1);
			else if (gaps[g] <= 890)
				ck_assert_uint_eq(released, 0);
			ck_assert_uint_gt(a.n, 200);
			ck_assert(has_line(&a, "M a chat_spike")); /* the burst is judged, not vacuous */
			char what[64];
			snprintf(what, sizeof(what), "gap %lld s, optional %d", (long long)gaps[g], optional);
			assert_same(&a, &b, what);
			engine_free(ea);
			engine_free(eb);
			text_free(&a);
			text_free(&b);
			feed_free(&f);
		}
	}
}
END_TEST

/* A checkpoint taken while a is held for release (and one after it went)
 * resumes exactly: the schedule is not saved, it follows from the state. */
START_TEST(checkpoint_while_held_resumes_exactly)
{
	struct feed f = {0};
	build(&f, 1500);
	struct core_config c = config(5, false);
	/* Cut points: in a's silence before its release (t ~ 700 s), after
	 * it (t ~ 1600 s), and just before it comes back. */
	static const int64_t cut_s[] = {700, 1400, 1600, 1899};
	for (size_t k = 0; k < sizeof(cut_s) / sizeof(cut_s[0]); k++) {
		size_t cut = 0;
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "{\"timestamp\":%lld", (long long)(T + cut_s[k]) * 1000);
		while (cut < f.n && strncmp(f.lines[cut], prefix, strlen(prefix)) < 0)
			cut++;
		ck_assert_uint_lt(cut, f.n);
		struct text a = {0}, b = {0}, ignored = {0};
		struct engine *ea = new_engine(&c, &a);
		run(ea, &f, 0, cut);
		char *state = engine_save_group(ea, -1);
		ck_assert_ptr_nonnull(state);
		struct engine *eb = new_engine(&c, &b);
		struct error err;
		ck_assert_msg(engine_load_group(eb, state, strlen(state), &err), "%s", err.msg);
		char *again = engine_save_group(eb, -1);
		ck_assert_str_eq(again, state); /* loading lost nothing and released nothing early */
		free(again);
		free(state);
		text_free(&a); /* only what follows the cut is compared */
		run(ea, &f, cut, f.n);
		run(eb, &f, cut, f.n);
		ck_assert_int_eq(engine_finish(ea, true), 0);
		ck_assert_int_eq(engine_finish(eb, true), 0);
		ck_assert_uint_gt(a.n, 100);
		assert_same(&a, &b, "after the checkpoint");
		if (cut_s[k] < 1000)
			ck_assert_uint_ge(engine_stats(eb)->streams_released, 1); /* released after load */
		engine_free(ea);
		engine_free(eb);
		text_free(&a);
		text_free(&b);
		text_free(&ignored);
	}
	feed_free(&f);
}
END_TEST

/* The keying check while the engine has had one group only records no
 * stream (engine.c, key_lazy): a second group must still learn every
 * stream the first one saw, those released before it came as well as
 * those alive. */
static int notices;

static void count_notice(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	notices++;
}

static int kmsg(struct engine *e, int32_t partition, int64_t offset, int64_t t_s, const char *stream)
{
	char payload[256];
	snprintf(payload, sizeof(payload),
	         "{\"timestamp\":%lld,\"stream_id\":\"%s\",\"user_id\":\"u\",\"message\":\"hi\"}",
	         (long long)(T * 1000 + t_s * 1000), stream);
	return engine_message(e, SV_LIT("telemetra.events.chat"), partition, offset, payload,
	                      strlen(payload));
}

START_TEST(keying_of_the_only_group_survives_release)
{
	struct core_config c = config(5, false);
	struct text out = {0};
	struct engine_output port = {&out, on_window, on_moment, on_dead, count_notice, NULL};
	struct engine *e = engine_new(&c, &port);
	int64_t off = 0;
	char id[32];
	notices = 0;
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "k%d", i);
		ck_assert_int_eq(kmsg(e, 0, off++, 0, id), 0);
	}
	for (int64_t t = 0; t <= 1500; t += 10) /* b keeps partition 0's watermark moving */
		ck_assert_int_eq(kmsg(e, 0, off++, t, "b"), 0);
	ck_assert_uint_ge(engine_stats(e)->streams_released, 100); /* every k, gone */
	ck_assert_int_eq(notices, 0);
	ck_assert_int_eq(kmsg(e, 1, 0, 1500, "k7"), 0); /* released from partition 0 */
	ck_assert_int_eq(notices, 1);
	ck_assert_int_eq(kmsg(e, 1, 1, 1500, "b"), 0); /* alive in partition 0 */
	ck_assert_int_eq(notices, 2);
	ck_assert_int_eq(kmsg(e, 1, 2, 1501, "k7"), 0); /* reported once */
	ck_assert_int_eq(kmsg(e, 1, 3, 1501, "new"), 0);
	ck_assert_int_eq(notices, 2);
	engine_free(e);
	text_free(&out);
}
END_TEST

Suite *release_suite(void)
{
	Suite *s = suite_create("release");
	TCase *tc = tcase_create("structures");
	tcase_add_test(tc, keyheap_orders_by_key_then_value);
	tcase_add_test(tc, stream_table_release_and_reuse);
	tcase_add_test(tc, stream_with_panes_is_not_released);
	tcase_add_test(tc, held_streams_come_due_in_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("engine");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, released_stream_comes_back_with_the_same_rows);
	tcase_add_test(tc, checkpoint_while_held_resumes_exactly);
	tcase_add_test(tc, keying_of_the_only_group_survives_release);
	suite_add_tcase(s, tc);
	return s;
}
