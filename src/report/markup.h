/*
 * markup.h — escaping and number formatting shared by the page and the
 * charts of `telemetra report`.  All user data on the page goes through
 * put_text(); nothing here allocates or keeps a pointer.
 */
#ifndef TELEMETRA_REPORT_MARKUP_H
#define TELEMETRA_REPORT_MARKUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* n bytes of user data, safe in element content and in a quoted attribute,
 * in HTML5 and in XML (see markup.c). */
void put_text(FILE *out, const char *s, size_t n);
void put_str(FILE *out, const char *s); /* NULL writes nothing */
void put_time(FILE *out, int64_t us);   /* "YYYY-MM-DD HH:MM:SS[.ffffff]" */
void put_count(FILE *out, long long v); /* thin spaces between thousands */
void put_real(FILE *out, double v);     /* a precision suited to its size */
/* Byte-order comparison of two length-delimited strings (sv_cmp's order,
 * which is also SQLite's BINARY collation). */
int bytes_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
