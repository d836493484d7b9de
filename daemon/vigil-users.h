/* vigil-users.h: user names and uids from the system's user database, briefly remembered */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* answers remembered at most: the one that expires first makes room for a new uid */
#define VIGIL_USERS_REMEMBER_MAX 256

/*
 * The name of @uid, or NULL when the user database has none. Answers are remembered for a
 * minute: a decision for an unknown process asks for every connection, and the database may
 * be a network service (sssd, LDAP). Safe from any thread.
 */
char *vigil_user_name(guint32 uid);

/* the uid of user @name; FALSE when there is no such user (for rule parsing: `user NAME`) */
gboolean vigil_user_resolve(const char *name, guint32 *uid);

/* how many answers are remembered (tests) */
guint vigil_users_remembered(void);

/* forgets what was remembered (tests) */
void vigil_users_forget(void);

G_END_DECLS
