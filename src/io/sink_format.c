/*
 * sink_format.c — the text forms that every writer of output rows shares
 * (io/sink_format.h): top emotes as a JSON array, and the runs' stats with
 * their dead letters by reason.
 */
#include "config.h"

#include "io/sink_format.h"

#include <inttypes.h>

void format_top_emotes_json(struct buf *out, const struct window_row *row)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < row->n_top_emotes; i++) {
		if (i)
			buf_addc(out, ',');
		buf_add_json_string(out, row->top_emotes[i].ptr, row->top_emotes[i].len);
	}
	buf_addc(out, ']');
}

void format_stats_json(struct buf *out, const struct engine_stats *st)
{
	buf_printf(out,
	           "{\"records\":%" PRIu64 ",\"control_records\":%" PRIu64 ",\"chat_events\":%" PRIu64
	           ",\"viewer_events\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"windows\":%" PRIu64
	           ",\"moments\":%" PRIu64 ",\"dead_letters\":",
	           st->records, st->controls, st->chat, st->viewer, st->accepted, st->windows,
	           st->moments);
	format_dead_letters_json(out, st->dead);
	buf_addc(out, '}');
}

void format_dead_letters_json(struct buf *out, const uint64_t dead[DEAD_REASON_COUNT])
{
	buf_addc(out, '{');
	bool first = true;
	for (int r = 0; r < DEAD_REASON_COUNT; r++) {
		if (!dead[r])
			continue;
		buf_printf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", dead_reason_name(r), dead[r]);
		first = false;
	}
	buf_addc(out, '}');
}
