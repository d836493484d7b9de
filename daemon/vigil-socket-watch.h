/* vigil-socket-watch.h: allowed flows vigild watches: a UDP flow ends with its socket, so no
 * other socket rides it, and every live flow is decided again when the rules change */
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
 * can no longer watch loses its entry instead: the oldest of the user holding the most at the
 * bound (8192 flows, shared fairly: vigil-fair.h), and every
 * remembered one when close notifications were lost (ENOBUFS); one tuple is one flow. Age
 * alone never ends a verdict: a flow is forgotten when conntrack let its entry go.
 *
 * Allowed TCP connections are remembered too (forgotten when the kernel reports their socket
 * destroyed), so that when the rules change, every live allowed flow is judged again by the
 * daemon and ended, or decided again, when the rules in force no longer allow it. A TCP
 * connection is remembered with its socket's cookie, and only that socket is ever ended for it:
 * its tuple may be another socket's by then (the program closed it, and another, maybe another
 * user's, bound the same port), and a lookup by the bare tuple may even fall through to a
 * listener.
 *
 * Not covered (the kernel-side socket identity of the eBPF work makes both exact): a second
 * socket that shares the port while the first one lives (both with SO_REUSEADDR, or
 * SO_REUSEPORT), and the moment between the close and the deletion (the kernel reports it
 * from a work queue; vigild deletes as soon as it reads it, normally within a millisecond, but a
 * burst of thousands of closes trickles in at a few hundred a second on a loaded machine).
 */

typedef struct _VigilSocketWatch VigilSocketWatch;

/* subscribes to the destroy notifications of UDP and TCP sockets; NULL with @error when it cannot
 * (no CAP_NET_ADMIN, no sock_diag): flows then keep their verdict for the conntrack timeout */
VigilSocketWatch *vigil_socket_watch_new(GError **error);
void vigil_socket_watch_free(VigilSocketWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSocketWatch, vigil_socket_watch_free)

/*
 * @flow (TCP, UDP or UDPLite) was allowed: a UDP flow's conntrack entry ends with its socket; a
 * TCP flow is remembered until its socket is gone. @cookie is the cookie of the socket that sent
 * it (SO_COOKIE: what sock_diag or the kernel's record named when it was attributed); 0 when
 * not known: for TCP the watch then asks sock_diag for the socket the tuple names now, if it is
 * the packet's socket owner's (@flow's uid). @tag says what allowed it (the daemon's basis for
 * deciding it again); the watch owns it and frees it with @tag_free when it forgets the flow (at
 * once for other protocols).
 */
void vigil_socket_watch_allowed(VigilSocketWatch *watch, const VigilFlow *flow, guint64 cookie,
                                gpointer tag, GDestroyNotify tag_free);

/* what becomes of a live allowed flow when the rules changed (the daemon's judgement) */
typedef enum {
	VIGIL_FLOW_KEEP, /* it keeps its verdict */
	/* a rule now denies or drops it: a UDP flow loses its conntrack entry (its next datagram
	 * is new and decided, and logged, by the rules in force); a TCP connection is ended for
	 * real (its socket destroyed: the program gets ECONNABORTED, the peer a reset) */
	VIGIL_FLOW_END,
	/* it is to be decided again (the rule that allowed it is gone and none covers it now): a
	 * UDP flow loses its conntrack entry, so its next datagram is decided (asked about) like
	 * a new one; a TCP connection, which has no next first packet, is handed to @ask */
	VIGIL_FLOW_AGAIN,
} VigilFlowFate;

typedef struct {
	VigilFlowFate (*judge)(const VigilFlow *flow, gpointer tag, gpointer user_data);
	/* a TCP connection to decide again: the watch forgot it and hands over @tag, with its
	 * socket's @cookie (for vigil_socket_watch_end(), or to be allowed again) */
	void (*ask)(const VigilFlow *flow, guint64 cookie, gpointer tag, GDestroyNotify tag_free,
	            gpointer user_data);
	gpointer user_data;
} VigilSocketWatchJudge;

/*
 * The rules changed: every remembered flow is judged again, in slices (at most
 * VIGIL_SOCKET_WATCH_SLICE flows and 1 ms a main-loop iteration, so the queue never waits for
 * a long list; the first slice runs at once). A change during a pass lets it go on from where
 * it is with the new rules, and then once more from the oldest flow: a stream of changes never
 * keeps a pass from the flows at the tail. Flows allowed during the pass were decided by the
 * rules in force and are not judged again.
 */
#define VIGIL_SOCKET_WATCH_SLICE 256
void vigil_socket_watch_judge_all(VigilSocketWatch *watch, const VigilSocketWatchJudge *judge);
/* tests: one slice of the pass now; FALSE once no pass is under way */
gboolean vigil_socket_watch_judge_slice(VigilSocketWatch *watch);

/*
 * Ends @flow now, remembered or not: a TCP connection's socket @cookie is destroyed (sock_diag
 * SOCK_DESTROY by cookie: the kernel leaves another socket that has the tuple now alone), a UDP
 * flow's conntrack entry deleted. A TCP connection whose cookie is not known (0), or on a kernel
 * without CONFIG_INET_DIAG_DESTROY, loses its conntrack entry instead: its next outgoing segment
 * is decided again (docs/rules.md). A flow remembered for another socket on the tuple stays.
 */
void vigil_socket_watch_end(VigilSocketWatch *watch, const VigilFlow *flow, guint64 cookie);

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
	guint64 tcp_closed; /* TCP sockets reported closed, with flows or not */
	guint64 deleted;    /* conntrack entries deleted (or found gone) */
	guint64 forgotten;  /* flows forgotten unclosed at the bound (their entries deleted) */
	guint64 overruns;   /* close notifications lost (every remembered flow's entry deleted) */
	guint64 revoked;    /* flows decided again because what allowed them changed */
	guint64 ended;   /* flows ended because a rule now denies them (TCP: sockets destroyed) */
	guint64 expired; /* flows forgotten because conntrack let their entry go */
	guint64 unnamed; /* TCP connections ended with no cookie known: conntrack entry deleted */
} VigilSocketWatchStats;
void vigil_socket_watch_get_stats(VigilSocketWatch *watch, VigilSocketWatchStats *stats);

G_END_DECLS
