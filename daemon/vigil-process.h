/* vigil-process.h: what Vigil knows about the process behind a connection, read from /proc */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
	gint ref_count;
	guint32 pid;
	guint64 start_time; /* /proc/PID/stat field 22: tells a reused pid apart */
	guint32 uid;        /* real uid */
	char *user_name;    /* or NULL when the uid has no name */
	char *exe;          /* readlink(/proc/PID/exe) without the " (deleted)" suffix */
	gboolean exe_deleted;
	dev_t exe_dev;
	ino_t exe_ino;
	gint64 exe_mtime;
	char *sha256;     /* of the executable's contents, lowercase hex; NULL if unreadable */
	char *cmdline;    /* argv joined with spaces (for display and args globs) */
	GPtrArray *parents; /* of char*: "pid exe" from the parent up to pid 1, at most 8 */
	char *app_id;       /* flatpak or snap app id from the cgroup, or NULL */
	gboolean foreign_mount_ns; /* its mount namespace differs from the daemon's */
} VigilProcess;

VigilProcess *vigil_process_ref(VigilProcess *process);
void vigil_process_unref(VigilProcess *process);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilProcess, vigil_process_unref)

/*
 * Reads a process from @proc_root ("/proc" outside tests). @sha_cache may be NULL (no hash).
 * Errors are G_IO_ERROR (NOT_FOUND when the process is gone).
 */
typedef struct _VigilShaCache VigilShaCache;
VigilProcess *vigil_process_read(const char *proc_root, guint32 pid, VigilShaCache *sha_cache,
				 GError **error);

/* pure: the app id in a /proc/PID/cgroup text (flatpak "app-flatpak-ID-N.scope", snap "snap.ID.") */
char *vigil_process_app_id_from_cgroup(const char *cgroup_text);
/* pure: the starttime field (22) of a /proc/PID/stat line, also with ") " in comm */
gboolean vigil_process_parse_stat(const char *stat_text, guint32 *ppid, guint64 *start_time);

/* SHA-256 of executables, cached by (dev, inode, mtime, size); thread-safe */
VigilShaCache *vigil_sha_cache_new(guint max_entries);
void vigil_sha_cache_free(VigilShaCache *cache);
/* hashes through @path (e.g. /proc/PID/exe, which works for deleted files too) */
char *vigil_sha_cache_get(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino,
			  gint64 mtime, gint64 size, GError **error);

G_END_DECLS
