/* vigil-uid-queues.h: items kept in one queue per user, so that a bound all users share is
 * taken from whoever holds the most (the DNS cache, the DNS queries in flight) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* one user's items: the caller's, linked through a GList inside each item (link->data) */
typedef struct {
	guint32 uid;
	GQueue items;
} VigilUidQueue;

typedef struct _VigilUidQueues VigilUidQueues;

VigilUidQueues *vigil_uid_queues_new(void);
/* frees the queues, not the items */
void vigil_uid_queues_free(VigilUidQueues *queues);

/* @uid's queue, made empty when the user has none */
VigilUidQueue *vigil_uid_queues_get(VigilUidQueues *queues, guint32 uid);
/* @uid's queue, or NULL */
VigilUidQueue *vigil_uid_queues_lookup(VigilUidQueues *queues, guint32 uid);
/* takes @link out of @queue; a queue goes (is freed) with its last item */
void vigil_uid_queues_unlink(VigilUidQueues *queues, VigilUidQueue *queue, GList *link);
/* how many users have a queue */
guint vigil_uid_queues_count(VigilUidQueues *queues);
/* any one queue, or NULL when there is none */
VigilUidQueue *vigil_uid_queues_any(VigilUidQueues *queues);

/*
 * The queue to give up an item when the shared bound is reached: the longest, @asking (may
 * be NULL) when it is among the longest, so that no user's items push out another's fair
 * share. One pass over the users (as many as the machine's uids that have items).
 */
VigilUidQueue *vigil_uid_queues_longest(VigilUidQueues *queues, VigilUidQueue *asking);

typedef gboolean (*VigilUidQueuesFunc)(gpointer item, gpointer user_data);

/*
 * The items (link->data) for which @func says TRUE, gathered before the caller removes any
 * (removing a queue's last item removes the queue). With @ordered, a queue is read from its
 * head only up to the first item @func refuses (queues in time order).
 */
GPtrArray *vigil_uid_queues_gather(VigilUidQueues *queues, gboolean ordered,
                                   VigilUidQueuesFunc func, gpointer user_data);

G_END_DECLS
