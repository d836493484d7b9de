/* vigil-process.c: reads who a process is (exe, hash, user, parents, app id) from /proc */
#define G_LOG_DOMAIN "vigil-process"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-app-sandbox.h"
#include "vigil-fuse.h"
#include "vigil-process-taint.h"
#include "vigil-process.h"
#include "vigil-users.h"

#define CMDLINE_MAX      4096
#define STAT_MAX         4096
#define CGROUP_MAX       16384
#define STATUS_MAX       8192
#define PARENTS_MAX      8
#define DELETED_SUFFIX   " (deleted)"
#define STAT_FIELD_PPID  4
#define STAT_FIELD_START 22

VigilProcess *
vigil_process_ref(VigilProcess *process)
{
	g_return_val_if_fail(process != NULL, NULL);
	return g_atomic_rc_box_acquire(process);
}

/* what a process holds, freed with its last reference */
static void
process_clear(VigilProcess *process)
{
	g_free(process->user_name);
	g_free(process->exe);
	g_free(process->sha256);
	g_free(process->cmdline);
	if (process->parents != NULL)
		g_ptr_array_unref(process->parents);
	g_free(process->app_id);
	if (process->holders != NULL)
		g_ptr_array_unref(process->holders);
}

void
vigil_process_unref(VigilProcess *process)
{
	if (process != NULL)
		g_atomic_rc_box_release_full(process, (GDestroyNotify)process_clear);
}

/*
 * Reads the numeric fields numbered @wanted (ascending, from 3 on) of a stat line. comm may hold
 * anything, ") " included, but it is the last ')' that ends it.
 */
static gboolean
parse_stat_fields(const char *stat_text, const int *wanted, guint64 *values, guint n_wanted)
{
	const char *p = strrchr(stat_text, ')');
	const char *open = strchr(stat_text, '(');
	if (p == NULL || open == NULL || open > p)
		return FALSE;
	p++;

	guint k = 0;
	for (int field = 3; k < n_wanted; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n')
			return FALSE;
		const char *end = p;
		while (*end != ' ' && *end != '\0' && *end != '\n')
			end++;
		if (field == wanted[k]) {
			/* decimal digits only, no sign, no overflow */
			guint64 value = 0;
			for (const char *c = p; c < end; c++) {
				guint digit = (guint)(*c - '0');
				if (digit > 9 || value > (G_MAXUINT64 - digit) / 10)
					return FALSE;
				value = value * 10 + digit;
			}
			values[k++] = value;
		}
		p = end;
	}
	return TRUE;
}

gboolean
vigil_process_parse_stat(const char *stat_text, guint32 *ppid, guint64 *start_time)
{
	static const int wanted[] = {STAT_FIELD_PPID, STAT_FIELD_START};
	guint64 values[G_N_ELEMENTS(wanted)];

	g_return_val_if_fail(stat_text != NULL, FALSE);
	if (!parse_stat_fields(stat_text, wanted, values, G_N_ELEMENTS(wanted)) ||
	    values[0] > G_MAXUINT32)
		return FALSE;
	if (ppid != NULL)
		*ppid = (guint32)values[0];
	if (start_time != NULL)
		*start_time = values[1];
	return TRUE;
}

char *
vigil_process_comm_from_stat(const char *stat_text)
{
	g_return_val_if_fail(stat_text != NULL, NULL);
	const char *open = strchr(stat_text, '(');
	const char *close = strrchr(stat_text, ')');
	if (open == NULL || close == NULL || close < open)
		return NULL;
	return g_strndup(open + 1, close - open - 1);
}

/* "app-flatpak-org.example.App-1234.scope" -> "org.example.App" */
static char *
flatpak_id_from_component(const char *component, gsize len)
{
	static const char prefix[] = "app-flatpak-";
	static const char suffix[] = ".scope";
	gsize plen = sizeof(prefix) - 1;
	gsize slen = sizeof(suffix) - 1;

	if (len <= plen + slen || strncmp(component, prefix, plen) != 0 ||
	    strncmp(component + len - slen, suffix, slen) != 0)
		return NULL;
	const char *id = component + plen;
	gsize id_len = len - plen - slen;
	/* the trailing "-N" is an instance number; app ids may contain '-' themselves */
	const char *dash = NULL;
	for (gsize i = id_len; i > 0; i--) {
		if (id[i - 1] == '-') {
			dash = id + i - 1;
			break;
		}
	}
	if (dash == NULL || dash == id || dash + 1 == id + id_len)
		return NULL;
	for (const char *c = dash + 1; c < id + id_len; c++) {
		if (!g_ascii_isdigit(*c))
			return NULL;
	}
	return g_strndup(id, dash - id);
}

/*
 * "snap.firefox.firefox.0a1b….scope", "snap.firefox.firefox-0a1b….scope",
 * "snap.lxd.daemon.service" -> the snap (instance) name, "firefox" or "lxd"
 */
static char *
snap_name_from_component(const char *component, gsize len)
{
	static const char prefix[] = "snap.";
	gsize plen = sizeof(prefix) - 1;

	if (len <= plen || strncmp(component, prefix, plen) != 0)
		return NULL;
	const char *name = component + plen;
	const char *dot = memchr(name, '.', len - plen);
	/* an app (or "hook") must follow the name */
	if (dot == NULL || dot == name || dot + 1 == component + len)
		return NULL;
	for (const char *c = name; c < dot; c++) {
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_')
			return NULL;
	}
	return g_strndup(name, dot - name);
}

char *
vigil_process_app_id_from_cgroup(const char *cgroup_text)
{
	g_return_val_if_fail(cgroup_text != NULL, NULL);
	g_auto(GStrv) lines = g_strsplit(cgroup_text, "\n", -1);

	/* "hierarchy-ID:controllers:path"; with cgroup v1 and v2 mixed, any line may name it */
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *path = strchr(lines[i], ':');
		if (path == NULL)
			continue;
		path = strchr(path + 1, ':');
		if (path == NULL)
			continue;
		path++;
		g_auto(GStrv) components = g_strsplit(path, "/", -1);
		for (guint j = 0; components[j] != NULL; j++) {
			gsize len = strlen(components[j]);
			char *id = flatpak_id_from_component(components[j], len);
			if (id == NULL)
				id = snap_name_from_component(components[j], len);
			if (id != NULL)
				return id;
		}
	}
	return NULL;
}

static void
set_errno_error(GError **error, int saved_errno, const char *what, guint32 pid)
{
	/* a process that exited shows as ENOENT or ESRCH, depending on the moment */
	GIOErrorEnum code =
	    saved_errno == ESRCH ? G_IO_ERROR_NOT_FOUND : g_io_error_from_errno(saved_errno);
	g_set_error(error, G_IO_ERROR, code, "cannot read %s of process %u: %s", what, pid,
	            g_strerror(saved_errno));
}

/* reads at most @max bytes of a small /proc file relative to @dirfd; NUL-terminated */
static char *
read_proc_file(int dirfd, const char *name, gsize max, gsize *len_out, guint32 pid, GError **error)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_errno_error(error, errno, name, pid);
		return NULL;
	}
	char *buf = g_malloc(max + 1);
	gsize len = 0;
	while (len < max) {
		ssize_t n = read(fd, buf + len, max - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			g_free(buf);
			set_errno_error(error, saved, name, pid);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (len_out != NULL)
		*len_out = len;
	return buf;
}

static gboolean
read_stat(int dirfd, guint32 pid, guint32 *ppid, guint64 *start_time, char **comm, GError **error)
{
	g_autofree char *text = read_proc_file(dirfd, "stat", STAT_MAX, NULL, pid, error);
	if (text == NULL)
		return FALSE;
	if (!vigil_process_parse_stat(text, ppid, start_time)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "cannot parse stat of process %u", pid);
		return FALSE;
	}
	if (comm != NULL)
		*comm = vigil_process_comm_from_stat(text);
	return TRUE;
}

static gboolean
read_real_uid(int dirfd, guint32 pid, guint32 *uid, GError **error)
{
	g_autofree char *text = read_proc_file(dirfd, "status", STATUS_MAX, NULL, pid, error);
	if (text == NULL)
		return FALSE;
	const char *line = strstr(text, "\nUid:");
	if (line != NULL) {
		char *end = NULL;
		guint64 value = g_ascii_strtoull(line + 5, &end, 10);
		if (end != line + 5 && value <= G_MAXUINT32) {
			*uid = (guint32)value;
			return TRUE;
		}
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
	            "no Uid line in status of process %u", pid);
	return FALSE;
}

/* readlink of /proc/PID/exe, with the " (deleted)" suffix split off */
static char *
read_exe_link(int dirfd, guint32 pid, gboolean *deleted, GError **error)
{
	char buf[PATH_MAX + sizeof(DELETED_SUFFIX)];
	ssize_t n = readlinkat(dirfd, "exe", buf, sizeof(buf) - 1);
	if (n < 0) {
		set_errno_error(error, errno, "exe", pid);
		return NULL;
	}
	buf[n] = '\0';
	gsize slen = sizeof(DELETED_SUFFIX) - 1;
	*deleted = (gsize)n > slen && strcmp(buf + n - slen, DELETED_SUFFIX) == 0;
	if (*deleted)
		buf[n - slen] = '\0';
	return g_strdup(buf);
}

/* argv joined by spaces; control characters (and so the NULs) become spaces */
static char *
read_cmdline(int dirfd, guint32 pid, GError **error)
{
	gsize len = 0;
	g_autofree char *raw = read_proc_file(dirfd, "cmdline", CMDLINE_MAX, &len, pid, error);
	if (raw == NULL)
		return NULL;
	while (len > 0 && raw[len - 1] == '\0')
		len--;
	for (gsize i = 0; i < len; i++) {
		if ((guchar)raw[i] < 0x20 || raw[i] == 0x7f)
			raw[i] = ' ';
	}
	return g_utf8_make_valid(raw, len);
}

char *
vigil_process_read_cmdline_at(int pid_dirfd, guint32 pid, GError **error)
{
	return read_cmdline(pid_dirfd, pid, error);
}

static int
open_pid_dir(const char *proc_root, guint32 pid)
{
	char path[PATH_MAX];
	g_snprintf(path, sizeof(path), "%s/%u", proc_root, pid);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* one ancestor as "pid exe", or "pid [comm]" when it has no readable exe */
static char *
describe_ancestor(int dirfd, guint32 pid, const char *comm)
{
	gboolean deleted = FALSE;
	g_autofree char *exe = read_exe_link(dirfd, pid, &deleted, NULL);
	if (exe != NULL)
		return g_strdup_printf("%u %s", pid, exe);
	return g_strdup_printf("%u [%s]", pid, comm != NULL ? comm : "?");
}

static GPtrArray *
read_parents(const char *proc_root, guint32 ppid)
{
	GPtrArray *parents = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < PARENTS_MAX && ppid != 0; i++) {
		int dirfd = open_pid_dir(proc_root, ppid);
		if (dirfd < 0)
			break;
		guint32 next = 0;
		g_autofree char *comm = NULL;
		gboolean ok = read_stat(dirfd, ppid, &next, NULL, &comm, NULL);
		if (ok)
			g_ptr_array_add(parents, describe_ancestor(dirfd, ppid, comm));
		close(dirfd);
		if (!ok)
			break;
		ppid = next;
	}
	return parents;
}

/*
 * The reference is the host's mount namespace (pid 1's), not vigild's own: systemd's
 * ProtectSystem/PrivateTmp and `ip netns exec` give vigild a private one, which would flag
 * every process. A process in a container or sandbox differs from pid 1's.
 */
static gboolean
mount_ns_differs(const char *proc_root, int dirfd)
{
	struct stat theirs;
	struct stat host;
	g_autofree char *init = g_strdup_printf("%s/1/ns/mnt", proc_root);
	g_autofree char *self = g_strdup_printf("%s/self/ns/mnt", proc_root);

	if (fstatat(dirfd, "ns/mnt", &theirs, 0) < 0)
		return FALSE;
	if (stat(init, &host) < 0 && stat(self, &host) < 0)
		return FALSE;
	return theirs.st_dev != host.st_dev || theirs.st_ino != host.st_ino;
}

/* only a hash known already: reading a big executable here would hold up the decision */
static void
peek_sha256(VigilProcess *process, VigilShaCache *sha_cache)
{
	process->sha256 =
	    vigil_sha_cache_peek(sha_cache, process->exe_dev, process->exe_ino, process->exe_size,
	                         process->exe_mtime, process->exe_ctime);
}

/* the parts that need the process alive; everything else is best effort */
static gboolean
read_identity(VigilProcess *process, int dirfd, guint32 *ppid, VigilProcessReadFlags flags,
              GError **error)
{
	guint32 pid = process->pid;
	struct stat st;

	if (!read_stat(dirfd, pid, ppid, &process->start_time, NULL, error))
		return FALSE;
	if (!read_real_uid(dirfd, pid, &process->uid, error))
		return FALSE;
	process->exe = read_exe_link(dirfd, pid, &process->exe_deleted, error);
	if (process->exe == NULL)
		return FALSE;
	/* stat follows the magic link to the file that runs, also when it was deleted; with the
	 * attributes the kernel has: a FUSE server that stops answering cannot hold it */
	guint64 mnt_id = 0;
	if (vigil_fuse_stat_mount(dirfd, "exe", 0, &st, &mnt_id) < 0) {
		set_errno_error(error, errno, "exe", pid);
		return FALSE;
	}
	/* FUSE, or a user's overlay (whose layers may be FUSE) */
	process->exe_on_fuse = vigil_fuse_exe_is_users(dirfd, st.st_dev, mnt_id);
	process->exe_dev = st.st_dev;
	process->exe_ino = st.st_ino;
	process->exe_mtime =
	    (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
	process->exe_size = st.st_size;
	process->exe_ctime =
	    (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
	if (flags & VIGIL_PROCESS_READ_NO_MEMORY)
		return TRUE;
	/* waits for the process's mmap lock (see VIGIL_PROCESS_READ_NO_MEMORY) */
	process->cmdline = read_cmdline(dirfd, pid, error);
	return process->cmdline != NULL;
}

VigilProcess *
vigil_process_read(const char *proc_root, guint32 pid, VigilShaCache *sha_cache, GError **error)
{
	return vigil_process_read_full(proc_root, pid, sha_cache, VIGIL_PROCESS_READ_ALL, error);
}

VigilProcess *
vigil_process_read_full(const char *proc_root, guint32 pid, VigilShaCache *sha_cache,
                        VigilProcessReadFlags flags, GError **error)
{
	g_return_val_if_fail(proc_root != NULL, NULL);

	/* everything is read through one directory fd: a reused pid cannot mix in */
	int dirfd = open_pid_dir(proc_root, pid);
	if (dirfd < 0) {
		set_errno_error(error, errno, "directory", pid);
		return NULL;
	}

	g_autoptr(VigilProcess) process = g_atomic_rc_box_new0(VigilProcess);
	process->pid = pid;
	guint32 ppid = 0;
	gboolean ok = read_identity(process, dirfd, &ppid, flags, error);
	if (ok) {
		g_autofree char *cgroup =
		    read_proc_file(dirfd, "cgroup", CGROUP_MAX, NULL, pid, NULL);
		if (cgroup != NULL)
			process->app_id = vigil_process_app_id_from_cgroup(cgroup);
		process->foreign_mount_ns = mount_ns_differs(proc_root, dirfd);
		if (process->foreign_mount_ns)
			process->app_sandbox = vigil_app_sandbox_verify(
			    process->app_id, process->exe, process->exe_dev, process->exe_ino);
		process->taint = flags & VIGIL_PROCESS_READ_NO_MEMORY
		                     ? vigil_process_taint_read_traced(dirfd, &process->tracer_pid)
		                     : vigil_process_taint_read(dirfd, &process->tracer_pid);
	}
	close(dirfd);
	if (!ok)
		return NULL;

	process->user_name = vigil_user_name(process->uid);
	process->parents = read_parents(proc_root, ppid);
	if (sha_cache != NULL)
		peek_sha256(process, sha_cache);
	return g_steal_pointer(&process);
}

VigilProcess *
vigil_process_new(void)
{
	return g_atomic_rc_box_new0(VigilProcess);
}

void
vigil_process_fill_query(const VigilProcess *process, VigilMatchQuery *query)
{
	g_return_if_fail(query != NULL);

	if (process == NULL) {
		query->program = NULL;
		query->exe = (VigilFileId){0};
		query->foreign_mount_ns = FALSE;
		query->sha256 = NULL;
		query->cmdline = NULL;
		query->app_id = NULL;
		return;
	}
	query->program = process->exe != NULL && process->exe[0] == '/' ? process->exe : NULL;
	query->exe = (VigilFileId){.dev = process->exe_dev,
	                           .ino = process->exe_ino,
	                           .ctime = process->exe_ctime,
	                           .size = process->exe_size};
	query->foreign_mount_ns = process->foreign_mount_ns;
	query->sha256 = process->sha256;
	query->cmdline = process->cmdline;
	query->app_id = process->app_id;
}

void
vigil_process_match_query(VigilMatchQuery *query, guint32 uid, const VigilProcess *process,
                          const VigilFlow *flow, char **hostnames)
{
	g_return_if_fail(query != NULL && flow != NULL);

	*query = (VigilMatchQuery){.uid = uid,
	                           .family = flow->family,
	                           .dst = flow->dst,
	                           .protocol = flow->protocol,
	                           .dport = flow->dport,
	                           .hostnames = (const char *const *)hostnames};
	vigil_process_fill_query(process, query);
}

VigilProcess *
vigil_process_copy_with_sha256(const VigilProcess *process, const char *sha256)
{
	g_return_val_if_fail(process != NULL, NULL);
	VigilProcess *copy =
	    (g_atomic_rc_box_dup)(sizeof(*process), process); /* the macro would keep const */
	copy->user_name = g_strdup(process->user_name);
	copy->exe = g_strdup(process->exe);
	copy->sha256 = g_strdup(sha256);
	copy->cmdline = g_strdup(process->cmdline);
	copy->app_id = g_strdup(process->app_id);
	copy->parents = NULL;
	copy->holders = process->holders != NULL ? g_ptr_array_ref(process->holders) : NULL;
	if (process->parents != NULL) {
		copy->parents = g_ptr_array_new_full(process->parents->len, g_free);
		for (guint i = 0; i < process->parents->len; i++)
			g_ptr_array_add(copy->parents,
			                g_strdup(g_ptr_array_index(process->parents, i)));
	}
	return copy;
}

/* starttime, then startcode, endcode, startstack, start_data .. env_end: ASLR moves these at
 * every exec, and the argument and environment addresses move with their lengths even without
 * it. One pass over the line: this runs for every connection */
static const int stamp_fields[] = {STAT_FIELD_START, 26, 27, 28, 45, 46, 47, 48, 49, 50, 51};

/* the parts of a stamp that a stat line and a stat of the exe give */
static void
exe_fill(VigilProcessStamp *stamp, const struct stat *exe_st)
{
	stamp->exe_dev = exe_st->st_dev;
	stamp->exe_ino = exe_st->st_ino;
	stamp->exe_mtime = (gint64)exe_st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) +
	                   exe_st->st_mtim.tv_nsec;
	stamp->exe_size = exe_st->st_size;
}

static gboolean
stamp_fill(VigilProcessStamp *stamp, const char *stat_text, const struct stat *exe_st)
{
	guint64 values[G_N_ELEMENTS(stamp_fields)];
	if (!parse_stat_fields(stat_text, stamp_fields, values, G_N_ELEMENTS(values)))
		return FALSE;

	stamp->start_time = values[0];
	guint64 h = 14695981039346656037ULL;
	for (guint i = 1; i < G_N_ELEMENTS(values); i++)
		h = (h ^ values[i]) * 1099511628211ULL;
	stamp->image = h;
	exe_fill(stamp, exe_st);
	return TRUE;
}

gboolean
vigil_process_read_stamp(const char *proc_root, guint32 pid, VigilProcessStamp *stamp)
{
	g_return_val_if_fail(proc_root != NULL && stamp != NULL, FALSE);
	char path[PATH_MAX];
	char text[STAT_MAX];
	struct stat dir_st;
	struct stat exe_st;

	/*
	 * by path, without a directory fd: this runs for every connection. The parts cannot
	 * mix two processes, as a pid is not reused within microseconds
	 */
	memset(stamp, 0, sizeof(*stamp));
	g_snprintf(path, sizeof(path), "%s/%u/stat", proc_root, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return FALSE;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return FALSE;
	text[n] = '\0';

	g_snprintf(path, sizeof(path), "%s/%u", proc_root, pid);
	if (stat(path, &dir_st) < 0)
		return FALSE;
	g_snprintf(path, sizeof(path), "%s/%u/exe", proc_root, pid);
	if (vigil_fuse_stat(AT_FDCWD, path, 0, &exe_st) < 0)
		return FALSE;
	if (!stamp_fill(stamp, text, &exe_st))
		return FALSE;
	stamp->proc_owner = dir_st.st_uid;
	return TRUE;
}

gboolean
vigil_process_read_stamp_at(int pid_dir, int stat_fd, VigilProcessStamp *stamp)
{
	g_return_val_if_fail(pid_dir >= 0 && stat_fd >= 0 && stamp != NULL, FALSE);
	char text[STAT_MAX];
	struct stat exe_st;

	/* two system calls (neither asks a FUSE server anything): both fds refer to the process
	 * they were opened for, so each fails once it is gone, and a later process with its pid
	 * cannot answer */
	memset(stamp, 0, sizeof(*stamp));
	if (vigil_fuse_stat(pid_dir, "exe", 0, &exe_st) < 0)
		return FALSE;
	ssize_t n = pread(stat_fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return FALSE;
	text[n] = '\0';
	return stamp_fill(stamp, text, &exe_st);
}

gboolean
vigil_process_read_exe_stamp_at(int pid_dir, VigilProcessStamp *stamp)
{
	g_return_val_if_fail(pid_dir >= 0 && stamp != NULL, FALSE);
	struct stat exe_st;

	memset(stamp, 0, sizeof(*stamp));
	if (vigil_fuse_stat(pid_dir, "exe", 0, &exe_st) < 0)
		return FALSE;
	exe_fill(stamp, &exe_st);
	return TRUE;
}

gboolean
vigil_process_exe_stamp_equal(const VigilProcessStamp *a, const VigilProcessStamp *b)
{
	return a->exe_dev == b->exe_dev && a->exe_ino == b->exe_ino &&
	       a->exe_mtime == b->exe_mtime && a->exe_size == b->exe_size;
}

gboolean
vigil_process_stamp_equal(const VigilProcessStamp *a, const VigilProcessStamp *b)
{
	return a->start_time == b->start_time && a->image == b->image &&
	       a->proc_owner == b->proc_owner && vigil_process_exe_stamp_equal(a, b);
}
