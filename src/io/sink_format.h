/*
 * sink_format.h — text forms shared by the sinks.
 */
#ifndef TELEMETRA_SINK_FORMAT_H
#define TELEMETRA_SINK_FORMAT_H

#include "core/buf.h"
#include "core/engine.h"

/* top_emotes as a JSON array of strings: ["Kappa","PogChamp"] */
void format_top_emotes_json(struct buf *out, const struct window_row *row);
/* The run's counts as a JSON object, dead letters broken down by reason. */
void format_stats_json(struct buf *out, const struct engine_stats *st);

#endif
