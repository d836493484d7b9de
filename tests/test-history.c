/* test-history.c: the history database and its writer, on real SQLite files */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "test-util.h"
#include "vigil-conn-dict.h"
#include "vigil-fair.h"
#include "vigil-history.h"

/* the users of every test: alice (1000) owns the subordinate uids 100000-165535, bob is 1001,
 * carol 1002, dave 1003 (main() writes the files) */
#define ALICE     1000
#define ALICE_SUB 100000
#define BOB       1001
#define CAROL     1002
#define DAVE      1003

typedef struct {
	char *dir;
	char *path;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	(void)data;
	f->dir = g_dir_make_tmp("test-history-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "history.db", NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	vigil_test_remove_tree(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

/* a decision of @uid's @program to 10.0.0.@host, at @time */
static VigilHistoryRow *
make_row(guint32 uid, const char *program, guint8 host, gint64 time, VigilAction verdict)
{
	VigilDecision d = {0};

	d.time = time;
	d.uid = uid;
	d.user_name = (char *)(uid == 0 ? "root" : "alice");
	d.pid = 4242;
	d.program = (char *)program;
	d.family = AF_INET;
	d.protocol = 6;
	d.dst.bytes[0] = 10;
	d.dst.bytes[3] = host;
	d.dport = 443;
	d.hostname = (char *)"example.org";
	d.verdict = verdict;
	d.reason = VIGIL_REASON_RULE;
	d.rule_id = 7;
	d.queued_us = 55;
	return vigil_history_row_new_from(&d, program != NULL ? "ab12" : NULL);
}

static GPtrArray *
select_all(sqlite3 *db, const VigilHistoryQuery *query)
{
	VigilHistoryQuery all = {0};
	g_autoptr(GError) error = NULL;
	GPtrArray *rows = vigil_history_db_select(db, query != NULL ? query : &all, &error);

	g_assert_no_error(error);
	g_assert_nonnull(rows);
	return rows;
}

static const VigilDecision *
row_at(GPtrArray *rows, guint i)
{
	return &((VigilHistoryRow *)g_ptr_array_index(rows, i))->decision;
}

/* what was written is read back after the file is closed and opened again (a restart) */
static void
test_round_trip(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	VigilHistoryRow *v6 = make_row(1000, "/usr/bin/\xff-odd", 1, 2000, VIGIL_ACTION_DENY);
	g_autoptr(GPtrArray) rows = NULL;
	struct stat st;
	char text[64];

	(void)data;
	g_assert_no_error(error);
	vigil_test_history_insert(db, make_row(0, "/usr/bin/curl", 9, 1000, VIGIL_ACTION_ALLOW));
	v6->decision.family = AF_INET6;
	g_assert_true(vigil_address_parse("fd00::5", &v6->decision.family, &v6->decision.dst));
	vigil_test_history_insert(db, v6);
	vigil_test_history_insert(db, make_row(1000, NULL, 3, 3000, VIGIL_ACTION_DROP));
	sqlite3_close(db);

	g_assert_cmpint(g_stat(f->path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	db = vigil_history_db_open(f->path, TRUE, &error);
	g_assert_no_error(error);
	rows = select_all(db, NULL);
	g_assert_cmpuint(rows->len, ==, 3);
	g_assert_cmpuint(row_at(rows, 0)->id, <, row_at(rows, 1)->id);
	g_assert_cmpstr(row_at(rows, 0)->program, ==, "/usr/bin/curl");
	g_assert_cmpstr(((VigilHistoryRow *)rows->pdata[0])->sha256, ==, "ab12");
	g_assert_cmpstr(vigil_address_to_string(AF_INET, &row_at(rows, 0)->dst, text, sizeof text),
	                ==, "10.0.0.9");
	g_assert_cmpint(row_at(rows, 0)->verdict, ==, VIGIL_ACTION_ALLOW);
	g_assert_cmpint(row_at(rows, 0)->reason, ==, VIGIL_REASON_RULE);
	g_assert_cmpuint(row_at(rows, 0)->rule_id, ==, 7);
	g_assert_cmpint(row_at(rows, 0)->time, ==, 1000);
	g_assert_cmpstr(row_at(rows, 0)->hostname, ==, "example.org");
	g_assert_cmpstr(row_at(rows, 0)->user_name, ==, "root");
	g_assert_cmpuint(row_at(rows, 0)->dport, ==, 443);
	/* bytes that are not UTF-8 come back as they went in */
	g_assert_cmpstr(row_at(rows, 1)->program, ==, "/usr/bin/\xff-odd");
	g_assert_cmpint(row_at(rows, 1)->family, ==, AF_INET6);
	g_assert_cmpstr(vigil_address_to_string(AF_INET6, &row_at(rows, 1)->dst, text, sizeof text),
	                ==, "fd00::5");
	g_assert_null(row_at(rows, 2)->program);
	g_assert_cmpint(row_at(rows, 2)->verdict, ==, VIGIL_ACTION_DROP);
	sqlite3_close(db);
}

static guint
count(sqlite3 *db, const VigilHistoryQuery *query)
{
	g_autoptr(GPtrArray) rows = select_all(db, query);

	return rows->len;
}

static void
test_query_filters(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	g_autoptr(GPtrArray) newest = NULL;

	(void)data;
	g_assert_no_error(error);
	for (guint i = 1; i <= 10; i++)
		vigil_test_history_insert(
		    db, make_row(i % 2 == 0 ? 1000 : 1001, i <= 8 ? "/usr/bin/curl" : NULL, i,
		                 i * 100, i % 3 == 0 ? VIGIL_ACTION_DENY : VIGIL_ACTION_ALLOW));

	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.since = 300, .until = 600}), ==, 4);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.has_uid = TRUE, .uid = 1000}), ==, 5);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.program = "/usr/bin/curl"}), ==, 8);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.program = ""}), ==, 2);
	g_assert_cmpuint(
	    count(db, &(VigilHistoryQuery){.has_verdict = TRUE, .verdict = VIGIL_ACTION_DENY}), ==,
	    3);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.after = 7}), ==, 3);
	newest = select_all(db, &(VigilHistoryQuery){.limit = 3});
	g_assert_cmpuint(newest->len, ==, 3);
	g_assert_cmpint(row_at(newest, 0)->time, ==, 800);
	g_assert_cmpint(row_at(newest, 2)->time, ==, 1000);
	sqlite3_close(db);
}

/* an update for the flow of make_row(..., @host, ...) from port 40000 */
static VigilHistoryRow *
make_update(guint8 host, guint64 bytes_in, gboolean ended)
{
	VigilHistoryRow *update = vigil_test_traffic_update(host, 40000);
	VigilFlowCounters *c = &update->traffic;

	c->packets_out = 10;
	c->bytes_out = 700;
	c->packets_in = 20;
	c->bytes_in = bytes_in;
	c->ended = ended;
	update->ended = ended ? 5000 : 0;
	return update;
}

static VigilHistoryRow *
flow_row(guint32 uid, guint8 host, gint64 time, VigilAction verdict)
{
	VigilHistoryRow *row = make_row(uid, "/usr/bin/curl", host, time, verdict);

	row->decision.src.bytes[0] = 10;
	row->decision.src.bytes[3] = 200;
	row->decision.sport = 40000;
	return row;
}

/* conntrack's counters land on the newest allowed row of their flow that has not ended */
static void
test_traffic(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	g_autoptr(GPtrArray) rows = NULL;
	VigilHistoryRow *r;

	(void)data;
	g_assert_no_error(error);
	vigil_test_history_insert(db, flow_row(1000, 9, 1000, VIGIL_ACTION_ALLOW)); /* A */
	vigil_test_history_insert(
	    db, flow_row(1000, 8, 1100, VIGIL_ACTION_ALLOW));         /* another destination */
	vigil_test_history_update(db, make_update(9, 4096, FALSE));   /* read on the way */
	vigil_test_history_update(db, make_update(9, 1048576, TRUE)); /* A's end */
	vigil_test_history_update(
	    db, make_update(9, 77, TRUE)); /* a late event of the same tuple: nothing to end */
	vigil_test_history_insert(
	    db, flow_row(1000, 9, 6000, VIGIL_ACTION_DENY)); /* the port again, denied */
	vigil_test_history_insert(
	    db, flow_row(1000, 9, 7000, VIGIL_ACTION_ALLOW)); /* B: the port again, allowed */
	vigil_test_history_update(db, make_update(9, 5, FALSE));

	rows = select_all(db, NULL);
	g_assert_cmpuint(rows->len, ==, 4);
	r = rows->pdata[0];
	g_assert_true(r->has_traffic);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 1048576);
	g_assert_cmpuint(r->traffic.bytes_out, ==, 700);
	g_assert_cmpuint(r->traffic.packets_in, ==, 20);
	g_assert_cmpint(r->ended, ==, 5000);
	g_assert_cmpuint(r->decision.sport, ==, 40000);
	r = rows->pdata[1];
	g_assert_false(r->has_traffic);
	r = rows->pdata[2];
	g_assert_false(r->has_traffic);
	r = rows->pdata[3];
	g_assert_true(r->has_traffic);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 5);
	g_assert_cmpint(r->ended, ==, 0);
	sqlite3_close(db);
}

/* an update of @host's flow carrying conntrack's id @id */
static VigilHistoryRow *
make_update_id(guint8 host, guint32 id, guint64 bytes_in, gboolean ended)
{
	VigilHistoryRow *update = make_update(host, bytes_in, ended);

	update->traffic.id = id;
	return update;
}

static VigilHistoryRow *
flow_row_id(guint32 uid, guint8 host, gint64 time, guint32 id)
{
	VigilHistoryRow *row = flow_row(uid, host, time, VIGIL_ACTION_ALLOW);

	row->decision.ct_id = id;
	return row;
}

static const VigilHistoryRow *
only_row_of(GPtrArray *rows, guint32 uid, guint8 host)
{
	const VigilHistoryRow *found = NULL;

	for (guint i = 0; i < rows->len; i++) {
		const VigilHistoryRow *r = rows->pdata[i];

		if (r->decision.uid == uid && r->decision.dst.bytes[3] == host) {
			g_assert_null(found);
			found = r;
		}
	}
	g_assert_nonnull(found);
	return found;
}

/* counters go by conntrack's id: a row whose end was lost never takes a later flow's bytes
 * of the same addresses and ports (another user's); the tuple is the fallback only for rows
 * whose id is not known, and such a row takes the id of the first counters it gets */
static void
test_traffic_by_conntrack_id(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	g_autoptr(GPtrArray) rows = NULL;
	const VigilHistoryRow *r;

	(void)data;
	g_assert_no_error(error);
	/* alice's flow 111 is read once; its end is lost */
	vigil_test_history_insert(db, flow_row_id(ALICE, 9, 1000, 111));
	vigil_test_history_update(db, make_update_id(9, 111, 10, FALSE));
	/* bob's flow 222, same tuple, whose decision is not in the history (not kept) */
	vigil_test_history_update(db, make_update_id(9, 222, 5000, FALSE));
	vigil_test_history_update(db, make_update_id(9, 222, 6000, TRUE));
	/* carol's flow of unknown id (decided without the queue): the tuple finds it, and from
	 * then on its id */
	vigil_test_history_insert(db, flow_row_id(CAROL, 7, 2000, 0));
	vigil_test_history_update(db, make_update_id(7, 333, 70, FALSE));
	/* dave's later flow of the same tuple, id unknown too, while carol's end was lost */
	vigil_test_history_insert(db, flow_row_id(DAVE, 7, 3000, 0));
	vigil_test_history_update(db, make_update_id(7, 444, 80, FALSE));
	vigil_test_history_update(db, make_update_id(7, 333, 71, TRUE));

	rows = select_all(db, NULL);
	g_assert_cmpuint(rows->len, ==, 3);
	r = only_row_of(rows, ALICE, 9);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 10);
	g_assert_cmpint(r->ended, ==, 0);
	r = only_row_of(rows, CAROL, 7);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 71);
	g_assert_cmpint(r->ended, ==, 5000);
	r = only_row_of(rows, DAVE, 7);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 80);
	g_assert_cmpint(r->ended, ==, 0);
	sqlite3_close(db);
}

/*
 * Conntrack ids are unique among live flows only: a later flow may take the id of one whose
 * end was lost (review finding, LOW). Its row ends the earlier open row of that id, at the new
 * row's time, and the new flow's counters land on its own row only. The old code left the
 * earlier row open for good.
 */
static void
test_traffic_conntrack_id_reused(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	g_autoptr(GPtrArray) rows = NULL;
	const VigilHistoryRow *r;

	(void)data;
	g_assert_no_error(error);
	/* alice's flow 111 is read once; its end is lost */
	vigil_test_history_insert(db, flow_row_id(ALICE, 9, 1000, 111));
	vigil_test_history_update(db, make_update_id(9, 111, 10, FALSE));
	/* bob's later flow of the same tuple gets id 111 again */
	vigil_test_history_insert(db, flow_row_id(BOB, 9, 2000, 111));
	vigil_test_history_update(db, make_update_id(9, 111, 5, FALSE));
	vigil_test_history_update(db, make_update_id(9, 111, 6, FALSE));

	rows = select_all(db, NULL);
	g_assert_cmpuint(rows->len, ==, 2);
	r = only_row_of(rows, ALICE, 9);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 10);
	g_assert_cmpint(r->ended, ==, 2000);
	r = only_row_of(rows, BOB, 9);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 6);
	g_assert_cmpint(r->ended, ==, 0);
	sqlite3_close(db);
}

/* a history of schema 1 (before conntrack ids) is migrated: its rows stay, counters of its
 * open flows still find them by tuple */
static void
test_migrate_from_v1(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	g_autoptr(GPtrArray) rows = NULL;
	gint64 version = 0;
	sqlite3_stmt *stmt = NULL;

	(void)data;
	g_assert_no_error(error);
	vigil_test_history_insert(db, flow_row(BOB, 9, 1000, VIGIL_ACTION_ALLOW));
	/* what schema 1 had */
	g_assert_cmpint(sqlite3_exec(db,
	                             "DROP INDEX connections_ct_id; "
	                             "ALTER TABLE connections DROP COLUMN ct_id; "
	                             "PRAGMA user_version = 1",
	                             NULL, NULL, NULL),
	                ==, SQLITE_OK);
	sqlite3_close(db);
	db = vigil_history_db_open(f->path, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), ==,
	                SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	version = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	g_assert_cmpint(version, ==, VIGIL_HISTORY_SCHEMA_VERSION);
	vigil_test_history_update(db, make_update_id(9, 555, 42, FALSE));
	vigil_test_history_insert(db, flow_row_id(BOB, 8, 2000, 556));
	vigil_test_history_update(db, make_update_id(8, 556, 43, FALSE));
	rows = select_all(db, NULL);
	g_assert_cmpuint(rows->len, ==, 2);
	g_assert_cmpuint(((VigilHistoryRow *)rows->pdata[0])->traffic.bytes_in, ==, 42);
	g_assert_cmpuint(((VigilHistoryRow *)rows->pdata[1])->traffic.bytes_in, ==, 43);
	sqlite3_close(db);
}

static void
insert_many(sqlite3 *db, guint32 uid, guint n, gint64 time)
{
	g_autoptr(GPtrArray) rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_history_row_free);
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < n; i++)
		g_ptr_array_add(
		    rows, make_row(uid, "/usr/bin/flood", i % 250, time + i, VIGIL_ACTION_ALLOW));
	g_assert_true(vigil_history_db_insert(db, rows, &error));
	g_assert_no_error(error);
}

static void
expire_all(sqlite3 *db, gint64 before, guint64 max_bytes)
{
	gboolean more = TRUE;
	guint rounds = 0;

	while (more) {
		g_autoptr(GError) error = NULL;
		guint deleted = 0;

		g_assert_true(
		    vigil_history_db_expire(db, before, max_bytes, 500, &deleted, &more, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(deleted, <=, 500);
		g_assert_cmpuint(++rounds, <, 1000);
	}
}

static void
test_expire_by_age(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);

	(void)data;
	g_assert_no_error(error);
	insert_many(db, 1000, 1200, 1000);  /* old */
	insert_many(db, 1000, 30, 1000000); /* new */
	expire_all(db, 500000, 0);
	g_assert_cmpuint(count(db, NULL), ==, 30);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.since = 1000000}), ==, 30);
	sqlite3_close(db);
}

/* over the size bound, the user with the most rows loses their oldest: not the others */
static void
test_expire_by_size_is_fair(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	guint64 bound;

	(void)data;
	g_assert_no_error(error);
	insert_many(db, 1001, 100, 1000); /* the victim's, oldest of all */
	for (guint i = 0; i < 20; i++)
		insert_many(db, 1000, 1000, 10000 + i * 1000);
	bound = vigil_history_db_size(db) / 4;
	expire_all(db, 0, bound);
	g_assert_cmpuint(vigil_history_db_size(db), <=, bound);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.has_uid = TRUE, .uid = 1001}), ==, 100);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.has_uid = TRUE, .uid = 1000}), >, 0);
	sqlite3_close(db);
}

/* over the size bound, a user's subordinate uids count as the user: alice with 60 uids of a
 * few rows each is the one with the most, not bob with more rows than any one of her uids */
static void
test_expire_by_size_per_bucket(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = vigil_history_db_open(f->path, TRUE, &error);
	guint64 bound;

	(void)data;
	g_assert_no_error(error);
	insert_many(db, BOB, 400, 1000); /* bob's, the oldest */
	for (guint i = 0; i < 60; i++)
		insert_many(db, ALICE_SUB + i, 200, 10000 + i * 1000);
	bound = vigil_history_db_size(db) / 2;
	expire_all(db, 0, bound);
	g_assert_cmpuint(vigil_history_db_size(db), <=, bound);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.has_uid = TRUE, .uid = BOB}), ==, 400);
	g_assert_cmpuint(count(db, &(VigilHistoryQuery){.has_uid = TRUE, .uid = ALICE_SUB + 59}), >,
	                 0);
	sqlite3_close(db);
}

static void
write_file(const char *path, const char *data, gssize len)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, data, len, &error));
	g_assert_no_error(error);
}

/* a file that is no database is refused as corrupt, and left as it is */
static void
test_corrupt_file_untouched(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *after = NULL;
	char garbage[4096];
	gsize len = 0;

	(void)data;
	memset(garbage, 'x', sizeof garbage);
	write_file(f->path, garbage, sizeof garbage);
	g_assert_null(vigil_history_db_open(f->path, TRUE, &error));
	g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_CORRUPT);
	g_assert_true(g_file_get_contents(f->path, &after, &len, NULL));
	g_assert_cmpuint(len, ==, sizeof garbage);
	g_assert_cmpmem(after, len, garbage, sizeof garbage);
}

static void
test_newer_schema_refused(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = NULL;

	(void)data;
	g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==,
	                SQLITE_OK);
	sqlite3_close(db);
	g_assert_null(vigil_history_db_open(f->path, TRUE, &error));
	g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_VERSION);
	g_clear_error(&error);
	g_assert_null(vigil_history_db_open(f->path, FALSE, &error));
	g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_VERSION);
}

/* ---- the writer and queries ---- */

static void
on_query(GObject *source, GAsyncResult *result, gpointer data)
{
	GAsyncResult **out = data;

	(void)source;
	*out = g_object_ref(result);
}

static GPtrArray *
query_sync(VigilHistory *history, guint32 uid, const VigilHistoryQuery *query, GError **error)
{
	GAsyncResult *result = NULL;
	GPtrArray *rows;

	vigil_history_query_async(history, uid, query, NULL, on_query, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	rows = vigil_history_query_finish(history, result, error);
	g_object_unref(result);
	return rows;
}

static void
add_decisions(VigilHistory *history, guint32 uid, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(VigilHistoryRow) row =
		    make_row(uid, "/usr/bin/curl", i, g_get_real_time(), VIGIL_ACTION_ALLOW);

		vigil_history_add(history, &row->decision, row->sha256);
	}
}

static void
test_writer_keeps_across_restart(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;

	(void)data;
	add_decisions(history, 1000, 5);
	vigil_history_free(history); /* writes what is pending */
	history = vigil_history_new(f->path, &limits);
	add_decisions(history, 1000, 2);
	vigil_history_sync(history);
	g_assert_true(vigil_history_is_on(history));
	rows = query_sync(history, 1000, &(VigilHistoryQuery){0}, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 7);
	g_assert_cmpuint(vigil_history_n_dropped(history), ==, 0);
	vigil_history_free(history);
}

/* a corrupt file: the history is off and says why; the file is not touched */
static void
test_writer_off_when_corrupt(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	g_autoptr(GError) error = NULL;
	g_autofree char *after = NULL;
	VigilHistory *history;
	gsize len = 0;

	(void)data;
	write_file(f->path, "SQLite format 3 but not really", -1);
	g_test_expect_message("vigil-history", G_LOG_LEVEL_WARNING, "history * is off: *");
	history = vigil_history_new(f->path, &limits);
	vigil_history_sync(history);
	g_test_assert_expected_messages();
	g_assert_false(vigil_history_is_on(history));
	g_assert_nonnull(vigil_history_get_error(history));
	add_decisions(history, 1000, 3); /* nothing happens */
	g_assert_null(query_sync(history, 1000, &(VigilHistoryQuery){0}, &error));
	g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_OFF);
	vigil_history_free(history);
	g_assert_true(g_file_get_contents(f->path, &after, &len, NULL));
	g_assert_cmpstr(after, ==, "SQLite format 3 but not really");
}

static void
test_queries_bounded(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	GAsyncResult *results[VIGIL_HISTORY_MAX_QUERIES + 1] = {NULL};
	GAsyncResult *again = NULL;
	g_autoptr(GError) error = NULL;
	GPtrArray *rows;
	guint done;

	(void)data;
	add_decisions(history, 1000, 3);
	vigil_history_sync(history);
	/* one user, one query at a time */
	vigil_history_query_async(history, 1000, &(VigilHistoryQuery){0}, NULL, on_query,
	                          &results[0]);
	vigil_history_query_async(history, 1000, &(VigilHistoryQuery){0}, NULL, on_query, &again);
	/* and a bound for all users together, whose last slot is root's */
	G_STATIC_ASSERT(VIGIL_HISTORY_MAX_QUERIES == 4);
	vigil_history_query_async(history, BOB, &(VigilHistoryQuery){0}, NULL, on_query,
	                          &results[1]);
	vigil_history_query_async(history, CAROL, &(VigilHistoryQuery){0}, NULL, on_query,
	                          &results[2]);
	vigil_history_query_async(history, 0, &(VigilHistoryQuery){0}, NULL, on_query, &results[3]);
	vigil_history_query_async(history, DAVE, &(VigilHistoryQuery){0}, NULL, on_query,
	                          &results[4]);
	while (again == NULL || results[VIGIL_HISTORY_MAX_QUERIES] == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_null(vigil_history_query_finish(history, again, &error));
	g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY);
	g_clear_error(&error);
	g_assert_null(
	    vigil_history_query_finish(history, results[VIGIL_HISTORY_MAX_QUERIES], &error));
	g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY);
	g_clear_error(&error);
	do {
		done = 0;
		for (guint i = 0; i < VIGIL_HISTORY_MAX_QUERIES; i++)
			done += results[i] != NULL;
		if (done < VIGIL_HISTORY_MAX_QUERIES)
			g_main_context_iteration(NULL, TRUE);
	} while (done < VIGIL_HISTORY_MAX_QUERIES);
	for (guint i = 0; i <= VIGIL_HISTORY_MAX_QUERIES; i++)
		g_clear_object(&results[i]);
	g_object_unref(again);
	/* all done: there is room again */
	rows = query_sync(history, 1000, &(VigilHistoryQuery){0}, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 3);
	g_ptr_array_unref(rows);
	vigil_history_free(history);
}

static void
add_decisions_of(VigilHistory *history, guint32 first_uid, guint n_uids, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(VigilHistoryRow) row = make_row(first_uid + i % n_uids, "/usr/bin/flood",
		                                          i, g_get_real_time(), VIGIL_ACTION_DENY);

		vigil_history_add(history, &row->decision, row->sha256);
	}
}

/* holds the database's write lock from another connection: the writer waits, as long as the
 * lock is held, with the batch it took, and what comes meanwhile stays in the queue */
static sqlite3 *
block_writer(VigilHistory *history, const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	/* the writer may be trimming right after a sync (its first trim follows its first
	 * batch): wait for its transaction to end rather than fail with SQLITE_BUSY */
	sqlite3_busy_timeout(db, 30 * 1000);
	g_assert_cmpint(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
	/* one row for the writer to take and wait with */
	add_decisions_of(history, DAVE, 1, 1);
	g_usleep(100 * 1000);
	return db;
}

static void
unblock_writer(sqlite3 *db)
{
	g_assert_cmpint(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
}

static guint
n_rows_of(VigilHistory *history, guint32 uid)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows =
	    query_sync(history, 0, &(VigilHistoryQuery){.has_uid = TRUE, .uid = uid}, &error);

	g_assert_no_error(error);
	return rows->len;
}

/* another program's write lock, held longer than SQLite's usual busy timeout, makes the
 * writer wait with its batch, not lose it */
static void
test_writer_waits_for_lock(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	sqlite3 *blocker;

	(void)data;
	vigil_history_sync(history);
	blocker = block_writer(history, f->path);
	add_decisions_of(history, BOB, 1, 3);
	g_usleep(3 * G_USEC_PER_SEC);
	unblock_writer(blocker);
	vigil_history_sync(history);
	g_assert_cmpuint(n_rows_of(history, DAVE), ==, 1);
	g_assert_cmpuint(n_rows_of(history, BOB), ==, 3);
	g_assert_cmpuint(vigil_history_n_dropped(history), ==, 0);
	vigil_history_free(history);
}

/* a writer that is behind loses the flooding user's rows (all their uids), and flows'
 * counters, not another user's or root's */
static void
test_writer_queue_is_fair(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	VigilFlowCounters counters = {.family = AF_INET, .protocol = 6, .dport = 443};
	sqlite3 *blocker;

	(void)data;
	vigil_history_sync(history);
	blocker = block_writer(history, f->path);
	/* alice from 60 uids, and the counters of many flows: each far more than the queue */
	add_decisions_of(history, ALICE_SUB, 60, 3 * VIGIL_HISTORY_MAX_PENDING);
	for (guint i = 0; i < 2 * VIGIL_HISTORY_MAX_PENDING; i++) {
		counters.sport = 1024 + i;
		vigil_history_add_traffic(history, &counters);
	}
	add_decisions_of(history, BOB, 1, 500);
	add_decisions_of(history, 0, 1, 500);
	unblock_writer(blocker);
	vigil_history_sync(history);

	g_assert_cmpuint(n_rows_of(history, BOB), ==, 500);
	g_assert_cmpuint(n_rows_of(history, 0), ==, 500);
	g_assert_cmpuint(vigil_history_n_dropped_of(history, BOB), ==, 0);
	g_assert_cmpuint(vigil_history_n_dropped_of(history, 0), ==, 0);
	/* alice's share of the queue is kept, the rest counted as hers */
	g_assert_cmpuint(n_rows_of(history, ALICE_SUB), >, 0);
	g_assert_cmpuint(vigil_history_n_dropped_of(history, ALICE_SUB + 7), >=,
	                 2 * VIGIL_HISTORY_MAX_PENDING);
	g_assert_cmpuint(vigil_history_n_dropped_of(history, ALICE), ==,
	                 vigil_history_n_dropped_of(history, ALICE_SUB));
	g_assert_cmpuint(vigil_history_n_dropped(history), >=,
	                 vigil_history_n_dropped_of(history, ALICE) + VIGIL_HISTORY_MAX_PENDING);
	vigil_history_free(history);
}

/* a decision of @uid's allowed flow from port @sport to 10.0.0.@host, conntrack id @ct_id */
static void
add_flow(VigilHistory *history, guint32 uid, guint8 host, guint16 sport, guint32 ct_id)
{
	g_autoptr(VigilHistoryRow) row = flow_row_id(uid, host, g_get_real_time(), ct_id);

	row->decision.sport = sport;
	vigil_history_add(history, &row->decision, row->sha256);
}

/* conntrack's counters of that flow */
static void
add_counters(VigilHistory *history, guint8 host, guint16 sport, guint32 ct_id, guint64 bytes_in,
             gboolean ended)
{
	g_autoptr(VigilHistoryRow) update = make_update_id(host, ct_id, bytes_in, ended);

	update->traffic.sport = sport;
	vigil_history_add_traffic(history, &update->traffic);
}

static const VigilHistoryRow *
only_row_of_port(GPtrArray *rows, guint32 uid, guint16 sport)
{
	const VigilHistoryRow *found = NULL;

	for (guint i = 0; i < rows->len; i++) {
		const VigilHistoryRow *r = rows->pdata[i];

		if (r->decision.uid == uid && r->decision.sport == sport) {
			g_assert_null(found);
			found = r;
		}
	}
	g_assert_nonnull(found);
	return found;
}

/*
 * Flows' counters are shared fairly per user like the decisions (review finding, LOW): while
 * the writer is behind, alice's flood of counters (her short flows, from 60 uids) costs her own
 * counters, and bob's flow still gets its bytes. The old queue held counters in one shared
 * part, which alice's filled: bob's bytes were lost.
 */
static void
test_writer_counters_are_fair(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	const VigilHistoryRow *r;
	sqlite3 *blocker;

	(void)data;
	for (guint i = 0; i < 100; i++)
		add_flow(history, ALICE_SUB + i % 60, 9, 20000 + i, 1 + i);
	/* bob's decision without conntrack's id (a kernel that does not give it with queued
	 * packets): his flow is known by its addresses and ports */
	add_flow(history, BOB, 8, 30000, 0);
	vigil_history_sync(history);
	blocker = block_writer(history, f->path);
	for (guint i = 0; i < 3 * VIGIL_HISTORY_MAX_PENDING_TRAFFIC; i++)
		add_counters(history, 9, 20000 + i % 100, 1 + i % 100, i, FALSE);
	add_counters(history, 8, 30000, 5000, 12345, TRUE);
	unblock_writer(blocker);
	vigil_history_sync(history);

	rows = query_sync(history, 0, &(VigilHistoryQuery){0}, &error);
	g_assert_no_error(error);
	r = only_row_of_port(rows, BOB, 30000);
	g_assert_true(r->has_traffic);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 12345);
	g_assert_cmpint(r->ended, >, 0);
	/* alice's counters were kept up to her share, the rest lost */
	r = only_row_of_port(rows, ALICE_SUB, 20000);
	g_assert_true(r->has_traffic);
	g_assert_cmpuint(vigil_history_n_dropped(history), >=, VIGIL_HISTORY_MAX_PENDING_TRAFFIC);
	vigil_history_free(history);
}

/*
 * The writer applies what it takes in the order it came: alice's flow 111 ended (its last
 * counters queued), then bob's new flow took id 111, and its counters came; all in one batch
 * of the writer. The old writer added the batch's rows first, so that alice's last counters
 * landed on bob's row and ended it, and bob's own counters were lost.
 */
static void
test_writer_keeps_order(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	const VigilHistoryRow *r;
	sqlite3 *blocker;

	(void)data;
	add_flow(history, ALICE, 9, 40000, 111);
	vigil_history_sync(history);
	blocker = block_writer(history, f->path);
	add_counters(history, 9, 40000, 111, 99, TRUE);
	add_flow(history, BOB, 9, 40000, 111);
	add_counters(history, 9, 40000, 111, 5, FALSE);
	unblock_writer(blocker);
	vigil_history_sync(history);

	rows = query_sync(history, 0, &(VigilHistoryQuery){0}, &error);
	g_assert_no_error(error);
	r = only_row_of_port(rows, ALICE, 40000);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 99);
	g_assert_cmpint(r->ended, >, 0);
	r = only_row_of_port(rows, BOB, 40000);
	g_assert_true(r->has_traffic);
	g_assert_cmpuint(r->traffic.bytes_in, ==, 5);
	g_assert_cmpint(r->ended, ==, 0);
	vigil_history_free(history);
}

/* query slots count per user (all of a user's uids together), and the last one is root's */
static void
test_queries_per_bucket(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	const guint32 callers[] = {ALICE_SUB, ALICE_SUB + 1, BOB, CAROL, DAVE, 0};
	const gboolean busy[] = {FALSE, TRUE, FALSE, FALSE, TRUE, FALSE};
	GAsyncResult *results[G_N_ELEMENTS(callers)] = {NULL};

	(void)data;
	add_decisions(history, BOB, 3);
	vigil_history_sync(history);
	/* slots are taken at the call and given back in the main loop: none is back before all
	 * calls were made */
	for (guint i = 0; i < G_N_ELEMENTS(callers); i++)
		vigil_history_query_async(history, callers[i], &(VigilHistoryQuery){0}, NULL,
		                          on_query, &results[i]);
	for (guint i = 0; i < G_N_ELEMENTS(callers); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) rows = NULL;

		while (results[i] == NULL)
			g_main_context_iteration(NULL, TRUE);
		rows = vigil_history_query_finish(history, results[i], &error);
		if (busy[i]) {
			g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY);
		} else {
			g_assert_no_error(error);
			g_assert_cmpuint(rows->len, ==, 3);
		}
		g_clear_object(&results[i]);
	}
	vigil_history_free(history);
}

static GThread *main_thread;
static GThread *reply_thread;

/* an answer as GetConnections makes it: one dictionary a row */
static GVariant *
rows_to_reply(GPtrArray *rows)
{
	GVariantBuilder builder;

	reply_thread = g_thread_self();
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < rows->len; i++) {
		const VigilDecision *d = row_at(rows, i);

		g_variant_builder_add(&builder, "@a{sv}", vigil_decision_to_dict(d, d->id));
	}
	return g_variant_new("(aa{sv})", &builder);
}

/* the answer of 10,000 rows is made in the query's worker: the main loop only hands it on */
static void
test_reply_built_in_worker(Fixture *f, gconstpointer data)
{
	VigilHistoryLimits limits = {.days = 30, .max_mib = 64};
	VigilHistory *history = vigil_history_new(f->path, &limits);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) answer = NULL;
	g_autoptr(GVariant) rows = NULL;
	GAsyncResult *result = NULL;

	(void)data;
	main_thread = g_thread_self();
	/* in bursts of what one user may have waiting */
	for (guint i = 0; i < VIGIL_HISTORY_MAX_ROWS + 5; i += 1000) {
		add_decisions(history, BOB, 1000);
		vigil_history_sync(history);
	}
	g_assert_cmpuint(vigil_history_n_dropped(history), ==, 0);
	vigil_history_query_reply_async(history, BOB, &(VigilHistoryQuery){0}, rows_to_reply, NULL,
	                                on_query, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	answer = vigil_history_query_reply_finish(history, result, &error);
	g_object_unref(result);
	g_assert_no_error(error);
	g_assert_false(g_variant_is_floating(answer));
	rows = g_variant_get_child_value(answer, 0);
	g_assert_cmpuint(g_variant_n_children(rows), ==, VIGIL_HISTORY_MAX_ROWS);
	g_assert_nonnull(reply_thread);
	g_assert_true(reply_thread != main_thread);
	/* a refused query makes no answer */
	reply_thread = NULL;
	vigil_history_free(history);
	limits.days = 0;
	history = vigil_history_new(f->path, &limits);
	result = NULL;
	vigil_history_query_reply_async(history, BOB, &(VigilHistoryQuery){0}, rows_to_reply, NULL,
	                                on_query, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_null(vigil_history_query_reply_finish(history, result, &error));
	g_assert_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_OFF);
	g_assert_null(reply_thread);
	g_object_unref(result);
	vigil_history_free(history);
}

/* the users of the tests, in files of their own */
static char *
write_users(void)
{
	char *dir = g_dir_make_tmp("test-history-users-XXXXXX", NULL);
	g_autofree char *passwd = g_build_filename(dir, "passwd", NULL);
	g_autofree char *subuid = g_build_filename(dir, "subuid", NULL);

	write_file(passwd,
	           "root:x:0:0:root:/root:/bin/sh\n"
	           "alice:x:1000:1000::/home/alice:/bin/sh\n"
	           "bob:x:1001:1001::/home/bob:/bin/sh\n"
	           "carol:x:1002:1002::/home/carol:/bin/sh\n"
	           "dave:x:1003:1003::/home/dave:/bin/sh\n",
	           -1);
	write_file(subuid, "alice:100000:65536\n", -1);
	vigil_fair_set_passwd_path(passwd);
	vigil_fair_set_subuid_path(subuid);
	return dir;
}

static void
remove_users(char *dir)
{
	g_autofree char *passwd = g_build_filename(dir, "passwd", NULL);
	g_autofree char *subuid = g_build_filename(dir, "subuid", NULL);

	g_unlink(passwd);
	g_unlink(subuid);
	g_rmdir(dir);
	g_free(dir);
}

int
main(int argc, char **argv)
{
	char *users;
	int rc;

	g_test_init(&argc, &argv, NULL);
	users = write_users();
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/history/round-trip", test_round_trip);
	ADD("/history/query-filters", test_query_filters);
	ADD("/history/traffic", test_traffic);
	ADD("/history/traffic-by-conntrack-id", test_traffic_by_conntrack_id);
	ADD("/history/traffic-conntrack-id-reused", test_traffic_conntrack_id_reused);
	ADD("/history/migrate-from-v1", test_migrate_from_v1);
	ADD("/history/expire/age", test_expire_by_age);
	ADD("/history/expire/size-is-fair", test_expire_by_size_is_fair);
	ADD("/history/corrupt-untouched", test_corrupt_file_untouched);
	ADD("/history/newer-schema", test_newer_schema_refused);
	ADD("/history/writer/restart", test_writer_keeps_across_restart);
	ADD("/history/writer/corrupt", test_writer_off_when_corrupt);
	ADD("/history/queries-bounded", test_queries_bounded);
	ADD("/history/queries-per-bucket", test_queries_per_bucket);
	ADD("/history/expire/size-per-bucket", test_expire_by_size_per_bucket);
	ADD("/history/writer/queue-is-fair", test_writer_queue_is_fair);
	ADD("/history/writer/counters-are-fair", test_writer_counters_are_fair);
	ADD("/history/writer/keeps-order", test_writer_keeps_order);
	ADD("/history/writer/waits-for-lock", test_writer_waits_for_lock);
	ADD("/history/reply-built-in-worker", test_reply_built_in_worker);
#undef ADD
	rc = g_test_run();
	remove_users(users);
	return rc;
}
