/*
 * ops_http.c — the HTTP side of the daemon's metrics and health checks.
 *
 * libmicrohttpd runs its own polling thread; every request is answered
 * from what the consumer last published (a string and a few facts, under a
 * mutex the consumer only ever try-locks) plus the process metrics, read
 * here from the kernel at scrape time.  Nothing here touches the daemon's
 * own data structures.
 */
#include "config.h"

#include "ops/ops_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "util/clock.h"
#include "util/log.h"

struct ops_http {
	struct MHD_Daemon *mhd;
	int port;
	double start_time; /* Unix seconds */
	pthread_mutex_t lock;
	char *text; /* the consumer's exposition; NULL before the first */
	size_t len;
	struct ops_ready ready;
};

/* The standard process_* metrics of Prometheus client libraries. */
static void process_metrics(const struct ops_http *h, struct buf *b)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	buf_printf(b, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
	              "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n", cpu);

	long page = sysconf(_SC_PAGESIZE);
	unsigned long long vsize = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &vsize, &rss) == 2) {
			buf_printf(b, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			              "# TYPE process_resident_memory_bytes gauge\n"
			              "process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
			buf_printf(b, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
			              "# TYPE process_virtual_memory_bytes gauge\n"
			              "process_virtual_memory_bytes %llu\n", vsize * (unsigned long long)page);
		}
		fclose(f);
	}
	DIR *dir = opendir("/proc/self/fd");
	if (dir) {
		long n = 0;
		while (readdir(dir))
			n++;
		closedir(dir);
		/* less ".", ".." and the directory's own descriptor */
		buf_printf(b, "# HELP process_open_fds Number of open file descriptors.\n"
		              "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n", n - 3);
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		buf_printf(b, "# HELP process_max_fds Maximum number of open file descriptors.\n"
		              "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
		           (unsigned long long)rl.rlim_cur);
	buf_printf(b, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
	              "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
	           h->start_time);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             struct buf *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(body->len, body->data ? body->data : "",
	                                                         MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* 200 and "ready: ..." or 503 and the one-line reason why not. */
static unsigned readiness(const struct ops_ready *r, double now, struct buf *why)
{
	if (!r->assigned) {
		buf_adds(why, "not ready: no partitions assigned\n");
		return 503;
	}
	if (!r->sink_up) {
		buf_adds(why, "not ready: the database cannot be reached, consumption paused\n");
		return 503;
	}
	if (!r->last_ok) {
		buf_adds(why, "not ready: nothing committed yet\n");
		return 503;
	}
	if (now - r->last_ok > r->max_age) {
		buf_printf(why, "not ready: last commit %.0f s ago, more than %.0f s\n", now - r->last_ok,
		           r->max_age);
		return 503;
	}
	buf_printf(why, "ready: %zu partitions, last commit %.1f s ago\n", r->assigned,
	           now - r->last_ok);
	return 200;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	struct ops_http *h = cls;
	struct buf body = BUF_INIT;
	unsigned status = 200;
	const char *type = "text/plain; charset=utf-8";
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		buf_adds(&body, "only GET\n");
		status = 405;
	} else if (!strcmp(url, "/metrics")) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		pthread_mutex_lock(&h->lock);
		if (h->text)
			buf_add(&body, h->text, h->len);
		pthread_mutex_unlock(&h->lock);
		process_metrics(h, &body);
	} else if (!strcmp(url, "/healthz")) {
		buf_adds(&body, "ok\n");
	} else if (!strcmp(url, "/readyz")) {
		pthread_mutex_lock(&h->lock);
		struct ops_ready r = h->ready;
		pthread_mutex_unlock(&h->lock);
		status = readiness(&r, monotonic_seconds(), &body);
	} else {
		buf_adds(&body, "not found: try /metrics, /healthz or /readyz\n");
		status = 404;
	}
	enum MHD_Result rc = reply(c, status, type, &body);
	buf_free(&body);
	return rc;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	text[strcspn(text, "\n")] = '\0';
	log_library("libmicrohttpd", 4, "http", text);
}

struct ops_http *ops_http_start(const char *addr, bool *usage, struct error *err)
{
	*usage = true;
	/* ADDR:PORT, [IPv6]:PORT or :PORT */
	const char *colon = strrchr(addr, ':');
	if (!colon || !colon[1]) {
		error_set(err, "--metrics %s: expected ADDR:PORT, such as 127.0.0.1:9464 or :9464", addr);
		return NULL;
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535) {
		error_set(err, "--metrics %s: the port must be a number from 0 to 65535", addr);
		return NULL;
	}
	char host[256];
	size_t hlen = (size_t)(colon - addr);
	if (hlen >= sizeof(host)) {
		error_set(err, "--metrics: the address is too long");
		return NULL;
	}
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	char service[16];
	snprintf(service, sizeof(service), "%ld", port);
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(*host ? host : NULL, service, &hints, &ai);
	if (gai) {
		error_set(err, "--metrics %s: cannot resolve '%s': %s", addr, host, gai_strerror(gai));
		return NULL;
	}
	*usage = false;
	struct ops_http *h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->start_time = (double)wall_clock_us() / 1e6;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, h,
	                          MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	                          MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	                          MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->mhd) {
		error_set(err, "--metrics %s: cannot listen there (%s); is the port in use?", addr,
		          strerror(errno));
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : (int)port;
	return h;
}

int ops_http_port(const struct ops_http *h) { return h ? h->port : 0; }

bool ops_http_publish(struct ops_http *h, char *text, size_t len, const struct ops_ready *r)
{
	if (pthread_mutex_trylock(&h->lock) != 0)
		return false;
	char *old = h->text;
	h->text = text;
	h->len = len;
	h->ready = *r;
	pthread_mutex_unlock(&h->lock);
	free(old);
	return true;
}

void ops_http_stop(struct ops_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
