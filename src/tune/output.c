/*
 * output.c — tuning_results in SQLite, and the table on stdout.
 *
 * The SQLite file is written in one transaction into "PATH.tmp-PID",
 * without a journal (a failed run simply discards it), then made durable
 * and renamed over PATH, as replay's SQLite sink does.
 */
#include "config.h"

#include "tune/output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/timestamp.h"
#include "io/migrations.h"
#include "io/sink_format.h"
#include "util/new_file.h"

/* --- ranking ------------------------------------------------------------- */

bool tune_objective_parse(const char *text, struct tune_objective *o, struct error *err)
{
	static const char prefix[] = "precision@recall=";
	memset(o, 0, sizeof(*o));
	if (!text || !strcmp(text, "f1"))
		return true;
	if (!strcmp(text, "f2")) {
		o->kind = OBJECTIVE_F2;
		return true;
	}
	if (!strncmp(text, prefix, sizeof prefix - 1)) {
		const char *r = text + sizeof prefix - 1;
		char *end;
		errno = 0;
		double v = strtod(r, &end);
		if (*r && !*end && !errno && v > 0 && v <= 1) {
			o->kind = OBJECTIVE_PRECISION_AT_RECALL;
			o->min_recall = v;
			return true;
		}
		error_set(err, "--objective %s: R must be a number in (0, 1], such as "
		          "precision@recall=0.8", text);
		return false;
	}
	error_set(err, "--objective: expected f1, f2 or precision@recall=R (R in (0, 1]), got '%s'",
	          text);
	return false;
}

bool tune_objective_met(const struct tune_objective *o, const struct score *s)
{
	return o->kind != OBJECTIVE_PRECISION_AT_RECALL || s->recall >= o->min_recall;
}

struct ranked {
	const struct tune_row *row;
	double key; /* the objective: higher is better */
};

static int cmp_scored(const void *pa, const void *pb)
{
	const struct ranked *ra = pa, *rb = pb;
	const struct score *a = ra->row->score, *b = rb->row->score;
	if (ra->key != rb->key)
		return ra->key > rb->key ? -1 : 1;
	if (a->f1 != b->f1)
		return a->f1 > b->f1 ? -1 : 1;
	if (a->false_positives != b->false_positives)
		return a->false_positives < b->false_positives ? -1 : 1;
	if (a->has_delay != b->has_delay)
		return a->has_delay ? -1 : 1;
	if (a->has_delay && a->median_delay_s != b->median_delay_s)
		return a->median_delay_s < b->median_delay_s ? -1 : 1;
	return (ra->row->index > rb->row->index) - (ra->row->index < rb->row->index);
}

static int cmp_unscored(const void *pa, const void *pb)
{
	const struct tune_row *a = ((const struct ranked *)pa)->row;
	const struct tune_row *b = ((const struct ranked *)pb)->row;
	if (a->outcome->moments != b->outcome->moments)
		return a->outcome->moments > b->outcome->moments ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

/* The objective as one number.  precision@recall=R: the qualifying rows'
 * precision, in [0, 1]; below them the others, by recall (in [-2, -1]). */
static double objective_key(const struct tune_objective *o, const struct score *s)
{
	switch (o->kind) {
	case OBJECTIVE_F2:
		return s->f2;
	case OBJECTIVE_PRECISION_AT_RECALL:
		return tune_objective_met(o, s) ? s->precision : s->recall - 2;
	case OBJECTIVE_F1:
	default:
		return s->f1;
	}
}

const struct tune_row **tune_rank(const struct tune_results *r)
{
	size_t n = r->n_rows;
	struct ranked *v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct ranked){&r->rows[i],
		                       r->scored ? objective_key(&r->objective, r->rows[i].score) : 0};
	if (n)
		qsort(v, n, sizeof(*v), r->scored ? cmp_scored : cmp_unscored);
	const struct tune_row **out = xcalloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = v[i].row;
	free(v);
	return out;
}

/* --- option columns ------------------------------------------------------ */

/* The option columns: the varied options in grid order, then every other
 * option in the order the rows' JSON objects list them.  The caller frees
 * the array (the names are borrowed from r). */
static const char **option_columns(const struct tune_results *r, size_t *n)
{
	size_t cap = 0;
	const char **cols = NULL;
	*n = 0;
	for (size_t i = 0; i < r->n_varied; i++) {
		cols = grow_array(cols, sizeof(*cols), &cap, *n + 1);
		cols[(*n)++] = r->varied[i];
	}
	for (size_t i = 0; i < r->n_rows; i++) {
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)r->rows[i].options, key, v) {
			size_t c = 0;
			while (c < *n && strcmp(cols[c], key))
				c++;
			if (c == *n) {
				cols = grow_array(cols, sizeof(*cols), &cap, *n + 1);
				cols[(*n)++] = key;
			}
		}
	}
	return cols;
}

/* An option's SQL column: the name with '-' as '_', double-quoted. */
static void add_column_name(struct buf *b, const char *option)
{
	buf_addc(b, '"');
	for (const char *p = option; *p; p++)
		buf_addc(b, *p == '-' ? '_' : *p);
	buf_addc(b, '"');
}

static const char *sql_type(const struct tune_results *r, const char *option)
{
	for (size_t i = 0; i < r->n_rows; i++) {
		const json_t *v = json_object_get(r->rows[i].options, option);
		if (json_is_integer(v) || json_is_boolean(v))
			return "INTEGER";
		if (json_is_real(v))
			return "REAL";
		if (json_is_string(v))
			return "TEXT";
	}
	return "";
}

/* --- per-stream counts --------------------------------------------------- */

static int cmp_sv(const void *a, const void *b)
{
	return sv_cmp(*(const struct strview *)a, *(const struct strview *)b);
}

/* {stream_id: moments} with keys in byte order. */
static void moments_per_stream(struct buf *out, const struct tune_outcome *o)
{
	struct strview *ids = xcalloc(o->moments ? o->moments : 1, sizeof(*ids));
	for (size_t i = 0; i < o->moments; i++)
		ids[i] = o->moment_list[i].stream_id;
	if (o->moments)
		qsort(ids, o->moments, sizeof(*ids), cmp_sv);
	buf_addc(out, '{');
	for (size_t i = 0, j; i < o->moments; i = j) {
		for (j = i + 1; j < o->moments && sv_eq(ids[j], ids[i]); j++)
			;
		if (i)
			buf_addc(out, ',');
		buf_add_json_string(out, ids[i].ptr, ids[i].len);
		buf_printf(out, ":%zu", j - i);
	}
	buf_addc(out, '}');
	free(ids);
}

/* --- SQLite -------------------------------------------------------------- */

struct writer {
	sqlite3 *db;
	const char *path;
	struct error *err;
};

static bool exec(struct writer *w, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(w->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error_set(w->err, "SQLite %s: %s", w->path, msg ? msg : sqlite3_errmsg(w->db));
		sqlite3_free(msg);
		return false;
	}
	return true;
}

static bool fail(struct writer *w, const char *what)
{
	error_set(w->err, "SQLite %s: %s: %s", w->path, what, sqlite3_errmsg(w->db));
	return false;
}

static void bind_time(sqlite3_stmt *st, int col, int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	size_t n = timestamp_format(us, t);
	sqlite3_bind_text(st, col, t, (int)n, SQLITE_TRANSIENT);
}

static void bind_json(sqlite3_stmt *st, int col, const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_INTEGER:
		sqlite3_bind_int64(st, col, (sqlite3_int64)json_integer_value(v));
		break;
	case JSON_REAL:
		sqlite3_bind_double(st, col, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		sqlite3_bind_int(st, col, json_is_true(v));
		break;
	case JSON_STRING:
		sqlite3_bind_text(st, col, json_string_value(v), (int)json_string_length(v),
		                  SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_null(st, col);
		break;
	}
}

static bool insert_run(struct writer *w, const struct tune_results *r, int64_t *run_id)
{
	const struct store_stats *in = r->input;
	struct buf stats = BUF_INIT;
	buf_printf(&stats,
	           "{\"records\":%" PRIu64 ",\"control_records\":%" PRIu64 ",\"chat_events\":%" PRIu64
	           ",\"viewer_events\":%" PRIu64 ",\"configurations\":%zu,\"windowing_passes\":%zu"
	           ",\"jobs\":%u,\"dead_letters\":",
	           in->records, in->controls, in->chat, in->viewer, r->n_rows, r->passes, r->jobs);
	format_dead_letters_json(&stats, in->dead);
	buf_addc(&stats, '}');

	/* accepted, late, windows and moments depend on the configuration:
	 * they are in tuning_results, NULL here; dead_letters here are those
	 * of every configuration (late ones excluded). */
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(w->db,
	                             "INSERT INTO runs (command, version, started_at, finished_at,"
	                             " config, inputs, records, events, dead_letters, stats)"
	                             " VALUES ('tune', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                             -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, PACKAGE_VERSION, -1, SQLITE_STATIC);
		bind_time(st, 2, r->started_us);
		bind_time(st, 3, r->finished_us);
		sqlite3_bind_text(st, 4, r->config_json, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, r->inputs_json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)in->records);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)(in->chat + in->viewer));
		sqlite3_bind_int64(st, 8, (sqlite3_int64)in->dead_total);
		sqlite3_bind_text(st, 9, stats.data, (int)stats.len, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	if (!ok)
		fail(w, "recording the run");
	*run_id = sqlite3_last_insert_rowid(w->db);
	sqlite3_finalize(st);
	buf_free(&stats);
	return ok;
}

static const char *const metric_columns =
	"windows INTEGER, anomalous_windows INTEGER, moments INTEGER, accepted INTEGER,"
	" late INTEGER, dead_letters INTEGER, moments_per_stream TEXT,"
	" labels INTEGER, episodes INTEGER, true_positives INTEGER, false_positives INTEGER,"
	" false_negatives INTEGER, precision REAL, recall REAL, f1 REAL, f2 REAL,"
	" false_per_stream_hour REAL, stream_hours REAL, mean_delay_s REAL, median_delay_s REAL,"
	" windowing_pass INTEGER, windowing_seconds REAL, detect_seconds REAL";
#define N_METRICS 23

static bool insert_results(struct writer *w, const struct tune_results *r, int64_t run_id)
{
	size_t n_cols;
	const char **cols = option_columns(r, &n_cols);
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "CREATE TABLE tuning_results (id INTEGER PRIMARY KEY,"
	               " run_id INTEGER NOT NULL REFERENCES runs (id), config TEXT NOT NULL");
	for (size_t c = 0; c < n_cols; c++) {
		buf_adds(&sql, ", ");
		add_column_name(&sql, cols[c]);
		buf_printf(&sql, " %s", sql_type(r, cols[c]));
	}
	buf_printf(&sql, ", %s)", metric_columns);
	bool ok = exec(w, sql.data);

	buf_reset(&sql);
	buf_adds(&sql, "INSERT INTO tuning_results VALUES (?, ?, ?");
	for (size_t c = 0; c < n_cols + N_METRICS; c++)
		buf_adds(&sql, ", ?");
	buf_addc(&sql, ')');
	sqlite3_stmt *st = NULL;
	if (ok && sqlite3_prepare_v2(w->db, sql.data, -1, &st, NULL) != SQLITE_OK)
		ok = fail(w, "preparing tuning_results");

	struct buf text = BUF_INIT;
	for (size_t i = 0; ok && i < r->n_rows; i++) {
		const struct tune_row *row = &r->rows[i];
		const struct tune_outcome *o = row->outcome;
		const struct score *s = row->score;
		int col = 1;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_int64(st, col++, (sqlite3_int64)row->index + 1);
		sqlite3_bind_int64(st, col++, run_id);
		char *config = json_dumps(row->options, JSON_COMPACT | JSON_SORT_KEYS);
		sqlite3_bind_text(st, col++, config, -1, free);
		for (size_t c = 0; c < n_cols; c++)
			bind_json(st, col++, json_object_get(row->options, cols[c]));
		sqlite3_bind_int64(st, col++, (sqlite3_int64)o->windows);
		sqlite3_bind_int64(st, col++, (sqlite3_int64)o->anomalous_windows);
		sqlite3_bind_int64(st, col++, (sqlite3_int64)o->moments);
		sqlite3_bind_int64(st, col++, (sqlite3_int64)o->accepted);
		sqlite3_bind_int64(st, col++, (sqlite3_int64)o->late);
		sqlite3_bind_int64(st, col++, (sqlite3_int64)(r->input->dead_total + o->late));
		buf_reset(&text);
		moments_per_stream(&text, o);
		sqlite3_bind_text(st, col++, text.data, (int)text.len, SQLITE_STATIC);
		if (s) {
			sqlite3_bind_int64(st, col++, (sqlite3_int64)s->labels);
			sqlite3_bind_int64(st, col++, (sqlite3_int64)s->episodes);
			sqlite3_bind_int64(st, col++, (sqlite3_int64)s->true_positives);
			sqlite3_bind_int64(st, col++, (sqlite3_int64)s->false_positives);
			sqlite3_bind_int64(st, col++, (sqlite3_int64)s->false_negatives);
			sqlite3_bind_double(st, col++, s->precision);
			sqlite3_bind_double(st, col++, s->recall);
			sqlite3_bind_double(st, col++, s->f1);
			sqlite3_bind_double(st, col++, s->f2);
			sqlite3_bind_double(st, col++, s->false_per_stream_hour);
			sqlite3_bind_double(st, col++, s->stream_hours);
			if (s->has_delay) {
				sqlite3_bind_double(st, col, s->mean_delay_s);
				sqlite3_bind_double(st, col + 1, s->median_delay_s);
			}
			col += 2;
		} else {
			col += 13; /* NULLs */
		}
		sqlite3_bind_int64(st, col++, (sqlite3_int64)o->pass);
		sqlite3_bind_double(st, col++, o->windowing_seconds);
		sqlite3_bind_double(st, col++, o->detect_seconds);
		if (sqlite3_step(st) != SQLITE_DONE)
			ok = fail(w, "writing tuning_results");
	}
	sqlite3_finalize(st);
	buf_free(&text);
	buf_free(&sql);
	free(cols);
	return ok;
}

bool tune_write_sqlite(const char *path, const struct tune_results *r, struct error *err)
{
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	unlink(tmp.data);
	struct writer w = {NULL, path, err};
	int64_t run_id = 0;
	int applied;
	bool ok = false;

	if (sqlite3_open_v2(tmp.data, &w.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		error_set(err, "cannot create SQLite database %s: %s", tmp.data,
		          w.db ? sqlite3_errmsg(w.db) : "out of memory");
		goto out;
	}
	/* Built from scratch and swapped in at the end: no journal needed. */
	if (!exec(&w, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF") ||
	    !migrate_sqlite(w.db, path, &applied, err) || !exec(&w, "BEGIN") ||
	    !insert_run(&w, r, &run_id) || !insert_results(&w, r, run_id) || !exec(&w, "COMMIT"))
		goto out;
	if (sqlite3_close(w.db) != SQLITE_OK) {
		fail(&w, "closing");
		goto out;
	}
	w.db = NULL;
	/* Durable first, then in place: a crash leaves the old file or the new. */
	if (!file_put_in_place(tmp.data, path, err))
		goto out;
	ok = true;
out:
	if (w.db)
		sqlite3_close(w.db);
	if (!ok)
		unlink(tmp.data);
	buf_free(&tmp);
	return ok;
}

/* --- the readable table -------------------------------------------------- */

struct table {
	size_t n_cols, n_rows; /* rows include the header */
	char **cells;          /* [row * n_cols + col], owned */
	bool *left;            /* per column: left-aligned (text) */
};

static void cell(struct table *t, size_t row, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void cell(struct table *t, size_t row, size_t col, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (!b.data)
		buf_adds(&b, "");
	t->cells[row * t->n_cols + col] = buf_detach(&b);
}

static void option_cell(struct table *t, size_t row, size_t col, const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_INTEGER:
		cell(t, row, col, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		cell(t, row, col, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		cell(t, row, col, "on");
		break;
	case JSON_FALSE:
		cell(t, row, col, "off");
		break;
	case JSON_STRING:
		cell(t, row, col, "%s", json_string_value(v));
		t->left[col] = true;
		break;
	default:
		cell(t, row, col, "-");
		break;
	}
}

void tune_print_table(FILE *out, const struct tune_results *r, const struct tune_row *const *rows)
{
	static const char *const counts[] = {"windows", "anomalous", "moments", "late"};
	/* The names of tuning_results' columns, which scripts read. */
	static const char *const scores[] = {
		"labels", "episodes", "true_positives", "false_positives", "false_negatives",
		"precision", "recall", "f1", "f2", "false_per_stream_hour", "median_delay_s",
		"mean_delay_s"};
	const size_t n_counts = sizeof(counts) / sizeof(counts[0]);
	const size_t n_scores = r->scored ? sizeof(scores) / sizeof(scores[0]) : 0;
	struct table t = {.n_cols = 1 + r->n_varied + n_counts + n_scores, .n_rows = 1 + r->n_rows};
	t.cells = xcalloc(t.n_cols * t.n_rows, sizeof(*t.cells));
	t.left = xcalloc(t.n_cols, sizeof(*t.left));

	size_t c = 0;
	cell(&t, 0, c++, "id");
	for (size_t v = 0; v < r->n_varied; v++)
		cell(&t, 0, c++, "%s", r->varied[v]);
	for (size_t k = 0; k < n_counts; k++)
		cell(&t, 0, c++, "%s", counts[k]);
	for (size_t k = 0; k < n_scores; k++)
		cell(&t, 0, c++, "%s", scores[k]);

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct tune_row *row = rows[i];
		const struct tune_outcome *o = row->outcome;
		size_t y = i + 1;
		c = 0;
		cell(&t, y, c++, "%zu", row->index + 1);
		for (size_t v = 0; v < r->n_varied; v++, c++)
			option_cell(&t, y, c, json_object_get(row->options, r->varied[v]));
		cell(&t, y, c++, "%" PRIu64, o->windows);
		cell(&t, y, c++, "%" PRIu64, o->anomalous_windows);
		cell(&t, y, c++, "%" PRIu64, o->moments);
		cell(&t, y, c++, "%" PRIu64, o->late);
		if (r->scored) {
			const struct score *s = row->score;
			cell(&t, y, c++, "%zu", s->labels);
			cell(&t, y, c++, "%zu", s->episodes);
			cell(&t, y, c++, "%zu", s->true_positives);
			cell(&t, y, c++, "%zu", s->false_positives);
			cell(&t, y, c++, "%zu", s->false_negatives);
			cell(&t, y, c++, "%.3f", s->precision);
			cell(&t, y, c++, "%.3f", s->recall);
			cell(&t, y, c++, "%.3f", s->f1);
			cell(&t, y, c++, "%.3f", s->f2);
			cell(&t, y, c++, "%.2f", s->false_per_stream_hour);
			if (s->has_delay) {
				cell(&t, y, c++, "%.1f", s->median_delay_s);
				cell(&t, y, c++, "%.1f", s->mean_delay_s);
			} else {
				cell(&t, y, c++, "-");
				cell(&t, y, c++, "-");
			}
		}
	}

	size_t *width = xcalloc(t.n_cols, sizeof(*width));
	for (size_t i = 0; i < t.n_cols * t.n_rows; i++) {
		size_t len = strlen(t.cells[i]);
		if (len > width[i % t.n_cols])
			width[i % t.n_cols] = len;
	}
	for (size_t y = 0; y < t.n_rows; y++) {
		for (size_t x = 0; x < t.n_cols; x++) {
			const char *s = t.cells[y * t.n_cols + x];
			bool last = x + 1 == t.n_cols;
			if (t.left[x])
				fprintf(out, "%s%-*s", x ? "  " : "", last ? 0 : (int)width[x], s);
			else
				fprintf(out, "%s%*s", x ? "  " : "", (int)width[x], s);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < t.n_cols * t.n_rows; i++)
		free(t.cells[i]);
	free(t.cells);
	free(t.left);
	free(width);
}
