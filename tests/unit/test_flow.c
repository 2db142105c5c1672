/* test_flow.c - unit tests of the flow loader (engine/flow.c, check.c and
 * the node types) and of the helpers under it: jdoc, buf, arena, diag.
 *
 * Flows are written with single quotes, which load() turns into double
 * quotes, so a test reads like the JSON it feeds in. A test that needs a
 * real apostrophe writes \u0027. Each test loads into the globals F and D;
 * the fixture frees them. A test marked BUG asserts the correct behaviour
 * of something the engine gets wrong today; one marked Regression guards a
 * bug already fixed.
 *
 * A flow that must give certain errors is a case of tests/invalid/ (a
 * file and its exact `blueflow check` output; tests/invalid_flows.sh),
 * not a test here. This file keeps what such a pair cannot say: what a
 * valid flow loads into, warnings without errors, the loader's helpers. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/arena.h"
#include "engine/buf.h"
#include "engine/check.h"
#include "engine/diag.h"
#include "engine/flow.h"
#include "engine/html.h"
#include "engine/jdoc.h"
#include "engine/log.h"
#include "engine/node.h"
#include "engine/node_branch.h"
#include "engine/node_choice.h"
#include "engine/node_text.h"
#include "engine/node_upload.h"
#include "engine/timer.h"
#include "engine/tmpl.h"
#include "tests/unit/unit.h"

static struct flow *F;
static struct diag D;
static int RC;

static void setup(void)
{
	F = NULL;
	diag_init(&D);
	RC = 0;
}

static void teardown(void)
{
	flow_free(F);
	F = NULL;
	diag_free(&D);
}

/* Loads len bytes of JSON into F and D (freeing the previous ones). */
static int load_raw(const char *json, size_t len)
{
	flow_free(F);
	F = NULL;
	diag_free(&D);
	RC = flow_load_mem("t.json", json, len, &F, &D);
	if (RC == 0)
		ck_assert_ptr_nonnull(F);
	else
		ck_assert_ptr_null(F);
	return RC;
}

/* Loads s with every ' turned into ". */
static int load(const char *s)
{
	char *j = strdup(s);
	int rc;
	ck_assert_ptr_nonnull(j);
	for (char *p = j; *p; p++)
		if (*p == '\'')
			*p = '"';
	rc = load_raw(j, strlen(j));
	free(j);
	return rc;
}

/* Every item of D, one a line, for failure messages. */
static const char *dump(void)
{
	static char out[16384];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < D.n && n < sizeof(out); i++) {
		int w = snprintf(out + n, sizeof(out) - n, "  [%zu] %s %s %s: %s\n", i,
			D.items[i].level == DIAG_ERROR ? "error" : "warning",
			D.items[i].cls, D.items[i].path, D.items[i].msg);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (D.n == 0)
		snprintf(out, sizeof(out), "  (nothing)\n");
	return out;
}

/* Index of the first item matching all four, or -1. */
static int find(enum diag_level lvl, const char *cls, const char *path,
	const char *frag)
{
	for (size_t i = 0; i < D.n; i++) {
		const struct diag_item *it = &D.items[i];
		if (it->level == lvl && strcmp(it->cls, cls) == 0 &&
		    strcmp(it->path, path) == 0 && strstr(it->msg, frag) != NULL)
			return (int)i;
	}
	return -1;
}

#define ck_has(lvl, cls, path, frag) \
	ck_assert_msg(find((lvl), (cls), (path), (frag)) >= 0, \
		"expected %s %s at %s with \"%s\"; got:\n%s", \
		(lvl) == DIAG_ERROR ? "error" : "warning", (cls), (path), (frag), dump())

#define ck_err(cls, path, frag) ck_has(DIAG_ERROR, (cls), (path), (frag))
#define ck_warn(cls, path, frag) ck_has(DIAG_WARNING, (cls), (path), (frag))

/* The load failed with exactly n errors. */
#define ck_errors(n) do { \
	ck_assert_msg(RC == -1, "expected the load to fail, rc %d:\n%s", RC, dump()); \
	ck_assert_msg(D.errors == (size_t)(n), "expected %d errors, got %zu:\n%s", \
		(int)(n), D.errors, dump()); \
} while (0)

/* The load failed with exactly one error, this one. */
#define ck_only(cls, path, frag) do { \
	ck_errors(1); \
	ck_err((cls), (path), (frag)); \
} while (0)

/* Item i is exactly this. */
#define ck_item(i, lvl_, cls_, path_, frag_) do { \
	ck_assert_msg((size_t)(i) < D.n, "no item %d:\n%s", (int)(i), dump()); \
	ck_assert_int_eq(D.items[i].level, (lvl_)); \
	ck_assert_str_eq(D.items[i].cls, (cls_)); \
	ck_assert_str_eq(D.items[i].path, (path_)); \
	ck_assert_msg(strstr(D.items[i].msg, (frag_)) != NULL, \
		"item %d: \"%s\" does not contain \"%s\"", (int)(i), D.items[i].msg, (frag_)); \
} while (0)

/* The load succeeded without errors or warnings. */
#define ck_clean() do { \
	ck_assert_msg(RC == 0 && D.n == 0, "expected a clean load (rc %d):\n%s", \
		RC, dump()); \
} while (0)

/* The node with this id (which must exist). */
static const struct flow_node *node(const char *id)
{
	const struct flow_node *n = flow_node(F, id);
	ck_assert_msg(n != NULL, "no node \"%s\"", id);
	return n;
}

static int idx(const char *id)
{
	int i = flow_find(F, id);
	ck_assert_msg(i >= 0, "no node \"%s\"", id);
	return i;
}

/* Does the compiled pattern match the whole of s? */
static int re_match(const void *re, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc;
	ck_assert_ptr_nonnull(md);
	rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

#define BYE "'1': {'type': 'cutscene', 'node_text': 'Bye'}"

/* ====================================================================
 * choice */

START_TEST(choice_minimal)
{
	const struct choice_data *d;
	load("{'0': {'type': 'choice', 'node_text': 'Ready?',"
	     " 'choices': {'go': 'Go', 'no': 'No'},"
	     " 'next_for_choice': {'go': 1, 'no': '1'}}, " BYE "}");
	ck_clean();
	ck_assert_uint_eq(F->n_nodes, 2);
	ck_assert_ptr_eq(node("0")->type, node_find("choice"));
	ck_assert_str_eq(node("0")->text.v[0].text, "Ready?");
	ck_assert_int_eq(node("0")->next, -1);
	ck_assert_ptr_null(node("0")->key);
	ck_assert_int_eq(node("0")->max_attempts, 0);
	d = node("0")->data;
	ck_assert_uint_eq(d->n, 2);
	ck_assert_uint_eq(d->columns, 1);
	ck_assert_str_eq(d->opts[0].key, "go");
	ck_assert_str_eq(d->opts[0].data, "0|go");
	ck_assert_str_eq(d->opts[0].label.v[0].text, "Go");
	ck_assert_str_eq(d->opts[0].label.v[0].lang, "");
	ck_assert_int_eq(d->opts[0].next, idx("1"));
	ck_assert_str_eq(d->opts[1].key, "no");
	ck_assert_str_eq(d->opts[1].data, "0|no");
	ck_assert_int_eq(d->opts[1].next, idx("1"));
}
END_TEST

START_TEST(choice_columns_next_and_key)
{
	const struct choice_data *d;
	load("{'ask': {'type': 'choice', 'node_text': 'Pick', 'columns': 3,"
	     " 'key_to_save': 'pick', 'next': '1',"
	     " 'choices': {'a': {'en': 'A', 'ru': 'А'}, 'b': 'B'},"
	     " 'next_for_choice': {'a': 'ask'}},"
	     " '0': {'type': 'cutscene', 'node_text': 'Hi {{pick}}', 'next': 'ask'}, "
	     BYE "}");
	ck_clean();
	d = node("ask")->data;
	ck_assert_uint_eq(d->columns, 3);
	ck_assert_str_eq(node("ask")->key, "pick");
	ck_assert_int_eq(node("ask")->next, idx("1"));
	ck_assert_int_eq(d->opts[0].next, idx("ask"));
	ck_assert_int_eq(d->opts[1].next, -1);     /* goes to "next" */
	ck_assert_str_eq(d->opts[0].data, "ask|a");
	ck_assert_uint_eq(d->opts[0].label.n, 2);
	ck_assert_str_eq(d->opts[0].label.v[1].lang, "ru");
}
END_TEST

START_TEST(choice_columns_range)
{
	/* 0, 9 and "2": tests/invalid/78_* to 80_* */
	load("{'0': {'type': 'choice', 'node_text': 'Q', 'columns': 8,"
	     " 'choices': {'a': 'A'}, 'next': '0'}}");
	ck_clean();
	ck_assert_uint_eq(((const struct choice_data *)node("0")->data)->columns, 8);
}
END_TEST

/* A flow whose node "0" has n choices "c0".."c(n-1)" and a next. */
static void load_choices(unsigned n)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_adds(&b, "{\"0\": {\"type\": \"choice\", \"node_text\": "
		"\"Q\", \"next\": \"0\", \"choices\": {"), 0);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(buf_addf(&b, "%s\"c%u\": \"C\"", i ? ", " : "", i), 0);
	ck_assert_int_eq(buf_adds(&b, "}}}"), 0);
	load_raw(b.p, b.len);
	buf_free(&b);
}

START_TEST(choice_count_limit)
{
	load_choices(100);   /* 101: tests/invalid/81_choice_101_choices.json */
	ck_clean();
	ck_assert_uint_eq(((const struct choice_data *)node("0")->data)->n, 100);
}
END_TEST

START_TEST(choice_callback_limit)
{
	char key[80], json[256];
	const struct choice_data *d;
	/* "0" + "|" + 62 bytes = 64: fits (65 bytes:
	 * tests/invalid/82_choice_callback_data_65_bytes.json) */
	memset(key, 'k', 62);
	key[62] = '\0';
	snprintf(json, sizeof(json), "{'0': {'type': 'choice', 'node_text': 'Q',"
		" 'next': '0', 'choices': {'%s': 'K'}}}", key);
	load(json);
	ck_clean();
	d = node("0")->data;
	ck_assert_uint_eq(strlen(d->opts[0].data), 64);
	ck_assert_int_eq(d->opts[0].data[1], '|');
}
END_TEST

/* ====================================================================
 * text and rich_text */

START_TEST(text_minimal)
{
	const struct text_data *d;
	load("{'0': {'type': 'text', 'node_text': 'Name?', 'key_to_save': 'name',"
	     " 'next': 1}, " BYE "}");
	ck_clean();
	ck_assert_ptr_eq(node("0")->type, node_find("text"));
	ck_assert_str_eq(node("0")->key, "name");
	ck_assert_int_eq(node("0")->next, idx("1"));
	d = node("0")->data;
	ck_assert_uint_eq(d->min_words, 0);
	ck_assert_uint_eq(d->max_length, 0);
	ck_assert_ptr_null(d->pattern);
	ck_assert_ptr_null(d->pattern_src);
}
END_TEST

START_TEST(text_rules_and_pattern)
{
	const struct text_data *d;
	load("{'0': {'type': 'text', 'node_text': 'Fact?', 'key_to_save': 'fact',"
	     " 'next': '1', 'min_words': 4, 'max_length': 200, 'pattern': '[a-z ]+'}, "
	     BYE "}");
	ck_clean();
	d = node("0")->data;
	ck_assert_uint_eq(d->min_words, 4);
	ck_assert_uint_eq(d->max_length, 200);
	ck_assert_ptr_nonnull(d->pattern);
	ck_assert_str_eq(d->pattern_src, "[a-z ]+");
	ck_assert_int_eq(re_match(d->pattern, "abc def"), 1);
	ck_assert_int_eq(re_match(d->pattern, "abc1"), 0);   /* whole answer */
	ck_assert_int_eq(re_match(d->pattern, "1abc"), 0);
}
END_TEST

START_TEST(text_ranges)
{
	/* out of range: tests/invalid/88_* and 89_* */
	load("{'0': {'type': 'text', 'node_text': 'Q', 'key_to_save': 'k', 'next': '0',"
	     " 'min_words': 1000, 'max_length': 4096}}");
	ck_assert_msg(RC == 0, "%s", dump());
	ck_assert_uint_eq(((const struct text_data *)node("0")->data)->max_length, 4096);
}
END_TEST

START_TEST(text_whole_numbers)
{
	/* 2.5 and true: tests/invalid/90_min_words_fraction.json, 91_* */
	load("{'0': {'type': 'text', 'node_text': 'Q', 'key_to_save': 'k', 'next': '0',"
	     " 'min_words': 3.0}}");
	ck_assert_msg(RC == 0, "%s", dump());
	ck_assert_uint_eq(((const struct text_data *)node("0")->data)->min_words, 3);
}
END_TEST

START_TEST(rich_text_minimal)
{
	const struct text_data *d;
	load("{'0': {'type': 'rich_text', 'node_text': 'Bio?', 'key_to_save': 'bio',"
	     " 'next': '1', 'min_words': 2, 'pattern': '.+'}, " BYE "}");
	ck_clean();
	ck_assert_ptr_eq(node("0")->type, node_find("rich_text"));
	d = node("0")->data;
	ck_assert_uint_eq(d->min_words, 2);
	ck_assert_ptr_nonnull(d->pattern);
}
END_TEST

/* ====================================================================
 * tg_username */

START_TEST(tg_username_minimal)
{
	load("{'0': {'type': 'tg_username', 'node_text': 'Who?', 'key_to_save': 'contact',"
	     " 'next': '1', 'request_button': 'Choose'},"
	     " '1': {'type': 'cutscene', 'node_text': '@{{contact}} is {{contact_id}}'}}");
	ck_clean();   /* contact_id is saved too: no template warning */
	ck_assert_ptr_eq(node("0")->type, node_find("tg_username"));
	ck_assert_str_eq(node("0")->key, "contact");
	ck_assert_int_eq(node("0")->next, idx("1"));
	ck_assert_ptr_nonnull(node("0")->data);
}
END_TEST

/* ====================================================================
 * cutscene */

START_TEST(cutscene_minimal)
{
	load("{'0': {'type': 'cutscene', 'node_text': 'Hi', 'next': '1'}, " BYE "}");
	ck_clean();
	ck_assert_ptr_eq(node("0")->type, node_find("cutscene"));
	ck_assert_int_eq(node("0")->next, 1);
	ck_assert_int_eq(node("1")->next, -1);   /* no next: the flow ends */
	ck_assert_ptr_null(node("1")->key);
	ck_assert_str_eq(node("1")->text.v[0].text, "Bye");
	ck_assert_uint_eq(node("1")->text.n, 1);
}
END_TEST

/* ====================================================================
 * voice_upload and file_upload */

START_TEST(voice_minimal)
{
	const struct upload_data *d;
	load("{'0': {'type': 'voice_upload', 'node_text': 'Talk', 'key_to_save': 'v',"
	     " 'next': '1', 'max_seconds': 60}, " BYE "}");
	ck_clean();
	ck_assert_ptr_eq(node("0")->type, node_find("voice_upload"));
	d = node("0")->data;
	ck_assert_uint_eq(d->max_seconds, 60);
	ck_assert_uint_eq(d->max_bytes, 20ul * 1024 * 1024);   /* the default */
	ck_assert_uint_eq(d->n_mimes, 0);
}
END_TEST

START_TEST(voice_max_mb)
{
	load("{'0': {'type': 'voice_upload', 'node_text': 'Talk', 'key_to_save': 'v',"
	     " 'next': '0', 'max_seconds': 86400, 'max_mb': 5}}");
	ck_assert_msg(RC == 0, "%s", dump());
	ck_assert_uint_eq(((const struct upload_data *)node("0")->data)->max_bytes, 5242880);
	ck_assert_uint_eq(((const struct upload_data *)node("0")->data)->max_seconds, 86400);
	load("{'0': {'type': 'voice_upload', 'node_text': 'Talk', 'key_to_save': 'v',"
	     " 'next': '0', 'max_seconds': 1, 'max_mb': 0.5}}");
	ck_assert_msg(RC == 0, "%s", dump());
	ck_assert_uint_eq(((const struct upload_data *)node("0")->data)->max_bytes, 524288);
}
END_TEST

START_TEST(file_minimal)
{
	const struct upload_data *d;
	load("{'0': {'type': 'file_upload', 'node_text': 'PDF?', 'key_to_save': 'f',"
	     " 'next': '1', 'allowed_mime': ['application/pdf', 'image/*']}, " BYE "}");
	ck_clean();
	ck_assert_ptr_eq(node("0")->type, node_find("file_upload"));
	d = node("0")->data;
	ck_assert_uint_eq(d->n_mimes, 2);
	ck_assert_str_eq(d->mimes[0], "application/pdf");
	ck_assert_str_eq(d->mimes[1], "image/*");
	ck_assert_uint_eq(d->max_bytes, 20971520);
	ck_assert_uint_eq(d->max_seconds, 0);
	load("{'0': {'type': 'file_upload', 'node_text': 'PDF?', 'key_to_save': 'f',"
	     " 'next': '0', 'allowed_mime': ['text/plain'], 'max_mb': 20}}");
	ck_assert_msg(RC == 0, "%s", dump());
	ck_assert_uint_eq(((const struct upload_data *)node("0")->data)->max_bytes, 20971520);
}
END_TEST

/* ====================================================================
 * branch */

START_TEST(branch_all_ops)
{
	const struct branch_data *d;
	const struct branch_cond *c;
	load("{'0': {'type': 'branch', 'conditions': ["
	     " {'key': 'lang', 'equals': 'ru', 'next': '1'},"
	     " {'key': 'age', 'equals': 18, 'next': '1'},"
	     " {'key': 'c', 'one_of': ['a', 2], 'next': '1'},"
	     " {'key': 'd', 'matches': 'x+', 'next': '1'},"
	     " {'key': 'e', 'exists': false, 'next': '1'},"
	     " {'key': 'e2', 'exists': true, 'next': '1'},"
	     " {'key': 'f', 'lt': 1, 'next': '1'},"
	     " {'key': 'g', 'le': 2.5, 'next': '1'},"
	     " {'key': 'h', 'gt': -3, 'next': '1'},"
	     " {'next': '2', 'ge': 100, 'key': 'user.language_code'}],"
	     " 'else': '2'}, " BYE ", '2': {'type': 'cutscene', 'node_text': 'Else'}}");
	/* no node saves these keys: warnings (warn_condition), no errors */
	ck_assert_msg(RC == 0 && D.errors == 0, "%s", dump());
	ck_assert_ptr_eq(node("0")->type, node_find("branch"));
	d = node("0")->data;
	ck_assert_uint_eq(d->n, 10);
	ck_assert_int_eq(d->else_next, idx("2"));
	c = d->conds;
	ck_assert_int_eq(c[0].op, BRANCH_EQUALS);
	ck_assert_str_eq(c[0].key, "lang");
	ck_assert_str_eq(c[0].str, "ru");
	ck_assert_int_eq(c[0].is_num, 0);
	ck_assert_int_eq(c[0].next, idx("1"));
	ck_assert_int_eq(c[1].op, BRANCH_EQUALS);
	ck_assert_int_eq(c[1].is_num, 1);
	ck_assert_double_eq(c[1].num, 18);
	ck_assert_str_eq(c[1].str, "18");
	ck_assert_int_eq(c[2].op, BRANCH_ONE_OF);
	ck_assert_uint_eq(c[2].n_set, 2);
	ck_assert_str_eq(c[2].set[0], "a");
	ck_assert_str_eq(c[2].set[1], "2");
	ck_assert_int_eq(c[3].op, BRANCH_MATCHES);
	ck_assert_ptr_nonnull(c[3].re);
	ck_assert_int_eq(re_match(c[3].re, "xxx"), 1);
	ck_assert_int_eq(re_match(c[3].re, "xxy"), 0);
	ck_assert_int_eq(c[4].op, BRANCH_EXISTS);
	ck_assert_int_eq(c[4].exists, 0);
	ck_assert_int_eq(c[5].op, BRANCH_EXISTS);
	ck_assert_int_eq(c[5].exists, 1);
	ck_assert_int_eq(c[6].op, BRANCH_LT);
	ck_assert_double_eq(c[6].num, 1);
	ck_assert_int_eq(c[7].op, BRANCH_LE);
	ck_assert_double_eq(c[7].num, 2.5);
	ck_assert_int_eq(c[8].op, BRANCH_GT);
	ck_assert_double_eq(c[8].num, -3);
	ck_assert_int_eq(c[9].op, BRANCH_GE);
	ck_assert_double_eq(c[9].num, 100);
	ck_assert_str_eq(c[9].key, "user.language_code");
	ck_assert_int_eq(c[9].next, idx("2"));
}
END_TEST

/* ====================================================================
 * keys every waiting node takes */

START_TEST(common_attempts)
{
	/* one without the other, and out of range: tests/invalid/48_*, 56_*,
	 * 109_* to 111_* */
	load("{'0': {'type': 'text', 'node_text': 'Q', 'key_to_save': 'k', 'next': '0',"
	     " 'max_attempts': 3, 'on_max_attempts': 'out'},"
	     " 'out': {'type': 'cutscene', 'node_text': 'Bye'}}");
	ck_clean();
	ck_assert_int_eq(node("0")->max_attempts, 3);
	ck_assert_int_eq(node("0")->on_max_attempts, idx("out"));
	ck_assert_int_eq(node("out")->on_max_attempts, -1);
}
END_TEST

START_TEST(common_node_messages)
{
	/* unknown reasons, an array: tests/invalid/113_* to 115_* */
	load("{'0': {'type': 'text', 'node_text': 'Q', 'key_to_save': 'k', 'next': '0',"
	     " 'messages': {'too_long': 'Shorter!', 'no_match': {'en': 'No', 'de': 'Nein'}}}}");
	ck_clean();
	ck_assert_uint_eq(node("0")->n_msgs, 2);
	ck_assert_str_eq(node("0")->msgs[0].reason, "too_long");
	ck_assert_str_eq(node("0")->msgs[0].text.v[0].text, "Shorter!");
	ck_assert_str_eq(node("0")->msgs[1].reason, "no_match");
	ck_assert_str_eq(node("0")->msgs[1].text.v[1].lang, "de");
}
END_TEST

START_TEST(common_key_to_save)
{
	/* names refused: tests/invalid/116_* to 118_* */
	load("{'0': {'type': 'text', 'node_text': 'Q', 'key_to_save': '_ok_9', 'next': '0'}}");
	ck_clean();
	ck_assert_str_eq(node("0")->key, "_ok_9");
}
END_TEST

/* ====================================================================
 * schema errors */

START_TEST(json_bad_line)
{
	/* An empty text. (An empty file is refused before it is parsed, with
	 * another message: the broken documents are tests/invalid/119_* to
	 * 125_*.) */
	load("");
	ck_only(DIAG_SCHEMA, "/", "not valid JSON");
}
END_TEST

START_TEST(json_trailing_text)
{
	/* white space after the document is fine (text after it:
	 * tests/invalid/123_* and 124_*) */
	load("{'0': {'type': 'cutscene', 'node_text': 'x'}} \n\t\r\n");
	ck_clean();
}
END_TEST

START_TEST(json_duplicate_keys)
{
	/* equal keys in different objects are fine (in one object:
	 * tests/invalid/128_* to 131_*) */
	load("{'0': {'type': 'cutscene', 'node_text': 'A', 'next': '1'},"
	     " '1': {'type': 'cutscene', 'node_text': 'B'}}");
	ck_clean();
}
END_TEST

/* prefix, then the registered types as the loader lists them: "choice,
 * text, ..." in registry order. */
static const char *type_list(const char *prefix)
{
	static char out[1024];
	const struct node_type *const *types = node_types();
	size_t n = (size_t)snprintf(out, sizeof(out), "%s", prefix);

	for (int i = 0; types[i] && n < sizeof(out); i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
			i ? ", " : "", types[i]->name);
	ck_assert_ptr_nonnull(node_find("choice"));
	ck_assert_ptr_nonnull(node_find("branch"));
	return out;
}

START_TEST(schema_node_shape)
{
	load("{'0': 5}");
	ck_only(DIAG_SCHEMA, "/0", "a node must be an object with a \"type\", not an integer");
	load("{'0': {'node_text': 'x'}}");
	ck_only(DIAG_NODE_SCHEMA, "/0", type_list("missing \"type\": "));
	load("{'0': {'type': 3, 'node_text': 'x'}}");
	ck_only(DIAG_SCHEMA, "/0/type", "must be a string, not an integer");
	/* "start" without "nodes" is taken as a node */
	load("{'start': '0', '0': {'type': 'cutscene', 'node_text': 'x'}}");
	ck_only(DIAG_SCHEMA, "/start", "put the nodes under \"nodes\"");
}
END_TEST

START_TEST(schema_node_ids)
{
	char json[256], id[70];
	/* 64 bytes is fine (0 and 65 bytes, a tab:
	 * tests/invalid/145_* to 147_*) */
	memset(id, 'i', 64);
	id[64] = '\0';
	snprintf(json, sizeof(json), "{'0': {'type': 'cutscene', 'node_text': 'x',"
		" 'next': '%s'}, '%s': {'type': 'cutscene', 'node_text': 'y'}}", id, id);
	load(json);
	ck_clean();
}
END_TEST

/* ====================================================================
 * unknown-type */

START_TEST(unknown_type)
{
	load("{'0': {'type': 'cutscen', 'node_text': 'x'}}");
	ck_only(DIAG_UNKNOWN_TYPE, "/0/type", "no node type \"cutscen\"; did you mean "
		"\"cutscene\"?");
	load("{'0': {'type': 'file-upload', 'node_text': 'x'}}");
	ck_only(DIAG_UNKNOWN_TYPE, "/0/type", "did you mean \"file_upload\"?");
	load("{'0': {'type': 'banana', 'node_text': 'x'}}");
	ck_only(DIAG_UNKNOWN_TYPE, "/0/type", type_list("no node type \"banana\"; "
		"the types are: "));
}
END_TEST

/* ====================================================================
 * dangling-reference */

START_TEST(flow_messages)
{
	/* unknown reasons: tests/invalid/155_flow_message_reasons.json */
	load("{'messages': {'stale_button': 'Old', 'press_button': 'Press',"
	     " 'upload_failed': 'Again'},"
	     " 'nodes': {'0': {'type': 'cutscene', 'node_text': 'x'}}}");
	ck_clean();
	ck_assert_uint_eq(F->n_msgs, 3);
	ck_assert_str_eq(F->msgs[0].reason, "stale_button");
	ck_assert_str_eq(F->msgs[2].text.v[0].text, "Again");
}
END_TEST

/* ====================================================================
 * time: durations (engine/timer.c) and the time keys */

/* timer_duration on the JSON text json: 0 and *secs, or -1 with why. */
static int duration(const char *json, long long *secs, char *why, size_t why_len)
{
	json_object *v = json_tokener_parse(json);
	int rc;
	ck_assert_msg(v != NULL || strcmp(json, "null") == 0, "bad JSON %s", json);
	*secs = -1;
	why[0] = '\0';
	rc = timer_duration(v, secs, why, why_len);
	json_object_put(v);
	return rc;
}

START_TEST(duration_forms)
{
	static const struct { const char *json; long long secs; } good[] = {
		{ "90", 90 }, { "1", 1 }, { "\"90s\"", 90 }, { "\"10m\"", 600 },
		{ "\"2h\"", 7200 }, { "\"3d\"", 259200 }, { "\"366d\"", 366LL * 86400 },
		{ "31622400", 366LL * 86400 },
	};
	char why[256];
	long long secs;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(duration(good[i].json, &secs, why, sizeof(why)) == 0,
			"%s refused: %s", good[i].json, why);
		ck_assert_msg(secs == good[i].secs, "%s: %lld, not %lld", good[i].json,
			secs, good[i].secs);
	}
}
END_TEST

START_TEST(duration_refused)
{
	/* zero, negative, past 366 days, no unit in a string, another unit,
	 * fractions, spaces, other types */
	static const char *const bad[] = {
		"0", "-5", "\"0s\"", "\"0m\"", "\"-5m\"", "\"367d\"", "31622401",
		"\"10\"", "\"10x\"", "\"10M\"", "\"1.5h\"", "\"10 m\"", "\" 10m\"",
		"\"10m \"", "\"\"", "\"m\"", "\"10mm\"", "1.5", "true", "null", "[60]",
		"{\"s\": 60}", "\"99999999999999999999s\"",
	};
	char why[256];
	long long secs;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(duration(bad[i], &secs, why, sizeof(why)) == -1,
			"%s taken as %lld s", bad[i], secs);
		ck_assert_msg(why[0] != '\0', "%s: no reason given", bad[i]);
	}
	ck_assert_int_eq(duration("\"10x\"", &secs, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "\"10x\" is not a duration") != NULL, "%s", why);
	ck_assert_int_eq(duration("0", &secs, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "not 0 seconds") != NULL, "%s", why);
}
END_TEST

START_TEST(time_keys_load)
{
	load("{'inactive_after': '3d', 'on_inactive': '1', 'nodes': {"
	     " '0': {'type': 'text', 'node_text': 'Name?', 'key_to_save': 'name',"
	     " 'next': '1', 'remind_after': '10m', 'timeout': 7200, 'on_timeout': '1'},"
	     " " BYE "}}");
	ck_clean();
	ck_assert_int_eq(node("0")->remind_after, 600);
	ck_assert_int_eq(node("0")->timeout, 7200);
	ck_assert_int_eq(node("0")->on_timeout, idx("1"));
	ck_assert_int_eq(F->inactive_after, 3 * 86400);
	ck_assert(F->timed);
	/* bad durations are node-schema errors at their key */
	load("{'0': {'type': 'text', 'node_text': 'Name?', 'key_to_save': 'name',"
	     " 'next': '1', 'remind_after': '-1m', 'timeout': 0}, " BYE "}");
	ck_errors(2);
	ck_err(DIAG_NODE_SCHEMA, "/0/remind_after", "is not a duration");
	ck_err(DIAG_NODE_SCHEMA, "/0/timeout", "not 0 seconds");
	load("{'inactive_after': 'soon', 'on_inactive': '1', 'nodes': {"
	     " '0': {'type': 'cutscene', 'node_text': 'x', 'next': '1'}, " BYE "}}");
	ck_only(DIAG_NODE_SCHEMA, "/inactive_after", "\"soon\" is not a duration");
}
END_TEST

START_TEST(intents_load)
{
	/* what an intent loads into; its node counts as reached (no warning) */
	load("{'start': '0', 'intents': [{'id': 'a', 'keywords': ['hi'], 'next': '0'},"
	     " {'id': 'b', 'keywords': {'en': ['help'], 'ru': ['помощь'], 'default': 'ru'},"
	     " 'priority': -3, 'cooldown': '2m', 'next': '1'}], 'nodes': {"
	     " '0': {'type': 'choice', 'node_text': 'Go?', 'choices': {'go': 'Go'}, 'next': '0'},"
	     " " BYE "}}");
	ck_clean();
	ck_assert_uint_eq(F->n_intents, 2);
	ck_assert_str_eq(F->intents[0].id, "a");
	ck_assert_int_eq(F->intents[0].cooldown, 0);
	ck_assert_int_eq(F->intents[0].priority, 0);
	ck_assert_int_eq(F->intents[1].next, idx("1"));
	ck_assert_int_eq(F->intents[1].priority, -3);
	ck_assert_int_eq(F->intents[1].cooldown, 120);
	ck_assert_uint_eq(F->intents[1].words.n, 2);
	ck_assert_str_eq(F->intents[1].words.v[F->intents[1].words.def].lang, "ru");
}
END_TEST

START_TEST(warn_reminder_after_timeout)
{
	/* later than the timeout, or at the same time: it never comes */
	static const char *const pairs[][2] = { { "'2h'", "'1h'" }, { "3600", "'1h'" } };
	char json[512];

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		snprintf(json, sizeof(json), "{'0': {'type': 'text', 'node_text': 'Name?',"
			" 'key_to_save': 'name', 'next': '1', 'remind_after': %s,"
			" 'timeout': %s}, " BYE "}", pairs[i][0], pairs[i][1]);
		load(json);
		ck_assert_msg(RC == 0 && D.errors == 0 && D.warnings == 1, "%s", dump());
		ck_item(0, DIAG_WARNING, DIAG_NODE_SCHEMA, "/0/remind_after",
			"would come after the timeout (3600 s)");
	}
	/* earlier: no warning */
	load("{'0': {'type': 'text', 'node_text': 'Name?', 'key_to_save': 'name',"
	     " 'next': '1', 'remind_after': '59m', 'timeout': '1h'}, " BYE "}");
	ck_clean();
}
END_TEST

/* ====================================================================
 * warnings */

START_TEST(warn_unreachable)
{
	load("{'0': {'type': 'cutscene', 'node_text': 'x', 'next': '1'}, " BYE ","
	     " '2': {'type': 'cutscene', 'node_text': 'lost', 'next': '1'}}");
	ck_assert_msg(RC == 0 && D.errors == 0, "%s", dump());
	ck_assert_uint_eq(D.warnings, 1);
	ck_item(0, DIAG_WARNING, DIAG_UNREACHABLE, "/2", "node \"2\" is never reached");
	ck_assert_ptr_nonnull(F);
	/* extended form: path under /nodes; commands and on_missing_node reach */
	load("{'commands': {'/help': 'h'}, 'on_missing_node': 'm', 'nodes': {"
	     " '0': {'type': 'cutscene', 'node_text': 'x'},"
	     " 'h': {'type': 'cutscene', 'node_text': 'h'},"
	     " 'm': {'type': 'cutscene', 'node_text': 'm'},"
	     " 'z': {'type': 'cutscene', 'node_text': 'z'}}}");
	ck_assert_msg(RC == 0 && D.warnings == 1, "%s", dump());
	ck_item(0, DIAG_WARNING, DIAG_UNREACHABLE, "/nodes/z", "node \"z\" is never reached");
	/* ids are escaped in paths */
	load("{'0': {'type': 'cutscene', 'node_text': 'x'},"
	     " 'a/b~': {'type': 'cutscene', 'node_text': 'y'}}");
	ck_assert_msg(RC == 0 && D.warnings == 1, "%s", dump());
	ck_item(0, DIAG_WARNING, DIAG_UNREACHABLE, "/a~1b~0", "node \"a/b~\" is never reached");
}
END_TEST

START_TEST(warn_unreachable_via_attempts_and_choices)
{
	load("{'0': {'type': 'choice', 'node_text': 'Q', 'choices': {'a': 'A'},"
	     " 'next_for_choice': {'a': 'ca'}, 'max_attempts': 1, 'on_max_attempts': 'out'},"
	     " 'ca': {'type': 'cutscene', 'node_text': 'a'},"
	     " 'out': {'type': 'cutscene', 'node_text': 'o'}}");
	ck_clean();
}
END_TEST

START_TEST(err_template)
{
	load("{'0': {'type': 'cutscene', 'node_text': 'Hi {{ fact }}', 'next': '1'},"
	     " '1': {'type': 'cutscene', 'node_text': {'en': '{{user.foo}} {{user.first_name}}'}}}");
	ck_assert_msg(RC == -1 && D.errors == 2 && D.warnings == 0, "%s", dump());
	ck_err(DIAG_TEMPLATE, "/0/node_text", "{{fact}} names a key no node saves");
	ck_err(DIAG_TEMPLATE, "/1/node_text/en", "{{user.foo}} is not a known field");
	/* a key some node saves, and the built-ins, are fine */
	load("{'0': {'type': 'text', 'node_text': 'Fact, {{user.first_name}} ({{chat.id}},"
	     " {{start_param}})?', 'key_to_save': 'fact', 'next': '1'},"
	     " '1': {'type': 'cutscene', 'node_text': 'So: {{fact}}'}}");
	ck_clean();
	/* {{state.key}} and {{context.key}} name the saved key */
	load("{'0': {'type': 'text', 'node_text': 'Fact?', 'key_to_save': 'fact', 'next': '1'},"
	     " '1': {'type': 'cutscene', 'node_text': '{{state.fact}} {{ context.fact }}'}}");
	ck_clean();
	load("{'0': {'type': 'text', 'node_text': 'Fact?', 'key_to_save': 'fact', 'next': '1'},"
	     " '1': {'type': 'cutscene', 'node_text': '{{state.fakt}}'}}");
	ck_assert_msg(RC == -1 && D.errors == 1, "%s", dump());
	ck_err(DIAG_TEMPLATE, "/1/node_text", "{{fakt}} names a key no node saves, so it "
		"will always be empty; did you mean {{fact}}?");
	/* a name near a saved key or a field is suggested */
	load("{'0': {'type': 'text', 'node_text': 'Email?', 'key_to_save': 'email', 'next': '1'},"
	     " '1': {'type': 'cutscene', 'node_text': '{{emial}}, {{user.frist_name}}'}}");
	ck_assert_msg(RC == -1 && D.errors == 2 && D.warnings == 0, "%s", dump());
	ck_item(0, DIAG_ERROR, DIAG_TEMPLATE, "/1/node_text", "{{emial}} names a key "
		"no node saves, so it will always be empty; did you mean {{email}}?");
	ck_item(1, DIAG_ERROR, DIAG_TEMPLATE, "/1/node_text", "{{user.frist_name}} is "
		"not a known field; did you mean {{user.first_name}}?");
}
END_TEST

/* A choice saving "topic" as sales or support, a text saving "email",
 * and a branch with the conditions c (after the branch's "conditions"). */
#define CONDITION_FLOW(c) \
	"{'0': {'type': 'choice', 'node_text': 'Topic?', 'choices': {'sales': 'Sales'," \
	" 'support': 'Support'}, 'key_to_save': 'topic', 'next': 'm'}," \
	" 'm': {'type': 'text', 'node_text': 'Email?', 'key_to_save': 'email', 'next': 'r'}," \
	" 'r': {'type': 'branch', 'conditions': [" c "], 'else': 'end'}," \
	" 'end': {'type': 'cutscene', 'node_text': 'Bye'}}"

START_TEST(warn_condition)
{
	/* a key no node saves: the saved ones named, a near one suggested */
	load(CONDITION_FLOW("{'key': 'topik', 'equals': 'sales', 'next': 'end'},"
	     " {'key': 'zzz', 'exists': false, 'next': 'end'}"));
	ck_assert_msg(RC == 0 && D.errors == 0 && D.warnings == 2, "%s", dump());
	ck_item(0, DIAG_WARNING, DIAG_CONDITION, "/r/conditions/0/key", "no node saves "
		"\"topik\", so it is never set; did you mean \"topic\"? Keys saved: "
		"\"topic\", \"email\"");
	ck_item(1, DIAG_WARNING, DIAG_CONDITION, "/r/conditions/1/key", "no node saves "
		"\"zzz\", so it is never set; keys saved: \"topic\", \"email\"");
	/* a value the choice never saves, by equals and by one_of */
	load(CONDITION_FLOW("{'key': 'topic', 'equals': 'suport', 'next': 'end'},"
	     " {'key': 'topic', 'one_of': ['sales', 'other'], 'next': 'end'}"));
	ck_assert_msg(RC == 0 && D.errors == 0 && D.warnings == 2, "%s", dump());
	ck_item(0, DIAG_WARNING, DIAG_CONDITION, "/r/conditions/0/equals", "choice node "
		"\"0\" saves \"topic\" as one of \"sales\", \"support\", never as "
		"\"suport\", so this never matches; did you mean \"support\"?");
	ck_item(1, DIAG_WARNING, DIAG_CONDITION, "/r/conditions/1/one_of/1", "never as "
		"\"other\", so this never matches");
	/* the choice's keys, any value of a text, numbers, the built-ins, and
	 * a key also saved by a node that saves any value are fine */
	load(CONDITION_FLOW("{'key': 'topic', 'equals': 'support', 'next': 'end'},"
	     " {'key': 'topic', 'one_of': ['sales', 7], 'next': 'end'},"
	     " {'key': 'email', 'equals': 'a@b.c', 'next': 'end'},"
	     " {'key': 'user.language_code', 'equals': 'ru', 'next': 'end'},"
	     " {'key': 'start_param', 'exists': true, 'next': 'end'}"));
	ck_clean();
	load("{'0': {'type': 'choice', 'node_text': 'Q', 'choices': {'a': 'A'},"
	     " 'key_to_save': 'k', 'next': '1'},"
	     " '1': {'type': 'text', 'node_text': 'Q', 'key_to_save': 'k', 'next': '2'},"
	     " '2': {'type': 'branch', 'conditions': [{'key': 'k', 'equals': 'typed',"
	     " 'next': '3'}], 'else': '3'}, '3': {'type': 'cutscene', 'node_text': 'Bye'}}");
	ck_clean();
}
END_TEST

/* ====================================================================
 * forms */

START_TEST(form_canonical)
{
	load("{'5': {'type': 'text', 'node_text': 'Q', 'key_to_save': 'k', 'next': 0},"
	     " '0': {'type': 'cutscene', 'node_text': 'Hi', 'next': 5}}");
	ck_clean();
	ck_assert_int_eq(F->start, 1);
	ck_assert_str_eq(F->nodes[F->start].id, "0");
	ck_assert_int_eq(node("0")->next, 0);   /* 5 named node "5" */
	ck_assert_int_eq(node("5")->next, 1);
	ck_assert_int_eq(F->on_missing_node, -1);
	ck_assert_uint_eq(F->n_commands, 0);
	ck_assert_uint_eq(F->finished_text.n, 0);
	ck_assert_uint_eq(F->n_msgs, 0);
	ck_assert_str_eq(F->file, "t.json");
}
END_TEST

START_TEST(form_seed_numbers)
{
	load("{'0': {'type': 'choice', 'node_text': 'Ready?', 'choices': {'go': 'Go'},"
	     " 'next_for_choice': {'go': 1}},"
	     " '1': {'type': 'text', 'node_text': 'Fact?', 'key_to_save': 'f', 'min_words': 4,"
	     " 'next': 10},"
	     " '10': {'type': 'voice_upload', 'node_text': 'Voice', 'max_seconds': 60,"
	     " 'key_to_save': 'v', 'next': 20},"
	     " '20': {'type': 'file_upload', 'node_text': 'PDF', 'allowed_mime':"
	     " ['application/pdf'], 'max_mb': 5, 'key_to_save': 'b', 'next': 99},"
	     " '99': {'type': 'cutscene', 'node_text': 'Thanks'}}");
	ck_clean();
	ck_assert_int_eq(((const struct choice_data *)node("0")->data)->opts[0].next, idx("1"));
	ck_assert_int_eq(node("1")->next, idx("10"));
	ck_assert_int_eq(node("10")->next, idx("20"));
	ck_assert_int_eq(node("20")->next, idx("99"));
	ck_assert_int_eq(F->start, idx("0"));
}
END_TEST

START_TEST(form_extended)
{
	load("{'name': 'Demo', 'description': 'A demo', 'start': 'intro',"
	     " 'on_missing_node': 'help',"
	     " 'finished_text': {'en': 'Done', 'ru': 'Всё', 'default': 'ru'},"
	     " 'messages': {'stale_button': 'Old button', 'too_long': 'Too long!'},"
	     " 'commands': {'/help': 'help', '/about_1': 5},"
	     " 'nodes': {'intro': {'type': 'cutscene', 'node_text': 'Hi'},"
	     " 'help': {'type': 'cutscene', 'node_text': 'Help'},"
	     " '5': {'type': 'cutscene', 'node_text': 'About'}}}");
	ck_clean();
	ck_assert_uint_eq(F->n_nodes, 3);
	ck_assert_int_eq(F->start, idx("intro"));
	ck_assert_int_eq(F->on_missing_node, idx("help"));
	ck_assert_uint_eq(F->n_commands, 2);
	ck_assert_str_eq(F->commands[0].name, "/help");
	ck_assert_int_eq(F->commands[0].node, idx("help"));
	ck_assert_str_eq(F->commands[1].name, "/about_1");
	ck_assert_int_eq(F->commands[1].node, idx("5"));
	ck_assert_uint_eq(F->finished_text.n, 2);
	ck_assert_uint_eq(F->finished_text.def, 1);
	ck_assert_str_eq(F->finished_text.v[1].text, "Всё");
	ck_assert_uint_eq(F->n_msgs, 2);
	ck_assert_str_eq(F->msgs[0].reason, "stale_button");
	ck_assert_str_eq(F->msgs[0].text.v[0].text, "Old button");
	ck_assert_str_eq(F->msgs[1].reason, "too_long");
}
END_TEST

START_TEST(form_extended_defaults)
{
	load("{'nodes': {'a': {'type': 'cutscene', 'node_text': 'A'},"
	     " '0': {'type': 'cutscene', 'node_text': 'Z', 'next': 'a'}}}");
	ck_clean();
	ck_assert_int_eq(F->start, idx("0"));
	ck_assert_int_eq(F->start, 1);
	ck_assert_int_eq(F->on_missing_node, -1);
	ck_assert_uint_eq(F->n_commands, 0);
	load("{'start': 0, 'nodes': {'0': {'type': 'cutscene', 'node_text': 'Z'}}}");
	ck_clean();
	ck_assert_int_eq(F->start, 0);
}
END_TEST

START_TEST(find_all_ids)
{
	struct buf b;
	char id[16];
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_adds(&b, "{\"start\": \"n0\", \"nodes\": {"), 0);
	for (int i = 0; i < 300; i++) {
		ck_assert_int_eq(buf_addf(&b, "%s\"n%d\": {\"type\": \"cutscene\", "
			"\"node_text\": \"t%d\"", i ? ", " : "", i, i), 0);
		if (i < 299)
			ck_assert_int_eq(buf_addf(&b, ", \"next\": \"n%d\"", i + 1), 0);
		ck_assert_int_eq(buf_addc(&b, '}'), 0);
	}
	ck_assert_int_eq(buf_adds(&b, "}}"), 0);
	load_raw(b.p, b.len);
	buf_free(&b);
	ck_clean();
	ck_assert_uint_eq(F->n_nodes, 300);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		ck_assert_int_eq(flow_find(F, id), i);
		ck_assert_ptr_eq(flow_node(F, id), &F->nodes[i]);
		ck_assert_str_eq(flow_node(F, id)->id, id);
	}
	ck_assert_int_eq(flow_find(F, "n300"), -1);
	ck_assert_int_eq(flow_find(F, ""), -1);
	ck_assert_int_eq(flow_find(F, "N0"), -1);
	ck_assert_int_eq(flow_find(F, "n0 "), -1);
	ck_assert_ptr_null(flow_node(F, "missing"));
}
END_TEST

START_TEST(find_small)
{
	load("{'0': {'type': 'cutscene', 'node_text': 'x', 'next': 'b'},"
	     " 'b': {'type': 'cutscene', 'node_text': 'y'}}");
	ck_clean();
	ck_assert_int_eq(flow_find(F, "0"), 0);
	ck_assert_int_eq(flow_find(F, "b"), 1);
	ck_assert_int_eq(flow_find(F, "a"), -1);
	ck_assert_int_eq(flow_find(F, "00"), -1);
	ck_assert_ptr_null(flow_node(F, "c"));
	ck_assert_str_eq(flow_node(F, "b")->text.v[0].text, "y");
}
END_TEST

/* The hash F has, as hex. */
static void hash_of(const char *json, char out[65])
{
	load(json);
	ck_assert_msg(RC == 0, "%s", dump());
	ck_assert_uint_eq(strlen(F->hash_hex), 64);
	memcpy(out, F->hash_hex, 65);
}

START_TEST(hash_stable)
{
	char a[65], b[65], c[65], d[65];
	hash_of("{'0': {'type': 'cutscene', 'node_text': 'Hi', 'next': '1'},"
		" '1': {'type': 'cutscene', 'node_text': 'Bye'}}", a);
	hash_of("{\n\t'1': {'node_text': 'Bye', 'type': 'cutscene'},\n"
		"  '0'  :  {'next':'1','node_text':'Hi','type':'cutscene'}\n}\n", b);
	hash_of("{'0': {'type': 'cutscene', 'node_text': 'Hi', 'next': '1'},"
		" '1': {'type': 'cutscene', 'node_text': 'Bye!'}}", c);
	hash_of("{'0': {'type': 'cutscene', 'node_text': 'Hi', 'next': '1'},"
		" '1': {'type': 'cutscene', 'node_text': 'B\\u0079e'}}", d);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_str_eq(a, d);   /* same strings, other escapes */
	for (int i = 0; i < 64; i++)
		ck_assert_msg(strchr("0123456789abcdef", a[i]) != NULL, "hex: %s", a);
}
END_TEST

START_TEST(hash_is_sha256_of_canon)
{
	const char *j = "{\"0\": {\"type\": \"cutscene\", \"node_text\": \"Hi\"}}";
	const char *canon = "{\"0\":{\"node_text\":\"Hi\",\"type\":\"cutscene\"}}";
	unsigned char md[32];
	unsigned len = 0;
	char hex[65];
	load_raw(j, strlen(j));
	ck_clean();
	ck_assert_int_eq(EVP_Digest(canon, strlen(canon), md, &len, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(len, 32);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ck_assert_str_eq(F->hash_hex, hex);
	ck_assert_mem_eq(F->hash, md, 32);
}
END_TEST

/* ====================================================================
 * loops of nodes that never wait */

START_TEST(cycle_through_waiting_ok)
{
	load("{'0': {'type': 'cutscene', 'node_text': 'x', 'next': '1'},"
	     " '1': {'type': 'choice', 'node_text': 'Again?', 'choices': {'y': 'Yes'},"
	     " 'next_for_choice': {'y': '2'}},"
	     " '2': {'type': 'branch', 'conditions': [{'key': 'user.id', 'exists': true,"
	     " 'next': '0'}], 'else': '0'}}");
	ck_clean();
}
END_TEST

/* ====================================================================
 * texts */

START_TEST(text_languages)
{
	const struct flow_text *t;
	load("{'0': {'type': 'cutscene', 'node_text': {'en': 'Hi', 'ru': 'Привет',"
	     " 'pt-br': 'Olá', 'zh_hans': '你好', 'default': 'ru'}}}");
	ck_clean();
	t = &node("0")->text;
	ck_assert_uint_eq(t->n, 4);
	ck_assert_uint_eq(t->def, 1);
	ck_assert_str_eq(t->v[0].lang, "en");
	ck_assert_str_eq(t->v[1].text, "Привет");
	ck_assert_str_eq(t->v[2].lang, "pt-br");
	ck_assert_str_eq(t->v[3].lang, "zh_hans");
	load("{'0': {'type': 'cutscene', 'node_text': {'de': 'Hallo', 'en': 'Hi'}}}");
	ck_clean();
	ck_assert_uint_eq(node("0")->text.def, 0);   /* the first language */
	ck_assert_str_eq(node("0")->text.v[0].lang, "de");
}
END_TEST

/* Loads a cutscene whose text is unit repeated n times, then tail. */
static void load_long(const char *unit, int n, const char *tail)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_adds(&b, "{\"0\": {\"type\": \"cutscene\", \"node_text\": \""), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(buf_adds(&b, unit), 0);
	ck_assert_int_eq(buf_adds(&b, tail), 0);
	ck_assert_int_eq(buf_adds(&b, "\"}}"), 0);
	load_raw(b.p, b.len);
	buf_free(&b);
}

START_TEST(text_limit_utf16)
{
	/* Each at the limit; one unit more: tests/invalid/165_* to 168_*. */
	load_long("a", 4096, "");
	ck_clean();
	load_long("😀", 2048, "");   /* an emoji is 2 UTF-16 units */
	ck_clean();
	load_long("я", 4096, "");     /* 2 bytes, 1 unit */
	ck_clean();
	load_long("€", 4096, "");     /* 3 bytes, 1 unit */
	ck_clean();
}
END_TEST

START_TEST(text_html)
{
	/* what Telegram refuses: tests/invalid/174_* to 178_* */
	load("{'0': {'type': 'cutscene', 'node_text': '<b>bold</b> &amp; <i>it</i>"
	     " <a href=\\'https://x.y\\'>link</a> 1 &lt; 2'}}");
	ck_clean();
	/* button labels are plain text: no HTML rules */
	load("{'0': {'type': 'choice', 'node_text': 'Q', 'next': '0',"
	     " 'choices': {'a': 'A & <B>'}}}");
	ck_clean();
}
END_TEST

START_TEST(text_popup_limit)
{
	/* 201 characters: tests/invalid/179_popup_201_chars.json */
	load("{'messages': {'stale_button': 'Old & gone'}, 'nodes': {'0': {'type':"
	     " 'cutscene', 'node_text': 'x'}}}");
	ck_clean();   /* a popup is plain text */
}
END_TEST

/* ====================================================================
 * flow_load from a file, diag_print */

static char tmpdir[64];

static void tmp_setup(void)
{
	setup();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bf-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Removes tmpdir and the plain files the tests left in it. */
static void tmp_teardown(void)
{
	char path[512];
	DIR *dir;
	struct dirent *e;
	teardown();
	dir = opendir(tmpdir);
	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		if (unlink(path) != 0)
			fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
	}
	closedir(dir);
	if (rmdir(tmpdir) != 0)
		fprintf(stderr, "cannot remove %s: %s\n", tmpdir, strerror(errno));
}

/* Writes len bytes to tmpdir/name; returns the path (static). */
static const char *tmp_file(const char *name, const char *data, size_t len)
{
	static char path[128];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(load_file)
{
	const char *j = "{\"0\": {\"type\": \"cutscene\", \"node_text\": \"Hi\"}}";
	const char *p = tmp_file("flow.json", j, strlen(j));
	ck_assert_int_eq(flow_load(p, &F, &D), 0);
	ck_assert_ptr_nonnull(F);
	ck_assert_str_eq(F->file, p);
	ck_assert_uint_eq(F->n_nodes, 1);
	flow_free(F);
	F = NULL;
	ck_assert_int_eq(flow_load("/nonexistent/blueflow.json", &F, &D), -1);
	ck_assert_ptr_null(F);
	ck_item(0, DIAG_ERROR, DIAG_SCHEMA, "/", "cannot open");
	ck_assert_int_eq(flow_load(tmpdir, &F, &D), -1);
	ck_item(1, DIAG_ERROR, DIAG_SCHEMA, "/", "is a directory");
}
END_TEST

START_TEST(diag_print_format)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	load("{'0': {'type': 'cutscene', 'node_text': 'x', 'next': 'nope'},"
	     " '1': {'type': 'cutscene', 'node_text': 'y'}}");
	ck_errors(1);
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	diag_print(&D, f, "t.json", 1);
	diag_print(&D, f, "t.json", 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_str_eq(out,
		"t.json: /0/next: dangling-reference: node \"nope\" does not exist "
		"(ids: \"0\", \"1\")\n"
		"t.json: /1: warning: unreachable: node \"1\" is never reached: neither "
		"the start, a command nor another node leads to it\n"
		"t.json: /0/next: dangling-reference: node \"nope\" does not exist "
		"(ids: \"0\", \"1\")\n");
	free(out);
}
END_TEST

START_TEST(diag_basics)
{
	struct diag d;
	diag_init(&d);
	diag_add(&d, DIAG_ERROR, DIAG_SCHEMA, "", "n=%d", 5);
	diag_add(&d, DIAG_WARNING, DIAG_TEMPLATE, "/a", "w");
	ck_assert_uint_eq(d.n, 2);
	ck_assert_uint_eq(d.errors, 1);
	ck_assert_uint_eq(d.warnings, 1);
	ck_assert_str_eq(d.items[0].path, "/");   /* "" is the whole document */
	ck_assert_str_eq(d.items[0].msg, "n=5");
	ck_assert_str_eq(d.items[1].cls, "template");
	diag_free(&d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_ptr_null(d.items);
}
END_TEST

/* Regression: jdoc_parse() ran strspn(text + end, ...) after the document
 * and read past a buffer that is not NUL-terminated (ASan reported a
 * heap-buffer-overflow). Only a sanitizer build can fail this test. */
START_TEST(load_mem_not_terminated)
{
	const char *j = "{\"0\": {\"type\": \"cutscene\", \"node_text\": \"Hi\"}}";
	size_t len = strlen(j);
	char *p = malloc(len);
	ck_assert_ptr_nonnull(p);
	memcpy(p, j, len);
	load_raw(p, len);
	free(p);
	ck_clean();
}
END_TEST

/* ====================================================================
 * jdoc */

START_TEST(jdoc_path_escaping)
{
	char out[64];
	jdoc_path(out, sizeof(out), "/a", "b~c/d");
	ck_assert_str_eq(out, "/a/b~0c~1d");
	jdoc_path(out, sizeof(out), "", "x");
	ck_assert_str_eq(out, "/x");
	jdoc_path(out, sizeof(out), "", "");
	ck_assert_str_eq(out, "/");
	jdoc_path(out, sizeof(out), "/commands", "/help");
	ck_assert_str_eq(out, "/commands/~1help");
	jdoc_path(out, sizeof(out), "", "~1");
	ck_assert_str_eq(out, "/~01");
	jdoc_path(out, 8, "/abc", "defgh");   /* truncated, still terminated */
	ck_assert_str_eq(out, "/abc/de");
	jdoc_path(out, 7, "/ab", "x~");       /* never half an escape */
	ck_assert_str_eq(out, "/ab/x");
}
END_TEST

/* Parses json (with ' for ") into a new object. */
static json_object *parse(const char *s)
{
	char err[JDOC_ERR_MAX], path[JDOC_PATH_MAX], *j = strdup(s);
	json_object *o = NULL;
	ck_assert_ptr_nonnull(j);
	for (char *p = j; *p; p++)
		if (*p == '\'')
			*p = '"';
	ck_assert_msg(jdoc_parse(j, strlen(j), 64, &o, err, sizeof(err), path,
		sizeof(path)) == 0, "parse: %s", err);
	free(j);
	return o;
}

START_TEST(jdoc_canon_sorted)
{
	json_object *o = parse("{'b': 1, 'a': [true, null, {'d': 'x\\n', 'c': 2.5}],"
		" 'B': 'é', 'aa': -7, '': {}}");
	struct buf b;
	buf_init(&b, 1024);
	ck_assert_int_eq(jdoc_canon(o, &b), 0);
	ck_assert_str_eq(b.p, "{\"\":{},\"B\":\"é\",\"a\":[true,null,{\"c\":2.5,"
		"\"d\":\"x\\n\"}],\"aa\":-7,\"b\":1}");
	ck_assert_uint_eq(b.len, strlen(b.p));
	buf_free(&b);
	buf_init(&b, 10);   /* too small: fails */
	ck_assert_int_eq(jdoc_canon(o, &b), -1);
	ck_assert_uint_le(b.len, 10);
	buf_free(&b);
	json_object_put(o);
}
END_TEST

START_TEST(jdoc_quote_controls)
{
	struct buf b;
	const char s[] = "a\"\\\n\r\t\b\f\x01\x1f\x7f" "\0z";
	buf_init(&b, 256);
	ck_assert_int_eq(jdoc_quote(&b, s, sizeof(s) - 1), 0);
	ck_assert_str_eq(b.p, "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\\u0000z\"");
	buf_reset(&b);
	ck_assert_int_eq(jdoc_quote(&b, "", 0), 0);
	ck_assert_str_eq(b.p, "\"\"");
	buf_free(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(jdoc_quote(&b, "abcdef", 6), -1);
	buf_free(&b);
}
END_TEST

START_TEST(jdoc_parse_errors)
{
	char err[JDOC_ERR_MAX], path[JDOC_PATH_MAX];
	json_object *o = (json_object *)1;
	const char *dup = "{\"a\": [1, {\"x\": 1, \"x\": 2}]}";
	ck_assert_int_eq(jdoc_parse("[[1]]", 5, 2, &o, err, sizeof(err), path,
		sizeof(path)), -1);
	ck_assert_ptr_null(o);
	ck_assert_ptr_nonnull(strstr(err, "nested deeper than 2 levels"));
	ck_assert_str_eq(path, "/");
	ck_assert_int_eq(jdoc_parse("[1]", 3, 2, &o, err, sizeof(err), path,
		sizeof(path)), 0);
	ck_assert_int_eq(json_object_array_length(o), 1);
	json_object_put(o);
	ck_assert_int_eq(jdoc_parse(dup, strlen(dup), 64, &o, err, sizeof(err), path,
		sizeof(path)), -1);
	ck_assert_str_eq(path, "/a/1/x");
	ck_assert_ptr_nonnull(strstr(err, "duplicate key \"x\""));
}
END_TEST

START_TEST(jdoc_duplicates_many_keys)
{
	char err[JDOC_ERR_MAX], path[JDOC_PATH_MAX];
	json_object *o = NULL;
	struct buf b;
	buf_init(&b, 1 << 16);
	/* 100 keys at the top (past the scan's first 64), an object among
	 * them with its own keys, then one of the first repeated */
	buf_adds(&b, "{");
	for (int i = 0; i < 100; i++)
		buf_addf(&b, "\"k%d\": %d, ", i, i);
	buf_adds(&b, "\"in\": {\"k1\": 1, \"k2\": {\"k1\": [{\"k1\": 0}]}}, \"last\": 0");
	buf_addc(&b, '}');
	ck_assert_int_eq(jdoc_parse(b.p, b.len, 64, &o, err, sizeof(err), path,
		sizeof(path)), 0);
	json_object_put(o);
	b.len--;
	buf_adds(&b, ", \"k\\u0037\": 7}");   /* "k7" again, escaped */
	ck_assert_int_eq(jdoc_parse(b.p, b.len, 64, &o, err, sizeof(err), path,
		sizeof(path)), -1);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(path, "/k7");
	ck_assert_ptr_nonnull(strstr(err, "duplicate key \"k7\""));
	buf_free(&b);
}
END_TEST

START_TEST(jdoc_type_names)
{
	json_object *o = parse("[null, true, 1, 1.5, 's', [], {}]");
	const char *want[] = { "null", "a boolean", "an integer", "a number",
		"a string", "an array", "an object" };
	for (size_t i = 0; i < 7; i++)
		ck_assert_str_eq(jdoc_type_name(json_object_array_get_idx(o, i)), want[i]);
	json_object_put(o);
}
END_TEST

START_TEST(jdoc_read_files)
{
	char err[JDOC_ERR_MAX];
	struct buf b;
	const char *p;
	buf_init(&b, 10);
	ck_assert_int_eq(jdoc_read_file("/nonexistent/x.json", 10, &b, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	ck_assert_int_eq(jdoc_read_file(tmpdir, 10, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "is a directory, not a flow file");
	p = tmp_file("empty.json", "", 0);
	ck_assert_int_eq(jdoc_read_file(p, 10, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "file is empty");
	p = tmp_file("blank.json", " \n\t\r\n", 5);
	ck_assert_int_eq(jdoc_read_file(p, 10, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "file is empty");
	p = tmp_file("big.json", "[1,2,3,4,5]", 11);
	ck_assert_int_eq(jdoc_read_file(p, 10, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "file is 11 bytes; the limit is 10 bytes");
	p = tmp_file("ok.json", "[1,2,3,45]", 10);   /* exactly the limit */
	ck_assert_int_eq(jdoc_read_file(p, 10, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.p, "[1,2,3,45]");
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(jdoc_read_file("/dev/null", 10, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "is not a regular file");
	buf_free(&b);
}
END_TEST

/* ====================================================================
 * buf and arena */

START_TEST(buf_ceiling)
{
	struct buf b;
	buf_init(&b, 5);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(buf_adds(&b, "abc"), 0);
	ck_assert_int_eq(buf_add(&b, "def", 3), -1);   /* would be 6 */
	ck_assert_str_eq(b.p, "abc");
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(buf_addc(&b, 'd'), 0);
	ck_assert_int_eq(buf_addf(&b, "%d", 42), -1);
	ck_assert_str_eq(b.p, "abcd");
	ck_assert_int_eq(buf_addf(&b, "%d", 7), 0);
	ck_assert_str_eq(b.p, "abcd7");
	ck_assert_uint_eq(b.len, 5);
	ck_assert_int_eq(buf_addc(&b, 'x'), -1);
	ck_assert_int_eq(buf_add(&b, "", 0), 0);       /* nothing always fits */
	ck_assert_str_eq(b.p, "abcd7");
	ck_assert_uint_le(b.cap, 6);
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.p, "");
	ck_assert_int_eq(buf_adds(&b, "12345"), 0);
	buf_free(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.max, 5);
}
END_TEST

START_TEST(buf_grows)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(buf_addc(&b, (char)('a' + i % 26)), 0);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_int_eq(b.p[100000], '\0');
	ck_assert_int_eq(b.p[99999], 'a' + 99999 % 26);
	ck_assert_int_eq(b.p[26], 'a');
	buf_free(&b);
	buf_init(&b, 0);
	ck_assert_int_eq(buf_addc(&b, 'a'), -1);
	ck_assert_int_eq(buf_add(&b, "", 0), 0);
	ck_assert_str_eq(b.p, "");
	buf_free(&b);
}
END_TEST

START_TEST(buf_printf_in_place)
{
	struct buf b;
	buf_init(&b, 64);
	ck_assert_int_eq(buf_reserve(&b, 32), 0);
	ck_assert_uint_ge(b.cap, 33);
	ck_assert_int_eq(buf_addf(&b, "%s-%d", "ab", -7), 0);      /* fits: one pass */
	ck_assert_str_eq(b.p, "ab--7");
	ck_assert_int_eq(buf_addf(&b, "%040d", 1), 0);             /* grows */
	ck_assert_uint_eq(b.len, 45);
	ck_assert_int_eq(buf_addf(&b, "%030d", 2), -1);            /* past max */
	ck_assert_uint_eq(b.len, 45);
	ck_assert_int_eq(b.p[45], '\0');
	ck_assert_int_eq(buf_reserve(&b, 20), -1);
	buf_free(&b);
}
END_TEST

/* One line written by the child (its own pid, after a fork) into a pipe. */
static void log_line_of(char *out, size_t size, long *pid)
{
	int fd[2];
	ssize_t n;
	pid_t c;

	ck_assert_int_eq(pipe(fd), 0);
	log_msg("info", "parent", "before the fork: caches the pid");
	c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		struct log_line l;
		dup2(fd[1], STDERR_FILENO);
		log_start(&l, "info", "update");
		log_str(&l, "bot", "b\"1");
		log_int(&l, "update_id", 1234567890123LL);
		log_int(&l, "neg", -42);
		log_int(&l, "min", INT64_MIN);
		log_int(&l, "zero", 0);
		log_num(&l, "duration_ms", 1.2344);
		log_num(&l, "d2", 0.0006);
		log_num(&l, "d3", 12345.9999);
		log_num(&l, "neg_ms", -1.5);
		log_end(&l);
		_exit(0);
	}
	close(fd[1]);
	waitpid(c, NULL, 0);
	n = read(fd[0], out, size - 1);
	ck_assert_int_gt(n, 0);
	out[n] = '\0';
	close(fd[0]);
	*pid = (long)c;
}

START_TEST(log_line_format)
{
	char line[1024], want[512], ts[32];
	long pid;
	log_line_of(line, sizeof(line), &pid);
	/* {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ", ... */
	ck_assert_int_eq(strncmp(line, "{\"ts\":\"", 7), 0);
	memcpy(ts, line + 7, 24);
	ts[24] = '\0';
	ck_assert_int_eq(ts[4], '-');
	ck_assert_int_eq(ts[10], 'T');
	ck_assert_int_eq(ts[19], '.');
	ck_assert_int_eq(ts[23], 'Z');
	snprintf(want, sizeof(want), "\",\"level\":\"info\",\"pid\":%ld,\"event\":\"update\","
		"\"bot\":\"b\\\"1\",\"update_id\":1234567890123,\"neg\":-42,"
		"\"min\":-9223372036854775808,\"zero\":0,\"duration_ms\":1.234,"
		"\"d2\":0.001,\"d3\":12346.000,\"neg_ms\":-1.500}\n", pid);
	ck_assert_str_eq(line + 31, want);
}
END_TEST

START_TEST(arena_basics)
{
	struct arena a;
	unsigned char *p, *q, *big;
	char *s;
	arena_init(&a);
	ck_assert_ptr_null(a.head);
	p = arena_alloc(&a, 3);
	q = arena_alloc(&a, 5);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((uintptr_t)p % 16, 0);
	ck_assert_uint_eq((uintptr_t)q % 16, 0);
	ck_assert_ptr_ne(p, q);
	ck_assert_uint_eq(p[0] | p[1] | p[2], 0);
	memset(p, 0xff, 3);
	ck_assert_uint_eq(q[0], 0);
	big = arena_alloc(&a, 100000);   /* bigger than a block */
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_eq(big[0] | big[99999], 0);
	memset(big, 1, 100000);
	s = arena_strdup(&a, "hello");
	ck_assert_str_eq(s, "hello");
	s = arena_strndup(&a, "hello", 3);
	ck_assert_str_eq(s, "hel");
	ck_assert_uint_ge(a.total, 100000 + 16 + 16 + 16 + 16);
	ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX));        /* overflows */
	ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX - 15));   /* no room for a header */
	arena_free(&a);
	ck_assert_ptr_null(a.head);
	ck_assert_uint_eq(a.total, 0);
	s = arena_strdup(&a, "again");   /* usable after free */
	ck_assert_str_eq(s, "again");
	arena_free(&a);
}
END_TEST


/* Regression: a long value filled the step's text buffer and failed the
 * step; html_cut cuts between characters, outside tags and entities, and
 * closes the tags it cuts inside. */
START_TEST(html_cut_limits)
{
	static const struct { const char *html; size_t units, bytes; const char *tail, *want; } c[] = {
		{ "<b>abc</b>", 3, SIZE_MAX, "…", "<b>abc</b>" },        /* fits: whole */
		{ "<b>abc</b>def", 4, SIZE_MAX, "…", "<b>abc</b>…" },
		{ "<b>abcdef</b>", 4, SIZE_MAX, "…", "<b>abc…</b>" },
		{ "<b>a&amp;b</b>", 2, SIZE_MAX, "", "<b>a&amp;</b>" },  /* not inside &amp; */
		{ "<i>&amp;&amp;</i>", SIZE_MAX, 12, "", "<i>&amp;</i>" }, /* bytes, </i> counted */
		{ "<i>&amp;&amp;</i>", SIZE_MAX, 11, "", "<i></i>" },
		{ "h\xc3\xa9llo", 2, SIZE_MAX, "", "h\xc3\xa9" },           /* UTF-8 kept whole */
		{ "h\xc3\xa9llo", SIZE_MAX, 2, "", "h" },
		{ "a\xf0\x9f\x98\x80" "b", 2, SIZE_MAX, "", "a" },            /* 😀 is 2 units */
		{ "<a href=\"x\"><s>ab</s></a>", 1, SIZE_MAX, "", "<a href=\"x\"><s>a</s></a>" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct buf b;
		buf_init(&b, 1024);
		ck_assert_int_eq(html_cut(&b, c[i].html, c[i].units, c[i].bytes, c[i].tail), 0);
		ck_assert_str_eq(b.p ? b.p : "", c[i].want);
		ck_assert_uint_le(html_text_len(b.p ? b.p : ""), c[i].units);
		buf_free(&b);
	}
}
END_TEST

static const char *cut_lookup(void *arg, const char *key, size_t klen, int *raw)
{
	*raw = klen == 4 && memcmp(key, "html", 4) == 0;
	return *raw ? "<i>&amp;&amp;&amp;</i>" : arg;
}

/* Regression: a value that would pass the buffer is cut, leaving room for
 * the template's own text after it, instead of failing the render. */
START_TEST(tmpl_render_cuts_values)
{
	struct buf b;

	buf_init(&b, 20);
	ck_assert_int_eq(tmpl_render(&b, "x{{v}}y", 1, cut_lookup, "&&&&&&"), 0);
	ck_assert_str_eq(b.p, "x&amp;&amp;&amp;y");
	buf_reset(&b);
	ck_assert_int_eq(tmpl_render(&b, "x{{v}}y", 0, cut_lookup,
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 0);
	ck_assert_str_eq(b.p, "x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9y");   /* 18 bytes */
	buf_reset(&b);
	ck_assert_int_eq(tmpl_render(&b, "x{{v}}{{v}}y", 0, cut_lookup, "0123456789"), 0);
	ck_assert_str_eq(b.p, "x012345678901234567y");
	buf_reset(&b);
	ck_assert_int_eq(tmpl_render(&b, "x{{html}}y", 1, cut_lookup, ""), 0);
	ck_assert_str_eq(b.p, "x<i>&amp;&amp;</i>y");
	buf_reset(&b);
	/* the template's own text not fitting is still an error */
	ck_assert_int_eq(tmpl_render(&b, "0123456789{{v}}0123456789!", 1, cut_lookup, "a"), -1);
	buf_free(&b);
}
END_TEST

/* jdoc_quote copies plain runs whole; what it writes, and what a full
 * buffer keeps, are as byte by byte. */
START_TEST(quote_runs)
{
	struct buf b;
	buf_init(&b, 1024);
	ck_assert_int_eq(jdoc_quote(&b, "ab\"c\\d\n\x01\x7f\xc3\xa9z", 12), 0);
	ck_assert_str_eq(b.p, "\"ab\\\"c\\\\d\\n\\u0001\x7f\xc3\xa9z\"");
	buf_free(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(jdoc_quote(&b, "abcdef", 6), -1);
	ck_assert_str_eq(b.p, "\"abc");
	buf_free(&b);
	buf_init(&b, 3);
	ck_assert_int_eq(jdoc_quote(&b, "a\nb", 3), -1);
	ck_assert_str_eq(b.p, "\"a");   /* the escape does not fit whole */
	buf_free(&b);
}
END_TEST

static const char *tmpl_test_lookup(void *arg, const char *key, size_t klen, int *raw)
{
	(void)arg;
	(void)raw;
	return klen == 4 && memcmp(key, "name", 4) == 0 ? "Ada" : NULL;
}

/* A text of 256 KB of "{{" that open nothing, then a key: rendered in
 * one pass (the scan for "{{" went over the whole rest of the text once
 * per "{{" under the sanitizers: minutes, past Check's timeout). */
START_TEST(tmpl_many_braces)
{
	size_t n = 256 * 1024;
	char *text = malloc(n + 16);
	struct buf b;

	ck_assert_ptr_nonnull(text);
	memset(text, '{', n);
	memcpy(text + n, " {{ name }}!", 13);
	buf_init(&b, 2 * n);
	ck_assert_int_eq(tmpl_render(&b, text, 0, tmpl_test_lookup, NULL), 0);
	ck_assert_uint_eq(b.len, n + 5);
	ck_assert_str_eq(b.p + n, " Ada!");
	buf_reset(&b);
	ck_assert_int_eq(tmpl_render(&b, "a {{name}} {{ x }} {{name", 0, tmpl_test_lookup,
		NULL), 0);
	ck_assert_str_eq(b.p, "a Ada  {{name");
	buf_free(&b);
	free(text);
}
END_TEST

START_TEST(html_escape_bytes)
{
	struct buf b;
	buf_init(&b, 1024);
	ck_assert_int_eq(html_escape(&b, "a<b>&\"c' \xc3\xa9\xff<", 13), 0);
	ck_assert_str_eq(b.p, "a&lt;b&gt;&amp;&quot;c' \xc3\xa9\xff&lt;");
	buf_reset(&b);
	ck_assert_int_eq(html_escape(&b, "x<y", 1), 0);   /* len bytes only */
	ck_assert_str_eq(b.p, "x");
	buf_free(&b);
}
END_TEST

/* The plain edit distance and check_suggest's rule, for comparison. */
static size_t ref_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[70][70];
	for (size_t i = 0; i <= la; i++)
		for (size_t j = 0; j <= lb; j++) {
			size_t best = i == 0 ? j : j == 0 ? i :
				d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (i && d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (j && d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

static const char *ref_suggest(const char *word, const char *const *keys)
{
	size_t limit = strlen(word) / 3 < 2 ? 2 : strlen(word) / 3, best_d = (size_t)-1;
	const char *best = NULL, *prefix = NULL;
	int several = 0;
	for (int i = 0; keys[i]; i++) {
		size_t d = ref_distance(word, keys[i]);
		if (d < best_d) {
			best_d = d;
			best = keys[i];
		}
		if (strlen(word) >= 3 && strncmp(keys[i], word, strlen(word)) == 0) {
			several += prefix != NULL;
			prefix = keys[i];
		}
	}
	return best_d <= limit ? best : several ? NULL : prefix;
}

/* Random words near and far from the keys: the banded distance agrees. */
START_TEST(suggest_agrees)
{
	static const char *const keys[] = { "ab", "abc", "abcd", "bacd", "abcdef",
		"abcdefghijkl", "aabbccddeeff", "cab", "dcba", "fedcba", "bbbbbb", NULL };
	char w[40];
	unsigned seed = 12345;
	for (int n = 0; n < 20000; n++) {
		size_t len;
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 16) % 16;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			w[i] = (char)('a' + (seed >> 16) % 6);
		}
		w[len] = '\0';
		{
			const char *got = check_suggest(w, keys), *want = ref_suggest(w, keys);
			ck_assert_msg(got == want, "%s: got %s, wanted %s", w,
				got ? got : "none", want ? want : "none");
		}
	}
}
END_TEST

/* check_suggest's distance stops early past what could still win; the
 * answers are those of the full edit distance: the nearest within a third
 * of the word (at least 2), the first of equals, else the one candidate
 * the word starts. */
START_TEST(suggest_nearest)
{
	static const char *const keys[] = { "listen", "workers", "max_body",
		"max_connections", "max_chat_files", "max_chat_outbox", "pin_versions",
		"log_level", NULL };
	static const char *const ties[] = { "abcx", "abxd", "abcd", NULL };
	char junk[200];

	ck_assert_str_eq(check_suggest("listn", keys), "listen");
	ck_assert_str_eq(check_suggest("wrokers", keys), "workers");
	ck_assert_str_eq(check_suggest("max_chat_file", keys), "max_chat_files");
	ck_assert_str_eq(check_suggest("max_chat_outbx", keys), "max_chat_outbox");
	ck_assert_str_eq(check_suggest("max_conn", keys), "max_connections");   /* prefix */
	ck_assert_str_eq(check_suggest("log_level", keys), "log_level");
	ck_assert_str_eq(check_suggest("abcc", ties), "abcx");   /* first of equals */
	ck_assert_str_eq(check_suggest("abcd", ties), "abcd");   /* exact beats first */
	ck_assert_ptr_null(check_suggest("max", keys));          /* several prefixes */
	ck_assert_ptr_null(check_suggest("zzzzzzzz", keys));
	memset(junk, 'q', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	ck_assert_ptr_null(check_suggest(junk, keys));           /* past 64 bytes */
	junk[20] = '\0';
	ck_assert_ptr_null(check_suggest(junk, keys));
}
END_TEST

/* ==================================================================== */

static void add(Suite *s, const char *name, const TTest *const *tests, size_t n,
	void (*up)(void), void (*down)(void))
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, up, down);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
}

#define ADD(s, name, up, down, ...) do { \
	const TTest *const t_[] = { __VA_ARGS__ }; \
	add((s), (name), t_, sizeof(t_) / sizeof(t_[0]), (up), (down)); \
} while (0)

int main(void)
{
	Suite *s = suite_create("flow");
	ADD(s, "choice", setup, teardown, choice_minimal, choice_columns_next_and_key,
		choice_columns_range, choice_count_limit, choice_callback_limit);
	ADD(s, "text", setup, teardown, text_minimal, text_rules_and_pattern,
		text_ranges, text_whole_numbers, rich_text_minimal, tg_username_minimal);
	ADD(s, "cutscene_upload", setup, teardown, cutscene_minimal, voice_minimal,
		voice_max_mb, file_minimal);
	ADD(s, "branch", setup, teardown, branch_all_ops);
	ADD(s, "common", setup, teardown, common_attempts, common_node_messages,
		common_key_to_save);
	ADD(s, "schema", setup, teardown, json_bad_line, json_trailing_text,
		json_duplicate_keys, schema_node_shape, schema_node_ids);
	ADD(s, "memory", setup, teardown, load_mem_not_terminated);
	ADD(s, "references", setup, teardown, unknown_type, flow_messages,
		suggest_nearest, suggest_agrees, quote_runs, tmpl_many_braces, html_escape_bytes);
	ADD(s, "warnings", setup, teardown, warn_unreachable,
		warn_unreachable_via_attempts_and_choices, err_template,
		warn_condition);
	ADD(s, "time", setup, teardown, duration_forms, duration_refused,
		time_keys_load, warn_reminder_after_timeout, intents_load);
	ADD(s, "forms", setup, teardown, form_canonical, form_seed_numbers,
		form_extended, form_extended_defaults, find_all_ids, find_small,
		hash_stable, hash_is_sha256_of_canon);
	ADD(s, "cycles", setup, teardown, cycle_through_waiting_ok);
	ADD(s, "texts", setup, teardown, text_languages, text_limit_utf16, text_html,
		text_popup_limit);
	ADD(s, "files", tmp_setup, tmp_teardown, load_file, jdoc_read_files);
	ADD(s, "helpers", setup, teardown, diag_print_format, diag_basics,
		jdoc_path_escaping, jdoc_canon_sorted, jdoc_quote_controls,
		jdoc_parse_errors, jdoc_duplicates_many_keys, jdoc_type_names, buf_ceiling,
		buf_grows, buf_printf_in_place, log_line_format, arena_basics,
		html_cut_limits, tmpl_render_cuts_values);
	return unit_run(s);
}
