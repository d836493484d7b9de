/* vigil-dns-watch.h: names from the DNS answers to this host's own queries, via NFLOG copies */
#pragma once

#include "vigil-dns-cache.h"

G_BEGIN_DECLS

/*
 * The NFLOG group vigild's netfilter rules copy DNS packets to: queries leaving the host
 * (OUTPUT, to port 53, UDP and TCP, loopback included) and answers arriving (INPUT, from
 * port 53). NFLOG hands vigild a copy; the packet itself goes on at once.
 */
#define VIGIL_DNS_NFLOG_GROUP 53053

typedef enum {
	VIGIL_DNS_PACKET_SENT,     /* seen leaving (OUTPUT): a query when it goes to port 53 */
	VIGIL_DNS_PACKET_RECEIVED, /* seen arriving (INPUT): an answer when it comes from port 53 */
} VigilDnsDirection;

typedef struct {
	guint64 packets;     /* copies read */
	guint64 queries;     /* queries remembered */
	guint64 answers;     /* answers that matched a query this host sent */
	guint64 unsolicited; /* answers that matched none, or not in every detail: ignored */
	guint64 malformed;   /* packets or messages that did not parse: ignored */
	guint64 names;       /* (name, address) pairs learned */
} VigilDnsWatchStats;

typedef struct _VigilDnsWatch VigilDnsWatch;

/* a watcher that fills @cache (borrowed: it must outlive the watcher) */
VigilDnsWatch *vigil_dns_watch_new(VigilDnsCache *cache);
void vigil_dns_watch_free(VigilDnsWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDnsWatch, vigil_dns_watch_free)

/*
 * Handles one netlink datagram of NFLOG copies from group VIGIL_DNS_NFLOG_GROUP, as
 * vigil_queue_bind_log_group() hands them on: on the queue's own socket, an answer is
 * always read before a connection it names is queued. Anything else in it is ignored.
 */
void vigil_dns_watch_handle_copies(VigilDnsWatch *watch, const guint8 *datagram, gsize len);

/*
 * Handles one copied IP packet (network byte order, from the IP header). @has_uid/@uid:
 * the sending socket's owner as NFLOG reported it (queries). A query is remembered under
 * its addresses, ports, protocol, id and question; an answer counts only if it matches
 * one exactly, and its names go into the cache for the uid that sent the query.
 * @now_us is monotonic time. Pure apart from the cache: the reader and the tests call it.
 */
void vigil_dns_watch_handle_packet(VigilDnsWatch *watch, VigilDnsDirection direction,
                                   const guint8 *packet, gsize len, gboolean has_uid, guint32 uid,
                                   gint64 now_us);

/* forgets queries that were never answered and idle TCP streams; expires the cache */
void vigil_dns_watch_expire(VigilDnsWatch *watch, gint64 now_us);

void vigil_dns_watch_get_stats(VigilDnsWatch *watch, VigilDnsWatchStats *stats);

G_END_DECLS
