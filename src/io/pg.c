/*
 * pg.c — connection targets, secrets and connecting (see pg.h).
 *
 * Secrets.  A password can reach a message by three routes: the target
 * itself (shown only through redact_secrets), the fallback password (never
 * shown), and libpq's messages, which quote pieces of a URI it cannot
 * parse ("invalid percent-encoded token: \"s3cr%zt\"").  The third is why
 * pg_target_init() collects every password-like value of the target — the
 * user-info password of a URI and every password=VALUE, raw and
 * percent-decoded — plus the fallback, and why every libpq message goes
 * through pg_scrub() before it is shown.
 *
 * Retry.  pg_connect() retries until a deadline the caller gives, with
 * exponential backoff, and reports a failure when it starts and when its
 * message changes, not at every attempt: a database that stays away for
 * an hour is one log line, not thousands.
 */
#include "config.h"

#include "io/pg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/common.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/secret.h"

/* --- targets ------------------------------------------------------------ */

/* Does this libpq know the connection keyword `name`? */
static bool libpq_knows(const char *name)
{
	PQconninfoOption *opts = PQconndefaults();
	bool found = false;
	for (PQconninfoOption *o = opts; o && o->keyword && !found; o++)
		found = !strcmp(o->keyword, name);
	PQconninfoFree(opts);
	return found;
}

/* JDBC parameter names with a libpq equivalent under another name. */
static const char *const jdbc_names[][2] = {
	{"ApplicationName", "application_name"},
	{"connectTimeout", "connect_timeout"},
	{"loginTimeout", "connect_timeout"},
};

/* Append the parameters of a JDBC query string that libpq understands. */
static void jdbc_params(struct buf *uri, const char *query, struct buf *ignored)
{
	char sep = '?';
	while (*query) {
		size_t len = strcspn(query, "&");
		const char *eq = memchr(query, '=', len);
		size_t name_len = eq ? (size_t)(eq - query) : len;
		char *name = xstrndup(query, name_len);
		const char *value = eq ? eq + 1 : query + len;
		size_t value_len = (size_t)(query + len - value);
		const char *libpq_name = NULL;
		for (size_t i = 0; i < sizeof(jdbc_names) / sizeof(jdbc_names[0]); i++)
			if (!strcmp(name, jdbc_names[i][0]))
				libpq_name = jdbc_names[i][1];
		if (!libpq_name && !strcmp(name, "ssl"))
			/* libpq reads ssl=true as sslmode=require, and nothing else */
			libpq_name = value_len == 4 && !memcmp(value, "true", 4) ? "ssl" : NULL;
		else if (!libpq_name && name_len && libpq_knows(name))
			libpq_name = name;
		if (libpq_name) {
			buf_printf(uri, "%c%s=", sep, libpq_name);
			buf_add(uri, value, value_len);
			sep = '&';
		} else if (name_len && ignored) {
			buf_printf(ignored, "%s%s", ignored->len ? "," : "", name);
		}
		free(name);
		query += len;
		if (*query == '&')
			query++;
	}
}

char *pg_conninfo(const char *target, struct buf *ignored, struct error *err)
{
	/* "postgres:" is the prefix of --sink; "postgres://" is a URI. */
	if (!strncmp(target, "postgres:", 9) && strncmp(target, "postgres://", 11))
		target += 9;
	if (!*target) {
		error_set(err, "empty PostgreSQL target; give a postgresql:// URL, a conninfo or a "
		               "jdbc:postgresql:// URL");
		return NULL;
	}
	if (strncmp(target, "jdbc:", 5))
		return xstrdup(target);
	if (strncmp(target, "jdbc:postgresql:", 16)) {
		char *shown = redact_secrets(target);
		error_set(err, "%s is a JDBC URL for another database; expected jdbc:postgresql://", shown);
		free(shown);
		return NULL;
	}
	/* jdbc:postgresql://host:port/db?params, or jdbc:postgresql:db (host
	 * localhost, as the JDBC driver has it). */
	const char *rest = target + 16;
	struct buf uri = BUF_INIT;
	if (!strncmp(rest, "//", 2))
		buf_adds(&uri, "postgresql:");
	else
		buf_adds(&uri, "postgresql://localhost/");
	size_t base = strcspn(rest, "?");
	buf_add(&uri, rest, base);
	if (rest[base] == '?')
		jdbc_params(&uri, rest + base + 1, ignored);
	return buf_detach(&uri);
}

char *conninfo_redact(const char *target)
{
	return redact_secrets(target);
}

static void wipe_buf(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

static void add_secret(struct pg_target *t, const char *p, size_t n)
{
	if (n == 0)
		return;
	for (size_t i = 0; i < t->n_secrets; i++)
		if (strlen(t->secrets[i]) == n && !memcmp(t->secrets[i], p, n))
			return;
	t->secrets = xrealloc(t->secrets, (t->n_secrets + 1) * sizeof(*t->secrets));
	t->secrets[t->n_secrets++] = xstrndup(p, n);
}

/* A secret as written, and as libpq reads it after percent-decoding. */
static void add_secret_forms(struct pg_target *t, const char *p, size_t n)
{
	add_secret(t, p, n);
	struct buf d = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (p[i] == '%' && i + 2 < n && (hi = hex_digit_value(p[i + 1])) >= 0 &&
		    (lo = hex_digit_value(p[i + 2])) >= 0) {
			buf_addc(&d, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_addc(&d, p[i]);
		}
	}
	add_secret(t, d.data ? d.data : "", d.len);
	wipe_buf(&d);
}

/* Collect every form a password written in the target may take in a
 * message: as written, unescaped (a quoted conninfo value) and
 * percent-decoded (add_secret_forms).  Where the passwords are is known in
 * one place, util/secret.c. */
static void collect_one(void *ctx, const char *start, size_t len, bool quoted)
{
	struct pg_target *t = ctx;
	if (!quoted) {
		add_secret_forms(t, start, len);
		return;
	}
	struct buf v = BUF_INIT;
	for (size_t i = 0; i < len; i++) {
		if (start[i] == '\\' && i + 1 < len)
			i++;
		buf_addc(&v, start[i]);
	}
	add_secret(t, start, len);
	add_secret(t, v.data ? v.data : "", v.len);
	wipe_buf(&v);
}

static void collect_secrets(struct pg_target *t, const char *s)
{
	secrets_foreach(s, collect_one, t);
}

static int longest_first(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
	return (x < y) - (x > y);
}

bool pg_target_init(struct pg_target *t, const char *target, const char *user,
                    const char *password, struct error *err)
{
	memset(t, 0, sizeof(*t));
	if (!strncmp(target, "postgres:", 9) && strncmp(target, "postgres://", 11))
		target += 9;
	t->redacted = redact_secrets(target);
	if (user && *user)
		t->user = xstrdup(user);
	if (password && *password) {
		t->password = xstrdup(password);
		add_secret(t, password, strlen(password));
	}
	collect_secrets(t, target);

	struct buf ignored = BUF_INIT;
	t->conninfo = pg_conninfo(target, &ignored, err);
	if (!t->conninfo) {
		buf_free(&ignored);
		pg_target_free(t);
		return false;
	}
	if (ignored.len)
		log_warn("%s: ignoring JDBC parameters that libpq does not know: %s", t->redacted,
		         ignored.data);
	buf_free(&ignored);

	/* What libpq itself will read, in case it differs from what the scan
	 * above found; a target it cannot parse is refused now, with its
	 * message scrubbed. */
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(t->conninfo, &msg);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (o->val && (!strcmp(o->keyword, "password") || !strcmp(o->keyword, "sslpassword")))
			add_secret(t, o->val, strlen(o->val));
	if (t->n_secrets)
		qsort(t->secrets, t->n_secrets, sizeof(*t->secrets), longest_first);
	/* A password may equal a user or database name the target shows
	 * (the seed's defaults are user, password and database "telemetra"):
	 * then the name is not shown either. */
	char *shown = pg_scrub(t, t->redacted);
	free(t->redacted);
	t->redacted = shown;
	if (!opts) {
		pg_error(err, t, "not a valid connection string", msg ? msg : "out of memory");
		PQfreemem(msg);
		pg_target_free(t);
		return false;
	}
	PQconninfoFree(opts);
	return true;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void pg_target_free(struct pg_target *t)
{
	wipe_free(t->conninfo);
	free(t->redacted);
	free(t->user);
	wipe_free(t->password);
	for (size_t i = 0; i < t->n_secrets; i++)
		wipe_free(t->secrets[i]);
	free(t->secrets);
	memset(t, 0, sizeof(*t));
}

/* --- messages ------------------------------------------------------------ */

static bool is_word_byte(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || (unsigned char)c >= 0x80;
}

/* A secret matches as a whole word only, so that a short password ("p")
 * does not turn libpq's "accepting TCP/IP connections" into
 * "acce***ting".  Where libpq echoes a password (a malformed conninfo), it
 * stands between quotes, '=', ':' or '@'.  A user or database named like
 * the password is still hidden: showing it would show the password. */
static bool secret_at(const char *msg, const char *p, const char *secret, size_t n)
{
	if (strncmp(p, secret, n))
		return false;
	if (is_word_byte(secret[0]) && p > msg && is_word_byte(p[-1]))
		return false;
	return !(is_word_byte(secret[n - 1]) && is_word_byte(p[n]));
}

char *pg_scrub(const struct pg_target *t, const char *msg)
{
	struct buf out = BUF_INIT;
	const char *start = msg ? msg : "";
	const char *p = start;
	while (*p) {
		size_t hit = 0;
		for (size_t i = 0; i < t->n_secrets && !hit; i++) {
			size_t n = strlen(t->secrets[i]);
			if (n && secret_at(start, p, t->secrets[i], n))
				hit = n;
		}
		if (hit) {
			buf_adds(&out, "***");
			p += hit;
		} else {
			buf_addc(&out, *p++);
		}
	}
	char *redacted = redact_secrets(out.data ? out.data : "");
	buf_free(&out);

	/* One line: runs of line breaks and tabs become one space. */
	char *w = redacted;
	for (const char *r = redacted; *r;) {
		if (*r == '\n' || *r == '\r' || *r == '\t') {
			while (*r == '\n' || *r == '\r' || *r == '\t' || *r == ' ')
				r++;
			if (w > redacted && w[-1] != ' ' && *r)
				*w++ = ' ';
		} else {
			*w++ = *r++;
		}
	}
	while (w > redacted && w[-1] == ' ')
		w--;
	*w = '\0';
	return redacted;
}

void pg_error(struct error *err, const struct pg_target *t, const char *what, const char *detail)
{
	if (!detail) {
		error_set(err, "PostgreSQL %s: %s", t->redacted, what);
		return;
	}
	char *clean = pg_scrub(t, detail);
	error_set(err, "PostgreSQL %s: %s: %s", t->redacted, what,
	          *clean ? clean : "no message from libpq");
	free(clean);
}

/* Server warnings (client_min_messages is warning) go to the log, scrubbed. */
static void notice_to_log(void *arg, const char *message)
{
	const struct pg_target *t = arg;
	char *clean = pg_scrub(t, message);
	log_warn("PostgreSQL %s: %s", t->redacted, clean);
	free(clean);
}

bool pg_exec(PGconn *conn, const struct pg_target *t, const char *sql, ExecStatusType expect,
             const char *what, struct error *err)
{
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == expect;
	if (!ok)
		pg_error(err, t, what, r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
	PQclear(r);
	return ok;
}

/* --- connecting ----------------------------------------------------------- */

/* Sleep; false if a signal cut it short (the caller may want to stop). */
static bool pause_for(double seconds)
{
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	return nanosleep(&ts, NULL) == 0 || errno != EINTR;
}

PGconn *pg_connect(const struct pg_target *t, double timeout_s, struct error *err)
{
	/* Keywords before dbname are defaults the target may override; the
	 * ones after it are imposed (libpq, PQconnectdbParams with
	 * expand_dbname). */
	const char *kw[12], *val[12];
	int n = 0;
#define KW(k, v) (kw[n] = (k), val[n] = (v), n++)
	if (t->user)
		KW("user", t->user);
	if (t->password)
		KW("password", t->password);
	KW("connect_timeout", "5");
	KW("keepalives_idle", "30");
	KW("keepalives_interval", "10");
	KW("keepalives_count", "3");
	/* A host that vanished mid-commit is noticed within a minute rather
	 * than after the kernel's retransmission timeout (~15 min). */
	static int user_timeout = -1;
	if (user_timeout < 0)
		user_timeout = libpq_knows("tcp_user_timeout");
	if (user_timeout)
		KW("tcp_user_timeout", "60000");
	KW("fallback_application_name", "telemetra");
	KW("dbname", t->conninfo);
	KW("client_encoding", "UTF8");
	KW(NULL, NULL);
#undef KW

	double start = monotonic_seconds(), backoff = 0.2;
	char *reported = NULL;
	for (;;) {
		PGconn *conn = PQconnectdbParams(kw, val, 1);
		const char *what = "cannot connect";
		if (conn && PQstatus(conn) == CONNECTION_OK) {
			PQsetNoticeProcessor(conn, notice_to_log, (void *)t);
			if (pg_exec(conn, t,
			            "SET client_min_messages = warning; SET DateStyle = ISO;"
			            " SET extra_float_digits = 1",
			            PGRES_COMMAND_OK, "setting up the session", err)) {
				if (reported)
					log_info("connected to PostgreSQL %s", t->redacted);
				free(reported);
				return conn;
			}
			what = "setting up the session";
		}
		char *msg = pg_scrub(t, conn ? PQerrorMessage(conn) : "out of memory");
		/* A password that is missing or was refused will not get better. */
		bool permanent = !conn || PQconnectionNeedsPassword(conn) ||
		                 PQconnectionUsedPassword(conn);
		PQfinish(conn);
		double left = start + timeout_s - monotonic_seconds();
		if (permanent || left <= 0) {
			pg_error(err, t, what, *msg ? msg : NULL);
			if (timeout_s > 0 && !permanent) {
				struct error inner = *err;
				error_set(err, "%s (gave up after %.0f s)", inner.msg, timeout_s);
			}
			free(msg);
			free(reported);
			return NULL;
		}
		if (!reported || strcmp(reported, msg)) {
			log_warn("cannot connect to PostgreSQL %s: %s; retrying for up to %.0f s",
			         t->redacted, msg, left);
			free(reported);
			reported = msg;
		} else {
			free(msg);
		}
		double wait = backoff < left ? backoff : left;
		backoff = backoff_next(backoff, 5);
		if (!pause_for(wait)) {
			pg_error(err, t, "cannot connect (interrupted)", reported);
			free(reported);
			return NULL;
		}
	}
}
