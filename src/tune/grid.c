/*
 * grid.c — parsing `tune --grid NAME=VALUES` and `--grid-file FILE`.
 *
 * See grid.h for the accepted forms.  The parser only splits text; whether
 * a value is acceptable for its option is decided by config_set(), tried on
 * a scratch copy of the base configuration while the dimension is added.
 */
#include "config.h"

#include "tune/grid.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define RANGE_MAX_DECIMALS 9
#define RANGE_MAX_MAGNITUDE INT64_C(1000000000000000) /* scaled |value| bound */

static const char forms_hint[] =
	"VALUES is a comma list such as 2,2.5,3 or a range START:STOP:STEP such as 2:4:0.5";

void grid_free(struct grid *g)
{
	for (size_t d = 0; d < g->n_dims; d++) {
		for (size_t v = 0; v < g->dims[d].n_values; v++)
			free(g->dims[d].values[v]);
		free(g->dims[d].values);
		free(g->dims[d].name);
	}
	free(g->dims);
	memset(g, 0, sizeof(*g));
}

size_t grid_size(const struct grid *g)
{
	size_t n = 1;
	for (size_t d = 0; d < g->n_dims; d++)
		n *= g->dims[d].n_values; /* bounded by GRID_MAX_CONFIGS when added */
	return n;
}

const char *grid_value(const struct grid *g, size_t i, size_t d)
{
	/* The last dimension varies fastest: peel indexes off from the end. */
	for (size_t k = g->n_dims; k-- > d + 1;)
		i /= g->dims[k].n_values;
	return g->dims[d].values[i % g->dims[d].n_values];
}

bool grid_apply(const struct grid *g, size_t i, struct config *c, struct error *err)
{
	for (size_t d = 0; d < g->n_dims; d++) {
		char origin[128];
		snprintf(origin, sizeof(origin), "--grid %s", g->dims[d].name);
		if (!config_set(c, CMD_TUNE, g->dims[d].name, grid_value(g, i, d), origin, err))
			return false;
	}
	return true;
}

bool grid_varies(const struct grid *g, const char *name)
{
	for (size_t d = 0; d < g->n_dims; d++)
		if (!strcmp(g->dims[d].name, name))
			return true;
	return false;
}

/* --- building a dimension ------------------------------------------------ */

/* A dimension under construction: owns its values until added. */
struct values {
	char **v;
	size_t n, cap;
};

static void values_push(struct values *vs, char *owned)
{
	vs->v = grow_array(vs->v, sizeof(*vs->v), &vs->cap, vs->n + 1);
	vs->v[vs->n++] = owned;
}

static void values_free(struct values *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i]);
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

static void tunable_list(struct buf *out)
{
	const char *names[64];
	size_t n = config_tunable_names(names, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < n && i < sizeof(names) / sizeof(names[0]); i++)
		buf_printf(out, "%s%s", i ? ", " : "", names[i]);
}

/* Check name and every value, then take ownership of vs into the grid. */
static bool add_dim(struct grid *g, const char *name, struct values *vs, const char *origin,
                    const struct config *base, struct error *err)
{
	if (!config_is_tunable(name)) {
		struct buf names = BUF_INIT;
		tunable_list(&names);
		error_set(err, "%s: \"%s\" is not an option the grid can vary; it can vary %s", origin,
		          name, names.data);
		buf_free(&names);
		return false;
	}
	if (grid_varies(g, name)) {
		error_set(err, "%s: \"%s\" is in the grid twice; give all its values in one list",
		          origin, name);
		return false;
	}
	if (vs->n == 0) {
		error_set(err, "%s: no values; %s", origin, forms_hint);
		return false;
	}
	size_t size = grid_size(g);
	if (vs->n > GRID_MAX_CONFIGS / size) {
		error_set(err, "%s: the grid would have more than %d configurations", origin,
		          GRID_MAX_CONFIGS);
		return false;
	}
	struct config scratch;
	config_copy(&scratch, base);
	bool ok = true;
	for (size_t i = 0; i < vs->n && ok; i++)
		ok = config_set(&scratch, CMD_TUNE, name, vs->v[i], origin, err);
	config_free(&scratch);
	if (!ok)
		return false;

	g->dims = xrealloc(g->dims, (g->n_dims + 1) * sizeof(*g->dims));
	g->dims[g->n_dims++] = (struct grid_dim){xstrdup(name), vs->v, vs->n};
	memset(vs, 0, sizeof(*vs));
	return true;
}

/* A decimal number as value / 10^decimals: [-]digits[.digits]. */
struct decimal {
	int64_t value;
	int decimals;
};

static bool parse_decimal(const char *s, size_t n, struct decimal *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	int64_t v = 0;
	int digits = 0, decimals = -1;
	for (; i < n; i++) {
		if (s[i] == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (decimals >= 0 && ++decimals > RANGE_MAX_DECIMALS)
			return false;
		v = v * 10 + (s[i] - '0');
		if (v >= RANGE_MAX_MAGNITUDE)
			return false;
		digits++;
	}
	if (digits == 0 || decimals == 0)
		return false;
	out->value = neg ? -v : v;
	out->decimals = decimals < 0 ? 0 : decimals;
	return true;
}

/* d as a multiple of 10^-decimals (decimals >= d.decimals) into *out;
 * false if it does not fit the range arithmetic. */
static bool rescale(struct decimal d, int decimals, int64_t *out)
{
	int64_t v = d.value;
	for (int i = d.decimals; i < decimals; i++) {
		if (v > RANGE_MAX_MAGNITUDE || v < -RANGE_MAX_MAGNITUDE)
			return false;
		v *= 10;
	}
	*out = v;
	return true;
}

/* The shortest decimal text of v / 10^decimals: 2, 2.5, -0.25. */
static char *decimal_text(int64_t v, int decimals)
{
	int64_t scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	uint64_t mag = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
	uint64_t whole = mag / (uint64_t)scale, frac = mag % (uint64_t)scale;
	char text[64];
	int len = snprintf(text, sizeof(text), "%s%" PRIu64, v < 0 ? "-" : "", whole);
	if (frac) {
		char digits[RANGE_MAX_DECIMALS + 1];
		size_t nd = (size_t)decimals;
		for (size_t k = nd; k-- > 0; frac /= 10)
			digits[k] = (char)('0' + frac % 10);
		digits[nd] = '\0';
		while (nd > 0 && digits[nd - 1] == '0')
			digits[--nd] = '\0';
		snprintf(text + len, sizeof(text) - (size_t)len, ".%s", digits);
	}
	return xstrdup(text);
}

static bool parse_range(const char *text, const char *origin, struct values *vs,
                        struct error *err)
{
	const char *c1 = strchr(text, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	struct decimal start, stop, step;
	if (!c1 || !c2 || strchr(c2 + 1, ':') ||
	    !parse_decimal(text, (size_t)(c1 - text), &start) ||
	    !parse_decimal(c1 + 1, (size_t)(c2 - c1 - 1), &stop) ||
	    !parse_decimal(c2 + 1, strlen(c2 + 1), &step)) {
		error_set(err,
		          "%s: bad range '%s'; a range is START:STOP:STEP in plain decimals (at most %d "
		          "after the point), such as 2:4:0.5",
		          origin, text, RANGE_MAX_DECIMALS);
		return false;
	}
	int decimals = start.decimals;
	if (stop.decimals > decimals)
		decimals = stop.decimals;
	if (step.decimals > decimals)
		decimals = step.decimals;
	int64_t a, b, s;
	if (!rescale(start, decimals, &a) || !rescale(stop, decimals, &b) ||
	    !rescale(step, decimals, &s)) {
		error_set(err, "%s: range '%s' has too many digits", origin, text);
		return false;
	}
	if (s <= 0 || b < a) {
		error_set(err, "%s: bad range '%s'; a range START:STOP:STEP needs START <= STOP and "
		               "STEP > 0, such as 2:4:0.5",
		          origin, text);
		return false;
	}
	if ((b - a) / s >= GRID_MAX_CONFIGS) {
		error_set(err, "%s: range '%s' has more than %d values", origin, text, GRID_MAX_CONFIGS);
		return false;
	}
	for (int64_t v = a; v <= b; v += s)
		values_push(vs, decimal_text(v, decimals));
	return true;
}

static bool parse_list(const char *text, const char *origin, struct values *vs,
                       struct error *err)
{
	const char *p = text;
	for (;;) {
		size_t n = strcspn(p, ",");
		const char *a = p, *b = p + n;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (a == b) {
			error_set(err, "%s: empty value in '%s'; %s", origin, text, forms_hint);
			return false;
		}
		values_push(vs, xstrndup(a, (size_t)(b - a)));
		if (!p[n])
			return true;
		p += n + 1;
	}
}

/* VALUES of a --grid: a range if it has a ':', else a comma list. */
static bool parse_values(const char *text, const char *origin, struct values *vs,
                         struct error *err)
{
	if (strchr(text, ':'))
		return parse_range(text, origin, vs, err);
	return parse_list(text, origin, vs, err);
}

bool grid_add_spec(struct grid *g, const char *spec, const struct config *base,
                   struct error *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec) {
		error_set(err, "--grid '%s': expected NAME=VALUES, such as threshold=2,2.5,3 or "
		               "threshold=2:4:0.5",
		          spec);
		return false;
	}
	char *name = xstrndup(spec, (size_t)(eq - spec));
	char origin[160];
	snprintf(origin, sizeof(origin), "--grid %s", name);
	struct values vs = {0};
	bool ok = parse_values(eq + 1, origin, &vs, err) && add_dim(g, name, &vs, origin, base, err);
	values_free(&vs);
	free(name);
	return ok;
}

bool grid_add_file(struct grid *g, const char *path, const struct config *base,
                   struct error *err)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) {
		if (jerr.line < 0)
			error_set(err, "--grid-file %s: %s", path, jerr.text);
		else
			error_set(err, "--grid-file %s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return false;
	}
	bool ok = json_is_object(root);
	if (!ok)
		error_set(err, "--grid-file %s: expected a JSON object such as "
		               "{\"threshold\": \"2:4:0.5\", \"window\": [30, 60]}",
		          path);
	const char *name;
	json_t *v;
	json_object_foreach(root, name, v) {
		if (!ok)
			break;
		char origin[600];
		snprintf(origin, sizeof(origin), "--grid-file %s: \"%s\"", path, name);
		struct values vs = {0};
		if (json_is_string(v) && strchr(json_string_value(v), ':')) {
			ok = parse_range(json_string_value(v), origin, &vs, err);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *item;
			json_array_foreach(v, i, item) {
				char *text = config_value_text(item);
				if (!text || !*text) {
					error_set(err, "%s: item %zu is not a number, string or boolean", origin,
					          i + 1);
					free(text);
					ok = false;
					break;
				}
				values_push(&vs, text);
			}
		} else {
			char *text = config_value_text(v);
			if (text && *text) {
				values_push(&vs, text);
			} else {
				free(text);
				error_set(err, "%s: expected a list of values, a range \"START:STOP:STEP\" or "
				               "one value",
				          origin);
				ok = false;
			}
		}
		ok = ok && add_dim(g, name, &vs, origin, base, err);
		values_free(&vs);
	}
	json_decref(root);
	return ok;
}
