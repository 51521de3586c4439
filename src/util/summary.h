/*
 * summary.h — the one-paragraph report at the end of a run.
 */
#ifndef TELEMETRA_SUMMARY_H
#define TELEMETRA_SUMMARY_H

#include <stddef.h>

#include "core/engine.h"

/* "replayed 2 files: 1000 records, 990 events accepted, ... in 0.5 s
 * (2.0 M records/s) into out.db" on stderr, unless quiet. */
void log_summary(const char *verb, const struct engine_stats *st, size_t n_files, double seconds,
                 const char *destination);

#endif
