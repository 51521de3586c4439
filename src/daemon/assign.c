/*
 * assign.c — which partitions the live daemon owns, through rebalances
 * (see daemon.h).  Assigned: each partition resumes from the offset and
 * watermark-group state of the last checkpoint (refused when that state
 * was made with incompatible options, unless --reset-state), or is kept
 * as it was when it comes straight back.  Revoked: the batch in hand is
 * committed first, so that the next owner starts from here; a revocation
 * that cannot commit (the database is away) is a loss.  Lost (our session
 * expired): let go without committing, and drop what was not committed,
 * capture included, as a restart does.  A lane opened or
 * closed here is written to the capture, so that a replay does the same.
 */
#include "config.h"

#include "daemon/daemon.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "cli/fingerprint.h"
#include "util/log.h"


/* A partition that is no longer ours: its lane closes (in the capture
 * too, so that a replay lets go at the same point), and its watermark
 * group goes with its last lane.  The engine would keep the closed group
 * aside for a return of the partition; the daemon forgets it, because a
 * partition given back resumes from its checkpoint (or, with
 * --reset-state or none saved, empty), never from memory. */
void daemon_let_go(struct daemon *d, struct lane *l)
{
	capture_file_lane(&d->capture, CONTROL_LANE_CLOSE, l->topic, l->partition);
	engine_lane_close(d->engine, sv_make(l->topic, strlen(l->topic)), l->partition);
	l->owned = l->revoked = false;
	l->next_offset = -1;
	if (!lanes_own_partition(&d->lanes, l->partition)) /* no other topic's lane of it */
		engine_drop_group(d->engine, l->partition);
}

/* Forget everything since the last commit, as a restart does: the rows
 * of the batch in hand, what the engine counted for them, the capture's
 * tail (cut back to its length at that commit), every lane and every
 * watermark group.  The next assignment, of these partitions or others,
 * resumes each from the checkpoint, and reads the dropped records again.
 * No lane_close is written: the capture then ends where the checkpoint
 * stands, so that a replay of it holds exactly the state a later
 * assignment loads, and the records read again after it are in the
 * capture once (a lane_close would have made the replay take those groups
 * back as they were in memory, then see the records read again a second
 * time).  Every lane goes, whatever the rebalance names: kafka_source
 * unassigns the whole assignment after a revocation or a loss, and keeping
 * one lane's state would disagree with the capture cut back under it. */
static void drop_uncommitted(struct daemon *d)
{
	sink_discard(d->sink);
	engine_stats_minus(&d->dropped_stats, engine_stats(d->engine), &d->committed_stats);
	int64_t cut = capture_file_cut_back(&d->capture);
	if (cut)
		log_info("capture %s cut back by %lld bytes to its length at the last commit",
		         d->capture.path, (long long)cut);
	for (size_t i = 0; i < d->lanes.n; i++) {
		struct lane *l = &d->lanes.v[i];
		l->owned = l->revoked = l->caught_up = l->idle = false;
		l->next_offset = -1;
	}
	size_t n_groups;
	int32_t *parts = daemon_group_partitions(d->engine, 0, &n_groups);
	for (size_t g = 0; g < n_groups; g++)
		engine_drop_group(d->engine, parts[g]);
	free(parts);
	d->batch_records = 0;
	d->n_emitted = 0;
	d->dirty = false;
	d->advance_base = monotonic_seconds();
}

/* The group moved on without us (a stall past the session timeout): the
 * partitions may already have a new owner, who resumed from our last
 * commit.  Committing our checkpoint now would set its offsets and state
 * back, so let go without committing, and drop what was not committed.
 * What was computed since the last commit is computed again by whoever
 * resumes, to the same rows. */
static void on_lost(struct daemon *d, const struct topic_partition *tps, size_t n)
{
	(void)tps;
	struct buf what = BUF_INIT;
	lanes_summary(&d->lanes, lane_is_owned, &what);
	struct log_field f[] = {LF_INT("count", n), LF_STR("partitions", what.data ? what.data : ""),
	                        LF_INT("records_dropped", (int64_t)d->batch_records)};
	log_event(LOG_WARN, "partitions_lost", f, 3,
	          "partitions lost: %zu (%s): this daemon's session in the group expired while it "
	          "was stalled; not committing: whoever is given them next, this daemon included, "
	          "resumes from the last commit, and the %llu records read since are dropped",
	          n, what.data ? what.data : "", (unsigned long long)d->batch_records);
	buf_free(&what);
	drop_uncommitted(d);
}

static void on_revoked(void *ctx, const struct topic_partition *tps, size_t n, bool lost)
{
	struct daemon *d = ctx;
	if (lost) {
		on_lost(d, tps, n);
		return;
	}
	/* Commit now, so whoever gets these partitions starts from here.  If
	 * the database stays away, the revocation is a loss: the new owner
	 * starts from the previous commit and computes the same rows again,
	 * and so do we for what we are given, from the checkpoint.  Keeping
	 * the uncommitted state of a partition we give away is what must not
	 * happen: if it came back before anyone committed it, we would read
	 * its records again from the checkpoint while the capture already had
	 * them, and a replay of the capture would count them twice.  With
	 * nothing uncommitted, memory is the checkpoint: nothing to do. */
	double deadline = monotonic_seconds() + 10;
	while (d->dirty && daemon_commit_batch(d) != 0) {
		if (monotonic_seconds() > deadline || daemon_stop_signal) {
			struct log_field f[] = {LF_INT("count", n),
			                        LF_INT("records_dropped", (int64_t)d->batch_records)};
			log_event(LOG_WARN, "partitions_revoked_uncommitted", f, 2,
			          "partitions revoked before their batch could be committed (%s): treated "
			          "as a loss; whoever is given them next, this daemon included, resumes "
			          "from the last commit, and the %llu records read since are dropped",
			          d->sink->err.msg, (unsigned long long)d->batch_records);
			drop_uncommitted(d);
			return;
		}
		daemon_wait(0.5);
	}
	for (size_t i = 0; i < n; i++) {
		struct lane *l = lanes_find(&d->lanes, tps[i].topic, strlen(tps[i].topic), tps[i].partition);
		l->revoked = true;
	}
	struct buf what = BUF_INIT;
	lanes_summary(&d->lanes, lane_is_owned, &what);
	struct log_field f[] = {LF_INT("count", n), LF_STR("partitions", what.data ? what.data : "")};
	log_event(LOG_INFO, "partitions_revoked", f, 2, "partitions revoked: %zu (%s)", n,
	          what.data ? what.data : "");
	buf_free(&what);
}

/* Whether a group's saved state was made under the options it depends on
 * (cli/fingerprint.h).  Safe changes are logged and applied.  On an
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
		daemon_update_run(d, wall_clock_us()); /* the runs row: a start that committed nothing */
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
		if (checkpoint_load_state(d->sink, d->cfg.group, partition, &state, &len) == 0) {
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
		if (daemon_stop_signal)
			return -1;
		daemon_wait(backoff);
	}
}

static int on_assigned(void *ctx, struct topic_partition *tps, size_t n)
{
	struct daemon *d = ctx;
	/* Room for one new group per partition assigned. */
	size_t n_groups;
	int32_t *parts = daemon_group_partitions(d->engine, n, &n_groups);
	size_t resumed = 0, fresh = 0, kept = 0;
	d->now = monotonic_seconds();

	for (size_t i = 0; i < n; i++) {
		struct lane *l = lanes_find(&d->lanes, tps[i].topic, strlen(tps[i].topic), tps[i].partition);
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
			while (checkpoint_load_offset(d->sink, d->cfg.group, tps[i].topic,
			                                 tps[i].partition, &next) != 0) {
				log_warn("cannot read the offsets from %s: %s; retrying", d->target,
				         d->sink->err.msg);
				if (daemon_stop_signal) {
					free(parts);
					return -1;
				}
				daemon_wait(1);
			}
			tps[i].offset = next >= 0 ? next : KAFKA_OFFSET_UNKNOWN;
			l->next_offset = next;
			next >= 0 ? resumed++ : fresh++;
		}
		l->owned = true;
		l->revoked = false;
		l->caught_up = l->idle = false;
		l->last_message = monotonic_seconds();
		capture_file_lane(&d->capture, CONTROL_LANE_OPEN, l->topic, l->partition);
		engine_lane_open(d->engine, sv_make(l->topic, strlen(l->topic)), l->partition);
	}

	/* Revoked and not given back: close the lanes, forget their groups. */
	for (size_t i = 0; i < d->lanes.n; i++) {
		struct lane *l = &d->lanes.v[i];
		if (l->revoked)
			daemon_let_go(d, l);
	}
	free(parts);
	parts = daemon_group_partitions(d->engine, 0, &n_groups);
	for (size_t g = 0; g < n_groups; g++)
		if (!lanes_own_partition(&d->lanes, parts[g]))
			engine_drop_group(d->engine, parts[g]);
	free(parts);

	struct buf what = BUF_INIT;
	lanes_summary(&d->lanes, lane_is_owned, &what);
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

struct kafka_source_handlers daemon_kafka_handlers(struct daemon *d)
{
	return (struct kafka_source_handlers){d, on_assigned, on_revoked, on_connection};
}
