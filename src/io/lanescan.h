/*
 * lanescan.h — the lanes event files name, found before they are read
 * (SPEC §7).
 *
 * In file input a (topic, partition) lane without a lane_open record is
 * open from the start of the input, so that several files — kcat dumps of
 * one topic each, say — give the rows one interleaved capture gives: the
 * chat lane cannot run ahead of a viewer lane that only a later file
 * holds.  That needs the lanes before the first event, hence this first
 * pass.  Standard input and other streams that cannot be read twice are
 * not scanned (their lanes open at their first record, as SPEC §7 says).
 */
#ifndef TELEMETRA_LANESCAN_H
#define TELEMETRA_LANESCAN_H

#include <stdbool.h>

#include "core/record.h"

/* Can path be read a second time (a regular file, not "-")? */
bool lanescan_rescannable(const char *path);

/* Add to *set the lanes named by the rescannable files among paths[0..n),
 * with whether a lane_open record names them.  The topics decide nothing
 * here but are the decoder's (borrowed).  With threads >= 2 a large
 * regular file is scanned in two halves at once (the same set results).
 * False with err set when a file cannot be read. */
bool lanescan_files(const char *const *paths, size_t n, const char *chat_topic,
                    const char *viewer_topic, unsigned threads, struct lane_set *set,
                    struct error *err);

#endif
