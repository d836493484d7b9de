/* vigil-dns-cache.c: per-user IP -> names cache with TTLs, a floor, a ceiling and fair LRU bounds
 */
#define G_LOG_DOMAIN "vigil-dns-cache"
#include "config.h"

#include <string.h>

#include "vigil-dns-cache.h"
#include "vigil-fair.h"
#include "vigil-uid-queues.h"

typedef struct {
	guint32 uid;
	gint32 family;
	VigilAddress address;
} Key;

/* the names known for one (user, address) */
typedef struct {
	Key key;
	/* the user's entries, most recently used first: each user's least recently used go
	 * first, and only theirs */
	VigilUidQueue *user;
	GQueue names; /* of Entry, most recently learned first */
} Slot;

typedef struct {
	Slot *slot;
	char *name;
	gint64 expires_us;
	GList slot_link;
	GList lru_link;
} Entry;

struct _VigilDnsCache {
	GHashTable *slots;     /* Key (inside the Slot) -> Slot */
	VigilUidQueues *users; /* while the user has entries */
	guint size;            /* entries of all users */
	guint max_entries;
	guint32 ttl_floor_s;
	guint32 ttl_ceiling_s;
	guint64 changes; /* names learned, or dropped before their time (vigil_dns_cache_changes) */
};

G_STATIC_ASSERT(sizeof(Key) == 24); /* no padding: hashed and compared as bytes */

VIGIL_DEFINE_BYTES_KEY(key, Key)

static void
make_key(Key *key, guint32 uid, int family, const VigilAddress *address)
{
	memset(key, 0, sizeof(*key));
	key->uid = uid;
	key->family = family;
	key->address = *address;
}

VigilDnsCache *
vigil_dns_cache_new(guint max_entries, guint32 ttl_floor_s, guint32 ttl_ceiling_s)
{
	VigilDnsCache *cache;

	g_return_val_if_fail(ttl_floor_s <= ttl_ceiling_s, NULL);
	cache = g_new0(VigilDnsCache, 1);
	cache->slots = g_hash_table_new_full(key_hash, key_equal, NULL, g_free);
	cache->users = vigil_uid_queues_new();
	cache->max_entries = MAX(max_entries, 1);
	cache->ttl_floor_s = ttl_floor_s;
	cache->ttl_ceiling_s = ttl_ceiling_s;
	return cache;
}

static void
remove_entry(VigilDnsCache *cache, Entry *entry)
{
	Slot *slot = entry->slot;

	g_queue_unlink(&slot->names, &entry->slot_link);
	vigil_uid_queues_unlink(cache->users, slot->user, &entry->lru_link);
	cache->size--;
	if (slot->names.length == 0)
		g_hash_table_remove(cache->slots, &slot->key);
	g_free(entry->name);
	g_free(entry);
}

void
vigil_dns_cache_clear(VigilDnsCache *cache)
{
	VigilUidQueue *user;

	/* a user's last entry takes the user with it */
	while ((user = vigil_uid_queues_any(cache->users)) != NULL)
		remove_entry(cache, user->items.head->data);
	cache->changes++;
}

void
vigil_dns_cache_free(VigilDnsCache *cache)
{
	if (cache == NULL)
		return;
	vigil_dns_cache_clear(cache);
	g_hash_table_unref(cache->slots);
	vigil_uid_queues_free(cache->users);
	g_free(cache);
}

static Slot *
get_slot(VigilDnsCache *cache, const Key *key)
{
	Slot *slot = g_hash_table_lookup(cache->slots, key);

	if (slot == NULL) {
		slot = g_new0(Slot, 1);
		slot->key = *key;
		/* a user's subordinate uids share the user's share of the cache */
		slot->user = vigil_uid_queues_get(cache->users, vigil_fair_bucket(key->uid));
		g_queue_init(&slot->names);
		g_hash_table_insert(cache->slots, &slot->key, slot);
	}
	return slot;
}

static Entry *
find_name(Slot *slot, const char *name)
{
	for (GList *l = slot->names.head; l != NULL; l = l->next) {
		Entry *entry = l->data;

		if (strcmp(entry->name, name) == 0)
			return entry;
	}
	return NULL;
}

static void
touch(Entry *entry)
{
	GQueue *lru = &entry->slot->user->items;

	g_queue_unlink(lru, &entry->lru_link);
	g_queue_push_head_link(lru, &entry->lru_link);
}

void
vigil_dns_cache_add(VigilDnsCache *cache, guint32 uid, const char *name, int family,
                    const VigilAddress *address, guint32 ttl, gint64 now_us)
{
	guint32 kept_s = CLAMP(ttl, cache->ttl_floor_s, cache->ttl_ceiling_s);
	guint32 bucket;
	Key key;
	Slot *slot;
	Entry *entry;

	g_return_if_fail(name != NULL && address != NULL);

	/* a query whose sender is unknown names nothing: its answer is no user's to trust */
	if (uid == VIGIL_DNS_CACHE_ANY_UID)
		return;
	make_key(&key, uid, family, address);
	slot = get_slot(cache, &key);
	entry = find_name(slot, name);
	if (entry != NULL) {
		g_queue_unlink(&slot->names, &entry->slot_link);
	} else {
		entry = g_new0(Entry, 1);
		entry->slot = slot;
		entry->name = g_strdup(name);
		entry->slot_link.data = entry;
		entry->lru_link.data = entry;
		g_queue_push_head_link(&slot->user->items, &entry->lru_link);
		cache->size++;
		cache->changes++;
	}
	/* the latest answer says how long the name holds */
	entry->expires_us = now_us + (gint64)kept_s * G_USEC_PER_SEC;
	g_queue_push_head_link(&slot->names, &entry->slot_link);
	touch(entry);
	if (slot->names.length > VIGIL_DNS_CACHE_MAX_NAMES_PER_ADDRESS) {
		remove_entry(cache, slot->names.tail->data);
		cache->changes++;
	}
	bucket = slot->user->uid;
	while (cache->size > cache->max_entries) {
		/* the user to give up an entry: the one holding the most (this one among them if
		 * it is), so that no user's lookups push out another's fair share. The slot may
		 * go with an entry, its user with it: look the user up each time */
		VigilUidQueue *user = vigil_uid_queues_longest(
		    cache->users, vigil_uid_queues_lookup(cache->users, bucket));

		remove_entry(cache, user->items.tail->data);
		cache->changes++;
	}
}

/* appends the live names of (@uid, @address) to @names, dropping expired ones on the way */
static void
collect(VigilDnsCache *cache, guint32 uid, int family, const VigilAddress *address, gint64 now_us,
        GPtrArray *names)
{
	Key key;
	Slot *slot;
	GList *l;

	make_key(&key, uid, family, address);
	slot = g_hash_table_lookup(cache->slots, &key);
	if (slot == NULL)
		return;
	for (l = slot->names.head; l != NULL;) {
		Entry *entry = l->data;
		gboolean seen = FALSE;

		/* removing the last entry frees the slot: step on first, touch the slot no more */
		l = l->next;
		if (entry->expires_us <= now_us) {
			remove_entry(cache, entry);
			continue;
		}
		for (guint i = 0; i < names->len && !seen; i++)
			seen = strcmp(names->pdata[i], entry->name) == 0;
		if (!seen)
			g_ptr_array_add(names, g_strdup(entry->name));
		touch(entry);
	}
}

char **
vigil_dns_cache_lookup(VigilDnsCache *cache, guint32 uid, int family, const VigilAddress *address,
                       gint64 now_us)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	g_return_val_if_fail(address != NULL, NULL);

	collect(cache, uid, family, address, now_us, names);
	if (names->len == 0)
		return NULL;
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

gint64
vigil_dns_cache_expiry(VigilDnsCache *cache, guint32 uid, int family, const VigilAddress *address,
                       gint64 now_us)
{
	Key key;
	Slot *slot;
	gint64 first = 0;

	g_return_val_if_fail(address != NULL, 0);
	make_key(&key, uid, family, address);
	slot = g_hash_table_lookup(cache->slots, &key);
	for (GList *l = slot != NULL ? slot->names.head : NULL; l != NULL; l = l->next) {
		const Entry *entry = l->data;
		if (entry->expires_us > now_us && (first == 0 || entry->expires_us < first))
			first = entry->expires_us;
	}
	return first;
}

guint64
vigil_dns_cache_changes(VigilDnsCache *cache)
{
	return cache->changes;
}

static gboolean
has_expired(gpointer item, gpointer data)
{
	const Entry *entry = item;

	return entry->expires_us <= *(const gint64 *)data;
}

guint
vigil_dns_cache_expire(VigilDnsCache *cache, gint64 now_us)
{
	g_autoptr(GPtrArray) expired =
	    vigil_uid_queues_gather(cache->users, FALSE, has_expired, &now_us);

	for (guint i = 0; i < expired->len; i++)
		remove_entry(cache, g_ptr_array_index(expired, i));
	return expired->len;
}

guint
vigil_dns_cache_size(VigilDnsCache *cache)
{
	return cache->size;
}
