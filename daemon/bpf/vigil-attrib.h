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
	__u32 charged_uid;                /* with VIGIL_ATTRIB_SOCK_COUNTED: whose quota */
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
	__u32 owner;  /* the uid whose quota holds the record (its ring, at position pos) */
	__u64 pos;
	struct vigil_attrib_sock sock;
	/* with VIGIL_ATTRIB_FLOW_SHARED: another live socket's task sent on the same flow
	 * (SO_REUSEADDR, SO_REUSEPORT); which of them sent the queued packet is not known. The
	 * next write after that socket is closed drops the mark (not the close itself: a
	 * datagram it sent may still wait in the queue until then) */
	struct vigil_attrib_task other;
	__u64 other_cookie;     /* of the other's socket: the mark goes when that socket is gone */
	__u32 other_sock_flags; /* that socket's VIGIL_ATTRIB_SOCK_* when it wrote */
	__u32 pad;
};

#define VIGIL_ATTRIB_FLOW_SHARED 1u

/*
 * The records are shared fairly: each uid (of the task that acts) has a slot, and in it room
 * for VIGIL_ATTRIB_UID_FLOWS flow records, its own oldest first out (a ring of their keys), and
 * VIGIL_ATTRIB_UID_COOKIES live sockets by cookie (a socket beyond that is not recorded by
 * cookie). One uid's flood so never pushes out another uid's record; the tables are sized so
 * that every slot's share fits.
 */
struct vigil_attrib_uid {
	__u32 slot;
	__u32 cookies;         /* live sockets recorded by cookie */
	__u64 next;            /* flow records made so far: the next position in its ring */
	__u64 flows_evicted;   /* its own oldest flow records dropped for newer ones */
	__u64 cookies_refused; /* its sockets not recorded by cookie: over its share */
};

/* counters of the whole, and the slot allocator */
struct vigil_attrib_stats {
	__u32 slots; /* slots given out */
	__u32 pad;
	__u64 no_slot; /* records not made: more uids than slots */
	__u64 full;    /* records not made: a table was full (not expected) */
};

/* map sizes (entries); see the README's attribution section */
#define VIGIL_ATTRIB_UIDS_MAX    64
#define VIGIL_ATTRIB_UID_FLOWS   1024 /* a power of two */
#define VIGIL_ATTRIB_UID_COOKIES 1024
#define VIGIL_ATTRIB_FLOWS_MAX   (VIGIL_ATTRIB_UIDS_MAX * VIGIL_ATTRIB_UID_FLOWS)
#define VIGIL_ATTRIB_COOKIES_MAX (VIGIL_ATTRIB_UIDS_MAX * VIGIL_ATTRIB_UID_COOKIES)
/* sockets made before vigild, recorded at its start (emptied after) */
#define VIGIL_ATTRIB_EXISTING_MAX 65536
