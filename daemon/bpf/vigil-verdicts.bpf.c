/* vigil-verdicts.bpf.c: decides in the kernel the connections whose verdict vigild wrote */

/*
 * Attached beside the attribution programs (vigil-attrib.bpf.c) to vigild's EbpfCgroup=, in
 * links of their own. vigild writes an entry into `verdicts` only after a rule decided a
 * connection of that program, user and destination (docs/ebpf-verdicts.md); a connect() or
 * sendto() that finds a current entry is decided here and never reaches the netfilter queue:
 * - allow and drop (TCP connect only): vigild's code in the socket's mark bits; vigild's
 *   chain ahead of the queue rule saves a marked packet's verdict to conntrack and acts on it;
 * - deny: the call fails at once with EPERM (the hook returns 0).
 * A TCP socket loses the allow code once established (sockops): conntrack keeps the verdict.
 * Every decision is an event in `events` first: when the ring is full the hook does not
 * decide, and the connection goes to the queue, so that none is made unlogged.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vigil-kernel.h"
#include "vigil-attrib.h"
#include "vigil-task.bpf.h" /* exe_ctime_ns() */
#include "vigil-verdicts.h"

#define AF_INET     2
#define AF_INET6    10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOL_SOCKET  1
#define SO_MARK     36

/* bpf_probe_read_kernel, behind BPF_CORE_READ, is for GPL-compatible programs only */
char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_VERDICTS_MAX);
	__type(key, struct vigil_verdict_key);
	__type(value, struct vigil_verdict_value);
} verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_verdict_state);
} state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VIGIL_VERDICTS_RING_SIZE);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_verdict_stats);
} stats SEC(".maps");

/* vigild's network namespace (its cookie), set before the programs load */
const volatile __u64 vigil_netns = 0;

/* the current task's program and uid into @key; 0 for a task without an executable */
static __always_inline int
current_program(struct vigil_verdict_key *key, __u32 *tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct inode *inode = mm != NULL ? BPF_CORE_READ(mm, exe_file, f_inode) : NULL;

	if (inode == NULL)
		return 0;
	*tgid = BPF_CORE_READ(task, tgid);
	key->uid = BPF_CORE_READ(task, cred, uid.val);
	key->exe_ino = BPF_CORE_READ(inode, i_ino);
	key->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->exe_size = BPF_CORE_READ(inode, i_size);
	key->exe_ctime_ns = exe_ctime_ns(inode);
	return 1;
}

static __always_inline void
count(int ring_full, int mark_failed)
{
	__u32 zero = 0;
	struct vigil_verdict_stats *s = bpf_map_lookup_elem(&stats, &zero);
	if (s == NULL)
		return;
	if (ring_full)
		__sync_fetch_and_add(&s->ring_full, 1);
	else if (mark_failed)
		__sync_fetch_and_add(&s->mark_failed, 1);
	else
		__sync_fetch_and_add(&s->decided, 1);
}

/* TRUE when the datagram goes to the peer the socket is connected to: its own flow */
static __always_inline int
to_peer(struct bpf_sock_addr *ctx, struct bpf_sock *sk, int v6)
{
	if (sk->dst_port != (__u16)ctx->user_port)
		return 0;
	/* a sendmsg4 program may not read the IPv6 fields, nor sendmsg6 the IPv4 ones */
	if (!v6)
		return sk->dst_ip4 == ctx->user_ip4;
	for (int i = 0; i < 4; i++) {
		if (sk->dst_ip6[i] != ctx->user_ip6[i])
			return 0;
	}
	return 1;
}

/* a datagram failed for the verdict bits an earlier connect() left: told to vigild (no rule) */
static __always_inline void
stale_event(struct bpf_sock_addr *ctx, const struct vigil_verdict_key *key)
{
	struct vigil_verdict_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct vigil_verdict_key k = *key;
	__u32 tgid = 0;

	if (e == NULL) {
		count(1, 0);
		return;
	}
	k.netns = vigil_netns;
	current_program(&k, &tgid);
	e->key = k;
	e->rule_id = 0;
	e->cookie = bpf_get_socket_cookie(ctx);
	e->ktime = bpf_ktime_get_ns();
	e->tgid = tgid;
	e->action = VIGIL_VERDICT_DENY;
	e->hook = VIGIL_VERDICT_HOOK_STALE;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/*
 * The hooks' common part: @key has the destination. A socket that connects again first loses
 * the verdict bits an earlier connect() gave it (an old verdict never rides on a new
 * destination). Returns what the hook returns: 1 lets the call go on (decided by a mark, or
 * not decided here: the queue), 0 fails it with EPERM.
 */
static __always_inline int
decide(struct bpf_sock_addr *ctx, struct vigil_verdict_key *key, __u32 hook, int v6)
{
	__u32 zero = 0;
	struct vigil_verdict_state *st = bpf_map_lookup_elem(&state, &zero);
	struct bpf_sock *sk = ctx->sk;
	__u32 tgid = 0;

	if (st == NULL || sk == NULL || bpf_get_netns_cookie(ctx) != vigil_netns)
		return 1;
	__u32 mask = st->mark_mask;
	__u32 mark = sk->mark;
	if (hook == VIGIL_VERDICT_HOOK_CONNECT && (mark & mask) != 0) {
		mark &= ~mask;
		bpf_setsockopt(ctx, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	} else if (hook == VIGIL_VERDICT_HOOK_SENDMSG && (mark & mask) != 0 &&
	           !to_peer(ctx, sk, v6)) {
		/* a socket a connect() gave a verdict (then disconnected, or sending elsewhere):
		 * the datagram already carries that mark (udp_sendmsg read it before this hook), so
		 * it fails; the bits go, and its next datagram goes to the queue */
		mark &= ~mask;
		bpf_setsockopt(ctx, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
		stale_event(ctx, key);
		return 0;
	}
	if (!st->enabled || (key->protocol != IPPROTO_TCP && key->protocol != IPPROTO_UDP))
		return 1;
	key->netns = vigil_netns;
	if (!current_program(key, &tgid))
		return 1;
	struct vigil_verdict_value *v = bpf_map_lookup_elem(&verdicts, key);
	if (v == NULL || v->generation != st->generation)
		return 1;
	__u64 now = bpf_ktime_get_ns();
	if (v->expires_ns != 0 && now >= v->expires_ns)
		return 1;
	__u32 action = v->action;
	/* UDP: only a deny (EPERM, now) is decided here. An unconnected datagram cannot be
	 * marked alone, and a connected socket's mark would outlive the verdict: its send()
	 * runs no hook, so after a rule change (and its conntrack entry's end) its datagrams
	 * would pass marked as a new flow, unasked and unlogged (review H1) */
	if (key->protocol == IPPROTO_UDP && action != VIGIL_VERDICT_DENY)
		return 1;
	if (action != VIGIL_VERDICT_ALLOW && action != VIGIL_VERDICT_DENY &&
	    action != VIGIL_VERDICT_DROP)
		return 1;

	struct vigil_verdict_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e == NULL) {
		count(1, 0);
		return 1;
	}
	e->key = *key;
	e->rule_id = v->rule_id;
	e->cookie = bpf_get_socket_cookie(ctx);
	e->ktime = now;
	e->tgid = tgid;
	e->action = action;
	e->hook = hook;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (action != VIGIL_VERDICT_DENY) {
		mark = (mark & ~mask) | (v->mark & mask);
		if (bpf_setsockopt(ctx, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
			/* not decided here: the queue decides, and logs */
			bpf_ringbuf_discard(e, 0);
			count(0, 1);
			return 1;
		}
	}
	bpf_ringbuf_submit(e, 0);
	count(0, 0);
	return action == VIGIL_VERDICT_DENY ? 0 : 1;
}

static __always_inline void
key4(struct vigil_verdict_key *key, struct bpf_sock_addr *ctx)
{
	__u32 dst = ctx->user_ip4;

	__builtin_memset(key, 0, sizeof(*key));
	key->family = AF_INET;
	key->protocol = (__u8)ctx->protocol;
	key->dport = bpf_ntohs((__u16)ctx->user_port);
	__builtin_memcpy(key->daddr, &dst, 4);
}

/* an IPv4-mapped destination (::ffff:a.b.c.d) is keyed as IPv4, as vigild sees its packets */
static __always_inline void
key6(struct vigil_verdict_key *key, struct bpf_sock_addr *ctx)
{
	__u32 dst[4];

	__builtin_memset(key, 0, sizeof(*key));
	for (int i = 0; i < 4; i++)
		dst[i] = ctx->user_ip6[i];
	key->protocol = (__u8)ctx->protocol;
	key->dport = bpf_ntohs((__u16)ctx->user_port);
	if (dst[0] == 0 && dst[1] == 0 && dst[2] == bpf_htonl(0xffff)) {
		key->family = AF_INET;
		__builtin_memcpy(key->daddr, &dst[3], 4);
	} else {
		key->family = AF_INET6;
		__builtin_memcpy(key->daddr, dst, 16);
	}
}

SEC("cgroup/connect4")
int
vigil_verdict_connect4(struct bpf_sock_addr *ctx)
{
	struct vigil_verdict_key key;

	key4(&key, ctx);
	return decide(ctx, &key, VIGIL_VERDICT_HOOK_CONNECT, 0);
}

SEC("cgroup/connect6")
int
vigil_verdict_connect6(struct bpf_sock_addr *ctx)
{
	struct vigil_verdict_key key;

	key6(&key, ctx);
	return decide(ctx, &key, VIGIL_VERDICT_HOOK_CONNECT, 1);
}

SEC("cgroup/sendmsg4")
int
vigil_verdict_sendmsg4(struct bpf_sock_addr *ctx)
{
	struct vigil_verdict_key key;

	key4(&key, ctx);
	return decide(ctx, &key, VIGIL_VERDICT_HOOK_SENDMSG, 0);
}

SEC("cgroup/sendmsg6")
int
vigil_verdict_sendmsg6(struct bpf_sock_addr *ctx)
{
	struct vigil_verdict_key key;

	key6(&key, ctx);
	return decide(ctx, &key, VIGIL_VERDICT_HOOK_SENDMSG, 1);
}

/*
 * A TCP connection the kernel allowed is established: the conntrack entry holds the verdict
 * (saved from the SYN), so vigild's bits leave the socket's mark. Kept there, they would
 * outlive the hooks: after vigild crashed (FailMode=closed keeps its chains, which accept a
 * marked packet) the socket could disconnect (connect(AF_UNSPEC)) and connect elsewhere
 * with its allow code, unasked (review H1).
 */
SEC("sockops")
int
vigil_verdict_sockops(struct bpf_sock_ops *skops)
{
	__u32 zero = 0;
	struct vigil_verdict_state *st;
	struct bpf_sock *sk;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		return 1;
	sk = skops->sk;
	st = bpf_map_lookup_elem(&state, &zero);
	if (sk == NULL || st == NULL || (sk->mark & st->mark_mask) == 0)
		return 1;
	__u32 mark = sk->mark & ~st->mark_mask;
	bpf_setsockopt(skops, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	return 1;
}
