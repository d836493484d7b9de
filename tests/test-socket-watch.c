/* test-socket-watch.c: the socket watch never keeps a verdict it no longer watches: at its
 * bound, and for one tuple allowed twice */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <unistd.h>

#include <glib.h>

#include "vigil-socket-watch.h"

#define MAX_REMEMBERED 8192 /* as in vigil-socket-watch.c */

static VigilFlow
udp_flow(guint n)
{
	VigilFlow flow = {0};

	flow.family = AF_INET;
	flow.protocol = IPPROTO_UDP;
	/* 192.0.2.0/24 (TEST-NET-1), in this test's own network namespace */
	flow.src.bytes[0] = 192;
	flow.src.bytes[2] = 2;
	flow.src.bytes[3] = 1;
	flow.dst = flow.src;
	flow.dst.bytes[3] = 2;
	flow.sport = (guint16)(10000 + n % 50000);
	flow.dport = (guint16)(53 + n / 50000);
	return flow;
}

static VigilSocketWatchStats
stats_of(VigilSocketWatch *watch)
{
	VigilSocketWatchStats stats;

	vigil_socket_watch_get_stats(watch, &stats);
	return stats;
}

/* the same tuple allowed again (its entry expired, or a race) is one remembered flow */
static void
test_same_tuple_once(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	VigilFlow flow = udp_flow(1);

	g_assert_no_error(error);
	for (int i = 0; i < 100; i++)
		vigil_socket_watch_allowed(watch, &flow);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 1);
	flow.dport++;
	vigil_socket_watch_allowed(watch, &flow);
	g_assert_cmpuint(stats_of(watch).remembered, ==, 2);
}

/* beyond the bound the oldest flow's conntrack entry is deleted, not kept unwatched */
static void
test_bound_deletes(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilSocketWatch) watch = vigil_socket_watch_new(&error);
	VigilSocketWatchStats stats;

	g_assert_no_error(error);
	for (guint i = 0; i < MAX_REMEMBERED + 10; i++) {
		VigilFlow flow = udp_flow(i);
		vigil_socket_watch_allowed(watch, &flow);
	}
	stats = stats_of(watch);
	g_assert_cmpuint(stats.remembered, ==, MAX_REMEMBERED);
	g_assert_cmpuint(stats.forgotten, ==, 10);
	g_assert_cmpuint(stats.deleted, ==, 10);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* conntrack deletions and socket notifications of a network namespace of its own: the
	 * machine's own is never touched (the test runs as root, as vigild does) */
	if (unshare(CLONE_NEWNET) != 0)
		g_error("unshare(CLONE_NEWNET): %s (the test needs root)", g_strerror(errno));
	g_test_add_func("/socket-watch/same-tuple-once", test_same_tuple_once);
	g_test_add_func("/socket-watch/bound-deletes", test_bound_deletes);
	return g_test_run();
}
