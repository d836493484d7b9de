/* vigil-socket-watch.h: an allowed UDP flow ends with its socket, so no other socket rides it */
#pragma once

#include <glib.h>
#include "vigil-flow.h"

G_BEGIN_DECLS

/*
 * A verdict lives in the flow's conntrack entry: later packets with the same addresses and
 * ports are not new and never reach vigild. For UDP that entry outlives the socket (30 s, or
 * minutes once answered), and any program can bind the port the allowed one closed and send
 * to the same destination on its verdict, unseen. So vigild remembers the UDP flows it
 * allowed, per local port, and when the kernel reports a UDP socket on that port destroyed
 * (sock_diag's destroy notifications), deletes their conntrack entries: the next packet of
 * that tuple, from whichever socket, is new again and decided for its own program. A flow it
 * can no longer watch loses its entry instead: the oldest at the bound (8192 flows), and every
 * remembered one when close notifications were lost (ENOBUFS); one tuple is one flow.
 *
 * Not covered (the kernel-side socket identity of the eBPF work makes both exact): a second
 * socket that shares the port while the first one lives (both with SO_REUSEADDR, or
 * SO_REUSEPORT), and the moment between the close and the deletion (the kernel reports it
 * from a work queue; vigild deletes as soon as it reads it, normally within a millisecond).
 */

typedef struct _VigilSocketWatch VigilSocketWatch;

/* subscribes to the destroy notifications of UDP sockets; NULL with @error when it cannot
 * (no CAP_NET_ADMIN, no sock_diag): flows then keep their verdict for the conntrack timeout */
VigilSocketWatch *vigil_socket_watch_new(GError **error);
void vigil_socket_watch_free(VigilSocketWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSocketWatch, vigil_socket_watch_free)

/* @flow (UDP or UDPLite) was allowed: its conntrack entry ends with its socket */
void vigil_socket_watch_allowed(VigilSocketWatch *watch, const VigilFlow *flow);

/* tests: a receive buffer of @bytes for the close notifications, so a few overrun it */
void vigil_socket_watch_set_receive_buffer(VigilSocketWatch *watch, int bytes);

typedef struct {
	guint64 remembered; /* flows remembered now */
	guint64 closed;     /* sockets reported closed that had flows */
	guint64 deleted;    /* conntrack entries deleted (or found gone) */
	guint64 forgotten;  /* flows forgotten unclosed at the bound (their entries deleted) */
	guint64 overruns;   /* close notifications lost (every remembered flow's entry deleted) */
} VigilSocketWatchStats;
void vigil_socket_watch_get_stats(VigilSocketWatch *watch, VigilSocketWatchStats *stats);

G_END_DECLS
