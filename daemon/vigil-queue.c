/* vigil-queue.c: reading the netfilter queue without ever blocking the main loop; every
 * netlink message is built and parsed with libmnl and libnetfilter_queue's nfq_nlmsg_* API */
#define G_LOG_DOMAIN "vigil-queue"
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <linux/netfilter.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "vigil-queue.h"

/* headers only: IPv6 extension headers and a transport header fit comfortably */
#define COPY_RANGE        256
#define RECV_BUFFER_BYTES (8 * 1024 * 1024)
/* at most this many messages per wakeup, so timers and D-Bus get their turn */
#define MAX_BATCH 256
/*
 * Datagrams read by one recvmmsg(). A slot holds the largest NFLOG copy (a whole 64 KiB packet
 * and its attributes); the kernel writes only what arrives, so a queued packet's few hundred
 * bytes touch one page of its slot.
 */
#define RECV_SLOTS              16
#define RECV_SLOT_BYTES         (65536 + 4096)
#define LOG_COPY_RANGE          0xffff
#define CONFIG_TIMEOUT_MS       1000 /* for the kernel's answer to a config request */
#define CONFIG_BYTES            512  /* one config request */
#define KERNEL_STATS_INTERVAL_S 5
/* verdicts given while a batch is read go out together, in one system call */
#define VERDICT_BYTES  64 /* at most, for one with a mark */
#define VERDICT_BUFFER (VERDICT_BYTES * 128)

G_STATIC_ASSERT(COPY_RANGE + 512 <= RECV_SLOT_BYTES);
G_STATIC_ASSERT(LOG_COPY_RANGE + 1024 <= RECV_SLOT_BYTES);

struct _VigilQueue {
	guint16 number;
	guint32 maxlen;
	struct mnl_socket *nl;
	gboolean bound; /* the queue is bound: unbound when freed */
	int fd;
	GSource *fd_source;
	guint stats_source;
	VigilQueueFunc func;
	gpointer user_data;
	VigilQueueStats stats;
	guint64 logged_enobufs;
	guint64 logged_queue_dropped;
	guint64 logged_user_dropped;
	guint64 logged_truncated;
	VigilQueueBatchFunc batch_func;
	gpointer batch_data;
	gboolean reading;  /* verdicts wait in the buffer until the batch is read */
	gsize verdict_len; /* bytes of verdict messages waiting */
	guint8 *verdicts;
	VigilQueueLogFunc log_func; /* copies of the NFLOG group bound to our socket */
	gpointer log_data;
	guint32 config_seq;
	struct mmsghdr messages[RECV_SLOTS];
	struct iovec iovecs[RECV_SLOTS];
	guint8 *buffers; /* RECV_SLOTS slots of RECV_SLOT_BYTES */
};

/* one NFQNL_MSG_PACKET: its attributes into a VigilQueuedPacket for the callback */
static int
find_ct_id(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTA_ID && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*(guint32 *)data = ntohl(mnl_attr_get_u32(attr));
	return MNL_CB_OK;
}

static int
on_packet_message(const struct nlmsghdr *nlh, void *data)
{
	VigilQueue *queue = data;
	struct nlattr *attr[NFQA_MAX + 1] = {NULL};
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const struct nfqnl_msg_packet_hdr *hdr;
	VigilQueuedPacket packet = {0};

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)) || ntohs(nfg->res_id) != queue->number ||
	    nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*hdr))
		return MNL_CB_OK;
	hdr = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	packet.id = ntohl(hdr->packet_id);
	if (attr[NFQA_PAYLOAD] != NULL) {
		packet.payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		packet.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	/* the kernel says how long a packet the copy range cut short was (NFQA_CAP_LEN); a
	 * packet without it was copied whole */
	packet.packet_len = packet.len;
	if (attr[NFQA_CAP_LEN] != NULL && mnl_attr_validate(attr[NFQA_CAP_LEN], MNL_TYPE_U32) >= 0)
		packet.packet_len =
		    MAX(packet.len, (gsize)ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])));
	if (attr[NFQA_UID] != NULL && mnl_attr_validate(attr[NFQA_UID], MNL_TYPE_U32) >= 0) {
		packet.has_uid = TRUE;
		packet.uid = ntohl(mnl_attr_get_u32(attr[NFQA_UID]));
	}
	if (attr[NFQA_MARK] != NULL && mnl_attr_validate(attr[NFQA_MARK], MNL_TYPE_U32) >= 0)
		packet.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_CT] != NULL)
		mnl_attr_parse_nested(attr[NFQA_CT], find_ct_id, &packet.ct_id);
	packet.received_us = g_get_monotonic_time();
	queue->stats.received++;
	queue->func(&packet, queue->user_data);
	return MNL_CB_OK;
}

static guint8 *
slot(VigilQueue *queue, int i)
{
	return queue->buffers + (gsize)i * RECV_SLOT_BYTES;
}

/* one datagram from our socket: a queued packet, or a copy from the NFLOG group */
static void
handle_datagram(VigilQueue *queue, const guint8 *data, gsize len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;

	if (len >= sizeof(*nlh) && NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_ULOG) {
		if (queue->log_func != NULL)
			queue->log_func(data, len, queue->log_data);
		return;
	}
	/* a datagram may hold several messages; an error message (a verdict for a packet the
	 * kernel no longer holds) ends it, as it did with libnetfilter_queue's old API */
	mnl_cb_run(data, len, 0, 0, on_packet_message, queue);
}

static void
handle_messages(VigilQueue *queue, int count)
{
	for (int i = 0; i < count; i++) {
		struct mmsghdr *message = &queue->messages[i];

		if (message->msg_hdr.msg_flags & MSG_TRUNC) {
			/* cannot happen with our copy ranges; its packet id is lost with it */
			queue->stats.truncated++;
			continue;
		}
		handle_datagram(queue, slot(queue, i), message->msg_len);
	}
}

/*
 * One recvmmsg() reads what has arrived: a lone packet costs one system call, not a second
 * one that fails with EAGAIN, and a burst is read RECV_SLOTS packets at a time.
 */
static void flush_verdicts(VigilQueue *queue);

static guint
read_batch(VigilQueue *queue)
{
	int fd = queue->fd;
	int handled = 0;

	queue->reading = TRUE;
	while (handled < MAX_BATCH) {
		for (guint i = 0; i < RECV_SLOTS; i++)
			queue->messages[i].msg_hdr.msg_flags = 0;
		int n = recvmmsg(fd, queue->messages, RECV_SLOTS, MSG_DONTWAIT, NULL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* the kernel could not hand us some packets and dropped them:
				 * counted, logged by the stats timer */
				queue->stats.enobufs++;
				continue;
			}
			g_warning("reading netfilter queue %u: %s", queue->number,
			          g_strerror(errno));
			break;
		}
		handle_messages(queue, n);
		handled += n;
		/* fewer than asked for: the socket is empty (or holds an error for next time) */
		if (n < RECV_SLOTS)
			break;
	}
	queue->reading = FALSE;
	flush_verdicts(queue);
	return (guint)handled;
}

static gboolean
on_queue_readable(int fd, GIOCondition condition, gpointer data)
{
	VigilQueue *queue = data;

	read_batch(queue);
	if (queue->batch_func != NULL)
		queue->batch_func(queue->batch_data);
	return G_SOURCE_CONTINUE;
}

guint
vigil_queue_read_pending(VigilQueue *queue)
{
	return read_batch(queue);
}

void
vigil_queue_set_batch_func(VigilQueue *queue, VigilQueueBatchFunc func, gpointer user_data)
{
	queue->batch_func = func;
	queue->batch_data = user_data;
}

/* /proc/net/netfilter/nfnetlink_queue: number portid total mode range qdropped udropped ... */
static void
read_kernel_stats(VigilQueue *queue)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents("/proc/net/netfilter/nfnetlink_queue", &text, NULL, NULL))
		return;
	lines = g_strsplit(text, "\n", -1);
	for (gsize i = 0; lines[i] != NULL; i++) {
		guint number, portid, total, mode, range;
		guint64 qdropped, udropped;

		if (sscanf(lines[i], "%u %u %u %u %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
		           &number, &portid, &total, &mode, &range, &qdropped, &udropped) == 7 &&
		    number == queue->number) {
			queue->stats.queue_dropped = qdropped;
			queue->stats.user_dropped = udropped;
		}
	}
}

static gboolean
on_stats_timer(gpointer data)
{
	VigilQueue *queue = data;

	read_kernel_stats(queue);
	if (queue->stats.enobufs != queue->logged_enobufs ||
	    queue->stats.queue_dropped != queue->logged_queue_dropped ||
	    queue->stats.user_dropped != queue->logged_user_dropped ||
	    queue->stats.truncated != queue->logged_truncated) {
		g_warning("queue %u overrun: %" G_GUINT64_FORMAT
		          " receive-buffer overruns, %" G_GUINT64_FORMAT
		          " packets dropped by the kernel (queue full), %" G_GUINT64_FORMAT
		          " undeliverable, %" G_GUINT64_FORMAT " too large to read",
		          queue->number, queue->stats.enobufs, queue->stats.queue_dropped,
		          queue->stats.user_dropped, queue->stats.truncated);
		queue->logged_enobufs = queue->stats.enobufs;
		queue->logged_queue_dropped = queue->stats.queue_dropped;
		queue->logged_user_dropped = queue->stats.user_dropped;
		queue->logged_truncated = queue->stats.truncated;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
queue_fail(GError **error, const char *what, guint16 number)
{
	int saved = errno;

	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
	            "netfilter queue %u: %s: %s (is another program bound to this queue? is "
	            "vigild running as root?)",
	            number, what, g_strerror(saved));
	return FALSE;
}

static gboolean send_config(VigilQueue *queue, struct nlmsghdr *nlh, GError **error);

/* a config request for our queue, answered with an ACK (send_config() waits for it) */
static struct nlmsghdr *
put_queue_config(VigilQueue *queue, char *buf)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue->number);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++queue->config_seq;
	return nlh;
}

/* the error of a failed step, as the queue's callers have always seen it */
static gboolean
queue_step_failed(GError **error, const GError *step, const char *what, guint16 number)
{
	g_set_error(error, G_IO_ERROR, step->code,
	            "netfilter queue %u: %s: %s (is another program bound to this queue? is "
	            "vigild running as root?)",
	            number, what, step->message);
	return FALSE;
}

/* sends one config request for our queue and waits for the kernel's answer */
static gboolean
queue_config(VigilQueue *queue, struct nlmsghdr *nlh, const char *what, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (!send_config(queue, nlh, &local))
		return queue_step_failed(error, local, what, queue->number);
	return TRUE;
}

static gboolean
queue_open(VigilQueue *queue, GError **error)
{
	char buf[CONFIG_BYTES] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	int rcvbuf = RECV_BUFFER_BYTES;
	/* fail-open off, explicitly: what we cannot take is dropped, never accepted undecided */
	guint32 flags = NFQA_CFG_F_UID_GID;
	guint32 flags_mask = NFQA_CFG_F_UID_GID | NFQA_CFG_F_FAIL_OPEN;
	g_autoptr(GError) local = NULL;

	queue->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (queue->nl == NULL)
		return queue_fail(error, "opening nfnetlink", queue->number);
	if (mnl_socket_bind(queue->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return queue_fail(error, "opening nfnetlink", queue->number);
	queue->fd = mnl_socket_get_fd(queue->nl);
	/* beyond the system's limit as root (SO_RCVBUFFORCE), else as far as it allows */
	if (setsockopt(queue->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(queue->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	queue->buffers = g_malloc((gsize)RECV_SLOTS * RECV_SLOT_BYTES);
	queue->verdicts = g_malloc(VERDICT_BUFFER);
	for (guint i = 0; i < RECV_SLOTS; i++) {
		queue->iovecs[i].iov_base = slot(queue, (int)i);
		queue->iovecs[i].iov_len = RECV_SLOT_BYTES;
		queue->messages[i].msg_hdr.msg_iov = &queue->iovecs[i];
		queue->messages[i].msg_hdr.msg_iovlen = 1;
	}

	nlh = put_queue_config(queue, buf);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (!queue_config(queue, nlh, "binding", error))
		return FALSE;
	queue->bound = TRUE;
	nlh = put_queue_config(queue, buf);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
	if (!queue_config(queue, nlh, "setting copy mode", error))
		return FALSE;
	nlh = put_queue_config(queue, buf);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags_mask));
	if (!queue_config(queue, nlh, "setting flags (uid, no fail-open)", error))
		return FALSE;
	/* conntrack's id of each packet's flow, for the history's counters: a help, not a
	 * condition (a kernel without nfnetlink_queue's conntrack part says no) */
	nlh = put_queue_config(queue, buf);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
	if (!send_config(queue, nlh, &local))
		g_info("queue %u: no conntrack ids with the packets (%s): the history matches "
		       "counters by addresses and ports",
		       queue->number, local->message);
	/* a burst of new connections waits in the kernel rather than being bypassed or dropped */
	nlh = put_queue_config(queue, buf);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, queue->maxlen);
	if (!queue_config(queue, nlh, "setting queue length", error))
		return FALSE;
	return TRUE;
}

VigilQueue *
vigil_queue_new(guint16 queue_number, guint32 queue_length, VigilQueueFunc func, gpointer user_data,
                GError **error)
{
	VigilQueue *queue = g_new0(VigilQueue, 1);

	queue->number = queue_number;
	queue->maxlen = queue_length;
	queue->func = func;
	queue->user_data = user_data;
	queue->fd = -1;
	if (!queue_open(queue, error)) {
		vigil_queue_free(queue);
		return NULL;
	}
	queue->fd_source = g_unix_fd_source_new(queue->fd, G_IO_IN);
	g_source_set_callback(queue->fd_source, G_SOURCE_FUNC(on_queue_readable), queue, NULL);
	/* GLib blocks a non-recursive source while it runs: that takes its fd out of the poll set
	 * and puts it back, waking the loop each time (eventfd writes, then an extra poll). Our
	 * callback never iterates the main context, so there is nothing to guard against. */
	g_source_set_can_recurse(queue->fd_source, TRUE);
	g_source_attach(queue->fd_source, NULL);
	queue->stats_source = g_timeout_add_seconds(KERNEL_STATS_INTERVAL_S, on_stats_timer, queue);
	return queue;
}

void
vigil_queue_free(VigilQueue *queue)
{
	if (queue == NULL)
		return;
	if (queue->fd_source != NULL) {
		g_source_destroy(queue->fd_source);
		g_clear_pointer(&queue->fd_source, g_source_unref);
	}
	g_clear_handle_id(&queue->stats_source, g_source_remove);
	if (queue->bound) {
		char buf[CONFIG_BYTES] __attribute__((aligned(8)));
		struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue->number);

		/* the kernel drops what it still holds for us; closing the socket would too */
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
		mnl_socket_sendto(queue->nl, nlh, nlh->nlmsg_len);
	}
	if (queue->nl != NULL)
		mnl_socket_close(queue->nl);
	g_free(queue->buffers);
	g_free(queue->verdicts);
	g_free(queue);
}

/*
 * The verdicts given while packets are read (a flood decided without attribution, say) are
 * sent as one datagram of several messages once the batch is read: one system call instead
 * of one each. A failure is for all of them; the kernel then holds those packets until the
 * queue is unbound (vigild exits) or, bound, never: logged, as a lost verdict always was.
 */
static void
flush_verdicts(VigilQueue *queue)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (queue->verdict_len == 0)
		return;
	if (sendto(queue->fd, queue->verdicts, queue->verdict_len, 0, (struct sockaddr *)&kernel,
	           sizeof(kernel)) < 0)
		g_warning("sending verdicts of queue %u (%" G_GSIZE_FORMAT " bytes): %s",
		          queue->number, queue->verdict_len, g_strerror(errno));
	queue->verdict_len = 0;
}

gboolean
vigil_queue_set_verdict(VigilQueue *queue, guint32 id, guint32 mark, GError **error)
{
	char one[VERDICT_BYTES] __attribute__((aligned(8)));
	char *buf = queue->reading ? (char *)queue->verdicts + queue->verdict_len : one;
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue->number);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_REPEAT);
	nfq_nlmsg_verdict_put_mark(nlh, mark);
	g_assert(nlh->nlmsg_len <= VERDICT_BYTES);
	if (queue->reading) {
		queue->verdict_len += NLMSG_ALIGN(nlh->nlmsg_len);
		if (queue->verdict_len + VERDICT_BYTES > VERDICT_BUFFER)
			flush_verdicts(queue);
		queue->stats.verdicts++;
		return TRUE;
	}
	if (mnl_socket_sendto(queue->nl, nlh, nlh->nlmsg_len) < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
		            "verdict for packet %u: %s", id, g_strerror(saved));
		return FALSE;
	}
	queue->stats.verdicts++;
	return TRUE;
}

/* --- an NFLOG group on the same socket ---------------------------------------------- */

static struct nlmsghdr *
put_log_config_header(VigilQueue *queue, char *buf, guint16 group)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++queue->config_seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	return nlh;
}

/* the kernel's answer to request @seq in this datagram: 0 (done), an errno, or -1 (not here) */
static int
config_answer(const guint8 *data, gsize len, guint32 seq)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;
	int remaining = (int)len;

	for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
		if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq == seq &&
		    nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			return -err->error;
		}
	}
	return -1;
}

/*
 * Sends one config request (the queue's or the NFLOG group's) and waits for its answer. What
 * else arrives meanwhile (a packet queued by rules left from before, a copy) is handled as
 * usual, never dropped.
 */
static gboolean
send_config(VigilQueue *queue, struct nlmsghdr *nlh, GError **error)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	gint64 deadline = g_get_monotonic_time() + CONFIG_TIMEOUT_MS * 1000;
	int answer = -1;

	if (sendto(queue->fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) <
	    0)
		answer = errno;
	while (answer < 0) {
		struct pollfd pfd = {queue->fd, POLLIN, 0};
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) == 0) {
			answer = ETIMEDOUT;
			break;
		}
		ssize_t n = recv(queue->fd, slot(queue, 0), RECV_SLOT_BYTES, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
				answer = errno;
			continue;
		}
		answer = config_answer(slot(queue, 0), (gsize)n, nlh->nlmsg_seq);
		if (answer < 0)
			handle_datagram(queue, slot(queue, 0), (gsize)n);
	}
	if (answer == 0)
		return TRUE;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(answer), "%s", g_strerror(answer));
	return FALSE;
}

static gboolean
send_log_config(VigilQueue *queue, struct nlmsghdr *nlh, const char *what, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (send_config(queue, nlh, &local))
		return TRUE;
	g_set_error(error, G_IO_ERROR, local->code, "NFLOG %s: %s", what, local->message);
	return FALSE;
}

gboolean
vigil_queue_bind_log_group(VigilQueue *queue, guint16 group, VigilQueueLogFunc func,
                           gpointer user_data, GError **error)
{
	char buf[CONFIG_BYTES] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct nfulnl_msg_config_cmd cmd = {NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {htonl(LOG_COPY_RANGE), NFULNL_COPY_PACKET, 0};
	g_autofree char *what =
	    g_strdup_printf("binding group %u (is another logger using it?)", group);

	g_return_val_if_fail(queue != NULL && func != NULL && queue->log_func == NULL, FALSE);
	queue->log_func = func;
	queue->log_data = user_data;
	nlh = put_log_config_header(queue, buf, group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (!send_log_config(queue, nlh, what, error))
		goto fail;
	/* every copy at once, none held back to batch: it must be in our socket before the
	 * packet that follows it */
	nlh = put_log_config_header(queue, buf, group);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(0));
	if (!send_log_config(queue, nlh, "setting copy mode", error))
		goto fail;
	return TRUE;
fail:
	queue->log_func = NULL;
	queue->log_data = NULL;
	return FALSE;
}

void
vigil_queue_get_stats(VigilQueue *queue, VigilQueueStats *stats)
{
	read_kernel_stats(queue);
	*stats = queue->stats;
}
