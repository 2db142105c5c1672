/* unit.h - helpers shared by the Check unit tests. */
#ifndef BLUEFLOW_UNIT_H
#define BLUEFLOW_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Runs one suite, prints Check's summary, returns the exit status. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
