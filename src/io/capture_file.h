/*
 * capture_file.h — the live daemon's capture: every message it consumed
 * and every wall-clock decision it made, as lines of an event file
 * (core/capture.h), so that a replay of the file sees what the daemon saw.
 *
 * The file's length is part of every checkpoint (capture_file_sync), and a
 * restart cuts a file that outran its last commit back to that length
 * (capture_file_open), so that the file and the committed state agree.
 * A daemon that loses its partitions without committing (its session
 * expired) cuts the file back in the same way (capture_file_cut_back),
 * because it too resumes from the last commit.
 * Write errors are fatal (die, exit 1): a capture with a hole in it would
 * replay to other rows without saying so.
 */
#ifndef TELEMETRA_IO_CAPTURE_FILE_H
#define TELEMETRA_IO_CAPTURE_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/capture.h"
#include "core/common.h"
#include "io/kafka_source.h"

/* {0}: no capture, and every call below does nothing. */
struct capture_file {
	FILE *f;
	char *path; /* absolute, owned */
	struct buf line;
	int64_t committed; /* the file's length at the last commit (or at opening) */
};

/* The absolute path of `given` (its folder must exist), as the checkpoint
 * names it: malloc'd, the caller frees.  NULL with err set. */
char *capture_file_path(const char *given, struct error *err);

/* Open `path` (taken over) for appending, first cutting it back to
 * `committed` bytes when it is longer (-1: nothing committed yet).  A file
 * shorter than `committed` is a warning: its replay will not match. */
void capture_file_open(struct capture_file *c, char *path, int64_t committed);

/* Append one line: a lane's control record, a consumed message, an
 * advance of the watermarks to target_us. */
void capture_file_lane(struct capture_file *c, enum control_kind kind, const char *topic,
                       int32_t partition);
void capture_file_message(struct capture_file *c, const struct kafka_message *m);
void capture_file_advance(struct capture_file *c, int64_t target_us);

/* Make what was appended durable; its length, or -1 without a capture. */
int64_t capture_file_sync(struct capture_file *c);

/* The commit that holds `bytes` (what capture_file_sync returned before
 * it) succeeded: that is the length capture_file_cut_back returns to. */
void capture_file_committed(struct capture_file *c, int64_t bytes);

/* Drop everything appended since the last commit (a daemon resuming from
 * it, after a restart or without one): the file is cut back to that length
 * and appended to from there.  The number of bytes dropped; 0 without a
 * capture. */
int64_t capture_file_cut_back(struct capture_file *c);

/* Switch to a new file at the same path (SIGHUP, after a rotation moved
 * the old one away), right after a commit.  Its length, or -1 with err
 * set: the old file is then still the one written.  The new file's length
 * stands for that commit until the next one. */
int64_t capture_file_reopen(struct capture_file *c, struct error *err);

/* Close and free; c is {0} again. */
void capture_file_close(struct capture_file *c);

#endif
