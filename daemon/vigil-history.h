/* vigil-history.h: every decision kept on disk (SQLite), written on a thread of its own */
#pragma once

#include <gio/gio.h>

#include "vigil-history-db.h"

G_BEGIN_DECLS

typedef struct {
	guint days;    /* rows older than this many days are deleted; 0: history off */
	guint max_mib; /* the rows take at most this many MiB (the largest user's oldest go) */
} VigilHistoryLimits;

/*
 * Items waiting for the writer; beyond these bounds they are counted, not kept. The writer adds
 * ~100,000 rows a second in batches: this is a burst's buffer, a few MiB at most. Shared fairly
 * (vigil-fair.h buckets: a user's subordinate uids count as the user), so that one user's flood
 * costs only that user's rows:
 * - everything together: VIGIL_HISTORY_MAX_PENDING;
 * - flows' counters: at most _TRAFFIC together, and a bucket at most an equal part of that,
 *   _TRAFFIC / (other buckets with counters waiting + 2): one part is kept for a user who has
 *   none waiting yet. Conntrack does not say whose flow it is: its decision did (by the flow's
 *   tuple, vigil-flow-owners.h); counters of flows not known that way share one bucket;
 * - the decisions of users other than root: at most _USERS together, and a bucket at most an
 *   equal part of that, _USERS / (other buckets with decisions waiting + 2): one part is kept
 *   for a user who has none waiting yet;
 * - root's decisions: whatever is left, at least _MAX_PENDING - _TRAFFIC - _USERS (1,024).
 */
#define VIGIL_HISTORY_MAX_PENDING         8192
#define VIGIL_HISTORY_MAX_PENDING_TRAFFIC 2048
#define VIGIL_HISTORY_MAX_PENDING_USERS   5120
G_STATIC_ASSERT(VIGIL_HISTORY_MAX_PENDING_TRAFFIC + VIGIL_HISTORY_MAX_PENDING_USERS + 1024 <=
                VIGIL_HISTORY_MAX_PENDING);
/* queries running at once, in all and per user's bucket (more: VIGIL_HISTORY_ERROR_BUSY); the
 * last one is root's: users together hold at most VIGIL_HISTORY_MAX_QUERIES - 1 */
#define VIGIL_HISTORY_MAX_QUERIES          4
#define VIGIL_HISTORY_MAX_QUERIES_PER_USER 1
/* a query that runs longer is stopped (VIGIL_HISTORY_ERROR_BUSY) */
#define VIGIL_HISTORY_QUERY_DEADLINE_S 10

typedef struct _VigilHistory VigilHistory;

/*
 * Opens (or creates) the history at @path and starts its writer. Never fails: a file that
 * cannot be used is reported (a warning naming the file and why) and the history is off,
 * everything else goes on; vigil_history_get_error() tells why.
 */
VigilHistory *vigil_history_new(const char *path, const VigilHistoryLimits *limits);
/* writes what is pending, stops the writer, closes the file */
void vigil_history_free(VigilHistory *history);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilHistory, vigil_history_free)

/* keeps @decision (copied); cheap: the packet path calls it. No-op while the history is off */
void vigil_history_add(VigilHistory *history, const VigilDecision *decision, const char *sha256);
/* what conntrack counted on an allowed flow, for its row (at its end, or a read on the way) */
void vigil_history_add_traffic(VigilHistory *history, const VigilFlowCounters *counters);
/* TRUE while decisions are written */
gboolean vigil_history_is_on(VigilHistory *history);
/* why the history is off (or NULL) */
const GError *vigil_history_get_error(VigilHistory *history);
/* decisions and counters not kept because the writer was behind (or the file failed), since
 * the start */
guint64 vigil_history_n_dropped(VigilHistory *history);
/* decisions of @uid's fairness bucket not kept since the last report (logged once a minute, per
 * bucket; the first report comes a minute after the start) */
guint64 vigil_history_n_dropped_of(VigilHistory *history, guint32 uid);
/* changes the retention; applied at the next trim */
void vigil_history_set_limits(VigilHistory *history, const VigilHistoryLimits *limits);
/* waits until everything added so far is in the file (tests, and a clean stop) */
void vigil_history_sync(VigilHistory *history);

/* reads the rows @query asks for of user @uid's caller in a worker; @query is copied */
void vigil_history_query_async(VigilHistory *history, guint32 caller_uid,
                               const VigilHistoryQuery *query, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
/* the rows (VigilHistoryRow), oldest first, or NULL and @error */
GPtrArray *vigil_history_query_finish(VigilHistory *history, GAsyncResult *result, GError **error);

/* makes a query's answer from its rows (oldest first); runs in the query's worker thread */
typedef GVariant *(*VigilHistoryReplyFunc)(GPtrArray *rows);

/*
 * The same query, answered by @reply's value, made in the worker: an answer of 10,000 rows is
 * built off the main loop, which then only sends it (a GVariant is immutable, safe to hand from
 * one thread to another). @reply must be safe to call from any thread.
 */
void vigil_history_query_reply_async(VigilHistory *history, guint32 caller_uid,
                                     const VigilHistoryQuery *query, VigilHistoryReplyFunc reply,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data);
/* a reader of the history, run in a query worker (vigil-history-db.h) */
typedef GPtrArray *(*VigilHistorySelect)(sqlite3 *db, const VigilHistoryQuery *query,
                                         GError **error);
/* like vigil_history_query_reply_async(), with @select reading (vigil_history_db_programs(),
 * ...) under the same bounds (query slots, deadline); finished with
 * vigil_history_query_reply_finish() */
void vigil_history_read_async(VigilHistory *history, guint32 caller_uid, VigilHistorySelect select,
                              const VigilHistoryQuery *query, VigilHistoryReplyFunc reply,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);

/* @reply's value (not floating), or NULL and @error */
GVariant *vigil_history_query_reply_finish(VigilHistory *history, GAsyncResult *result,
                                           GError **error);

G_END_DECLS
