/* vigil-verdicts.h: the verdicts vigild hands to the kernel, shared with vigil-verdicts.bpf.c */
#pragma once

/*
 * Fixed-size types only, every field explicit, no padding the compilers could lay out
 * differently (docs/ebpf-verdicts.md: the key, the value, the generation, the events).
 */

/* what a decision is for: the program (as a file, as it was when decided), its user and the
 * destination */
struct vigil_verdict_key {
	__u64 netns;   /* network namespace cookie: vigild's own only */
	__u64 exe_ino; /* the executable as the kernel sees it at connect time */
	__u32 exe_dev; /* the kernel's dev_t encoding (major << 20 | minor) */
	__u32 uid;     /* the task's real uid */
	__u64 exe_size;
	__u64 exe_ctime_ns; /* a binary rewritten in place has another: a miss */
	__u8 family;        /* AF_INET, AF_INET6; IPv4-mapped IPv6 is AF_INET */
	__u8 protocol;      /* TCP, UDP */
	__u16 dport;        /* host byte order */
	__u32 pad;
	__u8 daddr[16]; /* IPv4 in the first 4 bytes */
};

#define VIGIL_VERDICT_ALLOW 1u
#define VIGIL_VERDICT_DENY  2u
#define VIGIL_VERDICT_DROP  3u

struct vigil_verdict_value {
	__u64 generation; /* the rules' generation it was decided under: another is a miss */
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0: none (a DNS answer's or an until rule's end) */
	__u64 rule_id;
	__u32 action; /* VIGIL_VERDICT_* */
	__u32 mark;   /* allow or drop: the verdict's code in vigild's mark bits */
};

/* the one entry of `state`: what makes every value stale at once */
struct vigil_verdict_state {
	__u64 generation;
	__u32 mark_mask; /* vigild's bits (MarkMask): cleared when a socket connects again */
	__u32 enabled;   /* 0: nothing is decided in the kernel (disabled firewall, exit) */
};

#define VIGIL_VERDICT_HOOK_CONNECT 1u
#define VIGIL_VERDICT_HOOK_SENDMSG 2u
/* a datagram to another destination than the peer a connect() gave its socket a verdict for:
 * failed (EPERM), no rule */
#define VIGIL_VERDICT_HOOK_STALE 3u

/* one decision made in the kernel, for vigild's log, counters and history */
struct vigil_verdict_event {
	struct vigil_verdict_key key;
	__u64 rule_id;
	__u64 cookie; /* the socket's */
	__u64 ktime;  /* CLOCK_MONOTONIC */
	__u32 tgid;
	__u32 action;
	__u32 hook; /* VIGIL_VERDICT_HOOK_* */
	__u32 pad;
	char comm[16];
};

/* counters: decisions made, and hits not decided because the ring was full (the queue then) */
struct vigil_verdict_stats {
	__u64 decided;
	__u64 ring_full;
	__u64 mark_failed;
	__u64 pad;
};

/* map sizes; see docs/ebpf-verdicts.md */
#define VIGIL_VERDICTS_MAX       16384
#define VIGIL_VERDICTS_RING_SIZE (256 * 1024)
