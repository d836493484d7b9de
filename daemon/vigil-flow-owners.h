/* vigil-flow-owners.h: whose allowed flow a conntrack tuple names, so that the flow's counters
 * count against its user's share of the history's queue */
#pragma once

#include <glib.h>

#include "vigil-address.h"

G_BEGIN_DECLS

/*
 * Conntrack's counters do not say whose flow they are: vigild remembers it from the decision
 * (the fairness bucket of the flow's user, vigil-fair.h), by the flow's original tuple (unique
 * among live flows, and known on every kernel, where conntrack's id comes with queued packets
 * only on some), until the flow ends; a later flow of the same tuple replaces it. A user opens
 * flows at will, so the table is bounded and shared fairly: beyond VIGIL_FLOW_OWNERS_MAX flows,
 * the oldest flow of the user holding the most is forgotten (its counters then count as of no
 * known user, a share of their own). Main thread only.
 */
#define VIGIL_FLOW_OWNERS_MAX 8192

/* a flow's original tuple */
typedef struct {
	int family;
	guint8 protocol;
	VigilAddress src, dst;
	guint16 sport, dport;
} VigilFlowTuple;

typedef struct _VigilFlowOwners VigilFlowOwners;

VigilFlowOwners *vigil_flow_owners_new(void);
void vigil_flow_owners_free(VigilFlowOwners *owners);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilFlowOwners, vigil_flow_owners_free)

/* the flow of @tuple is @bucket's (a later flow of the same tuple replaces an ended one's) */
void vigil_flow_owners_set(VigilFlowOwners *owners, const VigilFlowTuple *tuple, guint32 bucket);
/* the bucket of the flow of @tuple, or G_MAXUINT32 when it is not known; @ended: the flow
 * ended, and is forgotten */
guint32 vigil_flow_owners_get(VigilFlowOwners *owners, const VigilFlowTuple *tuple, gboolean ended);
guint vigil_flow_owners_count(VigilFlowOwners *owners);

G_END_DECLS
