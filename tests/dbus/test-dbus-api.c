/* test-dbus-api.c: the generated VigilFirewall/VigilAgent code and the registered errors, end to
 * end */
#define G_LOG_DOMAIN "vigil-test-dbus"
#include "config.h"

#include <sys/socket.h>

#include "vigil-dbus.h"

/*
 * A peer-to-peer D-Bus connection over a socketpair: the "daemon" end serves the skeletons
 * from its own thread and main context, so the test thread can make blocking calls through
 * the generated proxies, as vigilctl does.
 */
typedef struct {
	GDBusConnection *client;
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	GSocketConnection *server_stream;
	GDBusConnection *server;
	VigilFirewall *firewall;
	VigilAgent *agent;
	GMutex lock;
	GCond cond;
	gboolean ready;
	/* what the skeletons' handlers saw, read after the calls returned */
	GVariant *last_rule;
	guint64 last_request;
	char *last_verdict;
	GVariant *last_prompt;
	char *last_cancel_reason;
} Fixture;

static gboolean
on_add_rule(VigilFirewall *firewall, GDBusMethodInvocation *invocation, GVariant *rule, Fixture *f)
{
	const char *action = NULL;

	g_clear_pointer(&f->last_rule, g_variant_unref);
	f->last_rule = g_variant_ref(rule);
	if (!g_variant_lookup(rule, VIGIL_RULE_KEY_ACTION, "&s", &action)) {
		g_dbus_method_invocation_return_error(invocation, VIGIL_DBUS_ERROR,
		                                      VIGIL_DBUS_ERROR_INVALID_ARGUMENT,
		                                      "action: missing");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vigil_firewall_complete_add_rule(firewall, invocation, 7);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_reply(VigilFirewall *firewall, GDBusMethodInvocation *invocation, guint64 request,
         const char *verdict, GVariant *options, Fixture *f)
{
	f->last_request = request;
	g_free(f->last_verdict);
	f->last_verdict = g_strdup(verdict);
	if (request != 42) {
		g_dbus_method_invocation_return_error(
		    invocation, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_PENDING,
		    "request %" G_GUINT64_FORMAT " is not pending", request);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vigil_firewall_complete_reply(firewall, invocation);
	/* as vigild does after a change of rules */
	vigil_firewall_emit_rules_changed(firewall);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_get_permissions(VigilFirewall *firewall, GDBusMethodInvocation *invocation, Fixture *f)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{ss}"));

	g_variant_builder_add(&builder, "{ss}", VIGIL_POLKIT_ACTION_READ, VIGIL_PERMISSION_YES);
	g_variant_builder_add(&builder, "{ss}", VIGIL_POLKIT_ACTION_CONFIGURE,
	                      VIGIL_PERMISSION_AUTH);
	vigil_firewall_complete_get_permissions(firewall, invocation,
	                                        g_variant_builder_end(&builder));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_prompt(VigilAgent *agent, GDBusMethodInvocation *invocation, guint64 request,
          GVariant *connection, Fixture *f)
{
	g_clear_pointer(&f->last_prompt, g_variant_unref);
	f->last_prompt = g_variant_ref(connection);
	f->last_request = request;
	vigil_agent_complete_prompt(agent, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_cancel(VigilAgent *agent, GDBusMethodInvocation *invocation, guint64 request, const char *reason,
          Fixture *f)
{
	g_free(f->last_cancel_reason);
	f->last_cancel_reason = g_strdup(reason);
	vigil_agent_complete_cancel(agent, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
export_skeletons(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_auto(GVariantBuilder) stats = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{st}"));

	f->firewall = vigil_firewall_skeleton_new();
	vigil_firewall_set_version(f->firewall, "0.1.0");
	vigil_firewall_set_enabled(f->firewall, TRUE);
	vigil_firewall_set_default_action(f->firewall, "deny");
	vigil_firewall_set_prompt_timeout(f->firewall, 30);
	vigil_firewall_set_fail_mode(f->firewall, "open");
	vigil_firewall_set_backend(f->firewall, "iptables");
	g_variant_builder_add(&stats, "{st}", VIGIL_STATS_KEY_QUEUED, (guint64)12);
	vigil_firewall_set_stats(f->firewall, g_variant_builder_end(&stats));
	g_signal_connect(f->firewall, "handle-add-rule", G_CALLBACK(on_add_rule), f);
	g_signal_connect(f->firewall, "handle-reply", G_CALLBACK(on_reply), f);
	g_signal_connect(f->firewall, "handle-get-permissions", G_CALLBACK(on_get_permissions), f);
	g_assert_true(g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(f->firewall),
	                                               f->server, VIGIL_DBUS_PATH, &error));
	g_assert_no_error(error);

	f->agent = vigil_agent_skeleton_new();
	g_signal_connect(f->agent, "handle-prompt", G_CALLBACK(on_prompt), f);
	g_signal_connect(f->agent, "handle-cancel", G_CALLBACK(on_cancel), f);
	g_assert_true(g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(f->agent),
	                                               f->server, "/agent", &error));
	g_assert_no_error(error);
}

static gpointer
server_thread(gpointer data)
{
	Fixture *f = data;
	g_autoptr(GError) error = NULL;
	g_autofree char *guid = g_dbus_generate_guid();

	g_main_context_push_thread_default(f->context);
	f->server = g_dbus_connection_new_sync(G_IO_STREAM(f->server_stream), guid,
	                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER, NULL,
	                                       NULL, &error);
	g_assert_no_error(error);
	export_skeletons(f);

	g_mutex_lock(&f->lock);
	f->ready = TRUE;
	g_cond_signal(&f->cond);
	g_mutex_unlock(&f->lock);

	g_main_loop_run(f->loop);

	g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(f->firewall));
	g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(f->agent));
	g_clear_object(&f->firewall);
	g_clear_object(&f->agent);
	g_dbus_connection_close_sync(f->server, NULL, NULL);
	g_clear_object(&f->server);
	g_main_context_pop_thread_default(f->context);
	return NULL;
}

static GSocketConnection *
stream_from_fd(int fd)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, &error);

	g_assert_no_error(error);
	return g_socket_connection_factory_create_connection(socket);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) client_stream = NULL;
	int fds[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
	f->server_stream = stream_from_fd(fds[0]);
	client_stream = stream_from_fd(fds[1]);
	f->context = g_main_context_new();
	f->loop = g_main_loop_new(f->context, FALSE);
	g_mutex_init(&f->lock);
	g_cond_init(&f->cond);
	f->thread = g_thread_new("daemon", server_thread, f);

	/* both ends authenticate at once: the server thread answers this handshake */
	f->client = g_dbus_connection_new_sync(G_IO_STREAM(client_stream), NULL,
	                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL,
	                                       NULL, &error);
	g_assert_no_error(error);

	g_mutex_lock(&f->lock);
	while (!f->ready)
		g_cond_wait(&f->cond, &f->lock);
	g_mutex_unlock(&f->lock);
}

static gboolean
quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_main_context_invoke(f->context, quit_loop, f->loop);
	g_thread_join(f->thread);
	g_dbus_connection_close_sync(f->client, NULL, NULL);
	g_clear_object(&f->client);
	g_clear_object(&f->server_stream);
	g_main_loop_unref(f->loop);
	g_main_context_unref(f->context);
	g_mutex_clear(&f->lock);
	g_cond_clear(&f->cond);
	g_clear_pointer(&f->last_rule, g_variant_unref);
	g_clear_pointer(&f->last_prompt, g_variant_unref);
	g_free(f->last_verdict);
	g_free(f->last_cancel_reason);
}

static VigilFirewall *
firewall_proxy(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	/* no bus name on a peer-to-peer connection */
	VigilFirewall *proxy = vigil_firewall_proxy_new_sync(f->client, G_DBUS_PROXY_FLAGS_NONE,
	                                                     NULL, VIGIL_DBUS_PATH, NULL, &error);

	g_assert_no_error(error);
	return proxy;
}

/* every error code has a distinct org.vigil.Firewall1.Error.* name, both ways */
static void
test_error_names(void)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (gint code = 0; code < VIGIL_DBUS_ERROR_NUM_ENTRIES; code++) {
		const char *name = vigil_dbus_error_to_name(code);
		g_autoptr(GError) local = g_error_new(VIGIL_DBUS_ERROR, code, "message %d", code);
		g_autofree char *encoded = g_dbus_error_encode_gerror(local);
		g_autoptr(GError) decoded = NULL;

		g_assert_nonnull(name);
		g_assert_true(g_str_has_prefix(name, VIGIL_DBUS_ERROR_PREFIX));
		g_assert_true(g_dbus_is_interface_name(name));
		g_assert_false(g_hash_table_contains(seen, name));
		g_hash_table_add(seen, (gpointer)name);
		g_assert_cmpstr(encoded, ==, name);

		decoded = g_dbus_error_new_for_dbus_error(name, "from the bus");
		g_assert_error(decoded, VIGIL_DBUS_ERROR, code);
		g_assert_true(g_dbus_error_is_remote_error(decoded));
		g_assert_true(g_dbus_error_strip_remote_error(decoded));
		g_assert_cmpstr(decoded->message, ==, "from the bus");
	}
	g_assert_null(vigil_dbus_error_to_name(VIGIL_DBUS_ERROR_NUM_ENTRIES));
	g_assert_null(vigil_dbus_error_to_name((VigilDBusError)-1));
	g_assert_cmpstr(vigil_dbus_error_to_name(VIGIL_DBUS_ERROR_NOT_PENDING), ==,
	                "org.vigil.Firewall1.Error.NotPending");
	g_assert_cmpstr(vigil_dbus_error_to_name(VIGIL_DBUS_ERROR_PERMISSION_DENIED), ==,
	                "org.vigil.Firewall1.Error.PermissionDenied");
}

/* the interface info compiled into the library is the one the XML describes */
static void
test_interface_info(void)
{
	GDBusInterfaceInfo *info = vigil_firewall_interface_info();
	GDBusInterfaceInfo *agent = vigil_agent_interface_info();
	GDBusMethodInfo *method;

	g_assert_cmpstr(info->name, ==, VIGIL_DBUS_INTERFACE);
	g_assert_cmpstr(agent->name, ==, VIGIL_DBUS_AGENT_INTERFACE);
	method = g_dbus_interface_info_lookup_method(info, "GetRules");
	g_assert_nonnull(method);
	g_assert_cmpstr(method->out_args[0]->signature, ==, "a(ta{sv})");
	method = g_dbus_interface_info_lookup_method(agent, "Prompt");
	g_assert_nonnull(method);
	g_assert_cmpstr(method->in_args[0]->signature, ==, "t");
	g_assert_cmpstr(method->in_args[1]->signature, ==, "a{sv}");
	g_assert_nonnull(g_dbus_interface_info_lookup_signal(info, "RulesChanged"));
	/* settings change through methods that vigild authorises, never Properties.Set */
	for (guint i = 0; info->properties[i] != NULL; i++)
		g_assert_cmpint(info->properties[i]->flags, ==,
		                G_DBUS_PROPERTY_INFO_FLAGS_READABLE);
}

static void
test_properties(Fixture *f, gconstpointer data)
{
	g_autoptr(VigilFirewall) proxy = firewall_proxy(f);
	GVariant *stats;
	guint64 queued = 0;

	g_assert_cmpstr(vigil_firewall_get_version(proxy), ==, "0.1.0");
	g_assert_true(vigil_firewall_get_enabled(proxy));
	g_assert_cmpstr(vigil_firewall_get_default_action(proxy), ==, "deny");
	g_assert_cmpuint(vigil_firewall_get_prompt_timeout(proxy), ==, 30);
	g_assert_cmpstr(vigil_firewall_get_fail_mode(proxy), ==, "open");
	g_assert_cmpstr(vigil_firewall_get_backend(proxy), ==, "iptables");
	stats = vigil_firewall_get_stats(proxy);
	g_assert_nonnull(stats);
	g_assert_true(g_variant_lookup(stats, VIGIL_STATS_KEY_QUEUED, "t", &queued));
	g_assert_cmpuint(queued, ==, 12);
}

static void
test_methods_and_errors(Fixture *f, gconstpointer data)
{
	g_autoptr(VigilFirewall) proxy = firewall_proxy(f);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) permissions = NULL;
	g_auto(GVariantDict) rule = G_VARIANT_DICT_INIT(NULL);
	g_autofree char *remote_name = NULL;
	guint64 id = 0;
	const char *value = NULL;

	g_assert_true(vigil_firewall_call_get_permissions_sync(proxy, G_DBUS_CALL_FLAGS_NONE, -1,
	                                                       &permissions, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(permissions, VIGIL_POLKIT_ACTION_CONFIGURE, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_PERMISSION_AUTH);

	g_variant_dict_insert(&rule, VIGIL_RULE_KEY_ACTION, "s", "deny");
	g_variant_dict_insert(&rule, VIGIL_RULE_KEY_PORT, "s", "443");
	g_assert_true(vigil_firewall_call_add_rule_sync(
	    proxy, g_variant_dict_end(&rule), G_DBUS_CALL_FLAGS_NONE, -1, &id, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(id, ==, 7);
	g_assert_true(g_variant_lookup(f->last_rule, VIGIL_RULE_KEY_PORT, "&s", &value));
	g_assert_cmpstr(value, ==, "443");

	/* a daemon's GError arrives as the same domain and code, with its message */
	g_assert_false(vigil_firewall_call_add_rule_sync(
	    proxy, g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0), G_DBUS_CALL_FLAGS_NONE, -1,
	    &id, NULL, &error));
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
	remote_name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(remote_name, ==, "org.vigil.Firewall1.Error.InvalidArgument");
	g_dbus_error_strip_remote_error(error);
	g_assert_cmpstr(error->message, ==, "action: missing");
	g_clear_error(&error);

	g_assert_false(vigil_firewall_call_reply_sync(
	    proxy, 5, "allow", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0),
	    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error));
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_PENDING);
	g_assert_cmpuint(f->last_request, ==, 5);
}

static void
on_rules_changed(VigilFirewall *proxy, gboolean *received)
{
	*received = TRUE;
}

static void
test_rules_changed_signal(Fixture *f, gconstpointer data)
{
	g_autoptr(VigilFirewall) proxy = firewall_proxy(f);
	g_autoptr(GError) error = NULL;
	g_auto(GVariantDict) options = G_VARIANT_DICT_INIT(NULL);
	gboolean received = FALSE;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	g_signal_connect(proxy, "rules-changed", G_CALLBACK(on_rules_changed), &received);
	g_variant_dict_insert(&options, VIGIL_REPLY_KEY_DURATION, "s", VIGIL_DURATION_FOREVER);
	g_assert_true(vigil_firewall_call_reply_sync(proxy, 42, "allow",
	                                             g_variant_dict_end(&options),
	                                             G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(f->last_verdict, ==, "allow");
	while (!received && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(received);
}

static void
test_agent(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilAgent) proxy = NULL;
	g_auto(GVariantDict) connection = G_VARIANT_DICT_INIT(NULL);
	guint16 port = 0;

	proxy = vigil_agent_proxy_new_sync(f->client, G_DBUS_PROXY_FLAGS_NONE, NULL, "/agent", NULL,
	                                   &error);
	g_assert_no_error(error);
	g_variant_dict_insert(&connection, VIGIL_CONN_KEY_PROGRAM, "s", "/usr/bin/curl");
	g_variant_dict_insert(&connection, VIGIL_CONN_KEY_PORT, "q", (guint16)443);
	g_assert_true(vigil_agent_call_prompt_sync(proxy, 42, g_variant_dict_end(&connection),
	                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(f->last_request, ==, 42);
	g_assert_true(g_variant_lookup(f->last_prompt, VIGIL_CONN_KEY_PORT, "q", &port));
	g_assert_cmpuint(port, ==, 443);

	g_assert_true(vigil_agent_call_cancel_sync(proxy, 42, VIGIL_CANCEL_TIMEOUT,
	                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(f->last_cancel_reason, ==, VIGIL_CANCEL_TIMEOUT);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dbus/errors/names", test_error_names);
	g_test_add_func("/dbus/api/interface-info", test_interface_info);
	g_test_add("/dbus/api/properties", Fixture, NULL, fixture_set_up, test_properties,
	           fixture_tear_down);
	g_test_add("/dbus/api/methods-and-errors", Fixture, NULL, fixture_set_up,
	           test_methods_and_errors, fixture_tear_down);
	g_test_add("/dbus/api/rules-changed", Fixture, NULL, fixture_set_up,
	           test_rules_changed_signal, fixture_tear_down);
	g_test_add("/dbus/api/agent", Fixture, NULL, fixture_set_up, test_agent, fixture_tear_down);
	return g_test_run();
}
