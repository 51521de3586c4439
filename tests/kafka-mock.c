/*
 * kafka-mock — a throwaway Kafka cluster for the integration tests.
 *
 * It runs librdkafka's built-in mock cluster (rdkafka_mock.h): real brokers
 * that speak the Kafka wire protocol on loopback TCP ports, holding their log
 * in memory. Any Kafka client (the live daemon, kcat) reaches them exactly as
 * it would a real cluster.
 *
 * How a test drives it (see tests/harness-smoke.sh):
 *
 *   1. start it with stdin and stdout connected to the test script
 *      (a bash coprocess, or two fifos);
 *   2. read one line from its stdout: `bootstrap=127.0.0.1:PORT,...`;
 *      the topics exist and the brokers accept connections from then on;
 *   3. write commands to its stdin, one per line, and read one answer line
 *      (`ok` or `error: ...`) for each:
 *        down ID | up ID     take broker ID down (connections are closed and
 *                            new ones refused) or bring it back up
 *        down all | up all   the same for every broker
 *        quit                exit
 *   4. EOF on stdin, `quit`, SIGTERM or SIGINT: destroy the cluster, exit 0.
 *
 * Diagnostics go to stderr; stdout carries only the protocol above.
 * Exit status: 0 after a clean shutdown, 2 for bad usage, 1 otherwise.
 *
 * What the mock of librdkafka 2.0.2 does (checked with kcat and librdkafka
 * consumers; see tests/harness-smoke.sh):
 *   - produce, fetch, list offsets, metadata; balanced consumer groups
 *     (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit/Fetch);
 *   - a group's first join completes after 3 s; any later rebalance (a
 *     member joins, leaves or times out) after session.timeout.ms - 1 s,
 *     so consumers in tests should use a short session.timeout.ms;
 *   - a broker that is down refuses connections; its partitions have no
 *     leader failover (metadata still names it), so they are unavailable;
 *     if it is the group's coordinator (chosen by hashing the group id),
 *     members keep fetching from the other brokers until session.timeout.ms
 *     expires, then lose their assignment until it is up again;
 *   - metadata lists every broker as replica of every partition whatever
 *     the replication factor asked for.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* getopt_long, strtok_r, sigaction under -std=c11 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 32
#define LINE_MAX_LEN 256

static const char *const default_topics[] = {
	"telemetra.events.chat",
	"telemetra.events.viewer",
};

/* Self-pipe: the signal handler writes a byte, the main loop polls for it. */
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(sig_pipe[1], &b, 1) < 0) {
		/* Pipe full: a wake-up is already pending, nothing to do. */
	}
	errno = saved;
}

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"usage: %s [--brokers N] [--partitions P] [--topic NAME]...\n"
		"\n"
		"Run a librdkafka mock Kafka cluster on loopback TCP ports.\n"
		"\n"
		"  --brokers N      number of brokers, ids 1..N (default 3)\n"
		"  --partitions P   partitions per topic (default 4)\n"
		"  --topic NAME     create topic NAME, replication factor 1;\n"
		"                   repeatable (default: telemetra.events.chat\n"
		"                   and telemetra.events.viewer)\n"
		"  --help           show this help\n"
		"\n"
		"Once ready, prints one line `bootstrap=HOST:PORT,...` on stdout,\n"
		"then answers each command line read on stdin with `ok` or\n"
		"`error: ...`:\n"
		"  down ID | up ID | down all | up all | quit\n"
		"EOF on stdin, SIGTERM or SIGINT shut it down (exit 0).\n",
		argv0);
}

/* Parse a positive decimal int; return -1 if it is not one. */
static int parse_positive(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 1 || v > INT_MAX)
		return -1;
	return (int)v;
}

/* Write one answer line to stdout and flush it: the test waits for it. */
static void answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void answer(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Execute one command line and answer it.
 * Returns 1 if the program should quit, 0 otherwise.
 */
static int run_command(rd_kafka_mock_cluster_t *mc, int brokers, char *line)
{
	char *save = NULL;
	char *verb = strtok_r(line, " \t\r", &save);
	char *arg = verb ? strtok_r(NULL, " \t\r", &save) : NULL;
	char *extra = arg ? strtok_r(NULL, " \t\r", &save) : NULL;

	if (verb && strcmp(verb, "quit") == 0 && !arg) {
		answer("ok");
		return 1;
	}
	int down = verb && strcmp(verb, "down") == 0;
	if (!verb || !(down || strcmp(verb, "up") == 0) || !arg || extra) {
		answer("error: bad command '%s%s%s' (expected: down ID|all, "
		       "up ID|all, quit)", verb ? verb : "", arg ? " " : "",
		       arg ? arg : "");
		return 0;
	}

	/* -1 means "every broker" to rd_kafka_mock_broker_set_down/up. */
	int id = strcmp(arg, "all") == 0 ? -1 : parse_positive(arg);
	if (id == -1 && strcmp(arg, "all") != 0) {
		answer("error: bad broker id '%s' (expected 1..%d or all)",
		       arg, brokers);
		return 0;
	}
	if (id > brokers) {
		answer("error: no broker %d (brokers are 1..%d)", id, brokers);
		return 0;
	}
	rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(mc, id) :
					 rd_kafka_mock_broker_set_up(mc, id);
	if (err)
		answer("error: %s %s: %s", verb, arg, rd_kafka_err2str(err));
	else
		answer("ok");
	return 0;
}

/*
 * Read commands from stdin until quit, EOF or a signal. stdin is read with
 * read(2) after poll(2) so that a signal (via the self-pipe) interrupts the
 * wait without races.
 */
static void command_loop(rd_kafka_mock_cluster_t *mc, int brokers)
{
	char buf[LINE_MAX_LEN];
	size_t len = 0;
	int overlong = 0; /* discarding the rest of a too-long line */

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = sig_pipe[0], .events = POLLIN },
		};
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("kafka-mock: poll");
			return;
		}
		if (fds[1].revents) {
			fprintf(stderr, "kafka-mock: signal received, "
					"shutting down\n");
			return;
		}
		if (!fds[0].revents)
			continue;

		ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("kafka-mock: read stdin");
			return;
		}
		if (n == 0) /* EOF: the test script went away */
			return;
		len += (size_t)n;

		/* Execute every complete line in the buffer. */
		char *nl;
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			int quit = 0;
			if (overlong) {
				overlong = 0;
				answer("error: command line too long");
			} else {
				quit = run_command(mc, brokers, buf);
			}
			size_t used = (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len - used);
			len -= used;
			if (quit)
				return;
		}
		if (len == sizeof buf) { /* no newline in a full buffer */
			overlong = 1;
			len = 0;
		}
	}
}

int main(int argc, char **argv)
{
	int brokers = 3, partitions = 4;
	const char *topics[MAX_TOPICS];
	int ntopics = 0;

	static const struct option longopts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "partitions", required_argument, NULL, 'p' },
		{ "topic", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "b:p:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if ((brokers = parse_positive(optarg)) < 0) {
				fprintf(stderr, "kafka-mock: --brokers wants a "
						"positive number, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			if ((partitions = parse_positive(optarg)) < 0) {
				fprintf(stderr, "kafka-mock: --partitions wants "
						"a positive number, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (ntopics == MAX_TOPICS) {
				fprintf(stderr, "kafka-mock: at most %d "
						"--topic options\n",
					MAX_TOPICS);
				return 2;
			}
			topics[ntopics++] = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kafka-mock: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr, argv[0]);
		return 2;
	}
	if (ntopics == 0) {
		for (size_t i = 0;
		     i < sizeof default_topics / sizeof default_topics[0]; i++)
			topics[ntopics++] = default_topics[i];
	}

	/* Signals: SIGTERM/SIGINT wake the command loop; a test script that
	 * stops reading our stdout must not kill us with SIGPIPE. */
	if (pipe(sig_pipe) < 0 ||
	    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK) < 0) {
		perror("kafka-mock: self-pipe");
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The mock cluster needs a client instance for its bookkeeping; this
	 * producer never connects anywhere itself. */
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* log_level 4 (warning) hides the notice that this instance has no
	 * bootstrap.servers, which is intended. */
	if (rd_kafka_conf_set(conf, "client.id", "kafka-mock", errstr,
			      sizeof errstr) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", "4", errstr,
			      sizeof errstr) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_t *rk =
		rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (!rk) {
		fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}

	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "kafka-mock: cannot create a mock cluster of "
				"%d brokers\n",
			brokers);
		rd_kafka_destroy(rk);
		return 1;
	}

	int status = 0;
	for (int i = 0; i < ntopics; i++) {
		rd_kafka_resp_err_t err =
			rd_kafka_mock_topic_create(mc, topics[i], partitions, 1);
		if (err) {
			fprintf(stderr, "kafka-mock: cannot create topic %s: "
					"%s\n",
				topics[i], rd_kafka_err2str(err));
			status = 1;
		}
	}

	if (status == 0) {
		/* The listeners are bound by rd_kafka_mock_cluster_new() and
		 * the topics created synchronously, so clients can connect
		 * as soon as they read this line. */
		printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
		fflush(stdout);
		fprintf(stderr, "kafka-mock: %d broker(s), %d topic(s) of %d "
				"partition(s) at %s\n",
			brokers, ntopics, partitions,
			rd_kafka_mock_cluster_bootstraps(mc));
		command_loop(mc, brokers);
	}

	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return status;
}
