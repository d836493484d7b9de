/* vigil-ebpf-task.h: a task and a socket's record as the kernel programs keep them, read by
 * vigild (shared by the attribution programs, vigil-ebpf.c, and the ping/raw sockets' ones,
 * vigil-ebpf-icmp.c) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* a task as the kernel recorded it when it made, connected or sent on a socket */
typedef struct {
	gboolean set;
	gboolean no_exe; /* a kernel thread: no executable */
	guint32 tgid;
	guint32 uid;
	guint32 gid;
	guint64 exe_dev; /* as stat's st_dev (makedev of the super block's device) */
	guint64 exe_ino;
	gint64 exe_size;
	gint64 exe_ctime;   /* ns */
	guint64 start_time; /* clock ticks since boot: /proc/PID/stat field 22 */
	guint64 image;      /* VigilProcessStamp.image of the process at that moment */
	guint64 cgroup_id;
	guint32 mnt_ns;
	char comm[17];
} VigilEbpfTask;

typedef struct {
	VigilEbpfTask actor;   /* the task that connected, or sent the datagram */
	VigilEbpfTask creator; /* the task that made the socket (unset: before vigild started) */
	VigilEbpfTask other;   /* another live socket's task on the same flow (SO_REUSEPORT) */
	gboolean released;     /* the socket is closed */
	/* a program vigild cannot name may have sent it as well (a closed ping or raw socket's
	 * record for a packet whose socket /proc does not list): an unknown holder */
	gboolean unnamed_too;
	guint64 cookie; /* of the socket the record is of */
} VigilEbpfRecord;

/* the kernel's record of a task (daemon/bpf/vigil-attrib.h) as vigild reads it; only with
 * HAVE_EBPF */
struct vigil_attrib_task;
void vigil_ebpf_task_from_kernel(VigilEbpfTask *task, const struct vigil_attrib_task *k);

G_END_DECLS
