/*
 * fingerprint.c — the options a saved state depends on (see fingerprint.h),
 * and how a restart compares them.
 *
 * The fingerprint is a JSON object {option name: value} over state_options
 * below, with values as config_to_json() gives them (an option that is not
 * set is null) and lexicon files replaced by the SHA-256 of the lexicon's
 * text, so that editing a lexicon file in place counts as a change.
 */
#include "config.h"

#include "cli/fingerprint.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lexicon.h"
#include "util/sha256.h"

/*
 * THE list.  incompatible: the state holds something computed with the old
 * value (pane boundaries, lane watermarks, scores summed into panes, lanes
 * per topic, detector histories of that length, open merged runs); safe:
 * read only when a window is judged or emitted.  A new option that lives in
 * the state is one line here.
 */
static const struct {
	const char *name;
	bool safe;
} state_options[] = {
	{"window", false},
	{"slide", false},
	{"watermark-delay", false},
	{"lexicon-positive", false},
	{"lexicon-negative", false},
	{"chat-topic", false},
	{"viewer-topic", false},
	{"history", false},
	{"merge-moments", false},
	{"detector", false},  /* the history's shape and meaning */
	{"metric", false},    /* what the history counts */
	{"baseline", false},  /* the history's length */
	{"long-span", false}, /* panes summed from the history */
	{"fresh-span", false}, /* how far back chatters' last messages are kept */
	{"min-baseline", true},
	{"dispersion", true},
	{"min-excess", true},
	{"min-fano", true},
	{"fence", true},
	{"min-history", true},
	{"min-stddev", true},
	{"threshold", true},
	{"top-emotes", true},
	{"viewer-surge", true},
	{"viewer-surge-min-stddev", true},
	{"sentiment-drop", true},
	{"sentiment-drop-min-stddev", true},
};
#define N_STATE_OPTIONS (sizeof(state_options) / sizeof(state_options[0]))

/*
 * Options listed after states were first saved whose default has changed
 * since: a saved fingerprint that does not name one was made with the value
 * given here (JSON), not with today's default.  "detector" was listed when
 * the default became pane; a state from before holds the seed's history.
 */
static const struct {
	const char *name, *value;
} unnamed_values[] = {
	{"detector", "\"seed\""},
};

/* The value a fingerprint that does not name `name` implies, as a new
 * reference (the caller's), or NULL: the option's default, as today. */
static json_t *unnamed_value(const char *name)
{
	for (size_t i = 0; i < sizeof(unnamed_values) / sizeof(unnamed_values[0]); i++)
		if (!strcmp(unnamed_values[i].name, name))
			return json_loads(unnamed_values[i].value, JSON_DECODE_ANY, NULL);
	return NULL;
}

/* "sha256:HEX" of a lexicon file, or of the built-in list when path is
 * NULL; NULL with err set if the file cannot be read. */
static char *lexicon_digest(const char *path, const char *builtin, struct error *err)
{
	struct sha256 h;
	sha256_init(&h);
	if (!path) {
		sha256_update(&h, builtin, strlen(builtin));
	} else {
		FILE *f = fopen(path, "rb");
		if (!f) {
			error_set(err, "cannot read the lexicon %s for the checkpoint fingerprint", path);
			sha256_free(&h);
			return NULL;
		}
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			sha256_update(&h, chunk, n);
		fclose(f);
	}
	char hex[65];
	sha256_hex(&h, hex);
	sha256_free(&h);
	char *out = xmalloc(7 + 65);
	snprintf(out, 7 + 65, "sha256:%s", hex);
	return out;
}

char *fingerprint_of(const struct config *c, struct error *err)
{
	json_t *all = config_to_json(c, CMD_LIVE, false);
	json_t *fp = json_object();
	char *text = NULL;
	for (size_t i = 0; i < N_STATE_OPTIONS; i++) {
		const char *name = state_options[i].name;
		json_t *v = json_object_get(all, name);
		if (!strncmp(name, "lexicon-", 8)) {
			bool pos = !strcmp(name, "lexicon-positive");
			char *digest = lexicon_digest(json_string_value(v),
			                              pos ? lexicon_default_positive
			                                  : lexicon_default_negative,
			                              err);
			if (!digest)
				goto out;
			json_object_set_new(fp, name, json_string(digest));
			free(digest);
		} else {
			json_object_set(fp, name, v ? v : json_null());
		}
	}
	text = json_dumps(fp, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
out:
	json_decref(fp);
	json_decref(all);
	return text;
}

static void add_change(struct buf *b, const char *name, const json_t *was, const json_t *now)
{
	char *w = json_dumps(was ? was : json_null(), JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	char *n = json_dumps(now ? now : json_null(), JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	buf_printf(b, "%s--%s %s -> %s", b->len ? "; " : "", name,
	           json_is_null(was) || !was ? "unset" : w, json_is_null(now) || !now ? "unset" : n);
	free(w);
	free(n);
}

enum fingerprint_verdict fingerprint_compare(const char *saved, const char *current,
                                             struct buf *incompatible, struct buf *safe)
{
	json_t *old = saved ? json_loads(saved, 0, NULL) : NULL;
	json_t *now = json_loads(current, 0, NULL);
	if (!json_is_object(old)) {
		json_decref(old);
		json_decref(now);
		return FINGERPRINT_UNKNOWN;
	}
	bool bad = false, changed = false;
	for (size_t i = 0; i < N_STATE_OPTIONS; i++) {
		const char *name = state_options[i].name;
		json_t *a = json_object_get(old, name), *b = json_object_get(now, name);
		/* An option this build lists but the saved state does not name was
		 * added since: the state was made with its unnamed_value or, when
		 * there is none, with its default, the same as today's. */
		json_t *implied = a ? NULL : unnamed_value(name);
		if (implied)
			a = implied;
		if (!a)
			continue;
		if (json_equal(a, b) || (json_is_null(a) && !b)) {
			json_decref(implied);
			continue;
		}
		add_change(state_options[i].safe ? safe : incompatible, name, a, b);
		json_decref(implied);
		bad |= !state_options[i].safe;
		changed = true;
	}
	json_decref(old);
	json_decref(now);
	return bad ? FINGERPRINT_INCOMPATIBLE : changed ? FINGERPRINT_SAFE_CHANGES : FINGERPRINT_SAME;
}
