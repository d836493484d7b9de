/* vigil-fair-pool.h: threads shared fairly among users, for work a user's process can hold */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Threads for blocking work done on a user's behalf, where that user's processes decide how
 * long it blocks: reading /proc/PID/cmdline or environ waits for the process's mmap lock, which
 * the process can hold for ever (a thread stuck in a page fault on a file its FUSE server never
 * serves). Each fairness bucket (vigil-fair.h) runs at most @per_bucket jobs at a time, buckets
 * take turns round robin, and @per_bucket threads are kept for root's bucket (0) alone: one
 * user's stuck processes hold that user's share, never another user's or root's. A job stuck
 * for ever keeps its thread; the pool is then left behind at exit, never waited for.
 */
typedef struct _VigilFairPool VigilFairPool;

/* @max_threads for all users but root, @per_bucket running and @queue_max waiting per bucket */
VigilFairPool *vigil_fair_pool_new(guint max_threads, guint per_bucket, guint queue_max);

/*
 * Runs @func(@task, source object, task data, cancellable) in a thread of the pool, in its
 * turn among @uid's bucket's jobs; @func returns @task's result as g_task_run_in_thread()'s
 * does. When the bucket has @queue_max jobs waiting already, @task is returned
 * G_IO_ERROR_BUSY at once; after vigil_fair_pool_stop(), G_IO_ERROR_CANCELLED.
 */
void vigil_fair_pool_run(VigilFairPool *pool, guint32 uid, GTask *task, GTaskThreadFunc func);

/* jobs waiting are returned G_IO_ERROR_CANCELLED, new ones too; running ones run on */
void vigil_fair_pool_stop(VigilFairPool *pool);

/* stops it; when a job still runs (stuck), the pool is left to it and goes with the process */
void vigil_fair_pool_free(VigilFairPool *pool);

/* jobs running now in any pool: at exit, those a process may hold for ever (vigild.c) */
guint vigil_fair_pool_running_anywhere(void);

/* tests: jobs running now, of @uid's bucket or (G_MAXUINT32) all */
guint vigil_fair_pool_running(VigilFairPool *pool, guint32 uid);

G_END_DECLS
