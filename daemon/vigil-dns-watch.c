/* vigil-dns-watch.c: names from the DNS answers to this host's own queries, via NFLOG copies */
#define G_LOG_DOMAIN "vigil-dns-watch"
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <linux/netfilter.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-dns-watch.h"
#include "vigil-nflog.h"
#include "vigil-fair.h"
#include "vigil-uid-queues.h"
#include "vigil-dns.h"

#define DNS_PORT 53
/* a query unanswered this long is forgotten (resolvers give up after a few seconds) */
#define QUERY_TIMEOUT_US (30 * G_USEC_PER_SEC)
/* queries in flight over all users; when they are all taken, the user with the most in flight
 * loses their oldest, so one user's flood of queries never costs another user their answers */
#define MAX_QUERIES 4096
/* DNS over TCP: a few connections at a time, each holding at most one message */
#define STREAM_TIMEOUT_US  (60 * G_USEC_PER_SEC)
#define MAX_STREAMS        256
#define MAX_STREAM_BYTES   (2 + 65535)
#define MAX_BUFFERED_BYTES (1024 * 1024)
/* segments held per stream while an earlier one is missing */
#define MAX_EARLY_SEGMENTS 8

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

/* the headers of one copied packet, and where its DNS bytes are */
typedef struct {
	int family;
	guint8 protocol;
	VigilAddress src, dst;
	guint16 sport, dport;
	guint32 seq;  /* TCP */
	guint8 flags; /* TCP */
	const guint8 *payload;
	gsize payload_len;
} Segment;

/* a query in flight: who asked whom what, hashed and compared as bytes */
typedef struct {
	gint32 family;
	guint8 protocol;
	guint8 pad;
	guint16 id;
	VigilAddress client, server;
	guint16 client_port, server_port;
	guint16 qtype;
	guint16 pad2;
} QueryKey;

G_STATIC_ASSERT(sizeof(QueryKey) == 48);

typedef struct {
	QueryKey key;
	char qname[VIGIL_DNS_NAME_SIZE];
	guint16 qclass;
	guint32 uid;         /* the socket owner who asked: whose names the answer gives */
	VigilUidQueue *user; /* its fairness bucket's queries, oldest first (vigil-fair.h) */
	gint64 sent_us;
	GList link; /* in user->items */
} Query;

/* one direction of a TCP connection to or from port 53 */
typedef struct {
	gint32 family;
	guint16 sport, dport;
	VigilAddress src, dst;
} StreamKey;

G_STATIC_ASSERT(sizeof(StreamKey) == 40);

typedef struct {
	StreamKey key;
	guint32 next_seq;
	gboolean broken; /* a segment went missing: message boundaries are lost */
	GList *early;    /* of EarlySegment: arrived ahead of a gap, wait for it to fill */
	GByteArray *buf; /* bytes not yet consumed, starting at a length prefix */
	gint64 last_us;
	GList link; /* in watch->stream_order, least recently active first */
} Stream;

struct _VigilDnsWatch {
	VigilDnsCache *cache;
	GHashTable *queries;         /* QueryKey -> Query */
	VigilUidQueues *query_users; /* while the user has queries in flight */
	guint n_queries;
	GHashTable *streams; /* StreamKey -> Stream */
	GQueue stream_order;
	gsize buffered; /* bytes held in all streams */
	VigilDnsWatchStats stats;
};

VIGIL_DEFINE_BYTES_KEY(query_key, QueryKey)
VIGIL_DEFINE_BYTES_KEY(stream_key, StreamKey)

/* --- headers --------------------------------------------------------------------------- */

static gboolean
parse_transport(const guint8 *data, gsize len, Segment *seg)
{
	if (seg->protocol == IPPROTO_UDP) {
		gsize udp_len;

		if (len < 8)
			return FALSE;
		seg->sport = (guint16)(data[0] << 8 | data[1]);
		seg->dport = (guint16)(data[2] << 8 | data[3]);
		udp_len = (gsize)(data[4] << 8 | data[5]);
		if (udp_len < 8 || udp_len > len)
			return FALSE;
		seg->payload = data + 8;
		seg->payload_len = udp_len - 8;
		return TRUE;
	}
	if (seg->protocol == IPPROTO_TCP) {
		gsize header_len;

		if (len < 20)
			return FALSE;
		seg->sport = (guint16)(data[0] << 8 | data[1]);
		seg->dport = (guint16)(data[2] << 8 | data[3]);
		seg->seq = (guint32)data[4] << 24 | (guint32)data[5] << 16 | (guint32)data[6] << 8 |
		           data[7];
		header_len = (gsize)(data[12] >> 4) * 4;
		seg->flags = data[13];
		if (header_len < 20 || header_len > len)
			return FALSE;
		seg->payload = data + header_len;
		seg->payload_len = len - header_len;
		return TRUE;
	}
	return FALSE;
}

static gboolean
parse_ipv4(const guint8 *data, gsize len, Segment *seg)
{
	gsize header_len, total_len;

	if (len < 20)
		return FALSE;
	header_len = (gsize)(data[0] & 0xf) * 4;
	total_len = (gsize)(data[2] << 8 | data[3]);
	/* fragments were put together by conntrack before the hook; a piece is of no use */
	if (header_len < 20 || total_len < header_len || total_len > len || (data[6] & 0x3f) != 0 ||
	    data[7] != 0)
		return FALSE;
	seg->family = AF_INET;
	seg->protocol = data[9];
	memcpy(seg->src.bytes, data + 12, 4);
	memcpy(seg->dst.bytes, data + 16, 4);
	return parse_transport(data + header_len, total_len - header_len, seg);
}

static gboolean
parse_ipv6(const guint8 *data, gsize len, Segment *seg)
{
	gsize payload_len, pos = 40;
	guint8 next;

	if (len < 40)
		return FALSE;
	payload_len = (gsize)(data[4] << 8 | data[5]);
	if (payload_len > len - 40)
		return FALSE;
	len = 40 + payload_len;
	next = data[6];
	/* hop-by-hop, routing and destination options may come first; fragments are of no use */
	while (next == 0 || next == 43 || next == 60) {
		if (len - pos < 8)
			return FALSE;
		next = data[pos];
		pos += ((gsize)data[pos + 1] + 1) * 8;
		if (pos > len)
			return FALSE;
	}
	seg->family = AF_INET6;
	seg->protocol = next;
	memcpy(seg->src.bytes, data + 8, 16);
	memcpy(seg->dst.bytes, data + 24, 16);
	return parse_transport(data + pos, len - pos, seg);
}

static gboolean
parse_segment(const guint8 *data, gsize len, Segment *seg)
{
	memset(seg, 0, sizeof(*seg));
	if (len < 1)
		return FALSE;
	switch (data[0] >> 4) {
	case 4:
		return parse_ipv4(data, len, seg);
	case 6:
		return parse_ipv6(data, len, seg);
	default:
		return FALSE;
	}
}

/* --- queries and answers ----------------------------------------------------------------- */

static void
query_key_init(QueryKey *key, const Segment *seg, gboolean sent, guint16 id, guint16 qtype)
{
	memset(key, 0, sizeof(*key));
	key->family = seg->family;
	key->protocol = seg->protocol;
	key->id = id;
	key->qtype = qtype;
	key->client = sent ? seg->src : seg->dst;
	key->server = sent ? seg->dst : seg->src;
	key->client_port = sent ? seg->sport : seg->dport;
	key->server_port = sent ? seg->dport : seg->sport;
}

static void
remove_query(VigilDnsWatch *watch, Query *query)
{
	vigil_uid_queues_unlink(watch->query_users, query->user, &query->link);
	watch->n_queries--;
	g_hash_table_remove(watch->queries, &query->key);
}

static void
remember_query(VigilDnsWatch *watch, const Segment *seg, const VigilDnsMessage *msg,
               gboolean has_uid, guint32 uid, gint64 now_us)
{
	Query *query;
	Query *old;
	QueryKey key;
	guint32 bucket;

	/* no socket owner (e.g. TCP data the kernel sends after the socket was closed): nobody's
	 * lookup, so its answer names nothing for anybody */
	if (!has_uid) {
		g_debug("DNS query for %s without a socket owner: its answer will name nothing",
		        msg->qname);
		return;
	}
	/* a user's subordinate uids share the user's share of the queries in flight */
	bucket = vigil_fair_bucket(uid);
	query_key_init(&key, seg, TRUE, msg->id, msg->qtype);
	/* a retransmission replaces the query it repeats */
	old = g_hash_table_lookup(watch->queries, &key);
	if (old != NULL)
		remove_query(watch, old);
	while (watch->n_queries >= MAX_QUERIES) {
		/* from the user with the most queries in flight, this one among them if it is */
		VigilUidQueue *busiest = vigil_uid_queues_longest(
		    watch->query_users, vigil_uid_queues_get(watch->query_users, bucket));

		remove_query(watch, busiest->items.head->data);
	}
	query = g_new0(Query, 1);
	query->key = key;
	g_strlcpy(query->qname, msg->qname, sizeof(query->qname));
	query->qclass = msg->qclass;
	query->uid = uid;
	query->user = vigil_uid_queues_get(watch->query_users, bucket);
	query->sent_us = now_us;
	query->link.data = query;
	g_hash_table_insert(watch->queries, &query->key, query);
	g_queue_push_tail_link(&query->user->items, &query->link);
	watch->n_queries++;
	watch->stats.queries++;
}

static void
learn_names(VigilDnsWatch *watch, const Query *query, const VigilDnsMessage *msg, gint64 now_us)
{
	guint32 uid = query->uid;

	for (guint i = 0; i < msg->answers->len; i++) {
		const VigilDnsAnswer *answer = &g_array_index(msg->answers, VigilDnsAnswer, i);
		char addr[INET6_ADDRSTRLEN];

		vigil_dns_cache_add(watch->cache, uid, msg->qname, answer->family, &answer->address,
		                    answer->ttl, now_us);
		watch->stats.names++;
		g_debug(
		    "learned %s = %s for uid %d (ttl %u s)", msg->qname,
		    vigil_address_to_string(answer->family, &answer->address, addr, sizeof addr),
		    (int)uid, answer->ttl);
	}
}

static void
log_unsolicited(const Segment *seg, const VigilDnsMessage *msg, const char *why)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	g_debug("ignored DNS answer from %s#%u to %s#%u (id %u, %s): %s",
	        vigil_address_to_string(seg->family, &seg->src, src, sizeof src), seg->sport,
	        vigil_address_to_string(seg->family, &seg->dst, dst, sizeof dst), seg->dport,
	        msg->id, msg->qname, why);
}

static void
handle_answer(VigilDnsWatch *watch, const Segment *seg, const VigilDnsMessage *msg, gint64 now_us)
{
	QueryKey key;
	Query *query;

	query_key_init(&key, seg, FALSE, msg->id, msg->qtype);
	query = g_hash_table_lookup(watch->queries, &key);
	/* the name is compared too: the answer must be to the question that was asked */
	if (query == NULL || strcmp(query->qname, msg->qname) != 0 ||
	    query->qclass != msg->qclass) {
		watch->stats.unsolicited++;
		log_unsolicited(seg, msg, "no query from this host matches it");
		return;
	}
	watch->stats.answers++;
	if (msg->rcode == VIGIL_DNS_RCODE_OK && msg->qclass == VIGIL_DNS_CLASS_IN)
		learn_names(watch, query, msg, now_us);
	remove_query(watch, query);
}

static void
handle_message(VigilDnsWatch *watch, VigilDnsDirection direction, const Segment *seg,
               const guint8 *data, gsize len, gboolean has_uid, guint32 uid, gint64 now_us)
{
	g_auto(VigilDnsMessage) msg = {0};
	g_autoptr(GError) error = NULL;

	if (!vigil_dns_parse(data, len, &msg, &error)) {
		watch->stats.malformed++;
		g_debug("ignored DNS message: %s", error->message);
		return;
	}
	if (direction == VIGIL_DNS_PACKET_SENT && seg->dport == DNS_PORT && !msg.response)
		remember_query(watch, seg, &msg, has_uid, uid, now_us);
	else if (direction == VIGIL_DNS_PACKET_RECEIVED && seg->sport == DNS_PORT && msg.response)
		handle_answer(watch, seg, &msg, now_us);
}

/* --- DNS over TCP ------------------------------------------------------------------------ */

/* a segment that came before one it follows (reordered on the way): held until the gap fills */
typedef struct {
	guint32 seq;
	GByteArray *data;
} EarlySegment;

static void
drop_early(VigilDnsWatch *watch, Stream *stream)
{
	for (GList *l = stream->early; l != NULL; l = l->next) {
		EarlySegment *early = l->data;
		watch->buffered -= early->data->len;
		g_byte_array_unref(early->data);
		g_free(early);
	}
	g_clear_pointer(&stream->early, g_list_free);
}

static void
stream_free(VigilDnsWatch *watch, Stream *stream)
{
	g_queue_unlink(&watch->stream_order, &stream->link);
	drop_early(watch, stream);
	watch->buffered -= stream->buf->len;
	g_byte_array_unref(stream->buf);
	g_free(stream);
}

static void
remove_stream(VigilDnsWatch *watch, Stream *stream)
{
	g_hash_table_remove(watch->streams, &stream->key);
	stream_free(watch, stream);
}

static Stream *
get_stream(VigilDnsWatch *watch, const Segment *seg, gint64 now_us)
{
	StreamKey key = {0};
	Stream *stream;

	key.family = seg->family;
	key.sport = seg->sport;
	key.dport = seg->dport;
	key.src = seg->src;
	key.dst = seg->dst;
	stream = g_hash_table_lookup(watch->streams, &key);
	if (stream == NULL) {
		while (watch->stream_order.length >= MAX_STREAMS)
			remove_stream(watch, watch->stream_order.head->data);
		stream = g_new0(Stream, 1);
		stream->key = key;
		stream->buf = g_byte_array_new();
		stream->link.data = stream;
		/* joined mid-way: hope this segment starts a message; a parse tells */
		stream->next_seq = seg->seq;
		g_hash_table_insert(watch->streams, &stream->key, stream);
	} else {
		g_queue_unlink(&watch->stream_order, &stream->link);
	}
	g_queue_push_tail_link(&watch->stream_order, &stream->link);
	stream->last_us = now_us;
	return stream;
}

static void
stream_break(VigilDnsWatch *watch, Stream *stream)
{
	stream->broken = TRUE;
	drop_early(watch, stream);
	watch->buffered -= stream->buf->len;
	g_byte_array_set_size(stream->buf, 0);
}

static gboolean
fits(VigilDnsWatch *watch, Stream *stream, gsize len)
{
	return stream->buf->len + len <= MAX_STREAM_BYTES &&
	       watch->buffered + len <= MAX_BUFFERED_BYTES;
}

/* appends what of @data (at @seq) lies past next_seq; FALSE when it lies ahead of a gap */
static gboolean
append_in_order(VigilDnsWatch *watch, Stream *stream, guint32 seq, const guint8 *data, gsize len)
{
	gint32 ahead = (gint32)(seq - stream->next_seq);
	gsize skip;

	if (ahead > 0)
		return FALSE;
	/* a retransmission: only what lies past next_seq is new */
	skip = (gsize)(-(gint64)ahead);
	if (skip >= len)
		return TRUE;
	g_byte_array_append(stream->buf, data + skip, (guint)(len - skip));
	watch->buffered += len - skip;
	stream->next_seq += (guint32)(len - skip);
	return TRUE;
}

/* held segments the stream has now reached, in any order they came */
static void
append_early(VigilDnsWatch *watch, Stream *stream)
{
	gboolean progress = TRUE;

	while (progress) {
		progress = FALSE;
		for (GList *l = stream->early; l != NULL; l = l->next) {
			EarlySegment *early = l->data;
			if ((gint32)(early->seq - stream->next_seq) > 0)
				continue;
			watch->buffered -= early->data->len;
			append_in_order(watch, stream, early->seq, early->data->data,
			                early->data->len);
			g_byte_array_unref(early->data);
			g_free(early);
			stream->early = g_list_delete_link(stream->early, l);
			progress = TRUE;
			break;
		}
	}
}

/*
 * Takes the bytes of @seg not seen before. A segment ahead of a gap is held (a few, within
 * the byte bounds) until the gap fills; FALSE when bytes are lost for good.
 */
static gboolean
stream_append(VigilDnsWatch *watch, Stream *stream, const Segment *seg)
{
	if (!fits(watch, stream, seg->payload_len))
		return FALSE;
	if (!append_in_order(watch, stream, seg->seq, seg->payload, seg->payload_len)) {
		EarlySegment *early;

		if (g_list_length(stream->early) >= MAX_EARLY_SEGMENTS ||
		    (gint32)(seg->seq - stream->next_seq) > MAX_STREAM_BYTES)
			return FALSE;
		early = g_new0(EarlySegment, 1);
		early->seq = seg->seq;
		early->data = g_byte_array_sized_new((guint)seg->payload_len);
		g_byte_array_append(early->data, seg->payload, (guint)seg->payload_len);
		watch->buffered += seg->payload_len;
		stream->early = g_list_prepend(stream->early, early);
		return TRUE;
	}
	append_early(watch, stream);
	return TRUE;
}

static void
stream_consume(VigilDnsWatch *watch, Stream *stream, VigilDnsDirection direction,
               const Segment *seg, gboolean has_uid, guint32 uid, gint64 now_us)
{
	gsize used = 0;

	for (;;) {
		gsize avail = stream->buf->len - used;
		const guint8 *p;
		gsize msg_len;

		/* an empty array has no data pointer at all */
		if (avail < 2)
			break;
		p = stream->buf->data + used;
		msg_len = (gsize)(p[0] << 8 | p[1]);
		if (avail - 2 < msg_len)
			break;
		handle_message(watch, direction, seg, p + 2, msg_len, has_uid, uid, now_us);
		used += 2 + msg_len;
	}
	g_byte_array_remove_range(stream->buf, 0, (guint)used);
	watch->buffered -= used;
}

static void
handle_tcp(VigilDnsWatch *watch, VigilDnsDirection direction, const Segment *seg, gboolean has_uid,
           guint32 uid, gint64 now_us)
{
	Stream *stream;

	if (seg->payload_len == 0 && (seg->flags & (TCP_SYN | TCP_FIN | TCP_RST)) == 0)
		return; /* a bare ACK */
	stream = get_stream(watch, seg, now_us);
	if (seg->flags & TCP_SYN) {
		/* a new connection on the same ports: start afresh */
		stream_break(watch, stream);
		stream->broken = FALSE;
		stream->next_seq = seg->seq + 1;
	} else if (!stream->broken && seg->payload_len > 0) {
		if (stream_append(watch, stream, seg))
			stream_consume(watch, stream, direction, seg, has_uid, uid, now_us);
		else
			stream_break(watch, stream);
	}
	if (seg->flags & (TCP_FIN | TCP_RST))
		remove_stream(watch, stream);
}

void
vigil_dns_watch_handle_packet(VigilDnsWatch *watch, VigilDnsDirection direction,
                              const guint8 *packet, gsize len, gboolean has_uid, guint32 uid,
                              gint64 now_us)
{
	Segment seg;
	gboolean ours;

	g_return_if_fail(packet != NULL || len == 0);

	watch->stats.packets++;
	if (!parse_segment(packet, len, &seg)) {
		watch->stats.malformed++;
		return;
	}
	/* the netfilter rules copy only these; anything else is not for us */
	ours = direction == VIGIL_DNS_PACKET_SENT ? seg.dport == DNS_PORT : seg.sport == DNS_PORT;
	if (!ours)
		return;
	if (seg.protocol == IPPROTO_UDP)
		handle_message(watch, direction, &seg, seg.payload, seg.payload_len, has_uid, uid,
		               now_us);
	else
		handle_tcp(watch, direction, &seg, has_uid, uid, now_us);
}

static gboolean
query_timed_out(gpointer item, gpointer data)
{
	const Query *query = item;

	return *(const gint64 *)data - query->sent_us >= QUERY_TIMEOUT_US;
}

void
vigil_dns_watch_expire(VigilDnsWatch *watch, gint64 now_us)
{
	/* each user's queries are oldest first */
	g_autoptr(GPtrArray) expired =
	    vigil_uid_queues_gather(watch->query_users, TRUE, query_timed_out, &now_us);

	for (guint i = 0; i < expired->len; i++)
		remove_query(watch, g_ptr_array_index(expired, i));
	while (watch->stream_order.head != NULL) {
		Stream *stream = watch->stream_order.head->data;

		if (now_us - stream->last_us < STREAM_TIMEOUT_US)
			break;
		remove_stream(watch, stream);
	}
	vigil_dns_cache_expire(watch->cache, now_us);
}

void
vigil_dns_watch_get_stats(VigilDnsWatch *watch, VigilDnsWatchStats *stats)
{
	*stats = watch->stats;
}

/* --- NFLOG ------------------------------------------------------------------------------ */

static void
on_copy(const VigilNflogPacket *packet, gpointer data)
{
	VigilDnsWatch *watch = data;
	VigilDnsDirection direction;

	if (packet->hook == NF_INET_LOCAL_OUT)
		direction = VIGIL_DNS_PACKET_SENT;
	else if (packet->hook == NF_INET_LOCAL_IN)
		direction = VIGIL_DNS_PACKET_RECEIVED;
	else
		return;
	vigil_dns_watch_handle_packet(watch, direction, packet->payload, packet->len,
	                              packet->has_uid, packet->uid, g_get_monotonic_time());
}

void
vigil_dns_watch_handle_copies(VigilDnsWatch *watch, const guint8 *datagram, gsize len)
{
	vigil_nflog_parse(datagram, len, on_copy, watch);
}

/* --- life ------------------------------------------------------------------------------- */

static void
query_free(gpointer data)
{
	g_free(data);
}

VigilDnsWatch *
vigil_dns_watch_new(VigilDnsCache *cache)
{
	VigilDnsWatch *watch = g_new0(VigilDnsWatch, 1);

	watch->cache = cache;
	watch->queries = g_hash_table_new_full(query_key_hash, query_key_equal, NULL, query_free);
	watch->query_users = vigil_uid_queues_new();
	watch->streams = g_hash_table_new(stream_key_hash, stream_key_equal);
	g_queue_init(&watch->stream_order);
	return watch;
}

void
vigil_dns_watch_free(VigilDnsWatch *watch)
{
	if (watch == NULL)
		return;
	while (watch->stream_order.head != NULL)
		remove_stream(watch, watch->stream_order.head->data);
	g_hash_table_unref(watch->streams);
	g_hash_table_unref(watch->queries);
	vigil_uid_queues_free(watch->query_users);
	g_free(watch);
}
