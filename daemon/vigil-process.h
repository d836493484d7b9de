/* vigil-process.h: what Vigil knows about the process behind a connection, read from /proc */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "vigil-flow.h"      /* VigilFlow */
#include "vigil-ruleset.h"   /* VigilMatchQuery */
#include "vigil-sha-cache.h" /* VigilShaCache */

G_BEGIN_DECLS

/* reference counted (g_atomic_rc_box): only vigil_process_* make and copy one on the heap */
typedef struct {
	guint32 pid;
	guint64 start_time; /* /proc/PID/stat field 22: tells a reused pid apart */
	guint32 uid;        /* real uid */
	char *user_name;    /* or NULL when the uid has no name */
	char *exe;          /* readlink(/proc/PID/exe) without the " (deleted)" suffix */
	gboolean exe_deleted;
	dev_t exe_dev;
	ino_t exe_ino;
	gint64 exe_mtime; /* nanoseconds since the epoch, so a rewrite within a second shows */
	gint64 exe_size;
	char *sha256;       /* of the executable's contents, lowercase hex; NULL while not known (it
	                     * is computed only when a rule or a prompt needs it), or unreadable */
	char *cmdline;      /* argv joined with spaces (for display and args globs), valid UTF-8,
	                     * control characters replaced by spaces, at most 4 KiB */
	GPtrArray *parents; /* of char*: "pid exe" from the parent up to pid 1, at most 8;
	                     * "pid [comm]" when the exe cannot be read (kernel threads) */
	char *app_id;       /* flatpak app id or snap name from the cgroup, or NULL; the cgroup
	                     * is informative: a user may create such a cgroup in their own slice */
	gboolean foreign_mount_ns; /* its mount namespace differs from the host's (pid 1's) */
	/* in another mount namespace, the snap or flatpak of its app id, checked against the
	 * host's installation (vigil-app-sandbox.h): VIGIL_APP_SANDBOX_*, static; or NULL */
	const char *app_sandbox;
	guint taint;        /* VigilTaint (vigil-process-taint.h), read once */
	guint32 tracer_pid; /* with VIGIL_TAINT_TRACED */
	gint64 exe_ctime;   /* ns; with dev, ino, size and mtime: the key of its hash */
	/* the executable is on a FUSE file system, or on a file system vigild cannot tell is not
	 * one (an overlay a user mounted, whose layers may be FUSE; a mount the process cannot
	 * see): vigil_fuse_exe_is_users(). Its server, a program of the user who mounted it,
	 * answers as it likes (another file to a hash than to exec, or never): the attributor
	 * makes such a process an unknown one, and vigild never reads the file */
	gboolean exe_on_fuse;
	/* it was gone (exited, or exec'd another program) when vigild looked: only what the
	 * kernel recorded at connect()/sendmsg() is known (eBPF attribution): pid, uid, the
	 * executable's device, inode, size and ctime; exe is its path when vigild has seen that
	 * file run before, else "[comm]" (the task's name), never a path */
	gboolean exited;
	/* a holder vigild cannot name (pid 0, exe "[unknown]"): an unknown program, to the rules
	 * and to a prompt; one of the holders of an echo request whose socket /proc does not list
	 * (docs/ebpf-icmp.md: a closed socket's record is not proof that it sent the packet) */
	gboolean unnamed;
	/* only in a lookup's answer: the other programs (VigilProcess*) that hold the same
	 * socket, when it is shared (inherited or passed); NULL when this one holds it alone */
	GPtrArray *holders;
} VigilProcess;

VigilProcess *vigil_process_ref(VigilProcess *process);
void vigil_process_unref(VigilProcess *process);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilProcess, vigil_process_unref)

/*
 * Reads a process from @proc_root ("/proc" outside tests). The hash comes from @sha_cache when it
 * knows the executable already (also from an earlier run); no executable is read here: hashing
 * a big one takes seconds (vigil_sha_cache_get*()). @sha_cache may be NULL.
 * Errors are G_IO_ERROR (NOT_FOUND when the process is gone).
 */
VigilProcess *vigil_process_read(const char *proc_root, guint32 pid, VigilShaCache *sha_cache,
                                 GError **error);

typedef enum {
	VIGIL_PROCESS_READ_ALL = 0,
	/*
	 * Nothing that waits for the process's mmap lock: /proc/PID/cmdline and environ do, and a
	 * process can hold that lock for ever (a thread stuck in a page fault on a file its FUSE
	 * server never serves, and another waiting to map memory). For the main loop: cmdline
	 * is NULL and the taint lacks VIGIL_TAINT_PRELOAD (the environment is not read).
	 */
	VIGIL_PROCESS_READ_NO_MEMORY = 1 << 0,
} VigilProcessReadFlags;
/* the command line of the process whose /proc directory @pid_dirfd is, as
 * vigil_process_read() gives it; it waits for the process's mmap lock: never on the main loop */
char *vigil_process_read_cmdline_at(int pid_dirfd, guint32 pid, GError **error);
VigilProcess *vigil_process_read_full(const char *proc_root, guint32 pid, VigilShaCache *sha_cache,
                                      VigilProcessReadFlags flags, GError **error);
/* an empty process (for one known only from the kernel's record), to be filled by the caller */
VigilProcess *vigil_process_new(void);
/* a copy of @process with its hash set to @sha256 (processes are shared read-only) */
VigilProcess *vigil_process_copy_with_sha256(const VigilProcess *process, const char *sha256);

/*
 * The program's part of @query (program, exe, foreign_mount_ns, sha256, cmdline, app_id) from
 * @process; the connection's part and the uid are the caller's. A process whose exe is not an
 * absolute path (only the kernel's record of it: "[comm]") or NULL (not found, or not in time)
 * is an unknown program: program NULL, so "app unknown" rules cover it, and no path rule can.
 * Every matcher of a process takes it from here, so that none of them tells a program apart
 * in its own way.
 */
void vigil_process_fill_query(const VigilProcess *process, VigilMatchQuery *query);
/* the whole query: @uid's connection @flow by @process (NULL: unknown), to the destination DNS
 * named @hostnames (NULL-terminated, newest first; NULL: none known), which must outlive it */
void vigil_process_match_query(VigilMatchQuery *query, guint32 uid, const VigilProcess *process,
                               const VigilFlow *flow, char **hostnames);

/*
 * What changes when a process execs, changes its uid, or its pid goes to another process,
 * read cheaply (one stat line, two stat calls): a VigilProcess read after a stamp stays valid
 * while a fresh stamp of its pid is equal.
 */
typedef struct {
	guint64 start_time;
	guint64 image;      /* hash of the address-space layout in stat: new with every exec */
	guint32 proc_owner; /* owner of /proc/PID: follows the euid, root when non-dumpable */
	dev_t exe_dev;
	ino_t exe_ino;
	gint64 exe_mtime;
	gint64 exe_size;
} VigilProcessStamp;
gboolean vigil_process_read_stamp(const char *proc_root, guint32 pid, VigilProcessStamp *stamp);
/*
 * The same from fds kept open, in two system calls: @pid_dir is /proc/PID opened as a directory
 * (O_PATH will do) and @stat_fd its "stat" file. Such fds stay bound to the process they were
 * opened for: once it is gone they fail, and a later process with the same pid cannot answer.
 * proc_owner is left 0: the caller checks the uid another way (the attributor compares the
 * uid of each socket with that of the socket the process was read for).
 */
gboolean vigil_process_read_stamp_at(int pid_dir, int stat_fd, VigilProcessStamp *stamp);
gboolean vigil_process_stamp_equal(const VigilProcessStamp *a, const VigilProcessStamp *b);
/*
 * The exe part alone, in one system call: it shows an exec of another executable (or of the
 * same path after the file changed), and fails once the process is gone; an exec of the very
 * same executable again (new cmdline) goes unseen. Enough when nothing reads the cmdline.
 */
gboolean vigil_process_read_exe_stamp_at(int pid_dir, VigilProcessStamp *stamp);
gboolean vigil_process_exe_stamp_equal(const VigilProcessStamp *a, const VigilProcessStamp *b);

/* pure: the app id in a /proc/PID/cgroup text ("app-flatpak-ID-N.scope", "snap.NAME.APP…") */
char *vigil_process_app_id_from_cgroup(const char *cgroup_text);
/* pure: the starttime field (22) of a /proc/PID/stat line, also with ") " in comm */
gboolean vigil_process_parse_stat(const char *stat_text, guint32 *ppid, guint64 *start_time);
/* pure: the comm of a /proc/PID/stat line (between the first '(' and the last ')'), or NULL */
char *vigil_process_comm_from_stat(const char *stat_text);

G_END_DECLS
