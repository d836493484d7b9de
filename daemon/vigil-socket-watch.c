/* vigil-socket-watch.c: allowed flows: a UDP flow's conntrack entry goes with its socket, and
 * every live flow is judged again when the rules change */
#define G_LOG_DOMAIN "vigil-socket-watch"
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include "vigil-fair.h"
#include "vigil-sock-diag.h"
#include "vigil-socket-watch.h"
#include "vigil-uid-queues.h"

/* flows remembered at most; beyond, the oldest flow of the user holding the most has its
 * conntrack entry deleted as it is forgotten (its next packet is new and decided again), so a
 * flood of allowed flows cannot make vigild lose track of another flow that keeps its verdict
 * past its socket, nor one user's flood push out another user's flows */
#define MAX_REMEMBERED 8192
/* a flow is never forgotten by age alone (a long-lived flow keeps its verdict and stays
 * watched): every CHECK_INTERVAL_S, the flows not confirmed for CONFIRM_AFTER_US are looked up
 * in conntrack, at most CHECK_MAX of them; a flow whose entry conntrack let go is forgotten */
#define CHECK_INTERVAL_S  60
#define CONFIRM_AFTER_US  (120 * G_USEC_PER_SEC)
#define CHECK_MAX         1024
#define CHECK_BUDGET_US   (20 * 1000) /* of main-loop time a check may take; the rest waits */
#define RECV_BUFFER_BYTES (1024 * 1024)
/* of main-loop time one slice of judging the flows again may take */
#define JUDGE_BUDGET_US 1000

typedef struct {
	int family;
	guint8 protocol;
	VigilAddress src;
	VigilAddress dst;
	guint16 sport;
	guint16 dport;
	/* the socket's cookie (TCP): what ends it, so that a newer socket on the same tuple, maybe
	 * another user's, is never ended for it; 0: not known */
	guint64 cookie;
	gint64 time;  /* allowed, or last found in conntrack */
	gpointer tag; /* what allowed it (the daemon's rule), for revoking */
	GDestroyNotify tag_free;
	guint judged;      /* the pass that last judged it (or allowed it) */
	GList age_link;    /* in watch->by_age, oldest first */
	GList port_link;   /* in its port's list */
	GList bucket_link; /* in its user's queue of watch->buckets, oldest first */
	VigilUidQueue *bucket;
} Remembered;

struct _VigilSocketWatch {
	int diag_fd;         /* destroy notifications of UDP sockets */
	int tcp_fd;          /* destroy notifications of TCP sockets */
	int destroy_fd;      /* sock_diag requests: SOCK_DESTROY */
	int ct_fd;           /* conntrack deletions and lookups */
	VigilSockDiag *diag; /* the cookies of TCP sockets allowed without one; made when needed */
	guint source;
	guint tcp_source;
	guint check_source;
	/* judging every flow again after the rules changed, a slice at a time */
	VigilSocketWatchJudge judge;
	guint pass;         /* the pass under way (or the last one) */
	gboolean judging;   /* a pass is under way */
	GList *cursor;      /* the next flow the pass judges, in by_age; NULL: at the end */
	guint judge_source; /* the next slice */
	guint pass_judged, pass_ended, pass_again; /* of the pass under way, for its log line */
	gboolean again; /* the rules changed during the pass: once more from the start after it */
	gboolean destroy_unsupported; /* the kernel has no SOCK_DESTROY: warned once */
	guint32 seq;
	GHashTable *ports;  /* port_key() -> GQueue of Remembered (port_link) */
	GHashTable *tuples; /* set of Remembered, by tuple: a flow allowed again is one flow */
	/* TCP flows by their socket's cookie: a close notice names the socket exactly (a socket
	 * ended by a reset is reported without its peer's port) */
	GHashTable *cookies;
	GQueue by_age;
	VigilUidQueues *buckets; /* of Remembered, per fairness bucket of the socket's owner */
	VigilSocketWatchStats stats;
};

static guint
port_key(int family, guint8 protocol, guint16 port)
{
	return ((guint)(family == AF_INET6) << 24) | ((guint)protocol << 16) | port;
}

static guint
tuple_hash(gconstpointer key)
{
	const Remembered *r = key;
	guint h = ((guint)r->family << 24) ^ ((guint)r->protocol << 16) ^ r->sport ^
	          ((guint)r->dport << 8);

	for (gsize i = 0; i < sizeof(r->src.bytes); i++)
		h = h * 31 + r->src.bytes[i] * 7 + r->dst.bytes[i];
	return h;
}

static gboolean
tuple_equal(gconstpointer a, gconstpointer b)
{
	const Remembered *x = a;
	const Remembered *y = b;

	return x->family == y->family && x->protocol == y->protocol && x->sport == y->sport &&
	       x->dport == y->dport &&
	       memcmp(x->src.bytes, y->src.bytes, sizeof(x->src.bytes)) == 0 &&
	       memcmp(x->dst.bytes, y->dst.bytes, sizeof(x->dst.bytes)) == 0;
}

/* @flow's tuple as a key (or a stand-in for delete_entry) */
static Remembered
tuple_of(const VigilFlow *flow)
{
	Remembered key = {0};

	key.family = flow->family;
	key.protocol = flow->protocol;
	key.src = flow->src;
	key.dst = flow->dst;
	key.sport = flow->sport;
	key.dport = flow->dport;
	return key;
}

static void delete_entry(VigilSocketWatch *watch, const Remembered *flow);

/* off the age list; a pass's cursor on it moves on first */
static void
age_unlink(VigilSocketWatch *watch, Remembered *flow)
{
	if (watch->cursor == &flow->age_link)
		watch->cursor = watch->cursor->next;
	g_queue_unlink(&watch->by_age, &flow->age_link);
}

/* the newest; a pass at its end that has not judged it yet still will */
static void
age_push(VigilSocketWatch *watch, Remembered *flow)
{
	g_queue_push_tail_link(&watch->by_age, &flow->age_link);
	if (watch->judging && watch->cursor == NULL && flow->judged != watch->pass)
		watch->cursor = &flow->age_link;
}

static gboolean
is_tracked(guint8 protocol)
{
	return protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE || protocol == IPPROTO_TCP;
}

static void
forget(VigilSocketWatch *watch, Remembered *flow)
{
	guint key = port_key(flow->family, flow->protocol, flow->sport);
	GQueue *list = g_hash_table_lookup(watch->ports, GUINT_TO_POINTER(key));

	g_queue_unlink(list, &flow->port_link);
	if (list->length == 0)
		g_hash_table_remove(watch->ports, GUINT_TO_POINTER(key));
	age_unlink(watch, flow);
	vigil_uid_queues_unlink(watch->buckets, flow->bucket, &flow->bucket_link);
	g_hash_table_remove(watch->tuples, flow);
	if (flow->cookie != 0)
		g_hash_table_remove(watch->cookies, &flow->cookie);
	watch->stats.remembered--;
	if (flow->tag_free != NULL && flow->tag != NULL)
		flow->tag_free(flow->tag);
	g_free(flow);
}

static void
set_tag(Remembered *flow, gpointer tag, GDestroyNotify tag_free)
{
	if (flow->tag_free != NULL && flow->tag != NULL)
		flow->tag_free(flow->tag);
	flow->tag = tag;
	flow->tag_free = tag_free;
}

/*
 * The cookie of @flow's TCP socket when the caller did not know it: the socket its tuple names
 * now, if it is the packet's socket owner's, looked up just after its first packet was allowed.
 * A socket of another user that took the tuple meanwhile is not taken for it; 0 when there is
 * none, or no owner is known.
 */
static guint64
cookie_now(VigilSocketWatch *watch, const VigilFlow *flow)
{
	g_autoptr(GError) error = NULL;
	guint64 inode = 0;
	guint64 cookie = 0;
	guint32 uid = 0;

	if (!flow->has_uid)
		return 0;
	if (watch->diag == NULL)
		watch->diag = vigil_sock_diag_new("/proc", &error);
	if (watch->diag == NULL ||
	    !vigil_sock_diag_lookup_cookie(watch->diag, flow, VIGIL_SOCK_DIAG_PRIMARY_ONLY, &inode,
	                                   &uid, &cookie, &error)) {
		g_debug("no cookie for an allowed TCP connection: %s", error->message);
		/* after a failure the socket may hold a late answer: not used again */
		g_clear_pointer(&watch->diag, vigil_sock_diag_free);
		return 0;
	}
	return inode != 0 && uid == flow->uid ? cookie : 0;
}

void
vigil_socket_watch_allowed(VigilSocketWatch *watch, const VigilFlow *flow, guint64 cookie,
                           gpointer tag, GDestroyNotify tag_free)
{
	gint64 now = g_get_monotonic_time();
	guint key;
	GQueue *list;
	Remembered *r;
	Remembered *known;
	guint32 bucket;

	if (watch == NULL || !is_tracked(flow->protocol)) {
		if (tag_free != NULL && tag != NULL)
			tag_free(tag);
		return;
	}
	if (flow->protocol == IPPROTO_TCP && cookie == 0)
		cookie = cookie_now(watch, flow);
	r = g_new0(Remembered, 1);
	*r = tuple_of(flow);
	r->cookie = flow->protocol == IPPROTO_TCP ? cookie : 0;
	r->time = now;
	r->judged = watch->pass; /* decided by the rules in force */
	known = g_hash_table_lookup(watch->tuples, r);
	if (known != NULL) {
		/* the same tuple decided again (its entry was gone, or a newer socket has it):
		 * one flow, of the socket allowed last, now the newest */
		if (known->cookie != 0)
			g_hash_table_remove(watch->cookies, &known->cookie);
		known->cookie = r->cookie;
		if (known->cookie != 0)
			g_hash_table_replace(watch->cookies, &known->cookie, known);
		g_free(r);
		known->time = now;
		known->judged = watch->pass;
		set_tag(known, tag, tag_free);
		age_unlink(watch, known);
		age_push(watch, known);
		g_queue_unlink(&known->bucket->items, &known->bucket_link);
		g_queue_push_tail_link(&known->bucket->items, &known->bucket_link);
		return;
	}
	/* whose share it takes: the socket owner's user (vigil-fair.h); no owner: one for all */
	bucket = vigil_fair_bucket(flow->has_uid ? flow->uid : G_MAXUINT32);
	if (watch->stats.remembered >= MAX_REMEMBERED) {
		/* at the bound: the oldest flow of the user holding the most (this one's, when it
		 * is among them) goes, its verdict with it, never kept unwatched */
		VigilUidQueue *most = vigil_uid_queues_longest(
		    watch->buckets, vigil_uid_queues_lookup(watch->buckets, bucket));
		Remembered *old = most->items.head->data;
		delete_entry(watch, old);
		watch->stats.forgotten++;
		forget(watch, old);
	}
	r->tag = tag;
	r->tag_free = tag_free;
	r->age_link.data = r;
	r->port_link.data = r;
	r->bucket_link.data = r;
	r->bucket = vigil_uid_queues_get(watch->buckets, bucket);
	g_queue_push_tail_link(&r->bucket->items, &r->bucket_link);
	key = port_key(r->family, r->protocol, r->sport);
	list = g_hash_table_lookup(watch->ports, GUINT_TO_POINTER(key));
	if (list == NULL) {
		list = g_queue_new();
		g_hash_table_insert(watch->ports, GUINT_TO_POINTER(key), list);
	}
	g_queue_push_tail_link(list, &r->port_link);
	age_push(watch, r);
	g_hash_table_add(watch->tuples, r);
	if (r->cookie != 0)
		g_hash_table_replace(watch->cookies, &r->cookie, r);
	watch->stats.remembered++;
}

/* --- conntrack deletions ---------------------------------------------------------- */

static void
put_address(struct nlmsghdr *nlh, int family, guint16 v4_type, guint16 v6_type,
            const VigilAddress *addr)
{
	if (family == AF_INET)
		mnl_attr_put(nlh, v4_type, 4, addr->bytes);
	else
		mnl_attr_put(nlh, v6_type, 16, addr->bytes);
}

/* a ctnetlink request (@type: IPCTNL_MSG_CT_DELETE or _GET) for @flow's original tuple */
static void
put_request(char *buf, const Remembered *flow, guint16 type, guint16 flags, guint32 seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *tuple, *nest;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (guint8)flow->family;
	nfg->version = NFNETLINK_V0;
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	put_address(nlh, flow->family, CTA_IP_V4_SRC, CTA_IP_V6_SRC, &flow->src);
	put_address(nlh, flow->family, CTA_IP_V4_DST, CTA_IP_V6_DST, &flow->dst);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, flow->protocol);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(flow->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(flow->dport));
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
}

static void
drain(int fd)
{
	char buf[4096];

	/* the kernel's answers (an entry already gone): nothing to act on */
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
		;
}

static void
delete_entry(VigilSocketWatch *watch, const Remembered *flow)
{
	char buf[256] __attribute__((aligned(8)));
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	drain(watch->ct_fd);
	put_request(buf, flow, IPCTNL_MSG_CT_DELETE, 0, 0);
	if (sendto(watch->ct_fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel,
	           sizeof(kernel)) < 0)
		g_warning("deleting a conntrack entry: %s", g_strerror(errno));
	else
		watch->stats.deleted++;
}

/* FALSE only when conntrack says it has no entry for @flow; an error keeps it watched */
static gboolean
in_conntrack(VigilSocketWatch *watch, const Remembered *flow)
{
	char buf[8192] __attribute__((aligned(8)));
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	guint32 seq = ++watch->seq;

	drain(watch->ct_fd);
	put_request(buf, flow, IPCTNL_MSG_CT_GET, NLM_F_ACK, seq);
	if (sendto(watch->ct_fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel,
	           sizeof(kernel)) < 0)
		return TRUE;
	/* the kernel answers within the send; never more than a moment on the main loop */
	for (int tries = 0; tries < 3; tries++) {
		ssize_t n = recv(watch->ct_fd, buf, sizeof(buf), MSG_DONTWAIT);
		int len = (int)n;

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
				return TRUE;
			g_usleep(1000);
			continue;
		}
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type != NLMSG_ERROR)
				return TRUE; /* the entry */
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			return err->error != -ENOENT;
		}
	}
	return TRUE;
}

guint
vigil_socket_watch_recheck(VigilSocketWatch *watch, gint64 min_age_us)
{
	gint64 now = g_get_monotonic_time();
	guint gone = 0;

	for (guint checked = 0; checked < CHECK_MAX && watch->by_age.head != NULL; checked++) {
		Remembered *flow = watch->by_age.head->data;

		if (now - flow->time < min_age_us || g_get_monotonic_time() - now > CHECK_BUDGET_US)
			break;
		if (!in_conntrack(watch, flow)) {
			/* conntrack let it go: nothing left to delete, nothing to watch */
			forget(watch, flow);
			gone++;
			continue;
		}
		/* alive, however old: it keeps its verdict and stays watched */
		flow->time = now;
		age_unlink(watch, flow);
		age_push(watch, flow);
	}
	watch->stats.expired += gone;
	return gone;
}

static gboolean
on_check_tick(gpointer data)
{
	vigil_socket_watch_recheck(data, CONFIRM_AFTER_US);
	return G_SOURCE_CONTINUE;
}

/* --- judging live flows again ------------------------------------------------------ */

/* the kernel's answer to the request numbered @seq: 0, or a negative errno */
static int
read_ack(int fd, guint32 seq)
{
	char buf[8192] __attribute__((aligned(8)));

	/* netlink answers within the send; never more than a moment on the main loop */
	for (int tries = 0; tries < 3; tries++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int len = (int)n;

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
			g_usleep(1000);
			continue;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq == seq && nlh->nlmsg_type == NLMSG_ERROR)
				return ((const struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error;
		}
	}
	return -ETIMEDOUT;
}

/*
 * Destroys the local TCP socket @cookie of @flow (sock_diag SOCK_DESTROY, as `ss -K` does): the
 * kernel aborts the connection (tcp_abort: a reset to the peer, ECONNABORTED to the program),
 * whatever either side sends next, also when neither sends anything. Exact: the kernel finds
 * the socket by its 4-tuple in vigild's network namespace and ends it only when its cookie is
 * @cookie. Returns 0 or a negative errno (-ENOENT or -ESTALE: gone, whether or not another
 * socket has the tuple now).
 */
static int
destroy_socket(VigilSocketWatch *watch, const VigilFlow *flow, guint64 cookie)
{
	VigilSockDestroyRequest msg;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	char drained[4096];

	while (recv(watch->destroy_fd, drained, sizeof(drained), MSG_DONTWAIT) > 0)
		;
	if (!vigil_sock_diag_destroy_request(flow, cookie, ++watch->seq, &msg))
		return -EINVAL;
	if (sendto(watch->destroy_fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel,
	           sizeof(kernel)) < 0)
		return -errno;
	return read_ack(watch->destroy_fd, msg.nlh.nlmsg_seq);
}

static void
flow_of(const Remembered *r, VigilFlow *flow)
{
	*flow = (VigilFlow){0};
	flow->family = r->family;
	flow->protocol = r->protocol;
	flow->src = r->src;
	flow->dst = r->dst;
	flow->sport = r->sport;
	flow->dport = r->dport;
}

/* ends the flow of socket @cookie on @key's tuple (no longer remembered) */
static void
end_flow(VigilSocketWatch *watch, const Remembered *key, guint64 cookie)
{
	VigilFlow flow;
	int err;

	watch->stats.ended++;
	if (key->protocol != IPPROTO_TCP) {
		delete_entry(watch, key);
		return;
	}
	if (cookie == 0) {
		/* no socket known by name: never one found by the bare tuple, which may be
		 * another's now; its next outgoing segment is decided again (docs/rules.md) */
		watch->stats.unnamed++;
		delete_entry(watch, key);
		return;
	}
	flow_of(key, &flow);
	err = destroy_socket(watch, &flow, cookie);
	/* gone; or the tuple names another socket now, a listener maybe: not ours to end (the
	 * kernel says ENOENT or ESTALE) */
	if (err == 0 || err == -ENOENT || err == -ESTALE)
		return;
	if (!watch->destroy_unsupported)
		g_warning(
		    "cannot end TCP connections (sock_diag SOCK_DESTROY: %s; the kernel needs "
		    "CONFIG_INET_DIAG_DESTROY): their conntrack entries are deleted instead, so "
		    "their next segments are decided again",
		    g_strerror(-err));
	watch->destroy_unsupported = TRUE;
	delete_entry(watch, key);
}

void
vigil_socket_watch_end(VigilSocketWatch *watch, const VigilFlow *flow, guint64 cookie)
{
	Remembered key;
	Remembered *known;

	if (watch == NULL || !is_tracked(flow->protocol))
		return;
	key = tuple_of(flow);
	known = g_hash_table_lookup(watch->tuples, &key);
	/* a flow remembered for another socket on the tuple (a newer connection) is not this one */
	if (known != NULL && (flow->protocol != IPPROTO_TCP || known->cookie == cookie))
		forget(watch, known);
	end_flow(watch, &key, cookie);
}

static void
judge_one(VigilSocketWatch *watch, Remembered *r)
{
	VigilFlow flow;
	Remembered key;
	guint64 cookie;
	gpointer tag;
	GDestroyNotify tag_free;

	flow_of(r, &flow);
	watch->pass_judged++;
	switch (watch->judge.judge(&flow, r->tag, watch->judge.user_data)) {
	case VIGIL_FLOW_KEEP:
		return;
	case VIGIL_FLOW_END:
		watch->pass_ended++;
		key = tuple_of(&flow);
		cookie = r->cookie;
		forget(watch, r);
		end_flow(watch, &key, cookie);
		return;
	case VIGIL_FLOW_AGAIN:
		watch->pass_again++;
		watch->stats.revoked++;
		if (r->protocol == IPPROTO_TCP && watch->judge.ask != NULL) {
			/* forgotten first: the answer may allow it again at once; the socket goes
			 * with it, so that a deny ends that socket only */
			tag = g_steal_pointer(&r->tag);
			tag_free = r->tag_free;
			cookie = r->cookie;
			forget(watch, r);
			watch->judge.ask(&flow, cookie, tag, tag_free, watch->judge.user_data);
			return;
		}
		delete_entry(watch, r);
		forget(watch, r);
		return;
	}
}

gboolean
vigil_socket_watch_judge_slice(VigilSocketWatch *watch)
{
	gint64 start = g_get_monotonic_time();

	for (guint n = 0; watch->cursor != NULL && n < VIGIL_SOCKET_WATCH_SLICE; n++) {
		Remembered *r = watch->cursor->data;

		watch->cursor = watch->cursor->next;
		if (r->judged == watch->pass)
			continue;
		r->judged = watch->pass;
		judge_one(watch, r);
		if (g_get_monotonic_time() - start > JUDGE_BUDGET_US)
			break;
	}
	if (watch->cursor == NULL && watch->again) {
		/* the rules changed during the pass: the flows it judged before are judged again */
		watch->again = FALSE;
		watch->pass++;
		watch->cursor = watch->by_age.head;
	}
	watch->judging = watch->cursor != NULL;
	if (!watch->judging)
		g_info(
		    "the rules changed: %u live flow(s) decided again, %u ended, %u to be decided "
		    "again",
		    watch->pass_judged, watch->pass_ended, watch->pass_again);
	return watch->judging;
}

static gboolean
on_judge_slice(gpointer data)
{
	VigilSocketWatch *watch = data;

	if (vigil_socket_watch_judge_slice(watch))
		return G_SOURCE_CONTINUE;
	watch->judge_source = 0;
	return G_SOURCE_REMOVE;
}

void
vigil_socket_watch_judge_all(VigilSocketWatch *watch, const VigilSocketWatchJudge *judge)
{
	if (watch == NULL)
		return;
	watch->judge = *judge;
	if (watch->judging) {
		/* a pass under way goes on with the new rules from where it is, so that a stream of
		 * changes cannot keep it from the flows at the tail; those it judged by older rules
		 * get another pass when it ends */
		watch->pass++;
		watch->again = TRUE;
		return;
	}
	watch->pass++;
	watch->pass_judged = watch->pass_ended = watch->pass_again = 0;
	watch->cursor = watch->by_age.head;
	watch->judging = watch->cursor != NULL;
	/* the first slice at once: a short list is judged before the change is answered */
	if (watch->judging)
		vigil_socket_watch_judge_slice(watch);
	if (watch->judging && watch->judge_source == 0)
		watch->judge_source =
		    g_idle_add_full(G_PRIORITY_DEFAULT, on_judge_slice, watch, NULL);
}

/* --- destroy notifications ---------------------------------------------------------- */

static gboolean
is_wildcard(int family, const VigilAddress *addr)
{
	static const VigilAddress zero = {{0}};

	return memcmp(addr->bytes, zero.bytes, family == AF_INET ? 4 : 16) == 0;
}

/* the flows of @protocol from @family's @port that a socket bound to @src may have sent */
static guint
closed_port(VigilSocketWatch *watch, int family, guint8 protocol, guint16 port,
            const VigilAddress *src)
{
	GQueue *list =
	    g_hash_table_lookup(watch->ports, GUINT_TO_POINTER(port_key(family, protocol, port)));
	gboolean any = is_wildcard(family, src);
	guint n = 0;

	if (list == NULL)
		return 0;
	for (GList *l = list->head, *next; l != NULL; l = next) {
		Remembered *flow = l->data;

		next = l->next;
		if (!any && memcmp(flow->src.bytes, src->bytes, family == AF_INET ? 4 : 16) != 0)
			continue;
		delete_entry(watch, flow);
		forget(watch, flow); /* may free list */
		n++;
	}
	return n;
}

/* a TCP socket is gone: its connection's flow is forgotten (conntrack follows its end) */
static void
tcp_closed(VigilSocketWatch *watch, const struct inet_diag_msg *msg)
{
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	guint64 cookie = (guint64)msg->id.idiag_cookie[0] | (guint64)msg->id.idiag_cookie[1] << 32;
	Remembered key = {0};
	Remembered *known = g_hash_table_lookup(watch->cookies, &cookie);

	if (known != NULL) {
		forget(watch, known);
		return;
	}
	key.family = msg->idiag_family;
	key.protocol = IPPROTO_TCP;
	key.sport = ntohs(msg->id.idiag_sport);
	key.dport = ntohs(msg->id.idiag_dport);
	memcpy(key.src.bytes, msg->id.idiag_src, msg->idiag_family == AF_INET ? 4 : 16);
	memcpy(key.dst.bytes, msg->id.idiag_dst, msg->idiag_family == AF_INET ? 4 : 16);
	/* a dual-stack IPv6 socket's IPv4 connection: its packets are IPv4 */
	if (key.family == AF_INET6 && memcmp(key.dst.bytes, mapped, 12) == 0) {
		VigilAddress src = {{0}}, dst = {{0}};
		memcpy(src.bytes, key.src.bytes + 12, 4);
		memcpy(dst.bytes, key.dst.bytes + 12, 4);
		key.family = AF_INET;
		key.src = src;
		key.dst = dst;
	}
	/* by the tuple only a flow whose socket is not known by its cookie: a late notice of an
	 * older socket on the tuple leaves a newer one's flow watched */
	known = g_hash_table_lookup(watch->tuples, &key);
	if (known != NULL && known->cookie == 0)
		forget(watch, known);
}

static void
handle_destroyed(VigilSocketWatch *watch, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *msg = mnl_nlmsg_get_payload(nlh);
	guint8 protocols[2] = {IPPROTO_UDP, IPPROTO_UDPLITE};
	gsize n_protocols = 2;
	VigilAddress src = {{0}};
	guint16 port;
	guint closed = 0;
	const struct nlattr *attr;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*msg)) ||
	    (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6))
		return;
	mnl_attr_for_each(attr, nlh, sizeof(*msg))
	{
		if (mnl_attr_get_type(attr) == INET_DIAG_PROTOCOL &&
		    mnl_attr_get_payload_len(attr) >= 1) {
			protocols[0] = mnl_attr_get_u8(attr);
			n_protocols = 1;
		}
	}
	if (protocols[0] == IPPROTO_TCP) {
		if (n_protocols == 1) {
			watch->stats.tcp_closed++;
			tcp_closed(watch, msg);
		}
		return;
	}
	port = ntohs(msg->id.idiag_sport);
	memcpy(src.bytes, msg->id.idiag_src, msg->idiag_family == AF_INET ? 4 : 16);
	for (gsize i = 0; i < n_protocols; i++) {
		closed += closed_port(watch, msg->idiag_family, protocols[i], port, &src);
		/* a dual-stack IPv6 socket sends IPv4 flows too */
		if (msg->idiag_family == AF_INET6) {
			static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
			VigilAddress v4 = {{0}};
			if (is_wildcard(AF_INET6, &src))
				closed += closed_port(watch, AF_INET, protocols[i], port, &v4);
			else if (memcmp(src.bytes, mapped, 12) == 0) {
				memcpy(v4.bytes, src.bytes + 12, 4);
				closed += closed_port(watch, AF_INET, protocols[i], port, &v4);
			}
		}
	}
	if (closed > 0) {
		watch->stats.closed++;
		g_debug("UDP socket on port %u closed: %u allowed flow(s) forgotten by conntrack",
		        port, closed);
	}
}

/*
 * Close notifications were lost: any remembered flow's socket may be gone. Every remembered
 * flow's conntrack entry is deleted (their next packets are new and decided again), so none
 * keeps a verdict its socket no longer backs.
 */
static void
forget_all(VigilSocketWatch *watch)
{
	guint n = 0;

	for (GList *l = watch->by_age.head, *next; l != NULL; l = next) {
		Remembered *flow = l->data;

		next = l->next;
		/* a TCP flow has no entry to ride: its socket's end is what the watch looks for */
		if (flow->protocol == IPPROTO_TCP)
			continue;
		delete_entry(watch, flow);
		forget(watch, flow);
		n++;
	}
	if (watch->stats.overruns++ == 0 || n > 0)
		g_warning(
		    "socket close notifications lost (receive buffer overrun): the conntrack "
		    "entries of the %u allowed UDP flow(s) remembered were deleted, their next "
		    "packets are decided again",
		    n);
}

/*
 * Close notifications: UDP and TCP sockets on sockets of their own, so that a burst of TCP
 * closes (TCP churns far more than UDP) never overruns the UDP notifications, whose loss costs
 * every UDP flow its entry. A lost TCP notification leaves a flow remembered whose socket is
 * gone: the minute's conntrack check forgets it once conntrack let the connection go.
 */
static gboolean
on_readable(int fd, GIOCondition condition, gpointer data)
{
	VigilSocketWatch *watch = data;
	char buf[16384] __attribute__((aligned(8)));

	for (int reads = 0; reads < 64; reads++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno != ENOBUFS)
				break;
			if (fd == watch->diag_fd)
				forget_all(watch);
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				handle_destroyed(watch, nlh);
	}
	return G_SOURCE_CONTINUE;
}

static int
netlink_socket(int protocol, GError **error)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	struct sockaddr_nl local = {.nl_family = AF_NETLINK};

	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "netlink socket: %s",
		            g_strerror(saved));
		return -1;
	}
	return fd;
}

/* a sock_diag socket that receives the close notifications of the IPv4 and IPv6 @groups, read
 * by the main loop (*@source); -1 with @error when it cannot */
static int
notifications_socket(VigilSocketWatch *watch, int v4_group, int v6_group, guint *source,
                     GError **error)
{
	const int groups[] = {v4_group, v6_group};
	int rcvbuf = RECV_BUFFER_BYTES;
	int fd = netlink_socket(NETLINK_SOCK_DIAG, error);

	if (fd < 0)
		return -1;
	for (gsize i = 0; i < G_N_ELEMENTS(groups); i++) {
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
		               sizeof(groups[i])) < 0) {
			int saved = errno;
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			            "subscribing to socket close notifications: %s",
			            g_strerror(saved));
			close(fd);
			return -1;
		}
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	*source = g_unix_fd_add(fd, G_IO_IN, on_readable, watch);
	return fd;
}

VigilSocketWatch *
vigil_socket_watch_new(GError **error)
{
	g_autoptr(VigilSocketWatch) watch = g_new0(VigilSocketWatch, 1);

	watch->diag_fd = -1;
	watch->tcp_fd = -1;
	watch->destroy_fd = -1;
	watch->ct_fd = -1;
	watch->ports = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_queue_free);
	watch->tuples = g_hash_table_new(tuple_hash, tuple_equal);
	watch->cookies = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&watch->by_age);
	watch->buckets = vigil_uid_queues_new();
	watch->diag_fd = notifications_socket(watch, SKNLGRP_INET_UDP_DESTROY,
	                                      SKNLGRP_INET6_UDP_DESTROY, &watch->source, error);
	if (watch->diag_fd < 0)
		return NULL;
	watch->tcp_fd = notifications_socket(watch, SKNLGRP_INET_TCP_DESTROY,
	                                     SKNLGRP_INET6_TCP_DESTROY, &watch->tcp_source, error);
	if (watch->tcp_fd < 0)
		return NULL;
	watch->destroy_fd = netlink_socket(NETLINK_SOCK_DIAG, error);
	if (watch->destroy_fd < 0)
		return NULL;
	watch->ct_fd = netlink_socket(NETLINK_NETFILTER, error);
	if (watch->ct_fd < 0)
		return NULL;
	watch->check_source = g_timeout_add_seconds(CHECK_INTERVAL_S, on_check_tick, watch);
	return g_steal_pointer(&watch);
}

void
vigil_socket_watch_free(VigilSocketWatch *watch)
{
	if (watch == NULL)
		return;
	g_clear_handle_id(&watch->source, g_source_remove);
	g_clear_handle_id(&watch->tcp_source, g_source_remove);
	g_clear_handle_id(&watch->check_source, g_source_remove);
	g_clear_handle_id(&watch->judge_source, g_source_remove);
	while (watch->by_age.head != NULL)
		forget(watch, watch->by_age.head->data);
	vigil_uid_queues_free(watch->buckets);
	g_hash_table_unref(watch->ports);
	g_hash_table_unref(watch->tuples);
	g_hash_table_unref(watch->cookies);
	g_clear_pointer(&watch->diag, vigil_sock_diag_free);
	if (watch->diag_fd >= 0)
		close(watch->diag_fd);
	if (watch->tcp_fd >= 0)
		close(watch->tcp_fd);
	if (watch->destroy_fd >= 0)
		close(watch->destroy_fd);
	if (watch->ct_fd >= 0)
		close(watch->ct_fd);
	g_free(watch);
}

void
vigil_socket_watch_set_receive_buffer(VigilSocketWatch *watch, int bytes)
{
	if (setsockopt(watch->diag_fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		g_warning("receive buffer of close notifications: %s", g_strerror(errno));
}

void
vigil_socket_watch_get_stats(VigilSocketWatch *watch, VigilSocketWatchStats *stats)
{
	*stats = watch->stats;
}
