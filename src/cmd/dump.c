/*
 * telemetra dump — the canonical text form of an output database.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "io/dump.h"
#include "io/target.h"
#include "util/log.h"

static void usage(void)
{
	printf("Usage: telemetra dump [OPTIONS] DB-OR-URL\n\n"
	       "Print the output tables of a telemetra database (a SQLite file, or a\n"
	       "PostgreSQL URL) in canonical form: CSV sorted by key, doubles with 6\n"
	       "decimals, JSON with sorted keys, wall-clock columns and ids left out.\n"
	       "The text is identical for SQLite and PostgreSQL; golden tests compare it.\n\n"
	       "Options:\n"
	       "  -o, --output=FILE   write to FILE instead of standard output\n"
	       "  -h, --help          print this help and exit\n"
	       "  -V, --version       print the version and exit\n\n"
	       "Exit status: 0 success, 1 the database cannot be read, 2 usage error.\n");
}

int cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *output = NULL;
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		case 'V':
			print_version();
			return EXIT_OK;
		default:
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		die_usage("expected one database: a SQLite file or a PostgreSQL URL");

	struct target target;
	struct error err;
	if (!target_parse(&target, argv[optind], &err))
		die_usage("%s", err.msg);

	FILE *out = stdout;
	if (output && !(out = fopen(output, "w"))) {
		log_error("cannot create %s: %m", output);
		target_free(&target);
		return EXIT_RUNTIME;
	}
	bool ok = target.kind == TARGET_SQLITE ? dump_sqlite(target.location, out, &err)
	                                       : dump_postgres(target.location, out, &err);
	target_free(&target);
	if (!ok)
		log_error("%s", err.msg);
	if ((out != stdout ? fclose(out) : fflush(out)) != 0 && ok) {
		log_error("cannot write %s: %m", output ? output : "standard output");
		ok = false;
	}
	return ok ? EXIT_OK : EXIT_RUNTIME;
}
