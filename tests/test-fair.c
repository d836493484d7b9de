/* test-fair.c: the fairness bucket of a uid, from real subuid and passwd files */
#include "config.h"

#include <glib/gstdio.h>

#include "test-util.h"
#include "vigil-fair.h"
#include "vigil-users.h"

typedef struct {
	const char *passwd;
	const char *subuid;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	const char *dir = vigil_test_tmp_dir("vigil-fair-XXXXXX");

	f->passwd = vigil_test_path(dir, "passwd");
	f->subuid = vigil_test_path(dir, "subuid");
	vigil_test_write_file(f->passwd,
	                      "root:x:0:0:root:/root:/bin/sh\n"
	                      "alice:x:1000:1000::/home/alice:/bin/sh\n"
	                      "bob:x:1001:1001::/home/bob:/bin/sh\n"
	                      "broken line\n"
	                      "eve:x:notanumber:0::/:/bin/sh\n",
	                      -1);
	vigil_test_write_file(f->subuid,
	                      "alice:100000:65536\n"
	                      "1001:200000:10\n"
	                      "ghost:300000:5\n"
	                      "root:700000:100\n"
	                      "0:800000:10\n"
	                      "# not a range\n"
	                      "bad:1:0\n"
	                      "alice:400000:x\n",
	                      -1);
	vigil_fair_set_passwd_path(f->passwd);
	vigil_fair_set_subuid_path(f->subuid);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	vigil_fair_set_passwd_path(NULL);
	vigil_fair_set_subuid_path(NULL);
}

static void
test_subordinate_uids(Fixture *f, gconstpointer data)
{
	g_assert_cmpuint(vigil_fair_n_ranges(), ==, 5);
	/* a user's own uid and every uid of their ranges: one bucket */
	g_assert_cmpuint(vigil_fair_bucket(1000), ==, 1000);
	g_assert_cmpuint(vigil_fair_bucket(100000), ==, 1000);
	g_assert_cmpuint(vigil_fair_bucket(100999), ==, 1000);
	g_assert_cmpuint(vigil_fair_bucket(165535), ==, 1000);
	/* a numeric owner */
	g_assert_cmpuint(vigil_fair_bucket(200009), ==, 1001);
	/* just past the ranges: not theirs */
	g_assert_cmpuint(vigil_fair_bucket(165536), !=, 1000);
	g_assert_cmpuint(vigil_fair_bucket(200010), !=, 1001);
	/* an owner /etc/passwd does not know: the unknown bucket, not a bucket per uid */
	g_assert_cmpuint(vigil_fair_bucket(300000), ==, VIGIL_FAIR_UNKNOWN);
	g_assert_cmpuint(vigil_fair_bucket(300004), ==, VIGIL_FAIR_UNKNOWN);
	/* root's containers (by name or number) share a bucket of their own: never root's, which
	 * some bounds keep aside for uid 0 */
	g_assert_cmpuint(vigil_fair_bucket(700000), ==, VIGIL_FAIR_ROOT_RANGES);
	g_assert_cmpuint(vigil_fair_bucket(800009), ==, VIGIL_FAIR_ROOT_RANGES);
	/* users and "no uid" are themselves */
	g_assert_cmpuint(vigil_fair_bucket(0), ==, 0);
	g_assert_cmpuint(vigil_fair_bucket(1001), ==, 1001);
	g_assert_cmpuint(vigil_fair_bucket(G_MAXUINT32), ==, G_MAXUINT32);
}

static void
test_unknown_users(Fixture *f, gconstpointer data)
{
	const guint32 stray = 3999999; /* no user on this machine, in no range */
	g_autofree char *name = NULL;

	/* not asked about yet: itself (the bucket never waits for the user database) */
	vigil_users_forget();
	g_assert_cmpuint(vigil_fair_bucket(stray), ==, stray);
	/* once the database said it has no such user: the one shared bucket */
	name = vigil_user_name(stray);
	g_assert_null(name);
	g_assert_cmpuint(vigil_fair_bucket(stray), ==, VIGIL_FAIR_UNKNOWN);
	g_assert_cmpuint(vigil_fair_bucket(stray + 1), ==, stray + 1);
	g_assert_null(vigil_user_name(stray + 1));
	g_assert_cmpuint(vigil_fair_bucket(stray + 1), ==, VIGIL_FAIR_UNKNOWN);
	/* a user the database knows, though not in the passwd file read here: itself */
	vigil_fair_set_passwd_path("/nonexistent/passwd");
	name = vigil_user_name(0);
	g_assert_nonnull(name);
	g_assert_cmpuint(vigil_fair_bucket(0), ==, 0);
	vigil_users_forget();
}

static void
test_file_changes(Fixture *f, gconstpointer data)
{
	g_assert_cmpuint(vigil_fair_bucket(500000), ==, 500000);
	vigil_test_write_file(f->subuid, "bob:500000:100\n", -1);
	/* read again once a second at most: a change shows within a second and a bit */
	for (int i = 0; i < 30 && vigil_fair_bucket(500000) != 1001; i++)
		g_usleep(100 * 1000);
	g_assert_cmpuint(vigil_fair_bucket(500000), ==, 1001);
	g_assert_cmpuint(vigil_fair_bucket(100000), !=, 1000);
	/* a file that goes away: no ranges */
	g_unlink(f->subuid);
	for (int i = 0; i < 30 && vigil_fair_n_ranges() != 0; i++)
		g_usleep(100 * 1000);
	g_assert_cmpuint(vigil_fair_n_ranges(), ==, 0);
	g_assert_cmpuint(vigil_fair_bucket(500000), ==, 500000);
}

G_STATIC_ASSERT(VIGIL_FAIR_MAX_RANGES == 4096);

static void
test_bounded(Fixture *f, gconstpointer data)
{
	g_autoptr(GString) text = g_string_new(NULL);

	/* a huge file: only the first VIGIL_FAIR_MAX_RANGES ranges are used */
	for (guint i = 0; i < VIGIL_FAIR_MAX_RANGES + 500; i++)
		g_string_append_printf(text, "alice:%u:10\n", 1000000 + i * 10);
	vigil_test_write_file(f->subuid, text->str, -1);
	vigil_fair_set_subuid_path(f->subuid);
	g_test_expect_message("vigil-fair", G_LOG_LEVEL_WARNING, "*more than 4096 ranges*");
	g_assert_cmpuint(vigil_fair_n_ranges(), ==, VIGIL_FAIR_MAX_RANGES);
	g_test_assert_expected_messages();
	g_assert_cmpuint(vigil_fair_bucket(1000000), ==, 1000);
	g_assert_cmpuint(vigil_fair_bucket(1000000 + (VIGIL_FAIR_MAX_RANGES - 1) * 10 + 9), ==,
	                 1000);
	g_assert_cmpuint(vigil_fair_bucket(1000000 + VIGIL_FAIR_MAX_RANGES * 10), !=, 1000);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/fair/subordinate-uids", Fixture, NULL, fixture_set_up, test_subordinate_uids,
	           fixture_tear_down);
	g_test_add("/fair/unknown-users", Fixture, NULL, fixture_set_up, test_unknown_users,
	           fixture_tear_down);
	g_test_add("/fair/file-changes", Fixture, NULL, fixture_set_up, test_file_changes,
	           fixture_tear_down);
	g_test_add("/fair/bounded", Fixture, NULL, fixture_set_up, test_bounded, fixture_tear_down);
	return g_test_run();
}
