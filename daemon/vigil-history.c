/* vigil-history.c: every decision kept on disk (SQLite), written on a thread of its own */
#define G_LOG_DOMAIN "vigil-history"
#include "config.h"

#include "vigil-history.h"
#include "vigil-fair.h"
#include "vigil-flow-owners.h"

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
/* buckets whose lost rows are counted one by one until the next report; beyond: together */
#define DROPPED_BUCKETS 64
/* buckets named in the report, the most first */
#define REPORTED_BUCKETS 8

/* the queue item that is not a row */
static char stop_marker;

/* what is waiting in the queue, by whom (vigil-history.h: the shares) */
typedef struct {
	guint total;
	guint traffic;
	guint users;                 /* decisions of buckets other than root's */
	GHashTable *buckets;         /* bucket -> decisions waiting (> 0), users' only */
	GHashTable *traffic_buckets; /* bucket -> flows' counters waiting (> 0) */
} Pending;

/* rows or counters not kept since the last report, by bucket */
typedef struct {
	GHashTable *buckets; /* bucket -> rows, at most DROPPED_BUCKETS */
	guint64 other_buckets;
} DroppedOf;

/* what was not kept since the last report */
typedef struct {
	DroppedOf decisions;
	DroppedOf traffic;
} Dropped;

struct _VigilHistory {
	char *path;
	GAsyncQueue *queue;
	GThread *writer;
	gint on;       /* atomic */
	gint stopping; /* atomic: the writer stops waiting for a lock that another program holds */
	guint64 added; /* rows queued since the start (main thread) */

	GMutex lock; /* the fields below, shared with the writer */
	GCond cond;
	GError *error;
	VigilHistoryLimits limits;
	Pending pending;
	Dropped recent_dropped;
	guint64 dropped;
	guint64 done;    /* rows the writer is done with (written or lost), in queue order */
	gboolean opened; /* the writer tried to open the file */

	/* main thread only: whose flow each conntrack id is, for its counters' share */
	VigilFlowOwners *owners;
	/* queries running (main thread only) */
	guint n_queries;
	GHashTable *queries_by_bucket; /* bucket -> count, at most VIGIL_HISTORY_MAX_QUERIES */
};

/* ---- the writer ---- */

typedef struct {
	VigilHistory *history;
	sqlite3 *db;
	gint64 next_trim;
	gboolean trimming;
	gint64 next_report;
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

static gboolean
is_root_decision(const VigilHistoryRow *item)
{
	return !item->is_update && item->decision.uid == 0;
}

/* counts @item as not kept (history->lock held) */
static void
count_dropped_locked(VigilHistory *history, const VigilHistoryRow *item)
{
	DroppedOf *d =
	    item->is_update ? &history->recent_dropped.traffic : &history->recent_dropped.decisions;
	gpointer key = GUINT_TO_POINTER(item->bucket);
	guint64 n;

	history->dropped++;
	n = GPOINTER_TO_SIZE(g_hash_table_lookup(d->buckets, key));
	if (n == 0 && g_hash_table_size(d->buckets) >= DROPPED_BUCKETS)
		d->other_buckets++;
	else
		g_hash_table_insert(d->buckets, key, GSIZE_TO_POINTER((gsize)n + 1));
}

static void
count_dropped(VigilHistory *history, GPtrArray *items)
{
	g_mutex_lock(&history->lock);
	for (guint i = 0; i < items->len; i++)
		count_dropped_locked(history, g_ptr_array_index(items, i));
	g_mutex_unlock(&history->lock);
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
		count_dropped(history, batch);
		return;
	}
	if (vigil_history_db_write(writer->db, batch, &error))
		return;
	count_dropped(history, batch);
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

typedef struct {
	guint32 bucket;
	guint64 n;
} BucketCount;

static gint
by_count_desc(gconstpointer a, gconstpointer b)
{
	const BucketCount *x = a, *y = b;

	return x->n < y->n   ? 1
	       : x->n > y->n ? -1
	                     : (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

/* "user 1000: 5000, user 1001: 3, 7 of other users": numbers only, nothing a user chose
 * (names come from the user database, paths from users) */
static void
describe_buckets(GString *text, GHashTable *buckets, guint64 other_buckets)
{
	g_autoptr(GArray) counts = g_array_new(FALSE, FALSE, sizeof(BucketCount));
	GHashTableIter iter;
	gpointer key, value;
	guint64 rest = other_buckets;
	gsize start = text->len;

	g_hash_table_iter_init(&iter, buckets);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		BucketCount c = {GPOINTER_TO_UINT(key), GPOINTER_TO_SIZE(value)};

		g_array_append_val(counts, c);
	}
	g_array_sort(counts, by_count_desc);
	for (guint i = 0; i < counts->len; i++) {
		const BucketCount *c = &g_array_index(counts, BucketCount, i);

		if (i >= REPORTED_BUCKETS) {
			rest += c->n;
			continue;
		}
		if (text->len > start)
			g_string_append(text, ", ");
		if (c->bucket == VIGIL_FAIR_UNKNOWN)
			g_string_append(text, "uids of no user");
		else if (c->bucket == G_MAXUINT32)
			g_string_append(text, "no known user");
		else
			g_string_append_printf(text, "user %u", c->bucket);
		g_string_append_printf(text, ": %" G_GUINT64_FORMAT, c->n);
	}
	if (rest > 0)
		g_string_append_printf(text, "%s%" G_GUINT64_FORMAT " of other users",
		                       text->len > start ? ", " : "", rest);
}

static gboolean
dropped_any(const DroppedOf *d)
{
	return g_hash_table_size(d->buckets) > 0 || d->other_buckets > 0;
}

/* "decisions: user 1000: 5000; flows' counters: user 1000: 20" */
static char *
describe_dropped(const Dropped *d)
{
	GString *text = g_string_new(NULL);

	if (dropped_any(&d->decisions)) {
		g_string_append(text, "decisions: ");
		describe_buckets(text, d->decisions.buckets, d->decisions.other_buckets);
	}
	if (dropped_any(&d->traffic)) {
		g_string_append(text, text->len > 0 ? "; flows' counters: " : "flows' counters: ");
		describe_buckets(text, d->traffic.buckets, d->traffic.other_buckets);
	}
	return g_string_free(text, FALSE);
}

static void
dropped_of_init(DroppedOf *d)
{
	d->buckets = g_hash_table_new(NULL, NULL);
	d->other_buckets = 0;
}

static void
dropped_of_clear(DroppedOf *d)
{
	g_clear_pointer(&d->buckets, g_hash_table_destroy);
}

/* once a minute: how many rows of whom were lost (the writer was behind, or the file failed) */
static void
report_dropped(Writer *writer)
{
	VigilHistory *history = writer->history;
	gint64 now = g_get_monotonic_time();
	g_autofree char *text = NULL;
	Dropped d;

	if (now < writer->next_report)
		return;
	writer->next_report = now + REPORT_INTERVAL_US;
	g_mutex_lock(&history->lock);
	d = history->recent_dropped;
	dropped_of_init(&history->recent_dropped.decisions);
	dropped_of_init(&history->recent_dropped.traffic);
	g_mutex_unlock(&history->lock);
	if (dropped_any(&d.decisions) || dropped_any(&d.traffic)) {
		text = describe_dropped(&d);
		g_message("history: not kept in the last minute (the writer was behind): %s", text);
	}
	dropped_of_clear(&d.decisions);
	dropped_of_clear(&d.traffic);
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

/*
 * A place for one more item of @bucket in a part of the queue that @buckets share: at most
 * @bound items together (counted in @n), a bucket at most an equal part, @bound / (other
 * buckets with items waiting + 2): one part is kept for a bucket that has none waiting yet.
 */
static gboolean
share_enter(GHashTable *buckets, guint *n, guint bound, guint32 bucket)
{
	gpointer key = GUINT_TO_POINTER(bucket);
	guint mine = GPOINTER_TO_UINT(g_hash_table_lookup(buckets, key));
	guint others = g_hash_table_size(buckets) - (mine > 0);

	if (*n >= bound || mine >= bound / (others + 2))
		return FALSE;
	(*n)++;
	g_hash_table_insert(buckets, key, GUINT_TO_POINTER(mine + 1));
	return TRUE;
}

static void
share_leave(GHashTable *buckets, guint *n, guint32 bucket)
{
	gpointer key = GUINT_TO_POINTER(bucket);
	guint mine = GPOINTER_TO_UINT(g_hash_table_lookup(buckets, key));

	(*n)--;
	if (mine <= 1)
		g_hash_table_remove(buckets, key);
	else
		g_hash_table_insert(buckets, key, GUINT_TO_POINTER(mine - 1));
}

/* @item left the queue (history->lock held) */
static void
pending_leave_locked(Pending *pending, const VigilHistoryRow *item)
{
	pending->total--;
	if (item->is_update)
		share_leave(pending->traffic_buckets, &pending->traffic, item->bucket);
	else if (!is_root_decision(item))
		share_leave(pending->buckets, &pending->users, item->bucket);
}

/* takes what is queued, up to a batch; TRUE when the stop marker came */
static gboolean
collect(Writer *writer, GPtrArray *batch)
{
	VigilHistory *history = writer->history;
	/* wake once a second to trim even when nothing comes */
	gpointer item = g_async_queue_timeout_pop(history->queue, G_USEC_PER_SEC);
	gboolean stop = FALSE;

	while (item != NULL) {
		if (item == &stop_marker) {
			stop = TRUE;
			break;
		}
		g_ptr_array_add(batch, item);
		if (batch->len >= BATCH_ROWS)
			break;
		item = g_async_queue_try_pop(history->queue);
	}
	g_mutex_lock(&history->lock);
	for (guint i = 0; i < batch->len; i++)
		pending_leave_locked(&history->pending, g_ptr_array_index(batch, i));
	g_mutex_unlock(&history->lock);
	return stop;
}

/* Another program holds the database's write lock (an administrator's `sqlite3 history.db`
 * in a transaction): the writer waits with its batch, as long as it takes, rather than lose
 * it; meanwhile the queue fills as fairly as ever. Only vigild's exit stops the wait. */
static int
writer_busy(void *data, int n_calls)
{
	Writer *writer = data;
	VigilHistory *history = writer->history;
	gint64 now;

	if (g_atomic_int_get(&history->stopping))
		return 0;
	g_usleep(n_calls < 10 ? 10 * 1000 : 100 * 1000);
	now = g_get_monotonic_time();
	if (n_calls == 30 && now - writer->last_failure_report >= REPORT_INTERVAL_US) {
		g_message("history %s: another program holds the file's write lock; decisions wait "
		          "in the queue until it lets go",
		          history->path);
		writer->last_failure_report = now;
	}
	return 1;
}

static gpointer
writer_main(gpointer data)
{
	VigilHistory *history = data;
	/* the first report a minute after the start, then once a minute */
	Writer writer = {.history = history,
	                 .next_report = g_get_monotonic_time() + REPORT_INTERVAL_US};
	g_autoptr(GError) error = NULL;
	gboolean stop = FALSE;

	writer.db = vigil_history_db_open(history->path, TRUE, &error);
	if (writer.db == NULL) {
		turn_off(history, error);
	} else {
		sqlite3_busy_handler(writer.db, writer_busy, &writer);
		g_message("history: keeping decisions in %s", history->path);
	}
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
	history->queries_by_bucket = g_hash_table_new(NULL, NULL);
	history->pending.buckets = g_hash_table_new(NULL, NULL);
	history->pending.traffic_buckets = g_hash_table_new(NULL, NULL);
	dropped_of_init(&history->recent_dropped.decisions);
	dropped_of_init(&history->recent_dropped.traffic);
	history->owners = vigil_flow_owners_new();
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
		g_atomic_int_set(&history->stopping, TRUE);
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
	g_hash_table_destroy(history->queries_by_bucket);
	g_hash_table_destroy(history->pending.buckets);
	g_hash_table_destroy(history->pending.traffic_buckets);
	dropped_of_clear(&history->recent_dropped.decisions);
	dropped_of_clear(&history->recent_dropped.traffic);
	vigil_flow_owners_free(history->owners);
	g_clear_error(&history->error);
	g_mutex_clear(&history->lock);
	g_cond_clear(&history->cond);
	g_free(history->path);
	g_free(history);
}

void
vigil_history_add(VigilHistory *history, const VigilDecision *decision, const char *sha256)
{
	VigilHistoryRow *item;

	if (history == NULL || !g_atomic_int_get(&history->on))
		return;
	item = vigil_history_row_new_from(decision, sha256);
	item->bucket = vigil_fair_bucket(decision->uid);
	/* its counters count against its user's share too */
	if (decision->verdict == VIGIL_ACTION_ALLOW) {
		VigilFlowTuple tuple = {decision->family, decision->protocol, decision->src,
		                        decision->dst,    decision->sport,    decision->dport};

		vigil_flow_owners_set(history->owners, &tuple, item->bucket);
	}
	push(history, item);
}

/* room in the queue for @item, by its share (vigil-history.h); counted in when there is */
static gboolean
pending_enter_locked(Pending *pending, const VigilHistoryRow *item)
{
	if (pending->total >= VIGIL_HISTORY_MAX_PENDING)
		return FALSE;
	if (item->is_update) {
		if (!share_enter(pending->traffic_buckets, &pending->traffic,
		                 VIGIL_HISTORY_MAX_PENDING_TRAFFIC, item->bucket))
			return FALSE;
	} else if (!is_root_decision(item) &&
	           !share_enter(pending->buckets, &pending->users, VIGIL_HISTORY_MAX_PENDING_USERS,
	                        item->bucket)) {
		return FALSE;
	}
	pending->total++;
	return TRUE;
}

/* a queue item; FALSE when its share of the queue is full (counted) */
static gboolean
push(VigilHistory *history, VigilHistoryRow *item)
{
	gboolean room;

	/* a writer that fell behind (a flood, a slow disk) costs rows, never memory or time; and
	 * a flood costs the flooding user's rows, not another user's */
	g_mutex_lock(&history->lock);
	room = pending_enter_locked(&history->pending, item);
	if (!room)
		count_dropped_locked(history, item);
	g_mutex_unlock(&history->lock);
	if (!room) {
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
	/* whose flow it is, conntrack does not say: its decision did (G_MAXUINT32: not known) */
	update->bucket = vigil_flow_owners_get(
	    history->owners,
	    &(VigilFlowTuple){counters->family, counters->protocol, counters->src, counters->dst,
	                      counters->sport, counters->dport},
	    counters->ended);
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

guint64
vigil_history_n_dropped_of(VigilHistory *history, guint32 uid)
{
	gpointer key = GUINT_TO_POINTER(vigil_fair_bucket(uid));
	guint64 dropped;

	g_mutex_lock(&history->lock);
	dropped =
	    GPOINTER_TO_SIZE(g_hash_table_lookup(history->recent_dropped.decisions.buckets, key));
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
	guint32 bucket; /* the caller's, whose query slot it holds */
	VigilHistoryQuery query;
	VigilHistorySelect select; /* what the worker reads */
	char *program;             /* query.program points here */
	gint64 deadline;
	guint64 added;               /* the query sees every decision added before it */
	VigilHistoryReplyFunc reply; /* or NULL: the answer is the rows */
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
	rows = q->select(db, &q->query, &error);
	sqlite3_close(db);
	if (rows == NULL && g_get_monotonic_time() > q->deadline) {
		g_clear_error(&error);
		g_set_error(&error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY,
		            "the query took longer than %d s: ask for a shorter time or fewer rows",
		            VIGIL_HISTORY_QUERY_DEADLINE_S);
	}
	if (rows == NULL) {
		g_task_return_error(task, error);
	} else if (q->reply != NULL) {
		GVariant *answer = g_variant_ref_sink(q->reply(rows));

		g_ptr_array_unref(rows);
		g_task_return_pointer(task, answer, (GDestroyNotify)g_variant_unref);
	} else {
		g_task_return_pointer(task, rows, (GDestroyNotify)g_ptr_array_unref);
	}
}

static void
query_leave(VigilHistory *history, guint32 bucket)
{
	gpointer key = GUINT_TO_POINTER(bucket);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(history->queries_by_bucket, key));

	history->n_queries--;
	if (n <= 1)
		g_hash_table_remove(history->queries_by_bucket, key);
	else
		g_hash_table_insert(history->queries_by_bucket, key, GUINT_TO_POINTER(n - 1));
}

static void
on_query_done(GObject *source, GAsyncResult *result, gpointer data)
{
	Query *q = data;
	GError *error = NULL;
	gpointer answer = g_task_propagate_pointer(G_TASK(result), &error);

	(void)source;
	query_leave(q->history, q->bucket);
	if (answer == NULL)
		g_task_return_error(q->outer, error);
	else
		g_task_return_pointer(q->outer, answer,
		                      q->reply != NULL ? (GDestroyNotify)g_variant_unref
		                                       : (GDestroyNotify)g_ptr_array_unref);
	query_free(q);
}

/* a place for one more query of @uid (counted in its @bucket), or FALSE and @error. A user
 * with many uids holds one bucket's slots; the last slot is root's, so that no user holding the
 * others keeps the administrator from reading the history */
static gboolean
query_enter(VigilHistory *history, guint32 uid, guint32 bucket, GError **error)
{
	gpointer key = GUINT_TO_POINTER(bucket);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(history->queries_by_bucket, key));
	guint slots = uid == 0 ? VIGIL_HISTORY_MAX_QUERIES : VIGIL_HISTORY_MAX_QUERIES - 1;

	if (history->n_queries >= slots || n >= VIGIL_HISTORY_MAX_QUERIES_PER_USER) {
		g_set_error(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY,
		            "the history is busy with other queries: try again");
		return FALSE;
	}
	history->n_queries++;
	g_hash_table_insert(history->queries_by_bucket, key, GUINT_TO_POINTER(n + 1));
	return TRUE;
}

static void
start_query(VigilHistory *history, guint32 caller_uid, VigilHistorySelect select,
            const VigilHistoryQuery *query, VigilHistoryReplyFunc reply, gpointer source_tag,
            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) outer = g_task_new(NULL, cancellable, callback, user_data);
	g_autoptr(GTask) inner = NULL;
	guint32 bucket = vigil_fair_bucket(caller_uid);
	GError *error = NULL;
	Query *q;

	g_task_set_source_tag(outer, source_tag);
	if (!vigil_history_is_on(history)) {
		const GError *why = vigil_history_get_error(history);

		g_task_return_new_error(outer, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_OFF,
		                        "the history is off%s%s", why != NULL ? ": " : "",
		                        why != NULL ? why->message : "");
		return;
	}
	if (!query_enter(history, caller_uid, bucket, &error)) {
		g_task_return_error(outer, error);
		return;
	}
	q = g_new0(Query, 1);
	q->history = history;
	q->path = g_strdup(history->path);
	q->bucket = bucket;
	q->query = *query;
	q->select = select;
	q->program = g_strdup(query->program);
	q->query.program = q->program;
	q->deadline = g_get_monotonic_time() + VIGIL_HISTORY_QUERY_DEADLINE_S * G_USEC_PER_SEC;
	q->added = history->added;
	q->reply = reply;
	q->outer = g_object_ref(outer);
	inner = g_task_new(NULL, NULL, on_query_done, q);
	g_task_set_task_data(inner, q, NULL);
	g_task_run_in_thread(inner, run_query);
}

void
vigil_history_query_async(VigilHistory *history, guint32 caller_uid, const VigilHistoryQuery *query,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
	start_query(history, caller_uid, vigil_history_db_select, query, NULL,
	            vigil_history_query_async, cancellable, callback, user_data);
}

GPtrArray *
vigil_history_query_finish(VigilHistory *history, GAsyncResult *result, GError **error)
{
	(void)history;
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == vigil_history_query_async,
	                     NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

void
vigil_history_query_reply_async(VigilHistory *history, guint32 caller_uid,
                                const VigilHistoryQuery *query, VigilHistoryReplyFunc reply,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
	g_return_if_fail(reply != NULL);
	start_query(history, caller_uid, vigil_history_db_select, query, reply,
	            vigil_history_query_reply_async, cancellable, callback, user_data);
}

void
vigil_history_read_async(VigilHistory *history, guint32 caller_uid, VigilHistorySelect select,
                         const VigilHistoryQuery *query, VigilHistoryReplyFunc reply,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
	g_return_if_fail(select != NULL && reply != NULL);
	start_query(history, caller_uid, select, query, reply, vigil_history_query_reply_async,
	            cancellable, callback, user_data);
}

GVariant *
vigil_history_query_reply_finish(VigilHistory *history, GAsyncResult *result, GError **error)
{
	(void)history;
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	g_return_val_if_fail(
	    g_task_get_source_tag(G_TASK(result)) == vigil_history_query_reply_async, NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}
