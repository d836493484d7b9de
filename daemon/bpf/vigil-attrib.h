/* vigil-attrib.h: what the kernel programs record about a socket, shared with vigild */
#pragma once

/*
 * Included by the BPF program (vigil-attrib.bpf.c) and by vigild (vigil-ebpf.c): fixed-size
 * types only, every field explicit, no padding the compilers could lay out differently.
 */

#define VIGIL_ATTRIB_COMM_LEN 16

/* the task that created, connected or sent on a socket, at that moment */
struct vigil_attrib_task {
	__u32 tgid;
	__u32 uid; /* real uid and gid, as the initial user namespace sees them */
	__u32 gid;
	__u32 exe_dev; /* the executable's super block device, the kernel's encoding
	                * (major << 20 | minor); st_dev of a stat on most file systems */
	__u64 exe_ino;
	__u64 exe_size;
	__u64 exe_ctime_ns;
	__u64 start_ns; /* the thread-group leader's boot-time start: /proc/PID/stat field 22
	                 * in nanoseconds instead of clock ticks */
	__u64 image;    /* FNV-1a of the address-space layout, as vigil-process.c's stamp: a
	                 * later exec (even of the same file) changes it */
	__u64 cgroup_id;
	__u32 mnt_ns; /* inode number of its mount namespace */
	__u32 flags;  /* VIGIL_ATTRIB_TASK_* */
	__u64 ktime;  /* CLOCK_MONOTONIC when it was recorded */
	char comm[VIGIL_ATTRIB_COMM_LEN];
};

#define VIGIL_ATTRIB_TASK_SET    1u /* the record holds a task */
#define VIGIL_ATTRIB_TASK_NO_EXE 2u /* a kernel thread, or no mm: no executable */

/* per socket (socket-local storage, and by socket cookie) */
struct vigil_attrib_sock {
	struct vigil_attrib_task creator; /* the task that made it (socket()) */
	struct vigil_attrib_task actor;   /* the last task that connected or sent on it */
	__u32 flags;                      /* VIGIL_ATTRIB_SOCK_* */
	__u32 charged_uid;                /* with VIGIL_ATTRIB_SOCK_COUNTED: whose bucket */
	__u32 charged_slot;               /* and the share's slot, while it had it (epoch) */
	__u32 charged_epoch;
};

#define VIGIL_ATTRIB_SOCK_RELEASED 1u /* closed: its cookie names no live socket */
#define VIGIL_ATTRIB_SOCK_COUNTED  2u /* in the table by cookie, counted to charged_uid */
#define VIGIL_ATTRIB_SOCK_EXISTING 4u /* made before the programs: its holders at their start */

/* a flow as the packet shows it; the source address is zero when the socket had none yet
 * (an unbound UDP socket's sendto: routing picks it later) */
struct vigil_attrib_flow_key {
	__u64 netns; /* network namespace cookie */
	__u8 family; /* AF_INET, AF_INET6; an IPv4-mapped IPv6 flow is AF_INET */
	__u8 protocol;
	__u16 sport; /* host byte order */
	__u16 dport; /* host byte order */
	__u16 pad;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

struct vigil_attrib_flow {
	__u64 cookie; /* of the socket that wrote it last */
	__u32 flags;  /* VIGIL_ATTRIB_FLOW_* */
	__u32 owner;  /* the bucket whose share made the record */
	__u64 pos;    /* its position in the ring of slot (the slot's records made before it) */
	struct vigil_attrib_sock sock;
	/* with VIGIL_ATTRIB_FLOW_SHARED: another live socket's task sent on the same flow
	 * (SO_REUSEADDR, SO_REUSEPORT); which of them sent the queued packet is not known. The
	 * next write after that socket is closed drops the mark (not the close itself: a
	 * datagram it sent may still wait in the queue until then) */
	struct vigil_attrib_task other;
	__u64 other_cookie;     /* of the other's socket: the mark goes when that socket is gone */
	__u32 other_sock_flags; /* that socket's VIGIL_ATTRIB_SOCK_* when it wrote */
	__u32 slot;             /* whose ring holds the record's key, at pos */
};

#define VIGIL_ATTRIB_FLOW_SHARED 1u

/*
 * The records are shared fairly between users: the fairness bucket of the task that acts
 * (vigil-fair.h: a subordinate uid of /etc/subuid counts as its owner, a uid that neither
 * /etc/passwd nor a range names as VIGIL_ATTRIB_UNKNOWN, else the uid itself; vigild copies
 * the ranges and the users into `ranges` and `users`) holds a slot, and in it room for
 * VIGIL_ATTRIB_UID_FLOWS flow records, its own oldest first out (a ring of their keys), and
 * VIGIL_ATTRIB_UID_COOKIES live sockets by cookie (a socket beyond that is not recorded by
 * cookie). One user's flood so never pushes out another user's record; the tables are sized
 * so that every slot's share fits. A slot is given back once it is idle: no live socket of
 * its bucket is recorded by cookie, and none of its records was made for the idle time
 * (vigild's choice, 60 s: far longer than a packet waits in the queue for vigild to read the
 * record); a bucket that finds every slot busy is counted (no_slot) and its sockets go to
 * /proc.
 */
struct vigil_attrib_slot {
	__u32 owner;   /* the bucket + 1; 0: free */
	__u32 epoch;   /* counts the owners it has had */
	__u32 cookies; /* live sockets recorded by cookie */
	__u32 pad;
	__u64 next;          /* flow records made in the slot: the next position in its ring (never
	                      * reset: a position names one record, also across owners) */
	__u64 made;          /* flow records its owner made */
	__u64 last_ns;       /* when its owner last made a record (CLOCK_MONOTONIC) */
	__u64 flows_evicted; /* its owner's oldest flow records dropped for newer ones */
	__u64 cookies_refused; /* its owner's sockets not recorded by cookie: over its share */
};

/* the slot of a bucket, while the slot's epoch is the one it was given at */
struct vigil_attrib_uid {
	__u32 slot;
	__u32 epoch;
};

/* counters of the whole */
struct vigil_attrib_stats {
	__u32 slots;     /* slots given out (to a first owner) */
	__u32 reclaimed; /* idle slots given to another bucket */
	__u64 no_slot;   /* records not made: every slot busy */
	__u64 full;      /* records not made: a table was full (not expected) */
};

/* the copy of vigil-fair's subordinate ranges: two halves, vigild writes the one not in use and
 * then switches (`fair`), so that a program never reads a half-written table */
struct vigil_attrib_range {
	__u32 first;
	__u32 last; /* inclusive */
	__u32 bucket;
	__u32 pad;
};

struct vigil_attrib_fair {
	__u32 active; /* 0 or 1: the half of `ranges` in use */
	__u32 n[2];   /* the ranges in each half, sorted by first */
	__u32 pad;
};

#define VIGIL_ATTRIB_UNKNOWN    0xfffffffeu /* VIGIL_FAIR_UNKNOWN */
#define VIGIL_ATTRIB_RANGES_MAX 4096        /* VIGIL_FAIR_MAX_RANGES; a power of two */
#define VIGIL_ATTRIB_USERS_MAX  65536       /* VIGIL_FAIR_MAX_USERS */

/* map sizes (entries); see the README's attribution section */
#define VIGIL_ATTRIB_UIDS_MAX    64   /* slots */
#define VIGIL_ATTRIB_UID_FLOWS   1024 /* a power of two */
#define VIGIL_ATTRIB_UID_COOKIES 1024
#define VIGIL_ATTRIB_FLOWS_MAX   (VIGIL_ATTRIB_UIDS_MAX * VIGIL_ATTRIB_UID_FLOWS)
#define VIGIL_ATTRIB_COOKIES_MAX (VIGIL_ATTRIB_UIDS_MAX * VIGIL_ATTRIB_UID_COOKIES)
/* buckets with a slot, and stale entries of buckets whose slot went to another (removed when
 * they are next used); more than slots, so that stale entries never keep a bucket out */
#define VIGIL_ATTRIB_BUCKETS_MAX (4 * VIGIL_ATTRIB_UIDS_MAX)
/* sockets made before vigild, recorded at its start (emptied after) */
#define VIGIL_ATTRIB_EXISTING_MAX 65536
