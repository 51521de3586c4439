/*
 * ops.c — the live daemon's figures for operators: counted on the
 * consumer thread, rendered as Prometheus text exposition (format 0.0.4)
 * and handed to the HTTP thread (ops_http.c), and summarised in the log
 * every --log-interval.
 *
 * Names follow Prometheus conventions: a telemetra_ prefix, base units
 * (seconds, bytes), _total on counters.  Counters count since the daemon
 * started (a restart resets them, which rate() handles).
 */
#include "config.h"

#include "ops/ops.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "core/buf.h"
#include "core/detector.h"
#include "core/event.h"
#include "core/timestamp.h"
#include "ops/ops_http.h"
#include "util/clock.h"
#include "util/log.h"
#include "cli/options.h"
#include "util/secret.h"

#define MAX_BUCKETS 16

struct histogram {
	const double *bounds; /* upper bounds, ascending; +Inf is implied */
	size_t n;
	uint64_t counts[MAX_BUCKETS]; /* not cumulative */
	uint64_t count;
	double sum;
};

static const double commit_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                       0.25,  0.5,    1,     2.5,  5,     10};
static const double delay_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

#define MAX_TYPES 8

struct ops {
	struct ops_config cfg;
	struct ops_http *http;
	double next_publish;

	/* counted as it happens */
	struct histogram commit, delay;
	uint64_t batches_ok, batches_failed;
	const char *moment_types[MAX_TYPES];
	uint64_t moments[MAX_TYPES];
	double last_commit_unix, last_ok;
	int64_t state_bytes;
	bool sink_up;
	size_t assigned;

	double watchdog_every, next_watchdog; /* seconds; 0: no watchdog */

	/* the summary line */
	double last_summary;
	uint64_t sum_batches, sum_records;
	double sum_commit_max, sum_commit_total;
};

static double wall_now(void) { return (double)wall_clock_us() / 1e6; }

static void observe(struct histogram *h, double v)
{
	size_t i = 0;
	while (i < h->n && v > h->bounds[i])
		i++;
	h->counts[i]++; /* i == n: the +Inf bucket */
	h->count++;
	h->sum += v;
}

struct ops *ops_new(const struct ops_config *cfg, bool *usage, struct error *err)
{
	struct ops *o = xcalloc(1, sizeof(*o));
	o->cfg = *cfg;
	o->commit = (struct histogram){.bounds = commit_bounds, .n = sizeof(commit_bounds) / sizeof(double)};
	o->delay = (struct histogram){.bounds = delay_bounds, .n = sizeof(delay_bounds) / sizeof(double)};
	o->sink_up = true;
	/* every type from the start, at 0, so that rate() sees the first one */
	for (int k = 0; k < DETECTOR_COUNT && k < MAX_TYPES; k++)
		o->moment_types[k] = detector_name((enum detector_kind)k);
	*usage = false;
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec)
		o->watchdog_every = (double)usec / 2e6;
#endif
	if (cfg->metrics) {
		o->http = ops_http_start(cfg->metrics, usage, err);
		if (!o->http) {
			free(o);
			return NULL;
		}
	}
	return o;
}

void ops_free(struct ops *o)
{
	if (!o)
		return;
	ops_http_stop(o->http);
	free(o);
}

int ops_port(const struct ops *o) { return o ? ops_http_port(o->http) : 0; }

void ops_moment(struct ops *o, const char *type)
{
	for (size_t i = 0; i < MAX_TYPES; i++) {
		if (!o->moment_types[i])
			o->moment_types[i] = type; /* the detectors' static names */
		if (o->moment_types[i] == type || !strcmp(o->moment_types[i], type)) {
			o->moments[i]++;
			return;
		}
	}
}

void ops_commit(struct ops *o, bool ok, double started, double done, uint64_t records,
                const double *emitted, size_t n_emitted, int64_t state_bytes)
{
	o->sink_up = ok;
	if (!ok) {
		o->batches_failed++;
		return;
	}
	double seconds = done - started;
	o->batches_ok++;
	observe(&o->commit, seconds);
	for (size_t i = 0; i < n_emitted; i++)
		observe(&o->delay, done - emitted[i]);
	o->last_commit_unix = wall_now();
	o->last_ok = done;
	o->state_bytes = state_bytes;
	if (records || n_emitted) {
		o->sum_batches++;
		o->sum_records += records;
		o->sum_commit_total += seconds;
		if (seconds > o->sum_commit_max)
			o->sum_commit_max = seconds;
	}
}

void ops_probe(struct ops *o, bool ok, double now)
{
	o->sink_up = ok;
	if (ok)
		o->last_ok = now;
}

void ops_assigned(struct ops *o, size_t n) { o->assigned = n; }

bool ops_due(const struct ops *o, double now)
{
	return (o->http && now >= o->next_publish) || now - o->last_summary >= o->cfg.log_interval;
}

/* --- exposition ------------------------------------------------------------ */

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_addc(b, '\\'), buf_addc(b, *s);
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *s);
	}
}

static void number(struct buf *b, double v)
{
	if (isnan(v))
		buf_adds(b, "NaN");
	else if (isinf(v))
		buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(b, "%.0f", v);
	else
		buf_printf(b, "%.17g", v);
}

static void sample(struct buf *b, const char *name, double v)
{
	buf_printf(b, "%s ", name);
	number(b, v);
	buf_addc(b, '\n');
}

static void histogram_text(struct buf *b, const char *name, const char *help,
                           const struct histogram *h)
{
	family(b, name, "histogram", help);
	uint64_t cum = 0;
	for (size_t i = 0; i <= h->n; i++) {
		cum += h->counts[i];
		buf_printf(b, "%s_bucket{le=\"", name);
		if (i < h->n)
			number(b, h->bounds[i]);
		else
			buf_adds(b, "+Inf");
		buf_printf(b, "\"} %" PRIu64 "\n", cum);
	}
	buf_printf(b, "%s_sum ", name);
	number(b, h->sum);
	buf_printf(b, "\n%s_count %" PRIu64 "\n", name, h->count);
}

static void render(const struct ops *o, const struct ops_view *v, struct buf *b)
{
	const struct engine_stats *st = v->stats;
	family(b, "telemetra_build_info", "gauge", "The running version of telemetra.");
	buf_printf(b, "telemetra_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);

	family(b, "telemetra_records_consumed_total", "counter",
	       "Kafka records handed to the engine, by topic and partition.");
	for (size_t i = 0; i < v->n_parts; i++) {
		buf_adds(b, "telemetra_records_consumed_total{topic=\"");
		label_value(b, v->parts[i].topic);
		buf_printf(b, "\",partition=\"%d\"} %" PRIu64 "\n", v->parts[i].partition,
		           v->parts[i].consumed);
	}
	family(b, "telemetra_events_accepted_total", "counter",
	       "Events that reached at least one window.");
	sample(b, "telemetra_events_accepted_total", (double)st->accepted);
	family(b, "telemetra_dead_letters_total", "counter",
	       "Records written as dead letters, by reason (late included).");
	for (int r = 0; r < DEAD_REASON_COUNT; r++)
		buf_printf(b, "telemetra_dead_letters_total{reason=\"%s\"} %" PRIu64 "\n",
		           dead_reason_name((enum dead_reason)r), st->dead[r]);
	family(b, "telemetra_late_events_total", "counter",
	       "Events behind the watermark (also counted as dead letters, reason late).");
	sample(b, "telemetra_late_events_total", (double)st->dead[DEAD_LATE]);
	family(b, "telemetra_windows_emitted_total", "counter", "Window rows emitted.");
	sample(b, "telemetra_windows_emitted_total", (double)st->windows);
	family(b, "telemetra_moments_total", "counter", "Moments detected, by type.");
	for (size_t i = 0; i < MAX_TYPES && o->moment_types[i]; i++) {
		buf_adds(b, "telemetra_moments_total{type=\"");
		label_value(b, o->moment_types[i]);
		buf_printf(b, "\"} %" PRIu64 "\n", o->moments[i]);
	}
	family(b, "telemetra_batches_committed_total", "counter",
	       "Batches committed to the database (rows, offsets and state in one transaction).");
	sample(b, "telemetra_batches_committed_total", (double)o->batches_ok);
	family(b, "telemetra_batches_failed_total", "counter",
	       "Commit attempts that failed (the batch is kept and retried).");
	sample(b, "telemetra_batches_failed_total", (double)o->batches_failed);
	histogram_text(b, "telemetra_commit_duration_seconds",
	               "Time to commit one batch to the database.", &o->commit);
	histogram_text(b, "telemetra_window_commit_delay_seconds",
	               "Time from the arrival of the record that closed a window to the commit of "
	               "its row.", &o->delay);

	family(b, "telemetra_consumer_lag_records", "gauge",
	       "Records in the partition not yet consumed (high watermark minus next offset).");
	for (size_t i = 0; i < v->n_parts; i++) {
		if (!v->parts[i].owned || v->parts[i].lag < 0)
			continue;
		buf_adds(b, "telemetra_consumer_lag_records{topic=\"");
		label_value(b, v->parts[i].topic);
		buf_printf(b, "\",partition=\"%d\"} %" PRId64 "\n", v->parts[i].partition,
		           v->parts[i].lag);
	}
	family(b, "telemetra_watermark_seconds", "gauge",
	       "Event-time watermark of each watermark group (partition), Unix seconds.");
	for (size_t i = 0; i < v->n_groups; i++) {
		if (v->groups[i].watermark_us == TIME_NEG_INF ||
		    v->groups[i].watermark_us == TIME_POS_INF)
			continue;
		buf_printf(b, "telemetra_watermark_seconds{group=\"%d\"} ", v->groups[i].partition);
		number(b, (double)v->groups[i].watermark_us / 1e6);
		buf_addc(b, '\n');
	}
	family(b, "telemetra_partitions_assigned", "gauge", "Partitions this daemon holds.");
	sample(b, "telemetra_partitions_assigned", (double)o->assigned);
	family(b, "telemetra_postgres_up", "gauge",
	       "1 when the last commit to PostgreSQL succeeded, 0 while it cannot be reached.");
	sample(b, "telemetra_postgres_up", v->sink_up ? 1 : 0);
	family(b, "telemetra_kafka_up", "gauge", "1 while the Kafka brokers can be reached.");
	sample(b, "telemetra_kafka_up", v->kafka_up ? 1 : 0);
	family(b, "telemetra_last_commit_timestamp_seconds", "gauge",
	       "Unix time of the last successful commit (0: none yet).");
	buf_adds(b, "telemetra_last_commit_timestamp_seconds ");
	number(b, floor(o->last_commit_unix * 1000) / 1000);
	buf_addc(b, '\n');
	family(b, "telemetra_checkpoint_bytes", "gauge",
	       "Size of the engine state saved with the last commit.");
	sample(b, "telemetra_checkpoint_bytes", (double)o->state_bytes);
}

static void summary(struct ops *o, const struct ops_view *v, double now)
{
	const struct engine_stats *st = v->stats;
	int64_t lag = 0;
	bool lag_known = false;
	for (size_t i = 0; i < v->n_parts; i++)
		if (v->parts[i].owned && v->parts[i].lag >= 0) {
			lag += v->parts[i].lag;
			lag_known = true;
		}
	char lagtext[48] = "unknown";
	if (lag_known)
		snprintf(lagtext, sizeof(lagtext), "%" PRId64 " records", lag);
	double avg = o->sum_batches ? o->sum_commit_total / (double)o->sum_batches : 0;
	struct log_field f[] = {
		LF_INT("batches", o->sum_batches),
		LF_INT("batch_records", o->sum_records),
		LF_NUM("interval_seconds", now - o->last_summary),
		LF_NUM("commit_avg_seconds", avg),
		LF_NUM("commit_max_seconds", o->sum_commit_max),
		LF_INT("records", st->records),
		LF_INT("events_accepted", st->accepted),
		LF_INT("windows", st->windows),
		LF_INT("moments", st->moments),
		LF_INT("dead_letters", st->dead_total),
		LF_INT("late", st->dead[DEAD_LATE]),
		lag_known ? LF_INT("lag", lag) : LF_JSON("lag", "null"),
	};
	log_event(LOG_INFO, "summary", f, sizeof(f) / sizeof(f[0]),
	          "committed %" PRIu64 " batch%s (%" PRIu64 " records), commit avg %.0f ms, max %.0f "
	          "ms; totals: %" PRIu64 " records, %" PRIu64 " windows, %" PRIu64 " moments, %" PRIu64
	          " dead letters; lag %s",
	          o->sum_batches, o->sum_batches == 1 ? "" : "es", o->sum_records, avg * 1000,
	          o->sum_commit_max * 1000, st->records, st->windows, st->moments, st->dead_total,
	          lagtext);
	o->sum_batches = o->sum_records = 0;
	o->sum_commit_max = o->sum_commit_total = 0;
}

void ops_tick(struct ops *o, const struct ops_view *v, double now, bool final)
{
	if (!o->last_summary)
		o->last_summary = now;
	if (now - o->last_summary >= o->cfg.log_interval || (final && o->sum_batches)) {
		/* a quiet interval says nothing: the last line still holds */
		if (o->sum_batches)
			summary(o, v, now);
		o->last_summary = now;
	}
	if (!o->http || (!final && now < o->next_publish))
		return;
	o->next_publish = now + 0.25;
	struct buf b = BUF_INIT;
	render(o, v, &b);
	struct ops_ready r = {o->assigned, o->sink_up && v->sink_up, o->last_ok, o->cfg.ready_max_age};
	size_t len = b.len;
	char *text = buf_detach(&b);
	if (!ops_http_publish(o->http, text, len, &r)) {
		/* the HTTP thread is answering: try again at the next tick */
		free(text);
		o->next_publish = now;
	}
}

/* --- systemd -------------------------------------------------------------------- */

void ops_notify_ready(struct ops *o, const char *status)
{
	(void)o;
#ifdef HAVE_SYSTEMD
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
#else
	(void)status;
#endif
}

void ops_watchdog(struct ops *o, double now)
{
	if (!o->watchdog_every || now < o->next_watchdog)
		return;
	o->next_watchdog = now + o->watchdog_every;
#ifdef HAVE_SYSTEMD
	sd_notify(0, "WATCHDOG=1");
#endif
}

void ops_notify_stopping(struct ops *o)
{
	(void)o;
#ifdef HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

/* --- the configuration line ---------------------------------------------------- */

/* librdkafka properties whose values are credentials. */
static bool secret_property(const char *key, size_t len)
{
	static const char *const words[] = {"password", "secret", "jaas", "token", "pem",
	                                    "credential", "key.location"};
	char lower[128];
	if (len >= sizeof(lower))
		len = sizeof(lower) - 1;
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
	lower[len] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i]))
			return true;
	return false;
}

char *ops_log_configuration(const struct config *c, unsigned mask)
{
	json_t *j = config_to_json(c, mask, false);
	json_t *props = json_object_get(j, "kafka-property");
	size_t i;
	json_t *item;
	json_array_foreach(props, i, item) {
		const char *kv = json_string_value(item);
		const char *eq = kv ? strchr(kv, '=') : NULL;
		if (!eq)
			continue;
		struct buf b = BUF_INIT;
		if (secret_property(kv, (size_t)(eq - kv))) {
			buf_add(&b, kv, (size_t)(eq - kv));
			buf_adds(&b, "=***");
		} else {
			char *r = redact_secrets(kv);
			buf_adds(&b, r);
			free(r);
		}
		json_array_set_new(props, i, json_string(b.data));
		buf_free(&b);
	}
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	struct log_field f[] = {LF_JSON("config", text), LF_STR("version", PACKAGE_VERSION)};
	log_event(LOG_INFO, "configuration", f, 2, "telemetra %s, configuration: %s", PACKAGE_VERSION,
	          text);
	return text;
}
