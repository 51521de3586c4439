/*
 * baseline.c — the baseline band of the report's charts.
 *
 * With the pane detector (the default), the chat_rate plot gets no band:
 * that detector compares a count of its own metric over the scored span
 * with a negative-binomial baseline, which the database records only in
 * the metadata of each chat_spike (baseline_level, baseline_spread,
 * baseline_dispersion, scored_start/end, value); svg.c draws those in a
 * panel of their own, and recompute is false here.
 *
 * With the seed detector, the baseline band is what it compared each window
 * with: mean ± population stddev of the previous N rows' chat_rate (SPEC
 * §5, N = `history`).  The database keeps z but not the baseline, so it is
 * recovered as follows:
 *   - where a moment's metadata records baseline_mean / baseline_stddev for
 *     chat_rate (the window itself, or the peak window of a merged moment),
 *     those values are used: they are what the detector saw;
 *   - every other window whose z_score is known is recomputed from the
 *     previous min(N, rows so far) rows of the stream, with the detector's
 *     own zscore() (same two-pass arithmetic, same bits);
 *   - windows with a NULL z (fewer than min-history previous rows) get no
 *     band.
 * N, the threshold, min-stddev, window and slide come from the newest run
 * in `runs` (config JSON), with the program's defaults when the table is
 * absent.  A database filled by several runs with --append has one history
 * per run in the detector but one continuous history here; the moments'
 * own baselines stay exact in that case.  The dashed line is the spike
 * threshold mean + threshold · max(stddev, min-stddev): a window above it
 * is a chat_spike.
 */
#include "config.h"

#include "report/baseline.h"

#include <math.h>
#include <stdlib.h>

#include "core/detector.h"

/* Index of the row whose window starts at t, or -1.  Rows are sorted. */
long find_row(const struct wrow *rows, size_t n, int64_t t)
{
	size_t a = 0, b = n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (rows[m].start < t)
			a = m + 1;
		else
			b = m;
	}
	return a < n && rows[a].start == t ? (long)a : -1;
}

/* The baseline band of every row (see the comment at the top). */
void compute_band(struct wrow *rows, size_t n, const struct smoment *ms, size_t nm,
                  unsigned history, bool recompute)
{
	double *hist = xmalloc((history ? history : 1) * sizeof(double));
	for (size_t i = 0; i < n && recompute; i++) {
		if (!rows[i].has_z || !rows[i].has_rate)
			continue;
		/* The previous min(N, available) rows with a rate, oldest first. */
		unsigned k = 0;
		for (size_t j = i; j-- > 0 && k < history;)
			if (rows[j].has_rate)
				k++;
		if (k == 0)
			continue;
		unsigned f = k;
		for (size_t j = i; j-- > 0 && f > 0;)
			if (rows[j].has_rate)
				hist[--f] = rows[j].rate;
		zscore(hist, k, rows[i].rate, 1, &rows[i].mean, &rows[i].sd);
		rows[i].has_band = true;
	}
	free(hist);
	for (size_t i = 0; i < nm; i++) {
		if (!ms[i].has_base)
			continue;
		long k = find_row(rows, n, ms[i].win_start);
		if (k >= 0 && rows[k].has_rate) {
			rows[k].mean = ms[i].base_mean;
			rows[k].sd = ms[i].base_sd;
			rows[k].has_band = isfinite(ms[i].base_mean) && isfinite(ms[i].base_sd);
		}
	}
}
