/* vigil-dns-cache.c: per-user IP -> names cache with TTLs, a floor, a ceiling and an LRU bound */
#define G_LOG_DOMAIN "vigil-dns-cache"
#include "config.h"

#include <string.h>

#include "vigil-dns-cache.h"

typedef struct {
	guint32 uid;
	gint32 family;
	VigilAddress address;
} Key;

/* the names known for one (user, address) */
typedef struct {
	Key key;
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
	GHashTable *slots; /* Key (inside the Slot) -> Slot */
	GQueue lru;        /* of Entry, most recently used first */
	guint max_entries;
	guint32 ttl_floor_s;
	guint32 ttl_ceiling_s;
};

G_STATIC_ASSERT(sizeof(Key) == 24); /* no padding: hashed and compared as bytes */

static guint
key_hash(gconstpointer data)
{
	return vigil_hash_bytes(data, sizeof(Key));
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(Key)) == 0;
}

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
	g_queue_init(&cache->lru);
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
	g_queue_unlink(&cache->lru, &entry->lru_link);
	if (slot->names.length == 0)
		g_hash_table_remove(cache->slots, &slot->key);
	g_free(entry->name);
	g_free(entry);
}

void
vigil_dns_cache_clear(VigilDnsCache *cache)
{
	while (cache->lru.head != NULL)
		remove_entry(cache, cache->lru.head->data);
}

void
vigil_dns_cache_free(VigilDnsCache *cache)
{
	if (cache == NULL)
		return;
	vigil_dns_cache_clear(cache);
	g_hash_table_unref(cache->slots);
	g_free(cache);
}

static Slot *
get_slot(VigilDnsCache *cache, const Key *key)
{
	Slot *slot = g_hash_table_lookup(cache->slots, key);

	if (slot == NULL) {
		slot = g_new0(Slot, 1);
		slot->key = *key;
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
touch(VigilDnsCache *cache, Entry *entry)
{
	g_queue_unlink(&cache->lru, &entry->lru_link);
	g_queue_push_head_link(&cache->lru, &entry->lru_link);
}

void
vigil_dns_cache_add(VigilDnsCache *cache, guint32 uid, const char *name, int family,
                    const VigilAddress *address, guint32 ttl, gint64 now_us)
{
	guint32 kept_s = CLAMP(ttl, cache->ttl_floor_s, cache->ttl_ceiling_s);
	Key key;
	Slot *slot;
	Entry *entry;

	g_return_if_fail(name != NULL && address != NULL);

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
		g_queue_push_head_link(&cache->lru, &entry->lru_link);
	}
	/* the latest answer says how long the name holds */
	entry->expires_us = now_us + (gint64)kept_s * G_USEC_PER_SEC;
	g_queue_push_head_link(&slot->names, &entry->slot_link);
	touch(cache, entry);
	if (slot->names.length > VIGIL_DNS_CACHE_MAX_NAMES_PER_ADDRESS)
		remove_entry(cache, slot->names.tail->data);
	while (cache->lru.length > cache->max_entries)
		remove_entry(cache, cache->lru.tail->data);
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
		touch(cache, entry);
	}
}

char **
vigil_dns_cache_lookup(VigilDnsCache *cache, guint32 uid, int family, const VigilAddress *address,
                       gint64 now_us)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	g_return_val_if_fail(address != NULL, NULL);

	collect(cache, uid, family, address, now_us, names);
	if (uid != VIGIL_DNS_CACHE_ANY_UID)
		collect(cache, VIGIL_DNS_CACHE_ANY_UID, family, address, now_us, names);
	if (names->len == 0)
		return NULL;
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

guint
vigil_dns_cache_expire(VigilDnsCache *cache, gint64 now_us)
{
	guint removed = 0;

	for (GList *l = cache->lru.head; l != NULL;) {
		Entry *entry = l->data;

		l = l->next;
		if (entry->expires_us <= now_us) {
			remove_entry(cache, entry);
			removed++;
		}
	}
	return removed;
}

guint
vigil_dns_cache_size(VigilDnsCache *cache)
{
	return cache->lru.length;
}
