/*
 * sink_format.h — text forms shared by the sinks (and by tune's output,
 * which records its run in the same runs table).
 */
#ifndef TELEMETRA_SINK_FORMAT_H
#define TELEMETRA_SINK_FORMAT_H

#include "core/buf.h"
#include "core/engine.h"

/* top_emotes as a JSON array of strings: ["Kappa","PogChamp"] */
void format_top_emotes_json(struct buf *out, const struct window_row *row);
/* The run's counts as a JSON object, dead letters broken down by reason. */
void format_stats_json(struct buf *out, const struct engine_stats *st);
/* Dead letters by reason as a JSON object, reasons with none left out:
 * {"not_json":2,"late":5}; the runs' stats of every command (replay, live,
 * tune) write it through here. */
void format_dead_letters_json(struct buf *out, const uint64_t dead[DEAD_REASON_COUNT]);

#endif
