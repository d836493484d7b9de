/* vigil-packet.c: bounds-checked parser from IP packet bytes to a VigilFlow */
#define G_LOG_DOMAIN "vigil-packet"
#include "config.h"

#include "vigil-packet.h"

#include <string.h>
#include <sys/socket.h>

#define IPV4_MIN_HEADER 20
#define IPV6_HEADER     40
#define PORTS_LEN       4 /* source and destination port open TCP, UDP, UDPLite and SCTP */
#define ICMP_MIN_LEN    2 /* type and code */
#define ICMP_ECHO_LEN   6 /* type, code, checksum, identifier */

/* real packets carry two or three; more is a parser-exhaustion attempt, not traffic */
#define IPV6_MAX_EXTENSIONS 8

#define ICMP_ECHO_REPLY     0
#define ICMP_ECHO_REQUEST   8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY   129

/* written out: clang-format would put spaces into a G_DEFINE_QUARK name, and into the string */
GQuark
vigil_packet_error_quark(void)
{
	return g_quark_from_static_string("vigil-packet-error-quark");
}

/* the transport part of a packet: where it starts and how many of its bytes we hold */
typedef struct {
	const guint8 *data;
	gsize len;
} Payload;

static guint16
read_be16(const guint8 *p)
{
	return (guint16)((p[0] << 8) | p[1]);
}

static const char *
transport_name(guint8 protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_UDPLITE:
		return "UDPLite";
	case IPPROTO_SCTP:
		return "SCTP";
	case IPPROTO_ICMP:
		return "ICMP";
	case IPPROTO_ICMPV6:
		return "ICMPv6";
	default:
		return "transport";
	}
}

static gboolean
check_transport_len(guint8 protocol, gsize have, gsize need, GError **error)
{
	if (have >= need)
		return TRUE;
	g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
	            "truncated %s header: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes",
	            transport_name(protocol), have, need);
	return FALSE;
}

static gboolean
is_echo(guint8 protocol, guint8 type)
{
	if (protocol == IPPROTO_ICMP)
		return type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY;
	return type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY;
}

static gboolean
parse_transport(guint8 protocol, const Payload *l4, VigilFlow *flow, GError **error)
{
	flow->protocol = protocol;
	switch (protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		/* only the ports are read: NFQUEUE may hand us a short copy of the packet */
		if (!check_transport_len(protocol, l4->len, PORTS_LEN, error))
			return FALSE;
		flow->sport = read_be16(l4->data);
		flow->dport = read_be16(l4->data + 2);
		return TRUE;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (!check_transport_len(protocol, l4->len, ICMP_MIN_LEN, error))
			return FALSE;
		flow->icmp_type = l4->data[0];
		flow->icmp_code = l4->data[1];
		if (is_echo(protocol, flow->icmp_type)) {
			if (!check_transport_len(protocol, l4->len, ICMP_ECHO_LEN, error))
				return FALSE;
			flow->icmp_id = read_be16(l4->data + 4);
		}
		return TRUE;
	default:
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_UNSUPPORTED,
		            "unsupported transport protocol %u", protocol);
		return FALSE;
	}
}

static gboolean
parse_ipv4(const guint8 *data, gsize len, gsize packet_len, VigilFlow *flow, Payload *l4,
           guint8 *protocol, GError **error)
{
	gsize header_len;
	gsize total_len;
	guint16 frag_offset;

	if (len < IPV4_MIN_HEADER) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
		            "truncated IPv4 header: %" G_GSIZE_FORMAT " of %d bytes", len,
		            IPV4_MIN_HEADER);
		return FALSE;
	}
	header_len = (gsize)(data[0] & 0x0f) * 4;
	if (header_len < IPV4_MIN_HEADER) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_MALFORMED,
		            "IPv4 header length %" G_GSIZE_FORMAT
		            " is below the minimum of %d bytes",
		            header_len, IPV4_MIN_HEADER);
		return FALSE;
	}
	if (len < header_len) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
		            "truncated IPv4 header with options: %" G_GSIZE_FORMAT
		            " of %" G_GSIZE_FORMAT " bytes",
		            len, header_len);
		return FALSE;
	}
	total_len = read_be16(data + 2);
	if (total_len < header_len) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_MALFORMED,
		            "IPv4 total length %" G_GSIZE_FORMAT
		            " is shorter than its %" G_GSIZE_FORMAT "-byte header",
		            total_len, header_len);
		return FALSE;
	}
	if (total_len > packet_len) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
		            "truncated IPv4 packet: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
		            " bytes",
		            packet_len, total_len);
		return FALSE;
	}
	/* a non-first fragment has no transport header; the first one (offset 0, MF set) does */
	frag_offset = read_be16(data + 6) & 0x1fff;
	if (frag_offset != 0) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_FRAGMENT,
		            "non-first IPv4 fragment at offset %u bytes", frag_offset * 8u);
		return FALSE;
	}

	flow->family = AF_INET;
	memcpy(flow->src.bytes, data + 12, 4);
	memcpy(flow->dst.bytes, data + 16, 4);
	*protocol = data[9];
	/* options are skipped, not interpreted: nothing in them changes the flow */
	l4->data = data + header_len;
	l4->len = MIN(len, total_len) - header_len;
	return TRUE;
}

static const char *
ipv6_extension_name(guint8 next)
{
	switch (next) {
	case IPPROTO_HOPOPTS:
		return "hop-by-hop options";
	case IPPROTO_ROUTING:
		return "routing";
	case IPPROTO_DSTOPTS:
		return "destination options";
	case IPPROTO_FRAGMENT:
		return "fragment";
	case IPPROTO_AH:
		return "authentication";
	default:
		return NULL;
	}
}

/* the length of the extension header at @h, of which @have bytes are readable, or 0 */
static gsize
ipv6_extension_len(guint8 type, const guint8 *h, gsize have, GError **error)
{
	const char *name = ipv6_extension_name(type);
	gsize need = 2; /* next header and length */
	gsize ext_len;

	if (have >= need) {
		if (type == IPPROTO_FRAGMENT)
			ext_len = 8;
		else if (type == IPPROTO_AH)
			ext_len = ((gsize)h[1] + 2) * 4; /* RFC 4302: in 4-byte units, minus 2 */
		else
			ext_len = ((gsize)h[1] + 1) * 8; /* RFC 8200: in 8-byte units, minus 1 */
		if (have >= ext_len)
			return ext_len;
		need = ext_len;
	}
	g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
	            "truncated IPv6 %s header: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes",
	            name, have, need);
	return 0;
}

/* walks the extension header chain; on return @l4 and @protocol are the upper layer's */
static gboolean
walk_ipv6_extensions(Payload *l4, guint8 *protocol, GError **error)
{
	guint8 next = *protocol;

	for (guint count = 0; ipv6_extension_name(next) != NULL; count++) {
		gsize ext_len;

		if (count == IPV6_MAX_EXTENSIONS) {
			g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_MALFORMED,
			            "more than %d IPv6 extension headers", IPV6_MAX_EXTENSIONS);
			return FALSE;
		}
		/* RFC 8200 4.3: hop-by-hop options may only follow the IPv6 header */
		if (next == IPPROTO_HOPOPTS && count > 0) {
			g_set_error_literal(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_MALFORMED,
			                    "IPv6 hop-by-hop options header after another header");
			return FALSE;
		}
		ext_len = ipv6_extension_len(next, l4->data, l4->len, error);
		if (ext_len == 0)
			return FALSE;
		if (next == IPPROTO_FRAGMENT) {
			guint16 frag_offset = read_be16(l4->data + 2) >> 3;

			if (frag_offset != 0) {
				g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_FRAGMENT,
				            "non-first IPv6 fragment at offset %u bytes",
				            frag_offset * 8u);
				return FALSE;
			}
		}
		next = l4->data[0];
		l4->data += ext_len;
		l4->len -= ext_len;
	}

	if (next == IPPROTO_ESP) {
		g_set_error_literal(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_UNSUPPORTED,
		                    "IPv6 payload is encrypted (ESP): no transport header to read");
		return FALSE;
	}
	if (next == IPPROTO_NONE) {
		g_set_error_literal(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_UNSUPPORTED,
		                    "IPv6 packet has no next header");
		return FALSE;
	}
	*protocol = next;
	return TRUE;
}

static gboolean
parse_ipv6(const guint8 *data, gsize len, gsize packet_len, VigilFlow *flow, Payload *l4,
           guint8 *protocol, GError **error)
{
	gsize payload_len;
	gsize end;

	if (len < IPV6_HEADER) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
		            "truncated IPv6 header: %" G_GSIZE_FORMAT " of %d bytes", len,
		            IPV6_HEADER);
		return FALSE;
	}
	payload_len = read_be16(data + 4);
	*protocol = data[6];
	if (payload_len == 0 && *protocol == IPPROTO_HOPOPTS) {
		/* a jumbogram (RFC 2675) states its length in a hop-by-hop option instead */
		end = packet_len;
	} else if (IPV6_HEADER + payload_len > packet_len) {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
		            "truncated IPv6 packet: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
		            " bytes",
		            packet_len, IPV6_HEADER + payload_len);
		return FALSE;
	} else {
		end = IPV6_HEADER + payload_len;
	}

	flow->family = AF_INET6;
	memcpy(flow->src.bytes, data + 8, 16);
	memcpy(flow->dst.bytes, data + 24, 16);
	l4->data = data + IPV6_HEADER;
	l4->len = MIN(len, end) - IPV6_HEADER;
	return walk_ipv6_extensions(l4, protocol, error);
}

gboolean
vigil_packet_parse_captured(const guint8 *data, gsize len, gsize packet_len, VigilFlow *flow,
                            GError **error)
{
	Payload l4 = {NULL, 0};
	guint8 protocol = 0;
	guint version;
	gboolean ok;

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(packet_len >= len, FALSE);
	g_return_val_if_fail(flow != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	flow->family = AF_UNSPEC;
	flow->protocol = 0;
	memset(&flow->src, 0, sizeof(flow->src));
	memset(&flow->dst, 0, sizeof(flow->dst));
	flow->sport = flow->dport = 0;
	flow->icmp_type = flow->icmp_code = 0;
	flow->icmp_id = 0;

	if (len == 0) {
		g_set_error_literal(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED,
		                    "empty packet");
		return FALSE;
	}
	version = data[0] >> 4;
	if (version == 4)
		ok = parse_ipv4(data, len, packet_len, flow, &l4, &protocol, error);
	else if (version == 6)
		ok = parse_ipv6(data, len, packet_len, flow, &l4, &protocol, error);
	else {
		g_set_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_BAD_VERSION,
		            "IP version %u is neither 4 nor 6", version);
		return FALSE;
	}
	if (!ok)
		return FALSE;
	return parse_transport(protocol, &l4, flow, error);
}

gboolean
vigil_packet_parse(const guint8 *data, gsize len, VigilFlow *flow, GError **error)
{
	return vigil_packet_parse_captured(data, len, len, flow, error);
}
