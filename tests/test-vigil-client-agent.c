/* test-vigil-client-agent.c: libvigil-client's agent on a real dbus-daemon: it registers with
 * each vigild, again after a restart, and answers only the owner of org.vigil.Firewall1 */
#define G_LOG_DOMAIN "test-vigil-client-agent"
#include "config.h"

#include "vigil-client.h"

#define AGENT_PATH "/org/vigil/Test/Agent"

/* a stand-in vigild: its own connection, the well-known name, RegisterAgent() */
typedef struct {
	GDBusConnection *bus;
	VigilFirewall *skeleton;
	guint own_id;
	gboolean owned;
	char *registered_path;
	char *registered_by;
} FakeVigild;

typedef struct {
	guint64 prompts;
	guint64 last_request;
	guint registered;
	guint appeared;
	guint vanished;
} Seen;

static GDBusConnection *
new_connection(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *address =
	    g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, NULL, &error);
	GDBusConnection *bus = NULL;

	g_assert_no_error(error);
	bus = g_dbus_connection_new_for_address_sync(
	    address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
	        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, &error);
	g_assert_no_error(error);
	return bus;
}

static gboolean
fake_register(VigilFirewall *skeleton, GDBusMethodInvocation *invocation, const char *path,
              FakeVigild *fake)
{
	g_free(fake->registered_path);
	g_free(fake->registered_by);
	fake->registered_path = g_strdup(path);
	fake->registered_by = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	vigil_firewall_complete_register_agent(skeleton, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
name_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
	((FakeVigild *)data)->owned = TRUE;
}

static FakeVigild *
fake_vigild_start(void)
{
	FakeVigild *fake = g_new0(FakeVigild, 1);
	g_autoptr(GError) error = NULL;

	fake->bus = new_connection();
	fake->skeleton = vigil_firewall_skeleton_new();
	g_signal_connect(fake->skeleton, "handle-register-agent", G_CALLBACK(fake_register), fake);
	g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(fake->skeleton), fake->bus,
	                                 VIGIL_DBUS_PATH, &error);
	g_assert_no_error(error);
	fake->own_id =
	    g_bus_own_name_on_connection(fake->bus, VIGIL_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
	                                 name_acquired, NULL, fake, NULL);
	while (!fake->owned)
		g_main_context_iteration(NULL, TRUE);
	return fake;
}

static void
fake_vigild_stop(FakeVigild *fake)
{
	if (fake->own_id != 0)
		g_bus_unown_name(fake->own_id);
	g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(fake->skeleton));
	g_object_unref(fake->skeleton);
	g_dbus_connection_close_sync(fake->bus, NULL, NULL);
	g_object_unref(fake->bus);
	g_free(fake->registered_path);
	g_free(fake->registered_by);
	g_free(fake);
}

static gboolean
on_prompt(VigilClientAgent *agent, guint64 request, GVariant *conn, Seen *seen)
{
	seen->prompts++;
	seen->last_request = request;
	/* the second request is one too many */
	return seen->prompts > 1;
}

static void
on_registered(VigilClientAgent *agent, Seen *seen)
{
	seen->registered++;
}

static void
on_appeared(VigilClientAgent *agent, const char *owner, Seen *seen)
{
	seen->appeared++;
}

static void
on_vanished(VigilClientAgent *agent, gboolean bus_lost, Seen *seen)
{
	seen->vanished++;
}

typedef struct {
	gboolean done;
	char *error_name;
} CallResult;

static void
call_done(GObject *source, GAsyncResult *result, gpointer data)
{
	CallResult *res = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

	if (ret == NULL)
		res->error_name = g_dbus_error_get_remote_error(error);
	res->done = TRUE;
}

static void
iterate_until(gboolean *flag)
{
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (!*flag && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(*flag);
}

static void
wait_for(guint *counter, guint value)
{
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (*counter < value && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(*counter, >=, value);
}

/* Prompt() on the agent from @caller, served by this thread's main loop: the D-Bus error
 * name it got, or NULL */
static char *
prompt_from(GDBusConnection *caller, const char *agent_name, guint64 request)
{
	g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	CallResult res = {0};

	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_UID, g_variant_new_uint32(1000));
	g_dbus_connection_call(caller, agent_name, AGENT_PATH, "org.vigil.Firewall1.Agent",
	                       "Prompt",
	                       g_variant_new("(t@a{sv})", request, g_variant_builder_end(&b)), NULL,
	                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, call_done, &res);
	iterate_until(&res.done);
	return res.error_name;
}

static void
test_agent(void)
{
	g_autoptr(GTestDBus) dbus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_autoptr(GDBusConnection) agent_bus = NULL;
	g_autoptr(GDBusConnection) stranger = NULL;
	g_autoptr(VigilClientAgent) agent = NULL;
	g_autoptr(GError) error = NULL;
	FakeVigild *vigild = NULL;
	Seen seen = {0};
	char *refused = NULL;

	g_test_dbus_up(dbus);
	agent_bus = new_connection();
	stranger = new_connection();
	vigild = fake_vigild_start();

	agent = vigil_client_agent_new(agent_bus, AGENT_PATH, G_DBUS_CALL_FLAGS_NONE, -1);
	g_signal_connect(agent, "prompt", G_CALLBACK(on_prompt), &seen);
	g_signal_connect(agent, "registered", G_CALLBACK(on_registered), &seen);
	g_signal_connect(agent, "vigild-appeared", G_CALLBACK(on_appeared), &seen);
	g_signal_connect(agent, "vigild-vanished", G_CALLBACK(on_vanished), &seen);
	g_assert_true(vigil_client_agent_start(agent, &error));
	g_assert_no_error(error);

	/* it registers its path with the vigild that owns the name */
	wait_for(&seen.registered, 1);
	g_assert_true(vigil_client_agent_is_registered(agent));
	g_assert_cmpstr(vigild->registered_path, ==, AGENT_PATH);
	g_assert_cmpstr(vigild->registered_by, ==, g_dbus_connection_get_unique_name(agent_bus));
	g_assert_cmpstr(vigil_client_agent_get_owner(agent), ==,
	                g_dbus_connection_get_unique_name(vigild->bus));

	/* a stranger is refused and nothing reaches the front end */
	refused = prompt_from(stranger, g_dbus_connection_get_unique_name(agent_bus), 7);
	g_assert_cmpstr(refused, ==, "org.freedesktop.DBus.Error.AccessDenied");
	g_free(refused);
	g_assert_cmpuint(seen.prompts, ==, 0);

	/* vigild is heard; a request the front end cannot hold is refused with LimitsExceeded */
	refused = prompt_from(vigild->bus, g_dbus_connection_get_unique_name(agent_bus), 8);
	g_assert_null(refused);
	g_assert_cmpuint(seen.prompts, ==, 1);
	g_assert_cmpuint(seen.last_request, ==, 8);
	refused = prompt_from(vigild->bus, g_dbus_connection_get_unique_name(agent_bus), 9);
	g_assert_cmpstr(refused, ==, "org.freedesktop.DBus.Error.LimitsExceeded");
	g_free(refused);

	/* vigild restarts: the old one may no longer call, the new one is registered with */
	{
		g_autoptr(GDBusConnection) old_bus = g_object_ref(vigild->bus);

		g_bus_unown_name(vigild->own_id);
		vigild->own_id = 0;
		wait_for(&seen.vanished, 1);
		g_assert_false(vigil_client_agent_is_registered(agent));
		g_assert_null(vigil_client_agent_get_owner(agent));
		refused = prompt_from(old_bus, g_dbus_connection_get_unique_name(agent_bus), 10);
		g_assert_cmpstr(refused, ==, "org.freedesktop.DBus.Error.AccessDenied");
		g_free(refused);
		g_assert_cmpuint(seen.prompts, ==, 2);
	}
	fake_vigild_stop(vigild);
	vigild = fake_vigild_start();
	wait_for(&seen.registered, 2);
	g_assert_cmpuint(seen.appeared, ==, 2);
	g_assert_cmpstr(vigild->registered_by, ==, g_dbus_connection_get_unique_name(agent_bus));

	g_clear_object(&agent);
	fake_vigild_stop(vigild);
	g_dbus_connection_close_sync(agent_bus, NULL, NULL);
	g_dbus_connection_close_sync(stranger, NULL, NULL);
	g_test_dbus_down(dbus);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/client/agent/caller-check-and-registration", test_agent);
	return g_test_run();
}
