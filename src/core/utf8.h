/*
 * utf8.h — UTF-8 validation, as RFC 3629 defines it: no overlong forms,
 * no surrogates, nothing above U+10FFFF.
 */
#ifndef TELEMETRA_UTF8_H
#define TELEMETRA_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid sequence starting at p (1..4), or 0 if invalid. */
size_t utf8_sequence_length(const unsigned char *p, size_t avail);
bool utf8_valid(const char *p, size_t n);
/* Encode code point cp (must be valid) into out; returns the byte count. */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
