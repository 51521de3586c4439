/*
 * secret.h — keeping passwords out of logs and output tables.
 */
#ifndef TELEMETRA_SECRET_H
#define TELEMETRA_SECRET_H

/*
 * A copy of a connection string with every password replaced by "***":
 * the user-info password of a URL (scheme://user:PASSWORD@host), and any
 * password=VALUE in a query string or a libpq conninfo (quoted or not).
 * The caller frees the result.
 */
char *redact_secrets(const char *s);

#endif
