/*
 * pipeline.c — the reader/decoder stage of replay on its own thread, and
 * the bounded single-producer/single-consumer ring that hands its decoded
 * lines, in input order, to the thread that runs the engine (see
 * pipeline.h).
 *
 * The ring passes whole blocks, not items: one lock and one wake-up per
 * PIPELINE_ITEMS lines, so the cost of handing over is nothing next to
 * decoding them, and neither thread spins (the machine may be shared).
 * A block owns an arena for the bytes its items need copied; it is filled
 * by the reader and read by the consumer, never both at once.
 */
#include "config.h"

#include "io/pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BASE (128u << 10)
#define ALIGN (sizeof(void *))

struct block {
	struct pipeline_item items[PIPELINE_ITEMS];
	size_t n;
	size_t file;     /* of the last item */
	const char *end; /* of its line, when the input's lines stay; else NULL */
	char *arena;
	size_t used, cap;
};

struct pipeline {
	struct block *blocks; /* PIPELINE_BLOCKS, a ring */
	pthread_mutex_t mu;
	pthread_cond_t to_reader, to_consumer;
	size_t head;     /* blocks published by the reader */
	size_t tail;     /* blocks released by the consumer */
	size_t in_flight; /* arena bytes of the published, unreleased blocks */
	/* Where the consumer is done: every line of the files before
	 * `consumed_file`, and of that file the lines before consumed_end
	 * (NULL: none known).  The reader gives those pages back. */
	size_t consumed_file;
	const char *consumed_end;
	size_t released_files; /* the reader's: files given back whole */
	bool done;       /* the reader published its last block */
	bool stop;       /* the consumer wants no more */
	pthread_t thread;
	bool started;

	/* the consumer's cursor */
	struct block *cur;
	size_t next_item;

	/* the reader's */
	struct input *const *inputs;
	size_t n_inputs;
	const struct core_config *cfg;
	struct record_decoder dec;
	struct block *fill;
};

/* --- copying an item into its block ---------------------------------------- */

/* Views into a line whose input keeps it (input_lines_stay) stay valid:
 * they are not copied. */
struct pin {
	const char *lo, *hi; /* the stable range, or NULL */
	struct block *b;
};

static inline bool stable(const struct pin *pn, struct strview v)
{
	return !v.ptr || (pn->lo && v.ptr >= pn->lo && v.ptr + v.len <= pn->hi);
}

static inline size_t need_view(const struct pin *pn, struct strview v)
{
	return stable(pn, v) ? 0 : v.len + 1;
}

static size_t need_str(const char *s) { return s ? strlen(s) + 1 : 0; }

static char *take(struct block *b, size_t n)
{
	char *p = b->arena + b->used;
	b->used += n;
	return p;
}

static inline struct strview copy_view(struct pin *pn, struct strview v)
{
	if (stable(pn, v))
		return v;
	char *p = take(pn->b, v.len + 1);
	memcpy(p, v.ptr, v.len);
	p[v.len] = '\0';
	return sv_make(p, v.len);
}

static const char *copy_str(struct pin *pn, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	return memcpy(take(pn->b, n), s, n);
}

static bool has_event(const struct decoded_line *d)
{
	return d->type == LINE_EVENT || (d->type == LINE_ENVELOPE && d->payload_ok);
}

/* Bytes the arena needs for it (an upper bound: alignment included). */
static size_t need_of(const struct pin *pn, const struct pipeline_item *it)
{
	size_t n = need_view(pn, sv_make(it->raw, it->raw_len)) + need_str(it->message);
	if (it->kind != PIPELINE_LINE)
		return n;
	const struct decoded_line *d = &it->line;
	if (d->type == LINE_DEAD || (d->type == LINE_ENVELOPE && !d->payload_ok))
		n += need_str(d->detail);
	if (d->type == LINE_ENVELOPE)
		n += need_view(pn, d->env.topic) + need_view(pn, d->env.value);
	if (d->type == LINE_CONTROL)
		n += need_view(pn, d->control.topic);
	if (has_event(d)) {
		const struct event *ev = &d->ev;
		n += need_view(pn, ev->stream_id) + need_view(pn, ev->chatter);
		n += ALIGN + ev->n_emotes * sizeof(struct strview);
		for (size_t i = 0; i < ev->n_emotes; i++)
			n += need_view(pn, ev->emotes[i]);
	}
	return n;
}

/* Make the item in its block self-contained, in place: every view that
 * points into the decoder's buffers (or into a line the input does not
 * keep) is copied into the block's arena, which need_of() sized. */
static void settle_views(struct pin *pn, struct pipeline_item *it)
{
	it->raw = copy_view(pn, sv_make(it->raw, it->raw_len)).ptr;
	it->message = copy_str(pn, it->message);
	if (it->kind != PIPELINE_LINE)
		return;
	struct decoded_line *d = &it->line;
	if (d->type == LINE_DEAD || (d->type == LINE_ENVELOPE && !d->payload_ok))
		d->detail = copy_str(pn, d->detail);
	else
		d->detail = NULL; /* the decoder's, and not read for a good line */
	if (d->type == LINE_ENVELOPE) {
		d->env.topic = copy_view(pn, d->env.topic);
		d->env.value = copy_view(pn, d->env.value);
	}
	if (d->type == LINE_CONTROL)
		d->control.topic = copy_view(pn, d->control.topic);
	if (has_event(d)) {
		struct event *ev = &d->ev;
		ev->stream_id = copy_view(pn, ev->stream_id);
		ev->chatter = copy_view(pn, ev->chatter);
		/* Scored already (engine_score): the engine does not read it. */
		ev->message = sv_make("", 0);
		if (ev->n_emotes) {
			struct block *b = pn->b;
			b->used = (b->used + ALIGN - 1) & ~(ALIGN - 1);
			struct strview *em = (struct strview *)(void *)take(b, ev->n_emotes * sizeof(*em));
			for (size_t i = 0; i < ev->n_emotes; i++)
				em[i] = copy_view(pn, ev->emotes[i]);
			ev->emotes = em;
		} else {
			ev->emotes = NULL;
		}
	}
}

/* --- the ring ------------------------------------------------------------- */

/* Reader: hand the block being filled to the consumer and take the next
 * free one; false if the consumer wants no more. */
static bool publish(struct pipeline *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->fill && p->fill->n) {
		p->in_flight += p->fill->used;
		p->head++;
		pthread_cond_signal(&p->to_consumer);
	}
	while (!p->stop && (p->head - p->tail == PIPELINE_BLOCKS ||
	                    (p->head > p->tail && p->in_flight > PIPELINE_MAX_BYTES)))
		pthread_cond_wait(&p->to_reader, &p->mu);
	bool go = !p->stop;
	size_t cf = p->consumed_file;
	const char *ce = p->consumed_end;
	pthread_mutex_unlock(&p->mu);
	for (; p->released_files < cf && p->released_files < p->n_inputs; p->released_files++)
		input_release(p->inputs[p->released_files], NULL);
	if (ce && cf < p->n_inputs)
		input_release(p->inputs[cf], ce);
	struct block *b = &p->blocks[p->head % PIPELINE_BLOCKS];
	if (b != p->fill) {
		b->n = 0;
		b->used = 0;
		if (b->cap > 4 * ARENA_BASE) { /* once an oversized line is gone */
			free(b->arena);
			b->arena = NULL;
			b->cap = 0;
		}
	}
	p->fill = b;
	return go;
}

/* Reader: the block slot the next item is to be decoded into (the ring's
 * own memory: an item is ~300 bytes, and decoding it elsewhere cost a copy
 * and a clear of that per line); NULL if the consumer wants no more.  The
 * slot is the reader's until place() hands it over. */
static struct pipeline_item *slot(struct pipeline *p)
{
	if (p->fill->n == PIPELINE_ITEMS && !publish(p))
		return NULL;
	return &p->fill->items[p->fill->n];
}

/* Reader: make the item in slot(p) part of its block, copying what it
 * points to that would not stay (see settle_views); false if the consumer
 * wants no more.  stable_lo..stable_hi is the line's range when the input
 * keeps its lines (else NULL). */
static bool place(struct pipeline *p, struct pipeline_item *it, const char *stable_lo,
                  const char *stable_hi)
{
	struct pin pn = {stable_lo, stable_hi, p->fill};
	size_t need = need_of(&pn, it);
	struct block *b = p->fill;
	if (b->n && b->used + need > b->cap) {
		/* The arena is full: the item starts the next block (rare: a
		 * copy, of an item whose views point outside both blocks). */
		struct pipeline_item moved = *it;
		if (!publish(p))
			return false;
		b = pn.b = p->fill;
		it = &b->items[0];
		*it = moved;
	}
	if (b->used + need > b->cap) { /* b is empty: nothing points into it */
		size_t cap = need > ARENA_BASE ? need : ARENA_BASE;
		free(b->arena);
		b->arena = xmalloc(cap);
		b->cap = cap;
	}
	settle_views(&pn, it);
	b->n++;
	b->file = it->file;
	b->end = stable_hi;
	return true;
}

/* Reader: append a copy of *it (an item built outside the ring: the end
 * of a file); false if the consumer wants no more. */
static bool emit(struct pipeline *p, const struct pipeline_item *it)
{
	struct pipeline_item *s = slot(p);
	if (!s)
		return false;
	*s = *it;
	return place(p, s, NULL, NULL);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static void *reader(void *arg)
{
	struct pipeline *p = arg;
	uint64_t before = 0; /* raw bytes of the files already read */
	if (!publish(p))
		return NULL;
	for (size_t f = 0; f < p->n_inputs; f++) {
		struct input *in = p->inputs[f];
		bool stays = input_lines_stay(in);
		struct input_line line;
		struct error err;
		int got;
		while ((got = input_next(in, &line, &err)) > 0) {
			if (!line.overlong && blank(line.data, line.len))
				continue;
			struct pipeline_item *it = slot(p);
			if (!it)
				return NULL;
			/* Every field the consumer reads is set here or by
			 * record_decode, by the line's type, except an advance
			 * record's topic (and an envelope's fields on some dead
			 * paths), which settle_views would follow: those small
			 * parts are cleared, not the whole item. */
			it->file = f;
			it->line_no = line.number;
			it->progress = false;
			it->done_bytes = 0;
			it->raw = NULL;
			it->raw_len = 0;
			it->full_len = 0;
			it->status = 0;
			it->message = NULL;
			it->zero_padding = 0;
			if (line.overlong) {
				it->kind = PIPELINE_OVERLONG;
				it->full_len = line.full_len;
			} else {
				it->kind = PIPELINE_LINE;
				it->line.env = (struct capture_envelope){0};
				it->line.control = (struct capture_control){0};
				record_decode(&p->dec, line.data, line.len, true, &it->line);
				if (has_event(&it->line))
					engine_score(p->cfg, &it->line.ev);
			}
			/* An envelope's dead letters and late events carry its
			 * payload, not the line: the line need not travel. */
			if (!(it->kind == PIPELINE_LINE && it->line.type == LINE_ENVELOPE)) {
				it->raw = line.data;
				it->raw_len = line.len;
			}
			if ((line.number & 0xFFFF) == 0) {
				struct input_info info;
				input_info(in, &info);
				it->progress = true;
				it->done_bytes = before + info.raw_bytes;
			}
			if (!place(p, it, stays ? line.data : NULL, stays ? line.data + line.len : NULL))
				return NULL;
		}
		struct input_info info;
		input_info(in, &info);
		struct pipeline_item end = {.kind = PIPELINE_END, .file = f, .status = got,
		                            .zero_padding = info.zero_padding};
		if (got < 0)
			end.message = err.msg;
		if (got == INPUT_DAMAGED) {
			end.line_no = line.number;
			end.raw = line.data;
			end.raw_len = line.len;
		}
		if (!emit(p, &end))
			return NULL;
		before += info.raw_bytes;
		if (got < 0 && got != INPUT_DAMAGED)
			break;
	}
	pthread_mutex_lock(&p->mu);
	if (p->fill->n) {
		p->in_flight += p->fill->used;
		p->head++;
	}
	p->done = true;
	pthread_cond_signal(&p->to_consumer);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pipeline *pipeline_start(struct input *const *inputs, size_t n,
                                const struct core_config *cfg, struct error *err)
{
	struct pipeline *p = xcalloc(1, sizeof(*p));
	p->blocks = xcalloc(PIPELINE_BLOCKS, sizeof(*p->blocks));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->to_reader, NULL);
	pthread_cond_init(&p->to_consumer, NULL);
	p->inputs = inputs;
	p->n_inputs = n;
	p->cfg = cfg;
	p->dec.chat_topic = cfg->chat_topic;
	p->dec.viewer_topic = cfg->viewer_topic;
	for (size_t i = 0; i < n; i++)
		input_defer_release(inputs[i]);
	int rc = pthread_create(&p->thread, NULL, reader, p);
	if (rc) {
		error_set(err, "cannot start the reader thread: %s", strerror(rc));
		pipeline_free(p);
		return NULL;
	}
	p->started = true;
	return p;
}

const struct pipeline_item *pipeline_next(struct pipeline *p)
{
	if (p->cur && p->next_item < p->cur->n)
		return &p->cur->items[p->next_item++];
	pthread_mutex_lock(&p->mu);
	if (p->cur) {
		p->in_flight -= p->cur->used;
		if (p->cur->file != p->consumed_file)
			p->consumed_end = NULL;
		p->consumed_file = p->cur->file;
		if (p->cur->end)
			p->consumed_end = p->cur->end;
		p->tail++;
		p->cur = NULL;
		pthread_cond_signal(&p->to_reader);
	}
	while (p->head == p->tail && !p->done)
		pthread_cond_wait(&p->to_consumer, &p->mu);
	if (p->head > p->tail) {
		p->cur = &p->blocks[p->tail % PIPELINE_BLOCKS];
		p->next_item = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return p->cur ? &p->cur->items[p->next_item++] : NULL;
}

const struct pipeline_item *pipeline_peek(const struct pipeline *p, size_t ahead)
{
	if (!p->cur || p->next_item - 1 + ahead >= p->cur->n)
		return NULL;
	return &p->cur->items[p->next_item - 1 + ahead];
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_signal(&p->to_reader);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	for (size_t i = 0; i < PIPELINE_BLOCKS; i++)
		free(p->blocks[i].arena);
	free(p->blocks);
	record_decoder_free(&p->dec);
	pthread_cond_destroy(&p->to_reader);
	pthread_cond_destroy(&p->to_consumer);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
