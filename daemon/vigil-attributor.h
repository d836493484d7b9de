/* vigil-attributor.h: flow -> socket (sock_diag) -> pid -> VigilProcess, without blocking */
#pragma once

#include <gio/gio.h>
#include "vigil-flow.h"
#include "vigil-process.h"

G_BEGIN_DECLS

typedef struct _VigilAttributor VigilAttributor;

/* @proc_root is "/proc" outside tests */
VigilAttributor *vigil_attributor_new(const char *proc_root, GError **error);
void vigil_attributor_free(VigilAttributor *attributor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilAttributor, vigil_attributor_free)

/*
 * Finds the process that owns the socket of @flow. Cheap cases (a socket of a recently
 * seen process, a cached executable hash) are answered on the calling thread; the rest
 * (scanning processes of the flow's uid, hashing a new executable) runs in a worker thread.
 * The callback runs in the thread-default main context of the caller.
 * The result is NULL with no error when the process cannot be found ("unknown process").
 */
void vigil_attributor_lookup_async(VigilAttributor *attributor, const VigilFlow *flow,
				   GCancellable *cancellable, GAsyncReadyCallback callback,
				   gpointer user_data);
VigilProcess *vigil_attributor_lookup_finish(VigilAttributor *attributor, GAsyncResult *result,
					     GError **error);

/* blocking variant of the above, for tests and tools */
VigilProcess *vigil_attributor_lookup(VigilAttributor *attributor, const VigilFlow *flow,
				      GError **error);

/* lower layers, exposed for tests */
/* sock_diag: the inode and uid of the socket with @flow's exact tuple (0 = not found) */
gboolean vigil_sock_diag_find(const VigilFlow *flow, guint64 *inode, guint32 *uid,
			      GError **error);

G_END_DECLS
