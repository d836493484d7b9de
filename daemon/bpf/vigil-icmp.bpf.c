/* vigil-icmp.bpf.c: records the program behind ping and raw sockets, for once they are closed */

/*
 * Attached to the same cgroup as vigil-attrib.bpf.c. ICMP has no cgroup sock_addr hook per
 * datagram (sendmsg4/6 run for UDP only) and cgroup_skb/egress runs after the netfilter hooks,
 * where vigild's queue already holds the packet (measured: docs/ebpf-icmp.md). What runs before
 * the packet and is kept: cgroup/sock_create, in the task that makes the socket; and
 * cgroup/sock_release, in close(), while the socket still has its echo identifier (a ping
 * socket's bound "port") or protocol (a raw socket's). A live socket is found by vigild through
 * /proc as before; a closed one (a ping that sent and exited) by this record.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "vigil-kernel.h"
#include "vigil-attrib.h"
#include "vigil-icmp.h"
#include "vigil-task.bpf.h"

#define AF_INET        2
#define AF_INET6       10
#define SOCK_DGRAM     2
#define SOCK_RAW       3
#define IPPROTO_ICMP   1
#define IPPROTO_ICMPV6 58

char LICENSE[] SEC("license") = "GPL";

/* the task that made each ping or raw socket */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vigil_attrib_task);
} icmp_socks SEC(".maps");

/* closed sockets, by what their packets show; root's apart from everyone else's */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_ICMP_ROOT_MAX);
	__type(key, struct vigil_icmp_key);
	__type(value, struct vigil_icmp_record);
} icmp_root SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_ICMP_USERS_MAX);
	__type(key, struct vigil_icmp_key);
	__type(value, struct vigil_icmp_record);
} icmp_users SEC(".maps");

/* a record is too big for the 512-byte stack with the rest */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_icmp_record);
} icmp_scratch SEC(".maps");

/* VIGIL_ICMP_PING, VIGIL_ICMP_RAW, or 0: a socket of no interest here */
static __always_inline int
icmp_kind(__u32 family, __u32 type, __u32 protocol)
{
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (type == SOCK_RAW)
		return VIGIL_ICMP_RAW;
	if (type == SOCK_DGRAM && (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6))
		return VIGIL_ICMP_PING;
	return 0;
}

SEC("cgroup/sock_create")
int
vigil_icmp_create(struct bpf_sock *sk)
{
	if (icmp_kind(sk->family, sk->type, sk->protocol) == 0)
		return 1;
	struct vigil_attrib_task *t =
	    bpf_sk_storage_get(&icmp_socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (t != NULL)
		fill_task(t);
	return 1;
}

/*
 * The record under the socket's key. An earlier record of another program under the same key
 * (an echo identifier taken again, or a second raw socket) that is still recent stays as the
 * other: either socket may have sent the packet that waits, and the least trusted decides. A
 * third program within that time makes it many: none is known (vigild: an unknown program).
 */
static __always_inline void
store(void *map, const struct vigil_icmp_key *key, struct vigil_icmp_record *v)
{
	struct vigil_icmp_record *old = bpf_map_lookup_elem(map, key);
	__u64 now = v->closed_ns;
	v->flags = 0;
	v->other_ns = 0;
	v->many_ns = 0;
	v->other.flags = 0;
	if (old != NULL) {
		int old_task = now - old->closed_ns < VIGIL_ICMP_RECENT_NS &&
		               !same_program(&old->task, &v->task);
		int old_other = (old->flags & VIGIL_ICMP_OTHER) &&
		                now - old->other_ns < VIGIL_ICMP_RECENT_NS &&
		                !same_program(&old->other, &v->task);
		if (old_task) {
			v->flags = VIGIL_ICMP_OTHER;
			v->other = old->task;
			v->other_ns = old->closed_ns;
			/* the old other is another program than the old task (stored so) */
			if (old_other) {
				v->flags |= VIGIL_ICMP_MANY;
				v->many_ns = old->other_ns;
			}
		} else if (old_other) {
			v->flags = VIGIL_ICMP_OTHER;
			v->other = old->other;
			v->other_ns = old->other_ns;
		}
		if ((old->flags & VIGIL_ICMP_MANY) && now - old->many_ns < VIGIL_ICMP_RECENT_NS) {
			v->flags |= VIGIL_ICMP_MANY;
			if (old->many_ns > v->many_ns)
				v->many_ns = old->many_ns;
		}
	}
	bpf_map_update_elem(map, key, v, BPF_ANY);
}

SEC("cgroup/sock_release")
int
vigil_icmp_release(struct bpf_sock *ctx)
{
	int kind = icmp_kind(ctx->family, ctx->type, ctx->protocol);
	if (kind == 0)
		return 1;
	struct vigil_attrib_task *t = bpf_sk_storage_get(&icmp_socks, ctx, 0, 0);
	if (t == NULL || !(t->flags & VIGIL_ATTRIB_TASK_SET))
		return 1;
	__u32 zero = 0;
	struct vigil_icmp_record *v = bpf_map_lookup_elem(&icmp_scratch, &zero);
	if (v == NULL)
		return 1;

	/* this program type shows no bound port in its context: read it from the socket */
	struct sock *sk = (struct sock *)ctx;
	__u16 num = BPF_CORE_READ(sk, __sk_common.skc_num);
	struct vigil_icmp_key key;
	__builtin_memset(&key, 0, sizeof(key));
	key.netns = bpf_get_netns_cookie(ctx);
	key.family = (__u8)ctx->family;
	key.kind = (__u8)kind;
	if (kind == VIGIL_ICMP_PING) {
		if (num == 0)
			return 1; /* never bound: it sent nothing */
		key.protocol = (__u8)ctx->protocol;
		key.id = num;
	} else {
		key.protocol = (__u8)num; /* a raw socket's "port" is its protocol */
	}
	v->closed_ns = bpf_ktime_get_ns();
	v->cookie = bpf_get_socket_cookie(ctx);
	v->inode = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	v->pad = 0;
	v->task = *t;
	if (t->uid == 0)
		store(&icmp_root, &key, v);
	else
		store(&icmp_users, &key, v);
	return 1;
}
