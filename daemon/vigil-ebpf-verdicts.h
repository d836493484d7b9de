/* vigil-ebpf-verdicts.h: connections already decided, decided again in the kernel (daemon/bpf/) */
#pragma once

#include <glib.h>
#include "vigil-flow.h"
#include "vigil-rule.h"

G_BEGIN_DECLS

/* what a verdict is for (docs/ebpf-verdicts.md, "The key") */
typedef struct {
	guint64 exe_dev; /* as stat's st_dev */
	guint64 exe_ino;
	gint64 exe_size;
	gint64 exe_ctime; /* ns */
	guint32 uid;      /* the task's real uid */
	int family;       /* AF_INET, AF_INET6 */
	guint8 protocol;  /* IPPROTO_TCP, IPPROTO_UDP */
	guint16 dport;
	VigilAddress dst;
} VigilVerdictKey;

/* what vigild knew when it wrote a verdict, for the log lines of the kernel's decisions */
typedef struct {
	const char *program; /* exe path */
	const char *sha256;  /* or NULL */
	const char *hostname;
	const char *user_name;
} VigilVerdictInfo;

/* one decision the kernel made */
typedef struct {
	VigilVerdictKey key;
	VigilAction action;
	guint64 rule_id; /* 0 with stale */
	/* a datagram failed for the verdict an earlier connect() gave its socket (another
	 * destination): no rule decided it */
	gboolean stale;
	gboolean sendmsg; /* at sendto(), else at connect() */
	guint32 tgid;
	guint64 cookie;
	gint64 time_us;               /* unix time */
	char comm[17];                /* the task's name */
	const VigilVerdictInfo *info; /* as written, or NULL (vigild forgot it since) */
} VigilVerdictEvent;

typedef void (*VigilVerdictFunc)(const VigilVerdictEvent *event, gpointer user_data);

typedef struct _VigilEbpfVerdicts VigilEbpfVerdicts;

/*
 * Loads the verdict programs and attaches them to the cgroup v2 directory @cgroup (NULL: the
 * hierarchy's root), links held by vigild's fds and pinned nowhere: they go when vigild does,
 * however it exits. Nothing is decided until vigil_ebpf_verdicts_invalidate() enables it.
 * @func gets each decision the kernel made, in the main loop. Errors say why the kernel
 * cannot be used (G_IO_ERROR_NOT_SUPPORTED when built without eBPF).
 */
VigilEbpfVerdicts *vigil_ebpf_verdicts_new(const char *cgroup, VigilVerdictFunc func,
                                           gpointer user_data, GError **error);
void vigil_ebpf_verdicts_free(VigilEbpfVerdicts *verdicts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilEbpfVerdicts, vigil_ebpf_verdicts_free)

/* the generation a decision made now is stamped with */
guint64 vigil_ebpf_verdicts_generation(VigilEbpfVerdicts *verdicts);

/*
 * Every verdict written so far is stale from now on (a new generation); @enabled FALSE: the
 * kernel decides nothing until called again with TRUE. @mark_mask: vigild's mark bits.
 */
void vigil_ebpf_verdicts_invalidate(VigilEbpfVerdicts *verdicts, gboolean enabled,
                                    guint32 mark_mask);

/*
 * The kernel decides @key's next connections with @action (@mark: the action's code in the
 * mark bits) by rule @rule_id, until @expires_us (monotonic; 0: no end) or until the
 * generation changes; nothing is written when @generation is not the current one (the rules
 * changed since the decision).
 */
gboolean vigil_ebpf_verdicts_put(VigilEbpfVerdicts *verdicts, const VigilVerdictKey *key,
                                 guint64 generation, VigilAction action, guint32 mark,
                                 guint64 rule_id, gint64 expires_us, const VigilVerdictInfo *info,
                                 GError **error);

/* the kernel's decisions read at most at once on the main loop (review M1) */
#define VIGIL_VERDICTS_BATCH 256

/* reads one batch (at most VIGIL_VERDICTS_BATCH) of the kernel's decisions from the ring,
 * each to the VigilVerdictFunc; returns how many */
guint vigil_ebpf_verdicts_consume_batch(VigilEbpfVerdicts *verdicts);

/* decisions made in the kernel; hits left to the queue because the ring was full */
void vigil_ebpf_verdicts_get_stats(VigilEbpfVerdicts *verdicts, guint64 *decided,
                                   guint64 *ring_full);

G_END_DECLS
