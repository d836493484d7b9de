/* test-conntrack.c: ctnetlink messages read as the kernel writes them */
#include "config.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include "vigil-conntrack.h"

typedef struct {
	char buf[1024];
	struct nlmsghdr *nlh;
} Message;

static void
put_counters(struct nlmsghdr *nlh, int type, guint64 packets, guint64 bytes)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, GUINT64_TO_BE(packets));
	mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, GUINT64_TO_BE(bytes));
	mnl_attr_nest_end(nlh, nest);
}

/* a destroy event (or a dump entry, @type NEW) of a TCP flow 10.0.0.1:40000 -> 10.0.0.2:443 */
static void
build(Message *m, int type, int family, gboolean with_counters)
{
	struct nfgenmsg *nfg;
	struct nlattr *tuple, *ip, *proto;

	memset(m->buf, 0, sizeof m->buf);
	m->nlh = mnl_nlmsg_put_header(m->buf);
	m->nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nfg = mnl_nlmsg_put_extra_header(m->nlh, sizeof *nfg);
	nfg->nfgen_family = family;
	tuple = mnl_attr_nest_start(m->nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(m->nlh, CTA_TUPLE_IP);
	if (family == AF_INET) {
		mnl_attr_put_u32(m->nlh, CTA_IP_V4_SRC, htonl(0x0a000001));
		mnl_attr_put_u32(m->nlh, CTA_IP_V4_DST, htonl(0x0a000002));
	} else {
		struct in6_addr a = {{{0xfd, 0, [15] = 1}}}, b = {{{0xfd, 0, [15] = 2}}};

		mnl_attr_put(m->nlh, CTA_IP_V6_SRC, sizeof a, &a);
		mnl_attr_put(m->nlh, CTA_IP_V6_DST, sizeof b, &b);
	}
	mnl_attr_nest_end(m->nlh, ip);
	proto = mnl_attr_nest_start(m->nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(m->nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(m->nlh, CTA_PROTO_SRC_PORT, htons(40000));
	mnl_attr_put_u16(m->nlh, CTA_PROTO_DST_PORT, htons(443));
	mnl_attr_nest_end(m->nlh, proto);
	mnl_attr_nest_end(m->nlh, tuple);
	mnl_attr_put_u32(m->nlh, CTA_MARK, htonl(0x00100000));
	if (with_counters) {
		put_counters(m->nlh, CTA_COUNTERS_ORIG, 12, 900);
		put_counters(m->nlh, CTA_COUNTERS_REPLY, 800, 1049000);
	}
}

static void
test_destroy_event(void)
{
	Message m;
	VigilFlowCounters c;
	char text[64];

	build(&m, IPCTNL_MSG_CT_DELETE, AF_INET, TRUE);
	g_assert_true(vigil_conntrack_parse(m.nlh, &c));
	g_assert_true(c.ended);
	g_assert_cmpint(c.family, ==, AF_INET);
	g_assert_cmpuint(c.protocol, ==, IPPROTO_TCP);
	g_assert_cmpstr(vigil_address_to_string(AF_INET, &c.src, text, sizeof text), ==,
	                "10.0.0.1");
	g_assert_cmpstr(vigil_address_to_string(AF_INET, &c.dst, text, sizeof text), ==,
	                "10.0.0.2");
	g_assert_cmpuint(c.sport, ==, 40000);
	g_assert_cmpuint(c.dport, ==, 443);
	g_assert_cmphex(c.mark, ==, 0x00100000);
	g_assert_cmpuint(c.packets_out, ==, 12);
	g_assert_cmpuint(c.bytes_out, ==, 900);
	g_assert_cmpuint(c.packets_in, ==, 800);
	g_assert_cmpuint(c.bytes_in, ==, 1049000);
}

static void
test_dump_entry_ipv6_without_accounting(void)
{
	Message m;
	VigilFlowCounters c;
	char text[64];

	build(&m, IPCTNL_MSG_CT_NEW, AF_INET6, FALSE);
	g_assert_true(vigil_conntrack_parse(m.nlh, &c));
	g_assert_false(c.ended);
	g_assert_cmpstr(vigil_address_to_string(AF_INET6, &c.dst, text, sizeof text), ==,
	                "fd00::2");
	g_assert_cmpuint(c.bytes_in, ==, 0);
}

/* anything else, or a message cut short, is not read */
static void
test_refused(void)
{
	Message m;
	VigilFlowCounters c;
	guint32 full;

	build(&m, IPCTNL_MSG_CT_GET_STATS, AF_INET, TRUE);
	g_assert_false(vigil_conntrack_parse(m.nlh, &c));
	build(&m, IPCTNL_MSG_CT_DELETE, AF_INET, TRUE);
	m.nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | IPCTNL_MSG_CT_DELETE;
	g_assert_false(vigil_conntrack_parse(m.nlh, &c));
	build(&m, IPCTNL_MSG_CT_DELETE, AF_INET, TRUE);
	full = m.nlh->nlmsg_len;
	/* every length short of the tuple's end: never a read past it, never a flow */
	for (guint32 len = 0; len < full; len++) {
		m.nlh->nlmsg_len = len;
		if (vigil_conntrack_parse(m.nlh, &c))
			g_assert_cmpuint(c.dport, ==, 443); /* only once the tuple is whole */
	}
	build(&m, IPCTNL_MSG_CT_DELETE, AF_UNIX, TRUE);
	g_assert_false(vigil_conntrack_parse(m.nlh, &c));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conntrack/destroy-event", test_destroy_event);
	g_test_add_func("/conntrack/dump-entry-ipv6", test_dump_entry_ipv6_without_accounting);
	g_test_add_func("/conntrack/refused", test_refused);
	return g_test_run();
}
