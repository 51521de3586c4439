/*
 * run.c — windowing passes, detection passes and the workers that run
 * them (see run.h for the design).
 *
 * A windowing pass is an engine whose seam (core/pipeline.h) is a
 * recorder instead of its detection stage.  The recording holds:
 *   rows[]     every window row, copied (the engine's strings are views
 *              valid only during its callback: the copy points at the
 *              store's interned strings and at the recording's emote pool)
 *   steps[]    the seam's calls in order: a run of rows of one group
 *              (up to rows_end), closed(group, k), end(group), drop(group)
 * and is replayed, call for call, into a detection stage's seam.  The
 * recorder lets windowing release any stream at once (it holds no state)
 * and renumbers streams by id (first seen, first numbered), so that a
 * stream index the windower reuses for a new stream cannot carry an old
 * stream's detector state; the detection stages it feeds keep every
 * stream, which is what releasing is equivalent to.
 */
#include "config.h"

#include "tune/run.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/detector.h"
#include "core/pipeline.h"
#include "util/clock.h"

/* The store's copy of a string the core handed us, and its id.  Every
 * string in the core's output (stream ids, emotes) came from an event of
 * the store, so it is always there; not finding it would be a bug in this
 * file. */
static struct strview stable(const struct store *store, struct strview s, uint32_t *id)
{
	struct strview out;
	uint32_t got;
	if (!store_find_id(store, s, &out, &got)) {
		fprintf(stderr, "telemetra tune: internal error: \"%.*s\" is not in the store\n",
		        (int)s.len, s.ptr);
		abort();
	}
	if (id)
		*id = got;
	return out;
}

/* --- windowing pass: recording --------------------------------------- */

enum step_kind { STEP_ROWS, STEP_CLOSED, STEP_END, STEP_DROP };

struct step {
	uint8_t kind; /* enum step_kind */
	int32_t group;
	int64_t closed_k; /* STEP_CLOSED */
	size_t rows_end;  /* STEP_ROWS: rows [previous step's rows_end, rows_end) */
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
	struct step *steps;
	size_t n_steps, cap_steps;
	uint32_t *stream_of; /* by store string id: 1 + the recording's stream number, 0: none */
	size_t cap_stream_of; /* the store may still grow (an early pass) */
	uint32_t n_streams;
	uint64_t accepted, late;
	double seconds;
};

static void recording_free(struct recording *r)
{
	free(r->rows);
	free(r->emotes_at);
	free(r->emotes);
	free(r->emote_counts);
	free(r->steps);
	free(r->stream_of);
	memset(r, 0, sizeof(*r));
}

static struct step *new_step(struct recording *r, enum step_kind kind, int32_t group)
{
	r->steps = grow_array(r->steps, sizeof(*r->steps), &r->cap_steps, r->n_steps + 1);
	struct step *st = &r->steps[r->n_steps++];
	*st = (struct step){.kind = (uint8_t)kind, .group = group, .rows_end = r->n_rows};
	return st;
}

static int record_row(void *ctx, int32_t group, struct window_row *row)
{
	struct recording *r = ctx;
	size_t n = row->n_top_emotes;
	r->emotes = grow_array(r->emotes, sizeof(*r->emotes), &r->cap_emotes, r->n_emotes + n);
	r->emote_counts = grow_array(r->emote_counts, sizeof(*r->emote_counts), &r->cap_emote_counts,
	                             r->n_emotes + n);
	for (size_t i = 0; i < n; i++) {
		r->emotes[r->n_emotes + i] = stable(r->store, row->top_emotes[i], NULL);
		r->emote_counts[r->n_emotes + i] = row->top_emote_counts[i];
	}

	r->rows = grow_array(r->rows, sizeof(*r->rows), &r->cap_rows, r->n_rows + 1);
	r->emotes_at = grow_array(r->emotes_at, sizeof(*r->emotes_at), &r->cap_emotes_at,
	                          r->n_rows + 1);
	struct window_row *copy = &r->rows[r->n_rows];
	*copy = *row;
	uint32_t id;
	copy->stream_id = stable(r->store, row->stream_id, &id);
	if (id >= r->cap_stream_of) {
		size_t cap = r->cap_stream_of * 2 > id ? r->cap_stream_of * 2 : (size_t)id + 1;
		r->stream_of = xrealloc(r->stream_of, cap * sizeof(*r->stream_of));
		memset(r->stream_of + r->cap_stream_of, 0,
		       (cap - r->cap_stream_of) * sizeof(*r->stream_of));
		r->cap_stream_of = cap;
	}
	if (!r->stream_of[id])
		r->stream_of[id] = ++r->n_streams;
	copy->stream = r->stream_of[id] - 1;
	copy->top_emotes = NULL; /* set once emotes[] has stopped moving */
	copy->top_emote_counts = NULL;
	r->emotes_at[r->n_rows++] = r->n_emotes;
	r->n_emotes += n;

	struct step *last = r->n_steps ? &r->steps[r->n_steps - 1] : NULL;
	if (!last || last->kind != STEP_ROWS || last->group != group)
		last = new_step(r, STEP_ROWS, group);
	last->rows_end = r->n_rows;
	return 0;
}

static int record_closed(void *ctx, int32_t group, int64_t closed_k)
{
	new_step(ctx, STEP_CLOSED, group)->closed_k = closed_k;
	return 0;
}

static int record_end(void *ctx, int32_t group)
{
	new_step(ctx, STEP_END, group);
	return 0;
}

static void record_drop(void *ctx, int32_t group)
{
	new_step(ctx, STEP_DROP, group);
}

/* The recorder holds nothing by stream index: any stream may go. */
static int64_t record_release(void *ctx, int32_t group, uint32_t stream, int64_t closed_k)
{
	(void)ctx;
	(void)group;
	(void)stream;
	(void)closed_k;
	return INT64_MIN;
}

/* Rows went to the recorder, through the seam. */
static int no_window(void *ctx, const struct window_row *row)
{
	(void)ctx;
	(void)row;
	return 0;
}

/* With the detection stage replaced by the recorder, no moment. */
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

static void record_notice(void *ctx, const char *msg)
{
	const struct recording *r = ctx;
	r->opt->notice(r->opt->notice_ctx, msg);
}

/* The spans of the recorded streams (tune/score.h), into out. */
static void record_spans(const struct recording *r, struct tune_spans *out)
{
	memset(out, 0, sizeof(*out));
	out->v = xcalloc(r->n_streams ? r->n_streams : 1, sizeof(*out->v));
	out->n = out->cap = r->n_streams;
	bool *seen = xcalloc(r->n_streams ? r->n_streams : 1, sizeof(*seen));
	for (size_t i = 0; i < r->n_rows; i++) {
		const struct window_row *row = &r->rows[i];
		struct score_span *sp = &out->v[row->stream];
		if (!seen[row->stream]) {
			seen[row->stream] = true;
			*sp = (struct score_span){row->stream_id, row->start_us, row->end_us};
			continue;
		}
		if (row->start_us < sp->first_us)
			sp->first_us = row->start_us;
		if (row->end_us > sp->last_us)
			sp->last_us = row->end_us;
	}
	free(seen);
}

/* Run the windowing of configuration proto over the store into r. */
/* A windowing pass's engine, recording into r; record_finish ends it.
 * The engine keeps a pointer to *seam (the caller's storage): it must
 * outlive the engine. */
static struct engine *record_begin(const struct store *store, const struct tune_case *proto,
                                   const struct tune_run_options *opt, bool with_notices,
                                   struct recording *r, struct seam *seam)
{
	memset(r, 0, sizeof(*r));
	r->store = store;
	r->opt = opt;
	struct store_stats ss;
	store_get_stats(store, &ss);
	r->cap_stream_of = ss.strings ? ss.strings : 1;
	r->stream_of = xcalloc(r->cap_stream_of, sizeof(*r->stream_of));

	/* The engine's own detectors are not used (the seam replaces them):
	 * off, they cost nothing. */
	struct core_config core = proto->core;
	for (int k = 0; k < DETECTOR_COUNT; k++)
		core.detect.det[k].enabled = false;
	*seam = (struct seam){r, record_row, record_closed, record_end, record_release, record_drop};
	struct engine_output out = {
		.ctx = r,
		.window = no_window,
		.moment = no_moment,
		.dead_letter = no_dead_letter,
		.seam = seam,
	};
	if (with_notices && opt->notice)
		out.notice = record_notice;
	return engine_new(&core, &out); /* it copies out, not *seam */
}

/* Flush and free e, and fix the recording up. */
static void record_finish(struct engine *e, bool final_flush, struct recording *r)
{
	(void)engine_finish(e, final_flush);
	const struct engine_stats *st = engine_stats(e);
	r->accepted = st->accepted;
	r->late = st->dead[DEAD_LATE];
	engine_free(e);

	for (size_t i = 0; i < r->n_rows; i++) {
		if (r->rows[i].n_top_emotes == 0)
			continue; /* emotes[] may be NULL */
		r->rows[i].top_emotes = r->emotes + r->emotes_at[i];
		r->rows[i].top_emote_counts = r->emote_counts + r->emotes_at[i];
	}
	free(r->emotes_at);
	r->emotes_at = NULL;
	free(r->stream_of); /* numbering done */
	r->stream_of = NULL;
}

static void record_pass(const struct store *store, const struct tune_case *proto,
                        const struct tune_run_options *opt, bool with_notices,
                        struct recording *r)
{
	double t0 = monotonic_seconds();
	struct seam seam;
	struct engine *e = record_begin(store, proto, opt, with_notices, r, &seam);
	/* The callbacks cannot fail, so neither can feeding. */
	(void)store_feed(store, proto->lexicon, e);
	record_finish(e, opt->final_flush, r);
	r->seconds = monotonic_seconds() - t0;
}

/* --- early windowing passes, fed as the store fills --------------------- */

/* Why one: the reading thread has time for about one windowing pass
 * while the reader thread decodes.  Two (the first two keys, fed in turns
 * of 4096 records) measured the same wall time on the bench grid and
 * about 0.15 s more CPU: the two engines evict each other's panes. */
#define EARLY_PASSES 1

struct early_pass {
	const struct tune_case *proto;
	struct recording rec;
	struct seam seam; /* e's */
	struct engine *e;
	struct store_cursor cursor;
	double seconds;
};

struct tune_early {
	const struct store *store;
	struct tune_run_options opt; /* notice: collect, for tune_run to say */
	struct early_pass p[EARLY_PASSES];
	size_t n;
	char **notices;
	size_t n_notices, cap_notices;
};

static void early_notice(void *ctx, const char *msg)
{
	struct tune_early *x = ctx;
	x->notices = grow_array(x->notices, sizeof(*x->notices), &x->cap_notices, x->n_notices + 1);
	x->notices[x->n_notices++] = xstrdup(msg);
}

static bool same_windowing(const struct tune_case *a, const struct tune_case *b);

struct tune_early *tune_early_start(const struct store *store, const struct tune_case *cases,
                                    size_t n)
{
	if (n == 0)
		return NULL;
	struct tune_early *x = xcalloc(1, sizeof(*x));
	x->store = store;
	x->opt.notice = early_notice;
	x->opt.notice_ctx = x;
	/* The first keys in order of first appearance: plan()'s first passes. */
	for (size_t i = 0; i < n && x->n < EARLY_PASSES; i++) {
		bool seen = false;
		for (size_t k = 0; k < x->n && !seen; k++)
			seen = same_windowing(x->p[k].proto, &cases[i]);
		if (seen)
			continue;
		double t0 = monotonic_seconds();
		struct early_pass *ep = &x->p[x->n];
		ep->proto = &cases[i];
		/* notices from the first pass only, as tune_run says them */
		ep->e = record_begin(store, ep->proto, &x->opt, x->n == 0, &ep->rec, &ep->seam);
		ep->seconds = monotonic_seconds() - t0;
		x->n++;
	}
	return x;
}

void tune_early_feed(struct tune_early *x)
{
	if (!x || !store_feed_due(x->store, &x->p[0].cursor, 4096))
		return;
	for (size_t k = 0; k < x->n; k++) {
		struct early_pass *ep = &x->p[k];
		double t0 = monotonic_seconds();
		/* In batches: a batch's clock reads and call cost little. */
		(void)store_feed_more(x->store, ep->proto->lexicon, ep->e, &ep->cursor, 4096);
		ep->seconds += monotonic_seconds() - t0;
	}
}

void tune_early_free(struct tune_early *x)
{
	if (!x)
		return;
	for (size_t k = 0; k < x->n; k++) {
		if (x->p[k].e)
			engine_free(x->p[k].e);
		recording_free(&x->p[k].rec);
	}
	for (size_t i = 0; i < x->n_notices; i++)
		free(x->notices[i]);
	free(x->notices);
	free(x);
}

/* End pass k of x into *r; the caller has checked that the store's feed
 * is the one the early passes fed (early_usable). */
static void early_finish(struct tune_early *x, size_t k, const struct tune_run_options *opt,
                         struct recording *r)
{
	struct early_pass *ep = &x->p[k];
	double t0 = monotonic_seconds();
	(void)store_feed_more(x->store, ep->proto->lexicon, ep->e, &ep->cursor, 0);
	record_finish(ep->e, opt->final_flush, &ep->rec);
	ep->e = NULL;
	ep->rec.opt = opt;
	ep->rec.seconds = ep->seconds + (monotonic_seconds() - t0);
	*r = ep->rec;
	memset(&ep->rec, 0, sizeof(ep->rec));
}

/* Whether x's passes are of use: false when their feed is not the one
 * store_feed gives (lanes named late in a file were open from the start). */
static bool early_usable(const struct tune_early *x)
{
	return x && x->n > 0 && !store_opens_lanes(x->store);
}

/* Say the notices the early passes collected (the first pass's). */
static void early_notices(const struct tune_early *x, const struct tune_run_options *opt)
{
	for (size_t i = 0; i < x->n_notices; i++)
		if (opt->notice)
			opt->notice(opt->notice_ctx, x->notices[i]);
}

/* --- detection passes ---------------------------------------------------- */

struct collector {
	const struct store *store;
	struct tune_outcome *out;
	size_t cap_moments;
};

static int collect_moment(void *ctx, const struct moment *m)
{
	struct collector *c = ctx;
	struct tune_outcome *o = c->out;
	o->moment_list = grow_array(o->moment_list, sizeof(*o->moment_list), &c->cap_moments,
	                            o->moments + 1);
	o->moment_list[o->moments++] = (struct tune_moment){
		stable(c->store, m->stream_id, NULL), m->type, m->time_us, m->end_us, m->intensity,
	};
	return 0;
}

/* Replay the recording into n detection stages of mode `mode` at once,
 * one per configuration cfgs[i], counting rows into outs[i] (verdicts:
 * one per row, for judging and deciding; NULL for DETECTION_FULL).  Each
 * stage gets the seam's calls in the recorded order, so interleaving them
 * step by step changes nothing for any of them; what it changes is that a
 * row and its verdict, read from memory once, serve the whole batch from
 * cache (a sweep's decisions are otherwise bound by reading every row's
 * verdicts, kilobytes a row apart, once per threshold). */
static void detect(const struct recording *r, const struct detect_config *const *cfgs, size_t n,
                   enum detection_mode mode, struct row_verdicts *verdicts,
                   struct tune_outcome *const *outs)
{
	double t0 = monotonic_seconds();
	struct collector *c = xcalloc(n, sizeof(*c));
	struct detection **d = xcalloc(n, sizeof(*d));
	struct seam *seam = xcalloc(n, sizeof(*seam));
	for (size_t b = 0; b < n; b++) {
		c[b] = (struct collector){r->store, outs[b], 0};
		d[b] = detection_new(cfgs[b], mode, verdicts, verdicts ? r->n_rows : 0, collect_moment,
		                     &c[b]);
		detection_set_bare_moments(d[b]); /* collect_moment reads no text */
		seam[b] = detection_seam(d[b]);
	}
	size_t row = 0;
	/* The consumers cannot fail (memory only), so neither can replaying. */
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct step *st = &r->steps[i];
		switch ((enum step_kind)st->kind) {
		case STEP_ROWS:
			for (; row < st->rows_end; row++)
				for (size_t b = 0; b < n; b++) {
					struct window_row w = r->rows[row]; /* shared: its fields are ours */
					(void)seam[b].row(seam[b].ctx, st->group, &w);
					outs[b]->windows++;
					outs[b]->anomalous_windows += w.is_anomaly;
				}
			break;
		case STEP_CLOSED:
			for (size_t b = 0; b < n; b++)
				(void)seam[b].closed(seam[b].ctx, st->group, st->closed_k);
			break;
		case STEP_END:
			for (size_t b = 0; b < n; b++)
				(void)seam[b].end(seam[b].ctx, st->group);
			break;
		case STEP_DROP:
			for (size_t b = 0; b < n; b++)
				seam[b].drop(seam[b].ctx, st->group);
			break;
		}
	}
	/* The batch's time, divided: the sum is the work. */
	double share = (monotonic_seconds() - t0) / (double)n;
	for (size_t b = 0; b < n; b++) {
		detection_free(d[b]);
		outs[b]->accepted = r->accepted;
		outs[b]->late = r->late;
		outs[b]->windowing_seconds = r->seconds;
		outs[b]->detect_seconds += share;
	}
	free(seam);
	free(d);
	free(c);
}

/* One configuration alone: judged and decided in one pass, as the engine
 * does. */
static void detect_pass(const struct recording *r, const struct detect_config *cfg,
                        struct tune_outcome *out)
{
	detect(r, &cfg, 1, DETECTION_FULL, NULL, &out);
}

/* Configurations that judge alike (detect_same_judging: they differ in
 * thresholds or merging only) share one judging of the rows: the
 * verdicts, one per row (a new array the caller frees), then decided under
 * each one's thresholds (decide_batch). */
static struct row_verdicts *judge_pass(const struct recording *r, const struct detect_config *cfg,
                                       double *seconds)
{
	struct tune_outcome scratch = {0}, *out = &scratch; /* judging emits no moment */
	struct row_verdicts *v = xcalloc(r->n_rows ? r->n_rows : 1, sizeof(*v));
	detect(r, &cfg, 1, DETECTION_JUDGE, v, &out);
	*seconds = scratch.detect_seconds;
	return v;
}

/* Configurations of one judging, decided together (see detect). */
#define DECIDE_BATCH 16

static void decide_batch(const struct recording *r, struct row_verdicts *verdicts,
                         const struct tune_case *cases, const size_t *which, size_t n,
                         struct tune_outcome *outs)
{
	const struct detect_config *cfgs[DECIDE_BATCH];
	struct tune_outcome *o[DECIDE_BATCH];
	for (size_t b = 0; b < n; b++) {
		cfgs[b] = &cases[which[b]].core.detect;
		o[b] = &outs[which[b]];
	}
	detect(r, cfgs, n, DETECTION_DECIDE, verdicts, o);
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
	size_t next_case;            /* first case of the next decision batch to hand out */
	size_t batch;                /* cases a decision batch takes (<= DECIDE_BATCH) */
	size_t finished;             /* cases decided */
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
 *   decide   a batch of configurations of a judged group (verdicts -> moments)
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
	struct tune_spans *spans; /* per pass, if asked for */
	size_t n_cases;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next_pass;  /* next windowing pass to start */
	size_t busy;       /* record and judge jobs under way: they make new jobs */
	size_t *to_judge;  /* judgings of recorded passes: a queue */
	size_t judge_head, judge_tail;
	size_t *to_decide; /* judged judgings with decisions left: a queue */
	size_t decide_head, decide_tail;
	size_t steps_done; /* windowing passes recorded + configurations finished */
};

/* Under the mutex: `n` more steps are done; tell opt->progress. */
static void step_done(struct scheduler *s, size_t n)
{
	s->steps_done += n;
	if (s->opt->progress)
		s->opt->progress(s->opt->progress_ctx, s->steps_done, s->n_passes + s->n_cases);
}

static bool same_windowing(const struct tune_case *a, const struct tune_case *b)
{
	return a->core.window.size_us == b->core.window.size_us &&
	       a->core.window.slide_us == b->core.window.slide_us &&
	       a->core.window.top_k == b->core.window.top_k &&
	       a->core.window.fresh_us == b->core.window.fresh_us &&
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
	/* Decision batches: as few as DECIDE_BATCH allows, but at least one
	 * per job where there are cases enough, and of equal sizes, so that
	 * the jobs end together. */
	for (size_t j = 0; j < s->n_judgings; j++) {
		struct judging *jg = &s->judgings[j];
		size_t batches = (jg->n_cases + DECIDE_BATCH - 1) / DECIDE_BATCH;
		size_t jobs = s->opt->jobs ? s->opt->jobs : 1;
		batches = (batches + jobs - 1) / jobs * jobs;
		if (batches > jg->n_cases)
			batches = jg->n_cases;
		jg->batch = (jg->n_cases + batches - 1) / batches;
	}
	s->to_judge = xcalloc(s->n_judgings ? s->n_judgings : 1, sizeof(*s->to_judge));
	s->to_decide = xcalloc(s->n_judgings ? s->n_judgings : 1, sizeof(*s->to_decide));
}

/* Under the mutex: `done` configurations of pass p are finished. */
static void pass_done(struct scheduler *s, struct pass *p, size_t done)
{
	step_done(s, done);
	p->finished += done;
	if (p->finished == p->n_cases)
		recording_free(&p->rec);
}

static void *worker(void *arg)
{
	struct scheduler *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->decide_head < s->decide_tail) {
			struct judging *jg = &s->judgings[s->to_decide[s->decide_head]];
			struct pass *p = &s->passes[jg->pass];
			size_t first = jg->next_case;
			size_t n = jg->n_cases - first < jg->batch ? jg->n_cases - first : jg->batch;
			jg->next_case += n;
			if (jg->next_case == jg->n_cases)
				s->decide_head++;
			pthread_mutex_unlock(&s->mu);
			decide_batch(&p->rec, jg->verdicts, s->cases, jg->cases + first, n, s->out);
			/* The shared judging's time, divided: the sum is the work. */
			for (size_t b = 0; b < n; b++)
				s->out[jg->cases[first + b]].detect_seconds +=
				    jg->judge_seconds / (double)jg->n_cases;
			pthread_mutex_lock(&s->mu);
			jg->finished += n;
			if (jg->finished == jg->n_cases) {
				free(jg->verdicts);
				jg->verdicts = NULL;
			}
			pass_done(s, p, n);
			continue;
		}
		if (s->judge_head < s->judge_tail) {
			struct judging *jg = &s->judgings[s->to_judge[s->judge_head++]];
			struct pass *p = &s->passes[jg->pass];
			s->busy++;
			pthread_mutex_unlock(&s->mu);
			size_t c = jg->cases[0];
			if (jg->n_cases == 1)
				detect_pass(&p->rec, &s->cases[c].core.detect, &s->out[c]);
			else
				jg->verdicts = judge_pass(&p->rec, &s->cases[c].core.detect, &jg->judge_seconds);
			pthread_mutex_lock(&s->mu);
			s->busy--;
			if (jg->n_cases == 1)
				pass_done(s, p, 1);
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
			if (s->spans)
				record_spans(&p->rec, &s->spans[i]);
			pthread_mutex_lock(&s->mu);
			s->busy--;
			step_done(s, 1);
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
	tune_run_early(store, cases, n, opt, NULL, out, stats);
}

void tune_run_early(const struct store *store, const struct tune_case *cases, size_t n,
                    const struct tune_run_options *opt, struct tune_early *early,
                    struct tune_outcome *out, struct tune_run_stats *stats)
{
	struct scheduler s = {.store = store, .cases = cases, .opt = opt, .out = out, .n_cases = n};
	memset(out, 0, n * sizeof(*out));
	plan(&s, n);
	if (opt->spans)
		s.spans = xcalloc(s.n_passes ? s.n_passes : 1, sizeof(*s.spans));
	/* The first windowing passes (plan() numbers passes by first
	 * appearance, as tune_early_start picks them), done while reading:
	 * their judgings are ready. */
	if (early_usable(early) && early->n <= s.n_passes) {
		for (size_t p = 0; p < early->n; p++) {
			if (early->p[p].proto != &cases[s.passes[p].cases[0]])
				abort(); /* not the cases tune_early_start was given: a bug */
			early_finish(early, p, opt, &s.passes[p].rec);
			if (s.spans)
				record_spans(&s.passes[p].rec, &s.spans[p]);
			for (size_t j = 0; j < s.passes[p].n_judgings; j++)
				s.to_judge[s.judge_tail++] = s.passes[p].judgings[j];
		}
		early_notices(early, opt);
		s.next_pass = early->n;
		s.steps_done = early->n;
	}
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
	stats->spans = s.spans;
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
