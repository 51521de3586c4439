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
#include <getopt.h>
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
#include "util/options.h"

static void usage(void)
{
	printf("Usage: telemetra report [OPTIONS] DB\n\n"
	       "Render the output of `telemetra replay` or `live` (a SQLite file, or a PostgreSQL\n"
	       "URL such as postgresql://user@host/db) as one self-contained HTML page:\n"
	       "the runs that produced it, one chart per stream (chat_rate over time, the\n"
	       "z-score baseline band, the spike threshold, detected moments and, with\n"
	       "--labels, the true moments) and the moments by intensity.  The page needs\n"
	       "no script, network or font: open it in any browser, attach it to a mail.\n\n"
	       "Options:\n"
	       "  -o, --output=FILE   write the page to FILE (default report.html; - for\n"
	       "                      standard output); replaced only when complete\n"
	       "      --labels=FILE   mark true moments: JSON Lines {stream_id, start, end,\n"
	       "                      kind} with RFC 3339 times, as `telemetra gen --labels`\n"
	       "                      writes them; the page then opens with precision,\n"
	       "                      recall, F1 and false alarms per stream-hour, scored as\n"
	       "                      `telemetra tune` scores, and lists the missed labels\n"
	       "                      and the false moments\n"
	       "      --tolerance=SECONDS  how far a moment may be from a label and still\n"
	       "                      match (default 30, as tune's)\n"
	       "      --decoys=FILE   draw decoys (the same format, as `gen --decoys` writes\n"
	       "                      them) and name the one each false moment fell for\n"
	       "      --title=TEXT    the page's title (default: one naming the database)\n"
	       "      --stream=ID     only this stream (repeatable)\n"
	       "      --from=TIME, --to=TIME  only windows overlapping [from, to) and moments\n"
	       "                      in it (RFC 3339), e.g. a day of a busy database\n"
	       "  -h, --help          print this help and exit\n"
	       "  -V, --version       print the version and exit\n\n"
	       "Example:\n"
	       "  telemetra replay -o demo.db events.jsonl.gz\n"
	       "  telemetra report --labels labels.jsonl -o demo.html demo.db\n\n"
	       "Exit status: 0 success, 1 the database or labels cannot be read or the page\n"
	       "cannot be written, 2 usage error.\n");
}

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
	enum { OPT_LABELS = 256, OPT_TITLE, OPT_DECOYS, OPT_TOLERANCE, OPT_STREAM, OPT_FROM, OPT_TO };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"labels", required_argument, NULL, OPT_LABELS},
		{"title", required_argument, NULL, OPT_TITLE},
		{"decoys", required_argument, NULL, OPT_DECOYS},
		{"tolerance", required_argument, NULL, OPT_TOLERANCE},
		{"stream", required_argument, NULL, OPT_STREAM},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *output = "report.html", *labels_path = NULL, *title = NULL, *decoys_path = NULL;
	int64_t tolerance_us = 30 * USEC_PER_SEC; /* tune's default */
	struct report_filter filter = {0};
	const char **streams = NULL; /* into argv; the array is ours */
	size_t cap_streams = 0;
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
		case OPT_DECOYS:
			decoys_path = optarg;
			break;
		case OPT_STREAM:
			if (!*optarg)
				die_usage("--stream needs a stream id");
			streams = grow_array(streams, sizeof(*streams), &cap_streams, filter.n_streams + 1);
			streams[filter.n_streams++] = optarg;
			filter.streams = streams;
			break;
		case OPT_FROM:
		case OPT_TO: {
			int64_t *us = ch == OPT_FROM ? &filter.from_us : &filter.to_us;
			if (!timestamp_parse_text(optarg, strlen(optarg), us))
				die_usage("%s: expected an RFC 3339 time such as 2025-11-23T12:00:00Z, got '%s'",
				          ch == OPT_FROM ? "--from" : "--to", optarg);
			*(ch == OPT_FROM ? &filter.has_from : &filter.has_to) = true;
			break;
		}
		case OPT_TOLERANCE:
			if (!parse_seconds(optarg, &tolerance_us))
				die_usage("--tolerance: expected a number of seconds such as 30, got '%s'",
				          optarg);
			break;
		case 'h':
			usage();
			free(streams);
			return EXIT_OK;
		case 'V':
			print_version();
			free(streams);
			return EXIT_OK;
		default: {
			char problem[160];
			option_problem(problem, sizeof problem, ch, argv, longopts);
			free(streams);
			die_usage("%s", problem);
		}
		}
	}
	if (optind == argc)
		die_usage("expected one database: a SQLite file written by telemetra replay, or a "
		          "PostgreSQL URL");
	if (optind != argc - 1)
		die_usage("expected one database, got %d arguments", argc - optind);
	if (filter.has_from && filter.has_to && filter.to_us <= filter.from_us)
		die_usage("--to must be after --from");
	struct target target;
	struct error err;
	if (!target_parse(&target, argv[optind], &err))
		die_usage("%s", err.msg);
	if (!*output)
		die_usage("--output needs a file name (or - for standard output)");

	struct labels labels = {NULL, 0};
	if (labels_path && !labels_load(&labels, labels_path, &err)) {
		log_error("%s", err.msg);
		target_free(&target);
		free(streams);
		return EXIT_RUNTIME;
	}
	struct labels decoys = {NULL, 0};
	if (decoys_path && !labels_load(&decoys, decoys_path, &err)) {
		log_error("%s", err.msg);
		labels_free(&labels);
		target_free(&target);
		free(streams);
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
		free(streams);
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
	free(streams);
	return status;
}
