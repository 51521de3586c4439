#include "config.h"

#include "util/secret.h"

#include <string.h>
#include <strings.h>

#include "core/buf.h"

char *redact_secrets(const char *s)
{
	struct buf out = BUF_INIT;
	const char *p = s;

	/* scheme://user:password@host */
	const char *scheme = strstr(p, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		const char *end = auth + strcspn(auth, "/?#");
		const char *at = NULL;
		for (const char *q = auth; q < end; q++)
			if (*q == '@')
				at = q; /* the last '@': a password may contain one */
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			buf_add(&out, p, (size_t)(colon + 1 - p));
			buf_adds(&out, "***");
			p = at;
		}
	}

	/* password=value, in a query string or a conninfo */
	while (*p) {
		if (!strncasecmp(p, "password", 8)) {
			const char *q = p + 8;
			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				buf_add(&out, p, (size_t)(q - p));
				buf_adds(&out, "***");
				if (*q == '\'') {
					for (q++; *q && *q != '\''; q++)
						if (*q == '\\' && q[1])
							q++;
					if (*q)
						q++;
				} else {
					q += strcspn(q, " &;");
				}
				p = q;
				continue;
			}
		}
		buf_addc(&out, *p++);
	}
	return buf_detach(&out);
}
