/*
 * telemetra dump — the canonical text form of an output database.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "io/dump.h"
#include "io/target.h"
#include "util/log.h"
#include "util/new_file.h"
#include "cli/options.h"

static const struct command_help help = {
	"dump",
	CMD_DUMP,
	"[OPTIONS] DB-OR-URL",
	"Print the output tables of a telemetra database (a SQLite file, or a\n"
	"PostgreSQL URL) in canonical form: CSV sorted by key, doubles with 6\n"
	"decimals, JSON with sorted keys, wall-clock columns and ids left out.\n"
	"The text is identical for SQLite and PostgreSQL; golden tests compare it.",
};

int cmd_dump(int argc, char **argv)
{
	struct config cfg; /* owns output; freed at the end */
	config_init(&cfg);
	int first = config_load(&cfg, &help, argc, argv);
	const char *output = cfg.output;
	if (first != argc - 1)
		die_usage("expected one database: a SQLite file or a PostgreSQL URL");

	struct target target;
	struct error err;
	if (!target_parse(&target, argv[first], &err))
		die_usage("%s", err.msg);

	/* -o FILE appears whole or not at all: no empty or cut dump is left
	 * behind by a database that cannot be read or a full disk. */
	FILE *out = stdout;
	struct new_file nf = {NULL, NULL, -1, false};
	if (output && target.kind == TARGET_SQLITE)
		new_file_refuse_input(output, (const char *const[]){target.location}, 1);
	if (output) {
		if (!new_file_create(&nf, output, &err)) {
			log_error("%s", err.msg);
			target_free(&target);
			config_free(&cfg);
			return EXIT_RUNTIME;
		}
		if (!(out = fdopen(nf.fd, "w"))) {
			log_error("cannot create %s: %s", output, strerror(errno));
			new_file_discard(&nf);
			target_free(&target);
			config_free(&cfg);
			return EXIT_RUNTIME;
		}
		nf.fd = -1; /* out owns it */
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
	if (output && ok && !new_file_commit(&nf, &err)) {
		log_error("%s", err.msg);
		ok = false;
	}
	if (output && !ok)
		new_file_discard(&nf);
	config_free(&cfg);
	return ok ? EXIT_OK : EXIT_RUNTIME;
}
