/*
 * score.c — labels files and the matching of moments to labels.
 *
 * The definitions are in score.h (and in doc/decisions.md, "Tuning").
 * Labels are sorted by stream_id, so a moment finds its stream's labels by
 * binary search and compares only with those: O(moments · log labels +
 * matches) per configuration.
 */
#include "config.h"

#include "tune/score.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"

void labels_free(struct labels *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].stream_id);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_label(const void *pa, const void *pb)
{
	const struct label *a = pa, *b = pb;
	int c = sv_cmp(sv_make(a->stream_id, a->stream_id_len), sv_make(b->stream_id, b->stream_id_len));
	if (c)
		return c;
	return (a->start_us > b->start_us) - (a->start_us < b->start_us);
}

/* A time member: RFC 3339 text or an epoch number, as in events. */
static bool label_time(const json_t *v, int64_t *us)
{
	if (json_is_string(v))
		return timestamp_parse_text(json_string_value(v), json_string_length(v), us);
	if (!json_is_number(v))
		return false;
	char *text = json_dumps(v, JSON_ENCODE_ANY);
	bool ok = text && timestamp_parse_number(text, strlen(text), us);
	free(text);
	return ok;
}

/* One line's label; false with err set (without the file and line). */
static bool parse_label(const char *line, size_t len, struct label *out, struct error *err)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, 0, &jerr);
	if (!o) {
		error_set(err, "not JSON: %s", jerr.text);
		return false;
	}
	bool ok = false;
	const json_t *id = json_object_get(o, "stream_id");
	char num[32];
	const char *id_text = NULL;
	size_t id_len = 0;
	if (json_is_string(id)) {
		id_text = json_string_value(id);
		id_len = json_string_length(id);
	} else if (json_is_integer(id)) {
		id_len = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		                          json_integer_value(id));
		id_text = num;
	}
	if (!json_is_object(o)) {
		error_set(err, "expected a JSON object {\"stream_id\", \"start\", \"end\"}");
	} else if (!id_text || id_len == 0) {
		error_set(err, "\"stream_id\" is missing or not a string");
	} else if (!label_time(json_object_get(o, "start"), &out->start_us)) {
		error_set(err, "\"start\" is missing or not a time (RFC 3339 text or epoch number)");
	} else if (!label_time(json_object_get(o, "end"), &out->end_us)) {
		error_set(err, "\"end\" is missing or not a time (RFC 3339 text or epoch number)");
	} else if (out->end_us < out->start_us) {
		error_set(err, "\"end\" is before \"start\"");
	} else {
		out->stream_id = xstrndup(id_text, id_len);
		out->stream_id_len = id_len;
		ok = true;
	}
	json_decref(o);
	return ok;
}

bool labels_load(struct labels *l, const char *path, struct error *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		error_set(err, "cannot open labels file %s: %s", path, strerror(errno));
		return false;
	}
	char *line = NULL;
	size_t cap = 0, n_cap = 0;
	ssize_t got;
	long line_no = 0;
	bool ok = true;
	memset(l, 0, sizeof(*l));
	while (ok && (got = getline(&line, &cap, f)) >= 0) {
		line_no++;
		size_t len = (size_t)got;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (strspn(line, " \t") >= len)
			continue;
		struct label lab;
		struct error why;
		if (!parse_label(line, len, &lab, &why)) {
			error_set(err, "labels file %s:%ld: %s", path, line_no, why.msg);
			ok = false;
			break;
		}
		l->v = grow_array(l->v, sizeof(*l->v), &n_cap, l->n + 1);
		l->v[l->n++] = lab;
	}
	if (ok && ferror(f)) {
		error_set(err, "cannot read labels file %s: %s", path, strerror(errno));
		ok = false;
	}
	free(line);
	fclose(f);
	if (!ok) {
		labels_free(l);
		return false;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_label);
	return true;
}

/* The first label of stream id, in the sorted labels. */
static size_t first_of_stream(const struct labels *l, struct strview id)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sv_cmp(sv_make(l->v[mid].stream_id, l->v[mid].stream_id_len), id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

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
		for (size_t i = first_of_stream(l, mo->stream_id);
		     i < l->n && sv_eq(sv_make(l->v[i].stream_id, l->v[i].stream_id_len), mo->stream_id);
		     i++) {
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
