/*
 * cmd.h — the subcommands of the telemetra program.
 *
 * Like git's builtin/cmd_*.c, each subcommand lives in its own file and has
 * one entry point with main()'s signature.  argv[0] is the subcommand name.
 * The return value is the process exit status (see util/log.h): 0 success,
 * 1 runtime error, 2 usage or configuration error.
 *
 * Every subcommand accepts --help (usage on stdout, exit 0) and --version.
 */
#ifndef TELEMETRA_CMD_H
#define TELEMETRA_CMD_H

#include "util/version.h" /* print_version(), for every --version */

int cmd_replay(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_capture(int argc, char **argv);


#endif
