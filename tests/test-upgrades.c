/* test-upgrades.c: the checks of pinned programs against their packages are bounded: a check
 * whose worker is held does not gather waiting connections without end */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vigil-fair.h"
#include "vigil-upgrades.h"

#define SHA_OLD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_NEW "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define PROGRAM "/opt/vigil-test/client"
/* as in vigil-upgrades.c */
#define WAITERS_PER_BUCKET 64
#define WAITERS_MAX        1024
#define JOBS_PER_BUCKET    4
/* users of /etc/passwd as main() writes it */
#define ALICE 1000
#define BOB   1001

typedef struct {
	char *dir;
	char *system;
	char *learned;
	char *info;
	char *state;
	VigilRuleStore *store;
	VigilUpgrades *upgrades;
	guint answered;
} Fixture;

static void
on_moved(gpointer data)
{
}

static void
fixture_set_up(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule = NULL;

	fx->dir = g_dir_make_tmp("vigil-upgrades-XXXXXX", &error);
	g_assert_no_error(error);
	fx->system = g_build_filename(fx->dir, "rules.d", NULL);
	fx->info = g_build_filename(fx->dir, "info", NULL);
	g_assert_cmpint(g_mkdir(fx->system, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(fx->info, 0755), ==, 0);
	fx->learned = g_build_filename(fx->dir, "learned.rules", NULL);
	fx->state = g_build_filename(fx->dir, "pin-packages", NULL);
	/* the pinned build was recorded as package vigil-test's file */
	g_assert_true(g_file_set_contents(
	    fx->state,
	    "# vigil packages of pinned executables v1: sha256 package path\n" SHA_OLD
	    " vigil-test " PROGRAM "\n",
	    -1, &error));
	fx->store = vigil_rule_store_new(fx->system, fx->learned, NULL);
	g_assert_true(vigil_rule_store_load(fx->store, NULL, &error));
	rule = vigil_rule_parse_line("allow app " PROGRAM " sha256 " SHA_OLD " port 443", NULL,
	                             &error);
	g_assert_no_error(error);
	g_assert_true(vigil_rule_store_add_learned(fx->store, rule, &error));
	fx->upgrades = vigil_upgrades_new(fx->store, fx->info, fx->state, on_moved, fx);
}

static void
fixture_tear_down(Fixture *fx, gconstpointer data)
{
	vigil_upgrades_free(fx->upgrades);
	vigil_rule_store_free(fx->store);
	g_unlink(fx->learned);
	g_unlink(fx->state);
	g_rmdir(fx->info);
	g_rmdir(fx->system);
	g_rmdir(fx->dir);
	g_free(fx->system);
	g_free(fx->learned);
	g_free(fx->info);
	g_free(fx->state);
	g_free(fx->dir);
}

/* the pinned program, upgraded: another content, run by @uid (inode @ino) */
static VigilProcess *
upgraded_as(guint32 uid, guint64 ino)
{
	VigilProcess *process = vigil_process_new();

	process->pid = 4242;
	process->uid = uid;
	process->exe = g_strdup(PROGRAM);
	process->sha256 = g_strdup(SHA_NEW);
	process->exe_dev = 1;
	process->exe_ino = ino;
	return process;
}

static VigilProcess *
upgraded(void)
{
	VigilProcess *process = vigil_process_new();

	process->pid = 4242;
	process->exe = g_strdup(PROGRAM);
	process->sha256 = g_strdup(SHA_NEW);
	process->exe_dev = 1;
	process->exe_ino = 42;
	return process;
}

static void
on_checked(GObject *source, GAsyncResult *result, gpointer data)
{
	vigil_upgrades_follow_finish(result);
	((Fixture *)data)->answered++;
}

/*
 * While the check of a file runs (its worker may be held by a path walk on a FUSE mount that
 * never answers), at most WAITERS_PER_BUCKET connections of a user wait for it; the next ones go on
 * at once (asked about as a changed program; logged once). The old code kept every one, also those
 * that went on at their deadline (review finding). Those that went on make room again.
 */
static void
test_waiters_bounded(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) process = upgraded();
	g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func(g_object_unref);
	const char *package = NULL;

	/* the main loop does not run: the check's answer cannot come back meanwhile */
	for (guint i = 0; i < WAITERS_PER_BUCKET; i++) {
		GCancellable *cancellable = g_cancellable_new();

		g_ptr_array_add(cancellables, cancellable);
		g_assert_true(
		    vigil_upgrades_follow(fx->upgrades, process, cancellable, on_checked, fx));
	}
	g_test_expect_message("vigil-upgrades", G_LOG_LEVEL_MESSAGE,
	                      "rules of " PROGRAM "*still runs*64 connections of the same "
	                      "user*wait*");
	g_assert_false(vigil_upgrades_follow(fx->upgrades, process, NULL, on_checked, fx));
	g_assert_false(vigil_upgrades_follow(fx->upgrades, process, NULL, on_checked, fx));
	g_test_assert_expected_messages();
	/* the prompt of one that did not wait says why */
	g_assert_cmpstr(vigil_upgrades_reason(fx->upgrades, process, 0, &package), ==,
	                "not-checked");
	g_assert_cmpstr(package, ==, "vigil-test");

	/* ten went on without it (their deadline): ten more may wait */
	for (guint i = 0; i < 10; i++)
		g_cancellable_cancel(g_ptr_array_index(cancellables, i));
	for (guint i = 0; i < 10; i++)
		g_assert_true(vigil_upgrades_follow(fx->upgrades, process, NULL, on_checked, fx));
	g_assert_false(vigil_upgrades_follow(fx->upgrades, process, NULL, on_checked, fx));

	/* every one that waited is answered once */
	for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	     fx->answered < WAITERS_PER_BUCKET + 10 && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	g_assert_cmpuint(fx->answered, ==, WAITERS_PER_BUCKET + 10);
}

static void
wait_answered(Fixture *fx, guint n)
{
	for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	     fx->answered < n && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	g_assert_cmpuint(fx->answered, ==, n);
}

/*
 * The bound on waiting connections is per user (fairness bucket), not per check (review
 * finding, LOW): while alice's connections fill her share of a check's waiters, bob's
 * connection to the same upgraded program still waits for the check, and its prompt (if
 * any) never says "not-checked". The old code turned bob away once alice's 64 waited. All
 * users' waiters together stay bounded.
 */
static void
test_waiters_per_user(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) alice = upgraded_as(ALICE, 42);
	g_autoptr(VigilProcess) bob = upgraded_as(BOB, 42);
	const char *package = NULL;
	guint waiting = 0;

	for (guint i = 0; i < WAITERS_PER_BUCKET; i++, waiting++)
		g_assert_true(vigil_upgrades_follow(fx->upgrades, alice, NULL, on_checked, fx));
	g_test_expect_message("vigil-upgrades", G_LOG_LEVEL_MESSAGE, "rules of " PROGRAM "*");
	for (guint i = 0; i < 100; i++)
		g_assert_false(vigil_upgrades_follow(fx->upgrades, alice, NULL, on_checked, fx));
	g_test_assert_expected_messages();
	g_assert_cmpstr(vigil_upgrades_reason(fx->upgrades, alice, ALICE, &package), ==,
	                "not-checked");

	/* bob's connection waits for the check all the same, and is not marked unchecked */
	g_assert_true(vigil_upgrades_follow(fx->upgrades, bob, NULL, on_checked, fx));
	waiting++;
	package = NULL;
	g_assert_null(vigil_upgrades_reason(fx->upgrades, bob, BOB, &package));

	/* users without a passwd entry count as themselves: 16 of them fill the bound in all */
	for (guint32 uid = 2000; waiting < WAITERS_MAX; uid++) {
		g_autoptr(VigilProcess) other = upgraded_as(uid, 42);

		for (guint i = 0; i < WAITERS_PER_BUCKET && waiting < WAITERS_MAX; i++, waiting++)
			g_assert_true(
			    vigil_upgrades_follow(fx->upgrades, other, NULL, on_checked, fx));
	}
	{
		g_autoptr(VigilProcess) late = upgraded_as(3000, 42);

		g_test_expect_message("vigil-upgrades", G_LOG_LEVEL_MESSAGE,
		                      "rules of " PROGRAM "*");
		g_assert_false(vigil_upgrades_follow(fx->upgrades, late, NULL, on_checked, fx));
		g_test_assert_expected_messages();
	}
	wait_answered(fx, waiting);
}

/* a user's connections start at most JOBS_PER_BUCKET checks at once: checks of alice's files
 * that her programs keep held leave room for bob's */
static void
test_jobs_per_user(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) bob = upgraded_as(BOB, 100);

	/* alice's programs ask for as many checks as there may be (JOBS_MAX, 16) */
	for (guint i = 0; i < 16; i++) {
		g_autoptr(VigilProcess) alice = upgraded_as(ALICE, 1 + i);

		g_assert_cmpint(vigil_upgrades_follow(fx->upgrades, alice, NULL, on_checked, fx),
		                ==, i < JOBS_PER_BUCKET);
	}
	g_assert_true(vigil_upgrades_follow(fx->upgrades, bob, NULL, on_checked, fx));
	wait_answered(fx, JOBS_PER_BUCKET + 1);
}

/* @path holds @size zero bytes (sparse, root's, as a package installs it); its hashes */
static void
big_file(const char *path, gsize size, char **sha256, char **md5)
{
	g_autoptr(GChecksum) s = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GChecksum) m = g_checksum_new(G_CHECKSUM_MD5);
	g_autofree guchar *zeros = g_malloc0(1024 * 1024);
	FILE *f = fopen(path, "w");

	g_assert_nonnull(f);
	g_assert_cmpint(ftruncate(fileno(f), (off_t)size), ==, 0);
	fclose(f);
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
	for (gsize done = 0; done < size; done += 1024 * 1024) {
		g_checksum_update(s, zeros, 1024 * 1024);
		g_checksum_update(m, zeros, 1024 * 1024);
	}
	*sha256 = g_strdup(g_checksum_get_string(s));
	*md5 = g_strdup(g_checksum_get_string(m));
}

static gboolean
state_has(Fixture *fx, const char *text)
{
	g_autofree char *state = NULL;

	g_assert_true(g_file_get_contents(fx->state, &state, NULL, NULL));
	return strstr(state, text) != NULL;
}

/*
 * A pin may name any of root's files, up to 4 GiB: the job that records pins' packages reads
 * them in turns of the one worker, and a check a connection waits for gets the worker between
 * two turns (review finding: the old job read up to 4 GiB a path, twice, in one go, while
 * connections waited). The big file is recorded all the same, read once.
 */
static void
test_record_in_turns(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process = upgraded();
	g_autofree char *big = g_build_filename(fx->dir, "big", NULL);
	g_autofree char *list = g_build_filename(fx->info, "vigil-big.list", NULL);
	g_autofree char *sums = g_build_filename(fx->info, "vigil-big.md5sums", NULL);
	g_autofree char *sha = NULL;
	g_autofree char *md5 = NULL;
	g_autofree char *text = NULL;
	g_autoptr(VigilRule) rule = NULL;

	big_file(big, 80 * 1024 * 1024, &sha, &md5);
	text = g_strdup_printf("/.\n%s\n", big);
	g_assert_true(g_file_set_contents(list, text, -1, &error));
	g_free(text);
	text = g_strdup_printf("%s  %s\n", md5, big + 1);
	g_assert_true(g_file_set_contents(sums, text, -1, &error));
	g_free(text);
	text = g_strdup_printf("allow app %s sha256 %s", big, sha);
	rule = vigil_rule_parse_line(text, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(vigil_rule_store_add_learned(fx->store, rule, &error));

	/* the big pin is looked up, and a connection waits for a check meanwhile */
	vigil_upgrades_rules_changed(fx->upgrades);
	g_assert_true(vigil_upgrades_follow(fx->upgrades, process, NULL, on_checked, fx));
	for (gint64 until = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	     fx->answered == 0 && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	g_assert_cmpuint(fx->answered, ==, 1);
	g_assert_false(state_has(fx, big));

	for (gint64 until = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	     !state_has(fx, big) && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	g_assert_true(state_has(fx, big));
	g_assert_true(state_has(fx, sha));
	g_unlink(list);
	g_unlink(sums);
	g_unlink(big);
}

/*
 * The packages of pinned files are a table shared fairly per user (review finding): a user
 * whose pins fill it (4,096, each with its rule) does not keep an administrator's pin from
 * being recorded; one of that user's records makes room. The old table refused the
 * administrator's.
 */
static void
test_records_fair(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-upgrades-XXXXXX", &error);
	g_autofree char *system = g_build_filename(dir, "rules.d", NULL);
	g_autofree char *info = g_build_filename(dir, "info", NULL);
	g_autofree char *learned = g_build_filename(dir, "learned.rules", NULL);
	g_autofree char *state = g_build_filename(dir, "pin-packages", NULL);
	g_autofree char *program = g_build_filename(dir, "program", NULL);
	g_autofree char *list = g_build_filename(info, "vigil-test.list", NULL);
	g_autofree char *sums = g_build_filename(info, "vigil-test.md5sums", NULL);
	const char *content = "the administrator's program";
	g_autofree char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, content, -1);
	g_autofree char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, content, -1);
	g_autoptr(GString) rules = g_string_new(NULL);
	g_autoptr(GString) records =
	    g_string_new("# vigil packages of pinned executables v1: sha256 package path\n");
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	VigilRuleStore *store;
	VigilUpgrades *upgrades;

	g_assert_no_error(error);
	g_assert_cmpint(g_mkdir(system, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(info, 0755), ==, 0);
	/* root's file, which root's package vigil-test installed (tests run as root) */
	g_assert_true(g_file_set_contents(program, content, -1, &error));
	g_assert_cmpint(g_chmod(program, 0755), ==, 0);
	text = g_strdup_printf("/.\n%s\n", program);
	g_assert_true(g_file_set_contents(list, text, -1, &error));
	g_free(text);
	text = g_strdup_printf("%s  %s\n", md5, program + 1);
	g_assert_true(g_file_set_contents(sums, text, -1, &error));
	g_clear_pointer(&text, g_free);
	/* a user's 4,096 pins, recorded, each with its rule */
	for (guint i = 0; i < 4096; i++) {
		g_autofree char *pin = g_strdup_printf("%064x", i + 1);

		g_string_append_printf(records, "%s vigil-user /opt/user/program%u\n", pin, i);
		g_string_append_printf(rules, "allow user 1000 app /opt/user/program%u sha256 %s\n",
		                       i, pin);
	}
	g_string_append_printf(rules, "allow app %s sha256 %s\n", program, sha);
	g_assert_true(g_file_set_contents(state, records->str, -1, &error));
	g_assert_true(g_file_set_contents(learned, rules->str, -1, &error));
	store = vigil_rule_store_new(system, learned, NULL);
	g_assert_true(vigil_rule_store_load(store, NULL, &error));
	g_assert_no_error(error);
	upgrades = vigil_upgrades_new(store, info, state, on_moved, NULL);

	/* the administrator's pin is looked up, found, and recorded */
	vigil_upgrades_rules_changed(upgrades);
	for (gint64 until = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	     g_get_monotonic_time() < until;) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(10000);
		g_clear_pointer(&text, g_free);
		g_assert_true(g_file_get_contents(state, &text, NULL, NULL));
		if (strstr(text, program) != NULL)
			break;
	}
	g_assert_nonnull(strstr(text, program));
	g_assert_nonnull(strstr(text, sha));
	lines = g_strsplit(text, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), <=, 4096 + 2);

	vigil_upgrades_free(upgrades);
	vigil_rule_store_free(store);
	for (const char *const *f =
	         (const char *const[]){list, sums, program, learned, state, NULL};
	     *f != NULL; f++)
		g_unlink(*f);
	g_rmdir(info);
	g_rmdir(system);
	g_rmdir(dir);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *passwd = NULL;
	g_autofree char *subuid = NULL;
	int rc;

	g_test_init(&argc, &argv, NULL);
	/* the users of the tests, in files of their own: alice, bob */
	dir = g_dir_make_tmp("vigil-upgrades-users-XXXXXX", &error);
	g_assert_no_error(error);
	passwd = g_build_filename(dir, "passwd", NULL);
	subuid = g_build_filename(dir, "subuid", NULL);
	g_assert_true(g_file_set_contents(passwd,
	                                  "root:x:0:0:root:/root:/bin/sh\n"
	                                  "alice:x:1000:1000::/home/alice:/bin/sh\n"
	                                  "bob:x:1001:1001::/home/bob:/bin/sh\n",
	                                  -1, &error));
	g_assert_true(g_file_set_contents(subuid, "", -1, &error));
	vigil_fair_set_passwd_path(passwd);
	vigil_fair_set_subuid_path(subuid);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
	ADD("/upgrades/waiters-bounded", test_waiters_bounded);
	ADD("/upgrades/waiters-per-user", test_waiters_per_user);
	ADD("/upgrades/jobs-per-user", test_jobs_per_user);
	ADD("/upgrades/record-in-turns", test_record_in_turns);
#undef ADD
	g_test_add_func("/upgrades/records-fair", test_records_fair);
	rc = g_test_run();
	g_unlink(passwd);
	g_unlink(subuid);
	g_rmdir(dir);
	return rc;
}
