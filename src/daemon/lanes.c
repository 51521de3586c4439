/*
 * lanes.c — the live daemon's table of lanes (see lanes.h): a growing
 * array searched linearly, the last lane tried first because messages come
 * in runs from one partition.
 */
#include "config.h"

#include "daemon/lanes.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"

struct lane *lanes_find(struct lanes *t, const char *topic, size_t topic_len,
                        int32_t partition)
{
	struct lane *last = t->last;
	if (last && last->partition == partition && strlen(last->topic) == topic_len &&
	    !memcmp(last->topic, topic, topic_len))
		return last;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].partition == partition && strlen(t->v[i].topic) == topic_len &&
		    !memcmp(t->v[i].topic, topic, topic_len))
			return t->last = &t->v[i];
	t->v = grow_array(t->v, sizeof(*t->v), &t->cap, t->n + 1);
	t->v[t->n] = (struct lane){.topic = xstrndup(topic, topic_len), .partition = partition,
	                           .next_offset = -1};
	return t->last = &t->v[t->n++];
}

void lanes_summary(const struct lanes *t, bool (*pick)(const struct lane *), struct buf *out)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!pick(&t->v[i]))
			continue;
		bool first_of_topic = true;
		for (size_t j = 0; j < i; j++)
			if (pick(&t->v[j]) && !strcmp(t->v[j].topic, t->v[i].topic))
				first_of_topic = false;
		if (!first_of_topic)
			continue;
		buf_printf(out, "%s%s [", out->len ? ", " : "", t->v[i].topic);
		const char *sep = "";
		for (size_t j = i; j < t->n; j++) {
			if (pick(&t->v[j]) && !strcmp(t->v[j].topic, t->v[i].topic)) {
				buf_printf(out, "%s%d", sep, t->v[j].partition);
				sep = " ";
			}
		}
		buf_addc(out, ']');
	}
}

bool lane_is_owned(const struct lane *l) { return l->owned; }

bool lanes_own_partition(const struct lanes *t, int32_t partition)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].owned && t->v[i].partition == partition)
			return true;
	return false;
}

void lanes_free(struct lanes *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].topic);
	free(t->v);
	*t = (struct lanes){0};
}
