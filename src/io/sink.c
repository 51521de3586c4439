/*
 * sink.c — opening a sink by target, and the sink as the engine's output.
 *
 * The only place that chooses between the SQLite and PostgreSQL sinks;
 * the choice itself is io/target.c's.
 */
#include "config.h"

#include "io/sink.h"

static int out_window(void *ctx, const struct window_row *row)
{
	struct sink *s = ctx;
	return s->ops->window(s, row);
}

static int out_moment(void *ctx, const struct moment *m)
{
	struct sink *s = ctx;
	return s->ops->moment(s, m);
}

static int out_dead_letter(void *ctx, const struct dead_letter *dl)
{
	struct sink *s = ctx;
	return s->ops->dead_letter(s, dl);
}

struct engine_output sink_engine_output(struct sink *s)
{
	return (struct engine_output){s, out_window, out_moment, out_dead_letter, NULL, NULL};
}

struct sink *sink_open_target(const struct target *t, const struct sink_options *opt,
                              struct error *err)
{
	if (t->kind == TARGET_SQLITE)
		return sink_sqlite_open(t->location, opt, err);
	return sink_postgres_open(t->location, opt, err);
}

struct sink *sink_open(const char *spec, const struct sink_options *opt, struct error *err)
{
	struct target t;
	if (!target_parse(&t, spec, err))
		return NULL;
	struct sink *s = sink_open_target(&t, opt, err);
	target_free(&t);
	return s;
}
