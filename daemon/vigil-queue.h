/* vigil-queue.h: the netfilter queue (libmnl, libnetfilter_queue's nfq_nlmsg_* API) read on the
 * GLib main loop */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* what the queue hands on for one packet; valid only during the callback */
typedef struct {
	guint32 id;
	const guint8 *payload; /* the IP packet's first bytes (headers) */
	gsize len;             /* bytes in @payload */
	gsize packet_len;      /* the whole packet's length (the kernel's NFQA_CAP_LEN when the copy
	                        * range cut it short, else @len) */
	gboolean has_uid;
	guint32 uid;        /* the socket owner's uid (NFQA_UID) */
	guint32 mark;       /* the packet mark as it arrived */
	guint32 ct_id;      /* conntrack's id of the packet's flow (NFQA_CT), 0: not told */
	gint64 received_us; /* g_get_monotonic_time() when read */
} VigilQueuedPacket;

typedef void (*VigilQueueFunc)(const VigilQueuedPacket *packet, gpointer user_data);

typedef struct {
	guint64 received;
	guint64 verdicts;
	guint64 enobufs;       /* receive buffer overruns: the kernel dropped messages to us */
	guint64 queue_dropped; /* the kernel's count: queue full (see FailMode) */
	guint64 user_dropped;  /* the kernel's count: could not deliver to us */
	guint64 truncated;     /* messages larger than a receive slot (never expected) */
} VigilQueueStats;

typedef struct _VigilQueue VigilQueue;

/*
 * Binds queue @queue_number and starts reading it on the thread-default main context. The
 * kernel holds up to @queue_length packets for us; beyond that, or when our socket's buffer
 * is full, it drops them (counted, and logged every few seconds), whatever the FailMode: an
 * overflow while vigild runs is a flood, not a daemon that is down, and never lets a packet
 * through undecided. (FailMode=open is the queue rule's bypass, for when nobody listens.)
 */
VigilQueue *vigil_queue_new(guint16 queue_number, guint32 queue_length, VigilQueueFunc func,
                            gpointer user_data, GError **error);
void vigil_queue_free(VigilQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilQueue, vigil_queue_free)

/*
 * Copies from an NFLOG group, one netlink datagram (NFULNL_MSG_PACKET messages) at a time;
 * valid only during the callback.
 */
typedef void (*VigilQueueLogFunc)(const guint8 *datagram, gsize len, gpointer user_data);

/*
 * Binds NFLOG group @group to the queue's own socket, copying whole packets at once (never
 * batched). Its copies and the queued packets then reach @func and the queue's callback in
 * the order the kernel made them: a copy of a packet seen before a connection was queued (a
 * DNS answer naming its destination) is always handled before that connection. Unbound when
 * the queue is freed. Fails (nothing bound) when the group is taken.
 */
gboolean vigil_queue_bind_log_group(VigilQueue *queue, guint16 group, VigilQueueLogFunc func,
                                    gpointer user_data, GError **error);

/*
 * Runs @func after each wakeup's reading, once the packets read have reached the queue's
 * callback: a caller that only takes note of packets there does its work here, in the
 * order it chooses, instead of in the kernel's arrival order.
 */
typedef void (*VigilQueueBatchFunc)(gpointer user_data);
void vigil_queue_set_batch_func(VigilQueue *queue, VigilQueueBatchFunc func, gpointer user_data);

/*
 * Reads what is waiting now (a bounded batch), without blocking, handing it to the callbacks
 * as a wakeup would (not to the batch function): a caller working through a backlog keeps
 * the kernel's queue short, so whatever arrives meanwhile is seen at once. The number read.
 */
guint vigil_queue_read_pending(VigilQueue *queue);

/* re-runs the hook for packet @id with @mark set (NF_REPEAT): our chain acts on the mark */
gboolean vigil_queue_set_verdict(VigilQueue *queue, guint32 id, guint32 mark, GError **error);

/* counters, including the kernel's from /proc/net/netfilter/nfnetlink_queue */
void vigil_queue_get_stats(VigilQueue *queue, VigilQueueStats *stats);

G_END_DECLS
