/*
 * sink-test — drives the sinks through the wrappers of io/sink.h, for tests/postgres.sh.
 *
 *   sink-test target              targets, JDBC conversion and secret
 *                                 scrubbing (no database needed)
 *   sink-test checkpoint SPEC     commit checkpoints, read them back; a
 *                                 discarded batch is not committed
 *   sink-test rows SPEC           write awkward rows (quotes, tabs, Unicode,
 *                                 every byte) for a cross-database dump
 *   sink-test retry URL           a commit with the server stopped keeps its
 *                                 batch; the retry writes it exactly once
 *   sink-test bench URL           the cost of one commit
 *
 * SPEC is "sqlite:PATH" or "postgres:URL".  retry asks the calling script
 * to stop and start the server (which only the script that started it can
 * do): it writes "stop" or "start" on stdout and waits for a line on stdin;
 * "done" ends the conversation.  Results go to stderr, one line per check;
 * the exit status is 0 when every check passed, 1 otherwise, 99 when the
 * test could not run.
 */
#include "config.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "core/buf.h"
#include "core/engine.h"
#include "io/pg.h"
#include "io/sink.h"
#include "io/target.h"
#include "util/clock.h"

static int failures, checks;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	checks++;
	fprintf(stderr, "%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures += !ok;
}

static noreturn void hard_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static noreturn void hard_error(const char *fmt, ...)
{
	va_list ap;
	fputs("ERROR: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(99);
}

static struct sink *open_sink(const char *spec)
{
	struct sink_options opt = {0};
	struct error err;
	struct sink *s = sink_open(spec, &opt, &err);
	if (!s)
		hard_error("cannot open %s: %s", spec, err.msg);
	return s;
}

/* --- rows to write ----------------------------------------------------------- */

#define T0 INT64_C(1763900000000000) /* 2025-11-23T12:13:20Z */
#define SEC INT64_C(1000000)

static const struct strview emotes[] = {
	SV_LIT("Kappa"), SV_LIT("a\"b"), SV_LIT("c\\d"), SV_LIT("e,f"), SV_LIT("{g}"),
	SV_LIT("NULL"),  SV_LIT("h i"), SV_LIT("\xc3\xbc\xf0\x9f\x8e\x89"), SV_LIT("tab\there"),
};

static struct window_row window_row(const char *stream, int64_t k, int64_t chat_count)
{
	struct window_row r = {0};
	r.stream_id = sv_make(stream, strlen(stream));
	r.k = k;
	r.start_us = T0 + k * 10 * SEC;
	r.end_us = r.start_us + 60 * SEC;
	r.chat_count = chat_count;
	r.unique_chatters = chat_count / 2;
	r.positive_count = chat_count / 3;
	r.negative_count = chat_count / 5;
	r.has_sentiment = chat_count > 0;
	r.avg_sentiment = chat_count ? 1.0 / 3.0 : 0;
	r.chat_rate = (double)chat_count / 60.0;
	r.has_viewers = k % 2 == 0;
	r.avg_viewers = 1234.5678 + (double)k;
	r.top_emotes = emotes;
	r.n_top_emotes = (size_t)(k % 10);
	r.has_z = k > 3;
	r.z_score = -0.1 * (double)k;
	r.is_anomaly = k % 7 == 0;
	return r;
}

static struct moment moment_at(const char *stream, int64_t k, const char *metadata)
{
	struct moment m = {0};
	m.stream_id = sv_make(stream, strlen(stream));
	m.type = "chat_spike";
	m.time_us = T0 + k * 10 * SEC;
	m.end_us = m.time_us + 60 * SEC;
	m.description = "chat spike:\n\"z\" = 8 \\ against a baseline";
	m.intensity = 8.0 + (double)k / 7.0;
	m.metadata = metadata;
	return m;
}

static struct dead_letter dead_at(const char *source, int64_t position, const char *detail,
                                  const char *raw, size_t raw_len)
{
	struct dead_letter d = {0};
	d.pos.source = sv_make(source, strlen(source));
	d.pos.partition = -1;
	d.pos.position = position;
	d.reason = DEAD_NOT_JSON;
	d.detail = detail;
	d.raw = raw;
	d.raw_len = raw_len;
	return d;
}

static void put_window(struct sink *s, const char *stream, int64_t k, int64_t chat_count)
{
	struct window_row r = window_row(stream, k, chat_count);
	if (sink_window(s, &r))
		hard_error("window(): %s", s->err.msg);
}

/* --- sink-test target ----------------------------------------------------------- */

static void expect_conninfo(const char *target, const char *want, const char *want_ignored)
{
	struct error err;
	struct buf ignored = BUF_INIT;
	char *got = pg_conninfo(target, &ignored, &err);
	check(got && !strcmp(got, want), "pg_conninfo(%s) = %s (want %s)", target,
	      got ? got : err.msg, want);
	check(!strcmp(ignored.data ? ignored.data : "", want_ignored),
	      "pg_conninfo(%s) ignores '%s' (want '%s')", target, ignored.data ? ignored.data : "",
	      want_ignored);
	free(got);
	buf_free(&ignored);
}

static bool contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

/* The one target parser: kind and location, or a refusal without the
 * password (want_kind -1). */
static void expect_target(const char *spec, int want_kind, const char *want_location)
{
	struct target t;
	struct error err;
	bool ok = target_parse(&t, spec, &err);
	if (want_kind < 0) {
		check(!ok && !contains(err.msg, "s3cret"), "target %s is refused: %s", spec,
		      ok ? "(accepted)" : err.msg);
	} else {
		check(ok && (int)t.kind == want_kind && !strcmp(t.location, want_location) &&
		          !contains(t.shown, "s3cret"),
		      "target %s is %s %s, shown %s", spec, ok ? target_kind_name(t.kind) : "refused",
		      ok ? t.location : err.msg, ok ? t.shown : "");
	}
	if (ok)
		target_free(&t);
}

static int test_target(void)
{
	expect_target("sqlite:out.db", TARGET_SQLITE, "out.db");
	expect_target("sqlite:mysql://x", TARGET_SQLITE, "mysql://x");
	expect_target("out.db", TARGET_SQLITE, "out.db");
	expect_target("./a:b.db", TARGET_SQLITE, "./a:b.db");
	expect_target("/tmp/a=b.db", TARGET_SQLITE, "/tmp/a=b.db");
	expect_target("a=b.db", TARGET_SQLITE, "a=b.db");
	expect_target("postgres://u:s3cret@h/db", TARGET_POSTGRES, "postgres://u:s3cret@h/db");
	expect_target("postgresql://u:s3cret@h/db", TARGET_POSTGRES, "postgresql://u:s3cret@h/db");
	expect_target("postgres:postgres://u:s3cret@h/db", TARGET_POSTGRES, "postgres://u:s3cret@h/db");
	expect_target("postgres:postgresql://h/db", TARGET_POSTGRES, "postgresql://h/db");
	expect_target("postgresql:host=h dbname=d", TARGET_POSTGRES, "host=h dbname=d");
	expect_target("postgres:host=h password=s3cret", TARGET_POSTGRES, "host=h password=s3cret");
	expect_target("host=h dbname=d", TARGET_POSTGRES, "host=h dbname=d");
	expect_target(" dbname = d", TARGET_POSTGRES, " dbname = d");
	expect_target("postgres:mydb", TARGET_POSTGRES, "mydb");
	expect_target("jdbc:postgresql://h:5432/db?password=s3cret", TARGET_POSTGRES,
	              "jdbc:postgresql://h:5432/db?password=s3cret");
	expect_target("postgres:jdbc:postgresql://h/db", TARGET_POSTGRES, "jdbc:postgresql://h/db");
	expect_target("mysql://u:s3cret@h/db", -1, NULL);
	expect_target("mysql:x", -1, NULL);
	expect_target("file:out.db", -1, NULL);
	expect_target("jdbc:mysql://h/db?password=s3cret", -1, NULL);
	expect_target("postgres:mysql://u:s3cret@h", -1, NULL);
	expect_target("postgres:", -1, NULL);
	expect_target("sqlite:", -1, NULL);
	expect_target("", -1, NULL);

	expect_conninfo("postgresql://u:p@h:5432/db", "postgresql://u:p@h:5432/db", "");
	expect_conninfo("postgres:postgresql://h/db", "postgresql://h/db", "");
	expect_conninfo("postgres://h/db", "postgres://h/db", "");
	expect_conninfo("postgres:host=h dbname=db", "host=h dbname=db", "");
	expect_conninfo("jdbc:postgresql://postgres:5432/telemetra",
	                "postgresql://postgres:5432/telemetra", "");
	expect_conninfo("jdbc:postgresql://h/db?user=u&password=p&sslmode=require",
	                "postgresql://h/db?user=u&password=p&sslmode=require", "");
	expect_conninfo("jdbc:postgresql://h:1/db?ApplicationName=x&connectTimeout=3&ssl=true"
	                "&currentSchema=s&prepareThreshold=0",
	                "postgresql://h:1/db?application_name=x&connect_timeout=3&ssl=true",
	                "currentSchema,prepareThreshold");
	expect_conninfo("jdbc:postgresql:telemetra", "postgresql://localhost/telemetra", "");
	expect_conninfo("jdbc:postgresql://[::1]:5433,h2/db", "postgresql://[::1]:5433,h2/db", "");

	struct error err;
	check(!pg_conninfo("jdbc:mysql://h/db", NULL, &err) && contains(err.msg, "another database"),
	      "a JDBC URL for MySQL is refused: %s", err.msg);
	check(!pg_conninfo("postgres:", NULL, &err), "an empty target is refused: %s", err.msg);

	/* Secrets never come out, whatever libpq says. */
	static const struct {
		const char *target, *user, *password, *secret;
	} cases[] = {
		{"postgresql://u:s3cr%zzet@h/db", NULL, NULL, "s3cr%zzet"},
		{"postgresql://u:pa%20ss@h/db?sslmode=bogus", NULL, NULL, "pa ss"},
		{"jdbc:postgresql://h/db?user=u&password=hunter%2", NULL, NULL, "hunter%2"},
		{"host=h password='it\\'s secret' dbname=db port=x", NULL, NULL, "secret"},
		{"host=h dbname=db sslmode=bogus", "u", "fallback-pw", "fallback-pw"},
		{"postgresql://h/db?password=zz%ZZtop", NULL, NULL, "zz%ZZtop"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pg_target t;
		char msg[1200];
		if (pg_target_init(&t, cases[i].target, cases[i].user, cases[i].password, &err)) {
			PGconn *c = pg_connect(&t, 0, &err);
			PQfinish(c);
			snprintf(msg, sizeof(msg), "%s | %s", t.redacted, err.msg);
			pg_target_free(&t);
		} else {
			snprintf(msg, sizeof(msg), "%s", err.msg);
		}
		check(!contains(msg, cases[i].secret) && contains(msg, "PostgreSQL"),
		      "no secret in the failure for case %zu: %s", i, msg);
	}

	struct pg_target t;
	if (!pg_target_init(&t, "postgresql://u:topsecret@h/db", "x", "other-secret", &err))
		hard_error("pg_target_init: %s", err.msg);
	char *clean = pg_scrub(&t, "FATAL:  bad topsecret\n\tand other-secret and password=abc\n");
	check(!strcmp(clean, "FATAL:  bad *** and *** and password=***"), "pg_scrub: '%s'", clean);
	free(clean);
	check(!strcmp(t.redacted, "postgresql://u:***@h/db"), "redacted target: %s", t.redacted);
	pg_target_free(&t);

	/* A one-letter password hides where it stands alone, not inside words. */
	if (!pg_target_init(&t, "postgresql://u:p@h/db", NULL, NULL, &err))
		hard_error("pg_target_init: %s", err.msg);
	clean = pg_scrub(&t, "port 1 failed: is it accepting TCP/IP? missing \"=\" after \"p\"");
	check(!strcmp(clean, "port 1 failed: is it accepting TCP/IP? missing \"=\" after \"***\""),
	      "pg_scrub of a short password: '%s'", clean);
	free(clean);
	pg_target_free(&t);
	return failures ? 1 : 0;
}

/* --- sink-test checkpoint ---------------------------------------------------------- */

/* About 1 MiB of JSON-like text with everything COPY must escape. */
static char *big_state(size_t *len)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"version\":1,\"panes\":[");
	for (int i = 0; b.len < (1u << 20); i++)
		buf_printf(&b, "%s{\"k\":%d,\"s\":\"tab\\t \\\\ quote\\\" \xc3\xa9\xf0\x9f\x8e\x89\","
		               "\"raw\":\"\t\n\r\\\"}",
		           i ? "," : "", i);
	buf_adds(&b, "]}");
	*len = b.len;
	return buf_detach(&b);
}

static void commit_checkpoint(struct sink *s, const char *group, int64_t base, const char *state,
                              size_t state_len, int64_t capture_bytes)
{
	const struct partition_offset offsets[] = {
		{"telemetra.events.chat", 0, base + 1},
		{"telemetra.events.chat", 1, base + 2},
		{"telemetra.events.viewer", 0, base + 3},
	};
	const struct group_state states[] = {
		{0, state, state_len},
		{1, "{}", 2},
	};
	struct sink_checkpoint cp = {group, offsets, 3, states, 2, "/var/lib/telemetra/capture.jsonl",
	                             capture_bytes};
	put_window(s, "checkpointed", base, 3);
	int rc = sink_commit(s, &cp);
	check(rc == 0, "commit with a checkpoint of group %s%s%s", group, rc ? ": " : "",
	      rc ? s->err.msg : "");
}

static void expect_offset(struct sink *s, const char *group, const char *topic, int32_t p,
                          int64_t want)
{
	int64_t got = -2;
	int rc = checkpoint_load_offset(s, group, topic, p, &got);
	check(rc == 0 && got == want, "load_offset(%s, %s, %d) = %" PRId64 " (want %" PRId64 ")%s%s",
	      group, topic, p, got, want, rc ? ": " : "", rc ? s->err.msg : "");
}

static void expect_state(struct sink *s, const char *group, int32_t p, const char *want,
                         size_t want_len)
{
	char *got = NULL;
	size_t len = 0;
	int rc = checkpoint_load_state(s, group, p, &got, &len);
	bool same = want ? got && len == want_len && !memcmp(got, want, len) : !got;
	check(rc == 0 && same, "load_state(%s, %d): %zu bytes%s (want %zu%s)", group, p, len,
	      got ? "" : ", none", want_len, want ? "" : ", none");
	free(got);
}

static void expect_capture(struct sink *s, const char *group, const char *path, int64_t want)
{
	int64_t got = -2;
	int rc = checkpoint_load_capture_bytes(s, group, path, &got);
	check(rc == 0 && got == want, "load_capture_bytes(%s, %s) = %" PRId64 " (want %" PRId64 ")",
	      group, path, got, want);
}

static PGconn *admin(const char *url);
static int64_t scalar(PGconn *c, const char *sql);

/* The committed window rows of `stream` in the database of SPEC. */
static int64_t count_stream(const char *spec, const char *stream)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chat_summary_minute WHERE stream_id = '%s'",
	         stream);
	if (!strncmp(spec, "postgres:", 9)) {
		PGconn *c = admin(spec + 9);
		int64_t n = scalar(c, sql);
		PQfinish(c);
		return n;
	}
	sqlite3 *db;
	sqlite3_stmt *st;
	if (strncmp(spec, "sqlite:", 7) || sqlite3_open_v2(spec + 7, &db, SQLITE_OPEN_READONLY, NULL))
		hard_error("cannot read %s", spec);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) || sqlite3_step(st) != SQLITE_ROW)
		hard_error("%s: %s", sql, sqlite3_errmsg(db));
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static int test_checkpoint(const char *spec)
{
	size_t len;
	char *state = big_state(&len);
	const char *capture = "/var/lib/telemetra/capture.jsonl";

	struct sink *s = open_sink(spec);
	expect_offset(s, "g1", "telemetra.events.chat", 0, -1);
	expect_state(s, "g1", 0, NULL, 0);
	expect_capture(s, "g1", capture, -1);
	commit_checkpoint(s, "g1", 100, state, len, 4096);
	commit_checkpoint(s, "g2", 900, "{\"other\":true}", 14, 77);
	check(sink_finish(s) == 0, "finish");
	sink_close(s);

	s = open_sink(spec);
	expect_offset(s, "g1", "telemetra.events.chat", 0, 101);
	expect_offset(s, "g1", "telemetra.events.chat", 1, 102);
	expect_offset(s, "g1", "telemetra.events.viewer", 0, 103);
	expect_offset(s, "g1", "telemetra.events.viewer", 1, -1);
	expect_offset(s, "g2", "telemetra.events.chat", 0, 901);
	expect_state(s, "g1", 0, state, len);
	expect_state(s, "g1", 1, "{}", 2);
	expect_state(s, "g2", 0, "{\"other\":true}", 14);
	expect_state(s, "g1", 7, NULL, 0);
	expect_capture(s, "g1", capture, 4096);
	expect_capture(s, "g2", capture, 77);
	expect_capture(s, "g1", "/elsewhere", -1);

	/* A later checkpoint replaces the earlier one. */
	state[10] = 'X';
	commit_checkpoint(s, "g1", 500, state, len, 8192);
	expect_offset(s, "g1", "telemetra.events.chat", 0, 501);
	expect_state(s, "g1", 0, state, len);
	expect_capture(s, "g1", capture, 8192);
	expect_offset(s, "g2", "telemetra.events.chat", 0, 901);

	/* A discarded batch (a daemon that lost its partitions) is never
	 * committed, its checkpoint neither; the next batch is. */
	put_window(s, "discarded", 1, 5);
	sink_discard(s);
	put_window(s, "after-discard", 1, 5);
	commit_checkpoint(s, "g1", 600, state, len, 9000);
	expect_offset(s, "g1", "telemetra.events.chat", 0, 601);
	check(sink_finish(s) == 0, "finish");
	sink_close(s);
	check(count_stream(spec, "discarded") == 0, "no row of the discarded batch is committed");
	check(count_stream(spec, "after-discard") == 1, "the batch after the discard is committed");

	/* The same on a SQLite file built from scratch, whose window rows wait
	 * to go in many to a statement (io/sink_sqlite.c): the waiting rows of
	 * a discarded batch go with it. */
	if (!strncmp(spec, "sqlite:", 7)) {
		char fresh[4096];
		snprintf(fresh, sizeof(fresh), "%s.fresh", spec);
		remove(fresh + 7);
		struct sink_options opt = {.replace = true};
		struct error err;
		s = sink_open(fresh, &opt, &err);
		if (!s)
			hard_error("cannot open %s: %s", fresh, err.msg);
		put_window(s, "discarded", 1, 5);
		sink_discard(s);
		put_window(s, "after-discard", 1, 5);
		check(sink_finish(s) == 0, "finish (a file built from scratch)");
		sink_close(s);
		check(count_stream(fresh, "discarded") == 0,
		      "a file built from scratch: no row of the discarded batch is committed");
		check(count_stream(fresh, "after-discard") == 1,
		      "a file built from scratch: the batch after the discard is committed");
		remove(fresh + 7);
	}
	free(state);
	return failures ? 1 : 0;
}

/* --- sink-test rows ------------------------------------------------------------------ */

static int test_rows(const char *spec)
{
	static const char *const streams[] = {
		"plain", "with,comma", "quote\"s", "back\\slash", "tab\there", "new\nline",
		"\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xf0\x9f\x8e\x89", "{braces}", "NULL", " spaced ",
		"\\N",
	};
	char every_byte[256];
	for (int i = 0; i < 256; i++)
		every_byte[i] = (char)i;
	struct sink *s = open_sink(spec);
	struct run_info run = {.command = "sink-test", .started_us = T0,
	                       .config_json = "{\"x\":\"y\"}", .inputs_json = "[]"};
	check(run_log_begin(s, &run) == 0, "run_begin");
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		for (int64_t k = 0; k < 10; k++) {
			struct window_row r = window_row(streams[i], k, k * 3);
			if (k == 9) {
				r.avg_sentiment = -0.0;
				r.chat_rate = 1e-300;
				r.avg_viewers = 123456789.123456789;
				r.z_score = 1e15 / 3;
			}
			sink_window(s, &r);
		}
		struct moment m = moment_at(streams[i], (int64_t)i,
		                            "{\"z\":{\"b\":[1,2.5,\"\\u00e9\\\\\\\"\"],\"a\":null},"
		                            "\"chat_rate\":0.1,\"top_emotes\":[\"a\\\"b\",\"c\\\\d\"],"
		                            "\"window_start\":\"2025-11-23T12:13:20.000000Z\"}");
		sink_moment(s, &m);
		struct dead_letter d = dead_at(streams[i], (int64_t)i, i % 2 ? NULL : "bad\\detail\n\tx",
		                               every_byte, i % 3 ? sizeof(every_byte) : 0);
		sink_dead_letter(s, &d);
	}
	/* A source of 3000 bytes (a topic, a path) that would not fit a btree
	 * index row: the key is its hash, the row keeps it whole. */
	struct buf long_source = BUF_INIT;
	for (int i = 0; long_source.len < 3000; i++)
		buf_printf(&long_source, "%08x", (unsigned)(i * 2654435761u));
	struct dead_letter long_dl = dead_at(long_source.data, 5, "long", "x", 1);
	long_dl.pos.partition = 3;
	check(sink_dead_letter(s, &long_dl) == 0, "a dead letter from a 3000-byte source");
	/* The same key twice in one batch: the last row wins, as in SQLite. */
	put_window(s, "plain", 0, 1000);
	struct engine_stats stats = {.records = 42, .windows = 9};
	run.finished_us = T0 + SEC;
	run.stats = &stats;
	check(run_log_end(s, &run) == 0, "run_end");
	int rc = sink_finish(s);
	check(rc == 0, "finish%s%s", rc ? ": " : "", rc ? s->err.msg : "");
	sink_close(s);
	buf_free(&long_source);
	return failures ? 1 : 0;
}

/* --- sink-test retry and bench ---------------------------------------------------------- */

static PGconn *admin(const char *url)
{
	const char *kw[] = {"dbname", "application_name", NULL};
	const char *val[] = {url, "sink-test", NULL};
	PGconn *c = PQconnectdbParams(kw, val, 1);
	if (PQstatus(c) != CONNECTION_OK)
		hard_error("sink-test cannot connect: %s", PQerrorMessage(c));
	return c;
}

static int64_t scalar(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		hard_error("%s: %s", sql, PQresultErrorMessage(r));
	int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

static void exec_sql(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		hard_error("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* Ask the script to do something to the server; wait until it has. */
static void ask(const char *what)
{
	char line[64];
	printf("%s\n", what);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		hard_error("no answer to '%s' from the script", what);
}

static void commit_offset(struct sink *s, int64_t next, int expect_rc, const char *secret,
                          const char *when)
{
	const struct partition_offset off = {"telemetra.events.chat", 0, next};
	struct sink_checkpoint cp = {"retry", &off, 1, NULL, 0, NULL, 0};
	double t = monotonic_seconds();
	int rc = sink_commit(s, &cp);
	check(rc == expect_rc, "commit %s returns %d in %.2f s%s%s", when, rc, monotonic_seconds() - t,
	      rc ? ": " : "", rc ? s->err.msg : "");
	if (rc)
		check(!contains(s->err.msg, secret) && contains(s->err.msg, "***"),
		      "the failure names the redacted target, not the password");
}

/* counts_sql gives rows * 1000000 + distinct keys: n rows, each key once. */
#define ROWS(n) (INT64_C(n) * 1000001)
static const char *const counts_sql =
	"SELECT count(*) * 1000000 + count(DISTINCT (stream_id, window_start, window_end))"
	" FROM chat_summary_minute";

static int test_retry(const char *url, const char *secret)
{
	PGconn *c = admin(url);
	struct sink *s = open_sink(url);
	exec_sql(c, "TRUNCATE chat_summary_minute, moments, dead_letters, consumer_offsets");

	for (int64_t k = 0; k < 1000; k++)
		put_window(s, "retry", k, 5);
	for (int64_t k = 0; k < 10; k++) {
		struct moment m = moment_at("retry", k, "{}");
		struct dead_letter d = dead_at("retry.jsonl", k, "x", "raw", 3);
		sink_moment(s, &m);
		sink_dead_letter(s, &d);
	}
	commit_offset(s, 1000, 0, secret, "of the first batch");
	check(scalar(c, counts_sql) == ROWS(1000), "1000 rows after the first batch");

	/* The second batch: new rows, and new values for 100 old keys. */
	for (int64_t k = 1000; k < 2000; k++)
		put_window(s, "retry", k, 5);
	for (int64_t k = 0; k < 100; k++)
		put_window(s, "retry", k, 999);
	for (int64_t k = 10; k < 15; k++) {
		struct moment m = moment_at("retry", k, "{}");
		struct dead_letter d = dead_at("retry.jsonl", k, "x", "raw", 3);
		sink_moment(s, &m);
		sink_dead_letter(s, &d);
	}
	PQfinish(c);
	ask("stop");
	commit_offset(s, 2000, -1, secret, "with the server stopped");
	for (int64_t k = 2000; k < 2500; k++)
		put_window(s, "retry", k, 5);
	commit_offset(s, 2500, -1, secret, "again, the server still stopped");
	ask("start");
	commit_offset(s, 2500, 0, secret, "after the server is back");

	c = admin(url);
	check(scalar(c, counts_sql) == ROWS(2500), "2500 rows, each key once");
	check(scalar(c, "SELECT count(*) FROM chat_summary_minute WHERE chat_count = 999") == 100,
	      "the 100 rewritten rows have their new values");
	check(scalar(c, "SELECT count(*) FROM moments") == 15, "15 moments");
	check(scalar(c, "SELECT count(*) FROM dead_letters") == 15, "15 dead letters");
	int64_t next = -1;
	checkpoint_load_offset(s, "retry", "telemetra.events.chat", 0, &next);
	check(next == 2500, "the committed offset is the last checkpoint's (%" PRId64 ")", next);
	commit_offset(s, 2500, 0, secret, "with nothing new");
	check(scalar(c, counts_sql) == ROWS(2500), "still 2500 rows");

	/* A connection that died while idle is replaced within the commit. */
	exec_sql(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
	            " WHERE application_name = 'telemetra' AND pid <> pg_backend_pid()");
	for (int64_t k = 2500; k < 2510; k++)
		put_window(s, "retry", k, 5);
	commit_offset(s, 2510, 0, secret, "after the session was killed");
	check(scalar(c, counts_sql) == ROWS(2510), "2510 rows");

	/* A transaction that fails with the connection intact is rolled back
	 * whole (rows of other tables too) and its batch kept. */
	exec_sql(c, "CREATE TABLE fail_next (x int); INSERT INTO fail_next VALUES (1);"
	            " CREATE FUNCTION fail_if_asked() RETURNS trigger LANGUAGE plpgsql AS"
	            " $$BEGIN IF EXISTS (SELECT 1 FROM fail_next) THEN"
	            " RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END$$;"
	            " CREATE TRIGGER fail_if_asked BEFORE INSERT OR UPDATE ON moments"
	            " FOR EACH ROW EXECUTE FUNCTION fail_if_asked()");
	for (int64_t k = 2510; k < 2520; k++)
		put_window(s, "retry", k, 5);
	struct moment m = moment_at("retry", 99, "{}");
	sink_moment(s, &m);
	commit_offset(s, 2520, -1, secret, "while a trigger refuses the moment");
	check(contains(s->err.msg, "injected failure"), "the failure says why");
	check(scalar(c, counts_sql) == ROWS(2510), "no row of the failed transaction is there");
	exec_sql(c, "DELETE FROM fail_next");
	commit_offset(s, 2520, 0, secret, "once the trigger lets it through");
	check(scalar(c, counts_sql) == ROWS(2520), "2520 rows");
	check(scalar(c, "SELECT count(*) FROM moments") == 16, "16 moments");
	exec_sql(c, "DROP TRIGGER fail_if_asked ON moments; DROP FUNCTION fail_if_asked();"
	            " DROP TABLE fail_next");

	check(sink_finish(s) == 0, "finish");
	sink_close(s);
	PQfinish(c);
	ask("done");
	return failures ? 1 : 0;
}

static int test_bench(const char *url)
{
	size_t len;
	char *state = big_state(&len);
	struct sink *s = open_sink(url);
	PGconn *c = admin(url);
	exec_sql(c, "TRUNCATE chat_summary_minute");
	const struct partition_offset off = {"telemetra.events.chat", 0, 1};
	const struct group_state st = {0, state, len};
	struct sink_checkpoint cp = {"bench", &off, 1, &st, 1, NULL, 0};
	for (int round = 0; round < 6; round++) {
		double t0 = monotonic_seconds();
		for (int64_t k = 0; k < 10000; k++)
			put_window(s, round % 2 ? "bench-b" : "bench-a", k + round / 2 * 10000, 5);
		double t1 = monotonic_seconds();
		if (sink_commit(s, &cp))
			hard_error("commit: %s", s->err.msg);
		double t2 = monotonic_seconds();
		fprintf(stderr,
		        "bench: 10000 window rows (%s) + %.1f MiB state: format %.1f ms, commit %.1f ms\n",
		        round < 2 ? "new keys" : "new keys, growing table", (double)len / 1048576,
		        (t1 - t0) * 1000, (t2 - t1) * 1000);
	}
	for (int round = 0; round < 2; round++) {
		for (int64_t k = 0; k < 10000; k++)
			put_window(s, "bench-a", k, 7);
		double t1 = monotonic_seconds();
		if (sink_commit(s, &cp))
			hard_error("commit: %s", s->err.msg);
		fprintf(stderr, "bench: 10000 window rows (all updates) + state: commit %.1f ms\n",
		        (monotonic_seconds() - t1) * 1000);
	}
	double t1 = monotonic_seconds();
	if (sink_commit(s, &cp))
		hard_error("commit: %s", s->err.msg);
	fprintf(stderr, "bench: checkpoint only (1 MiB state): commit %.1f ms\n", (monotonic_seconds() - t1) * 1000);
	check(scalar(c, "SELECT count(*) FROM chat_summary_minute") == 60000, "60000 rows");
	sink_close(s);
	PQfinish(c);
	free(state);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int rc;
	if (!strcmp(cmd, "target") && argc == 2)
		rc = test_target();
	else if (!strcmp(cmd, "checkpoint") && argc == 3)
		rc = test_checkpoint(argv[2]);
	else if (!strcmp(cmd, "rows") && argc == 3)
		rc = test_rows(argv[2]);
	else if (!strcmp(cmd, "retry") && argc == 4)
		rc = test_retry(argv[2], argv[3]);
	else if (!strcmp(cmd, "bench") && argc == 3)
		rc = test_bench(argv[2]);
	else
		hard_error("usage: sink-test target | checkpoint SPEC | rows SPEC | retry URL SECRET | "
		           "bench URL");
	fprintf(stderr, "%s: %d checks, %d failed\n", cmd, checks, failures);
	return rc;
}
