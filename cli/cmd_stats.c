/* cmd_stats.c - `blueflow stats BOT [--since 7d]`: the bot's funnel from
 * its transcript: per node of its flow, how many chats reached it, how
 * many answers it refused, and how many chats stopped there (left, or
 * finished at a node that ends the flow). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "engine/flow.h"
#include "engine/node.h"
#include "engine/transcript.h"

static void stats_usage(FILE *f)
{
	fprintf(f, "usage: blueflow stats BOT [--since AGE] [-c blueflow.conf]\n\n"
		"Prints the bot's funnel from the store's transcript (transcript = on):\n"
		"per node of its flow, in the flow's order,\n"
		"  REACHED   chats that came to the node\n"
		"  REFUSED   answers the node refused (a re-prompt)\n"
		"  LEFT      chats whose last step ended there, the flow not finished\n"
		"  FINISHED  chats whose flow ended there\n"
		"AGE counts back from now: 7d (the default), 24h, 30m, or all.\n\n"
		"  -c FILE   the config file (default $BLUEFLOW_CONF, else ./blueflow.conf)\n\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

/* A (node, chat) pair, in the order the rows came. */
struct stats_seen {
	int node;
	long long chat;
	long long seq;
};

struct stats {
	const struct flow *f;
	struct stats_seen *seen;
	size_t n, cap;
	long long *refused;
	int oom;
};

static int stats_row(void *arg, int n, const char *const *c)
{
	struct stats *st = arg;
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
		struct stats_seen *s = realloc(st->seen, cap * sizeof(*s));
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
static int stats_by_chat(const void *a, const void *b)
{
	const struct stats_seen *x = a, *y = b;
	if (x->chat != y->chat)
		return x->chat < y->chat ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void stats_edge(void *arg, const struct node_edge *e)
{
	(void)e;
	(*(int *)arg)++;
}

/* AGE as seconds: 7d, 24h, 30m, or "all" (0). -1 when it is none. */
static long long stats_age(const char *s)
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

/* Prints the table from st's rows. */
static void stats_print(struct stats *st)
{
	const struct flow *f = st->f;
	long long *reached = calloc(f->n_nodes * 3 + 1, sizeof(long long));
	long long *left = reached + f->n_nodes, *ended = left + f->n_nodes;

	if (reached == NULL)
		return;
	qsort(st->seen, st->n, sizeof(*st->seen), stats_by_chat);
	for (size_t i = 0; i < st->n; i++) {
		const struct stats_seen *s = &st->seen[i];
		int again = 0;
		/* reached: once per chat and node */
		for (size_t j = i; j > 0 && st->seen[j - 1].chat == s->chat && !again; j--)
			again = st->seen[j - 1].node == s->node;
		if (!again)
			reached[s->node]++;
		if (i + 1 == st->n || st->seen[i + 1].chat != s->chat) {
			int edges = 0;
			node_edges(&f->nodes[s->node], stats_edge, &edges);
			if (edges == 0 && !f->nodes[s->node].type->waits)
				ended[s->node]++;
			else
				left[s->node]++;
		}
	}
	printf("%-24s %8s %8s %8s %8s\n", "NODE", "REACHED", "REFUSED", "LEFT", "FINISHED");
	for (unsigned i = 0; i < f->n_nodes; i++)
		printf("%-24s %8lld %8lld %8lld %8lld\n", f->nodes[i].id, reached[i],
			st->refused[i], left[i], ended[i]);
	free(reached);
}

int cmd_stats(int argc, char **argv)
{
	const struct config_bot *bot;
	struct stats st = { 0 };
	struct cli_store cs;
	struct store_err e;
	struct flow *f = NULL;
	long long age = 7 * 86400;
	int rc = CMD_FAIL;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		stats_usage(stdout);
		return CMD_OK;
	}
	if (cli_store_open("stats", &argc, argv, &cs) != 0)
		return CMD_FAIL;
	if (argc == 4 && !strcmp(argv[2], "--since"))
		age = stats_age(argv[3]);
	if ((argc != 2 && argc != 4) || (argc == 4 && strcmp(argv[2], "--since")) || age < 0) {
		cli_store_close(&cs);
		stats_usage(stderr);
		return CMD_USAGE;
	}
	bot = cli_store_bot("stats", &cs, argv[1]);
	if (bot == NULL || cli_flow(bot->flow_file, &f) != 0)
		goto out;
	st.f = f;
	st.refused = calloc(f->n_nodes + 1, sizeof(*st.refused));
	if (st.refused == NULL)
		goto out;
	if (transcript_steps(cs.s, bot->name, age ? (long long)time(NULL) - age : 0,
	    stats_row, &st, &e) != STORE_OK) {
		fprintf(stderr, "blueflow stats: %s\n", e.msg);
		goto out;
	}
	if (st.oom) {
		fprintf(stderr, "blueflow stats: out of memory\n");
		goto out;
	}
	stats_print(&st);
	rc = CMD_OK;
out:
	free(st.seen);
	free(st.refused);
	flow_free(f);
	cli_store_close(&cs);
	return rc;
}
