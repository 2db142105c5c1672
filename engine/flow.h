/* flow.h - a loaded, validated, immutable conversation flow.
 *
 * A flow file is either the canonical form (a JSON object of state id ->
 * node) or the extended form ({"start": ID, "commands": {...},
 * "nodes": {...}, ...}). flow_load() validates everything and reports
 * every problem; only a flow without errors is returned. A flow never
 * changes after loading, so forked workers share it copy-on-write.
 *
 * Ownership: struct flow and everything reachable from it belong to the
 * flow; flow_free() releases all of it. */
#ifndef BLUEFLOW_FLOW_H
#define BLUEFLOW_FLOW_H

#include <stddef.h>

#include "engine/arena.h"
#include "engine/diag.h"

#define FLOW_FILE_MAX (4u << 20)   /* bytes in a flow file */
#define FLOW_DEPTH_MAX 64          /* JSON nesting */
#define FLOW_ID_MAX 64             /* bytes in a node id */
#define FLOW_TEXT_MAX 4096         /* characters in a message text */
#define FLOW_CALLBACK_MAX 64       /* bytes of callback_data */
#define FLOW_MEMBER_DATA 17        /* what "scope": "user" puts before a
                                      button's data: a user id (at most 16
                                      digits) and ':' */
#define FLOW_LANG_MAX 12           /* bytes in a language code ("pt-br") */
#define FLOW_MAX_MB 20             /* Telegram's getFile limit, MB */

struct node_type;
struct flow_regex;
struct flow_media;

/* One language's version of a text. lang is "" for a plain string. */
struct flow_text_variant {
	const char *lang;
	const char *text;
};

/* A text as written in the flow: a plain string, or one per language with
 * a default. n == 0 means the text is absent. */
struct flow_text {
	const struct flow_text_variant *v;
	unsigned n;
	unsigned def;     /* index of the default variant */
};

/* A message the flow overrides, by reason ("too_few_words", ...). */
struct flow_msg {
	const char *reason;
	struct flow_text text;
};

struct flow_node {
	const char *id;
	const struct node_type *type;
	struct flow_text text;        /* node_text */
	int next;                     /* node index, -1 for none */
	const char *key;              /* key_to_save, NULL for none */
	int max_attempts;             /* 0: unlimited */
	int on_max_attempts;          /* node index, -1 for none */
	const struct flow_msg *msgs;  /* per-node message overrides */
	unsigned n_msgs;
	int back;                     /* 1: a Back button returns to the
	                                 previous waiting node */
	const struct flow_media *media;  /* "media": sent with node_text; NULL: none */
	void *data;                   /* the node type's own, in the arena */
	/* time (engine/timer.h): on nodes that wait, and a cutscene's send_at */
	int remind_after;             /* seconds; 0: no reminder */
	struct flow_text reminder;    /* absent: the prompt again */
	int max_reminders;
	int timeout;                  /* seconds; 0: waits for ever */
	int on_timeout;               /* node index, -1: the flow ends */
	int send_at;                  /* minutes after local midnight + 1; 0: at once */
	/* the life of its messages (engine/life.h) */
	int life;                     /* enum life_class; 0: onetime */
	const char *tag;              /* a system node's tag; NULL: none */
	int auto_delete_after;        /* seconds; 0: only when answered */
};

struct flow_command {
	const char *name;             /* "/help" */
	int node;
};

/* A keyword intent (engine/intent.h). */
struct flow_intent {
	const char *id;
	struct flow_text words;       /* per language: the keywords' pattern */
	const void *const *codes;     /* compiled, one per variant of words */
	int priority;
	int cooldown;                 /* seconds; 0: none */
	int next;                     /* node index */
};

struct flow {
	struct arena arena;
	const char *file;
	struct flow_node *nodes;
	unsigned n_nodes;
	int start;
	int on_missing_node;
	const struct flow_command *commands;
	unsigned n_commands;
	const char *forget_command;   /* "/forget": erases the chat; NULL: none */
	const struct flow_intent *intents; /* "intents", as written */
	unsigned n_intents;
	struct flow_text finished_text;
	struct flow_text not_allowed_text; /* told to users not on the allow-lists */
	const struct flow_msg *msgs;  /* flow-wide message overrides */
	unsigned n_msgs;
	const char **html_keys;       /* keys whose values are HTML (rich_text) */
	unsigned n_html_keys;
	int has_back;                 /* some node has "back": chats keep a path */
	const char *lang_key;         /* the key a "sets_language" choice saves,
	                                 the chat's language; NULL: none */
	int inactive_after;           /* seconds without an update; 0: never */
	int on_inactive;              /* the nudge's node index, -1: none */
	struct flow_text timeout_text;/* a timeout without on_timeout says it */
	const char *timezone;         /* IANA name for send_at; NULL: UTC */
	int timed;                    /* some node or setting arms timers */
	int scope_user;               /* "scope": "user": one state per member of
	                                 a group (engine_member) */
	unsigned *index;              /* open addressing: node index + 1, 0 empty */
	unsigned index_mask;
	struct flow_regex *regexes;   /* compiled patterns to free */
	unsigned char hash[32];       /* SHA-256 of the canonical JSON */
	char hash_hex[65];
	const char *canon;            /* the canonical JSON hashed: the text a
	                                 version is kept as (engine/versions.h) */
};

/* Loads and validates the flow in file. Every problem goes to d (errors
 * and warnings). Returns 0 and the flow in *out when there is no error;
 * otherwise -1 and *out is NULL. */
int flow_load(const char *file, struct flow **out, struct diag *d);

/* As flow_load(), from len bytes of JSON text in memory; name is used in
 * messages only. */
int flow_load_mem(const char *name, const char *text, size_t len,
	struct flow **out, struct diag *d);

/* The bytes a button's NODE|KEY may take: FLOW_CALLBACK_MAX, less
 * FLOW_MEMBER_DATA in a flow with "scope": "user". */
int flow_callback_max(const struct flow *f);

/* Returns the index of the node with this id, or -1. O(1). */
int flow_find(const struct flow *f, const char *id);

/* Returns the node with this id, or NULL. */
const struct flow_node *flow_node(const struct flow *f, const char *id);

/* Marks in seen (n_nodes bytes) the nodes that the start,
 * on_missing_node and the commands lead to, following node_edges().
 * Returns 0, or -1 when memory runs out. */
int flow_reached(const struct flow *f, unsigned char *seen);

/* Messages only the flow as a whole can override, NULL-terminated. */
extern const char *const flow_own_reasons[];

#define FLOW_REASONS_MAX 128   /* reasons of the flow and every type */

/* Fills all (max entries) with every reason the flow or a node type
 * accepts, each once, flow's first, NULL-terminated. */
void flow_reasons(const char **all, size_t max);

/* Returns 1 when values saved under key are HTML (a rich_text answer). */
int flow_html_key(const struct flow *f, const char *key);

/* Frees the flow and everything in it; NULL is fine. */
void flow_free(struct flow *f);

#endif
