/* vigil-ebpf-task.c: the kernel's record of a task, as vigild reads it */
#define G_LOG_DOMAIN "vigil-ebpf"
#include "config.h"

#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/vigil-attrib.h"
#include "vigil-ebpf-task.h"

/* the kernel's 64 ns clock ticks to /proc's */
static guint64
ns_to_ticks(guint64 ns)
{
	static gint64 hz;

	if (hz == 0)
		hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? ns / (G_GUINT64_CONSTANT(1000000000) / (guint64)hz) : 0;
}

void
vigil_ebpf_task_from_kernel(VigilEbpfTask *task, const struct vigil_attrib_task *k)
{
	memset(task, 0, sizeof(*task));
	if (!(k->flags & VIGIL_ATTRIB_TASK_SET))
		return;
	task->set = TRUE;
	task->no_exe = (k->flags & VIGIL_ATTRIB_TASK_NO_EXE) != 0;
	task->tgid = k->tgid;
	task->uid = k->uid;
	task->gid = k->gid;
	/* the kernel's dev_t is major << 20 | minor */
	task->exe_dev = makedev(k->exe_dev >> 20, k->exe_dev & 0xfffff);
	task->exe_ino = k->exe_ino;
	task->exe_size = (gint64)k->exe_size;
	task->exe_ctime = (gint64)k->exe_ctime_ns;
	task->start_time = ns_to_ticks(k->start_ns);
	task->image = k->image;
	task->cgroup_id = k->cgroup_id;
	task->mnt_ns = k->mnt_ns;
	memcpy(task->comm, k->comm, VIGIL_ATTRIB_COMM_LEN);
	task->comm[VIGIL_ATTRIB_COMM_LEN] = '\0';
}
