/* node.h - the registry of node types, and what each type declares.
 *
 * Each node type lives in its own engine/node_NAME.c and exports one
 * const struct node_type: its keys as a table (struct node_key) and its
 * own functions. The registry (node.c) maps a "type" string to it.
 * Everything else is derived from the tables: reading and checking the
 * generic keys, the unknown-key errors, the list of types, the edges
 * that `blueflow check` and `blueflow graph` follow, the JSON Schema and
 * the reference in docs/flows.md (engine/schema.c). */
#ifndef BLUEFLOW_NODE_H
#define BLUEFLOW_NODE_H

#include <stddef.h>

#include <json-c/json.h>

struct check;
struct flow_node;
struct step;
struct buf;

/* What a key's value is. All but NODE_KEY_CUSTOM are read and checked by
 * node_read_keys() and stored at the key's place (node_key.at). */
enum node_kind {
	NODE_KEY_TYPE,      /* "type": the type's name (read by the loader) */
	NODE_KEY_TEXT,      /* a message text (HTML, by language): struct flow_text */
	NODE_KEY_BUTTON,    /* a keyboard button label (plain, 64): struct flow_text */
	NODE_KEY_REF,       /* the id of another node: int, the node's index */
	NODE_KEY_SAVE,      /* the name an answer is saved under: const char * */
	NODE_KEY_INT,       /* a whole number from min to max: int */
	NODE_KEY_NUMBER,    /* a number more than min and at most max: double */
	NODE_KEY_BOOL,      /* true or false: int */
	NODE_KEY_REGEX,     /* a PCRE2 pattern: const void *, compiled */
	NODE_KEY_MESSAGES,  /* overrides of the type's reasons: n->msgs */
	NODE_KEY_CUSTOM     /* read by .read; .schema says what it is */
};

/* One key a node type takes. */
struct node_key {
	const char *name;
	enum node_kind kind;
	/* Non-NULL makes the key required: what belongs there, for the
	 * "missing" error, e.g. "the node to go to after a good answer, e.g.
	 * \"next\": \"2\"". */
	const char *hint;
	double min, max;         /* NODE_KEY_INT and NODE_KEY_NUMBER */
	int has_def;             /* 1: def is the value when the key is absent */
	double def;
	const char *desc;        /* one line for the schema and the docs */
	int in_data;             /* 1: at is in n->data, 0: in struct flow_node */
	size_t at;               /* where the value goes (offsetof) */
	const char *needs;       /* a key that must come with this one ... */
	const char *needs_why;   /* ... and what it is, for the error */
	/* NODE_KEY_CUSTOM: reads and checks the key (obj is the node at
	 * path); reports through c. Returns 1 / 0 / -1 as check.h says.
	 * NULL when the type's validate() reads it with another key. */
	int (*read)(struct check *c, struct flow_node *n, json_object *obj,
		const char *path, const struct node_key *k);
	const char *schema;      /* NODE_KEY_CUSTOM: its JSON Schema (JSON text) */
	const char *doc;         /* NODE_KEY_CUSTOM: its value in the docs' table */
};

/* Where a key's value goes: a field of struct flow_node, or of the type's
 * data (T is its struct). */
#define NODE_AT(field) .in_data = 0, .at = offsetof(struct flow_node, field)
#define NODE_DATA_AT(T, field) .in_data = 1, .at = offsetof(T, field)

/* Keys many types take, written once. */
#define NODE_KEY_TYPE_ENTRY \
	{ "type", NODE_KEY_TYPE, .hint = "", .desc = "The node type." }
#define NODE_KEY_PROMPT_ENTRY \
	{ "node_text", NODE_KEY_TEXT, .hint = "the message that asks the " \
	  "user, e.g. \"node_text\": \"What is your name?\"", \
	  .desc = "The prompt sent to the user.", NODE_AT(text) }
#define NODE_KEY_ATTEMPTS_ENTRIES \
	{ "max_attempts", NODE_KEY_INT, .min = 1, .max = 100, \
	  .desc = "After this many bad answers the chat goes to \"on_max_attempts\".", \
	  NODE_AT(max_attempts), .needs = "on_max_attempts", \
	  .needs_why = "the node to go to after that many failed answers" }, \
	{ "on_max_attempts", NODE_KEY_REF, \
	  .desc = "Where the chat goes after \"max_attempts\" bad answers.", \
	  NODE_AT(on_max_attempts), .needs = "max_attempts", \
	  .needs_why = "how many failed answers lead there" }
#define NODE_KEY_MESSAGES_ENTRY \
	{ "messages", NODE_KEY_MESSAGES, .desc = "This node's re-prompt messages." }
#define NODE_KEY_BACK_ENTRY \
	{ "back", NODE_KEY_BOOL, .desc = "true: the prompt has a \"⬅ Back\" " \
	  "button (the flow's message \"back_button\") that returns to the " \
	  "previous question of the chat's path; not on the start node.", \
	  NODE_AT(back) }

/* Keys of durations (timer_duration): their schema and docs. */
#define NODE_DURATION_SCHEMA "{\"$ref\": \"#/$defs/duration\"}"
#define NODE_DURATION_DOC "duration: seconds, or \"90s\", \"10m\", \"2h\", \"3d\""

/* Reads a duration key k (timer_duration) into the int of seconds at
 * k->at; reports through c. Returns 1 / 0 / -1 as check.h says. */
int node_read_duration(struct check *c, struct flow_node *n,
	json_object *obj, const char *path, const struct node_key *k);

/* How `blueflow graph` draws a node. */
enum node_look {
	NODE_LOOK_QUESTION,   /* a box */
	NODE_LOOK_BUTTONS,    /* a hexagon */
	NODE_LOOK_DECISION,   /* a diamond */
	NODE_LOOK_MESSAGE,    /* a rounded box */
	NODE_LOOK_UPLOAD      /* a parallelogram */
};

/* One way out of a node, as node_edges() reports it. */
struct node_edge {
	int to;                /* the node's index */
	int dashed;            /* 1: taken on a limit, not on an answer */
	const char *key;       /* the JSON path of the reference below the node,
	                          e.g. "next" or "conditions/0/next" */
	const char *label;     /* what takes it: a button, a condition; "" for
	                          a plain next */
};

typedef void node_edge_fn(void *arg, const struct node_edge *e);

struct node_type {
	const char *name;
	const char *summary;           /* one line for the schema and the docs */
	int waits;                     /* 1: the node waits for the user */
	int shows;                     /* 1: it does not wait but sends the chat
	                                  a message; the life-cycle keys
	                                  (life.h) come with it as with the
	                                  types that wait */
	int takes_text;                /* 1: a typed text is an answer to it
	                                  (keyword intents are not matched
	                                  there, engine/intent.h) */
	int anywhere;                  /* 1: its buttons are taken wherever
	                                  the chat is (a menu), not only at it */
	enum node_look look;
	int html_answers;              /* 1: saves its answers as HTML */
	const struct node_key *keys;   /* every key it takes, {NULL}-ended, in
	                                  the order they are checked */
	const char *const *reasons;    /* message overrides it accepts, NULL-ended */
	size_t data_size;              /* bytes of n->data, zeroed; 0: none */
	/* After the keys are read: checks what the table cannot say (keys
	 * that depend on each other). Reports through c. Returns 0, or -1
	 * when there was an error. NULL: nothing to add. */
	int (*validate)(struct check *c, struct flow_node *n, json_object *obj,
		const char *path);
	/* Calls fn for each exit of n besides on_max_attempts (which
	 * node_edges() adds), in the order the engine tries them; n->data
	 * may be partial after a failed check. NULL: only "next". */
	void (*edges)(const struct flow_node *n, node_edge_fn *fn, void *arg);
	/* Adds type-specific parts to the node's JSON Schema def (and to
	 * defs, the schema's $defs). NULL: the table says it all. */
	void (*schema)(json_object *defs, json_object *def);
	/* Sends what the node shows when the chat arrives. Returns NODE_WAIT
	 * when it waits for the user, else where to go at once: a node
	 * index or NODE_END; NODE_FAIL when memory runs out (step.h). */
	int (*enter)(struct step *s, const struct flow_node *n);
	/* Takes the user's update at this node. Returns the next node
	 * index, NODE_STAY after a re-prompt, NODE_END, or NODE_FAIL.
	 * NULL for nodes that never wait. */
	int (*handle)(struct step *s, const struct flow_node *n);
	/* Nodes with inline buttons: the key of the button whose data is
	 * key, or NULL when it has none such. NULL: the node has no buttons. */
	const char *(*press)(const struct flow_node *n, const char *key);
	/* The only values n saves under its key_to_save, NULL-terminated (a
	 * choice saves one of its keys); NULL when it saves any value.
	 * NULL: any value. */
	const char *const *(*values)(const struct flow_node *n);
	/* After a press on n's keyboard, before handle(): edits the pressed
	 * message (s->u->message_id). Returns 0 or -1. NULL: its keyboard
	 * is removed. */
	int (*pressed)(struct step *s, const struct flow_node *n);
	/* The label of value, a value n saved under its key, appended to out
	 * (plain text, the user's language) for {{key.label}}. Returns 1,
	 * 0 when value is none of n's, -1 when out is full. NULL: no labels. */
	int (*label)(struct step *s, const struct flow_node *n,
		const char *value, struct buf *out);
};

/* Returns the node type called name, or NULL. */
const struct node_type *node_find(const char *name);

/* Returns the registered types in order, NULL-terminated. */
const struct node_type *const *node_types(void);

/* Writes the names of the types, "choice, text, ...", into out
 * (truncated to size). */
void node_type_list(char *out, size_t size);

/* The key called name of type t, or NULL. */
const struct node_key *node_key(const struct node_type *t, const char *name);

/* The i-th key n's type takes: its own table, then, for a type that
 * waits, the keys of time every such type takes (remind_after, reminder,
 * max_reminders, timeout, on_timeout), then, for one that waits or
 * shows, the life-cycle keys (life_keys); NULL past the last. */
const struct node_key *node_key_at(const struct node_type *t, unsigned i);

/* Reads every key of n's type from obj (the node at path) in table order,
 * after an unknown-key check, then runs the type's validate(). Reports
 * every problem through c. Returns 0, or -1 when there was an error. */
int node_read_keys(struct check *c, struct flow_node *n, json_object *obj,
	const char *path);

/* Calls fn for each exit of n (none when its type is unknown): the type's
 * own, then on_timeout, then on_max_attempts when the node has max_attempts. Edges to no
 * node (-1) are left out. */
void node_edges(const struct flow_node *n, node_edge_fn *fn, void *arg);

#endif
