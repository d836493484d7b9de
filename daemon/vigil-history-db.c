/* vigil-history-db.c: the history database (SQLite): schema, rows in, rows out, retention */
#define G_LOG_DOMAIN "vigil-history"
#include "config.h"

#include "vigil-history-db.h"
#include "vigil-fair.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

G_DEFINE_QUARK(vigil - history - error - quark, vigil_history_error)

/*
 * One table, a row per decided connection, in text where a person reading the file with
 * sqlite3 would want text (addresses, verdicts, reasons): the history is for later analysis,
 * by vigilctl and by hand. Times are unix microseconds. The flow-end columns stay NULL until
 * the flow's end is known.
 */
static const char *const schema_v1[] = {
    "CREATE TABLE connections ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: GetConnections' "after" */
    " time INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " user_name TEXT,"
    " pid INTEGER NOT NULL,"
    " program TEXT," /* NULL: the process was not known */
    " sha256 TEXT,"
    " family INTEGER NOT NULL,"
    " protocol INTEGER NOT NULL,"
    " address TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " icmp_type INTEGER NOT NULL,"
    " hostname TEXT,"
    " verdict TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " rule_id INTEGER NOT NULL,"
    " queued_us INTEGER NOT NULL,"
    " taint INTEGER NOT NULL,"
    " tracer_pid INTEGER NOT NULL,"
    " src_address TEXT NOT NULL,"
    " src_port INTEGER NOT NULL,"
    " ended INTEGER,"
    " packets_out INTEGER, bytes_out INTEGER, packets_in INTEGER, bytes_in INTEGER)",
    "CREATE INDEX connections_time ON connections (time)",
    "CREATE INDEX connections_uid_time ON connections (uid, time)",
    /* the allowed flows whose end is not known yet, for conntrack's counters */
    "CREATE INDEX connections_open_flows ON connections (port, src_port) "
    "WHERE ended IS NULL AND verdict = 'allow'",
    NULL,
};

/* conntrack's id of the flow (from the queue; NULL: not known): counters are matched by it */
static const char *const schema_v2[] = {
    "ALTER TABLE connections ADD COLUMN ct_id INTEGER",
    "CREATE INDEX connections_ct_id ON connections (ct_id) WHERE ct_id IS NOT NULL",
    NULL,
};

/* schemas[v - 1] brings a database of version v - 1 to version v */
static const char *const *const migrations[VIGIL_HISTORY_SCHEMA_VERSION] = {schema_v1, schema_v2};

static const char columns[] =
    "id, time, uid, user_name, pid, program, sha256, family, protocol, address, port, "
    "icmp_type, hostname, verdict, reason, rule_id, queued_us, taint, tracer_pid, "
    "src_address, src_port, ended, packets_out, bytes_out, packets_in, bytes_in";

VigilHistoryRow *
vigil_history_row_new_from(const VigilDecision *decision, const char *sha256)
{
	VigilHistoryRow *row = g_new0(VigilHistoryRow, 1);

	row->decision = *decision;
	row->decision.user_name = g_strdup(decision->user_name);
	row->decision.program = g_strdup(decision->program);
	row->decision.hostname = g_strdup(decision->hostname);
	row->sha256 = g_strdup(sha256);
	return row;
}

void
vigil_history_row_free(VigilHistoryRow *row)
{
	if (row == NULL)
		return;
	vigil_decision_clear(&row->decision);
	g_free(row->sha256);
	g_free(row);
}

/* sets @error from @db's last error (or @code), naming @doing */
static gboolean
fail(sqlite3 *db, int code, const char *doing, GError **error)
{
	int primary = code & 0xff;
	VigilHistoryError kind = VIGIL_HISTORY_ERROR_FAILED;

	if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
		kind = VIGIL_HISTORY_ERROR_CORRUPT;
	else if (primary == SQLITE_FULL)
		kind = VIGIL_HISTORY_ERROR_FULL;
	g_set_error(error, VIGIL_HISTORY_ERROR, kind, "%s: %s", doing,
	            db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(code));
	return FALSE;
}

static gboolean
exec(sqlite3 *db, const char *sql, GError **error)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK || fail(db, rc, sql, error);
}

/* one integer from a statement without parameters (a PRAGMA) */
static gboolean
query_int(sqlite3 *db, const char *sql, gint64 *value, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || fail(db, rc, sql, error);
}

static gboolean
migrate(sqlite3 *db, gint64 version, GError **error)
{
	if (version > VIGIL_HISTORY_SCHEMA_VERSION) {
		g_set_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_VERSION,
		            "schema version %" G_GINT64_FORMAT " is newer than this vigild's (%d)",
		            version, VIGIL_HISTORY_SCHEMA_VERSION);
		return FALSE;
	}
	if (version == VIGIL_HISTORY_SCHEMA_VERSION)
		return TRUE;
	/* before the first table: only then does auto_vacuum take effect */
	if (version == 0 && !exec(db, "PRAGMA auto_vacuum = INCREMENTAL", error))
		return FALSE;
	if (!exec(db, "BEGIN IMMEDIATE", error))
		return FALSE;
	for (gint64 v = version; v < VIGIL_HISTORY_SCHEMA_VERSION; v++) {
		for (const char *const *sql = migrations[v]; *sql != NULL; sql++) {
			if (!exec(db, *sql, error)) {
				sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
				return FALSE;
			}
		}
	}
	g_autofree char *set_version =
	    g_strdup_printf("PRAGMA user_version = %d", VIGIL_HISTORY_SCHEMA_VERSION);
	if (!exec(db, set_version, error) || !exec(db, "COMMIT", error)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}

/* vigil_bucket(uid) in SQL: the uid's fairness bucket (vigil-fair.h) */
static void
sql_bucket(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	sqlite3_int64 uid = sqlite3_value_int64(argv[0]);

	(void)argc;
	sqlite3_result_int64(context, uid < 0 || uid > G_MAXUINT32
	                                  ? uid
	                                  : (sqlite3_int64)vigil_fair_bucket((guint32)uid));
}

/* the file is root's alone: made 0600 before SQLite opens it (it would use the umask) */
static gboolean
create_private(const char *path, GError **error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		int saved = errno;

		g_set_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_FAILED, "%s: %s", path,
		            g_strerror(saved));
		return FALSE;
	}
	close(fd);
	return TRUE;
}

sqlite3 *
vigil_history_db_open(const char *path, gboolean writable, GError **error)
{
	sqlite3 *db = NULL;
	gint64 version = 0;
	int flags = SQLITE_OPEN_NOMUTEX | (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
	int rc;

	if (writable && !create_private(path, error))
		return NULL;
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		fail(db, rc, path, error);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, TRUE);
	/* not deterministic: /etc/subuid may change */
	rc = sqlite3_create_function_v2(db, "vigil_bucket", 1, SQLITE_UTF8, NULL, sql_bucket, NULL,
	                                NULL, NULL);
	if (rc != SQLITE_OK) {
		fail(db, rc, "vigil_bucket()", error);
		goto failed;
	}
	/* the writer holds the lock briefly; a reader waits rather than fails */
	sqlite3_busy_timeout(db, 2000);
	/* rows are appended and read once: a small page cache (SQLite's default is 2 MiB per
	 * connection) keeps vigild's memory where its bounds say */
	if (!exec(db, "PRAGMA cache_size = -256", error))
		goto failed;
	if (!query_int(db, "PRAGMA user_version", &version, error))
		goto failed;
	if (writable) {
		/* WAL: readers (queries) never wait for the writer; NORMAL: a power cut may lose
		 * the last batch, never the file */
		if (!exec(db, "PRAGMA journal_mode = WAL", error) ||
		    !exec(db, "PRAGMA synchronous = NORMAL", error) || !migrate(db, version, error))
			goto failed;
	} else if (version != VIGIL_HISTORY_SCHEMA_VERSION) {
		g_set_error(error, VIGIL_HISTORY_ERROR,
		            version > VIGIL_HISTORY_SCHEMA_VERSION ? VIGIL_HISTORY_ERROR_VERSION
		                                                   : VIGIL_HISTORY_ERROR_FAILED,
		            "%s: schema version %" G_GINT64_FORMAT ", this vigild reads %d", path,
		            version, VIGIL_HISTORY_SCHEMA_VERSION);
		goto failed;
	}
	return db;

failed:
	sqlite3_close(db);
	return NULL;
}

static void
bind_text_or_null(sqlite3_stmt *stmt, int index, const char *text)
{
	/* only valid UTF-8 goes in as text: the file is read by people and tools too */
	if (text != NULL && g_utf8_validate(text, -1, NULL))
		sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
	else if (text != NULL)
		sqlite3_bind_blob(stmt, index, text, (int)strlen(text), SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, index);
}

static void
bind_row(sqlite3_stmt *stmt, const VigilHistoryRow *row)
{
	const VigilDecision *d = &row->decision;
	char address[64], src[64];

	vigil_address_to_string(d->family, &d->dst, address, sizeof address);
	vigil_address_to_string(d->family, &d->src, src, sizeof src);
	sqlite3_bind_int64(stmt, 1, d->time);
	sqlite3_bind_int64(stmt, 2, d->uid);
	bind_text_or_null(stmt, 3, d->user_name);
	sqlite3_bind_int64(stmt, 4, d->pid);
	bind_text_or_null(stmt, 5, d->program);
	bind_text_or_null(stmt, 6, row->sha256);
	sqlite3_bind_int(stmt, 7, d->family);
	sqlite3_bind_int(stmt, 8, d->protocol);
	sqlite3_bind_text(stmt, 9, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 10, d->dport);
	sqlite3_bind_int(stmt, 11, d->icmp_type);
	bind_text_or_null(stmt, 12, d->hostname);
	sqlite3_bind_text(stmt, 13, vigil_action_to_string(d->verdict), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 14, vigil_reason_to_string(d->reason), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 15, (sqlite3_int64)d->rule_id);
	sqlite3_bind_int64(stmt, 16, d->queued_us);
	sqlite3_bind_int64(stmt, 17, d->taint);
	sqlite3_bind_int64(stmt, 18, d->tracer_pid);
	sqlite3_bind_text(stmt, 19, src, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 20, d->sport);
	if (d->ct_id != 0)
		sqlite3_bind_int64(stmt, 21, d->ct_id);
	else
		sqlite3_bind_null(stmt, 21);
}

typedef void (*BindFunc)(sqlite3_stmt *stmt, const VigilHistoryRow *row);

/* what is run for a new row (?1..?21: bind_row) */
static const char *const insert_sql[] = {
    "INSERT INTO connections (time, uid, user_name, pid, program, sha256, "
    "family, protocol, address, port, icmp_type, hostname, verdict, "
    "reason, rule_id, queued_us, taint, tracer_pid, src_address, src_port, "
    "ct_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
    "?18, ?19, ?20, ?21)",
    /* conntrack ids are unique among live flows only: a flow that takes an id ends the open
     * rows of earlier flows that had it (their end was lost), at the new flow's time, so
     * that they never take its counters nor stay open for good */
    "UPDATE connections SET ended = ?1 WHERE ?21 IS NOT NULL AND ct_id = ?21 "
    "AND ended IS NULL AND verdict = 'allow' AND id < last_insert_rowid()",
    NULL,
};

/*
 * What is run for an update (?1..?11: bind_update): by id; else (no id, or no row has it) by
 * tuple among the rows without an id.
 */
static const char *const update_sql[] = {
    "UPDATE connections SET packets_out = ?1, bytes_out = ?2, "
    "packets_in = ?3, bytes_in = ?4, ended = ?5, ct_id = coalesce(ct_id, nullif(?11, 0)) "
    "WHERE id = coalesce("
    "(SELECT id FROM connections WHERE ?11 != 0 AND ct_id = ?11 AND ended IS NULL "
    "AND verdict = 'allow' ORDER BY id DESC LIMIT 1), "
    "(SELECT id FROM connections WHERE port = ?6 AND src_port = ?7 "
    "AND ended IS NULL AND verdict = 'allow' AND protocol = ?8 "
    "AND address = ?9 AND src_address = ?10 AND ct_id IS NULL "
    "AND (?11 = 0 OR NOT EXISTS (SELECT 1 FROM connections WHERE ct_id = ?11)) "
    "ORDER BY id DESC LIMIT 1))",
    NULL,
};

/* the statements of @sql, prepared; FALSE and @error when one cannot be */
static gboolean
prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts, GError **error)
{
	for (guint i = 0; sql[i] != NULL; i++) {
		int rc = sqlite3_prepare_v2(db, sql[i], -1, &stmts[i], NULL);

		if (rc != SQLITE_OK)
			return fail(db, rc, sql[i], error);
	}
	return TRUE;
}

/* @stmts (NULL-terminated), each bound to @item by @bind and run once */
static int
step_all(sqlite3_stmt **stmts, BindFunc bind, const VigilHistoryRow *item)
{
	int rc = SQLITE_OK;

	for (guint i = 0; rc == SQLITE_OK && stmts[i] != NULL; i++) {
		bind(stmts[i], item);
		rc = sqlite3_step(stmts[i]);
		if (rc == SQLITE_DONE)
			rc = sqlite3_reset(stmts[i]);
	}
	return rc;
}

static void
finalize_all(sqlite3_stmt **stmts, guint n)
{
	for (guint i = 0; i < n; i++)
		sqlite3_finalize(stmts[i]);
}

static void bind_update(sqlite3_stmt *stmt, const VigilHistoryRow *update);

/*
 * Writes @items (new rows and updates) in their order, in one transaction: all or nothing. In
 * order, because a flow's row comes before its counters (vigild queues a decision when it
 * sends the verdict, and reads counters later), and an earlier flow's last counters come
 * before the row of a later flow that takes the same conntrack id.
 */
static gboolean
write_items(sqlite3 *db, GPtrArray *items, const char *doing, GError **error)
{
	sqlite3_stmt *inserts[G_N_ELEMENTS(insert_sql)] = {NULL};
	sqlite3_stmt *updates[G_N_ELEMENTS(update_sql)] = {NULL};
	int rc = SQLITE_OK;

	if (items->len == 0)
		return TRUE;
	if (!exec(db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!prepare_all(db, insert_sql, inserts, error) ||
	    !prepare_all(db, update_sql, updates, error)) {
		finalize_all(inserts, G_N_ELEMENTS(inserts));
		finalize_all(updates, G_N_ELEMENTS(updates));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	for (guint i = 0; rc == SQLITE_OK && i < items->len; i++) {
		const VigilHistoryRow *item = g_ptr_array_index(items, i);

		rc = item->is_update ? step_all(updates, bind_update, item)
		                     : step_all(inserts, bind_row, item);
	}
	finalize_all(inserts, G_N_ELEMENTS(inserts));
	finalize_all(updates, G_N_ELEMENTS(updates));
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		fail(db, rc, doing, error);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}

gboolean
vigil_history_db_insert(sqlite3 *db, GPtrArray *rows, GError **error)
{
	return write_items(db, rows, "adding to the history", error);
}

gboolean
vigil_history_db_write(sqlite3 *db, GPtrArray *items, GError **error)
{
	return write_items(db, items, "writing the history", error);
}

static void
bind_update(sqlite3_stmt *stmt, const VigilHistoryRow *update)
{
	const VigilFlowCounters *c = &update->traffic;
	char address[64], src[64];

	vigil_address_to_string(c->family, &c->dst, address, sizeof address);
	vigil_address_to_string(c->family, &c->src, src, sizeof src);
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)MIN(c->packets_out, (guint64)G_MAXINT64));
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)MIN(c->bytes_out, (guint64)G_MAXINT64));
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)MIN(c->packets_in, (guint64)G_MAXINT64));
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)MIN(c->bytes_in, (guint64)G_MAXINT64));
	if (c->ended)
		sqlite3_bind_int64(stmt, 5, update->ended);
	else
		sqlite3_bind_null(stmt, 5);
	sqlite3_bind_int(stmt, 6, c->dport);
	sqlite3_bind_int(stmt, 7, c->sport);
	sqlite3_bind_int(stmt, 8, c->protocol);
	sqlite3_bind_text(stmt, 9, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 10, src, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 11, c->id);
}

gboolean
vigil_history_db_update_traffic(sqlite3 *db, GPtrArray *updates, GError **error)
{
	return write_items(db, updates, "counting traffic in the history", error);
}

/* a text column, or a blob column that held bytes which were not UTF-8 */
static char *
column_string(sqlite3_stmt *stmt, int column)
{
	const void *bytes = sqlite3_column_blob(stmt, column);

	if (bytes == NULL)
		return NULL;
	return g_strndup(bytes, sqlite3_column_bytes(stmt, column));
}

static VigilReason
reason_from_string(const char *text)
{
	for (int r = VIGIL_REASON_RULE; r <= VIGIL_REASON_OVERFLOW; r++)
		if (g_strcmp0(text, vigil_reason_to_string(r)) == 0)
			return r;
	return VIGIL_REASON_DEFAULT;
}

/* the flow's own address and port, and what conntrack counted on it */
static void
read_traffic(sqlite3_stmt *stmt, VigilHistoryRow *row)
{
	VigilDecision *d = &row->decision;
	g_autofree char *src = column_string(stmt, 19);
	int family = 0;

	if (src == NULL || !vigil_address_parse(src, &family, &d->src) || family != d->family)
		memset(&d->src, 0, sizeof d->src);
	d->sport = sqlite3_column_int(stmt, 20);
	row->ended = sqlite3_column_int64(stmt, 21);
	row->has_traffic = sqlite3_column_type(stmt, 22) != SQLITE_NULL;
	row->traffic.packets_out = sqlite3_column_int64(stmt, 22);
	row->traffic.bytes_out = sqlite3_column_int64(stmt, 23);
	row->traffic.packets_in = sqlite3_column_int64(stmt, 24);
	row->traffic.bytes_in = sqlite3_column_int64(stmt, 25);
}

static VigilHistoryRow *
read_row(sqlite3_stmt *stmt)
{
	VigilHistoryRow *row = g_new0(VigilHistoryRow, 1);
	VigilDecision *d = &row->decision;
	g_autofree char *address = NULL;
	int family = 0;

	d->id = sqlite3_column_int64(stmt, 0);
	d->time = sqlite3_column_int64(stmt, 1);
	d->uid = sqlite3_column_int64(stmt, 2);
	d->user_name = column_string(stmt, 3);
	d->pid = sqlite3_column_int64(stmt, 4);
	d->program = column_string(stmt, 5);
	row->sha256 = column_string(stmt, 6);
	d->family = sqlite3_column_int(stmt, 7);
	d->protocol = sqlite3_column_int(stmt, 8);
	address = column_string(stmt, 9);
	if (address == NULL || !vigil_address_parse(address, &family, &d->dst) ||
	    family != d->family)
		memset(&d->dst, 0, sizeof d->dst);
	d->dport = sqlite3_column_int(stmt, 10);
	d->icmp_type = sqlite3_column_int(stmt, 11);
	d->hostname = column_string(stmt, 12);
	if (!vigil_action_from_string((const char *)sqlite3_column_text(stmt, 13), &d->verdict))
		d->verdict = VIGIL_ACTION_DENY;
	d->reason = reason_from_string((const char *)sqlite3_column_text(stmt, 14));
	d->rule_id = sqlite3_column_int64(stmt, 15);
	d->queued_us = sqlite3_column_int64(stmt, 16);
	d->taint = sqlite3_column_int64(stmt, 17);
	d->tracer_pid = sqlite3_column_int64(stmt, 18);
	read_traffic(stmt, row);
	return row;
}

GPtrArray *
vigil_history_db_select(sqlite3 *db, const VigilHistoryQuery *q, GError **error)
{
	g_autoptr(GPtrArray) rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_history_row_free);
	g_autofree char *sql = NULL;
	sqlite3_stmt *stmt = NULL;
	guint limit =
	    q->limit == 0 ? VIGIL_HISTORY_MAX_ROWS : MIN(q->limit, VIGIL_HISTORY_MAX_ROWS);
	int rc;

	/* the newest @limit that match, read newest first and turned around (or the oldest) */
	sql = g_strdup_printf("SELECT %s FROM connections WHERE time >= ?1 AND time <= ?2 "
	                      "AND (?3 IS NULL OR uid = ?3) "
	                      "AND (?4 IS NULL OR (?4 = '' AND program IS NULL) OR program = ?4) "
	                      "AND (?5 IS NULL OR verdict = ?5) AND id > ?6 "
	                      "ORDER BY id %s LIMIT ?7",
	                      columns, q->oldest ? "ASC" : "DESC");
	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		fail(db, rc, "reading the history", error);
		return NULL;
	}
	sqlite3_bind_int64(stmt, 1, q->since);
	sqlite3_bind_int64(stmt, 2, q->until > 0 ? q->until : G_MAXINT64);
	if (q->has_uid)
		sqlite3_bind_int64(stmt, 3, q->uid);
	if (q->program != NULL)
		sqlite3_bind_text(stmt, 4, q->program, -1, SQLITE_STATIC);
	if (q->has_verdict)
		sqlite3_bind_text(stmt, 5, vigil_action_to_string(q->verdict), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)MIN(q->after, (guint64)G_MAXINT64));
	sqlite3_bind_int64(stmt, 7, limit);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(rows, read_row(stmt));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		fail(db, rc, "reading the history", error);
		return NULL;
	}
	/* oldest first, like GetConnections' ring */
	for (guint i = 0, j = q->oldest ? 0 : rows->len; i + 1 < j; i++, j--) {
		gpointer t = rows->pdata[i];

		rows->pdata[i] = rows->pdata[j - 1];
		rows->pdata[j - 1] = t;
	}
	return g_steal_pointer(&rows);
}

guint64
vigil_history_db_size(sqlite3 *db)
{
	gint64 pages = 0, free_pages = 0, page_size = 0;

	if (!query_int(db, "PRAGMA page_count", &pages, NULL) ||
	    !query_int(db, "PRAGMA freelist_count", &free_pages, NULL) ||
	    !query_int(db, "PRAGMA page_size", &page_size, NULL))
		return 0;
	return (guint64)MAX(pages - free_pages, 0) * (guint64)page_size;
}

/* runs @sql (which deletes) with @a and @b bound to ?1 and ?2; adds to *@deleted */
static gboolean
delete_some(sqlite3 *db, const char *sql, gint64 a, gint64 b, guint *deleted, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, a);
		sqlite3_bind_int64(stmt, 2, b);
		rc = sqlite3_step(stmt);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return fail(db, rc, "trimming the history", error);
	*deleted += sqlite3_changes(db);
	return TRUE;
}

/* the fairness bucket with the most rows, or FALSE when there are none: counted per uid (the
 * index has them), then summed per bucket, so that a user's 60 subordinate uids are one user */
static gboolean
largest_bucket(sqlite3 *db, gint64 *bucket, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT vigil_bucket(uid) AS bucket FROM "
	                            "(SELECT uid, count(*) AS n FROM connections GROUP BY uid) "
	                            "GROUP BY bucket ORDER BY sum(n) DESC LIMIT 1",
	                            -1, &stmt, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*bucket = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(db, rc, "trimming the history", error);
	return rc == SQLITE_ROW;
}

gboolean
vigil_history_db_expire(sqlite3 *db, gint64 before, guint64 max_bytes, guint max_rows,
                        guint *deleted, gboolean *more, GError **error)
{
	gint64 bucket = 0;
	g_autoptr(GError) local = NULL;

	*deleted = 0;
	*more = FALSE;
	if (before > 0) {
		if (!delete_some(db,
		                 "DELETE FROM connections WHERE id IN (SELECT id FROM connections "
		                 "WHERE time < ?1 ORDER BY time LIMIT ?2)",
		                 before, max_rows, deleted, error))
			return FALSE;
		*more = *deleted == max_rows;
	}
	if (!*more && max_bytes > 0 && vigil_history_db_size(db) > max_bytes) {
		if (largest_bucket(db, &bucket, &local)) {
			if (!delete_some(
			        db,
			        "DELETE FROM connections WHERE id IN (SELECT id FROM connections "
			        "WHERE vigil_bucket(uid) = ?1 ORDER BY time LIMIT ?2)",
			        bucket, max_rows, deleted, error))
				return FALSE;
			*more = TRUE;
		} else if (local != NULL) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
	}
	/* freed pages go back to the file system, a bounded number at a time */
	if (*deleted > 0)
		sqlite3_exec(db, "PRAGMA incremental_vacuum(2048)", NULL, NULL, NULL);
	return TRUE;
}

/* ---- what programs did over a time range, and when (GetProgramHistory, GetTimeline) ---- */

void
vigil_history_program_free(VigilHistoryProgram *program)
{
	if (program == NULL)
		return;
	g_free(program->program);
	g_free(program);
}

/* the ORDER BY of each VigilHistorySort: fixed text, never the caller's */
static const struct {
	const char *name;
	const char *order;
} sorts[] = {
    [VIGIL_HISTORY_SORT_CONNECTIONS] = {"connections", "n DESC, destinations DESC"},
    [VIGIL_HISTORY_SORT_BYTES] = {"bytes", "bytes_out + bytes_in DESC, n DESC"},
    [VIGIL_HISTORY_SORT_DESTINATIONS] = {"destinations", "destinations DESC, n DESC"},
    [VIGIL_HISTORY_SORT_DENIED] = {"denied", "denied DESC, n DESC"},
};

gboolean
vigil_history_sort_from_string(const char *text, VigilHistorySort *sort)
{
	for (guint i = 0; i < G_N_ELEMENTS(sorts); i++) {
		if (g_strcmp0(text, sorts[i].name) == 0) {
			*sort = (VigilHistorySort)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* a total() column (a float: sum() fails on overflow) as a counter */
static guint64
column_total(sqlite3_stmt *stmt, int column)
{
	double value = sqlite3_column_double(stmt, column);

	if (value <= 0)
		return 0;
	return value >= 18446744073709551615.0 ? G_MAXUINT64 : (guint64)value;
}

/* binds the time range (?1, ?2) and uid (?3) that every aggregate shares */
static void
bind_range(sqlite3_stmt *stmt, const VigilHistoryQuery *q)
{
	sqlite3_bind_int64(stmt, 1, q->since);
	sqlite3_bind_int64(stmt, 2, q->until > 0 ? q->until : G_MAXINT64);
	if (q->has_uid)
		sqlite3_bind_int64(stmt, 3, q->uid);
}

static GPtrArray *
finish_aggregate(sqlite3 *db, sqlite3_stmt *stmt, int rc, GPtrArray *rows, GError **error)
{
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		fail(db, rc, "reading the history", error);
		g_ptr_array_unref(rows);
		return NULL;
	}
	return rows;
}

GPtrArray *
vigil_history_db_programs(sqlite3 *db, const VigilHistoryQuery *q, GError **error)
{
	GPtrArray *rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_history_program_free);
	g_autofree char *sql = NULL;
	sqlite3_stmt *stmt = NULL;
	guint sort = (guint)q->sort < G_N_ELEMENTS(sorts) ? (guint)q->sort : 0;
	guint limit =
	    q->limit == 0 ? VIGIL_HISTORY_MAX_ROWS : MIN(q->limit, VIGIL_HISTORY_MAX_ROWS);
	int rc;

	sql = g_strdup_printf(
	    "SELECT program, count(*) AS n, total(verdict = 'allow'), "
	    "total(verdict <> 'allow') AS denied, count(DISTINCT address) AS destinations, "
	    "max(time), total(bytes_out) AS bytes_out, total(bytes_in) AS bytes_in "
	    "FROM connections WHERE time >= ?1 AND time <= ?2 AND (?3 IS NULL OR uid = ?3) "
	    "GROUP BY program ORDER BY %s, program LIMIT ?4",
	    sorts[sort].order);
	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return finish_aggregate(db, stmt, rc, rows, error);
	bind_range(stmt, q);
	sqlite3_bind_int64(stmt, 4, limit);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		VigilHistoryProgram *p = g_new0(VigilHistoryProgram, 1);

		p->program = column_string(stmt, 0);
		p->connections = sqlite3_column_int64(stmt, 1);
		p->allowed = column_total(stmt, 2);
		p->denied = column_total(stmt, 3);
		p->destinations = (guint32)MIN(sqlite3_column_int64(stmt, 4), G_MAXUINT32);
		p->last_seen = sqlite3_column_int64(stmt, 5);
		p->bytes_out = column_total(stmt, 6);
		p->bytes_in = column_total(stmt, 7);
		g_ptr_array_add(rows, p);
	}
	return finish_aggregate(db, stmt, rc, rows, error);
}

GPtrArray *
vigil_history_db_timeline(sqlite3 *db, const VigilHistoryQuery *q, GError **error)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *stmt = NULL;
	gint64 interval = MAX(q->interval, 1);
	int rc;

	rc = sqlite3_prepare_v2(
	    db,
	    "SELECT (time - ?1) / ?4 AS bucket, count(*), total(verdict = 'allow'), "
	    "total(verdict <> 'allow'), total(bytes_out), total(bytes_in) "
	    "FROM connections WHERE time >= ?1 AND time <= ?2 AND (?3 IS NULL OR uid = ?3) "
	    "AND (?5 IS NULL OR (?5 = '' AND program IS NULL) OR program = ?5) "
	    "GROUP BY bucket ORDER BY bucket LIMIT ?6",
	    -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return finish_aggregate(db, stmt, rc, rows, error);
	bind_range(stmt, q);
	sqlite3_bind_int64(stmt, 4, interval);
	if (q->program != NULL)
		sqlite3_bind_text(stmt, 5, q->program, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, VIGIL_HISTORY_MAX_BUCKETS);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		VigilHistoryBucket *b = g_new0(VigilHistoryBucket, 1);

		b->start = q->since + sqlite3_column_int64(stmt, 0) * interval;
		b->connections = sqlite3_column_int64(stmt, 1);
		b->allowed = column_total(stmt, 2);
		b->denied = column_total(stmt, 3);
		b->bytes_out = column_total(stmt, 4);
		b->bytes_in = column_total(stmt, 5);
		g_ptr_array_add(rows, b);
	}
	return finish_aggregate(db, stmt, rc, rows, error);
}
