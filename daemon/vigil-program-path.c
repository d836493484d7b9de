/* vigil-program-path.c: which file a rule's program path names, in vigild's own mount namespace */
#define G_LOG_DOMAIN "vigil-ruleset"
#include "config.h"

#include "vigil-program-path.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-fuse.h"

/* symbolic links followed in one path at most, as the kernel's MAXSYMLINKS */
#define LINKS_MAX 40

/* @rest: path components still to walk, the first in front (owned strings) */
static void
push_components(GQueue *rest, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);

	for (guint i = g_strv_length(parts); i > 0; i--) {
		const char *part = parts[i - 1];
		if (*part != '\0' && !g_str_equal(part, "."))
			g_queue_push_head(rest, g_strdup(part));
	}
}

/*
 * realpath(3) without asking a FUSE server anything: each name is looked up in a directory
 * that is not on a FUSE file system (a lookup there is a request to its server, a program of
 * a user's, which may never answer and would hold vigild's main loop). A path that goes into
 * one names no file for vigild. Returns an O_PATH fd of the file, and its path in @resolved.
 */
static int
walk(const char *path, GPtrArray *resolved, GQueue *rest)
{
	int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	guint links = 0;
	struct stat st;

	if (dir < 0 || path[0] != '/') {
		if (dir >= 0)
			close(dir);
		return -1;
	}
	push_components(rest, path);
	while (!g_queue_is_empty(rest)) {
		g_autofree char *part = g_queue_pop_head(rest);
		if (vigil_fuse_stat(dir, "", AT_EMPTY_PATH, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    vigil_fuse_dev_is_fuse_here(st.st_dev)) {
			close(dir);
			return -1;
		}
		int next = openat(dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 ||
		    vigil_fuse_stat(next, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, &st) != 0) {
			if (next >= 0)
				close(next);
			close(dir);
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(next, "", target, sizeof(target) - 1);
			close(next);
			if (n <= 0 || ++links > LINKS_MAX) {
				close(dir);
				return -1;
			}
			target[n] = '\0';
			push_components(rest, target);
			if (target[0] == '/') {
				close(dir);
				dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				g_ptr_array_set_size(resolved, 0);
				if (dir < 0)
					return -1;
			}
			continue;
		}
		close(dir);
		dir = next;
		if (g_str_equal(part, "..")) {
			if (resolved->len > 0)
				g_ptr_array_set_size(resolved, resolved->len - 1);
		} else {
			g_ptr_array_add(resolved, g_steal_pointer(&part));
		}
	}
	return dir;
}

gboolean
vigil_program_path_resolve(const char *path, char **resolved, VigilFileId *id)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	struct stat st;

	g_return_val_if_fail(path != NULL && id != NULL, FALSE);

	*id = (VigilFileId){0};
	if (resolved != NULL)
		*resolved = NULL;
	/* /proc/PID/exe shows the file, never a link to it: a rule for a link names its target */
	GQueue *rest = g_queue_new();
	int fd = walk(path, parts, rest);
	g_queue_free_full(rest, g_free);
	if (fd < 0)
		return FALSE;
	/* a file on FUSE is what its server says, and the process side never names one
	 * (vigil-attributor.c: such a process is an unknown program) */
	gboolean ok = vigil_fuse_stat(fd, "", AT_EMPTY_PATH, &st) == 0 && S_ISREG(st.st_mode) &&
	              !vigil_fuse_dev_is_fuse_here(st.st_dev);
	close(fd);
	if (!ok)
		return FALSE;
	id->dev = (guint64)st.st_dev;
	id->ino = (guint64)st.st_ino;
	id->ctime = (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
	id->size = (gint64)st.st_size;
	if (resolved != NULL) {
		g_ptr_array_add(parts, NULL);
		g_autofree char *joined = g_strjoinv("/", (char **)parts->pdata);
		*resolved = g_strconcat("/", joined, NULL);
	}
	return TRUE;
}
