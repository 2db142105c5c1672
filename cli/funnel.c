/* funnel.c - a bot's funnel from its transcript (funnel.h). */
#include "cli/funnel.h"

#include <stdlib.h>
#include <string.h>

#include "engine/node.h"
#include "engine/transcript.h"

/* A (node, chat) pair, in the order the rows came. */
struct funnel_seen {
	int node;
	long long chat;
	long long seq;
};

struct funnel_rows {
	const struct flow *f;
	struct funnel_seen *seen;
	size_t n, cap;
	long long *refused;
	int oom;
};

static int funnel_row(void *arg, int n, const char *const *c)
{
	struct funnel_rows *st = arg;
	int to;

	if (n < 4)
		return 1;
	to = flow_find(st->f, c[1] ? c[1] : "");
	if (to < 0)
		return 0;   /* a node the flow no longer has */
	if (c[2] && strcmp(c[2], "stayed") == 0)
		st->refused[to]++;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 1024;
		struct funnel_seen *s = realloc(st->seen, cap * sizeof(*s));
		if (s == NULL) {
			st->oom = 1;
			return 1;
		}
		st->seen = s;
		st->cap = cap;
	}
	st->seen[st->n].node = to;
	st->seen[st->n].chat = strtoll(c[3], NULL, 10);
	st->seen[st->n].seq = (long long)st->n;
	st->n++;
	return 0;
}

/* By chat, then by the order the rows came. */
static int funnel_by_chat(const void *a, const void *b)
{
	const struct funnel_seen *x = a, *y = b;
	if (x->chat != y->chat)
		return x->chat < y->chat ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void funnel_edge(void *arg, const struct node_edge *e)
{
	(void)e;
	(*(int *)arg)++;
}

/* Counts reached, left and ended from the rows. */
static void funnel_count(struct funnel_rows *st, struct funnel *fu)
{
	const struct flow *f = st->f;

	qsort(st->seen, st->n, sizeof(*st->seen), funnel_by_chat);
	for (size_t i = 0; i < st->n; i++) {
		const struct funnel_seen *s = &st->seen[i];
		int again = 0;
		/* reached: once per chat and node */
		for (size_t j = i; j > 0 && st->seen[j - 1].chat == s->chat && !again; j--)
			again = st->seen[j - 1].node == s->node;
		if (!again)
			fu->reached[s->node]++;
		if (i + 1 == st->n || st->seen[i + 1].chat != s->chat) {
			int edges = 0;
			node_edges(&f->nodes[s->node], funnel_edge, &edges);
			if (edges == 0 && !f->nodes[s->node].type->waits)
				fu->ended[s->node]++;
			else
				fu->left[s->node]++;
		}
	}
}

int funnel_load(struct store *s, const char *bot, const struct flow *f,
	long long since, struct funnel *fu, struct store_err *e)
{
	struct funnel_rows st = { 0 };
	long long *all = calloc((size_t)f->n_nodes * 4 + 1, sizeof(long long));
	int rc;

	memset(fu, 0, sizeof(*fu));
	if (all == NULL)
		return store_fail(e, STORE_TRANSIENT, "out of memory");
	fu->reached = all;
	fu->refused = all + f->n_nodes;
	fu->left = all + 2 * f->n_nodes;
	fu->ended = all + 3 * f->n_nodes;
	st.f = f;
	st.refused = fu->refused;
	rc = transcript_steps(s, bot, since, funnel_row, &st, e);
	if (rc == STORE_OK && st.oom)
		rc = store_fail(e, STORE_TRANSIENT, "out of memory");
	if (rc == STORE_OK)
		funnel_count(&st, fu);
	free(st.seen);
	if (rc)
		funnel_free(fu);
	return rc;
}

void funnel_free(struct funnel *fu)
{
	free(fu->reached);
	memset(fu, 0, sizeof(*fu));
}

long long funnel_age(const char *s)
{
	char *end;
	long long n;
	if (strcmp(s, "all") == 0)
		return 0;
	n = strtoll(s, &end, 10);
	if (n <= 0 || end == s || end[0] == '\0' || end[1] != '\0')
		return -1;
	if (*end == 'd')
		return n * 86400;
	if (*end == 'h')
		return n * 3600;
	return *end == 'm' ? n * 60 : -1;
}
