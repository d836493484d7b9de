/* test-util.c: set-up the unit tests share (see test-util.h) */
#include "config.h"

#include "test-util.h"

#include <glib/gstdio.h>

char *
vigil_test_make_tmp_dir(const char *tmpl)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp(tmpl, &error);

	g_assert_no_error(error);
	g_assert_nonnull(dir);
	return dir;
}

void
vigil_test_remove_tree(const char *path)
{
	g_autoptr(GDir) dir = NULL;
	const char *name;

	/* a test may have taken the write permission away to make saves fail */
	g_chmod(path, 0700);
	dir = g_dir_open(path, 0, NULL);
	if (dir == NULL) {
		g_remove(path);
		return;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		vigil_test_remove_tree(child);
	}
	g_rmdir(path);
}

void
vigil_test_write_file(const char *path, const char *contents, gssize len)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, contents, len, &error));
	g_assert_no_error(error);
}

VigilRuleStore *
vigil_test_rule_store_new(const char *dir, char **learned)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *system = g_build_filename(dir, "rules.d", NULL);
	g_autofree char *learned_path = g_build_filename(dir, "learned.rules", NULL);
	VigilRuleStore *store;

	g_assert_cmpint(g_mkdir(system, 0700), ==, 0);
	store = vigil_rule_store_new(system, learned_path, NULL);
	g_assert_true(vigil_rule_store_load(store, NULL, &error));
	g_assert_no_error(error);
	if (learned != NULL)
		*learned = g_steal_pointer(&learned_path);
	return store;
}

guint64
vigil_test_add_learned(VigilRuleStore *store, const char *line)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule = vigil_rule_parse_line(line, NULL, &error);

	g_assert_no_error(error);
	g_assert_true(vigil_rule_store_add_learned(store, rule, &error));
	g_assert_no_error(error);
	return rule->id;
}
