/* vigil-task.bpf.h: the task record of the attribution programs (vigil-attrib.bpf.c,
 * vigil-icmp.bpf.c): who a process is, as vigild compares it with /proc */
#pragma once

/* after vigil-kernel.h and vigil-attrib.h */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL

static __always_inline __u64
fnv(__u64 h, __u64 value)
{
	return (h ^ value) * FNV_PRIME;
}

static __always_inline __u64
exe_ctime_ns(struct inode *inode)
{
	if (bpf_core_field_exists(((struct inode___v611 *)0)->i_ctime_sec)) {
		struct inode___v611 *i = (void *)inode;
		/* 6.13's multigrain timestamps keep a flag in bit 31 (I_CTIME_QUERIED); a
		 * count of nanoseconds needs 30 bits */
		return BPF_CORE_READ(i, i_ctime_sec) * 1000000000ULL +
		       (BPF_CORE_READ(i, i_ctime_nsec) & 0x3fffffffu);
	}
	if (bpf_core_field_exists(((struct inode___v66 *)0)->__i_ctime)) {
		struct inode___v66 *i = (void *)inode;
		return BPF_CORE_READ(i, __i_ctime.tv_sec) * 1000000000ULL +
		       BPF_CORE_READ(i, __i_ctime.tv_nsec);
	}
	struct inode___v61 *i = (void *)inode;
	return BPF_CORE_READ(i, i_ctime.tv_sec) * 1000000000ULL + BPF_CORE_READ(i, i_ctime.tv_nsec);
}

/* @task, as /proc would show its process: the fields vigild compares with it */
static __always_inline void
fill_task_of(struct vigil_attrib_task *t, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	t->tgid = BPF_CORE_READ(task, tgid);
	t->uid = BPF_CORE_READ(task, cred, uid.val);
	t->gid = BPF_CORE_READ(task, cred, gid.val);
	t->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	t->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	t->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	BPF_CORE_READ_INTO(&t->comm, task, comm);
	t->ktime = bpf_ktime_get_ns();
	t->flags = VIGIL_ATTRIB_TASK_SET;
	t->exe_dev = 0;
	t->exe_ino = 0;
	t->exe_size = 0;
	t->exe_ctime_ns = 0;
	t->image = 0;

	struct inode *inode = mm != NULL ? BPF_CORE_READ(mm, exe_file, f_inode) : NULL;
	if (inode == NULL) {
		t->flags |= VIGIL_ATTRIB_TASK_NO_EXE;
		return;
	}
	t->exe_ino = BPF_CORE_READ(inode, i_ino);
	t->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	t->exe_size = BPF_CORE_READ(inode, i_size);
	t->exe_ctime_ns = exe_ctime_ns(inode);

	/* /proc/PID/stat fields 26-28 and 45-51, in that order (vigil-process.c) */
	__u64 h = FNV_OFFSET;
	h = fnv(h, BPF_CORE_READ(mm, start_code));
	h = fnv(h, BPF_CORE_READ(mm, end_code));
	h = fnv(h, BPF_CORE_READ(mm, start_stack));
	h = fnv(h, BPF_CORE_READ(mm, start_data));
	h = fnv(h, BPF_CORE_READ(mm, end_data));
	h = fnv(h, BPF_CORE_READ(mm, start_brk));
	h = fnv(h, BPF_CORE_READ(mm, arg_start));
	h = fnv(h, BPF_CORE_READ(mm, arg_end));
	h = fnv(h, BPF_CORE_READ(mm, env_start));
	h = fnv(h, BPF_CORE_READ(mm, env_end));
	t->image = h;
}

/* the current task */
static __always_inline void
fill_task(struct vigil_attrib_task *t)
{
	fill_task_of(t, (struct task_struct *)bpf_get_current_task());
}

static __always_inline int
same_program(const struct vigil_attrib_task *a, const struct vigil_attrib_task *b)
{
	/* not the tgid: a process that exec'd another executable in between (or changed its
	 * uid) is another program (review MEDIUM-2) */
	return a->exe_dev == b->exe_dev && a->exe_ino == b->exe_ino && a->uid == b->uid;
}
