/* metrics.c - shared counters and their Prometheus text. */
#include "engine/metrics.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/flow.h"
#include "engine/node.h"

static const double metrics_le[METRICS_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

static const char *const metrics_results[MR_COUNT] = {
	"applied", "repeat", "ignored", "poison", "transient"
};

static const char *const metrics_refusals[MF_COUNT] = {
	"not_found", "method", "secret", "too_large", "bad_json"
};

struct metrics *metrics_create(void)
{
	void *p = mmap(NULL, sizeof(struct metrics), PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void metrics_destroy(struct metrics *m)
{
	if (m)
		munmap(m, sizeof(*m));
}

void metrics_add(unsigned long long *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

int metrics_bot(struct metrics *m, const char *name, const char *hash)
{
	for (int i = 0; i < METRICS_BOTS; i++) {
		struct metrics_bot *b = &m->bots[i];
		if (b->name[0] == '\0')
			snprintf(b->name, sizeof(b->name), "%s", name);
		if (strcmp(b->name, name) == 0) {
			snprintf(b->hash, sizeof(b->hash), "%s", hash);
			return i;
		}
	}
	return -1;
}

/* Where node id of bot lives or would go: its slot, or the first free
 * one on its probe; -1 when the table is full. */
static int metrics_node_find(const struct metrics *m, int bot, const char *id)
{
	unsigned h = 2166136261u + (unsigned)bot;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (unsigned i = 0; i < METRICS_NODES; i++) {
		unsigned at = (h + i) % METRICS_NODES;
		const struct metrics_node *n = &m->nodes[at];
		if (!__atomic_load_n(&n->ready, __ATOMIC_ACQUIRE))
			return (int)at;
		if (n->bot == bot && strcmp(n->id, id) == 0)
			return (int)at;
	}
	return -1;
}

void metrics_flow(struct metrics *m, int bot, const struct flow *f)
{
	if (m == NULL || bot < 0)
		return;
	for (unsigned i = 0; i < f->n_nodes; i++) {
		const struct flow_node *fn = &f->nodes[i];
		const char *const *r = fn->type->reasons;
		int at = metrics_node_find(m, bot, fn->id), k = 0;
		struct metrics_node *n;
		if (at < 0 || strlen(fn->id) > METRICS_ID_MAX)
			continue;
		n = &m->nodes[at];
		if (n->ready)
			continue;
		n->bot = bot;
		snprintf(n->id, sizeof(n->id), "%s", fn->id);
		for (; r && r[k] && k < METRICS_REASONS - 2; k++)
			snprintf(n->reason[k], sizeof(n->reason[k]), "%s", r[k]);
		snprintf(n->reason[k], sizeof(n->reason[k]), "context_full");
		snprintf(n->reason[METRICS_REASONS - 1], sizeof(n->reason[0]), "other");
		__atomic_store_n(&n->ready, 1, __ATOMIC_RELEASE);
	}
}

/* The ready slot of node id of bot, or NULL. */
static struct metrics_node *metrics_node(struct metrics *m, int bot, const char *id)
{
	int at = m && bot >= 0 ? metrics_node_find(m, bot, id) : -1;
	return at >= 0 && __atomic_load_n(&m->nodes[at].ready, __ATOMIC_ACQUIRE) ?
		&m->nodes[at] : NULL;
}

void metrics_entered(struct metrics *m, int bot, const char *node)
{
	struct metrics_node *n = metrics_node(m, bot, node);
	if (n)
		metrics_add(&n->entered);
}

void metrics_refused(struct metrics *m, int bot, const char *node, const char *reason)
{
	struct metrics_node *n = metrics_node(m, bot, node);
	int k;
	if (n == NULL)
		return;
	for (k = 0; k < METRICS_REASONS - 1; k++)
		if (n->reason[k][0] && strcmp(n->reason[k], reason) == 0)
			break;
	metrics_add(&n->refused[k]);
}

void metrics_finished(struct metrics *m, int bot)
{
	if (m && bot >= 0 && bot < METRICS_BOTS)
		metrics_add(&m->bots[bot].finished);
}

void metrics_not_allowed(struct metrics *m, int bot)
{
	if (m && bot >= 0 && bot < METRICS_BOTS)
		metrics_add(&m->bots[bot].not_allowed);
}

int metrics_told(struct metrics *m, int bot, long long user, long long day)
{
	unsigned long long h = 14695981039346656037ull, key, old;
	unsigned long long parts[2] = { (unsigned long long)bot, (unsigned long long)user };

	if (m == NULL)
		return 0;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 8; j++) {
			h ^= (parts[i] >> (j * 8)) & 0xff;
			h *= 1099511628211ull;
		}
	key = (h & ~0xffffull) | ((unsigned long long)day & 0xffff);
	old = __atomic_exchange_n(&m->told[h % METRICS_TOLD], key, __ATOMIC_RELAXED);
	return old == key;
}

void metrics_update(struct metrics *m, int bot, enum metrics_result r)
{
	if (m && bot >= 0 && bot < METRICS_BOTS)
		metrics_add(&m->bots[bot].updates[r]);
}

void metrics_refusal(struct metrics *m, enum metrics_refusal r)
{
	if (m)
		metrics_add(&m->refusals[r]);
}

void metrics_latency(struct metrics *m, double seconds)
{
	int i;
	if (m == NULL)
		return;
	for (i = 0; i < METRICS_BUCKETS && seconds > metrics_le[i]; i++)
		;
	metrics_add(&m->bucket[i]);
	metrics_add(&m->latency_count);
	__atomic_fetch_add(&m->latency_sum_us, (unsigned long long)(seconds * 1e6),
		__ATOMIC_RELAXED);
}

void metrics_worker(struct metrics *m, int slot, enum metrics_worker state)
{
	if (m && slot >= 0 && slot < METRICS_WORKERS)
		__atomic_store_n(&m->worker[slot], (unsigned char)state, __ATOMIC_RELAXED);
}

static const double metrics_late_le[METRICS_LATE_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2.5, 10, 60, 3600
};

void metrics_timer(struct metrics *m, int kind, double late_s)
{
	int i;
	if (m == NULL || kind < 0 || kind >= METRICS_TIMER_KINDS)
		return;
	if (late_s < 0)
		late_s = 0;
	for (i = 0; i < METRICS_LATE_BUCKETS && late_s > metrics_late_le[i]; i++)
		;
	metrics_add(&m->late_bucket[i]);
	metrics_add(&m->late_count);
	metrics_add(&m->timers_fired[kind]);
	__atomic_fetch_add(&m->late_sum_ms, (unsigned long long)(late_s * 1e3),
		__ATOMIC_RELAXED);
}

static unsigned long long metrics_get(const unsigned long long *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* A node id as a label value: \\, \" and line breaks escaped. */
static int metrics_label(struct buf *out, const char *v)
{
	int rc = 0;
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			rc |= buf_addc(out, '\\') | buf_addc(out, *v);
		else if (*v == '\n')
			rc |= buf_adds(out, "\\n");
		else
			rc |= buf_addc(out, *v);
	}
	return rc;
}

/* The per-node funnel: entered, and refused by reason (reasons seen). */
static int metrics_render_nodes(const struct metrics *m, struct buf *out)
{
	int rc = buf_adds(out, "# HELP blueflow_node_entered_total Times a chat "
		"entered the node.\n# TYPE blueflow_node_entered_total counter\n");
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			rc |= buf_adds(out, "# HELP blueflow_node_refused_total Answers "
				"refused at the node, by reason.\n"
				"# TYPE blueflow_node_refused_total counter\n");
		for (int i = 0; i < METRICS_NODES; i++) {
			const struct metrics_node *n = &m->nodes[i];
			if (!__atomic_load_n(&n->ready, __ATOMIC_ACQUIRE))
				continue;
			for (int k = 0; k < (pass ? METRICS_REASONS : 1); k++) {
				unsigned long long v = metrics_get(pass ? &n->refused[k] : &n->entered);
				if (pass && (v == 0 || n->reason[k][0] == '\0'))
					continue;
				rc |= buf_addf(out, "blueflow_node_%s_total{bot=\"%s\",node=\"",
					pass ? "refused" : "entered", m->bots[n->bot].name);
				rc |= metrics_label(out, n->id);
				if (pass)
					rc |= buf_addf(out, "\",reason=\"%s", n->reason[k]);
				rc |= buf_addf(out, "\"} %llu\n", v);
			}
		}
	}
	return rc;
}

/* The timers' part of the exposition. Returns 0 or non-zero when full. */
static int metrics_render_timers(const struct metrics *m, struct buf *out)
{
	static const char *const kinds[METRICS_TIMER_KINDS] = {
		"remind", "timeout", "inactive", "send_at", "delete", "http"
	};
	static const char *const statuses[METRICS_CHAT_STATUSES] = {
		"active", "waiting", "finished", "inactive", "forgotten"
	};
	unsigned long long cum = 0;
	int rc = 0;

	rc |= buf_adds(out, "# HELP blueflow_chats Chats by bot and status.\n"
		"# TYPE blueflow_chats gauge\n");
	for (int i = 0; i < METRICS_BOTS && m->bots[i].name[0]; i++)
		for (int st = 0; st < METRICS_CHAT_STATUSES; st++) {
			long long n = __atomic_load_n(&m->chats[i][st], __ATOMIC_RELAXED);
			if (n >= 0)
				rc |= buf_addf(out, "blueflow_chats{bot=\"%s\",status=\"%s\"} %lld\n",
					m->bots[i].name, statuses[st], n);
		}
	rc |= buf_addf(out, "# HELP blueflow_timers_pending Timers armed, not fired yet.\n"
		"# TYPE blueflow_timers_pending gauge\nblueflow_timers_pending %lld\n"
		"# HELP blueflow_timers_fired_total Timers fired, by kind.\n"
		"# TYPE blueflow_timers_fired_total counter\n",
		__atomic_load_n(&m->timers_pending, __ATOMIC_RELAXED));
	for (int k = 0; k < METRICS_TIMER_KINDS; k++)
		rc |= buf_addf(out, "blueflow_timers_fired_total{kind=\"%s\"} %llu\n",
			kinds[k], metrics_get(&m->timers_fired[k]));
	rc |= buf_adds(out, "# HELP blueflow_timers_late_seconds How long after its due "
		"time a timer fired.\n# TYPE blueflow_timers_late_seconds histogram\n");
	for (int i = 0; i <= METRICS_LATE_BUCKETS; i++) {
		cum += metrics_get(&m->late_bucket[i]);
		if (i < METRICS_LATE_BUCKETS)
			rc |= buf_addf(out, "blueflow_timers_late_seconds_bucket{le=\"%g\"} %llu\n",
				metrics_late_le[i], cum);
		else
			rc |= buf_addf(out, "blueflow_timers_late_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	}
	rc |= buf_addf(out, "blueflow_timers_late_seconds_sum %.3f\n"
		"blueflow_timers_late_seconds_count %llu\n",
		(double)metrics_get(&m->late_sum_ms) / 1e3, metrics_get(&m->late_count));
	return rc;
}

int metrics_render(const struct metrics *m, struct buf *out)
{
	unsigned long long cum = 0;
	int idle = 0, busy = 0, rc = 0;

	rc |= buf_adds(out, "# HELP blueflow_updates_total Webhook updates by bot and result.\n"
		"# TYPE blueflow_updates_total counter\n");
	for (int i = 0; i < METRICS_BOTS && m->bots[i].name[0]; i++)
		for (int r = 0; r < MR_COUNT; r++)
			rc |= buf_addf(out, "blueflow_updates_total{bot=\"%s\",result=\"%s\"} %llu\n",
				m->bots[i].name, metrics_results[r], metrics_get(&m->bots[i].updates[r]));
	rc |= buf_adds(out, "# HELP blueflow_not_allowed_total Updates from users on "
		"neither allow-list, by bot.\n# TYPE blueflow_not_allowed_total counter\n");
	for (int i = 0; i < METRICS_BOTS && m->bots[i].name[0]; i++)
		rc |= buf_addf(out, "blueflow_not_allowed_total{bot=\"%s\"} %llu\n",
			m->bots[i].name, metrics_get(&m->bots[i].not_allowed));
	rc |= buf_adds(out, "# HELP blueflow_chats_finished_total Chats whose flow "
		"ended, by bot.\n# TYPE blueflow_chats_finished_total counter\n");
	for (int i = 0; i < METRICS_BOTS && m->bots[i].name[0]; i++)
		rc |= buf_addf(out, "blueflow_chats_finished_total{bot=\"%s\"} %llu\n",
			m->bots[i].name, metrics_get(&m->bots[i].finished));
	rc |= metrics_render_nodes(m, out);
	rc |= buf_adds(out, "# HELP blueflow_flow_info The flow each bot serves, by hash.\n"
		"# TYPE blueflow_flow_info gauge\n");
	for (int i = 0; i < METRICS_BOTS && m->bots[i].name[0]; i++)
		rc |= buf_addf(out, "blueflow_flow_info{bot=\"%s\",hash=\"%s\"} 1\n",
			m->bots[i].name, m->bots[i].hash);
	rc |= buf_adds(out, "# HELP blueflow_refusals_total Requests refused, by reason.\n"
		"# TYPE blueflow_refusals_total counter\n");
	for (int r = 0; r < MF_COUNT; r++)
		rc |= buf_addf(out, "blueflow_refusals_total{reason=\"%s\"} %llu\n",
			metrics_refusals[r], metrics_get(&m->refusals[r]));
	rc |= buf_adds(out, "# HELP blueflow_update_seconds Time to handle a webhook update.\n"
		"# TYPE blueflow_update_seconds histogram\n");
	for (int i = 0; i <= METRICS_BUCKETS; i++) {
		cum += metrics_get(&m->bucket[i]);
		if (i < METRICS_BUCKETS)
			rc |= buf_addf(out, "blueflow_update_seconds_bucket{le=\"%g\"} %llu\n",
				metrics_le[i], cum);
		else
			rc |= buf_addf(out, "blueflow_update_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	}
	rc |= buf_addf(out, "blueflow_update_seconds_sum %.6f\nblueflow_update_seconds_count %llu\n",
		(double)metrics_get(&m->latency_sum_us) / 1e6, metrics_get(&m->latency_count));
	for (int i = 0; i < METRICS_WORKERS; i++) {
		unsigned char w = __atomic_load_n(&m->worker[i], __ATOMIC_RELAXED);
		idle += w == MW_IDLE;
		busy += w == MW_BUSY;
	}
	rc |= buf_addf(out, "# HELP blueflow_workers Worker processes by state.\n"
		"# TYPE blueflow_workers gauge\n"
		"blueflow_workers{state=\"idle\"} %d\nblueflow_workers{state=\"busy\"} %d\n",
		idle, busy);
	rc |= buf_addf(out, "# HELP blueflow_reloads_total Successful reloads.\n"
		"# TYPE blueflow_reloads_total counter\nblueflow_reloads_total %llu\n"
		"# HELP blueflow_worker_restarts_total Children that died and were replaced.\n"
		"# TYPE blueflow_worker_restarts_total counter\nblueflow_worker_restarts_total %llu\n",
		metrics_get(&m->reloads), metrics_get(&m->restarts));
	rc |= buf_addf(out, "# HELP blueflow_outbox_pending Calls waiting in the outbox.\n"
		"# TYPE blueflow_outbox_pending gauge\nblueflow_outbox_pending %lld\n"
		"# HELP blueflow_outbox_dead Calls given up on (dead letters).\n"
		"# TYPE blueflow_outbox_dead gauge\nblueflow_outbox_dead %lld\n",
		__atomic_load_n(&m->outbox_pending, __ATOMIC_RELAXED),
		__atomic_load_n(&m->outbox_dead, __ATOMIC_RELAXED));
	rc |= buf_addf(out, "# HELP blueflow_inbox_dead Updates that failed for good, "
		"kept for `blueflow inbox`.\n# TYPE blueflow_inbox_dead gauge\n"
		"blueflow_inbox_dead %lld\n", __atomic_load_n(&m->inbox_dead, __ATOMIC_RELAXED));
	rc |= metrics_render_timers(m, out);
	return rc ? -1 : 0;
}
