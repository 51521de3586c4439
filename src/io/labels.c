/*
 * labels.c — loading a file of true moments (io/labels.h), as gen writes
 * it and tune and report read it, sorted by stream and start so that the
 * moments of one stream are found by binary search.
 */
#include "config.h"

#include "io/labels.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"

static int label_cmp(const void *pa, const void *pb)
{
	const struct label *a = pa, *b = pb;
	int c = sv_cmp(sv_make(a->stream_id, a->stream_id_len), sv_make(b->stream_id, b->stream_id_len));
	if (c)
		return c;
	if (a->start_us != b->start_us)
		return a->start_us < b->start_us ? -1 : 1;
	return (a->end_us > b->end_us) - (a->end_us < b->end_us);
}

void labels_free(struct labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].stream_id);
		free(l->v[i].kind);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A time as events carry it: RFC 3339 text or an epoch number. */
static bool label_time(const json_t *v, int64_t *us)
{
	if (json_is_string(v))
		return timestamp_parse_text(json_string_value(v), json_string_length(v), us);
	if (json_is_number(v)) {
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		bool ok = text && timestamp_parse_number(text, strlen(text), us);
		free(text);
		return ok;
	}
	return false;
}

/* Parse one line into *lab (owning its strings), or say why not. */
static bool parse_label(const char *line, size_t len, struct label *lab, struct error *why)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		error_set(why, "not valid JSON: %s", jerr.text);
		return false;
	}
	bool ok = false;
	json_t *sid = json_object_get(o, "stream_id"), *kind = json_object_get(o, "kind");
	if (!json_is_object(o))
		error_set(why, "expected a JSON object {stream_id, start, end, kind}");
	else if (!json_is_string(sid) && !json_is_integer(sid))
		error_set(why, "\"stream_id\" must be a string or an integer");
	else if (json_is_string(sid) && json_string_length(sid) == 0)
		error_set(why, "\"stream_id\" is empty");
	else if (!label_time(json_object_get(o, "start"), &lab->start_us))
		error_set(why, "\"start\" must be an RFC 3339 time or an epoch number");
	else if (!label_time(json_object_get(o, "end"), &lab->end_us))
		error_set(why, "\"end\" must be an RFC 3339 time or an epoch number");
	else if (lab->end_us < lab->start_us)
		error_set(why, "\"end\" is before \"start\"");
	else if (kind && !json_is_null(kind) && !json_is_string(kind))
		error_set(why, "\"kind\" must be a string");
	else
		ok = true;
	if (ok) {
		if (json_is_string(sid)) {
			lab->stream_id = xstrndup(json_string_value(sid), json_string_length(sid));
			lab->stream_id_len = json_string_length(sid);
		} else {
			char num[32];
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(sid));
			lab->stream_id = xstrdup(num);
			lab->stream_id_len = strlen(num);
		}
		lab->kind = xstrdup(json_is_string(kind) ? json_string_value(kind) : "label");
	}
	json_decref(o);
	return ok;
}

bool labels_load(struct labels *l, const char *path, struct error *err)
{
	memset(l, 0, sizeof(*l));
	FILE *f = fopen(path, "r");
	if (!f) {
		error_set(err, "cannot open labels file %s: %s", path, strerror(errno));
		return false;
	}
	char *line = NULL;
	size_t line_cap = 0, cap = 0, line_no = 0;
	ssize_t got;
	bool ok = true;
	while (ok && (got = getline(&line, &line_cap, f)) != -1) {
		line_no++;
		size_t len = (size_t)got, blank = 0;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		while (blank < len && (line[blank] == ' ' || line[blank] == '\t'))
			blank++;
		if (blank == len)
			continue;
		struct label lab = {0};
		struct error why;
		if (!parse_label(line, len, &lab, &why)) {
			error_set(err, "%s:%zu: bad label: %s", path, line_no, why.msg);
			ok = false;
			break;
		}
		l->v = grow_array(l->v, sizeof(*l->v), &cap, l->n + 1);
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
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), label_cmp);
	return true;
}

void labels_of_stream(const struct labels *l, struct strview id, size_t *lo, size_t *hi)
{
	size_t a = 0, b = l ? l->n : 0;
	while (a < b) { /* the first label with stream_id >= id */
		size_t m = a + (b - a) / 2;
		if (sv_cmp(sv_make(l->v[m].stream_id, l->v[m].stream_id_len), id) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (l && a < l->n && sv_eq(sv_make(l->v[a].stream_id, l->v[a].stream_id_len), id))
		a++;
	*hi = a;
}
