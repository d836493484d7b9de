/* test-dns-cache.c: names per user and address, TTL with floor and ceiling, bounded memory */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "vigil-dns-cache.h"

#define S  ((gint64)G_USEC_PER_SEC)
#define T0 (5000 * S)

static VigilAddress
addr(const char *text, int *family)
{
	VigilAddress a = {0};

	g_assert_true(vigil_address_parse(text, family, &a));
	return a;
}

static void
add(VigilDnsCache *cache, guint32 uid, const char *name, const char *address, guint32 ttl,
    gint64 now)
{
	int family;
	VigilAddress a = addr(address, &family);

	vigil_dns_cache_add(cache, uid, name, family, &a, ttl, now);
}

/* the names @uid knows for @address at @now, joined with ',' ("" for none) */
static char *
names(VigilDnsCache *cache, guint32 uid, const char *address, gint64 now)
{
	int family;
	VigilAddress a = addr(address, &family);
	g_auto(GStrv) found = vigil_dns_cache_lookup(cache, uid, family, &a, now);

	return found != NULL ? g_strjoinv(",", found) : g_strdup("");
}

#define assert_names(cache, uid, address, now, expected)                                           \
	do {                                                                                       \
		g_autofree char *got_ = names(cache, uid, address, now);                           \
		g_assert_cmpstr(got_, ==, expected);                                               \
	} while (0)

static void
test_ttl_honoured(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	add(cache, 1000, "a.example", "192.0.2.1", 100, T0);
	assert_names(cache, 1000, "192.0.2.1", T0, "a.example");
	assert_names(cache, 1000, "192.0.2.1", T0 + 99 * S, "a.example");
	assert_names(cache, 1000, "192.0.2.1", T0 + 100 * S, "");
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 0);
}

static void
test_ttl_floor(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	/* TTL 0 and 1: a program connects a moment after its lookup */
	add(cache, 1000, "zero.example", "192.0.2.1", 0, T0);
	add(cache, 1000, "one.example", "192.0.2.2", 1, T0);
	assert_names(cache, 1000, "192.0.2.1", T0 + 29 * S, "zero.example");
	assert_names(cache, 1000, "192.0.2.2", T0 + 29 * S, "one.example");
	assert_names(cache, 1000, "192.0.2.1", T0 + 30 * S, "");
	assert_names(cache, 1000, "192.0.2.2", T0 + 30 * S, "");
}

static void
test_ttl_ceiling(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	add(cache, 1000, "forever.example", "192.0.2.1", G_MAXINT32, T0);
	assert_names(cache, 1000, "192.0.2.1", T0 + 3599 * S, "forever.example");
	assert_names(cache, 1000, "192.0.2.1", T0 + 3600 * S, "");
}

static void
test_newer_answer_sets_expiry(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	add(cache, 1000, "a.example", "192.0.2.1", 60, T0);
	add(cache, 1000, "a.example", "192.0.2.1", 60, T0 + 50 * S);
	assert_names(cache, 1000, "192.0.2.1", T0 + 100 * S, "a.example");
	assert_names(cache, 1000, "192.0.2.1", T0 + 110 * S, "");
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 0);
}

static void
test_per_uid(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	add(cache, 1000, "alice.example", "192.0.2.1", 60, T0);
	add(cache, 1001, "bob.example", "192.0.2.1", 60, T0);
	assert_names(cache, 1000, "192.0.2.1", T0, "alice.example");
	assert_names(cache, 1001, "192.0.2.1", T0, "bob.example");
	assert_names(cache, 0, "192.0.2.1", T0, "");
	/* a lookup whose sender is unknown names the address for nobody, not for everyone */
	add(cache, VIGIL_DNS_CACHE_ANY_UID, "shared.example", "192.0.2.1", 60, T0);
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 2);
	assert_names(cache, 1000, "192.0.2.1", T0, "alice.example");
	assert_names(cache, 0, "192.0.2.1", T0, "");
	assert_names(cache, VIGIL_DNS_CACHE_ANY_UID, "192.0.2.1", T0, "");
}

static void
test_most_recent_first_no_duplicates(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	add(cache, 1000, "first.example", "192.0.2.1", 60, T0);
	add(cache, 1000, "second.example", "192.0.2.1", 60, T0 + 1 * S);
	assert_names(cache, 1000, "192.0.2.1", T0 + 2 * S, "second.example,first.example");
	add(cache, 1000, "first.example", "192.0.2.1", 60, T0 + 3 * S);
	add(cache, VIGIL_DNS_CACHE_ANY_UID, "first.example", "192.0.2.1", 60, T0 + 3 * S);
	assert_names(cache, 1000, "192.0.2.1", T0 + 4 * S, "first.example,second.example");
}

static void
test_families_apart(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	add(cache, 1000, "v4.example", "192.0.2.1", 60, T0);
	add(cache, 1000, "v6.example", "2001:db8::1", 60, T0);
	/* c000:201:: is stored in the same 16 bytes as 192.0.2.1: only the family differs */
	assert_names(cache, 1000, "c000:201::", T0, "");
	assert_names(cache, 1000, "2001:db8::1", T0, "v6.example");
	assert_names(cache, 1000, "192.0.2.1", T0, "v4.example");
}

static void
test_lru_bound(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(4, 30, 3600);
	char address[32];

	for (int i = 1; i <= 4; i++) {
		g_snprintf(address, sizeof address, "192.0.2.%d", i);
		add(cache, 1000, "n.example", address, 600, T0);
	}
	/* using .1 makes .2 the least recently used */
	assert_names(cache, 1000, "192.0.2.1", T0, "n.example");
	add(cache, 1000, "n.example", "192.0.2.5", 600, T0);
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 4);
	assert_names(cache, 1000, "192.0.2.2", T0, "");
	assert_names(cache, 1000, "192.0.2.1", T0, "n.example");
	assert_names(cache, 1000, "192.0.2.5", T0, "n.example");

	/* thousands of answers never grow it past its bound */
	for (int i = 0; i < 5000; i++) {
		g_snprintf(address, sizeof address, "10.%d.%d.1", i / 256, i % 256);
		add(cache, (guint32)(i % 7), "flood.example", address, 600, T0);
	}
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 4);
}

/* one user's flood of lookups costs only their own names */
static void
test_flood_evicts_only_the_flooder(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);
	char address[32];

	for (int i = 1; i <= 10; i++) {
		g_snprintf(address, sizeof address, "192.0.2.%d", i);
		add(cache, 1000, "alice.example", address, 600, T0);
	}
	for (int i = 1; i <= 30; i++) {
		g_snprintf(address, sizeof address, "198.51.100.%d", i);
		add(cache, 1001, "bob.example", address, 600, T0);
	}
	/* far more answers than the cache holds, all of uid 65534, the newest used the most */
	for (int i = 0; i < 20000; i++) {
		g_snprintf(address, sizeof address, "10.%d.%d.1", i / 256 % 256, i % 256);
		add(cache, 65534, "flood.example", address, 600, T0 + i);
		if (i % 7 == 0)
			assert_names(cache, 65534, address, T0 + i, "flood.example");
	}
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 100);
	for (int i = 1; i <= 10; i++) {
		g_snprintf(address, sizeof address, "192.0.2.%d", i);
		assert_names(cache, 1000, address, T0 + 20000, "alice.example");
	}
	for (int i = 1; i <= 30; i++) {
		g_snprintf(address, sizeof address, "198.51.100.%d", i);
		assert_names(cache, 1001, address, T0 + 20000, "bob.example");
	}
}

/* when every user holds their share, the one holding the most gives first */
static void
test_fair_shares(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(90, 30, 3600);
	char address[32];
	guint kept[3] = {0};

	/* three users, each asking for the whole cache, in turns */
	for (int i = 0; i < 300; i++) {
		for (guint32 u = 0; u < 3; u++) {
			g_snprintf(address, sizeof address, "10.%u.%d.%d", u, i / 256, i % 256);
			add(cache, 1000 + u, "n.example", address, 600, T0 + i);
		}
	}
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 90);
	for (int i = 0; i < 300; i++) {
		for (guint32 u = 0; u < 3; u++) {
			g_autofree char *found = NULL;

			g_snprintf(address, sizeof address, "10.%u.%d.%d", u, i / 256, i % 256);
			found = names(cache, 1000 + u, address, T0 + 300);
			kept[u] += found[0] != '\0';
		}
	}
	g_assert_cmpuint(kept[0], ==, 30);
	g_assert_cmpuint(kept[1], ==, 30);
	g_assert_cmpuint(kept[2], ==, 30);

	/* and a user alone may use all of it */
	vigil_dns_cache_clear(cache);
	for (int i = 0; i < 200; i++) {
		g_snprintf(address, sizeof address, "10.9.%d.%d", i / 256, i % 256);
		add(cache, 1000, "n.example", address, 600, T0);
	}
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 90);
}

static void
test_names_per_address_bound(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(1000, 30, 3600);
	g_autofree char *found = NULL;
	g_auto(GStrv) list = NULL;

	for (int i = 0; i < 20; i++) {
		g_autofree char *name = g_strdup_printf("site%d.example", i);
		add(cache, 1000, name, "192.0.2.1", 600, T0 + i);
	}
	found = names(cache, 1000, "192.0.2.1", T0 + 100);
	list = g_strsplit(found, ",", -1);
	g_assert_cmpuint(g_strv_length(list), ==, VIGIL_DNS_CACHE_MAX_NAMES_PER_ADDRESS);
	g_assert_cmpstr(list[0], ==, "site19.example");
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, VIGIL_DNS_CACHE_MAX_NAMES_PER_ADDRESS);
}

static void
test_expire(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(100, 30, 3600);

	add(cache, 1000, "short.example", "192.0.2.1", 40, T0);
	add(cache, 1000, "short2.example", "192.0.2.1", 45, T0);
	add(cache, 1000, "long.example", "192.0.2.2", 600, T0);
	g_assert_cmpuint(vigil_dns_cache_expire(cache, T0 + 39 * S), ==, 0);
	g_assert_cmpuint(vigil_dns_cache_expire(cache, T0 + 50 * S), ==, 2);
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 1);
	assert_names(cache, 1000, "192.0.2.2", T0 + 50 * S, "long.example");
	vigil_dns_cache_clear(cache);
	g_assert_cmpuint(vigil_dns_cache_size(cache), ==, 0);
}

/* what a decision made on an address's names relied on: when the first of them ends, and
 * whether names came or went before their time (vigild's kernel verdicts end with either) */
static void
test_expiry_and_changes(void)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(2, 30, 3600);
	int family;
	VigilAddress a = addr("192.0.2.1", &family);

	g_assert_cmpint(vigil_dns_cache_expiry(cache, 1000, family, &a, T0), ==, 0);
	guint64 changes = vigil_dns_cache_changes(cache);
	add(cache, 1000, "a.example", "192.0.2.1", 600, T0);
	add(cache, 1000, "b.example", "192.0.2.1", 60, T0);
	g_assert_cmpuint(vigil_dns_cache_changes(cache), ==, changes + 2);
	g_assert_cmpint(vigil_dns_cache_expiry(cache, 1000, family, &a, T0), ==, T0 + 60 * S);
	/* another user's names are not this user's */
	g_assert_cmpint(vigil_dns_cache_expiry(cache, 1001, family, &a, T0), ==, 0);
	/* a name again: no change */
	add(cache, 1000, "b.example", "192.0.2.1", 60, T0 + S);
	g_assert_cmpuint(vigil_dns_cache_changes(cache), ==, changes + 2);
	/* past b's time, a's is the first to end */
	g_assert_cmpint(vigil_dns_cache_expiry(cache, 1000, family, &a, T0 + 70 * S), ==,
	                T0 + 600 * S);
	/* a third name pushes one out before its time (the cache holds two): both count */
	add(cache, 1000, "c.example", "192.0.2.2", 60, T0 + 2 * S);
	g_assert_cmpuint(vigil_dns_cache_changes(cache), ==, changes + 4);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dns-cache/ttl-honoured", test_ttl_honoured);
	g_test_add_func("/dns-cache/ttl-floor", test_ttl_floor);
	g_test_add_func("/dns-cache/ttl-ceiling", test_ttl_ceiling);
	g_test_add_func("/dns-cache/newer-answer-sets-expiry", test_newer_answer_sets_expiry);
	g_test_add_func("/dns-cache/per-uid", test_per_uid);
	g_test_add_func("/dns-cache/most-recent-first-no-duplicates",
	                test_most_recent_first_no_duplicates);
	g_test_add_func("/dns-cache/families-apart", test_families_apart);
	g_test_add_func("/dns-cache/lru-bound", test_lru_bound);
	g_test_add_func("/dns-cache/flood-evicts-only-the-flooder",
	                test_flood_evicts_only_the_flooder);
	g_test_add_func("/dns-cache/fair-shares", test_fair_shares);
	g_test_add_func("/dns-cache/names-per-address-bound", test_names_per_address_bound);
	g_test_add_func("/dns-cache/expire", test_expire);
	g_test_add_func("/dns-cache/expiry-and-changes", test_expiry_and_changes);
	return g_test_run();
}
