/*
 * telemetra live — the daemon: Kafka in, PostgreSQL out, exactly once.
 *
 * The loop:  poll a message → capture it → feed the engine (its rows go to
 * the sink's pending batch) → every --trigger seconds or --max-batch
 * records, commit: rows, dead letters, the next offset of every partition
 * and the state of every watermark group, in ONE database transaction.
 *
 * After a crash, a restart loads the last committed state and offsets and
 * carries on: what came after them is read again and computed again, and
 * because the core is deterministic and rows are upserts on their keys,
 * the result is the same rows, none lost, none doubled.  The capture file
 * is cut back to its length at that commit, so that a replay of it sees
 * exactly what the committed state saw.
 *
 * Failures: a database that cannot commit pauses consumption (group
 * membership is kept) and is retried with backoff, the batch kept in
 * memory; Kafka failures are retried by librdkafka while the daemon stays
 * up.  Each change of state is logged once.  SIGTERM/SIGINT: commit the
 * batch in hand and exit 0; a second signal exits at once (the last commit
 * still holds).
 *
 * Wall-clock decisions — a lane going idle, --idle-advance — are written to
 * the capture as control records so that a replay makes them at the same
 * point.
 *
 * Each start is a row of the runs table (version, host, the configuration
 * with secrets redacted, start and stop times, counts).  It is written in
 * statements of its own, never in a batch's transaction: inserted before
 * consuming, brought up to date right after a commit (at most every
 * --log-interval) with the counts that commit made durable, and finished
 * at a clean stop.  A batch can therefore neither wait for nor fail with
 * it; a daemon killed (kill -9, a crash) leaves its row open (stopped_at
 * NULL) with the counts of a commit shortly before its end.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/capture.h"
#include "core/engine.h"
#include "core/timestamp.h"
#include "io/kafka_conf.h"
#include "io/kafka_source.h"
#include "io/sink.h"
#include "util/clock.h"
#include "util/fingerprint.h"
#include "ops/ops.h"
#include "util/log.h"
#include "util/options.h"
#include "util/secret.h"

static const struct command_help help = {
	"live",
	CMD_LIVE,
	"[OPTIONS]",
	"Consume chat and viewer events from Kafka (a consumer group) and write window\n"
	"rows, moments and dead letters to PostgreSQL, exactly once: rows, offsets and\n"
	"the core's state commit in one transaction per batch, so that a restart after\n"
	"any crash resumes without losing or doubling a row. Several daemons in one\n"
	"group split the partitions between them.",
};

/* What the daemon knows of one (topic, partition) it consumes. */
struct lane {
	char *topic;
	int32_t partition;
	int64_t next_offset; /* -1: not known yet */
	double last_message; /* monotonic seconds */
	bool owned;
	bool revoked; /* revoked in the rebalance under way */
	bool caught_up;
	bool idle;
	uint64_t consumed; /* records, since start: for the metrics */
};

struct daemon {
	struct config cfg;
	struct core_config core;
	struct lexicon *lexicon;
	char *fingerprint; /* of the options saved state depends on (util/fingerprint.h) */
	struct engine *engine;
	struct sink *sink;
	struct kafka_source *source;
	struct ops *ops; /* metrics, health, the periodic summary */
	char *target; /* redacted, for messages */

	FILE *capture;
	char *capture_path;
	struct buf line;

	struct lane *lanes;
	size_t n_lanes, cap_lanes;
	struct lane *last_lane; /* into lanes[]: reset when it grows */

	/* the batch in hand */
	uint64_t batch_records;
	double batch_started;
	bool dirty;
	double *emitted; /* when each window row of the batch was emitted */
	size_t n_emitted, cap_emitted;
	struct engine_stats committed_stats; /* as of the last successful commit */

	/* this start's runs row */
	struct run_info run;
	bool run_open;         /* inserted, not yet finished */
	bool run_failing;      /* the last update failed: logged once */
	double next_run_update; /* monotonic */

	/* figures */
	double *latency; /* window close to commit, seconds */
	size_t n_latency, cap_latency;
	uint64_t batches;
	double first_message, last_message_any, advance_base;
	double last_commit_try; /* monotonic: a commit (or an attempt) reached the database */
	bool rotate_capture;    /* SIGHUP: reopen the capture at the next commit */

	/* the database being away */
	bool sink_down;
	double sink_down_since, next_retry, backoff;
	bool kafka_down;
	bool assignment_failed; /* on_assigned returned -1: stop, exit 1 */
	double now; /* the clock at the message being handled */
};

static volatile sig_atomic_t stop_signal, hup_signal;

static void on_hup(int sig)
{
	(void)sig;
	hup_signal = 1;
}

static void on_signal(int sig)
{
	if (stop_signal)
		_exit(128 + sig); /* the second signal: the last commit still holds */
	stop_signal = sig;
}

#define PROBE_SECONDS 5.0

static void wait_a_little(double seconds);

/* --- engine output: the sink, plus the time each window closed ------------ */

static int out_window(void *ctx, const struct window_row *row)
{
	struct daemon *d = ctx;
	d->emitted = grow_array(d->emitted, sizeof(*d->emitted), &d->cap_emitted, d->n_emitted + 1);
	d->emitted[d->n_emitted++] = d->now; /* when the message that closed it arrived */
	d->dirty = true;
	return d->sink->ops->window(d->sink, row);
}

static int out_moment(void *ctx, const struct moment *m)
{
	struct daemon *d = ctx;
	d->dirty = true;
	ops_moment(d->ops, m->type);
	return d->sink->ops->moment(d->sink, m);
}

static int out_dead_letter(void *ctx, const struct dead_letter *dl)
{
	struct daemon *d = ctx;
	d->dirty = true;
	return d->sink->ops->dead_letter(d->sink, dl);
}

static void out_notice(void *ctx, const char *msg)
{
	(void)ctx;
	bool keying = !strncmp(msg, "keying error", 12);
	log_event(LOG_WARN, keying ? "keying_error" : "engine_notice", NULL, 0, "%s", msg);
}

/* --- capture -------------------------------------------------------------- */

static void capture_flush_line(struct daemon *d)
{
	if (d->capture && d->line.len && fwrite(d->line.data, 1, d->line.len, d->capture) != d->line.len)
		die("cannot write the capture %s: %s", d->capture_path, strerror(errno));
	buf_reset(&d->line);
}

/* Make the capture durable and return its length (-1 without capture). */
static int64_t capture_sync(struct daemon *d)
{
	if (!d->capture)
		return -1;
	if (fflush(d->capture) != 0 || fsync(fileno(d->capture)) != 0)
		die("cannot write the capture %s: %s", d->capture_path, strerror(errno));
	return (int64_t)ftello(d->capture);
}

static void capture_lane(struct daemon *d, enum control_kind kind, const char *topic,
                         int32_t partition)
{
	if (!d->capture)
		return;
	capture_write_lane(&d->line, kind, sv_make(topic, strlen(topic)), partition);
	capture_flush_line(d);
}

/* --- lanes ------------------------------------------------------------------ */

static struct lane *lane_of(struct daemon *d, const char *topic, size_t topic_len,
                            int32_t partition)
{
	/* Messages come in runs from one partition: try the last lane first. */
	struct lane *last = d->last_lane;
	if (last && last->partition == partition && strlen(last->topic) == topic_len &&
	    !memcmp(last->topic, topic, topic_len))
		return last;
	for (size_t i = 0; i < d->n_lanes; i++)
		if (d->lanes[i].partition == partition && strlen(d->lanes[i].topic) == topic_len &&
		    !memcmp(d->lanes[i].topic, topic, topic_len))
			return d->last_lane = &d->lanes[i];
	d->lanes = grow_array(d->lanes, sizeof(*d->lanes), &d->cap_lanes, d->n_lanes + 1);
	d->lanes[d->n_lanes] = (struct lane){.topic = xstrndup(topic, topic_len),
	                                     .partition = partition, .next_offset = -1};
	return d->last_lane = &d->lanes[d->n_lanes++];
}

static void lanes_summary(const struct daemon *d, bool (*pick)(const struct lane *),
                          struct buf *out)
{
	/* "telemetra.events.chat [0 1 2 3], telemetra.events.viewer [0 1]" */
	for (size_t i = 0; i < d->n_lanes; i++) {
		if (!pick(&d->lanes[i]))
			continue;
		bool first_of_topic = true;
		for (size_t j = 0; j < i; j++)
			if (pick(&d->lanes[j]) && !strcmp(d->lanes[j].topic, d->lanes[i].topic))
				first_of_topic = false;
		if (!first_of_topic)
			continue;
		buf_printf(out, "%s%s [", out->len ? ", " : "", d->lanes[i].topic);
		const char *sep = "";
		for (size_t j = i; j < d->n_lanes; j++) {
			if (pick(&d->lanes[j]) && !strcmp(d->lanes[j].topic, d->lanes[i].topic)) {
				buf_printf(out, "%s%d", sep, d->lanes[j].partition);
				sep = " ";
			}
		}
		buf_addc(out, ']');
	}
}

static bool is_owned(const struct lane *l) { return l->owned; }

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

/* The partitions of the engine's watermark groups, in a new array of
 * *n + extra + 1 entries that the caller frees: as many groups as there
 * are (no fixed bound), with room for `extra` more. */
static int32_t *group_partitions(const struct engine *e, size_t extra, size_t *n)
{
	*n = engine_group_partitions(e, NULL, 0);
	int32_t *parts = xcalloc(*n + extra + 1, sizeof(*parts));
	engine_group_partitions(e, parts, *n);
	return parts;
}

/* What the metrics and the summary line show, as of now. */
static void ops_update(struct daemon *d, double now, bool final)
{
	/* The loop comes here ten times a second: a watchdog ping proves it
	 * turns. */
	ops_watchdog(d->ops, now);
	if (!final && !ops_due(d->ops, now))
		return;
	struct ops_partition *parts = xcalloc(d->n_lanes + 1, sizeof(*parts));
	size_t owned = 0;
	for (size_t i = 0; i < d->n_lanes; i++) {
		const struct lane *l = &d->lanes[i];
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
	struct ops_view v = {engine_stats(d->engine), parts, d->n_lanes, groups, n_groups,
	                     !d->sink_down, !d->kafka_down};
	ops_assigned(d->ops, owned);
	ops_tick(d->ops, &v, now, final);
	free(groups);
	free(parts);
}

/* --- the runs row ------------------------------------------------------------- */

/* Insert this start's runs row, retrying while the database is away (as
 * the other reads before consuming do).  False only on a stop signal. */
static bool begin_run(struct daemon *d)
{
	bool warned = false;
	for (double backoff = 0.25;; backoff = backoff_next(backoff, 5)) {
		if (d->sink->ops->run_begin(d->sink, &d->run) == 0)
			break;
		if (!warned)
			log_warn("cannot record this run in %s: %s; retrying", d->target, d->sink->err.msg);
		warned = true;
		if (stop_signal)
			return false;
		wait_a_little(backoff);
	}
	d->run_open = true;
	struct log_field f[] = {LF_INT("run_id", d->run.id)};
	log_event(LOG_INFO, "run_started", f, 1, "recorded as run %" PRId64 " in %s", d->run.id,
	          d->target);
	return true;
}

/* Write the committed counts to the runs row, outside any batch; with
 * finished_us, finish it.  0, or -1 (logged once until it works again). */
static int update_run(struct daemon *d, int64_t finished_us)
{
	if (!d->run_open)
		return 0;
	d->run.finished_us = finished_us;
	d->run.stats = &d->committed_stats;
	if (d->sink->ops->run_update(d->sink, &d->run) == 0) {
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
static int commit_batch(struct daemon *d)
{
	double start = monotonic_seconds();
	int64_t capture_bytes = capture_sync(d);

	struct partition_offset *offsets = xcalloc(d->n_lanes + 1, sizeof(*offsets));
	struct topic_partition *tps = xcalloc(d->n_lanes + 1, sizeof(*tps));
	size_t n_offsets = 0;
	for (size_t i = 0; i < d->n_lanes; i++) {
		const struct lane *l = &d->lanes[i];
		if (!l->owned || l->next_offset < 0)
			continue;
		offsets[n_offsets] = (struct partition_offset){l->topic, l->partition, l->next_offset};
		tps[n_offsets] = (struct topic_partition){l->topic, l->partition, l->next_offset};
		n_offsets++;
	}
	size_t n_groups;
	int32_t *parts = group_partitions(d->engine, 0, &n_groups);
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
		.capture_path = d->capture_path,
		.capture_bytes = capture_bytes,
	};
	int rc = d->sink->ops->commit(d->sink, &cp);
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
		if (d->source)
			kafka_source_commit_async(d->source, tps, n_offsets);
		d->batches++;
		d->n_emitted = 0;
		d->batch_records = 0;
		d->dirty = false;
		d->batch_started = done;
		/* Every row the engine emitted was in this batch: its counts
		 * are now exactly what the database holds from this run. */
		d->committed_stats = *engine_stats(d->engine);
		if (done >= d->next_run_update && update_run(d, 0) == 0)
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
	if (commit_batch(d) == 0) {
		if (d->sink_down) {
			struct log_field f[] = {LF_STR("database", d->target),
			                        LF_NUM("outage_seconds", monotonic_seconds() - d->sink_down_since)};
			log_event(LOG_INFO, "database_recovered", f, 2,
			          "database %s is back after %.1f s: batch committed, consumption resumed",
			          d->target, monotonic_seconds() - d->sink_down_since);
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
	bool ok = d->sink->ops->load_offset(d->sink, d->cfg.group, d->cfg.chat_topic, 0, &next) == 0;
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

/* --- rebalances --------------------------------------------------------------- */

static void wait_a_little(double seconds)
{
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (nanosleep(&ts, &ts) && errno == EINTR && !stop_signal)
		;
}

/* A partition that is no longer ours: its lane closes (in the capture
 * too, so that a replay lets go at the same point), and its watermark
 * group goes with its last lane. */
static void let_go(struct daemon *d, struct lane *l)
{
	capture_lane(d, CONTROL_LANE_CLOSE, l->topic, l->partition);
	engine_lane_close(d->engine, sv_make(l->topic, strlen(l->topic)), l->partition);
	l->owned = l->revoked = false;
	l->next_offset = -1;
}

/* The group moved on without us (a stall past the session timeout): the
 * partitions already have a new owner, who resumed from our last commit.
 * Committing our checkpoint now would set its offsets and state back, so
 * let go at once instead, as a revocation not given back does: capture
 * lane_close, forget the groups.  What we computed since the last commit
 * is computed again by the new owner, to the same rows. */
static void on_lost(struct daemon *d, const struct topic_partition *tps, size_t n)
{
	struct buf what = BUF_INIT;
	lanes_summary(d, is_owned, &what);
	struct log_field f[] = {LF_INT("count", n), LF_STR("partitions", what.data ? what.data : "")};
	log_event(LOG_WARN, "partitions_lost", f, 2,
	          "partitions lost: %zu (%s): the group gave them to another member while this "
	          "one was stalled; not committing, their new owner resumes from the last commit",
	          n, what.data ? what.data : "");
	buf_free(&what);
	for (size_t i = 0; i < n; i++) {
		struct lane *l = lane_of(d, tps[i].topic, strlen(tps[i].topic), tps[i].partition);
		if (l->owned)
			let_go(d, l);
	}
}

static void on_revoked(void *ctx, const struct topic_partition *tps, size_t n, bool lost)
{
	struct daemon *d = ctx;
	if (lost) {
		on_lost(d, tps, n);
		return;
	}
	/* Commit now, so whoever gets these partitions starts from here.  If
	 * the database stays away, the new owner starts from the previous
	 * commit and computes the same rows again: slower, not wrong. */
	double deadline = monotonic_seconds() + 10;
	while (commit_batch(d) != 0) {
		if (monotonic_seconds() > deadline || stop_signal) {
			log_warn("partitions revoked before their batch could be committed (%s); their "
			         "next owner resumes from the previous commit",
			         d->sink->err.msg);
			break;
		}
		wait_a_little(0.5);
	}
	for (size_t i = 0; i < n; i++) {
		struct lane *l = lane_of(d, tps[i].topic, strlen(tps[i].topic), tps[i].partition);
		l->revoked = true;
	}
	struct buf what = BUF_INIT;
	lanes_summary(d, is_owned, &what);
	struct log_field f[] = {LF_INT("count", n), LF_STR("partitions", what.data ? what.data : "")};
	log_event(LOG_INFO, "partitions_revoked", f, 2, "partitions revoked: %zu (%s)", n,
	          what.data ? what.data : "");
	buf_free(&what);
}

/* Whether a group's saved state was made under the options it depends on
 * (util/fingerprint.h).  Safe changes are logged and applied.  On an
 * incompatible one the daemon refuses to start (exit 2, before anything is
 * committed), unless --reset-state: then false, and the group starts empty
 * from its committed offsets. */
static bool state_fits(struct daemon *d, int32_t partition, const char *state, size_t len)
{
	char *saved = engine_state_fingerprint(state, len);
	struct buf bad = BUF_INIT, safe = BUF_INIT;
	enum fingerprint_verdict v = fingerprint_compare(saved, d->fingerprint, &bad, &safe);
	free(saved);
	if (v == FINGERPRINT_UNKNOWN)
		log_warn("the saved state of group %s, partition %d has no fingerprint of its options "
		         "(written by an older telemetra): resuming it as if made with these; the next "
		         "commit records them",
		         d->cfg.group, partition);
	if (safe.len)
		log_info("partition %d: changed since the checkpoint, applied from now on: %s", partition,
		         safe.data);
	bool fits = v != FINGERPRINT_INCOMPATIBLE;
	if (!fits && !d->cfg.reset_state) {
		log_error("the checkpoint of group %s, partition %d was made with other options: %s. "
		          "Its open windows and watermarks cannot be resumed with these (events would be "
		          "late or windowings mixed). Restart with the saved values; or give a new "
		          "--group (it starts from --offset-reset with empty state); or add "
		          "--reset-state to resume group %s from its committed offsets with empty state",
		          d->cfg.group, partition, bad.data, d->cfg.group);
		update_run(d, wall_clock_us()); /* the runs row: a start that committed nothing */
		exit(EXIT_USAGE); /* nothing committed: the checkpoint stays as it was */
	}
	if (!fits)
		log_warn("--reset-state: DISCARDING the saved state of group %s, partition %d (%s): "
		         "resuming from its committed offsets with empty windows, watermarks and detector "
		         "histories; windows open at the last commit restart without their earlier events",
		         d->cfg.group, partition, bad.data);
	else if (d->cfg.reset_state)
		log_info("--reset-state: the saved state of partition %d fits these options: resumed, "
		         "nothing reset",
		         partition);
	buf_free(&bad);
	buf_free(&safe);
	return fits;
}

/* Load what the last checkpoint says of a watermark group, retrying while
 * the database is away. */
static int load_group(struct daemon *d, int32_t partition)
{
	for (double backoff = 0.25;; backoff = backoff_next(backoff, 5)) {
		char *state = NULL;
		size_t len = 0;
		if (d->sink->ops->load_state(d->sink, d->cfg.group, partition, &state, &len) == 0) {
			struct error err;
			if (state && !state_fits(d, partition, state, len)) {
				free(state); /* --reset-state: start the group empty */
				return 0;
			}
			bool ok = !state || engine_load_group(d->engine, state, len, &err);
			free(state);
			if (!ok) {
				log_error("the saved state of partition %d cannot be loaded: %s", partition,
				          err.msg);
				return -1;
			}
			return 0;
		}
		log_warn("cannot read the checkpoint of partition %d from %s: %s; retrying", partition,
		         d->target, d->sink->err.msg);
		if (stop_signal)
			return -1;
		wait_a_little(backoff);
	}
}

static int on_assigned(void *ctx, struct topic_partition *tps, size_t n)
{
	struct daemon *d = ctx;
	/* Room for one new group per partition assigned. */
	size_t n_groups;
	int32_t *parts = group_partitions(d->engine, n, &n_groups);
	size_t resumed = 0, fresh = 0, kept = 0;
	d->now = monotonic_seconds();

	for (size_t i = 0; i < n; i++) {
		struct lane *l = lane_of(d, tps[i].topic, strlen(tps[i].topic), tps[i].partition);
		bool have_group = false;
		for (size_t g = 0; g < n_groups; g++)
			have_group |= parts[g] == tps[i].partition;
		if (l->revoked && l->owned && have_group) {
			/* Ours before the rebalance and ours again: keep what we have. */
			tps[i].offset = l->next_offset >= 0 ? l->next_offset : KAFKA_OFFSET_UNKNOWN;
			kept++;
		} else {
			if (!have_group) {
				if (load_group(d, tps[i].partition)) {
					free(parts);
					return -1;
				}
				parts[n_groups++] = tps[i].partition;
			}
			int64_t next = -1;
			while (d->sink->ops->load_offset(d->sink, d->cfg.group, tps[i].topic,
			                                 tps[i].partition, &next) != 0) {
				log_warn("cannot read the offsets from %s: %s; retrying", d->target,
				         d->sink->err.msg);
				if (stop_signal) {
					free(parts);
					return -1;
				}
				wait_a_little(1);
			}
			tps[i].offset = next >= 0 ? next : KAFKA_OFFSET_UNKNOWN;
			l->next_offset = next;
			next >= 0 ? resumed++ : fresh++;
		}
		l->owned = true;
		l->revoked = false;
		l->caught_up = l->idle = false;
		l->last_message = monotonic_seconds();
		capture_lane(d, CONTROL_LANE_OPEN, l->topic, l->partition);
		engine_lane_open(d->engine, sv_make(l->topic, strlen(l->topic)), l->partition);
	}

	/* Revoked and not given back: close the lanes, forget their groups. */
	for (size_t i = 0; i < d->n_lanes; i++) {
		struct lane *l = &d->lanes[i];
		if (l->revoked)
			let_go(d, l);
	}
	free(parts);
	parts = group_partitions(d->engine, 0, &n_groups);
	for (size_t g = 0; g < n_groups; g++) {
		bool owned = false;
		for (size_t i = 0; i < d->n_lanes; i++)
			owned |= d->lanes[i].owned && d->lanes[i].partition == parts[g];
		if (!owned)
			engine_drop_group(d->engine, parts[g]);
	}
	free(parts);

	struct buf what = BUF_INIT;
	lanes_summary(d, is_owned, &what);
	struct log_field f[] = {LF_STR("partitions", what.data ? what.data : ""),
	                        LF_INT("resumed", resumed), LF_INT("kept", kept), LF_INT("fresh", fresh),
	                        LF_STR("offset_reset", d->cfg.offset_reset)};
	log_event(LOG_INFO, "partitions_assigned", f, 5,
	          "partitions assigned: %s; %zu resumed from the checkpoint, %zu kept, %zu starting "
	          "at --offset-reset=%s",
	          what.data ? what.data : "none", resumed, kept, fresh, d->cfg.offset_reset);
	buf_free(&what);
	d->dirty = true;
	return 0;
}

static void on_connection(void *ctx, bool up, const char *reason)
{
	struct daemon *d = ctx;
	struct log_field f[] = {LF_STR("reason", reason)};
	if (up && d->kafka_down)
		log_event(LOG_INFO, "kafka_recovered", NULL, 0, "Kafka is reachable again");
	else if (!up && !d->kafka_down)
		log_event(LOG_WARN, "kafka_outage", f, 1,
		          "Kafka unreachable (%s); librdkafka keeps retrying", reason);
	d->kafka_down = !up;
}

/* --- wall-clock decisions ------------------------------------------------------ */

static void check_idle(struct daemon *d, double now)
{
	d->now = now;
	double timeout = (double)d->cfg.idle_timeout_us / 1e6;
	for (size_t i = 0; i < d->n_lanes; i++) {
		struct lane *l = &d->lanes[i];
		if (!l->owned || l->idle || !l->caught_up || now - l->last_message < timeout)
			continue;
		l->idle = true;
		capture_lane(d, CONTROL_LANE_IDLE, l->topic, l->partition);
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
	if (d->capture) {
		capture_write_advance(&d->line, target);
		capture_flush_line(d);
	}
	if (engine_advance(d->engine, target))
		die("%s", d->sink->err.msg);
	d->advance_base = now;
	d->dirty = true;
}

/* --- the loop ---------------------------------------------------------------- */

static void handle_message(struct daemon *d, const struct kafka_message *m, double now)
{
	d->now = now;
	struct lane *l = lane_of(d, m->topic.ptr, m->topic.len, m->partition);
	/* librdkafka drops a revoked partition's fetched messages at the next
	 * assignment; should one slip through, it is its new owner's to read. */
	if (!l->owned)
		return;
	if (m->eof) {
		l->caught_up = true;
		return;
	}
	if (d->capture) {
		capture_write_envelope(&d->line, m->topic, m->partition, m->offset, m->timestamp_ms,
		                       m->key, m->key_len, m->payload, m->len);
		capture_flush_line(d);
	}
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
	hup_signal = 0;
	const char *log_path = log_file_path();
	if (log_reopen() != 0)
		log_error("SIGHUP: cannot reopen the log file %s: %s; still writing to the old one",
		          log_path, strerror(errno));
	struct log_field f[] = {LF_STR("log_file", log_path), LF_STR("capture", d->capture_path)};
	log_event(LOG_INFO, "reopen", f, 2, "SIGHUP: log file %s%s%s", log_path ? "reopened: " : "",
	          log_path ? log_path : "none (logging to stderr)",
	          d->capture ? "; the capture is reopened after the next commit" : "");
	if (d->capture)
		d->rotate_capture = true;
}

/* The capture's length is part of every checkpoint: commit what the old
 * file holds, switch files, and commit again at once, so that the last
 * checkpoint always names a length of the file now at the path. */
static void rotate_capture(struct daemon *d)
{
	if (commit_batch(d) != 0) {
		commit_or_pause(d); /* the database is away: try again when it is back */
		return;
	}
	capture_flush_line(d);
	FILE *f = fopen(d->capture_path, "ab");
	if (!f) {
		log_error("SIGHUP: cannot reopen the capture %s: %s; still writing to the old file",
		          d->capture_path, strerror(errno));
		d->rotate_capture = false;
		return;
	}
	if (fclose(d->capture) != 0)
		die("cannot write the capture %s: %s", d->capture_path, strerror(errno));
	d->capture = f;
	setvbuf(d->capture, NULL, _IOFBF, 1 << 20);
	d->rotate_capture = false;
	int64_t bytes = (int64_t)ftello(f);
	d->dirty = true;
	if (commit_batch(d) != 0)
		log_warn("capture %s reopened but not yet committed: %s", d->capture_path,
		         d->sink->err.msg);
	struct log_field fl[] = {LF_STR("capture", d->capture_path), LF_INT("bytes", bytes)};
	log_event(LOG_INFO, "capture_reopened", fl, 2, "capture %s reopened (%lld bytes)",
	          d->capture_path, (long long)bytes);
}

static void run(struct daemon *d)
{
	double trigger = (double)d->cfg.trigger_us / 1e6;
	double now = monotonic_seconds(), last_idle_check = now;
	d->batch_started = now;
	while (!stop_signal) {
		double due = d->batch_started + trigger;
		int timeout_ms = d->sink_down ? 100 : (int)((due - now) * 1000);
		if (timeout_ms < 0)
			timeout_ms = 0;
		if (timeout_ms > 100)
			timeout_ms = 100;
		struct kafka_message m;
		int polled = kafka_source_poll(d->source, timeout_ms, &m);
		if (polled < 0) {
			d->assignment_failed = !stop_signal;
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
			ops_update(d, now, false);
			last_idle_check = now;
		}
		if (hup_signal)
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

/* Connect to the database, retrying while it is away. */
static bool open_sink(struct daemon *d, const char *spec)
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
		if (stop_signal)
			return false;
		wait_a_little(backoff);
	}
	if (since)
		log_info("database %s ready after %.1f s", d->target, monotonic_seconds() - since);
	else
		log_info("database %s ready", d->target);
	return true;
}

/* A capture that outran the last commit is cut back to it. */
static void open_capture(struct daemon *d)
{
	char *dir = xstrdup(d->cfg.capture);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : d->cfg.capture;
	if (slash)
		*slash = '\0';
	char real[PATH_MAX];
	if (!realpath(slash ? (*dir ? dir : "/") : ".", real))
		die("--capture %s: %s", d->cfg.capture, strerror(errno));
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", strcmp(real, "/") ? real : "", base);
	free(dir);
	d->capture_path = buf_detach(&path);

	int64_t committed = -1;
	if (d->sink->ops->load_capture_bytes(d->sink, d->cfg.group, d->capture_path, &committed))
		die("cannot read the checkpoint from %s: %s", d->target, d->sink->err.msg);
	struct stat st;
	if (committed >= 0 && stat(d->capture_path, &st) == 0 && st.st_size > committed) {
		if (truncate(d->capture_path, committed) != 0)
			die("cannot cut the capture %s back to its last commit: %s", d->capture_path,
			    strerror(errno));
		log_info("capture %s cut back from %lld to %lld bytes, its length at the last commit",
		         d->capture_path, (long long)st.st_size, (long long)committed);
	} else if (committed > 0 && (stat(d->capture_path, &st) != 0 || st.st_size < committed)) {
		log_warn("capture %s is shorter than at the last commit (%lld bytes): a replay of it "
		         "will not match the database", d->capture_path, (long long)committed);
	}
	d->capture = fopen(d->capture_path, "ab");
	if (!d->capture)
		die("cannot open the capture %s: %s", d->capture_path, strerror(errno));
	setvbuf(d->capture, NULL, _IOFBF, 1 << 20);
}

int cmd_live(int argc, char **argv)
{
	struct daemon d = {0};
	struct error err;
	config_init(&d.cfg);
	int first = config_load(&d.cfg, &help, argc, argv);
	log_set_quiet(d.cfg.quiet);
	/* A daemon's log: a timestamp and a level on every line. */
	log_set_format(!strcmp(d.cfg.log_format, "json") ? LOG_JSON : LOG_TEXT);
	if (d.cfg.log_file && log_open_file(d.cfg.log_file) != 0)
		die_usage("--log-file %s: %s", d.cfg.log_file, strerror(errno));
	if (first < argc)
		die_usage("unexpected argument '%s': live takes options only", argv[first]);
	if (!config_build_core(&d.cfg, &d.core, &d.lexicon, &err))
		die_usage("%s", err.msg);
	d.fingerprint = fingerprint_of(&d.cfg, &err);
	if (!d.fingerprint)
		die_usage("%s", err.msg);
	d.core.state_fingerprint = d.fingerprint;

	struct buf spec = BUF_INIT;
	if (d.cfg.sink)
		buf_adds(&spec, d.cfg.sink);
	else if (d.cfg.postgres)
		buf_printf(&spec, "postgres:%s", d.cfg.postgres);
	else
		die_usage("no database: give --postgres URL, or set POSTGRES_URL");
	struct target parsed; /* a bad target is a usage error, not a database to wait for */
	if (!target_parse(&parsed, spec.data, &err))
		die_usage("%s", err.msg);
	target_free(&parsed);
	/* A property librdkafka refuses is a usage error, said before the
	 * database is waited for or a broker is dialled. */
	if (!kafka_conf_check(d.cfg.kafka_props, d.cfg.n_kafka_props, &err))
		die_usage("%s", err.msg);
	d.target = redact_secrets(spec.data);
	const char *brokers = d.cfg.brokers ? d.cfg.brokers : "localhost:9092";
	char *config_json = ops_log_configuration(&d.cfg, CMD_LIVE);
	int64_t started_us = wall_clock_us();

	struct ops_config oc = {d.cfg.metrics, (double)d.cfg.log_interval_us / 1e6,
	                        (double)d.cfg.ready_max_age_us / 1e6};
	bool usage;
	d.ops = ops_new(&oc, &usage, &err);
	if (!d.ops && usage)
		die_usage("%s", err.msg);
	if (!d.ops)
		die("%s", err.msg);
	if (d.cfg.metrics) {
		struct log_field f[] = {LF_STR("address", d.cfg.metrics), LF_INT("port", ops_port(d.ops))};
		log_event(LOG_INFO, "metrics_listening", f, 2,
		          "serving /metrics, /healthz and /readyz on %s (port %d)", d.cfg.metrics,
		          ops_port(d.ops));
	}

	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);

	if (!open_sink(&d, spec.data)) {
		buf_free(&spec);
		return EXIT_RUNTIME;
	}
	buf_free(&spec);
	if (d.cfg.capture)
		open_capture(&d);

	struct engine_output out = {&d, out_window, out_moment, out_dead_letter, out_notice, NULL};
	d.engine = engine_new(&d.core, &out);

	const char *topics[] = {d.cfg.chat_topic, d.cfg.viewer_topic};
	struct kafka_source_config kc = {
		.brokers = brokers,
		.group = d.cfg.group,
		.topics = topics,
		.n_topics = 2,
		.offset_reset = d.cfg.offset_reset,
		.properties = d.cfg.kafka_props,
		.n_properties = d.cfg.n_kafka_props,
	};
	struct kafka_source_handlers kh = {&d, on_assigned, on_revoked, on_connection};
	d.source = kafka_source_new(&kc, &kh, &err);
	if (!d.source)
		die_usage("%s", err.msg);
	log_info("consuming %s and %s from %s as group %s; committing every %.3g s or %u records",
	         d.cfg.chat_topic, d.cfg.viewer_topic, brokers, d.cfg.group,
	         (double)d.cfg.trigger_us / 1e6, d.cfg.max_batch);

	json_t *inputs = json_pack("{s:s, s:s, s:[s, s], s:s?}", "brokers", brokers, "group",
	                           d.cfg.group, "topics", d.cfg.chat_topic, d.cfg.viewer_topic,
	                           "capture", d.capture_path);
	char *inputs_json = json_dumps(inputs, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(inputs);
	d.run = (struct run_info){.command = "live", .mode = "live", .started_us = started_us,
	                          .config_json = config_json, .inputs_json = inputs_json,
	                          .stats = &d.committed_stats};

	d.advance_base = monotonic_seconds();
	if (begin_run(&d)) {
		ops_notify_ready(d.ops, "consuming");
		run(&d);
	}
	ops_notify_stopping(d.ops);

	int status = EXIT_OK;
	if (d.assignment_failed) {
		log_error("stopping: partitions were assigned that this daemon cannot take (see above); "
		          "committing the batch in hand");
		status = EXIT_RUNTIME;
	} else
		log_info("stopping on %s: committing the batch in hand",
		         stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	double deadline = monotonic_seconds() + 10;
	while (d.dirty && commit_batch(&d) != 0) {
		if (monotonic_seconds() > deadline) {
			log_error("the last batch could not be committed (%s); a restart reads it again",
			          d.sink->err.msg);
			status = EXIT_RUNTIME;
			break;
		}
		wait_a_little(0.5);
	}
	stop_signal = 0; /* the revocation at close commits again, nothing new */
	ops_update(&d, monotonic_seconds(), true);
	kafka_source_close(d.source);
	d.source = NULL;
	/* After the revocation's commit, which may bring the row up to date. */
	if (update_run(&d, wall_clock_us()) == 0 && d.run.id)
		log_info("run %" PRId64 " finished", d.run.id);

	const struct engine_stats *st = engine_stats(d.engine);
	double span = d.last_message_any - d.first_message;
	double p50 = percentile(d.latency, d.n_latency, 0.50) * 1000;
	double p99 = percentile(d.latency, d.n_latency, 0.99) * 1000;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	log_info("stopped: %" PRIu64 " records (%.0f records/s while consuming), %" PRIu64
	         " batches, %" PRIu64 " windows, %" PRIu64 " moments, %" PRIu64
	         " dead letters; window close to commit p50 %.0f ms, p99 %.0f ms; CPU %.1f s user, "
	         "%.1f s system",
	         st->records, span > 0 ? (double)st->records / span : 0.0, d.batches, st->windows,
	         st->moments, st->dead_total, p50, p99,
	         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);

	if (d.capture)
		fclose(d.capture);
	ops_free(d.ops);
	d.sink->ops->close(d.sink);
	engine_free(d.engine);
	lexicon_free(d.lexicon);
	for (size_t i = 0; i < d.n_lanes; i++)
		free(d.lanes[i].topic);
	free(d.lanes);
	free(d.emitted);
	free(d.latency);
	free(d.capture_path);
	free(config_json);
	free(inputs_json);
	free(d.fingerprint);
	free(d.target);
	buf_free(&d.line);
	config_free(&d.cfg);
	return status;
}
