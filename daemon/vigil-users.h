/* vigil-users.h: user names and uids from the system's user database, briefly remembered */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* answers remembered at most: the one that expires first makes room for a new uid */
#define VIGIL_USERS_REMEMBER_MAX 256

/*
 * The name of @uid, or NULL when the user database has none. Answers are remembered for a
 * minute: a decision for an unknown process asks for every connection, and the database may
 * be a network service (sssd, LDAP). Safe from any thread.
 */
char *vigil_user_name(guint32 uid);

/*
 * Whether an answer about @uid is remembered (even one past its minute), without asking the
 * database: then *@exists tells whether it named the uid. For the main loop, which must not
 * wait for the database (vigil-fair.c).
 */
gboolean vigil_users_peek(guint32 uid, gboolean *exists);

/* the uid of user @name; FALSE when there is no such user (for rule parsing: `user NAME`) */
gboolean vigil_user_resolve(const char *name, guint32 *uid);

/*
 * Looks up the uids of @names (NULL-terminated) in a worker thread, so that the main loop
 * never waits for the user database (a network service such as sssd or LDAP may take its
 * time, or hang). The task completes at once when @cancellable is cancelled or after
 * @timeout_s (G_IO_ERROR_TIMED_OUT), whatever the lookup thread is still waiting for; that
 * thread then finishes on its own and its answer is dropped.
 */
void vigil_users_resolve_async(const char *const *names, guint timeout_s, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
/* name -> uid (GUINT_TO_POINTER) of the names that exist; names without a user are absent */
GHashTable *vigil_users_resolve_finish(GAsyncResult *result, GError **error);

/* how many answers are remembered (tests) */
guint vigil_users_remembered(void);

/* forgets what was remembered (tests) */
void vigil_users_forget(void);

G_END_DECLS
