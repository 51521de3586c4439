#include "config.h"

#include "core/detector.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"

struct detector_def {
	const char *name;   /* also the moment_type */
	const char *metric; /* the window column it watches */
	int direction;      /* +1: anomalous above the baseline; -1: below */
	const char *what;   /* for descriptions */
	const char *unit;
};

static const struct detector_def defs[DETECTOR_COUNT] = {
	[DETECTOR_CHAT_SPIKE] = {"chat_spike", "chat_rate", 1, "chat spike", " messages/s"},
	[DETECTOR_VIEWER_SURGE] = {"viewer_surge", "avg_viewers", 1, "viewer surge", " viewers"},
	[DETECTOR_SENTIMENT_DROP] = {"sentiment_drop", "avg_sentiment", -1, "sentiment drop", ""},
};

const char *detector_name(enum detector_kind k) { return defs[k].name; }

/* The peak of an open run of anomalous windows (merge mode). */
struct run {
	bool active;
	int64_t first_k, last_k;
	int64_t first_start, last_end;
	unsigned windows;
	double peak_intensity;
	double peak_value, peak_z, peak_mean, peak_stddev;
	json_t *peak_metadata; /* owned */
};

/* One detector's memory of one stream. */
struct series {
	double *ring; /* the last N values, ring[(head + i) % N] oldest first */
	unsigned n;   /* values held, <= N */
	unsigned head;
	struct run run;
};

struct stream_state {
	char *stream_id; /* owned copy, for moments emitted after the row */
	size_t stream_id_len;
	struct series series[DETECTOR_COUNT];
};

struct detectors {
	struct detect_config cfg;
	struct stream_state *streams; /* indexed by the windower's stream index */
	uint32_t n_streams;
	double *hist; /* scratch: one history, oldest first */
};

struct detectors *detectors_new(const struct detect_config *cfg)
{
	struct detectors *d = xcalloc(1, sizeof(*d));
	d->cfg = *cfg;
	unsigned max_n = 1;
	for (int k = 0; k < DETECTOR_COUNT; k++)
		if (cfg->det[k].history > max_n)
			max_n = cfg->det[k].history;
	d->hist = xcalloc(max_n, sizeof(*d->hist));
	return d;
}

void detectors_free(struct detectors *d)
{
	if (!d)
		return;
	for (uint32_t s = 0; s < d->n_streams; s++) {
		for (int k = 0; k < DETECTOR_COUNT; k++) {
			free(d->streams[s].series[k].ring);
			json_decref(d->streams[s].series[k].run.peak_metadata);
		}
		free(d->streams[s].stream_id);
	}
	free(d->streams);
	free(d->hist);
	free(d);
}

static struct stream_state *stream_state(struct detectors *d, const struct window_row *row)
{
	if (row->stream >= d->n_streams) {
		d->streams = xrealloc(d->streams, (row->stream + 1) * sizeof(*d->streams));
		memset(d->streams + d->n_streams, 0,
		       (row->stream + 1 - d->n_streams) * sizeof(*d->streams));
		d->n_streams = row->stream + 1;
	}
	struct stream_state *st = &d->streams[row->stream];
	if (!st->stream_id) {
		st->stream_id = xstrndup(row->stream_id.ptr, row->stream_id.len);
		st->stream_id_len = row->stream_id.len;
	}
	return st;
}

double zscore(const double *hist, unsigned n, double value, double min_stddev, double *mean,
              double *stddev)
{
	/* Two passes, in a fixed order: numerically sound, and the same bits on
	 * every run. */
	double sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += hist[i];
	double m = sum / n;
	double ss = 0;
	for (unsigned i = 0; i < n; i++)
		ss += (hist[i] - m) * (hist[i] - m);
	double sd = sqrt(ss / n);
	*mean = m;
	*stddev = sd;
	return (value - m) / (sd > min_stddev ? sd : min_stddev);
}

static json_t *json_time(int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	timestamp_format_rfc3339(us, t);
	return json_string(t);
}

static json_t *json_opt_real(bool has, double v) { return has ? json_real(v) : json_null(); }

static json_t *moment_metadata(const struct detector_config *c, enum detector_kind k,
                               const struct window_row *row, double value, double z, double mean,
                               double sd, unsigned n_hist)
{
	json_t *top = json_array();
	for (size_t i = 0; i < row->n_top_emotes; i++)
		json_array_append_new(top, json_stringn(row->top_emotes[i].ptr, row->top_emotes[i].len));
	json_t *m = json_object();
	json_object_set_new(m, "window_start", json_time(row->start_us));
	json_object_set_new(m, "window_end", json_time(row->end_us));
	json_object_set_new(m, "chat_count", json_integer(row->chat_count));
	json_object_set_new(m, "chat_rate", json_real(row->chat_rate));
	json_object_set_new(m, "unique_chatters", json_integer(row->unique_chatters));
	json_object_set_new(m, "avg_viewers", json_opt_real(row->has_viewers, row->avg_viewers));
	json_object_set_new(m, "avg_sentiment", json_opt_real(row->has_sentiment, row->avg_sentiment));
	json_object_set_new(m, "top_emotes", top);
	json_object_set_new(m, "metric", json_string(defs[k].metric));
	json_object_set_new(m, "value", json_real(value));
	json_object_set_new(m, "z_score", json_real(z));
	json_object_set_new(m, "baseline_mean", json_real(mean));
	json_object_set_new(m, "baseline_stddev", json_real(sd));
	json_object_set_new(m, "baseline_windows", json_integer(n_hist));
	json_object_set_new(m, "min_stddev", json_real(c->min_stddev));
	json_object_set_new(m, "threshold", json_real(c->threshold));
	return m;
}

static int emit_moment(struct stream_state *st, uint32_t stream, enum detector_kind k,
                       int64_t start, int64_t end, unsigned windows, double value, double z,
                       double mean, double sd, double intensity, json_t *metadata,
                       moment_emit_fn emit, void *ctx)
{
	const struct detector_def *def = &defs[k];
	char desc[512];
	if (windows > 1) {
		char a[TIMESTAMP_BUFSZ], b[TIMESTAMP_BUFSZ];
		timestamp_format(start, a);
		timestamp_format(end, b);
		a[19] = b[19] = '\0'; /* whole seconds read better */
		snprintf(desc, sizeof(desc),
		         "%s over %u windows from %s to %s: peak %.2f%s, z = %.2f against a baseline of "
		         "%.2f ± %.2f",
		         def->what, windows, a, b, value, def->unit, z, mean, sd);
	} else {
		snprintf(desc, sizeof(desc), "%s: %.2f%s, z = %.2f against a baseline of %.2f ± %.2f",
		         def->what, value, def->unit, z, mean, sd);
	}
	char *meta = json_dumps(metadata, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	struct moment m = {
		.stream = stream,
		.stream_id = sv_make(st->stream_id, st->stream_id_len),
		.type = def->name,
		.time_us = start,
		.end_us = end,
		.description = desc,
		.intensity = intensity,
		.metadata = meta,
	};
	int rc = emit(ctx, &m);
	free(meta);
	return rc;
}

static int end_run(struct detectors *d, uint32_t stream, enum detector_kind k, moment_emit_fn emit,
                   void *ctx)
{
	struct stream_state *st = &d->streams[stream];
	struct run *r = &st->series[k].run;
	if (!r->active)
		return 0;
	json_t *meta = r->peak_metadata;
	json_object_set(meta, "peak_window_start", json_object_get(meta, "window_start"));
	json_object_set(meta, "peak_window_end", json_object_get(meta, "window_end"));
	json_object_set_new(meta, "window_start", json_time(r->first_start));
	json_object_set_new(meta, "window_end", json_time(r->last_end));
	json_object_set_new(meta, "windows", json_integer(r->windows));
	int rc = emit_moment(st, stream, k, r->first_start, r->last_end, r->windows, r->peak_value,
	                     r->peak_z, r->peak_mean, r->peak_stddev, r->peak_intensity, meta, emit, ctx);
	json_decref(meta);
	memset(r, 0, sizeof(*r));
	return rc;
}

static bool metric_of(enum detector_kind k, const struct window_row *row, double *value)
{
	switch (k) {
	case DETECTOR_CHAT_SPIKE:
		*value = row->chat_rate;
		return true;
	case DETECTOR_VIEWER_SURGE:
		*value = row->avg_viewers;
		return row->has_viewers;
	case DETECTOR_SENTIMENT_DROP:
		*value = row->avg_sentiment;
		return row->has_sentiment;
	default:
		return false;
	}
}

int detectors_on_window(struct detectors *d, struct window_row *row, moment_emit_fn emit, void *ctx)
{
	struct stream_state *st = stream_state(d, row);
	int rc = 0;
	row->has_z = false;
	row->is_anomaly = false;
	row->z_score = 0;

	for (int k = 0; k < DETECTOR_COUNT && !rc; k++) {
		const struct detector_config *c = &d->cfg.det[k];
		if (!c->enabled)
			continue;
		struct series *s = &st->series[k];
		double value;
		if (!metric_of(k, row, &value)) {
			rc = end_run(d, row->stream, k, emit, ctx);
			continue;
		}
		if (!s->ring)
			s->ring = xcalloc(c->history, sizeof(*s->ring));

		bool has_z = s->n >= c->min_history;
		double z = 0, mean = 0, sd = 0;
		if (has_z) {
			for (unsigned i = 0; i < s->n; i++)
				d->hist[i] = s->ring[(s->head + i) % c->history];
			z = zscore(d->hist, s->n, value, c->min_stddev, &mean, &sd);
		}
		unsigned n_hist = s->n;
		/* Push the value: it is history for the next window only. */
		if (s->n < c->history) {
			s->ring[(s->head + s->n) % c->history] = value;
			s->n++;
		} else {
			s->ring[s->head] = value;
			s->head = (s->head + 1) % c->history;
		}

		bool anomalous = has_z && defs[k].direction * z > c->threshold;
		if (k == DETECTOR_CHAT_SPIKE) {
			row->has_z = has_z;
			row->z_score = z;
			row->is_anomaly = anomalous;
		}
		if (!anomalous) {
			rc = end_run(d, row->stream, k, emit, ctx);
			continue;
		}

		double intensity = defs[k].direction * z;
		json_t *meta = moment_metadata(c, k, row, value, z, mean, sd, n_hist);
		if (!d->cfg.merge) {
			rc = emit_moment(st, row->stream, k, row->start_us, row->end_us, 1, value, z, mean,
			                 sd, intensity, meta, emit, ctx);
			json_decref(meta);
			continue;
		}
		struct run *r = &s->run;
		if (r->active && row->k != r->last_k + 1) {
			rc = end_run(d, row->stream, k, emit, ctx);
			if (rc) {
				json_decref(meta);
				break;
			}
		}
		if (!r->active) {
			*r = (struct run){.active = true, .first_k = row->k, .first_start = row->start_us,
			                  .peak_intensity = -HUGE_VAL};
		}
		r->last_k = row->k;
		r->last_end = row->end_us;
		r->windows++;
		if (intensity > r->peak_intensity) {
			json_decref(r->peak_metadata);
			r->peak_metadata = meta;
			r->peak_intensity = intensity;
			r->peak_value = value;
			r->peak_z = z;
			r->peak_mean = mean;
			r->peak_stddev = sd;
		} else {
			json_decref(meta);
		}
	}
	return rc;
}

int detectors_on_closed(struct detectors *d, int64_t closed_k, moment_emit_fn emit, void *ctx)
{
	if (!d->cfg.merge)
		return 0;
	for (uint32_t s = 0; s < d->n_streams; s++)
		for (int k = 0; k < DETECTOR_COUNT; k++) {
			const struct run *r = &d->streams[s].series[k].run;
			if (r->active && r->last_k < closed_k) {
				int rc = end_run(d, s, k, emit, ctx);
				if (rc)
					return rc;
			}
		}
	return 0;
}

int detectors_flush(struct detectors *d, moment_emit_fn emit, void *ctx)
{
	return detectors_on_closed(d, INT64_MAX, emit, ctx);
}

/* --- state --------------------------------------------------------------- */

json_t *detectors_save_stream(const struct detectors *d, uint32_t stream)
{
	if (stream >= d->n_streams || !d->streams[stream].stream_id)
		return NULL;
	const struct stream_state *st = &d->streams[stream];
	json_t *out = json_object();
	for (int k = 0; k < DETECTOR_COUNT; k++) {
		const struct series *s = &st->series[k];
		const struct detector_config *c = &d->cfg.det[k];
		if (!c->enabled || (!s->n && !s->run.active))
			continue;
		json_t *values = json_array();
		for (unsigned i = 0; i < s->n; i++)
			json_array_append_new(values, json_real(s->ring[(s->head + i) % c->history]));
		json_t *run = json_null();
		if (s->run.active) {
			const struct run *r = &s->run;
			run = json_pack("{sIsIsIsIsisfsfsfsfsfsO}", "first_k", (json_int_t)r->first_k,
			                "last_k", (json_int_t)r->last_k, "first_start",
			                (json_int_t)r->first_start, "last_end", (json_int_t)r->last_end,
			                "windows", (int)r->windows, "peak_intensity", r->peak_intensity,
			                "peak_value", r->peak_value, "peak_z", r->peak_z, "peak_mean",
			                r->peak_mean, "peak_stddev", r->peak_stddev, "peak_metadata",
			                r->peak_metadata);
		}
		json_object_set_new(out, defs[k].name, json_pack("{soso}", "values", values, "run", run));
	}
	return out;
}

bool detectors_load_stream(struct detectors *d, uint32_t stream, struct strview stream_id,
                           const json_t *state, struct error *err)
{
	struct window_row row = {.stream = stream, .stream_id = stream_id};
	struct stream_state *st = stream_state(d, &row);
	const char *name;
	json_t *v;
	json_object_foreach((json_t *)state, name, v) {
		int k = 0;
		while (k < DETECTOR_COUNT && strcmp(defs[k].name, name))
			k++;
		const struct detector_config *c = k < DETECTOR_COUNT ? &d->cfg.det[k] : NULL;
		if (!c || !c->enabled) {
			/* A detector switched off since the state was saved: drop it. */
			continue;
		}
		json_t *values, *run;
		json_error_t jerr;
		if (json_unpack_ex(v, &jerr, JSON_STRICT, "{soso}", "values", &values, "run", &run) ||
		    !json_is_array(values)) {
			error_set(err, "bad detector state: %s", jerr.text);
			return false;
		}
		struct series *s = &st->series[k];
		if (!s->ring)
			s->ring = xcalloc(c->history, sizeof(*s->ring));
		/* Keep the newest values if the history was shortened. */
		size_t n = json_array_size(values), skip = n > c->history ? n - c->history : 0;
		s->n = 0;
		s->head = 0;
		for (size_t i = skip; i < n; i++) {
			json_t *x = json_array_get(values, i);
			if (!json_is_number(x)) {
				error_set(err, "bad detector history value");
				return false;
			}
			s->ring[s->n++] = json_number_value(x);
		}
		if (json_is_object(run)) {
			struct run *r = &s->run;
			json_int_t first_k, last_k, first_start, last_end;
			int windows;
			json_t *meta;
			if (json_unpack_ex(run, &jerr, JSON_STRICT, "{sIsIsIsIsisfsfsfsfsfso}", "first_k",
			                   &first_k, "last_k", &last_k, "first_start", &first_start,
			                   "last_end", &last_end, "windows", &windows, "peak_intensity",
			                   &r->peak_intensity, "peak_value", &r->peak_value, "peak_z",
			                   &r->peak_z, "peak_mean", &r->peak_mean, "peak_stddev",
			                   &r->peak_stddev, "peak_metadata", &meta)) {
				error_set(err, "bad moment run in saved state: %s", jerr.text);
				return false;
			}
			r->active = true;
			r->first_k = first_k;
			r->last_k = last_k;
			r->first_start = first_start;
			r->last_end = last_end;
			r->windows = (unsigned)windows;
			json_decref(r->peak_metadata);
			r->peak_metadata = json_deep_copy(meta);
		}
	}
	return true;
}
