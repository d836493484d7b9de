/* test-vigil-client.c: libvigil-client's pure parts: reading a request, Reply() options, errors */
#define G_LOG_DOMAIN "test-vigil-client"
#include "config.h"

#include "vigil-client.h"

static GVariant *
connection(gboolean with_uid, const char *hostname, guint32 timeout)
{
	g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	if (with_uid)
		g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_UID, g_variant_new_uint32(1000));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_PROGRAM,
	                      g_variant_new_string("/usr/bin/curl"));
	/* a key of the wrong type counts as missing */
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_PID, g_variant_new_string("4242"));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_HOSTNAME, g_variant_new_string(hostname));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_DESTINATION,
	                      g_variant_new_string("192.0.2.7"));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_PORT, g_variant_new_uint16(443));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_TIMEOUT, g_variant_new_uint32(timeout));
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void
test_request_parse(void)
{
	g_autoptr(GVariant) conn = connection(TRUE, "evil\n\u202eexample.org", 99999);
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilClientRequest) r = vigil_client_request_new(5, conn, &error);
	g_autofree char *host = NULL;
	g_autofree char *name = NULL;

	g_assert_no_error(error);
	g_assert_cmpuint(r->id, ==, 5);
	g_assert_cmpuint(r->uid, ==, 1000);
	g_assert_cmpuint(r->pid, ==, 0);
	g_assert_true(r->has_port);
	g_assert_cmpuint(r->port, ==, 443);
	/* vigild bounds PromptTimeout; a larger value is not believed */
	g_assert_cmpuint(r->timeout, ==, VIGIL_PROMPT_TIMEOUT_MAX);
	/* the texts go through the sanitiser: no newline, no reordering */
	host = vigil_client_request_format_host(r);
	g_assert_cmpstr(host, ==, "evil\\x0a\\u202eexample.org");
	name = vigil_client_request_display_name(r);
	g_assert_cmpstr(name, ==, "curl");
}

static void
test_request_refused(void)
{
	g_autoptr(GVariant) no_uid = connection(FALSE, "example.org", 30);
	g_autoptr(GVariant) not_dict = g_variant_ref_sink(g_variant_new_string("x"));
	g_autoptr(GError) error = NULL;
	VigilClientRequest *r = vigil_client_request_new(1, no_uid, &error);

	g_assert_null(r);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	r = vigil_client_request_new(1, not_dict, &error);
	g_assert_null(r);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
assert_string(GVariant *options, const char *key, const char *expected)
{
	const char *value = NULL;

	if (expected == NULL) {
		g_assert_false(g_variant_lookup(options, key, "&s", &value));
		return;
	}
	g_assert_true(g_variant_lookup(options, key, "&s", &value));
	g_assert_cmpstr(value, ==, expected);
}

static void
test_reply_options(void)
{
	g_autoptr(GVariant) once_cli = g_variant_ref_sink(vigil_client_reply_options_from_names(
	    NULL, 0, VIGIL_HOST_SCOPE_HOST, VIGIL_PORT_SCOPE_PORT, FALSE));
	g_autoptr(GVariant) once_gui = g_variant_ref_sink(
	    vigil_client_reply_options(VIGIL_CLIENT_DURATION_ONCE, VIGIL_CLIENT_HOST_SCOPE_DOMAIN,
	                               VIGIL_CLIENT_PORT_SCOPE_ANY));
	g_autoptr(GVariant) hour = g_variant_ref_sink(
	    vigil_client_reply_options(VIGIL_CLIENT_DURATION_1_HOUR, VIGIL_CLIENT_HOST_SCOPE_ANY,
	                               VIGIL_CLIENT_PORT_SCOPE_PORT));
	g_autoptr(GVariant) forever = g_variant_ref_sink(vigil_client_reply_options_from_names(
	    VIGIL_DURATION_FOREVER, 77, VIGIL_HOST_SCOPE_DOMAIN, NULL, FALSE));
	guint32 seconds = 0;

	/* "once" makes no rule: a terminal answer sends no scopes */
	g_assert_cmpuint(g_variant_n_children(once_cli), ==, 1);
	assert_string(once_cli, VIGIL_REPLY_KEY_DURATION, VIGIL_DURATION_ONCE);
	assert_string(once_gui, VIGIL_REPLY_KEY_HOST_SCOPE, VIGIL_HOST_SCOPE_DOMAIN);
	assert_string(once_gui, VIGIL_REPLY_KEY_PORT_SCOPE, VIGIL_PORT_SCOPE_ANY);
	assert_string(hour, VIGIL_REPLY_KEY_DURATION, VIGIL_DURATION_SECONDS);
	g_assert_true(g_variant_lookup(hour, VIGIL_REPLY_KEY_SECONDS, "u", &seconds));
	g_assert_cmpuint(seconds, ==, 3600);
	assert_string(hour, VIGIL_REPLY_KEY_HOST_SCOPE, VIGIL_HOST_SCOPE_ANY);
	/* seconds go only with "seconds"; a scope not chosen is left out */
	g_assert_false(g_variant_lookup(forever, VIGIL_REPLY_KEY_SECONDS, "u", &seconds));
	assert_string(forever, VIGIL_REPLY_KEY_HOST_SCOPE, VIGIL_HOST_SCOPE_DOMAIN);
	assert_string(forever, VIGIL_REPLY_KEY_PORT_SCOPE, NULL);
}

/* an error as it arrives from vigild over the bus */
static GError *
remote(const char *name, const char *message)
{
	vigil_client_error_init();
	return g_dbus_error_new_for_dbus_error(name, message);
}

static void
test_error_kinds(void)
{
	struct {
		const char *name;
		VigilClientErrorKind kind;
	} cases[] = {
	    {VIGIL_DBUS_ERROR_PREFIX "PermissionDenied", VIGIL_CLIENT_ERROR_KIND_PERMISSION},
	    {"org.freedesktop.DBus.Error.AccessDenied", VIGIL_CLIENT_ERROR_KIND_PERMISSION},
	    {VIGIL_DBUS_ERROR_PREFIX "InteractiveAuthorizationRequired",
	     VIGIL_CLIENT_ERROR_KIND_AUTH_REQUIRED},
	    {"org.freedesktop.DBus.Error.ServiceUnknown", VIGIL_CLIENT_ERROR_KIND_NOT_RUNNING},
	    {"org.freedesktop.DBus.Error.Spawn.ExecFailed",
	     VIGIL_CLIENT_ERROR_KIND_ACTIVATION_FAILED},
	    {"org.freedesktop.DBus.Error.NoReply", VIGIL_CLIENT_ERROR_KIND_TIMEOUT},
	    {VIGIL_DBUS_ERROR_PREFIX "Busy", VIGIL_CLIENT_ERROR_KIND_BUSY},
	    {VIGIL_DBUS_ERROR_PREFIX "NotFound", VIGIL_CLIENT_ERROR_KIND_NOT_FOUND},
	    {VIGIL_DBUS_ERROR_PREFIX "InvalidArgument", VIGIL_CLIENT_ERROR_KIND_OTHER},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = remote(cases[i].name, "why");

		g_test_message("%s", cases[i].name);
		g_assert_cmpint(vigil_client_error_kind(error), ==, cases[i].kind);
	}
}

static void
test_error_messages(void)
{
	g_autoptr(GError) invalid = remote(VIGIL_DBUS_ERROR_PREFIX "InvalidArgument", "bad port");
	g_autoptr(GError) busy = remote(VIGIL_DBUS_ERROR_PREFIX "Busy", "too many calls");
	g_autoptr(GError) gone = remote("org.freedesktop.DBus.Error.NameHasNoOwner", "no owner");
	g_autoptr(GError) spawn = remote("org.freedesktop.DBus.Error.Spawn.ChildExited", "x");
	g_autofree char *invalid_text = vigil_client_error_message(invalid);
	g_autofree char *busy_text = vigil_client_error_message(busy);
	g_autofree char *gone_text = vigil_client_error_message(gone);

	/* vigild's own words, without the D-Bus error name in front */
	g_assert_true(
	    g_error_matches(invalid, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT));
	g_assert_cmpstr(invalid_text, ==, "bad port");
	g_assert_cmpstr(busy_text, ==, "vigild is busy: too many calls; try again in a moment");
	g_assert_cmpstr(gone_text, ==,
	                "vigild is not running (start it with: sudo systemctl start vigild)");
	g_assert_true(vigil_client_error_is_not_running(gone));
	g_assert_true(vigil_client_error_is_not_running(spawn));
	g_assert_false(vigil_client_error_is_not_running(busy));
}

/* why a changed program was asked about again, from the two keys vigild sends */
static void
test_changed_reason(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) conn = g_variant_ref_sink(g_variant_new_parsed(
	    "{'uid': <@u 0>, 'binary-changed': <true>, 'binary-changed-reason': "
	    "<'checksum-differs'>, 'binary-changed-package': <'curl\\x1b[2J'>}"));
	g_autoptr(VigilClientRequest) prompt = vigil_client_request_new(1, conn, &error);
	g_autofree char *why = NULL;
	g_autofree char *other = NULL;
	g_autofree char *none = NULL;
	g_autofree char *busy = NULL;
	g_autofree char *unknown = NULL;

	g_assert_no_error(error);
	g_assert_true(prompt->binary_changed);
	g_assert_cmpstr(prompt->changed_reason, ==, "checksum-differs");
	why = vigil_client_format_changed_reason(prompt->changed_reason, prompt->changed_package);
	g_assert_true(g_str_has_prefix(why, "It differs from the checksum package curl"));
	/* what came from vigild is shown sanitised: no escape reaches a terminal */
	g_assert_null(strchr(why, '\x1b'));
	other = vigil_client_format_changed_reason("not-from-package", "firefox-esr");
	g_assert_cmpstr(other, ==,
	                "Not from package firefox-esr: its rules do not follow this file.");
	none = vigil_client_format_changed_reason("not-packaged", NULL);
	g_assert_cmpstr(none, ==, "Not a packaged file: its rules do not follow upgrades.");
	busy = vigil_client_format_changed_reason("not-checked", "curl");
	g_assert_cmpstr(busy, ==,
	                "Not checked against package curl: too many connections wait for that "
	                "check.");
	unknown = vigil_client_format_changed_reason("something-new", "x");
	g_assert_null(unknown);
	g_assert_null(vigil_client_format_changed_reason(NULL, NULL));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/client/request/parse", test_request_parse);
	g_test_add_func("/client/request/refused", test_request_refused);
	g_test_add_func("/client/request/changed-reason", test_changed_reason);
	g_test_add_func("/client/reply/options", test_reply_options);
	g_test_add_func("/client/error/kinds", test_error_kinds);
	g_test_add_func("/client/error/messages", test_error_messages);
	return g_test_run();
}
