#include "config.h"

#include "core/engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/capture.h"
#include "core/timestamp.h"
#include "core/watermark.h"

struct engine {
	struct core_config cfg;
	struct engine_output out;
	struct event_decoder dec;
	struct buf line_scratch; /* decoded envelope/control fields */
	struct watermarks wm;
	struct windower *win;
	struct detectors *det;
	struct engine_stats stats;
	/* Partition each stream was first seen on, for the keying check. */
	int32_t *stream_partition;
	size_t stream_partition_cap;
	struct error err;
};

struct engine *engine_new(const struct core_config *cfg, const struct engine_output *out)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	e->out = *out;
	watermarks_init(&e->wm, cfg->watermark_delay_us);
	e->win = windower_new(&cfg->window);
	e->det = detectors_new(&cfg->detect);
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	event_decoder_free(&e->dec);
	buf_free(&e->line_scratch);
	watermarks_free(&e->wm);
	windower_free(e->win);
	detectors_free(e->det);
	free(e->stream_partition);
	free(e);
}

const struct engine_stats *engine_stats(const struct engine *e) { return &e->stats; }
int64_t engine_global_watermark(const struct engine *e) { return e->wm.global; }

/* --- output ------------------------------------------------------------ */

static int put_dead(struct engine *e, const struct record_pos *pos, enum dead_reason reason,
                    const char *detail, const char *raw, size_t raw_len)
{
	e->stats.dead[reason]++;
	e->stats.dead_total++;
	struct dead_letter dl = {*pos, reason, detail, raw ? raw : "", raw ? raw_len : 0};
	return e->out.dead_letter(e->out.ctx, &dl);
}

static int on_moment(void *ctx, const struct moment *m)
{
	struct engine *e = ctx;
	e->stats.moments++;
	return e->out.moment(e->out.ctx, m);
}

static int on_window(void *ctx, struct window_row *row)
{
	struct engine *e = ctx;
	int rc = detectors_on_window(e->det, row, on_moment, e);
	if (rc)
		return rc;
	e->stats.windows++;
	return e->out.window(e->out.ctx, row);
}

/* Emit whatever the global watermark has closed. */
static int settle(struct engine *e)
{
	if (e->wm.global < windower_next_close(e->win))
		return 0;
	int rc = windower_close(e->win, e->wm.global, on_window, e);
	if (!rc)
		rc = detectors_on_closed(e->det, windower_closed_k(e->win), on_moment, e);
	return rc;
}

/* --- events ------------------------------------------------------------ */

static void check_keying(struct engine *e, uint32_t stream, const struct lane *lane)
{
	if (lane->partition < 0 || !e->out.notice)
		return;
	if (stream >= e->stream_partition_cap) {
		size_t old = e->stream_partition_cap;
		e->stream_partition = grow_array(e->stream_partition, sizeof(*e->stream_partition),
		                                 &e->stream_partition_cap, (size_t)stream + 1);
		for (size_t i = old; i < e->stream_partition_cap; i++)
			e->stream_partition[i] = -1;
	}
	int32_t *seen = &e->stream_partition[stream];
	if (*seen == -1) {
		*seen = lane->partition;
	} else if (*seen >= 0 && *seen != lane->partition) {
		char msg[512];
		struct strview id = windower_stream_name(e->win, stream);
		snprintf(msg, sizeof(msg),
		         "keying error: stream \"%.*s\" arrives on partition %d of %s after partition %d; "
		         "producers must key both topics by stream_id with equal partition counts",
		         (int)id.len, id.ptr, lane->partition, lane->topic, *seen);
		e->out.notice(e->out.ctx, msg);
		*seen = -2; /* reported once */
	}
}

static int process_event(struct engine *e, uint32_t lane_idx, const struct event *ev,
                         const struct record_pos *pos, const char *raw, size_t len)
{
	const struct lane *lane = &e->wm.lanes[lane_idx];
	if (!lane->open || lane->idle)
		watermarks_open(&e->wm, lane_idx); /* a first event opens, a new one reopens */

	e->stats.chat += ev->kind == EVENT_CHAT;
	e->stats.viewer += ev->kind == EVENT_VIEWER;

	int64_t lane_wm = watermarks_lane_value(&e->wm, lane_idx);
	int64_t first_k = windower_admit(e->win, ev->time_us, lane_wm);
	int rc = 0;
	if (first_k == WINDOW_LATE) {
		char t[TIMESTAMP_BUFSZ], w[TIMESTAMP_BUFSZ], detail[160];
		int64_t behind = e->wm.global > lane_wm ? e->wm.global : lane_wm;
		timestamp_format(ev->time_us, t);
		timestamp_format(behind, w);
		snprintf(detail, sizeof(detail),
		         "event time %s reaches no open window: watermark is %s", t, w);
		rc = put_dead(e, pos, DEAD_LATE, detail, raw, len);
	} else {
		uint32_t stream = windower_stream(e->win, ev->stream_id);
		check_keying(e, stream, lane);
		if (ev->kind == EVENT_CHAT) {
			unsigned p, n;
			sentiment_count(e->cfg.lexicon, ev->message.ptr, ev->message.len, &p, &n);
			struct chat_contribution c = {sentiment_score_scaled(p, n), ev->chatter, ev->emotes,
			                              ev->n_emotes};
			windower_add_chat(e->win, stream, ev->time_us, first_k, &c);
		} else {
			windower_add_viewer(e->win, stream, ev->time_us, first_k, ev->viewer_count);
		}
		e->stats.accepted++;
	}
	watermarks_observe(&e->wm, lane_idx, ev->time_us);
	return rc ? rc : settle(e);
}

static enum event_kind kind_of_topic(const struct engine *e, struct strview topic)
{
	if (e->cfg.chat_topic && sv_eq_cstr(topic, e->cfg.chat_topic))
		return EVENT_CHAT;
	if (e->cfg.viewer_topic && sv_eq_cstr(topic, e->cfg.viewer_topic))
		return EVENT_VIEWER;
	return EVENT_UNKNOWN;
}

static int message(struct engine *e, struct strview topic, int32_t partition, int64_t offset,
                   const char *payload, size_t len)
{
	struct record_pos pos = {topic, partition, offset};
	struct event ev;
	enum dead_reason reason;

	if (!payload || len == 0)
		return put_dead(e, &pos, DEAD_NOT_JSON, "empty record", payload, len);
	if (!event_decode(&e->dec, payload, len, kind_of_topic(e, topic), &ev, &reason, &e->err))
		return put_dead(e, &pos, reason, e->err.msg, payload, len);
	return process_event(e, watermarks_lane(&e->wm, topic, partition), &ev, &pos, payload, len);
}

int engine_message(struct engine *e, struct strview topic, int32_t partition, int64_t offset,
                   const char *payload, size_t len)
{
	e->stats.records++;
	return message(e, topic, partition, offset, payload, len);
}

static int control(struct engine *e, const struct capture_control *c)
{
	e->stats.controls++;
	switch (c->kind) {
	case CONTROL_LANE_OPEN:
		return engine_lane_open(e, c->topic, c->partition);
	case CONTROL_LANE_IDLE:
		return engine_lane_idle(e, c->topic, c->partition);
	case CONTROL_LANE_CLOSE:
		return engine_lane_close(e, c->topic, c->partition);
	case CONTROL_ADVANCE:
		return engine_advance(e, c->watermark_us);
	}
	return 0;
}

int engine_line(struct engine *e, struct strview source, int64_t line_no, const char *line,
                size_t len)
{
	struct record_pos pos = {source, -1, line_no};
	struct jscan *scan = &e->dec.scan;
	e->stats.records++;

	switch (jscan_object(scan, line, len, &e->err)) {
	case JSCAN_OK:
		break;
	case JSCAN_NOT_JSON:
		return put_dead(e, &pos, len > EVENT_MAX_BYTES ? DEAD_TOO_LARGE : DEAD_NOT_JSON,
		                e->err.msg, line, len);
	case JSCAN_NOT_OBJECT:
		return put_dead(e, &pos, len > EVENT_MAX_BYTES ? DEAD_TOO_LARGE : DEAD_NOT_OBJECT,
		                e->err.msg, line, len);
	}

	enum capture_kind kind = capture_classify(scan);
	if (kind == CAPTURE_EVENT) {
		struct event ev;
		enum dead_reason reason;
		if (len > EVENT_MAX_BYTES) {
			error_set(&e->err, "record of %zu bytes is over the 1 MiB limit", len);
			return put_dead(e, &pos, DEAD_TOO_LARGE, e->err.msg, line, len);
		}
		if (!event_decode_scanned(&e->dec, len, EVENT_UNKNOWN, &ev, &reason, &e->err))
			return put_dead(e, &pos, reason, e->err.msg, line, len);
		uint32_t lane = watermarks_lane(&e->wm, SV_LIT(""), -1);
		return process_event(e, lane, &ev, &pos, line, len);
	}

	/* Envelope and control fields are decoded into line_scratch, which must
	 * not move while they are in use: reserve for the whole line. */
	buf_reset(&e->line_scratch);
	buf_reserve(&e->line_scratch, len + 16);
	if (kind == CAPTURE_CONTROL) {
		struct capture_control c;
		if (!capture_parse_control(scan, &e->line_scratch, &c, &e->err))
			return put_dead(e, &pos, DEAD_BAD_CONTROL, e->err.msg, line, len);
		return control(e, &c);
	}
	struct capture_envelope env;
	if (!capture_parse_envelope(scan, &e->line_scratch, &env, &e->err))
		return put_dead(e, &pos, DEAD_BAD_ENVELOPE, e->err.msg, line, len);
	return message(e, env.topic, env.partition, env.offset, env.value.ptr, env.value.len);
}

int engine_reject(struct engine *e, const struct record_pos *pos, enum dead_reason reason,
                  const char *detail, const char *raw, size_t raw_len)
{
	e->stats.records++;
	return put_dead(e, pos, reason, detail, raw, raw_len);
}

/* --- control ----------------------------------------------------------- */

int engine_lane_open(struct engine *e, struct strview topic, int32_t partition)
{
	watermarks_open(&e->wm, watermarks_lane(&e->wm, topic, partition));
	return settle(e);
}

int engine_lane_idle(struct engine *e, struct strview topic, int32_t partition)
{
	uint32_t lane = watermarks_find_lane(&e->wm, topic, partition);
	if (lane == LANE_NONE)
		return 0;
	watermarks_idle(&e->wm, lane);
	return settle(e);
}

int engine_lane_close(struct engine *e, struct strview topic, int32_t partition)
{
	uint32_t lane = watermarks_find_lane(&e->wm, topic, partition);
	if (lane == LANE_NONE)
		return 0;
	watermarks_close(&e->wm, lane);
	return settle(e);
}

int engine_advance(struct engine *e, int64_t watermark_us)
{
	watermarks_raise(&e->wm, watermark_us);
	return settle(e);
}

int engine_finish(struct engine *e, bool final_flush)
{
	if (!final_flush)
		return 0;
	watermarks_raise(&e->wm, TIME_POS_INF);
	int rc = settle(e);
	return rc ? rc : detectors_flush(e->det, on_moment, e);
}
