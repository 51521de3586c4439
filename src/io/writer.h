/*
 * writer.h — a sink's row writes (windows, moments, dead letters) on a
 * thread of their own, for replay --threads 2.
 *
 * The engine's output port that writer_output() gives copies each row and
 * queues it; the writer thread hands the rows, in the order they came, to
 * the sink.  The queue is bounded (WRITER_MAX_QUEUED rows: the engine waits
 * beyond).  Once a write has failed the port returns non-zero, and the
 * sink's err says why after writer_drain().
 */
#ifndef TELEMETRA_WRITER_H
#define TELEMETRA_WRITER_H

#include "core/engine.h"
#include "io/sink.h"

#define WRITER_MAX_QUEUED 4096

struct writer;

/* The sink is borrowed: only the writer thread may use it until
 * writer_drain() returns.  NULL with err set if no thread can start. */
struct writer *writer_start(struct sink *sink, struct error *err);
/* The port; its notice and closed callbacks are unset. */
struct engine_output writer_output(struct writer *w);
/* Wait until every queued row is written; 0, or non-zero if a write
 * failed (the sink's err says why).  The sink is the caller's again
 * until the next row. */
int writer_drain(struct writer *w);
/* Drain, stop the thread, free. */
void writer_free(struct writer *w);

#endif
