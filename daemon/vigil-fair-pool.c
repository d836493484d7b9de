/* vigil-fair-pool.c: threads shared fairly among users, for work a user's process can hold */
#define G_LOG_DOMAIN "vigil-fair-pool"
#include "config.h"

#include "vigil-fair-pool.h"
#include "vigil-fair.h"

#define ROOT_BUCKET 0u

typedef struct {
	GTask *task;
	GTaskThreadFunc func;
	guint32 bucket;
} Job;

/* one bucket's jobs: running ones, and those waiting for a turn */
typedef struct {
	guint32 bucket;
	guint running;
	GQueue waiting;  /* of Job* */
	GList ring_link; /* in pool->ring while it has jobs waiting */
	gboolean in_ring;
} Bucket;

/* jobs running in all pools (atomic) */
static gint running_anywhere;

struct _VigilFairPool {
	GMutex lock;
	GThreadPool *threads; /* one item per job pushed; a thread runs turns until none is due */
	GHashTable *buckets;  /* bucket -> Bucket*, while it has jobs */
	GQueue ring;          /* of Bucket with jobs waiting, in the order of their turns */
	guint max_threads;    /* for every bucket but root's */
	guint per_bucket;
	guint queue_max;
	guint running;       /* all jobs running */
	guint running_users; /* of them, not root's */
	gboolean stopping;
};

static void
job_free(Job *job)
{
	g_object_unref(job->task);
	g_free(job);
}

/* with the lock held: a bucket with nothing running or waiting goes */
static void
bucket_drop_if_idle_locked(VigilFairPool *pool, Bucket *bucket)
{
	if (bucket->running == 0 && bucket->waiting.length == 0 && !bucket->in_ring)
		g_hash_table_remove(pool->buckets, GUINT_TO_POINTER(bucket->bucket));
}

/* with the lock held: the bucket's next turn comes after those of the buckets behind it */
static void
bucket_requeue_locked(VigilFairPool *pool, Bucket *bucket)
{
	if (bucket->in_ring)
		g_queue_unlink(&pool->ring, &bucket->ring_link);
	bucket->in_ring = bucket->waiting.length > 0;
	if (bucket->in_ring)
		g_queue_push_tail_link(&pool->ring, &bucket->ring_link);
}

/*
 * With the lock held: the job whose turn it is. A bucket runs at most per_bucket jobs at once
 * (one stuck in a process that never lets go holds one of them); all buckets but root's share
 * max_threads, and root's has per_bucket threads of its own.
 */
static Job *
next_job_locked(VigilFairPool *pool)
{
	for (GList *l = pool->ring.head; l != NULL; l = l->next) {
		Bucket *bucket = l->data;
		gboolean root = bucket->bucket == ROOT_BUCKET;
		if (bucket->running >= pool->per_bucket ||
		    (!root && pool->running_users >= pool->max_threads))
			continue;
		Job *job = g_queue_pop_head(&bucket->waiting);
		bucket->running++;
		pool->running++;
		g_atomic_int_inc(&running_anywhere);
		if (!root)
			pool->running_users++;
		bucket_requeue_locked(pool, bucket);
		return job;
	}
	return NULL;
}

static void
job_done_locked(VigilFairPool *pool, guint32 bucket_id)
{
	Bucket *bucket = g_hash_table_lookup(pool->buckets, GUINT_TO_POINTER(bucket_id));
	g_assert(bucket != NULL && bucket->running > 0);
	bucket->running--;
	pool->running--;
	g_atomic_int_add(&running_anywhere, -1);
	if (bucket_id != ROOT_BUCKET)
		pool->running_users--;
	bucket_drop_if_idle_locked(pool, bucket);
}

/* a thread of the pool: turns until none is due (a job held back by its bucket's share is
 * taken up here when one of that bucket's jobs ends) */
static void
pool_thread(gpointer data, gpointer user_data)
{
	VigilFairPool *pool = user_data;

	for (;;) {
		g_mutex_lock(&pool->lock);
		Job *job = next_job_locked(pool);
		g_mutex_unlock(&pool->lock);
		if (job == NULL)
			return;
		/* one given up on while it waited is not started */
		if (!g_task_return_error_if_cancelled(job->task))
			job->func(job->task, g_task_get_source_object(job->task),
			          g_task_get_task_data(job->task),
			          g_task_get_cancellable(job->task));
		g_mutex_lock(&pool->lock);
		job_done_locked(pool, job->bucket);
		g_mutex_unlock(&pool->lock);
		job_free(job);
	}
}

VigilFairPool *
vigil_fair_pool_new(guint max_threads, guint per_bucket, guint queue_max)
{
	g_return_val_if_fail(max_threads > 0 && per_bucket > 0 && queue_max > 0, NULL);
	VigilFairPool *pool = g_new0(VigilFairPool, 1);
	g_mutex_init(&pool->lock);
	pool->buckets = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	g_queue_init(&pool->ring);
	pool->max_threads = max_threads;
	pool->per_bucket = per_bucket;
	pool->queue_max = queue_max;
	/* root's share on top: never taken by the others' stuck jobs */
	pool->threads =
	    g_thread_pool_new(pool_thread, pool, (gint)(max_threads + per_bucket), FALSE, NULL);
	return pool;
}

/* with the lock held: the jobs given up on while they waited leave the queue, in @gone */
static void
drop_cancelled_locked(Bucket *bucket, GPtrArray *gone)
{
	for (GList *l = bucket->waiting.head; l != NULL;) {
		GList *next = l->next;
		Job *job = l->data;
		if (g_cancellable_is_cancelled(g_task_get_cancellable(job->task))) {
			g_queue_delete_link(&bucket->waiting, l);
			g_ptr_array_add(gone, job);
		}
		l = next;
	}
}

void
vigil_fair_pool_run(VigilFairPool *pool, guint32 uid, GTask *task, GTaskThreadFunc func)
{
	g_return_if_fail(pool != NULL && G_IS_TASK(task) && func != NULL);
	guint32 bucket_id = uid == ROOT_BUCKET ? ROOT_BUCKET : vigil_fair_bucket(uid);
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	gboolean busy = FALSE;
	gboolean stopping;

	g_mutex_lock(&pool->lock);
	stopping = pool->stopping;
	if (!stopping) {
		Bucket *bucket = g_hash_table_lookup(pool->buckets, GUINT_TO_POINTER(bucket_id));
		if (bucket == NULL) {
			bucket = g_new0(Bucket, 1);
			bucket->bucket = bucket_id;
			bucket->ring_link.data = bucket;
			g_queue_init(&bucket->waiting);
			g_hash_table_insert(pool->buckets, GUINT_TO_POINTER(bucket_id), bucket);
		}
		if (bucket->waiting.length >= pool->queue_max)
			drop_cancelled_locked(bucket, gone);
		busy = bucket->waiting.length >= pool->queue_max;
		if (!busy) {
			Job *job = g_new0(Job, 1);
			job->task = g_object_ref(task);
			job->func = func;
			job->bucket = bucket_id;
			g_queue_push_tail(&bucket->waiting, job);
		}
		/* a bucket with jobs waiting already keeps its place in the ring */
		if (!bucket->in_ring)
			bucket_requeue_locked(pool, bucket);
		bucket_drop_if_idle_locked(pool, bucket);
	}
	g_mutex_unlock(&pool->lock);

	for (guint i = 0; i < gone->len; i++) {
		Job *job = g_ptr_array_index(gone, i);
		g_task_return_error_if_cancelled(job->task);
		job_free(job);
	}
	if (stopping)
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopping");
	else if (busy)
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_BUSY,
		                        "%u jobs of uid %u wait already", pool->queue_max, uid);
	else
		g_thread_pool_push(pool->threads, pool, NULL);
}

void
vigil_fair_pool_stop(VigilFairPool *pool)
{
	g_autoptr(GPtrArray) waiting = g_ptr_array_new();

	g_mutex_lock(&pool->lock);
	pool->stopping = TRUE;
	while (pool->ring.head != NULL) {
		Bucket *bucket = pool->ring.head->data;
		while (bucket->waiting.length > 0)
			g_ptr_array_add(waiting, g_queue_pop_head(&bucket->waiting));
		bucket_requeue_locked(pool, bucket);
		bucket_drop_if_idle_locked(pool, bucket);
	}
	g_mutex_unlock(&pool->lock);
	for (guint i = 0; i < waiting->len; i++) {
		Job *job = g_ptr_array_index(waiting, i);
		g_task_return_new_error(job->task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopping");
		job_free(job);
	}
}

void
vigil_fair_pool_free(VigilFairPool *pool)
{
	if (pool == NULL)
		return;
	vigil_fair_pool_stop(pool);
	g_mutex_lock(&pool->lock);
	guint running = pool->running;
	g_mutex_unlock(&pool->lock);
	if (running > 0) {
		/* its threads use it: it goes with the process */
		g_message("%u job(s) still held by the processes they read: left behind", running);
		return;
	}
	g_thread_pool_free(pool->threads, TRUE, TRUE);
	g_hash_table_destroy(pool->buckets);
	g_mutex_clear(&pool->lock);
	g_free(pool);
}

guint
vigil_fair_pool_running_anywhere(void)
{
	return (guint)g_atomic_int_get(&running_anywhere);
}

guint
vigil_fair_pool_running(VigilFairPool *pool, guint32 uid)
{
	g_mutex_lock(&pool->lock);
	guint n = pool->running;
	if (uid != G_MAXUINT32) {
		guint32 id = uid == ROOT_BUCKET ? ROOT_BUCKET : vigil_fair_bucket(uid);
		Bucket *bucket = g_hash_table_lookup(pool->buckets, GUINT_TO_POINTER(id));
		n = bucket != NULL ? bucket->running : 0;
	}
	g_mutex_unlock(&pool->lock);
	return n;
}
