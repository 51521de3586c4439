/*
 * run.c — windowing passes, detection passes and the workers that run
 * them (see run.h for the design).
 *
 * A windowing pass records into a struct recording:
 *   rows[]     every window row, copied (the engine's strings are views
 *              valid only during its callback: the copy points at the
 *              store's interned strings and at the recording's emote pool)
 *   batches[]  (group, closed_k, end of its rows in rows[]): the rows of
 *              one close of one group, in emission order
 *   groups[]   the engine's groups, in its order, for the final flush
 * Rows do not say their group, but the engine emits a group's rows and
 * then reports the close of that group, so a batch is exactly the rows
 * since the previous close.
 */
#include "config.h"

#include "tune/run.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/detector.h"
#include "util/clock.h"

/* The store's copy of a string the core handed us.  Every string in the
 * core's output (stream ids, emotes) came from an event of the store, so
 * it is always there; not finding it would be a bug in this file. */
static struct strview stable(const struct store *store, struct strview s)
{
	struct strview out;
	if (!store_find(store, s, &out)) {
		fprintf(stderr, "telemetra tune: internal error: \"%.*s\" is not in the store\n",
		        (int)s.len, s.ptr);
		abort();
	}
	return out;
}

/* --- windowing pass: recording --------------------------------------- */

struct batch {
	int32_t group;
	int64_t closed_k;
	size_t rows_end; /* rows [previous batch's rows_end, rows_end) */
};

struct recording {
	const struct store *store;
	const struct tune_run_options *opt;
	struct window_row *rows;
	size_t n_rows, cap_rows;
	size_t *emotes_at; /* per row, into emotes[], until the rows are fixed up */
	size_t cap_emotes_at;
	struct strview *emotes;
	uint32_t *emote_counts;
	size_t n_emotes, cap_emotes, cap_emote_counts;
	struct batch *batches;
	size_t n_batches, cap_batches;
	int32_t *groups;
	size_t n_groups;
	uint64_t accepted, late;
	double seconds;
};

static void recording_free(struct recording *r)
{
	free(r->rows);
	free(r->emotes_at);
	free(r->emotes);
	free(r->emote_counts);
	free(r->batches);
	free(r->groups);
	memset(r, 0, sizeof(*r));
}

static int record_window(void *ctx, const struct window_row *row)
{
	struct recording *r = ctx;
	size_t n = row->n_top_emotes;
	r->emotes = grow_array(r->emotes, sizeof(*r->emotes), &r->cap_emotes, r->n_emotes + n);
	r->emote_counts = grow_array(r->emote_counts, sizeof(*r->emote_counts), &r->cap_emote_counts,
	                             r->n_emotes + n);
	for (size_t i = 0; i < n; i++) {
		r->emotes[r->n_emotes + i] = stable(r->store, row->top_emotes[i]);
		r->emote_counts[r->n_emotes + i] = row->top_emote_counts[i];
	}

	r->rows = grow_array(r->rows, sizeof(*r->rows), &r->cap_rows, r->n_rows + 1);
	r->emotes_at = grow_array(r->emotes_at, sizeof(*r->emotes_at), &r->cap_emotes_at,
	                          r->n_rows + 1);
	struct window_row *copy = &r->rows[r->n_rows];
	*copy = *row;
	copy->stream_id = stable(r->store, row->stream_id);
	copy->top_emotes = NULL; /* set once emotes[] has stopped moving */
	copy->top_emote_counts = NULL;
	r->emotes_at[r->n_rows++] = r->n_emotes;
	r->n_emotes += n;
	return 0;
}

static void record_closed(void *ctx, int32_t group, int64_t closed_k)
{
	struct recording *r = ctx;
	r->batches = grow_array(r->batches, sizeof(*r->batches), &r->cap_batches, r->n_batches + 1);
	r->batches[r->n_batches++] = (struct batch){group, closed_k, r->n_rows};
}

static void record_notice(void *ctx, const char *msg)
{
	const struct recording *r = ctx;
	r->opt->notice(r->opt->notice_ctx, msg);
}

/* With every detector disabled the engine emits no moment. */
static int no_moment(void *ctx, const struct moment *m)
{
	(void)ctx;
	(void)m;
	return 0;
}

/* Dead letters are counted by the engine's stats; nothing to keep. */
static int no_dead_letter(void *ctx, const struct dead_letter *dl)
{
	(void)ctx;
	(void)dl;
	return 0;
}

/* Run the windowing of configuration proto over the store into r. */
static void record_pass(const struct store *store, const struct tune_case *proto,
                        const struct tune_run_options *opt, bool with_notices,
                        struct recording *r)
{
	double t0 = monotonic_seconds();
	memset(r, 0, sizeof(*r));
	r->store = store;
	r->opt = opt;

	struct core_config core = proto->core;
	for (int k = 0; k < DETECTOR_COUNT; k++)
		core.detect.det[k].enabled = false;
	struct engine_output out = {
		.ctx = r,
		.window = record_window,
		.moment = no_moment,
		.dead_letter = no_dead_letter,
		.closed = record_closed,
	};
	if (with_notices && opt->notice)
		out.notice = record_notice;
	struct engine *e = engine_new(&core, &out);
	/* The callbacks cannot fail, so neither can feeding. */
	(void)store_feed(store, proto->lexicon, e);
	(void)engine_finish(e, opt->final_flush);

	const struct engine_stats *st = engine_stats(e);
	r->accepted = st->accepted;
	r->late = st->dead[DEAD_LATE];
	if (opt->final_flush) {
		size_t n = engine_group_partitions(e, NULL, 0);
		r->groups = xcalloc(n ? n : 1, sizeof(*r->groups));
		r->n_groups = engine_group_partitions(e, r->groups, n);
	}
	engine_free(e);

	for (size_t i = 0; i < r->n_rows; i++) {
		if (r->rows[i].n_top_emotes == 0)
			continue; /* emotes[] may be NULL */
		r->rows[i].top_emotes = r->emotes + r->emotes_at[i];
		r->rows[i].top_emote_counts = r->emote_counts + r->emotes_at[i];
	}
	free(r->emotes_at);
	r->emotes_at = NULL;
	r->seconds = monotonic_seconds() - t0;
}

/* --- detection pass ---------------------------------------------------- */

struct group_detectors {
	int32_t partition;
	struct detectors *det;
};

struct detection {
	const struct store *store;
	const struct detect_config *cfg;
	struct group_detectors *groups;
	size_t n_groups, cap_groups;
	struct tune_outcome *out;
	size_t cap_moments;
	struct row_verdicts *verdicts; /* by row: judge_only fills, decide_only reads */
};

static struct detectors *detectors_of(struct detection *d, int32_t partition)
{
	for (size_t i = 0; i < d->n_groups; i++)
		if (d->groups[i].partition == partition)
			return d->groups[i].det;
	d->groups = grow_array(d->groups, sizeof(*d->groups), &d->cap_groups, d->n_groups + 1);
	d->groups[d->n_groups] = (struct group_detectors){partition, detectors_new(d->cfg)};
	return d->groups[d->n_groups++].det;
}

static int collect_moment(void *ctx, const struct moment *m)
{
	struct detection *d = ctx;
	struct tune_outcome *o = d->out;
	o->moment_list = grow_array(o->moment_list, sizeof(*o->moment_list), &d->cap_moments,
	                            o->moments + 1);
	o->moment_list[o->moments++] = (struct tune_moment){
		stable(d->store, m->stream_id), m->type, m->time_us, m->end_us, m->intensity,
	};
	return 0;
}

/* The recorded seam, replayed: rows in order, detectors_on_closed after
 * each batch, detectors_flush at the end.  Each row is handed to row_fn
 * (as a copy: the recording is shared) with its index in r->rows. */
typedef int (*replay_row_fn)(struct detection *d, struct detectors *det, size_t i,
                             struct window_row *row);

static void replay(const struct recording *r, struct detection *d, bool final_flush,
                   replay_row_fn row_fn)
{
	size_t row = 0;
	for (size_t b = 0; b < r->n_batches; b++) {
		const struct batch *batch = &r->batches[b];
		struct detectors *det = detectors_of(d, batch->group);
		for (; row < batch->rows_end; row++) {
			struct window_row w = r->rows[row];
			(void)row_fn(d, det, row, &w);
			d->out->windows++;
			d->out->anomalous_windows += w.is_anomaly;
		}
		(void)detectors_on_closed(det, batch->closed_k, collect_moment, d);
	}
	if (final_flush)
		for (size_t g = 0; g < r->n_groups; g++)
			(void)detectors_flush(detectors_of(d, r->groups[g]), collect_moment, d);
}

static void detection_done(struct detection *d, const struct recording *r, double t0)
{
	for (size_t g = 0; g < d->n_groups; g++)
		detectors_free(d->groups[g].det);
	free(d->groups);
	d->out->accepted = r->accepted;
	d->out->late = r->late;
	d->out->windowing_seconds = r->seconds;
	d->out->detect_seconds += monotonic_seconds() - t0;
}

/* One configuration alone: judge and decide each row (the engine's call). */
static int judge_and_decide(struct detection *d, struct detectors *det, size_t i,
                            struct window_row *row)
{
	(void)i;
	return detectors_on_window(det, row, collect_moment, d);
}

static void detect_pass(const struct recording *r, const struct detect_config *cfg,
                        bool final_flush, struct tune_outcome *out)
{
	double t0 = monotonic_seconds();
	struct detection d = {.store = r->store, .cfg = cfg, .out = out};
	replay(r, &d, final_flush, judge_and_decide);
	detection_done(&d, r, t0);
}

/* Configurations that judge alike (detect_same_judging: they differ in
 * thresholds or merging only) share one judging of the rows: the
 * verdicts, one per row, then decided under each one's thresholds. */
static int judge_only(struct detection *d, struct detectors *det, size_t i, struct window_row *row)
{
	detectors_judge(det, row, &d->verdicts[i]);
	return 0;
}

static int decide_only(struct detection *d, struct detectors *det, size_t i,
                       struct window_row *row)
{
	return detectors_decide(det, row, &d->verdicts[i], collect_moment, d);
}

/* The verdicts on r's rows under cfg: a new array the caller frees. */
static struct row_verdicts *judge_pass(const struct recording *r, const struct detect_config *cfg,
                                       double *seconds)
{
	double t0 = monotonic_seconds();
	struct tune_outcome scratch = {0}; /* judging emits no moment */
	struct detection d = {.store = r->store, .cfg = cfg, .out = &scratch};
	d.verdicts = xcalloc(r->n_rows ? r->n_rows : 1, sizeof(*d.verdicts));
	replay(r, &d, false, judge_only);
	struct row_verdicts *v = d.verdicts;
	detection_done(&d, r, t0);
	*seconds = scratch.detect_seconds;
	return v;
}

static void decide_pass(const struct recording *r, const struct row_verdicts *verdicts,
                        const struct detect_config *cfg, bool final_flush,
                        struct tune_outcome *out)
{
	double t0 = monotonic_seconds();
	struct detection d = {.store = r->store, .cfg = cfg, .out = out,
	                      .verdicts = (struct row_verdicts *)verdicts};
	replay(r, &d, final_flush, decide_only);
	detection_done(&d, r, t0);
}

void tune_outcome_free(struct tune_outcome *o)
{
	free(o->moment_list);
	memset(o, 0, sizeof(*o));
}

/* --- scheduling ---------------------------------------------------------- */

/* The configurations of one pass that judge alike (detect_same_judging). */
struct judging {
	size_t pass;
	size_t *cases; /* indexes into the case list, ascending */
	size_t n_cases, cap_cases;
	size_t next_case;            /* next decision job to hand out */
	size_t finished;             /* decision jobs done */
	struct row_verdicts *verdicts; /* once judged (more than one case) */
	double judge_seconds;
};

/* The configurations sharing one windowing key. */
struct pass {
	size_t *cases; /* indexes into the case list, ascending */
	size_t n_cases, cap_cases;
	size_t *judgings; /* indexes into scheduler.judgings */
	size_t n_judgings, cap_judgings;
	size_t finished; /* configurations done */
	struct recording rec;
};

/*
 * Jobs, each taken under the mutex and run outside it, in this order of
 * preference (each frees memory or unblocks the next):
 *   decide   one configuration of a judged group   (verdicts -> moments)
 *   judge    one group of a recorded pass: its verdicts; a group of one
 *            configuration judges and decides in one go (detect_pass)
 *   record   the next windowing pass
 */
struct scheduler {
	const struct store *store;
	const struct tune_case *cases;
	const struct tune_run_options *opt;
	struct tune_outcome *out;
	struct pass *passes;
	size_t n_passes;
	struct judging *judgings;
	size_t n_judgings;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next_pass;  /* next windowing pass to start */
	size_t busy;       /* record and judge jobs under way: they make new jobs */
	size_t *to_judge;  /* judgings of recorded passes: a queue */
	size_t judge_head, judge_tail;
	size_t *to_decide; /* judged judgings with decisions left: a queue */
	size_t decide_head, decide_tail;
};

static bool same_windowing(const struct tune_case *a, const struct tune_case *b)
{
	return a->core.window.size_us == b->core.window.size_us &&
	       a->core.window.slide_us == b->core.window.slide_us &&
	       a->core.window.top_k == b->core.window.top_k &&
	       a->core.watermark_delay_us == b->core.watermark_delay_us && a->lexicon == b->lexicon;
}

/* Group the cases by windowing key, then by judging, in order of first
 * appearance.  Grids have few keys; linear searches are enough. */
static void plan(struct scheduler *s, size_t n)
{
	size_t cap = 0, cap_j = 0;
	for (size_t i = 0; i < n; i++) {
		size_t p = 0;
		while (p < s->n_passes && !same_windowing(&s->cases[s->passes[p].cases[0]], &s->cases[i]))
			p++;
		if (p == s->n_passes) {
			s->passes = grow_array(s->passes, sizeof(*s->passes), &cap, s->n_passes + 1);
			memset(&s->passes[s->n_passes++], 0, sizeof(*s->passes));
		}
		struct pass *ps = &s->passes[p];
		ps->cases = grow_array(ps->cases, sizeof(*ps->cases), &ps->cap_cases, ps->n_cases + 1);
		ps->cases[ps->n_cases++] = i;
		s->out[i].pass = p;

		size_t j = 0;
		while (j < ps->n_judgings &&
		       !detect_same_judging(&s->cases[s->judgings[ps->judgings[j]].cases[0]].core.detect,
		                            &s->cases[i].core.detect))
			j++;
		if (j == ps->n_judgings) {
			s->judgings = grow_array(s->judgings, sizeof(*s->judgings), &cap_j,
			                         s->n_judgings + 1);
			memset(&s->judgings[s->n_judgings], 0, sizeof(*s->judgings));
			s->judgings[s->n_judgings].pass = p;
			ps->judgings = grow_array(ps->judgings, sizeof(*ps->judgings), &ps->cap_judgings,
			                          ps->n_judgings + 1);
			ps->judgings[ps->n_judgings++] = s->n_judgings++;
		}
		struct judging *jg = &s->judgings[ps->judgings[j]];
		jg->cases = grow_array(jg->cases, sizeof(*jg->cases), &jg->cap_cases, jg->n_cases + 1);
		jg->cases[jg->n_cases++] = i;
	}
	s->to_judge = xcalloc(s->n_judgings ? s->n_judgings : 1, sizeof(*s->to_judge));
	s->to_decide = xcalloc(s->n_judgings ? s->n_judgings : 1, sizeof(*s->to_decide));
}

/* Under the mutex: `done` configurations of pass p are finished. */
static void pass_done(struct pass *p, size_t done)
{
	p->finished += done;
	if (p->finished == p->n_cases)
		recording_free(&p->rec);
}

static void *worker(void *arg)
{
	struct scheduler *s = arg;
	const bool flush = s->opt->final_flush;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->decide_head < s->decide_tail) {
			struct judging *jg = &s->judgings[s->to_decide[s->decide_head]];
			struct pass *p = &s->passes[jg->pass];
			size_t c = jg->cases[jg->next_case++];
			if (jg->next_case == jg->n_cases)
				s->decide_head++;
			pthread_mutex_unlock(&s->mu);
			decide_pass(&p->rec, jg->verdicts, &s->cases[c].core.detect, flush, &s->out[c]);
			/* The shared judging's time, divided: the sum is the work. */
			s->out[c].detect_seconds += jg->judge_seconds / (double)jg->n_cases;
			pthread_mutex_lock(&s->mu);
			if (++jg->finished == jg->n_cases) {
				free(jg->verdicts);
				jg->verdicts = NULL;
			}
			pass_done(p, 1);
			continue;
		}
		if (s->judge_head < s->judge_tail) {
			struct judging *jg = &s->judgings[s->to_judge[s->judge_head++]];
			struct pass *p = &s->passes[jg->pass];
			s->busy++;
			pthread_mutex_unlock(&s->mu);
			size_t c = jg->cases[0];
			if (jg->n_cases == 1)
				detect_pass(&p->rec, &s->cases[c].core.detect, flush, &s->out[c]);
			else
				jg->verdicts = judge_pass(&p->rec, &s->cases[c].core.detect, &jg->judge_seconds);
			pthread_mutex_lock(&s->mu);
			s->busy--;
			if (jg->n_cases == 1)
				pass_done(p, 1);
			else
				s->to_decide[s->decide_tail++] = (size_t)(jg - s->judgings);
			pthread_cond_broadcast(&s->cv);
			continue;
		}
		if (s->next_pass < s->n_passes) {
			size_t i = s->next_pass++;
			struct pass *p = &s->passes[i];
			s->busy++;
			pthread_mutex_unlock(&s->mu);
			record_pass(s->store, &s->cases[p->cases[0]], s->opt, i == 0, &p->rec);
			pthread_mutex_lock(&s->mu);
			s->busy--;
			for (size_t j = 0; j < p->n_judgings; j++)
				s->to_judge[s->judge_tail++] = p->judgings[j];
			pthread_cond_broadcast(&s->cv);
			continue;
		}
		if (s->busy == 0)
			break; /* every job is handed out, and no more can appear */
		pthread_cond_wait(&s->cv, &s->mu);
	}
	pthread_cond_broadcast(&s->cv); /* let the others see it too */
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

void tune_run(const struct store *store, const struct tune_case *cases, size_t n,
              const struct tune_run_options *opt, struct tune_outcome *out,
              struct tune_run_stats *stats)
{
	struct scheduler s = {.store = store, .cases = cases, .opt = opt, .out = out};
	memset(out, 0, n * sizeof(*out));
	plan(&s, n);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);

	/* No more threads than jobs; the calling thread is one of them. */
	size_t wanted = opt->jobs < n ? opt->jobs : n;
	size_t extra = wanted > 1 ? wanted - 1 : 0;
	pthread_t *threads = xcalloc(extra ? extra : 1, sizeof(*threads));
	size_t started = 0;
	while (started < extra && pthread_create(&threads[started], NULL, worker, &s) == 0)
		started++; /* fewer threads than asked is slower, not wrong */
	worker(&s);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);

	memset(stats, 0, sizeof(*stats));
	stats->passes = s.n_passes;
	for (size_t i = 0; i < n; i++)
		stats->detect_seconds += out[i].detect_seconds;
	for (size_t p = 0; p < s.n_passes; p++) {
		stats->windowing_seconds += out[s.passes[p].cases[0]].windowing_seconds;
		free(s.passes[p].cases);
		free(s.passes[p].judgings);
	}
	for (size_t j = 0; j < s.n_judgings; j++)
		free(s.judgings[j].cases);
	free(s.passes);
	free(s.judgings);
	free(s.to_judge);
	free(s.to_decide);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
}
