/*
 * dump.c — the canonical dump (see dump.h): the canonicaliser only.  Each
 * database's adapter fetches cells (dump_sqlite.c, dump_postgres.c) and
 * hands them to dump_with(); the command picks the adapter by target.
 */
#include "config.h"

#include "io/dump.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static const struct col_def summary_cols[] = {
	{"stream_id", C_TEXT},      {"window_start", C_TIME},   {"window_end", C_TIME},
	{"chat_count", C_INT},      {"unique_chatters", C_INT}, {"avg_sentiment", C_REAL},
	{"positive_count", C_INT},  {"negative_count", C_INT},  {"chat_rate", C_REAL},
	{"avg_viewers", C_REAL},    {"top_emotes", C_JSON},     {"z_score", C_REAL},
	{"is_anomaly", C_BOOL},
};
static const struct col_def moment_cols[] = {
	{"stream_id", C_TEXT},   {"timestamp", C_TIME}, {"moment_type", C_TEXT},
	{"description", C_TEXT}, {"intensity", C_REAL}, {"metadata", C_JSON},
};
static const struct col_def dead_cols[] = {
	{"source", C_TEXT}, {"partition", C_INT}, {"position", C_INT},
	{"reason", C_TEXT}, {"detail", C_TEXT},   {"raw", C_BYTES},
};

#define TABLE(name, cols) {name, cols, (int)(sizeof(cols) / sizeof(cols[0]))}
static const struct table_def tables[] = {
	TABLE("chat_summary_minute", summary_cols),
	TABLE("moments", moment_cols),
	TABLE("dead_letters", dead_cols),
};

/* Sort keys, as column indexes: windows by (stream, start, end), moments by
 * (stream, type, time), dead letters by (source, partition, position). */
static const int sort_keys[][3] = {{0, 1, 2}, {0, 2, 1}, {0, 1, 2}};

static void canon_real(struct buf *out, double d)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%.6f", d);
	buf_adds(out, strcmp(tmp, "-0.000000") ? tmp : "0.000000");
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* JSON with sorted keys and reals at 6 decimals: equal for SQLite's text
 * and PostgreSQL's jsonb, which reorders keys and normalizes numbers. */
static void canon_json(struct buf *out, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x) keys[i++] = k;
		qsort(keys, n, sizeof(*keys), key_cmp);
		buf_addc(out, '{');
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(out, ',');
			buf_add_json_string(out, keys[i], strlen(keys[i]));
			buf_addc(out, ':');
			canon_json(out, json_object_get(v, keys[i]));
		}
		buf_addc(out, '}');
		free(keys);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		buf_addc(out, '[');
		json_array_foreach(v, i, x) {
			if (i)
				buf_addc(out, ',');
			canon_json(out, x);
		}
		buf_addc(out, ']');
		break;
	}
	case JSON_STRING:
		buf_add_json_string(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		canon_real(out, json_real_value(v));
		break;
	case JSON_TRUE:
		buf_adds(out, "true");
		break;
	case JSON_FALSE:
		buf_adds(out, "false");
		break;
	case JSON_NULL:
		buf_adds(out, "null");
		break;
	}
}

static void canon_bytes(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			buf_add(out, "\\\\", 2);
		} else if (c >= 0x20 && c < 0x7f) {
			buf_addc(out, (char)c);
		} else {
			char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			buf_add(out, e, 4);
		}
	}
}

static void csv_field(struct buf *out, const char *s, size_t n)
{
	bool quote = n == 0 || s[0] == ' ' || s[n - 1] == ' ';
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		buf_add(out, s, n);
		return;
	}
	buf_addc(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(out, '"');
		buf_addc(out, s[i]);
	}
	buf_addc(out, '"');
}

/*
 * A copy of the JSON text in which every integer of 16 digits or more reads
 * as a real ("2000000000000000" -> "2000000000000000.0").  The writer of
 * moments.metadata (jansson, 15 significant digits) puts every real from
 * 1e15 up in exponent form, "2e+15", which SQLite keeps as text and
 * PostgreSQL's jsonb turns into the integer 2000000000000000 (or, past
 * INT64_MAX, into one that jansson cannot even read).  Read as reals, both
 * come out of canon_real() the same.  Strings are copied untouched.
 */
static void big_integers_as_reals(struct buf *out, const char *s, size_t n)
{
	buf_reset(out);
	size_t i = 0;
	while (i < n) {
		char ch = s[i];
		if (ch == '"') {
			size_t j = i + 1;
			while (j < n && s[j] != '"')
				j += s[j] == '\\' ? 2 : 1;
			j = j < n ? j + 1 : n;
			buf_add(out, s + i, j - i);
			i = j;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t j = i + (ch == '-'), digits = 0;
			bool integer = true;
			while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.' || s[j] == 'e' ||
			                 s[j] == 'E' || s[j] == '+' || s[j] == '-')) {
				if (s[j] >= '0' && s[j] <= '9')
					digits++;
				else
					integer = false;
				j++;
			}
			buf_add(out, s + i, j - i);
			if (integer && digits >= 16)
				buf_adds(out, ".0");
			i = j;
		} else {
			buf_addc(out, ch);
			i++;
		}
	}
}

struct row {
	char **fields; /* canonical text, NULL for SQL NULL */
	int64_t nums[3];
};

struct collect {
	const struct table_def *t;
	int table;
	struct row *rows;
	size_t n, cap;
	struct buf tmp, json;
};

static void collect_row(void *ctx, const struct cell *cells)
{
	struct collect *c = ctx;
	c->rows = grow_array(c->rows, sizeof(*c->rows), &c->cap, c->n + 1);
	struct row *r = &c->rows[c->n++];
	r->fields = xcalloc((size_t)c->t->n_cols, sizeof(char *));
	for (int i = 0; i < c->t->n_cols; i++) {
		const struct cell *x = &cells[i];
		if (x->null)
			continue;
		buf_reset(&c->tmp);
		switch (c->t->cols[i].kind) {
		case C_INT:
			buf_printf(&c->tmp, "%" PRId64, x->i);
			break;
		case C_REAL:
			canon_real(&c->tmp, x->d);
			break;
		case C_BOOL:
			buf_adds(&c->tmp, x->i ? "true" : "false");
			break;
		case C_TEXT:
		case C_TIME:
			buf_add(&c->tmp, x->s, x->len);
			break;
		case C_BYTES:
			canon_bytes(&c->tmp, x->s, x->len);
			break;
		case C_JSON: {
			big_integers_as_reals(&c->json, x->s, x->len);
			json_t *v = json_loadb(c->json.data ? c->json.data : "", c->json.len,
			                       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
			if (v) {
				canon_json(&c->tmp, v);
				json_decref(v);
			} else {
				buf_add(&c->tmp, x->s, x->len); /* not JSON: show it as it is */
			}
			break;
		}
		}
		r->fields[i] = xstrndup(c->tmp.data ? c->tmp.data : "", c->tmp.len);
	}
	for (int k = 0; k < 3; k++) {
		int col = sort_keys[c->table][k];
		r->nums[k] = c->t->cols[col].kind == C_INT && !cells[col].null ? cells[col].i : 0;
	}
}

static int sort_table;

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	const struct table_def *t = &tables[sort_table];
	for (int k = 0; k < 3; k++) {
		int col = sort_keys[sort_table][k];
		int c;
		if (t->cols[col].kind == C_INT) {
			c = (a->nums[k] > b->nums[k]) - (a->nums[k] < b->nums[k]);
		} else {
			const char *x = a->fields[col] ? a->fields[col] : "";
			const char *y = b->fields[col] ? b->fields[col] : "";
			c = strcmp(x, y);
		}
		if (c)
			return c;
	}
	/* Full-row order as the last resort keeps the output deterministic. */
	for (int col = 0; col < t->n_cols; col++) {
		const char *x = a->fields[col] ? a->fields[col] : "";
		const char *y = b->fields[col] ? b->fields[col] : "";
		int c = strcmp(x, y);
		if (c)
			return c;
	}
	return 0;
}

bool dump_with(dump_fetch_fn fetch, void *db, FILE *out, struct error *err)
{
	bool ok = true;
	for (int t = 0; t < (int)(sizeof(tables) / sizeof(tables[0])) && ok; t++) {
		struct collect c = {.t = &tables[t], .table = t};
		ok = fetch(db, &tables[t], collect_row, &c, err);
		if (ok) {
			sort_table = t;
			if (c.n)
				qsort(c.rows, c.n, sizeof(*c.rows), row_cmp);
			struct buf line = BUF_INIT;
			buf_printf(&line, "# %s: %zu rows\n", tables[t].name, c.n);
			for (int i = 0; i < tables[t].n_cols; i++)
				buf_printf(&line, "%s%s", i ? "," : "", tables[t].cols[i].name);
			buf_addc(&line, '\n');
			fwrite(line.data, 1, line.len, out);
			for (size_t r = 0; r < c.n; r++) {
				buf_reset(&line);
				for (int i = 0; i < tables[t].n_cols; i++) {
					if (i)
						buf_addc(&line, ',');
					const char *f = c.rows[r].fields[i];
					if (f)
						csv_field(&line, f, strlen(f));
				}
				buf_addc(&line, '\n');
				fwrite(line.data, 1, line.len, out);
			}
			buf_free(&line);
		}
		for (size_t r = 0; r < c.n; r++) {
			for (int i = 0; i < tables[t].n_cols; i++)
				free(c.rows[r].fields[i]);
			free(c.rows[r].fields);
		}
		free(c.rows);
		buf_free(&c.tmp);
		buf_free(&c.json);
	}
	return ok;
}
