/* vigil-decision-ring.c: the recent decisions in memory, shared fairly between users */
#define G_LOG_DOMAIN "vigil-decision"
#include "config.h"

#include "vigil-decision-ring.h"
#include "vigil-fair.h"
#include "vigil-uid-queues.h"

typedef struct {
	VigilDecision decision;
	guint32 bucket; /* the fairness bucket it is counted under (vigil-fair.h) */
	GList uid_link; /* in its bucket's queue, oldest first */
	GList all_link; /* in ring->all, oldest first */
} Slot;

struct _VigilDecisionRing {
	Slot *slots;
	guint size;
	guint used;             /* slots handed out so far; once full, a slot is only reused */
	GQueue all;             /* of Slot, via all_link, in the order added (the order of ids) */
	VigilUidQueues *queues; /* of Slot, via uid_link: which one a new decision replaces */
};

VigilDecisionRing *
vigil_decision_ring_new(guint size)
{
	VigilDecisionRing *ring = g_new0(VigilDecisionRing, 1);

	ring->size = MAX(size, 1);
	ring->slots = g_new0(Slot, ring->size);
	g_queue_init(&ring->all);
	ring->queues = vigil_uid_queues_new();
	return ring;
}

void
vigil_decision_ring_free(VigilDecisionRing *ring)
{
	if (ring == NULL)
		return;
	for (guint i = 0; i < ring->used; i++)
		vigil_decision_clear(&ring->slots[i].decision);
	g_free(ring->slots);
	vigil_uid_queues_free(ring->queues);
	g_free(ring);
}

/* a slot for a decision of @bucket: a new one, or the emptied slot of the oldest decision of the
 * bucket holding the most (a user's subordinate uids count as the user) */
static Slot *
take_slot(VigilDecisionRing *ring, guint32 bucket)
{
	VigilUidQueue *queue;
	Slot *slot;

	if (ring->used < ring->size) {
		slot = &ring->slots[ring->used++];
		slot->uid_link.data = slot;
		slot->all_link.data = slot;
		return slot;
	}
	queue =
	    vigil_uid_queues_longest(ring->queues, vigil_uid_queues_lookup(ring->queues, bucket));
	slot = g_queue_peek_head(&queue->items);
	vigil_uid_queues_unlink(ring->queues, queue, &slot->uid_link);
	g_queue_unlink(&ring->all, &slot->all_link);
	vigil_decision_clear(&slot->decision);
	return slot;
}

void
vigil_decision_ring_add(VigilDecisionRing *ring, VigilDecision *decision)
{
	guint32 bucket = vigil_fair_bucket(decision->uid);
	Slot *slot = take_slot(ring, bucket);

	slot->decision = *decision;
	slot->bucket = bucket;
	memset(decision, 0, sizeof *decision);
	g_queue_push_tail_link(&vigil_uid_queues_get(ring->queues, bucket)->items, &slot->uid_link);
	g_queue_push_tail_link(&ring->all, &slot->all_link);
}

GPtrArray *
vigil_decision_ring_recent(VigilDecisionRing *ring)
{
	GPtrArray *out = g_ptr_array_sized_new(ring->all.length);

	for (GList *l = ring->all.head; l != NULL; l = l->next)
		g_ptr_array_add(out, &((Slot *)l->data)->decision);
	return out;
}
