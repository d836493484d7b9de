/* vigil-sock-diag.h: the socket behind a flow: sock_diag (NETLINK_SOCK_DIAG), then /proc/net */
#pragma once

#include <glib.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>

#include "vigil-flow.h"

G_BEGIN_DECLS

/*
 * sock_diag: the inode and uid of the socket with @flow's tuple (*inode = 0: not found). When
 * @flow has a uid (the packet's socket owner), only a socket of that uid.
 * TCP, UDP and UDPLite by exact tuple, then (UDP) unconnected sockets, then a dump filtered by
 * the local port; ICMP (ping and raw sockets), SCTP and raw sockets of any protocol from the
 * /proc/net tables of the caller's network namespace. FALSE only on a failure.
 */
gboolean vigil_sock_diag_find(const VigilFlow *flow, guint64 *inode, guint32 *uid, GError **error);

/* the same with a reusable NETLINK_SOCK_DIAG socket; one VigilSockDiag per thread at a time */
typedef struct _VigilSockDiag VigilSockDiag;
VigilSockDiag *vigil_sock_diag_new(const char *proc_root, GError **error);
void vigil_sock_diag_free(VigilSockDiag *diag);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSockDiag, vigil_sock_diag_free)
typedef enum {
	VIGIL_SOCK_DIAG_ALL = 0,
	/* only the first, cheap method of each protocol (microseconds): no dumps, no raw sockets;
	 * a TCP dump walks the kernel's whole established hash, milliseconds */
	VIGIL_SOCK_DIAG_PRIMARY_ONLY = 1 << 0,
} VigilSockDiagFlags;
gboolean vigil_sock_diag_lookup(VigilSockDiag *diag, const VigilFlow *flow,
                                VigilSockDiagFlags flags, guint64 *inode, guint32 *uid,
                                GError **error);

/* the same, with the socket's cookie (0 when sock_diag did not find it: /proc/net tables) */
gboolean vigil_sock_diag_lookup_cookie(VigilSockDiag *diag, const VigilFlow *flow,
                                       VigilSockDiagFlags flags, guint64 *inode, guint32 *uid,
                                       guint64 *cookie, GError **error);

/* a SOCK_DESTROY request, as `ss -K` sends it */
typedef struct {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
} VigilSockDestroyRequest;

/*
 * pure: the request that ends @flow's socket @cookie (as sock_diag names it, SO_COOKIE). The
 * kernel looks the socket up by @flow's tuple and then refuses with ESTALE when the socket it
 * found has another cookie (sock_diag_check_cookie): a newer socket on the same tuple, maybe
 * another user's, or a listener the lookup fell through to. FALSE for cookie 0: a socket is
 * never ended by its bare tuple.
 */
gboolean vigil_sock_diag_destroy_request(const VigilFlow *flow, guint64 cookie, guint32 seq,
                                         VigilSockDestroyRequest *msg);

/* pure: one line of /proc/net/{tcp,udp,raw,icmp}[6] (st is the socket state); FALSE for the
 * header line and malformed lines */
typedef struct {
	VigilAddress local;
	guint16 local_port; /* for raw sockets the protocol, for ping sockets the echo id */
	VigilAddress remote;
	guint16 remote_port;
	guint32 uid;
	guint64 inode;
} VigilProcNetEntry;
gboolean vigil_proc_net_parse_line(const char *line, int family, VigilProcNetEntry *entry);
/* pure: one line of /proc/net/sctp/assocs (addresses are not kept) */
gboolean vigil_proc_net_parse_sctp_assoc(const char *line, VigilProcNetEntry *entry);

G_END_DECLS
