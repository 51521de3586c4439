#include "config.h"

#include "io/sink.h"

#include <string.h>
#include <time.h>

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

struct sink *sink_open(const char *spec, const struct sink_options *opt, struct error *err)
{
	if (!strncmp(spec, "sqlite:", 7))
		return sink_sqlite_open(spec + 7, opt, err);
	if (!strncmp(spec, "postgres:", 9))
		return sink_postgres_open(spec + 9, opt, err);
	if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11) ||
	    !strncmp(spec, "jdbc:postgresql:", 16))
		return sink_postgres_open(spec, opt, err);
	return sink_sqlite_open(spec, opt, err);
}

int64_t wall_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
