/*
 * telemetra — real-time analytics of live-streaming chat.
 *
 * This file only dispatches to a subcommand; each lives in src/cmd/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/json_scan.h"
#include "util/log.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"replay", cmd_replay, "run the core over recorded event files into SQLite"},
	{"live", cmd_live, "consume Kafka and write PostgreSQL, exactly once"},
	{"dump", cmd_dump, "print the canonical text form of an output database"},
	{"migrate", cmd_migrate, "create or upgrade the output schema"},
	{"tune", cmd_tune, "run a grid of configurations over event files"},
	{"gen", cmd_gen, "write a synthetic, reproducible event log"},
	{"report", cmd_report, "render an HTML report of a replay's output"},
	{"capture", cmd_capture, "read a bounded range of Kafka into a capture file"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: telemetra COMMAND [OPTIONS] [ARGS]\n\n"
	             "Real-time analytics of live-streaming chat: sliding-window metrics,\n"
	             "lexicon sentiment and z-score moments.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'telemetra COMMAND --help' (or 'telemetra help COMMAND') for the options\n"
	             "of a command.\n"
	             "See telemetra(1) for the full manual.\n");
}

/* TELEMETRA_SCANNER=portable|sse2|avx2 forces the JSON scanner's block
 * path (core/json_scan.h), so tests can check that every path gives the
 * same results; unset, the best the CPU has is used. */
static void select_scanner(void)
{
	const char *want = getenv("TELEMETRA_SCANNER");
	if (!want || !*want)
		return;
	static const enum jscan_simd paths[] = {JSCAN_PORTABLE, JSCAN_SSE2, JSCAN_AVX2};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (strcmp(want, jscan_simd_name(paths[i])))
			continue;
		if (jscan_simd_select(paths[i]))
			return;
		die_usage("TELEMETRA_SCANNER=%s: this CPU or build has no %s path; the best here is %s",
		          want, want, jscan_simd_name(jscan_simd_best()));
	}
	die_usage("TELEMETRA_SCANNER=%s: expected portable, sse2 or avx2 (or unset it)", want);
}

int main(int argc, char **argv)
{
	select_scanner();
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") && argc >= 3) {
		/* telemetra help CMD = telemetra CMD --help */
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (!strcmp(argv[2], commands[i].name)) {
				char *args[] = {argv[2], "--help", NULL};
				log_set_command(commands[i].name);
				return commands[i].run(2, args);
			}
		}
		die_usage("unknown command '%s'; commands are replay, live, dump, migrate, tune, gen, "
		          "report, capture", argv[2]);
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		print_version();
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(name, commands[i].name)) {
			log_set_command(commands[i].name);
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	die_usage("unknown command '%s'; commands are replay, live, dump, migrate, tune, gen, report, capture", name);
}
