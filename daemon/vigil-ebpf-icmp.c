/* vigil-ebpf-icmp.c: loads, attaches and reads the program that records closed ping and raw
 * sockets (daemon/bpf/vigil-icmp.bpf.c) */
#define G_LOG_DOMAIN "vigil-ebpf"
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/vigil-attrib.h"
#include "bpf/vigil-icmp.h"
#include "vigil-ebpf-icmp.h"
#include "vigil-ebpf-task.h"
#include "vigil-icmp.skel.h"

#define ICMP_ECHO_REQUEST   8
#define ICMPV6_ECHO_REQUEST 128
#define PROTO_RAW_ANY       255 /* IPPROTO_RAW: a socket that sends any protocol */

struct _VigilEbpfIcmp {
	struct vigil_icmp *skel;
	int maps[2]; /* root's, everyone else's */
};

VigilEbpfIcmp *
vigil_ebpf_icmp_new(int cgroup_fd, const char *cgroup, GError **error)
{
	g_autoptr(VigilEbpfIcmp) icmp = g_new0(VigilEbpfIcmp, 1);

	icmp->skel = vigil_icmp__open_and_load();
	if (icmp->skel == NULL) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
		            "loading the eBPF program for ping and raw sockets: %s",
		            g_strerror(saved));
		return NULL;
	}
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} progs[] = {
	    {icmp->skel->progs.vigil_icmp_create, &icmp->skel->links.vigil_icmp_create},
	    {icmp->skel->progs.vigil_icmp_release, &icmp->skel->links.vigil_icmp_release},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(progs); i++) {
		/* a link: it goes when vigild's fd closes, also when vigild is killed */
		struct bpf_link *link = bpf_program__attach_cgroup(progs[i].prog, cgroup_fd);
		int err = -libbpf_get_error(link);
		if (err != 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			            "attaching %s to %s: %s", bpf_program__name(progs[i].prog),
			            cgroup, g_strerror(err));
			return NULL;
		}
		*progs[i].link = link;
	}
	icmp->maps[0] = bpf_map__fd(icmp->skel->maps.icmp_root);
	icmp->maps[1] = bpf_map__fd(icmp->skel->maps.icmp_users);
	return g_steal_pointer(&icmp);
}

void
vigil_ebpf_icmp_free(VigilEbpfIcmp *icmp)
{
	if (icmp == NULL)
		return;
	/* destroying the links detaches the programs; then the maps go */
	if (icmp->skel != NULL)
		vigil_icmp__destroy(icmp->skel);
	g_free(icmp);
}

/* the tasks that may have sent the packet, each program once, at most three */
typedef struct {
	VigilEbpfTask tasks[3];
	guint n;
	gboolean too_many;
} Candidates;

static gboolean
same_program(const VigilEbpfTask *a, const VigilEbpfTask *b)
{
	return a->exe_dev == b->exe_dev && a->exe_ino == b->exe_ino && a->uid == b->uid;
}

static void
candidates_add(Candidates *c, const struct vigil_attrib_task *k, const VigilFlow *flow)
{
	VigilEbpfTask task;

	vigil_ebpf_task_from_kernel(&task, k);
	/* the kernel names the packet's socket owner: another user's socket did not send it */
	if (!task.set || (flow->has_uid && task.uid != flow->uid))
		return;
	for (guint i = 0; i < c->n; i++)
		if (same_program(&c->tasks[i], &task))
			return;
	if (c->n == G_N_ELEMENTS(c->tasks)) {
		c->too_many = TRUE;
		return;
	}
	c->tasks[c->n++] = task;
}

static guint64
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (guint64)ts.tv_sec * 1000000000 + (guint64)ts.tv_nsec;
}

static gboolean
recent(guint64 closed_ns, guint64 now)
{
	return closed_ns <= now && now - closed_ns < VIGIL_ICMP_RECENT_NS;
}

/* the records of @key in both tables: their tasks into @c */
static void
collect(VigilEbpfIcmp *icmp, const struct vigil_icmp_key *key, const VigilFlow *flow, guint64 inode,
        guint64 now, Candidates *c)
{
	for (guint i = 0; i < G_N_ELEMENTS(icmp->maps); i++) {
		struct vigil_icmp_record r;
		if (bpf_map_lookup_elem(icmp->maps[i], key, &r) != 0 || !recent(r.closed_ns, now))
			continue;
		/* /proc listed a live socket for it: only that socket's record speaks for it */
		if (inode != 0 && r.inode != inode)
			continue;
		/* a third program's socket too: none of them is known to be the sender */
		if ((r.flags & VIGIL_ICMP_MANY) && recent(r.many_ns, now))
			c->too_many = TRUE;
		candidates_add(c, &r.task, flow);
		if ((r.flags & VIGIL_ICMP_OTHER) && recent(r.other_ns, now))
			candidates_add(c, &r.other, flow);
	}
}

gboolean
vigil_ebpf_icmp_lookup(VigilEbpfIcmp *icmp, guint64 netns, const VigilFlow *flow, guint64 inode,
                       VigilEbpfRecord *record)
{
	struct vigil_icmp_key key;
	Candidates c = {0};
	guint64 now = now_ns();

	g_return_val_if_fail(icmp != NULL && flow != NULL && record != NULL, FALSE);
	if (!((flow->family == AF_INET && flow->protocol == IPPROTO_ICMP) ||
	      (flow->family == AF_INET6 && flow->protocol == IPPROTO_ICMPV6)))
		return FALSE;
	memset(&key, 0, sizeof(key));
	key.netns = netns;
	key.family = (guint8)flow->family;
	/* a ping socket sends echo requests only, with its own identifier */
	if (flow->icmp_type ==
	    (flow->family == AF_INET ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST)) {
		key.kind = VIGIL_ICMP_PING;
		key.protocol = flow->protocol;
		key.id = flow->icmp_id;
		collect(icmp, &key, flow, inode, now, &c);
	}
	/* a raw socket sends anything of its protocol, or of any with IPPROTO_RAW */
	key.kind = VIGIL_ICMP_RAW;
	key.id = 0;
	key.protocol = flow->protocol;
	collect(icmp, &key, flow, inode, now, &c);
	key.protocol = PROTO_RAW_ANY;
	collect(icmp, &key, flow, inode, now, &c);

	/* more programs than a record holds: none of them is known to be the sender (an
	 * unknown program, never "no record" that /proc would answer for) */
	if (c.n == 0 || c.too_many)
		return FALSE;
	memset(record, 0, sizeof(*record));
	record->actor = c.tasks[0];
	record->released = TRUE;
	/* /proc lists no socket for it: a socket taken out of the kernel's tables while it
	 * lives (a ping socket's connect(AF_UNSPEC) drops its identifier; a raw socket's
	 * sendto() of a closed-then-reused protocol) is listed nowhere and has no record, yet it
	 * sent it: the records are who may have sent it, an unknown program too (the least
	 * trusted decides). A socket /proc listed and that was closed since is that very record */
	record->unnamed_too = inode == 0;
	if (c.n > 1)
		record->creator = c.tasks[1];
	if (c.n > 2)
		record->other = c.tasks[2];
	return TRUE;
}
