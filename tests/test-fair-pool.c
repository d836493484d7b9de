/* test-fair-pool.c: one user's stuck jobs hold that user's share of the threads, no more */
#include <gio/gio.h>

#include "vigil-fair-pool.h"

#define WAIT_US (10 * G_USEC_PER_SEC)

/* jobs of a "stuck" kind wait until released, as a read of a process that holds its lock */
static GMutex lock;
static GCond cond;
static gboolean released;
static guint finished;

static void
stuck_job(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	g_mutex_lock(&lock);
	while (!released)
		g_cond_wait(&cond, &lock);
	finished++;
	g_cond_broadcast(&cond);
	g_mutex_unlock(&lock);
	g_task_return_boolean(task, TRUE);
}

static void
quick_job(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	g_mutex_lock(&lock);
	finished++;
	g_cond_broadcast(&cond);
	g_mutex_unlock(&lock);
	g_task_return_boolean(task, TRUE);
}

static void
on_done(GObject *source, GAsyncResult *result, gpointer data)
{
	GError **error = data;
	g_task_propagate_boolean(G_TASK(result), error);
}

static GTask *
run(VigilFairPool *pool, guint32 uid, GTaskThreadFunc func, GError **error)
{
	GTask *task = g_task_new(NULL, NULL, on_done, error);
	vigil_fair_pool_run(pool, uid, task, func);
	return task;
}

/* waits (without the main loop) until @n jobs finished */
static gboolean
wait_finished(guint n)
{
	gint64 until = g_get_monotonic_time() + WAIT_US;
	gboolean ok = TRUE;
	g_mutex_lock(&lock);
	while (finished < n && ok)
		ok = g_cond_wait_until(&cond, &lock, until);
	ok = finished >= n;
	g_mutex_unlock(&lock);
	return ok;
}

static void
test_stuck_user_holds_its_share(void)
{
	/* two threads for all but root, one job at a time per user, two waiting per user */
	VigilFairPool *pool = vigil_fair_pool_new(2, 1, 2);
	GError *errors[8] = {NULL};
	GTask *tasks[8];

	released = FALSE;
	finished = 0;
	/* uid 1000's first job is stuck: its next ones wait, the queue then refuses */
	tasks[0] = run(pool, 1000, stuck_job, &errors[0]);
	while (vigil_fair_pool_running(pool, 1000) == 0)
		g_usleep(1000);
	tasks[1] = run(pool, 1000, quick_job, &errors[1]);
	tasks[2] = run(pool, 1000, quick_job, &errors[2]);
	tasks[3] = run(pool, 1000, quick_job, &errors[3]);
	/* another user's and root's run meanwhile */
	tasks[4] = run(pool, 2000, quick_job, &errors[4]);
	tasks[5] = run(pool, 0, quick_job, &errors[5]);
	g_assert_true(wait_finished(2));
	g_assert_cmpuint(vigil_fair_pool_running(pool, 1000), ==, 1);
	/* a second stuck user takes the last thread of the others: root still has its own */
	tasks[6] = run(pool, 3000, stuck_job, &errors[6]);
	tasks[7] = run(pool, 0, quick_job, &errors[7]);
	g_assert_true(wait_finished(3));
	g_mutex_lock(&lock);
	g_assert_cmpuint(finished, ==, 3);
	g_mutex_unlock(&lock);

	g_mutex_lock(&lock);
	released = TRUE;
	g_cond_broadcast(&cond);
	g_mutex_unlock(&lock);
	/* the stuck ones and uid 1000's two that waited; the fourth was refused */
	g_assert_true(wait_finished(7));
	while (g_main_context_iteration(NULL, FALSE))
		;
	for (guint i = 0; i < G_N_ELEMENTS(tasks); i++) {
		while (!g_task_get_completed(tasks[i]))
			g_main_context_iteration(NULL, TRUE);
		if (i == 3)
			g_assert_error(errors[i], G_IO_ERROR, G_IO_ERROR_BUSY);
		else
			g_assert_no_error(errors[i]);
		g_clear_error(&errors[i]);
		g_object_unref(tasks[i]);
	}
	/* a job counts as running until its thread is done with it, just after it returned */
	while (vigil_fair_pool_running(pool, G_MAXUINT32) > 0)
		g_usleep(1000);
	vigil_fair_pool_free(pool);
}

/* stopping ends the jobs waiting, and leaves a stuck one to its thread */
static void
test_stop_leaves_stuck_jobs(void)
{
	VigilFairPool *pool = vigil_fair_pool_new(1, 1, 4);
	GError *errors[2] = {NULL};
	GTask *tasks[2];

	released = FALSE;
	finished = 0;
	tasks[0] = run(pool, 1000, stuck_job, &errors[0]);
	tasks[1] = run(pool, 1000, quick_job, &errors[1]);
	while (vigil_fair_pool_running(pool, 1000) == 0)
		g_usleep(1000);
	gint64 start = g_get_monotonic_time();
	vigil_fair_pool_stop(pool);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
	while (!g_task_get_completed(tasks[1]))
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(errors[1], G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_mutex_lock(&lock);
	released = TRUE;
	g_cond_broadcast(&cond);
	g_mutex_unlock(&lock);
	while (!g_task_get_completed(tasks[0]))
		g_main_context_iteration(NULL, TRUE);
	g_assert_no_error(errors[0]);
	g_clear_error(&errors[1]);
	g_object_unref(tasks[0]);
	g_object_unref(tasks[1]);
	while (vigil_fair_pool_running(pool, G_MAXUINT32) > 0)
		g_usleep(1000);
	vigil_fair_pool_free(pool);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fair-pool/stuck-user-holds-its-share", test_stuck_user_holds_its_share);
	g_test_add_func("/fair-pool/stop-leaves-stuck-jobs", test_stop_leaves_stuck_jobs);
	return g_test_run();
}
