/* test-hash-pins.c: a rule made while its program's hash was being computed gets that hash once
 * the cache has it for the very file; a rule edited or removed meanwhile is left alone */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "test-util.h"
#include "vigil-fair.h"
#include "vigil-hash-pins.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

typedef struct {
	const char *learned;
	VigilRuleStore *store;
	VigilHashPins *pins;
	const char *known; /* what the fake cache answers for inode 42 */
	guint changed;
} Fixture;

static char *
peek(const VigilProcess *process, gpointer data)
{
	Fixture *fx = data;

	return process->exe_ino == 42 ? g_strdup(fx->known) : NULL;
}

static void
on_changed(gpointer data)
{
	((Fixture *)data)->changed++;
}

static void
fixture_set_up(Fixture *fx, gconstpointer data)
{
	const char *dir = vigil_test_tmp_dir("vigil-pins-XXXXXX");

	fx->store = vigil_test_rule_store_new(dir);
	fx->learned = vigil_test_path(dir, "learned.rules");
	fx->pins = vigil_hash_pins_new(fx->store, peek, on_changed, fx);
	/* before the store it watches */
	g_test_queue_destroy((GDestroyNotify)vigil_hash_pins_free, fx->pins);
}

static VigilProcess *
big_program(ino_t ino)
{
	VigilProcess *process = vigil_process_new();

	process->pid = 4242;
	process->exe = g_strdup("/opt/big/browser");
	process->exe_dev = 1;
	process->exe_ino = ino;
	process->exe_size = 700 << 20;
	return process;
}

static VigilRule *
rule_of(Fixture *fx, guint64 id)
{
	return vigil_ruleset_lookup(vigil_rule_store_get_ruleset(fx->store), id);
}

/* not known yet: waits; known: the rule pins it, keeps its id, and is saved */
static void
test_pinned_when_made(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) big = big_program(42);
	guint64 id = vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 443");
	g_autofree char *saved = NULL;

	vigil_hash_pins_add(fx->pins, id, big);
	g_assert_cmpuint(vigil_hash_pins_check(fx->pins, g_get_monotonic_time()), ==, 0);
	g_assert_null(rule_of(fx, id)->sha256);
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, 1);

	fx->known = SHA_A;
	g_assert_cmpuint(vigil_hash_pins_check(fx->pins, g_get_monotonic_time()), ==, 1);
	g_assert_cmpstr(rule_of(fx, id)->sha256, ==, SHA_A);
	g_assert_cmpuint(rule_of(fx, id)->ports->len, ==, 1);
	g_assert_cmpuint(fx->changed, ==, 1);
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, 0);
	g_assert_true(g_file_get_contents(fx->learned, &saved, NULL, NULL));
	g_assert_nonnull(strstr(saved, SHA_A));
}

/* the user's later word wins: a rule removed, or edited (another program, a hash given),
 * is not pinned */
static void
test_edited_or_removed_left_alone(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) big = big_program(42);
	g_autoptr(GError) error = NULL;
	guint64 removed = vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 443");
	guint64 edited = vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 80");
	g_autoptr(VigilRule) other =
	    vigil_rule_parse_line("allow app /usr/bin/curl port 80", NULL, &error);

	vigil_hash_pins_add(fx->pins, removed, big);
	vigil_hash_pins_add(fx->pins, edited, big);
	g_assert_true(vigil_rule_store_remove_learned(fx->store, removed, &error));
	g_assert_true(vigil_rule_store_replace_learned(fx->store, edited, other, &error));
	fx->known = SHA_A;
	g_assert_cmpuint(vigil_hash_pins_check(fx->pins, g_get_monotonic_time()), ==, 0);
	g_assert_null(rule_of(fx, edited)->sha256);
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, 0);
	g_assert_cmpuint(fx->changed, ==, 0);
}

/* a hash never made for that file (it changed: its hash is keyed otherwise) is given up on */
static void
test_given_up_after_patience(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) changed_file = big_program(43);
	guint64 id = vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 443");
	gint64 later = g_get_monotonic_time() + (VIGIL_HASH_PINS_PATIENCE_S + 1) * G_USEC_PER_SEC;

	fx->known = SHA_A;
	vigil_hash_pins_add(fx->pins, id, changed_file);
	g_assert_cmpuint(vigil_hash_pins_check(fx->pins, g_get_monotonic_time()), ==, 0);
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, 1);
	g_test_expect_message("vigil-hash-pins", G_LOG_LEVEL_MESSAGE, "*keeps naming*by its path*");
	g_assert_cmpuint(vigil_hash_pins_check(fx->pins, later), ==, 0);
	g_test_assert_expected_messages();
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, 0);
	g_assert_null(rule_of(fx, id)->sha256);
}

/* bounded: beyond the most that wait, the oldest is given up on */
static void
test_bounded(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) big = big_program(42);

	g_test_expect_message("vigil-hash-pins", G_LOG_LEVEL_MESSAGE, "*too many*");
	for (guint i = 0; i <= VIGIL_HASH_PINS_MAX; i++)
		vigil_hash_pins_add(fx->pins, 1000 + i, big);
	g_test_assert_expected_messages();
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, VIGIL_HASH_PINS_MAX);
}

/*
 * The bound is shared fairly per user (review finding): a user whose prompts fill it gives up
 * their own oldest pins, not an administrator's pin made before (the old FIFO gave up the
 * oldest of all: root's); the administrator still gets one in while the bound is full
 */
static void
test_bound_fair(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) root_program = big_program(42);
	g_autoptr(VigilProcess) user_program = big_program(43);
	guint64 root_rule =
	    vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 443");
	guint64 late_root_rule =
	    vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 80");

	user_program->uid = 1000;
	vigil_hash_pins_add(fx->pins, root_rule, root_program);
	g_test_expect_message("vigil-hash-pins", G_LOG_LEVEL_MESSAGE, "*too many*");
	for (guint i = 0; i < 2 * VIGIL_HASH_PINS_MAX; i++)
		vigil_hash_pins_add(fx->pins, 1000 + i, user_program);
	g_test_assert_expected_messages();
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, VIGIL_HASH_PINS_MAX);
	vigil_hash_pins_add(fx->pins, late_root_rule, root_program);
	g_assert_cmpuint(vigil_hash_pins_count(fx->pins), ==, VIGIL_HASH_PINS_MAX);

	/* both of root's rules are still waiting: they get their hash */
	fx->known = SHA_A;
	g_assert_cmpuint(vigil_hash_pins_check(fx->pins, g_get_monotonic_time()), ==, 2);
	g_assert_cmpstr(rule_of(fx, root_rule)->sha256, ==, SHA_A);
	g_assert_cmpstr(rule_of(fx, late_root_rule)->sha256, ==, SHA_A);
}

/*
 * A user's subordinate uids (rootless containers) count as that user: pins from 128 of them
 * still push out only that user's own, never root's (shares by raw uid would make each of
 * them a user of one pin, and root's among the longest)
 */
static void
test_bound_fair_subuids(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilProcess) root_program = big_program(42);
	g_autoptr(VigilProcess) user_program = big_program(43);
	guint64 root_rule =
	    vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 443");
	guint64 late_root_rule =
	    vigil_test_add_learned(fx->store, "allow app /opt/big/browser port 80");

	vigil_hash_pins_add(fx->pins, root_rule, root_program);
	g_test_expect_message("vigil-hash-pins", G_LOG_LEVEL_MESSAGE, "*too many*");
	for (guint i = 0; i < 2 * VIGIL_HASH_PINS_MAX; i++) {
		user_program->uid = 100000 + i; /* alice's subordinate uids (main()) */
		vigil_hash_pins_add(fx->pins, 1000 + i, user_program);
	}
	g_test_assert_expected_messages();
	vigil_hash_pins_add(fx->pins, late_root_rule, root_program);
	fx->known = SHA_A;
	g_assert_cmpuint(vigil_hash_pins_check(fx->pins, g_get_monotonic_time()), ==, 2);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-pins-users-XXXXXX", &error);
	g_autofree char *passwd = g_build_filename(dir, "passwd", NULL);
	g_autofree char *subuid = g_build_filename(dir, "subuid", NULL);
	int status;

	g_test_init(&argc, &argv, NULL);
	/* the users whose shares the bound is split into (vigil-fair.h) */
	g_assert_true(g_file_set_contents(passwd,
	                                  "root:x:0:0:root:/root:/bin/sh\n"
	                                  "alice:x:1000:1000::/home/alice:/bin/sh\n",
	                                  -1, &error));
	g_assert_true(g_file_set_contents(subuid, "alice:100000:65536\n", -1, &error));
	vigil_fair_set_passwd_path(passwd);
	vigil_fair_set_subuid_path(subuid);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, NULL)
	ADD("/hash-pins/pinned-when-made", test_pinned_when_made);
	ADD("/hash-pins/edited-or-removed-left-alone", test_edited_or_removed_left_alone);
	ADD("/hash-pins/given-up-after-patience", test_given_up_after_patience);
	ADD("/hash-pins/bounded", test_bounded);
	ADD("/hash-pins/bound-fair", test_bound_fair);
	ADD("/hash-pins/bound-fair-subuids", test_bound_fair_subuids);
#undef ADD
	status = g_test_run();
	g_unlink(passwd);
	g_unlink(subuid);
	g_rmdir(dir);
	return status;
}
