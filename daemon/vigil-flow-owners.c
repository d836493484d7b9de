/* vigil-flow-owners.c: whose allowed flow a conntrack id names, bounded and shared fairly */
#define G_LOG_DOMAIN "vigil-history"
#include "config.h"

#include "vigil-flow-owners.h"
#include "vigil-uid-queues.h"

typedef struct {
	guint32 ct_id;
	VigilUidQueue *user; /* its bucket's queue, oldest first */
	GList link;
} Owner;

struct _VigilFlowOwners {
	GHashTable *by_id;       /* ct id -> Owner (owned) */
	VigilUidQueues *buckets; /* of Owner, per fairness bucket */
};

VigilFlowOwners *
vigil_flow_owners_new(void)
{
	VigilFlowOwners *owners = g_new0(VigilFlowOwners, 1);

	owners->by_id = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	owners->buckets = vigil_uid_queues_new();
	return owners;
}

void
vigil_flow_owners_free(VigilFlowOwners *owners)
{
	if (owners == NULL)
		return;
	g_hash_table_destroy(owners->by_id);
	vigil_uid_queues_free(owners->buckets);
	g_free(owners);
}

static void
forget(VigilFlowOwners *owners, Owner *owner)
{
	vigil_uid_queues_unlink(owners->buckets, owner->user, &owner->link);
	g_hash_table_remove(owners->by_id, GUINT_TO_POINTER(owner->ct_id));
}

void
vigil_flow_owners_set(VigilFlowOwners *owners, guint32 ct_id, guint32 bucket)
{
	Owner *owner;

	g_return_if_fail(ct_id != 0);
	owner = g_hash_table_lookup(owners->by_id, GUINT_TO_POINTER(ct_id));
	if (owner != NULL)
		forget(owners, owner);
	if (g_hash_table_size(owners->by_id) >= VIGIL_FLOW_OWNERS_MAX) {
		/* the oldest of the user holding the most (this one's, when it is among them) */
		VigilUidQueue *most = vigil_uid_queues_longest(
		    owners->buckets, vigil_uid_queues_lookup(owners->buckets, bucket));

		forget(owners, most->items.head->data);
	}
	owner = g_new0(Owner, 1);
	owner->ct_id = ct_id;
	owner->link.data = owner;
	owner->user = vigil_uid_queues_get(owners->buckets, bucket);
	g_queue_push_tail_link(&owner->user->items, &owner->link);
	g_hash_table_insert(owners->by_id, GUINT_TO_POINTER(ct_id), owner);
}

guint32
vigil_flow_owners_get(VigilFlowOwners *owners, guint32 ct_id, gboolean ended)
{
	Owner *owner =
	    ct_id != 0 ? g_hash_table_lookup(owners->by_id, GUINT_TO_POINTER(ct_id)) : NULL;
	guint32 bucket;

	if (owner == NULL)
		return G_MAXUINT32;
	bucket = owner->user->uid;
	if (ended)
		forget(owners, owner);
	return bucket;
}

guint
vigil_flow_owners_count(VigilFlowOwners *owners)
{
	return g_hash_table_size(owners->by_id);
}
