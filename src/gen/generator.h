/*
 * generator.h — the synthetic event-log model behind `telemetra gen`.
 *
 * A generator turns a struct gen_options (seed, streams, span, rates,
 * self-excitation, moments and decoys, fractions of disorder / late /
 * malformed lines) into a sequence of output lines: chat and viewer events
 * serialized as JSON (SPEC §2), in a realistic *arrival* order, plus two
 * lists of intervals: the true moments an editor would clip ("labels":
 * hype, funny, fail, raid) and the non-moments that look like one to a
 * naive detector ("decoys": ad breaks, level shifts, sub-gift trains, a
 * spammer, a bot, stream start and end, outgoing raids).  The traffic model
 * is described in generator.c; random numbers and deterministic math are in
 * rng.h, the words in vocab.h.
 *
 * Pure C: no I/O, no clock, no global state.  The same options give the
 * same bytes on every IEEE-754 platform (see rng.h).
 *
 * Arrival order.  Events are produced in event-time order and then delayed:
 *   - a fraction `disorder` by d, 0 < d < watermark_delay: such an event at
 *     time t is emitted after events with times up to t + d, never at or
 *     beyond t + watermark_delay, so a "max time − D" watermark accepts it;
 *   - a fraction `late` by d, D + 60 s < d <= D + 180 s (60 s is the default
 *     window): with the default W and D it reaches no window and is late;
 *   - the rest in time order.
 * A fraction `malformed` of lines is broken in varied ways (not JSON,
 * truncated, not an object, missing or mistyped required fields, bad
 * timestamps, negative counts, invalid UTF-8 in stream_id); those lines
 * replace the events they were built from.  With all three fractions 0 the
 * log is clean and its timestamps are non-decreasing.
 *
 * Independence of the random streams: event content comes from one PRNG per
 * stream, disorder and malformation from PRNGs of their own, so changing
 * --disorder, --late or --malformed changes the order or the breakage of the
 * lines, not the events themselves.
 */
#ifndef TELEMETRA_GEN_GENERATOR_H
#define TELEMETRA_GEN_GENERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/common.h"

/* Default start time, 2025-11-23T12:00:00Z, in microseconds. */
#define GEN_DEFAULT_START_US INT64_C(1763899200000000)

struct gen_options {
	uint64_t seed;
	/* Number of streams, >= 1. */
	size_t streams;
	/* Either NULL (names "stream_001", "stream_002", ...) or `streams`
	 * non-empty names.  Borrowed: gen_create() copies them. */
	const char *const *stream_ids;
	/* Event time of the start of every stream. */
	int64_t start_us;
	/* > 0: only events with time < start + duration; 0: no time limit. */
	int64_t duration_us;
	/* > 0: stop after this many lines; 0: no count limit.  When both limits
	 * are 0 the generator never ends. */
	uint64_t max_events;
	/* Per-stream mean chat rates (messages/s, moments aside) are spread
	 * log-uniformly over [rate_min, rate_max] (stratified: stream k of n
	 * gets the middle of the k-th of n equal slices of the log range, in a
	 * seeded order).  0 < rate_min <= rate_max. */
	double rate_min, rate_max;
	/* > 0: the same spread, scaled so that the mean over streams is exactly
	 * chat_rate; 0: the range as given. */
	double chat_rate;
	/* Self-excitation (a Hawkes process): every message triggers on average
	 * `branching` further ones (replies, emote walls), in [0, 0.95], after
	 * an exponential delay of mean reply_delay_us.  The mean rate stays the
	 * stream's rate; its 10 s counts vary about 1/(1-branching)^2 times
	 * more than Poisson counts. */
	double branching;
	int64_t reply_delay_us;
	/* Mid-stream decoys per stream-hour (ad breaks, level shifts, gift
	 * trains, spammers, bots, in turn); >= 0. */
	double decoy_rate;
	/* true: every stream starts with a ramp and greetings and, when the span
	 * is bounded, ends with "gn" waves (and on some streams an outgoing
	 * raid) shortly before the end of the span, then goes offline. */
	bool edges;
	/* Mean interval between viewer-count updates of a stream (> 0). */
	int64_t viewer_interval_us;
	/* Number of true moments (hype, funny, fail, incoming raid); needs a
	 * finite span. */
	unsigned spikes;
	/* Fractions of lines, each in [0, 1], sum <= 1. */
	double disorder;
	double late;
	double malformed;
	/* The watermark delay D the disorder is measured against (> 0 when
	 * disorder > 0). */
	int64_t watermark_delay_us;
};

/* Fill *o with the defaults: seed 1, 10 streams, start 2025-11-23T12:00:00Z,
 * 600 s, no event limit, rates from 1/60 to 30 messages/s, branching 0.5
 * with replies after 3 s, 1 decoy per stream-hour, stream edges on,
 * viewers every 5 s, no moments, disorder 0.01, late 0.001, malformed
 * 0.001, D = 10 s. */
void gen_options_default(struct gen_options *o);

enum gen_kind {
	GEN_CHAT,
	GEN_VIEWER,
};

/* One output line.  Every pointer is borrowed from the generator and stays
 * valid until the next gen_next() or gen_free() on it. */
struct gen_line {
	const char *data; /* the JSON text (or broken text), no newline */
	size_t len;
	const char *stream_id; /* the stream the line belongs to (Kafka key) */
	size_t stream_id_len;
	enum gen_kind kind; /* the kind of event the line was built from */
	bool malformed;     /* true: broken on purpose (send to the chat topic) */
	int64_t time_us;    /* event time the line was built from */
};

/* A labelled interval [start, end) of one stream.  For a true moment it is
 * the chat reaction: start is the first second of the burst (2–6 s after
 * the play on screen), end the time the burst has died down.  For a decoy
 * it covers what might fool a detector (for an ad break: the break and
 * chat's return). */
struct gen_label {
	size_t stream;         /* index of the stream */
	const char *stream_id; /* borrowed from the generator */
	int64_t start_us;
	int64_t end_us;
	/* static: moments "hype", "funny", "fail", "raid"; decoys "ad_break",
	 * "level_shift", "gift_train", "spammer", "bot", "stream_start",
	 * "stream_end", "raid_out" */
	const char *kind;
};

struct gen_stats {
	uint64_t lines;     /* lines returned so far */
	uint64_t chat;      /* of which built from chat events */
	uint64_t viewer;    /* of which built from viewer events */
	uint64_t malformed; /* of which broken on purpose */
	uint64_t disordered; /* displaced by less than D */
	uint64_t late;       /* displaced by more than D + 60 s */
	uint64_t bytes;      /* sum of line lengths, newlines not counted */
	int64_t min_time_us; /* smallest / largest event time returned */
	int64_t max_time_us; /* (INT64_MAX / INT64_MIN before any line) */
};

struct gen;

/* Create a generator.  Returns NULL and fills *err when the options are
 * invalid or the spikes do not fit into the span.  The caller owns the
 * generator and releases it with gen_free(); *o is not retained. */
struct gen *gen_create(const struct gen_options *o, struct error *err);

/* Produce the next line into *out (see struct gen_line for the lifetime of
 * its pointers).  Returns false, leaving *out untouched, at the end. */
bool gen_next(struct gen *g, struct gen_line *out);

/* The injected moments, sorted by start time; `*count` receives their
 * number.  The array belongs to the generator (valid until gen_free()). */
const struct gen_label *gen_labels(const struct gen *g, size_t *count);

/* The decoys, sorted by start time (same lifetime as gen_labels()). */
const struct gen_label *gen_decoys(const struct gen *g, size_t *count);

/* Append one label as a JSON object (no newline) to *out:
 * {"stream_id":"…","start":"<RFC 3339>","end":"<RFC 3339>","kind":"hype"} */
void gen_label_json(const struct gen_label *l, struct buf *out);

/* Counters of what gen_next() has returned so far. */
void gen_get_stats(const struct gen *g, struct gen_stats *out);

/* Expected events per second of event time over all streams without
 * moments and decoys (chat plus viewer updates); used to size spans and to
 * pace. */
double gen_expected_rate(const struct gen_options *o);

/* Release the generator and everything it owns; NULL is allowed. */
void gen_free(struct gen *g);

#endif
