/*
 * record.c — classify and decode one line of an event file, once, for
 * replay and tune alike (see record.h); and the set of lanes files name.
 */
#include "config.h"

#include "core/record.h"

#include <stdlib.h>
#include <string.h>

void record_decoder_free(struct record_decoder *d)
{
	event_decoder_free(&d->dec);
	buf_free(&d->line_scratch);
}

enum event_kind record_kind_of_topic(const struct record_decoder *d, struct strview topic)
{
	if (d->chat_topic && sv_eq_cstr(topic, d->chat_topic))
		return EVENT_CHAT;
	if (d->viewer_topic && sv_eq_cstr(topic, d->viewer_topic))
		return EVENT_VIEWER;
	return EVENT_UNKNOWN;
}

bool record_decode_message(struct record_decoder *d, struct strview topic, const char *payload,
                           size_t len, struct event *ev, enum dead_reason *reason)
{
	if (!payload || len == 0) {
		error_set(&d->err, "empty record");
		*reason = DEAD_NOT_JSON;
		return false;
	}
	return event_decode(&d->dec, payload, len, record_kind_of_topic(d, topic), ev, reason,
	                    &d->err);
}

static void dead(struct record_decoder *d, struct decoded_line *out, enum dead_reason reason)
{
	out->type = LINE_DEAD;
	out->reason = reason;
	out->detail = d->err.msg;
}

void record_decode(struct record_decoder *d, const char *line, size_t len, bool decode_payload,
                   struct decoded_line *out)
{
	struct jscan *scan = &d->dec.scan;
	out->payload_ok = false;
	out->detail = d->err.msg;

	switch (jscan_object(scan, line, len, &d->err)) {
	case JSCAN_OK:
		break;
	case JSCAN_NOT_JSON:
		dead(d, out, len > EVENT_MAX_BYTES ? DEAD_TOO_LARGE : DEAD_NOT_JSON);
		return;
	case JSCAN_NOT_OBJECT:
		dead(d, out, len > EVENT_MAX_BYTES ? DEAD_TOO_LARGE : DEAD_NOT_OBJECT);
		return;
	}

	enum capture_kind kind = capture_classify(scan);
	if (kind == CAPTURE_EVENT) {
		if (len > EVENT_MAX_BYTES) {
			error_set(&d->err, "record of %zu bytes is over the 1 MiB limit", len);
			dead(d, out, DEAD_TOO_LARGE);
		} else if (!event_decode_scanned(&d->dec, len, EVENT_UNKNOWN, &out->ev, &out->reason,
		                                 &d->err)) {
			dead(d, out, out->reason);
		} else {
			out->type = LINE_EVENT;
		}
		return;
	}

	/* Envelope and control fields are decoded into line_scratch, which must
	 * not move while they are in use: reserve for the whole line. */
	buf_reset(&d->line_scratch);
	buf_reserve(&d->line_scratch, len + 16);
	if (kind == CAPTURE_CONTROL) {
		if (!capture_parse_control(scan, &d->line_scratch, &out->control, &d->err))
			dead(d, out, DEAD_BAD_CONTROL);
		else
			out->type = LINE_CONTROL;
		return;
	}
	if (!capture_parse_envelope(scan, &d->line_scratch, &out->env, &d->err)) {
		dead(d, out, DEAD_BAD_ENVELOPE);
		return;
	}
	out->type = LINE_ENVELOPE;
	/* The payload is scanned with the same jscan: the envelope's views
	 * point into the line or line_scratch, never into the scan. */
	if (decode_payload)
		out->payload_ok = record_decode_message(d, out->env.topic, out->env.value.ptr,
		                                        out->env.value.len, &out->ev, &out->reason);
}

/* --- lane set -------------------------------------------------------------- */

static uint64_t lane_hash(struct strview topic, int32_t partition)
{
	return hash_bytes(topic.ptr, topic.len) ^ ((uint64_t)(uint32_t)partition * UINT64_C(0x9E3779B97F4A7C15));
}

static void rehash(struct lane_set *set, size_t slots)
{
	free(set->slots);
	set->slots = xcalloc(slots, sizeof(*set->slots));
	set->mask = slots - 1;
	for (size_t i = 0; i < set->n; i++) {
		const struct lane_seen *l = &set->lanes[i];
		size_t h = (size_t)lane_hash(sv_make(l->topic, l->topic_len), l->partition) & set->mask;
		while (set->slots[h])
			h = (h + 1) & set->mask;
		set->slots[h] = (uint32_t)i + 1;
	}
}

void lane_set_add(struct lane_set *set, struct strview topic, int32_t partition, bool open_record)
{
	if (!set->slots)
		rehash(set, 64);
	size_t h = (size_t)lane_hash(topic, partition) & set->mask;
	for (uint32_t s; (s = set->slots[h]); h = (h + 1) & set->mask) {
		struct lane_seen *l = &set->lanes[s - 1];
		if (l->partition == partition && sv_eq(sv_make(l->topic, l->topic_len), topic)) {
			l->has_open_record |= open_record;
			return;
		}
	}
	set->lanes = grow_array(set->lanes, sizeof(*set->lanes), &set->cap, set->n + 1);
	set->lanes[set->n] = (struct lane_seen){xstrndup(topic.ptr, topic.len), topic.len, partition,
	                                        open_record};
	set->slots[h] = (uint32_t)++set->n;
	if (set->n * 2 > set->mask)
		rehash(set, (set->mask + 1) * 2);
}

void lane_set_note(struct lane_set *set, const struct decoded_line *r)
{
	if (r->type == LINE_ENVELOPE)
		lane_set_add(set, r->env.topic, r->env.partition, false);
	else if (r->type == LINE_CONTROL && r->control.kind != CONTROL_ADVANCE)
		lane_set_add(set, r->control.topic, r->control.partition,
		             r->control.kind == CONTROL_LANE_OPEN);
}

void lane_set_free(struct lane_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->lanes[i].topic);
	free(set->lanes);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}
