/* vigil-dns-cache.h: per-user IP -> names cache with TTLs, a floor, a ceiling and an LRU bound */
#pragma once

#include "vigil-flow.h"

G_BEGIN_DECLS

/*
 * How long a name is kept: the record's TTL, but at least the floor (programs connect a
 * moment after their lookup, and keep addresses a little longer than the TTL) and at most
 * the ceiling (an address may belong to someone else tomorrow).
 */
#define VIGIL_DNS_CACHE_TTL_FLOOR_S   30
#define VIGIL_DNS_CACHE_TTL_CEILING_S 86400
/* name entries kept over all users and addresses; the least recently used go first */
#define VIGIL_DNS_CACHE_MAX_ENTRIES 8192
/* names kept per (user, address): a CDN address can serve thousands */
#define VIGIL_DNS_CACHE_MAX_NAMES_PER_ADDRESS 8

/* names learned from a query whose sender is not known; every user's lookups see them */
#define VIGIL_DNS_CACHE_ANY_UID G_MAXUINT32

typedef struct _VigilDnsCache VigilDnsCache;

/* @ttl_floor_s <= @ttl_ceiling_s; @max_entries >= 1 */
VigilDnsCache *vigil_dns_cache_new(guint max_entries, guint32 ttl_floor_s, guint32 ttl_ceiling_s);
void vigil_dns_cache_free(VigilDnsCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDnsCache, vigil_dns_cache_free)

/*
 * Remembers, for @uid, that @name resolved to @address with @ttl seconds to live, from
 * @now_us (monotonic microseconds). @name is a lowercase name as vigil_dns_parse() gives.
 */
void vigil_dns_cache_add(VigilDnsCache *cache, guint32 uid, const char *name, int family,
                         const VigilAddress *address, guint32 ttl, gint64 now_us);

/*
 * The names @uid's lookups gave @address and that are still alive at @now_us, most
 * recently learned first, then those learned for VIGIL_DNS_CACHE_ANY_UID; NULL when there
 * are none. Free with g_strfreev().
 */
char **vigil_dns_cache_lookup(VigilDnsCache *cache, guint32 uid, int family,
                              const VigilAddress *address, gint64 now_us);

/* forgets the names whose time is up; returns how many */
guint vigil_dns_cache_expire(VigilDnsCache *cache, gint64 now_us);
/* how many (user, address, name) entries are kept */
guint vigil_dns_cache_size(VigilDnsCache *cache);
void vigil_dns_cache_clear(VigilDnsCache *cache);

G_END_DECLS
