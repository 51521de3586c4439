/*
 * sha256.c — SHA-256 of input files as they are read (util/sha256.h),
 * through libcrypto's EVP interface.
 */
#include "config.h"

#include "util/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

void sha256_init(struct sha256 *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort(); /* only on out of memory */
	s->ctx = ctx;
	s->length = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	EVP_DigestUpdate(s->ctx, data, n);
	s->length += n;
}

void sha256_hex(const struct sha256 *s, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	if (!copy || !EVP_MD_CTX_copy_ex(copy, s->ctx) || !EVP_DigestFinal_ex(copy, md, &len))
		abort();
	EVP_MD_CTX_free(copy);
	for (unsigned i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void sha256_free(struct sha256 *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}
