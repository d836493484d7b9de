/* test-util.h: set-up the unit tests share: a temporary directory and files in it, and a rule
 * store there with learned rules added */
#pragma once

#include <glib.h>

#include "vigil-history-db.h"
#include "vigil-rule-store.h"

/* What these return is the test's: freed (a directory removed with all it holds) when the
 * test ends, before the fixture's tear-down, the last made first (g_test_queue_destroy). */

/* A new directory from @tmpl (g_dir_make_tmp), or the test fails. */
const char *vigil_test_tmp_dir(const char *tmpl);

/* @dir/@name */
const char *vigil_test_path(const char *dir, const char *name);

/* Removes @path and everything below it, read-only directories too, following no link
 * (tear-down: no checks). */
void vigil_test_remove_tree(const char *path);

/* Writes @len bytes of @contents (-1: a string) to @path, or the test fails. */
void vigil_test_write_file(const char *path, const char *contents, gssize len);

/* Appends @v to @m in network byte order (packets and DNS messages built by hand). */
void vigil_test_put16(GByteArray *m, guint16 v);
void vigil_test_put32(GByteArray *m, guint32 v);

/* A loaded rule store on an empty @dir/rules.d and the learned file @dir/learned.rules. */
VigilRuleStore *vigil_test_rule_store_new(const char *dir);

/* Parses @line and adds it to @store's learned rules, or the test fails; returns its id. */
guint64 vigil_test_add_learned(VigilRuleStore *store, const char *line);

/* History rows (vigil-history-db.h): the tests' flows are TCP from 10.0.0.200 to port 443. */

/* An update of what conntrack counted on the flow from port @sport to 10.0.0.@host, with no
 * counts yet (the caller sets them). */
VigilHistoryRow *vigil_test_traffic_update(guint8 host, guint16 sport);

/* Inserts @row (taken) into @db, or the test fails. */
void vigil_test_history_insert(sqlite3 *db, VigilHistoryRow *row);

/* Applies the traffic update @update (taken) to @db, or the test fails. */
void vigil_test_history_update(sqlite3 *db, VigilHistoryRow *update);
