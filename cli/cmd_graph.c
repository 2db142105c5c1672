/* cmd_graph.c - `blueflow graph FLOW.json [--dot]`: draws a flow as a
 * Mermaid flowchart (the default, for READMEs and GitHub) or a Graphviz
 * digraph on stdout. Each node shows its id, its type and the start of
 * its text; each edge the button, condition or limit that takes it; the
 * start and the commands enter from pseudo-nodes; the ends the author
 * wrote (the flow finishes there), nodes from which no end can be reached
 * (a chat there never finishes) and nodes nothing reaches are marked. The flow is loaded
 * and validated as `blueflow check` does, so a broken flow draws nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/common.h"
#include "cli/funnel.h"
#include "engine/flow.h"
#include "engine/node.h"

#define GRAPH_CHARS 40    /* characters of a text kept in a label */
#define GRAPH_LABEL 256   /* bytes: GRAPH_CHARS UTF-8 characters and "..." */

enum graph_syntax { GRAPH_MERMAID, GRAPH_DOT };

/* One transition. Labels are plain UTF-8 text, escaped when written. */
struct graph_edge {
	unsigned from;
	unsigned to;
	int dashed;                /* taken on a limit, not an answer */
	char label[GRAPH_LABEL];   /* "" for a plain next */
};

struct graph {
	const struct flow *f;
	struct graph_edge *edges;
	unsigned n_edges;
	unsigned cap;
	unsigned *first;           /* each node's edges: from first[i] ... */
	unsigned *out;             /* ... for out[i] edges (0: an end) */
	unsigned char *reached;    /* 1: some entry leads to the node */
	unsigned char *finishes;   /* 1: some path leads from it to an end */
	const struct funnel *fu;   /* --stats: the bot's funnel; NULL: none */
};

static void graph_usage(FILE *f)
{
	fprintf(f, "usage: blueflow graph [--dot] FLOW.json\n"
		"       blueflow graph [--dot] --stats BOT [--since AGE] [-c blueflow.conf]\n\n"
		"Prints the flow as a diagram on stdout: a Mermaid flowchart (paste\n"
		"it into a ```mermaid block of a Markdown file), or with --dot a\n"
		"Graphviz digraph (render it with `dot -Tsvg`).\n\n"
		"Nodes are drawn by type (choice: hexagon, branch: diamond, cutscene:\n"
		"rounded, uploads: parallelogram, other questions: box) and labelled\n"
		"with their id, type and the first %d characters of their text in the\n"
		"default language. Edges carry the button label, the branch condition\n"
		"(\"else\" for the fallback) or nothing for a plain next; dashed edges\n"
		"are taken after too many bad answers, or by a command or intent.\n"
		"/start enters the start node (drawn bold); each command and keyword\n"
		"intent (\"intent ID\") enters its node, and \"node removed\" the\n"
		"on_missing_node when it is not the\n"
		"start. Ends, where the flow finishes as written (a node without a way\n"
		"out, such as a cutscene without next), are blue; nodes from which no\n"
		"end can be reached, so that a chat there never finishes, are red;\n"
		"nodes that nothing reaches are grey and dashed. Ids in the diagram are generated (n0,\n"
		"n1, ...): the real ids are only in the labels.\n\n"
		"With --stats the bot's flow is drawn coloured by drop-off, from the\n"
		"same store figures as `blueflow stats`: each node's fill goes from\n"
		"green to red by the share of the chats that reached it that left\n"
		"there (the flow unfinished), and its label gains the counts (reached,\n"
		"left with that share, refused answers, finished); a node no chat\n"
		"reached keeps its plain look.\n\n"
		"  --dot         Graphviz instead of Mermaid\n"
		"  --stats BOT   colour by drop-off (needs the config: -c FILE)\n"
		"  --since AGE   with --stats: 7d (the default), 24h, 30m or all\n"
		"  --mermaid     Mermaid (the default)\n"
		"  -h, --help    show this help\n\n"
		"Exit status: 0 drawn, 1 invalid flow (its errors on stderr, as\n"
		"`blueflow check` prints them) or a write error, 2 usage error.\n\n"
		"Examples:\n  blueflow graph flows/onboarding.json\n"
		"  blueflow graph --dot flows/onboarding.json | dot -Tsvg >flow.svg\n"
		"  blueflow graph --stats onboarding --since 30d -c blueflow.conf\n",
		GRAPH_CHARS);
}

/* The length of the UTF-8 sequence that starts with byte c (the flow was
 * valid UTF-8 when it loaded). */
static size_t graph_utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	return 2;
}

/* The character the entity at s (which starts with '&') stands for, with
 * its length in *n; '&' itself, length 1, for any other entity (shown as
 * written, which is rare enough in a label). */
static char graph_entity(const char *s, size_t *n)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' },
	};
	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		*n = strlen(ents[i].name);
		if (strncmp(s, ents[i].name, *n) == 0)
			return ents[i].c;
	}
	*n = 1;
	return '&';
}

/* Copies the start of s into out (GRAPH_LABEL bytes) as one line of plain
 * text: whitespace runs become one space, and when html is set Telegram
 * HTML tags are dropped and its entities decoded, so that the diagram
 * shows what the user reads. Past GRAPH_CHARS characters it ends
 * with "...". Characters are never cut in half. */
static void graph_short(const char *s, int html, char *out)
{
	size_t len = 0;
	unsigned chars = 0;
	int space = 0;

	while (*s != '\0') {
		char c = *s;
		size_t n = 1;
		int decoded = 0;
		if (html && c == '<' && strchr(s, '>') != NULL) {
			s = strchr(s, '>') + 1;
			continue;
		}
		if (html && c == '&') {
			c = graph_entity(s, &n);
			decoded = n > 1;
		}
		if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			space = len > 0;
			s += n;
			continue;
		}
		if (!decoded) {
			/* a caller's snprintf may have cut the last character */
			size_t want = graph_utf8_len((unsigned char)c);
			for (n = 1; n < want && s[n] != '\0'; n++)
				;
			if (n < want)
				break;
		}
		if (chars + space >= GRAPH_CHARS) {
			memcpy(out + len, "...", 4);
			return;
		}
		if (space) {
			out[len++] = ' ';
			chars++;
			space = 0;
		}
		if (decoded) {
			out[len++] = c;
		} else {
			memcpy(out + len, s, n);
			len += n;
		}
		chars++;
		s += n;
	}
	out[len] = '\0';
}

/* The text in the flow's default language, or "" when there is none. */
static const char *graph_text(const struct flow_text *t)
{
	return t->n > 0 ? t->v[t->def].text : "";
}

/* Adds an edge; its label is fmt, shortened. Returns 0, or -1 when memory
 * runs out. */
static int graph_edge(struct graph *g, unsigned from, int to, int dashed,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int graph_edge(struct graph *g, unsigned from, int to, int dashed,
	const char *fmt, ...)
{
	char raw[512];
	struct graph_edge *e;
	va_list ap;

	if (to < 0)
		return 0;
	if (g->n_edges == g->cap) {
		unsigned cap = g->cap ? 2 * g->cap : 64;
		e = realloc(g->edges, cap * sizeof(*e));
		if (e == NULL)
			return -1;
		g->edges = e;
		g->cap = cap;
	}
	e = &g->edges[g->n_edges++];
	e->from = from;
	e->to = (unsigned)to;
	e->dashed = dashed;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	graph_short(raw, 0, e->label);
	g->out[from]++;
	return 0;
}

struct graph_cursor {
	struct graph *g;
	unsigned from;
	int rc;
};

static void graph_add(void *arg, const struct node_edge *e)
{
	struct graph_cursor *cur = arg;
	if (cur->rc == 0)
		cur->rc = graph_edge(cur->g, cur->from, e->to, e->dashed, "%s", e->label);
}

/* Collects every transition of node i, in the order the engine tries
 * them. Returns 0 or -1 (out of memory). */
static int graph_node_edges(struct graph *g, unsigned i)
{
	struct graph_cursor cur = { .g = g, .from = i, .rc = 0 };
	g->first[i] = g->n_edges;
	node_edges(&g->f->nodes[i], graph_add, &cur);
	return cur.rc;
}

/* Writes s escaped for a double-quoted Mermaid label: Mermaid reads
 * "#name;" as an HTML entity and renders labels as HTML, so every
 * character that could end the string, start an entity or a tag, turn
 * the label into Markdown, or (as "%%{...}%%", which Mermaid takes from
 * anywhere in the text) into a directive becomes an entity. */
static void graph_mermaid_text(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '"': fputs("#quot;", o); break;
		case '#': fputs("#35;", o); break;
		case '&': fputs("#amp;", o); break;
		case '<': fputs("#lt;", o); break;
		case '>': fputs("#gt;", o); break;
		case '|': fputs("#124;", o); break;
		case '`': fputs("#96;", o); break;
		case '%': fputs("#37;", o); break;
		default: fputc(*s, o); break;
		}
	}
}

/* Writes s escaped for a double-quoted DOT string: only '"' and '\' are
 * special there ("\n", "\N"... are escapes of Graphviz's own). */
static void graph_dot_text(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', o);
		fputc(*s, o);
	}
}

static void graph_text_out(FILE *o, enum graph_syntax syn, const char *s)
{
	if (syn == GRAPH_MERMAID)
		graph_mermaid_text(o, s);
	else
		graph_dot_text(o, s);
}

/* A node's label: "ID (TYPE)", then the start of its text on a line of
 * its own. The id is shown whole (at most FLOW_ID_MAX bytes, no control
 * characters): it is what the author searches the flow file for. */
static void graph_label(FILE *o, enum graph_syntax syn, const struct graph *g,
	unsigned i)
{
	const struct flow_node *n = &g->f->nodes[i];
	const char *br = syn == GRAPH_MERMAID ? "<br/>" : "\\n";
	char text[GRAPH_LABEL];

	graph_short(graph_text(&n->text), 1, text);
	graph_text_out(o, syn, n->id);
	fprintf(o, " (%s)", n->type->name);
	if (text[0] != '\0') {
		fputs(br, o);
		graph_text_out(o, syn, text);
	}
	if (g->fu && g->fu->reached[i] > 0) {
		fprintf(o, "%s%lld reached, %lld left (%lld%%)", br, g->fu->reached[i],
			g->fu->left[i], g->fu->left[i] * 100 / g->fu->reached[i]);
		if (g->fu->refused[i] > 0)
			fprintf(o, ", %lld refused", g->fu->refused[i]);
		if (g->fu->ended[i] > 0)
			fprintf(o, ", %lld finished", g->fu->ended[i]);
	}
}

/* With --stats, the fill of node i by its drop-off (the share of the
 * chats that reached it that left there): green at none, yellow at half,
 * red at all, as "#rrggbb" into out; 0 when it has none (no stats, or no
 * chat reached it). */
static int graph_drop_fill(const struct graph *g, unsigned i, char out[8])
{
	static const int green[3] = { 0xc8, 0xf0, 0xc8 }, yellow[3] = { 0xff, 0xf0, 0xa8 },
		red[3] = { 0xf4, 0x9a, 0x9a };
	const int *from = green, *to = yellow;
	double share, t;
	int c[3];

	if (g->fu == NULL || g->fu->reached[i] <= 0)
		return 0;
	share = (double)g->fu->left[i] / (double)g->fu->reached[i];
	t = share * 2;
	if (share > 0.5) {
		from = yellow;
		to = red;
		t = share * 2 - 1;
	}
	for (int k = 0; k < 3; k++)
		c[k] = from[k] + (int)((to[k] - from[k]) * t + (to[k] > from[k] ? 0.5 : -0.5));
	snprintf(out, 8, "#%02x%02x%02x", c[0] & 0xff, c[1] & 0xff, c[2] & 0xff);
	return 1;
}

static int graph_end(const struct graph *g, unsigned i)
{
	return g->out[i] == 0;
}

static int graph_stuck(const struct graph *g, unsigned i)
{
	return !g->finishes[i];
}

/* Marks the nodes some path leads from to an end: the ends, then, until
 * nothing changes, each node with an edge to a marked one. */
static void graph_mark_finishing(struct graph *g)
{
	int changed = 1;

	for (unsigned i = 0; i < g->f->n_nodes; i++)
		g->finishes[i] = graph_end(g, i);
	while (changed) {
		changed = 0;
		for (unsigned e = 0; e < g->n_edges; e++) {
			const struct graph_edge *ed = &g->edges[e];
			if (g->finishes[ed->to] && !g->finishes[ed->from]) {
				g->finishes[ed->from] = 1;
				changed = 1;
			}
		}
	}
}

static void graph_mermaid_class(FILE *o, const struct graph *g, const char *name,
	int (*has)(const struct graph *g, unsigned i))
{
	int first = 1;
	for (unsigned i = 0; i < g->f->n_nodes; i++) {
		if (!has(g, i))
			continue;
		fprintf(o, first ? "\tclass n%u" : ",n%u", i);
		first = 0;
	}
	if (!first)
		fprintf(o, " %s\n", name);
}

static int graph_is_start(const struct graph *g, unsigned i)
{
	return (int)i == g->f->start;
}

static int graph_unreached(const struct graph *g, unsigned i)
{
	return !g->reached[i];
}

/* Whether chats whose node was removed enter somewhere else than the
 * start, which then needs an entry of its own. */
static int graph_has_missing(const struct flow *f)
{
	return f->on_missing_node >= 0 && f->on_missing_node != f->start;
}

static void graph_mermaid(FILE *o, const struct graph *g)
{
	const struct flow *f = g->f;

	fputs("flowchart TD\n", o);
	fputs("\ts0([\"/start\"])\n", o);
	for (unsigned i = 0; i < f->n_commands; i++) {
		fprintf(o, "\tc%u([\"", i);
		graph_mermaid_text(o, f->commands[i].name);
		fputs("\"])\n", o);
	}
	for (unsigned i = 0; i < f->n_intents; i++) {
		fprintf(o, "\tk%u([\"intent ", i);
		graph_mermaid_text(o, f->intents[i].id);
		fputs("\"])\n", o);
	}
	if (graph_has_missing(f))
		fputs("\tm0([\"node removed\"])\n", o);
	for (unsigned i = 0; i < f->n_nodes; i++) {
		const struct flow_node *n = &f->nodes[i];
		static const char *const opens[] = {
			[NODE_LOOK_QUESTION] = "[\"", [NODE_LOOK_BUTTONS] = "{{\"",
			[NODE_LOOK_DECISION] = "{\"", [NODE_LOOK_MESSAGE] = "(\"",
			[NODE_LOOK_UPLOAD] = "[/\"",
		};
		static const char *const closes[] = {
			[NODE_LOOK_QUESTION] = "\"]", [NODE_LOOK_BUTTONS] = "\"}}",
			[NODE_LOOK_DECISION] = "\"}", [NODE_LOOK_MESSAGE] = "\")",
			[NODE_LOOK_UPLOAD] = "\"/]",
		};
		const char *open = opens[n->type->look], *close = closes[n->type->look];
		fprintf(o, "\tn%u%s", i, open);
		graph_label(o, GRAPH_MERMAID, g, i);
		fprintf(o, "%s\n", close);
	}
	fprintf(o, "\ts0 ==> n%d\n", f->start);
	for (unsigned i = 0; i < f->n_commands; i++)
		fprintf(o, "\tc%u -.-> n%d\n", i, f->commands[i].node);
	for (unsigned i = 0; i < f->n_intents; i++)
		fprintf(o, "\tk%u -.-> n%d\n", i, f->intents[i].next);
	if (graph_has_missing(f))
		fprintf(o, "\tm0 -.-> n%d\n", f->on_missing_node);
	for (unsigned e = 0; e < g->n_edges; e++) {
		const struct graph_edge *ed = &g->edges[e];
		fprintf(o, "\tn%u %s", ed->from, ed->dashed ? "-.->" : "-->");
		if (ed->label[0] != '\0') {
			fputs("|\"", o);
			graph_mermaid_text(o, ed->label);
			fputs("\"|", o);
		}
		fprintf(o, " n%u\n", ed->to);
	}
	fputs("\tclassDef entry fill:#dfd,stroke:#393\n"
		"\tclassDef start stroke-width:4px\n"
		"\tclassDef finish fill:#def,stroke:#36c\n"
		"\tclassDef stuck fill:#fdd,stroke:#c00\n"
		"\tclassDef unreachable fill:#eee,stroke:#999,stroke-dasharray:5 5,color:#666\n", o);
	fputs("\tclass s0", o);
	for (unsigned i = 0; i < f->n_commands; i++)
		fprintf(o, ",c%u", i);
	for (unsigned i = 0; i < f->n_intents; i++)
		fprintf(o, ",k%u", i);
	fputs(graph_has_missing(f) ? ",m0 entry\n" : " entry\n", o);
	graph_mermaid_class(o, g, "start", graph_is_start);
	graph_mermaid_class(o, g, "finish", graph_end);
	graph_mermaid_class(o, g, "stuck", graph_stuck);
	graph_mermaid_class(o, g, "unreachable", graph_unreached);
	for (unsigned i = 0; i < f->n_nodes; i++) {
		char fill[8];
		if (graph_drop_fill(g, i, fill))
			fprintf(o, "\tstyle n%u fill:%s\n", i, fill);
	}
}

static void graph_dot(FILE *o, const struct graph *g)
{
	const struct flow *f = g->f;

	fputs("digraph flow {\n"
		"\tnode [fontname=\"Helvetica\", fontsize=11];\n"
		"\tedge [fontname=\"Helvetica\", fontsize=10];\n", o);
	fputs("\ts0 [label=\"/start\", shape=oval, style=filled, "
		"fillcolor=\"#ddffdd\", color=\"#339933\", class=\"entry\"];\n", o);
	for (unsigned i = 0; i < f->n_commands; i++) {
		fprintf(o, "\tc%u [label=\"", i);
		graph_dot_text(o, f->commands[i].name);
		fputs("\", shape=oval, style=filled, fillcolor=\"#ddffdd\", "
			"color=\"#339933\", class=\"entry\"];\n", o);
	}
	for (unsigned i = 0; i < f->n_intents; i++) {
		fprintf(o, "\tk%u [label=\"intent ", i);
		graph_dot_text(o, f->intents[i].id);
		fputs("\", shape=oval, style=filled, fillcolor=\"#ddffdd\", "
			"color=\"#339933\", class=\"entry\"];\n", o);
	}
	if (graph_has_missing(f))
		fputs("\tm0 [label=\"node removed\", shape=oval, style=filled, "
			"fillcolor=\"#ddffdd\", color=\"#339933\", class=\"entry\"];\n", o);
	for (unsigned i = 0; i < f->n_nodes; i++) {
		const struct flow_node *n = &f->nodes[i];
		static const char *const shapes[] = {
			[NODE_LOOK_QUESTION] = "box", [NODE_LOOK_BUTTONS] = "hexagon",
			[NODE_LOOK_DECISION] = "diamond", [NODE_LOOK_MESSAGE] = "box",
			[NODE_LOOK_UPLOAD] = "parallelogram",
		};
		const char *shape = shapes[n->type->look], *fill = "white", *color = "black";
		char drop[8];
		int end = graph_end(g, i), stuck = graph_stuck(g, i), lost = !g->reached[i];
		if (end) {
			fill = "#ddeeff";
			color = "#3366cc";
		}
		if (stuck) {
			fill = "#ffdddd";
			color = "#cc0000";
		}
		if (lost) {
			fill = "#eeeeee";
			color = "#999999";
		}
		if (graph_drop_fill(g, i, drop))
			fill = drop;
		fprintf(o, "\tn%u [label=\"", i);
		graph_label(o, GRAPH_DOT, g, i);
		fprintf(o, "\", shape=%s, style=\"filled%s%s\", fillcolor=\"%s\", "
			"color=\"%s\"%s, class=\"%s%s%s%s%s\"];\n", shape,
			n->type->look == NODE_LOOK_MESSAGE ? ",rounded" : "", lost ? ",dashed" : "",
			fill, color, graph_is_start(g, i) ? ", penwidth=3" : "",
			n->type->name, graph_is_start(g, i) ? " start" : "",
			end ? " finish" : "", stuck ? " stuck" : "", lost ? " unreachable" : "");
	}
	fprintf(o, "\ts0 -> n%d [penwidth=2];\n", f->start);
	for (unsigned i = 0; i < f->n_commands; i++)
		fprintf(o, "\tc%u -> n%d [style=dashed];\n", i, f->commands[i].node);
	for (unsigned i = 0; i < f->n_intents; i++)
		fprintf(o, "\tk%u -> n%d [style=dashed];\n", i, f->intents[i].next);
	if (graph_has_missing(f))
		fprintf(o, "\tm0 -> n%d [style=dashed];\n", f->on_missing_node);
	for (unsigned e = 0; e < g->n_edges; e++) {
		const struct graph_edge *ed = &g->edges[e];
		fprintf(o, "\tn%u -> n%u", ed->from, ed->to);
		if (ed->label[0] != '\0' || ed->dashed) {
			fputs(" [", o);
			if (ed->label[0] != '\0') {
				fputs("label=\"", o);
				graph_dot_text(o, ed->label);
				fputs(ed->dashed ? "\", " : "\"", o);
			}
			fputs(ed->dashed ? "style=dashed]" : "]", o);
		}
		fputs(";\n", o);
	}
	fputs("}\n", o);
}

/* --stats BOT: the bot's flow file into *file and its funnel since age
 * seconds ago (0: all) into fu, from the config's store (-c, removed
 * from argv). Returns 0, or -1 once it has said why. */
static int graph_stats(int *argc, char **argv, const char *bot, long long age,
	const char **file, struct flow **f, struct funnel *fu)
{
	const struct config_bot *b;
	struct cli_store cs;
	struct store_err e;
	int rc = -1;

	if (cli_store_open("graph", argc, argv, &cs) != 0)
		return -1;
	b = cli_store_bot("graph", &cs, bot);
	if (b && cli_flow(b->flow_file, f) == 0) {
		*file = (*f)->file;
		rc = funnel_load(cs.s, b->name, *f, age ? (long long)time(NULL) - age : 0,
			fu, &e);
		if (rc != STORE_OK)
			fprintf(stderr, "blueflow graph: %s\n", e.msg);
	}
	cli_store_close(&cs);
	return rc ? -1 : 0;
}

int cmd_graph(int argc, char **argv)
{
	enum graph_syntax syn = GRAPH_MERMAID;
	struct funnel fu = { 0 };
	struct graph g;
	struct flow *f = NULL;
	const char *file = NULL, *bot = NULL, *since = NULL;
	long long age = 7 * 86400;
	int rc = CMD_FAIL, i;

	memset(&g, 0, sizeof(g));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			graph_usage(stdout);
			return CMD_OK;
		} else if (strcmp(argv[i], "--stats") == 0 && i + 1 < argc) {
			bot = argv[++i];
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			since = argv[++i];
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			i++;   /* the config, for --stats */
		} else if (strcmp(argv[i], "--dot") == 0) {
			syn = GRAPH_DOT;
		} else if (strcmp(argv[i], "--mermaid") == 0) {
			syn = GRAPH_MERMAID;
		} else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && file == NULL) {
			file = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "blueflow graph: unknown option \"%s\"\n", argv[i]);
			graph_usage(stderr);
			return CMD_USAGE;
		} else if (file == NULL) {
			file = argv[i];
		} else {
			fprintf(stderr, "blueflow graph: one flow file at a time; "
				"\"%s\" is one too many\n", argv[i]);
			graph_usage(stderr);
			return CMD_USAGE;
		}
	}
	if (since)
		age = funnel_age(since);
	if ((bot == NULL) == (file == NULL) || (since && bot == NULL) || age < 0) {
		fprintf(stderr, "blueflow graph: %s\n", age < 0 ? "--since AGE: 7d, "
			"24h, 30m or all" : bot && file ? "--stats draws the bot's flow; "
			"give no flow file" : bot || file ? "--since needs --stats" :
			"no flow file given");
		graph_usage(stderr);
		return CMD_USAGE;
	}
	if (bot ? graph_stats(&argc, argv, bot, age, &file, &f, &fu) != 0 :
	    cli_flow(file, &f) != 0) {
		funnel_free(&fu);
		flow_free(f);
		return CMD_FAIL;
	}
	g.fu = bot ? &fu : NULL;
	g.f = f;
	g.first = calloc(f->n_nodes + 1, sizeof(*g.first));
	g.out = calloc(f->n_nodes + 1, sizeof(*g.out));
	g.reached = calloc(f->n_nodes + 1, 1);
	g.finishes = calloc(f->n_nodes + 1, 1);
	if (g.first == NULL || g.out == NULL || g.reached == NULL || g.finishes == NULL)
		goto oom;
	for (unsigned k = 0; k < f->n_nodes; k++)
		if (graph_node_edges(&g, k) != 0)
			goto oom;
	graph_mark_finishing(&g);
	if (flow_reached(f, g.reached) != 0)
		goto oom;
	if (syn == GRAPH_DOT)
		graph_dot(stdout, &g);
	else
		graph_mermaid(stdout, &g);
	/* a full disk or a closed pipe must not look like a diagram */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "blueflow graph: cannot write the diagram\n");
		goto out;
	}
	rc = CMD_OK;
	goto out;
oom:
	fprintf(stderr, "blueflow graph: out of memory\n");
out:
	free(g.edges);
	free(g.first);
	free(g.out);
	free(g.reached);
	free(g.finishes);
	funnel_free(&fu);
	flow_free(f);
	return rc;
}
