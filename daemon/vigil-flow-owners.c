/* vigil-flow-owners.c: whose allowed flow a conntrack tuple names, bounded and shared fairly */
#define G_LOG_DOMAIN "vigil-history"
#include "config.h"

#include <string.h>

#include "vigil-flow-owners.h"
#include "vigil-uid-queues.h"

/* a tuple as a key: its fields only, no padding (compared and hashed as bytes) */
typedef struct {
	guint8 family; /* AF_INET or AF_INET6 fit */
	guint8 protocol;
	guint16 sport, dport;
	guint8 src[16], dst[16];
} Key;

typedef struct {
	Key key;
	VigilUidQueue *user; /* its bucket's queue, oldest first */
	GList link;
} Owner;

struct _VigilFlowOwners {
	GHashTable *by_tuple;    /* Key -> Owner (owned; the key inside it) */
	VigilUidQueues *buckets; /* of Owner, per fairness bucket */
};

static guint
key_hash(gconstpointer p)
{
	const guint8 *bytes = p;
	guint32 h = 2166136261u; /* FNV-1a */

	for (gsize i = 0; i < sizeof(Key); i++)
		h = (h ^ bytes[i]) * 16777619u;
	return h;
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(Key)) == 0;
}

static void
key_of(const VigilFlowTuple *tuple, Key *key)
{
	memset(key, 0, sizeof *key);
	key->family = (guint8)tuple->family;
	key->protocol = tuple->protocol;
	key->sport = tuple->sport;
	key->dport = tuple->dport;
	memcpy(key->src, tuple->src.bytes, sizeof key->src);
	memcpy(key->dst, tuple->dst.bytes, sizeof key->dst);
}

VigilFlowOwners *
vigil_flow_owners_new(void)
{
	VigilFlowOwners *owners = g_new0(VigilFlowOwners, 1);

	owners->by_tuple = g_hash_table_new_full(key_hash, key_equal, NULL, g_free);
	owners->buckets = vigil_uid_queues_new();
	return owners;
}

void
vigil_flow_owners_free(VigilFlowOwners *owners)
{
	if (owners == NULL)
		return;
	g_hash_table_destroy(owners->by_tuple);
	vigil_uid_queues_free(owners->buckets);
	g_free(owners);
}

static void
forget(VigilFlowOwners *owners, Owner *owner)
{
	vigil_uid_queues_unlink(owners->buckets, owner->user, &owner->link);
	g_hash_table_remove(owners->by_tuple, &owner->key); /* frees it */
}

void
vigil_flow_owners_set(VigilFlowOwners *owners, const VigilFlowTuple *tuple, guint32 bucket)
{
	Owner *owner;
	Key key;

	key_of(tuple, &key);
	owner = g_hash_table_lookup(owners->by_tuple, &key);
	if (owner != NULL)
		forget(owners, owner);
	if (g_hash_table_size(owners->by_tuple) >= VIGIL_FLOW_OWNERS_MAX) {
		/* the oldest of the user holding the most (this one's, when it is among them) */
		VigilUidQueue *most = vigil_uid_queues_longest(
		    owners->buckets, vigil_uid_queues_lookup(owners->buckets, bucket));

		forget(owners, most->items.head->data);
	}
	owner = g_new0(Owner, 1);
	owner->key = key;
	owner->link.data = owner;
	owner->user = vigil_uid_queues_get(owners->buckets, bucket);
	g_queue_push_tail_link(&owner->user->items, &owner->link);
	g_hash_table_insert(owners->by_tuple, &owner->key, owner);
}

guint32
vigil_flow_owners_get(VigilFlowOwners *owners, const VigilFlowTuple *tuple, gboolean ended)
{
	Owner *owner;
	guint32 bucket;
	Key key;

	key_of(tuple, &key);
	owner = g_hash_table_lookup(owners->by_tuple, &key);
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
	return g_hash_table_size(owners->by_tuple);
}
