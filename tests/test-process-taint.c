/* test-process-taint.c: traced processes and preloaded libraries are seen in /proc */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil-process-taint.h"

static void
test_status(void)
{
	g_assert_cmpuint(vigil_process_taint_tracer_from_status(
	                     "Name:\tcurl\nState:\tS (sleeping)\nTracerPid:\t1234\nUid:\t0\n"),
	                 ==, 1234);
	g_assert_cmpuint(vigil_process_taint_tracer_from_status("Name:\tx\nTracerPid:\t0\n"), ==,
	                 0);
	g_assert_cmpuint(vigil_process_taint_tracer_from_status("Name:\tx\n"), ==, 0);
	g_assert_cmpuint(vigil_process_taint_tracer_from_status("TracerPid:\t5\n"), ==, 0);
	g_assert_cmpuint(vigil_process_taint_tracer_from_status("Name:\tx\nTracerPid:\t12x\n"), ==,
	                 0);
	g_assert_cmpuint(
	    vigil_process_taint_tracer_from_status("Name:\tx\nTracerPid:\t99999999999\n"), ==, 0);
}

static gboolean
scan_in_pieces(const char *env, gsize len, gsize piece)
{
	VigilEnvironScan scan = {0};

	for (gsize off = 0; off < len; off += piece)
		vigil_environ_scan_feed(&scan, env + off, MIN(piece, len - off));
	return vigil_environ_scan_finish(&scan);
}

/* in any piece sizes: the variable may straddle two reads */
static void
test_environ(void)
{
	static const char with[] = "HOME=/root\0LD_PRELOAD=/tmp/evil.so\0PATH=/bin";
	static const char audit[] = "LD_AUDIT=/tmp/a.so";
	static const char empty[] = "HOME=/root\0LD_PRELOAD=\0PATH=/bin";
	static const char inside[] = "X=LD_PRELOAD=/tmp/evil.so\0MY_LD_PRELOAD=1";

	for (gsize piece = 1; piece <= sizeof with; piece++) {
		g_assert_true(scan_in_pieces(with, sizeof with - 1, piece));
		g_assert_true(scan_in_pieces(audit, sizeof audit - 1, piece));
		g_assert_false(scan_in_pieces(empty, sizeof empty - 1, piece));
		g_assert_false(scan_in_pieces(inside, sizeof inside - 1, piece));
	}
}

static int
open_pid(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d", (int)pid);
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	return fd;
}

static void
stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* a live process: an ordinary one, one started with LD_PRELOAD after 300 KB of
 * environment, and one under a tracer */
static void
test_live(void)
{
	g_autoptr(GError) error = NULL;
	/* more than a read's worth, in strings the kernel accepts (128 KiB each at most) */
	g_autofree char *padding = g_strnfill(100000, 'x');
	char *argv[] = {"/bin/sleep", "30", NULL};
	char *plain_env[] = {"PATH=/bin", NULL};
	g_autofree char *pad_var = g_strdup_printf("PAD=%s", padding);
	char *preload_env[] = {pad_var, pad_var, pad_var, "LD_PRELOAD=libm.so.6", NULL};
	GPid child;
	guint32 tracer = 99;
	int fd;

	g_assert_true(g_spawn_async(NULL, argv, plain_env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
	                            &child, &error));
	g_usleep(200000);
	fd = open_pid(child);
	g_assert_cmpuint(vigil_process_taint_read(fd, &tracer), ==, 0);
	g_assert_cmpuint(tracer, ==, 0);
	close(fd);
	stop_child(child);

	g_assert_true(g_spawn_async(NULL, argv, preload_env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
	                            &child, &error));
	g_usleep(200000);
	fd = open_pid(child);
	g_assert_cmpuint(vigil_process_taint_read(fd, &tracer), ==, VIGIL_TAINT_PRELOAD);
	close(fd);
	stop_child(child);

	/* traced: the child asks its parent to trace it, as a debugger's child does */
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		execve(argv[0], argv, plain_env);
		_exit(127);
	}
	int status;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFSTOPPED(status));
	fd = open_pid(pid);
	g_assert_cmpuint(vigil_process_taint_read(fd, &tracer), ==, VIGIL_TAINT_TRACED);
	g_assert_cmpuint(tracer, ==, (guint32)getpid());
	close(fd);
	stop_child(pid);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/process-taint/status", test_status);
	g_test_add_func("/process-taint/environ", test_environ);
	g_test_add_func("/process-taint/live", test_live);
	return g_test_run();
}
