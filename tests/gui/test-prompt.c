/* test-prompt.c: reading connection requests, the Reply() options, texts, .desktop matching */
#define G_LOG_DOMAIN "test-prompt"
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vigil-dbus.h"
#include "vigil-tray-program-info.h"
#include "vigil-client.h"

static GVariant *
full_connection(void)
{
	GVariantBuilder b;
	const char *parents[] = {"4000 /usr/bin/bash", "1 [systemd]", NULL};

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "program", g_variant_new_string("/usr/bin/curl"));
	g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string("curl"));
	g_variant_builder_add(&b, "{sv}", "pid", g_variant_new_uint32(4242));
	g_variant_builder_add(&b, "{sv}", "uid", g_variant_new_uint32(1000));
	g_variant_builder_add(&b, "{sv}", "user", g_variant_new_string("alice"));
	g_variant_builder_add(&b, "{sv}", "parents", g_variant_new_strv(parents, -1));
	g_variant_builder_add(&b, "{sv}", "cmdline",
	                      g_variant_new_string("curl https://www.example.org/"));
	g_variant_builder_add(&b, "{sv}", "sha256", g_variant_new_string("ab12"));
	g_variant_builder_add(&b, "{sv}", "binary-changed", g_variant_new_boolean(TRUE));
	g_variant_builder_add(&b, "{sv}", "protocol", g_variant_new_string("tcp"));
	g_variant_builder_add(&b, "{sv}", "family", g_variant_new_string("ipv4"));
	g_variant_builder_add(&b, "{sv}", "destination", g_variant_new_string("93.184.215.14"));
	g_variant_builder_add(&b, "{sv}", "hostname", g_variant_new_string("www.example.org"));
	g_variant_builder_add(&b, "{sv}", "port", g_variant_new_uint16(443));
	g_variant_builder_add(&b, "{sv}", "service", g_variant_new_string("https"));
	g_variant_builder_add(&b, "{sv}", "timeout", g_variant_new_uint32(30));
	g_variant_builder_add(&b, "{sv}", "host-target", g_variant_new_string("www.example.org"));
	g_variant_builder_add(&b, "{sv}", "domain-target", g_variant_new_string("*.example.org"));
	g_variant_builder_add(&b, "{sv}", "a-key-from-the-future", g_variant_new_int32(7));
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void
test_read_full(void)
{
	g_autoptr(GVariant) conn = full_connection();
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilClientRequest) p = vigil_client_request_new(17, conn, &error);
	g_autofree char *dest = NULL;
	g_autofree char *port = NULL;
	g_autofree char *proto = NULL;
	g_autofree char *via = NULL;
	g_autofree char *chain = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(p);
	g_assert_cmpuint(p->id, ==, 17);
	g_assert_cmpstr(p->program, ==, "/usr/bin/curl");
	g_assert_cmpuint(p->pid, ==, 4242);
	g_assert_cmpuint(p->uid, ==, 1000);
	g_assert_true(p->binary_changed);
	g_assert_false(p->exe_deleted);
	g_assert_true(p->has_port);
	g_assert_cmpuint(p->port, ==, 443);
	g_assert_cmpstr(p->domain_target, ==, "*.example.org");
	g_assert_cmpuint(p->timeout, ==, 30);

	dest = vigil_client_request_format_destination(p);
	g_assert_cmpstr(dest, ==, "www.example.org (93.184.215.14)");
	port = vigil_client_request_format_port(p);
	g_assert_cmpstr(port, ==, "443 (https)");
	proto = vigil_client_request_format_protocol(p);
	g_assert_cmpstr(proto, ==, "TCP/IPv4");
	via = vigil_client_request_format_via(p);
	g_assert_cmpstr(via, ==, "bash (4000)");
	chain = vigil_client_request_format_parents(p);
	g_assert_cmpstr(chain, ==, "bash (4000)\nsystemd (1)");
}

/* every text for the window comes out on one line, in stored order: a process chooses its
 * name, its command line and (through DNS) its destination's */
static void
test_texts_sanitized(void)
{
	const char *parents[] = {"4000 /tmp/x\n\xe2\x80\xae"
	                         "hs",
	                         NULL};
	g_autoptr(GVariant) conn = g_variant_ref_sink(g_variant_new_parsed(
	    "{'uid': <uint32 1000>, 'program': <'/tmp/gpj.\u202eexe'>, 'name': <'firefox'>, "
	    "'protocol': <'tc\np'>, 'family': <'ipv4'>, 'destination': <'192.0.2.1'>, "
	    "'hostname': <'evil.example\nPID 1, user root'>, 'port': <uint16 443>, "
	    "'service': <'h\u2067ttps'>, 'parents': <%^as>}",
	    parents));
	g_autoptr(VigilClientRequest) p = vigil_client_request_new(1, conn, NULL);
	g_autofree char *name = vigil_client_request_display_name(p);
	g_autofree char *dest = vigil_client_request_format_destination(p);
	g_autofree char *host = vigil_client_request_format_host(p);
	g_autofree char *port = vigil_client_request_format_port(p);
	g_autofree char *proto = vigil_client_request_format_protocol(p);
	g_autofree char *via = vigil_client_request_format_via(p);

	g_assert_nonnull(p);
	/* the verified file's name, not the name the process gave itself */
	g_assert_cmpstr(name, ==, "gpj.\\u202eexe");
	g_assert_cmpstr(dest, ==, "evil.example\\x0aPID 1, user root (192.0.2.1)");
	g_assert_cmpstr(host, ==, "evil.example\\x0aPID 1, user root");
	g_assert_cmpstr(port, ==, "443 (h\\u2067ttps)");
	g_assert_cmpstr(proto, ==, "TC\\x0aP/IPv4");
	g_assert_cmpstr(via, ==, "x\\x0a\\u202ehs (4000)");
}

static void
test_read_minimal_and_wrong_types(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilClientRequest) p = NULL;
	g_autoptr(GVariant) bad = NULL;
	g_autofree char *dest = NULL;
	g_autofree char *port = NULL;
	g_autofree char *name = NULL;

	/* a port of the wrong type counts as missing, not as a crash or a wrong number */
	p = vigil_client_request_new(
	    1,
	    g_variant_new_parsed("{'uid': <@u 5>, 'port': <'443'>, "
	                         "'destination': <'fd00::1'>, 'timeout': <@u 99999>}"),
	    &error);
	g_assert_no_error(error);
	g_assert_false(p->has_port);
	g_assert_cmpuint(p->timeout, ==, VIGIL_PROMPT_TIMEOUT_MAX);
	g_assert_cmpstr(*p->parents, ==, NULL);
	g_assert_null(vigil_client_request_format_via(p));
	dest = vigil_client_request_format_destination(p);
	g_assert_cmpstr(dest, ==, "fd00::1");
	port = vigil_client_request_format_port(p);
	g_assert_cmpstr(port, ==, "none");
	name = vigil_client_request_display_name(p);
	g_assert_cmpstr(name, ==, "Unknown program");
	g_clear_pointer(&p, vigil_client_request_free);

	/* without a uid there is no request to answer */
	p = vigil_client_request_new(2, g_variant_new_parsed("{'pid': <@u 5>}"), &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_assert_null(p);
	g_clear_error(&error);
	bad = g_variant_ref_sink(g_variant_new_string("x"));
	p = vigil_client_request_new(3, bad, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_icmp(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilClientRequest) p = vigil_client_request_new(
	    1,
	    g_variant_new_parsed("{'uid': <@u 0>, 'protocol': <'icmpv6'>, 'icmp-type': <@y 128>, "
	                         "'family': <'ipv6'>}"),
	    &error);
	g_autofree char *port = NULL;
	g_autofree char *proto = NULL;

	g_assert_no_error(error);
	port = vigil_client_request_format_port(p);
	g_assert_cmpstr(port, ==, "ICMP type 128");
	proto = vigil_client_request_format_protocol(p);
	g_assert_cmpstr(proto, ==, "ICMPV6/IPv6");
}

static void
test_seconds_left(void)
{
	g_autoptr(VigilClientRequest) p = vigil_client_request_new(
	    1, g_variant_new_parsed("{'uid': <@u 0>, 'timeout': <@u 10>}"), NULL);
	gint64 start = p->deadline - 10 * G_USEC_PER_SEC;

	g_assert_cmpuint(vigil_client_request_seconds_left(p, start), ==, 10);
	g_assert_cmpuint(vigil_client_request_seconds_left(p, start + 1), ==, 10);
	g_assert_cmpuint(vigil_client_request_seconds_left(p, start + 9 * G_USEC_PER_SEC), ==, 1);
	g_assert_cmpuint(vigil_client_request_seconds_left(p, p->deadline - 1), ==, 1);
	g_assert_cmpuint(vigil_client_request_seconds_left(p, p->deadline), ==, 0);
	g_assert_cmpuint(vigil_client_request_seconds_left(p, p->deadline + G_USEC_PER_SEC), ==, 0);
}

static void
assert_options(GVariant *options, const char *duration, guint32 seconds, const char *host,
               const char *port)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(options);
	const char *value = NULL;
	guint32 secs = 0;

	g_assert_true(g_variant_lookup(sunk, VIGIL_REPLY_KEY_DURATION, "&s", &value));
	g_assert_cmpstr(value, ==, duration);
	/* seconds goes with duration "seconds" and with nothing else: vigild rejects it */
	g_assert_cmpint(g_variant_lookup(sunk, VIGIL_REPLY_KEY_SECONDS, "u", &secs), ==,
	                seconds > 0);
	g_assert_cmpuint(secs, ==, seconds);
	g_assert_true(g_variant_lookup(sunk, VIGIL_REPLY_KEY_HOST_SCOPE, "&s", &value));
	g_assert_cmpstr(value, ==, host);
	g_assert_true(g_variant_lookup(sunk, VIGIL_REPLY_KEY_PORT_SCOPE, "&s", &value));
	g_assert_cmpstr(value, ==, port);
}

static void
test_reply_options(void)
{
	assert_options(vigil_client_reply_options(VIGIL_CLIENT_DURATION_ONCE,
	                                          VIGIL_CLIENT_HOST_SCOPE_HOST,
	                                          VIGIL_CLIENT_PORT_SCOPE_PORT),
	               "once", 0, "host", "port");
	assert_options(vigil_client_reply_options(VIGIL_CLIENT_DURATION_UNTIL_QUIT,
	                                          VIGIL_CLIENT_HOST_SCOPE_DOMAIN,
	                                          VIGIL_CLIENT_PORT_SCOPE_ANY),
	               "until-quit", 0, "domain", "any");
	assert_options(vigil_client_reply_options(VIGIL_CLIENT_DURATION_5_MINUTES,
	                                          VIGIL_CLIENT_HOST_SCOPE_ANY,
	                                          VIGIL_CLIENT_PORT_SCOPE_PORT),
	               "seconds", 300, "any", "port");
	assert_options(vigil_client_reply_options(VIGIL_CLIENT_DURATION_1_HOUR,
	                                          VIGIL_CLIENT_HOST_SCOPE_HOST,
	                                          VIGIL_CLIENT_PORT_SCOPE_PORT),
	               "seconds", 3600, "host", "port");
	assert_options(vigil_client_reply_options(VIGIL_CLIENT_DURATION_24_HOURS,
	                                          VIGIL_CLIENT_HOST_SCOPE_HOST,
	                                          VIGIL_CLIENT_PORT_SCOPE_PORT),
	               "seconds", 86400, "host", "port");
	assert_options(vigil_client_reply_options(VIGIL_CLIENT_DURATION_FOREVER,
	                                          VIGIL_CLIENT_HOST_SCOPE_ANY,
	                                          VIGIL_CLIENT_PORT_SCOPE_ANY),
	               "forever", 0, "any", "any");
}

static void
write_desktop(const char *dir, const char *id, const char *name, const char *exec_line)
{
	g_autofree char *path = g_build_filename(dir, id, NULL);
	g_autofree char *text = g_strdup_printf("[Desktop Entry]\nType=Application\nName=%s\n"
	                                        "Icon=test-icon\n%s\n",
	                                        name, exec_line);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
}

static void
make_program(const char *path)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, "#!/bin/sh\n", -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

static void
assert_match(VigilTrayAppIndex *index, const char *exe, const char *appid, const char *app_name,
             const char *claimed)
{
	g_autoptr(VigilAppMatch) match = vigil_tray_app_index_lookup(index, exe, appid);

	g_assert_nonnull(match);
	if (app_name == NULL)
		g_assert_null(match->app);
	else {
		g_assert_nonnull(match->app);
		g_assert_cmpstr(g_app_info_get_display_name(G_APP_INFO(match->app)), ==, app_name);
	}
	g_assert_cmpstr(match->claimed_name, ==, claimed);
}

/*
 * Only a system .desktop file that runs this very executable (PATH and links resolved, or
 * its TryExec) names a program; an app id, the app id's .desktop file and the user's own
 * .desktop files are claims. "System" means owned by root: run as root (as the suite does),
 * the temporary system directory is root's; as another user, nothing is verified.
 */
static void
test_app_index(void)
{
	g_autofree char *data = g_dir_make_tmp("vigil-apps-XXXXXX", NULL);
	g_autofree char *apps = g_build_filename(data, "applications", NULL);
	g_autofree char *home = g_build_filename(data, "home", NULL);
	g_autofree char *user_apps = g_build_filename(home, "applications", NULL);
	g_autofree char *open_dir = g_build_filename(data, "open", NULL);
	g_autofree char *bin = g_build_filename(data, "bin", NULL);
	g_autofree char *tool = g_build_filename(bin, "vigil-test-tool", NULL);
	g_autofree char *link = g_build_filename(bin, "vigil-test-link", NULL);
	g_autofree char *script = g_build_filename(bin, "vigil-test-script", NULL);
	g_autofree char *other = g_build_filename(bin, "vigil-test-other", NULL);
	g_autofree char *path_env = g_strdup_printf("%s:/usr/bin:/bin", bin);
	g_autofree char *system_file = g_build_filename(apps, "org.example.Tool.desktop", NULL);
	g_autofree char *user_file = g_build_filename(user_apps, "org.example.Tool.desktop", NULL);
	g_autofree char *open_file = g_build_filename(open_dir, "x.desktop", NULL);
	g_autoptr(VigilTrayAppIndex) index = NULL;
	gboolean root = geteuid() == 0;

	g_assert_cmpint(g_mkdir_with_parents(apps, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(user_apps, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(open_dir, 0755), ==, 0);
	g_assert_cmpint(g_chmod(open_dir, 0777), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(bin, 0755), ==, 0);
	make_program(tool);
	make_program(script);
	make_program(other);
	g_assert_cmpint(symlink(tool, link), ==, 0);

	/* Exec by name through PATH and a link; TryExec behind an "env" wrapper */
	write_desktop(apps, "org.example.Tool.desktop", "Example Tool",
	              "Exec=vigil-test-link --flag %U");
	write_desktop(apps, "org.example.Script.desktop", "Example Script",
	              "Exec=env FOO=1 vigil-test-script\nTryExec=vigil-test-script");
	write_desktop(apps, "org.example.Flat.desktop", "Example Flatpak",
	              "Exec=true --command=flat");
	/* the user's own files: one shadows the system's Tool, one names another program */
	write_desktop(user_apps, "org.example.Tool.desktop", "Evil Tool", "Exec=vigil-test-tool");
	write_desktop(user_apps, "org.example.Fake.desktop", "Firefox", "Exec=vigil-test-other");
	write_desktop(open_dir, "x.desktop", "Open", "Exec=vigil-test-other");
	g_setenv("XDG_DATA_HOME", home, TRUE);
	g_setenv("XDG_DATA_DIRS", data, TRUE);
	g_setenv("PATH", path_env, TRUE);

	/* the user's directory, a directory anybody may write to: never the system's */
	g_assert_false(vigil_desktop_file_is_system(user_file));
	g_assert_false(vigil_desktop_file_is_system(open_file));
	g_assert_false(vigil_desktop_file_is_system("relative.desktop"));
	g_assert_false(vigil_desktop_file_is_system(NULL));
	g_assert_cmpint(vigil_desktop_file_is_system(system_file), ==, root);

	index = vigil_tray_app_index_new();
	if (root) {
		/* found through PATH and a link, though a user's file of the same id shadows it */
		assert_match(index, tool, NULL, "Example Tool", NULL);
		assert_match(index, script, NULL, "Example Script", NULL);
		/* an app id whose file is the verified one adds nothing... */
		assert_match(index, script, "org.example.Script", "Example Script", NULL);
		/* ...one whose file is the user's says what the user's file says */
		assert_match(index, tool, "org.example.Tool", "Example Tool", "Evil Tool");
	} else {
		assert_match(index, tool, NULL, NULL, "Evil Tool");
	}
	/* a system file that runs something else: the app id only claims it */
	assert_match(index, other, "org.example.Flat", NULL, "Example Flatpak");
	/* an app id without a file: the app id itself is the claim */
	assert_match(index, other, "no.such.App", NULL, "no.such.App");
	assert_match(index, NULL, "no.such.App", NULL, "no.such.App");
	/* a user's file that runs this program is a claim too */
	assert_match(index, other, NULL, NULL, "Firefox");
	assert_match(index, "/usr/bin/some-other-program", NULL, NULL, NULL);
	assert_match(index, "unknown", NULL, NULL, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/prompt/read-full", test_read_full);
	g_test_add_func("/prompt/read-minimal-and-wrong-types", test_read_minimal_and_wrong_types);
	g_test_add_func("/prompt/icmp", test_icmp);
	g_test_add_func("/prompt/texts-sanitized", test_texts_sanitized);
	g_test_add_func("/prompt/seconds-left", test_seconds_left);
	g_test_add_func("/prompt/reply-options", test_reply_options);
	g_test_add_func("/prompt/app-index", test_app_index);
	return g_test_run();
}
