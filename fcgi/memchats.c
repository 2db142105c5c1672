/* memchats.c - the in-memory chat table. */
#include "fcgi/memchats.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void memchats_init(struct memchats *m)
{
	memset(m, 0, sizeof(*m));
}

static size_t memchats_hash(long long id)
{
	uint64_t x = (uint64_t)id;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static int memchats_reindex(struct memchats *m)
{
	size_t cap = m->index_cap ? m->index_cap * 2 : 64;
	size_t *index = calloc(cap, sizeof(*index));
	if (index == NULL)
		return -1;
	for (size_t k = 0; k < m->n; k++) {
		size_t i = memchats_hash(m->chats[k].chat_id) & (cap - 1);
		while (index[i])
			i = (i + 1) & (cap - 1);
		index[i] = k + 1;
	}
	free(m->index);
	m->index = index;
	m->index_cap = cap;
	return 0;
}

struct chat *memchats_find(struct memchats *m, long long chat_id)
{
	if (m->index_cap == 0)
		return NULL;
	for (size_t i = memchats_hash(chat_id) & (m->index_cap - 1); m->index[i];
	     i = (i + 1) & (m->index_cap - 1))
		if (m->chats[m->index[i] - 1].chat_id == chat_id)
			return &m->chats[m->index[i] - 1];
	return NULL;
}

struct chat *memchats_get(struct memchats *m, long long chat_id)
{
	struct chat *c = memchats_find(m, chat_id);
	size_t i;

	if (c)
		return c;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct chat *chats = realloc(m->chats, cap * sizeof(*chats));
		if (chats == NULL)
			return NULL;
		m->chats = chats;
		m->cap = cap;
	}
	if ((m->n + 1) * 2 > m->index_cap && memchats_reindex(m) != 0)
		return NULL;
	if (chat_init(&m->chats[m->n], chat_id) != 0)
		return NULL;
	i = memchats_hash(chat_id) & (m->index_cap - 1);
	while (m->index[i])
		i = (i + 1) & (m->index_cap - 1);
	m->index[i] = m->n + 1;
	return &m->chats[m->n++];
}

int memchats_seen(struct memchats *m, long long update_id)
{
	size_t i;

	if (update_id == 0) {
		int seen = m->seen_zero;
		m->seen_zero = 1;
		return seen;
	}
	if ((m->seen_n + 1) * 2 > m->seen_cap) {
		size_t cap = m->seen_cap ? m->seen_cap * 2 : 1024;
		long long *seen = calloc(cap, sizeof(*seen));
		if (seen == NULL)
			return 0;
		for (size_t k = 0; k < m->seen_cap; k++) {
			if (m->seen[k] == 0)
				continue;
			i = memchats_hash(m->seen[k]) & (cap - 1);
			while (seen[i])
				i = (i + 1) & (cap - 1);
			seen[i] = m->seen[k];
		}
		free(m->seen);
		m->seen = seen;
		m->seen_cap = cap;
	}
	for (i = memchats_hash(update_id) & (m->seen_cap - 1); m->seen[i];
	     i = (i + 1) & (m->seen_cap - 1))
		if (m->seen[i] == update_id)
			return 1;
	m->seen[i] = update_id;
	m->seen_n++;
	return 0;
}

void memchats_free(struct memchats *m)
{
	for (size_t k = 0; k < m->n; k++)
		chat_free(&m->chats[k]);
	free(m->chats);
	free(m->index);
	free(m->seen);
	memchats_init(m);
}
