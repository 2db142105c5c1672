/* test_http.c - unit tests of the http node's request (URL and body
 * templates, headers from the environment) and of http_allow. */
#include <stdlib.h>
#include <string.h>

#include "engine/diag.h"
#include "engine/flow.h"
#include "engine/http.h"
#include "engine/node_http.h"

#include "tests/unit/unit.h"

static const char FLOW[] =
	"{\"nodes\": {\"0\": {\"type\": \"http\", \"url\": "
	"\"https://api.example.com/find?q={{name}}&id={{user.id}}\", "
	"\"headers\": {\"Authorization\": \"Bearer $UNIT_HTTP_TOKEN\", \"X-Kind\": \"lead\"}, "
	"\"send_answers\": true, \"body\": {\"note\": \"from {{name}}\", \"list\": [\"{{city}}\", 7]}, "
	"\"next\": \"1\"}, \"1\": {\"type\": \"cutscene\", \"node_text\": \"ok\"}}}";

static struct flow *load(const char *text)
{
	struct flow *f = NULL;
	struct diag d;
	diag_init(&d);
	ck_assert_int_eq(flow_load_mem("t.json", text, strlen(text), &f, &d), 0);
	diag_free(&d);
	return f;
}

START_TEST(request_rendered)
{
	struct flow *f = load(FLOW);
	struct http_request rq;
	struct chat c;
	char why[200];
	json_object *body;

	ck_assert_int_eq(chat_init(&c, 42), 0);
	json_object_object_add(c.ctx, "name", json_object_new_string("Ada \"A\" & co/1"));
	json_object_object_add(c.ctx, "city", json_object_new_string("Köln"));
	setenv("UNIT_HTTP_TOKEN", "s3cret", 1);
	memset(&rq, 0, sizeof(rq));
	ck_assert_int_eq(http_node_request(f, &f->nodes[flow_find(f, "0")], &c, &rq,
		why, sizeof(why)), 0);
	ck_assert_str_eq(rq.method, "POST");
	ck_assert_str_eq(rq.url, "https://api.example.com/find?q=Ada%20%22A%22%20%26%20co%2F1&id=");
	ck_assert_uint_eq(rq.n_headers, 2);
	ck_assert_str_eq(rq.headers[0], "Authorization: Bearer s3cret");
	ck_assert_str_eq(rq.headers[1], "X-Kind: lead");
	body = json_tokener_parse(rq.body);
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(body, "name")), "Ada \"A\" & co/1");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(body, "note")), "from Ada \"A\" & co/1");
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
		json_object_object_get(body, "list"), 0)), "Köln");
	ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(
		json_object_object_get(body, "list"), 1)), 7);
	json_object_put(body);
	http_request_free(&rq);

	unsetenv("UNIT_HTTP_TOKEN");
	memset(&rq, 0, sizeof(rq));
	ck_assert_int_eq(http_node_request(f, &f->nodes[flow_find(f, "0")], &c, &rq,
		why, sizeof(why)), -1);
	ck_assert_str_eq(why, "the environment variable UNIT_HTTP_TOKEN is not set");
	http_request_free(&rq);
	chat_free(&c);
	flow_free(f);
}
END_TEST

static int allowed(const char *list, const char *url, int *literal)
{
	char why[200];
	return http_allowed(list, url, literal, why, sizeof(why));
}

START_TEST(allow_list)
{
	const char *list = "api.example.com, *.example.org http://127.0.0.1:8080";
	int lit;

	ck_assert(allowed(list, "https://api.example.com/x", &lit) && !lit);
	ck_assert(allowed(list, "https://api.example.com:8443/x", &lit));
	ck_assert(allowed(list, "https://API.Example.com/x", &lit));
	ck_assert(!allowed(list, "http://api.example.com/x", &lit));      /* plain http */
	ck_assert(!allowed(list, "https://evil-api.example.com/x", &lit));
	ck_assert(allowed(list, "https://a.b.example.org/x", &lit));
	ck_assert(!allowed(list, "https://example.org/x", &lit));          /* not a subdomain */
	ck_assert(!allowed(list, "https://example.org.evil.net/x", &lit));
	ck_assert(allowed(list, "http://127.0.0.1:8080/hook", &lit) && lit);
	ck_assert(!allowed(list, "http://127.0.0.1:8081/hook", &lit));
	ck_assert(!allowed(list, "https://127.0.0.1:8080/hook", &lit));
	ck_assert(!allowed(list, "ftp://api.example.com/x", &lit));
	ck_assert(!allowed(NULL, "https://api.example.com/x", &lit));
	ck_assert(allowed("http://localhost:9", "http://localhost:9/", &lit) && !lit);
}
END_TEST

START_TEST(allow_entries)
{
	char why[200];
	ck_assert_int_eq(http_allow_entry_check("api.example.com", why, sizeof(why)), 0);
	ck_assert_int_eq(http_allow_entry_check("*.example.org", why, sizeof(why)), 0);
	ck_assert_int_eq(http_allow_entry_check("http://10.0.0.5:80", why, sizeof(why)), 0);
	ck_assert_int_eq(http_allow_entry_check("api.example.com:8443", why, sizeof(why)), -1);
	ck_assert_int_eq(http_allow_entry_check("*", why, sizeof(why)), -1);
	ck_assert_int_eq(http_allow_entry_check("a.*.org", why, sizeof(why)), -1);
	ck_assert_int_eq(http_allow_entry_check("ftp://x.org:21", why, sizeof(why)), -1);
}
END_TEST

START_TEST(literal_secrets)
{
	ck_assert(http_node_literal_secret("Authorization", "Bearer abc"));
	ck_assert(http_node_literal_secret("X-Api-Key", "abc"));
	ck_assert(!http_node_literal_secret("Authorization", "Bearer $TOKEN"));
	ck_assert(!http_node_literal_secret("Accept", "application/json"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	tcase_add_test(tc, request_rendered);
	tcase_add_test(tc, allow_list);
	tcase_add_test(tc, allow_entries);
	tcase_add_test(tc, literal_secrets);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
