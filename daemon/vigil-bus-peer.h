/* vigil-bus-peer.h: which processes hold the client end of a connection to the bus daemon */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* bounds of one search (beyond them it fails: it never answers with a part) */
#define VIGIL_BUS_PEER_MAX_BUS_FDS 65536  /* fds of the bus daemon looked at */
#define VIGIL_BUS_PEER_MAX_FDS     262144 /* fd links of the user's processes read */
#define VIGIL_BUS_PEER_MAX_HOLDERS 64

/*
 * The pid of the bus daemon at the other end of @connection (its peer credentials), or 0
 * when the connection is not a unix socket.
 */
guint32 vigil_bus_peer_daemon_pid(GDBusConnection *connection);

/*
 * The bus reports which process opened a connection (GetConnectionUnixProcessID), not who
 * uses it: the socket may have been inherited or passed on since. This finds, for the
 * connections that process @pid of user @uid opened to the bus daemon @bus_pid, every process
 * that holds the client end now: the bus daemon's sockets whose peer credentials are @pid and
 * @uid (copied with pidfd_getfd, which needs ptrace access to the daemon), their peers through
 * sock_diag (in vigild's network namespace), and the fd tables of the processes with @uid as
 * one of their uids (every task's: a thread may unshare its table).
 * Returns the pids (guint32, each once; empty when no process holds it, e.g. while it is in
 * flight in a unix socket message). Errors are G_IO_ERROR: NOT_FOUND (no such connection in
 * vigild's network namespace), TOO_MANY_OPEN_FILES (a bound above), or what the system said.
 * Blocking: reading the fd tables takes milliseconds; run it in a thread (the async form).
 */
GArray *vigil_bus_peer_holders(guint32 bus_pid, guint32 pid, guint32 uid, GError **error);

void vigil_bus_peer_holders_async(guint32 bus_pid, guint32 pid, guint32 uid,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
GArray *vigil_bus_peer_holders_finish(GAsyncResult *result, GError **error);

/* pure: the inode of a "socket:[N]" fd link, or 0 */
guint64 vigil_bus_peer_parse_socket_link(const char *link);

G_END_DECLS
