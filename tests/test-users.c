/* test-users.c: user names and uids, as rules, logs and prompts show them */
#include "config.h"

#include <pwd.h>

#include "vigil-users.h"

/* the uid of the first user in the database that is not root, or 0 */
static guint32
some_other_uid(char **name)
{
	struct passwd *pw;
	guint32 uid = 0;

	setpwent();
	while ((pw = getpwent()) != NULL) {
		if (pw->pw_uid != 0) {
			uid = pw->pw_uid;
			*name = g_strdup(pw->pw_name);
			break;
		}
	}
	endpwent();
	return uid;
}

static void
test_names_and_uids(void)
{
	g_autofree char *root = vigil_user_name(0);
	g_autofree char *other_name = NULL;
	guint32 other = some_other_uid(&other_name);
	guint32 uid = 4242;

	g_assert_cmpstr(root, ==, "root");
	g_assert_true(vigil_user_resolve("root", &uid));
	g_assert_cmpuint(uid, ==, 0);
	g_assert_cmpuint(other, !=, 0);
	g_autofree char *got = vigil_user_name(other);
	g_assert_cmpstr(got, ==, other_name);
	g_assert_true(vigil_user_resolve(other_name, &uid));
	g_assert_cmpuint(uid, ==, other);
}

/* a uid with no entry has no name (the log shows "?"), also when asked again */
static void
test_unknown(void)
{
	guint32 uid = 7;

	vigil_users_forget();
	for (int i = 0; i < 2; i++)
		g_assert_null(vigil_user_name(3999999999u));
	g_assert_false(vigil_user_resolve("no-such-user-vigil-test", &uid));
	g_assert_cmpuint(uid, ==, 7);
	g_assert_false(vigil_user_resolve("", &uid));
}

static gpointer
lookup_many(gpointer data)
{
	guint32 base = 3100000000u + GPOINTER_TO_UINT(data) * 10000;

	for (guint32 i = 0; i < 2000; i++) {
		g_autofree char *name = vigil_user_name(base + i);
		g_assert_null(name);
		g_autofree char *root = vigil_user_name(0);
		g_assert_cmpstr(root, ==, "root");
	}
	return NULL;
}

/* many different uids: what is remembered stays bounded, and the answers stay right */
static void
test_many(void)
{
	vigil_users_forget();
	g_autofree char *first = vigil_user_name(0);
	g_assert_cmpstr(first, ==, "root");
	g_assert_cmpuint(vigil_users_remembered(), ==, 1);
	for (guint32 i = 0; i < 1000; i++) {
		g_autofree char *name = vigil_user_name(3000000000u + i);
		g_assert_null(name);
		g_assert_cmpuint(vigil_users_remembered(), <=, VIGIL_USERS_REMEMBER_MAX);
		g_assert_cmpuint(vigil_users_remembered(), ==,
		                 MIN(i + 2, VIGIL_USERS_REMEMBER_MAX));
	}
	g_assert_cmpuint(vigil_users_remembered(), ==, VIGIL_USERS_REMEMBER_MAX);
	g_autofree char *root = vigil_user_name(0);
	g_assert_cmpstr(root, ==, "root");
	/* the same uid again takes no room */
	g_autofree char *again = vigil_user_name(0);
	g_assert_cmpuint(vigil_users_remembered(), ==, VIGIL_USERS_REMEMBER_MAX);

	/* from many threads at once: still bounded, still right */
	GThread *threads[4];
	for (guint t = 0; t < G_N_ELEMENTS(threads); t++)
		threads[t] = g_thread_new("users", lookup_many, GUINT_TO_POINTER(t));
	for (guint t = 0; t < G_N_ELEMENTS(threads); t++)
		g_thread_join(threads[t]);
	g_assert_cmpuint(vigil_users_remembered(), ==, VIGIL_USERS_REMEMBER_MAX);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/users/names-and-uids", test_names_and_uids);
	g_test_add_func("/users/unknown", test_unknown);
	g_test_add_func("/users/many", test_many);
	return g_test_run();
}
