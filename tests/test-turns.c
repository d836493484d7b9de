/* test-turns.c: the round robin that keeps one socket's backlog from delaying the others */
#include "config.h"

#include <arpa/inet.h>

#include "vigil-turns.h"

typedef struct {
	VigilTurn turn;
	int id;
} Item;

static VigilTurnsKey
key(guint32 uid, guint16 sport)
{
	VigilFlow flow = {.family = AF_INET, .protocol = IPPROTO_UDP, .sport = sport};
	VigilTurnsKey k;

	flow.src.bytes[0] = 10;
	vigil_turns_key_from_flow(&k, &flow, uid);
	return k;
}

static void
push(VigilTurns *turns, guint32 uid, guint16 sport, Item *item, int id)
{
	VigilTurnsKey k = key(uid, sport);

	item->id = id;
	g_assert_true(vigil_turns_push(turns, &k, &item->turn, item));
}

static int
pop(VigilTurns *turns)
{
	Item *item = vigil_turns_pop(turns);

	if (item == NULL)
		return -1;
	vigil_turns_done(turns, &item->turn);
	return item->id;
}

/* a socket with a thousand waiting delays another socket's connection by one turn */
static void
test_round_robin_per_socket(void)
{
	g_autoptr(VigilTurns) turns = vigil_turns_new(2000);
	g_autofree Item *flood = g_new0(Item, 1000);
	Item ruled = {0};

	for (int i = 0; i < 1000; i++)
		push(turns, 1000, 5000, &flood[i], i);
	g_assert_cmpint(pop(turns), ==, 0);
	push(turns, 1000, 40000, &ruled, 9999);
	g_assert_cmpint(pop(turns), ==, 1);
	g_assert_cmpint(pop(turns), ==, 9999);
	for (int i = 2; i < 1000; i++)
		g_assert_cmpint(pop(turns), ==, i);
	g_assert_cmpint(pop(turns), ==, -1);
	g_assert_cmpuint(vigil_turns_waiting(turns), ==, 0);
}

/* uids take turns before their sockets do: many sockets of one uid do not crowd out another */
static void
test_round_robin_per_uid(void)
{
	g_autoptr(VigilTurns) turns = vigil_turns_new(10);
	Item a[3] = {0}, b = {0};

	push(turns, 1000, 1, &a[0], 1);
	push(turns, 1000, 2, &a[1], 2);
	push(turns, 1000, 3, &a[2], 3);
	push(turns, 1001, 1, &b, 4);
	g_assert_cmpint(pop(turns), ==, 1);
	g_assert_cmpint(pop(turns), ==, 4);
	g_assert_cmpint(pop(turns), ==, 2);
	g_assert_cmpint(pop(turns), ==, 3);
}

static void
test_bound_per_socket(void)
{
	g_autoptr(VigilTurns) turns = vigil_turns_new(2);
	Item items[4] = {0};
	VigilTurnsKey k = key(1000, 7);
	VigilTurnsKey other = key(1000, 8);

	g_assert_true(vigil_turns_push(turns, &k, &items[0].turn, &items[0]));
	g_assert_true(vigil_turns_push(turns, &k, &items[1].turn, &items[1]));
	g_assert_false(vigil_turns_push(turns, &k, &items[2].turn, &items[2]));
	g_assert_false(items[2].turn.waiting);
	g_assert_true(vigil_turns_push(turns, &other, &items[3].turn, &items[3]));
	g_assert_cmpuint(vigil_turns_waiting(turns), ==, 3);
	/* a waiting item that leaves early (its deadline) frees its place */
	vigil_turns_remove(turns, &items[1].turn);
	g_assert_true(vigil_turns_push(turns, &k, &items[2].turn, &items[2]));
	while (pop(turns) >= 0)
		;
}

/* a socket whose lookup runs sits out; the others go on; it comes back when it is done */
static void
test_busy_socket_sits_out(void)
{
	g_autoptr(VigilTurns) turns = vigil_turns_new(10);
	Item a[2] = {0}, b = {0}, late = {0};
	Item *first;

	push(turns, 1000, 1, &a[0], 1);
	push(turns, 1000, 1, &a[1], 2);
	push(turns, 1000, 2, &b, 3);
	first = vigil_turns_pop(turns);
	g_assert_cmpint(first->id, ==, 1);
	vigil_turns_busy(turns, &first->turn);
	g_assert_cmpint(pop(turns), ==, 3);
	g_assert_false(vigil_turns_ready(turns));
	g_assert_cmpint(pop(turns), ==, -1);
	/* a packet arriving meanwhile waits behind the lookup too */
	push(turns, 1000, 1, &late, 4);
	g_assert_false(vigil_turns_ready(turns));
	vigil_turns_done(turns, &first->turn);
	g_assert_true(vigil_turns_ready(turns));
	g_assert_cmpint(pop(turns), ==, 2);
	g_assert_cmpint(pop(turns), ==, 4);
}

/* at the uid's bound, the longest backlog gives up its newest item for another socket's */
static void
test_evict_from_the_longest_backlog(void)
{
	g_autoptr(VigilTurns) turns = vigil_turns_new(100);
	Item flood[5] = {0}, small = {0};
	VigilTurnsKey newcomer = key(1000, 99);
	VigilTurnsKey flooder = key(1000, 1);
	VigilTurnsKey other_uid = key(1001, 99);
	Item *victim;

	for (int i = 0; i < 5; i++)
		push(turns, 1000, 1, &flood[i], i);
	push(turns, 1000, 2, &small, 10);
	g_assert_null(vigil_turns_evict(turns, &flooder));
	g_assert_null(vigil_turns_evict(turns, &other_uid));
	victim = vigil_turns_evict(turns, &newcomer);
	g_assert_nonnull(victim);
	g_assert_cmpint(victim->id, ==, 4);
	g_assert_false(victim->turn.waiting);
	g_assert_cmpuint(vigil_turns_waiting(turns), ==, 5);
	while (pop(turns) >= 0)
		;
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/turns/round-robin-per-socket", test_round_robin_per_socket);
	g_test_add_func("/turns/round-robin-per-uid", test_round_robin_per_uid);
	g_test_add_func("/turns/bound-per-socket", test_bound_per_socket);
	g_test_add_func("/turns/busy-socket-sits-out", test_busy_socket_sits_out);
	g_test_add_func("/turns/evict-from-the-longest-backlog",
	                test_evict_from_the_longest_backlog);
	return g_test_run();
}
