/* test-util.h: set-up the unit tests share: a temporary directory and files in it, and a rule
 * store there with learned rules added */
#pragma once

#include <glib.h>

#include "vigil-rule-store.h"

/* A new directory from @tmpl (g_dir_make_tmp), or the test fails. */
char *vigil_test_make_tmp_dir(const char *tmpl);

/* Removes @path and everything below it, read-only directories too (tear-down: no checks). */
void vigil_test_remove_tree(const char *path);

/* Writes @len bytes of @contents (-1: a string) to @path, or the test fails. */
void vigil_test_write_file(const char *path, const char *contents, gssize len);

/* A loaded rule store on an empty rules.d and the learned file @dir/learned.rules, whose path
 * goes to @learned (free it) when not NULL. */
VigilRuleStore *vigil_test_rule_store_new(const char *dir, char **learned);

/* Parses @line and adds it to @store's learned rules, or the test fails; returns its id. */
guint64 vigil_test_add_learned(VigilRuleStore *store, const char *line);
