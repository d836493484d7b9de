/* vigil-ebpf.h: the kernel programs that record who connects or sends (daemon/bpf/) */
#pragma once

#include <glib.h>
#include "vigil-ebpf-task.h"
#include "vigil-flow.h"

G_BEGIN_DECLS

typedef struct _VigilEbpf VigilEbpf;

/*
 * Loads the programs and attaches them to the cgroup v2 directory @cgroup (NULL: the root of the
 * cgroup v2 hierarchy, from /proc/self/mountinfo); everything is detached again by
 * vigil_ebpf_free() or when vigild exits, however it exits (the attachments are links held by
 * vigild's fds, pinned nowhere). Errors say why eBPF cannot be used (G_IO_ERROR_NOT_SUPPORTED
 * when built without it).
 */
VigilEbpf *vigil_ebpf_new(const char *cgroup, GError **error);

/* for tests, before vigil_ebpf_new(): how long a share with no live socket and no new record
 * stays its bucket's (default 60 s); the iterator (by program name) whose link the kernel is
 * made to refuse (vigild --ebpf-fail-iterator) */
void vigil_ebpf_set_slot_idle(guint ms);
void vigil_ebpf_set_failing_iterator(const char *name);
void vigil_ebpf_free(VigilEbpf *ebpf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilEbpf, vigil_ebpf_free)
const char *vigil_ebpf_get_cgroup(VigilEbpf *ebpf);

/* the record of the socket that sent @flow's packet, by its tuple (TCP, unconnected UDP
 * datagrams, closed connected UDP sockets); thread-safe */
gboolean vigil_ebpf_lookup_flow(VigilEbpf *ebpf, const VigilFlow *flow, VigilEbpfRecord *record);
/* the same by socket cookie (sock_diag gives it for a live socket) */
gboolean vigil_ebpf_lookup_cookie(VigilEbpf *ebpf, guint64 cookie, VigilEbpfRecord *record);

/* the task that made the closed ping or raw socket that may have sent @flow's ICMP packet
 * (daemon/bpf/vigil-icmp.h); @inode: the live socket /proc listed for it, if any (its holders
 * were gone when searched); thread-safe */
gboolean vigil_ebpf_lookup_icmp(VigilEbpf *ebpf, const VigilFlow *flow, guint64 inode,
                                VigilEbpfRecord *record);

/* one fairness bucket's share of the record tables (daemon/bpf/vigil-attrib.h) */
typedef struct {
	guint32
	    uid; /* the bucket: a user's uid (with its subordinate uids), or VIGIL_FAIR_UNKNOWN */
	guint32 cookies;         /* live sockets recorded by cookie now */
	guint64 flows;           /* flow records it made (its ring holds the newest of them) */
	guint64 flows_evicted;   /* its own oldest flow records dropped for newer ones */
	guint64 cookies_refused; /* its sockets not recorded by cookie: over its share */
} VigilEbpfShare;

/* the buckets that have a share (an array of VigilEbpfShare), and in *@no_slot how many
 * records were not made because every share was busy */
GArray *vigil_ebpf_get_shares(VigilEbpf *ebpf, guint64 *no_slot);

/* pure: the mount point of the cgroup v2 hierarchy in a /proc/self/mountinfo text, or NULL */
char *vigil_ebpf_cgroup2_mount(const char *mountinfo);

G_END_DECLS
