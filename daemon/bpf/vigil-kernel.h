/* vigil-kernel.h: the few kernel types vigil-attrib.bpf.c reads, for CO-RE relocation */
#pragma once

/*
 * Not a generated vmlinux.h: only the fields read, each relocated by name against the running
 * kernel's BTF when the program loads (preserve_access_index), so one object fits every
 * kernel from Debian 12's 6.1 on, and the build needs no BTF of the build machine. Fields that
 * changed between kernels have one "___flavour" type each (libbpf ignores the suffix).
 */

#define VIGIL_CORE __attribute__((preserve_access_index))

struct ns_common {
	unsigned int inum;
} VIGIL_CORE;

struct mnt_namespace {
	struct ns_common ns;
} VIGIL_CORE;

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} VIGIL_CORE;

struct super_block {
	unsigned int s_dev;
} VIGIL_CORE;

struct timespec64 {
	long long tv_sec;
	long tv_nsec;
} VIGIL_CORE;

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
	long long i_size;
} VIGIL_CORE;

/* the change time: a timespec64 i_ctime up to 6.5, __i_ctime in 6.6-6.10, then two fields */
struct inode___v61 {
	struct timespec64 i_ctime;
} VIGIL_CORE;

struct inode___v66 {
	struct timespec64 __i_ctime;
} VIGIL_CORE;

struct inode___v611 {
	long long i_ctime_sec;
	unsigned int i_ctime_nsec;
} VIGIL_CORE;

struct file {
	struct inode *f_inode;
} VIGIL_CORE;

struct mm_struct {
	struct file *exe_file;
	unsigned long start_code;
	unsigned long end_code;
	unsigned long start_data;
	unsigned long end_data;
	unsigned long start_brk;
	unsigned long start_stack;
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_start;
	unsigned long env_end;
} VIGIL_CORE;

typedef struct {
	unsigned int val;
} kuid_t;

typedef struct {
	unsigned int val;
} kgid_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
} VIGIL_CORE;

struct kernfs_node {
	unsigned long long id;
} VIGIL_CORE;

struct cgroup {
	struct kernfs_node *kn;
} VIGIL_CORE;

struct css_set {
	struct cgroup *dfl_cgrp;
} VIGIL_CORE;

struct task_struct {
	int tgid;
	struct task_struct *group_leader;
	unsigned long long start_boottime;
	struct mm_struct *mm;
	struct nsproxy *nsproxy;
	const struct cred *cred;
	struct css_set *cgroups;
	char comm[16];
} VIGIL_CORE;

/* the socket behind a cgroup/sock_release context, whose tuple the context does not show */
struct in6_addr {
	union {
		unsigned char u6_addr8[16];
	} in6_u;
} VIGIL_CORE;

struct net {
	unsigned long long net_cookie; /* what bpf_get_netns_cookie() gives */
} VIGIL_CORE;

typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	possible_net_t skc_net;
	unsigned int skc_daddr;     /* network byte order */
	unsigned int skc_rcv_saddr; /* network byte order */
	unsigned short skc_dport;   /* network byte order */
	unsigned short skc_num;     /* host byte order */
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} VIGIL_CORE;

struct socket;

struct sock {
	struct sock_common __sk_common;
	unsigned short sk_protocol;
	struct socket *sk_socket;
} VIGIL_CORE;

/* the iterators' contexts (vigil_existing_*) */
struct socket {
	struct sock *sk;
	struct file *file;
} VIGIL_CORE;

struct bpf_iter_meta;
struct udp_sock;
struct tcp_sock;

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	unsigned int fd;
	struct file *file;
} VIGIL_CORE;

struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
} VIGIL_CORE;

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} VIGIL_CORE;
