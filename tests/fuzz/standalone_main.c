/*
 * standalone_main.c — the driver of a fuzz target without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once over each file named, or each file of each
 * directory named (sorted, so runs are repeatable), and says how many.
 * Used by `make check` (tests/fuzz/regress.sh) to replay the corpus.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* The caller frees the result; NULL if the file cannot be read. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *data = malloc(cap);
	size_t got;
	while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *bigger = realloc(data, cap *= 2);
			if (!bigger)
				free(data);
			data = bigger;
		}
	}
	fclose(f);
	*len = n;
	return data;
}

static int run_file(const char *path)
{
	size_t len;
	uint8_t *data = slurp(path, &len);
	if (!data) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	size_t runs = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]))
				return 1;
			runs++;
			continue;
		}
		DIR *dir = opendir(argv[i]);
		if (!dir)
			return 1;
		char **names = NULL;
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof(*names));
			size_t len = strlen(argv[i]) + strlen(de->d_name) + 2;
			names[n] = malloc(len);
			snprintf(names[n++], len, "%s/%s", argv[i], de->d_name);
		}
		closedir(dir);
		qsort(names, n, sizeof(*names), by_name);
		for (size_t k = 0; k < n; k++) {
			if (run_file(names[k]))
				return 1;
			free(names[k]);
			runs++;
		}
		free(names);
	}
	printf("%s: %zu inputs, no invariant broken\n", argv[0], runs);
	return 0;
}
