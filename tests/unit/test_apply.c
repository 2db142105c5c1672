/* test_apply.c - unit tests of which of a step's calls goes inline
 * (engine/apply.c is included to reach apply_inline_pick). */
#include <stdarg.h>

#include "engine/apply.c"

#include "tests/unit/unit.h"

/* A step_out of the methods given, NULL-terminated; each params {}. */
static void calls(struct step_out *o, const char *m, ...)
{
	va_list ap;
	step_out_init(o);
	va_start(ap, m);
	for (; m; m = va_arg(ap, const char *))
		ck_assert_int_eq(step_out_add(o, m, json_object_new_object()), 0);
	va_end(ap);
}

START_TEST(press_question_inline)
{
	struct step_out o;
	calls(&o, "answerCallbackQuery", "editMessageReplyMarkup", "sendMessage", NULL);
	ck_assert_uint_eq(apply_inline_pick(&o, 0), 3);   /* the next question */
	ck_assert_uint_eq(apply_inline_pick(&o, 1), 1);   /* the answer: order-free */
	step_out_free(&o);
}
END_TEST

START_TEST(two_messages_keep_order)
{
	struct step_out o;
	calls(&o, "answerCallbackQuery", "editMessageReplyMarkup", "sendMessage",
		"sendMessage", NULL);
	ck_assert_uint_eq(apply_inline_pick(&o, 0), 1);
	step_out_free(&o);
	calls(&o, "sendMessage", "sendMessage", "sendMessage", NULL);
	ck_assert_uint_eq(apply_inline_pick(&o, 0), 0);
	step_out_free(&o);
}
END_TEST

START_TEST(lone_call)
{
	struct step_out o;
	calls(&o, "sendMessage", NULL);
	ck_assert_uint_eq(apply_inline_pick(&o, 0), 1);
	ck_assert_uint_eq(apply_inline_pick(&o, 1), 0);   /* behind what waits */
	step_out_free(&o);
	calls(&o, NULL);
	ck_assert_uint_eq(apply_inline_pick(&o, 0), 0);
	step_out_free(&o);
}
END_TEST

START_TEST(ordered_call_keeps_message_queued)
{
	struct step_out o;
	calls(&o, "deleteMessage", "sendMessage", NULL);
	ck_assert_uint_eq(apply_inline_pick(&o, 0), 0);
	step_out_free(&o);
}
END_TEST

START_TEST(methods)
{
	ck_assert(botapi_is_message("sendMessage"));
	ck_assert(botapi_is_message("sendDocument"));
	ck_assert(botapi_is_message("copyMessage"));
	ck_assert(!botapi_is_message("sendChatAction"));
	ck_assert(!botapi_is_message("answerCallbackQuery"));
	ck_assert(!botapi_is_message("editMessageReplyMarkup"));
	ck_assert(botapi_order_free("editMessageText"));
	ck_assert(botapi_order_free("answerCallbackQuery"));
	ck_assert(!botapi_order_free("sendMessage"));
	ck_assert(!botapi_order_free("deleteMessage"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("inline");
	tcase_add_test(tc, press_question_inline);
	tcase_add_test(tc, two_messages_keep_order);
	tcase_add_test(tc, lone_call);
	tcase_add_test(tc, ordered_call_keeps_message_queued);
	tcase_add_test(tc, methods);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
