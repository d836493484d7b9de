/* test-decision-log.c: the decision line as logged, the ring of recent decisions, per-program
 * counts */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "vigil-decision-log.h"
#include "vigil-log-writer.h"

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

/* what a user's process chooses (its path, its user's name, a looked-up name) cannot forge a
 * field of the line: each value is one space-free field, and the line one line */
static void
test_hostile_values(void)
{
	VigilDecision d = decision("/tmp/x\npid=1 user=root(0) \"q\" \\ \xff\xe2\x80\xae\xc3\xa9",
	                           1000, "192.0.2.7", 80, VIGIL_ACTION_ALLOW);
	g_autofree char *line = NULL;
	g_auto(GStrv) fields = NULL;
	guint pids = 0;
	guint users = 0;

	g_free(d.user_name);
	d.user_name = g_strdup("ev il\tx");
	d.hostname = g_strdup("a b\r\nc");
	line = vigil_decision_format(&d);
	g_assert_cmpstr(line, ==,
	                "allow program=/tmp/x\\x0apid=1\\x20user=root(0)\\x20\\x22q\\x22\\x20\\x5c"
	                "\\x20\\xff\\xe2\\x80\\xaeé pid=4242 user=ev\\x20il\\x09x(1000) "
	                "dst=192.0.2.7 host=a\\x20b\\x0d\\x0ac port=80 proto=tcp rule=1000000001 "
	                "queued=57us");
	g_assert_null(strchr(line, '\n'));
	fields = g_strsplit(line, " ", -1);
	for (guint i = 0; fields[i] != NULL; i++) {
		pids += g_str_has_prefix(fields[i], "pid=");
		users += g_str_has_prefix(fields[i], "user=");
	}
	g_assert_cmpuint(pids, ==, 1);
	g_assert_cmpuint(users, ==, 1);
	vigil_decision_clear(&d);

	/* the escaping alone: printable UTF-8 stays, an overlong or cut sequence does not */
	const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"/usr/bin/curl", "/usr/bin/curl"},
	    {"/opt/Zürich/日本", "/opt/Zürich/日本"},
	    {"a=b", "a=b"},
	    {"\xc0\xaf", "\\xc0\\xaf"},
	    {"\xe2\x82", "\\xe2\\x82"},
	    {"\x7f\x01", "\\x7f\\x01"},
	    {"nb\xc2\xa0sp", "nb\\xc2\\xa0sp"},
	    {"\xe2\x80\xa8", "\\xe2\\x80\\xa8"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = vigil_decision_log_escape(cases[i].in);
		g_assert_cmpstr(got, ==, cases[i].out);
	}
}

/* a process that may run someone else's code says so at the end of its line */
static void
test_taint(void)
{
	VigilDecision d = decision("/usr/bin/curl", 1000, "192.0.2.7", 80, VIGIL_ACTION_ALLOW);
	g_autofree char *line = NULL;

	d.taint = VIGIL_TAINT_TRACED | VIGIL_TAINT_PRELOAD;
	line = vigil_decision_format(&d);
	g_assert_true(g_str_has_suffix(line, " queued=57us taint=traced,preload"));
	g_free(line);
	d.taint = VIGIL_TAINT_PRELOAD;
	line = vigil_decision_format(&d);
	g_assert_true(g_str_has_suffix(line, " queued=57us taint=preload"));
	vigil_decision_clear(&d);
}

/* the lines the log writes, in order */
static GPtrArray *logged;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	const char *message = NULL;
	gboolean ours = FALSE;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(fields[i].key, "MESSAGE"))
			message = fields[i].value;
		if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
			ours = g_strcmp0(fields[i].value, "vigil-decision") == 0;
	}
	if (ours && logged != NULL && message != NULL)
		g_ptr_array_add(logged, g_strdup(message));
	return G_LOG_WRITER_HANDLED;
}

static guint
count_prefixed(const char *prefix)
{
	guint n = 0;

	for (guint i = 0; i < logged->len; i++)
		n += g_str_has_prefix(g_ptr_array_index(logged, i), prefix);
	return n;
}

static guint
count_containing(const char *text)
{
	guint n = 0;

	for (guint i = 0; i < logged->len; i++)
		n += strstr(g_ptr_array_index(logged, i), text) != NULL;
	return n;
}

/* the decisions the "suppressed" lines count, of those that contain @text */
static guint64
suppressed_containing(const char *text)
{
	guint64 n = 0;

	for (guint i = 0; i < logged->len; i++) {
		const char *line = g_ptr_array_index(logged, i);

		if (g_str_has_prefix(line, "suppressed ") && strstr(line, text) != NULL)
			n += g_ascii_strtoull(line + strlen("suppressed "), NULL, 10);
	}
	return n;
}

#define T0          (G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC)
#define INTERVAL_US (VIGIL_DECISION_LOG_INTERVAL_S * G_USEC_PER_SEC)

/* a decision of @program of @uid to 198.18.0.0 + @host, port 80, at @time_us */
static void
add_full(VigilDecisionLog *log, const char *program, guint32 uid, guint host, gint64 time_us)
{
	VigilDecision d = decision(program, uid, "198.18.0.0", 80, VIGIL_ACTION_DENY);

	d.dst.bytes[2] = (guint8)(host >> 8);
	d.dst.bytes[3] = (guint8)host;
	d.time = time_us;
	vigil_decision_log_add(log, &d);
}

static void
add_at(VigilDecisionLog *log, const char *program, gint64 time_us)
{
	add_full(log, program, 1000, 1, time_us);
}

#define LIMIT_TEXT                                                                                 \
	" (log limit per 10 s: the first line of each program and of each program and "            \
	"destination, "                                                                            \
	"then 100 per program and 1000 per user, 5000 in all)"

/* a flooding program gets its share of lines, the rest in one "suppressed" line per interval;
 * another program's decisions still show */
static void
test_flood(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(8);
	const guint per_program = VIGIL_DECISION_LOG_LINES_PER_PROGRAM;

	logged = g_ptr_array_new_with_free_func(g_free);
	/* one destination: its first line, then the program's share */
	for (guint i = 0; i < per_program + 501; i++)
		add_at(log, "/tmp/flood", T0 + i);
	add_at(log, "/usr/bin/curl", T0 + 1000);
	g_assert_cmpuint(count_prefixed("deny program=/tmp/flood "), ==, per_program + 1);
	g_assert_cmpuint(count_prefixed("deny program=/usr/bin/curl "), ==, 1);
	g_assert_cmpuint(count_prefixed("suppressed "), ==, 0);

	/* the interval ends with no decision coming: the timer's flush tells what was left out */
	vigil_decision_log_flush(log, T0 + INTERVAL_US / 2);
	g_assert_cmpuint(count_prefixed("suppressed "), ==, 0);
	vigil_decision_log_flush(log, T0 + INTERVAL_US + 1);
	g_assert_cmpuint(count_prefixed("suppressed "), ==, 1);
	g_assert_cmpstr(g_ptr_array_index(logged, logged->len - 1), ==,
	                "suppressed 500 decisions of program=/tmp/flood uid=1000 to 1 destination, "
	                "first: 198.18.0.1:80" LIMIT_TEXT);

	/* a new interval: the program's lines show again */
	add_at(log, "/tmp/flood", T0 + INTERVAL_US + 2);
	g_assert_cmpuint(count_prefixed("deny program=/tmp/flood "), ==, per_program + 2);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/*
 * Many programs of one user: the user's share of lines, and every decision beyond it counted:
 * SUMMARIES_PER_UID lines name a program, one more counts the rest of the user's
 */
static void
test_flood_of_a_user(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(8);
	const guint per_uid =
	    VIGIL_DECISION_LOG_LINES_PER_UID + VIGIL_DECISION_LOG_FIRST_LINES_PER_UID;

	logged = g_ptr_array_new_with_free_func(g_free);
	for (guint p = 0; p < 600; p++) {
		g_autofree char *program = g_strdup_printf("/tmp/p%u", p);
		for (guint i = 0; i < 10; i++)
			add_full(log, program, 1000, 1, T0 + p);
	}
	/* each program's first line (600 > FIRST_LINES_PER_UID: 500 of them), then the user's */
	g_assert_cmpuint(logged->len, ==, per_uid);
	add_at(log, "/usr/bin/curl", T0 + INTERVAL_US + 1);
	g_assert_cmpuint(count_prefixed("suppressed "), ==,
	                 VIGIL_DECISION_LOG_SUMMARIES_PER_UID + 1);
	g_assert_cmpuint(count_containing(" more programs uid=1000 "), ==, 1);
	g_assert_cmpuint(suppressed_containing(" uid=1000 "), ==, 6000 - per_uid);
	g_assert_cmpuint(count_prefixed("deny program=/usr/bin/curl "), ==, 1);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/* one uid's flood, of one program or of thousands, does not hide another uid's lines */
static void
test_flood_keeps_other_users(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(64);

	logged = g_ptr_array_new_with_free_func(g_free);
	/* uid 65534: 3,000 programs (hard links), each to its own destinations: far beyond what
	 * the old log gave all users together (2,000 lines) */
	for (guint p = 0; p < 3000; p++) {
		g_autofree char *program = g_strdup_printf("/tmp/links/%u", p);
		for (guint i = 0; i < 3; i++)
			add_full(log, program, 65534, p * 3 + i, T0 + p);
	}
	g_assert_cmpuint(count_containing("(65534) "), <=,
	                 VIGIL_DECISION_LOG_LINES_PER_UID + VIGIL_DECISION_LOG_FIRST_LINES_PER_UID +
	                     VIGIL_DECISION_LOG_PROGRAM_FIRSTS_PER_UID);
	/* then uid 1000 and root: every decision has its line, also repeated ones */
	for (guint i = 0; i < 50; i++) {
		add_full(log, "/usr/bin/curl", 1000, 7, T0 + 5000 + i);
		add_full(log, "/usr/bin/apt", 0, 8, T0 + 5000 + i);
	}
	g_assert_cmpuint(count_prefixed("deny program=/usr/bin/curl pid=4242 user=alice(1000) "),
	                 ==, 50);
	g_assert_cmpuint(count_prefixed("deny program=/usr/bin/apt pid=4242 user=root(0) "), ==,
	                 50);
	/* the flood's summaries are its own: at most SUMMARIES_PER_UID + 1 lines */
	vigil_decision_log_flush(log, T0 + INTERVAL_US + 1);
	g_assert_cmpuint(count_prefixed("suppressed "), <=,
	                 VIGIL_DECISION_LOG_SUMMARIES_PER_UID + 1);
	g_assert_cmpuint(count_containing("(65534) ") + suppressed_containing(" uid=65534 "), ==,
	                 9000);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/*
 * Within a user's flood, the first decision of each (program, destination) has its line: a
 * trojan's connection shows amid its user's other programs' flood, and a flooding program's
 * first connection to somewhere new too. Past the bound of such pairs, a decision is at worst
 * counted in its program's "suppressed" line, never left out without a trace.
 */
static void
test_first_of_pair(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(64);

	logged = g_ptr_array_new_with_free_func(g_free);
	/* 25 programs of uid 1000, 200 decisions each to one destination: the user's share used up
	 * (in the old log, everyone's 2,000 lines) */
	for (guint p = 0; p < 25; p++) {
		g_autofree char *program = g_strdup_printf("/tmp/flood%u", p);
		for (guint i = 0; i < 200; i++)
			add_full(log, program, 1000, 1, T0 + p);
	}
	add_full(log, "/tmp/flood0", 1000, 1, T0 + 100);
	g_assert_cmpuint(count_prefixed("deny program=/tmp/flood0 "), ==, 101);
	g_assert_cmpuint(count_containing("(1000) "), ==, 25 + VIGIL_DECISION_LOG_LINES_PER_UID);

	/* the trojan's first connection, twice, and a flooding program's to a new destination */
	add_full(log, "/tmp/trojan", 1000, 66, T0 + 200);
	add_full(log, "/tmp/trojan", 1000, 66, T0 + 201);
	add_full(log, "/tmp/flood0", 1000, 67, T0 + 202);
	g_assert_cmpuint(count_prefixed("deny program=/tmp/trojan "), ==, 1);
	g_assert_cmpuint(count_containing(" dst=198.18.0.66 "), ==, 1);
	g_assert_cmpuint(count_prefixed("deny program=/tmp/flood0 pid=4242 user=alice(1000) "
	                                "dst=198.18.0.67 "),
	                 ==, 1);

	/* a new interval, and the pairs' bound filled by the flood first: the trojan's new
	 * destination is counted, with its destination named */
	g_ptr_array_set_size(logged, 0);
	add_full(log, "/tmp/trojan", 1000, 66, T0 + 2 * INTERVAL_US + 1);
	for (guint i = 0; i < VIGIL_DECISION_LOG_FIRST_LINES_PER_UID; i++)
		add_full(log, "/tmp/flood0", 1000, 1000 + i, T0 + 2 * INTERVAL_US + 1);
	for (guint p = 0; p < 20; p++) {
		g_autofree char *program = g_strdup_printf("/tmp/flood%u", p);
		for (guint i = 0; i < 60; i++)
			add_full(log, program, 1000, 1, T0 + 2 * INTERVAL_US + 1);
	}
	/* the programs' first lines (21), the pairs' (500, of them 2 first lines of programs
	 * already), the user's 1000 */
	g_assert_cmpuint(count_prefixed("deny "), ==,
	                 21 + VIGIL_DECISION_LOG_FIRST_LINES_PER_UID - 2 +
	                     VIGIL_DECISION_LOG_LINES_PER_UID);
	add_full(log, "/tmp/trojan", 1000, 67, T0 + 2 * INTERVAL_US + 2);
	g_assert_cmpuint(count_containing(" dst=198.18.0.67 "), ==, 0);
	vigil_decision_log_flush(log, T0 + 3 * INTERVAL_US + 3);
	g_assert_cmpuint(suppressed_containing("program=/tmp/trojan uid=1000 to 1 destination, "
	                                       "first: 198.18.0.67:80 "),
	                 ==, 1);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/*
 * A user's programs flood thousands of destinations, enough to use up the user's pairs and
 * lines: another program of the user still has its first line (the old log counted it in a
 * "suppressed" line), and the floods' "suppressed" lines say where they went.
 */
static void
test_first_of_program(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(64);

	logged = g_ptr_array_new_with_free_func(g_free);
	for (guint p = 0; p < 12; p++) {
		g_autofree char *program = g_strdup_printf("/tmp/flood%u", p);
		for (guint i = 0; i < 1000; i++)
			add_full(log, program, 1000, p * 1000 + i, T0 + p);
	}
	add_full(log, "/tmp/trojan", 1000, 40000, T0 + 100);
	g_assert_cmpuint(count_prefixed("deny program=/tmp/trojan "), ==, 1);
	/* once per interval: its next one counts in the budgets (used up) */
	add_full(log, "/tmp/trojan", 1000, 40001, T0 + 101);
	g_assert_cmpuint(count_prefixed("deny program=/tmp/trojan "), ==, 1);

	vigil_decision_log_flush(log, T0 + INTERVAL_US + 1);
	/* flood0 had 500 first lines of pairs (its own first line among them) and its 100: the
	 * rest counted, with the number of destinations and the first three */
	g_assert_cmpuint(count_prefixed("suppressed 400 decisions of program=/tmp/flood0 uid=1000 "
	                                "to 400 destinations, first: 198.18.2.88:80, "
	                                "198.18.2.89:80, 198.18.2.90:80 "),
	                 ==, 1);
	g_assert_cmpuint(count_prefixed("suppressed 1 decisions of program=/tmp/trojan uid=1000 "
	                                "to 1 destination, first: 198.18.156.65:80 "),
	                 ==, 1);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/* a flood of more destinations than are counted says "or more" */
static void
test_summary_destinations_bounded(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(64);
	const guint n = VIGIL_DECISION_LOG_FIRST_LINES_PER_UID +
	                VIGIL_DECISION_LOG_LINES_PER_PROGRAM +
	                VIGIL_DECISION_LOG_SUMMARY_DESTINATIONS + 500;

	logged = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < n; i++)
		add_full(log, "/tmp/flood", 1000, i, T0 + 1);
	vigil_decision_log_flush(log, T0 + INTERVAL_US + 1);
	g_assert_cmpuint(count_containing(" to 1024 or more destinations, first: "), ==, 1);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/* the decisions of @uid among the recent ones */
static guint
recent_of(VigilDecisionLog *log, guint32 uid)
{
	g_autoptr(GPtrArray) recent = vigil_decision_log_recent(log);
	guint n = 0;

	for (guint i = 0; i < recent->len; i++)
		n += ((VigilDecision *)g_ptr_array_index(recent, i))->uid == uid;
	return n;
}

/*
 * The ring of recent decisions (GetConnections, the monitor) is shared fairly: one uid's
 * flood takes the place of its own oldest decisions, not of other uids'
 */
static void
test_ring_fair(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(64);
	g_autoptr(GPtrArray) recent = NULL;

	logged = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < 10; i++)
		add_full(log, "/usr/bin/curl", 1000, i, T0 + i);
	for (guint i = 0; i < 5; i++)
		add_full(log, "/usr/bin/apt", 0, i, T0 + 10 + i);
	for (guint i = 0; i < 10000; i++)
		add_full(log, "/tmp/flood", 65534, i, T0 + 20 + i);
	g_assert_cmpuint(recent_of(log, 1000), ==, 10);
	g_assert_cmpuint(recent_of(log, 0), ==, 5);
	g_assert_cmpuint(recent_of(log, 65534), ==, 64 - 15);

	/* uid 1000 goes on: it takes the flood's places until both hold as many */
	for (guint i = 0; i < 30; i++)
		add_full(log, "/usr/bin/curl", 1000, 100 + i, T0 + 20000 + i);
	g_assert_cmpuint(recent_of(log, 0), ==, 5);
	g_assert_cmpuint(recent_of(log, 1000), ==, 30);
	g_assert_cmpuint(recent_of(log, 65534), ==, 29);

	/* oldest first; each uid keeps its newest: curl's last 30, the flood's last 29 */
	recent = vigil_decision_log_recent(log);
	g_assert_cmpuint(recent->len, ==, 64);
	for (guint i = 0; i < recent->len; i++) {
		const VigilDecision *d = g_ptr_array_index(recent, i);

		if (i > 0)
			g_assert_cmpint(d->time, >=,
			                ((VigilDecision *)g_ptr_array_index(recent, i - 1))->time);
		if (d->uid == 1000)
			g_assert_cmpint(d->time, >=, T0 + 20000);
		if (d->uid == 65534)
			g_assert_cmpint(d->time, >=, T0 + 20 + 10000 - 29);
	}
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/* the per-program counts (GetProgramStats, `vigilctl top`) are shared fairly too: one uid's
 * thousands of programs push out its own least recently seen ones, not another uid's */
static void
test_programs_fair(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(8);
	g_autoptr(GPtrArray) alice = NULL;
	g_autoptr(GPtrArray) nobody = NULL;

	logged = g_ptr_array_new_with_free_func(g_free);
	for (guint p = 0; p < 10; p++) {
		g_autofree char *program = g_strdup_printf("/usr/bin/p%u", p);
		add_full(log, program, 1000, 1, T0);
	}
	for (guint p = 0; p < 20000; p++) {
		g_autofree char *program = g_strdup_printf("/tmp/links/%u", p);
		add_full(log, program, 65534, 1, T0 + 1 + p);
	}
	g_assert_cmpuint(vigil_decision_log_n_programs(log), ==, VIGIL_DECISION_LOG_MAX_PROGRAMS);
	alice = vigil_decision_log_program_stats(log, 1000);
	g_assert_cmpuint(alice->len, ==, 10);
	nobody = vigil_decision_log_program_stats(log, 65534);
	g_assert_cmpuint(nobody->len, ==, VIGIL_DECISION_LOG_MAX_PROGRAMS - 10);
	/* the flood keeps its most recent */
	g_assert_cmpuint(stats_of(nobody, "/tmp/links/19999")->connections, ==, 1);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/* the ids GetConnections hands out: 1, 2, ... in the order added, kept with each decision */
static void
test_ids(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(4);
	g_autoptr(GPtrArray) recent = NULL;

	logged = g_ptr_array_new_with_free_func(g_free);
	g_assert_cmpuint(vigil_decision_log_last_id(log), ==, 0);
	add_full(log, "/usr/bin/curl", 1000, 1, T0);
	for (guint i = 0; i < 10; i++)
		add_full(log, "/tmp/flood", 65534, i, T0 + 1 + i);
	g_assert_cmpuint(vigil_decision_log_last_id(log), ==, 11);
	recent = vigil_decision_log_recent(log);
	g_assert_cmpuint(recent->len, ==, 4);
	g_assert_cmpuint(((VigilDecision *)g_ptr_array_index(recent, 0))->id, ==, 1);
	for (guint i = 1; i < 4; i++)
		g_assert_cmpuint(((VigilDecision *)g_ptr_array_index(recent, i))->id, ==, 8 + i);
	g_clear_pointer(&logged, g_ptr_array_unref);
}

/* 20,000 programs (hard links of one binary), each with destinations of its own: the table
 * keeps the most recently seen VIGIL_DECISION_LOG_MAX_PROGRAMS, each with a bounded count */
static void
test_bounded(void)
{
	g_autoptr(VigilDecisionLog) log = vigil_decision_log_new(8);
	const gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC;

	for (guint p = 0; p < 20000; p++) {
		g_autofree char *program = g_strdup_printf("/tmp/links/%u", p);
		for (guint i = 0; i < 3; i++) {
			VigilDecision d =
			    decision(program, 1000, "192.0.2.1", 80, VIGIL_ACTION_ALLOW);
			d.dst.bytes[3] = (guint8)i;
			d.time = t0 + p;
			vigil_decision_log_add(log, &d);
		}
		/* one program keeps being seen: the least recently seen go first */
		add_at(log, "/usr/bin/curl", t0 + p);
		g_assert_cmpuint(vigil_decision_log_n_programs(log), <=,
		                 VIGIL_DECISION_LOG_MAX_PROGRAMS);
	}
	g_assert_cmpuint(vigil_decision_log_n_programs(log), ==, VIGIL_DECISION_LOG_MAX_PROGRAMS);
	g_autoptr(GPtrArray) stats = vigil_decision_log_program_stats(log, 1000);
	g_assert_cmpuint(stats->len, ==, VIGIL_DECISION_LOG_MAX_PROGRAMS);
	g_assert_cmpuint(stats_of(stats, "/usr/bin/curl")->connections, ==, 20000);
	g_assert_cmpuint(stats_of(stats, "/tmp/links/19999")->destinations, ==, 3);
	for (guint i = 0; i < stats->len; i++) {
		const VigilProgramStats *s = g_ptr_array_index(stats, i);
		g_assert_false(g_str_equal(s->program, "/tmp/links/0"));
	}

	/* one program with many destinations: counted up to the bound */
	for (guint i = 0; i < 1000; i++) {
		VigilDecision d =
		    decision("/usr/bin/wget", 1000, "2001:db8::1", 80, VIGIL_ACTION_ALLOW);
		d.dst.bytes[14] = (guint8)(i >> 8);
		d.dst.bytes[15] = (guint8)i;
		vigil_decision_log_add(log, &d);
	}
	g_clear_pointer(&stats, g_ptr_array_unref);
	stats = vigil_decision_log_program_stats(log, 1000);
	g_assert_cmpuint(stats_of(stats, "/usr/bin/wget")->destinations, ==,
	                 VIGIL_DECISION_LOG_MAX_DESTINATIONS);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the lines go to the log as well: not to the test's output */
	g_log_set_writer_func(capture_writer, NULL, NULL);
	g_test_add_func("/decision-log/format", test_format);
	g_test_add_func("/decision-log/counts-and-ring", test_counts_and_ring);
	g_test_add_func("/decision-log/hostile-values", test_hostile_values);
	g_test_add_func("/decision-log/taint", test_taint);
	g_test_add_func("/decision-log/flood", test_flood);
	g_test_add_func("/decision-log/flood-of-a-user", test_flood_of_a_user);
	g_test_add_func("/decision-log/flood-keeps-other-users", test_flood_keeps_other_users);
	g_test_add_func("/decision-log/first-of-pair", test_first_of_pair);
	g_test_add_func("/decision-log/first-of-program", test_first_of_program);
	g_test_add_func("/decision-log/summary-destinations-bounded",
	                test_summary_destinations_bounded);
	g_test_add_func("/decision-log/ring-fair", test_ring_fair);
	g_test_add_func("/decision-log/programs-fair", test_programs_fair);
	g_test_add_func("/decision-log/ids", test_ids);
	g_test_add_func("/decision-log/bounded", test_bounded);
	return g_test_run();
}
