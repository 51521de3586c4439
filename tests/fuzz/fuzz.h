/*
 * fuzz.h — what the fuzz targets share (tests/fuzz/).
 *
 * Each target defines LLVMFuzzerTestOneInput().  Built with clang and
 * -fsanitize=fuzzer (`make fuzz`) it is driven by libFuzzer; built by the
 * normal build (`make check`), it is linked with standalone_main.c, which
 * feeds it every file of the committed corpus once: a regression run, so a
 * crash found once stays fixed, with no clang needed.
 *
 * A broken invariant aborts (FUZZ_CHECK), which both drivers report as a
 * crash with the message on stderr.
 */
#ifndef TELEMETRA_FUZZ_H
#define TELEMETRA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                    \
	do {                                                                                         \
		if (!(cond)) {                                                                           \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);       \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
			abort();                                                                             \
		}                                                                                        \
	} while (0)

#endif
