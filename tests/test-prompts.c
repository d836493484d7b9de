/* test-prompts.c: open requests, and how a rule made while they wait decides them */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-util.h"
#include "vigil-agents.h"
#include "vigil-prompts.h"

#define AGENT_PATH "/org/vigil/test/Agent"

/* what the prompts handed back: the verdict of each held packet, by the packet */
typedef struct {
	GHashTable *verdicts; /* held (a string naming it) -> "action reason" */
} Finished;

static void
on_finish(gpointer held, VigilAction action, VigilReason reason, const VigilRule *rule,
          gpointer user_data)
{
	Finished *finished = user_data;

	(void)rule;
	g_hash_table_replace(finished->verdicts, held,
	                     g_strdup_printf("%s %s", vigil_action_to_string(action),
	                                     vigil_reason_to_string(reason)));
}

static void
on_registered(GError *error, gpointer user_data)
{
	g_assert_no_error(error);
	*(gboolean *)user_data = TRUE;
}

/* a process of ours running @exe: a file (its path and identity as vigild reads them), or
 * "[comm]" for one known only by the kernel's record */
static VigilProcess *
process_running(const char *exe)
{
	VigilProcess *process = vigil_process_new();
	VigilFileId id = {0};
	char *resolved = NULL;

	process->pid = 4242;
	process->uid = getuid();
	if (exe[0] == '/') {
		g_assert_true(vigil_program_path_resolve(exe, &resolved, &id));
		process->exe_dev = id.dev;
		process->exe_ino = id.ino;
		process->exe_ctime = id.ctime;
		process->exe_size = id.size;
	}
	process->exe = resolved != NULL ? resolved : g_strdup(exe);
	process->cmdline = g_strdup(exe);
	return process;
}

/* holds @held for @process's connection to 192.0.2.7 port 443, or the test fails */
static void
hold(VigilPrompts *prompts, gpointer held, VigilProcess *process)
{
	VigilFlow flow = {.family = AF_INET, .protocol = IPPROTO_TCP, .sport = 40000, .dport = 443};
	VigilPromptConnection conn = {
	    .uid = getuid(), .process = process, .flow = &flow, .time_us = g_get_real_time()};

	g_assert_cmpint(inet_pton(AF_INET, "192.0.2.7", &flow.dst), ==, 1);
	g_assert_cmpint(vigil_prompts_hold(prompts, held, &conn), ==, VIGIL_HOLD_HELD);
}

/* vigild's side of prompting: the agents table on a private bus, with our connection
 * registered as the user's agent, a rule store and the prompts */
typedef struct {
	GTestDBus *dbus;
	GDBusConnection *bus;
	VigilAgents *agents;
	VigilConfig config;
	VigilRuleStore *store;
	VigilPrompts *prompts;
	Finished finished;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	static const VigilPromptsCallbacks callbacks = {.finish = on_finish};
	g_autoptr(GError) error = NULL;
	gboolean registered = FALSE;

	(void)data;
	f->dbus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(f->dbus);
	f->bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	g_assert_no_error(error);
	f->agents = vigil_agents_new(f->bus);
	vigil_agents_register(f->agents, g_dbus_connection_get_unique_name(f->bus), getuid(), 0,
	                      NULL, AGENT_PATH, on_registered, &registered);
	/* its process is checked in a thread: the answer comes through the main loop */
	while (!registered)
		g_main_context_iteration(NULL, TRUE);
	vigil_config_init_defaults(&f->config);
	f->store = vigil_test_rule_store_new(vigil_test_tmp_dir("vigil-prompts-XXXXXX"));
	f->finished.verdicts = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	f->prompts = vigil_prompts_new(f->store, &f->config, &callbacks, &f->finished);
	vigil_prompts_set_agents(f->prompts, f->agents);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	/* the rule store is gone already (vigil_test_rule_store_new()): freeing the prompts, which
	 * ends what is still open, does not look at it */
	vigil_prompts_free(f->prompts);
	g_hash_table_unref(f->finished.verdicts);
	vigil_agents_free(f->agents);
	vigil_config_clear(&f->config);
	g_dbus_connection_close_sync(f->bus, NULL, NULL);
	g_object_unref(f->bus);
	g_test_dbus_down(f->dbus);
	g_object_unref(f->dbus);
}

/*
 * A process known only by the kernel's record ("[comm]": it exited before vigild could read its
 * exe) is an unknown program, to the rules made while its request waits as to those it was
 * first matched against: "app unknown" rules decide it, a program's path rule does not.
 */
static void
test_recheck_unknown_program(Fixture *f, gconstpointer data)
{
	g_autoptr(VigilProcess) ghost = process_running("[ghost]");
	g_autoptr(VigilProcess) known = process_running("/bin/true");

	(void)data;
	hold(f->prompts, "ghost", ghost);
	hold(f->prompts, "known", known);
	g_assert_cmpuint(vigil_prompts_count(f->prompts), ==, 2);

	/* a path rule is not the ghost's, whatever it names: only the named program's request ends
	 */
	vigil_test_add_learned(f->store, "allow app /bin/true port 443");
	vigil_prompts_recheck(f->prompts);
	g_assert_cmpstr(g_hash_table_lookup(f->finished.verdicts, "known"), ==, "allow rule");
	g_assert_null(g_hash_table_lookup(f->finished.verdicts, "ghost"));
	g_assert_cmpuint(vigil_prompts_count(f->prompts), ==, 1);

	/* "app unknown" covers it, as it did when vigild first matched it */
	vigil_test_add_learned(f->store, "deny app unknown port 443");
	vigil_prompts_recheck(f->prompts);
	g_assert_cmpstr(g_hash_table_lookup(f->finished.verdicts, "ghost"), ==, "deny rule");
	g_assert_cmpuint(vigil_prompts_count(f->prompts), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/prompts/recheck-unknown-program", Fixture, NULL, fixture_setup,
	           test_recheck_unknown_program, fixture_teardown);
	return g_test_run();
}
