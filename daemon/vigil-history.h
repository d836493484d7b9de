/* vigil-history.h: every decision kept on disk (SQLite), written on a thread of its own */
#pragma once

#include <gio/gio.h>

#include "vigil-history-db.h"

G_BEGIN_DECLS

typedef struct {
	guint days;    /* rows older than this many days are deleted; 0: history off */
	guint max_mib; /* the rows take at most this many MiB (the largest user's oldest go) */
} VigilHistoryLimits;

/* decisions waiting for the writer; beyond this they are counted, not kept. The writer adds
 * ~100,000 rows a second in batches: this is a burst's buffer, a few MiB at most */
#define VIGIL_HISTORY_MAX_PENDING 8192
/* queries running at once, in all and per user (more: VIGIL_HISTORY_ERROR_BUSY) */
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
/* decisions not kept because the writer was behind, since the start */
guint64 vigil_history_n_dropped(VigilHistory *history);
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

G_END_DECLS
