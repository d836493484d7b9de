/* vigil-uid-queues.c: one queue of items per user, for bounds shared fairly between users */
#include "config.h"

#include "vigil-uid-queues.h"

struct _VigilUidQueues {
	GHashTable *by_uid; /* uid -> VigilUidQueue, while the user has items */
};

VigilUidQueues *
vigil_uid_queues_new(void)
{
	VigilUidQueues *queues = g_new0(VigilUidQueues, 1);

	queues->by_uid = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	return queues;
}

void
vigil_uid_queues_free(VigilUidQueues *queues)
{
	if (queues == NULL)
		return;
	g_hash_table_unref(queues->by_uid);
	g_free(queues);
}

VigilUidQueue *
vigil_uid_queues_lookup(VigilUidQueues *queues, guint32 uid)
{
	return g_hash_table_lookup(queues->by_uid, GUINT_TO_POINTER(uid));
}

VigilUidQueue *
vigil_uid_queues_get(VigilUidQueues *queues, guint32 uid)
{
	VigilUidQueue *queue = vigil_uid_queues_lookup(queues, uid);

	if (queue == NULL) {
		queue = g_new0(VigilUidQueue, 1);
		queue->uid = uid;
		g_queue_init(&queue->items);
		g_hash_table_insert(queues->by_uid, GUINT_TO_POINTER(uid), queue);
	}
	return queue;
}

void
vigil_uid_queues_unlink(VigilUidQueues *queues, VigilUidQueue *queue, GList *link)
{
	g_queue_unlink(&queue->items, link);
	if (queue->items.length == 0)
		g_hash_table_remove(queues->by_uid, GUINT_TO_POINTER(queue->uid));
}

guint
vigil_uid_queues_count(VigilUidQueues *queues)
{
	return g_hash_table_size(queues->by_uid);
}

VigilUidQueue *
vigil_uid_queues_any(VigilUidQueues *queues)
{
	GHashTableIter iter;
	VigilUidQueue *queue = NULL;

	g_hash_table_iter_init(&iter, queues->by_uid);
	return g_hash_table_iter_next(&iter, NULL, (gpointer *)&queue) ? queue : NULL;
}

VigilUidQueue *
vigil_uid_queues_longest(VigilUidQueues *queues, VigilUidQueue *asking)
{
	GHashTableIter iter;
	VigilUidQueue *queue;
	VigilUidQueue *longest = asking;

	g_hash_table_iter_init(&iter, queues->by_uid);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&queue)) {
		if (longest == NULL || queue->items.length > longest->items.length)
			longest = queue;
	}
	return longest;
}

GPtrArray *
vigil_uid_queues_gather(VigilUidQueues *queues, gboolean ordered, VigilUidQueuesFunc func,
                        gpointer user_data)
{
	GPtrArray *items = g_ptr_array_new();
	GHashTableIter iter;
	VigilUidQueue *queue;

	g_hash_table_iter_init(&iter, queues->by_uid);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&queue)) {
		for (GList *l = queue->items.head; l != NULL; l = l->next) {
			if (func(l->data, user_data))
				g_ptr_array_add(items, l->data);
			else if (ordered)
				break;
		}
	}
	return items;
}
