/* vigil-history-db.h: the history database (SQLite): schema, rows in, rows out, retention.
 * Synchronous: only the history's writer thread and its query workers call these. */
#pragma once

#include <sqlite3.h>

#include "vigil-conntrack.h"
#include "vigil-decision.h"

G_BEGIN_DECLS

#define VIGIL_HISTORY_ERROR (vigil_history_error_quark())
GQuark vigil_history_error_quark(void);

typedef enum {
	VIGIL_HISTORY_ERROR_FAILED,  /* SQLite said no (I/O, locking): the message says why */
	VIGIL_HISTORY_ERROR_CORRUPT, /* not a database, or a damaged one */
	VIGIL_HISTORY_ERROR_FULL,    /* the file system is full */
	VIGIL_HISTORY_ERROR_VERSION, /* written by a newer Vigil: its schema is unknown here */
	VIGIL_HISTORY_ERROR_BUSY,    /* too many queries at once (bounded per user and in all) */
	VIGIL_HISTORY_ERROR_OFF,     /* history is off (HistoryDays=0, or it failed) */
} VigilHistoryError;

/* the schema version this build writes (PRAGMA user_version) */
#define VIGIL_HISTORY_SCHEMA_VERSION 2

/* a decision as the history keeps it */
typedef struct {
	VigilDecision decision; /* decision.id is the history's own row id */
	char *sha256;           /* the program's, when it was known; or NULL */
	/* what conntrack counted on the flow (an allowed one), once it was read */
	gboolean has_traffic;
	VigilFlowCounters traffic;
	gint64 ended; /* unix µs when the flow ended, or 0 */
	/* a queue item of the writer that updates the row of traffic's flow, not a new row */
	gboolean is_update;
	/* the fairness bucket (vigil-fair.h) the queue counted it under */
	guint32 bucket;
} VigilHistoryRow;

VigilHistoryRow *vigil_history_row_new_from(const VigilDecision *decision, const char *sha256);
void vigil_history_row_free(VigilHistoryRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilHistoryRow, vigil_history_row_free)

/* what a query asks for; every bound optional */
typedef struct {
	gint64 since; /* unix µs, inclusive; 0: from the start */
	gint64 until; /* unix µs, inclusive; 0: to the end */
	gboolean has_uid;
	guint32 uid;
	const char *program; /* an exe path, "" for the unknown process; NULL: any */
	gboolean has_verdict;
	VigilAction verdict;
	guint64 after; /* only rows with a greater id */
	guint limit;   /* the newest this many; 0: VIGIL_HISTORY_MAX_ROWS */
	/* the oldest @limit instead of the newest: pages forward with @after (an export) */
	gboolean oldest;
	/* vigil_history_db_programs(): rank by this, keep the first @limit programs */
	int sort; /* VigilHistorySort */
	/* vigil_history_db_timeline(): the width of a bucket, µs (> 0); @since is required */
	gint64 interval;
} VigilHistoryQuery;

/* one answer holds at most this many rows (the newest); page with until or after */
#define VIGIL_HISTORY_MAX_ROWS 10000

/* what a program did over a time range (GetProgramHistory) */
typedef struct {
	char *program; /* NULL: the process was not known */
	guint64 connections;
	guint64 allowed;
	guint64 denied;       /* deny and drop */
	guint32 destinations; /* distinct destination addresses */
	gint64 last_seen;     /* unix µs */
	guint64 bytes_out;    /* what conntrack counted on its allowed flows */
	guint64 bytes_in;
} VigilHistoryProgram;

void vigil_history_program_free(VigilHistoryProgram *program);

typedef enum {
	VIGIL_HISTORY_SORT_CONNECTIONS,
	VIGIL_HISTORY_SORT_BYTES, /* in and out */
	VIGIL_HISTORY_SORT_DESTINATIONS,
	VIGIL_HISTORY_SORT_DENIED,
} VigilHistorySort;

/* "connections", "bytes", "destinations", "denied" (VIGIL_STATS_SORT_*) */
gboolean vigil_history_sort_from_string(const char *text, VigilHistorySort *sort);

/* the connections that started in one interval of a timeline (GetTimeline) */
typedef struct {
	gint64 start; /* unix µs */
	guint64 connections;
	guint64 allowed;
	guint64 denied;
	guint64 bytes_out; /* counted to the interval in which the flow started */
	guint64 bytes_in;
} VigilHistoryBucket;

/* a timeline has at most this many intervals */
#define VIGIL_HISTORY_MAX_BUCKETS 10000

/*
 * Opens @path. @writable: created if missing (mode 0600), its schema made or migrated;
 * else read-only, and a file without the schema is VIGIL_HISTORY_ERROR_FAILED. A file that is
 * no database or is damaged is VIGIL_HISTORY_ERROR_CORRUPT, one of a newer schema
 * VIGIL_HISTORY_ERROR_VERSION: it is never changed.
 */
sqlite3 *vigil_history_db_open(const char *path, gboolean writable, GError **error);
/*
 * Adds @rows (VigilHistoryRow) in one transaction; nothing of them on error. Conntrack ids are
 * unique among live flows only, and a new flow may take the id of one that ended: a row with
 * an id ends the open allowed rows of earlier flows that had that id (their end was lost), at
 * the new row's time; the later flow's counters never land on them.
 */
gboolean vigil_history_db_insert(sqlite3 *db, GPtrArray *rows, GError **error);
/*
 * Sets the counters of @updates (VigilHistoryRow with is_update) on their flows' rows: the
 * allowed row whose flow has not ended with the update's conntrack id (traffic.id); for an
 * update without an id, or one whose id no row has, the newest such row of the flow's tuple
 * whose id is not known (which then takes the update's id). A row with an id never takes
 * another flow's counters: a row whose end was lost stays open, and a later flow with the
 * same tuple (another user's, maybe) is not counted on it. An update with traffic.ended ends
 * the row at its @ended. An update with no such row changes nothing.
 */
gboolean vigil_history_db_update_traffic(sqlite3 *db, GPtrArray *updates, GError **error);
/* new rows and updates (is_update) as the two above, in the order of @items, in one
 * transaction (the writer's batch) */
gboolean vigil_history_db_write(sqlite3 *db, GPtrArray *items, GError **error);
/* the rows @query asks for, oldest first (VigilHistoryRow, owned by the array) */
GPtrArray *vigil_history_db_select(sqlite3 *db, const VigilHistoryQuery *query, GError **error);
/*
 * Counters per program (VigilHistoryProgram) of the rows in @query's time range and uid,
 * ranked by query->sort, most first; the first query->limit (0: VIGIL_HISTORY_MAX_ROWS).
 */
GPtrArray *vigil_history_db_programs(sqlite3 *db, const VigilHistoryQuery *query, GError **error);
/*
 * Counters per query->interval from query->since to query->until (0: now), of the rows of
 * @query's uid and program, oldest first (VigilHistoryBucket); intervals without a row are
 * left out. At most VIGIL_HISTORY_MAX_BUCKETS intervals (the caller checks the range).
 */
GPtrArray *vigil_history_db_timeline(sqlite3 *db, const VigilHistoryQuery *query, GError **error);
/*
 * Deletes what is older than @before (unix µs; 0: nothing for age) and, while the data take
 * more than @max_bytes (0: no bound), the oldest rows of the user who has the most (by fairness
 * bucket: a user's subordinate uids count as the user, vigil-fair.h), so that one user's flood
 * cannot push the others' history out. At most @max_rows rows per call
 * (the caller calls again while *@more): each call is short. Frees the space it can.
 */
gboolean vigil_history_db_expire(sqlite3 *db, gint64 before, guint64 max_bytes, guint max_rows,
                                 guint *deleted, gboolean *more, GError **error);
/* bytes the rows take (pages in use times the page size) */
guint64 vigil_history_db_size(sqlite3 *db);

G_END_DECLS
