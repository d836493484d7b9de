/* test-decision-log.c: the decision line as logged, the ring of recent decisions, per-program
 * counts */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "vigil-decision-log.h"

static VigilDecision
decision(const char *program, guint32 uid, const char *dst, guint16 port, VigilAction verdict)
{
	VigilDecision d = {0};

	d.time = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC;
	d.verdict = verdict;
	d.reason = VIGIL_REASON_RULE;
	d.rule_id = 1000000001;
	d.pid = 4242;
	d.uid = uid;
	d.user_name = g_strdup(uid == 0 ? "root" : "alice");
	d.program = g_strdup(program);
	d.family = strchr(dst, ':') != NULL ? AF_INET6 : AF_INET;
	d.protocol = IPPROTO_TCP;
	g_assert_cmpint(inet_pton(d.family, dst, d.dst.bytes), ==, 1);
	d.dport = port;
	d.queued_us = 57;
	return d;
}

/* the line a user reads in the journal, and that scripts (and the e2e tests) parse */
static void
test_format(void)
{
	VigilDecision d = decision("/usr/bin/curl", 1000, "93.184.216.34", 443, VIGIL_ACTION_DENY);
	g_autofree char *line = vigil_decision_format(&d);

	g_assert_cmpstr(line, ==,
	                "deny program=/usr/bin/curl pid=4242 user=alice(1000) dst=93.184.216.34 "
	                "port=443 proto=tcp rule=1000000001 queued=57us");
	vigil_decision_clear(&d);

	/* a name, an unknown process and a reason instead of a rule */
	d = decision("/x", 0, "2001:db8::1", 53, VIGIL_ACTION_ALLOW);
	g_clear_pointer(&d.program, g_free);
	g_clear_pointer(&d.user_name, g_free);
	d.pid = 0;
	d.hostname = g_strdup("example.org");
	d.protocol = IPPROTO_UDP;
	d.reason = VIGIL_REASON_DEFAULT;
	d.rule_id = 0;
	d.queued_us = 0;
	g_free(line);
	line = vigil_decision_format(&d);
	g_assert_cmpstr(line, ==,
	                "allow program=unknown pid=0 user=?(0) dst=2001:db8::1 host=example.org "
	                "port=53 proto=udp rule=default queued=0us");
	vigil_decision_clear(&d);

	/* ICMP has a type, not a port; the largest numbers print whole */
	d = decision("/usr/bin/ping", G_MAXUINT32, "10.0.0.1", 0, VIGIL_ACTION_DROP);
	d.protocol = IPPROTO_ICMP;
	d.icmp_type = 8;
	d.pid = G_MAXUINT32;
	d.rule_id = G_MAXUINT64;
	d.queued_us = 3 * G_USEC_PER_SEC;
	g_free(line);
	line = vigil_decision_format(&d);
	g_assert_cmpstr(line, ==,
	                "drop program=/usr/bin/ping pid=4294967295 user=alice(4294967295) "
	                "dst=10.0.0.1 icmp-type=8 proto=icmp rule=18446744073709551615 "
	                "queued=3000000us");
	vigil_decision_clear(&d);
}

static const VigilProgramStats *
stats_of(GPtrArray *stats, const char *program)
{
	for (guint i = 0; i < stats->len; i++) {
		const VigilProgramStats *s = g_ptr_array_index(stats, i);
		if (g_str_equal(s->program, program))
			return s;
	}
	g_error("no counts for %s", program);
}

/* "which program is the chattiest": counts per user and program, distinct destinations */
static void
test_counts_and_ring(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(3);
	const struct {
		const char *program;
		guint32 uid;
		const char *dst;
		VigilAction verdict;
	} made[] = {
	    {"/usr/bin/curl", 1000, "192.0.2.1", VIGIL_ACTION_ALLOW},
	    {"/usr/bin/curl", 1000, "192.0.2.1", VIGIL_ACTION_ALLOW},
	    {"/usr/bin/curl", 1000, "192.0.2.2", VIGIL_ACTION_DENY},
	    {"/usr/bin/curl", 0, "192.0.2.1", VIGIL_ACTION_ALLOW},
	    {"/usr/bin/wget", 1000, "2001:db8::2", VIGIL_ACTION_DROP},
	};

	for (guint i = 0; i < G_N_ELEMENTS(made); i++) {
		VigilDecision d =
		    decision(made[i].program, made[i].uid, made[i].dst, 80, made[i].verdict);
		d.pid = i;
		vigil_decision_log_add(log, &d);
		g_assert_null(d.program); /* taken */
	}

	g_autoptr(GPtrArray) alice = vigil_decision_log_program_stats(log, 1000);
	g_assert_cmpuint(alice->len, ==, 2);
	const VigilProgramStats *curl = stats_of(alice, "/usr/bin/curl");
	g_assert_true(g_ptr_array_index(alice, 0) == curl); /* most connections first */
	g_assert_cmpuint(curl->connections, ==, 3);
	g_assert_cmpuint(curl->allowed, ==, 2);
	g_assert_cmpuint(curl->denied, ==, 1);
	g_assert_cmpuint(curl->destinations, ==, 2);
	const VigilProgramStats *wget = stats_of(alice, "/usr/bin/wget");
	g_assert_cmpuint(wget->connections, ==, 1);
	g_assert_cmpuint(wget->denied, ==, 1);

	g_autoptr(GPtrArray) everyone = vigil_decision_log_program_stats(log, G_MAXUINT32);
	g_assert_cmpuint(everyone->len, ==, 3); /* root's curl counts apart */

	/* the ring keeps the last three, oldest first */
	g_autoptr(GPtrArray) recent = vigil_decision_log_recent(log);
	g_assert_cmpuint(recent->len, ==, 3);
	for (guint i = 0; i < 3; i++)
		g_assert_cmpuint(((VigilDecision *)g_ptr_array_index(recent, i))->pid, ==, i + 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the lines go to the log as well: not to the test's output */
	g_log_set_writer_func(g_log_writer_default, NULL, NULL);
	g_test_add_func("/decision-log/format", test_format);
	g_test_add_func("/decision-log/counts-and-ring", test_counts_and_ring);
	return g_test_run();
}
