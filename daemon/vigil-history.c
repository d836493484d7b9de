/* vigil-history.c: every decision kept on disk (SQLite), written on a thread of its own */
#define G_LOG_DOMAIN "vigil-history"
#include "config.h"

#include "vigil-history.h"

/*
 * The packet path only copies a decision into a bounded queue. One writer thread owns the
 * database: it takes what is queued, up to BATCH_ROWS at a time, and adds it in one
 * transaction; between batches it trims the history (by age, then by size), a bounded number
 * of rows at a time. Queries open their own read-only connection in a worker: with WAL they
 * neither wait for the writer nor hold it up.
 */

#define BATCH_ROWS         1024
#define TRIM_ROWS          5000
#define TRIM_INTERVAL_US   (60 * G_USEC_PER_SEC)
#define REPORT_INTERVAL_US (60 * G_USEC_PER_SEC)

/* the queue item that is not a row */
static char stop_marker;

struct _VigilHistory {
	char *path;
	GAsyncQueue *queue;
	GThread *writer;
	gint pending;  /* rows in the queue (atomic) */
	gint on;       /* atomic */
	guint64 added; /* rows queued since the start (main thread) */

	GMutex lock; /* the fields below, shared with the writer */
	GCond cond;
	GError *error;
	VigilHistoryLimits limits;
	guint64 dropped;
	guint64 done;    /* rows the writer is done with (written or lost), in queue order */
	gboolean opened; /* the writer tried to open the file */

	/* queries running (main thread only) */
	guint n_queries;
	GHashTable *queries_by_uid; /* uid -> count, at most VIGIL_HISTORY_MAX_QUERIES entries */
};

/* ---- the writer ---- */

typedef struct {
	VigilHistory *history;
	sqlite3 *db;
	gint64 next_trim;
	gboolean trimming;
	gint64 next_report;
	guint64 reported_dropped;
	gint64 last_failure_report;
} Writer;

static void
turn_off(VigilHistory *history, GError *error)
{
	g_warning("history %s is off: %s", history->path, error->message);
	g_mutex_lock(&history->lock);
	if (history->error == NULL)
		history->error = g_error_copy(error);
	g_mutex_unlock(&history->lock);
	g_atomic_int_set(&history->on, FALSE);
}

static void
count_dropped(VigilHistory *history, guint n)
{
	g_mutex_lock(&history->lock);
	history->dropped += n;
	g_mutex_unlock(&history->lock);
}

/* the new rows first: an update may be for a flow decided in the same batch */
static gboolean
insert_and_update(sqlite3 *db, GPtrArray *batch, GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new();
	g_autoptr(GPtrArray) updates = g_ptr_array_new();

	for (guint i = 0; i < batch->len; i++) {
		VigilHistoryRow *item = g_ptr_array_index(batch, i);

		g_ptr_array_add(item->is_update ? updates : rows, item);
	}
	return (rows->len == 0 || vigil_history_db_insert(db, rows, error)) &&
	       vigil_history_db_update_traffic(db, updates, error);
}

static void
write_batch(Writer *writer, GPtrArray *batch)
{
	VigilHistory *history = writer->history;
	g_autoptr(GError) error = NULL;
	gint64 now;

	if (batch->len == 0)
		return;
	if (writer->db == NULL) {
		count_dropped(history, batch->len);
		return;
	}
	if (insert_and_update(writer->db, batch, &error))
		return;
	count_dropped(history, batch->len);
	if (g_error_matches(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_CORRUPT)) {
		turn_off(history, error);
		g_clear_pointer(&writer->db, sqlite3_close);
		return;
	}
	/* a full disk or a passing I/O error: this batch is lost, the next one is tried */
	now = g_get_monotonic_time();
	if (now - writer->last_failure_report >= REPORT_INTERVAL_US) {
		g_warning("history %s: %s (%u decisions not kept)", history->path, error->message,
		          batch->len);
		writer->last_failure_report = now;
	}
}

static void
trim(Writer *writer)
{
	VigilHistory *history = writer->history;
	g_autoptr(GError) error = NULL;
	VigilHistoryLimits limits;
	gint64 now = g_get_monotonic_time();
	guint deleted = 0;
	gboolean more = FALSE;

	if (writer->db == NULL || (!writer->trimming && now < writer->next_trim))
		return;
	g_mutex_lock(&history->lock);
	limits = history->limits;
	g_mutex_unlock(&history->lock);
	if (!vigil_history_db_expire(
	        writer->db, g_get_real_time() - (gint64)limits.days * 24 * 3600 * G_USEC_PER_SEC,
	        (guint64)limits.max_mib * 1024 * 1024, TRIM_ROWS, &deleted, &more, &error)) {
		g_warning("history %s: %s", history->path, error->message);
		more = FALSE;
	}
	if (deleted > 0)
		g_debug("history: %u old rows deleted", deleted);
	writer->trimming = more;
	if (!more)
		writer->next_trim = now + TRIM_INTERVAL_US;
}

static void
report_dropped(Writer *writer)
{
	VigilHistory *history = writer->history;
	gint64 now = g_get_monotonic_time();
	guint64 dropped;

	if (now < writer->next_report)
		return;
	writer->next_report = now + REPORT_INTERVAL_US;
	g_mutex_lock(&history->lock);
	dropped = history->dropped;
	g_mutex_unlock(&history->lock);
	if (dropped > writer->reported_dropped)
		g_message("history: %" G_GUINT64_FORMAT
		          " decisions were not kept in the last minute",
		          dropped - writer->reported_dropped);
	writer->reported_dropped = dropped;
}

static void
mark_done(VigilHistory *history, guint n)
{
	g_mutex_lock(&history->lock);
	history->done += n;
	g_cond_broadcast(&history->cond);
	g_mutex_unlock(&history->lock);
}

/* waits until the writer is done with the first @target rows, or @deadline (monotonic) */
static gboolean
wait_done(VigilHistory *history, guint64 target, gint64 deadline)
{
	gboolean reached;

	g_mutex_lock(&history->lock);
	while ((!history->opened || history->done < target) &&
	       g_cond_wait_until(&history->cond, &history->lock, deadline))
		;
	reached = history->opened && history->done >= target;
	g_mutex_unlock(&history->lock);
	return reached;
}

/* takes what is queued, up to a batch; TRUE when the stop marker came */
static gboolean
collect(Writer *writer, GPtrArray *batch)
{
	VigilHistory *history = writer->history;
	/* wake once a second to trim even when nothing comes */
	gpointer item = g_async_queue_timeout_pop(history->queue, G_USEC_PER_SEC);

	while (item != NULL) {
		if (item == &stop_marker)
			return TRUE;
		g_atomic_int_add(&history->pending, -1);
		g_ptr_array_add(batch, item);
		if (batch->len >= BATCH_ROWS)
			break;
		item = g_async_queue_try_pop(history->queue);
	}
	return FALSE;
}

static gpointer
writer_main(gpointer data)
{
	VigilHistory *history = data;
	Writer writer = {.history = history};
	g_autoptr(GError) error = NULL;
	gboolean stop = FALSE;

	writer.db = vigil_history_db_open(history->path, TRUE, &error);
	if (writer.db == NULL)
		turn_off(history, error);
	else
		g_message("history: keeping decisions in %s", history->path);
	g_mutex_lock(&history->lock);
	history->opened = TRUE;
	g_cond_broadcast(&history->cond);
	g_mutex_unlock(&history->lock);
	while (!stop) {
		g_autoptr(GPtrArray) batch =
		    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_history_row_free);

		stop = collect(&writer, batch);
		write_batch(&writer, batch);
		mark_done(history, batch->len);
		if (!stop)
			trim(&writer);
		report_dropped(&writer);
	}
	g_clear_pointer(&writer.db, sqlite3_close);
	return NULL;
}

/* ---- the main thread's side ---- */

static gboolean push(VigilHistory *history, VigilHistoryRow *item);

VigilHistory *
vigil_history_new(const char *path, const VigilHistoryLimits *limits)
{
	VigilHistory *history = g_new0(VigilHistory, 1);

	history->path = g_strdup(path);
	history->limits = *limits;
	g_mutex_init(&history->lock);
	g_cond_init(&history->cond);
	history->queries_by_uid = g_hash_table_new(NULL, NULL);
	history->queue = g_async_queue_new();
	if (limits->days == 0) {
		g_set_error(&history->error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_OFF,
		            "HistoryDays=0 in the configuration");
		return history;
	}
	g_atomic_int_set(&history->on, TRUE);
	history->writer = g_thread_new("vigil-history", writer_main, history);
	return history;
}

void
vigil_history_free(VigilHistory *history)
{
	gpointer item;

	if (history == NULL)
		return;
	if (history->writer != NULL) {
		g_async_queue_push(history->queue, &stop_marker);
		g_thread_join(history->writer);
	}
	while ((item = g_async_queue_try_pop(history->queue)) != NULL)
		if (item != &stop_marker)
			vigil_history_row_free(item);
	g_async_queue_unref(history->queue);
	/* a query's worker may still wait on the lock: vigild is exiting, the memory goes with it
	 */
	if (history->n_queries > 0)
		return;
	g_hash_table_destroy(history->queries_by_uid);
	g_clear_error(&history->error);
	g_mutex_clear(&history->lock);
	g_cond_clear(&history->cond);
	g_free(history->path);
	g_free(history);
}

void
vigil_history_add(VigilHistory *history, const VigilDecision *decision, const char *sha256)
{
	if (history == NULL || !g_atomic_int_get(&history->on))
		return;
	push(history, vigil_history_row_new_from(decision, sha256));
}

/* a queue item; FALSE when the queue is full (counted) */
static gboolean
push(VigilHistory *history, VigilHistoryRow *item)
{
	/* a writer that fell behind (a flood, a slow disk) costs rows, never memory or time */
	if (g_atomic_int_add(&history->pending, 1) >= VIGIL_HISTORY_MAX_PENDING) {
		g_atomic_int_add(&history->pending, -1);
		count_dropped(history, 1);
		vigil_history_row_free(item);
		return FALSE;
	}
	history->added++;
	g_async_queue_push(history->queue, item);
	return TRUE;
}

void
vigil_history_add_traffic(VigilHistory *history, const VigilFlowCounters *counters)
{
	VigilHistoryRow *update;

	if (history == NULL || !g_atomic_int_get(&history->on))
		return;
	update = g_new0(VigilHistoryRow, 1);
	update->is_update = TRUE;
	update->has_traffic = TRUE;
	update->traffic = *counters;
	update->ended = counters->ended ? g_get_real_time() : 0;
	push(history, update);
}

gboolean
vigil_history_is_on(VigilHistory *history)
{
	return history != NULL && g_atomic_int_get(&history->on);
}

const GError *
vigil_history_get_error(VigilHistory *history)
{
	const GError *error;

	g_mutex_lock(&history->lock);
	error = history->error; /* set once, never freed before the history */
	g_mutex_unlock(&history->lock);
	return error;
}

guint64
vigil_history_n_dropped(VigilHistory *history)
{
	guint64 dropped;

	g_mutex_lock(&history->lock);
	dropped = history->dropped;
	g_mutex_unlock(&history->lock);
	return dropped;
}

void
vigil_history_set_limits(VigilHistory *history, const VigilHistoryLimits *limits)
{
	g_mutex_lock(&history->lock);
	history->limits.max_mib = limits->max_mib;
	/* days = 0 (off) takes effect at the next start: the writer is not stopped under load */
	if (limits->days > 0)
		history->limits.days = limits->days;
	g_mutex_unlock(&history->lock);
}

void
vigil_history_sync(VigilHistory *history)
{
	if (history->writer != NULL)
		wait_done(history, history->added, G_MAXINT64);
}

/* ---- queries ---- */

typedef struct {
	VigilHistory *history;
	char *path;
	guint32 caller_uid;
	VigilHistoryQuery query;
	char *program; /* query.program points here */
	gint64 deadline;
	guint64 added; /* the query sees every decision added before it */
	GTask *outer;
} Query;

static void
query_free(Query *q)
{
	g_free(q->path);
	g_free(q->program);
	g_clear_object(&q->outer);
	g_free(q);
}

/* SQLite asks every few thousand steps: a query past its deadline is stopped */
static int
query_past_deadline(void *data)
{
	Query *q = data;

	return g_get_monotonic_time() > q->deadline;
}

static void
run_query(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	Query *q = data;
	GError *error = NULL;
	sqlite3 *db;
	GPtrArray *rows;

	(void)source;
	(void)cancellable;
	/* what was decided before the question is in the answer (unless the writer is far
	 * behind: then what is in the file at the deadline) */
	wait_done(q->history, q->added, q->deadline);
	db = vigil_history_db_open(q->path, FALSE, &error);
	if (db == NULL) {
		g_task_return_error(task, error);
		return;
	}
	sqlite3_progress_handler(db, 10000, query_past_deadline, q);
	rows = vigil_history_db_select(db, &q->query, &error);
	sqlite3_close(db);
	if (rows == NULL && g_get_monotonic_time() > q->deadline) {
		g_clear_error(&error);
		g_set_error(&error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY,
		            "the query took longer than %d s: ask for a shorter time or fewer rows",
		            VIGIL_HISTORY_QUERY_DEADLINE_S);
	}
	if (rows == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, rows, (GDestroyNotify)g_ptr_array_unref);
}

static void
query_leave(VigilHistory *history, guint32 uid)
{
	guint n =
	    GPOINTER_TO_UINT(g_hash_table_lookup(history->queries_by_uid, GUINT_TO_POINTER(uid)));

	history->n_queries--;
	if (n <= 1)
		g_hash_table_remove(history->queries_by_uid, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(history->queries_by_uid, GUINT_TO_POINTER(uid),
		                    GUINT_TO_POINTER(n - 1));
}

static void
on_query_done(GObject *source, GAsyncResult *result, gpointer data)
{
	Query *q = data;
	GError *error = NULL;
	GPtrArray *rows = g_task_propagate_pointer(G_TASK(result), &error);

	(void)source;
	query_leave(q->history, q->caller_uid);
	if (rows == NULL)
		g_task_return_error(q->outer, error);
	else
		g_task_return_pointer(q->outer, rows, (GDestroyNotify)g_ptr_array_unref);
	query_free(q);
}

/* a place for one more query of @uid, or FALSE and @error */
static gboolean
query_enter(VigilHistory *history, guint32 uid, GError **error)
{
	guint n =
	    GPOINTER_TO_UINT(g_hash_table_lookup(history->queries_by_uid, GUINT_TO_POINTER(uid)));

	if (history->n_queries >= VIGIL_HISTORY_MAX_QUERIES ||
	    n >= VIGIL_HISTORY_MAX_QUERIES_PER_USER) {
		g_set_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY,
		            "the history is busy with other queries: try again");
		return FALSE;
	}
	history->n_queries++;
	g_hash_table_insert(history->queries_by_uid, GUINT_TO_POINTER(uid),
	                    GUINT_TO_POINTER(n + 1));
	return TRUE;
}

void
vigil_history_query_async(VigilHistory *history, guint32 caller_uid, const VigilHistoryQuery *query,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
	g_autoptr(GTask) outer = g_task_new(NULL, cancellable, callback, user_data);
	g_autoptr(GTask) inner = NULL;
	GError *error = NULL;
	Query *q;

	g_task_set_source_tag(outer, vigil_history_query_async);
	if (!vigil_history_is_on(history)) {
		const GError *why = vigil_history_get_error(history);

		g_task_return_new_error(outer, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_OFF,
		                        "the history is off%s%s", why != NULL ? ": " : "",
		                        why != NULL ? why->message : "");
		return;
	}
	if (!query_enter(history, caller_uid, &error)) {
		g_task_return_error(outer, error);
		return;
	}
	q = g_new0(Query, 1);
	q->history = history;
	q->path = g_strdup(history->path);
	q->caller_uid = caller_uid;
	q->query = *query;
	q->program = g_strdup(query->program);
	q->query.program = q->program;
	q->deadline = g_get_monotonic_time() + VIGIL_HISTORY_QUERY_DEADLINE_S * G_USEC_PER_SEC;
	q->added = history->added;
	q->outer = g_object_ref(outer);
	inner = g_task_new(NULL, NULL, on_query_done, q);
	g_task_set_task_data(inner, q, NULL);
	g_task_run_in_thread(inner, run_query);
}

GPtrArray *
vigil_history_query_finish(VigilHistory *history, GAsyncResult *result, GError **error)
{
	(void)history;
	return g_task_propagate_pointer(G_TASK(result), error);
}
