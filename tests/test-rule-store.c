/* test-rule-store.c: rules files on disk: loading, bad input, atomic saves, reloads */
#include "config.h"

#include "vigil-rule-store.h"

#include "test-util.h"

#include "vigil-atomic-file.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STORE_DOMAIN "vigil-rule-store"

typedef struct {
	const char *root;
	const char *system_dir;
	const char *learned_dir;
	const char *learned_path;
} Fixture;

static void
fixture_set_up(Fixture *fx, gconstpointer data)
{
	fx->root = vigil_test_tmp_dir("vigil-rule-store-XXXXXX");
	fx->system_dir = vigil_test_path(fx->root, "rules.d");
	fx->learned_dir = vigil_test_path(fx->root, "state");
	fx->learned_path = vigil_test_path(fx->learned_dir, "rules");
}

static void
write_file(const char *dir, const char *name, const char *contents, gssize len)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	vigil_test_write_file(path, contents, len);
}

static gboolean
resolve_user(const char *name, guint32 *uid)
{
	if (g_str_equal(name, "alice")) {
		*uid = 1000;
		return TRUE;
	}
	return FALSE;
}

static VigilRuleStore *
new_store(Fixture *fx)
{
	return vigil_rule_store_new(fx->system_dir, fx->learned_path, resolve_user);
}

static void
load_ok(VigilRuleStore *store, guint expected_problems)
{
	g_autoptr(GPtrArray) problems =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_load_problem_free);
	g_autoptr(GError) error = NULL;

	g_assert_true(vigil_rule_store_load(store, problems, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(problems->len, ==, expected_problems);
}

/* the rule whose canonical text is @text, or NULL */
static VigilRule *
find_rule(VigilRuleStore *store, const char *text)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(vigil_rule_store_get_ruleset(store));

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree char *line = vigil_rule_to_string(rule, FALSE);

		if (g_str_equal(line, text))
			return rule; /* the set still holds it */
	}
	return NULL;
}

static guint
ruleset_size(VigilRuleStore *store)
{
	return vigil_ruleset_size(vigil_rule_store_get_ruleset(store));
}

/* names in @dir other than @except: a save must leave no temp file behind */
static guint
count_files_except(const char *dir_path, const char *except)
{
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	const char *name;
	guint n = 0;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL)
		n += g_strcmp0(name, except) != 0;
	return n;
}

/* ---- pure text ---- */

static void
test_parse_text(void)
{
	g_autoptr(GPtrArray) problems =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_load_problem_free);
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GPtrArray) learned = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GPtrArray) again = NULL;
	VigilLoadProblem *problem;
	VigilRule *rule;

	rules = vigil_rules_parse_text("# header\n"
	                               "allow app /usr/bin/a\n"
	                               "allow app relative/path\n"
	                               "\n"
	                               "deny to 10.0.0.1/8   # host bits\r\n"
	                               "drop user alice port 53 proto udp id 7 hits 3\n"
	                               "frobnicate\n",
	                               -1, "/etc/x.rules", TRUE, resolve_user, problems);
	g_assert_cmpuint(rules->len, ==, 2);
	g_assert_cmpuint(problems->len, ==, 3);

	rule = g_ptr_array_index(rules, 0);
	g_assert_cmpstr(rule->origin, ==, "/etc/x.rules:2");
	g_assert_true(rule->system);
	rule = g_ptr_array_index(rules, 1);
	g_assert_cmpstr(rule->origin, ==, "/etc/x.rules:6");
	g_assert_cmpuint(rule->uid, ==, 1000);
	/* system rules carry no saved state */
	g_assert_cmpuint(rule->id, ==, 0);
	g_assert_cmpuint(rule->hits, ==, 0);

	problem = g_ptr_array_index(problems, 0);
	g_assert_cmpstr(problem->file, ==, "/etc/x.rules");
	g_assert_cmpuint(problem->line, ==, 3);
	g_assert_nonnull(strstr(problem->message, "relative/path"));
	problem = g_ptr_array_index(problems, 1);
	g_assert_cmpuint(problem->line, ==, 5);
	g_assert_nonnull(strstr(problem->message, "10.0.0.0/8"));
	problem = g_ptr_array_index(problems, 2);
	g_assert_cmpuint(problem->line, ==, 7);
	g_assert_nonnull(strstr(problem->message, "frobnicate"));

	/* learned rules keep their state, and their text reads back the same */
	learned = vigil_rules_parse_text("allow app /bin/x id 3 hits 9 created "
	                                 "2025-01-01T00:00:00Z\ndeny note \"a # b\" id 4\n",
	                                 -1, "learned", FALSE, NULL, NULL);
	g_assert_cmpuint(learned->len, ==, 2);
	g_assert_false(((VigilRule *)learned->pdata[0])->system);
	g_assert_cmpuint(((VigilRule *)learned->pdata[0])->hits, ==, 9);
	text = vigil_rules_format_text(learned, TRUE);
	again = vigil_rules_parse_text(text, -1, "again", FALSE, NULL, NULL);
	g_assert_cmpuint(again->len, ==, 2);
	for (guint i = 0; i < 2; i++)
		g_assert_true(vigil_rule_equal(learned->pdata[i], again->pdata[i], TRUE));
}

/* ---- loading ---- */

static void
test_missing_everything(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);

	load_ok(store, 0);
	g_assert_cmpuint(ruleset_size(store), ==, 0);
	/* and no file appears by loading */
	g_assert_false(g_file_test(fx->learned_dir, G_FILE_TEST_EXISTS));
}

static void
test_load_order_and_ids(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(GPtrArray) rules = NULL;
	g_autofree char *subdir = g_build_filename(fx->system_dir, "dir.rules", NULL);

	write_file(fx->system_dir, "20-b.rules", "deny app /usr/bin/b\n", -1);
	write_file(fx->system_dir, "10-a.rules", "allow app /usr/bin/a\nallow app /usr/bin/a2\n",
	           -1);
	write_file(fx->system_dir, "README", "not rules at all\n", -1);
	write_file(fx->system_dir, ".#10-a.rules", "editor lock\n", -1);
	write_file(fx->system_dir, "30-c.rules~", "backup\n", -1);
	g_assert_cmpint(g_mkdir(subdir, 0755), ==, 0);
	write_file(fx->learned_dir, "rules", "allow app /usr/bin/l id 5 hits 2\n", -1);

	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*dir.rules: not a regular file");
	load_ok(store, 1);
	g_test_assert_expected_messages();
	rules = vigil_ruleset_list(vigil_rule_store_get_ruleset(store));
	g_assert_cmpuint(rules->len, ==, 4);

	/* learned first, with its saved id; system rules after, in file name then line order */
	g_assert_cmpuint(((VigilRule *)rules->pdata[0])->id, ==, 5);
	g_assert_false(((VigilRule *)rules->pdata[0])->system);
	g_assert_cmpuint(((VigilRule *)rules->pdata[0])->hits, ==, 2);
	g_assert_cmpstr(((VigilRule *)rules->pdata[1])->program, ==, "/usr/bin/a");
	g_assert_cmpstr(((VigilRule *)rules->pdata[2])->program, ==, "/usr/bin/a2");
	g_assert_cmpstr(((VigilRule *)rules->pdata[3])->program, ==, "/usr/bin/b");
	for (guint i = 1; i < 4; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);

		g_assert_true(rule->system);
		g_assert_cmpuint(rule->id, >, VIGIL_RULE_ID_SYSTEM_BASE);
		g_assert_nonnull(rule->origin);
		g_assert_true(g_str_has_prefix(rule->origin, fx->system_dir));
	}
	g_assert_true(g_str_has_suffix(((VigilRule *)rules->pdata[2])->origin, "10-a.rules:2"));
}

static void
test_bad_lines(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(GPtrArray) problems =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_load_problem_free);
	VigilLoadProblem *problem;

	write_file(fx->system_dir, "50-mixed.rules",
	           "allow app /usr/bin/good1\n"
	           "allow app /usr/bin/bad port 0\n"
	           "# fine\n"
	           "deny to \"unterminated\n"
	           "allow app /usr/bin/good2\n",
	           -1);
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*50-mixed.rules:2: port: '0'*");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*50-mixed.rules:4: *closing quote*");
	g_assert_true(vigil_rule_store_load(store, problems, NULL));
	g_test_assert_expected_messages();

	g_assert_cmpuint(ruleset_size(store), ==, 2);
	g_assert_nonnull(find_rule(store, "allow app /usr/bin/good1"));
	g_assert_nonnull(find_rule(store, "allow app /usr/bin/good2"));
	g_assert_cmpuint(problems->len, ==, 2);
	problem = g_ptr_array_index(problems, 1);
	g_assert_true(g_str_has_suffix(problem->file, "/50-mixed.rules"));
	g_assert_cmpuint(problem->line, ==, 4);
}

/*
 * Bad bytes in a rules.d file cost only their lines: the file's other rules load (with
 * the ids they had), and each bad line is reported with its number.
 */
static void
check_bad_bytes_per_line(Fixture *fx, const char *contents, gssize len, const guint *bad_lines,
                         guint n_bad)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(GPtrArray) problems =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_load_problem_free);
	guint64 id;

	write_file(fx->system_dir, "10-other.rules", "deny app /usr/bin/other\n", -1);
	write_file(fx->system_dir, "50-x.rules", "allow app /usr/bin/x\nallow app /usr/bin/y\n",
	           -1);
	load_ok(store, 0);
	id = find_rule(store, "allow app /usr/bin/x")->id;

	write_file(fx->system_dir, "50-x.rules", contents, len);
	for (guint i = 0; i < n_bad; i++) {
		g_autofree char *pattern = g_strdup_printf("*50-x.rules:%u: *", bad_lines[i]);

		g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, pattern);
	}
	g_assert_true(vigil_rule_store_load(store, problems, NULL));
	g_test_assert_expected_messages();

	g_assert_cmpuint(problems->len, ==, n_bad);
	for (guint i = 0; i < n_bad; i++)
		g_assert_cmpuint(((VigilLoadProblem *)problems->pdata[i])->line, ==, bad_lines[i]);
	g_assert_nonnull(find_rule(store, "deny app /usr/bin/other"));
	g_assert_nonnull(find_rule(store, "deny app /usr/bin/z"));
	g_assert_null(find_rule(store, "allow app /usr/bin/y"));
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/x")->id, ==, id);
	g_assert_cmpuint(ruleset_size(store), ==, 3);
}

static void
test_corrupt_binary(Fixture *fx, gconstpointer data)
{
	static const char junk[] = "allow app /usr/bin/x\n\x7f"
	                           "ELF\x02\x01\x01\x00\x00\x00\xff\xfe\n"
	                           "deny app /usr/bin/z # after the NUL\n";
	static const guint bad[] = {2};

	check_bad_bytes_per_line(fx, junk, sizeof(junk) - 1, bad, G_N_ELEMENTS(bad));
}

static void
test_corrupt_utf8(Fixture *fx, gconstpointer data)
{
	static const guint bad[] = {2, 3};

	/* even in a comment: the line is skipped and named, not the file */
	check_bad_bytes_per_line(fx,
	                         "allow app /usr/bin/x\n"
	                         "allow note \"caf\xe9\"\n"
	                         "# caf\xe9 au lait\n"
	                         "deny app /usr/bin/z\n",
	                         -1, bad, G_N_ELEMENTS(bad));
}

/* a binary file reports its first bad lines, then one line for the rest */
static void
test_binary_flood_reported_briefly(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(GPtrArray) problems =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_load_problem_free);
	g_autoptr(GString) junk = g_string_new("deny app /usr/bin/z\n");

	for (guint i = 0; i < 1000; i++)
		g_string_append_len(junk, "\x01\x00\xff\n", 4);
	write_file(fx->system_dir, "50-x.rules", junk->str, (gssize)junk->len);
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*50-x.rules:2: *NUL byte*");
	for (guint i = 1; i < 50; i++)
		g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*50-x.rules:*");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*50-x.rules: 950 more bad lines*");
	g_assert_true(vigil_rule_store_load(store, problems, NULL));
	g_test_assert_expected_messages();
	g_assert_cmpuint(problems->len, ==, 51);
	g_assert_cmpuint(((VigilLoadProblem *)problems->pdata[49])->line, ==, 51);
	g_assert_cmpuint(((VigilLoadProblem *)problems->pdata[50])->line, ==, 0);
	g_assert_nonnull(strstr(((VigilLoadProblem *)problems->pdata[50])->message, "950 more"));
	g_assert_nonnull(find_rule(store, "deny app /usr/bin/z"));
}

static void
test_unreadable_file(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = g_build_filename(fx->system_dir, "50-x.rules", NULL);
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;
	guint64 id;

	write_file(fx->system_dir, "50-x.rules", "allow app /usr/bin/x\n", -1);
	load_ok(store, 0);
	id = find_rule(store, "allow app /usr/bin/x")->id;

	g_assert_cmpint(g_chmod(path, 0), ==, 0);
	/* the premise: this process cannot read it (main() dropped root's override) */
	g_assert_false(g_file_get_contents(path, &contents, NULL, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_ACCES);

	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*50-x.rules: *ermission denied*");
	load_ok(store, 1);
	g_test_assert_expected_messages();
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/x")->id, ==, id);
}

static void
test_unreadable_directory(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRuleStore) fresh = new_store(fx);
	g_autoptr(GError) error = NULL;

	write_file(fx->system_dir, "50-x.rules", "allow app /usr/bin/x\n", -1);
	load_ok(store, 0);
	g_assert_cmpint(g_chmod(fx->system_dir, 0), ==, 0);

	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*rules.d: *ermission denied*");
	load_ok(store, 1);
	g_test_assert_expected_messages();
	g_assert_nonnull(find_rule(store, "allow app /usr/bin/x"));

	/* with nothing loaded before and nothing loadable now, loading fails */
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*rules.d: *ermission denied*");
	g_assert_false(vigil_rule_store_load(fresh, NULL, &error));
	g_test_assert_expected_messages();
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, "rules.d"));
}

static void
test_removed_file(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autofree char *path = g_build_filename(fx->system_dir, "50-x.rules", NULL);

	write_file(fx->system_dir, "50-x.rules", "allow app /usr/bin/x\n", -1);
	write_file(fx->system_dir, "60-y.rules", "allow app /usr/bin/y\n", -1);
	load_ok(store, 0);
	g_assert_cmpint(g_remove(path), ==, 0);
	load_ok(store, 0);
	g_assert_cmpuint(ruleset_size(store), ==, 1);
	/* a removed directory means no system rules, not an error */
	vigil_test_remove_tree(fx->system_dir);
	load_ok(store, 0);
	g_assert_cmpuint(ruleset_size(store), ==, 0);
}

static void
test_ids_stable_across_reloads(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	guint64 id_a, id_b, id_dup1, id_dup2;
	VigilRule *a;

	write_file(fx->system_dir, "50-x.rules",
	           "allow app /usr/bin/a\nallow app /usr/bin/b\ndeny port 1\ndeny port 1\n", -1);
	load_ok(store, 0);
	a = find_rule(store, "allow app /usr/bin/a");
	id_a = a->id;
	id_b = find_rule(store, "allow app /usr/bin/b")->id;
	a->hits = 4;

	/* reordered, re-spaced, commented, with a new file in front and a changed line */
	write_file(fx->system_dir, "10-new.rules", "drop app /usr/bin/new\n", -1);
	write_file(fx->system_dir, "50-x.rules",
	           "# moved around\ndeny port 1\nallow   app /usr/bin/b\n\nallow app /usr/bin/a\n"
	           "deny port 1\ndeny port 2\n",
	           -1);
	load_ok(store, 0);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/a")->id, ==, id_a);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/b")->id, ==, id_b);
	/* the same rule object: its hits survive */
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/a")->hits, ==, 4);
	g_assert_true(g_str_has_suffix(find_rule(store, "allow app /usr/bin/a")->origin, ":5"));
	g_assert_cmpuint(find_rule(store, "drop app /usr/bin/new")->id, >, id_b);
	g_assert_cmpuint(ruleset_size(store), ==, 6);

	/* two identical lines keep two ids */
	{
		g_autoptr(GPtrArray) rules =
		    vigil_ruleset_list(vigil_rule_store_get_ruleset(store));
		guint n = 0;

		id_dup1 = id_dup2 = 0;
		for (guint i = 0; i < rules->len; i++) {
			VigilRule *rule = g_ptr_array_index(rules, i);
			g_autofree char *text = vigil_rule_to_string(rule, FALSE);

			if (!g_str_equal(text, "deny port 1"))
				continue;
			if (n++ == 0)
				id_dup1 = rule->id;
			else
				id_dup2 = rule->id;
		}
		g_assert_cmpuint(n, ==, 2);
		g_assert_cmpuint(id_dup1, !=, id_dup2);
	}
	load_ok(store, 0);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/a")->id, ==, id_a);
	g_assert_cmpuint(ruleset_size(store), ==, 6);
}

/* ---- learned rules ---- */

static VigilRule *
parse(const char *line)
{
	g_autoptr(GError) error = NULL;
	VigilRule *rule = vigil_rule_parse_line(line, NULL, &error);

	g_assert_no_error(error);
	return rule;
}

static void
test_add_remove_save(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRuleStore) reader = new_store(fx);
	g_autoptr(VigilRule) first = parse("allow app /usr/bin/firefox to *.mozilla.org port 443");
	g_autoptr(VigilRule) second = parse("deny app \"/opt/My App/app\" note \"x # y\" id 99");
	g_autoptr(VigilRule) bad = vigil_rule_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GPtrArray) saved = NULL;
	GStatBuf st;

	write_file(fx->system_dir, "50-x.rules", "allow app /usr/bin/x\n", -1);
	load_ok(store, 0);
	g_assert_true(vigil_rule_store_add_learned(store, first, &error));
	g_assert_no_error(error);
	g_assert_true(vigil_rule_store_add_learned(store, second, &error));
	g_assert_no_error(error);

	/* fresh ids below the system range; an imported id is not kept */
	g_assert_cmpuint(first->id, >=, 1);
	g_assert_cmpuint(second->id, ==, first->id + 1);
	g_assert_cmpint(first->created, >, 0);
	g_assert_false(first->system);
	first->hits = 12;
	first->last_hit = first->created + 5;
	g_assert_true(vigil_rule_store_save(store, &error));
	g_assert_no_error(error);

	/* the file parses back into the same rules, and nothing else is left in its directory */
	g_assert_true(g_file_get_contents(fx->learned_path, &text, NULL, NULL));
	saved = vigil_rules_parse_text(text, -1, fx->learned_path, FALSE, NULL, NULL);
	g_assert_cmpuint(saved->len, ==, 2);
	g_assert_true(vigil_rule_equal(saved->pdata[0], first, TRUE));
	g_assert_true(vigil_rule_equal(saved->pdata[1], second, TRUE));
	g_assert_cmpuint(count_files_except(fx->learned_dir, "rules"), ==, 0);
	g_assert_cmpint(g_stat(fx->learned_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	/* the system rule never goes into the learned file */
	g_assert_null(strstr(text, "/usr/bin/x"));

	/* another store reads the same rules, with their state */
	load_ok(reader, 0);
	g_assert_cmpuint(
	    vigil_ruleset_lookup(vigil_rule_store_get_ruleset(reader), first->id)->hits, ==, 12);

	/* removal */
	g_assert_true(vigil_rule_store_remove_learned(store, first->id, &error));
	g_assert_no_error(error);
	g_assert_false(vigil_rule_store_remove_learned(store, first->id, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(
	    vigil_rule_store_remove_learned(store, VIGIL_RULE_ID_SYSTEM_BASE + 1, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	load_ok(reader, 0);
	g_assert_null(vigil_ruleset_lookup(vigil_rule_store_get_ruleset(reader), first->id));
	g_assert_cmpuint(ruleset_size(reader), ==, 2);

	/* a rule that could not be read back is refused */
	bad->program = g_strdup("not/absolute");
	g_assert_false(vigil_rule_store_add_learned(store, bad, &error));
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
	g_clear_error(&error);
	/* a user's name not looked up yet: refused by name, not stored (as root's rule) */
	{
		g_autoptr(VigilRule) named =
		    vigil_rule_parse_line_keep_names("allow user nosuchuser port 22", &error);
		g_assert_no_error(error);
		g_assert_nonnull(named->user_name);
		g_assert_false(vigil_rule_store_add_learned(store, named, &error));
		g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
		g_assert_nonnull(strstr(error->message, "'nosuchuser' is not resolved"));
		g_clear_error(&error);
		g_assert_false(vigil_rule_store_replace_learned(store, second->id, named, &error));
		g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
		g_clear_error(&error);
		g_assert_cmpuint(ruleset_size(store), ==, 2);
		g_assert_false(vigil_rule_equal(
		    vigil_ruleset_lookup(vigil_rule_store_get_ruleset(store), second->id), named,
		    FALSE));
	}
	/* and one already in the set is not added twice */
	g_assert_false(vigil_rule_store_add_learned(store, second, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
	g_assert_cmpuint(ruleset_size(store), ==, 2);
}

static void
test_replace(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRuleStore) reader = new_store(fx);
	g_autoptr(VigilRule) original = parse("allow app /usr/bin/a port 443");
	g_autoptr(VigilRule) update = parse("deny app /usr/bin/a port 443 disabled note changed");
	g_autoptr(VigilRule) other = parse("deny");
	g_autoptr(GError) error = NULL;
	VigilRule *loaded;
	guint64 id;

	write_file(fx->system_dir, "50-x.rules", "allow app /usr/bin/x\n", -1);
	load_ok(store, 0);
	g_assert_true(vigil_rule_store_add_learned(store, original, NULL));
	id = original->id;
	original->hits = 7;
	original->last_hit = original->created + 1;

	g_assert_true(vigil_rule_store_replace_learned(store, id, update, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(update->id, ==, id);
	g_assert_cmpuint(update->hits, ==, 7);
	g_assert_cmpint(update->created, ==, original->created);
	g_assert_true(vigil_ruleset_lookup(vigil_rule_store_get_ruleset(store), id) == update);
	g_assert_cmpuint(ruleset_size(store), ==, 2);

	/* saved: another reader sees the new rule under the old id */
	load_ok(reader, 0);
	loaded = vigil_ruleset_lookup(vigil_rule_store_get_ruleset(reader), id);
	g_assert_nonnull(loaded);
	g_assert_true(vigil_rule_equal(loaded, update, TRUE));

	g_assert_false(vigil_rule_store_replace_learned(store, id + 100, other, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(
	    vigil_rule_store_replace_learned(store, VIGIL_RULE_ID_SYSTEM_BASE + 1, other, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);

	/* when the save fails, the old rule stays */
	g_assert_cmpint(g_chmod(fx->learned_dir, 0500), ==, 0);
	g_assert_false(vigil_rule_store_replace_learned(store, id, other, &error));
	g_assert_nonnull(error);
	g_assert_cmpuint(other->id, ==, 0);
	g_assert_true(vigil_ruleset_lookup(vigil_rule_store_get_ruleset(store), id) == update);
	g_assert_cmpuint(ruleset_size(store), ==, 2);
}

/* a package upgrade moves rules' pins: ids, times and hits kept, saved once, stale pins found */
static void
test_repin(Fixture *fx, gconstpointer data)
{
	const char *old = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *new = "2222222222222222222222222222222222222222222222222222222222222222";
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRuleStore) reader = new_store(fx);
	g_autofree char *line_a =
	    g_strdup_printf("allow user 1000 app /usr/bin/a sha256 %s port 443", old);
	g_autofree char *line_b = g_strdup_printf("deny app /usr/bin/a sha256 %s port 25", old);
	g_autofree char *line_c = g_strdup_printf("allow user 1001 app /usr/bin/a sha256 %s", old);
	g_autoptr(VigilRule) a = parse(line_a);
	g_autoptr(VigilRule) b = parse(line_b);
	g_autoptr(VigilRule) c = parse(line_c);
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GPtrArray) stale = NULL;
	g_autoptr(GPtrArray) none = NULL;
	g_autoptr(GError) error = NULL;
	VigilRuleset *set;
	VigilRule *moved;
	guint64 system_id;

	write_file(fx->system_dir, "50-x.rules",
	           "allow app /usr/bin/a sha256 "
	           "1111111111111111111111111111111111111111111111111111111111111111\n",
	           -1);
	load_ok(store, 0);
	set = vigil_rule_store_get_ruleset(store);
	g_assert_true(vigil_rule_store_add_learned(store, a, NULL));
	g_assert_true(vigil_rule_store_add_learned(store, b, NULL));
	g_assert_true(vigil_rule_store_add_learned(store, c, NULL));
	a->hits = 5;
	/* uid 1000's and all users' learned rules; not uid 1001's, not the system rule */
	stale = vigil_ruleset_stale_pins(set, "/usr/bin/a", 1000, new);
	g_assert_nonnull(stale);
	g_assert_cmpuint(stale->len, ==, 2);
	none = vigil_ruleset_stale_pins(set, "/usr/bin/a", 1000, old);
	g_assert_null(none);
	g_assert_null(vigil_ruleset_stale_pins(set, "/usr/bin/b", 1000, new));

	g_array_append_val(ids, a->id);
	g_array_append_val(ids, b->id);
	g_assert_true(vigil_rule_store_repin_learned(store, ids, new, &error));
	g_assert_no_error(error);
	moved = vigil_ruleset_lookup(set, a->id);
	g_assert_cmpstr(moved->sha256, ==, new);
	g_assert_cmpuint(moved->hits, ==, 5);
	g_assert_cmpint(moved->created, ==, a->created);
	g_assert_cmpstr(vigil_ruleset_lookup(set, b->id)->sha256, ==, new);
	g_assert_cmpstr(vigil_ruleset_lookup(set, c->id)->sha256, ==, old);
	g_assert_null(vigil_ruleset_stale_pins(set, "/usr/bin/a", 1000, new));

	/* saved */
	load_ok(reader, 0);
	g_assert_cmpstr(vigil_ruleset_lookup(vigil_rule_store_get_ruleset(reader), a->id)->sha256,
	                ==, new);

	/* a system rule or an unknown id: nothing changes */
	system_id = VIGIL_RULE_ID_SYSTEM_BASE + 1;
	g_array_append_val(ids, system_id);
	g_assert_false(vigil_rule_store_repin_learned(store, ids, old, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
	g_assert_cmpstr(vigil_ruleset_lookup(set, a->id)->sha256, ==, new);
}

static void
test_save_fails_read_only(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRule) kept = parse("allow app /usr/bin/kept");
	g_autoptr(VigilRule) refused = parse("allow app /usr/bin/refused");
	g_autoptr(GError) error = NULL;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;
	g_autofree char *probe = g_build_filename(fx->learned_dir, "probe", NULL);

	load_ok(store, 0);
	g_assert_true(vigil_rule_store_add_learned(store, kept, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(fx->learned_path, &before, NULL, NULL));
	g_assert_cmpint(g_chmod(fx->learned_dir, 0500), ==, 0);
	/* the premise: this process cannot create files there */
	g_assert_false(g_file_set_contents(probe, "x", -1, NULL));

	g_assert_false(vigil_rule_store_add_learned(store, refused, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
	g_clear_error(&error);
	g_assert_cmpuint(refused->id, ==, 0);
	g_assert_false(vigil_rule_store_remove_learned(store, kept->id, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	g_assert_false(vigil_rule_store_save(store, &error));
	g_assert_nonnull(error);

	/* memory and file are as before, and no temp file was left */
	g_assert_cmpuint(ruleset_size(store), ==, 1);
	g_assert_true(vigil_ruleset_lookup(vigil_rule_store_get_ruleset(store), kept->id) == kept);
	g_assert_true(g_file_get_contents(fx->learned_path, &after, NULL, NULL));
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpuint(count_files_except(fx->learned_dir, "rules"), ==, 0);
}

/* the one file in the learned directory whose name starts with "rules.corrupt-", or NULL */
static char *
find_aside(Fixture *fx)
{
	g_autoptr(GDir) dir = g_dir_open(fx->learned_dir, 0, NULL);
	char *found = NULL;
	const char *name;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (!g_str_has_prefix(name, "rules.corrupt-"))
			continue;
		g_assert_null(found);
		found = g_build_filename(fx->learned_dir, name, NULL);
	}
	return found;
}

static void
assert_file_is(const char *path, const char *contents, gsize len)
{
	g_autofree char *text = NULL;
	gsize text_len = 0;

	g_assert_true(g_file_get_contents(path, &text, &text_len, NULL));
	g_assert_cmpmem(text, text_len, contents, len);
}

static void
test_learned_reload(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(GPtrArray) problems =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_load_problem_free);
	static const char original[] =
	    "allow app /usr/bin/a id 3 hits 10 last-hit 2025-01-01T00:00:00Z\n"
	    "allow app /usr/bin/dup id 3\n"
	    "allow app /usr/bin/sys id 1000000007\n"
	    "allow app /usr/bin/plain\n"
	    "allow app /usr/bin/bad port x\n";
	g_autofree char *aside = NULL;
	VigilRule *a;
	VigilRule *plain;
	guint64 plain_id;

	write_file(fx->learned_dir, "rules", original, -1);
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*rules:5: port: 'x'*");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*rules: could not be read whole (a bad line): kept as *");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*rules:2: id 3 is used twice*");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*rules:3: id 1000000007 is in the system rules' range*");
	g_assert_true(vigil_rule_store_load(store, problems, NULL));
	g_test_assert_expected_messages();
	g_assert_cmpuint(problems->len, ==, 4);
	g_assert_cmpuint(ruleset_size(store), ==, 4);
	/* the bad line is not lost: the file as it was is kept aside */
	aside = find_aside(fx);
	g_assert_nonnull(aside);
	assert_file_is(aside, original, sizeof(original) - 1);

	a = find_rule(store, "allow app /usr/bin/a");
	g_assert_cmpuint(a->id, ==, 3);
	g_assert_cmpuint(a->hits, ==, 10);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/dup")->id, <,
	                 VIGIL_RULE_ID_SYSTEM_BASE);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/sys")->id, <,
	                 VIGIL_RULE_ID_SYSTEM_BASE);
	plain = find_rule(store, "allow app /usr/bin/plain");
	plain_id = plain->id;
	g_assert_cmpuint(plain_id, !=, 0);

	/* the good rules were saved anew: the file is clean, and hits counted in memory
	 * survive a reload of it */
	a->hits = 15;
	load_ok(store, 0);
	g_assert_cmpuint(ruleset_size(store), ==, 4);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/a")->hits, ==, 15);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/plain")->id, ==, plain_id);

	/* a line written by hand without an id keeps the id it was given */
	write_file(fx->learned_dir, "rules", "allow app /usr/bin/hand\n", -1);
	load_ok(store, 0);
	plain_id = find_rule(store, "allow app /usr/bin/hand")->id;
	load_ok(store, 0);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/hand")->id, ==, plain_id);
	g_assert_true(vigil_rule_store_save(store, NULL));
	load_ok(store, 0);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/hand")->id, ==, plain_id);
	assert_file_is(aside, original, sizeof(original) - 1);
}

/*
 * A NUL byte in the learned file at start: the good lines load, the file is kept aside
 * as it was, and no save (a clean stop, AddRule) writes the empty set over the good rules.
 */
static void
test_learned_corrupt_at_start(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRuleStore) again = new_store(fx);
	g_autoptr(VigilRule) added = parse("deny app /usr/bin/added");
	static const char junk[] = "# Vigil learned rules\n"
	                           "allow app /usr/bin/a id 3\n"
	                           "\x00\x01\x02garbage\xff\n"
	                           "deny app /usr/bin/b id 4 hits 2\n";
	g_autofree char *aside = NULL;

	write_file(fx->learned_dir, "rules", junk, sizeof(junk) - 1);
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*rules:3: *NUL byte*");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*rules: could not be read whole*rules.corrupt-2*");
	load_ok(store, 2);
	g_test_assert_expected_messages();
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/a")->id, ==, 3);
	g_assert_cmpuint(find_rule(store, "deny app /usr/bin/b")->hits, ==, 2);
	aside = find_aside(fx);
	g_assert_nonnull(aside);
	assert_file_is(aside, junk, sizeof(junk) - 1);
	g_assert_cmpuint(count_files_except(fx->learned_dir, "rules"), ==, 1);

	/* saves keep both good rules and leave the copy alone */
	g_assert_true(vigil_rule_store_add_learned(store, added, NULL));
	g_assert_true(vigil_rule_store_save(store, NULL));
	load_ok(again, 0);
	g_assert_cmpuint(vigil_ruleset_size(vigil_rule_store_get_ruleset(again)), ==, 3);
	assert_file_is(aside, junk, sizeof(junk) - 1);
	g_assert_cmpuint(count_files_except(fx->learned_dir, "rules"), ==, 1);
}

/* while vigild runs, a learned file that turns bad loses none of the rules loaded before */
static void
test_learned_corrupt_keeps_rules(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	static const char junk[] = "\x00\x01\x02garbage\nallow app /usr/bin/new\n";
	g_autofree char *aside = NULL;

	write_file(fx->learned_dir, "rules", "allow app /usr/bin/a id 3\n", -1);
	load_ok(store, 0);
	write_file(fx->learned_dir, "rules", junk, sizeof(junk) - 1);
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*rules:1: *NUL byte*");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*rules: could not be read whole*");
	load_ok(store, 2);
	g_test_assert_expected_messages();
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/a")->id, ==, 3);
	g_assert_nonnull(find_rule(store, "allow app /usr/bin/new"));
	aside = find_aside(fx);
	assert_file_is(aside, junk, sizeof(junk) - 1);

	/* and both are in the file now */
	load_ok(store, 0);
	g_assert_cmpuint(find_rule(store, "allow app /usr/bin/a")->id, ==, 3);
	g_assert_nonnull(find_rule(store, "allow app /usr/bin/new"));
}

/* a learned file that cannot be read at all is kept aside too, not written over */
static void
test_learned_unreadable(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRule) added = parse("deny app /usr/bin/added");
	g_autofree char *aside = NULL;
	static const char text[] = "allow app /usr/bin/a id 3\n";

	write_file(fx->learned_dir, "rules", text, -1);
	g_assert_cmpint(g_chmod(fx->learned_path, 0), ==, 0);
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*rules: could not be read whole (*ermission denied)*");
	load_ok(store, 1);
	g_test_assert_expected_messages();
	g_assert_true(vigil_rule_store_add_learned(store, added, NULL));
	aside = find_aside(fx);
	g_assert_nonnull(aside);
	g_assert_cmpint(g_chmod(aside, 0600), ==, 0);
	assert_file_is(aside, text, sizeof(text) - 1);
}

/*
 * When the bad file cannot even be kept aside (a read-only directory), the good lines
 * still load, and every save fails rather than write over it, until it reads whole.
 */
static void
test_learned_corrupt_cannot_keep_aside(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(VigilRule) added = parse("deny app /usr/bin/added");
	g_autoptr(GError) error = NULL;
	static const char bad[] = "allow app /usr/bin/a id 3\nallow app /usr/bin/b port x\n";

	write_file(fx->learned_dir, "rules", bad, -1);
	g_assert_cmpint(g_chmod(fx->learned_dir, 0500), ==, 0);
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING, "*rules:2: port*");
	g_test_expect_message(STORE_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*rules: could not be read whole (a bad line) and cannot keep it "
	                      "aside: *ermission denied*");
	load_ok(store, 2);
	g_test_assert_expected_messages();
	g_assert_nonnull(find_rule(store, "allow app /usr/bin/a"));

	g_assert_cmpint(g_chmod(fx->learned_dir, 0700), ==, 0);
	g_assert_false(vigil_rule_store_save(store, &error));
	g_assert_nonnull(strstr(error->message, "not writing over it"));
	g_assert_false(vigil_rule_store_add_learned(store, added, NULL));
	assert_file_is(fx->learned_path, bad, sizeof(bad) - 1);
	g_assert_null(find_aside(fx));

	/* repaired: saves work again */
	write_file(fx->learned_dir, "rules", "allow app /usr/bin/a id 3\n", -1);
	load_ok(store, 0);
	g_assert_true(vigil_rule_store_add_learned(store, added, NULL));
}

static void
test_write_atomically(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = g_build_filename(fx->root, "file", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	GStatBuf st;

	write_file(fx->root, "file", "old contents", -1);
	g_assert_cmpint(g_chmod(path, 0644), ==, 0);
	g_assert_true(vigil_write_file_atomically(path, "new contents\n", &error));
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "new contents\n");
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpuint(count_files_except(fx->root, "file"), ==, 0);

	g_clear_pointer(&path, g_free);
	path = g_build_filename(fx->root, "missing-dir", "file", NULL);
	g_assert_false(vigil_write_file_atomically(path, "x", &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* ---- watching ---- */

typedef struct {
	GMainLoop *loop;
	guint calls;
} WatchState;

static void
on_changed(gpointer data)
{
	WatchState *state = data;

	state->calls++;
	g_main_loop_quit(state->loop);
}

static gboolean
on_timeout(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

/* runs the loop until a change is reported or @ms pass */
static void
run_loop(WatchState *state, guint ms)
{
	guint id = g_timeout_add(ms, on_timeout, state->loop);

	g_main_loop_run(state->loop);
	g_source_remove(id);
}

/* runs the loop for @ms whatever happens */
static void
run_loop_for(WatchState *state, guint ms)
{
	GMainContext *ctx = g_main_loop_get_context(state->loop);
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(ctx, FALSE))
			g_usleep(5000);
	}
}

static void
test_watch_reload(Fixture *fx, gconstpointer data)
{
	g_autoptr(VigilRuleStore) store = new_store(fx);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(VigilRule) learned = parse("allow app /usr/bin/learned");
	WatchState state = {.loop = loop};

	write_file(fx->system_dir, "50-x.rules", "allow app /usr/bin/x\n", -1);
	g_assert_cmpint(g_mkdir_with_parents(fx->learned_dir, 0700), ==, 0);
	load_ok(store, 0);
	vigil_rule_store_watch(store, G_CALLBACK(on_changed), &state);

	/* an admin drops in a file, in a burst of writes: one reload */
	write_file(fx->system_dir, "60-y.rules", "deny app /usr/bin/y\n", -1);
	write_file(fx->system_dir, "60-y.rules", "deny app /usr/bin/y\ndeny app /usr/bin/y2\n", -1);
	run_loop(&state, 5000);
	g_assert_cmpuint(state.calls, ==, 1);
	g_assert_nonnull(find_rule(store, "deny app /usr/bin/y2"));
	run_loop_for(&state, 500);
	g_assert_cmpuint(state.calls, ==, 1);

	/* the store's own save is not a change */
	g_assert_true(vigil_rule_store_add_learned(store, learned, NULL));
	run_loop_for(&state, 700);
	g_assert_cmpuint(state.calls, ==, 1);

	/* an edit of the learned file is */
	write_file(fx->learned_dir, "rules", "deny app /usr/bin/edited id 40\n", -1);
	run_loop(&state, 5000);
	g_assert_cmpuint(state.calls, ==, 2);
	g_assert_null(find_rule(store, "allow app /usr/bin/learned"));
	g_assert_cmpuint(find_rule(store, "deny app /usr/bin/edited")->id, ==, 40);

	/* other files beside the rules do not count */
	write_file(fx->system_dir, "notes.txt", "hello\n", -1);
	write_file(fx->learned_dir, "other", "hello\n", -1);
	run_loop_for(&state, 700);
	g_assert_cmpuint(state.calls, ==, 2);

	/* nor does a rewrite that changes nothing */
	write_file(fx->system_dir, "60-y.rules",
	           "# same\ndeny app /usr/bin/y\ndeny app /usr/bin/y2\n", -1);
	run_loop_for(&state, 700);
	g_assert_cmpuint(state.calls, ==, 2);

	/* removal of a file is */
	{
		g_autofree char *path = g_build_filename(fx->system_dir, "60-y.rules", NULL);

		g_assert_cmpint(g_remove(path), ==, 0);
	}
	run_loop(&state, 5000);
	g_assert_cmpuint(state.calls, ==, 3);
	g_assert_null(find_rule(store, "deny app /usr/bin/y"));
}

/*
 * The tests run as root on the build machines, and root reads and writes through any
 * permission bits. Drop that override so unreadable files and read-only directories are
 * what they are for the daemon's non-root cases and for a user running the tests.
 */
static void
drop_dac_override(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct caps[2] = {{0}};
	const int drop[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};

	if (syscall(SYS_capget, &header, caps) != 0)
		g_error("capget: %s", g_strerror(errno));
	for (guint i = 0; i < G_N_ELEMENTS(drop); i++)
		caps[drop[i] / 32].effective &= ~(1u << (drop[i] % 32));
	if (syscall(SYS_capset, &header, caps) != 0)
		g_error("capset: %s", g_strerror(errno));
}

static void
add_fixture_test(const char *path, void (*func)(Fixture *, gconstpointer))
{
	g_test_add(path, Fixture, NULL, fixture_set_up, func, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	drop_dac_override();

	g_test_add_func("/rule-store/parse-text", test_parse_text);
	add_fixture_test("/rule-store/load/missing-everything", test_missing_everything);
	add_fixture_test("/rule-store/load/order-and-ids", test_load_order_and_ids);
	add_fixture_test("/rule-store/load/bad-lines", test_bad_lines);
	add_fixture_test("/rule-store/load/corrupt-binary", test_corrupt_binary);
	add_fixture_test("/rule-store/load/corrupt-utf8", test_corrupt_utf8);
	add_fixture_test("/rule-store/load/binary-flood", test_binary_flood_reported_briefly);
	add_fixture_test("/rule-store/load/unreadable-file", test_unreadable_file);
	add_fixture_test("/rule-store/load/unreadable-directory", test_unreadable_directory);
	add_fixture_test("/rule-store/load/removed-file", test_removed_file);
	add_fixture_test("/rule-store/load/ids-stable", test_ids_stable_across_reloads);
	add_fixture_test("/rule-store/learned/add-remove-save", test_add_remove_save);
	add_fixture_test("/rule-store/learned/replace", test_replace);
	add_fixture_test("/rule-store/learned/repin", test_repin);
	add_fixture_test("/rule-store/learned/save-fails-read-only", test_save_fails_read_only);
	add_fixture_test("/rule-store/learned/reload", test_learned_reload);
	add_fixture_test("/rule-store/learned/corrupt-at-start", test_learned_corrupt_at_start);
	add_fixture_test("/rule-store/learned/corrupt", test_learned_corrupt_keeps_rules);
	add_fixture_test("/rule-store/learned/unreadable", test_learned_unreadable);
	add_fixture_test("/rule-store/learned/cannot-keep-aside",
	                 test_learned_corrupt_cannot_keep_aside);
	add_fixture_test("/rule-store/write-atomically", test_write_atomically);
	add_fixture_test("/rule-store/watch", test_watch_reload);
	return g_test_run();
}
