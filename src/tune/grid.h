/*
 * grid.h — the grid of `telemetra tune`: which options vary, over what.
 *
 * A grid is a list of dimensions, each an option NAME (a tunable core
 * option, the same name as on the command line and in a --config file) with
 * a list of VALUES as text.  The configurations are the product of the
 * dimensions, enumerated like nested loops: the first dimension varies
 * slowest, the last fastest, and configuration i is the i-th of that order.
 *
 * Sources of dimensions, each appended in the order given:
 *   --grid NAME=VALUES      VALUES is a comma list "2,2.5,3" or a range
 *                           "START:STOP:STEP" (decimal, STEP > 0, STOP
 *                           included when reached: 2:3:0.5 is 2, 2.5, 3)
 *   --grid-file FILE        a JSON object {"NAME": [v, ...] | "START:STOP:STEP"
 *                           | v}; a list item may hold ',' or ':' (a file name)
 *
 * Values are text because every value, whatever its origin, goes through
 * the one setter of the option table (config_set), so the grid accepts
 * exactly what --NAME accepts.  grid_add_*() try each value on a scratch
 * copy of the base configuration, so a bad value is reported before any
 * input is read, naming the dimension.
 *
 * Range values are computed in exact decimal (scaled integers), never by
 * repeated floating-point addition: 0:1:0.1 gives 0.3, not
 * 0.30000000000000004, and ends at 1.
 */
#ifndef TELEMETRA_TUNE_GRID_H
#define TELEMETRA_TUNE_GRID_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"
#include "cli/options.h"

/* At most this many configurations in one run. */
#define GRID_MAX_CONFIGS 100000

struct grid_dim {
	char *name;    /* owned */
	char **values; /* owned, n_values >= 1 */
	size_t n_values;
};

/* Zero-initialise; free with grid_free(). */
struct grid {
	struct grid_dim *dims;
	size_t n_dims;
};

void grid_free(struct grid *g);

/* Add the dimension of one --grid argument "NAME=VALUES".  base is the
 * configuration the values are tried on (not modified).  On failure err
 * says what is wrong and which forms are accepted. */
bool grid_add_spec(struct grid *g, const char *spec, const struct config *base,
                   struct error *err);
/* Add the dimensions of a --grid-file, in the file's key order. */
bool grid_add_file(struct grid *g, const char *path, const struct config *base,
                   struct error *err);

/* Number of configurations: the product of the dimensions' sizes (1 for an
 * empty grid: the base configuration alone). */
size_t grid_size(const struct grid *g);

/* The value of dimension d in configuration i (0 <= i < grid_size). */
const char *grid_value(const struct grid *g, size_t i, size_t d);

/* Set configuration i's values on c (a copy of the base configuration). */
bool grid_apply(const struct grid *g, size_t i, struct config *c, struct error *err);

/* Is option name one of the grid's dimensions? */
bool grid_varies(const struct grid *g, const char *name);

#endif
