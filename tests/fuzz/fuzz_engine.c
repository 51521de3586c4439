/*
 * fuzz_engine.c — the whole core, engine_line() after engine_line(), on
 * arbitrary lines: bare events, envelopes and control records mixed, under
 * one of a few configurations, with a checkpoint taken part-way.
 *
 * Input: byte 0 picks the configuration (bits 0-1), whether the rest is a
 * checkpoint to load rather than lines (bit 2), and where the checkpoint is
 * taken (bits 3-7: that many 32ths of the lines); the rest is lines.
 *
 * Invariants:
 *  - every record is accounted for once: records = control records +
 *    events accepted + dead letters;
 *  - every window row is sane (counts >= 0, unique chatters and polarity
 *    counts within the chat count, the window's bounds, averages in range);
 *  - a checkpoint round-trips: every group saved, loaded into a fresh
 *    engine and saved again gives the same text;
 *  - resuming from it changes nothing: the engine that loaded the
 *    checkpoint and read the lines after it emits exactly what the engine
 *    that read everything emitted after that point (as sets: the order of
 *    streams within one close may differ, not the rows).
 * With bit 2, the rest is given to engine_load_group() as saved state: any
 * text must be refused with a message or loaded, never crash.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "core/buf.h"
#include "core/engine.h"
#include "core/lexicon.h"
#include "fuzz.h"
#include "util/log.h"
#include "cli/options.h"

static const struct command_help help = {"fuzz", CMD_REPLAY, "", ""};

/* Everything an engine emitted, one line of text per output. */
struct record {
	char **lines;
	size_t n, cap;
	struct engine *e; /* for the window bounds check */
	const struct core_config *cfg;
};

static void add(struct record *r, struct buf *b)
{
	r->lines = grow_array(r->lines, sizeof(*r->lines), &r->cap, r->n + 1);
	r->lines[r->n++] = buf_detach(b);
}

static void sv_out(struct buf *b, struct strview s)
{
	buf_add_json_string(b, s.ptr, s.len);
	buf_addc(b, ' ');
}

static int on_window(void *ctx, const struct window_row *w)
{
	struct record *r = ctx;
	const struct window_config *wc = &r->cfg->window;
	FUZZ_CHECK(w->chat_count >= 0 && w->viewer_events >= 0 && w->chat_count + w->viewer_events > 0,
	           "counts %lld %lld", (long long)w->chat_count, (long long)w->viewer_events);
	FUZZ_CHECK(w->unique_chatters >= (w->chat_count > 0) && w->unique_chatters <= w->chat_count,
	           "unique %lld of %lld", (long long)w->unique_chatters, (long long)w->chat_count);
	FUZZ_CHECK(w->positive_count >= 0 && w->negative_count >= 0 &&
	               w->positive_count + w->negative_count <= w->chat_count,
	           "polarity");
	FUZZ_CHECK(w->start_us == w->k * wc->slide_us && w->end_us - w->start_us == wc->size_us,
	           "bounds");
	FUZZ_CHECK(w->has_sentiment == (w->chat_count > 0), "has_sentiment");
	FUZZ_CHECK(!w->has_sentiment || (w->avg_sentiment >= -1 && w->avg_sentiment <= 1),
	           "avg_sentiment %g", w->avg_sentiment);
	FUZZ_CHECK(w->has_viewers == (w->viewer_events > 0), "has_viewers");
	FUZZ_CHECK(!w->has_viewers || w->avg_viewers >= 0, "avg_viewers %g", w->avg_viewers);
	FUZZ_CHECK(w->n_top_emotes <= wc->top_k, "top emotes");
	struct buf b = BUF_INIT;
	buf_adds(&b, "W ");
	sv_out(&b, w->stream_id);
	buf_printf(&b, "%lld %lld %lld %lld %lld %lld %lld %.17g %.17g %lld %d %.17g %d", (long long)w->k,
	           (long long)w->chat_count, (long long)w->unique_chatters,
	           (long long)w->positive_count, (long long)w->negative_count,
	           (long long)w->score_sum, (long long)w->viewer_events,
	           w->has_viewers ? w->avg_viewers : 0.0, w->chat_rate, (long long)w->n_top_emotes,
	           w->has_z, w->has_z ? w->z_score : 0.0, w->is_anomaly);
	for (size_t i = 0; i < w->n_top_emotes; i++) {
		sv_out(&b, w->top_emotes[i]);
		buf_printf(&b, "%u ", w->top_emote_counts[i]);
	}
	add(r, &b);
	return 0;
}

static int on_moment(void *ctx, const struct moment *m)
{
	struct record *r = ctx;
	FUZZ_CHECK(m->time_us < m->end_us, "moment ends before it starts");
	FUZZ_CHECK(!isnan(m->intensity), "intensity");
	struct buf b = BUF_INIT;
	buf_adds(&b, "M ");
	sv_out(&b, m->stream_id);
	buf_printf(&b, "%s %lld %lld %.17g %s %s", m->type, (long long)m->time_us,
	           (long long)m->end_us, m->intensity, m->description, m->metadata);
	add(r, &b);
	return 0;
}

static int on_dead(void *ctx, const struct dead_letter *d)
{
	struct record *r = ctx;
	FUZZ_CHECK((unsigned)d->reason < DEAD_REASON_COUNT, "reason");
	struct buf b = BUF_INIT;
	buf_adds(&b, "D ");
	sv_out(&b, d->pos.source);
	buf_printf(&b, "%d %lld %s %s ", (int)d->pos.partition, (long long)d->pos.position,
	           dead_reason_name(d->reason), d->detail ? d->detail : "");
	buf_add_json_string(&b, d->raw, d->raw_len);
	add(r, &b);
	return 0;
}

static struct engine *engine_for(struct record *r, const struct core_config *cfg)
{
	struct engine_output out = {r, on_window, on_moment, on_dead, NULL, NULL};
	r->cfg = cfg;
	return r->e = engine_new(cfg, &out);
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void record_free(struct record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->lines[i]);
	free(r->lines);
}

static void check_accounting(const struct engine *e)
{
	const struct engine_stats *st = engine_stats(e);
	FUZZ_CHECK(st->records == st->controls + st->accepted + st->dead_total,
	           "records %llu != controls %llu + accepted %llu + dead %llu",
	           (unsigned long long)st->records, (unsigned long long)st->controls,
	           (unsigned long long)st->accepted, (unsigned long long)st->dead_total);
}

/* Configurations: the defaults, and small windows/histories so that
 * windows close, detectors judge and moments happen within a few lines.
 * Built once each (through the options table, as the program builds
 * them) and kept for the life of the process. */
static const struct core_config *config_for(unsigned which)
{
	static char *argv[][16] = {
		{"fuzz", NULL},
		{"fuzz", "--window", "20", "--slide", "10", "--watermark-delay", "0", "--history", "3",
		 "--min-history", "2", "--top-emotes", "2", NULL},
		{"fuzz", "--window", "10", "--slide", "10", "--history", "2", "--viewer-surge", "1",
		 "--sentiment-drop", "1", "--merge-moments", "--threshold", "0.5", NULL},
		{"fuzz", "--window", "30", "--slide", "5", "--watermark-delay", "5", "--history", "2",
		 "--min-history", "1", "--threshold", "-1", NULL},
	};
	static struct config cfg[4];
	static struct core_config core[4];
	static struct lexicon *lex[4];
	if (!lex[which]) {
		int argc = 0;
		while (argv[which][argc])
			argc++;
		config_init(&cfg[which]);
		config_load(&cfg[which], &help, argc, argv[which]);
		struct error err;
		if (!config_build_core(&cfg[which], &core[which], &lex[which], &err)) {
			fprintf(stderr, "fuzz configuration %u: %s\n", which, err.msg);
			abort();
		}
	}
	return &core[which];
}

static void feed(struct engine *e, const char *text, size_t len, int64_t *line_no, size_t *pos,
                 size_t upto)
{
	while (*pos < upto) {
		const char *start = text + *pos;
		const char *nl = memchr(start, '\n', upto - *pos);
		size_t n = nl ? (size_t)(nl - start) : upto - *pos;
		++*line_no;
		engine_line(e, SV_LIT("fuzz.jsonl"), *line_no, start, n);
		*pos += n + (nl != NULL);
	}
	(void)len;
}

static void load_garbage(const struct core_config *core, const char *text, size_t len)
{
	struct record r = {0};
	struct engine *e = engine_for(&r, core);
	struct error err = {0};
	if (engine_load_group(e, text, len, &err)) {
		int32_t parts[64];
		size_t n = engine_group_partitions(e, parts, 64);
		for (size_t i = 0; i < n && i < 64; i++)
			free(engine_save_group(e, parts[i]));
		static const char line[] =
			"{\"timestamp\":\"2025-11-23T12:00:00Z\",\"stream_id\":\"s\",\"user_id\":\"u\","
			"\"message\":\"good\"}";
		engine_line(e, SV_LIT("x"), 1, line, sizeof(line) - 1);
		engine_finish(e, true);
	} else {
		FUZZ_CHECK(err.msg[0], "a refused state without a message");
	}
	engine_free(e);
	record_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	log_set_quiet(1);
	const struct core_config *core = config_for(data[0] & 3);
	size_t len = size - 1;
	char *text = malloc(len ? len : 1);
	memcpy(text, data + 1, len);

	if (data[0] & 4) {
		load_garbage(core, text, len);
		goto out;
	}

	/* The split: after the line that holds byte len * k / 32. */
	size_t split = len * (size_t)(data[0] >> 3) / 32;
	const char *nl = split < len ? memchr(text + split, '\n', len - split) : NULL;
	split = nl ? (size_t)(nl - text) + 1 : len;

	struct record all = {0}, resumed = {0};
	struct engine *a = engine_for(&all, core);
	int64_t line_a = 0, line_b;
	size_t pos_a = 0, pos_b;
	feed(a, text, len, &line_a, &pos_a, split);
	size_t before = all.n;

	/* Checkpoint every group, load them into a fresh engine. */
	struct engine *b = engine_for(&resumed, core);
	int32_t parts[256];
	size_t n_groups = engine_group_partitions(a, parts, 256);
	for (size_t i = 0; i < n_groups && i < 256; i++) {
		char *saved = engine_save_group(a, parts[i]);
		FUZZ_CHECK(saved, "group %d listed but not saved", parts[i]);
		struct error err;
		FUZZ_CHECK(engine_load_group(b, saved, strlen(saved), &err), "group %d: %s", parts[i],
		           err.msg);
		char *again = engine_save_group(b, parts[i]);
		FUZZ_CHECK(again && strcmp(saved, again) == 0, "group %d saves differently after loading:\n%s\n%s",
		           parts[i], saved, again ? again : "(none)");
		free(saved);
		free(again);
	}
	line_b = line_a;
	pos_b = pos_a;

	feed(a, text, len, &line_a, &pos_a, len);
	feed(b, text, len, &line_b, &pos_b, len);
	engine_finish(a, true);
	engine_finish(b, true);
	check_accounting(a);

	size_t after = all.n - before;
	if (after)
		qsort(all.lines + before, after, sizeof(char *), by_text);
	if (resumed.n)
		qsort(resumed.lines, resumed.n, sizeof(char *), by_text);
	for (size_t i = 0; i < after && i < resumed.n; i++)
		FUZZ_CHECK(strcmp(all.lines[before + i], resumed.lines[i]) == 0,
		           "resuming from the checkpoint changed an output:\n  straight: %s\n  resumed:  %s",
		           all.lines[before + i], resumed.lines[i]);
	FUZZ_CHECK(after == resumed.n, "%zu outputs after the checkpoint, %zu when resumed", after,
	           resumed.n);
	engine_free(a);
	engine_free(b);
	record_free(&all);
	record_free(&resumed);
out:
	free(text);
	return 0;
}
