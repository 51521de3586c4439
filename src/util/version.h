/*
 * version.h — what every --version prints.
 *
 * Lives in util/ (not with the commands) because the options parser, a
 * lower layer, answers --version for every command.
 */
#ifndef TELEMETRA_VERSION_H
#define TELEMETRA_VERSION_H

#include <stdio.h>

/* Print "telemetra VERSION" to stdout. */
static inline void print_version(void)
{
	printf("telemetra %s\n", PACKAGE_VERSION);
}

#endif
