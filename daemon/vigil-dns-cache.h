/* vigil-dns-cache.h: per-user IP -> names cache with TTLs, a floor, a ceiling and fair LRU bounds
 */
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
/*
 * Name entries kept over all users and addresses. When they are all taken, the user holding
 * the most gives up their least recently used: a user's entries never go to make room for
 * another's while that other holds more, so one user's flood of lookups costs only their own
 * names, and each of n users active at once keeps at least 1/n of the cache.
 */
#define VIGIL_DNS_CACHE_MAX_ENTRIES 8192
/* names kept per (user, address): a CDN address can serve thousands */
#define VIGIL_DNS_CACHE_MAX_NAMES_PER_ADDRESS 8

/*
 * The uid of a query whose sender is not known (the kernel reported no socket owner, e.g.
 * TCP data sent after its socket was closed): its answers name nothing, for nobody.
 */
#define VIGIL_DNS_CACHE_ANY_UID G_MAXUINT32

typedef struct _VigilDnsCache VigilDnsCache;

/* @ttl_floor_s <= @ttl_ceiling_s; @max_entries >= 1 */
VigilDnsCache *vigil_dns_cache_new(guint max_entries, guint32 ttl_floor_s, guint32 ttl_ceiling_s);
void vigil_dns_cache_free(VigilDnsCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDnsCache, vigil_dns_cache_free)

/*
 * Remembers, for @uid, that @name resolved to @address with @ttl seconds to live, from
 * @now_us (monotonic microseconds). @name is a lowercase name as vigil_dns_parse() gives.
 * Nothing is remembered for VIGIL_DNS_CACHE_ANY_UID.
 */
void vigil_dns_cache_add(VigilDnsCache *cache, guint32 uid, const char *name, int family,
                         const VigilAddress *address, guint32 ttl, gint64 now_us);

/*
 * The names @uid's lookups gave @address and that are still alive at @now_us, most
 * recently learned first; NULL when there are none. Free with g_strfreev().
 */
char **vigil_dns_cache_lookup(VigilDnsCache *cache, guint32 uid, int family,
                              const VigilAddress *address, gint64 now_us);

/* when the first of the names of (@uid, @address) alive at @now_us ends (monotonic
 * microseconds); 0 when there are none */
gint64 vigil_dns_cache_expiry(VigilDnsCache *cache, guint32 uid, int family,
                              const VigilAddress *address, gint64 now_us);
/* counts the names learned and those dropped before their time (to make room): what a
 * decision made on the names known for an address relied on changed when it moves */
guint64 vigil_dns_cache_changes(VigilDnsCache *cache);
/* forgets the names whose time is up; returns how many */
guint vigil_dns_cache_expire(VigilDnsCache *cache, gint64 now_us);
/* how many (user, address, name) entries are kept */
guint vigil_dns_cache_size(VigilDnsCache *cache);
void vigil_dns_cache_clear(VigilDnsCache *cache);

G_END_DECLS
