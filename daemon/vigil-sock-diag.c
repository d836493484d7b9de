/* vigil-sock-diag.c: the socket (inode, owner uid) behind a flow, from sock_diag and /proc/net */
#define G_LOG_DOMAIN "vigil-sock-diag"
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "vigil-sock-diag.h"

#define RECV_BUFFER_SIZE 32768
#define RECV_TIMEOUT_MS  500
#define TCP_STATE_LISTEN 10
#define PROTO_RAW_ANY    IPPROTO_RAW /* a raw socket that may send any protocol */

struct _VigilSockDiag {
	struct mnl_socket *nl;
	guint32 portid;
	guint32 seq;
	char *proc_root;
	char *buf;
};

/* the best socket seen so far for a flow */
typedef struct {
	guint64 inode;
	guint32 uid;
	int score;      /* -1: none yet */
	guint64 cookie; /* the socket's cookie, when sock_diag found it (0 from /proc/net) */
} Match;

static void
match_offer(Match *match, guint64 inode, guint32 uid, int score)
{
	/* on a tie the higher inode, the newer socket, wins */
	if (inode == 0 || score < match->score || (score == match->score && inode <= match->inode))
		return;
	match->inode = inode;
	match->uid = uid;
	match->score = score;
	match->cookie = 0;
}

/* the same for a sock_diag answer, which also names the socket's cookie */
static void
match_offer_msg(Match *match, const struct inet_diag_msg *msg, int score)
{
	match_offer(match, msg->idiag_inode, msg->idiag_uid, score);
	if (match->inode == msg->idiag_inode && match->inode != 0)
		match->cookie = (guint64)msg->id.idiag_cookie[0] | (guint64)msg->id.idiag_cookie[1]
		                                                       << 32;
}

VigilSockDiag *
vigil_sock_diag_new(const char *proc_root, GError **error)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int saved = errno;
		if (nl != NULL)
			mnl_socket_close(nl);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
		            "cannot open a sock_diag netlink socket: %s", g_strerror(saved));
		return NULL;
	}
	/* the kernel answers at once; a timeout only guards against never */
	struct timeval tv = {RECV_TIMEOUT_MS / 1000, (RECV_TIMEOUT_MS % 1000) * 1000};
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	VigilSockDiag *diag = g_new0(VigilSockDiag, 1);
	diag->nl = nl;
	diag->portid = mnl_socket_get_portid(nl);
	diag->seq = (guint32)time(NULL);
	diag->proc_root = g_strdup(proc_root != NULL ? proc_root : "/proc");
	diag->buf = g_malloc(RECV_BUFFER_SIZE);
	return diag;
}

void
vigil_sock_diag_free(VigilSockDiag *diag)
{
	if (diag == NULL)
		return;
	mnl_socket_close(diag->nl);
	g_free(diag->proc_root);
	g_free(diag->buf);
	g_free(diag);
}

/* addresses */

static gsize
address_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static gboolean
address_is_any(int family, const guint8 *bytes)
{
	static const guint8 zero[16] = {0};
	return memcmp(bytes, zero, address_len(family)) == 0;
}

/* an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address */
static int
address_unmap(int family, const guint8 *bytes, guint8 out[16])
{
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(out, 0, 16);
	if (family == AF_INET6 && memcmp(bytes, mapped, sizeof(mapped)) == 0) {
		memcpy(out, bytes + 12, 4);
		return AF_INET;
	}
	memcpy(out, bytes, address_len(family));
	return family;
}

/* 2: the same address, 1: the socket's is the wildcard, 0: another one */
static int
address_fits(int flow_family, const VigilAddress *flow_addr, int family, const guint8 *bytes)
{
	guint8 unmapped[16];
	int f = address_unmap(family, bytes, unmapped);
	if (address_is_any(f, unmapped))
		return 1;
	if (f == flow_family && memcmp(unmapped, flow_addr->bytes, address_len(f)) == 0)
		return 2;
	return 0;
}

/* netlink */

typedef void (*DiagMsgFunc)(const struct inet_diag_msg *msg, gpointer user_data);

static gboolean
diag_set_errno(GError **error, int err, const char *what)
{
	g_set_error(error, G_IO_ERROR,
	            err == EAGAIN ? G_IO_ERROR_TIMED_OUT : g_io_error_from_errno(err),
	            "sock_diag %s: %s", what, g_strerror(err));
	return FALSE;
}

/* handles one message of the answer; TRUE when the answer is complete */
static gboolean
diag_handle(const struct nlmsghdr *nlh, DiagMsgFunc func, gpointer user_data, int *err)
{
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
			*err = EBADMSG;
		/* ENOENT: no such socket, or no sock_diag handler for the protocol */
		else if (e->error != 0 && e->error != -ENOENT)
			*err = -e->error;
		return TRUE;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
			int code = *(const int *)mnl_nlmsg_get_payload(nlh);
			if (code < 0 && code != -ENOENT)
				*err = -code;
		}
		return TRUE;
	}
	if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct inet_diag_msg))
		func(mnl_nlmsg_get_payload(nlh), user_data);
	/* a dump ends with NLMSG_DONE, a single answer is not multipart */
	return (nlh->nlmsg_flags & NLM_F_MULTI) == 0;
}

static gboolean
diag_receive(VigilSockDiag *diag, guint32 seq, DiagMsgFunc func, gpointer user_data, GError **error)
{
	int err = 0;
	for (gboolean done = FALSE; !done;) {
		ssize_t n = mnl_socket_recvfrom(diag->nl, diag->buf, RECV_BUFFER_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return diag_set_errno(error, errno, "receive");
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)diag->buf;
		int len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len) && !done; nlh = mnl_nlmsg_next(nlh, &len)) {
			/* answers to an earlier request that timed out are not ours */
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != diag->portid)
				continue;
			done = diag_handle(nlh, func, user_data, &err);
		}
	}
	if (err != 0)
		return diag_set_errno(error, err, "request");
	return TRUE;
}

/* one SOCK_DIAG_BY_FAMILY request: @id for an exact lookup, or a dump filtered by @bytecode */
static gboolean
diag_request(VigilSockDiag *diag, guint8 family, guint8 protocol, const struct inet_diag_sockid *id,
             const void *bytecode, gsize bytecode_len, DiagMsgFunc func, gpointer user_data,
             GError **error)
{
	char req_buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | (id == NULL ? NLM_F_DUMP : 0);
	nlh->nlmsg_seq = ++diag->seq;
	struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = protocol;
	req->idiag_states = ~0U;
	if (id != NULL) {
		req->id = *id;
	} else {
		req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
		req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	}
	if (bytecode != NULL)
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, bytecode_len, bytecode);

	if (mnl_socket_sendto(diag->nl, nlh, nlh->nlmsg_len) < 0)
		return diag_set_errno(error, errno, "send");
	return diag_receive(diag, nlh->nlmsg_seq, func, user_data, error);
}

/* exact lookups */

typedef struct {
	const VigilFlow *flow;
	Match *match;
	int score;
} ExactCtx;

static void
exact_cb(const struct inet_diag_msg *msg, gpointer user_data)
{
	ExactCtx *ctx = user_data;
	/* whatever orientation the kernel used, the answer must be our local port */
	if (ntohs(msg->id.idiag_sport) != ctx->flow->sport)
		return;
	if (address_fits(ctx->flow->family, &ctx->flow->src, msg->idiag_family,
	                 (const guint8 *)msg->id.idiag_src) == 0)
		return;
	match_offer_msg(ctx->match, msg, ctx->score);
}

static void
sockid_set(struct inet_diag_sockid *id, int family, const VigilAddress *src, guint16 sport,
           const VigilAddress *dst, guint16 dport)
{
	memset(id, 0, sizeof(*id));
	id->idiag_sport = htons(sport);
	id->idiag_dport = htons(dport);
	if (src != NULL)
		memcpy(id->idiag_src, src->bytes, address_len(family));
	if (dst != NULL)
		memcpy(id->idiag_dst, dst->bytes, address_len(family));
	id->idiag_if = 0;
	id->idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

static gboolean
lookup_exact(VigilSockDiag *diag, const VigilFlow *flow, Match *match, GError **error)
{
	struct inet_diag_sockid id;
	ExactCtx ctx = {flow, match, 3};
	gboolean udp = flow->protocol != IPPROTO_TCP;

	/*
	 * udp_dump_one() passes idiag_src as the packet's source to the receive-side lookup,
	 * "swapped for historical reasons": for UDP the remote end goes into idiag_src. The
	 * natural order is tried second, should a kernel ever change that; exact_cb() checks
	 * that the answer has our local port, so a loopback peer is never taken for us.
	 */
	if (udp)
		sockid_set(&id, flow->family, &flow->dst, flow->dport, &flow->src, flow->sport);
	else
		sockid_set(&id, flow->family, &flow->src, flow->sport, &flow->dst, flow->dport);
	if (!diag_request(diag, flow->family, flow->protocol, &id, NULL, 0, exact_cb, &ctx, error))
		return FALSE;
	if (match->inode != 0 || !udp)
		return TRUE;

	sockid_set(&id, flow->family, &flow->src, flow->sport, &flow->dst, flow->dport);
	if (!diag_request(diag, flow->family, flow->protocol, &id, NULL, 0, exact_cb, &ctx, error))
		return FALSE;
	if (match->inode != 0)
		return TRUE;

	/* an unconnected socket: the remote end is the wildcard */
	ctx.score = 2;
	sockid_set(&id, flow->family, NULL, 0, &flow->src, flow->sport);
	return diag_request(diag, flow->family, flow->protocol, &id, NULL, 0, exact_cb, &ctx,
	                    error);
}

/* a dump of the sockets on our local port, for flows whose remote end was rewritten (DNAT) */

static void
dump_cb(const struct inet_diag_msg *msg, gpointer user_data)
{
	ExactCtx *ctx = user_data;
	const VigilFlow *flow = ctx->flow;

	if (ntohs(msg->id.idiag_sport) != flow->sport ||
	    (flow->protocol == IPPROTO_TCP && msg->idiag_state == TCP_STATE_LISTEN))
		return;
	int local = address_fits(flow->family, &flow->src, msg->idiag_family,
	                         (const guint8 *)msg->id.idiag_src);
	if (local == 0)
		return;
	int remote = address_fits(flow->family, &flow->dst, msg->idiag_family,
	                          (const guint8 *)msg->id.idiag_dst);
	int score = local;
	if (remote == 2 && ntohs(msg->id.idiag_dport) == flow->dport)
		score += 4;
	else if (remote == 1 && msg->id.idiag_dport == 0)
		score += 2;
	/* another user's socket on the same port (SO_REUSEADDR) did not send this packet */
	if (flow->has_uid && msg->idiag_uid != flow->uid)
		return;
	match_offer_msg(ctx->match, msg, score);
}

static gboolean
lookup_dump_port(VigilSockDiag *diag, const VigilFlow *flow, Match *match, GError **error)
{
	/* "source port equals": the port lives in the second op's 'no' field */
	struct inet_diag_bc_op bc[2] = {
	    {INET_DIAG_BC_S_EQ, sizeof(bc), sizeof(bc) + 4},
	    {0, 0, flow->sport},
	};
	ExactCtx ctx = {flow, match, 0};

	if (!diag_request(diag, flow->family, flow->protocol, NULL, bc, sizeof(bc), dump_cb, &ctx,
	                  error))
		return FALSE;
	/* an IPv6 socket may talk IPv4 through mapped addresses */
	if (match->inode == 0 && flow->family == AF_INET)
		return diag_request(diag, AF_INET6, flow->protocol, NULL, bc, sizeof(bc), dump_cb,
		                    &ctx, error);
	return TRUE;
}

/* /proc/net tables */

static gboolean
parse_hex_u32(const char *text, gsize len, guint32 *out)
{
	guint32 value = 0;
	if (len == 0 || len > 8)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		int digit = g_ascii_xdigit_value(text[i]);
		if (digit < 0)
			return FALSE;
		value = value << 4 | (guint32)digit;
	}
	*out = value;
	return TRUE;
}

/* "0100007F:0035": the kernel prints each 32-bit word of the address in host order */
static gboolean
parse_address_port(const char *token, int family, VigilAddress *addr, guint16 *port)
{
	gsize hex_len = family == AF_INET6 ? 32 : 8;
	const char *colon = strchr(token, ':');
	guint32 value;

	if (colon == NULL || (gsize)(colon - token) != hex_len)
		return FALSE;
	memset(addr, 0, sizeof(*addr));
	for (gsize word = 0; word < hex_len / 8; word++) {
		if (!parse_hex_u32(token + word * 8, 8, &value))
			return FALSE;
		memcpy(addr->bytes + word * 4, &value, 4);
	}
	if (!parse_hex_u32(colon + 1, strlen(colon + 1), &value) || value > G_MAXUINT16)
		return FALSE;
	*port = (guint16)value;
	return TRUE;
}

static gboolean
parse_decimal(const char *token, guint64 max, guint64 *out)
{
	return g_ascii_string_to_unsigned(token, 10, 0, max, out, NULL);
}

/* the first @max words of @line into @fields, which point into the returned array: *n of them */
static GStrv
split_fields(const char *line, const char **fields, guint max, guint *n)
{
	g_autofree char *copy = g_strstrip(g_strdup(line));
	GStrv tokens = g_strsplit_set(copy, " \t", -1);

	/* g_strsplit_set leaves empty tokens between repeated spaces: squeeze them out */
	*n = 0;
	for (guint i = 0; tokens[i] != NULL && *n < max; i++) {
		if (tokens[i][0] != '\0')
			fields[(*n)++] = tokens[i];
	}
	return tokens;
}

gboolean
vigil_proc_net_parse_line(const char *line, int family, VigilProcNetEntry *entry)
{
	g_return_val_if_fail(line != NULL && entry != NULL, FALSE);
	const char *fields[12];
	guint n = 0;
	g_auto(GStrv) tokens = split_fields(line, fields, G_N_ELEMENTS(fields), &n);
	/* sl local remote st tx:rx tr:when retrnsmt uid timeout inode */
	guint64 uid;
	guint64 inode;
	if (n < 10 || !g_str_has_suffix(fields[0], ":") ||
	    !parse_address_port(fields[1], family, &entry->local, &entry->local_port) ||
	    !parse_address_port(fields[2], family, &entry->remote, &entry->remote_port) ||
	    !parse_decimal(fields[7], G_MAXUINT32, &uid) ||
	    !parse_decimal(fields[9], G_MAXUINT64, &inode))
		return FALSE;
	entry->uid = (guint32)uid;
	entry->inode = inode;
	return TRUE;
}

gboolean
vigil_proc_net_parse_sctp_assoc(const char *line, VigilProcNetEntry *entry)
{
	g_return_val_if_fail(line != NULL && entry != NULL, FALSE);
	const char *fields[14];
	guint n = 0;
	g_auto(GStrv) tokens = split_fields(line, fields, G_N_ELEMENTS(fields), &n);
	/* ASSOC SOCK STY SST ST HBKT ASSOC-ID TX_QUEUE RX_QUEUE UID INODE LPORT RPORT ... */
	guint64 uid;
	guint64 inode;
	guint64 lport;
	guint64 rport;
	if (n < 13 || !parse_decimal(fields[9], G_MAXUINT32, &uid) ||
	    !parse_decimal(fields[10], G_MAXUINT64, &inode) ||
	    !parse_decimal(fields[11], G_MAXUINT16, &lport) ||
	    !parse_decimal(fields[12], G_MAXUINT16, &rport))
		return FALSE;
	memset(entry, 0, sizeof(*entry));
	entry->uid = (guint32)uid;
	entry->inode = inode;
	entry->local_port = (guint16)lport;
	entry->remote_port = (guint16)rport;
	return TRUE;
}

typedef int (*EntryScoreFunc)(const VigilFlow *flow, const VigilProcNetEntry *entry);

static void
scan_proc_net(VigilSockDiag *diag, const char *name, const VigilFlow *flow, gboolean sctp,
              EntryScoreFunc score_func, Match *match)
{
	g_autofree char *path = g_build_filename(diag->proc_root, "net", name, NULL);
	g_autofree char *text = NULL;

	/* a missing table (no SCTP, no IPv6) just has no sockets */
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 1; lines[i] != NULL; i++) {
		VigilProcNetEntry entry;
		gboolean ok = sctp ? vigil_proc_net_parse_sctp_assoc(lines[i], &entry)
		                   : vigil_proc_net_parse_line(lines[i], flow->family, &entry);
		if (!ok)
			continue;
		int score = score_func(flow, &entry);
		if (score < 0 || (flow->has_uid && entry.uid != flow->uid))
			continue;
		match_offer(match, entry.inode, entry.uid, score);
	}
}

/* local and remote address both fit: 2 + 2 exact, 1 for a wildcard; -1 when one does not */
static int
entry_addresses_score(const VigilFlow *flow, const VigilProcNetEntry *entry)
{
	int local = address_fits(flow->family, &flow->src, flow->family, entry->local.bytes);
	int remote = address_fits(flow->family, &flow->dst, flow->family, entry->remote.bytes);
	if (local == 0 || remote == 0)
		return -1;
	return local + remote;
}

/* a ping socket's local "port" is the echo identifier */
static int
ping_score(const VigilFlow *flow, const VigilProcNetEntry *entry)
{
	if (entry->local_port != flow->icmp_id)
		return -1;
	int score = entry_addresses_score(flow, entry);
	return score < 0 ? -1 : score * 2;
}

/* a raw socket's local "port" is its protocol; IPPROTO_RAW ones send anything */
static int
raw_score(const VigilFlow *flow, const VigilProcNetEntry *entry)
{
	int score = entry_addresses_score(flow, entry);
	if (score < 0)
		return -1;
	if (entry->local_port == flow->protocol)
		return score * 2;
	if (entry->local_port == PROTO_RAW_ANY)
		return score * 2 - 1;
	return -1;
}

static int
sctp_score(const VigilFlow *flow, const VigilProcNetEntry *entry)
{
	if (entry->local_port != flow->sport)
		return -1;
	return entry->remote_port == flow->dport ? 2 : 0;
}

static gboolean
is_icmp(const VigilFlow *flow)
{
	return (flow->family == AF_INET && flow->protocol == IPPROTO_ICMP) ||
	       (flow->family == AF_INET6 && flow->protocol == IPPROTO_ICMPV6);
}

static gboolean
has_sock_diag(guint8 protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE;
}

gboolean
vigil_sock_diag_lookup(VigilSockDiag *diag, const VigilFlow *flow, VigilSockDiagFlags flags,
                       guint64 *inode, guint32 *uid, GError **error)
{
	return vigil_sock_diag_lookup_cookie(diag, flow, flags, inode, uid, NULL, error);
}

gboolean
vigil_sock_diag_lookup_cookie(VigilSockDiag *diag, const VigilFlow *flow, VigilSockDiagFlags flags,
                              guint64 *inode, guint32 *uid, guint64 *cookie, GError **error)
{
	g_return_val_if_fail(diag != NULL && flow != NULL, FALSE);
	g_return_val_if_fail(flow->family == AF_INET || flow->family == AF_INET6, FALSE);
	gboolean fallbacks = (flags & VIGIL_SOCK_DIAG_PRIMARY_ONLY) == 0;
	Match match = {0, 0, -1, 0};
	const char *how = NULL;
	gboolean v6 = flow->family == AF_INET6;

	if (has_sock_diag(flow->protocol)) {
		if (!lookup_exact(diag, flow, &match, error))
			return FALSE;
		how = "exact tuple";
		/*
		 * The kernel names the packet's socket owner (NFQA_UID): the socket the tuple
		 * lookup gives must be that user's. Unconnected UDP sockets of several users can
		 * share a port (SO_REUSEADDR), and the lookup picks one of them.
		 */
		if (match.inode != 0 && flow->has_uid && match.uid != flow->uid) {
			g_debug("socket %" G_GUINT64_FORMAT " is uid %u's, the packet uid %u's",
			        match.inode, match.uid, flow->uid);
			match = (Match){0, 0, -1, 0};
		}
		if (match.inode == 0 && fallbacks) {
			if (!lookup_dump_port(diag, flow, &match, error))
				return FALSE;
			how = "local port";
		}
	} else if (is_icmp(flow)) {
		scan_proc_net(diag, v6 ? "icmp6" : "icmp", flow, FALSE, ping_score, &match);
		how = "ping socket";
	} else if (flow->protocol == IPPROTO_SCTP) {
		scan_proc_net(diag, "sctp/assocs", flow, TRUE, sctp_score, &match);
		how = "sctp association";
	}
	/* raw sockets can send any protocol, with any ports */
	if (match.inode == 0 && fallbacks) {
		scan_proc_net(diag, v6 ? "raw6" : "raw", flow, FALSE, raw_score, &match);
		how = "raw socket";
	}
	/* once per connection: not even formatted unless debug messages are shown */
	if (match.inode != 0 && !g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
		g_debug("socket %" G_GUINT64_FORMAT " (uid %u) by %s", match.inode, match.uid, how);
	*inode = match.inode;
	if (cookie != NULL)
		*cookie = match.inode != 0 ? match.cookie : 0;
	if (uid != NULL)
		*uid = match.inode != 0 ? match.uid : 0;
	return TRUE;
}

gboolean
vigil_sock_diag_destroy_request(const VigilFlow *flow, guint64 cookie, guint32 seq,
                                VigilSockDestroyRequest *msg)
{
	g_return_val_if_fail(flow != NULL && msg != NULL, FALSE);
	*msg = (VigilSockDestroyRequest){0};
	if (cookie == 0 || (flow->family != AF_INET && flow->family != AF_INET6))
		return FALSE;
	msg->nlh.nlmsg_len = sizeof(*msg);
	msg->nlh.nlmsg_type = SOCK_DESTROY;
	msg->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	msg->nlh.nlmsg_seq = seq;
	msg->req.sdiag_family = (guint8)flow->family;
	msg->req.sdiag_protocol = flow->protocol;
	msg->req.idiag_states = ~0U;
	sockid_set(&msg->req.id, flow->family, &flow->src, flow->sport, &flow->dst, flow->dport);
	/* as the kernel compares it: the low 32 bits first */
	msg->req.id.idiag_cookie[0] = (guint32)cookie;
	msg->req.id.idiag_cookie[1] = (guint32)(cookie >> 32);
	return TRUE;
}

gboolean
vigil_sock_diag_find(const VigilFlow *flow, guint64 *inode, guint32 *uid, GError **error)
{
	g_autoptr(VigilSockDiag) diag = vigil_sock_diag_new("/proc", error);
	if (diag == NULL)
		return FALSE;
	return vigil_sock_diag_lookup(diag, flow, VIGIL_SOCK_DIAG_ALL, inode, uid, error);
}
