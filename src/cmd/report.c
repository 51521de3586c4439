/*
 * telemetra report — a self-contained HTML page from a replay's output.
 *
 * The command checks everything it can before it creates anything: the
 * options, the labels file (every line), and that the database is a
 * telemetra output.  The page is then written to a temporary file beside
 * the target and renamed into place only when it is complete, so a failed
 * run never leaves a truncated report (or replaces a good one).  `-o -`
 * writes to standard output instead.  The rendering is in src/report/.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/timestamp.h"
#include "io/target.h"
#include "report/report.h"
#include "util/log.h"
#include "util/new_file.h"
#include "cli/options.h"

static const struct command_help help = {
	"report",
	CMD_REPORT,
	"[OPTIONS] DB",
	"Render the output of `telemetra replay` or `live` (a SQLite file, or a PostgreSQL\n"
	"URL such as postgresql://user@host/db) as one self-contained HTML page:\n"
	"the runs that produced it, one chart per stream (chat_rate over time, the\n"
	"baseline each chat spike was compared against, detected moments and, with\n"
	"--labels, the true moments) and the moments by intensity.  The page needs\n"
	"no script, network or font: open it in any browser, attach it to a mail.\n\n"
	"Example:\n"
	"  telemetra replay -o demo.db events.jsonl.gz\n"
	"  telemetra report --labels labels.jsonl -o demo.html demo.db",
};

/* Write the page beside path and put it in place once complete.  Returns
 * the exit status. */
static int write_file(struct report *r, const struct report_params *p, const char *path)
{
	struct new_file nf;
	struct error err;
	if (!new_file_create(&nf, path, &err)) {
		log_error("%s", err.msg);
		return EXIT_RUNTIME;
	}
	FILE *out = fdopen(nf.fd, "w");
	if (!out) {
		log_error("cannot create %s: %s", path, strerror(errno));
		new_file_discard(&nf);
		return EXIT_RUNTIME;
	}
	nf.fd = -1; /* out owns it now */
	bool ok = report_write(r, p, out, &err);
	if (!ok)
		log_error("%s", err.msg);
	bool failed_write = ferror(out) != 0;
	if (fclose(out) != 0 || failed_write) {
		if (ok)
			log_error("cannot write %s: %s", path, strerror(errno ? errno : EIO));
		ok = false;
	}
	if (!ok) {
		new_file_discard(&nf);
		return EXIT_RUNTIME;
	}
	if (!new_file_commit(&nf, &err)) {
		log_error("%s", err.msg);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* Drop, in place, the labels (or decoys) the filter leaves out: of another
 * stream, or not overlapping [from, to).  Scoring a day of one stream
 * against every label of the file would count the others as missed. */
static void filter_labels(struct labels *l, const struct report_filter *f)
{
	size_t w = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct label *x = &l->v[i];
		bool keep = (!f->has_from || x->end_us > f->from_us) && (!f->has_to || x->start_us < f->to_us);
		if (keep && f->n_streams) {
			keep = false;
			for (size_t k = 0; k < f->n_streams && !keep; k++)
				keep = strlen(f->streams[k]) == x->stream_id_len &&
				       !memcmp(f->streams[k], x->stream_id, x->stream_id_len);
		}
		if (keep) {
			l->v[w++] = *x;
		} else {
			free(x->stream_id);
			free(x->kind);
		}
	}
	l->n = w;
}

int cmd_report(int argc, char **argv)
{
	struct config cfg; /* owns every string below; freed at the end */
	config_init(&cfg);
	int first = config_load(&cfg, &help, argc, argv);
	const char *output = cfg.output ? cfg.output : "report.html", *labels_path = cfg.labels,
	           *title = cfg.title, *decoys_path = cfg.decoys;
	int64_t tolerance_us = cfg.tolerance_us;
	struct report_filter filter = {0};
	filter.streams = (const char *const *)cfg.streams;
	filter.n_streams = cfg.n_streams;
	for (size_t i = 0; i < cfg.n_streams; i++)
		if (!*cfg.streams[i])
			die_usage("--stream needs a stream id");
	const char *range[2] = {cfg.range_from, cfg.range_to};
	for (int k = 0; k < 2; k++) {
		int64_t *us = k == 0 ? &filter.from_us : &filter.to_us;
		if (!range[k])
			continue;
		if (!timestamp_parse_text(range[k], strlen(range[k]), us))
			die_usage("%s: expected an RFC 3339 time such as 2025-11-23T12:00:00Z, got '%s'",
			          k == 0 ? "--from" : "--to", range[k]);
		*(k == 0 ? &filter.has_from : &filter.has_to) = true;
	}
	if (first == argc)
		die_usage("expected one database: a SQLite file written by telemetra replay, or a "
		          "PostgreSQL URL");
	if (first != argc - 1)
		die_usage("expected one database, got %d arguments", argc - first);
	if (filter.has_from && filter.has_to && filter.to_us <= filter.from_us)
		die_usage("--to must be after --from");
	struct target target;
	struct error err;
	if (!target_parse(&target, argv[first], &err))
		die_usage("%s", err.msg);
	if (!*output)
		die_usage("--output needs a file name (or - for standard output)");
	new_file_refuse_input(output,
	                      (const char *const[]){target.kind == TARGET_SQLITE ? target.location : NULL,
	                                            labels_path, decoys_path},
	                      3);

	struct labels labels = {NULL, 0};
	if (labels_path && !labels_load(&labels, labels_path, &err)) {
		log_error("%s", err.msg);
		target_free(&target);
		config_free(&cfg);
		return EXIT_RUNTIME;
	}
	struct labels decoys = {NULL, 0};
	if (decoys_path && !labels_load(&decoys, decoys_path, &err)) {
		log_error("%s", err.msg);
		labels_free(&labels);
		target_free(&target);
		config_free(&cfg);
		return EXIT_RUNTIME;
	}
	filter_labels(&labels, &filter);
	filter_labels(&decoys, &filter);
	struct report *r = report_open(&target, &filter, &err);
	if (!r) {
		log_error("%s", err.msg);
		labels_free(&labels);
		labels_free(&decoys);
		target_free(&target);
		config_free(&cfg);
		return EXIT_RUNTIME;
	}
	struct report_params params = {title,        labels_path ? &labels : NULL,
	                               labels_path,  tolerance_us,
	                               decoys_path ? &decoys : NULL, decoys_path};
	int status;
	if (!strcmp(output, "-")) {
		bool ok = report_write(r, &params, stdout, &err);
		if (!ok)
			log_error("%s", err.msg);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			if (ok)
				log_error("cannot write standard output: %s", strerror(errno ? errno : EIO));
			ok = false;
		}
		status = ok ? EXIT_OK : EXIT_RUNTIME;
	} else {
		status = write_file(r, &params, output);
	}
	report_close(r);
	labels_free(&labels);
	target_free(&target);
	labels_free(&decoys);
	config_free(&cfg);
	return status;
}
