/* test-process.c: reading processes from /proc (exe, hash, user, parents) and the hash cache */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil-process.h"

static char *test_exe;     /* this test binary, resolved independently of /proc */
static char *test_cmdline; /* our argv joined with spaces */

/* sha256sum(1) is the independent witness of what a file's hash is */
static char *
sha256sum_of(const char *path)
{
	const char *argv[] = {"sha256sum", path, NULL};
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;
	int status = 0;

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
	             NULL, NULL, &out, NULL, &status, &error);
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_assert_cmpuint(strlen(out), >=, 64);
	return g_strndup(out, 64);
}

static char *
resolved(const char *path)
{
	char buf[PATH_MAX];
	g_assert_nonnull(realpath(path, buf));
	return g_strdup(buf);
}

static char *
exe_of(GPid pid)
{
	g_autofree char *link = g_strdup_printf("/proc/%d/exe", pid);
	return g_file_read_link(link, NULL);
}

/* a child dies with the test, also when an assertion ends it */
static void
die_with_parent(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* spawns @argv and waits until the child runs @expect_exe with its argv in place: the exe
 * link changes before the new argv is set up */
static GPid
spawn_running(const char *const *argv, const char *expect_exe)
{
	GPid pid = 0;
	g_autoptr(GError) error = NULL;

	g_spawn_async(NULL, (char **)argv, NULL,
	              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
	                  G_SPAWN_STDERR_TO_DEV_NULL,
	              die_with_parent, NULL, &pid, &error);
	g_assert_no_error(error);
	g_autofree char *cmdline_path = g_strdup_printf("/proc/%d/cmdline", pid);
	for (int i = 0; i < 400; i++) {
		g_autofree char *exe = exe_of(pid);
		g_autofree char *cmdline = NULL;
		if (exe != NULL && g_str_has_prefix(exe, expect_exe) &&
		    g_file_get_contents(cmdline_path, &cmdline, NULL, NULL) && cmdline[0] != '\0')
			return pid;
		g_usleep(5000);
	}
	g_assert_not_reached();
}

static void
kill_and_reap(GPid pid)
{
	int status;
	kill(pid, SIGKILL);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
}

static char *
user_name_of(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	return pw != NULL ? g_strdup(pw->pw_name) : NULL;
}

static void
test_parse_stat(void)
{
	guint32 ppid = 0;
	guint64 start = 0;

	/* comm holds ") ", "(" and digits that would shift a naive field count */
	g_assert_true(vigil_process_parse_stat(
	    "4242 (we ) 1 2 (x) R 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
	    "987654 12345 67 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0\n",
	    &ppid, &start));
	g_assert_cmpuint(ppid, ==, 17);
	g_assert_cmpuint(start, ==, 987654);

	g_autofree char *comm = vigil_process_comm_from_stat("7 (a) b) S 1 2 3");
	g_assert_cmpstr(comm, ==, "a) b");

	/* truncated lines, a missing comm, junk in a number: all refused */
	g_assert_false(vigil_process_parse_stat("4242 (x) R 17 4242", &ppid, &start));
	g_assert_false(vigil_process_parse_stat("4242 x R 17 4242 4242 0 -1 4194560 100 0 0 0 1 "
	                                        "2 0 0 20 0 1 0 987654",
	                                        &ppid, &start));
	g_assert_false(vigil_process_parse_stat("4242 (x) R 1x7 4242 4242 0 -1 4194560 100 0 0 0 "
	                                        "1 2 0 0 20 0 1 0 987654",
	                                        &ppid, &start));
	g_assert_false(vigil_process_parse_stat(") (", &ppid, &start));
	g_assert_false(vigil_process_parse_stat("", &ppid, &start));
}

/* a live stat line with a hostile comm parses to the ppid the kernel reports */
static void
test_parse_stat_live(void)
{
	char old_name[17] = {0};
	g_assert_cmpint(prctl(PR_GET_NAME, old_name), ==, 0);
	g_assert_cmpint(prctl(PR_SET_NAME, "x) 1 2 (y) Z 9"), ==, 0);

	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents("/proc/self/stat", &text, NULL, NULL));
	g_assert_cmpint(prctl(PR_SET_NAME, old_name), ==, 0);

	guint32 ppid = 0;
	guint64 start = 0;
	g_assert_true(vigil_process_parse_stat(text, &ppid, &start));
	g_assert_cmpuint(ppid, ==, getppid());
	g_autofree char *comm = vigil_process_comm_from_stat(text);
	g_assert_cmpstr(comm, ==, "x) 1 2 (y) Z 9");

	/* we started after boot and before now: within the uptime, in clock ticks */
	g_autofree char *uptime = NULL;
	g_assert_true(g_file_get_contents("/proc/uptime", &uptime, NULL, NULL));
	double up = g_ascii_strtod(uptime, NULL);
	g_assert_cmpuint(start, >, 0);
	g_assert_cmpfloat((double)start / sysconf(_SC_CLK_TCK), <=, up + 1);
}

static void
test_app_id(void)
{
	static const struct {
		const char *cgroup;
		const char *app_id;
	} cases[] = {
	    /* flatpak on cgroup v2 */
	    {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	     "app-flatpak-org.mozilla.firefox-12345.scope\n",
	     "org.mozilla.firefox"},
	    /* an app id with a dash in it, on a hybrid v1 + v2 system */
	    {"12:pids:/user.slice/user-1000.slice/user@1000.service\n"
	     "1:name=systemd:/user.slice/user-1000.slice/user@1000.service/app.slice/"
	     "app-flatpak-com.example.My_App-beta-77.scope\n"
	     "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	     "app-flatpak-com.example.My_App-beta-77.scope\n",
	     "com.example.My_App-beta"},
	    /* snap, the current and the older scope names, and a snap service */
	    {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	     "snap.firefox.firefox.3f7c1a2e-5d6b-4c1e-9f3a-1b2c3d4e5f60.scope\n",
	     "firefox"},
	    {"0::/user.slice/user-1000.slice/user@1000.service/"
	     "snap.chromium.chromium-4b5a6c7d-0000-4000-8000-123456789abc.scope\n",
	     "chromium"},
	    {"0::/system.slice/snap.lxd.daemon.service\n", "lxd"},
	    {"0::/system.slice/snap.my-snap_inst.hook.configure.scope\n", "my-snap_inst"},
	    /* not apps */
	    {"0::/user.slice/user-1000.slice/session-2.scope\n", NULL},
	    {"0::/\n", NULL},
	    {"", NULL},
	    {"garbage without colons", NULL},
	    {"0::/app.slice/app-flatpak-.scope\n", NULL},
	    {"0::/app.slice/app-flatpak-org.x.App.scope\n", NULL},
	    {"0::/app.slice/app-flatpak-org.x.App-abc.scope\n", NULL},
	    {"0::/app.slice/app-flatpak-org.x.App-12.service\n", NULL},
	    {"0::/system.slice/snap.service\n", NULL},
	    {"0::/system.slice/snap..x.scope\n", NULL},
	    {"0::/system.slice/snapd.service\n", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *app_id = vigil_process_app_id_from_cgroup(cases[i].cgroup);
		g_assert_cmpstr(app_id, ==, cases[i].app_id);
	}
}

static void
assert_parent_is_test(VigilProcess *process)
{
	g_autofree char *expected = g_strdup_printf("%d %s", getpid(), test_exe);
	g_assert_nonnull(process->parents);
	g_assert_cmpuint(process->parents->len, >=, 1);
	g_assert_cmpstr(g_ptr_array_index(process->parents, 0), ==, expected);
}

static void
test_read_self(void)
{
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(16);
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process = vigil_process_read("/proc", getpid(), cache, &error);
	g_assert_no_error(error);
	g_assert_nonnull(process);

	g_assert_cmpuint(process->pid, ==, getpid());
	g_assert_cmpstr(process->exe, ==, test_exe);
	g_assert_false(process->exe_deleted);
	g_assert_cmpuint(process->uid, ==, getuid());
	g_autofree char *user = user_name_of(getuid());
	g_assert_cmpstr(process->user_name, ==, user);
	g_assert_cmpstr(process->cmdline, ==, test_cmdline);
	g_assert_false(process->foreign_mount_ns);

	struct stat st;
	g_assert_cmpint(stat(test_exe, &st), ==, 0);
	g_assert_cmpuint(process->exe_dev, ==, st.st_dev);
	g_assert_cmpuint(process->exe_ino, ==, st.st_ino);
	g_assert_cmpint(process->exe_size, ==, st.st_size);
	g_assert_cmpint(process->exe_mtime / G_GINT64_CONSTANT(1000000000), ==, st.st_mtim.tv_sec);

	/* a read never hashes: the hash comes once the cache has it */
	g_assert_null(process->sha256);
	g_autofree char *sha = sha256sum_of(test_exe);
	g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", getpid());
	g_autofree char *hashed =
	    vigil_sha_cache_get(cache, exe_link, process->exe_dev, process->exe_ino,
	                        process->exe_mtime, process->exe_size, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(hashed, ==, sha);
	g_autoptr(VigilProcess) known = vigil_process_read("/proc", getpid(), cache, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(known->sha256, ==, sha);
	g_assert_cmpint(known->exe_ctime / G_GINT64_CONSTANT(1000000000), ==, st.st_ctim.tv_sec);

	/* the chain starts at our parent and ends at most 8 up */
	g_autofree char *parent_prefix = g_strdup_printf("%d ", getppid());
	g_assert_cmpuint(process->parents->len, >=, 1);
	g_assert_cmpuint(process->parents->len, <=, 8);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(process->parents, 0), parent_prefix));

	/* no cache: no hash, the rest is the same */
	g_autoptr(VigilProcess) unhashed = vigil_process_read("/proc", getpid(), NULL, &error);
	g_assert_no_error(error);
	g_assert_null(unhashed->sha256);
	g_assert_cmpstr(unhashed->exe, ==, test_exe);
	g_assert_cmpuint(unhashed->start_time, ==, process->start_time);
}

static void
test_read_child(void)
{
	const char *argv[] = {"/bin/sleep", "30", NULL};
	g_autofree char *sleep_exe = resolved("/bin/sleep");
	GPid pid = spawn_running(argv, sleep_exe);

	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(16);
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process = vigil_process_read("/proc", pid, cache, &error);
	g_assert_no_error(error);

	g_assert_cmpuint(process->pid, ==, pid);
	g_assert_cmpstr(process->exe, ==, sleep_exe);
	g_assert_false(process->exe_deleted);
	g_assert_cmpstr(process->cmdline, ==, "/bin/sleep 30");
	g_assert_cmpuint(process->uid, ==, getuid());
	g_autofree char *user = user_name_of(getuid());
	g_assert_cmpstr(process->user_name, ==, user);
	assert_parent_is_test(process);
	g_assert_false(process->foreign_mount_ns);
	g_assert_null(process->app_id);
	g_assert_null(process->sha256);
	g_autofree char *sha = sha256sum_of(sleep_exe);
	g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", pid);
	g_autofree char *hashed =
	    vigil_sha_cache_get(cache, exe_link, process->exe_dev, process->exe_ino,
	                        process->exe_mtime, process->exe_size, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(hashed, ==, sha);

	/* a second read of the same binary has it from the cache */
	guint64 hits = 0;
	guint64 misses = 0;
	g_autoptr(VigilProcess) again = vigil_process_read("/proc", pid, cache, &error);
	g_assert_no_error(error);
	vigil_sha_cache_get_stats(cache, &hits, &misses);
	g_assert_cmpuint(hits, ==, 1);
	g_assert_cmpuint(misses, ==, 1);
	g_assert_cmpstr(again->sha256, ==, sha);
	g_autoptr(VigilProcess) copy = vigil_process_copy_with_sha256(process, sha);
	g_assert_cmpstr(copy->sha256, ==, sha);
	g_assert_cmpstr(copy->cmdline, ==, process->cmdline);
	g_assert_cmpuint(copy->parents->len, ==, process->parents->len);
	g_assert_null(process->sha256);

	kill_and_reap(pid);

	/* and once it is gone, it is not found */
	g_autoptr(VigilProcess) gone = vigil_process_read("/proc", pid, cache, &error);
	g_assert_null(gone);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_read_deleted(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *copy = g_build_filename(dir, "my sleep", NULL);
	g_autofree char *contents = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents("/bin/sleep", &contents, &len, NULL));
	g_assert_true(
	    g_file_set_contents_full(copy, contents, len, G_FILE_SET_CONTENTS_NONE, 0755, &error));
	g_assert_no_error(error);
	g_autofree char *sha = sha256sum_of(copy);

	const char *argv[] = {copy, "30", NULL};
	GPid pid = spawn_running(argv, copy);
	g_assert_cmpint(unlink(copy), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);

	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(16);
	g_autoptr(VigilProcess) process = vigil_process_read("/proc", pid, cache, &error);
	g_assert_no_error(error);
	g_assert_true(process->exe_deleted);
	g_assert_cmpstr(process->exe, ==, copy);
	g_assert_false(g_file_test(copy, G_FILE_TEST_EXISTS));
	/* hashed through /proc/PID/exe: the deleted file's contents, not argv[0] */
	g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", pid);
	g_autofree char *hashed =
	    vigil_sha_cache_get(cache, exe_link, process->exe_dev, process->exe_ino,
	                        process->exe_mtime, process->exe_size, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(hashed, ==, sha);

	kill_and_reap(pid);
}

static void
test_foreign_mount_ns(void)
{
	g_autofree char *sleep_exe = resolved("/bin/sleep");
	const char *argv[] = {"unshare", "-m", sleep_exe, "30", NULL};
	g_autofree char *unshare = g_find_program_in_path("unshare");
	g_assert_nonnull(unshare);
	argv[0] = unshare;
	GPid pid = spawn_running(argv, sleep_exe);

	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process = vigil_process_read("/proc", pid, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(process->exe, ==, sleep_exe);
	g_assert_true(process->foreign_mount_ns);
	g_autofree char *cmdline = g_strdup_printf("%s 30", sleep_exe);
	g_assert_cmpstr(process->cmdline, ==, cmdline);
	kill_and_reap(pid);
}

/* argv with NULs, control characters and invalid UTF-8 becomes one clean line */
static void
test_cmdline_cleaned(void)
{
	g_autofree char *sleep_exe = resolved("/bin/sleep");
	g_autofree char *script =
	    g_strdup_printf("exec -a \"$(printf 'a\\tb\\nc\\377')\" %s 30", sleep_exe);
	const char *argv[] = {"/bin/bash", "-c", script, NULL};
	GPid pid = spawn_running(argv, sleep_exe);

	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process = vigil_process_read("/proc", pid, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_utf8_validate(process->cmdline, -1, NULL));
	g_assert_cmpstr(process->cmdline, ==, "a b c\xef\xbf\xbd 30");
	kill_and_reap(pid);
}

/* a child that runs this binary again ("--idle same binary") once told, through *@tell (a
 * byte, exec_again()); it ends when *@tell is closed untold */
static pid_t
fork_exec_when_told(int *tell)
{
	int ctl[2];
	g_assert_cmpint(pipe2(ctl, O_CLOEXEC), ==, 0);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		char byte;
		const char *idle[] = {test_exe, "--idle", "same binary", NULL};
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ctl[1]);
		if (read(ctl[0], &byte, 1) == 1)
			execv(test_exe, (char **)idle);
		_exit(0);
	}
	close(ctl[0]);
	*tell = ctl[1];
	return pid;
}

/* tells @pid to exec (fork_exec_when_told()) and waits until its new argv is in place */
static void
exec_again(int tell, pid_t pid)
{
	g_autofree char *cmdline = g_strdup_printf("/proc/%d/cmdline", pid);

	g_assert_cmpint(write(tell, "x", 1), ==, 1);
	for (int i = 0; i < 400; i++) {
		g_autofree char *text = NULL;
		gsize len = 0;
		if (g_file_get_contents(cmdline, &text, &len, NULL) && len > strlen(text) + 1 &&
		    strcmp(text + strlen(text) + 1, "--idle") == 0)
			break;
		g_usleep(5000);
	}
}

static VigilProcessStamp
stamp_of(GPid pid)
{
	VigilProcessStamp stamp;
	g_assert_true(vigil_process_read_stamp("/proc", pid, &stamp));
	return stamp;
}

/* a stamp stays while nothing changes, and changes when the process execs, even itself */
static void
test_stamp(void)
{
	int tell;
	pid_t pid = fork_exec_when_told(&tell);

	VigilProcessStamp before = stamp_of(pid);
	VigilProcessStamp again = stamp_of(pid);
	g_assert_true(vigil_process_stamp_equal(&before, &again));
	g_autoptr(VigilProcess) process = vigil_process_read("/proc", pid, NULL, NULL);
	g_assert_nonnull(process);
	g_assert_cmpuint(before.start_time, ==, process->start_time);
	g_assert_cmpuint(before.exe_ino, ==, process->exe_ino);

	/* the same program again: same pid, start time and file, another image */
	exec_again(tell, pid);
	VigilProcessStamp after = stamp_of(pid);
	g_assert_false(vigil_process_stamp_equal(&before, &after));
	g_assert_cmpuint(after.start_time, ==, before.start_time);
	g_assert_cmpuint(after.exe_ino, ==, before.exe_ino);
	g_autoptr(VigilProcess) reread = vigil_process_read("/proc", pid, NULL, NULL);
	g_autofree char *expected = g_strdup_printf("%s --idle same binary", test_exe);
	g_assert_cmpstr(reread->cmdline, ==, expected);

	close(tell);
	kill_and_reap(pid);

	/* and a process that is gone has no stamp */
	VigilProcessStamp none;
	g_assert_false(vigil_process_read_stamp("/proc", pid, &none));
}

/* fds of /proc/PID and its stat file, as the attributor keeps them */
static void
open_process_fds(const char *proc_root, pid_t pid, int *dir_fd, int *stat_fd)
{
	g_autofree char *path = g_strdup_printf("%s/%d", proc_root, pid);
	*dir_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(*dir_fd, >=, 0);
	*stat_fd = openat(*dir_fd, "stat", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(*stat_fd, >=, 0);
}

/* the stamp through kept fds: steady while nothing changes, new after an exec, gone with it */
static void
test_stamp_at(void)
{
	int tell;
	pid_t pid = fork_exec_when_told(&tell);
	int dir_fd;
	int stat_fd;
	open_process_fds("/proc", pid, &dir_fd, &stat_fd);

	VigilProcessStamp before;
	VigilProcessStamp again;
	g_assert_true(vigil_process_read_stamp_at(dir_fd, stat_fd, &before));
	g_assert_true(vigil_process_read_stamp_at(dir_fd, stat_fd, &again));
	g_assert_true(vigil_process_stamp_equal(&before, &again));
	/* the same facts as the stamp by path, the owner of /proc/PID left out */
	VigilProcessStamp by_path = stamp_of(pid);
	by_path.proc_owner = 0;
	g_assert_true(vigil_process_stamp_equal(&before, &by_path));

	/* exec of the same program: the fds still follow the process, the stamp changes */
	exec_again(tell, pid);
	VigilProcessStamp after;
	g_assert_true(vigil_process_read_stamp_at(dir_fd, stat_fd, &after));
	g_assert_false(vigil_process_stamp_equal(&before, &after));
	g_assert_cmpuint(after.start_time, ==, before.start_time);
	g_assert_cmpuint(after.exe_ino, ==, before.exe_ino);

	close(tell);
	kill_and_reap(pid);
	VigilProcessStamp none;
	g_assert_false(vigil_process_read_stamp_at(dir_fd, stat_fd, &none));
	close(stat_fd);
	close(dir_fd);
}

static pid_t
fork_idle(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/*
 * pid 1 of a private pid namespace, with its own /proc at @proc_dir: a process exits and a new
 * one gets its pid. Returns 0 when the old fds see nothing and the pid sees the new process,
 * else the number of the check that failed (a forked child cannot use g_assert).
 */
static int
pid_reuse_init(const char *proc_dir)
{
	if (mount("proc", proc_dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return 20;
	pid_t first = fork_idle();
	char path[PATH_MAX];
	g_snprintf(path, sizeof(path), "%s/%d", proc_dir, first);
	int dir_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int stat_fd = dir_fd >= 0 ? openat(dir_fd, "stat", O_RDONLY | O_CLOEXEC) : -1;
	VigilProcessStamp stamp;
	if (first < 0 || stat_fd < 0 || !vigil_process_read_stamp_at(dir_fd, stat_fd, &stamp))
		return 21;
	kill(first, SIGKILL);
	waitpid(first, NULL, 0);
	if (vigil_process_read_stamp_at(dir_fd, stat_fd, &stamp))
		return 22;

	/* the namespace's next pid is the one just freed */
	char last[32];
	g_snprintf(path, sizeof(path), "%s/sys/kernel/ns_last_pid", proc_dir);
	g_snprintf(last, sizeof(last), "%d", first - 1);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, last, strlen(last)) != (ssize_t)strlen(last))
		return 23;
	close(fd);
	pid_t second = fork_idle();
	if (second != first)
		return 24;
	int result = 0;
	if (vigil_process_read_stamp_at(dir_fd, stat_fd, &stamp))
		result = 25; /* the old fds must not describe the new process */
	else if (!vigil_process_read_stamp(proc_dir, (guint32)second, &stamp))
		result = 26; /* while its pid does */
	kill(second, SIGKILL);
	waitpid(second, NULL, 0);
	return result;
}

static int
pid_reuse_helper(const char *proc_dir)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0)
		return 10;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 11;
	pid_t init = fork();
	if (init == 0)
		_exit(pid_reuse_init(proc_dir));
	int status = 0;
	if (init < 0 || waitpid(init, &status, 0) != init || !WIFEXITED(status))
		return 12;
	return WEXITSTATUS(status);
}

/* a reused pid never answers through the fds of the process that had it */
static void
test_stamp_at_pid_reuse(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *proc_dir = g_dir_make_tmp("vigil-proc-XXXXXX", &error);
	g_assert_no_error(error);
	pid_t helper = fork();
	g_assert_cmpint(helper, >=, 0);
	if (helper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(pid_reuse_helper(proc_dir));
	}
	int status = 0;
	g_assert_cmpint(waitpid(helper, &status, 0), ==, helper);
	g_assert_true(WIFEXITED(status));
	/* 10-12: namespaces (the test needs root), 20-24: setup, 25-26: the checks */
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_cmpint(rmdir(proc_dir), ==, 0);
}

static char *
write_temp(const char *dir, const char *name, const char *contents)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;
	g_assert_true(g_file_set_contents(path, contents, -1, &error));
	g_assert_no_error(error);
	return g_steal_pointer(&path);
}

static char *
cache_get(VigilShaCache *cache, const char *path, GError **error)
{
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	gint64 mtime =
	    (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
	return vigil_sha_cache_get(cache, path, st.st_dev, st.st_ino, mtime, st.st_size, error);
}

static void
assert_stats(VigilShaCache *cache, guint64 hits, guint64 misses)
{
	guint64 h = 0;
	guint64 m = 0;
	vigil_sha_cache_get_stats(cache, &h, &m);
	g_assert_cmpuint(h, ==, hits);
	g_assert_cmpuint(m, ==, misses);
}

static void
set_mtime(const char *path, const struct timespec *when)
{
	struct timespec times[2] = {{0, UTIME_OMIT}, *when};
	g_assert_cmpint(utimensat(AT_FDCWD, path, times, 0), ==, 0);
}

/* same inode, same size: only the contents (and the ctime) change */
static void
rewrite_in_place(const char *path, const char *contents)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pwrite(fd, contents, strlen(contents), 0), ==, (ssize_t)strlen(contents));
	g_assert_cmpint(close(fd), ==, 0);
}

static void
test_sha_cache(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *path = write_temp(dir, "a", "first version");
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(8);

	g_autofree char *first = cache_get(cache, path, &error);
	g_assert_no_error(error);
	g_autofree char *expected = sha256sum_of(path);
	g_assert_cmpstr(first, ==, expected);
	assert_stats(cache, 0, 1);

	g_autofree char *again = cache_get(cache, path, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(again, ==, first);
	assert_stats(cache, 1, 1);

	/* only the mtime changes: a new key, the same contents */
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	struct timespec later = {st.st_mtim.tv_sec + 100, 0};
	set_mtime(path, &later);
	g_autofree char *touched = cache_get(cache, path, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(touched, ==, first);
	assert_stats(cache, 1, 2);

	/* same size, mtime set back by the owner: the ctime still tells */
	rewrite_in_place(path, "other version");
	set_mtime(path, &later);
	g_autofree char *rewritten = cache_get(cache, path, &error);
	g_assert_no_error(error);
	g_autofree char *expected_rewritten = sha256sum_of(path);
	g_assert_cmpstr(rewritten, ==, expected_rewritten);
	g_assert_cmpstr(rewritten, !=, first);
	assert_stats(cache, 1, 3);

	/* what the caller saw is no longer the file: refused, not hashed under a wrong key */
	g_autofree char *stale = vigil_sha_cache_get(cache, path, st.st_dev, st.st_ino,
	                                             (gint64)st.st_mtim.tv_sec, st.st_size, &error);
	g_assert_null(stale);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_WRONG_ETAG);
	g_clear_error(&error);

	/* a file that is gone */
	g_assert_cmpint(unlink(path), ==, 0);
	g_autofree char *none =
	    vigil_sha_cache_get(cache, path, st.st_dev, st.st_ino, 0, 0, &error);
	g_assert_null(none);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static void
test_sha_cache_bounded(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *a = write_temp(dir, "a", "aaa");
	g_autofree char *b = write_temp(dir, "b", "bbb");
	g_autofree char *c = write_temp(dir, "c", "ccc");
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
	const char *order[] = {a, b, a, c, a, b};
	/* least recently used goes: a b a(hit) c(evicts b) a(hit) b(miss) */
	const guint64 hits_after[] = {0, 0, 1, 1, 2, 2};
	const guint64 misses_after[] = {1, 2, 2, 3, 3, 4};

	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		g_autofree char *sha = cache_get(cache, order[i], &error);
		g_assert_no_error(error);
		g_autofree char *expected = sha256sum_of(order[i]);
		g_assert_cmpstr(sha, ==, expected);
		assert_stats(cache, hits_after[i], misses_after[i]);
	}
	unlink(a);
	unlink(b);
	unlink(c);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

typedef struct {
	VigilShaCache *cache;
	const char *path;
	const char *expected;
} HashJob;

static gpointer
hash_many(gpointer data)
{
	HashJob *job = data;
	for (int i = 0; i < 200; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *sha = cache_get(job->cache, job->path, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(sha, ==, job->expected);
	}
	return NULL;
}

/* threads share one small cache: every answer stays right, nothing breaks */
static void
test_sha_cache_threads(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) shas = g_ptr_array_new_with_free_func(g_free);
	HashJob jobs[4];
	GThread *threads[4];

	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++) {
		g_autofree char *name = g_strdup_printf("f%u", i);
		g_autofree char *body = g_strdup_printf("contents %u", i);
		char *path = write_temp(dir, name, body);
		g_ptr_array_add(paths, path);
		g_ptr_array_add(shas, sha256sum_of(path));
		jobs[i] = (HashJob){cache, path, g_ptr_array_index(shas, i)};
	}
	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++)
		threads[i] = g_thread_new("hash", hash_many, &jobs[i]);
	for (guint i = 0; i < G_N_ELEMENTS(jobs); i++)
		g_thread_join(threads[i]);

	guint64 hits = 0;
	guint64 misses = 0;
	vigil_sha_cache_get_stats(cache, &hits, &misses);
	g_assert_cmpuint(hits + misses, ==, 4 * 200);
	for (guint i = 0; i < paths->len; i++)
		unlink(g_ptr_array_index(paths, i));
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/* a sparse file of @mib MiB: no disk used, yet hashing it takes real time (about 1 s per
 * 300 MiB here) */
static char *
make_sparse(const char *dir, const char *name, guint mib)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pwrite(fd, name, strlen(name), 0), ==, (ssize_t)strlen(name));
	g_assert_cmpint(ftruncate(fd, (off_t)mib * 1024 * 1024), ==, 0);
	g_assert_cmpint(close(fd), ==, 0);
	return g_steal_pointer(&path);
}

static VigilShaCacheStats
counters(VigilShaCache *cache)
{
	VigilShaCacheStats stats;
	vigil_sha_cache_get_counters(cache, &stats);
	return stats;
}

typedef struct {
	VigilShaCache *cache;
	const char *path;
	char *sha256;
} OneHash;

static gpointer
hash_once(gpointer data)
{
	OneHash *one = data;
	g_autoptr(GError) error = NULL;
	one->sha256 = cache_get(one->cache, one->path, &error);
	g_assert_no_error(error);
	return NULL;
}

/* eight threads ask for one file's hash at once: it is read once, the others wait for it */
static void
test_sha_cache_single_flight(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *path = make_sparse(dir, "big", 96);
	g_autofree char *expected = sha256sum_of(path);
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(8);
	OneHash ones[8];
	GThread *threads[G_N_ELEMENTS(ones)];

	for (guint i = 0; i < G_N_ELEMENTS(ones); i++) {
		ones[i] = (OneHash){cache, path, NULL};
		threads[i] = g_thread_new("hash", hash_once, &ones[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(ones); i++) {
		g_thread_join(threads[i]);
		g_assert_cmpstr(ones[i].sha256, ==, expected);
		g_free(ones[i].sha256);
	}
	VigilShaCacheStats stats = counters(cache);
	g_assert_cmpuint(stats.hashes, ==, 1);
	/* each of the others either waited for that hash or came after it */
	g_assert_cmpuint(stats.joined + stats.hits, ==, G_N_ELEMENTS(ones) - 1);
	unlink(path);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

typedef struct {
	VigilShaCache *cache;
	guint pending;
	GPtrArray *results; /* char* or the error message with a "!" in front */
	guint32 uid;        /* whose hashes these are */
} AsyncState;

static void
on_async_hash(GObject *source, GAsyncResult *result, gpointer data)
{
	AsyncState *state = data;
	g_autoptr(GError) error = NULL;
	char *sha256 = vigil_sha_cache_get_finish(state->cache, result, &error);
	g_ptr_array_add(state->results,
	                sha256 != NULL ? sha256 : g_strdup_printf("!%s", error->message));
	state->pending--;
}

static void
async_hash(AsyncState *state, const char *path, GCancellable *cancellable)
{
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	vigil_sha_cache_get_async(
	    state->cache, path, st.st_dev, st.st_ino,
	    (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec,
	    st.st_size,
	    (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec,
	    state->uid, cancellable, on_async_hash, state);
	state->pending++;
}

static void
wait_async(AsyncState *state)
{
	while (state->pending > 0)
		g_main_context_iteration(NULL, TRUE);
}

/*
 * Sixteen requests for one file, as the first connections of a new big program make them: one
 * hash in the pool, all answered; one caller that gives up gets CANCELLED at once, the hash goes
 * on for the others and the cache.
 */
static void
test_sha_cache_async(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *path = make_sparse(dir, "big", 96);
	g_autofree char *expected = sha256sum_of(path);
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(8);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState state = {cache, 0, results};
	g_autoptr(GCancellable) gives_up = g_cancellable_new();

	async_hash(&state, path, gives_up);
	for (guint i = 0; i < 15; i++)
		async_hash(&state, path, NULL);
	g_cancellable_cancel(gives_up);
	/* the one that gave up is answered before the hash is done */
	while (results->len == 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 0), "!"));
	g_assert_cmpuint(counters(cache).hashes, <=, 1);
	wait_async(&state);
	g_assert_cmpuint(results->len, ==, 16);
	for (guint i = 1; i < results->len; i++)
		g_assert_cmpstr(g_ptr_array_index(results, i), ==, expected);
	VigilShaCacheStats stats = counters(cache);
	g_assert_cmpuint(stats.hashes, ==, 1);
	g_assert_cmpuint(stats.joined, ==, 15);

	/* known now: answered without a hash, and a peek has it */
	async_hash(&state, path, NULL);
	wait_async(&state);
	g_assert_cmpstr(g_ptr_array_index(results, 16), ==, expected);
	g_assert_cmpuint(counters(cache).hashes, ==, 1);
	unlink(path);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/* stopping ends a hash in progress at once (vigild's exit does not wait for it) */
static void
test_sha_cache_stop(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	/* several seconds of hashing */
	g_autofree char *path = make_sparse(dir, "huge", 2048);
	VigilShaCache *cache = vigil_sha_cache_new(8);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState state = {cache, 0, results};

	async_hash(&state, path, NULL);
	while (counters(cache).hashes == 0)
		g_usleep(1000);
	g_usleep(50000);
	gint64 start = g_get_monotonic_time();
	vigil_sha_cache_stop(cache);
	wait_async(&state);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC / 2);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 0), "!"));
	/* and nothing new starts */
	async_hash(&state, path, NULL);
	wait_async(&state);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 1), "!"));
	start = g_get_monotonic_time();
	vigil_sha_cache_free(cache);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC / 2);
	unlink(path);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/*
 * A file whose open() never returns (a FIFO with no writer stands for a FUSE server that does
 * not answer): asking for its hash returns at once (the file is opened in the pool, never on
 * the caller's thread), it holds one thread of that user's, another user's hash is made
 * meanwhile and that user's next file waits for its turn; stopping does not wait for it.
 */
static void
test_sha_cache_stuck_open(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *fifo = g_build_filename(dir, "stuck", NULL);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	g_autofree char *mine = make_sparse(dir, "mine", 1);
	g_autofree char *other = make_sparse(dir, "other", 1);
	g_autofree char *expected = sha256sum_of(other);
	VigilShaCache *cache = vigil_sha_cache_new(8);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState stuck = {cache, 0, results, 1000};
	g_autoptr(GPtrArray) other_results = g_ptr_array_new_with_free_func(g_free);
	AsyncState victim = {cache, 0, other_results, 1001};

	gint64 start = g_get_monotonic_time();
	async_hash(&stuck, fifo, NULL);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC / 2);
	/* the pool's thread is in open() now */
	g_usleep(200000);
	async_hash(&stuck, mine, NULL);
	async_hash(&victim, other, NULL);
	wait_async(&victim);
	g_assert_cmpstr(g_ptr_array_index(other_results, 0), ==, expected);
	/* the stuck user's next file waited for its turn, which never came */
	g_assert_cmpuint(results->len, ==, 0);
	g_assert_cmpuint(counters(cache).hashes, ==, 1);

	start = g_get_monotonic_time();
	vigil_sha_cache_stop(cache);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 4 * G_USEC_PER_SEC);
	/* the waiting file ended at the stop */
	while (results->len < 1)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 0), "!"));
	/* a writer lets the open() return: a FIFO is not the file it was asked about */
	int writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	g_assert_cmpint(writer, >=, 0);
	wait_async(&stuck);
	close(writer);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 1), "!"));
	vigil_sha_cache_free(cache);
	for (const char *const *p = (const char *const[]){fifo, mine, other, NULL}; *p; p++)
		unlink(*p);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/*
 * A program whose connection is denied at once may exit before its hash's turn comes (a big
 * one is decided without waiting for it): the hash is still made, of the very file it ran,
 * though its /proc/PID/exe is gone by then. A FIFO with no writer holds
 * the user's turn until the program is gone.
 */
static void
test_sha_cache_exited_before_turn(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *fifo = g_build_filename(dir, "stuck", NULL);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	g_autofree char *program = g_build_filename(dir, "short-lived", NULL);
	g_autofree char *contents = NULL;
	gsize length = 0;
	g_assert_true(g_file_get_contents("/bin/sleep", &contents, &length, NULL));
	g_assert_true(g_file_set_contents_full(program, contents, length, G_FILE_SET_CONTENTS_NONE,
	                                       0755, &error));
	g_assert_no_error(error);
	g_autofree char *expected = sha256sum_of(program);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		execl(program, program, "60", (char *)NULL);
		_exit(127);
	}
	g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", pid);
	g_autofree char *target = NULL;
	for (guint i = 0; i < 500 && g_strcmp0(target, program) != 0; i++) {
		g_usleep(10000);
		g_free(target);
		target = g_file_read_link(exe_link, NULL);
	}
	g_assert_cmpstr(target, ==, program);

	VigilShaCache *cache = vigil_sha_cache_new(8);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState state = {cache, 0, results, 1000};
	async_hash(&state, fifo, NULL);
	/* the pool's thread is in open() now: the user's next file waits for its turn */
	g_usleep(200000);
	async_hash(&state, exe_link, NULL);
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
	g_assert_false(g_file_test(exe_link, G_FILE_TEST_EXISTS));

	/* a writer lets the open() return (a FIFO is not the file asked about): then the turn */
	int writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	g_assert_cmpint(writer, >=, 0);
	wait_async(&state);
	close(writer);
	g_assert_cmpuint(results->len, ==, 2);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 0), "!"));
	g_assert_cmpstr(g_ptr_array_index(results, 1), ==, expected);
	g_assert_cmpuint(counters(cache).hashes, ==, 1);
	vigil_sha_cache_free(cache);
	unlink(fifo);
	unlink(program);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static gboolean
has_result(GPtrArray *results, const char *prefix_or_value)
{
	for (guint i = 0; i < results->len; i++)
		if (g_str_has_prefix(g_ptr_array_index(results, i), prefix_or_value))
			return TRUE;
	return FALSE;
}

/* the hash of @path once the cache knows it, waiting for it at most @seconds; or NULL */
static char *
peek_within(VigilShaCache *cache, const char *path, guint seconds)
{
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	gint64 until = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
	do {
		char *sha256 = vigil_sha_cache_peek(
		    cache, st.st_dev, st.st_ino, st.st_size,
		    (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec,
		    (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec);
		if (sha256 != NULL)
			return sha256;
		g_usleep(20000);
	} while (g_get_monotonic_time() < until);
	return NULL;
}

#define MIB (1024 * 1024)

/*
 * Users take turns: one user's big executables keep both workers busy, yet another user's file
 * is hashed at its turn, before any of theirs is done (it waited for whole hashes, first come
 * first served); and one user's files beyond 4 are refused (BUSY), not queued.
 */
static void
test_sha_cache_turns(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	/* 4 files of 8 turns each, awaited; then one more, refused */
	for (guint i = 0; i < 5; i++) {
		g_autofree char *name = g_strdup_printf("big%u", i);
		g_ptr_array_add(paths, make_sparse(dir, name, i < 4 ? 64 : 1));
	}
	g_autofree char *other = make_sparse(dir, "other", 1);
	g_autofree char *expected = sha256sum_of(other);
	VigilShaCache *cache = vigil_sha_cache_new(128);
	vigil_sha_cache_set_wait_max(cache, 128 * MIB);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState flood = {cache, 0, results, 1000};
	g_autoptr(GPtrArray) other_results = g_ptr_array_new_with_free_func(g_free);
	AsyncState victim = {cache, 0, other_results, 1001};
	g_autoptr(GCancellable) gives_up = g_cancellable_new();

	for (guint i = 0; i < paths->len; i++)
		async_hash(&flood, g_ptr_array_index(paths, i), gives_up);
	/* the fifth is refused at once */
	while (results->len < 1)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(results->len, ==, 1);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 0), "!"));
	g_assert_nonnull(strstr(g_ptr_array_index(results, 0), "of uid 1000 wait for a hash"));
	g_assert_cmpuint(counters(cache).refused, ==, 1);
	/* both workers busy with the flood */
	while (counters(cache).hashes < 2)
		g_usleep(1000);

	async_hash(&victim, other, NULL);
	wait_async(&victim);
	g_assert_cmpstr(g_ptr_array_index(other_results, 0), ==, expected);
	/* none of the flood's 64 MiB was done before the victim's 1 MiB */
	g_assert_cmpuint(results->len, ==, 1);

	/* the flood's callers give up; stopping ends their hashes at once */
	g_cancellable_cancel(gives_up);
	wait_async(&flood);
	gint64 start = g_get_monotonic_time();
	vigil_sha_cache_free(cache);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
	for (guint i = 0; i < paths->len; i++)
		unlink(g_ptr_array_index(paths, i));
	unlink(other);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/*
 * A connection does not wait for the hash of a file with more than the bound left to read: it
 * is answered at once (PENDING, so the rules decide without the hash) while the hash is made
 * for the cache, where the next request finds it.
 */
static void
test_sha_cache_not_waited(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *big = make_sparse(dir, "big", 160);
	g_autofree char *expected = sha256sum_of(big);
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(8);
	vigil_sha_cache_set_wait_max(cache, 64 * MIB);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState state = {cache, 0, results};

	async_hash(&state, big, NULL);
	async_hash(&state, big, NULL);
	wait_async(&state);
	for (guint i = 0; i < 2; i++) {
		g_assert_true(g_str_has_prefix(g_ptr_array_index(results, i), "!"));
		g_assert_nonnull(strstr(g_ptr_array_index(results, i), "MiB still to hash"));
	}
	g_assert_cmpuint(counters(cache).pending, ==, 2);
	/* one hash, made on without anyone waiting */
	g_autofree char *made = peek_within(cache, big, 120);
	g_assert_cmpstr(made, ==, expected);
	g_assert_cmpuint(counters(cache).hashes, ==, 1);
	async_hash(&state, big, NULL);
	wait_async(&state);
	g_assert_cmpstr(g_ptr_array_index(results, 2), ==, expected);
	unlink(big);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/*
 * A hash its callers gave up on (their connections' deadline) goes on for the cache instead of
 * starting from nothing at the next connection; files no one waits for never go before a file
 * someone waits for, even the same user's.
 */
static void
test_sha_cache_background(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *bg1 = make_sparse(dir, "bg1", 160);
	g_autofree char *bg2 = make_sparse(dir, "bg2", 160);
	g_autofree char *mid = make_sparse(dir, "mid", 48);
	g_autofree char *small = make_sparse(dir, "small", 1);
	g_autofree char *expected_mid = sha256sum_of(mid);
	g_autofree char *expected_small = sha256sum_of(small);
	VigilShaCache *cache = vigil_sha_cache_new(8);
	vigil_sha_cache_set_wait_max(cache, 64 * MIB);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState state = {cache, 0, results};
	g_autoptr(GCancellable) gives_up = g_cancellable_new();

	/* two not waited for (too big), one given up on */
	async_hash(&state, bg1, NULL);
	async_hash(&state, bg2, NULL);
	async_hash(&state, mid, gives_up);
	g_cancellable_cancel(gives_up);
	wait_async(&state);
	g_assert_cmpuint(results->len, ==, 3);
	g_assert_false(has_result(results, expected_mid));
	while (counters(cache).hashes < 2)
		g_usleep(1000);

	async_hash(&state, small, NULL);
	wait_async(&state);
	g_assert_cmpstr(g_ptr_array_index(results, 3), ==, expected_small);
	g_autofree char *bg1_early = peek_within(cache, bg1, 0);
	g_autofree char *bg2_early = peek_within(cache, bg2, 0);
	g_assert_null(bg1_early);
	g_assert_null(bg2_early);

	/* the hash given up on was made all the same */
	g_autofree char *made = peek_within(cache, mid, 120);
	g_assert_cmpstr(made, ==, expected_mid);
	gint64 start = g_get_monotonic_time();
	vigil_sha_cache_free(cache);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
	for (const char *const *p = (const char *const[]){bg1, bg2, mid, small, NULL}; *p; p++)
		unlink(*p);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/*
 * A file that grows while it is hashed is read only up to the size it had when asked for (and
 * then found changed), and a file bigger than any executable is not hashed at all: a user's
 * `truncate -s 1T` on an executable of theirs cannot hold a hash worker for hours.
 */
static void
test_sha_cache_bounded_reads(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *grows = make_sparse(dir, "grows", 64);
	g_autofree char *huge = make_sparse(dir, "huge", 5 * 1024);
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(8);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState state = {cache, 0, results};

	async_hash(&state, huge, NULL);
	wait_async(&state);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 0), "!"));
	g_assert_nonnull(strstr(g_ptr_array_index(results, 0), "not hashed"));
	g_assert_cmpuint(counters(cache).hashes, ==, 0);

	async_hash(&state, grows, NULL);
	while (counters(cache).hashes == 0)
		g_usleep(1000);
	g_assert_cmpint(truncate(grows, (off_t)1024 * 1024 * 1024 * 1024), ==, 0);
	gint64 start = g_get_monotonic_time();
	wait_async(&state);
	/* 64 MiB more at most, not a terabyte */
	g_assert_cmpint(g_get_monotonic_time() - start, <, 60 * G_USEC_PER_SEC);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 1), "!"));
	g_assert_nonnull(strstr(g_ptr_array_index(results, 1), "changed"));
	for (const char *const *p = (const char *const[]){grows, huge, NULL}; *p; p++)
		unlink(*p);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

/*
 * A hash everyone gave up on runs to its end: the next connection of a big program finds it (on
 * a slow machine a hash longer than the connection deadline would otherwise never be made, and a
 * rule pinned to it would never match).
 */
static void
test_sha_cache_orphan_finishes(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *big = make_sparse(dir, "big", 128);
	g_autofree char *expected = sha256sum_of(big);
	g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(8);
	g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func(g_free);
	AsyncState state = {cache, 0, results};
	g_autoptr(GCancellable) gives_up = g_cancellable_new();

	async_hash(&state, big, gives_up);
	while (counters(cache).hashes == 0)
		g_usleep(1000);
	g_usleep(20000);
	g_cancellable_cancel(gives_up);
	wait_async(&state);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(results, 0), "!"));

	g_autofree char *sha256 = peek_within(cache, big, 120);
	g_assert_cmpstr(sha256, ==, expected);
	g_assert_cmpuint(counters(cache).hashes, ==, 1);
	unlink(big);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

static guint
count_lines(const char *path)
{
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	guint n = 0;
	for (const char *p = text; *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

/* hashes survive a restart in a small file: written atomically, bounded, bad input ignored */
static void
test_sha_cache_persist(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *store = g_build_filename(dir, "exe-hashes", NULL);
	g_autofree char *a = write_temp(dir, "a", "aaa");
	g_autofree char *b = write_temp(dir, "b", "bbb");
	g_autofree char *c = write_temp(dir, "c", "ccc");
	g_autofree char *sha_a = sha256sum_of(a);
	g_autofree char *sha_c = sha256sum_of(c);

	{
		g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
		/* no file yet: no error */
		g_assert_true(vigil_sha_cache_attach_file(cache, store, &error));
		g_assert_no_error(error);
		const char *order[] = {a, b, c, a};
		for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
			g_autofree char *sha = cache_get(cache, order[i], &error);
			g_assert_no_error(error);
		}
		/* bounded like the cache: the two most recent */
		g_assert_cmpuint(count_lines(store), ==, 1 + 2);
		struct stat st;
		g_assert_cmpint(stat(store, &st), ==, 0);
		g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
	}
	{
		/* a restart: known without reading the files */
		g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
		g_assert_true(vigil_sha_cache_attach_file(cache, store, &error));
		g_assert_no_error(error);
		g_autofree char *again_a = cache_get(cache, a, &error);
		g_autofree char *again_c = cache_get(cache, c, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(again_a, ==, sha_a);
		g_assert_cmpstr(again_c, ==, sha_c);
		g_assert_cmpuint(counters(cache).hashes, ==, 0);
	}

	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(store, &text, NULL, NULL));
	const char *bad_files[] = {
	    "garbage\n",
	    "",
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad_files); i++) {
		/* a file of another kind: ignored whole, with an error; hashes are made again */
		g_assert_true(g_file_set_contents(store, bad_files[i], -1, NULL));
		g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
		g_assert_false(vigil_sha_cache_attach_file(cache, store, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		g_clear_error(&error);
		g_autofree char *sha = cache_get(cache, a, &error);
		g_assert_cmpstr(sha, ==, sha_a);
		g_assert_cmpuint(counters(cache).hashes, ==, 1);
		/* and the next save replaces it with a good one */
		g_autoptr(VigilShaCache) next = vigil_sha_cache_new(2);
		g_assert_true(vigil_sha_cache_attach_file(next, store, &error));
		g_assert_no_error(error);
	}

	/* bad lines (a wrong hash, too few fields, a NUL, a forged huge line) are skipped; a
	 * lying line about another file's hash cannot name another key than its own */
	g_autoptr(GString) mixed = g_string_new(text);
	g_string_append(mixed, "1 2 3 4 5 XYZ\n");
	g_string_append(mixed, "1 2 3\n");
	g_string_append(mixed,
	                "1 2 -3 4 5 "
	                "0000000000000000000000000000000000000000000000000000000000000000\n");
	g_assert_true(g_file_set_contents(store, mixed->str, -1, NULL));
	{
		g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
		g_test_expect_message("vigil-sha-cache", G_LOG_LEVEL_WARNING,
		                      "*: 3 malformed line(s) skipped");
		g_assert_true(vigil_sha_cache_attach_file(cache, store, &error));
		g_test_assert_expected_messages();
		g_assert_no_error(error);
		g_autofree char *again_a = cache_get(cache, a, &error);
		g_assert_cmpstr(again_a, ==, sha_a);
		g_assert_cmpuint(counters(cache).hashes, ==, 0);
	}
	/* a NUL byte or a file beyond the bound: ignored whole */
	g_assert_true(g_file_set_contents(store, "x\0y", 3, NULL));
	{
		g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
		g_assert_false(vigil_sha_cache_attach_file(cache, store, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		g_clear_error(&error);
	}
	g_autofree char *huge = g_strnfill(1024 * 1024, '\n');
	g_assert_true(g_file_set_contents(store, huge, -1, NULL));
	{
		g_autoptr(VigilShaCache) cache = vigil_sha_cache_new(2);
		g_assert_false(vigil_sha_cache_attach_file(cache, store, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		g_clear_error(&error);
	}
	unlink(a);
	unlink(b);
	unlink(c);
	unlink(store);
	g_assert_cmpint(rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
	/* the exec target of test_stamp() */
	if (argc > 1 && strcmp(argv[1], "--idle") == 0) {
		pause();
		return 0;
	}
	test_exe = resolved(argv[0]);
	test_cmdline = g_strjoinv(" ", argv);
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/process/parse-stat", test_parse_stat);
	g_test_add_func("/process/parse-stat-live", test_parse_stat_live);
	g_test_add_func("/process/app-id", test_app_id);
	g_test_add_func("/process/read-self", test_read_self);
	g_test_add_func("/process/read-child", test_read_child);
	g_test_add_func("/process/read-deleted", test_read_deleted);
	g_test_add_func("/process/foreign-mount-ns", test_foreign_mount_ns);
	g_test_add_func("/process/cmdline-cleaned", test_cmdline_cleaned);
	g_test_add_func("/process/stamp", test_stamp);
	g_test_add_func("/process/stamp-at", test_stamp_at);
	g_test_add_func("/process/stamp-at-pid-reuse", test_stamp_at_pid_reuse);
	g_test_add_func("/sha-cache/hit-miss", test_sha_cache);
	g_test_add_func("/sha-cache/bounded", test_sha_cache_bounded);
	g_test_add_func("/sha-cache/threads", test_sha_cache_threads);
	g_test_add_func("/sha-cache/single-flight", test_sha_cache_single_flight);
	g_test_add_func("/sha-cache/async", test_sha_cache_async);
	g_test_add_func("/sha-cache/stop", test_sha_cache_stop);
	g_test_add_func("/sha-cache/turns", test_sha_cache_turns);
	g_test_add_func("/sha-cache/not-waited", test_sha_cache_not_waited);
	g_test_add_func("/sha-cache/background", test_sha_cache_background);
	g_test_add_func("/sha-cache/orphan-finishes", test_sha_cache_orphan_finishes);
	g_test_add_func("/sha-cache/bounded-reads", test_sha_cache_bounded_reads);
	g_test_add_func("/sha-cache/stuck-open", test_sha_cache_stuck_open);
	g_test_add_func("/sha-cache/exited-before-turn", test_sha_cache_exited_before_turn);
	g_test_add_func("/sha-cache/persist", test_sha_cache_persist);

	int ret = g_test_run();
	g_free(test_exe);
	g_free(test_cmdline);
	return ret;
}
