/*
 * kafka_conf.h — the one path from `-X KEY=VALUE` to a librdkafka
 * configuration, shared by the consumer (live), the bounded reader
 * (capture, replay --kafka) and the producer (gen --kafka).
 *
 * librdkafka itself judges each property (rd_kafka_conf_set knows every
 * key and the type and range of its value), so a command can check its
 * -X list with kafka_conf_check() before it opens a database or a
 * broker connection, and later apply the same list with
 * kafka_conf_apply(): the message is the same either way.
 */
#ifndef TELEMETRA_IO_KAFKA_CONF_H
#define TELEMETRA_IO_KAFKA_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

/* librdkafka's rd_kafka_conf_t and rd_kafka_t, named without its header so
 * that a command can check its -X list without including librdkafka. */
struct rd_kafka_conf_s;
struct rd_kafka_s;

/* Set one property on conf (borrowed).  False with err naming the
 * property and librdkafka's reason. */
bool kafka_conf_set(struct rd_kafka_conf_s *conf, const char *key, const char *value,
                    struct error *err);

/* Apply every "KEY=VALUE" of props[0..n) (borrowed) to conf, in order.
 * False at the first one that is not KEY=VALUE or that librdkafka refuses,
 * with err saying "-X KEY=VALUE: why"; conf is then partly set and still
 * the caller's to destroy. */
bool kafka_conf_apply(struct rd_kafka_conf_s *conf, char *const *props, size_t n, struct error *err);

/* The same judgement on a scratch configuration: connects to nothing. */
bool kafka_conf_check(char *const *props, size_t n, struct error *err);

/* A log callback for rd_kafka_conf_set_log_cb: librdkafka's lines join our
 * log (util/log.h) at their own level, so `-X debug=cgrp` shows them. */
void kafka_conf_log(const struct rd_kafka_s *rk, int level, const char *fac, const char *buf);

#endif
