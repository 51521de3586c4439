/*
 * telemetra report — a self-contained HTML page from a replay's output.
 *
 * The command checks everything it can before it creates anything: the
 * options, the labels file (every line), and that the database is a
 * telemetra output.  The page is then written to a temporary file beside
 * the target and renamed into place only when it is complete, so a failed
 * run never leaves a truncated report (or replaces a good one).  `-o -`
 * writes to standard output instead.  The rendering is in io/report_html.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "io/dump.h"
#include "io/report_html.h"
#include "util/log.h"

static void usage(void)
{
	printf("Usage: telemetra report [OPTIONS] DB\n\n"
	       "Render the SQLite output of `telemetra replay` as one self-contained HTML page:\n"
	       "the runs that produced it, one chart per stream (chat_rate over time, the\n"
	       "z-score baseline band, the spike threshold, detected moments and, with\n"
	       "--labels, the true moments) and the moments by intensity.  The page needs\n"
	       "no script, network or font: open it in any browser, attach it to a mail.\n\n"
	       "Options:\n"
	       "  -o, --output=FILE   write the page to FILE (default report.html; - for\n"
	       "                      standard output); replaced only when complete\n"
	       "      --labels=FILE   mark true moments: JSON Lines {stream_id, start, end,\n"
	       "                      kind} with RFC 3339 times, as `telemetra gen --labels`\n"
	       "                      writes them\n"
	       "      --title=TEXT    the page's title (default: one naming the database)\n"
	       "  -h, --help          print this help and exit\n"
	       "  -V, --version       print the version and exit\n\n"
	       "Example:\n"
	       "  telemetra replay -o demo.db events.jsonl.gz\n"
	       "  telemetra report --labels labels.jsonl -o demo.html demo.db\n\n"
	       "Exit status: 0 success, 1 the database or labels cannot be read or the page\n"
	       "cannot be written, 2 usage error.\n");
}

/* Write the page to a temporary file beside path, then rename it into
 * place.  Returns the exit status. */
static int write_file(struct report *r, const struct report_params *p, const char *path)
{
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp.data);
	if (fd < 0) {
		log_error("cannot create %s: %s", path, strerror(errno));
		buf_free(&tmp);
		return EXIT_RUNTIME;
	}
	/* mkstemp makes the file private; a report is as readable as any file. */
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0)
		log_warn("cannot set the mode of %s: %s", tmp.data, strerror(errno));
	FILE *out = fdopen(fd, "w");
	if (!out) {
		log_error("cannot create %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp.data);
		buf_free(&tmp);
		return EXIT_RUNTIME;
	}
	struct error err;
	bool ok = report_write(r, p, out, &err);
	if (!ok)
		log_error("%s", err.msg);
	bool failed_write = ferror(out) != 0;
	if (fclose(out) != 0 || failed_write) {
		if (ok)
			log_error("cannot write %s: %s", path, strerror(errno ? errno : EIO));
		ok = false;
	}
	if (ok && rename(tmp.data, path) != 0) {
		log_error("cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(tmp.data);
	buf_free(&tmp);
	return ok ? EXIT_OK : EXIT_RUNTIME;
}

int cmd_report(int argc, char **argv)
{
	enum { OPT_LABELS = 256, OPT_TITLE };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"labels", required_argument, NULL, OPT_LABELS},
		{"title", required_argument, NULL, OPT_TITLE},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *output = "report.html", *labels_path = NULL, *title = NULL;
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":o:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			output = optarg;
			break;
		case OPT_LABELS:
			labels_path = optarg;
			break;
		case OPT_TITLE:
			title = optarg;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		case 'V':
			print_version();
			return EXIT_OK;
		case ':':
			die_usage("%s needs a value", argv[optind - 1]);
		default:
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		die_usage("expected one database: the SQLite file written by telemetra replay");
	if (optind != argc - 1)
		die_usage("expected one database, got %d arguments", argc - optind);
	const char *db_path = argv[optind];
	if (is_postgres_target(db_path))
		die_usage("report reads a SQLite file written by telemetra replay, not PostgreSQL "
		          "(%s)",
		          db_path);
	if (!*output)
		die_usage("--output needs a file name (or - for standard output)");

	struct error err;
	struct labels labels = {NULL, 0};
	if (labels_path && !labels_load(&labels, labels_path, &err)) {
		log_error("%s", err.msg);
		return EXIT_RUNTIME;
	}
	struct report *r = report_open(db_path, &err);
	if (!r) {
		log_error("%s", err.msg);
		labels_free(&labels);
		return EXIT_RUNTIME;
	}
	struct report_params params = {title, labels_path ? &labels : NULL, labels_path};
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
	return status;
}
