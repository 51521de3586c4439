/*
 * score.c — tune's adapter to core/score.c: one spans pass per windowing
 * key, and each configuration's moments handed to score_compute().
 *
 * A spans pass is a windowing pass without a recording: the engine's
 * window callback keeps, per stream (the engine's dense stream index), the
 * earliest window start and the latest window end.  It costs about what the
 * shared windowing pass costs (a fraction of reading the input), once per
 * distinct windowing, not per configuration.
 */
#include "config.h"

#include "tune/score.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detector.h"
#include "core/engine.h"

struct span_pass {
	const struct store *store;
	struct tune_spans *out;
	bool *seen; /* per engine stream index */
	size_t cap_seen;
};

static int span_window(void *ctx, const struct window_row *row)
{
	struct span_pass *p = ctx;
	struct tune_spans *s = p->out;
	size_t i = row->stream;
	if (i >= s->n) {
		size_t old = s->cap;
		s->v = grow_array(s->v, sizeof(*s->v), &s->cap, i + 1);
		memset(s->v + old, 0, (s->cap - old) * sizeof(*s->v));
		size_t old_seen = p->cap_seen;
		p->seen = grow_array(p->seen, sizeof(*p->seen), &p->cap_seen, i + 1);
		memset(p->seen + old_seen, 0, (p->cap_seen - old_seen) * sizeof(*p->seen));
		s->n = i + 1;
	}
	struct score_span *sp = &s->v[i];
	if (!p->seen[i]) {
		p->seen[i] = true;
		struct strview stable;
		/* Every stream id the core reports came from the store. */
		if (!store_find(p->store, row->stream_id, &stable))
			abort();
		*sp = (struct score_span){stable, row->start_us, row->end_us};
		return 0;
	}
	if (row->start_us < sp->first_us)
		sp->first_us = row->start_us;
	if (row->end_us > sp->last_us)
		sp->last_us = row->end_us;
	return 0;
}

static int span_moment(void *ctx, const struct moment *m)
{
	(void)ctx;
	(void)m;
	return 0;
}

static int span_dead(void *ctx, const struct dead_letter *dl)
{
	(void)ctx;
	(void)dl;
	return 0;
}

static void spans_pass(const struct store *store, const struct tune_case *proto,
                       bool final_flush, struct tune_spans *out)
{
	memset(out, 0, sizeof(*out));
	struct span_pass p = {store, out, NULL, 0};
	struct core_config core = proto->core;
	for (int k = 0; k < DETECTOR_COUNT; k++)
		core.detect.det[k].enabled = false;
	struct engine_output eo = {
		.ctx = &p, .window = span_window, .moment = span_moment, .dead_letter = span_dead};
	struct engine *e = engine_new(&core, &eo);
	(void)store_feed(store, proto->lexicon, e);
	(void)engine_finish(e, final_flush);
	engine_free(e);
	/* Streams without a window (indexes never reported) drop out. */
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++)
		if (p.seen[i])
			out->v[w++] = out->v[i];
	out->n = w;
	free(p.seen);
}

struct spans_jobs {
	const struct store *store;
	const struct tune_case **protos;
	struct tune_spans *out;
	size_t n, next;
	bool final_flush;
	pthread_mutex_t mu;
};

static void *spans_worker(void *arg)
{
	struct spans_jobs *j = arg;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		size_t i = j->next < j->n ? j->next++ : j->n;
		pthread_mutex_unlock(&j->mu);
		if (i == j->n)
			return NULL;
		spans_pass(j->store, j->protos[i], j->final_flush, &j->out[i]);
	}
}

void tune_spans(const struct store *store, const struct tune_case *cases,
                const struct tune_outcome *outcomes, size_t n, size_t passes, bool final_flush,
                unsigned jobs, struct tune_spans *out)
{
	struct spans_jobs j = {store, NULL, out, passes, 0, final_flush, PTHREAD_MUTEX_INITIALIZER};
	j.protos = xcalloc(passes ? passes : 1, sizeof(*j.protos));
	for (size_t i = 0; i < n; i++)
		if (outcomes[i].pass < passes && !j.protos[outcomes[i].pass])
			j.protos[outcomes[i].pass] = &cases[i];
	size_t extra = jobs > 1 && passes > 1 ? (jobs < passes ? jobs : passes) - 1 : 0;
	pthread_t *threads = xcalloc(extra ? extra : 1, sizeof(*threads));
	size_t started = 0;
	while (started < extra && pthread_create(&threads[started], NULL, spans_worker, &j) == 0)
		started++;
	spans_worker(&j);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	free(j.protos);
	pthread_mutex_destroy(&j.mu);
}

void tune_spans_free(struct tune_spans *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct score_label *tune_score_labels(const struct labels *l)
{
	struct score_label *v = xcalloc(l->n ? l->n : 1, sizeof(*v));
	for (size_t i = 0; i < l->n; i++)
		v[i] = (struct score_label){sv_make(l->v[i].stream_id, l->v[i].stream_id_len),
		                            l->v[i].start_us, l->v[i].end_us};
	return v;
}

void tune_score(const struct score_label *labels, size_t n_labels, const struct tune_outcome *o,
                const struct tune_spans *spans, int64_t tolerance_us, int64_t window_us,
                struct score *out)
{
	struct score_moment *m = xcalloc(o->moments ? o->moments : 1, sizeof(*m));
	for (size_t i = 0; i < o->moments; i++) {
		const struct tune_moment *t = &o->moment_list[i];
		m[i] = (struct score_moment){t->stream_id, sv_make(t->type, strlen(t->type)), t->time_us,
		                             t->end_us};
	}
	struct score_input in = {labels, n_labels, m, o->moments, spans->v, spans->n,
	                         tolerance_us, window_us};
	score_compute(&in, out, NULL);
	free(m);
}
