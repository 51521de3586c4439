/*
 * secret.h — keeping passwords out of logs and output tables.
 *
 * One place knows where a password sits in a connection string; the
 * redaction here and the PostgreSQL adapter's scrubbing of libpq messages
 * (io/pg.c) both rest on secrets_foreach().
 */
#ifndef TELEMETRA_SECRET_H
#define TELEMETRA_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Call fn for every password written in s: the user-info password of a URL
 * (scheme://user:PASSWORD@host) and the value of every password=VALUE (and
 * sslpassword=...) in a query string or a libpq conninfo.  A quoted
 * conninfo value ('...') is reported without its quotes, its backslash
 * escapes not decoded, with quoted set.  Spans are in order.
 */
typedef void (*secret_fn)(void *ctx, const char *start, size_t len, bool quoted);
void secrets_foreach(const char *s, secret_fn fn, void *ctx);

/* A copy of s with every password replaced by "***".  The caller frees
 * the result. */
char *redact_secrets(const char *s);

#endif
