/* vigil-process.h: what Vigil knows about the process behind a connection, read from /proc */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

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
	guint taint;               /* VigilTaint (vigil-process-taint.h), read once */
	guint32 tracer_pid;        /* with VIGIL_TAINT_TRACED */
	gint64 exe_ctime;          /* ns; with dev, ino, size and mtime: the key of its hash */
	/* it was gone (exited, or exec'd another program) when vigild looked: only what the
	 * kernel recorded at connect()/sendmsg() is known (eBPF attribution): pid, uid, the
	 * executable's device, inode, size and ctime; exe is its path when vigild has seen that
	 * file run before, else "[comm]" (the task's name), never a path */
	gboolean exited;
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
typedef struct _VigilShaCache VigilShaCache;
VigilProcess *vigil_process_read(const char *proc_root, guint32 pid, VigilShaCache *sha_cache,
                                 GError **error);
/* an empty process (for one known only from the kernel's record), to be filled by the caller */
VigilProcess *vigil_process_new(void);
/* a copy of @process with its hash set to @sha256 (processes are shared read-only) */
VigilProcess *vigil_process_copy_with_sha256(const VigilProcess *process, const char *sha256);

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

/*
 * SHA-256 of executables, cached by (dev, inode, size, mtime, ctime); thread-safe. A file is
 * hashed once at a time: whoever asks while it is hashed waits for that result. Asynchronous
 * requests run in a small pool of threads that take turns: each turn hashes 8 MiB of one file,
 * users take turns round robin, and files someone waits for go before files no one waits for
 * any more. A bounded number of files may wait (at most 4 of one user's).
 */
/* an asynchronous caller waits for a hash only while at most this much is left to read: about
 * 2 s of hashing on a slow machine, within a connection's deadline */
#define VIGIL_SHA_CACHE_WAIT_MAX (G_GINT64_CONSTANT(512) * 1024 * 1024)
VigilShaCache *vigil_sha_cache_new(guint max_entries);
/* stops hashes in progress (within one read) and waits for the pool's threads */
void vigil_sha_cache_free(VigilShaCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilShaCache, vigil_sha_cache_free)
/* hashes in progress stop (within one read of 64 KiB; it waits for that), new ones are refused
 * (CANCELLED) */
void vigil_sha_cache_stop(VigilShaCache *cache);
/*
 * Remembers hashes in @path across restarts: loads it now, and rewrites it atomically (mode
 * 0600, most recently used first, at most max_entries lines) after each new hash. A file that
 * is too big, of another version, or unreadable is ignored with an error (it is replaced at the
 * next save); malformed lines are skipped with a warning. Not finding it is no error.
 */
gboolean vigil_sha_cache_attach_file(VigilShaCache *cache, const char *path, GError **error);
/* the hash of that file identity when known, without reading any file; or NULL */
char *vigil_sha_cache_peek(VigilShaCache *cache, dev_t dev, ino_t ino, gint64 size, gint64 mtime,
                           gint64 ctime);
/*
 * Hashes through @path (e.g. /proc/PID/exe, which works for deleted files too), on the calling
 * thread (or waits for the thread that hashes it already). @dev, @ino, @mtime (ns) and @size
 * are what the caller saw; the cache stats @path again and also keys on the ctime, which unlike
 * the mtime cannot be set back by the file's owner. If the file is no longer what the caller
 * saw (replaced, or a pid reused), the error is G_IO_ERROR_WRONG_ETAG.
 */
char *vigil_sha_cache_get(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino,
                          gint64 mtime, gint64 size, GError **error);
/*
 * The same in the pool, answered in the caller's thread-default main context. @ctime lets a
 * known hash be answered without opening the file; @uid is the user it is hashed for (the
 * process's), whose turns it takes. Errors as above, and G_IO_ERROR_BUSY when too many files
 * wait for a hash, or 4 of that user's do already (one user never fills the queue for the
 * others), G_IO_ERROR_PENDING at once when more than VIGIL_SHA_CACHE_WAIT_MAX of the file is
 * left to hash (it is hashed on for the cache: a later request may find it made),
 * G_IO_ERROR_CANCELLED when @cancellable fires (the hash goes on for others and for the cache) or
 * the cache stops.
 */
void vigil_sha_cache_get_async(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino,
                               gint64 mtime, gint64 size, gint64 ctime, guint32 uid,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
char *vigil_sha_cache_get_finish(VigilShaCache *cache, GAsyncResult *result, GError **error);

/* counters for tests and the debug log */
typedef struct {
	guint64 hits;    /* answered from the cache */
	guint64 misses;  /* not in the cache when asked (a hash, or a wait for one) */
	guint64 hashes;  /* files read and hashed (started) */
	guint64 joined;  /* requests that waited for a hash already running */
	guint64 refused; /* asynchronous requests beyond the bound */
	guint64 pending; /* asynchronous requests answered at once: too much left to hash */
} VigilShaCacheStats;
/* tests: files of a few MiB stand for big ones */
void vigil_sha_cache_set_wait_max(VigilShaCache *cache, gint64 bytes);
void vigil_sha_cache_get_counters(VigilShaCache *cache, VigilShaCacheStats *stats);
void vigil_sha_cache_get_stats(VigilShaCache *cache, guint64 *hits, guint64 *misses);

G_END_DECLS
