/* test-util.c: set-up the unit tests share (see test-util.h) */
#include "config.h"

#include "test-util.h"

#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

static void
remove_and_free(gpointer dir)
{
	vigil_test_remove_tree(dir);
	g_free(dir);
}

const char *
vigil_test_tmp_dir(const char *tmpl)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp(tmpl, &error);

	g_assert_no_error(error);
	g_assert_nonnull(dir);
	g_test_queue_destroy(remove_and_free, dir);
	return dir;
}

const char *
vigil_test_path(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL);

	g_test_queue_free(path);
	return path;
}

void
vigil_test_remove_tree(const char *path)
{
	g_autoptr(GDir) dir = NULL;
	const char *name;
	GStatBuf st;

	/* a link (to "/" or /proc/self in some tests) is removed, never followed */
	if (g_lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		g_unlink(path);
		return;
	}
	/* a test may have taken the write permission away to make saves fail */
	g_chmod(path, 0700);
	dir = g_dir_open(path, 0, NULL);
	if (dir == NULL) {
		g_rmdir(path);
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

void
vigil_test_put16(GByteArray *m, guint16 v)
{
	guint8 be[2] = {v >> 8, v & 0xff};

	g_byte_array_append(m, be, 2);
}

void
vigil_test_put32(GByteArray *m, guint32 v)
{
	vigil_test_put16(m, v >> 16);
	vigil_test_put16(m, v & 0xffff);
}

VigilRuleStore *
vigil_test_rule_store_new(const char *dir)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *system = g_build_filename(dir, "rules.d", NULL);
	g_autofree char *learned = g_build_filename(dir, "learned.rules", NULL);
	VigilRuleStore *store;

	g_assert_cmpint(g_mkdir(system, 0700), ==, 0);
	store = vigil_rule_store_new(system, learned, NULL);
	g_assert_true(vigil_rule_store_load(store, NULL, &error));
	g_assert_no_error(error);
	g_test_queue_destroy((GDestroyNotify)vigil_rule_store_free, store);
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

VigilHistoryRow *
vigil_test_traffic_update(guint8 host, guint16 sport)
{
	VigilHistoryRow *update = g_new0(VigilHistoryRow, 1);
	VigilFlowCounters *c = &update->traffic;

	update->is_update = TRUE;
	update->has_traffic = TRUE;
	c->family = AF_INET;
	c->protocol = 6;
	c->src.bytes[0] = 10;
	c->src.bytes[3] = 200;
	c->sport = sport;
	c->dst.bytes[0] = 10;
	c->dst.bytes[3] = host;
	c->dport = 443;
	return update;
}

/* @row through @write (insert or update_traffic) in an array of its own */
static void
history_write(sqlite3 *db, VigilHistoryRow *row,
              gboolean (*write)(sqlite3 *db, GPtrArray *rows, GError **error))
{
	g_autoptr(GPtrArray) rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_history_row_free);
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(rows, row);
	g_assert_true(write(db, rows, &error));
	g_assert_no_error(error);
}

void
vigil_test_history_insert(sqlite3 *db, VigilHistoryRow *row)
{
	history_write(db, row, vigil_history_db_insert);
}

void
vigil_test_history_update(sqlite3 *db, VigilHistoryRow *update)
{
	history_write(db, update, vigil_history_db_update_traffic);
}
