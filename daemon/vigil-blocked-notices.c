/* vigil-blocked-notices.c: the rate limit of Notify("blocked"), bounded in memory */
#include "config.h"

#include <arpa/inet.h>

#include "vigil-blocked-notices.h"

struct _VigilBlockedNotices {
	GHashTable *told; /* "uid\nprogram\ndestination" -> gint64 last notice (monotonic) */
};

VigilBlockedNotices *
vigil_blocked_notices_new(void)
{
	VigilBlockedNotices *notices = g_new0(VigilBlockedNotices, 1);

	notices->told = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return notices;
}

void
vigil_blocked_notices_free(VigilBlockedNotices *notices)
{
	if (notices == NULL)
		return;
	g_hash_table_unref(notices->told);
	g_free(notices);
}

gboolean
vigil_blocked_notices_due(VigilBlockedNotices *notices, const VigilDecision *decision,
                          gint64 now_us)
{
	char addr[INET6_ADDRSTRLEN];
	g_autofree char *key = g_strdup_printf(
	    "%u\n%s\n%s", decision->uid,
	    decision->program != NULL ? decision->program : VIGIL_PROGRAM_UNKNOWN,
	    vigil_address_to_string(decision->family, &decision->dst, addr, sizeof addr));
	gint64 *last = g_hash_table_lookup(notices->told, key);

	if (last != NULL && now_us - *last < VIGIL_BLOCKED_NOTICE_INTERVAL_US)
		return FALSE;
	/* a user with many programs and destinations costs a bounded table, and at worst a
	 * notice told again early */
	if (g_hash_table_size(notices->told) >= VIGIL_BLOCKED_NOTICE_MAX_KEYS)
		g_hash_table_remove_all(notices->told);
	last = g_new(gint64, 1);
	*last = now_us;
	g_hash_table_insert(notices->told, g_steal_pointer(&key), last);
	return TRUE;
}
