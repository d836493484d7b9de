/* vigil-nflog.c: NFLOG copies read with libmnl: the message parser and a group's own reader */
#define G_LOG_DOMAIN "vigil-nflog"
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <poll.h>
#include <sys/socket.h>

#include "vigil-nflog.h"

/* a whole 64 KiB copy and its attributes */
#define RECV_BYTES        (65536 + 4096)
#define RECV_BUFFER_BYTES (4 * 1024 * 1024)
/* at most this many datagrams per wakeup, so the main loop gets its turn */
#define MAX_BATCH         64
#define CONFIG_TIMEOUT_MS 1000
#define CONFIG_BYTES      512 /* one config request */
/* copies the kernel gathers into one datagram, and how long it waits for them (1/100 s) */
#define QUEUE_THRESHOLD 16
#define FLUSH_TIMEOUT   5

typedef struct {
	VigilNflogFunc func;
	gpointer user_data;
} ParseContext;

static int
parse_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, NFULA_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static int
on_message(const struct nlmsghdr *nlh, void *data)
{
	ParseContext *ctx = data;
	const struct nlattr *tb[NFULA_MAX + 1] = {NULL};
	const struct nfulnl_msg_packet_hdr *hdr;
	const struct nfgenmsg *nfg;
	VigilNflogPacket packet = {0};

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFULNL_MSG_PACKET ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_ULOG ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), parse_attr, tb) < 0)
		return MNL_CB_OK;
	if (tb[NFULA_PACKET_HDR] == NULL || tb[NFULA_PAYLOAD] == NULL ||
	    mnl_attr_get_payload_len(tb[NFULA_PACKET_HDR]) < sizeof(*hdr))
		return MNL_CB_OK;
	nfg = mnl_nlmsg_get_payload(nlh);
	hdr = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);
	packet.group = ntohs(nfg->res_id);
	packet.hook = hdr->hook;
	packet.payload = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
	packet.len = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);
	if (tb[NFULA_UID] != NULL && mnl_attr_validate(tb[NFULA_UID], MNL_TYPE_U32) >= 0) {
		packet.has_uid = TRUE;
		packet.uid = ntohl(mnl_attr_get_u32(tb[NFULA_UID]));
	}
	ctx->func(&packet, ctx->user_data);
	return MNL_CB_OK;
}

/*
 * The messages are walked here, not by mnl_cb_run(): libmnl's mnl_nlmsg_ok() compares the
 * length as an int, so a message claiming more than 2 GiB would pass and lead its walk
 * outside the datagram (found by fuzz-capture).
 */
void
vigil_nflog_parse(const guint8 *datagram, gsize len, VigilNflogFunc func, gpointer user_data)
{
	ParseContext ctx = {func, user_data};

	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)datagram;
		gsize aligned;

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			return;
		on_message(nlh, &ctx);
		aligned = NLMSG_ALIGN((gsize)nlh->nlmsg_len);
		if (aligned >= len)
			return;
		datagram += aligned;
		len -= aligned;
	}
}

/* --- a reader of a group of its own ----------------------------------------------------- */

struct _VigilNflogReader {
	struct mnl_socket *nl;
	guint16 group;
	gboolean bound;
	guint source;
	guint32 seq;
	VigilNflogFunc func;
	gpointer user_data;
	guint64 lost;
	guint8 *buffer;
};

static struct nlmsghdr *
put_config_header(VigilNflogReader *reader, char *buf, guint16 group, guint8 family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++reader->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	return nlh;
}

/* sends a config request and reads until its answer; copies meanwhile are not ours yet */
static gboolean
send_config(VigilNflogReader *reader, struct nlmsghdr *nlh, const char *what, GError **error)
{
	guint32 portid = mnl_socket_get_portid(reader->nl);
	gint64 deadline = g_get_monotonic_time() + CONFIG_TIMEOUT_MS * 1000;
	int fd = mnl_socket_get_fd(reader->nl);
	guint32 seq = nlh->nlmsg_seq;
	int answer = -1;

	if (mnl_socket_sendto(reader->nl, nlh, nlh->nlmsg_len) < 0)
		answer = errno;
	while (answer < 0) {
		struct pollfd pfd = {fd, POLLIN, 0};
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;

		if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) == 0) {
			answer = ETIMEDOUT;
			break;
		}
		n = recv(fd, reader->buffer, RECV_BYTES, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
				answer = errno;
			continue;
		}
		int ret = mnl_cb_run(reader->buffer, (size_t)n, seq, portid, NULL, NULL);
		if (ret == MNL_CB_ERROR)
			answer = errno;
		else if (ret == MNL_CB_STOP)
			answer = 0;
		/* an ACK arrives as an error message of 0: mnl_cb_run returns MNL_CB_STOP */
	}
	if (answer == 0)
		return TRUE;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(answer), "NFLOG group %u: %s: %s",
	            reader->group, what, g_strerror(answer));
	return FALSE;
}

static gboolean
on_readable(int fd, GIOCondition condition, gpointer data)
{
	VigilNflogReader *reader = data;

	for (int i = 0; i < MAX_BATCH; i++) {
		ssize_t n = recv(fd, reader->buffer, RECV_BYTES, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				reader->lost++;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				g_warning("reading NFLOG group %u: %s", reader->group,
				          g_strerror(errno));
			break;
		}
		vigil_nflog_parse(reader->buffer, (gsize)n, reader->func, reader->user_data);
	}
	return G_SOURCE_CONTINUE;
}

VigilNflogReader *
vigil_nflog_reader_new(guint16 group, guint32 copy_range, VigilNflogFunc func, gpointer user_data,
                       GError **error)
{
	g_autoptr(VigilNflogReader) reader = g_new0(VigilNflogReader, 1);
	char buf[CONFIG_BYTES] __attribute__((aligned(8)));
	struct nfulnl_msg_config_cmd cmd = {NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {htonl(copy_range), NFULNL_COPY_PACKET, 0};
	struct nlmsghdr *nlh;
	int size = RECV_BUFFER_BYTES, fd;

	reader->group = group;
	reader->func = func;
	reader->user_data = user_data;
	reader->buffer = g_malloc(RECV_BYTES);
	reader->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (reader->nl == NULL || mnl_socket_bind(reader->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
		            "NFLOG group %u: netlink socket: %s", group, g_strerror(saved));
		return NULL;
	}
	fd = mnl_socket_get_fd(reader->nl);
	/* as much as the kernel lets us have; root may go past rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	nlh = put_config_header(reader, buf, group, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (!send_config(reader, nlh, "binding (is another logger using it?)", error))
		return NULL;
	reader->bound = TRUE;
	nlh = put_config_header(reader, buf, group, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(QUEUE_THRESHOLD));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(FLUSH_TIMEOUT));
	if (!send_config(reader, nlh, "setting copy mode", error))
		return NULL;
	reader->source = g_unix_fd_add(fd, G_IO_IN, on_readable, reader);
	return g_steal_pointer(&reader);
}

guint64
vigil_nflog_reader_get_lost(VigilNflogReader *reader)
{
	return reader->lost;
}

void
vigil_nflog_reader_free(VigilNflogReader *reader)
{
	if (reader == NULL)
		return;
	if (reader->source != 0)
		g_source_remove(reader->source);
	if (reader->bound) {
		char buf[CONFIG_BYTES] __attribute__((aligned(8)));
		struct nfulnl_msg_config_cmd cmd = {NFULNL_CFG_CMD_UNBIND};
		struct nlmsghdr *nlh = put_config_header(reader, buf, reader->group, AF_UNSPEC);

		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
		mnl_socket_sendto(reader->nl, nlh, nlh->nlmsg_len);
	}
	if (reader->nl != NULL)
		mnl_socket_close(reader->nl);
	g_free(reader->buffer);
	g_free(reader);
}
