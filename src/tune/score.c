/*
 * score.c — tune's adapter to core/score.c: each configuration's moments
 * and its windowing's stream spans handed to score_compute().
 */
#include "config.h"

#include "tune/score.h"

#include <stdlib.h>
#include <string.h>

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
