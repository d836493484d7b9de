/* vigil-as-caller.c: a path walked with O_PATH descriptors, each step judged as the caller */
#define G_LOG_DOMAIN "vigil-dbus"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vigil-as-caller.h"
#include "vigil-fuse.h"

/* supplementary groups taken from the user database; a user in more is judged by these */
#define MAX_GROUPS 256
/* the uid's entry has no group: the kernel's overflow gid, which owns nothing */
#define NO_GID 65534

static gboolean
in_groups(const VigilCallerCreds *creds, gid_t gid)
{
	if (creds->gid == gid)
		return TRUE;
	for (gsize i = 0; i < creds->n_groups; i++) {
		if (creds->groups[i] == gid)
			return TRUE;
	}
	return FALSE;
}

static gboolean
has_acl(int fd)
{
	char proc_path[64];

	g_snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
	return getxattr(proc_path, "system.posix_acl_access", NULL, 0) > 0;
}

/* may @creds search the directory @fd (with stat @st)? The kernel's order: owner, group, other */
static gboolean
may_search(int fd, const struct stat *st, const VigilCallerCreds *creds)
{
	/* root searches every directory (CAP_DAC_READ_SEARCH) */
	if (creds->uid == 0)
		return TRUE;
	if (st->st_uid == creds->uid)
		return (st->st_mode & S_IXUSR) != 0;
	/* with an ACL the group bits are its mask, not a group's right: only "other" counts */
	if (has_acl(fd))
		return (st->st_mode & S_IXOTH) != 0;
	if (in_groups(creds, st->st_gid))
		return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

/*
 * procfs answers a lookup by who asks, not by mode bits: its magic links (cwd, root, exe,
 * fd/N, map_files/...) take vigild's ptrace rights, and /proc/self is vigild itself. A walk
 * "as the caller" through it would answer with root's rights: every component is refused
 * once it is on a proc mount, wherever that is mounted and however the walk got there
 * (a symbolic link, /dev/fd, "..", a bind mount).
 */
#define THROUGH_PROC (-1)
/* a FUSE server (a user's program) answers each lookup, statfs and stat in it, or never:
 * nothing on such a file system is looked at (vigil-fuse.h) */
#define THROUGH_FUSE (-2)

static gboolean
on_fuse(int fd)
{
	struct stat st;

	return vigil_fuse_stat(fd, "", AT_EMPTY_PATH, &st) == 0 &&
	       vigil_fuse_dev_is_fuse_here(st.st_dev);
}

static gboolean
on_procfs(int fd)
{
	struct statfs fs;

	/* a mount vigild cannot even ask about is not walked either */
	return fstatfs(fd, &fs) != 0 || fs.f_type == PROC_SUPER_MAGIC;
}

static gboolean
fail_errno(GError **error, int saved)
{
	if (saved == THROUGH_PROC) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		                    VIGIL_AS_CALLER_THROUGH_PROC);
		return FALSE;
	}
	if (saved == THROUGH_FUSE) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		                    VIGIL_AS_CALLER_THROUGH_FUSE);
		return FALSE;
	}
	g_set_error_literal(error, G_IO_ERROR, g_io_error_from_errno(saved), g_strerror(saved));
	return FALSE;
}

/* the link @fd (O_PATH|O_NOFOLLOW) points to, or NULL */
static char *
read_link(int fd)
{
	char target[4096];
	ssize_t n = readlinkat(fd, "", target, sizeof target);

	if (n < 0 || (gsize)n >= sizeof target)
		return NULL;
	return g_strndup(target, (gsize)n);
}

/* @rest: path components still to walk, first in front (a queue of owned strings) */
static void
push_path(GQueue *rest, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	guint n = g_strv_length(parts);

	for (guint i = n; i > 0; i--) {
		const char *part = parts[i - 1];

		if (*part != '\0' && !g_str_equal(part, "."))
			g_queue_push_head(rest, g_strdup(part));
	}
}

static void
free_queue(GQueue *queue)
{
	g_queue_free_full(queue, g_free);
}

/* one step from the directory @dir (stat @st) to @part: 0, or the errno the caller gets */
static int
step(int *dir, struct stat *st, const char *part, GQueue *rest, guint *links,
     const VigilCallerCreds *creds)
{
	g_autofree char *target = NULL;
	int next;

	if (!S_ISDIR(st->st_mode))
		return ENOTDIR;
	/* the kernel asks for search permission before it looks the name up */
	if (!may_search(*dir, st, creds))
		return EACCES;
	next = openat(*dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (next < 0)
		return errno;
	/* before fstatfs(), which a FUSE server answers (or not) */
	if (on_fuse(next)) {
		close(next);
		return THROUGH_FUSE;
	}
	if (on_procfs(next)) {
		close(next);
		return THROUGH_PROC;
	}
	if (fstat(next, st) != 0) {
		int saved = errno;

		close(next);
		return saved;
	}
	if (!S_ISLNK(st->st_mode)) {
		close(*dir);
		*dir = next;
		return 0;
	}
	/* a link: its target is walked from the directory that holds it, or from / */
	target = read_link(next);
	close(next);
	if (target == NULL)
		return EIO;
	if (++*links > VIGIL_AS_CALLER_MAX_LINKS)
		return ELOOP;
	push_path(rest, target);
	if (target[0] == '/') {
		next = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			return errno;
		close(*dir);
		*dir = next;
	}
	return fstat(*dir, st) != 0 ? errno : 0;
}

gboolean
vigil_as_caller_stat(const char *path, const VigilCallerCreds *creds, mode_t *mode, GError **error)
{
	g_autoptr(GQueue) rest = g_queue_new();
	int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	guint links = 0;
	struct stat st;
	int failed = 0;

	g_return_val_if_fail(path != NULL && path[0] == '/', FALSE);
	if (dir < 0)
		return fail_errno(error, errno);
	push_path(rest, path);
	if (on_fuse(dir))
		failed = THROUGH_FUSE;
	else if (on_procfs(dir))
		failed = THROUGH_PROC;
	else if (fstat(dir, &st) != 0)
		failed = errno;
	while (failed == 0 && !g_queue_is_empty(rest)) {
		g_autofree char *part = g_queue_pop_head(rest);

		failed = step(&dir, &st, part, rest, &links, creds);
	}
	close(dir);
	free_queue(g_steal_pointer(&rest));
	if (failed != 0)
		return fail_errno(error, failed);
	*mode = st.st_mode;
	return TRUE;
}

typedef struct {
	char *path;
	guint32 uid;
} StatData;

static void
stat_data_free(StatData *data)
{
	g_free(data->path);
	g_free(data);
}

/* the user's gid and supplementary groups from the user database */
static gsize
user_groups(guint32 uid, guint32 *gid, guint32 *groups)
{
	struct passwd pw, *found = NULL;
	g_autofree char *buf = g_malloc(16384);
	gid_t list[MAX_GROUPS];
	int n = MAX_GROUPS;

	*gid = NO_GID;
	if (getpwuid_r(uid, &pw, buf, 16384, &found) != 0 || found == NULL)
		return 0;
	*gid = pw.pw_gid;
	if (getgrouplist(pw.pw_name, pw.pw_gid, list, &n) < 0)
		n = MAX_GROUPS; /* more than fit: the first MAX_GROUPS are filled in */
	for (int i = 0; i < n; i++)
		groups[i] = list[i];
	return (gsize)n;
}

static void
stat_in_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	StatData *data = task_data;
	guint32 groups[MAX_GROUPS];
	VigilCallerCreds creds = {.uid = data->uid, .groups = groups};
	GError *error = NULL;
	mode_t mode = 0;

	/* root searches everything: its groups do not matter, and are not looked up */
	if (data->uid != 0)
		creds.n_groups = user_groups(data->uid, &creds.gid, groups);
	if (!vigil_as_caller_stat(data->path, &creds, &mode, &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_int(task, mode);
}

void
vigil_as_caller_stat_async(const char *path, guint32 uid, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	StatData *data = g_new0(StatData, 1);

	data->path = g_strdup(path);
	data->uid = uid;
	g_task_set_task_data(task, data, (GDestroyNotify)stat_data_free);
	g_task_set_source_tag(task, vigil_as_caller_stat_async);
	g_task_run_in_thread(task, stat_in_thread);
}

gboolean
vigil_as_caller_stat_finish(GAsyncResult *result, mode_t *mode, GError **error)
{
	gssize value = g_task_propagate_int(G_TASK(result), error);

	if (value < 0)
		return FALSE;
	*mode = (mode_t)value;
	return TRUE;
}
