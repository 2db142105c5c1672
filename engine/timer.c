/* timer.c - durations, blueflow's clock, and what a step changes of its
 * chat's timers (timer.h). */
#include "engine/timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/life.h"
#include "engine/node.h"
#include "engine/node_http.h"

static const char *const timer_kinds[TIMER_KINDS] = {
	"remind", "timeout", "inactive", "send_at", "delete", "http"
};

const char *timer_kind_name(int kind)
{
	return kind >= 0 && kind < TIMER_KINDS ? timer_kinds[kind] : "?";
}

const char *timer_status_name(int status)
{
	static const char *const names[TIMER_CHAT_COUNT] = {
		"active", "waiting", "finished", "inactive", "forgotten"
	};
	return status >= 0 && status < TIMER_CHAT_COUNT ? names[status] : "?";
}

int timer_status(const struct flow *f, const char *node, int finished,
	int inactive_armed)
{
	const struct flow_node *n;
	if (node[0] == '\0')
		return TIMER_CHAT_FORGOTTEN;
	if (finished)
		return TIMER_CHAT_FINISHED;
	if (f->inactive_after > 0 && f->on_inactive >= 0 && !inactive_armed)
		return TIMER_CHAT_INACTIVE;
	n = flow_node(f, node);
	return n && n->type->waits ? TIMER_CHAT_WAITING : TIMER_CHAT_ACTIVE;
}

int timer_kind_parse(const char *name)
{
	for (int i = 0; i < TIMER_KINDS; i++)
		if (strcmp(timer_kinds[i], name) == 0)
			return i;
	return -1;
}

int timer_duration(json_object *v, long long *secs, char *why, size_t why_len)
{
	static const struct { char unit; long long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }
	};
	long long x = 0, mul = 0;
	const char *s, *end;

	if (json_object_get_type(v) == json_type_int) {
		x = json_object_get_int64(v);
		mul = 1;
	} else if (json_object_get_type(v) == json_type_string) {
		s = json_object_get_string(v);
		end = s;
		while (*end >= '0' && *end <= '9' && end - s < 12)
			x = x * 10 + (*end++ - '0');
		for (size_t i = 0; end > s && i < sizeof(units) / sizeof(units[0]); i++)
			if (end[0] == units[i].unit && end[1] == '\0')
				mul = units[i].secs;
		if (mul == 0) {
			snprintf(why, why_len, "\"%s\" is not a duration; write whole "
				"seconds (90) or a number with a unit: \"90s\", \"10m\", "
				"\"2h\", \"3d\"", s);
			return -1;
		}
	} else {
		snprintf(why, why_len, "a duration is whole seconds (90) or a string "
			"such as \"10m\", not %s", json_type_to_name(json_object_get_type(v)));
		return -1;
	}
	if (x <= 0 || x > TIMER_DURATION_MAX / mul) {
		snprintf(why, why_len, "a duration is from 1 second to 366 days, "
			"not %lld seconds", x * mul);
		return -1;
	}
	*secs = x * mul;
	return 0;
}

int timer_clock_time(const char *s)
{
	int h, m;
	if (strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

long long timer_now_ms(void)
{
	struct timespec ts;
	const char *off = getenv("BLUEFLOW_CLOCK_OFFSET");
	long long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (off && *off)
		ms += (long long)(strtod(off, NULL) * 1000);
	return ms;
}

/* Sets TZ to zone (NULL: UTC) and returns the value it had, malloc'd, or
 * NULL when it had none. */
static char *timer_tz_set(const char *zone)
{
	const char *old = getenv("TZ");
	char *keep = old ? strdup(old) : NULL;
	setenv("TZ", zone && *zone ? zone : "UTC", 1);
	tzset();
	return keep;
}

static void timer_tz_restore(char *keep)
{
	if (keep)
		setenv("TZ", keep, 1);
	else
		unsetenv("TZ");
	tzset();
	free(keep);
}

long long timer_next_local(long long now_ms, const char *zone, int minutes)
{
	time_t now = (time_t)(now_ms / 1000), at = now;
	char *keep = timer_tz_set(zone);
	struct tm tm;

	for (int day = 0; day < 3 && at <= now; day++) {
		localtime_r(&now, &tm);
		tm.tm_mday += day;
		tm.tm_hour = minutes / 60;
		tm.tm_min = minutes % 60;
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		at = mktime(&tm);
	}
	timer_tz_restore(keep);
	return (long long)at * 1000;
}

/* Adds one timer to p. */
static void timer_arm(struct timer_plan *p, int kind, const char *node,
	long long visit, int n, long long due_ms)
{
	struct timer *t;
	if (p->n_arms >= TIMER_ARMS_MAX)
		return;
	t = &p->arms[p->n_arms++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	snprintf(t->node, sizeof(t->node), "%s", node);
	t->visit = visit;
	t->n = n;
	t->due_ms = due_ms;
}

/* The timers of node n, entered at now_ms. */
static void timer_arm_node(const struct flow *f, const struct flow_node *n,
	long long now_ms, struct timer_plan *p)
{
	if (n->type->waits && n->remind_after > 0 && n->max_reminders > 0 &&
	    (n->timeout == 0 || n->remind_after < n->timeout))
		timer_arm(p, TIMER_REMIND, n->id, now_ms, 1,
			now_ms + n->remind_after * 1000LL);
	if (n->type->waits && n->timeout > 0)
		timer_arm(p, TIMER_TIMEOUT, n->id, now_ms, 1, now_ms + n->timeout * 1000LL);
	if (n->type == &node_http)
		timer_arm(p, TIMER_HTTP, n->id, now_ms, 1, now_ms);
	if (n->send_at > 0)
		timer_arm(p, TIMER_SEND_AT, n->id, now_ms, 1,
			timer_next_local(now_ms, f->timezone, n->send_at - 1));
}

/* The deletes of the ephemeral nodes with auto_delete_after the step
 * entered (such a timer is never cancelled: it deletes what is left). */
static void timer_arm_deletes(const struct flow *f, const struct step_out *o,
	long long now_ms, struct timer_plan *p)
{
	for (unsigned i = 0; i < o->n_entered; i++) {
		const struct flow_node *n = &f->nodes[o->entered[i]];
		if (n->life == LIFE_EPHEMERAL && n->auto_delete_after > 0)
			timer_arm(p, TIMER_DELETE, n->id, now_ms, 1,
				now_ms + n->auto_delete_after * 1000LL);
	}
}

/* After reminder fired: the next one, when there is one before the
 * timeout. */
static void timer_arm_next(const struct flow_node *n, const struct timer *fired,
	long long now_ms, struct timer_plan *p)
{
	long long due = now_ms + n->remind_after * 1000LL;
	if (fired->n >= n->max_reminders || n->remind_after <= 0)
		return;
	if (n->timeout > 0 && due >= fired->visit + n->timeout * 1000LL)
		return;
	timer_arm(p, TIMER_REMIND, n->id, fired->visit, fired->n + 1, due);
}

void timer_plan(const struct flow *f, const struct chat *c,
	const struct step_out *o, const struct timer *fired, int user,
	long long now_ms, struct timer_plan *p)
{
	const struct flow_node *n = c->finished ? NULL : flow_node(f, c->node);

	memset(p, 0, sizeof(*p));
	if (!f->timed || o->outcome == ENGINE_IGNORED)
		return;
	if (o->outcome == ENGINE_FORGOTTEN || c->finished || c->node[0] == '\0')
		p->cancel = TIMER_ALL_BITS;
	if (o->transitions > 0) {
		p->cancel |= TIMER_NODE_BITS;
		timer_arm_deletes(f, o, now_ms, p);
		if (n)
			timer_arm_node(f, n, now_ms, p);
	} else if (fired && fired->kind == TIMER_REMIND && n &&
	    o->outcome == ENGINE_REMINDED) {
		timer_arm_next(n, fired, now_ms, p);
	}
	if (user && f->inactive_after > 0 && f->on_inactive >= 0) {
		p->cancel |= 1u << TIMER_INACTIVE;
		if (n)
			timer_arm(p, TIMER_INACTIVE, n->id, now_ms, 1,
				now_ms + f->inactive_after * 1000LL);
	}
}
