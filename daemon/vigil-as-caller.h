/* vigil-as-caller.h: a path looked at with a D-Bus caller's rights, not vigild's */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* symbolic links followed in one path at most, as the kernel's MAXSYMLINKS */
#define VIGIL_AS_CALLER_MAX_LINKS 40

/* the message of the error for a path that goes through a proc mount */
#define VIGIL_AS_CALLER_THROUGH_PROC                                                               \
	"the path goes through /proc, whose links vigild would follow with its own rights"

/* the message of the error for a path that goes through a FUSE file system */
#define VIGIL_AS_CALLER_THROUGH_FUSE                                                               \
	"the path goes through a FUSE file system, whose server (a user's program) vigild does "   \
	"not ask: its programs are unknown programs to vigild"

/* who the path is looked at for (uid 0: root, who may search every directory) */
typedef struct {
	guint32 uid;
	guint32 gid;
	const guint32 *groups; /* supplementary groups */
	gsize n_groups;
} VigilCallerCreds;

/*
 * stat()s the absolute @path as @creds would: each directory on the way (and through
 * symbolic links) must let them search it, judged from its owner, group and mode bits the
 * way the kernel does. A directory with a POSIX ACL lets them search only through its owner
 * or "other" bits (its named entries are not read: an ACL never opens more than the kernel
 * would). vigild itself needs no capability for this: it walks the path with O_PATH
 * descriptors and judges, so no thread or child of vigild takes on a user's credentials.
 * Blocking (a hung network mount blocks it): call it in a thread.
 *
 * A path that reaches a proc mount anywhere on the way (/proc itself, a bind mount of it,
 * a link into it such as /dev/fd, "..") is refused as soon as the walk gets there, before
 * anything in it is looked up: procfs decides by who asks (its magic links cwd, root, exe,
 * fd/N follow with vigild's ptrace rights; /proc/self is vigild), so it cannot be walked as
 * the caller. The answer is then the same whatever the rest of the path names.
 * Likewise a path that reaches a FUSE file system mounted in vigild's mount namespace is
 * refused there, with G_IO_ERROR_NOT_SUPPORTED and VIGIL_AS_CALLER_THROUGH_FUSE, before
 * anything in it is asked of its server (which a user runs, and which may never answer).
 *
 * TRUE with the file's mode, or FALSE and a G_IO_ERROR from the errno the caller would
 * have got (NOT_FOUND, PERMISSION_DENIED, TOO_MANY_LINKS, ...), or G_IO_ERROR_NOT_SUPPORTED
 * with VIGIL_AS_CALLER_THROUGH_PROC.
 */
gboolean vigil_as_caller_stat(const char *path, const VigilCallerCreds *creds, mode_t *mode,
                              GError **error);

/*
 * vigil_as_caller_stat() in a worker thread for user @uid, with the primary gid and
 * supplementary groups the user database gives it (a uid without an entry: gid 65534,
 * no groups). For uid 0 every directory may be searched (but /proc is refused all the same).
 */
void vigil_as_caller_stat_async(const char *path, guint32 uid, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
gboolean vigil_as_caller_stat_finish(GAsyncResult *result, mode_t *mode, GError **error);

G_END_DECLS
