/* vigil-turns.c: round robin per uid, then per socket, over connections waiting to be decided */
#define G_LOG_DOMAIN "vigil-daemon"
#include "config.h"

#include <string.h>

#include "vigil-turns.h"

typedef struct _TurnsUid TurnsUid;

struct _VigilTurnsSocket {
	VigilTurnsKey key;
	GQueue waiting; /* of VigilTurn links */
	guint popped;   /* items popped and not done yet */
	guint busy;     /* of those, the ones that keep it out of the turns */
	GList link;     /* in its uid's ring, while linked */
	gboolean linked;
	TurnsUid *uid;
};

/* a uid with sockets in the turns */
struct _TurnsUid {
	guint32 uid;
	GQueue sockets;            /* ring of VigilTurnsSocket, the next one first */
	GList link;                /* in turns->uids */
	guint refs;                /* its sockets, linked or not */
	VigilTurnsSocket *fattest; /* the one with the most waiting, as far as pushes tell */
};

struct _VigilTurns {
	guint per_socket;
	GHashTable *sockets; /* VigilTurnsKey -> VigilTurnsSocket */
	GHashTable *uids;    /* uid -> TurnsUid */
	GQueue ring;         /* of TurnsUid with a linked socket, the next one first */
	guint waiting;
};

VIGIL_DEFINE_BYTES_KEY(key, VigilTurnsKey)

void
vigil_turns_key_from_flow(VigilTurnsKey *key, const VigilFlow *flow, guint32 uid)
{
	gboolean icmp = flow->protocol == IPPROTO_ICMP || flow->protocol == IPPROTO_ICMPV6;

	memset(key, 0, sizeof(*key));
	key->uid = uid;
	key->sport = icmp ? flow->icmp_id : flow->sport;
	key->protocol = flow->protocol;
	key->family = (guint8)flow->family;
	key->src = flow->src;
}

VigilTurns *
vigil_turns_new(guint per_socket)
{
	VigilTurns *turns = g_new0(VigilTurns, 1);

	turns->per_socket = MAX(per_socket, 1);
	turns->sockets = g_hash_table_new_full(key_hash, key_equal, NULL, g_free);
	turns->uids = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	g_queue_init(&turns->ring);
	return turns;
}

void
vigil_turns_free(VigilTurns *turns)
{
	if (turns == NULL)
		return;
	/* items still waiting are their owner's: only our bookkeeping goes */
	g_hash_table_unref(turns->sockets);
	g_hash_table_unref(turns->uids);
	g_free(turns);
}

guint
vigil_turns_waiting(VigilTurns *turns)
{
	return turns->waiting;
}

gboolean
vigil_turns_ready(VigilTurns *turns)
{
	return turns->ring.head != NULL;
}

static void
link_socket(VigilTurns *turns, VigilTurnsSocket *socket)
{
	TurnsUid *uid = socket->uid;

	if (socket->linked)
		return;
	g_queue_push_tail_link(&uid->sockets, &socket->link);
	socket->linked = TRUE;
	if (uid->sockets.length == 1)
		g_queue_push_tail_link(&turns->ring, &uid->link);
}

static void
unlink_socket(VigilTurns *turns, VigilTurnsSocket *socket)
{
	TurnsUid *uid = socket->uid;

	if (!socket->linked)
		return;
	g_queue_unlink(&uid->sockets, &socket->link);
	socket->linked = FALSE;
	if (uid->sockets.length == 0)
		g_queue_unlink(&turns->ring, &uid->link);
}

/* a socket with nothing waiting and nothing busy is forgotten, and so is a uid with none */
static void
maybe_free_socket(VigilTurns *turns, VigilTurnsSocket *socket)
{
	TurnsUid *uid = socket->uid;

	if (socket->waiting.length > 0 || socket->popped > 0)
		return;
	unlink_socket(turns, socket);
	if (uid->fattest == socket)
		uid->fattest = NULL;
	g_hash_table_remove(turns->sockets, &socket->key); /* frees it */
	if (--uid->refs == 0)
		g_hash_table_remove(turns->uids, GUINT_TO_POINTER(uid->uid));
}

static VigilTurnsSocket *
get_socket(VigilTurns *turns, const VigilTurnsKey *key)
{
	VigilTurnsSocket *socket = g_hash_table_lookup(turns->sockets, key);
	TurnsUid *uid;

	if (socket != NULL)
		return socket;
	uid = g_hash_table_lookup(turns->uids, GUINT_TO_POINTER(key->uid));
	if (uid == NULL) {
		uid = g_new0(TurnsUid, 1);
		uid->uid = key->uid;
		uid->link.data = uid;
		g_hash_table_insert(turns->uids, GUINT_TO_POINTER(key->uid), uid);
	}
	uid->refs++;
	socket = g_new0(VigilTurnsSocket, 1);
	socket->key = *key;
	socket->link.data = socket;
	socket->uid = uid;
	g_hash_table_insert(turns->sockets, &socket->key, socket);
	return socket;
}

gboolean
vigil_turns_push(VigilTurns *turns, const VigilTurnsKey *key, VigilTurn *turn, gpointer item)
{
	VigilTurnsSocket *socket = get_socket(turns, key);

	g_return_val_if_fail(!turn->waiting && !turn->busy, FALSE);
	if (socket->waiting.length >= turns->per_socket) {
		maybe_free_socket(turns, socket);
		return FALSE;
	}
	turn->link.data = item;
	turn->socket = socket;
	turn->waiting = TRUE;
	g_queue_push_tail_link(&socket->waiting, &turn->link);
	turns->waiting++;
	if (socket->uid->fattest == NULL ||
	    socket->waiting.length > socket->uid->fattest->waiting.length)
		socket->uid->fattest = socket;
	if (socket->busy == 0)
		link_socket(turns, socket);
	return TRUE;
}

gpointer
vigil_turns_pop(VigilTurns *turns)
{
	TurnsUid *uid;
	VigilTurnsSocket *socket;
	GList *link;
	VigilTurn *turn;

	if (turns->ring.head == NULL)
		return NULL;
	uid = turns->ring.head->data;
	socket = uid->sockets.head->data;
	link = g_queue_pop_head_link(&socket->waiting);
	turn = (VigilTurn *)link; /* the link is the turn's first member */
	turn->waiting = FALSE;
	turns->waiting--;
	/* the next turn goes to the next uid, and this uid's next turn to its next socket */
	g_queue_unlink(&uid->sockets, &socket->link);
	socket->linked = FALSE;
	if (socket->waiting.length > 0) {
		g_queue_push_tail_link(&uid->sockets, &socket->link);
		socket->linked = TRUE;
	}
	g_queue_unlink(&turns->ring, &uid->link);
	if (uid->sockets.length > 0)
		g_queue_push_tail_link(&turns->ring, &uid->link);
	/* kept until vigil_turns_done(): the popped item may make it busy */
	socket->popped++;
	return link->data;
}

void
vigil_turns_remove(VigilTurns *turns, VigilTurn *turn)
{
	VigilTurnsSocket *socket = turn->socket;

	g_return_if_fail(turn->waiting);
	g_queue_unlink(&socket->waiting, &turn->link);
	turn->waiting = FALSE;
	turn->socket = NULL;
	turns->waiting--;
	if (socket->waiting.length == 0)
		unlink_socket(turns, socket);
	maybe_free_socket(turns, socket);
}

gpointer
vigil_turns_evict(VigilTurns *turns, const VigilTurnsKey *key)
{
	TurnsUid *uid = g_hash_table_lookup(turns->uids, GUINT_TO_POINTER(key->uid));
	VigilTurnsSocket *own = g_hash_table_lookup(turns->sockets, key);
	VigilTurnsSocket *fattest = uid != NULL ? uid->fattest : NULL;
	VigilTurn *turn;

	if (fattest == NULL || fattest == own ||
	    fattest->waiting.length <= (own != NULL ? own->waiting.length : 0) + 1)
		return NULL;
	turn = (VigilTurn *)fattest->waiting.tail;
	vigil_turns_remove(turns, turn);
	return turn->link.data;
}

void
vigil_turns_busy(VigilTurns *turns, VigilTurn *turn)
{
	VigilTurnsSocket *socket = turn->socket;

	g_return_if_fail(socket != NULL && !turn->waiting && !turn->busy);
	turn->busy = TRUE;
	socket->busy++;
	unlink_socket(turns, socket);
}

void
vigil_turns_done(VigilTurns *turns, VigilTurn *turn)
{
	VigilTurnsSocket *socket = turn->socket;

	g_return_if_fail(socket != NULL && !turn->waiting);
	if (turn->busy && --socket->busy == 0 && socket->waiting.length > 0)
		link_socket(turns, socket);
	turn->busy = FALSE;
	turn->socket = NULL;
	socket->popped--;
	maybe_free_socket(turns, socket);
}
