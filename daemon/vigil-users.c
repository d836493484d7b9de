/* vigil-users.c: user names and uids from the system's user database, briefly remembered */
#define G_LOG_DOMAIN "vigil-users"
#include "config.h"

#include <pwd.h>
#include <unistd.h>

#include "vigil-users.h"

#define REMEMBER_US  (60 * G_USEC_PER_SEC)
#define REMEMBER_MAX VIGIL_USERS_REMEMBER_MAX

typedef struct {
	char *name; /* NULL: the database has no such uid */
	gint64 until_us;
} KnownUser;

static GMutex lock;
static GHashTable *known; /* uid -> KnownUser */

static void
known_user_free(KnownUser *user)
{
	g_free(user->name);
	g_free(user);
}

/* getpwuid_r with a buffer as large as the system says entries get */
static char *
lookup_name(guint32 uid)
{
	struct passwd pwd;
	struct passwd *result = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	g_autofree char *buf = NULL;

	if (size <= 0)
		size = 16384;
	buf = g_malloc((gsize)size);
	if (getpwuid_r(uid, &pwd, buf, (size_t)size, &result) != 0 || result == NULL)
		return NULL;
	return g_strdup(pwd.pw_name);
}

/*
 * The table is full: the answer that expires first goes (the oldest; expired ones first).
 * A scan of REMEMBER_MAX entries, only when a new uid comes to a full table; the users of a
 * machine are rarely that many, and those the daemon sees often stay remembered.
 */
static void
forget_oldest(void)
{
	GHashTableIter iter;
	gpointer key;
	KnownUser *user;
	gpointer oldest = NULL;
	gint64 oldest_until = G_MAXINT64;

	g_hash_table_iter_init(&iter, known);
	while (g_hash_table_iter_next(&iter, &key, (gpointer *)&user)) {
		if (user->until_us < oldest_until) {
			oldest_until = user->until_us;
			oldest = key;
		}
	}
	g_hash_table_remove(known, oldest);
}

char *
vigil_user_name(guint32 uid)
{
	gint64 now = g_get_monotonic_time();
	KnownUser *user;
	char *name;

	g_mutex_lock(&lock);
	if (known == NULL)
		known = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)known_user_free);
	user = g_hash_table_lookup(known, GUINT_TO_POINTER(uid));
	if (user != NULL && user->until_us > now) {
		name = g_strdup(user->name);
		g_mutex_unlock(&lock);
		return name;
	}
	g_mutex_unlock(&lock);

	/* not under the lock: the database may take its time */
	name = lookup_name(uid);
	user = g_new0(KnownUser, 1);
	user->name = g_strdup(name);
	user->until_us = now + REMEMBER_US;
	g_mutex_lock(&lock);
	/* forgotten meanwhile by vigil_users_forget() */
	if (known == NULL)
		known = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)known_user_free);
	if (!g_hash_table_contains(known, GUINT_TO_POINTER(uid)) &&
	    g_hash_table_size(known) >= REMEMBER_MAX)
		forget_oldest();
	g_hash_table_replace(known, GUINT_TO_POINTER(uid), user);
	g_mutex_unlock(&lock);
	return name;
}

gboolean
vigil_user_resolve(const char *name, guint32 *uid)
{
	struct passwd pwd;
	struct passwd *result = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pwd, buf, sizeof buf, &result) != 0 || result == NULL)
		return FALSE;
	*uid = result->pw_uid;
	return TRUE;
}

guint
vigil_users_remembered(void)
{
	guint n;

	g_mutex_lock(&lock);
	n = known != NULL ? g_hash_table_size(known) : 0;
	g_mutex_unlock(&lock);
	return n;
}

void
vigil_users_forget(void)
{
	g_mutex_lock(&lock);
	g_clear_pointer(&known, g_hash_table_unref);
	g_mutex_unlock(&lock);
}
