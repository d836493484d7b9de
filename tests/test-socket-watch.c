/* test-socket-watch.c: the socket watch never keeps a verdict it no longer watches: at its
 * bound, for one tuple allowed twice, when close notifications are lost; against the real
 * conntrack table of the test's own network namespace */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/sock_diag.h>

#include "vigil-sock-diag.h"
#include "vigil-socket-watch.h"

#define MAX_REMEMBERED 8192 /* as in vigil-socket-watch.c */

static VigilFlow
udp_flow(guint n)
{
	VigilFlow flow = {0};

	flow.family = AF_INET;
	flow.protocol = IPPROTO_UDP;
	/* 192.0.2.0/24 (TEST-NET-1), in this test's own network namespace */
	flow.src.bytes[0] = 192;
	flow.src.bytes[2] = 2;
	flow.src.bytes[3] = 1;
	flow.dst = flow.src;
	flow.dst.bytes[3] = 2;
	flow.sport = (guint16)(10000 + n % 50000);
	flow.dport = (guint16)(53 + n / 50000);
	return flow;
}

static VigilSocketWatchStats
stats_of(VigilSocketWatch *watch)
{
	VigilSocketWatchStats stats;

	vigil_socket_watch_get_stats(watch, &stats);
	return stats;
}

/* the same tuple allowed again (its entry expired, or a race) is one remembered flow */
static void
test_same_tuple_once(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	VigilFlow flow = udp_flow(1);

	g_assert_no_error(error);
	for (int i = 0; i < 100; i++)
		vigil_socket_watch_allowed(watch, &flow, 0, NULL, NULL);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);
	flow.dport++;
	vigil_socket_watch_allowed(watch, &flow, 0, NULL, NULL);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 2);
}

/* beyond the bound the oldest flow's conntrack entry is deleted, not kept unwatched */
static void
test_bound_deletes(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	VigilSocketWatchStats stats;

	g_assert_no_error(error);
	for (guint i = 0; i < MAX_REMEMBERED + 10; i++) {
		VigilFlow flow = udp_flow(i);
		vigil_socket_watch_allowed(watch, &flow, 0, NULL, NULL);
	}
	stats = stats_of(watch);
	g_assert_cmpuint(stats.remembered, ==, MAX_REMEMBERED);
	g_assert_cmpuint(stats.forgotten, ==, 10);
	g_assert_cmpuint(stats.deleted, ==, 10);
}

/* a judge that counts the remembered flows whose tag is @data's uid, and keeps them all */
typedef struct {
	guint32 uid;
	guint found;
} CountUid;

static VigilFlowFate
count_uid(const VigilFlow *flow, gpointer tag, gpointer data)
{
	CountUid *count = data;

	count->found += GPOINTER_TO_UINT(tag) == count->uid + 1;
	return VIGIL_FLOW_KEEP;
}

static guint
remembered_of(VigilSocketWatch *watch, guint32 uid)
{
	CountUid count = {uid, 0};
	const VigilSocketWatchJudge judge = {count_uid, NULL, &count};

	vigil_socket_watch_judge_all(watch, &judge);
	while (vigil_socket_watch_judge_slice(watch))
		;
	return count.found;
}

/*
 * The bound is shared fairly per user: one user's flood of allowed flows pushes out that
 * user's own oldest flows, not another user's older ones (the old watch dropped the oldest of
 * all: the other user's first); a user's subordinate uids count as the user
 */
static void
test_bound_fair(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	guint n = 0;

	g_assert_no_error(error);
	for (guint i = 0; i < 100; i++, n++) {
		VigilFlow flow = udp_flow(n);
		flow.has_uid = TRUE;
		flow.uid = 1000;
		vigil_socket_watch_allowed(watch, &flow, 0, GUINT_TO_POINTER(1000 + 1), NULL);
	}
	for (guint i = 0; i < MAX_REMEMBERED + 500; i++, n++) {
		VigilFlow flow = udp_flow(n);
		flow.has_uid = TRUE;
		flow.uid = 65534;
		vigil_socket_watch_allowed(watch, &flow, 0, GUINT_TO_POINTER(65534 + 1), NULL);
	}
	g_assert_cmpuint(stats_of(watch).remembered, ==, MAX_REMEMBERED);
	g_assert_cmpuint(stats_of(watch).forgotten, ==, 600);
	g_assert_cmpuint(remembered_of(watch, 1000), ==, 100);
	g_assert_cmpuint(remembered_of(watch, 65534), ==, MAX_REMEMBERED - 100);
}

/* --- real UDP flows and their conntrack entries ----------------------------------- */

/* conntrack tracks this namespace's traffic once a rule uses it */
static void
track_connections(void)
{
	const char *commands[] = {
	    "ip link set lo up",
	    "nft add table ip vigil_test",
	    "nft add chain ip vigil_test out { type filter hook output priority 0 \\; }",
	    "nft add rule ip vigil_test out ct state new counter",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *err = NULL;
		int status = 0;

		if (!g_spawn_command_line_sync(commands[i], NULL, &err, &status, &error) ||
		    !g_spawn_check_wait_status(status, &error))
			g_error("%s: %s %s", commands[i], error->message, err != NULL ? err : "");
	}
}

typedef struct {
	int fd; /* connected UDP socket on 127.0.0.1 */
	VigilFlow flow;
} UdpFlow;

static int receiver_fd = -1;
static guint16 receiver_port;

static void
start_receiver(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);

	if (receiver_fd >= 0)
		return;
	receiver_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(bind(receiver_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(getsockname(receiver_fd, (struct sockaddr *)&addr, &len), ==, 0);
	receiver_port = ntohs(addr.sin_port);
}

/* a UDP socket that sent one datagram to the receiver: a flow in conntrack */
static UdpFlow
udp_open(void)
{
	struct sockaddr_in dst = {.sin_family = AF_INET,
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                          .sin_port = htons(receiver_port)};
	struct sockaddr_in src;
	socklen_t len = sizeof(src);
	UdpFlow f = {0};

	f.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(f.fd, >=, 0);
	g_assert_cmpint(connect(f.fd, (struct sockaddr *)&dst, sizeof(dst)), ==, 0);
	g_assert_cmpint(send(f.fd, "x", 1, 0), ==, 1);
	g_assert_cmpint(getsockname(f.fd, (struct sockaddr *)&src, &len), ==, 0);
	f.flow.family = AF_INET;
	f.flow.protocol = IPPROTO_UDP;
	memcpy(f.flow.src.bytes, &src.sin_addr, 4);
	memcpy(f.flow.dst.bytes, &dst.sin_addr, 4);
	f.flow.sport = ntohs(src.sin_port);
	f.flow.dport = receiver_port;
	return f;
}

static void
udp_send(const UdpFlow *f)
{
	g_assert_cmpint(send(f->fd, "y", 1, 0), ==, 1);
}

/* a ctnetlink request (@type: GET or DELETE) for @flow's original tuple: TRUE when conntrack
 * had the entry */
static gboolean
ct_request(const VigilFlow *flow, guint16 type)
{
	char buf[8192] __attribute__((aligned(8)));
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *tuple, *nest;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	gboolean found = FALSE;
	ssize_t n;

	g_assert_cmpint(fd, >=, 0);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, flow->src.bytes);
	mnl_attr_put(nlh, CTA_IP_V4_DST, 4, flow->dst.bytes);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, flow->protocol);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(flow->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(flow->dport));
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
	g_assert_cmpint(
	    sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)), ==,
	    (ssize_t)nlh->nlmsg_len);
	/* the entry, then the ack; or an error (ENOENT) alone */
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		int len = (int)n;
		gboolean end = FALSE;
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(m);
				g_assert_true(err->error == 0 || err->error == -ENOENT);
				/* a delete is answered by the ack alone */
				found = found || (type == IPCTNL_MSG_CT_DELETE && err->error == 0);
				end = TRUE;
			} else if ((m->nlmsg_type & 0xff) == IPCTNL_MSG_CT_NEW)
				found = TRUE;
		}
		if (end)
			break;
	}
	close(fd);
	return found;
}

static gboolean
in_conntrack(const VigilFlow *flow)
{
	return ct_request(flow, IPCTNL_MSG_CT_GET);
}

static gboolean
wait_until_gone(const VigilFlow *flow, guint seconds)
{
	gint64 until = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;

	while (in_conntrack(flow)) {
		if (g_get_monotonic_time() > until)
			return FALSE;
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(10000);
	}
	return TRUE;
}

/*
 * Close notifications lost (the watch's receive buffer overran while it was not reading): any
 * remembered flow's socket may be gone, so every remembered flow's conntrack entry is deleted,
 * also of sockets still open (their next packets are new and decided again); none keeps a
 * verdict unwatched. The watch goes on watching afterwards.
 */
static void
test_overrun_deletes(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	UdpFlow flows[3];
	gint64 until;

	g_assert_no_error(error);
	start_receiver();
	for (guint i = 0; i < G_N_ELEMENTS(flows); i++) {
		flows[i] = udp_open();
		g_assert_true(in_conntrack(&flows[i].flow));
		vigil_socket_watch_allowed(watch, &flows[i].flow, 0, NULL, NULL);
	}
	g_assert_cmpuint(stats_of(watch).remembered, ==, 3);

	/* more close notifications than its buffer holds arrive while the watch does not read
	 * (the kernel sends them from a work queue, a few hundred a second under load: the
	 * buffer is made small enough for a handful) */
	vigil_socket_watch_set_receive_buffer(watch, 1);
	g_test_expect_message("vigil-socket-watch", G_LOG_LEVEL_WARNING,
	                      "socket close notifications lost*3 allowed UDP flow(s)*deleted*");
	until = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
	while (stats_of(watch).overruns == 0 && g_get_monotonic_time() < until) {
		for (guint i = 0; i < 64; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			g_assert_cmpint(fd, >=, 0);
			close(fd);
		}
		g_usleep(200000);
		g_main_context_iteration(NULL, FALSE);
	}
	g_test_assert_expected_messages();
	g_assert_cmpuint(stats_of(watch).overruns, >=, 1);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 0);
	/* the sockets are still open, yet their entries are gone */
	for (guint i = 0; i < G_N_ELEMENTS(flows); i++)
		g_assert_false(in_conntrack(&flows[i].flow));

	/* still watching: a flow allowed again ends with its socket */
	udp_send(&flows[0]);
	g_assert_true(in_conntrack(&flows[0].flow));
	vigil_socket_watch_allowed(watch, &flows[0].flow, 0, NULL, NULL);
	close(flows[0].fd);
	g_assert_true(wait_until_gone(&flows[0].flow, 10));
	for (guint i = 1; i < G_N_ELEMENTS(flows); i++)
		close(flows[i].fd);
}

/* the daemon's judgement, here by tag: "keep", "end" or "again" */
static VigilFlowFate
judge_by_tag(const VigilFlow *flow, gpointer tag, gpointer data)
{
	if (g_str_equal(tag, "end"))
		return VIGIL_FLOW_END;
	return g_str_equal(tag, "again") ? VIGIL_FLOW_AGAIN : VIGIL_FLOW_KEEP;
}

/* TCP connections to decide again are handed over, with their tag */
static void
ask_collect(const VigilFlow *flow, guint64 cookie, gpointer tag, GDestroyNotify tag_free,
            gpointer data)
{
	g_ptr_array_add(data, g_memdup2(flow, sizeof(*flow)));
	tag_free(tag);
}

static void
judge_all_now(VigilSocketWatch *watch, GPtrArray *asked)
{
	const VigilSocketWatchJudge judge = {judge_by_tag, ask_collect, asked};

	vigil_socket_watch_judge_all(watch, &judge);
	while (vigil_socket_watch_judge_slice(watch))
		;
}

/*
 * The rules changed: a UDP flow the daemon ends or decides again loses its conntrack entry
 * while its socket is still open, so its next packet is decided again; the others keep theirs.
 */
static void
test_judge_udp(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	g_autoptr(GPtrArray) asked = g_ptr_array_new_with_free_func(g_free);
	UdpFlow kept, ended, again;

	g_assert_no_error(error);
	start_receiver();
	kept = udp_open();
	ended = udp_open();
	again = udp_open();
	vigil_socket_watch_allowed(watch, &kept.flow, 0, g_strdup("keep"), g_free);
	vigil_socket_watch_allowed(watch, &ended.flow, 0, g_strdup("end"), g_free);
	vigil_socket_watch_allowed(watch, &again.flow, 0, g_strdup("again"), g_free);
	g_assert_true(in_conntrack(&kept.flow));
	g_assert_true(in_conntrack(&ended.flow));

	judge_all_now(watch, asked);
	g_assert_true(in_conntrack(&kept.flow));
	g_assert_false(in_conntrack(&ended.flow));
	g_assert_false(in_conntrack(&again.flow));
	g_assert_cmpuint(asked->len, ==, 0); /* a UDP flow's next datagram is asked about */
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);
	g_assert_cmpuint(stats_of(watch).revoked, ==, 1);
	g_assert_cmpuint(stats_of(watch).ended, ==, 1);
	/* its next datagram is a new flow (vigild decides it again) */
	udp_send(&ended);
	g_assert_true(in_conntrack(&ended.flow));
	close(ended.fd);
	close(again.fd);
	close(kept.fd);
	g_assert_true(wait_until_gone(&kept.flow, 10));
}

typedef struct {
	int client; /* connected */
	int server; /* accepted */
	VigilFlow flow;
	guint64 cookie; /* the client socket's */
} TcpConn;

static guint64
cookie_of(int fd)
{
	guint64 cookie = 0;
	socklen_t len = sizeof(cookie);

	g_assert_cmpint(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), ==, 0);
	return cookie;
}

static TcpConn
tcp_open(int listener)
{
	struct sockaddr_in dst, src;
	socklen_t len = sizeof(dst);
	TcpConn c = {0};

	g_assert_cmpint(getsockname(listener, (struct sockaddr *)&dst, &len), ==, 0);
	c.client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(connect(c.client, (struct sockaddr *)&dst, sizeof(dst)), ==, 0);
	c.server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(c.server, >=, 0);
	len = sizeof(src);
	g_assert_cmpint(getsockname(c.client, (struct sockaddr *)&src, &len), ==, 0);
	c.flow.family = AF_INET;
	c.flow.protocol = IPPROTO_TCP;
	memcpy(c.flow.src.bytes, &src.sin_addr, 4);
	memcpy(c.flow.dst.bytes, &dst.sin_addr, 4);
	c.flow.sport = ntohs(src.sin_port);
	c.flow.dport = ntohs(dst.sin_port);
	c.cookie = cookie_of(c.client);
	return c;
}

/* the connection still carries data both ways */
static gboolean
tcp_alive(const TcpConn *c)
{
	char byte;

	return send(c->client, "x", 1, MSG_NOSIGNAL) == 1 && recv(c->server, &byte, 1, 0) == 1 &&
	       send(c->server, "y", 1, MSG_NOSIGNAL) == 1 && recv(c->client, &byte, 1, 0) == 1;
}

/*
 * A TCP connection the daemon ends is ended for real while neither side sends: the program
 * reading it gets ECONNABORTED, the peer a reset. One to decide again is handed to the daemon
 * (to be asked about) and untouched; one kept carries on. A closed one is forgotten.
 */
static void
test_judge_tcp(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	g_autoptr(GPtrArray) asked = g_ptr_array_new_with_free_func(g_free);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	TcpConn kept, ended, again, closed;
	char byte;

	g_assert_no_error(error);
	g_assert_cmpint(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(listener, 8), ==, 0);
	kept = tcp_open(listener);
	ended = tcp_open(listener);
	again = tcp_open(listener);
	closed = tcp_open(listener);
	vigil_socket_watch_allowed(watch, &kept.flow, kept.cookie, g_strdup("keep"), g_free);
	vigil_socket_watch_allowed(watch, &ended.flow, ended.cookie, g_strdup("end"), g_free);
	vigil_socket_watch_allowed(watch, &again.flow, again.cookie, g_strdup("again"), g_free);
	vigil_socket_watch_allowed(watch, &closed.flow, closed.cookie, g_strdup("end"), g_free);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 4);

	/* the kernel reports the closed one's socket destroyed: it is forgotten */
	close(closed.client);
	close(closed.server);
	for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	     stats_of(watch).remembered > 3 && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(10000);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 3);

	judge_all_now(watch, asked);
	g_assert_cmpint(recv(ended.client, &byte, 1, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNABORTED);
	g_assert_cmpint(recv(ended.server, &byte, 1, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNRESET);
	g_assert_cmpuint(asked->len, ==, 1);
	g_assert_cmpmem(asked->pdata[0], sizeof(VigilFlow), &again.flow, sizeof(VigilFlow));
	g_assert_true(tcp_alive(&again));
	g_assert_true(tcp_alive(&kept));
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);
	g_assert_cmpuint(stats_of(watch).ended, ==, 1);

	/* a pass starts over when the rules change again; a flow allowed meanwhile is not
	 * judged by it (the rules in force decided it) */
	vigil_socket_watch_allowed(watch, &again.flow, again.cookie, g_strdup("end"), g_free);
	judge_all_now(watch, asked);
	g_assert_cmpint(recv(again.client, &byte, 1, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNABORTED);
	g_assert_true(tcp_alive(&kept));
	for (TcpConn *c = (TcpConn[]){kept, ended, again}, *end = c + 3; c < end; c++) {
		close(c->client);
		close(c->server);
	}
	close(listener);
}

/* a flow handed over to be asked about, with its socket's cookie */
typedef struct {
	VigilFlow flow;
	guint64 cookie;
} Asked;

static void
ask_keep(const VigilFlow *flow, guint64 cookie, gpointer tag, GDestroyNotify tag_free,
         gpointer data)
{
	Asked *asked = data;

	asked->flow = *flow;
	asked->cookie = cookie;
	tag_free(tag);
}

static VigilFlowFate
judge_again(const VigilFlow *flow, gpointer tag, gpointer data)
{
	return g_str_equal(tag, "again") ? VIGIL_FLOW_AGAIN : VIGIL_FLOW_KEEP;
}

/* closes @fd with a reset: the socket is gone at once, no TIME_WAIT keeps its tuple */
static void
close_abort(int fd)
{
	struct linger linger = {1, 0};

	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger)), ==, 0);
	close(fd);
}

/* a socket bound to @flow's local address and port (SO_REUSEADDR), as another program's */
static int
bind_same_port(const VigilFlow *flow)
{
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(flow->sport)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(&src.sin_addr, flow->src.bytes, 4);
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ==, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&src, sizeof(src)), ==, 0);
	return fd;
}

/* the main loop runs until the kernel reported @want TCP sockets closed in all, and no more
 * come for a moment (the sockets of earlier tests are reported late too) */
static void
wait_tcp_closed(VigilSocketWatch *watch, guint64 want)
{
	gint64 quiet_since = g_get_monotonic_time();
	guint64 seen = stats_of(watch).tcp_closed;

	for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	     g_get_monotonic_time() < until;) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(5000);
		if (stats_of(watch).tcp_closed != seen) {
			seen = stats_of(watch).tcp_closed;
			quiet_since = g_get_monotonic_time();
		}
		if (seen >= want && g_get_monotonic_time() - quiet_since > 200 * 1000)
			break;
	}
	g_assert_cmpuint(stats_of(watch).tcp_closed, >=, want);
}

/*
 * A TCP connection is ended by its socket's cookie, never by its bare tuple (review finding):
 * a connection handed over to be asked about is closed by its program, another socket takes
 * its tuple (bound to the same port, connected to the same peer: another user's new
 * connection), and the answer deny for the first one leaves the second alive; so does a late
 * close notice of the first socket. With no connection on the tuple at all, the kernel's lookup
 * falls through to a listener on the local port: left alone too. The old watch destroyed
 * whatever socket the tuple named.
 */
static void
test_tuple_reused(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	const VigilSocketWatchJudge judge = {judge_again, ask_keep, NULL};
	VigilSocketWatchJudge with_data = judge;
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	Asked asked = {0};
	TcpConn first, second;
	int other, local_listener;
	guint64 closed_before;

	g_assert_no_error(error);
	g_assert_cmpint(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(listener, 8), ==, 0);
	g_assert_cmpint(getsockname(listener, (struct sockaddr *)&addr, &len), ==, 0);
	wait_tcp_closed(watch, 0); /* the sockets of earlier tests */
	first = tcp_open(listener);
	vigil_socket_watch_allowed(watch, &first.flow, first.cookie, g_strdup("again"), g_free);
	with_data.user_data = &asked;
	vigil_socket_watch_judge_all(watch, &with_data);
	while (vigil_socket_watch_judge_slice(watch))
		;
	g_assert_cmpuint(asked.cookie, ==, first.cookie);
	g_assert_cmpmem(&asked.flow, sizeof(VigilFlow), &first.flow, sizeof(VigilFlow));

	/* while it is asked about, its program closes it and another socket takes the tuple */
	closed_before = stats_of(watch).tcp_closed;
	close_abort(first.client);
	close(first.server);
	other = bind_same_port(&first.flow);
	g_assert_cmpint(connect(other, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	second.client = other;
	second.server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(second.server, >=, 0);
	second.flow = first.flow;
	second.cookie = cookie_of(other);
	g_assert_cmpuint(second.cookie, !=, first.cookie);
	vigil_socket_watch_allowed(watch, &second.flow, second.cookie, g_strdup("keep"), g_free);
	/* the first one's close notices (both ends), however late, are not the second one's */
	wait_tcp_closed(watch, closed_before + 2);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);

	/* the answer: deny, for the first one */
	vigil_socket_watch_end(watch, &asked.flow, asked.cookie);
	g_assert_true(tcp_alive(&second));
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);

	/* nothing connected on the tuple: the lookup finds a listener on its local port */
	close_abort(second.client);
	close(second.server);
	for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	     stats_of(watch).remembered > 0 && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(5000);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 0);
	local_listener = bind_same_port(&first.flow);
	g_assert_cmpint(listen(local_listener, 8), ==, 0);
	vigil_socket_watch_end(watch, &asked.flow, second.cookie);
	{
		struct sockaddr_in local = {.sin_family = AF_INET,
		                            .sin_port = htons(first.flow.sport)};
		int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		memcpy(&local.sin_addr, first.flow.src.bytes, 4);
		g_assert_cmpint(connect(probe, (struct sockaddr *)&local, sizeof(local)), ==, 0);
		close(probe);
	}
	close(local_listener);
	close(listener);
}

/* the request names the socket by its cookie, as the kernel compares it; none without one */
static void
test_destroy_request(void)
{
	VigilFlow flow = udp_flow(7);
	VigilSockDestroyRequest msg;

	flow.protocol = IPPROTO_TCP;
	g_assert_true(vigil_sock_diag_destroy_request(&flow, G_GUINT64_CONSTANT(0x1122334455667788),
	                                              42, &msg));
	g_assert_cmpuint(msg.nlh.nlmsg_type, ==, SOCK_DESTROY);
	g_assert_cmpuint(msg.nlh.nlmsg_seq, ==, 42);
	g_assert_cmphex(msg.req.id.idiag_cookie[0], ==, 0x55667788);
	g_assert_cmphex(msg.req.id.idiag_cookie[1], ==, 0x11223344);
	g_assert_cmpuint(msg.req.sdiag_protocol, ==, IPPROTO_TCP);
	g_assert_cmpuint(ntohs(msg.req.id.idiag_sport), ==, flow.sport);
	g_assert_cmpuint(ntohs(msg.req.id.idiag_dport), ==, flow.dport);
	g_assert_cmpmem(msg.req.id.idiag_src, 4, flow.src.bytes, 4);
	g_assert_cmpmem(msg.req.id.idiag_dst, 4, flow.dst.bytes, 4);
	/* never by the bare tuple */
	g_assert_false(vigil_sock_diag_destroy_request(&flow, 0, 43, &msg));
}

/*
 * Age alone never ends a flow's verdict nor its watch: an old flow whose entry conntrack still
 * has stays remembered (and its entry goes with its socket); one whose entry conntrack let go
 * (its timeout; here deleted behind the watch's back) is forgotten.
 */
static void
test_long_lived(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	UdpFlow alive, idle;

	g_assert_no_error(error);
	start_receiver();
	alive = udp_open();
	idle = udp_open();
	vigil_socket_watch_allowed(watch, &alive.flow, 0, NULL, NULL);
	vigil_socket_watch_allowed(watch, &idle.flow, 0, NULL, NULL);
	g_assert_true(ct_request(&idle.flow, IPCTNL_MSG_CT_DELETE));

	/* every flow counts as old here */
	g_assert_cmpuint(vigil_socket_watch_recheck(watch, 0), ==, 1);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);
	g_assert_cmpuint(stats_of(watch).expired, ==, 1);
	g_assert_true(in_conntrack(&alive.flow));
	g_assert_cmpuint(vigil_socket_watch_recheck(watch, 0), ==, 0);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);

	/* still watched: its entry ends with its socket */
	udp_send(&alive);
	close(alive.fd);
	g_assert_true(wait_until_gone(&alive.flow, 10));
	g_assert_cmpuint(stats_of(watch).remembered, ==, 0);
	close(idle.fd);
}

/* a judge that notes the source ports of the flows it judged, and keeps them all */
static VigilFlowFate
note_port(const VigilFlow *flow, gpointer tag, gpointer data)
{
	g_hash_table_add(data, GUINT_TO_POINTER(flow->sport));
	return VIGIL_FLOW_KEEP;
}

/*
 * A stream of rule changes does not keep a pass from the flows at the tail: each change let
 * the old watch start over from the oldest flow, so with a change per slice an administrator's
 * deny rule never reached a long-lived connection allowed last
 */
static void
test_changes_do_not_starve_the_tail(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	g_autoptr(GHashTable) judged = g_hash_table_new(NULL, NULL);
	const VigilSocketWatchJudge judge = {note_port, NULL, judged};
	const guint n = 8 * VIGIL_SOCKET_WATCH_SLICE;
	VigilFlow last = udp_flow(n - 1);

	g_assert_no_error(error);
	for (guint i = 0; i < n; i++) {
		VigilFlow flow = udp_flow(i);

		vigil_socket_watch_allowed(watch, &flow, 0, NULL, NULL);
	}
	for (guint change = 0; change < 20; change++) {
		vigil_socket_watch_judge_all(watch, &judge);
		vigil_socket_watch_judge_slice(watch);
	}
	g_assert_true(g_hash_table_contains(judged, GUINT_TO_POINTER(last.sport)));
	/* and once the changes stop, every flow was judged by the last rules */
	g_hash_table_remove_all(judged);
	vigil_socket_watch_judge_all(watch, &judge);
	while (vigil_socket_watch_judge_slice(watch))
		;
	g_assert_cmpuint(g_hash_table_size(judged), ==, n);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* conntrack deletions and socket notifications of a network namespace of its own: the
	 * machine's own is never touched (the test runs as root, as vigild does) */
	if (unshare(CLONE_NEWNET) != 0)
		g_error("unshare(CLONE_NEWNET): %s (the test needs root)", g_strerror(errno));
	g_test_add_func("/socket-watch/same-tuple-once", test_same_tuple_once);
	g_test_add_func("/socket-watch/bound-deletes", test_bound_deletes);
	g_test_add_func("/socket-watch/bound-fair", test_bound_fair);
	g_test_add_func("/socket-watch/destroy-request", test_destroy_request);
	track_connections();
	g_test_add_func("/socket-watch/overrun-deletes", test_overrun_deletes);
	g_test_add_func("/socket-watch/judge-udp", test_judge_udp);
	g_test_add_func("/socket-watch/judge-tcp", test_judge_tcp);
	g_test_add_func("/socket-watch/tuple-reused", test_tuple_reused);
	g_test_add_func("/socket-watch/changes-do-not-starve", test_changes_do_not_starve_the_tail);
	g_test_add_func("/socket-watch/long-lived", test_long_lived);
	return g_test_run();
}
