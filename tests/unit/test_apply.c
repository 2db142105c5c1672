/* test_apply.c - unit tests of which of a step's calls goes inline
 * (engine/apply.c is included to reach apply_inline_pick), and of the
 * memory store's timers across commit and rollback. */
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

/* How many timers of the memory store are due by now_ms. */
static int due_timers(struct store *s, long long now_ms)
{
	struct timer rows[8];
	struct store_err e;
	int n = -1;
	ck_assert_int_eq(s->ops->timers_take(s, "t", now_ms, 8, 1000, STORE_TAKE_ALL, rows, &n, &e), STORE_OK);
	return n;
}

/* Regression: a rolled back transaction left its timer changes behind. */
START_TEST(memory_timers_roll_back)
{
	struct store *s;
	struct store_err e;
	struct timer_plan arm = { 0 }, cancel = { 0 };
	struct timer rows[8];
	int n = 0, found = -1;

	ck_assert_int_eq(store_memory_open(&s, &e), STORE_OK);
	arm.n_arms = 1;
	arm.arms[0].kind = TIMER_REMIND;
	snprintf(arm.arms[0].node, sizeof(arm.arms[0].node), "0");
	arm.arms[0].due_ms = 1000;
	cancel.cancel = TIMER_ALL_BITS;

	/* armed, rolled back: none */
	ck_assert_int_eq(s->ops->begin(s, &e), STORE_OK);
	ck_assert_int_eq(s->ops->timers_set(s, "b", 1, 0, &arm, &e), STORE_OK);
	ck_assert_int_eq(due_timers(s, 2000), 1);
	s->ops->rollback(s);
	ck_assert_int_eq(due_timers(s, 2000), 0);
	/* armed, committed: one, with the id it was given */
	ck_assert_int_eq(s->ops->begin(s, &e), STORE_OK);
	ck_assert_int_eq(s->ops->timers_set(s, "b", 1, 0, &arm, &e), STORE_OK);
	ck_assert_int_eq(s->ops->commit(s, &e), STORE_OK);
	ck_assert_int_eq(s->ops->timers_take(s, "t", 2000, 8, 1000, STORE_TAKE_ALL, rows, &n, &e), STORE_OK);
	ck_assert_int_eq(n, 1);
	/* cancelled or claimed, rolled back: still there, same id */
	ck_assert_int_eq(s->ops->begin(s, &e), STORE_OK);
	ck_assert_int_eq(s->ops->timers_set(s, "b", 1, 0, &cancel, &e), STORE_OK);
	ck_assert_int_eq(due_timers(s, 2000), 0);
	s->ops->rollback(s);
	ck_assert_int_eq(s->ops->begin(s, &e), STORE_OK);
	ck_assert_int_eq(s->ops->timer_claim(s, rows[0].id, &found, &e), STORE_OK);
	ck_assert_int_eq(found, 1);
	s->ops->rollback(s);
	ck_assert_int_eq(s->ops->timers_take(s, "t", 2000, 8, 1000, STORE_TAKE_ALL, rows + 1, &n, &e), STORE_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(rows[1].id, rows[0].id);
	/* claimed, committed: gone */
	ck_assert_int_eq(s->ops->begin(s, &e), STORE_OK);
	ck_assert_int_eq(s->ops->timer_claim(s, rows[0].id, &found, &e), STORE_OK);
	ck_assert_int_eq(s->ops->commit(s, &e), STORE_OK);
	ck_assert_int_eq(due_timers(s, 2000), 0);
	store_close(s);
}
END_TEST

/* Makes the state of member in chat_id with one reminder due at 1000. */
static void memory_chat(struct store *s, long long chat_id, long long member)
{
	struct store_chat sc;
	struct store_err e;
	struct timer_plan arm = { 0 };

	memset(&sc, 0, sizeof(sc));
	ck_assert_int_eq(chat_init(&sc.chat, chat_id), 0);
	sc.chat.member = member;
	arm.n_arms = 1;
	arm.arms[0].kind = TIMER_REMIND;
	snprintf(arm.arms[0].node, sizeof(arm.arms[0].node), "0");
	arm.arms[0].due_ms = 1000;
	ck_assert_int_eq(s->ops->begin(s, &e), STORE_OK);
	ck_assert_int_eq(s->ops->lock_chat(s, "b", &sc, &e), STORE_OK);
	ck_assert_int_eq(s->ops->timers_set(s, "b", chat_id, member, &arm, &e), STORE_OK);
	ck_assert_int_eq(s->ops->commit(s, &e), STORE_OK);
	chat_free(&sc.chat);
}

/* Regression: a migrate_to_chat_id message crashed the webhook on the
 * memory store, which had no outbox_migrate. The states of the old id
 * move with their timers, except one the new id has already. */
START_TEST(memory_migrate)
{
	struct store *s;
	struct store_err e;
	struct timer rows[8];
	int n = 0, at_to = 0, at_from = 0;

	ck_assert_int_eq(store_memory_open(&s, &e), STORE_OK);
	ck_assert_ptr_nonnull(s->ops->outbox_migrate);
	memory_chat(s, -5, 0);
	memory_chat(s, -5, 7);
	memory_chat(s, -1005, 7);     /* member 7 is at the new id already */
	ck_assert_int_eq(s->ops->outbox_migrate(s, "b", -5, -1005, &e), STORE_OK);
	ck_assert_ptr_null(store_memory_node(s, "b", -5, 0));
	ck_assert_ptr_nonnull(store_memory_node(s, "b", -1005, 0));
	ck_assert_ptr_nonnull(store_memory_node(s, "b", -5, 7));
	ck_assert_ptr_nonnull(store_memory_node(s, "b", -1005, 7));
	ck_assert_int_eq(s->ops->timers_take(s, "t", 2000, 8, 1000, STORE_TAKE_ALL, rows, &n, &e), STORE_OK);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++) {
		at_to += rows[i].chat_id == -1005;
		at_from += rows[i].chat_id == -5 && rows[i].member == 7;
	}
	ck_assert_int_eq(at_to, 2);
	ck_assert_int_eq(at_from, 1);
	/* a second message about the same move finds nothing left */
	ck_assert_int_eq(s->ops->outbox_migrate(s, "b", -5, -1005, &e), STORE_OK);
	ck_assert_ptr_nonnull(store_memory_node(s, "b", -5, 7));
	store_close(s);
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
	tc = tcase_create("memory_timers");
	tcase_add_test(tc, memory_timers_roll_back);
	tcase_add_test(tc, memory_migrate);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
