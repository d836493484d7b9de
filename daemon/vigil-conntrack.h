/* vigil-conntrack.h: what conntrack counted on the flows vigild allowed (bytes and packets each
 * way), when they end and, for long ones, every 30 s */
#pragma once

#include <glib.h>
#include <linux/netlink.h>

#include "vigil-flow.h"

G_BEGIN_DECLS

/* one flow's counters: the original direction is the connection's (out), the reply in */
typedef struct {
	int family;
	guint8 protocol;
	VigilAddress src, dst;
	guint16 sport, dport; /* host byte order */
	guint32 mark;
	guint32 id; /* conntrack's id of the flow (CTA_ID; unique among live flows), 0: not told */
	guint64 packets_out, bytes_out;
	guint64 packets_in, bytes_in;
	gboolean ended; /* from a destroy event: the flow is gone */
} VigilFlowCounters;

/*
 * Reads one ctnetlink message (a new/destroy event or a dump's entry): its original tuple,
 * mark and counters (zero without accounting). FALSE for anything else, or a message that is
 * cut short (pure: no I/O; tests/fuzz/fuzz-conntrack.c). @nlh is readable up to its length
 * aligned to 4 bytes, as in the buffer mnl_cb_run() hands out.
 */
gboolean vigil_conntrack_parse(const struct nlmsghdr *nlh, VigilFlowCounters *counters);

typedef void (*VigilFlowCountersFunc)(const VigilFlowCounters *counters, gpointer user_data);

typedef struct _VigilConntrack VigilConntrack;

/*
 * Turns conntrack accounting on in vigild's network namespace (it says so), subscribes to the
 * destroy events and reads the table every 30 s; calls @func for each flow whose mark, under
 * @mark_mask, is @mark (vigild's allow verdict). NULL and @error when it cannot (no
 * CAP_NET_ADMIN, no ctnetlink): then no bytes are counted, nothing else changes.
 */
VigilConntrack *vigil_conntrack_new(guint32 mark, guint32 mark_mask, VigilFlowCountersFunc func,
                                    gpointer user_data, GError **error);
void vigil_conntrack_free(VigilConntrack *conntrack);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilConntrack, vigil_conntrack_free)

/* reads the table of live flows now (else every VIGIL_CONNTRACK_READ_INTERVAL_S); nothing
 * while a read is still going on. The read is taken in slices of the main loop, after the
 * netfilter queue's packets (vigil-conntrack.c) */
void vigil_conntrack_read_now(VigilConntrack *conntrack);

/* how often the table of live flows is read, seconds */
#define VIGIL_CONNTRACK_READ_INTERVAL_S 30

G_END_DECLS
