/*
 * batch.c — the live daemon's batch loop (see daemon.h): poll, capture,
 * feed the engine, commit every --trigger seconds or --max-batch records
 * with the checkpoint in the same transaction; pause and retry while the
 * database is away; the runs row beside it; the wall-clock decisions (idle
 * lanes, --idle-advance) written to the capture; SIGHUP's reopening.
 */
#include "config.h"

#include "daemon/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/timestamp.h"
#include "util/clock.h"
#include "util/log.h"

volatile sig_atomic_t daemon_stop_signal, daemon_hup_signal;

static void on_hup(int sig)
{
	(void)sig;
	daemon_hup_signal = 1;
}

static void on_signal(int sig)
{
	if (daemon_stop_signal)
		_exit(128 + sig); /* the second signal: the last commit still holds */
	daemon_stop_signal = sig;
}

void daemon_install_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
}

void daemon_wait(double seconds)
{
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (nanosleep(&ts, &ts) && errno == EINTR && !daemon_stop_signal)
		;
}

#define PROBE_SECONDS 5.0

/* --- engine output: the sink, plus the time each window closed ------------ */

static int out_window(void *ctx, const struct window_row *row)
{
	struct daemon *d = ctx;
	d->emitted = grow_array(d->emitted, sizeof(*d->emitted), &d->cap_emitted, d->n_emitted + 1);
	d->emitted[d->n_emitted++] = d->now; /* when the message that closed it arrived */
	d->dirty = true;
	return sink_window(d->sink, row);
}

static int out_moment(void *ctx, const struct moment *m)
{
	struct daemon *d = ctx;
	d->dirty = true;
	ops_moment(d->ops, m->type);
	return sink_moment(d->sink, m);
}

static int out_dead_letter(void *ctx, const struct dead_letter *dl)
{
	struct daemon *d = ctx;
	d->dirty = true;
	return sink_dead_letter(d->sink, dl);
}

static void out_notice(void *ctx, const char *msg)
{
	(void)ctx;
	bool keying = !strncmp(msg, "keying error", 12);
	log_event(LOG_WARN, keying ? "keying_error" : "engine_notice", NULL, 0, "%s", msg);
}

struct engine_output daemon_engine_output(struct daemon *d)
{
	return (struct engine_output){d, out_window, out_moment, out_dead_letter, out_notice, NULL};
}

/* --- committing ------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), compare_doubles);
	size_t i = (size_t)ceil(p * (double)n) - 1;
	return v[i < n ? i : n - 1];
}

int32_t *daemon_group_partitions(const struct engine *e, size_t extra, size_t *n)
{
	*n = engine_group_partitions(e, NULL, 0);
	int32_t *parts = xcalloc(*n + extra + 1, sizeof(*parts));
	engine_group_partitions(e, parts, *n);
	return parts;
}

/* What the metrics and the summary line show, as of now. */
static void daemon_ops_update(struct daemon *d, double now, bool final)
{
	/* The loop comes here ten times a second: a watchdog ping proves it
	 * turns. */
	ops_watchdog(d->ops, now);
	if (!final && !ops_due(d->ops, now))
		return;
	/* Paused, the lag comes from the brokers, asked as often as the
	 * database is probed. */
	if (d->sink_down && d->source && now >= d->next_ends_refresh) {
		kafka_source_refresh_ends(d->source, 500);
		d->next_ends_refresh = now + PROBE_SECONDS;
	}
	struct ops_partition *parts = xcalloc(d->lanes.n + 1, sizeof(*parts));
	size_t owned = 0;
	for (size_t i = 0; i < d->lanes.n; i++) {
		const struct lane *l = &d->lanes.v[i];
		parts[i] = (struct ops_partition){l->topic, l->partition, l->owned, l->consumed, -1};
		if (l->owned && d->source)
			parts[i].lag = kafka_source_lag(d->source, l->topic, l->partition, l->next_offset);
		owned += l->owned;
	}
	size_t n_groups = engine_group_partitions(d->engine, NULL, 0);
	int32_t *gp = xcalloc(n_groups + 1, sizeof(*gp));
	int64_t *wm = xcalloc(n_groups + 1, sizeof(*wm));
	engine_group_watermarks(d->engine, gp, wm, n_groups);
	struct ops_group *groups = xcalloc(n_groups + 1, sizeof(*groups));
	for (size_t g = 0; g < n_groups; g++)
		groups[g] = (struct ops_group){gp[g], wm[g]};
	free(gp);
	free(wm);
	struct ops_view v = {engine_stats(d->engine), parts, d->lanes.n, groups, n_groups,
	                     !d->sink_down, !d->kafka_down};
	ops_assigned(d->ops, owned);
	ops_tick(d->ops, &v, now, final);
	free(groups);
	free(parts);
}

/* --- the runs row ------------------------------------------------------------- */

/* Insert this start's runs row, retrying while the database is away (as
 * the other reads before consuming do).  False only on a stop signal. */
static bool daemon_begin_run(struct daemon *d)
{
	bool warned = false;
	for (double backoff = 0.25;; backoff = backoff_next(backoff, 5)) {
		if (run_log_begin(d->sink, &d->run) == 0)
			break;
		if (!warned)
			log_warn("cannot record this run in %s: %s; retrying", d->target, d->sink->err.msg);
		warned = true;
		if (daemon_stop_signal)
			return false;
		daemon_wait(backoff);
	}
	d->run_open = true;
	struct log_field f[] = {LF_INT("run_id", d->run.id)};
	log_event(LOG_INFO, "run_started", f, 1, "recorded as run %" PRId64 " in %s", d->run.id,
	          d->target);
	return true;
}

/* Write the committed counts to the runs row, outside any batch; with
 * finished_us, finish it.  0, or -1 (logged once until it works again). */
int daemon_update_run(struct daemon *d, int64_t finished_us)
{
	if (!d->run_open)
		return 0;
	d->run.finished_us = finished_us;
	d->run.stats = &d->committed_stats;
	if (run_log_update(d->sink, &d->run) == 0) {
		if (d->run_failing)
			log_info("run %" PRId64 " brought up to date again", d->run.id);
		d->run_failing = false;
		if (finished_us)
			d->run_open = false;
		return 0;
	}
	if (!d->run_failing || finished_us)
		log_warn("cannot update run %" PRId64 " in %s: %s; %s", d->run.id, d->target,
		         d->sink->err.msg,
		         finished_us ? "its row stays open with the counts of an earlier commit"
		                     : "retrying after a later commit");
	d->run_failing = true;
	return -1;
}

/* Commit the batch in hand with a checkpoint of everything owned.
 * Returns 0, or -1 with d->sink->err set (the batch stays pending). */
int daemon_commit_batch(struct daemon *d)
{
	double start = monotonic_seconds();
	int64_t capture_bytes = capture_file_sync(&d->capture);

	struct partition_offset *offsets = xcalloc(d->lanes.n + 1, sizeof(*offsets));
	struct topic_partition *tps = xcalloc(d->lanes.n + 1, sizeof(*tps));
	size_t n_offsets = 0;
	for (size_t i = 0; i < d->lanes.n; i++) {
		const struct lane *l = &d->lanes.v[i];
		if (!l->owned || l->next_offset < 0)
			continue;
		offsets[n_offsets] = (struct partition_offset){l->topic, l->partition, l->next_offset};
		tps[n_offsets] = (struct topic_partition){l->topic, l->partition, l->next_offset};
		n_offsets++;
	}
	size_t n_groups;
	int32_t *parts = daemon_group_partitions(d->engine, 0, &n_groups);
	struct group_state *states = xcalloc(n_groups + 1, sizeof(*states));
	int64_t state_bytes = 0;
	for (size_t i = 0; i < n_groups; i++) {
		char *text = engine_save_group(d->engine, parts[i]);
		states[i] = (struct group_state){parts[i], text, strlen(text)};
		state_bytes += (int64_t)states[i].len;
	}
	free(parts);
	struct sink_checkpoint cp = {
		.group = d->cfg.group,
		.offsets = offsets,
		.n_offsets = n_offsets,
		.states = states,
		.n_states = n_groups,
		.capture_path = d->capture.path,
		.capture_bytes = capture_bytes,
	};
	int rc = sink_commit(d->sink, &cp);
	for (size_t i = 0; i < n_groups; i++)
		free((char *)states[i].state);
	free(states);
	free(offsets);

	double done = monotonic_seconds();
	d->last_commit_try = done;
	ops_commit(d->ops, rc == 0, start, done, d->batch_records, d->emitted, d->n_emitted,
	           state_bytes);
	if (rc == 0) {
		for (size_t i = 0; i < d->n_emitted; i++) {
			d->latency = grow_array(d->latency, sizeof(*d->latency), &d->cap_latency,
			                        d->n_latency + 1);
			d->latency[d->n_latency++] = done - d->emitted[i];
		}
		capture_file_committed(&d->capture, capture_bytes);
		if (d->source)
			kafka_source_commit_async(d->source, tps, n_offsets);
		d->batches++;
		d->n_emitted = 0;
		d->batch_records = 0;
		d->dirty = false;
		d->batch_started = done;
		/* Every row the engine emitted was in this batch or a dropped
		 * one: its counts, less the dropped, are now exactly what the
		 * database holds from this run. */
		engine_stats_minus(&d->committed_stats, engine_stats(d->engine), &d->dropped_stats);
		if (done >= d->next_run_update && daemon_update_run(d, 0) == 0)
			d->next_run_update = done + (double)d->cfg.log_interval_us / 1e6;
	}
	free(tps);
	return rc;
}
static void sink_failed(struct daemon *d, double now);

/* Try to commit; on failure pause consumption and schedule a retry. */
static void commit_or_pause(struct daemon *d)
{
	double now = monotonic_seconds();
	if (d->sink_down && now < d->next_retry)
		return;
	uint64_t records = d->batch_records;
	if (daemon_commit_batch(d) == 0) {
		if (d->sink_down) {
			struct log_field f[] = {LF_STR("database", d->target),
			                        LF_NUM("outage_seconds", monotonic_seconds() - d->sink_down_since),
			                        LF_INT("records", (int64_t)records)};
			log_event(LOG_INFO, "database_recovered", f, 3,
			          "database %s is back after %.1f s: batch of %llu records committed, "
			          "consumption resumed",
			          d->target, monotonic_seconds() - d->sink_down_since,
			          (unsigned long long)records);
			d->sink_down = false;
			kafka_source_resume(d->source);
		}
		return;
	}
	sink_failed(d, now);
}

/* Idle, the database is still checked every few seconds (a read of the
 * checkpoint, which changes nothing), so that its loss shows in the
 * metrics and /readyz before data comes again. */
static void probe_sink(struct daemon *d, double now)
{
	int64_t next;
	bool ok = checkpoint_load_offset(d->sink, d->cfg.group, d->cfg.chat_topic, 0, &next) == 0;
	d->last_commit_try = now;
	ops_probe(d->ops, ok, now);
	if (!ok)
		sink_failed(d, now);
}

/* The database could not be reached: pause and retry with backoff. */
static void sink_failed(struct daemon *d, double now)
{
	if (!d->sink_down) {
		struct log_field f[] = {LF_STR("database", d->target), LF_STR("reason", d->sink->err.msg)};
		log_event(LOG_WARN, "database_outage", f, 2,
		          "cannot commit to %s: %s; consumption paused, retrying with backoff", d->target,
		          d->sink->err.msg);
		d->sink_down = true;
		d->sink_down_since = now;
		d->backoff = 0.25;
		kafka_source_pause(d->source);
	}
	d->next_retry = now + d->backoff;
	d->backoff = backoff_next(d->backoff, 5);
}

/* --- wall-clock decisions ------------------------------------------------------ */

static void check_idle(struct daemon *d, double now)
{
	d->now = now;
	double timeout = (double)d->cfg.idle_timeout_us / 1e6;
	for (size_t i = 0; i < d->lanes.n; i++) {
		struct lane *l = &d->lanes.v[i];
		if (!l->owned || l->idle || !l->caught_up || now - l->last_message < timeout)
			continue;
		l->idle = true;
		capture_file_lane(&d->capture, CONTROL_LANE_IDLE, l->topic, l->partition);
		if (engine_lane_idle(d->engine, sv_make(l->topic, strlen(l->topic)), l->partition))
			die("%s", d->sink->err.msg);
		d->dirty = true;
	}

	if (!d->cfg.idle_advance_us || now - d->advance_base < (double)d->cfg.idle_advance_us / 1e6)
		return;
	int64_t lowest, highest;
	engine_watermark_range(d->engine, &lowest, &highest);
	if (highest == TIME_NEG_INF)
		return;
	/* Nothing arrived for a while: move time on by the wall time that
	 * passed, from the most advanced group. */
	int64_t target = highest + (int64_t)((now - d->advance_base) * 1e6);
	capture_file_advance(&d->capture, target);
	if (engine_advance(d->engine, target))
		die("%s", d->sink->err.msg);
	d->advance_base = now;
	d->dirty = true;
}
/* --- the loop ---------------------------------------------------------------- */

static void handle_message(struct daemon *d, const struct kafka_message *m, double now)
{
	d->now = now;
	struct lane *l = lanes_find(&d->lanes, m->topic.ptr, m->topic.len, m->partition);
	/* librdkafka drops a revoked partition's fetched messages at the next
	 * assignment; should one slip through, it is its new owner's to read. */
	if (!l->owned)
		return;
	if (m->eof) {
		l->caught_up = true;
		return;
	}
	capture_file_message(&d->capture, m);
	if (engine_message(d->engine, m->topic, m->partition, m->offset, m->payload, m->len))
		die("%s", d->sink->err.msg);
	l->next_offset = m->offset + 1;
	l->consumed++;
	l->last_message = now;
	l->caught_up = false;
	l->idle = false;
	d->batch_records++;
	d->dirty = true;
	if (!d->first_message)
		d->first_message = now;
	d->last_message_any = d->advance_base = now;
}

/* SIGHUP, for log rotation: the log file is reopened at once; the
 * capture after the next commit (see rotate_capture). */
static void on_sighup(struct daemon *d)
{
	daemon_hup_signal = 0;
	const char *log_path = log_file_path();
	if (log_reopen() != 0)
		log_error("SIGHUP: cannot reopen the log file %s: %s; still writing to the old one",
		          log_path, strerror(errno));
	struct log_field f[] = {LF_STR("log_file", log_path), LF_STR("capture", d->capture.path)};
	log_event(LOG_INFO, "reopen", f, 2, "SIGHUP: log file %s%s%s", log_path ? "reopened: " : "",
	          log_path ? log_path : "none (logging to stderr)",
	          d->capture.f ? "; the capture is reopened after the next commit" : "");
	if (d->capture.f)
		d->rotate_capture = true;
}

/* The capture's length is part of every checkpoint: commit what the old
 * file holds, switch files, and commit again at once, so that the last
 * checkpoint always names a length of the file now at the path. */
static void rotate_capture(struct daemon *d)
{
	if (daemon_commit_batch(d) != 0) {
		commit_or_pause(d); /* the database is away: try again when it is back */
		return;
	}
	struct error err;
	int64_t bytes = capture_file_reopen(&d->capture, &err);
	d->rotate_capture = false;
	if (bytes < 0) {
		log_error("SIGHUP: %s; still writing to the old file", err.msg);
		return;
	}
	d->dirty = true;
	if (daemon_commit_batch(d) != 0)
		log_warn("capture %s reopened but not yet committed: %s", d->capture.path,
		         d->sink->err.msg);
	struct log_field fl[] = {LF_STR("capture", d->capture.path), LF_INT("bytes", bytes)};
	log_event(LOG_INFO, "capture_reopened", fl, 2, "capture %s reopened (%lld bytes)",
	          d->capture.path, (long long)bytes);
}

static void consume(struct daemon *d)
{
	double trigger = (double)d->cfg.trigger_us / 1e6;
	double now = monotonic_seconds(), last_idle_check = now;
	d->batch_started = now;
	while (!daemon_stop_signal) {
		double due = d->batch_started + trigger;
		int timeout_ms = d->sink_down ? 100 : (int)((due - now) * 1000);
		if (timeout_ms < 0)
			timeout_ms = 0;
		if (timeout_ms > 100)
			timeout_ms = 100;
		struct kafka_message m;
		int polled = kafka_source_poll(d->source, timeout_ms, &m);
		if (polled < 0) {
			d->assignment_failed = !daemon_stop_signal;
			break;
		}
		bool got = polled > 0;
		/* One clock read per message: at a few hundred thousand messages a
		 * second, reading it more often is measurable. */
		now = monotonic_seconds();
		if (got)
			handle_message(d, &m, now);
		/* Idleness is a matter of seconds: look at the lanes ten times a
		 * second, not at every message. */
		if (now - last_idle_check >= 0.1) {
			check_idle(d, now);
			daemon_ops_update(d, now, false);
			last_idle_check = now;
		}
		if (daemon_hup_signal)
			on_sighup(d);
		bool full = d->batch_records >= d->cfg.max_batch;
		if (d->sink_down || full || (now >= d->batch_started + trigger && d->dirty))
			commit_or_pause(d);
		else if (now >= d->batch_started + trigger) {
			d->batch_started = now; /* nothing happened: nothing to commit */
			if (now - d->last_commit_try >= PROBE_SECONDS)
				probe_sink(d, now);
		}
		if (d->rotate_capture && !d->sink_down)
			rotate_capture(d);
	}
}

/* Connect to the database, retrying while it is away. */bool daemon_open_sink(struct daemon *d, const char *spec)
{
	/* One warning while the database is away, however long: this loop
	 * retries, so the sink connects once per call and says nothing. */
	struct sink_options opt = {.user = d->cfg.postgres_user,
	                           .password = d->cfg.postgres_password,
	                           .connect_once = true};
	struct error err;
	double since = 0;
	for (double backoff = 0.25;; backoff = backoff_next(backoff, 5)) {
		d->sink = sink_open(spec, &opt, &err);
		if (d->sink)
			break;
		if (!since) {
			/* err names the database (redacted) and libpq's reason */
			log_warn("%s; retrying with backoff", err.msg);
			since = monotonic_seconds();
		}
		if (daemon_stop_signal)
			return false;
		daemon_wait(backoff);
	}
	if (since)
		log_info("database %s ready after %.1f s", d->target, monotonic_seconds() - since);
	else
		log_info("database %s ready", d->target);
	return true;
}

/* A capture that outran the last commit is cut back to it. */
void daemon_open_capture(struct daemon *d)
{
	struct error err;
	char *path = capture_file_path(d->cfg.capture, &err);
	if (!path)
		die("%s", err.msg);
	int64_t committed = -1;
	if (checkpoint_load_capture_bytes(d->sink, d->cfg.group, path, &committed))
		die("cannot read the checkpoint from %s: %s", d->target, d->sink->err.msg);
	capture_file_open(&d->capture, path, committed);
}

static void log_figures(struct daemon *d)
{
	const struct engine_stats *st = engine_stats(d->engine);
	double span = d->last_message_any - d->first_message;
	double p50 = percentile(d->latency, d->n_latency, 0.50) * 1000;
	double p99 = percentile(d->latency, d->n_latency, 0.99) * 1000;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	log_info("stopped: %" PRIu64 " records (%.0f records/s while consuming), %" PRIu64
	         " batches, %" PRIu64 " windows, %" PRIu64 " moments, %" PRIu64
	         " dead letters; window close to commit p50 %.0f ms, p99 %.0f ms; CPU %.1f s user, "
	         "%.1f s system",
	         st->records, span > 0 ? (double)st->records / span : 0.0, d->batches, st->windows,
	         st->moments, st->dead_total, p50, p99,
	         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
}

void daemon_run(struct daemon *d)
{
	if (daemon_begin_run(d)) {
		ops_notify_ready(d->ops, "consuming");
		consume(d);
	}
}

int daemon_stop(struct daemon *d)
{
	ops_notify_stopping(d->ops);

	int status = EXIT_OK;
	if (d->assignment_failed) {
		log_error("stopping: partitions were assigned that this daemon cannot take (see above); "
		          "committing the batch in hand");
		status = EXIT_RUNTIME;
	} else
		log_info("stopping on %s: committing the batch in hand",
		         daemon_stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	double deadline = monotonic_seconds() + 10;
	while (d->dirty && daemon_commit_batch(d) != 0) {
		if (monotonic_seconds() > deadline) {
			log_error("the last batch could not be committed (%s); a restart reads it again",
			          d->sink->err.msg);
			status = EXIT_RUNTIME;
			break;
		}
		daemon_wait(0.5);
	}
	daemon_stop_signal = 0; /* the revocation at close commits again, nothing new */
	daemon_ops_update(d, monotonic_seconds(), true);
	kafka_source_close(d->source);
	d->source = NULL;
	/* After the revocation's commit, which may bring the row up to date. */
	if (daemon_update_run(d, wall_clock_us()) == 0 && d->run.id)
		log_info("run %" PRId64 " finished", d->run.id);

	log_figures(d);
	return status;
}
