/*
 * input.h — reading event files line by line (SPEC §7).
 *
 * A file is JSON Lines, optionally gzip-compressed (recognised by its magic
 * bytes, not its name; concatenated gzip members are read in turn), or "-"
 * for standard input.  While reading, the raw bytes are counted and hashed
 * (SHA-256) for the runs table, so that a result can be traced to the exact
 * input that produced it without a second pass.
 *
 * Lines are returned without their "\n" (and a "\r" before it).  A line
 * longer than INPUT_MAX_LINE is not held: its first INPUT_HEAD_BYTES are
 * returned with `overlong` set, the rest is skipped and counted.
 */
#ifndef TELEMETRA_INPUT_H
#define TELEMETRA_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/common.h"

/* Envelopes may hold a 1 MiB payload with every byte escaped. */
#define INPUT_MAX_LINE (16 * 1024 * 1024)
#define INPUT_HEAD_BYTES (1024 * 1024)

struct input_line {
	const char *data; /* valid until the next input_next(); not NUL-terminated */
	size_t len;
	int64_t number; /* 1-based */
	bool overlong;
	uint64_t full_len; /* of an overlong line, once skipped */
};

struct input;

/* Open path ("-" = stdin).  NULL on failure, with err naming the file and
 * the reason.  The caller owns the result (input_close). */
struct input *input_open(const char *path, struct error *err);

/* A pass that needs no SHA-256 (the lane pre-scan reads the file once
 * more): a regular file's bytes are then not hashed, and input_info()'s
 * digest stays empty.  Call before the first input_next(). */
void input_skip_digest(struct input *in);

/* 1: a line was read; 0: end of file; -1: read error (err names the file
 * and the reason); INPUT_DAMAGED: the rest of the file cannot be
 * decompressed (truncated, corrupt, bad CRC, trailing garbage): every
 * complete line before the damage has been returned, err says where and
 * why, `line` holds the decoded start of the line the damage cut (perhaps
 * empty), and the next call returns 0.  Zero padding after the last gzip
 * member is not damage (gzip(1) accepts it too): input_info() counts it. */
#define INPUT_DAMAGED (-2)
int input_next(struct input *in, struct input_line *line, struct error *err);

/* Do the lines of this input stay where input_next() put them after the
 * next call (a regular file, read into segments), until input_release()
 * says they are done with, so that another thread may still read them?
 * Otherwise they are valid until that call. */
bool input_lines_stay(const struct input *in);

/* Hash a regular file on a thread of its own, started now, instead of on
 * the reader's: the same digest, off the reader's path.  The hasher hashes
 * the bytes the reader has read (its segments), not the file read again.
 * input_info()'s digest is final once input_next() has returned 0 (it
 * waits for the hasher then).  Call before the first input_next(). */
void input_hash_aside(struct input *in);

/* For a reader whose lines are still read elsewhere after input_next()
 * returns (see input_lines_stay): the segments of a regular file are
 * given back only up to where input_release() says, not as soon as they
 * are passed.  Call before the first input_next(). */
void input_defer_release(struct input *in);
/* Lines before `upto` (a pointer into a line of this input; NULL: every
 * line) are done with: their segments may go.  No-op for an input whose
 * lines do not stay. */
void input_release(struct input *in, const char *upto);
/* For a pass that looks for a few lines among many (the lane pre-scan)
 * and need not split every one: the next run of whole lines as one span,
 * "\n"s inside, without the last "\n" (and with any "\r"s).  Every
 * input gives one line, as input_next() does (the lane pre-scan reads
 * regular files in blocks itself).
 * Line numbers are not counted: do not mix with input_next() on one input.
 * Returns as input_next(). */
int input_next_block(struct input *in, struct input_line *block, struct error *err);

/* What the runs table records.  sha256 is final only after end of file. */
struct input_info {
	const char *path;
	uint64_t raw_bytes;  /* bytes read from the file so far */
	uint64_t size_hint;  /* the file's size, 0 when unknown (a pipe) */
	bool gzip;
	uint64_t zero_padding; /* zero bytes ignored after the gzip data */
	char sha256[65];
};
void input_info(struct input *in, struct input_info *info);

void input_close(struct input *in);

/* The inputs as the runs table records them: a JSON array of {path, bytes,
 * gzip, sha256 (once read to the end)}.  The caller frees the text. */
char *inputs_json(struct input *const *inputs, size_t n);

#endif
