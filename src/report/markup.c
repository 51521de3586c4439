/*
 * markup.c — the escaping every piece of user data on the report page goes
 * through, and the few number formats the page uses.
 *
 * put_text() escapes & < > " ' and replaces what XML cannot hold (C0
 * controls other than tab and newline, invalid UTF-8, C1 controls,
 * U+FFFE/U+FFFF) with U+FFFD, so that stream ids, descriptions, label kinds,
 * paths and configuration text can never break the page, which is
 * well-formed XML as well as HTML5.  Nothing here allocates.
 */
#include "config.h"

#include "report/markup.h"

#include <math.h>
#include <string.h>

#include "core/common.h"
#include "core/timestamp.h"
#include "core/utf8.h"

/* Write n bytes of user data as text that is safe in element content and in
 * a quoted attribute, in HTML5 and in XML. */
void put_text(FILE *out, const char *s, size_t n)
{
	static const char repl[] = "\xEF\xBF\xBD"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		if (c < 0x80) {
			switch (c) {
			case '&': fputs("&amp;", out); break;
			case '<': fputs("&lt;", out); break;
			case '>': fputs("&gt;", out); break;
			case '"': fputs("&quot;", out); break;
			case '\'': fputs("&#39;", out); break;
			case '\t':
			case '\n': fputc(c, out); break;
			default:
				if (c < 0x20 || c == 0x7F)
					fputs(repl, out);
				else
					fputc(c, out);
			}
			i++;
			continue;
		}
		size_t k = utf8_sequence_length(p + i, n - i);
		if (k == 0) {
			fputs(repl, out);
			i++;
			continue;
		}
		/* C1 controls and the two non-characters XML excludes. */
		if ((k == 2 && c == 0xC2 && p[i + 1] < 0xA0) ||
		    (k == 3 && c == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE))
			fputs(repl, out);
		else
			fwrite(p + i, 1, k, out);
		i += k;
	}
}

void put_str(FILE *out, const char *s)
{
	if (s)
		put_text(out, s, strlen(s));
}

/* "YYYY-MM-DD HH:MM:SS", with ".ffffff" only when there are microseconds. */
void put_time(FILE *out, int64_t us)
{
	char t[TIMESTAMP_BUFSZ];
	size_t n = timestamp_format(us, t);
	if (n >= 26 && !strcmp(t + 19, ".000000"))
		n = 19;
	fwrite(t, 1, n, out);
}

/* A count with thin spaces between thousands: 1 234 567. */
void put_count(FILE *out, long long v)
{
	char d[32];
	int n = snprintf(d, sizeof d, "%lld", v < 0 ? -v : v);
	if (v < 0)
		fputc('-', out);
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			fputs("\xE2\x80\x89", out); /* U+2009 thin space */
		fputc(d[i], out);
	}
}

/* A rate or other real with a precision suited to its size. */
void put_real(FILE *out, double v)
{
	double a = fabs(v);
	fprintf(out, "%.*f", a >= 100 ? 0 : a >= 1 ? 2 : 3, v);
}

/* Byte-order comparison of two length-delimited strings (sv_cmp's order,
 * which is also SQLite's BINARY collation). */
int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	return sv_cmp(sv_make(a, an), sv_make(b, bn));
}
