/*
 * writer.c — the sink's row writes on their own thread (see writer.h).
 *
 * Each row is copied (the row and every byte it points to) by the
 * engine's thread into a chunk, queued, and written by the writer thread.
 * Rows are handed over in batches of WRITER_BATCH under one mutex, so the
 * engine takes the lock once per batch, not per row; writer_drain() hands
 * over what is left.
 *
 * Chunks, not a malloc per row: a row allocated on one thread and freed on
 * the other made the two threads fight over glibc's arena lock (1 M
 * streams, 6 M rows: twice the CPU of one thread, 15 % of it in futex
 * calls).  A batch's rows are bump-allocated in chunks that travel with
 * the batch; the writer hands written chunks back under the lock it takes
 * anyway, and the engine reuses them, so steady state calls malloc for
 * neither.  A row larger than a chunk gets a chunk of its own, freed by
 * the writer.
 */
#include "config.h"

#include "io/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WRITER_BATCH 64
#define CHUNK_BYTES (16 * 1024) /* about one batch of window rows */

enum wkind { W_WINDOW, W_MOMENT, W_DEAD };

struct wrec {
	struct wrec *next;
	enum wkind kind;
	union {
		struct window_row row;
		struct moment m;
		struct dead_letter dl;
	} u;
	/* the bytes the row points to follow */
};

/* Room for rows: size bytes after the header, used of them taken. */
struct chunk {
	struct chunk *next;
	size_t size, used;
};

struct writer {
	struct sink *sink;
	pthread_mutex_t mu;
	pthread_cond_t to_writer, to_engine;
	struct wrec *head, **tail; /* handed over, not yet taken */
	struct chunk *chunks;      /* the chunks those rows live in */
	struct chunk *returned;    /* written: for the engine to reuse */
	size_t queued;             /* handed over and not yet written */
	bool stop;
	int failed; /* the first non-zero result of a write */
	pthread_t thread;
	/* the engine's batch, and the chunks it lives in (bchunks, newest
	 * first: rows are bump-allocated in the newest) */
	struct wrec *bhead, **btail;
	size_t bn;
	struct chunk *bchunks;
	struct chunk *spare; /* the engine's own, taken from returned */
};

static void free_chunks(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->to_writer, &w->mu);
		if (!w->head)
			break;
		struct wrec *list = w->head;
		struct chunk *chunks = w->chunks;
		w->head = NULL;
		w->tail = &w->head;
		w->chunks = NULL;
		bool failed = w->failed != 0;
		pthread_mutex_unlock(&w->mu);
		size_t n = 0;
		int rc = 0;
		while (list) {
			struct wrec *r = list;
			list = r->next;
			if (!failed && !rc) {
				switch (r->kind) {
				case W_WINDOW:
					rc = sink_window(w->sink, &r->u.row);
					break;
				case W_MOMENT:
					rc = sink_moment(w->sink, &r->u.m);
					break;
				case W_DEAD:
					rc = sink_dead_letter(w->sink, &r->u.dl);
					break;
				}
			}
			n++;
		}
		struct chunk *back = NULL;
		while (chunks) {
			struct chunk *c = chunks;
			chunks = c->next;
			if (c->size != CHUNK_BYTES) {
				free(c); /* a big row's own */
				continue;
			}
			c->next = back;
			back = c;
		}
		pthread_mutex_lock(&w->mu);
		if (back) {
			struct chunk *last = back;
			while (last->next)
				last = last->next;
			last->next = w->returned;
			w->returned = back;
		}
		if (rc && !w->failed)
			w->failed = rc;
		w->queued -= n;
		pthread_cond_broadcast(&w->to_engine);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hand the engine's batch to the writer; wait while too much is queued.
 * Returns the writer's failure, if any. */
static int hand_over(struct writer *w, bool wait_empty)
{
	pthread_mutex_lock(&w->mu);
	if (w->bhead) {
		*w->tail = w->bhead;
		w->tail = w->btail;
		w->queued += w->bn;
		w->bhead = NULL;
		w->btail = &w->bhead;
		w->bn = 0;
		struct chunk *last = w->bchunks;
		while (last->next)
			last = last->next;
		last->next = w->chunks;
		w->chunks = w->bchunks;
		w->bchunks = NULL;
		pthread_cond_signal(&w->to_writer);
	}
	if (w->returned && !w->spare) {
		w->spare = w->returned;
		w->returned = NULL;
	}
	while (!w->failed && (wait_empty ? w->queued > 0 : w->queued > WRITER_MAX_QUEUED))
		pthread_cond_wait(&w->to_engine, &w->mu);
	if (wait_empty) /* a failure leaves rows unwritten: wait for them anyway */
		while (w->queued > 0)
			pthread_cond_wait(&w->to_engine, &w->mu);
	int failed = w->failed;
	pthread_mutex_unlock(&w->mu);
	return failed;
}

static int queue(struct writer *w, struct wrec *r)
{
	r->next = NULL;
	*w->btail = r;
	w->btail = &r->next;
	if (++w->bn < WRITER_BATCH)
		return 0;
	return hand_over(w, false);
}

#define ALIGN_UP(n) (((n) + sizeof(void *) - 1) & ~(sizeof(void *) - 1))

/* n bytes for a row of the engine's batch, in its newest chunk or a new
 * one (a spare, or malloc's).  Owned by the batch's chunks: never freed
 * alone. */
static void *batch_alloc(struct writer *w, size_t n)
{
	n = ALIGN_UP(n);
	struct chunk *c = w->bchunks;
	if (!c || c->size - c->used < n) {
		if (n > CHUNK_BYTES) {
			c = xmalloc(ALIGN_UP(sizeof(*c)) + n);
			c->size = n;
		} else if (w->spare) {
			c = w->spare;
			w->spare = c->next;
		} else {
			c = xmalloc(ALIGN_UP(sizeof(*c)) + CHUNK_BYTES);
			c->size = CHUNK_BYTES;
		}
		c->used = 0;
		c->next = w->bchunks;
		w->bchunks = c;
	}
	void *p = (char *)c + ALIGN_UP(sizeof(*c)) + c->used;
	c->used += n;
	return p;
}

/* Bump allocation inside one record. */
struct fill {
	char *p;
};

static const char *put(struct fill *f, const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *d = f->p;
	memcpy(d, s, n);
	d[n] = '\0';
	f->p += n + 1;
	return d;
}

static size_t slen(const char *s) { return s ? strlen(s) : 0; }

static int on_window(void *ctx, const struct window_row *row)
{
	struct writer *w = ctx;
	size_t arrays = ALIGN_UP(row->n_top_emotes * (sizeof(struct strview) + sizeof(uint32_t)));
	size_t bytes = row->stream_id.len + 1;
	for (size_t i = 0; i < row->n_top_emotes; i++)
		bytes += row->top_emotes[i].len + 1;
	struct wrec *r = batch_alloc(w, ALIGN_UP(sizeof(*r)) + arrays + bytes);
	r->kind = W_WINDOW;
	r->u.row = *row;
	char *base = (char *)r + ALIGN_UP(sizeof(*r));
	struct strview *em = (struct strview *)(void *)base;
	uint32_t *counts = (uint32_t *)(void *)(base + row->n_top_emotes * sizeof(struct strview));
	struct fill f = {base + arrays};
	r->u.row.stream_id.ptr = put(&f, row->stream_id.ptr, row->stream_id.len);
	for (size_t i = 0; i < row->n_top_emotes; i++) {
		em[i] = sv_make(put(&f, row->top_emotes[i].ptr, row->top_emotes[i].len),
		                row->top_emotes[i].len);
		counts[i] = row->top_emote_counts[i];
	}
	r->u.row.top_emotes = row->n_top_emotes ? em : NULL;
	r->u.row.top_emote_counts = row->n_top_emotes ? counts : NULL;
	return queue(w, r);
}

static int on_moment(void *ctx, const struct moment *m)
{
	struct writer *w = ctx;
	size_t bytes = m->stream_id.len + 1 + slen(m->type) + 1 + slen(m->description) + 1 +
	               slen(m->metadata) + 1;
	struct wrec *r = batch_alloc(w, ALIGN_UP(sizeof(*r)) + bytes);
	r->kind = W_MOMENT;
	r->u.m = *m;
	struct fill f = {(char *)r + ALIGN_UP(sizeof(*r))};
	r->u.m.stream_id.ptr = put(&f, m->stream_id.ptr, m->stream_id.len);
	r->u.m.type = put(&f, m->type, slen(m->type));
	r->u.m.description = put(&f, m->description, slen(m->description));
	r->u.m.metadata = put(&f, m->metadata, slen(m->metadata));
	return queue(w, r);
}

static int on_dead(void *ctx, const struct dead_letter *dl)
{
	struct writer *w = ctx;
	size_t bytes = dl->pos.source.len + 1 + slen(dl->detail) + 1 + dl->raw_len + 1;
	struct wrec *r = batch_alloc(w, ALIGN_UP(sizeof(*r)) + bytes);
	r->kind = W_DEAD;
	r->u.dl = *dl;
	struct fill f = {(char *)r + ALIGN_UP(sizeof(*r))};
	r->u.dl.pos.source.ptr = put(&f, dl->pos.source.ptr, dl->pos.source.len);
	r->u.dl.detail = put(&f, dl->detail, slen(dl->detail));
	r->u.dl.raw = put(&f, dl->raw, dl->raw_len);
	return queue(w, r);
}

struct writer *writer_start(struct sink *sink, struct error *err)
{
	struct writer *w = xcalloc(1, sizeof(*w));
	w->sink = sink;
	w->tail = &w->head;
	w->btail = &w->bhead;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->to_writer, NULL);
	pthread_cond_init(&w->to_engine, NULL);
	int rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc) {
		error_set(err, "cannot start the writer thread: %s", strerror(rc));
		pthread_cond_destroy(&w->to_writer);
		pthread_cond_destroy(&w->to_engine);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

struct engine_output writer_output(struct writer *w)
{
	return (struct engine_output){w, on_window, on_moment, on_dead, NULL, NULL};
}

int writer_drain(struct writer *w)
{
	return hand_over(w, true);
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	writer_drain(w);
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->to_writer);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	free_chunks(w->chunks); /* empty after the drain, unless a write failed early */
	free_chunks(w->bchunks);
	free_chunks(w->returned);
	free_chunks(w->spare);
	pthread_cond_destroy(&w->to_writer);
	pthread_cond_destroy(&w->to_engine);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
