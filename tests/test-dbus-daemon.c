/* test-dbus-daemon.c: vigild's D-Bus side without a bus: rule dictionaries, domains, polkit rule */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-as-caller.h"

#include "vigil-conn-dict.h"
#include "vigil-dbus-rules.h"
#include "vigil-dbus.h"
#include "vigil-polkit.h"
#include "vigil-prompts.h"

static GVariant *
dict_from_pairs(const char *first_key, ...)
{
	GVariantBuilder builder;
	va_list args;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	va_start(args, first_key);
	for (const char *key = first_key; key != NULL; key = va_arg(args, const char *))
		g_variant_builder_add(&builder, "{sv}", key, va_arg(args, GVariant *));
	va_end(args);
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

static void
test_domain_target(void)
{
	const struct {
		const char *host;
		const char *domain;
	} cases[] = {
	    {"www.example.org", "*.example.org"},
	    {"example.org", "*.example.org"},
	    {"a.b.c.example.org", "*.example.org"},
	    {"www.example.co.uk", "*.example.co.uk"},
	    {"example.com.au", "*.example.com.au"},
	    {"WWW.Example.ORG", "*.example.org"},
	    /* by the public suffix list, wildcard and private suffixes included */
	    {"www.bbc.co.uk", "*.bbc.co.uk"},
	    {"news.example.kawasaki.jp", "*.news.example.kawasaki.jp"},
	    {"alice.github.io", "*.alice.github.io"},
	    {"www.alice.github.io", "*.alice.github.io"},
	    {"www.example.com.br", "*.example.com.br"},
	    /* a public suffix itself, or one label: no domain to allow */
	    {"co.uk", NULL},
	    {"github.io", NULL},
	    {"org", NULL},
	    {"localhost", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = vigil_domain_target(cases[i].host);

		g_assert_cmpstr(got, ==, cases[i].domain);
	}
}

static void
test_quote(void)
{
	g_autofree char *plain = vigil_rule_quote("/usr/bin/curl");
	g_autofree char *spaced = vigil_rule_quote("/opt/My App/x");
	g_autofree char *quotes = vigil_rule_quote("say \"hi\" \\o/");
	g_autofree char *empty = vigil_rule_quote("");

	g_assert_cmpstr(plain, ==, "/usr/bin/curl");
	g_assert_cmpstr(spaced, ==, "\"/opt/My App/x\"");
	g_assert_cmpstr(quotes, ==, "\"say \\\"hi\\\" \\\\o/\"");
	g_assert_cmpstr(empty, ==, "\"\"");
}

static void
test_rule_from_dict(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) dict = dict_from_pairs(
	    VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"), VIGIL_RULE_KEY_PROGRAM,
	    g_variant_new_string("/bin/sh"), VIGIL_RULE_KEY_TO,
	    g_variant_new_string("*.Example.ORG"), VIGIL_RULE_KEY_PORT,
	    g_variant_new_string("443,80"), VIGIL_RULE_KEY_PROTO, g_variant_new_string("tcp"),
	    VIGIL_RULE_KEY_NOTE, g_variant_new_string("a note"), NULL);
	VigilRuleLookups lookups;
	g_autoptr(VigilRule) rule = vigil_rule_from_dict(dict, 1000, &lookups, &error);
	g_autoptr(GVariant) back = NULL;
	const char *text = NULL;
	guint32 uid = 0;

	g_assert_no_error(error);
	g_assert_nonnull(rule);
	/* the program is looked at only once the caller is authorised */
	g_assert_true(lookups.program);
	g_assert_false(lookups.process);
	/* no user or uid: the caller's own */
	g_assert_false(rule->all_users);
	g_assert_cmpuint(rule->uid, ==, 1000);
	g_assert_cmpint(rule->target_kind, ==, VIGIL_TARGET_DOMAIN);
	g_assert_cmpstr(rule->host, ==, "example.org");
	back = g_variant_ref_sink(vigil_rule_to_dict(rule));
	g_assert_true(g_variant_lookup(back, VIGIL_RULE_KEY_PORT, "&s", &text));
	g_assert_cmpstr(text, ==, "80,443");
	g_assert_true(g_variant_lookup(back, VIGIL_RULE_KEY_TO, "&s", &text));
	g_assert_cmpstr(text, ==, "*.example.org");
	g_assert_true(g_variant_lookup(back, VIGIL_RULE_KEY_UID, "u", &uid));
	g_assert_cmpuint(uid, ==, 1000);
	g_assert_true(g_variant_lookup(back, VIGIL_RULE_KEY_TEXT, "&s", &text));
	g_assert_cmpstr(text, ==,
	                "deny user 1000 app /bin/sh to *.example.org port 80,443 proto tcp "
	                "note \"a note\"");
}

/* each bad dictionary is InvalidArgument, and the message names the key */
static void
test_rule_from_dict_errors(void)
{
	g_autofree char *long_note = g_strnfill(1025, 'x');
	const struct {
		GVariant *dict;
		const char *needle;
	} cases[] = {
	    {dict_from_pairs(VIGIL_RULE_KEY_PORT, g_variant_new_string("80"), NULL), "action"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_uint32(1), NULL), "action"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"), "colour",
	                     g_variant_new_string("red"), NULL),
	     "colour"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"),
	                     VIGIL_RULE_KEY_HITS, g_variant_new_uint64(3), NULL),
	     "hits"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"),
	                     VIGIL_RULE_KEY_PROGRAM, g_variant_new_string("usr/bin/x"), NULL),
	     "program"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"), VIGIL_RULE_KEY_TO,
	                     g_variant_new_string("10.1.2.3/8"), NULL),
	     "to"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"),
	                     VIGIL_RULE_KEY_PORT, g_variant_new_string("0"), NULL),
	     "port"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"),
	                     VIGIL_RULE_KEY_NOTE, g_variant_new_string(long_note), NULL),
	     "note"},
	    {dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"),
	                     VIGIL_RULE_KEY_LIFETIME, g_variant_new_string("until"), NULL),
	     "until"},
	    {dict_from_pairs(VIGIL_RULE_KEY_TEXT, g_variant_new_string("deny port 80 hits 3"),
	                     NULL),
	     "state"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		VigilRuleLookups lookups;
		g_autoptr(VigilRule) rule =
		    vigil_rule_from_dict(cases[i].dict, 0, &lookups, &error);

		g_assert_null(rule);
		g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
		if (strstr(error->message, cases[i].needle) == NULL)
			g_error("case %u: '%s' does not mention %s", i, error->message,
			        cases[i].needle);
		g_variant_unref(cases[i].dict);
	}
}

static void
test_update_keeps_state(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) old = vigil_rule_parse_line("deny user 5 port 80", NULL, &error);
	g_autoptr(GVariant) changes =
	    dict_from_pairs(VIGIL_RULE_KEY_PORT, g_variant_new_string("any"), VIGIL_RULE_KEY_ACTION,
	                    g_variant_new_string("allow"), NULL);
	g_autoptr(VigilRule) rule = NULL;
	VigilRuleLookups lookups;

	old->id = 7;
	old->hits = 3;
	old->created = 1000;
	rule = vigil_rule_update_from_dict(old, changes, &lookups, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rule->id, ==, 7);
	g_assert_cmpuint(rule->hits, ==, 3);
	g_assert_cmpint(rule->created, ==, 1000);
	g_assert_null(rule->ports);
	g_assert_cmpint(rule->action, ==, VIGIL_ACTION_ALLOW);
	g_assert_cmpuint(rule->uid, ==, 5);
	/* the old rule is untouched */
	g_assert_nonnull(old->ports);
}

static void
test_import_all_or_none(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rules = vigil_rules_from_import(
	    "# c\n\ndeny port 25 id 9 hits 4\nallow user 4000000 to x.org\n", &error);
	g_autoptr(GPtrArray) bad = NULL;
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	g_assert_cmpuint(rules->len, ==, 2);
	/* state keywords are dropped: imported rules get new ids */
	g_assert_cmpuint(((VigilRule *)g_ptr_array_index(rules, 0))->id, ==, 0);
	g_assert_cmpuint(((VigilRule *)g_ptr_array_index(rules, 0))->hits, ==, 0);
	text = vigil_rules_export(rules, G_MAXUINT32);
	g_assert_true(g_str_has_prefix(text, "# "));
	g_assert_nonnull(strstr(text, "\ndeny port 25\n"));
	g_assert_nonnull(strstr(text, "allow user 4000000 to x.org\n"));

	bad = vigil_rules_from_import("deny port 25\ndeny port 99999\n", &error);
	g_assert_null(bad);
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_str_has_prefix(error->message, "line 2: "));
}

static void
test_visibility(void)
{
	g_autoptr(VigilRule) mine = vigil_rule_parse_line("deny user 5 port 80", NULL, NULL);
	g_autoptr(VigilRule) all = vigil_rule_parse_line("deny port 80", NULL, NULL);

	g_assert_true(vigil_rule_visible_to(mine, 5));
	g_assert_false(vigil_rule_visible_to(mine, 6));
	g_assert_true(vigil_rule_visible_to(mine, 0));
	g_assert_true(vigil_rule_visible_to(all, 6));
	g_assert_true(vigil_rule_is_own(mine, 5));
	g_assert_false(vigil_rule_is_own(all, 5));
}

static void
test_polkit_fallback(void)
{
	g_assert_true(vigil_polkit_fallback_allows(0, VIGIL_POLKIT_ACTION_CONFIGURE));
	g_assert_true(vigil_polkit_fallback_allows(0, VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES));
	g_assert_true(vigil_polkit_fallback_allows(1000, VIGIL_POLKIT_ACTION_READ));
	g_assert_true(vigil_polkit_fallback_allows(1000, VIGIL_POLKIT_ACTION_REPLY));
	g_assert_false(vigil_polkit_fallback_allows(1000, VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES));
	g_assert_false(vigil_polkit_fallback_allows(1000, VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES));
	g_assert_false(vigil_polkit_fallback_allows(1000, VIGIL_POLKIT_ACTION_CONFIGURE));
}

static void
test_reply_options(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) good =
	    dict_from_pairs(VIGIL_REPLY_KEY_DURATION, g_variant_new_string("seconds"),
	                    VIGIL_REPLY_KEY_SECONDS, g_variant_new_uint32(60), NULL);
	g_autoptr(GVariant) no_seconds =
	    dict_from_pairs(VIGIL_REPLY_KEY_DURATION, g_variant_new_string("seconds"), NULL);
	g_autoptr(GVariant) stray_seconds =
	    dict_from_pairs(VIGIL_REPLY_KEY_SECONDS, g_variant_new_uint32(60), NULL);
	g_autoptr(GVariant) empty = dict_from_pairs(NULL);

	g_assert_true(vigil_prompts_check_reply("allow", good, &error));
	g_assert_true(vigil_prompts_check_reply("drop", empty, &error));
	g_assert_no_error(error);
	g_assert_false(vigil_prompts_check_reply("maybe", empty, &error));
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(vigil_prompts_check_reply("allow", no_seconds, &error));
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(vigil_prompts_check_reply("allow", stray_seconds, &error));
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
}

/* a path is judged as its caller would see it: closed directories hide what is in them */
static void
test_as_caller_stat(void)
{
	g_autofree char *dir = g_dir_make_tmp("vigil-as-caller-XXXXXX", NULL);
	g_autofree char *closed = g_build_filename(dir, "closed", NULL);
	g_autofree char *inside = g_build_filename(closed, "tool", NULL);
	g_autofree char *missing = g_build_filename(closed, "none", NULL);
	g_autofree char *link = g_build_filename(dir, "link", NULL);
	g_autofree char *loop = g_build_filename(dir, "loop", NULL);
	g_autofree char *via_link = g_build_filename(link, "tool", NULL);
	const guint32 group = 4343;
	const VigilCallerCreds owner = {.uid = 4242, .gid = 4242};
	const VigilCallerCreds stranger = {.uid = 4444, .gid = 4444};
	const VigilCallerCreds member = {.uid = 4545, .gid = 4545, .groups = &group, .n_groups = 1};
	const char *const paths[] = {inside, missing, via_link};
	mode_t mode = 0;
	GError *error = NULL;

	if (geteuid() != 0) {
		g_test_skip("needs root to chown");
		return;
	}
	g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(closed, 0710), ==, 0);
	g_assert_true(g_file_set_contents(inside, "#!/bin/sh\n", -1, NULL));
	g_assert_cmpint(chown(closed, 4242, 4343), ==, 0);
	g_assert_cmpint(symlink("closed", link), ==, 0);
	g_assert_cmpint(symlink("loop", loop), ==, 0);

	/* the owner and the group may search it; the owner sees what is there and what not */
	g_assert_true(vigil_as_caller_stat(inside, &owner, &mode, &error));
	g_assert_no_error(error);
	g_assert_true(S_ISREG(mode));
	g_assert_true(vigil_as_caller_stat(via_link, &member, &mode, &error));
	g_assert_no_error(error);
	g_assert_false(vigil_as_caller_stat(missing, &owner, &mode, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_clear_error(&error);
	/* anyone else gets the same answer for what exists and what does not */
	for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
		g_assert_false(vigil_as_caller_stat(paths[i], &stranger, &mode, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
		g_clear_error(&error);
	}
	g_assert_false(vigil_as_caller_stat(loop, &owner, &mode, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS);
	g_clear_error(&error);
	/* the real world: a program everyone may run */
	g_assert_true(vigil_as_caller_stat("/bin/sh", &stranger, &mode, &error));
	g_assert_no_error(error);
	g_assert_true(S_ISREG(mode));

	g_unlink(loop);
	g_unlink(link);
	g_unlink(inside);
	g_rmdir(closed);
	g_rmdir(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dbus-daemon/as-caller-stat", test_as_caller_stat);
	g_test_add_func("/dbus-daemon/domain-target", test_domain_target);
	g_test_add_func("/dbus-daemon/quote", test_quote);
	g_test_add_func("/dbus-daemon/rule-from-dict", test_rule_from_dict);
	g_test_add_func("/dbus-daemon/rule-from-dict-errors", test_rule_from_dict_errors);
	g_test_add_func("/dbus-daemon/update-keeps-state", test_update_keeps_state);
	g_test_add_func("/dbus-daemon/import-all-or-none", test_import_all_or_none);
	g_test_add_func("/dbus-daemon/visibility", test_visibility);
	g_test_add_func("/dbus-daemon/polkit-fallback", test_polkit_fallback);
	g_test_add_func("/dbus-daemon/reply-options", test_reply_options);
	return g_test_run();
}
