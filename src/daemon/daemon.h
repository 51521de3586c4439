/*
 * daemon.h — the parts of `telemetra live` below its command (cmd/live.c):
 * the daemon's state, the batch loop (daemon/batch.c) and the assignment of
 * partitions through rebalances (daemon/assign.c).
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
 * exactly what the committed state saw.  Partitions lost without a
 * restart (the session expired) are the same story within the process:
 * the batch in hand, the groups' state and the capture's tail are
 * dropped, and the next assignment resumes from the last commit.
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
#ifndef TELEMETRA_DAEMON_DAEMON_H
#define TELEMETRA_DAEMON_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "daemon/lanes.h"
#include "io/capture_file.h"
#include "io/kafka_source.h"
#include "io/sink.h"
#include "ops/ops.h"
#include "cli/options.h"

struct daemon {
	struct config cfg;
	struct core_config core;
	struct lexicon *lexicon;
	char *fingerprint; /* of the options saved state depends on (cli/fingerprint.h) */
	struct engine *engine;
	struct sink *sink;
	struct kafka_source *source;
	struct ops *ops; /* metrics, health, the periodic summary */
	char *target;    /* redacted, for messages */

	struct capture_file capture; /* {0} without --capture */
	struct lanes lanes;

	/* the batch in hand */
	uint64_t batch_records;
	double batch_started;
	bool dirty;
	double *emitted; /* when each window row of the batch was emitted */
	size_t n_emitted, cap_emitted;
	struct engine_stats committed_stats; /* as of the last successful commit */
	/* What the engine counted in batches dropped at a loss of partitions
	 * (assign.c, on_lost): read again later, so counted again, it must not
	 * be in the runs row twice.  The metrics keep it: they count reads. */
	struct engine_stats dropped_stats;

	/* this start's runs row */
	struct run_info run;
	bool run_open;          /* inserted, not yet finished */
	bool run_failing;       /* the last update failed: logged once */
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
	double next_ends_refresh; /* monotonic: paused, when to ask for the lag */
	bool kafka_down;
	bool assignment_failed; /* on_assigned returned -1: stop, exit 1 */
	double now;             /* the clock at the message being handled */
};

/* SIGTERM/SIGINT (the first; a second exits at once) and SIGHUP. */
extern volatile sig_atomic_t daemon_stop_signal, daemon_hup_signal;
void daemon_install_signals(void);

/* --- daemon/batch.c ----------------------------------------------------------- */

/* The engine's output port: rows to the sink's batch, with the time each
 * window closed. */
struct engine_output daemon_engine_output(struct daemon *d);

/* Connect to the database, retrying while it is away.  False only on a
 * stop signal. */
bool daemon_open_sink(struct daemon *d, const char *spec);
/* --capture: open the file, cut back to its length at the last commit. */
void daemon_open_capture(struct daemon *d);

/* Write the committed counts to this start's runs row, finishing it with
 * finished_us (0, or -1 logged once until it works again). */
int daemon_update_run(struct daemon *d, int64_t finished_us);

/* Commit the batch in hand with a checkpoint of everything owned.
 * 0, or -1 with d->sink->err set (the batch stays pending). */
int daemon_commit_batch(struct daemon *d);

/* The partitions of the engine's watermark groups, in a new array of
 * *n + extra + 1 entries that the caller frees: as many groups as there
 * are (no fixed bound), with room for `extra` more. */
int32_t *daemon_group_partitions(const struct engine *e, size_t extra, size_t *n);

/* Record the run, then consume and commit until a stop signal or a
 * failed assignment. */
void daemon_run(struct daemon *d);

/* The stop sequence: commit the batch in hand (for 10 s at most), leave
 * the group (the revocation commits again), finish the runs row, log the
 * closing figures.  The exit status. */
int daemon_stop(struct daemon *d);

/* Sleep, cut short by a stop signal. */
void daemon_wait(double seconds);

/* --- daemon/assign.c ---------------------------------------------------------- */

/* The handlers of io/kafka_source.h: partitions assigned (resumed from the
 * checkpoint, or kept across the rebalance), revoked (committed first) or
 * lost (let go without committing, everything since the last commit
 * dropped, the capture cut back to it). */
struct kafka_source_handlers daemon_kafka_handlers(struct daemon *d);

/* A partition that is no longer ours: lane closed, group dropped with it. */
void daemon_let_go(struct daemon *d, struct lane *l);

#endif
