/* config.h - the configuration file: `key = value` lines under [server]
 * and one [bot NAME] section per bot. Secrets never live here: a bot
 * names the environment variables that hold its token and secret.
 *
 * Ownership: config_load() fills a struct config whose strings belong to
 * it; config_free() releases them. */
#ifndef BLUEFLOW_CONFIG_H
#define BLUEFLOW_CONFIG_H

#include "engine/diag.h"

#define CONFIG_DEFAULT "blueflow.conf"
#define CONFIG_BOTS_MAX 64
/* The per-bot limits' defaults (README, Limits). */
#define CONFIG_TRANSCRIPT_ROWS 1000
#define CONFIG_CHAT_FILES 100
#define CONFIG_BOT_BYTES (10L << 30)
#define CONFIG_CHAT_OUTBOX 100

struct flow;

struct config_bot {
	char *name;               /* served at /tg/NAME */
	char *flow_file;          /* flow: path, relative to the config file */
	char *token_env;          /* token_env: variable holding the bot token */
	char *secret_env;         /* secret_env: variable holding the webhook secret */
	char *username;           /* username: the bot's @name, for /start@name */
	int inline_reply;         /* inline_reply: answer in the webhook response */
	char *url;                /* url: the public webhook URL, for webhook set */
	int max_connections;      /* max_connections: Telegram's, 1 to 100 */
	char *allowed_users;      /* allowed_users: ids, or @FILE (made absolute) */
	char *allowed_chats;      /* allowed_chats: ids, or @FILE (made absolute) */
	int not_allowed_silent;   /* not_allowed = silent: strangers get nothing */
	long long admin_chat;     /* admin_chat: where notify nodes send; 0: none */
	int pin_versions;         /* pin_versions: a chat keeps its flow version */
	char *http_allow;         /* http_allow: where http nodes may call */
	long max_transcript_rows; /* max_transcript_rows: kept per chat; 0: all */
	long max_chat_files;      /* max_chat_files: attachments per chat; 0: any */
	long max_bot_bytes;       /* max_bot_bytes: attachments of the bot, in
	                             bytes; 0: no quota */
	long max_chat_outbox;     /* max_chat_outbox: calls pending per chat;
	                             0: any */
	int line;                 /* where the section starts */
};

struct config {
	char *file;
	char *listen;             /* listen: socket path or host:port */
	int workers;              /* workers: 0 = 2 x cores */
	char *db;                 /* db: sqlite:PATH or postgresql://... */
	char *storage;            /* storage: attachments root */
	char *api_base;           /* api_base: Bot API base URL */
	long max_body;            /* max_body: bytes */
	int request_timeout;      /* request_timeout: seconds */
	int transcript;           /* transcript: on/off */
	int pin_versions;         /* pin_versions: the bots' default */
	char *encryption_key_env; /* encryption_key_env: variable holding the key */
	int update_retention_hours;
	int sent_retention_days;
	int transcript_retention_days; /* transcript rows older are deleted; 0: kept */
	int chat_retention_days;  /* chats idle longer are forgotten; 0: kept */
	int lock_timeout_ms;      /* lock_timeout: a chat lock waits at most this */
	int listen_mode;          /* listen_mode: the socket file's mode (octal) */
	char *listen_owner;       /* listen_owner: user or user:group of the socket */
	char *pid_file;           /* pid_file: where serve writes its pid */
	double rate_per_bot;      /* rate_per_bot: calls a second to one bot */
	double rate_per_chat;     /* rate_per_chat: calls a second to one chat */
	double rate_per_group;    /* rate_per_group: calls a minute to one group */
	int burst_per_chat;       /* burst_per_chat: messages a chat may get at once */
	char *log_level;          /* log_level: debug, info, warn or error */
	struct config_bot *bots;
	unsigned n_bots;
};

/* Every key the file may hold, by section, NULL-terminated. */
extern const char *const config_server_keys[];
extern const char *const config_bot_keys[];

/* Finds "-c FILE" anywhere in argv and removes it (argc is updated);
 * without one, returns $BLUEFLOW_CONF, else CONFIG_DEFAULT. Returns NULL
 * when -c has no argument. */
const char *config_path(int *argc, char **argv);

/* Reads and checks file. Every problem goes to d as
 * "[section] key: message" at the line's path ("line N"). Returns 0, or
 * -1 when there was an error (c is then freed). */
int config_load(const char *file, struct config *c, struct diag *d);

/* Whether a listen value names a unix socket (else it is host:port). */
int config_listen_is_path(const char *listen);

/* Checks a webhook URL for the bot called bot as Telegram and the nginx
 * site need it: https://, port 443, 80, 88 or 8443, the path ending in
 * /tg/BOT. Returns 0, or -1 with the reason in err. */
int config_url_check(const char *url, const char *bot, char *err, size_t errlen);

/* Returns the bot called name, or NULL. */
const struct config_bot *config_bot(const struct config *c, const char *name);

void config_free(struct config *c);

#endif
