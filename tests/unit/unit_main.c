/*
 * unit_main.c — runs every unit-test suite of the pure core.
 * Exit status 0 when all tests pass, 1 otherwise (what `make check` wants).
 * CK_FORK=no runs the tests in-process (for valgrind and debuggers).
 */
#include "config.h"

#include <stdlib.h>

#include "unit.h"

int main(void)
{
	SRunner *sr = srunner_create(timestamp_suite());
	srunner_add_suite(sr, score_suite());
	srunner_add_suite(sr, json_suite());
	srunner_add_suite(sr, event_suite());
	srunner_add_suite(sr, lexicon_suite());
	srunner_add_suite(sr, intern_suite());
	srunner_add_suite(sr, window_suite());
	srunner_add_suite(sr, watermark_suite());
	srunner_add_suite(sr, detector_suite());
	srunner_add_suite(sr, capture_suite());
	srunner_add_suite(sr, engine_suite());
	srunner_add_suite(sr, release_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
