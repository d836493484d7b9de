/* test-conntrack.c: ctnetlink messages read as the kernel writes them */
#include "config.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <errno.h>
#include <glib-unix.h>
#include <sched.h>
#include <sys/eventfd.h>
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
	mnl_attr_put_u32(m->nlh, CTA_ID, htonl(0xc0ffee));
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
	g_assert_cmphex(c.id, ==, 0xc0ffee);
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

/* ---- the live table, in a network namespace of the test's own ---- */

#define N_FLOWS   4000
#define MARK      0x00100000u
#define MARK_MASK 0x00f00000u
/* what a packet may wait behind: vigil-conntrack.c reads 256 messages a slice, plus the rest
 * of the buffer it read last */
#define MAX_WAIT 1024

static void
put_tuple(struct nlmsghdr *nlh, int type, guint32 src, guint32 dst, guint16 sport, guint16 dport)
{
	struct nlattr *tuple = mnl_attr_nest_start(nlh, type);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	struct nlattr *proto;

	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(src));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(dst));
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
}

/* sends @nlh (a request for an ack) and checks the kernel said yes */
static void
request(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[8192];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	g_assert_cmpint(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), >=, 0);
	n = mnl_socket_recvfrom(nl, buf, sizeof buf);
	g_assert_cmpint(n, >, 0);
	if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		g_error("ctnetlink: %s", g_strerror(errno));
}

static struct nlmsghdr *
put_request(char *buf, int type, guint32 seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

/* @n UDP flows 10.1.x.y:40000 -> 10.2.0.1:53 with vigild's allow mark, as conntrack keeps
 * them: made through ctnetlink, no packet needed */
static void
make_flows(guint n)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

	g_assert_nonnull(nl);
	g_assert_cmpint(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), ==, 0);
	for (guint i = 0; i < n; i++) {
		char buf[1024];
		struct nlmsghdr *nlh = put_request(buf, IPCTNL_MSG_CT_NEW, i + 1);
		guint32 src = 0x0a010000u + i, dst = 0x0a020001u;

		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
		put_tuple(nlh, CTA_TUPLE_ORIG, src, dst, 40000, 53);
		put_tuple(nlh, CTA_TUPLE_REPLY, dst, src, 53, 40000);
		mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(600));
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(MARK));
		request(nl, nlh);
	}
	mnl_socket_close(nl);
}

/* removes every flow of the table: a destroy event each */
static void
flush_flows(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	char buf[256];

	g_assert_nonnull(nl);
	g_assert_cmpint(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), ==, 0);
	request(nl, put_request(buf, IPCTNL_MSG_CT_DELETE, 1));
	mnl_socket_close(nl);
}

/* the netfilter queue's stand-in: a packet "arrives" while conntrack's flows are being read
 * (the first flow after the last packet makes it readable) and is read at the queue's
 * priority; it notes how many flows were handled before it got its turn */
typedef struct {
	guint flows, ended;
	int packet_fd;
	gboolean packet_waiting;
	guint arrived_at;
	guint max_wait;
	guint packets;
} Probe;

static void
on_counters(const VigilFlowCounters *c, gpointer data)
{
	Probe *p = data;

	g_assert_cmphex(c->mark & MARK_MASK, ==, MARK);
	if (c->ended)
		p->ended++;
	else
		p->flows++;
	if (!p->packet_waiting) {
		g_assert_cmpint(eventfd_write(p->packet_fd, 1), ==, 0);
		p->packet_waiting = TRUE;
		p->arrived_at = p->flows + p->ended;
	}
}

static gboolean
on_packet(int fd, GIOCondition condition, gpointer data)
{
	Probe *p = data;
	eventfd_t value;

	(void)condition;
	g_assert_cmpint(eventfd_read(fd, &value), ==, 0);
	p->max_wait = MAX(p->max_wait, p->flows + p->ended - p->arrived_at);
	p->packet_waiting = FALSE;
	p->packets++;
	return G_SOURCE_CONTINUE;
}

static gboolean
on_deadline(gpointer data)
{
	Probe *p = data;

	g_error("conntrack's flows were not all read within 20 s: %u of %u read, %u ends", p->flows,
	        N_FLOWS, p->ended);
	return G_SOURCE_REMOVE;
}

/* a user with thousands of flows never holds the main loop: a read of the table, and a burst
 * of their ends, are taken in slices, and a packet waiting is read between two slices */
static void
test_read_in_slices(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilConntrack) ct = NULL;
	Probe p = {.packet_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	guint probe, deadline;

	g_assert_cmpint(p.packet_fd, >=, 0);
	/* listening before the flows come: conntrack may give events only to flows made while
	 * someone listens (nf_conntrack_events=2) */
	ct = vigil_conntrack_new(MARK, MARK_MASK, on_counters, &p, &error);
	g_assert_no_error(error);
	make_flows(N_FLOWS);
	probe = g_unix_fd_add(p.packet_fd, G_IO_IN, on_packet, &p);
	deadline = g_timeout_add_seconds(20, on_deadline, &p);

	vigil_conntrack_read_now(ct);
	/* until every flow was read and the last packet got its turn */
	while (p.flows < N_FLOWS || p.packet_waiting)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(p.flows, ==, N_FLOWS);
	g_test_message("a read of %u flows: packets waited behind at most %u flows (%u packets)",
	               N_FLOWS, p.max_wait, p.packets);
	g_assert_cmpuint(p.max_wait, <=, MAX_WAIT);

	p.max_wait = 0;
	flush_flows();
	while (p.ended < N_FLOWS || p.packet_waiting)
		g_main_context_iteration(NULL, TRUE);
	g_test_message("%u ends: packets waited behind at most %u flows", N_FLOWS, p.max_wait);
	g_assert_cmpuint(p.max_wait, <=, MAX_WAIT);

	g_source_remove(deadline);
	g_source_remove(probe);
	close(p.packet_fd);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* a conntrack table of the test's own: the machine's is never touched (the test runs as
	 * root, as vigild does) */
	if (unshare(CLONE_NEWNET) != 0)
		g_error("unshare(CLONE_NEWNET): %s (the test needs root)", g_strerror(errno));
	g_test_add_func("/conntrack/destroy-event", test_destroy_event);
	g_test_add_func("/conntrack/dump-entry-ipv6", test_dump_entry_ipv6_without_accounting);
	g_test_add_func("/conntrack/refused", test_refused);
	g_test_add_func("/conntrack/read-in-slices", test_read_in_slices);
	return g_test_run();
}
