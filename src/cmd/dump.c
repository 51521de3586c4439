#include "config.h"

#include "cmd/cmd.h"
#include "util/log.h"

int cmd_dump(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_error("not implemented yet");
	return EXIT_RUNTIME;
}
