/* update.h - a Telegram Update, parsed into what the engine needs.
 *
 * update_parse() keeps the parsed JSON tree and points into it: every
 * string below lives until update_free(). Unknown fields are ignored,
 * missing optional ones are NULL / 0, explicit nulls count as missing.
 * An optional field of the wrong type (a string where a number belongs,
 * a string holding a NUL byte, an integer beyond +-(2^53-1), a negative
 * size) counts as missing too: never a crash, never a wrong value.
 *
 * One Update should carry one kind; when it carries several, the first
 * of this list wins: message, business_message, edited_message,
 * edited_business_message, callback_query, then the first other key in
 * document order. Keys whose value is null are skipped. */
#ifndef BLUEFLOW_UPDATE_H
#define BLUEFLOW_UPDATE_H

#include <json-c/json.h>
#include <stddef.h>

#define UPDATE_BODY_MAX (1u << 20)   /* bytes */
#define UPDATE_DEPTH_MAX 48

enum update_kind {
	UPDATE_MESSAGE,          /* message, or business_message */
	UPDATE_EDITED_MESSAGE,   /* edited_message, or edited_business_message */
	UPDATE_CALLBACK_QUERY,   /* callback_query */
	UPDATE_OTHER             /* anything else: channel posts, members, polls... */
};

/* Telegram's ids use at most 52 bits; integers beyond this are refused. */
#define UPDATE_INT_MAX 9007199254740991LL   /* 2^53 - 1 */

struct update_user {
	long long id;            /* 0: absent */
	int is_bot;
	const char *username;
	const char *first_name;
	const char *last_name;
	const char *language_code;
};

/* A file attached to a message (voice, document, audio, video, largest
 * photo size). file_id NULL: absent. Sizes and durations 0 when unknown. */
struct update_file {
	const char *file_id;
	const char *file_unique_id;
	const char *mime_type;
	const char *file_name;
	long long file_size;
	long long duration;
};

struct update {
	json_object *root;           /* owns every string below */
	enum update_kind kind;
	const char *kind_name;       /* the Update's field: "message", "poll", ...;
	                                "" when it carries no kind at all */
	long long update_id;

	/* The chat and message the update is about (for a callback query:
	 * the message that carried the keyboard). has_chat 0 when there is
	 * none (inline queries, inline-message callbacks, ...). For
	 * UPDATE_OTHER, chat, message_id, date and from (or "user") are
	 * copied when the payload has them, for logs only, and never cause
	 * an error. date is 0 for callback queries (they carry none). */
	int has_chat;
	long long chat_id;
	const char *chat_type;       /* "private", "group", ...; NULL if absent */
	const char *chat_title;
	long long message_id;
	long long date;

	struct update_user from;     /* the sender, or who pressed the button */

	/* message content */
	const char *text;            /* text, or the caption of media */
	json_object *entities;       /* array of MessageEntity (entities with
	                                text, caption_entities with a caption;
	                                maybe empty), or NULL; borrowed */
	struct update_file voice;
	struct update_file document;
	struct update_file audio;
	struct update_file video;
	struct update_file photo;    /* the largest size */
	int has_sticker;
	int has_location;
	const char *contact_phone;   /* contact shared */
	long long contact_user_id;
	/* users_shared (its users[0], or user_ids[0] of Bot API 7.0), or
	 * the legacy user_shared: the first user */
	long long shared_user_id;
	const char *shared_username;
	const char *shared_first_name;
	long long shared_request_id;
	int service;                 /* a service message: members, pins, titles... */
	/* a group that became a supergroup (migrate_to_chat_id in the old
	 * one, migrate_from_chat_id in the new): the old id and the new */
	long long migrate_from, migrate_to;

	/* callback query */
	const char *callback_id;
	const char *callback_data;
	const char *inline_message_id;
};

#define UPDATE_NOT_OBJECT (-1)
#define UPDATE_INVALID (-2)

/* Parses len bytes of an Update. Returns 0 and fills u (release with
 * update_free). Otherwise u is zeroed, err says why (naming the JSON
 * path), and the result is UPDATE_NOT_OBJECT when the body is not a JSON
 * object (not JSON, longer than UPDATE_BODY_MAX, nested deeper than
 * UPDATE_DEPTH_MAX), or UPDATE_INVALID when it is an object but no usable
 * Update: it lacks an integer update_id, or an update kind the engine
 * handles lacks what it must have (a message without chat.id or
 * message_id, a callback query without id or from.id, or whose message
 * lacks chat.id; its message may lack message_id, which is then 0, as
 * Bot API emulators and proxies send it; required fields of
 * the wrong type count as missing). */
int update_parse(const char *body, size_t len, struct update *u,
	char *err, size_t errlen);

/* Releases the JSON tree; u is zeroed. */
void update_free(struct update *u);

#endif
