/*
 * kafka_range.c — a bounded, group-less read of Kafka partitions (see
 * kafka_range.h): metadata for the partitions, watermark offsets and
 * offsets_for_times for the two ends, assign, consume until every
 * partition has reached its end.
 */
#include "config.h"

#include "io/kafka_range.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"
#include "io/kafka_conf.h"

struct kafka_range {
	rd_kafka_t *rk;
	struct kafka_range_part *parts;
	size_t n_parts, cap_parts;
	size_t n_done;
	int64_t stop_ms; /* --to TIME: a message at or after it ends its partition; -1 */
	rd_kafka_message_t *held;
};

/* An end of the range: "earliest"/"now"/"end", a time, or (from only) a
 * list of TOPIC:PARTITION:OFFSET. */
struct bound {
	enum { B_EARLIEST, B_NOW, B_END, B_TIME, B_LIST } kind;
	int64_t time_ms;
};

static bool parse_time(const char *s, int64_t *ms)
{
	int64_t us;
	size_t n = strlen(s);
	bool number = n > 0;
	for (size_t i = 0; i < n; i++)
		number &= isdigit((unsigned char)s[i]) || s[i] == '.';
	if (!(number ? timestamp_parse_number(s, n, &us) : timestamp_parse_text(s, n, &us)))
		return false;
	*ms = us / 1000;
	return true;
}

static bool parse_bound(const char *s, bool from, struct bound *b, struct error *err)
{
	const char *opt = from ? "--from" : "--to";
	if (!s || !strcmp(s, from ? "earliest" : "now")) {
		b->kind = from ? B_EARLIEST : B_NOW;
		return true;
	}
	if (!from && !strcmp(s, "end")) {
		b->kind = B_END;
		return true;
	}
	if (parse_time(s, &b->time_ms)) {
		b->kind = B_TIME;
		return true;
	}
	if (from && strchr(s, ':') && strrchr(s, ':') != strchr(s, ':')) {
		/* TOPIC:PART:OFFSET,...; checked here, resolved at open */
		const char *p = s;
		while (*p) {
			size_t len = strcspn(p, ",");
			char *item = xstrndup(p, len);
			char *c2 = strrchr(item, ':');
			*c2 = '\0';
			char *c1 = strrchr(item, ':');
			char *e1, *e2;
			long long part = c1 ? strtoll(c1 + 1, &e1, 10) : -1;
			long long off = strtoll(c2 + 1, &e2, 10);
			bool ok = c1 && c1 != item && *e1 == '\0' && *e2 == '\0' && c1[1] && c2[1] &&
			          part >= 0 && part <= INT32_MAX && off >= 0;
			free(item);
			if (!ok) {
				error_set(err, "%s: '%.*s' is not TOPIC:PARTITION:OFFSET", opt, (int)len, p);
				return false;
			}
			p += len + (p[len] == ',');
		}
		b->kind = B_LIST;
		return true;
	}
	error_set(err,
	          "%s: expected %s, an RFC 3339 time such as 2025-11-23T12:00:00Z, epoch "
	          "seconds or milliseconds%s; got '%s'",
	          opt, from ? "earliest" : "now, end", from ? ", or TOPIC:PARTITION:OFFSET,..." : "",
	          s);
	return false;
}

bool kafka_range_check(const struct kafka_range_config *cfg, struct error *err)
{
	struct bound f, t;
	if (!parse_bound(cfg->from, true, &f, err) || !parse_bound(cfg->to, false, &t, err))
		return false;
	if (f.kind == B_TIME && t.kind == B_TIME && t.time_ms <= f.time_ms) {
		error_set(err, "--to (%s) must be later than --from (%s)", cfg->to, cfg->from);
		return false;
	}
	return kafka_conf_check(cfg->properties, cfg->n_properties, err);
}

static struct kafka_range_part *add_part(struct kafka_range *r, const char *topic, int32_t p)
{
	r->parts = grow_array(r->parts, sizeof(*r->parts), &r->cap_parts, r->n_parts + 1);
	struct kafka_range_part *part = &r->parts[r->n_parts++];
	*part = (struct kafka_range_part){xstrdup(topic), p, 0, 0, 0, false};
	return part;
}

/* offsets_for_times for every partition: the first offset with a
 * timestamp >= ms, or the partition's end (high) when there is none. */
static bool offsets_at(struct kafka_range *r, int64_t ms, int64_t *out, const int64_t *high,
                       int timeout_ms, struct error *err)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->n_parts);
	for (size_t i = 0; i < r->n_parts; i++)
		rd_kafka_topic_partition_list_add(l, r->parts[i].topic, r->parts[i].partition)->offset =
			ms;
	rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(r->rk, l, timeout_ms);
	bool ok = e == RD_KAFKA_RESP_ERR_NO_ERROR;
	if (!ok)
		error_set(err, "cannot map a time to offsets: %s", rd_kafka_err2str(e));
	for (int i = 0; ok && i < l->cnt; i++) {
		if (l->elems[i].err) {
			error_set(err, "cannot map a time to offsets of %s/%d: %s", l->elems[i].topic,
			          (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
			ok = false;
		} else {
			out[i] = l->elems[i].offset < 0 ? high[i] : l->elems[i].offset;
		}
	}
	rd_kafka_topic_partition_list_destroy(l);
	return ok;
}

struct kafka_range *kafka_range_open(const struct kafka_range_config *cfg, int timeout_ms,
                                     struct error *err)
{
	struct bound from, to;
	if (!parse_bound(cfg->from, true, &from, err) || !parse_bound(cfg->to, false, &to, err))
		return NULL;
	struct kafka_range *r = xcalloc(1, sizeof(*r));
	r->stop_ms = to.kind == B_TIME ? to.time_ms : -1;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];
	/* No group is joined (assign, not subscribe) and nothing is committed;
	 * librdkafka still wants a group.id for a consumer handle. */
	if (!kafka_conf_set(conf, "bootstrap.servers", cfg->brokers, err) ||
	    !kafka_conf_set(conf, "group.id", "telemetra-capture", err) ||
	    !kafka_conf_set(conf, "enable.auto.commit", "false", err) ||
	    !kafka_conf_set(conf, "enable.auto.offset.store", "false", err) ||
	    !kafka_conf_set(conf, "enable.partition.eof", "true", err) ||
	    !kafka_conf_set(conf, "client.id", "telemetra-capture", err) ||
	    /* librdkafka's log lines wait in the main queue for our thread
	     * (kafka_range_next serves it): log.h is not for its threads. */
	    !kafka_conf_set(conf, "log.queue", "true", err))
		goto fail_conf;
	if (!kafka_conf_apply(conf, cfg->properties, cfg->n_properties, err))
		goto fail_conf;
	rd_kafka_conf_set_log_cb(conf, kafka_conf_log);
	r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!r->rk) {
		error_set(err, "cannot create a Kafka client: %s", why);
		goto fail_conf;
	}
	rd_kafka_set_log_queue(r->rk, NULL);

	/* The partitions: listed, or every partition of the topics. */
	if (from.kind == B_LIST) {
		const char *p = cfg->from;
		while (*p) {
			size_t len = strcspn(p, ",");
			char *item = xstrndup(p, len);
			char *c2 = strrchr(item, ':');
			*c2 = '\0';
			char *c1 = strrchr(item, ':');
			*c1 = '\0';
			add_part(r, item, (int32_t)strtol(c1 + 1, NULL, 10))->start = strtoll(c2 + 1, NULL, 10);
			free(item);
			p += len + (p[len] == ',');
		}
	}
	for (size_t t = 0; t < cfg->n_topics; t++) {
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, cfg->topics[t], NULL);
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_resp_err_t e = rd_kafka_metadata(r->rk, 0, rkt, &md, timeout_ms);
		rd_kafka_topic_destroy(rkt);
		if (e) {
			error_set(err, "cannot read the partitions of topic %s from %s: %s", cfg->topics[t],
			          cfg->brokers, rd_kafka_err2str(e));
			goto fail;
		}
		const struct rd_kafka_metadata_topic *mt = md->topic_cnt ? &md->topics[0] : NULL;
		if (!mt || mt->err || mt->partition_cnt == 0) {
			error_set(err, "topic %s does not exist on %s%s%s", cfg->topics[t], cfg->brokers,
			          mt && mt->err ? ": " : "", mt && mt->err ? rd_kafka_err2str(mt->err) : "");
			rd_kafka_metadata_destroy(md);
			goto fail;
		}
		if (from.kind == B_LIST) {
			for (size_t i = 0; i < r->n_parts; i++)
				if (!strcmp(r->parts[i].topic, cfg->topics[t]) &&
				    r->parts[i].partition >= mt->partition_cnt) {
					error_set(err, "--from: topic %s has no partition %d (it has %d)",
					          cfg->topics[t], (int)r->parts[i].partition, mt->partition_cnt);
					rd_kafka_metadata_destroy(md);
					goto fail;
				}
		} else {
			for (int i = 0; i < mt->partition_cnt; i++)
				add_part(r, cfg->topics[t], mt->partitions[i].id);
		}
		rd_kafka_metadata_destroy(md);
	}
	if (from.kind == B_LIST)
		for (size_t i = 0; i < r->n_parts; i++) {
			bool known = false;
			for (size_t t = 0; t < cfg->n_topics; t++)
				known |= !strcmp(r->parts[i].topic, cfg->topics[t]);
			if (!known) {
				error_set(err, "--from: topic %s is neither --chat-topic nor --viewer-topic",
				          r->parts[i].topic);
				goto fail;
			}
		}

	/* The offsets of both ends. */
	int64_t *low = xcalloc(r->n_parts + 1, sizeof(*low));
	int64_t *high = xcalloc(r->n_parts + 1, sizeof(*high));
	int64_t *at = xcalloc(r->n_parts + 1, sizeof(*at));
	bool ok = true;
	for (size_t i = 0; i < r->n_parts && ok; i++) {
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
			r->rk, r->parts[i].topic, r->parts[i].partition, &low[i], &high[i], timeout_ms);
		if (e) {
			error_set(err, "cannot read the offsets of %s/%d: %s", r->parts[i].topic,
			          (int)r->parts[i].partition, rd_kafka_err2str(e));
			ok = false;
		}
	}
	if (ok && from.kind == B_TIME)
		ok = offsets_at(r, from.time_ms, at, high, timeout_ms, err);
	for (size_t i = 0; ok && i < r->n_parts; i++) {
		struct kafka_range_part *p = &r->parts[i];
		if (from.kind == B_EARLIEST)
			p->start = low[i];
		else if (from.kind == B_TIME)
			p->start = at[i];
		else if (p->start < low[i]) {
			error_set(err, "--from: %s:%d:%" PRId64 " is gone (the partition starts at %" PRId64
			               " now)", p->topic, (int)p->partition, p->start, low[i]);
			ok = false;
		}
	}
	if (ok && to.kind == B_TIME)
		ok = offsets_at(r, to.time_ms, at, high, timeout_ms, err);
	for (size_t i = 0; ok && i < r->n_parts; i++) {
		struct kafka_range_part *p = &r->parts[i];
		p->end = to.kind == B_NOW ? high[i] : to.kind == B_TIME ? at[i] : -1;
		p->next = p->start;
		p->done = p->end >= 0 && p->start >= p->end;
		r->n_done += p->done;
	}
	free(low);
	free(high);
	free(at);
	if (!ok)
		goto fail;

	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->n_parts);
	for (size_t i = 0; i < r->n_parts; i++)
		if (!r->parts[i].done)
			rd_kafka_topic_partition_list_add(l, r->parts[i].topic, r->parts[i].partition)->offset =
				r->parts[i].start;
	/* incremental: a partition that is done is let go on its own */
	rd_kafka_error_t *ae = l->cnt ? rd_kafka_incremental_assign(r->rk, l) : NULL;
	rd_kafka_topic_partition_list_destroy(l);
	if (ae) {
		error_set(err, "cannot assign the partitions: %s", rd_kafka_error_string(ae));
		rd_kafka_error_destroy(ae);
		goto fail;
	}
	return r;

fail_conf:
	if (!r->rk)
		rd_kafka_conf_destroy(conf);
fail:
	kafka_range_close(r);
	return NULL;
}

const struct kafka_range_part *kafka_range_parts(const struct kafka_range *r, size_t *n)
{
	*n = r->n_parts;
	return r->parts;
}

int64_t kafka_range_size(const struct kafka_range *r)
{
	int64_t n = 0;
	for (size_t i = 0; i < r->n_parts; i++) {
		if (r->parts[i].end < 0)
			return -1;
		n += r->parts[i].end - r->parts[i].start;
	}
	return n;
}

static struct kafka_range_part *part_of(struct kafka_range *r, const char *topic, int32_t p)
{
	for (size_t i = 0; i < r->n_parts; i++)
		if (r->parts[i].partition == p && !strcmp(r->parts[i].topic, topic))
			return &r->parts[i];
	return NULL;
}

static void finish_part(struct kafka_range *r, struct kafka_range_part *p)
{
	if (p->done)
		return;
	p->done = true;
	r->n_done++;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
	rd_kafka_error_t *e = rd_kafka_incremental_unassign(r->rk, l);
	if (e)
		rd_kafka_error_destroy(e); /* its messages are skipped anyway */
	rd_kafka_topic_partition_list_destroy(l);
}

int kafka_range_next(struct kafka_range *r, struct kafka_message *msg, int timeout_ms,
                     struct error *err)
{
	if (r->held) {
		rd_kafka_message_destroy(r->held);
		r->held = NULL;
	}
	int waited = 0;
	while (r->n_done < r->n_parts) {
		rd_kafka_poll(r->rk, 0); /* the log lines queued for us */
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 100);
		if (!m) {
			if ((waited += 100) >= timeout_ms) {
				error_set(err, "no message from Kafka for %d s while %zu partition%s still "
				               "had messages to read",
				          timeout_ms / 1000, r->n_parts - r->n_done,
				          r->n_parts - r->n_done == 1 ? "" : "s");
				return -1;
			}
			continue;
		}
		waited = 0;
		struct kafka_range_part *p =
			m->rkt ? part_of(r, rd_kafka_topic_name(m->rkt), m->partition) : NULL;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* caught up: the end of a live range, or a range whose end
			 * offset is beyond what the broker still has */
			if (p && (p->end < 0 || m->offset >= p->end))
				finish_part(r, p);
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err) {
			error_set(err, "Kafka: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			return -1;
		}
		if (!p || p->done || (p->end >= 0 && m->offset >= p->end)) {
			if (p)
				finish_part(r, p);
			rd_kafka_message_destroy(m);
			continue;
		}
		rd_kafka_timestamp_type_t tstype;
		int64_t ts = rd_kafka_message_timestamp(m, &tstype);
		if (r->stop_ms >= 0 && ts >= r->stop_ms) {
			/* The first message at or after --to: offsets_for_times
			 * names this very offset as the end (the same rule, "the
			 * first offset whose timestamp is >= T"), so on a broker
			 * that answers it this never triggers; brokers that do not
			 * (librdkafka's mock cluster) end the range here instead. */
			finish_part(r, p);
			rd_kafka_message_destroy(m);
			continue;
		}
		p->next = m->offset + 1;
		if (p->end >= 0 && p->next >= p->end)
			finish_part(r, p);
		*msg = (struct kafka_message){
			.topic = sv_make(p->topic, strlen(p->topic)),
			.partition = m->partition,
			.offset = m->offset,
			.timestamp_ms = ts,
			.key = m->key,
			.key_len = m->key_len,
			.payload = m->payload,
			.len = m->len,
		};
		r->held = m;
		return 1;
	}
	return 0;
}

char *kafka_range_json(const struct kafka_range *r, const char *brokers)
{
	json_t *list = json_array();
	for (size_t i = 0; i < r->n_parts; i++) {
		const struct kafka_range_part *p = &r->parts[i];
		/* to_offset: where the read ended (the first offset not read) */
		int64_t to = p->end >= 0 && r->stop_ms < 0 ? p->end : p->next;
		json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:I, s:I}", "kafka", brokers,
		                                      "topic", p->topic, "partition", (int)p->partition,
		                                      "from_offset", (json_int_t)p->start, "to_offset",
		                                      (json_int_t)to));
	}
	char *text = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return text;
}

void kafka_range_close(struct kafka_range *r)
{
	if (!r)
		return;
	if (r->held)
		rd_kafka_message_destroy(r->held);
	if (r->rk) {
		rd_kafka_consumer_close(r->rk);
		rd_kafka_poll(r->rk, 0); /* the last log lines, e.g. why a broker failed */
		rd_kafka_destroy(r->rk);
	}
	for (size_t i = 0; i < r->n_parts; i++)
		free(r->parts[i].topic);
	free(r->parts);
	free(r);
}
