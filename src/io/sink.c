/*
 * sink.c — opening a sink by target, and the sink as the engine's output.
 *
 * The only place that chooses between the SQLite and PostgreSQL sinks;
 * the choice itself is io/target.c's.  The wrappers below are the only
 * callers of the sinks' operation tables.
 */
#include "config.h"

#include "io/sink.h"

int sink_window(struct sink *s, const struct window_row *row) { return s->rows->window(s, row); }
int sink_moment(struct sink *s, const struct moment *m) { return s->rows->moment(s, m); }
int sink_dead_letter(struct sink *s, const struct dead_letter *dl)
{
	return s->rows->dead_letter(s, dl);
}
int sink_commit(struct sink *s, const struct sink_checkpoint *cp) { return s->rows->commit(s, cp); }
void sink_discard(struct sink *s) { s->rows->discard(s); }
int sink_has_rows(struct sink *s, bool *any) { return s->rows->has_rows(s, any); }
int sink_finish(struct sink *s) { return s->rows->finish(s); }

void sink_close(struct sink *s)
{
	if (s)
		s->rows->close(s);
}

int checkpoint_load_offset(struct sink *s, const char *group, const char *topic,
                           int32_t partition, int64_t *next_offset)
{
	return s->checkpoints->load_offset(s, group, topic, partition, next_offset);
}

int checkpoint_load_state(struct sink *s, const char *group, int32_t partition, char **state,
                          size_t *len)
{
	return s->checkpoints->load_state(s, group, partition, state, len);
}

int checkpoint_load_capture_bytes(struct sink *s, const char *group, const char *path,
                                  int64_t *bytes)
{
	return s->checkpoints->load_capture_bytes(s, group, path, bytes);
}

int run_log_begin(struct sink *s, struct run_info *run) { return s->runs->begin(s, run); }
int run_log_end(struct sink *s, const struct run_info *run) { return s->runs->end(s, run); }
int run_log_update(struct sink *s, const struct run_info *run) { return s->runs->update(s, run); }

static int out_window(void *ctx, const struct window_row *row) { return sink_window(ctx, row); }
static int out_moment(void *ctx, const struct moment *m) { return sink_moment(ctx, m); }
static int out_dead_letter(void *ctx, const struct dead_letter *dl)
{
	return sink_dead_letter(ctx, dl);
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
