/*
 * baseline.h — the baseline each window of a stream was compared against,
 * recovered for the report's charts (the database keeps z, not the
 * baseline).  See baseline.c.
 */
#ifndef TELEMETRA_REPORT_BASELINE_H
#define TELEMETRA_REPORT_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/data.h"

/* Index of the row whose window starts at t, or -1.  Rows are sorted. */
long find_row(const struct wrow *rows, size_t n, int64_t t);
/* Set has_band, mean and sd of every row that has one (baseline.c says
 * how); nothing is allocated that outlives the call. */
void compute_band(struct wrow *rows, size_t n, const struct smoment *ms, size_t nm,
                  unsigned history, bool recompute);

#endif
