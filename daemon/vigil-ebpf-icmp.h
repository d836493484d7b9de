/* vigil-ebpf-icmp.h: the kernel's record of closed ping and raw sockets (daemon/bpf/vigil-icmp) */
#pragma once

#include <glib.h>
#include "vigil-ebpf-task.h"
#include "vigil-flow.h"

G_BEGIN_DECLS

/* only with HAVE_EBPF; vigil-ebpf.c holds one beside the attribution programs */
typedef struct _VigilEbpfIcmp VigilEbpfIcmp;

/* loads the program and attaches it to the cgroup v2 directory @cgroup_fd (@cgroup names it in
 * errors); detached by vigil_ebpf_icmp_free() or when vigild exits */
VigilEbpfIcmp *vigil_ebpf_icmp_new(int cgroup_fd, const char *cgroup, GError **error);
void vigil_ebpf_icmp_free(VigilEbpfIcmp *icmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilEbpfIcmp, vigil_ebpf_icmp_free)

/*
 * The task that made the closed ping or raw socket that may have sent @flow's ICMP or ICMPv6
 * packet in network namespace @netns: a ping socket by the echo identifier of a request, raw
 * sockets of its protocol; closed less than VIGIL_ICMP_RECENT_NS ago. @inode, when not 0, is
 * the live socket /proc showed for the flow: only that socket's record then. Other programs'
 * sockets that may have sent it too are in creator and other (the least trusted decides).
 */
gboolean vigil_ebpf_icmp_lookup(VigilEbpfIcmp *icmp, guint64 netns, const VigilFlow *flow,
                                guint64 inode, VigilEbpfRecord *record);

G_END_DECLS
