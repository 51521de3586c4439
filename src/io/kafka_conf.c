/*
 * kafka_conf.c — `-X KEY=VALUE` properties onto a librdkafka configuration
 * (see kafka_conf.h), and librdkafka's log lines into ours.  What
 * librdkafka accepts is librdkafka's to say: nothing here knows a property
 * by name.
 */
#include "config.h"

#include "io/kafka_conf.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

bool kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                    struct error *err)
{
	char why[512];
	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
		error_set(err, "Kafka property %s=%s: %s", key, value, why);
		return false;
	}
	return true;
}

bool kafka_conf_apply(rd_kafka_conf_t *conf, char *const *props, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *kv = props[i];
		const char *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			error_set(err, "-X %s: expected KEY=VALUE, e.g. -X security.protocol=ssl", kv);
			return false;
		}
		char *key = xstrndup(kv, (size_t)(eq - kv));
		char why[512];
		bool ok = rd_kafka_conf_set(conf, key, eq + 1, why, sizeof(why)) == RD_KAFKA_CONF_OK;
		if (!ok) /* the key, not the value: it may be a password */
			error_set(err, "-X %s: %s", key, why);
		free(key);
		if (!ok)
			return false;
	}
	return true;
}

bool kafka_conf_check(char *const *props, size_t n, struct error *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	bool ok = kafka_conf_apply(conf, props, n, err);
	rd_kafka_conf_destroy(conf);
	return ok;
}

void kafka_conf_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	log_library("librdkafka", level, fac, buf);
}
