/* config.c - reading blueflow.conf with libinih. */
#include "engine/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/check.h"
#include "engine/http.h"

const char *const config_server_keys[] = {
	"listen", "workers", "db", "storage", "api_base", "max_body",
	"request_timeout", "transcript", "encryption_key_env",
	"update_retention_hours", "sent_retention_days", "lock_timeout",
	"listen_mode", "listen_owner", "pid_file", "rate_per_bot", "rate_per_chat",
	"rate_per_group", "burst_per_chat", "log_level", "transcript_retention_days",
	"chat_retention_days", "pin_versions", NULL
};

const char *const config_bot_keys[] = {
	"flow", "token_env", "secret_env", "username", "inline_reply", "url",
	"max_connections", "allowed_users", "allowed_chats", "not_allowed",
	"admin_chat", "pin_versions", "http_allow", "max_transcript_rows",
	"max_chat_files", "max_bot_bytes", "max_chat_outbox", NULL
};

struct config_parse {
	struct config *c;
	struct diag *d;
	FILE *f;
	int line;
	char dir[PATH_MAX];       /* the config file's folder, for relative paths */
	char refused[128];        /* the last [bot ...] header refused: said once */
};

const char *config_path(int *argc, char **argv)
{
	const char *env = getenv("BLUEFLOW_CONF");
	const char *file = env && *env ? env : CONFIG_DEFAULT;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "-c") != 0 && strcmp(argv[i], "--config") != 0)
			continue;
		if (i + 1 >= *argc)
			return NULL;
		file = argv[i + 1];
		memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 1) * sizeof(*argv));
		*argc -= 2;
		i--;
	}
	return file;
}

static char *config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	char *s = fgets(str, num, p->f);
	if (s)
		p->line++;
	return s;
}

static void config_error(struct config_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void config_error(struct config_parse *p, const char *fmt, ...)
{
	char where[32];
	va_list ap;
	snprintf(where, sizeof(where), "line %d", p->line);
	va_start(ap, fmt);
	diag_vadd(p->d, DIAG_ERROR, "config", where, fmt, ap);
	va_end(ap);
}

/* A path relative to the config file's folder; "" stays "". */
static char *config_file_path(struct config_parse *p, const char *v)
{
	char buf[PATH_MAX * 2];
	if (v[0] == '/' || v[0] == '\0' || p->dir[0] == '\0')
		return strdup(v);
	snprintf(buf, sizeof(buf), "%s/%s", p->dir, v);
	return strdup(buf);
}

static int config_int(struct config_parse *p, const char *section,
	const char *key, const char *v, long min, long max, long *out)
{
	char *end;
	long x;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || x < min || x > max) {
		config_error(p, "[%s] %s = %s: must be a whole number from %ld to %ld",
			section, key, v, min, max);
		return -1;
	}
	*out = x;
	return 0;
}

static int config_bool(struct config_parse *p, const char *section,
	const char *key, const char *v, int *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = 0;
	else {
		config_error(p, "[%s] %s = %s: must be on or off", section, key, v);
		return -1;
	}
	return 0;
}

static void config_set(char **slot, char *v)
{
	free(*slot);
	*slot = v;
}

static int config_env_name(struct config_parse *p, const char *section,
	const char *key, const char *v)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	if (n == 0 || v[n] != '\0' || isdigit((unsigned char)v[0])) {
		config_error(p, "[%s] %s = %s: must name an environment variable "
			"(the secret itself never goes in this file), e.g. %s = BOT_TOKEN",
			section, key, v, key);
		return -1;
	}
	return 0;
}

/* A near key is suggested; else every key of the section is listed (the
 * list is also how tests/config_ref.sh learns the keys). */
static void config_unknown(struct config_parse *p, const char *section,
	const char *key, const char *const *keys)
{
	const char *near = check_suggest(key, keys);
	char list[1024];
	size_t n = 0;

	if (near) {
		config_error(p, "[%s] unknown key \"%s\"; did you mean \"%s\"?",
			section, key, near);
		return;
	}
	list[0] = '\0';
	for (int i = 0; keys[i] && n < sizeof(list); i++) {
		int w = snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", keys[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	config_error(p, "[%s] unknown key \"%s\"; the known keys are %s",
		section, key, list);
}

int config_listen_is_path(const char *listen)
{
	return listen[0] == '/' || listen[0] == '.' || strncmp(listen, "unix:", 5) == 0;
}

/* listen: a socket path, or host:port with a port from 1 to 65535 (the
 * host may be empty: every address). */
static void config_listen(struct config_parse *p, const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (config_listen_is_path(v)) {
		config_set(&p->c->listen, strdup(v));
		return;
	}
	if (colon == NULL) {
		config_error(p, "[server] listen = %s: use a socket path such as "
			"/run/blueflow/blueflow.sock, or host:port such as "
			"127.0.0.1:9000", v);
		return;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno ||
	    port < 1 || port > 65535) {
		config_error(p, "[server] listen = %s: the port must be a number from "
			"1 to 65535, e.g. 127.0.0.1:9000", v);
		return;
	}
	config_set(&p->c->listen, strdup(v));
}

int config_url_check(const char *url, const char *bot, char *err, size_t errlen)
{
	const char *host = url + 8, *end, *path, *colon;
	char tail[64];
	long port = 443;
	size_t n, plen;

	if (strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "Telegram only calls https:// URLs");
		return -1;
	}
	path = host + strcspn(host, "/?#");
	end = host[0] == '[' ? memchr(host, ']', (size_t)(path - host)) : NULL;
	colon = memchr(end ? end : host, ':', (size_t)(path - (end ? end : host)));
	if (path == host || (colon ? colon : path) == host) {
		snprintf(err, errlen, "no host: write https://HOST/tg/%s", bot);
		return -1;
	}
	if (colon) {
		char *stop;
		port = strtol(colon + 1, &stop, 10);
		if (stop != path || colon + 1 == path)
			port = -1;
	}
	if (port != 443 && port != 80 && port != 88 && port != 8443) {
		snprintf(err, errlen, "Telegram only calls the ports 443, 80, 88 and "
			"8443; leave the port out (443) or use one of those");
		return -1;
	}
	n = snprintf(tail, sizeof(tail), "/tg/%s", bot);
	plen = strcspn(path, "?#");
	if (n >= sizeof(tail) || plen < n || memcmp(path + plen - n, tail, n) != 0) {
		snprintf(err, errlen, "the path must end in %s, where nginx hands the "
			"bot's updates to blueflow, e.g. https://%.*s%s", tail,
			(int)(path - host), host, tail);
		return -1;
	}
	return 0;
}

static int config_server(struct config_parse *p, const char *key, const char *v)
{
	struct config *c = p->c;
	long x;

	if (!strcmp(key, "listen"))
		config_listen(p, v);
	else if (!strcmp(key, "db"))
		config_set(&c->db, strncmp(v, "sqlite:", 7) == 0 ?
			NULL : strdup(v));
	else if (!strcmp(key, "storage"))
		config_set(&c->storage, config_file_path(p, v));
	else if (!strcmp(key, "api_base"))
		config_set(&c->api_base, strdup(v));
	else if (!strcmp(key, "encryption_key_env")) {
		if (config_env_name(p, "server", key, v) == 0)
			config_set(&c->encryption_key_env, strdup(v));
	} else if (!strcmp(key, "workers")) {
		if (config_int(p, "server", key, v, 0, 256, &x) == 0)
			c->workers = (int)x;
	} else if (!strcmp(key, "max_body")) {
		if (config_int(p, "server", key, v, 1024, 64L << 20, &x) == 0)
			c->max_body = x;
	} else if (!strcmp(key, "burst_per_chat")) {
		if (config_int(p, "server", key, v, 1, 20, &x) == 0)
			c->burst_per_chat = (int)x;
	} else if (!strcmp(key, "request_timeout")) {
		if (config_int(p, "server", key, v, 1, 55, &x) == 0)
			c->request_timeout = (int)x;
	} else if (!strcmp(key, "update_retention_hours")) {
		if (config_int(p, "server", key, v, 1, 24 * 365, &x) == 0)
			c->update_retention_hours = (int)x;
	} else if (!strcmp(key, "sent_retention_days")) {
		if (config_int(p, "server", key, v, 1, 3650, &x) == 0)
			c->sent_retention_days = (int)x;
	} else if (!strcmp(key, "transcript_retention_days")) {
		if (config_int(p, "server", key, v, 0, 36500, &x) == 0)
			c->transcript_retention_days = (int)x;
	} else if (!strcmp(key, "chat_retention_days")) {
		if (config_int(p, "server", key, v, 0, 36500, &x) == 0)
			c->chat_retention_days = (int)x;
	} else if (!strcmp(key, "lock_timeout")) {
		if (config_int(p, "server", key, v, 100, 50000, &x) == 0)
			c->lock_timeout_ms = (int)x;
	} else if (!strcmp(key, "listen_mode")) {
		char *end;
		long m = strtol(v, &end, 8);
		if (*v == '\0' || *end != '\0' || m < 0 || m > 0777)
			config_error(p, "[server] listen_mode = %s: must be an octal mode "
				"such as 0660", v);
		else
			c->listen_mode = (int)m;
	} else if (!strcmp(key, "rate_per_bot") || !strcmp(key, "rate_per_chat") ||
		   !strcmp(key, "rate_per_group")) {
		char *end;
		double r = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || !(r > 0) || r > 1000)
			config_error(p, "[server] %s = %s: must be a number above 0, at "
				"most 1000", key, v);
		else if (!strcmp(key, "rate_per_bot"))
			c->rate_per_bot = r;
		else if (!strcmp(key, "rate_per_chat"))
			c->rate_per_chat = r;
		else
			c->rate_per_group = r;
	} else if (!strcmp(key, "log_level")) {
		if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") &&
		    strcmp(v, "error"))
			config_error(p, "[server] log_level = %s: must be debug, info, "
				"warn or error", v);
		else
			config_set(&c->log_level, strdup(v));
	} else if (!strcmp(key, "listen_owner")) {
		config_set(&c->listen_owner, strdup(v));
	} else if (!strcmp(key, "pid_file")) {
		config_set(&c->pid_file, config_file_path(p, v));
	} else if (!strcmp(key, "transcript")) {
		config_bool(p, "server", key, v, &c->transcript);
	} else if (!strcmp(key, "pin_versions")) {
		config_bool(p, "server", key, v, &c->pin_versions);
	} else {
		config_unknown(p, "server", key, config_server_keys);
		return 0;
	}
	/* a sqlite: path is relative to the config file too */
	if (!strcmp(key, "db") && strncmp(v, "sqlite:", 7) == 0) {
		char *path = config_file_path(p, v + 7), *db;
		if (path == NULL)
			return 0;
		db = malloc(strlen(path) + 8);
		if (db)
			snprintf(db, strlen(path) + 8, "sqlite:%s", path);
		free(path);
		config_set(&c->db, db);
	} else if (!strcmp(key, "db") && strncmp(v, "postgresql://", 13) != 0 &&
		   strncmp(v, "postgres://", 11) != 0) {
		config_error(p, "[server] db = %s: use sqlite:PATH or a "
			"postgresql:// URI", v);
	}
	return 0;
}

/* http_allow: each entry checked (http_allow_entry_check). */
static void config_http_allow(struct config_parse *p, const char *section,
	struct config_bot *b, const char *v)
{
	char entry[300], why[200];
	const char *q = v;

	while (*q) {
		size_t n = strcspn(q, ", \t");
		snprintf(entry, sizeof(entry), "%.*s", (int)n, q);
		if (n > 0 && http_allow_entry_check(entry, why, sizeof(why)) != 0) {
			config_error(p, "[%s] http_allow = %s: %s", section, v, why);
			return;
		}
		q += n;
		q += strspn(q, ", \t");
	}
	config_set(&b->http_allow, strdup(v));
}

/* An allow-list: the ids as written, or "@FILE" with FILE made relative
 * to the config file's folder. */
static char *config_ids(struct config_parse *p, const char *v)
{
	char *path, *out;
	if (v[0] != '@')
		return strdup(v);
	path = config_file_path(p, v + 1);
	out = path ? malloc(strlen(path) + 2) : NULL;
	if (out)
		snprintf(out, strlen(path) + 2, "@%s", path);
	free(path);
	return out;
}

static int config_bot_key(struct config_parse *p, struct config_bot *b,
	const char *key, const char *v)
{
	char section[96];
	snprintf(section, sizeof(section), "bot %s", b->name);
	if (!strcmp(key, "flow")) {
		config_set(&b->flow_file, config_file_path(p, v));
	} else if (!strcmp(key, "token_env")) {
		if (config_env_name(p, section, key, v) == 0)
			config_set(&b->token_env, strdup(v));
	} else if (!strcmp(key, "secret_env")) {
		if (config_env_name(p, section, key, v) == 0)
			config_set(&b->secret_env, strdup(v));
	} else if (!strcmp(key, "username")) {
		config_set(&b->username, strdup(v[0] == '@' ? v + 1 : v));
	} else if (!strcmp(key, "inline_reply")) {
		config_bool(p, section, key, v, &b->inline_reply);
	} else if (!strcmp(key, "pin_versions")) {
		config_bool(p, section, key, v, &b->pin_versions);
	} else if (!strcmp(key, "url")) {
		char err[256];
		if (config_url_check(v, b->name, err, sizeof(err)) != 0)
			config_error(p, "[%s] url = %s: %s", section, v, err);
		else
			config_set(&b->url, strdup(v));
	} else if (!strcmp(key, "allowed_users") || !strcmp(key, "allowed_chats")) {
		config_set(!strcmp(key, "allowed_users") ? &b->allowed_users :
			&b->allowed_chats, config_ids(p, v));
	} else if (!strcmp(key, "not_allowed")) {
		if (strcmp(v, "reply") && strcmp(v, "silent"))
			config_error(p, "[%s] not_allowed = %s: must be reply (the flow's "
				"not_allowed_text, once a day) or silent", section, v);
		else
			b->not_allowed_silent = !strcmp(v, "silent");
	} else if (!strcmp(key, "max_connections")) {
		long x;
		if (config_int(p, section, key, v, 1, 100, &x) == 0)
			b->max_connections = (int)x;
	} else if (!strcmp(key, "admin_chat")) {
		char *end = NULL;
		long long id;
		errno = 0;
		id = strtoll(v, &end, 10);
		if (errno || end == v || *end != '\0' || id == 0)
			config_error(p, "[%s] admin_chat = %s: a chat id, e.g. -1001234567890 "
				"(a group's) or 123456789 (a person's)", section, v);
		else
			b->admin_chat = id;
	} else if (!strcmp(key, "http_allow")) {
		config_http_allow(p, section, b, v);
	} else if (!strcmp(key, "max_transcript_rows")) {
		config_int(p, section, key, v, 0, 1L << 30, &b->max_transcript_rows);
	} else if (!strcmp(key, "max_chat_files")) {
		config_int(p, section, key, v, 0, 1L << 30, &b->max_chat_files);
	} else if (!strcmp(key, "max_bot_bytes")) {
		config_int(p, section, key, v, 0, LONG_MAX, &b->max_bot_bytes);
	} else if (!strcmp(key, "max_chat_outbox")) {
		config_int(p, section, key, v, 0, 1L << 20, &b->max_chat_outbox);
	} else {
		config_unknown(p, section, key, config_bot_keys);
	}
	return 0;
}

/* A bot's name is part of URLs and file paths: [a-z0-9_-], 1 to 32. */
static int config_bot_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");
	return n >= 1 && n <= 32 && s[n] == '\0';
}

static struct config_bot *config_section_bot(struct config_parse *p,
	const char *section)
{
	struct config *c = p->c;
	const char *name = section + 4;
	struct config_bot *b;

	name += strspn(name, " ");
	for (unsigned i = 0; i < c->n_bots; i++)
		if (strcmp(c->bots[i].name, name) == 0)
			return &c->bots[i];
	/* called once per key: a refused header is reported at its first key */
	if (strcmp(section, p->refused) == 0)
		return NULL;
	snprintf(p->refused, sizeof(p->refused), "%s", section);
	if (!config_bot_name(name)) {
		config_error(p, "[%s]: a bot name is 1 to 32 of a-z, 0-9, '_' and "
			"'-' (it becomes the webhook path /tg/NAME)", section);
		return NULL;
	}
	if (c->n_bots == CONFIG_BOTS_MAX) {
		config_error(p, "[%s]: at most %d bots", section, CONFIG_BOTS_MAX);
		return NULL;
	}
	b = &c->bots[c->n_bots++];
	memset(b, 0, sizeof(*b));
	b->name = strdup(name);
	b->inline_reply = 1;
	b->pin_versions = -1;   /* the server's */
	b->max_connections = 40;
	b->max_transcript_rows = CONFIG_TRANSCRIPT_ROWS;
	b->max_chat_files = CONFIG_CHAT_FILES;
	b->max_bot_bytes = CONFIG_BOT_BYTES;
	b->max_chat_outbox = CONFIG_CHAT_OUTBOX;
	b->line = p->line;
	return b;
}

static int config_handler(void *user, const char *section, const char *key,
	const char *value)
{
	struct config_parse *p = user;
	struct config_bot *b;

	if (strcmp(section, "server") == 0)
		return config_server(p, key, value) == 0;
	if (strncmp(section, "bot ", 4) == 0) {
		b = config_section_bot(p, section);
		if (b)
			config_bot_key(p, b, key, value);
		return 1;
	}
	config_error(p, "[%s]: unknown section; use [server] and [bot NAME]", section);
	return 1;
}

static void config_defaults(struct config *c)
{
	c->max_body = 1L << 20;
	c->request_timeout = 20;
	c->transcript = 1;
	c->pin_versions = 1;
	c->update_retention_hours = 48;
	c->sent_retention_days = 7;
	c->lock_timeout_ms = 5000;
	c->listen_mode = 0660;
	c->rate_per_bot = 30;
	c->rate_per_chat = 1;
	c->rate_per_group = 20;
	c->burst_per_chat = 3;
}

static int config_finish(struct config_parse *p)
{
	struct config *c = p->c;
	char line[32];
	size_t errors = p->d->errors;

	if (c->db == NULL) {
		char *path = config_file_path(p, "blueflow.db");
		c->db = malloc(path ? strlen(path) + 8 : 1);
		if (c->db && path)
			snprintf(c->db, strlen(path) + 8, "sqlite:%s", path);
		free(path);
	}
	if (c->listen == NULL)
		c->listen = strdup("/run/blueflow/blueflow.sock");
	if (c->api_base == NULL)
		c->api_base = strdup("https://api.telegram.org");
	if (c->storage == NULL)
		c->storage = config_file_path(p, "files");
	if (c->n_bots == 0)
		diag_add(p->d, DIAG_ERROR, "config", "/", "no bot: add a section "
			"[bot NAME] with flow = FILE and token_env = VARIABLE");
	for (unsigned i = 0; i < c->n_bots; i++) {
		struct config_bot *b = &c->bots[i];
		snprintf(line, sizeof(line), "line %d", b->line);
		if (b->pin_versions < 0)
			b->pin_versions = c->pin_versions;
		if (b->flow_file == NULL)
			diag_add(p->d, DIAG_ERROR, "config", line, "[bot %s] needs flow "
				"= FILE, the bot's flow", b->name);
		if (b->token_env == NULL)
			diag_add(p->d, DIAG_ERROR, "config", line, "[bot %s] needs "
				"token_env = VARIABLE, the environment variable holding "
				"the bot token", b->name);
	}
	if (!c->db || !c->listen || !c->api_base || !c->storage)
		diag_add(p->d, DIAG_ERROR, "config", "/", "out of memory");
	return p->d->errors == errors ? 0 : -1;
}

static int config_is_dir(FILE *f)
{
	struct stat st;
	return fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
}

/* Why the file cannot be read, and what to do about it. */
static void config_open_error(const char *file, int err, struct diag *d)
{
	if (err == EACCES)
		diag_add(d, DIAG_ERROR, "config", "/", "cannot open: %s; make it "
			"readable by the user blueflow runs as (uid %u), e.g. chmod 644 %s "
			"(it holds no secrets), or run blueflow as its owner",
			strerror(err), (unsigned)getuid(), file);
	else if (err == EISDIR)
		diag_add(d, DIAG_ERROR, "config", "/", "is a directory; name the "
			"config file itself with -c FILE, e.g. -c %s%sblueflow.conf", file,
			file[0] && file[strlen(file) - 1] == '/' ? "" : "/");
	else
		diag_add(d, DIAG_ERROR, "config", "/", "cannot open: %s; write one "
			"(see README, \"Configuration\") or name it with -c FILE",
			strerror(err));
}

int config_load(const char *file, struct config *c, struct diag *d)
{
	struct config_parse p;
	const char *slash;
	size_t errors = d->errors;
	int rc;

	memset(c, 0, sizeof(*c));
	config_defaults(c);
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.d = d;
	slash = strrchr(file, '/');
	if (slash)
		snprintf(p.dir, sizeof(p.dir), "%.*s", (int)(slash - file), file);
	if (slash == file)
		snprintf(p.dir, sizeof(p.dir), "/");
	c->file = strdup(file);
	c->bots = calloc(CONFIG_BOTS_MAX, sizeof(*c->bots));
	p.f = fopen(file, "r");
	if (p.f == NULL || config_is_dir(p.f)) {
		config_open_error(file, p.f ? EISDIR : errno, d);
		if (p.f)
			fclose(p.f);
		config_free(c);
		return -1;
	}
	rc = ini_parse_stream(config_reader, &p, config_handler, &p);
	fclose(p.f);
	if (rc > 0) {
		char where[32];
		snprintf(where, sizeof(where), "line %d", rc);
		diag_add(d, DIAG_ERROR, "config", where, "not a \"key = value\" "
			"line or a [section] header");
	}
	config_finish(&p);
	if (d->errors != errors) {
		config_free(c);
		return -1;
	}
	return 0;
}

const struct config_bot *config_bot(const struct config *c, const char *name)
{
	for (unsigned i = 0; i < c->n_bots; i++)
		if (strcmp(c->bots[i].name, name) == 0)
			return &c->bots[i];
	return NULL;
}

void config_free(struct config *c)
{
	for (unsigned i = 0; c->bots && i < c->n_bots; i++) {
		free(c->bots[i].name);
		free(c->bots[i].flow_file);
		free(c->bots[i].token_env);
		free(c->bots[i].secret_env);
		free(c->bots[i].username);
		free(c->bots[i].url);
		free(c->bots[i].allowed_users);
		free(c->bots[i].allowed_chats);
		free(c->bots[i].http_allow);
	}
	free(c->bots);
	free(c->file);
	free(c->listen);
	free(c->db);
	free(c->storage);
	free(c->api_base);
	free(c->encryption_key_env);
	free(c->listen_owner);
	free(c->pid_file);
	free(c->log_level);
	memset(c, 0, sizeof(*c));
}
