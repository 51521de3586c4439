/*
 * new_file.h — an output file that appears whole or not at all.
 *
 * Every command that writes a file the user named (gen -o and --labels,
 * dump -o, report -o, tune -o, replay -o) builds it beside its target and
 * puts it in place only when it is complete, so a write error, a full disk
 * or a kill leaves the previous file (or no file) instead of a truncated
 * or empty one.  This is the one place that knows how: make the new file
 * durable, then rename it over the target.
 *
 * Only a regular file (or a path that does not exist yet) is replaced that
 * way.  A device, a FIFO or a symbolic link is written through in place:
 * `-o /dev/null` must write to /dev/null, not put a file where it was, and
 * a link must still point where the user made it point.
 */
#ifndef TELEMETRA_NEW_FILE_H
#define TELEMETRA_NEW_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

/* Put the complete file tmp in place of path: fsync it, then rename it
 * over path, so that a crash leaves the old file or the new one.  False
 * with err set ("cannot put TMP in place of PATH: reason"); tmp is then
 * left for the caller to remove. */
bool file_put_in_place(const char *tmp, const char *path, struct error *err);

/* A file being built: `fd` is open on `tmp` (PATH.tmp-XXXXXX, created
 * with the mode a new file would get) until commit or discard. */
struct new_file {
	char *path; /* owned copy of the target */
	char *tmp;  /* owned; equal to path when written in place */
	int fd;     /* -1 once the caller has closed it (e.g. through gzclose) */
	bool in_place;
};

/* Can a file be created at path?  Checked before a long run, so that a
 * typo in a directory name fails in a second, not after an hour.  False
 * with err saying why (path is a directory; its directory is missing or
 * not writable). */
bool new_file_possible(const char *path, struct error *err);

/* Is path (followed through links) the very file of one of inputs[0..n)
 * ("-" is standard input; NULL entries are skipped)?  Returns that input,
 * or NULL, also when path does not exist or is not a regular file. */
const char *new_file_input_at(const char *path, const char *const *inputs, size_t n);
/* Exit 2 (die_usage) when path is one of the inputs: a command must not
 * put its output in place of what it reads. */
void new_file_refuse_input(const char *path, const char *const *inputs, size_t n);
/* Exit 2 (die_usage) when path (followed through links) is a non-empty
 * regular file and the user did not ask for it to be replaced (force
 * false): a file the user did not ask to overwrite is never overwritten.
 * An empty file holds nothing to lose; a device or a FIFO is written
 * through, not replaced.  The message reads "WHAT PATH exists[ and WHY],
 * so CMD will not VERB it; give another WHAT, or --force to VERB it"
 * (why may be NULL).  The one check of replay -o, gen -o, --labels and
 * --decoys. */
void new_file_refuse_replace(const char *path, const char *what, const char *why, const char *cmd,
                             const char *verb, bool force);

/* Create the file that will become path.  False with err naming path and
 * the reason. */
bool new_file_create(struct new_file *n, const char *path, struct error *err);
/* Close fd (if still open) and put the file in place.  False with err set,
 * the new file removed and the target untouched.  Frees n's strings. */
bool new_file_commit(struct new_file *n, struct error *err);
/* Close fd (if still open) and remove the new file.  Frees n's strings. */
void new_file_discard(struct new_file *n);

#endif
