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
/* the same, and the id of the mount the file is on (as /proc/PID/mountinfo numbers it) into
 * *@mnt_id (0 when the kernel does not say) */
int vigil_fuse_stat_mount(int dirfd, const char *path, int flags, struct stat *st, guint64 *mnt_id);

typedef enum {
	VIGIL_FS_OTHER,  /* mounted there, not FUSE (or a block device: no user mounts one) */
	VIGIL_FS_FUSE,   /* "fuse" or "fuse.SUBTYPE": what fusermount3 mounts for a user */
	VIGIL_FS_UNSEEN, /* no mount of that device in that table */
	/* overlayfs: its files are its layers' files, read through it, and a layer may be a FUSE
	 * file system that does not show in any mount table (vigil_fuse_exe_is_users()) */
	VIGIL_FS_OVERLAY,
} VigilFsKind;

/* pure: what the file system on device @dev is, by a /proc/PID/mountinfo text (FUSE before
 * any other kind: one superblock has one type) */
VigilFsKind vigil_fuse_kind_in_mountinfo(const char *mountinfo, guint64 dev);
/* pure: what the file system of the mount numbered @mnt_id is, by a mountinfo text */
VigilFsKind vigil_fuse_kind_of_mount(const char *mountinfo, guint64 mnt_id);

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

/*
 * Whether the executable of the process whose /proc directory is @pid_dir, on device @dev and
 * mount @mnt_id (vigil_fuse_stat_mount() of its "exe"), is a file whose contents a user's
 * program serves, and which vigild must therefore never read (a read may wait for ever, and
 * may hold vigild's exit, as a read the FUSE server took is not even interrupted by SIGKILL):
 * - on a FUSE file system: by the process's mount table, or, where fusectl is mounted
 *   (/sys/fs/fuse/connections lists every FUSE superblock of the machine, in any namespace),
 *   by its device;
 * - on an overlay a user mounted: in a mount namespace that a user namespace other than
 *   vigild's owns (only there may an unprivileged user mount one), and not one of vigild's own
 *   mount table (a root's overlay the namespace was copied with). Its layers may be FUSE
 *   mounts that show nowhere (the overlay keeps private copies of them): the stat of its file
 *   gives the overlay's device or a made-up one, never the layer's;
 * - on a mount that is not in the process's own table, whose file system vigild cannot tell
 *   (an executable handed over from another mount namespace and run by its fd, or one whose
 *   mount was detached), unless it has a block device or is in vigild's own table.
 * Reads only mount tables and namespace files: nothing is asked of any file system.
 */
gboolean vigil_fuse_exe_is_users(int pid_dir, guint64 dev, guint64 mnt_id);

G_END_DECLS
