/* vigil-fuse.h: files on file systems whose server a user runs (FUSE), looked at without asking it
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

/*
 * fstatat(@dirfd, @path, @flags) (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW) with the attributes the
 * kernel holds (statx AT_STATX_DONT_SYNC): never a request to the file system's server. A FUSE
 * server is a program its user runs; one that stops answering would hold a plain stat() for
 * ever. For local file systems this is the file as it is; for FUSE and network file systems
 * the attributes last fetched. The path walk itself still looks names up: use it on magic
 * links (/proc/PID/exe), on descriptors (AT_EMPTY_PATH), or where every directory on the way
 * is known not to be on FUSE. -1 with errno on failure.
 */
int vigil_fuse_stat(int dirfd, const char *path, int flags, struct stat *st);

typedef enum {
	VIGIL_FS_OTHER,  /* mounted there, not FUSE (or a block device: no user mounts one) */
	VIGIL_FS_FUSE,   /* "fuse" or "fuse.SUBTYPE": what fusermount3 mounts for a user */
	VIGIL_FS_UNSEEN, /* no mount of that device in that table */
} VigilFsKind;

/* pure: what the file system on device @dev is, by a /proc/PID/mountinfo text */
VigilFsKind vigil_fuse_kind_in_mountinfo(const char *mountinfo, guint64 dev);

/*
 * What the file system on @dev is, by the mount table of the process whose /proc directory
 * is @pid_dir (read only for a device with no block device, major 0: FUSE has none). Another
 * mount namespace's mounts show in its own table; the table is read, nothing is asked of the
 * file system.
 */
VigilFsKind vigil_fuse_kind_for_process(int pid_dir, guint64 dev);

/*
 * Whether @dev is a FUSE file system mounted in vigild's own mount namespace (by its mount
 * table, read again only when it changed). Thread-safe.
 */
gboolean vigil_fuse_dev_is_fuse_here(guint64 dev);

G_END_DECLS
