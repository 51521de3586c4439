/*
 * buf.h — a growable byte buffer, always NUL-terminated so that its
 * contents can be handed to C string functions.  The buffer owns its
 * memory; buf_free() releases it, buf_detach() hands it to the caller.
 */
#ifndef TELEMETRA_BUF_H
#define TELEMETRA_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* The caller owns the returned string (free() it); the buffer is reset. */
char *buf_detach(struct buf *b);
/* Append s as a JSON string literal, quotes included; bytes that are not
 * valid UTF-8 become U+FFFD so that the output is always valid JSON. */
void buf_add_json_string(struct buf *b, const char *s, size_t n);

#endif
