/* vigil-attrib.bpf.c: records the task behind each socket when it connects or sends */

/*
 * Attached to a cgroup v2 directory (vigild's EbpfCgroup=). Every program here allows: they
 * only remember who did what, for vigild to read when the socket's first packet reaches its
 * netfilter queue. Kernel facts relied on (checked by tests/test-ebpf.c and the e2e tests):
 * - cgroup/connect4/6 run in the connecting task before the kernel binds the source port;
 * - sock_ops TCP_CONNECT_CB runs in tcp_connect() with the four-tuple set, before the SYN;
 * - cgroup/sendmsg4/6 run for an unconnected UDP sendto() with the source port already
 *   bound (inet_send_prepare()), before the datagram is built;
 * - cgroup/sock_release runs in close() while the socket still has its tuple and storage.
 * All of them come before the netfilter OUTPUT hook, where the packet is queued. Sockets made
 * before the programs were attached are recorded once, by the iterators at the end.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vigil-kernel.h"
#include "vigil-attrib.h"
#include "vigil-task.bpf.h"

#define AF_INET         2
#define AF_INET6        10
#define IPPROTO_TCP     6
#define IPPROTO_UDP     17
#define IPPROTO_UDPLITE 136

/* bpf_probe_read_kernel, behind BPF_CORE_READ, is for GPL-compatible programs only */
char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vigil_attrib_sock);
} socks SEC(".maps");

/* what vigild finds by the cookie sock_diag gives for a live socket: only live ones (a
 * socket's record goes when it is closed), at most VIGIL_ATTRIB_UID_COOKIES of each uid */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VIGIL_ATTRIB_COOKIES_MAX);
	__type(key, __u64);
	__type(value, struct vigil_attrib_sock);
} cookies SEC(".maps");

/* what vigild finds by the packet's flow, also once the socket is gone; each record is in
 * its owner's ring (flow_ring), which drops the owner's oldest to make room */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VIGIL_ATTRIB_FLOWS_MAX);
	__type(key, struct vigil_attrib_flow_key);
	__type(value, struct vigil_attrib_flow);
} flows SEC(".maps");

/* per bucket: its slot (while the slot's epoch is the one it was given at) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_ATTRIB_BUCKETS_MAX);
	__type(key, __u32);
	__type(value, struct vigil_attrib_uid);
} uids SEC(".maps");

/* the shares: their owner, counts and ring position */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VIGIL_ATTRIB_UIDS_MAX);
	__type(key, __u32);
	__type(value, struct vigil_attrib_slot);
} slots SEC(".maps");

/* the keys of each slot's flow records, in the order they were made: slot * UID_FLOWS + pos */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VIGIL_ATTRIB_FLOWS_MAX);
	__type(key, __u32);
	__type(value, struct vigil_attrib_flow_key);
} flow_ring SEC(".maps");

/* vigil-fair's tables, copied by vigild: subordinate ranges (two halves, see `fair`) and the
 * uids of /etc/passwd, each its own bucket */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * VIGIL_ATTRIB_RANGES_MAX);
	__type(key, __u32);
	__type(value, struct vigil_attrib_range);
} ranges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_attrib_fair);
} fair SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VIGIL_ATTRIB_USERS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} users SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_attrib_stats);
} stats SEC(".maps");

/* a flow value is too big for the 512-byte stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_attrib_flow);
} scratch SEC(".maps");

static __always_inline int
is_inet(__u32 family)
{
	return family == AF_INET || family == AF_INET6;
}

/* an IPv4-mapped IPv6 address (::ffff:a.b.c.d) goes into @out as IPv4; returns the family */
static __always_inline __u8
put_address(__u8 *out, const __u32 *ip6)
{
	if (ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0xffff)) {
		__builtin_memcpy(out, &ip6[3], 4);
		return AF_INET;
	}
	__builtin_memcpy(out, ip6, 16);
	return AF_INET6;
}

/*
 * The socket of a record may still send: its record by cookie is there (it goes when the
 * socket is closed), or it had none (over its uid's share), so that nothing says it is gone.
 */
static __always_inline int
sock_may_live(__u32 sock_flags, __u64 cookie)
{
	if (sock_flags & VIGIL_ATTRIB_SOCK_RELEASED)
		return 0;
	if (!(sock_flags & VIGIL_ATTRIB_SOCK_COUNTED))
		return 1;
	return bpf_map_lookup_elem(&cookies, &cookie) != NULL;
}

/* how long a slot with no live socket and no new record stays its owner's (vigild sets it) */
const volatile __u64 vigil_slot_idle_ns = 60000000000ULL;

/* bpf_loop callbacks below: verified once each, not once per iteration and branch (a search
 * unrolled branches at every step, past the verifier's limit) */
struct range_search {
	__u32 uid;
	__u32 base; /* the half of `ranges` in use */
	__u32 lo;
	__u32 hi;
};

/* one halving: in the end lo is the first range starting after the uid */
static long
range_step(__u64 i, void *data)
{
	struct range_search *c = data;
	if (c->lo >= c->hi)
		return 1;
	__u32 mid = c->lo + (c->hi - c->lo) / 2;
	__u32 index = c->base + mid;
	struct vigil_attrib_range *r = bpf_map_lookup_elem(&ranges, &index);
	if (r == NULL)
		return 1;
	if (r->first <= c->uid)
		c->lo = mid + 1;
	else
		c->hi = mid;
	return 0;
}

/* vigil_fair_bucket() of @uid, from vigild's copy of the tables */
static __always_inline __u32
fair_bucket(__u32 uid)
{
	__u32 zero = 0;
	struct vigil_attrib_fair *f = bpf_map_lookup_elem(&fair, &zero);
	if (f == NULL)
		return uid;
	__u32 half = f->active & 1;
	__u32 n = half ? f->n[1] : f->n[0];
	if (n > VIGIL_ATTRIB_RANGES_MAX)
		n = VIGIL_ATTRIB_RANGES_MAX;
	struct range_search c = {uid, half * VIGIL_ATTRIB_RANGES_MAX, 0, n};
	/* 13 halvings cover 4,096 ranges */
	bpf_loop(13, range_step, &c, 0);
	/* overlapping ranges: one of the few starting just before @uid (as vigil-fair.c) */
	__u32 lo = c.lo;
	for (int i = 0; i < 8 && lo > 0; i++) {
		lo--;
		__u32 index = c.base + lo;
		struct vigil_attrib_range *r = bpf_map_lookup_elem(&ranges, &index);
		if (r == NULL)
			break;
		if (uid <= r->last)
			return r->bucket;
	}
	__u32 *bucket = bpf_map_lookup_elem(&users, &uid);
	return bucket != NULL ? *bucket : VIGIL_ATTRIB_UNKNOWN;
}

/* slot @index, just claimed, for @bucket: a new epoch, its counts from zero */
static __always_inline struct vigil_attrib_slot *
give_slot(__u32 index, __u32 bucket, __u32 *slot, __u64 now)
{
	struct vigil_attrib_slot *s = bpf_map_lookup_elem(&slots, &index);
	if (s == NULL)
		return NULL;
	struct vigil_attrib_uid fresh;
	fresh.slot = index;
	fresh.epoch = __sync_fetch_and_add(&s->epoch, 1) + 1;
	s->cookies = 0;
	s->made = 0;
	s->flows_evicted = 0;
	s->cookies_refused = 0;
	s->last_ns = now;
	/* another CPU gave this bucket a slot meanwhile: its one stands, this one is free again */
	if (bpf_map_update_elem(&uids, &bucket, &fresh, BPF_NOEXIST) != 0) {
		s->owner = 0;
		return NULL;
	}
	*slot = index;
	return s;
}

struct slot_search {
	__u32 owner; /* the bucket + 1 */
	__u32 found; /* the slot claimed; VIGIL_ATTRIB_UIDS_MAX: none */
	__u32 old;   /* with an idle slot: its owner before (+ 1) */
	__u32 pad;
	__u64 now;
};

static long
free_slot_step(__u64 i, void *data)
{
	struct slot_search *c = data;
	__u32 index = (__u32)i;
	struct vigil_attrib_slot *s = bpf_map_lookup_elem(&slots, &index);
	if (s == NULL)
		return 1;
	if (s->owner == 0 && __sync_val_compare_and_swap(&s->owner, 0, c->owner) == 0) {
		c->found = index;
		return 1;
	}
	return 0;
}

static long
idle_slot_step(__u64 i, void *data)
{
	struct slot_search *c = data;
	__u32 index = (__u32)i;
	struct vigil_attrib_slot *s = bpf_map_lookup_elem(&slots, &index);
	if (s == NULL)
		return 1;
	__u32 owner = s->owner;
	if (owner == 0 || s->cookies != 0 || c->now - s->last_ns < vigil_slot_idle_ns)
		return 0;
	if (__sync_val_compare_and_swap(&s->owner, owner, c->owner) != owner)
		return 0;
	c->found = index;
	c->old = owner;
	return 1;
}

/* a slot for @bucket: a free one, else one whose owner is idle (given back); NULL when every
 * slot is busy (counted: the bucket's sockets are then found through /proc) */
static __always_inline struct vigil_attrib_slot *
claim_slot(__u32 bucket, __u32 *slot)
{
	__u32 zero = 0;
	struct vigil_attrib_stats *st = bpf_map_lookup_elem(&stats, &zero);
	if (st == NULL)
		return NULL;
	struct slot_search c = {bucket + 1, VIGIL_ATTRIB_UIDS_MAX, 0, 0, bpf_ktime_get_ns()};
	bpf_loop(VIGIL_ATTRIB_UIDS_MAX, free_slot_step, &c, 0);
	if (c.found < VIGIL_ATTRIB_UIDS_MAX) {
		__sync_fetch_and_add(&st->slots, 1);
		return give_slot(c.found, bucket, slot, c.now);
	}
	bpf_loop(VIGIL_ATTRIB_UIDS_MAX, idle_slot_step, &c, 0);
	if (c.found < VIGIL_ATTRIB_UIDS_MAX) {
		/* the old owner's records stay until the ring comes round to them */
		__u32 old = c.old - 1;
		bpf_map_delete_elem(&uids, &old);
		__sync_fetch_and_add(&st->reclaimed, 1);
		return give_slot(c.found, bucket, slot, c.now);
	}
	__sync_fetch_and_add(&st->no_slot, 1);
	return NULL;
}

/* @bucket's share of the tables: its slot, given at its first record (or again, when it was
 * idle and went to another); NULL when every slot is busy */
static __always_inline struct vigil_attrib_slot *
bucket_share(__u32 bucket, __u32 *slot)
{
	struct vigil_attrib_uid *u = bpf_map_lookup_elem(&uids, &bucket);
	if (u != NULL) {
		__u32 index = u->slot;
		__u32 epoch = u->epoch;
		struct vigil_attrib_slot *s = bpf_map_lookup_elem(&slots, &index);
		if (s != NULL && s->epoch == epoch && s->owner == bucket + 1) {
			*slot = index;
			return s;
		}
		bpf_map_delete_elem(&uids, &bucket);
	}
	return claim_slot(bucket, slot);
}

static __always_inline void
count_full(void)
{
	__u32 zero = 0;
	struct vigil_attrib_stats *s = bpf_map_lookup_elem(&stats, &zero);
	if (s != NULL)
		__sync_fetch_and_add(&s->full, 1);
}

/*
 * A place for a new record in slot @index's ring: when the ring has come round, the record
 * made UID_FLOWS records ago goes (if it is still that one: a record written since by
 * another bucket has moved to that bucket's ring).
 */
static __always_inline int
claim_flow_slot(struct vigil_attrib_slot *s, __u32 index, __u32 bucket,
                const struct vigil_attrib_flow_key *key, __u64 *pos)
{
	__u64 p = __sync_fetch_and_add(&s->next, 1);
	__u32 at = index * VIGIL_ATTRIB_UID_FLOWS + (__u32)(p & (VIGIL_ATTRIB_UID_FLOWS - 1));
	struct vigil_attrib_flow_key *ring_key = bpf_map_lookup_elem(&flow_ring, &at);
	if (ring_key == NULL)
		return 0;
	__sync_fetch_and_add(&s->made, 1);
	if (p >= VIGIL_ATTRIB_UID_FLOWS) {
		struct vigil_attrib_flow *victim = bpf_map_lookup_elem(&flows, ring_key);
		if (victim != NULL && victim->slot == index &&
		    victim->pos == p - VIGIL_ATTRIB_UID_FLOWS) {
			/* the owner's own, or one of an owner before it */
			if (victim->owner == bucket)
				__sync_fetch_and_add(&s->flows_evicted, 1);
			bpf_map_delete_elem(&flows, ring_key);
		}
	}
	*ring_key = *key;
	*pos = p;
	return 1;
}

/*
 * Writes @st as the flow's record, charged to the uid of its actor. Another live socket of
 * another program on the same flow makes it shared: both are kept, and vigild lets the least
 * trusted decide, since either may have sent the queued packet. That other is the previous
 * writer, else the other the record had; one whose socket has been closed since is dropped.
 */
static __always_inline void
update_flow(struct vigil_attrib_flow_key *key, const struct vigil_attrib_sock *st, __u64 cookie)
{
	__u32 zero = 0;
	__u32 bucket = fair_bucket(st->actor.uid);
	__u32 slot = 0;
	struct vigil_attrib_flow *v = bpf_map_lookup_elem(&scratch, &zero);
	if (v == NULL)
		return;
	struct vigil_attrib_flow *old = bpf_map_lookup_elem(&flows, key);
	v->flags = 0;
	v->other.flags = 0;
	v->other_cookie = 0;
	v->other_sock_flags = 0;
	if (old != NULL && old->cookie != cookie && sock_may_live(old->sock.flags, old->cookie) &&
	    !same_program(&old->sock.actor, &st->actor)) {
		v->flags = VIGIL_ATTRIB_FLOW_SHARED;
		v->other = old->sock.actor;
		v->other_cookie = old->cookie;
		v->other_sock_flags = old->sock.flags;
	} else if (old != NULL && (old->flags & VIGIL_ATTRIB_FLOW_SHARED) &&
	           old->other_cookie != cookie &&
	           sock_may_live(old->other_sock_flags, old->other_cookie) &&
	           !same_program(&old->other, &st->actor)) {
		v->flags = VIGIL_ATTRIB_FLOW_SHARED;
		v->other = old->other;
		v->other_cookie = old->other_cookie;
		v->other_sock_flags = old->other_sock_flags;
	}
	struct vigil_attrib_slot *s = bucket_share(bucket, &slot);
	if (s != NULL)
		s->last_ns = bpf_ktime_get_ns();
	if (s != NULL && old != NULL && old->slot == slot &&
	    old->pos + VIGIL_ATTRIB_UID_FLOWS > s->next) {
		/* rewritten in place: it keeps its place in the slot's ring */
		v->pos = old->pos;
	} else if (s == NULL || !claim_flow_slot(s, slot, bucket, key, &v->pos)) {
		/* no share: no record, and none of another socket's to speak for this one */
		if (old != NULL)
			bpf_map_delete_elem(&flows, key);
		return;
	}
	v->owner = bucket;
	v->slot = slot;
	v->cookie = cookie;
	v->sock = *st;
	if (bpf_map_update_elem(&flows, key, v, BPF_ANY) != 0)
		count_full();
}

/* the socket's record under its cookie; its first one is counted to its actor's bucket, and
 * refused when that bucket has as many live sockets recorded as its share */
static __always_inline void
publish_cookie(struct vigil_attrib_sock *st, __u64 cookie)
{
	if (!(st->flags & VIGIL_ATTRIB_SOCK_COUNTED)) {
		__u32 bucket = fair_bucket(st->actor.uid);
		__u32 slot = 0;
		struct vigil_attrib_slot *s = bucket_share(bucket, &slot);
		if (s == NULL)
			return;
		s->last_ns = bpf_ktime_get_ns();
		if (s->cookies >= VIGIL_ATTRIB_UID_COOKIES) {
			__sync_fetch_and_add(&s->cookies_refused, 1);
			return;
		}
		__sync_fetch_and_add(&s->cookies, 1);
		st->flags |= VIGIL_ATTRIB_SOCK_COUNTED;
		st->charged_uid = bucket;
		st->charged_slot = slot;
		st->charged_epoch = s->epoch;
	}
	if (bpf_map_update_elem(&cookies, &cookie, st, BPF_ANY) != 0)
		count_full();
}

/* the socket's storage with the current task as its actor, also under its cookie */
static __always_inline struct vigil_attrib_sock *
record_actor(struct bpf_sock *sk, __u64 cookie)
{
	struct vigil_attrib_sock *st =
	    bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st == NULL)
		return NULL;
	fill_task(&st->actor);
	publish_cookie(st, cookie);
	return st;
}

SEC("cgroup/sock_create")
int
vigil_sock_create(struct bpf_sock *sk)
{
	if (!is_inet(sk->family))
		return 1;
	struct vigil_attrib_sock *st =
	    bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st != NULL)
		fill_task(&st->creator);
	return 1;
}

SEC("cgroup/connect4")
int
vigil_connect4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (sk != NULL)
		record_actor(sk, bpf_get_socket_cookie(ctx));
	return 1;
}

SEC("cgroup/connect6")
int
vigil_connect6(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (sk != NULL)
		record_actor(sk, bpf_get_socket_cookie(ctx));
	return 1;
}

SEC("cgroup/sendmsg4")
int
vigil_sendmsg4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (sk == NULL)
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct vigil_attrib_sock *st = record_actor(sk, cookie);
	if (st == NULL)
		return 1;
	struct vigil_attrib_flow_key key;
	__builtin_memset(&key, 0, sizeof(key));
	key.netns = bpf_get_netns_cookie(ctx);
	key.family = AF_INET;
	key.protocol = (__u8)ctx->protocol;
	key.sport = (__u16)sk->src_port;
	key.dport = bpf_ntohs((__u16)ctx->user_port);
	__u32 src = ctx->msg_src_ip4;
	if (src == 0)
		src = sk->src_ip4;
	__u32 dst = ctx->user_ip4;
	__builtin_memcpy(key.saddr, &src, 4);
	__builtin_memcpy(key.daddr, &dst, 4);
	update_flow(&key, st, cookie);
	return 1;
}

SEC("cgroup/sendmsg6")
int
vigil_sendmsg6(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (sk == NULL)
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct vigil_attrib_sock *st = record_actor(sk, cookie);
	if (st == NULL)
		return 1;
	struct vigil_attrib_flow_key key;
	__u32 src[4];
	__u32 dst[4];
	__builtin_memset(&key, 0, sizeof(key));
	key.netns = bpf_get_netns_cookie(ctx);
	key.protocol = (__u8)ctx->protocol;
	key.sport = (__u16)sk->src_port;
	key.dport = bpf_ntohs((__u16)ctx->user_port);
	for (int i = 0; i < 4; i++) {
		dst[i] = ctx->user_ip6[i];
		src[i] = ctx->msg_src_ip6[i];
	}
	if ((src[0] | src[1] | src[2] | src[3]) == 0) {
		for (int i = 0; i < 4; i++)
			src[i] = sk->src_ip6[i];
	}
	key.family = put_address(key.daddr, dst);
	__u8 sfamily = put_address(key.saddr, src);
	/* the unspecified source of a dual-stack socket is no address at all for IPv4 */
	if (sfamily != key.family)
		__builtin_memset(key.saddr, 0, sizeof(key.saddr));
	update_flow(&key, st, cookie);
	return 1;
}

/* a TCP connection's tuple is known only here, just before the SYN goes out */
SEC("sockops")
int
vigil_sockops(struct bpf_sock_ops *skops)
{
	if (skops->op != BPF_SOCK_OPS_TCP_CONNECT_CB)
		return 1;
	struct bpf_sock *sk = skops->sk;
	if (sk == NULL)
		return 1;
	struct vigil_attrib_sock *st =
	    bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st == NULL)
		return 1;
	/* connected before the programs were attached: the task connecting is this one */
	if (!(st->actor.flags & VIGIL_ATTRIB_TASK_SET))
		fill_task(&st->actor);
	__u64 cookie = bpf_get_socket_cookie(skops);
	publish_cookie(st, cookie);

	struct vigil_attrib_flow_key key;
	__u32 src[4];
	__u32 dst[4];
	__builtin_memset(&key, 0, sizeof(key));
	key.netns = bpf_get_netns_cookie(skops);
	key.protocol = IPPROTO_TCP;
	key.sport = (__u16)skops->local_port;
	/* the kernel puts the big-endian port in the upper half of this field */
	key.dport = (__u16)bpf_ntohl(skops->remote_port);
	if (skops->family == AF_INET) {
		__u32 s4 = skops->local_ip4;
		__u32 d4 = skops->remote_ip4;
		key.family = AF_INET;
		__builtin_memcpy(key.saddr, &s4, 4);
		__builtin_memcpy(key.daddr, &d4, 4);
	} else {
		for (int i = 0; i < 4; i++) {
			src[i] = skops->local_ip6[i];
			dst[i] = skops->remote_ip6[i];
		}
		key.family = put_address(key.daddr, dst);
		put_address(key.saddr, src);
	}
	update_flow(&key, st, cookie);
	return 1;
}

/*
 * A connected UDP socket sends with no hook of its own: while it lives vigild finds it by its
 * cookie; when it is closed (a sender that sends and exits), its flow keeps the record here.
 */
SEC("cgroup/sock_release")
int
vigil_sock_release(struct bpf_sock *ctx)
{
	if (!is_inet(ctx->family))
		return 1;
	struct vigil_attrib_sock *st = bpf_sk_storage_get(&socks, ctx, 0, 0);
	if (st == NULL)
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	/* its cookie names no live socket any more: the record goes, and its bucket's count (if
	 * the slot is still the one it was counted in) */
	if (st->flags & VIGIL_ATTRIB_SOCK_COUNTED) {
		__u32 charged = st->charged_slot;
		struct vigil_attrib_slot *s = bpf_map_lookup_elem(&slots, &charged);
		bpf_map_delete_elem(&cookies, &cookie);
		if (s != NULL && s->epoch == st->charged_epoch)
			__sync_fetch_and_sub(&s->cookies, 1);
		st->flags &= ~VIGIL_ATTRIB_SOCK_COUNTED;
	}
	st->flags |= VIGIL_ATTRIB_SOCK_RELEASED;
	__u32 protocol = ctx->protocol;
	if (!(st->actor.flags & VIGIL_ATTRIB_TASK_SET) ||
	    (protocol != IPPROTO_UDP && protocol != IPPROTO_UDPLITE))
		return 1;

	/* this program type shows no tuple in its context: read it from the socket */
	struct sock *sk = (struct sock *)ctx;
	__u16 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (dport == 0)
		return 1; /* not connected: its datagrams were recorded at sendmsg */
	struct vigil_attrib_flow_key key;
	__u32 src[4];
	__u32 dst[4];
	__builtin_memset(&key, 0, sizeof(key));
	key.netns = bpf_get_netns_cookie(ctx);
	key.protocol = (__u8)protocol;
	key.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	key.dport = bpf_ntohs(dport);
	if (ctx->family == AF_INET) {
		__u32 s4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		key.family = AF_INET;
		__builtin_memcpy(key.saddr, &s4, 4);
		__builtin_memcpy(key.daddr, &d4, 4);
	} else {
		BPF_CORE_READ_INTO(&src, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&dst, sk, __sk_common.skc_v6_daddr);
		key.family = put_address(key.daddr, dst);
		put_address(key.saddr, src);
	}
	update_flow(&key, st, cookie);
	return 1;
}

/* vigild's network namespace (its cookie), set before the programs load */
const volatile __u64 vigil_netns = 0;

/* the holders of the sockets made before the programs were attached, by socket inode: filled
 * by vigil_existing_holders, read by vigil_existing_udp/_tcp, emptied by vigild after */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VIGIL_ATTRIB_EXISTING_MAX);
	__type(key, __u64);
	__type(value, struct vigil_attrib_sock);
} existing SEC(".maps");

/*
 * Run once by vigild right after attaching, first over every task's files: each inet socket
 * of vigild's network namespace gets its holders as they are now, the first two programs
 * found, in the creator's and actor's places (who made it and who used it before is known to
 * no one any more). The socket itself is not usable for its storage here (a pointer the
 * verifier does not trust): the socket iterators below attach them.
 */
SEC("iter/task_file")
int
vigil_existing_holders(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	if (file == NULL || task == NULL)
		return 0;
	struct socket *sock = bpf_sock_from_file(file);
	if (sock == NULL)
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (sk == NULL || !is_inet(BPF_CORE_READ(sk, __sk_common.skc_family)) ||
	    BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie) != vigil_netns)
		return 0;
	__u64 ino = BPF_CORE_READ(file, f_inode, i_ino);
	__u32 zero = 0;
	struct vigil_attrib_flow *scratch_value = bpf_map_lookup_elem(&scratch, &zero);
	if (scratch_value == NULL)
		return 0;
	struct vigil_attrib_task *t = &scratch_value->other;
	fill_task_of(t, task);
	struct vigil_attrib_sock *held = bpf_map_lookup_elem(&existing, &ino);
	if (held == NULL) {
		struct vigil_attrib_sock *fresh = &scratch_value->sock;
		__builtin_memset(fresh, 0, sizeof(*fresh));
		fresh->creator = *t;
		fresh->actor = *t;
		fresh->flags = VIGIL_ATTRIB_SOCK_EXISTING;
		fresh->charged_uid = 0;
		bpf_map_update_elem(&existing, &ino, fresh, BPF_NOEXIST);
		return 0;
	}
	/* a second program: the first stays the creator; a third is not kept */
	if (!same_program(t, &held->creator) && same_program(&held->actor, &held->creator))
		held->actor = *t;
	return 0;
}

/* @sk's record from its holders, unless the hooks have one (made or used since) */
static __always_inline void
record_existing(struct sock *sk)
{
	if (bpf_sk_storage_get(&socks, sk, 0, 0) != NULL)
		return;
	__u64 ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	struct vigil_attrib_sock *held = bpf_map_lookup_elem(&existing, &ino);
	if (held == NULL)
		return;
	struct vigil_attrib_sock *st =
	    bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st == NULL)
		return;
	st->creator = held->creator;
	st->actor = held->actor;
	st->flags = VIGIL_ATTRIB_SOCK_EXISTING;
	publish_cookie(st, bpf_get_socket_cookie(sk));
}

/* then over the UDP and TCP sockets of vigild's network namespace (bound, connected or
 * listening ones: a socket in none of those tables is recorded by the hooks when it is) */
SEC("iter/udp")
int
vigil_existing_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	if (udp != NULL)
		record_existing((struct sock *)udp);
	return 0;
}

SEC("iter/tcp")
int
vigil_existing_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	if (skc == NULL)
		return 0;
	/* a full socket: not a request or time-wait one */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	if (tp != NULL)
		record_existing((struct sock *)tp);
	return 0;
}
