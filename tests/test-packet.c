/* test-packet.c: the packet parser and flow text helpers against crafted packets */
#define G_LOG_DOMAIN "test-packet"
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "test-util.h"
#include "vigil-packet.h"

/* protocols we build but Vigil does not decide */
#define PROTO_GRE 47

/* ---- packet builders: each returns a new GByteArray in network byte order ---- */

static void
put8(GByteArray *b, guint8 v)
{
	g_byte_array_append(b, &v, 1);
}

static void
put_fill(GByteArray *b, guint8 v, gsize n)
{
	for (gsize i = 0; i < n; i++)
		put8(b, v);
}

static void
put_array(GByteArray *b, const GByteArray *other)
{
	if (other != NULL)
		g_byte_array_append(b, other->data, other->len);
}

static void
put_address(GByteArray *b, int family, const char *text)
{
	guint8 addr[16];

	g_assert_cmpint(inet_pton(family, text, addr), ==, 1);
	g_byte_array_append(b, addr, family == AF_INET ? 4 : 16);
}

static GByteArray *
tcp_syn(guint16 sport, guint16 dport)
{
	GByteArray *b = g_byte_array_new();

	vigil_test_put16(b, sport);
	vigil_test_put16(b, dport);
	vigil_test_put32(b, 0x01020304); /* sequence */
	vigil_test_put32(b, 0);          /* ack */
	put8(b, 5 << 4);                 /* data offset: 5 words */
	put8(b, 0x02);                   /* SYN */
	vigil_test_put16(b, 64240);      /* window */
	vigil_test_put16(b, 0);          /* checksum */
	vigil_test_put16(b, 0);          /* urgent */
	return b;
}

/* UDP and UDPLite share the header layout: ports, length (coverage), checksum */
static GByteArray *
udp_datagram(guint16 sport, guint16 dport, const char *payload)
{
	GByteArray *b = g_byte_array_new();
	gsize n = strlen(payload);

	vigil_test_put16(b, sport);
	vigil_test_put16(b, dport);
	vigil_test_put16(b, (guint16)(8 + n));
	vigil_test_put16(b, 0);
	g_byte_array_append(b, (const guint8 *)payload, n);
	return b;
}

static GByteArray *
sctp_init(guint16 sport, guint16 dport)
{
	GByteArray *b = g_byte_array_new();

	vigil_test_put16(b, sport);
	vigil_test_put16(b, dport);
	vigil_test_put32(b, 0); /* verification tag */
	vigil_test_put32(b, 0); /* checksum */
	put8(b, 1);             /* chunk: INIT */
	put8(b, 0);
	vigil_test_put16(b, 20);
	put_fill(b, 0, 16);
	return b;
}

static GByteArray *
icmp_message(guint8 type, guint8 code, guint16 id)
{
	GByteArray *b = g_byte_array_new();

	put8(b, type);
	put8(b, code);
	vigil_test_put16(b, 0);  /* checksum */
	vigil_test_put16(b, id); /* echo identifier, or "unused" for the others */
	vigil_test_put16(b, 1);  /* sequence */
	put_fill(b, 0xab, 8);
	return b;
}

/* an IPv4 packet; @options (may be NULL) must be a multiple of 4 bytes */
static GByteArray *
ipv4_packet(guint8 proto, const char *src, const char *dst, const GByteArray *options,
            guint16 frag_field, const GByteArray *payload)
{
	GByteArray *b = g_byte_array_new();
	gsize options_len = options != NULL ? options->len : 0;
	gsize header_len = 20 + options_len;

	g_assert_cmpuint(options_len % 4, ==, 0);
	g_assert_cmpuint(header_len, <=, 60);
	put8(b, 0x40 | (guint8)(header_len / 4));
	put8(b, 0); /* dscp/ecn */
	vigil_test_put16(b, (guint16)(header_len + (payload != NULL ? payload->len : 0)));
	vigil_test_put16(b, 0x1234); /* identification */
	vigil_test_put16(b, frag_field);
	put8(b, 64); /* ttl */
	put8(b, proto);
	vigil_test_put16(b, 0); /* checksum: the parser need not verify it, the kernel did */
	put_address(b, AF_INET, src);
	put_address(b, AF_INET, dst);
	put_array(b, options);
	put_array(b, payload);
	return b;
}

static GByteArray *
ipv6_packet(guint8 next, const char *src, const char *dst, const GByteArray *payload)
{
	GByteArray *b = g_byte_array_new();

	vigil_test_put32(b, 0x60000000); /* version 6, no traffic class or flow label */
	vigil_test_put16(b, (guint16)(payload != NULL ? payload->len : 0));
	put8(b, next);
	put8(b, 64); /* hop limit */
	put_address(b, AF_INET6, src);
	put_address(b, AF_INET6, dst);
	put_array(b, payload);
	return b;
}

/* hop-by-hop, destination options or routing header of (@units + 1) * 8 bytes, then @inner */
static GByteArray *
ipv6_ext(guint8 next, guint8 units, const GByteArray *inner)
{
	GByteArray *b = g_byte_array_new();

	put8(b, next);
	put8(b, units);
	put8(b, 1); /* a PadN option covering the rest */
	put8(b, (guint8)((units + 1) * 8 - 4));
	put_fill(b, 0, (units + 1) * 8 - 4);
	put_array(b, inner);
	return b;
}

static GByteArray *
ipv6_fragment(guint8 next, guint16 offset_bytes, gboolean more, const GByteArray *inner)
{
	GByteArray *b = g_byte_array_new();

	g_assert_cmpuint(offset_bytes % 8, ==, 0);
	put8(b, next);
	put8(b, 0);
	vigil_test_put16(b, (guint16)(offset_bytes | (more ? 1 : 0)));
	vigil_test_put32(b, 0xdeadbeef); /* identification */
	put_array(b, inner);
	return b;
}

/* authentication header with a 12-byte ICV: 24 bytes, length field (24 / 4) - 2 */
static GByteArray *
ipv6_ah(guint8 next, const GByteArray *inner)
{
	GByteArray *b = g_byte_array_new();

	put8(b, next);
	put8(b, 4);
	vigil_test_put16(b, 0);
	vigil_test_put32(b, 0x100); /* SPI */
	vigil_test_put32(b, 1);     /* sequence */
	put_fill(b, 0x5a, 12);
	put_array(b, inner);
	return b;
}

/* ---- checks ---- */

/* parses from an exactly-sized heap copy, so AddressSanitizer sees any read past the end */
static gboolean
parse_copy(const guint8 *data, gsize len, gsize packet_len, VigilFlow *flow, GError **error)
{
	g_autofree guint8 *copy = g_memdup2(data, len);

	return vigil_packet_parse_captured(len > 0 ? copy : (const guint8 *)"", len, packet_len,
	                                   flow, error);
}

static void
assert_address(int family, const VigilAddress *addr, const char *expected)
{
	char buf[INET6_ADDRSTRLEN];

	g_assert_cmpstr(vigil_address_to_string(family, addr, buf, sizeof(buf)), ==, expected);
}

static void
assert_ports(const GByteArray *packet, int family, guint8 proto, const char *src, const char *dst,
             guint16 sport, guint16 dport)
{
	g_autoptr(GError) error = NULL;
	VigilFlow flow = {0};

	flow.has_uid = TRUE;
	flow.uid = 1000;
	g_assert_true(parse_copy(packet->data, packet->len, packet->len, &flow, &error));
	g_assert_no_error(error);
	g_assert_cmpint(flow.family, ==, family);
	g_assert_cmpuint(flow.protocol, ==, proto);
	assert_address(family, &flow.src, src);
	assert_address(family, &flow.dst, dst);
	g_assert_cmpuint(flow.sport, ==, sport);
	g_assert_cmpuint(flow.dport, ==, dport);
	g_assert_cmpuint(flow.icmp_type, ==, 0);
	g_assert_cmpuint(flow.icmp_id, ==, 0);
	/* the uid comes from the queue, not the packet: the parser leaves it alone */
	g_assert_true(flow.has_uid);
	g_assert_cmpuint(flow.uid, ==, 1000);
}

static void
assert_fails(const GByteArray *packet, VigilPacketError code, const char *message_part)
{
	g_autoptr(GError) error = NULL;
	VigilFlow flow = {0};

	g_assert_false(parse_copy(packet->data, packet->len, packet->len, &flow, &error));
	g_assert_error(error, VIGIL_PACKET_ERROR, (gint)code);
	if (message_part != NULL && strstr(error->message, message_part) == NULL)
		g_error("expected \"%s\" in \"%s\"", message_part, error->message);
}

/* ---- flow text helpers ---- */

static void
test_address_round_trip(void)
{
	const struct {
		const char *text;
		int family;
		const char *canonical;
	} cases[] = {
	    {"10.0.0.1", AF_INET, "10.0.0.1"},
	    {"0.0.0.0", AF_INET, "0.0.0.0"},
	    {"255.255.255.255", AF_INET, "255.255.255.255"},
	    {"fd00::1", AF_INET6, "fd00::1"},
	    {"FD00:0:0:0:0:0:0:1", AF_INET6, "fd00::1"},
	    {"::", AF_INET6, "::"},
	    {"::ffff:10.1.2.3", AF_INET6, "::ffff:10.1.2.3"},
	    {"2001:db8:1:2:3:4:5:6", AF_INET6, "2001:db8:1:2:3:4:5:6"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		VigilAddress addr;
		int family = 0;

		memset(&addr, 0xee, sizeof(addr));
		g_assert_true(vigil_address_parse(cases[i].text, &family, &addr));
		g_assert_cmpint(family, ==, cases[i].family);
		assert_address(family, &addr, cases[i].canonical);
		if (family == AF_INET) {
			/* the documented layout: 4 address bytes, the rest zero */
			for (gsize j = 4; j < sizeof(addr.bytes); j++)
				g_assert_cmpuint(addr.bytes[j], ==, 0);
		}
	}
}

static void
test_address_parse_rejects(void)
{
	const char *bad[] = {
	    "",  "10.0.0",     "10.0.0.256", "10.0.0.1 ",    " 10.0.0.1",  "0x0a.0.0.1",
	    "1", "fd00::1::2", "fd00::g",    "fe80::1%eth0", "10.0.0.0/8", "example.org",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		VigilAddress addr = {{0}};
		int family = 12345;

		g_assert_false(vigil_address_parse(bad[i], &family, &addr));
		g_assert_cmpint(family, ==, 12345);
	}
}

static void
test_address_small_buffer(void)
{
	VigilAddress addr = {{0}};
	int family;
	char buf[8];

	g_assert_true(vigil_address_parse("192.168.100.200", &family, &addr));
	/* never a cut-off address that names another host */
	g_assert_cmpstr(vigil_address_to_string(family, &addr, buf, sizeof(buf)), ==, "?");
	g_assert_cmpstr(vigil_address_to_string(AF_UNIX, &addr, buf, sizeof(buf)), ==, "?");
}

static void
test_protocol_name(void)
{
	char buf[16];
	char tiny[4];

	g_assert_cmpstr(vigil_protocol_name(IPPROTO_TCP, buf, sizeof(buf)), ==, "tcp");
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_UDP, buf, sizeof(buf)), ==, "udp");
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_UDPLITE, buf, sizeof(buf)), ==, "udplite");
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_SCTP, buf, sizeof(buf)), ==, "sctp");
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_ICMP, buf, sizeof(buf)), ==, "icmp");
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_ICMPV6, buf, sizeof(buf)), ==, "icmpv6");
	g_assert_cmpstr(vigil_protocol_name(PROTO_GRE, buf, sizeof(buf)), ==, "proto-47");
	g_assert_cmpstr(vigil_protocol_name(255, buf, sizeof(buf)), ==, "proto-255");
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_UDPLITE, tiny, sizeof(tiny)), ==, "?");
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_TCP, tiny, sizeof(tiny)), ==, "tcp");
	g_assert_cmpstr(vigil_protocol_name(PROTO_GRE, tiny, sizeof(tiny)), ==, "?");
}

/* ---- well-formed packets ---- */

static void
test_ipv4_transports(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(40000, 443);
	g_autoptr(GByteArray) udp = udp_datagram(5353, 53, "query");
	g_autoptr(GByteArray) sctp = sctp_init(3868, 3869);
	g_autoptr(GByteArray) p_tcp =
	    ipv4_packet(IPPROTO_TCP, "10.0.0.2", "93.184.216.34", NULL, 0x4000 /* DF */, tcp);
	g_autoptr(GByteArray) p_udp =
	    ipv4_packet(IPPROTO_UDP, "192.168.1.5", "192.168.1.1", NULL, 0, udp);
	g_autoptr(GByteArray) p_lite =
	    ipv4_packet(IPPROTO_UDPLITE, "10.0.0.2", "10.0.0.3", NULL, 0, udp);
	g_autoptr(GByteArray) p_sctp =
	    ipv4_packet(IPPROTO_SCTP, "172.16.0.1", "172.16.0.2", NULL, 0, sctp);

	assert_ports(p_tcp, AF_INET, IPPROTO_TCP, "10.0.0.2", "93.184.216.34", 40000, 443);
	assert_ports(p_udp, AF_INET, IPPROTO_UDP, "192.168.1.5", "192.168.1.1", 5353, 53);
	assert_ports(p_lite, AF_INET, IPPROTO_UDPLITE, "10.0.0.2", "10.0.0.3", 5353, 53);
	assert_ports(p_sctp, AF_INET, IPPROTO_SCTP, "172.16.0.1", "172.16.0.2", 3868, 3869);
}

static void
test_ipv6_transports(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(51000, 22);
	g_autoptr(GByteArray) udp = udp_datagram(12345, 443, "quic-initial");
	g_autoptr(GByteArray) sctp = sctp_init(9, 10);
	g_autoptr(GByteArray) p_tcp = ipv6_packet(IPPROTO_TCP, "fd00::2", "2001:db8::1", tcp);
	g_autoptr(GByteArray) p_udp = ipv6_packet(IPPROTO_UDP, "fd00::2", "fd00::53", udp);
	g_autoptr(GByteArray) p_lite = ipv6_packet(IPPROTO_UDPLITE, "::1", "::1", udp);
	g_autoptr(GByteArray) p_sctp = ipv6_packet(IPPROTO_SCTP, "fe80::1", "fe80::2", sctp);

	assert_ports(p_tcp, AF_INET6, IPPROTO_TCP, "fd00::2", "2001:db8::1", 51000, 22);
	assert_ports(p_udp, AF_INET6, IPPROTO_UDP, "fd00::2", "fd00::53", 12345, 443);
	assert_ports(p_lite, AF_INET6, IPPROTO_UDPLITE, "::1", "::1", 12345, 443);
	assert_ports(p_sctp, AF_INET6, IPPROTO_SCTP, "fe80::1", "fe80::2", 9, 10);
}

static void
assert_icmp(const GByteArray *packet, int family, guint8 proto, guint8 type, guint8 code,
            guint16 id)
{
	g_autoptr(GError) error = NULL;
	VigilFlow flow = {0};

	g_assert_true(parse_copy(packet->data, packet->len, packet->len, &flow, &error));
	g_assert_no_error(error);
	g_assert_cmpint(flow.family, ==, family);
	g_assert_cmpuint(flow.protocol, ==, proto);
	g_assert_cmpuint(flow.icmp_type, ==, type);
	g_assert_cmpuint(flow.icmp_code, ==, code);
	g_assert_cmpuint(flow.icmp_id, ==, id);
	g_assert_cmpuint(flow.sport, ==, 0);
	g_assert_cmpuint(flow.dport, ==, 0);
}

static void
test_icmp(void)
{
	g_autoptr(GByteArray) echo = icmp_message(8, 0, 0xbeef);
	g_autoptr(GByteArray) unreach = icmp_message(3, 1, 0x7777);
	g_autoptr(GByteArray) echo6 = icmp_message(128, 0, 0x4242);
	g_autoptr(GByteArray) reply6 = icmp_message(129, 0, 0x4343);
	g_autoptr(GByteArray) ns6 = icmp_message(135, 0, 0x9999);
	g_autoptr(GByteArray) p_echo =
	    ipv4_packet(IPPROTO_ICMP, "10.0.0.2", "10.0.0.1", NULL, 0, echo);
	g_autoptr(GByteArray) p_unreach =
	    ipv4_packet(IPPROTO_ICMP, "10.0.0.2", "10.0.0.1", NULL, 0, unreach);
	g_autoptr(GByteArray) p_echo6 = ipv6_packet(IPPROTO_ICMPV6, "fd00::2", "fd00::1", echo6);
	g_autoptr(GByteArray) p_reply6 = ipv6_packet(IPPROTO_ICMPV6, "fd00::2", "fd00::1", reply6);
	g_autoptr(GByteArray) p_ns6 = ipv6_packet(IPPROTO_ICMPV6, "fd00::2", "ff02::1:ff00:1", ns6);

	assert_icmp(p_echo, AF_INET, IPPROTO_ICMP, 8, 0, 0xbeef);
	/* only echo messages carry an identifier; other bytes there must not leak into icmp_id */
	assert_icmp(p_unreach, AF_INET, IPPROTO_ICMP, 3, 1, 0);
	assert_icmp(p_echo6, AF_INET6, IPPROTO_ICMPV6, 128, 0, 0x4242);
	assert_icmp(p_reply6, AF_INET6, IPPROTO_ICMPV6, 129, 0, 0x4343);
	assert_icmp(p_ns6, AF_INET6, IPPROTO_ICMPV6, 135, 0, 0);
}

static void
test_icmp_short(void)
{
	g_autoptr(GByteArray) two = g_byte_array_new();
	g_autoptr(GByteArray) echo_four = g_byte_array_new();
	g_autoptr(GByteArray) p_two = NULL;
	g_autoptr(GByteArray) p_echo = NULL;

	/* a non-echo message needs only type and code */
	put8(two, 11);
	put8(two, 0);
	p_two = ipv4_packet(IPPROTO_ICMP, "10.0.0.2", "10.0.0.1", NULL, 0, two);
	assert_icmp(p_two, AF_INET, IPPROTO_ICMP, 11, 0, 0);

	/* an echo request must reach its identifier */
	put8(echo_four, 8);
	put8(echo_four, 0);
	vigil_test_put16(echo_four, 0);
	p_echo = ipv4_packet(IPPROTO_ICMP, "10.0.0.2", "10.0.0.1", NULL, 0, echo_four);
	assert_fails(p_echo, VIGIL_PACKET_ERROR_TRUNCATED, "truncated ICMP header: 4 of 6 bytes");
}

static void
test_ipv4_options(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(1024, 80);
	g_autoptr(GByteArray) options = g_byte_array_new();
	g_autoptr(GByteArray) max_options = g_byte_array_new();
	g_autoptr(GByteArray) p = NULL;
	g_autoptr(GByteArray) p_max = NULL;

	/* record route with room for one address, then NOP padding: 8 bytes */
	put8(options, 7);
	put8(options, 7);
	put8(options, 4);
	vigil_test_put32(options, 0);
	put8(options, 1);
	p = ipv4_packet(IPPROTO_TCP, "10.1.1.1", "10.2.2.2", options, 0, tcp);
	g_assert_cmpuint(p->data[0] & 0x0f, ==, 7);
	assert_ports(p, AF_INET, IPPROTO_TCP, "10.1.1.1", "10.2.2.2", 1024, 80);

	/* the largest header IHL allows: 60 bytes */
	put_fill(max_options, 1, 40);
	p_max = ipv4_packet(IPPROTO_TCP, "10.1.1.1", "10.2.2.2", max_options, 0, tcp);
	g_assert_cmpuint(p_max->data[0] & 0x0f, ==, 15);
	assert_ports(p_max, AF_INET, IPPROTO_TCP, "10.1.1.1", "10.2.2.2", 1024, 80);
}

static void
test_ipv4_trailing_bytes(void)
{
	g_autoptr(GByteArray) udp = udp_datagram(1000, 2000, "x");
	g_autoptr(GByteArray) p = ipv4_packet(IPPROTO_UDP, "10.0.0.1", "10.0.0.2", NULL, 0, udp);
	g_autoptr(GByteArray) header_only = NULL;

	/* link-layer padding after the IP packet is ignored */
	put_fill(p, 0xff, 18);
	assert_ports(p, AF_INET, IPPROTO_UDP, "10.0.0.1", "10.0.0.2", 1000, 2000);

	/* ...but never read as a transport header: the IP total length bounds it */
	header_only = ipv4_packet(IPPROTO_UDP, "10.0.0.1", "10.0.0.2", NULL, 0, NULL);
	g_byte_array_append(header_only, udp->data, udp->len);
	assert_fails(header_only, VIGIL_PACKET_ERROR_TRUNCATED, "truncated UDP header: 0 of 4");
}

static void
test_ipv6_extension_headers(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(33000, 8443);
	g_autoptr(GByteArray) udp = udp_datagram(33001, 53, "q");
	g_autoptr(GByteArray) dst = ipv6_ext(IPPROTO_TCP, 1, tcp);
	g_autoptr(GByteArray) routing = ipv6_ext(IPPROTO_DSTOPTS, 0, dst);
	g_autoptr(GByteArray) frag = ipv6_fragment(IPPROTO_ROUTING, 0, TRUE, routing);
	g_autoptr(GByteArray) hop = ipv6_ext(IPPROTO_FRAGMENT, 0, frag);
	g_autoptr(GByteArray) chain = ipv6_packet(IPPROTO_HOPOPTS, "fd00::2", "fd00::99", hop);
	g_autoptr(GByteArray) ah = ipv6_ah(IPPROTO_UDP, udp);
	g_autoptr(GByteArray) p_ah = ipv6_packet(IPPROTO_AH, "fd00::3", "fd00::4", ah);

	/* hop-by-hop, first fragment, routing, destination options (16 bytes), TCP */
	assert_ports(chain, AF_INET6, IPPROTO_TCP, "fd00::2", "fd00::99", 33000, 8443);
	g_assert_cmpuint(chain->len, ==, 40 + 8 + 8 + 8 + 16 + 20);
	assert_ports(p_ah, AF_INET6, IPPROTO_UDP, "fd00::3", "fd00::4", 33001, 53);
}

static GByteArray *
ipv6_with_dstopts(guint count, GByteArray *inner)
{
	g_autoptr(GByteArray) payload = g_byte_array_ref(inner);

	for (guint i = 0; i < count; i++) {
		guint8 next = i == 0 ? IPPROTO_TCP : IPPROTO_DSTOPTS;
		GByteArray *outer = ipv6_ext(next, 0, payload);

		g_byte_array_unref(payload);
		payload = outer;
	}
	return ipv6_packet(count > 0 ? IPPROTO_DSTOPTS : IPPROTO_TCP, "fd00::1", "fd00::2",
	                   payload);
}

static void
test_ipv6_extension_limit(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(1, 2);
	g_autoptr(GByteArray) eight = ipv6_with_dstopts(8, tcp);
	g_autoptr(GByteArray) nine = ipv6_with_dstopts(9, tcp);
	g_autoptr(GByteArray) many = ipv6_with_dstopts(500, tcp);

	assert_ports(eight, AF_INET6, IPPROTO_TCP, "fd00::1", "fd00::2", 1, 2);
	assert_fails(nine, VIGIL_PACKET_ERROR_MALFORMED, "more than 8 IPv6 extension headers");
	assert_fails(many, VIGIL_PACKET_ERROR_MALFORMED, "extension headers");
}

static void
test_ipv6_misplaced_hop_by_hop(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(1, 2);
	g_autoptr(GByteArray) hop = ipv6_ext(IPPROTO_TCP, 0, tcp);
	g_autoptr(GByteArray) dst = ipv6_ext(IPPROTO_HOPOPTS, 0, hop);
	g_autoptr(GByteArray) p = ipv6_packet(IPPROTO_DSTOPTS, "fd00::1", "fd00::2", dst);

	assert_fails(p, VIGIL_PACKET_ERROR_MALFORMED, "hop-by-hop");
}

static void
test_ipv6_jumbo_length(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(7, 8);
	g_autoptr(GByteArray) hop = ipv6_ext(IPPROTO_TCP, 0, tcp);
	g_autoptr(GByteArray) jumbo = ipv6_packet(IPPROTO_HOPOPTS, "fd00::1", "fd00::2", hop);
	g_autoptr(GByteArray) zero = ipv6_packet(IPPROTO_TCP, "fd00::1", "fd00::2", tcp);

	/* payload length 0 is a jumbogram only behind a hop-by-hop header */
	jumbo->data[4] = jumbo->data[5] = 0;
	assert_ports(jumbo, AF_INET6, IPPROTO_TCP, "fd00::1", "fd00::2", 7, 8);
	zero->data[4] = zero->data[5] = 0;
	assert_fails(zero, VIGIL_PACKET_ERROR_TRUNCATED, "truncated TCP header: 0 of 4 bytes");
}

/* ---- what must fail, and how ---- */

static void
test_bad_version(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(1, 2);
	g_autoptr(GByteArray) p = ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", NULL, 0, tcp);
	const guint8 versions[] = {0, 1, 5, 7, 15};

	for (gsize i = 0; i < G_N_ELEMENTS(versions); i++) {
		g_autofree char *expected = g_strdup_printf("IP version %u", versions[i]);

		p->data[0] = (guint8)(versions[i] << 4 | 5);
		assert_fails(p, VIGIL_PACKET_ERROR_BAD_VERSION, expected);
	}
}

static void
test_ipv4_malformed_lengths(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(1, 2);
	g_autoptr(GByteArray) p = ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", NULL, 0, tcp);
	g_autoptr(GByteArray) copy = NULL;

	for (guint ihl = 0; ihl < 5; ihl++) {
		p->data[0] = (guint8)(0x40 | ihl);
		assert_fails(p, VIGIL_PACKET_ERROR_MALFORMED, "IPv4 header length");
	}

	/* an IHL of 15 asks for 60 header bytes, the packet has 40 */
	p->data[0] = 0x4f;
	assert_fails(p, VIGIL_PACKET_ERROR_TRUNCATED,
	             "truncated IPv4 header with options: 40 of 60 bytes");
	p->data[0] = 0x45;

	/* total length shorter than the header itself */
	for (guint total = 0; total < 20; total++) {
		p->data[2] = 0;
		p->data[3] = (guint8)total;
		assert_fails(p, VIGIL_PACKET_ERROR_MALFORMED, "IPv4 total length");
	}

	/* total length beyond the bytes we have */
	p->data[3] = 41;
	assert_fails(p, VIGIL_PACKET_ERROR_TRUNCATED, "truncated IPv4 packet: 40 of 41 bytes");
	p->data[2] = 0xff;
	p->data[3] = 0xff;
	assert_fails(p, VIGIL_PACKET_ERROR_TRUNCATED, "truncated IPv4 packet: 40 of 65535 bytes");

	/* total length that ends inside the ports */
	p->data[2] = 0;
	p->data[3] = 22;
	assert_fails(p, VIGIL_PACKET_ERROR_TRUNCATED, "truncated TCP header: 2 of 4 bytes");

	/* and the untouched packet still parses: the checks above were about the lengths */
	copy = ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", NULL, 0, tcp);
	assert_ports(copy, AF_INET, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 1, 2);
}

static void
test_ipv6_malformed_lengths(void)
{
	g_autoptr(GByteArray) udp = udp_datagram(1, 2, "abc");
	g_autoptr(GByteArray) p = ipv6_packet(IPPROTO_UDP, "fd00::1", "fd00::2", udp);
	g_autoptr(GByteArray) tcp = tcp_syn(1, 2);
	g_autoptr(GByteArray) dst = ipv6_ext(IPPROTO_TCP, 3, tcp);
	g_autoptr(GByteArray) p_ext = ipv6_packet(IPPROTO_DSTOPTS, "fd00::1", "fd00::2", dst);

	/* payload length beyond the buffer */
	p->data[5] = (guint8)(udp->len + 1);
	assert_fails(p, VIGIL_PACKET_ERROR_TRUNCATED, "truncated IPv6 packet: 51 of 52 bytes");

	/* payload length that stops inside the ports */
	p->data[5] = 3;
	assert_fails(p, VIGIL_PACKET_ERROR_TRUNCATED, "truncated UDP header: 3 of 4 bytes");

	/* an extension header whose length runs past the payload */
	p_ext->data[41] = 200;
	assert_fails(p_ext, VIGIL_PACKET_ERROR_TRUNCATED,
	             "truncated IPv6 destination options header: 52 of 1608 bytes");

	/* payload length cuts an extension header short */
	p_ext->data[41] = 3;
	p_ext->data[5] = 1;
	assert_fails(p_ext, VIGIL_PACKET_ERROR_TRUNCATED,
	             "truncated IPv6 destination options header: 1 of 2 bytes");
}

static void
test_fragments(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(1111, 2222);
	g_autoptr(GByteArray) first4 =
	    ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", NULL, 0x2000 /* MF, offset 0 */, tcp);
	g_autoptr(GByteArray) later4 = ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", NULL,
	                                           0x2000 | 185 /* 1480 bytes in */, tcp);
	g_autoptr(GByteArray) last4 =
	    ipv4_packet(IPPROTO_UDP, "10.0.0.1", "10.0.0.2", NULL, 1, tcp);
	g_autoptr(GByteArray) far4 = ipv4_packet(IPPROTO_UDP, "10.0.0.1", "10.0.0.2", NULL,
	                                         0x1000 /* the top offset bit */, tcp);
	g_autoptr(GByteArray) frag6_first = ipv6_fragment(IPPROTO_TCP, 0, TRUE, tcp);
	g_autoptr(GByteArray) frag6_later = ipv6_fragment(IPPROTO_TCP, 1448, TRUE, tcp);
	g_autoptr(GByteArray) frag6_last = ipv6_fragment(IPPROTO_UDP, 8, FALSE, tcp);
	g_autoptr(GByteArray) first6 =
	    ipv6_packet(IPPROTO_FRAGMENT, "fd00::1", "fd00::2", frag6_first);
	g_autoptr(GByteArray) later6 =
	    ipv6_packet(IPPROTO_FRAGMENT, "fd00::1", "fd00::2", frag6_later);
	g_autoptr(GByteArray) last6 =
	    ipv6_packet(IPPROTO_FRAGMENT, "fd00::1", "fd00::2", frag6_last);

	assert_ports(first4, AF_INET, IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 1111, 2222);
	assert_fails(later4, VIGIL_PACKET_ERROR_FRAGMENT, "non-first IPv4 fragment at offset 1480");
	assert_fails(last4, VIGIL_PACKET_ERROR_FRAGMENT, "offset 8 bytes");
	assert_fails(far4, VIGIL_PACKET_ERROR_FRAGMENT, "offset 32768 bytes");
	assert_ports(first6, AF_INET6, IPPROTO_TCP, "fd00::1", "fd00::2", 1111, 2222);
	assert_fails(later6, VIGIL_PACKET_ERROR_FRAGMENT, "non-first IPv6 fragment at offset 1448");
	assert_fails(last6, VIGIL_PACKET_ERROR_FRAGMENT, "offset 8 bytes");
}

static void
test_unsupported(void)
{
	g_autoptr(GByteArray) body = udp_datagram(1, 2, "opaque");
	g_autoptr(GByteArray) gre4 = ipv4_packet(PROTO_GRE, "10.0.0.1", "10.0.0.2", NULL, 0, body);
	g_autoptr(GByteArray) gre6 = ipv6_packet(PROTO_GRE, "fd00::1", "fd00::2", body);
	g_autoptr(GByteArray) esp = ipv6_packet(IPPROTO_ESP, "fd00::1", "fd00::2", body);
	g_autoptr(GByteArray) dst_esp = ipv6_ext(IPPROTO_ESP, 0, body);
	g_autoptr(GByteArray) esp_later =
	    ipv6_packet(IPPROTO_DSTOPTS, "fd00::1", "fd00::2", dst_esp);
	g_autoptr(GByteArray) none = ipv6_packet(IPPROTO_NONE, "fd00::1", "fd00::2", NULL);
	g_autoptr(GByteArray) dst_none = ipv6_ext(IPPROTO_NONE, 0, NULL);
	g_autoptr(GByteArray) none_later =
	    ipv6_packet(IPPROTO_DSTOPTS, "fd00::1", "fd00::2", dst_none);

	assert_fails(gre4, VIGIL_PACKET_ERROR_UNSUPPORTED, "unsupported transport protocol 47");
	assert_fails(gre6, VIGIL_PACKET_ERROR_UNSUPPORTED, "unsupported transport protocol 47");
	assert_fails(esp, VIGIL_PACKET_ERROR_UNSUPPORTED, "ESP");
	assert_fails(esp_later, VIGIL_PACKET_ERROR_UNSUPPORTED, "ESP");
	assert_fails(none, VIGIL_PACKET_ERROR_UNSUPPORTED, "no next header");
	assert_fails(none_later, VIGIL_PACKET_ERROR_UNSUPPORTED, "no next header");
}

static void
test_error_messages(void)
{
	g_autoptr(GByteArray) tcp = tcp_syn(1, 2);
	g_autoptr(GByteArray) p4 = ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", NULL, 0, tcp);
	g_autoptr(GByteArray) p6 = ipv6_packet(IPPROTO_TCP, "fd00::1", "fd00::2", tcp);
	g_autoptr(GError) error = NULL;
	VigilFlow flow;

	g_assert_false(vigil_packet_parse(p4->data, 12, &flow, &error));
	g_assert_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED);
	g_assert_cmpstr(error->message, ==, "truncated IPv4 header: 12 of 20 bytes");
	g_clear_error(&error);

	g_assert_false(vigil_packet_parse(p6->data, 39, &flow, &error));
	g_assert_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED);
	g_assert_cmpstr(error->message, ==, "truncated IPv6 header: 39 of 40 bytes");
	g_clear_error(&error);

	g_assert_false(vigil_packet_parse(p4->data, 0, &flow, &error));
	g_assert_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED);
	g_assert_cmpstr(error->message, ==, "empty packet");
}

/* ---- every prefix of every valid packet ---- */

typedef struct {
	GByteArray *packet;
	gsize headers; /* bytes up to and including what the parser must read */
} Sample;

static void
sample_clear(gpointer data)
{
	Sample *s = data;

	g_byte_array_unref(s->packet);
}

static void
add_sample(GArray *samples, GByteArray *packet, gsize headers)
{
	Sample s = {packet, headers};

	g_assert_cmpuint(headers, <=, packet->len);
	g_array_append_val(samples, s);
}

/* valid packets of every kind, each with the number of bytes a capture must hold */
static GArray *
make_samples(void)
{
	GArray *samples = g_array_new(FALSE, FALSE, sizeof(Sample));
	g_autoptr(GByteArray) tcp = tcp_syn(40000, 443);
	g_autoptr(GByteArray) udp = udp_datagram(5353, 53, "question");
	g_autoptr(GByteArray) sctp = sctp_init(1, 2);
	g_autoptr(GByteArray) echo = icmp_message(8, 0, 9);
	g_autoptr(GByteArray) unreach = icmp_message(3, 3, 0);
	g_autoptr(GByteArray) echo6 = icmp_message(128, 0, 9);
	g_autoptr(GByteArray) options = g_byte_array_new();
	g_autoptr(GByteArray) dst = ipv6_ext(IPPROTO_UDP, 2, udp);
	g_autoptr(GByteArray) frag = ipv6_fragment(IPPROTO_DSTOPTS, 0, TRUE, dst);
	g_autoptr(GByteArray) hop = ipv6_ext(IPPROTO_FRAGMENT, 0, frag);
	g_autoptr(GByteArray) ah = ipv6_ah(IPPROTO_TCP, tcp);

	g_array_set_clear_func(samples, sample_clear);
	put_fill(options, 1, 12);
	add_sample(samples, ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", NULL, 0, tcp), 24);
	add_sample(samples, ipv4_packet(IPPROTO_TCP, "10.0.0.1", "10.0.0.2", options, 0, tcp), 36);
	add_sample(samples, ipv4_packet(IPPROTO_UDP, "10.0.0.1", "10.0.0.2", NULL, 0, udp), 24);
	add_sample(samples, ipv4_packet(IPPROTO_UDPLITE, "10.0.0.1", "10.0.0.2", NULL, 0, udp), 24);
	add_sample(samples, ipv4_packet(IPPROTO_SCTP, "10.0.0.1", "10.0.0.2", NULL, 0, sctp), 24);
	add_sample(samples, ipv4_packet(IPPROTO_ICMP, "10.0.0.1", "10.0.0.2", NULL, 0, echo), 26);
	add_sample(samples, ipv4_packet(IPPROTO_ICMP, "10.0.0.1", "10.0.0.2", NULL, 0, unreach),
	           22);
	add_sample(samples, ipv6_packet(IPPROTO_TCP, "fd00::1", "fd00::2", tcp), 44);
	add_sample(samples, ipv6_packet(IPPROTO_UDP, "fd00::1", "fd00::2", udp), 44);
	add_sample(samples, ipv6_packet(IPPROTO_SCTP, "fd00::1", "fd00::2", sctp), 44);
	add_sample(samples, ipv6_packet(IPPROTO_ICMPV6, "fd00::1", "fd00::2", echo6), 46);
	add_sample(samples, ipv6_packet(IPPROTO_HOPOPTS, "fd00::1", "fd00::2", hop),
	           40 + 8 + 8 + 24 + 4);
	add_sample(samples, ipv6_packet(IPPROTO_AH, "fd00::1", "fd00::2", ah), 40 + 24 + 4);
	return samples;
}

static void
test_every_prefix_truncated(void)
{
	g_autoptr(GArray) samples = make_samples();

	for (guint i = 0; i < samples->len; i++) {
		const GByteArray *packet = g_array_index(samples, Sample, i).packet;
		VigilFlow full = {0};
		g_autoptr(GError) full_error = NULL;

		g_assert_true(
		    parse_copy(packet->data, packet->len, packet->len, &full, &full_error));
		g_assert_no_error(full_error);

		/* any whole packet cut short is a truncated packet, whatever layer it ends in */
		for (gsize len = 0; len < packet->len; len++) {
			g_autoptr(GError) error = NULL;
			VigilFlow flow;

			g_assert_false(parse_copy(packet->data, len, len, &flow, &error));
			g_assert_error(error, VIGIL_PACKET_ERROR, VIGIL_PACKET_ERROR_TRUNCATED);
		}
	}
}

static void
assert_same_flow(const VigilFlow *a, const VigilFlow *b)
{
	g_assert_cmpint(a->family, ==, b->family);
	g_assert_cmpuint(a->protocol, ==, b->protocol);
	g_assert_cmpmem(a->src.bytes, sizeof(a->src.bytes), b->src.bytes, sizeof(b->src.bytes));
	g_assert_cmpmem(a->dst.bytes, sizeof(a->dst.bytes), b->dst.bytes, sizeof(b->dst.bytes));
	g_assert_cmpuint(a->sport, ==, b->sport);
	g_assert_cmpuint(a->dport, ==, b->dport);
	g_assert_cmpuint(a->icmp_type, ==, b->icmp_type);
	g_assert_cmpuint(a->icmp_code, ==, b->icmp_code);
	g_assert_cmpuint(a->icmp_id, ==, b->icmp_id);
}

static void
test_every_prefix_captured(void)
{
	g_autoptr(GArray) samples = make_samples();

	for (guint i = 0; i < samples->len; i++) {
		const Sample *s = &g_array_index(samples, Sample, i);
		VigilFlow full = {0};

		g_assert_true(
		    parse_copy(s->packet->data, s->packet->len, s->packet->len, &full, NULL));

		/* a short copy of a longer packet parses once it holds the headers we read */
		for (gsize len = 0; len <= s->packet->len; len++) {
			g_autoptr(GError) error = NULL;
			VigilFlow flow = {0};
			gboolean ok;

			ok = parse_copy(s->packet->data, len, s->packet->len, &flow, &error);
			if (len < s->headers) {
				g_assert_false(ok);
				g_assert_error(error, VIGIL_PACKET_ERROR,
				               VIGIL_PACKET_ERROR_TRUNCATED);
			} else {
				g_assert_no_error(error);
				g_assert_true(ok);
				assert_same_flow(&flow, &full);
			}
		}
	}
}

/* random corruption of valid packets: any outcome but a crash or an unnamed failure */
static void
test_corrupted_bytes(void)
{
	g_autoptr(GArray) samples = make_samples();
	g_autoptr(GRand) rand = g_rand_new_with_seed(0x5eed);
	guint failures = 0;
	guint successes = 0;

	for (guint round = 0; round < 20000; round++) {
		const Sample *s = &g_array_index(samples, Sample, round % samples->len);
		g_autofree guint8 *bytes = g_memdup2(s->packet->data, s->packet->len);
		gsize len = (gsize)g_rand_int_range(rand, 0, (gint32)s->packet->len + 1);
		guint flips = (guint)g_rand_int_range(rand, 1, 4);
		g_autoptr(GError) error = NULL;
		VigilFlow flow;

		for (guint f = 0; f < flips && len > 0; f++)
			bytes[g_rand_int_range(rand, 0, (gint32)len)] = (guint8)g_rand_int(rand);
		if (parse_copy(bytes, len, s->packet->len, &flow, &error)) {
			g_assert_no_error(error);
			g_assert_true(flow.family == AF_INET || flow.family == AF_INET6);
			g_assert_cmpuint(bytes[0] >> 4, ==, flow.family == AF_INET ? 4 : 6);
			successes++;
		} else {
			g_assert_nonnull(error);
			g_assert_true(error->domain == VIGIL_PACKET_ERROR);
			g_assert_cmpstr(error->message, !=, "");
			failures++;
		}
	}
	/* the corruption must exercise both outcomes, or the test checks nothing */
	g_assert_cmpuint(successes, >, 0);
	g_assert_cmpuint(failures, >, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/flow/address/round-trip", test_address_round_trip);
	g_test_add_func("/flow/address/parse-rejects", test_address_parse_rejects);
	g_test_add_func("/flow/address/small-buffer", test_address_small_buffer);
	g_test_add_func("/flow/protocol-name", test_protocol_name);

	g_test_add_func("/packet/ipv4/transports", test_ipv4_transports);
	g_test_add_func("/packet/ipv6/transports", test_ipv6_transports);
	g_test_add_func("/packet/icmp", test_icmp);
	g_test_add_func("/packet/icmp/short", test_icmp_short);
	g_test_add_func("/packet/ipv4/options", test_ipv4_options);
	g_test_add_func("/packet/ipv4/trailing-bytes", test_ipv4_trailing_bytes);
	g_test_add_func("/packet/ipv6/extension-headers", test_ipv6_extension_headers);
	g_test_add_func("/packet/ipv6/extension-limit", test_ipv6_extension_limit);
	g_test_add_func("/packet/ipv6/misplaced-hop-by-hop", test_ipv6_misplaced_hop_by_hop);
	g_test_add_func("/packet/ipv6/jumbo-length", test_ipv6_jumbo_length);

	g_test_add_func("/packet/bad-version", test_bad_version);
	g_test_add_func("/packet/ipv4/malformed-lengths", test_ipv4_malformed_lengths);
	g_test_add_func("/packet/ipv6/malformed-lengths", test_ipv6_malformed_lengths);
	g_test_add_func("/packet/fragments", test_fragments);
	g_test_add_func("/packet/unsupported", test_unsupported);
	g_test_add_func("/packet/error-messages", test_error_messages);

	g_test_add_func("/packet/truncated/every-prefix", test_every_prefix_truncated);
	g_test_add_func("/packet/truncated/every-prefix-captured", test_every_prefix_captured);
	g_test_add_func("/packet/corrupted-bytes", test_corrupted_bytes);

	return g_test_run();
}
