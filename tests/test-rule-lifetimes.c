/* test-rule-lifetimes.c: rules that end at their time or with their process, with real processes */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

#include "test-util.h"
#include "vigil-process.h"
#include "vigil-rule-lifetimes.h"

typedef struct {
	const char *learned;
	VigilRuleStore *store;
	guint ended;
} Fixture;

static void
fixture_set_up(Fixture *fx, gconstpointer data)
{
	const char *dir = vigil_test_tmp_dir("vigil-lifetimes-XXXXXX");

	fx->store = vigil_test_rule_store_new(dir);
	fx->learned = vigil_test_path(dir, "learned.rules");
}

static gboolean
has_rule(Fixture *fx, guint64 id)
{
	return vigil_ruleset_lookup(vigil_rule_store_get_ruleset(fx->store), id) != NULL;
}

static void
on_ended(gpointer data)
{
	Fixture *fx = data;

	fx->ended++;
}

/* a child that sleeps until killed, and its until-quit rule */
static GPid
start_sleeper(Fixture *fx, guint64 *id)
{
	const char *argv[] = {"/bin/sleep", "600", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL;
	VigilProcessStamp stamp;
	GPid pid;

	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
	                            NULL, &pid, &error));
	g_assert_no_error(error);
	g_assert_true(vigil_process_read_stamp("/proc", (guint32)pid, &stamp));
	line = g_strdup_printf("allow app /usr/bin/a until-quit %d:%" G_GUINT64_FORMAT, pid,
	                       stamp.start_time);
	*id = vigil_test_add_learned(fx->store, line);
	return pid;
}

/* timed rules end at their time; until-quit rules with their process, whose exit the pidfd
 * reports on the main loop (@ended), not at the next tick */
static void
test_both_lifetimes(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleLifetimes) lifetimes =
	    vigil_rule_lifetimes_new(fx->store, "/proc", on_ended, fx);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	guint64 timed =
	    vigil_test_add_learned(fx->store, "deny app /usr/bin/b until 2099-01-01T00:00:00Z");
	guint64 forever = vigil_test_add_learned(fx->store, "deny app /usr/bin/c");
	guint64 quit;
	GPid pid = start_sleeper(fx, &quit);
	g_autofree char *saved = NULL;
	gint64 deadline;
	int status;

	g_assert_cmpuint(vigil_rule_lifetimes_update(lifetimes, now), ==, 0);
	g_assert_true(has_rule(fx, timed) && has_rule(fx, forever) && has_rule(fx, quit));
	/* 2099 comes */
	g_assert_cmpuint(vigil_rule_lifetimes_update(lifetimes, 4070908800), ==, 1);
	g_assert_false(has_rule(fx, timed));
	g_assert_true(has_rule(fx, quit));
	g_assert_cmpuint(fx->ended, ==, 0);

	/* the process quits: its rule ends without anyone calling update() */
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (fx->ended == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(fx->ended, ==, 1);
	g_assert_false(has_rule(fx, quit));
	g_assert_true(has_rule(fx, forever));
	/* and the learned file says so */
	g_assert_true(g_file_get_contents(fx->learned, &saved, NULL, NULL));
	g_assert_null(strstr(saved, "until-quit"));
	g_assert_null(strstr(saved, "/usr/bin/b"));
	g_assert_nonnull(strstr(saved, "/usr/bin/c"));
}

/* a rule of a process that is already gone (vigild was stopped) ends at the first update */
static void
test_gone_before(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleLifetimes) lifetimes =
	    vigil_rule_lifetimes_new(fx->store, "/proc", on_ended, fx);
	guint64 quit;
	GPid pid = start_sleeper(fx, &quit);
	int status;

	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(has_rule(fx, quit));
	g_assert_cmpuint(vigil_rule_lifetimes_update(lifetimes, g_get_real_time() / G_USEC_PER_SEC),
	                 ==, 1);
	g_assert_false(has_rule(fx, quit));
	/* update() tells its caller, not @ended */
	g_assert_cmpuint(fx->ended, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/rule-lifetimes/both", Fixture, NULL, fixture_set_up, test_both_lifetimes,
	           NULL);
	g_test_add("/rule-lifetimes/gone-before", Fixture, NULL, fixture_set_up, test_gone_before,
	           NULL);
	return g_test_run();
}
