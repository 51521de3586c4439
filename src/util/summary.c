/*
 * summary.c — the one-paragraph report at the end of a replay or tune run
 * (util/summary.h): what was read, what was accepted, the dead letters by
 * reason, throughput and peak memory, and a hint when nothing was usable.
 */
#include "config.h"

#include "util/summary.h"

#include <inttypes.h>
#include <string.h>
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

void summary_no_usable_hint(struct buf *out, const struct engine_stats *st,
                            const char *const *topics, size_t n_topics, const char *chat_topic,
                            const char *viewer_topic)
{
	if (st->records == 0) {
		buf_adds(out, "the input holds no records (empty files?)");
		return;
	}
	if (st->dead_total == 0) {
		buf_adds(out, "the input holds control records only, no events");
		return;
	}
	int top = 0;
	for (int r = 1; r < DEAD_REASON_COUNT; r++)
		if (st->dead[r] > st->dead[top])
			top = r;
	/* Envelope topics that name neither kind: the topic names are wrong,
	 * or the options naming them are. */
	struct buf other = BUF_INIT;
	size_t n_other = 0;
	for (size_t i = 0; i < n_topics; i++) {
		if ((chat_topic && !strcmp(topics[i], chat_topic)) ||
		    (viewer_topic && !strcmp(topics[i], viewer_topic)))
			continue;
		if (n_other < 4)
			buf_printf(&other, "%s\"%.80s\"", n_other ? ", " : "", topics[i]);
		n_other++;
	}
	switch (top) {
	case DEAD_NOT_JSON:
	case DEAD_NOT_OBJECT:
	case DEAD_TOO_LARGE:
		buf_adds(out, "most records are not JSON objects: wrong format? Input is JSON Lines "
		              "(one event, capture envelope or kcat -J envelope per line), plain or gzip");
		break;
	case DEAD_BAD_ENVELOPE:
		buf_adds(out, "most lines look like capture envelopes but are not readable ones: wrong "
		              "format? An envelope has topic, partition, offset and value (a telemetra "
		              "capture) or payload (kcat -J)");
		break;
	case DEAD_LATE:
		buf_adds(out, "every event was late: the input is out of order by more than "
		              "--watermark-delay, or lanes are mixed up");
		break;
	default:
		buf_printf(out, "most records are dead letters of reason %s: ", dead_reason_name(top));
		if (n_other)
			buf_printf(out, "wrong topic names? The input's envelopes come from topic%s %s%s, "
			                "but --chat-topic is \"%s\" and --viewer-topic is \"%s\"",
			           n_other == 1 ? "" : "s", other.data, n_other > 4 ? ", ..." : "",
			           chat_topic ? chat_topic : "", viewer_topic ? viewer_topic : "");
		else
			buf_adds(out, "wrong format? Events need timestamp, stream_id and message or "
			              "viewer_count (SPEC section 2)");
		break;
	}
	buf_free(&other);
}
