/* vigil-as-caller.h: a path looked at with a D-Bus caller's rights, not vigild's */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* symbolic links followed in one path at most, as the kernel's MAXSYMLINKS */
#define VIGIL_AS_CALLER_MAX_LINKS 40

/* who the path is looked at for */
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
 * TRUE with the file's mode, or FALSE and a G_IO_ERROR from the errno the caller would
 * have got (NOT_FOUND, PERMISSION_DENIED, TOO_MANY_LINKS, ...).
 */
gboolean vigil_as_caller_stat(const char *path, const VigilCallerCreds *creds, mode_t *mode,
                              GError **error);

/*
 * vigil_as_caller_stat() in a worker thread for user @uid, with the primary gid and
 * supplementary groups the user database gives it (a uid without an entry: gid 65534,
 * no groups). For uid 0 the look is vigild's own stat().
 */
void vigil_as_caller_stat_async(const char *path, guint32 uid, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
gboolean vigil_as_caller_stat_finish(GAsyncResult *result, mode_t *mode, GError **error);

G_END_DECLS
