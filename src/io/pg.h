/*
 * pg.h — reaching PostgreSQL: connection targets, secrets, connecting.
 *
 * A target is what a user writes to name a database: a libpq URI
 * (postgresql://, postgres://), a key=value conninfo, or the JDBC URL of
 * the seed (jdbc:postgresql://host:port/db?user=..&password=..), optionally
 * behind the "postgres:" prefix of --sink.  pg_target_init() turns it into
 * something libpq parses and remembers every password it carries, so that
 * no message built here can print one: libpq's own messages may quote
 * pieces of a malformed URI, so they are scrubbed of the known secrets
 * before anyone sees them, and the target is only ever shown redacted.
 *
 * The user and password of --postgres-user / POSTGRES_USER and
 * --postgres-password / POSTGRES_PASSWORD are passed to libpq as separate
 * keywords (never pasted into the string), placed before the target so
 * that a user or password the target names itself wins.
 */
#ifndef TELEMETRA_PG_H
#define TELEMETRA_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/common.h"

struct pg_target {
	char *conninfo; /* for libpq: a URI or a key=value conninfo */
	char *redacted; /* the target as given, passwords (and their look-alikes) as *** */
	char *user;     /* fallbacks, or NULL */
	char *password;
	char **secrets; /* every string that must never be printed, longest first */
	size_t n_secrets;
};

/*
 * Parse a target; user and password (may be NULL) are the fallbacks.
 * Everything is copied: t owns its strings (pg_target_free, which also
 * wipes the passwords).  Returns false with err set (redacted) when the
 * target cannot be understood.
 */
bool pg_target_init(struct pg_target *t, const char *target, const char *user,
                    const char *password, struct error *err);
void pg_target_free(struct pg_target *t);

/*
 * The libpq form of a target, as a new string the caller frees; NULL with
 * err set when it is not understood.  A JDBC URL becomes a postgresql://
 * URI; of its query parameters, those libpq understands are kept, the JDBC
 * names ApplicationName, connectTimeout and loginTimeout are translated,
 * and the names of the others are appended to `ignored` (comma-separated;
 * may be NULL) so the caller can say so.
 */
char *pg_conninfo(const char *target, struct buf *ignored, struct error *err);

/* The target with every password replaced by "***", for messages (the
 * caller frees it). */
char *conninfo_redact(const char *target);

/*
 * A copy of msg (typically a libpq message) that is safe to print: every
 * secret of t replaced by "***", any password=... redacted, and folded to
 * one line.  The caller frees it.
 */
char *pg_scrub(const struct pg_target *t, const char *msg);

/* err = "PostgreSQL <redacted target>: <what>: <scrubbed detail>" (the
 * detail may be NULL). */
void pg_error(struct error *err, const struct pg_target *t, const char *what, const char *detail);

/*
 * Connect, retrying with backoff (0.2 s doubling up to 5 s) until
 * timeout_s seconds have passed; timeout_s <= 0 makes one attempt.  Each
 * attempt is bounded by libpq's connect_timeout (5 s unless the target
 * says otherwise).  A failure is reported through log_warn when it first
 * happens and again only when its message changes, never with a password.
 * A missing or refused password is not retried.  On success the session is set up
 * for telemetra (UTF-8, ISO dates, shortest exact floats, warnings only)
 * and the caller owns the connection (PQfinish); on failure NULL with err
 * set.
 */
PGconn *pg_connect(const struct pg_target *t, double timeout_s, struct error *err);

/* How long the commands and sinks wait for a database at start-up. */
#define PG_CONNECT_TIMEOUT_S 5.0

/* PQexec(sql), true when it returned `expect`; otherwise err says what
 * failed (what) and why.  For statements whose result is not needed. */
bool pg_exec(PGconn *conn, const struct pg_target *t, const char *sql, ExecStatusType expect,
             const char *what, struct error *err);

#endif
