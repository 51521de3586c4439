/*
 * ops.h — what an operator sees of the live daemon: Prometheus metrics,
 * /healthz and /readyz, and the periodic summary line of the log.
 *
 * The daemon's consumer thread owns every figure and keeps counting in its
 * own memory; a few times a second it renders them as Prometheus text and
 * hands the text to the HTTP thread (ops_http.c) with a trylock, so that a
 * slow scraper can delay a publication but never the consumer.  The HTTP
 * thread only copies what was published, adds the process metrics it reads
 * itself, and answers.
 *
 * Ownership: the caller of ops_new() owns the ops (ops_free); every
 * pointer in an ops_view is borrowed for the duration of the call.
 */
#ifndef TELEMETRA_OPS_H
#define TELEMETRA_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "core/engine.h"

struct ops_config {
	const char *metrics;  /* ADDR:PORT to listen on, or NULL: no HTTP */
	double log_interval;  /* seconds between summary lines */
	double ready_max_age; /* /readyz: the database reached at most this long ago */
};

/* One (topic, partition) the daemon has seen. */
struct ops_partition {
	const char *topic;
	int32_t partition;
	bool owned;
	uint64_t consumed; /* records handed to the engine, since start */
	int64_t lag;       /* -1: unknown */
};

/* One watermark group: partition p of every topic. */
struct ops_group {
	int32_t partition;
	int64_t watermark_us; /* event time; TIME_NEG_INF before any event */
};

/* The daemon's state at a tick, filled in by the daemon. */
struct ops_view {
	const struct engine_stats *stats;
	const struct ops_partition *parts;
	size_t n_parts;
	const struct ops_group *groups;
	size_t n_groups;
	bool sink_up, kafka_up;
};

struct ops;

/* NULL with err set when the listener cannot be set up (a bad ADDR:PORT
 * is a usage error; a port in use is a runtime one: *usage says which). */
struct ops *ops_new(const struct ops_config *cfg, bool *usage, struct error *err);
void ops_free(struct ops *o);

/* The port the HTTP listener is bound to (0 without one). */
int ops_port(const struct ops *o);

/* Counting, on the consumer thread. */
void ops_moment(struct ops *o, const char *type);
/* A commit attempt: ok or failed, how long it took, the records it
 * covered, when each of its window rows was emitted (monotonic seconds),
 * and the bytes of saved state it wrote. */
void ops_commit(struct ops *o, bool ok, double started, double done, uint64_t records,
                const double *emitted, size_t n_emitted, int64_t state_bytes);
/* A check that the database answers (idle, nothing to commit). */
void ops_probe(struct ops *o, bool ok, double now);
/* The daemon holds partitions (n of them) or none. */
void ops_assigned(struct ops *o, size_t n);

/* Is a publication or a summary line due at monotonic time now? */
bool ops_due(const struct ops *o, double now);
/* Render and publish what v shows; log the summary when its interval has
 * passed, or now if final (the daemon stops). */
void ops_tick(struct ops *o, const struct ops_view *v, double now, bool final);

/* systemd (Type=notify): READY=1 once the daemon consumes, a watchdog
 * ping at half the unit's WatchdogSec= (call often; it rate-limits
 * itself), STOPPING=1.  Nothing without libsystemd or outside systemd. */
void ops_notify_ready(struct ops *o, const char *status);
void ops_watchdog(struct ops *o, double now);
void ops_notify_stopping(struct ops *o);

struct config;
/* Log the effective configuration (after command line > environment >
 * config file > defaults) as one line, secrets redacted: passwords in
 * URLs, the password options, and -X properties that hold credentials.
 * Returns that JSON text, malloc'd, which the caller frees (the daemon
 * records it in its runs row). */
char *ops_log_configuration(const struct config *c, unsigned mask);

#endif
