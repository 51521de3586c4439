/*
 * score.c — moments into episodes, episodes matched to labels (the
 * definitions are in score.h and in doc/decisions.md, "Tuning").
 *
 * The moments are sorted (by stream, type, start) into a scratch index and
 * swept once to form episodes; each episode finds its stream's labels by
 * binary search in the sorted label array and compares only with those:
 * O(m log m + e log l + matches) per call.  Nothing is kept between calls,
 * so concurrent calls on shared inputs are safe.
 */
#include "config.h"

#include "core/score.h"

#include <stdlib.h>
#include <string.h>

struct ep {
	struct score_episode e;
	int64_t first_end_us; /* end of the episode's first window */
};

static int moment_cmp(const void *pa, const void *pb, const struct score_moment *v)
{
	const struct score_moment *a = &v[*(const size_t *)pa], *b = &v[*(const size_t *)pb];
	int c = sv_cmp(a->stream_id, b->stream_id);
	if (!c)
		c = sv_cmp(a->type, b->type);
	if (!c)
		c = (a->time_us > b->time_us) - (a->time_us < b->time_us);
	if (!c)
		c = (a->end_us > b->end_us) - (a->end_us < b->end_us);
	return c;
}

/* qsort has no context argument in C11: a small merge sort does. */
static void sort_moments(size_t *idx, size_t *tmp, size_t n, const struct score_moment *v)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_moments(idx, tmp, h, v);
	sort_moments(idx + h, tmp, n - h, v);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = moment_cmp(&idx[j], &idx[i], v) < 0 ? idx[j++] : idx[i++];
	while (i < h)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, n * sizeof(*idx));
}

static int episode_cmp(const void *pa, const void *pb)
{
	const struct score_episode *a = pa, *b = pb;
	int c = sv_cmp(a->stream_id, b->stream_id);
	if (!c)
		c = (a->start_us > b->start_us) - (a->start_us < b->start_us);
	if (!c)
		c = sv_cmp(a->type, b->type);
	return c;
}

static int double_cmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* The labels of one stream: [*lo, *hi). */
static void stream_labels(const struct score_input *in, struct strview id, size_t *lo, size_t *hi)
{
	size_t a = 0, b = in->n_labels;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (sv_cmp(in->labels[m].stream_id, id) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < in->n_labels && sv_eq(in->labels[a].stream_id, id))
		a++;
	*hi = a;
}

double score_fbeta(double precision, double recall, double beta)
{
	double b2 = beta * beta, den = b2 * precision + recall;
	return den > 0 ? (1 + b2) * precision * recall / den : 0.0;
}

void score_compute(const struct score_input *in, struct score *out, struct score_detail *detail)
{
	size_t n = in->n_moments;
	size_t *idx = xcalloc(n ? n : 1, sizeof(*idx)), *tmp = xcalloc(n ? n : 1, sizeof(*tmp));
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sort_moments(idx, tmp, n, in->moments);
	free(tmp);

	/* Episodes: a sweep over each (stream, type) in time order. */
	struct ep *eps = xcalloc(n ? n : 1, sizeof(*eps));
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		const struct score_moment *m = &in->moments[idx[i]];
		struct ep *last = ne ? &eps[ne - 1] : NULL;
		if (last && sv_eq(last->e.stream_id, m->stream_id) && sv_eq(last->e.type, m->type) &&
		    m->time_us <= last->e.end_us) {
			if (m->end_us > last->e.end_us)
				last->e.end_us = m->end_us;
			last->e.moments++;
			continue;
		}
		eps[ne++] = (struct ep){
			{m->stream_id, m->type, m->time_us, m->end_us, 1, false},
			in->window_us > 0 ? m->time_us + in->window_us : m->end_us,
		};
	}
	free(idx);

	/* Per label: the start and first-window end of its earliest match. */
	int64_t *first_start = xcalloc(in->n_labels ? in->n_labels : 1, sizeof(*first_start));
	int64_t *first_end = xcalloc(in->n_labels ? in->n_labels : 1, sizeof(*first_end));
	for (size_t i = 0; i < in->n_labels; i++)
		first_start[i] = INT64_MAX;
	size_t matching = 0;
	for (size_t e = 0; e < ne; e++) {
		struct ep *ep = &eps[e];
		size_t lo, hi;
		stream_labels(in, ep->e.stream_id, &lo, &hi);
		for (size_t i = lo; i < hi; i++) {
			const struct score_label *lab = &in->labels[i];
			if (ep->e.start_us <= lab->end_us + in->tolerance_us &&
			    ep->e.end_us > lab->start_us - in->tolerance_us) {
				ep->e.matched = true;
				if (ep->e.start_us < first_start[i]) {
					first_start[i] = ep->e.start_us;
					first_end[i] = ep->first_end_us;
				}
			}
		}
		matching += ep->e.matched;
	}

	memset(out, 0, sizeof(*out));
	out->labels = in->n_labels;
	out->moments = n;
	out->episodes = ne;
	double *delays = xcalloc(in->n_labels ? in->n_labels : 1, sizeof(*delays));
	double delay_sum = 0;
	if (detail) {
		memset(detail, 0, sizeof(*detail));
		detail->label_matched = xcalloc(in->n_labels ? in->n_labels : 1, sizeof(bool));
		detail->label_delay_s = xcalloc(in->n_labels ? in->n_labels : 1, sizeof(double));
	}
	for (size_t i = 0; i < in->n_labels; i++) {
		if (first_start[i] == INT64_MAX)
			continue;
		double d = (double)(first_end[i] - in->labels[i].start_us) / (double)USEC_PER_SEC;
		delays[out->true_positives++] = d;
		delay_sum += d;
		if (detail) {
			detail->label_matched[i] = true;
			detail->label_delay_s[i] = d;
		}
	}
	free(first_start);
	free(first_end);
	size_t tp = out->true_positives;
	out->false_negatives = in->n_labels - tp;
	out->false_positives = ne - matching;
	out->precision = ne ? (double)matching / (double)ne : 0.0;
	out->recall = in->n_labels ? (double)tp / (double)in->n_labels : 0.0;
	out->f1 = score_fbeta(out->precision, out->recall, 1);
	out->f2 = score_fbeta(out->precision, out->recall, 2);
	out->has_delay = tp > 0;
	if (tp) {
		qsort(delays, tp, sizeof(*delays), double_cmp);
		out->mean_delay_s = delay_sum / (double)tp;
		out->median_delay_s = tp % 2 ? delays[tp / 2] : (delays[tp / 2 - 1] + delays[tp / 2]) / 2;
	}
	free(delays);
	int64_t span_us = 0;
	for (size_t s = 0; s < in->n_spans; s++)
		if (in->spans[s].last_us > in->spans[s].first_us)
			span_us += in->spans[s].last_us - in->spans[s].first_us;
	out->stream_hours = (double)span_us / (3600.0 * (double)USEC_PER_SEC);
	out->false_per_stream_hour =
		out->stream_hours > 0 ? (double)out->false_positives / out->stream_hours : 0.0;

	if (detail) {
		detail->n_episodes = ne;
		detail->episodes = xcalloc(ne ? ne : 1, sizeof(*detail->episodes));
		for (size_t e = 0; e < ne; e++)
			detail->episodes[e] = eps[e].e;
		if (ne > 1)
			qsort(detail->episodes, ne, sizeof(*detail->episodes), episode_cmp);
	}
	free(eps);
}

void score_detail_free(struct score_detail *d)
{
	free(d->episodes);
	free(d->label_matched);
	free(d->label_delay_s);
	memset(d, 0, sizeof(*d));
}
