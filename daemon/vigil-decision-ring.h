/* vigil-decision-ring.h: the recent decisions in memory, shared fairly between uids */
#pragma once

#include "vigil-decision.h"

G_BEGIN_DECLS

/*
 * A bounded history (GetConnections, `vigilctl log`, the monitor) that one uid's flood cannot
 * empty of the others': when it is full, the next decision takes the place of the oldest
 * decision of the uid that holds the most (its own oldest when it holds as many as any;
 * vigil-uid-queues.h). A uid therefore keeps about its fair part (size / uids with
 * decisions) of its most recent decisions, or all of them when it has fewer.
 */
typedef struct _VigilDecisionRing VigilDecisionRing;

VigilDecisionRing *vigil_decision_ring_new(guint size);
void vigil_decision_ring_free(VigilDecisionRing *ring);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDecisionRing, vigil_decision_ring_free)

/* keeps @decision, taking its strings (@decision is zeroed) */
void vigil_decision_ring_add(VigilDecisionRing *ring, VigilDecision *decision);
/* the decisions kept, oldest first (borrowed pointers, valid until the next add) */
GPtrArray *vigil_decision_ring_recent(VigilDecisionRing *ring);

G_END_DECLS
