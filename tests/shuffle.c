/*
 * shuffle — reorder a JSON Lines event log so that every event is displaced
 * by less than a given delay, for the property test (tests/property.sh).
 *
 *   shuffle SEED DELAY_SECONDS < in.jsonl > out.jsonl
 *
 * Each event with time t gets the key t + u, u uniform in [0, DELAY), and
 * lines are emitted by key.  An event then never arrives after an event
 * whose time is t + DELAY or more, so a watermark of "max time - DELAY"
 * never overtakes it: the output of the core must not change.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_scan.h"
#include "core/timestamp.h"

struct line {
	int64_t key;
	size_t index;
	char *text;
};

static uint64_t rng_state;

static uint64_t next_random(void)
{
	/* splitmix64: small and good enough to draw displacements */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int by_key(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: shuffle SEED DELAY_SECONDS < in > out\n");
		return 2;
	}
	rng_state = strtoull(argv[1], NULL, 10);
	int64_t delay = (int64_t)(atof(argv[2]) * 1e6);
	struct line *lines = NULL;
	size_t n = 0, cap = 0;
	char *text = NULL;
	size_t text_cap = 0;
	ssize_t len;
	struct jscan scan = {0};
	while ((len = getline(&text, &text_cap, stdin)) > 0) {
		int64_t t = 0;
		if (jscan_object(&scan, text, (size_t)len, NULL) == JSCAN_OK) {
			const struct jscan_member *m = jscan_find(&scan, "timestamp");
			if (m && m->value.type == JS_STRING)
				timestamp_parse_text(m->value.text.ptr, m->value.text.len, &t);
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			lines = realloc(lines, cap * sizeof(*lines));
		}
		/* Displacement in [0, delay): strictly less than the delay. */
		int64_t u = delay > 0 ? (int64_t)(next_random() % (uint64_t)delay) : 0;
		lines[n] = (struct line){t + u, n, strdup(text)};
		n++;
	}
	qsort(lines, n, sizeof(*lines), by_key);
	for (size_t i = 0; i < n; i++) {
		fputs(lines[i].text, stdout);
		free(lines[i].text);
	}
	free(lines);
	free(text);
	jscan_free(&scan);
	return ferror(stdout) ? 1 : 0;
}
