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
 * remembered one when close notifications were lost (ENOBUFS); one tuple is one flow. Age
 * alone never ends a verdict: a flow is forgotten when conntrack let its entry go. When what
 * allowed a flow changes (its rule removed, edited, turned to deny), the daemon revokes it.
 *
 * Not covered (the kernel-side socket identity of the eBPF work makes both exact): a second
 * socket that shares the port while the first one lives (both with SO_REUSEADDR, or
 * SO_REUSEPORT), and the moment between the close and the deletion (the kernel reports it
 * from a work queue; vigild deletes as soon as it reads it, normally within a millisecond, but a
 * burst of thousands of closes trickles in at a few hundred a second on a loaded machine).
 */

typedef struct _VigilSocketWatch VigilSocketWatch;

/* subscribes to the destroy notifications of UDP sockets; NULL with @error when it cannot
 * (no CAP_NET_ADMIN, no sock_diag): flows then keep their verdict for the conntrack timeout */
VigilSocketWatch *vigil_socket_watch_new(GError **error);
void vigil_socket_watch_free(VigilSocketWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSocketWatch, vigil_socket_watch_free)

/*
 * @flow (UDP or UDPLite) was allowed: its conntrack entry ends with its socket. @tag says what
 * allowed it (the daemon passes the rule, or NULL); the watch owns it and frees it with
 * @tag_free when it forgets the flow (at once for other protocols).
 */
void vigil_socket_watch_allowed(VigilSocketWatch *watch, const VigilFlow *flow, gpointer tag,
                                GDestroyNotify tag_free);

/*
 * The rules changed: each remembered flow whose @keep (called with its tag) says FALSE loses
 * its conntrack entry and is forgotten, so its next packet is new and decided by the rules now
 * in force. Returns how many.
 */
typedef gboolean (*VigilSocketWatchKeep)(gpointer tag, gpointer user_data);
guint vigil_socket_watch_revoke(VigilSocketWatch *watch, VigilSocketWatchKeep keep,
                                gpointer user_data);

/*
 * Flows are never forgotten by age: a long-lived flow keeps its verdict and stays watched. The
 * flows not confirmed for @min_age_us are looked up in conntrack (at most 1024 and 20 ms a call);
 * those whose entry conntrack let go (an idle flow's timeout) are forgotten. The watch does this
 * every minute for flows unconfirmed for 2 minutes. Returns how many were forgotten.
 */
guint vigil_socket_watch_recheck(VigilSocketWatch *watch, gint64 min_age_us);

/* tests: a receive buffer of @bytes for the close notifications, so a few overrun it */
void vigil_socket_watch_set_receive_buffer(VigilSocketWatch *watch, int bytes);

typedef struct {
	guint64 remembered; /* flows remembered now */
	guint64 closed;     /* sockets reported closed that had flows */
	guint64 deleted;    /* conntrack entries deleted (or found gone) */
	guint64 forgotten;  /* flows forgotten unclosed at the bound (their entries deleted) */
	guint64 overruns;   /* close notifications lost (every remembered flow's entry deleted) */
	guint64 revoked;    /* entries deleted because what allowed them changed */
	guint64 expired;    /* flows forgotten because conntrack let their entry go */
} VigilSocketWatchStats;
void vigil_socket_watch_get_stats(VigilSocketWatch *watch, VigilSocketWatchStats *stats);

G_END_DECLS
