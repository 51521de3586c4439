/*
 * svg.h — one stream's chart of the report as inline SVG (svg.c).
 */
#ifndef TELEMETRA_REPORT_SVG_H
#define TELEMETRA_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/data.h"

/* Past this many windows in a stream, each line is thinned per pixel. */
#define THIN_ABOVE 2000

/* The class of a moment marker: from a fixed list, never from user data. */
const char *marker_class(const char *type);

/* Draw the chart of stream s (index: its position on the page, for ids)
 * over [t0, t1) from its rows (with their baseline band already computed,
 * report/baseline.h) and moments, and the note under a thinned chart.
 * Nothing is kept or freed. */
void svg_chart(FILE *out, size_t index, const struct stream_info *s, const struct wrow *rows,
               size_t n, const struct smoment *ms, size_t nm, int64_t t0, int64_t t1,
               const struct report_params *p, const struct run_cfg *cfg);

#endif
