/* test_flow.c - unit tests of the flow loader (placeholder grows below). */
#include <string.h>

#include "engine/flow.h"
#include "tests/unit/unit.h"

START_TEST(seed_loads)
{
	const char *j = "{\"0\": {\"type\": \"cutscene\", \"node_text\": \"Hi\"}}";
	struct flow *f;
	struct diag d;
	diag_init(&d);
	ck_assert_int_eq(flow_load_mem("t", j, strlen(j), &f, &d), 0);
	ck_assert_uint_eq(f->n_nodes, 1);
	flow_free(f);
	diag_free(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("load");
	tcase_add_test(tc, seed_loads);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
