/*
 * sha256.h — SHA-256 (FIPS 180-4), to fingerprint input files in the runs
 * table while they are read, without a second pass or a crypto library.
 */
#ifndef TELEMETRA_SHA256_H
#define TELEMETRA_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t length; /* bytes hashed so far */
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Finish and write the digest as 64 lower-case hex digits plus NUL. */
void sha256_hex(struct sha256 *s, char out[65]);

#endif
