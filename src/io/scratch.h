/*
 * scratch.h — files built beside their target and renamed over it, and
 * what killed runs leave of them.
 *
 * An output is built as TARGET.tmp-PID and renamed over TARGET when it is
 * complete, so a failed run leaves the previous output as it was.  A run
 * killed by SIGKILL (or a crash) cannot remove its scratch file; the next
 * run that builds the same target does.  It removes only what is surely
 * dead: a file named TARGET.tmp-PID (or its -journal) whose process PID no
 * longer exists AND on which nobody holds the lock its builder takes (a
 * PID reused by another program, or a builder on another host of a shared
 * file system, keeps the file).
 */
#ifndef TELEMETRA_SCRATCH_H
#define TELEMETRA_SCRATCH_H

#include <stddef.h>

/* Remove the scratch files of dead runs beside target; returns how many
 * were removed (each is logged). */
size_t scratch_sweep(const char *target);

/* Create the scratch file `path` (empty, replacing a stale one of this
 * PID) and lock it for as long as the returned descriptor stays open; it
 * is also the file the signal handlers below remove.  The caller calls
 * scratch_release() after renaming or removing the file.  -1 with errno
 * set when it cannot be created. */
int scratch_claim(const char *path);
void scratch_release(int fd);

/* The file a signal handler removes before the process dies (a copy of
 * the path; NULL to forget it).  One at a time. */
void scratch_on_signal(const char *path);
/* Install SIGINT/SIGTERM handlers that remove the scratch_on_signal()
 * file, say so on stderr, and die of the signal as before. */
void scratch_signals_install(const char *program);

#endif
