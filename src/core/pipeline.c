/*
 * pipeline.c — a detection stage that stands on its own behind the seam
 * (core/pipeline.h), for callers that replay a recorded windowing into
 * detectors outside an engine (tune).  It maps each seam call to the
 * detector call the engine makes for it; groups are few (partitions), so
 * a linear search finds a group's detectors.
 */
#include "config.h"

#include "core/pipeline.h"

#include <stdlib.h>

struct group_detectors {
	int32_t group;
	struct detectors *det; /* owned */
};

struct detection {
	struct detect_config cfg;
	enum detection_mode mode;
	struct row_verdicts *verdicts; /* the caller's */
	size_t n_verdicts, next_row;
	moment_emit_fn emit;
	void *emit_ctx;
	bool bare; /* detection_set_bare_moments */
	struct group_detectors *groups;
	size_t n_groups, cap_groups;
	struct group_detectors *last; /* rows come in runs of one group */
};

struct detection *detection_new(const struct detect_config *cfg, enum detection_mode mode,
                                struct row_verdicts *verdicts, size_t n_verdicts,
                                moment_emit_fn emit, void *emit_ctx)
{
	struct detection *d = xcalloc(1, sizeof(*d));
	d->cfg = *cfg;
	d->mode = mode;
	d->verdicts = verdicts;
	d->n_verdicts = n_verdicts;
	d->emit = emit;
	d->emit_ctx = emit_ctx;
	return d;
}

void detection_set_bare_moments(struct detection *d) { d->bare = true; }

void detection_free(struct detection *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_groups; i++)
		detectors_free(d->groups[i].det);
	free(d->groups);
	free(d);
}

/* The group's detectors, made on first use (owned by d). */
static struct detectors *group_detectors(struct detection *d, int32_t group)
{
	if (d->last && d->last->group == group)
		return d->last->det;
	for (size_t i = 0; i < d->n_groups; i++)
		if (d->groups[i].group == group) {
			d->last = &d->groups[i];
			return d->last->det;
		}
	d->groups = grow_array(d->groups, sizeof(*d->groups), &d->cap_groups, d->n_groups + 1);
	d->groups[d->n_groups] = (struct group_detectors){group, detectors_new(&d->cfg)};
	if (d->bare)
		detectors_set_bare_moments(d->groups[d->n_groups].det);
	d->last = &d->groups[d->n_groups++];
	return d->last->det;
}

static int on_row(void *ctx, int32_t group, struct window_row *row)
{
	struct detection *d = ctx;
	struct detectors *det = group_detectors(d, group);
	if (d->mode == DETECTION_FULL)
		return detectors_on_window(det, row, d->emit, d->emit_ctx);
	if (d->next_row >= d->n_verdicts)
		abort(); /* more rows than verdicts: the caller's bug (no I/O here to say so) */
	struct row_verdicts *v = &d->verdicts[d->next_row++];
	if (d->mode == DETECTION_JUDGE) {
		detectors_judge(det, row, v);
		return 0;
	}
	return detectors_decide(det, row, v, d->emit, d->emit_ctx);
}

static int on_closed(void *ctx, int32_t group, int64_t closed_k)
{
	struct detection *d = ctx;
	return detectors_on_closed(group_detectors(d, group), closed_k, d->emit, d->emit_ctx);
}

static int on_end(void *ctx, int32_t group)
{
	struct detection *d = ctx;
	return detectors_flush(group_detectors(d, group), d->emit, d->emit_ctx);
}

static int64_t on_release(void *ctx, int32_t group, uint32_t stream, int64_t closed_k)
{
	struct detection *d = ctx;
	return detectors_release_stream(group_detectors(d, group), stream, closed_k);
}

static void on_drop(void *ctx, int32_t group)
{
	struct detection *d = ctx;
	for (size_t i = 0; i < d->n_groups; i++)
		if (d->groups[i].group == group) {
			detectors_free(d->groups[i].det);
			d->groups[i] = d->groups[--d->n_groups];
			d->last = NULL;
			return;
		}
}

struct seam detection_seam(struct detection *d)
{
	return (struct seam){d, on_row, on_closed, on_end, on_release, on_drop};
}
