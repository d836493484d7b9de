/* vigil-icmp.h: what the ICMP attribution program records of a closed ping or raw socket */
#pragma once

/*
 * Included by vigil-icmp.bpf.c and by vigild (vigil-ebpf-icmp.c), after vigil-attrib.h: fixed
 * sizes only. A ping or raw socket has no hook per datagram that runs before the netfilter
 * queue (docs/ebpf-icmp.md), so the task that made it is kept in the socket's storage and,
 * when the socket is closed, under what vigild sees in a queued packet.
 */

enum {
	VIGIL_ICMP_PING = 1, /* SOCK_DGRAM, IPPROTO_ICMP or IPPROTO_ICMPV6 */
	VIGIL_ICMP_RAW = 2,  /* SOCK_RAW */
};

struct vigil_icmp_key {
	__u64 netns;   /* network namespace cookie */
	__u8 family;   /* AF_INET, AF_INET6 */
	__u8 kind;     /* VIGIL_ICMP_PING, VIGIL_ICMP_RAW */
	__u8 protocol; /* ping: IPPROTO_ICMP(V6); raw: the socket's protocol (255: any) */
	__u8 pad;
	__u16 id; /* ping: the echo identifier (its "port", host byte order); raw: 0 */
	__u16 pad2;
};

#define VIGIL_ICMP_OTHER                                                                           \
	1u /* another program's socket closed under the same key shortly                           \
	    * before: either may have sent the queued packet */

#define VIGIL_ICMP_MANY                                                                            \
	2u /* a third program's socket closed under the same key at many_ns: a record holds two,   \
	    * so none of them is known to be the sender (an unknown program) */

struct vigil_icmp_record {
	__u64 closed_ns; /* CLOCK_MONOTONIC when the socket was closed */
	__u64 cookie;
	__u64 inode;    /* the socket's inode: what /proc/net/icmp, raw showed while it lived */
	__u64 other_ns; /* with VIGIL_ICMP_OTHER: when the other's socket was closed */
	__u64 many_ns;  /* with VIGIL_ICMP_MANY: when the latest third program's was */
	__u32 flags;
	__u32 pad;
	struct vigil_attrib_task task;  /* the task that made the socket */
	struct vigil_attrib_task other; /* with VIGIL_ICMP_OTHER */
};

/*
 * How long a record speaks for a queued packet after its socket was closed: a packet sent
 * before the close waits at most vigild's attribution deadline (3 s) plus its read of the
 * queue; an older record of the same key is not its sender's. vigild checks it; the program
 * keeps another program's record as the other only as long.
 */
#define VIGIL_ICMP_RECENT_NS (10ULL * 1000000000ULL)

/* map sizes (entries, least recently used out): root's sockets and everyone else's apart, so
 * that a user closing ping sockets in a loop never pushes out the record of a system program */
#define VIGIL_ICMP_ROOT_MAX  1024
#define VIGIL_ICMP_USERS_MAX 4096
