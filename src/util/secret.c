/*
 * secret.c — finding the passwords in a connection string (util/secret.h)
 * and redacting them, the one place that knows where they sit.
 */
#include "config.h"

#include "util/secret.h"

#include <string.h>
#include <strings.h>

#include "core/buf.h"

void secrets_foreach(const char *s, secret_fn fn, void *ctx)
{
	const char *p = s;

	/* scheme://user:password@host — the last '@' ends the user info, since
	 * a password may contain one. */
	const char *scheme = strstr(s, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		const char *end = auth + strcspn(auth, "/?#");
		const char *at = NULL;
		for (const char *q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			fn(ctx, colon + 1, (size_t)(at - colon - 1), false);
			p = at;
		}
	}

	/* password=value, in a query string or a conninfo */
	while ((p = strcasestr(p, "password")) != NULL) {
		const char *q = p + 8;
		p = q;
		q += strspn(q, " \t");
		if (*q != '=')
			continue;
		q++;
		q += strspn(q, " \t");
		if (*q == '\'') {
			const char *start = ++q;
			for (; *q && *q != '\''; q++)
				if (*q == '\\' && q[1])
					q++;
			fn(ctx, start, (size_t)(q - start), true);
		} else {
			size_t n = strcspn(q, " \t\r\n&;#");
			fn(ctx, q, n, false);
			q += n;
		}
		p = q;
	}
}

struct redaction {
	const char *source;
	const char *copied; /* how far source has been copied */
	struct buf out;
};

static void redact_one(void *ctx, const char *start, size_t len, bool quoted)
{
	struct redaction *r = ctx;
	(void)quoted;
	buf_add(&r->out, r->copied, (size_t)(start - r->copied));
	buf_adds(&r->out, "***");
	r->copied = start + len;
}

char *redact_secrets(const char *s)
{
	struct redaction r = {s, s, BUF_INIT};
	secrets_foreach(s, redact_one, &r);
	buf_adds(&r.out, r.copied);
	return buf_detach(&r.out);
}
