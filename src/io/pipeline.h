/*
 * pipeline.h — replay's reader stage on a thread of its own (--threads 2).
 *
 *   reader thread                                    calling thread
 *   input_next ─► record_decode ─► engine_score ─►  ring  ─► pipeline_next ─► engine_decoded ─► sink
 *   (map, split lines, scan, decode, sentiment)   (blocks of items,
 *                                                   in input order)
 *
 * The reader decodes each line into a self-contained item: every view the
 * engine will follow points either into the input's own copy of the line
 * (a regular file's segments stay until released, input_release) or into
 * the item's block, never into a decoder's
 * scratch buffer, which the next line reuses.  Items come out in exactly
 * the order the lines were read, so the engine sees the sequence a single
 * thread would have fed it, and the output is the same byte for byte.
 *
 * The ring is bounded: PIPELINE_BLOCKS blocks of PIPELINE_ITEMS items, and
 * at most PIPELINE_MAX_BYTES of copied bytes in flight (a block holding an
 * oversized line is sent on its own), so memory does not grow with the
 * input, however far the reader could run ahead.
 */
#ifndef TELEMETRA_PIPELINE_H
#define TELEMETRA_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/record.h"
#include "io/input.h"

#define PIPELINE_ITEMS 256
#define PIPELINE_BLOCKS 16
#define PIPELINE_MAX_BYTES (32u << 20)

enum pipeline_kind {
	PIPELINE_LINE,     /* a decoded line: line, raw (the line, for its dead letter) */
	PIPELINE_OVERLONG, /* a line over INPUT_MAX_LINE: raw holds its head, full_len its length */
	PIPELINE_END,      /* the end of a file: status, message, raw (what damage cut) */
};

struct pipeline_item {
	enum pipeline_kind kind;
	size_t file; /* index of the input */
	int64_t line_no;
	bool progress;       /* replay would show progress after this line */
	uint64_t done_bytes; /* with progress: raw bytes read of inputs 0..file */
	const char *raw;
	size_t raw_len;
	uint64_t full_len;
	struct decoded_line line;
	/* PIPELINE_END: input_next()'s last result (0, -1 or INPUT_DAMAGED),
	 * its message, and the file's zero padding (input_info). */
	int status;
	const char *message;
	uint64_t zero_padding;
};

struct pipeline;

/* Start reading inputs[0..n) on a new thread, decoding with the topics and
 * lexicon of cfg (borrowed, like the inputs: they must outlive the
 * pipeline).  Lines that are blank are skipped, as replay skips them.
 * After a file whose status is -1 the reader stops.  NULL with err set if
 * the thread cannot be started.  The caller owns the pipeline
 * (pipeline_free). */
struct pipeline *pipeline_start(struct input *const *inputs, size_t n,
                                const struct core_config *cfg, struct error *err);

/* The next item, valid until the next call; NULL after the last file's
 * PIPELINE_END. */
const struct pipeline_item *pipeline_next(struct pipeline *p);
/* The item `ahead` places after the one pipeline_next() returned last, if
 * it is in the same block already handed over (else NULL), valid as long
 * as that one: a look ahead that never waits, for prefetching. */
const struct pipeline_item *pipeline_peek(const struct pipeline *p, size_t ahead);

/* Stop the reader (wherever it is) and wait for it, then free everything.
 * The inputs may then be read (input_info) and closed. */
void pipeline_free(struct pipeline *p);

#endif
