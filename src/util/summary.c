#include "config.h"

#include "util/summary.h"

#include <inttypes.h>
#include <sys/resource.h>

#include "core/buf.h"
#include "util/log.h"

void log_summary(const char *verb, const struct engine_stats *st, size_t n_files, double seconds,
                 const char *destination)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s %zu file%s: %" PRIu64 " records (%" PRIu64 " chat, %" PRIu64
	               " viewer events, %" PRIu64 " control), %" PRIu64 " events accepted, %" PRIu64
	               " late, %" PRIu64 " dead letters",
	           verb, n_files, n_files == 1 ? "" : "s", st->records, st->chat, st->viewer,
	           st->controls, st->accepted, st->dead[DEAD_LATE], st->dead_total);
	if (st->dead_total) {
		const char *sep = " (";
		for (int r = 0; r < DEAD_REASON_COUNT; r++) {
			if (!st->dead[r])
				continue;
			buf_printf(&b, "%s%s %" PRIu64, sep, dead_reason_name(r), st->dead[r]);
			sep = ", ";
		}
		buf_addc(&b, ')');
	}
	struct rusage ru;
	long peak_kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
	buf_printf(&b,
	           "; %" PRIu64 " windows, %" PRIu64 " moments in %.2f s (%.2f M records/s, peak RSS "
	           "%.1f MB) into %s",
	           st->windows, st->moments, seconds,
	           seconds > 0 ? (double)st->records / seconds / 1e6 : 0.0, (double)peak_kb / 1024.0,
	           destination);
	log_info("%s", b.data);
	buf_free(&b);
}
