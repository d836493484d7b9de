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
vigil_users_peek(guint32 uid, gboolean *exists)
{
	KnownUser *user = NULL;

	g_mutex_lock(&lock);
	if (known != NULL)
		user = g_hash_table_lookup(known, GUINT_TO_POINTER(uid));
	if (user != NULL)
		*exists = user->name != NULL;
	g_mutex_unlock(&lock);
	return user != NULL;
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

/* ---- names looked up off the main loop ---- */

typedef struct {
	char **names;
	GCancellable *cancellable; /* the task's: cancelled by the caller's or at the deadline */
	GCancellable *outer;       /* the caller's, or NULL */
	gulong outer_handler;
	GSource *deadline;
	guint timeout_s;
	gboolean timed_out;
} Resolve;

/* the deadline and the caller's cancellable are let go of once the task has completed */
static void
resolve_stop_watching(Resolve *resolve)
{
	if (resolve->deadline != NULL) {
		g_source_destroy(resolve->deadline);
		g_clear_pointer(&resolve->deadline, g_source_unref);
	}
	if (resolve->outer_handler != 0) {
		g_cancellable_disconnect(resolve->outer, resolve->outer_handler);
		resolve->outer_handler = 0;
	}
}

static void
resolve_free(Resolve *resolve)
{
	resolve_stop_watching(resolve);
	g_strfreev(resolve->names);
	g_clear_object(&resolve->cancellable);
	g_clear_object(&resolve->outer);
	g_free(resolve);
}

static void
resolve_in_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	Resolve *resolve = task_data;
	g_autoptr(GHashTable) uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; resolve->names[i] != NULL; i++) {
		guint32 uid;

		if (g_cancellable_is_cancelled(cancellable))
			return; /* the task has returned already */
		if (vigil_user_resolve(resolve->names[i], &uid))
			g_hash_table_insert(uids, g_strdup(resolve->names[i]),
			                    GUINT_TO_POINTER(uid));
	}
	g_task_return_pointer(task, g_steal_pointer(&uids), (GDestroyNotify)g_hash_table_unref);
}

static gboolean
on_resolve_deadline(gpointer data)
{
	Resolve *resolve = data;

	resolve->timed_out = TRUE;
	g_cancellable_cancel(resolve->cancellable);
	return G_SOURCE_REMOVE;
}

static void
on_outer_cancelled(GCancellable *outer, gpointer data)
{
	g_cancellable_cancel(data);
}

void
vigil_users_resolve_async(const char *const *names, guint timeout_s, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
	Resolve *resolve = g_new0(Resolve, 1);
	g_autoptr(GTask) task = NULL;

	resolve->names = g_strdupv((char **)names);
	resolve->timeout_s = timeout_s;
	resolve->cancellable = g_cancellable_new();
	task = g_task_new(NULL, resolve->cancellable, callback, user_data);
	g_task_set_source_tag(task, vigil_users_resolve_async);
	g_task_set_task_data(task, resolve, (GDestroyNotify)resolve_free);
	/* a hung lookup must not hold the call: the task returns when cancelled */
	g_task_set_return_on_cancel(task, TRUE);
	if (cancellable != NULL) {
		resolve->outer = g_object_ref(cancellable);
		resolve->outer_handler =
		    g_cancellable_connect(cancellable, G_CALLBACK(on_outer_cancelled),
		                          g_object_ref(resolve->cancellable), g_object_unref);
	}
	resolve->deadline = g_timeout_source_new_seconds(timeout_s);
	g_source_set_callback(resolve->deadline, on_resolve_deadline, resolve, NULL);
	g_source_attach(resolve->deadline, g_main_context_get_thread_default());
	g_task_run_in_thread(task, resolve_in_thread);
}

GHashTable *
vigil_users_resolve_finish(GAsyncResult *result, GError **error)
{
	GTask *task = G_TASK(result);
	Resolve *resolve = g_task_get_task_data(task);
	GError *local_error = NULL;
	GHashTable *uids;

	resolve_stop_watching(resolve);
	uids = g_task_propagate_pointer(task, &local_error);
	if (uids == NULL && resolve->timed_out) {
		g_clear_error(&local_error);
		g_set_error(&local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
		            "the user database did not answer within %u s", resolve->timeout_s);
	}
	if (local_error != NULL)
		g_propagate_error(error, local_error);
	return uids;
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
