/* vigil-conntrack.c: what conntrack counted on the flows vigild allowed */
#define G_LOG_DOMAIN "vigil-conntrack"
#include "config.h"

#include "vigil-conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Conntrack counts every flow's packets and bytes each way once accounting is on
 * (nf_conntrack_acct, per network namespace), and tells them in the event of the flow's end;
 * a flow that lives long is read from the table (a dump filtered by vigild's allow mark in the
 * kernel) every VIGIL_CONNTRACK_READ_INTERVAL_S. Events go to one socket, the dump to another,
 * so that neither waits for the other. Lost events (a receive buffer overrun) are counted and
 * reported: their flows keep the counters of their last read.
 *
 * A user may have tens of thousands of flows, so a read of the table (or a burst of ends) is
 * taken in slices: one dispatch handles at most SLICE_MESSAGES messages (plus the rest of the
 * buffer it is reading), then gives the main loop back; the sockets stay readable and are read
 * on in a later iteration. Their sources have a priority below the default, so a queued packet
 * that is waiting is decided first: it waits for at most one slice.
 */

#define ACCT_SYSCTL    "/proc/sys/net/netfilter/nf_conntrack_acct"
#define EVENTS_RCVBUF  (4 * 1024 * 1024)
#define RECV_BUF_BYTES (64 * 1024)
#define SLICE_MESSAGES 256
/* after the netfilter queue's reads (G_PRIORITY_DEFAULT), before idle work */
#define SOURCE_PRIORITY (G_PRIORITY_DEFAULT + 10)

struct _VigilConntrack {
	guint32 mark, mark_mask;
	VigilFlowCountersFunc func;
	gpointer user_data;
	struct mnl_socket *events;
	struct mnl_socket *dump;
	guint events_source, dump_source, timer_source;
	gboolean dumping;
	guint32 dump_seq;
	guint64 lost;     /* events lost to overruns, not yet reported */
	guint n_messages; /* read in this dispatch */
};

/* ---- parsing (pure) ---- */

typedef struct {
	const struct nlattr *tb[CTA_MAX + 1];
} Attrs;

static int
collect_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	/* the highest type of the tables below is CTA_MAX; one table size fits all nests */
	if (type <= CTA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static gboolean
parse_nested(const struct nlattr *nest, const struct nlattr **tb)
{
	memset(tb, 0, sizeof(struct nlattr *) * (CTA_MAX + 1));
	return nest != NULL && mnl_attr_parse_nested(nest, collect_attr, tb) == MNL_CB_OK;
}

static gboolean
read_be16(const struct nlattr *attr, guint16 *value)
{
	if (attr == NULL || mnl_attr_get_payload_len(attr) < sizeof(guint16))
		return FALSE;
	*value = ntohs(mnl_attr_get_u16(attr));
	return TRUE;
}

static guint64
read_be64(const struct nlattr *attr)
{
	guint64 value;

	if (attr == NULL || mnl_attr_get_payload_len(attr) < sizeof value)
		return 0;
	memcpy(&value, mnl_attr_get_payload(attr), sizeof value);
	return GUINT64_FROM_BE(value);
}

static gboolean
read_address(const struct nlattr *attr, gsize len, VigilAddress *address)
{
	if (attr == NULL || mnl_attr_get_payload_len(attr) < len)
		return FALSE;
	memset(address, 0, sizeof *address);
	memcpy(address->bytes, mnl_attr_get_payload(attr), len);
	return TRUE;
}

static gboolean
parse_tuple(const struct nlattr *tuple, int family, VigilFlowCounters *c)
{
	const struct nlattr *t[CTA_MAX + 1], *ip[CTA_MAX + 1], *proto[CTA_MAX + 1];
	const struct nlattr *num;

	if (!parse_nested(tuple, t) || !parse_nested(t[CTA_TUPLE_IP], ip) ||
	    !parse_nested(t[CTA_TUPLE_PROTO], proto))
		return FALSE;
	if (family == AF_INET) {
		if (!read_address(ip[CTA_IP_V4_SRC], 4, &c->src) ||
		    !read_address(ip[CTA_IP_V4_DST], 4, &c->dst))
			return FALSE;
	} else if (family == AF_INET6) {
		if (!read_address(ip[CTA_IP_V6_SRC], 16, &c->src) ||
		    !read_address(ip[CTA_IP_V6_DST], 16, &c->dst))
			return FALSE;
	} else {
		return FALSE;
	}
	num = proto[CTA_PROTO_NUM];
	if (num == NULL || mnl_attr_get_payload_len(num) < 1)
		return FALSE;
	c->protocol = mnl_attr_get_u8(num);
	/* ports for the protocols that have them; zero otherwise (ICMP) */
	if (!read_be16(proto[CTA_PROTO_SRC_PORT], &c->sport))
		c->sport = 0;
	if (!read_be16(proto[CTA_PROTO_DST_PORT], &c->dport))
		c->dport = 0;
	return TRUE;
}

static void
read_counters(const struct nlattr *nest, guint64 *packets, guint64 *bytes)
{
	const struct nlattr *tb[CTA_MAX + 1];

	*packets = *bytes = 0;
	if (!parse_nested(nest, tb))
		return;
	*packets = read_be64(tb[CTA_COUNTERS_PACKETS]);
	*bytes = read_be64(tb[CTA_COUNTERS_BYTES]);
}

gboolean
vigil_conntrack_parse(const struct nlmsghdr *nlh, VigilFlowCounters *c)
{
	const struct nlattr *tb[CTA_MAX + 1] = {NULL};
	const struct nfgenmsg *nfg;
	int type;

	memset(c, 0, sizeof *c);
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof *nfg ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
		return FALSE;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type != IPCTNL_MSG_CT_NEW && type != IPCTNL_MSG_CT_DELETE)
		return FALSE;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof *nfg, collect_attr, tb) != MNL_CB_OK)
		return FALSE;
	c->family = nfg->nfgen_family;
	if (!parse_tuple(tb[CTA_TUPLE_ORIG], c->family, c))
		return FALSE;
	if (tb[CTA_MARK] != NULL && mnl_attr_get_payload_len(tb[CTA_MARK]) >= sizeof(guint32))
		c->mark = ntohl(mnl_attr_get_u32(tb[CTA_MARK]));
	if (tb[CTA_ID] != NULL && mnl_attr_get_payload_len(tb[CTA_ID]) >= sizeof(guint32))
		c->id = ntohl(mnl_attr_get_u32(tb[CTA_ID]));
	read_counters(tb[CTA_COUNTERS_ORIG], &c->packets_out, &c->bytes_out);
	read_counters(tb[CTA_COUNTERS_REPLY], &c->packets_in, &c->bytes_in);
	c->ended = type == IPCTNL_MSG_CT_DELETE;
	return TRUE;
}

/* ---- sockets ---- */

static int
on_message(const struct nlmsghdr *nlh, void *data)
{
	VigilConntrack *ct = data;
	VigilFlowCounters counters;

	ct->n_messages++;
	if (vigil_conntrack_parse(nlh, &counters) && (counters.mark & ct->mark_mask) == ct->mark)
		ct->func(&counters, ct->user_data);
	return MNL_CB_OK;
}

/* reads a slice of what @nl has; FALSE when a dump is over (or failed) */
static gboolean
read_messages(VigilConntrack *ct, struct mnl_socket *nl, guint32 seq)
{
	char buf[RECV_BUF_BYTES];

	ct->n_messages = 0;
	while (ct->n_messages < SLICE_MESSAGES) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
		int rc;

		if (n < 0 && errno == ENOBUFS) {
			ct->lost++;
			ct->n_messages++; /* a slice ends even while only overruns come */
			continue;
		}
		if (n <= 0)
			return TRUE; /* EAGAIN: all read for now */
		rc = mnl_cb_run(buf, (size_t)n, seq, 0, on_message, ct);
		if (rc <= MNL_CB_STOP)
			return FALSE;
	}
	return TRUE; /* the rest in the next slice: the socket is still readable */
}

static gboolean
on_events(int fd, GIOCondition condition, gpointer data)
{
	VigilConntrack *ct = data;

	(void)fd;
	(void)condition;
	read_messages(ct, ct->events, 0);
	if (ct->lost > 0) {
		g_warning("conntrack: the ends of some flows were lost (%" G_GUINT64_FORMAT
		          " receive buffer overruns): their history keeps the last counters read",
		          ct->lost);
		ct->lost = 0;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
on_dump(int fd, GIOCondition condition, gpointer data)
{
	VigilConntrack *ct = data;

	(void)fd;
	(void)condition;
	if (!read_messages(ct, ct->dump, ct->dump_seq))
		ct->dumping = FALSE;
	return G_SOURCE_CONTINUE;
}

/* asks for the flows with our allow mark (the kernel filters them) */
static void
request_dump(VigilConntrack *ct)
{
	char buf[512]; /* a header and two attributes */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++ct->dump_seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(ct->mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(ct->mark_mask));
	if (mnl_socket_sendto(ct->dump, nlh, nlh->nlmsg_len) < 0)
		g_debug("conntrack: cannot read the table: %s", g_strerror(errno));
	else
		ct->dumping = TRUE;
}

void
vigil_conntrack_read_now(VigilConntrack *ct)
{
	/* one read at a time: a slow one is not stacked up */
	if (!ct->dumping)
		request_dump(ct);
}

static gboolean
on_timer(gpointer data)
{
	vigil_conntrack_read_now(data);
	return G_SOURCE_CONTINUE;
}

/* accounting counts only flows that start after it is on */
static void
turn_accounting_on(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *value = NULL;

	if (g_file_get_contents(ACCT_SYSCTL, &value, NULL, NULL) && value[0] == '1')
		return;
	if (!g_file_set_contents_full(ACCT_SYSCTL, "1\n", -1, G_FILE_SET_CONTENTS_NONE, 0644,
	                              &error))
		g_warning("conntrack accounting is off (%s): no bytes are counted per connection",
		          error->message);
	else
		g_message("conntrack accounting turned on (%s): bytes are counted per connection",
		          ACCT_SYSCTL);
}

static struct mnl_socket *
open_socket(unsigned int groups, int rcvbuf, GError **error)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int saved;

	if (nl == NULL)
		goto failed;
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0)
		goto failed;
	if (rcvbuf > 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		           sizeof rcvbuf);
	return nl;

failed:
	saved = errno;
	if (nl != NULL)
		mnl_socket_close(nl);
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "ctnetlink: %s",
	            g_strerror(saved));
	return NULL;
}

VigilConntrack *
vigil_conntrack_new(guint32 mark, guint32 mark_mask, VigilFlowCountersFunc func, gpointer user_data,
                    GError **error)
{
	g_autoptr(VigilConntrack) ct = g_new0(VigilConntrack, 1);

	ct->mark = mark;
	ct->mark_mask = mark_mask;
	ct->func = func;
	ct->user_data = user_data;
	ct->events = open_socket(NF_NETLINK_CONNTRACK_DESTROY, EVENTS_RCVBUF, error);
	if (ct->events == NULL)
		return NULL;
	ct->dump = open_socket(0, 0, error);
	if (ct->dump == NULL)
		return NULL;
	turn_accounting_on();
	ct->events_source = g_unix_fd_add_full(SOURCE_PRIORITY, mnl_socket_get_fd(ct->events),
	                                       G_IO_IN, on_events, ct, NULL);
	ct->dump_source = g_unix_fd_add_full(SOURCE_PRIORITY, mnl_socket_get_fd(ct->dump), G_IO_IN,
	                                     on_dump, ct, NULL);
	ct->timer_source = g_timeout_add_seconds(VIGIL_CONNTRACK_READ_INTERVAL_S, on_timer, ct);
	return g_steal_pointer(&ct);
}

void
vigil_conntrack_free(VigilConntrack *ct)
{
	if (ct == NULL)
		return;
	g_clear_handle_id(&ct->events_source, g_source_remove);
	g_clear_handle_id(&ct->dump_source, g_source_remove);
	g_clear_handle_id(&ct->timer_source, g_source_remove);
	g_clear_pointer(&ct->events, mnl_socket_close);
	g_clear_pointer(&ct->dump, mnl_socket_close);
	g_free(ct);
}
