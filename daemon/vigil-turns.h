/* vigil-turns.h: connections waiting to be decided, taken in turns per uid and per socket */
#pragma once

#include <glib.h>
#include "vigil-flow.h"

G_BEGIN_DECLS

/*
 * The kernel's queue is first come, first served: a program that opens thousands of flows at
 * once would have every other program's connection wait behind them. vigild reads the queue
 * at once and decides from here instead: round robin over the uids with connections waiting,
 * and within a uid round robin over their sockets (uid, protocol, source address and port:
 * what is known of a packet before its program is), so one socket's backlog delays another
 * socket's connection by at most one decision per turn. A socket's waiting connections are
 * bounded; a socket whose connection is being looked up (on a worker thread) sits out until
 * that lookup is back, so one socket never has more than one slow lookup running.
 */

typedef struct _VigilTurnsSocket VigilTurnsSocket;

/* embedded in the caller's item; all zero when it is in no turns */
typedef struct {
	GList link;               /* in its socket's waiting list */
	VigilTurnsSocket *socket; /* from push to done */
	gboolean waiting;
	gboolean busy;
} VigilTurn;

typedef struct _VigilTurns VigilTurns;

/* at most @per_socket connections wait per socket */
VigilTurns *vigil_turns_new(guint per_socket);
/* every item must have left first (vigil_turns_remove, vigil_turns_done) */
void vigil_turns_free(VigilTurns *turns);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilTurns, vigil_turns_free)

/* the socket a packet of @flow from @uid comes from, as far as the packet tells */
typedef struct {
	guint32 uid;
	guint16 sport; /* the echo identifier for ICMP */
	guint8 protocol;
	guint8 family;
	VigilAddress src;
} VigilTurnsKey;
G_STATIC_ASSERT(sizeof(VigilTurnsKey) == 24); /* no padding: hashed as bytes */
void vigil_turns_key_from_flow(VigilTurnsKey *key, const VigilFlow *flow, guint32 uid);

/* @item waits for its turn; FALSE (nothing done) when its socket has its bound waiting */
gboolean vigil_turns_push(VigilTurns *turns, const VigilTurnsKey *key, VigilTurn *turn,
                          gpointer item);
/* the next item whose turn it is, or NULL; every item popped gets vigil_turns_done() */
gpointer vigil_turns_pop(VigilTurns *turns);
/* a waiting item leaves before its turn (its deadline passed) */
void vigil_turns_remove(VigilTurns *turns, VigilTurn *turn);
/*
 * Room for a packet of @key's socket when its uid is at its bound: the newest waiting item of
 * the uid's socket with the longest backlog, taken out of the turns, so that the flood pays
 * for its bound rather than the uid's other programs. NULL (nothing done) when @key's socket
 * is that one, or not much shorter.
 */
gpointer vigil_turns_evict(VigilTurns *turns, const VigilTurnsKey *key);

/* the popped item's work goes on elsewhere: its socket sits out until vigil_turns_done() */
void vigil_turns_busy(VigilTurns *turns, VigilTurn *turn);
/* the popped item is finished with (decided, or its lookup came back) */
void vigil_turns_done(VigilTurns *turns, VigilTurn *turn);

/* items waiting, in all; TRUE when one of them may be popped now (its socket is not busy) */
guint vigil_turns_waiting(VigilTurns *turns);
gboolean vigil_turns_ready(VigilTurns *turns);

G_END_DECLS
