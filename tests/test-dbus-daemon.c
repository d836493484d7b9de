/* test-dbus-daemon.c: vigild's D-Bus side without a bus: rule dictionaries, domains, polkit rule */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"
#include "vigil-as-caller.h"
#include "vigil-bus-peer.h"

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
	g_autoptr(GArray) lines = NULL;
	g_autoptr(GPtrArray) rules = vigil_rules_from_import(
	    "# c\n\ndeny port 25 id 9 hits 4\nallow user 4000000 to x.org\n", &lines, &error);
	g_autoptr(GPtrArray) bad = NULL;
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	g_assert_cmpuint(rules->len, ==, 2);
	g_assert_cmpuint(lines->len, ==, 2);
	g_assert_cmpuint(g_array_index(lines, guint, 0), ==, 3);
	g_assert_cmpuint(g_array_index(lines, guint, 1), ==, 4);
	/* state keywords are dropped: imported rules get new ids */
	g_assert_cmpuint(((VigilRule *)g_ptr_array_index(rules, 0))->id, ==, 0);
	g_assert_cmpuint(((VigilRule *)g_ptr_array_index(rules, 0))->hits, ==, 0);
	text = vigil_rules_export(rules, G_MAXUINT32);
	g_assert_true(g_str_has_prefix(text, "# "));
	g_assert_nonnull(strstr(text, "\ndeny port 25\n"));
	g_assert_nonnull(strstr(text, "allow user 4000000 to x.org\n"));

	bad = vigil_rules_from_import("deny port 25\ndeny port 99999\n", NULL, &error);
	g_assert_null(bad);
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_str_has_prefix(error->message, "line 2: "));
}

/*
 * A user name in a rule from a caller is not looked up while the arguments are checked: it
 * waits in rule->user_name until polkit authorised the call (no name here exists)
 */
static void
test_user_names_wait(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) dict =
	    dict_from_pairs(VIGIL_RULE_KEY_ACTION, g_variant_new_string("deny"),
	                    VIGIL_RULE_KEY_USER, g_variant_new_string("vigil-no-such-user"), NULL);
	g_autoptr(GVariant) text = dict_from_pairs(
	    VIGIL_RULE_KEY_TEXT, g_variant_new_string("deny user vigil-no-such-2 port 1"), NULL);
	VigilRuleLookups lookups;
	g_autoptr(VigilRule) rule = vigil_rule_from_dict(dict, 1000, &lookups, &error);
	g_autoptr(VigilRule) from_text = NULL;
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GHashTable) uids = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GString) many = g_string_new(NULL);
	g_auto(GStrv) names = NULL;
	const char *const expected[] = {"vigil-a", "vigil-b", NULL};

	g_assert_no_error(error);
	g_assert_cmpstr(rule->user_name, ==, "vigil-no-such-user");
	/* unresolved, it is nobody's own rule: it needs the check for all rules or a lookup */
	g_assert_false(vigil_rule_is_own(rule, 1000));
	g_assert_false(vigil_rule_is_own(rule, 0));
	from_text = vigil_rule_from_dict(text, 1000, &lookups, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(from_text->user_name, ==, "vigil-no-such-2");

	/* once authorised: the uid the user database gave, or InvalidArgument naming the key */
	g_assert_false(vigil_rule_resolve_user(rule, uids, &error));
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, "user: unknown user 'vigil-no-such-user'");
	g_clear_error(&error);
	g_hash_table_insert(uids, (gpointer) "vigil-no-such-user", GUINT_TO_POINTER(1000));
	g_assert_true(vigil_rule_resolve_user(rule, uids, &error));
	g_assert_null(rule->user_name);
	g_assert_true(vigil_rule_is_own(rule, 1000));

	/* import: the names wait too, each asked for once, and a few per call */
	rules = vigil_rules_from_import("deny user vigil-a port 1\ndeny user vigil-b port 2\n"
	                                "deny user vigil-a port 3\n",
	                                NULL, &error);
	g_assert_no_error(error);
	names = vigil_rules_user_names(rules);
	g_assert_cmpstrv(names, expected);
	for (guint i = 0; i <= VIGIL_IMPORT_MAX_USERS; i++)
		g_string_append_printf(many, "deny user vigil-user-%u port 1\n", i);
	g_assert_null(vigil_rules_from_import(many->str, NULL, &error));
	g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED);
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
	const char *dir = vigil_test_tmp_dir("vigil-as-caller-XXXXXX");
	const char *closed = vigil_test_path(dir, "closed");
	const char *inside = vigil_test_path(closed, "tool");
	const char *missing = vigil_test_path(closed, "none");
	const char *link = vigil_test_path(dir, "link");
	const char *loop = vigil_test_path(dir, "loop");
	const char *via_link = vigil_test_path(link, "tool");
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
}

/* is @path refused as going through /proc, for a stranger and for root alike? */
static gboolean
refused_as_proc(const char *path)
{
	const VigilCallerCreds stranger = {.uid = 4444, .gid = 4444};
	const VigilCallerCreds root = {.uid = 0, .gid = 0};
	const VigilCallerCreds *const who[] = {&stranger, &root};

	for (guint i = 0; i < G_N_ELEMENTS(who); i++) {
		g_autoptr(GError) error = NULL;
		mode_t mode = 0;

		if (vigil_as_caller_stat(path, who[i], &mode, &error) ||
		    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED) ||
		    strstr(error->message, "/proc") == NULL) {
			g_test_message("%s as uid %u: %s", path, who[i]->uid,
			               error != NULL ? error->message : "looked at");
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * procfs follows its magic links (cwd, root, exe, fd/N) with vigild's ptrace rights: a path
 * through it is refused wherever the walk meets it, with one answer whether what it names
 * exists or not
 */
static void
test_as_caller_stat_proc(void)
{
	const char *dir = vigil_test_tmp_dir("vigil-as-caller-XXXXXX");
	const char *into = vigil_test_path(dir, "into-proc");
	const char *to_root = vigil_test_path(dir, "root-link");
	const char *via_link = vigil_test_path(into, "cwd");
	g_autofree char *dotdot = g_strdup_printf("%s/../../../../../../proc/1/cwd", dir);
	g_autofree char *via_root = g_strdup_printf("%s/proc/self/exe", to_root);
	g_autofree char *cwd_file = g_strdup_printf("/proc/%d/cwd/etc/passwd", (int)getpid());
	g_autofree char *cwd_none = g_strdup_printf("/proc/%d/cwd/no/such/file", (int)getpid());
	const char *const paths[] = {
	    "/proc",
	    "/proc/1/cwd",
	    "/proc/1/root/etc/passwd",
	    "/proc/1/root/no/such/file",
	    "/proc/self/exe",
	    "/proc/self/cwd",
	    "/proc/thread-self/root/bin/sh",
	    "/dev/fd/0",
	    "/dev/stdin",
	    cwd_file,
	    cwd_none,
	    via_link,
	    dotdot,
	    via_root,
	};

	if (geteuid() != 0) {
		g_test_skip("needs root to walk as others");
		return;
	}
	g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
	g_assert_cmpint(symlink("/proc/self", into), ==, 0);
	g_assert_cmpint(symlink("/", to_root), ==, 0);
	g_assert_true(g_chdir("/") == 0);
	for (guint i = 0; i < G_N_ELEMENTS(paths); i++)
		g_assert_true(refused_as_proc(paths[i]));
	/* what does not go through /proc is looked at as before */
	g_assert_false(refused_as_proc("/bin/sh"));
}

/* proc mounted elsewhere is procfs all the same (in a mount namespace of a child's own) */
static void
test_as_caller_stat_proc_elsewhere(void)
{
	const char *dir = vigil_test_tmp_dir("vigil-as-caller-XXXXXX");
	const char *mnt = vigil_test_path(dir, "p");
	const char *bound = vigil_test_path(dir, "b");
	pid_t child;
	int status = 0;

	if (geteuid() != 0) {
		g_test_skip("needs root to mount");
		return;
	}
	g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(mnt, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(bound, 0755), ==, 0);
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		/* a thread-free child: unshare(CLONE_NEWNS) needs an fs_struct of its own */
		g_autofree char *p_cwd = g_build_filename(mnt, "1", "cwd", "etc", NULL);
		g_autofree char *b_self = g_build_filename(bound, "self", "exe", NULL);
		g_autofree char *b_file =
		    g_build_filename(bound, "1", "cwd", "etc", "passwd", NULL);

		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("proc", mnt, "proc", 0, NULL) != 0 ||
		    mount("/proc", bound, NULL, MS_BIND, NULL) != 0)
			_exit(2);
		_exit(refused_as_proc(mnt) && refused_as_proc(p_cwd) && refused_as_proc(b_self) &&
		              refused_as_proc(b_file)
		          ? 0
		          : 1);
	}
	g_assert_cmpint(waitpid(child, &status, 0), ==, child);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void
test_polkit_budget(void)
{
	const guint max = VIGIL_POLKIT_MAX_IN_FLIGHT;
	const guint heavy = VIGIL_POLKIT_MAX_IN_FLIGHT - VIGIL_POLKIT_RESERVED;

	/* a uid with few checks going may use the reserve, up to the bus's share for polkit */
	g_assert_true(vigil_polkit_budget_admits(0, 0));
	g_assert_true(vigil_polkit_budget_admits(max - 1, VIGIL_POLKIT_SHARE_PER_UID - 1));
	g_assert_false(vigil_polkit_budget_admits(max, 0));
	/* one with many only below the reserve */
	g_assert_true(vigil_polkit_budget_admits(heavy - 1, 63));
	g_assert_false(vigil_polkit_budget_admits(heavy, VIGIL_POLKIT_SHARE_PER_UID));
	/* dbus-daemon's max_replies_per_connection on the system bus is 128: room is left */
	g_assert_cmpuint(max, <=, 128 - 32);
}

static void
test_socket_link(void)
{
	g_assert_cmpuint(vigil_bus_peer_parse_socket_link("socket:[12345]"), ==, 12345);
	g_assert_cmpuint(vigil_bus_peer_parse_socket_link("socket:[]"), ==, 0);
	g_assert_cmpuint(vigil_bus_peer_parse_socket_link("socket:[12x]"), ==, 0);
	g_assert_cmpuint(vigil_bus_peer_parse_socket_link("socket:[1]x"), ==, 0);
	g_assert_cmpuint(vigil_bus_peer_parse_socket_link("pipe:[12345]"), ==, 0);
	g_assert_cmpuint(vigil_bus_peer_parse_socket_link("/dev/null"), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dbus-daemon/as-caller-stat", test_as_caller_stat);
	g_test_add_func("/dbus-daemon/as-caller-stat-proc", test_as_caller_stat_proc);
	g_test_add_func("/dbus-daemon/as-caller-stat-proc-elsewhere",
	                test_as_caller_stat_proc_elsewhere);
	g_test_add_func("/dbus-daemon/domain-target", test_domain_target);
	g_test_add_func("/dbus-daemon/quote", test_quote);
	g_test_add_func("/dbus-daemon/polkit-budget", test_polkit_budget);
	g_test_add_func("/dbus-daemon/socket-link", test_socket_link);
	g_test_add_func("/dbus-daemon/rule-from-dict", test_rule_from_dict);
	g_test_add_func("/dbus-daemon/rule-from-dict-errors", test_rule_from_dict_errors);
	g_test_add_func("/dbus-daemon/update-keeps-state", test_update_keeps_state);
	g_test_add_func("/dbus-daemon/user-names-wait", test_user_names_wait);
	g_test_add_func("/dbus-daemon/import-all-or-none", test_import_all_or_none);
	g_test_add_func("/dbus-daemon/visibility", test_visibility);
	g_test_add_func("/dbus-daemon/polkit-fallback", test_polkit_fallback);
	g_test_add_func("/dbus-daemon/reply-options", test_reply_options);
	return g_test_run();
}
