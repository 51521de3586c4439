/*
 * ops_http.h — the daemon's HTTP listener (libmicrohttpd, its own thread):
 * /metrics, /healthz, /readyz.  Private to src/ops/.
 */
#ifndef TELEMETRA_OPS_HTTP_H
#define TELEMETRA_OPS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

/* What /readyz decides on, published with the metrics. */
struct ops_ready {
	size_t assigned;   /* partitions held */
	bool sink_up;      /* the last commit attempt succeeded */
	double last_ok;    /* monotonic seconds of the last successful commit; 0: none */
	double max_age;    /* bound on now - last_ok */
};

struct ops_http;

/* Listen on "ADDR:PORT" ("127.0.0.1:9464", "[::1]:0", ":9464" for every
 * address; port 0 picks a free one).  NULL with err set; *usage tells a
 * malformed address from a listener that cannot start. */
struct ops_http *ops_http_start(const char *addr, bool *usage, struct error *err);
int ops_http_port(const struct ops_http *h);

/* Hand over the exposition text (a malloc'ed string of len bytes) and the
 * readiness facts.  true: h owns *text now; false: the HTTP thread was
 * busy, the caller keeps *text and tries again later.  Never waits. */
bool ops_http_publish(struct ops_http *h, char *text, size_t len, const struct ops_ready *r);

void ops_http_stop(struct ops_http *h);

#endif
