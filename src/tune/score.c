/*
 * score.c — the matching of moments to labels (io/labels.h reads them).
 *
 * The definitions are in score.h (and in doc/decisions.md, "Tuning").
 * Labels are sorted by stream_id, so a moment finds its stream's labels by
 * binary search and compares only with those: O(moments · log labels +
 * matches) per configuration.
 */
#include "config.h"

#include "tune/score.h"

#include <stdlib.h>
#include <string.h>


void score_moments(const struct labels *l, const struct tune_moment *moments, size_t n,
                   int64_t tolerance_us, struct score *out)
{
	/* Per label: the earliest end of a matching moment, INT64_MAX if none. */
	int64_t *first_end = xcalloc(l->n ? l->n : 1, sizeof(*first_end));
	for (size_t i = 0; i < l->n; i++)
		first_end[i] = INT64_MAX;

	size_t matching_moments = 0;
	for (size_t m = 0; m < n; m++) {
		const struct tune_moment *mo = &moments[m];
		bool matched = false;
		size_t lo, hi;
		labels_of_stream(l, mo->stream_id, &lo, &hi);
		for (size_t i = lo; i < hi; i++) {
			const struct label *lab = &l->v[i];
			if (mo->time_us <= lab->end_us + tolerance_us &&
			    mo->end_us > lab->start_us - tolerance_us) {
				matched = true;
				if (mo->end_us < first_end[i])
					first_end[i] = mo->end_us;
			}
		}
		matching_moments += matched;
	}

	memset(out, 0, sizeof(*out));
	out->labels = l->n;
	double delay_sum = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (first_end[i] == INT64_MAX)
			continue;
		out->true_positives++;
		delay_sum += (double)(first_end[i] - l->v[i].start_us) / (double)USEC_PER_SEC;
	}
	free(first_end);
	out->false_negatives = l->n - out->true_positives;
	out->false_positives = n - matching_moments;
	out->precision = n ? (double)matching_moments / (double)n : 0.0;
	out->recall = l->n ? (double)out->true_positives / (double)l->n : 0.0;
	double sum = out->precision + out->recall;
	out->f1 = sum > 0 ? 2 * out->precision * out->recall / sum : 0.0;
	out->has_delay = out->true_positives > 0;
	out->mean_delay_s = out->has_delay ? delay_sum / (double)out->true_positives : 0.0;
}
