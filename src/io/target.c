/*
 * target.c — the one parser of database targets (see target.h).
 *
 * The order of the tests is the contract: an explicit prefix (sqlite:,
 * postgres:, postgresql:, jdbc:) decides first; then a libpq conninfo,
 * recognized by a first "keyword=" whose keyword this libpq knows (so a
 * file named "a=b.db" stays a file); then any other scheme is an error;
 * what is left is a path.
 */
#include "config.h"

#include "io/target.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Does s start with "keyword =" for a connection keyword libpq knows? */
static bool is_conninfo(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = 0;
	while (s[n] == '_' || (s[n] >= 'a' && s[n] <= 'z'))
		n++;
	size_t eq = n;
	while (s[eq] == ' ' || s[eq] == '\t')
		eq++;
	if (!n || s[eq] != '=')
		return false;
	PQconninfoOption *opts = PQconndefaults();
	bool known = false;
	for (PQconninfoOption *o = opts; o && o->keyword && !known; o++)
		known = strlen(o->keyword) == n && !strncmp(o->keyword, s, n);
	PQconninfoFree(opts);
	return known;
}

/* The length of a URI scheme at the start of s ("mysql" of "mysql://x"),
 * or 0.  RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":". */
static size_t scheme_length(const char *s)
{
	if (!isalpha((unsigned char)s[0]))
		return 0;
	size_t n = 1;
	while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
		n++;
	return s[n] == ':' ? n : 0;
}

static bool set(struct target *t, enum target_kind kind, const char *location, const char *spec)
{
	t->kind = kind;
	t->location = xstrdup(location);
	t->shown = kind == TARGET_SQLITE ? xstrdup(location) : redact_secrets(spec);
	return true;
}

bool target_parse(struct target *t, const char *spec, struct error *err)
{
	memset(t, 0, sizeof(*t));
	if (!spec || !*spec) {
		error_set(err, "empty database target; give a SQLite file (sqlite:PATH or a path) or a "
		               "PostgreSQL URL");
		return false;
	}
	if (has_prefix(spec, "sqlite:")) {
		if (!spec[7]) {
			error_set(err, "sqlite: needs a file name, as in sqlite:out.db");
			return false;
		}
		return set(t, TARGET_SQLITE, spec + 7, spec);
	}
	if (has_prefix(spec, "postgres://") || has_prefix(spec, "postgresql://"))
		return set(t, TARGET_POSTGRES, spec, spec);
	const char *rest = has_prefix(spec, "postgres:")     ? spec + 9
	                   : has_prefix(spec, "postgresql:") ? spec + 11
	                                                     : NULL;
	if (rest) {
		if (!*rest) {
			error_set(err, "%s needs a PostgreSQL URL, conninfo or jdbc:postgresql:// URL after "
			               "the colon",
			          spec);
			return false;
		}
		/* postgres:TARGET: TARGET is a URI, a conninfo or a JDBC URL. */
		if (!has_prefix(rest, "postgres://") && !has_prefix(rest, "postgresql://") &&
		    !has_prefix(rest, "jdbc:") && !is_conninfo(rest) && scheme_length(rest)) {
			char *shown = redact_secrets(spec);
			error_set(err, "%s: after postgres: comes a postgresql:// URL, a conninfo "
			               "(host=... dbname=...) or a jdbc:postgresql:// URL",
			          shown);
			free(shown);
			return false;
		}
		if (has_prefix(rest, "jdbc:") && !has_prefix(rest, "jdbc:postgresql:"))
			goto other_jdbc;
		return set(t, TARGET_POSTGRES, rest, spec);
	}
	if (has_prefix(spec, "jdbc:")) {
		if (has_prefix(spec, "jdbc:postgresql:"))
			return set(t, TARGET_POSTGRES, spec, spec);
		goto other_jdbc;
	}
	if (is_conninfo(spec))
		return set(t, TARGET_POSTGRES, spec, spec);
	size_t n = scheme_length(spec);
	if (n) {
		char *shown = redact_secrets(spec);
		error_set(err, "unknown database scheme \"%.*s:\" in %s; give sqlite:PATH, a file "
		               "path, or PostgreSQL (postgresql://..., host=... dbname=..., "
		               "jdbc:postgresql://...); for a file whose name has a colon, write "
		               "sqlite:NAME or ./NAME",
		          (int)n, spec, shown);
		free(shown);
		return false;
	}
	return set(t, TARGET_SQLITE, spec, spec);

other_jdbc: {
	char *shown = redact_secrets(spec);
	error_set(err, "%s is a JDBC URL for another database; telemetra writes SQLite or "
	               "PostgreSQL (jdbc:postgresql://...)",
	          shown);
	free(shown);
	return false;
}
}

void target_free(struct target *t)
{
	if (t->location)
		explicit_bzero(t->location, strlen(t->location)); /* may hold a password */
	free(t->location);
	free(t->shown);
	memset(t, 0, sizeof(*t));
}

const char *target_kind_name(enum target_kind kind)
{
	return kind == TARGET_SQLITE ? "SQLite" : "PostgreSQL";
}
