/* test-history-stats.c: what the history adds up (per program, over time) and its export pages,
 * on real SQLite files */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/socket.h>

#include "test-util.h"
#include "vigil-history.h"

typedef struct {
	char *dir;
	char *path;
	sqlite3 *db;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	f->dir = g_dir_make_tmp("test-history-stats-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "history.db", NULL);
	f->db = vigil_history_db_open(f->path, TRUE, &error);
	g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	sqlite3_close(f->db);
	vigil_test_remove_tree(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

/* @uid's @program to 10.0.0.@host port 443 from port @sport, at @time */
static void
add(Fixture *f, guint32 uid, const char *program, guint8 host, guint16 sport, gint64 time,
    VigilAction verdict)
{
	VigilDecision d = {0};

	d.time = time;
	d.uid = uid;
	d.pid = 4242;
	d.program = (char *)program;
	d.family = AF_INET;
	d.protocol = 6;
	d.dst.bytes[0] = 10;
	d.dst.bytes[3] = host;
	d.src.bytes[0] = 10;
	d.src.bytes[3] = 200;
	d.sport = sport;
	d.dport = 443;
	d.verdict = verdict;
	d.reason = VIGIL_REASON_RULE;
	vigil_test_history_insert(f->db, vigil_history_row_new_from(&d, NULL));
}

/* conntrack counted @bytes_in and @bytes_out on the flow of add(..., @host, @sport, ...) */
static void
count_traffic(Fixture *f, guint8 host, guint16 sport, guint64 bytes_in, guint64 bytes_out)
{
	VigilHistoryRow *update = vigil_test_traffic_update(host, sport);

	update->traffic.bytes_in = bytes_in;
	update->traffic.bytes_out = bytes_out;
	vigil_test_history_update(f->db, update);
}

static GPtrArray *
programs(Fixture *f, const VigilHistoryQuery *query)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *result = vigil_history_db_programs(f->db, query, &error);

	g_assert_no_error(error);
	g_assert_nonnull(result);
	return result;
}

static const VigilHistoryProgram *
program_at(GPtrArray *list, guint i)
{
	return g_ptr_array_index(list, i);
}

/*
 * curl: many connections, few bytes; wget: one connection, a big download; an unknown process;
 * another user's program: the ranking follows the sort, the counts add up, and a user's query
 * sees only that user's rows
 */
static void
test_programs(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) by_connections = NULL;
	g_autoptr(GPtrArray) by_bytes = NULL;
	g_autoptr(GPtrArray) by_denied = NULL;
	g_autoptr(GPtrArray) first = NULL;
	g_autoptr(GPtrArray) ranged = NULL;
	g_autoptr(GPtrArray) bob = NULL;
	VigilHistorySort sort;

	(void)data;
	for (guint i = 0; i < 5; i++)
		add(f, 1000, "/usr/bin/curl", 1 + i % 2, 40000 + i, 1000 + i,
		    i == 4 ? VIGIL_ACTION_DENY : VIGIL_ACTION_ALLOW);
	count_traffic(f, 1, 40000, 300, 100);
	add(f, 1000, "/usr/bin/wget", 3, 41000, 2000, VIGIL_ACTION_ALLOW);
	count_traffic(f, 3, 41000, 1 << 20, 500);
	add(f, 1000, NULL, 4, 42000, 3000, VIGIL_ACTION_DROP);
	add(f, 1001, "/usr/bin/bob-tool", 5, 43000, 3000, VIGIL_ACTION_DENY);
	add(f, 1001, "/usr/bin/bob-tool", 5, 43001, 3001, VIGIL_ACTION_DENY);

	by_connections = programs(f, &(VigilHistoryQuery){.has_uid = TRUE, .uid = 1000});
	g_assert_cmpuint(by_connections->len, ==, 3);
	g_assert_cmpstr(program_at(by_connections, 0)->program, ==, "/usr/bin/curl");
	g_assert_cmpuint(program_at(by_connections, 0)->connections, ==, 5);
	g_assert_cmpuint(program_at(by_connections, 0)->allowed, ==, 4);
	g_assert_cmpuint(program_at(by_connections, 0)->denied, ==, 1);
	g_assert_cmpuint(program_at(by_connections, 0)->destinations, ==, 2);
	g_assert_cmpint(program_at(by_connections, 0)->last_seen, ==, 1004);
	g_assert_cmpuint(program_at(by_connections, 0)->bytes_in, ==, 300);
	g_assert_cmpuint(program_at(by_connections, 0)->bytes_out, ==, 100);

	g_assert_true(vigil_history_sort_from_string("bytes", &sort));
	by_bytes = programs(f, &(VigilHistoryQuery){.has_uid = TRUE, .uid = 1000, .sort = sort});
	g_assert_cmpstr(program_at(by_bytes, 0)->program, ==, "/usr/bin/wget");
	g_assert_cmpuint(program_at(by_bytes, 0)->bytes_in, ==, 1 << 20);
	g_assert_cmpstr(program_at(by_bytes, 1)->program, ==, "/usr/bin/curl");
	/* the unknown process: no path, no bytes */
	g_assert_null(program_at(by_bytes, 2)->program);
	g_assert_cmpuint(program_at(by_bytes, 2)->denied, ==, 1);

	/* root (no uid): every user's; by denied, bob's program first */
	g_assert_true(vigil_history_sort_from_string("denied", &sort));
	by_denied = programs(f, &(VigilHistoryQuery){.sort = sort});
	g_assert_cmpuint(by_denied->len, ==, 4);
	g_assert_cmpstr(program_at(by_denied, 0)->program, ==, "/usr/bin/bob-tool");
	first = programs(f, &(VigilHistoryQuery){.sort = sort, .limit = 1});
	g_assert_cmpuint(first->len, ==, 1);

	/* a time range */
	ranged = programs(f, &(VigilHistoryQuery){.since = 1500, .until = 2500});
	g_assert_cmpuint(ranged->len, ==, 1);
	g_assert_cmpstr(program_at(ranged, 0)->program, ==, "/usr/bin/wget");
	/* a user sees only their own */
	bob = programs(f, &(VigilHistoryQuery){.has_uid = TRUE, .uid = 1001});
	g_assert_cmpuint(bob->len, ==, 1);
	g_assert_cmpuint(program_at(bob, 0)->connections, ==, 2);

	g_assert_false(vigil_history_sort_from_string("name", &sort));
	g_assert_false(vigil_history_sort_from_string(NULL, &sort));
}

/* connections per interval, only the intervals that had some, bytes where the flow started */
static void
test_timeline(Fixture *f, gconstpointer data)
{
	const gint64 minute = 60 * G_USEC_PER_SEC, t0 = 1000 * minute;
	g_autoptr(GPtrArray) buckets = NULL;
	g_autoptr(GPtrArray) wget = NULL;
	g_autoptr(GError) error = NULL;
	const VigilHistoryBucket *b;

	(void)data;
	add(f, 1000, "/usr/bin/curl", 1, 40000, t0 + 5, VIGIL_ACTION_ALLOW);
	add(f, 1000, "/usr/bin/curl", 1, 40001, t0 + 30 * G_USEC_PER_SEC, VIGIL_ACTION_DENY);
	add(f, 1000, "/usr/bin/wget", 3, 41000, t0 + 2 * minute, VIGIL_ACTION_ALLOW);
	count_traffic(f, 3, 41000, 4096, 512);
	add(f, 1001, "/usr/bin/bob-tool", 5, 43000, t0 + 2 * minute, VIGIL_ACTION_ALLOW);
	add(f, 1000, "/usr/bin/curl", 1, 40002, t0 - 1, VIGIL_ACTION_ALLOW); /* before */

	buckets = vigil_history_db_timeline(f->db,
	                                    &(VigilHistoryQuery){.since = t0,
	                                                         .until = t0 + 10 * minute,
	                                                         .has_uid = TRUE,
	                                                         .uid = 1000,
	                                                         .interval = minute},
	                                    &error);
	g_assert_no_error(error);
	g_assert_cmpuint(buckets->len, ==, 2);
	b = g_ptr_array_index(buckets, 0);
	g_assert_cmpint(b->start, ==, t0);
	g_assert_cmpuint(b->connections, ==, 2);
	g_assert_cmpuint(b->allowed, ==, 1);
	g_assert_cmpuint(b->denied, ==, 1);
	b = g_ptr_array_index(buckets, 1);
	g_assert_cmpint(b->start, ==, t0 + 2 * minute);
	g_assert_cmpuint(b->connections, ==, 1); /* not bob's */
	g_assert_cmpuint(b->bytes_in, ==, 4096);
	g_assert_cmpuint(b->bytes_out, ==, 512);

	wget = vigil_history_db_timeline(
	    f->db,
	    &(VigilHistoryQuery){.since = t0, .program = "/usr/bin/wget", .interval = 10 * minute},
	    &error);
	g_assert_no_error(error);
	g_assert_cmpuint(wget->len, ==, 1);
	g_assert_cmpuint(((VigilHistoryBucket *)g_ptr_array_index(wget, 0))->connections, ==, 1);
}

/* an export reads pages oldest first with after: every row once, in order */
static void
test_oldest_pages(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	guint64 after = 0;
	guint seen = 0;

	(void)data;
	for (guint i = 0; i < 25; i++)
		add(f, 1000, "/usr/bin/curl", 1, 40000 + i, 1000 + i, VIGIL_ACTION_ALLOW);
	for (;;) {
		g_autoptr(GPtrArray) page = vigil_history_db_select(
		    f->db, &(VigilHistoryQuery){.after = after, .limit = 10, .oldest = TRUE},
		    &error);

		g_assert_no_error(error);
		for (guint i = 0; i < page->len; i++) {
			const VigilHistoryRow *row = g_ptr_array_index(page, i);

			g_assert_cmpint(row->decision.time, ==, 1000 + seen);
			g_assert_cmpuint(row->decision.id, >, after);
			after = row->decision.id;
			seen++;
		}
		if (page->len < 10)
			break;
	}
	g_assert_cmpuint(seen, ==, 25);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/history-stats/programs", test_programs);
	ADD("/history-stats/timeline", test_timeline);
	ADD("/history-stats/oldest-pages", test_oldest_pages);
#undef ADD
	return g_test_run();
}
