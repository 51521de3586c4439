#include "config.h"

#include "io/sink.h"

struct sink *sink_postgres_open(const char *conninfo, const struct sink_options *opt,
                                struct error *err)
{
	(void)conninfo;
	(void)opt;
	error_set(err, "the PostgreSQL sink is not available in this build yet");
	return NULL;
}

#include "io/dump.h"

bool dump_postgres(const char *conninfo, FILE *out, struct error *err)
{
	(void)conninfo;
	(void)out;
	error_set(err, "reading PostgreSQL is not available in this build yet");
	return false;
}
