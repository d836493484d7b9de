/* test-ruleset.c: rule lookup, precedence, expiry and the index behind them */
#include "config.h"

#include "vigil-ruleset.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOW ((gint64)1800000000) /* 2027-01-15 */

/*
 * Made-up files, so that matching is tested without the file system: every path names a
 * file of its own, except paths under /missing (no file) and the links in fake_links;
 * fake_replaced counts how often a path's file was replaced (a new inode at that path).
 */
static GHashTable *fake_links;    /* path -> the path it points to */
static GHashTable *fake_replaced; /* path -> count */

static VigilFileId
fake_file(const char *path)
{
	guint bump = GPOINTER_TO_UINT(g_hash_table_lookup(fake_replaced, path));

	/* each file made at that path has a ctime of its own, and its own size */
	return (VigilFileId){.dev = 1,
	                     .ino = ((guint64)g_str_hash(path) << 8) + bump + 1,
	                     .ctime = 1000000000 * (gint64)(bump + 1),
	                     .size = 4096 + bump};
}

static gboolean
fake_resolve(const char *path, char **resolved, VigilFileId *id)
{
	const char *target = path;
	const char *next;

	*id = (VigilFileId){0};
	while ((next = g_hash_table_lookup(fake_links, target)) != NULL)
		target = next;
	if (g_str_has_prefix(target, "/missing/"))
		return FALSE;
	if (resolved != NULL)
		*resolved = g_strdup(target);
	*id = fake_file(target);
	return TRUE;
}

static VigilRuleset *
new_set(void)
{
	VigilRuleset *set = vigil_ruleset_new();

	vigil_ruleset_set_resolver(set, fake_resolve);
	return set;
}

/* a query whose process runs the file its path names, unless the query says otherwise */
static VigilRule *
match_query(VigilRuleset *set, const VigilMatchQuery *query, gint64 now)
{
	VigilMatchQuery q = *query;

	if (q.program != NULL && q.exe.dev == 0 && q.exe.ino == 0)
		q.exe = fake_file(q.program);
	return vigil_ruleset_match(set, &q, now);
}

static VigilRule *
add_rule(VigilRuleset *set, const char *line)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule = vigil_rule_parse_line(line, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(rule);
	g_assert_true(vigil_ruleset_add(set, rule));
	return rule; /* the set holds a reference */
}

/* a connection: fields set by the helpers below */
typedef struct {
	VigilMatchQuery q;
	const char *names[4];
	char program[64];
} Conn;

static void
conn_init(Conn *conn, guint32 uid, const char *program, const char *dst, guint8 proto, guint16 port)
{
	memset(conn, 0, sizeof(*conn));
	conn->q.uid = uid;
	conn->q.program = program;
	conn->q.protocol = proto;
	conn->q.dport = port;
	if (inet_pton(AF_INET, dst, conn->q.dst.bytes) == 1)
		conn->q.family = AF_INET;
	else if (inet_pton(AF_INET6, dst, conn->q.dst.bytes) == 1)
		conn->q.family = AF_INET6;
	else
		g_assert_not_reached();
}

static void
conn_set_name(Conn *conn, const char *name)
{
	conn->names[0] = name;
	conn->names[1] = NULL;
	conn->q.hostnames = name != NULL ? conn->names : NULL;
}

static char *
match_text(VigilRuleset *set, const Conn *conn)
{
	VigilRule *rule = match_query(set, &conn->q, NOW);

	return rule != NULL ? vigil_rule_to_string(rule, FALSE) : g_strdup("(none)");
}

#define assert_match(set, conn, expected)                                                          \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_autofree char *_text = match_text((set), (conn));                                \
		g_assert_cmpstr(_text, ==, (expected));                                            \
	}                                                                                          \
	G_STMT_END

/*
 * Adds @lines, least specific first, then checks that each wins over all before it:
 * the connection matches the last line, and after removing it, the one before, ...
 */
static void
check_chain(const char *const *lines, guint n, const Conn *conn)
{
	g_autoptr(VigilRuleset) set = new_set();
	g_autoptr(GPtrArray) rules = g_ptr_array_new();

	/* add in a shuffled order: precedence must not depend on it */
	g_assert_cmpuint(n % 7, !=, 0);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(rules, (gpointer)lines[(i * 7 + 3) % n]);
	for (guint i = 0; i < n; i++)
		add_rule(set, g_ptr_array_index(rules, i));
	g_assert_cmpuint(vigil_ruleset_size(set), ==, n);

	for (guint i = n; i > 0; i--) {
		g_autoptr(GPtrArray) list = vigil_ruleset_list(set);
		VigilRule *winner = match_query(set, &conn->q, NOW);
		g_autofree char *text = NULL;

		g_assert_nonnull(winner);
		text = vigil_rule_to_string(winner, FALSE);
		g_assert_cmpstr(text, ==, lines[i - 1]);
		/* and the documented number agrees */
		for (guint j = 0; j < list->len; j++) {
			VigilRule *other = g_ptr_array_index(list, j);

			if (other != winner)
				g_assert_cmpuint(vigil_rule_specificity(winner), >,
				                 vigil_rule_specificity(other));
		}
		g_assert_true(vigil_ruleset_remove(set, winner->id));
	}
	g_assert_null(match_query(set, &conn->q, NOW));
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void
test_precedence_program(void)
{
	const char *const chain[] = {
	    "allow",
	    "deny appid org.example.App",
	    "allow app /usr/bin/a",
	    "deny app /usr/bin/a sha256 " SHA_A,
	    "allow app /usr/bin/a sha256 " SHA_A " args \"a *\"",
	};
	Conn conn;

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	conn.q.sha256 = SHA_A;
	conn.q.cmdline = "a --flag";
	conn.q.app_id = "org.example.App";
	check_chain(chain, G_N_ELEMENTS(chain), &conn);
}

static void
test_precedence_program_mismatch(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	Conn conn;

	add_rule(set, "allow app /usr/bin/a");
	add_rule(set, "deny app /usr/bin/a sha256 " SHA_A);
	add_rule(set, "drop app /usr/bin/a args \"*--evil*\"");
	add_rule(set, "deny app /usr/bin/b");
	add_rule(set, "allow appid org.example.App");

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	/* another binary at the same path: the sha256 rule does not apply */
	conn.q.sha256 = SHA_B;
	conn.q.cmdline = "a --good";
	assert_match(set, &conn, "allow app /usr/bin/a");
	conn.q.sha256 = SHA_A;
	assert_match(set, &conn, "deny app /usr/bin/a sha256 " SHA_A);
	conn.q.sha256 = NULL;
	conn.q.cmdline = "a --evil now";
	assert_match(set, &conn, "drop app /usr/bin/a args *--evil*");
	/* without a cmdline an args rule cannot match */
	conn.q.cmdline = NULL;
	assert_match(set, &conn, "allow app /usr/bin/a");

	conn.q.program = "/usr/bin/c";
	assert_match(set, &conn, "(none)");
	conn.q.app_id = "org.example.App";
	assert_match(set, &conn, "allow appid org.example.App");
	conn.q.app_id = "org.example.Other";
	assert_match(set, &conn, "(none)");
}

static void
test_precedence_destination(void)
{
	const char *const chain[] = {
	    "deny",
	    "allow to 0.0.0.0/0",
	    "deny to 10.0.0.0/8",
	    "allow to 10.1.0.0/16",
	    "deny to 10.1.2.3",
	    "allow to *.com",
	    "deny to *.example.com",
	    "allow to *.www.example.com",
	    "deny to www.example.com",
	};
	Conn conn;

	conn_init(&conn, 1000, "/usr/bin/a", "10.1.2.3", IPPROTO_TCP, 443);
	conn_set_name(&conn, "WWW.Example.COM.");
	check_chain(chain, G_N_ELEMENTS(chain), &conn);
}

static void
test_precedence_destination_v6(void)
{
	const char *const chain[] = {
	    "allow",
	    "deny to ::/0",
	    "allow to 2001:db8::/32",
	    "deny to 2001:db8:1::/48",
	    "allow to 2001:db8:1::7",
	};
	Conn conn;

	conn_init(&conn, 0, NULL, "2001:db8:1::7", IPPROTO_UDP, 53);
	check_chain(chain, G_N_ELEMENTS(chain), &conn);
}

static void
test_destination_matching(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	const char *names[] = {"cdn.example.net", "www.example.com", NULL};
	Conn conn;

	add_rule(set, "deny to *.example.com");
	add_rule(set, "allow to 192.0.2.0/24");
	add_rule(set, "drop to 2001:db8::/32");

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.200", IPPROTO_TCP, 443);
	conn_set_name(&conn, "example.com");
	/* the domain covers itself, not only its subdomains */
	assert_match(set, &conn, "deny to *.example.com");
	conn_set_name(&conn, "notexample.com");
	assert_match(set, &conn, "allow to 192.0.2.0/24");
	conn_set_name(&conn, "example.com.evil.org");
	assert_match(set, &conn, "allow to 192.0.2.0/24");
	/* any of the names known for the address counts */
	conn.q.hostnames = names;
	assert_match(set, &conn, "deny to *.example.com");

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.3.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "(none)");
	/* an IPv4 network never matches an IPv6 address with the same leading bytes */
	conn_init(&conn, 1000, "/usr/bin/a", "c000:200::1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "(none)");
	conn_init(&conn, 1000, "/usr/bin/a", "2001:db8:ffff::1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "drop to 2001:db8::/32");
}

static void
test_precedence_port(void)
{
	const char *const chain[] = {
	    "allow",
	    "deny port 1-65535",
	    "allow port 1-1024",
	    "deny port 400-450",
	    "allow port 443,8443",
	    "deny port 443",
	};
	Conn conn;

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	check_chain(chain, G_N_ELEMENTS(chain), &conn);
}

static void
test_port_matching(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	Conn conn;

	add_rule(set, "allow port 80,443,8000-8080");
	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 8000);
	assert_match(set, &conn, "allow port 80,443,8000-8080");
	conn.q.dport = 8080;
	assert_match(set, &conn, "allow port 80,443,8000-8080");
	conn.q.dport = 8081;
	assert_match(set, &conn, "(none)");
	conn.q.dport = 79;
	assert_match(set, &conn, "(none)");
	/* ICMP has no port: only portless rules can match it */
	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_ICMP, 0);
	assert_match(set, &conn, "(none)");
}

static void
test_precedence_proto(void)
{
	const char *const chain[] = {
	    "deny",
	    "allow proto udp",
	};
	g_autoptr(VigilRuleset) set = new_set();
	Conn conn;

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_UDP, 53);
	check_chain(chain, G_N_ELEMENTS(chain), &conn);

	add_rule(set, "deny port 53");
	add_rule(set, "allow port 53 proto udp");
	add_rule(set, "drop proto icmp");
	assert_match(set, &conn, "allow port 53 proto udp");
	conn.q.protocol = IPPROTO_TCP;
	assert_match(set, &conn, "deny port 53");
	conn.q.protocol = IPPROTO_ICMPV6;
	conn.q.dport = 0;
	assert_match(set, &conn, "drop proto icmp");
	conn.q.protocol = IPPROTO_SCTP;
	assert_match(set, &conn, "(none)");
}

static void
test_precedence_user(void)
{
	const char *const chain[] = {
	    "deny app /usr/bin/a",
	    "allow user 1000 app /usr/bin/a",
	};
	g_autoptr(VigilRuleset) set = new_set();
	Conn conn;

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	check_chain(chain, G_N_ELEMENTS(chain), &conn);

	/* a user's rule is theirs alone */
	add_rule(set, "allow user 1000 app /usr/bin/a");
	assert_match(set, &conn, "allow user 1000 app /usr/bin/a");
	conn.q.uid = 1001;
	assert_match(set, &conn, "(none)");
	conn.q.uid = 0;
	assert_match(set, &conn, "(none)");
}

/* each step of the order outranks everything after it together */
static void
test_precedence_combined(void)
{
	const char *const chain[] = {
	    "deny user 1000",
	    "allow proto tcp",
	    "deny user 1000 proto tcp",
	    "allow port 443",
	    "deny user 1000 port 443 proto tcp",
	    "allow to *.example.com",
	    "deny user 1000 to *.example.com port 443 proto tcp",
	    "allow to www.example.com",
	    "deny user 1000 to www.example.com port 443 proto tcp",
	    "allow app /usr/bin/a",
	    "deny user 1000 app /usr/bin/a to www.example.com port 443 proto tcp",
	    "allow app /usr/bin/a sha256 " SHA_A,
	};
	Conn conn;

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	conn_set_name(&conn, "www.example.com");
	conn.q.sha256 = SHA_A;
	check_chain(chain, G_N_ELEMENTS(chain), &conn);
}

static void
check_action_tie(const char *first, const char *second, const char *winner)
{
	for (guint order = 0; order < 2; order++) {
		g_autoptr(VigilRuleset) set = new_set();
		Conn conn;

		add_rule(set, order == 0 ? first : second);
		add_rule(set, order == 0 ? second : first);
		conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
		assert_match(set, &conn, winner);
	}
}

static void
test_action_tie(void)
{
	check_action_tie("allow app /usr/bin/a port 443", "deny app /usr/bin/a port 443",
	                 "deny app /usr/bin/a port 443");
	check_action_tie("allow app /usr/bin/a port 443", "drop app /usr/bin/a port 443",
	                 "drop app /usr/bin/a port 443");
	check_action_tie("drop app /usr/bin/a port 443", "deny app /usr/bin/a port 443",
	                 "deny app /usr/bin/a port 443");
	/* the action breaks ties only: a more specific allow still wins */
	check_action_tie("allow app /usr/bin/a port 443", "deny app /usr/bin/a port 1-1024",
	                 "allow app /usr/bin/a port 443");
}

static void
test_equal_rules_lowest_id(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	VigilRule *late = add_rule(set, "allow app /usr/bin/a note late");
	VigilRule *early = vigil_rule_parse_line("allow app /usr/bin/a note early", NULL, NULL);
	Conn conn;

	g_assert_cmpuint(late->id, ==, 1);
	vigil_ruleset_remove(set, late->id);
	early->id = 7;
	g_assert_true(vigil_ruleset_add(set, early));
	vigil_rule_unref(early);
	late = add_rule(set, "allow app /usr/bin/a note late");
	g_assert_cmpuint(late->id, ==, 8);

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /usr/bin/a note early");
}

static void
test_unknown_process(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	Conn conn;

	add_rule(set, "deny app /usr/bin/a");
	add_rule(set, "allow sha256 " SHA_A);
	add_rule(set, "drop port 80");
	conn_init(&conn, 1000, NULL, "192.0.2.1", IPPROTO_TCP, 443);
	conn.q.sha256 = NULL;
	/* neither a program rule nor a qualified any-program rule covers an unknown process */
	assert_match(set, &conn, "(none)");
	conn.q.dport = 80;
	assert_match(set, &conn, "drop port 80");

	add_rule(set, "allow app unknown");
	assert_match(set, &conn, "allow app unknown");
	conn.q.dport = 443;
	assert_match(set, &conn, "allow app unknown");
	/* and "app unknown" never covers a known program */
	conn.q.program = "/usr/bin/b";
	assert_match(set, &conn, "(none)");
	conn.q.program = "/usr/bin/a";
	assert_match(set, &conn, "deny app /usr/bin/a");
}

static void
test_disabled(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	VigilRule *rule;
	Conn conn;

	add_rule(set, "allow");
	rule = add_rule(set, "deny app /usr/bin/a disabled");
	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow");
	rule->enabled = TRUE;
	assert_match(set, &conn, "deny app /usr/bin/a");
	g_assert_cmpuint(rule->hits, ==, 1);
}

static void
test_expiry(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc(NOW);
	g_autofree char *past = g_strdup_printf("allow app /usr/bin/a until %d-01-01T00:00:00Z",
	                                        g_date_time_get_year(now));
	g_autofree char *future =
	    g_strdup_printf("deny until %d-01-01T00:00:00Z", g_date_time_get_year(now) + 1);
	VigilRule *expiring;
	guint64 expiring_id;
	Conn conn;

	expiring = add_rule(set, past);
	expiring_id = expiring->id;
	add_rule(set, future);
	add_rule(set, "allow app /usr/bin/a until-quit 4321:99");
	add_rule(set, "drop app /usr/bin/z until-quit 4321:99");
	add_rule(set, "drop app /usr/bin/y until-quit 4322:5");
	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	conn.q.protocol = IPPROTO_UDP;

	/* an expired rule never matches, even before expire() removes it (else its lower id
	 * would win the tie with the until-quit rule) */
	g_assert_true(vigil_rule_is_expired(expiring, NOW));
	g_assert_false(vigil_rule_is_expired(expiring, expiring->until - 1));
	assert_match(set, &conn, "allow app /usr/bin/a until-quit 4321:99");
	g_assert_cmpuint(vigil_ruleset_expire(set, NOW), ==, 1);
	g_assert_null(vigil_ruleset_lookup(set, expiring_id));
	g_assert_cmpuint(vigil_ruleset_size(set), ==, 4);
	g_assert_cmpuint(vigil_ruleset_expire(set, NOW), ==, 0);

	/* once process 4321's rules are gone (vigil-rule-lifetimes.c), the next one matches */
	{
		g_autoptr(GPtrArray) rules = vigil_ruleset_list(set);

		for (guint i = 0; i < rules->len; i++) {
			VigilRule *rule = g_ptr_array_index(rules, i);

			if (rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT && rule->pid == 4321)
				vigil_ruleset_remove(set, rule->id);
		}
	}
	g_assert_cmpuint(vigil_ruleset_size(set), ==, 2);
	assert_match(set, &conn, future);
}

static void
test_hits(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	VigilRule *rule = add_rule(set, "allow app /usr/bin/a");
	VigilRule *other = add_rule(set, "allow");
	Conn conn;

	conn_init(&conn, 1000, "/usr/bin/a", "192.0.2.1", IPPROTO_TCP, 443);
	for (guint i = 0; i < 3; i++)
		g_assert_true(match_query(set, &conn.q, NOW + i) == rule);
	g_assert_cmpuint(rule->hits, ==, 3);
	g_assert_cmpint(rule->last_hit, ==, NOW + 2);
	g_assert_cmpuint(other->hits, ==, 0);
	g_assert_cmpint(other->last_hit, ==, 0);
}

static void
test_ids(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	g_autoptr(VigilRule) taken = vigil_rule_new();
	g_autoptr(VigilRule) system = vigil_rule_new();
	g_autoptr(GPtrArray) list = NULL;
	VigilRule *a = add_rule(set, "allow app /usr/bin/a");
	VigilRule *b = add_rule(set, "allow app /usr/bin/b");
	VigilRule *c;

	g_assert_cmpuint(a->id, ==, 1);
	g_assert_cmpuint(b->id, ==, 2);
	taken->id = 2;
	g_assert_false(vigil_ruleset_add(set, taken));
	system->id = VIGIL_RULE_ID_SYSTEM_BASE + 5;
	g_assert_true(vigil_ruleset_add(set, system));
	/* system ids do not move the counter of run-time ids */
	c = add_rule(set, "allow app /usr/bin/c");
	g_assert_cmpuint(c->id, ==, 3);
	g_assert_true(vigil_ruleset_lookup(set, 2) == b);
	g_assert_null(vigil_ruleset_lookup(set, 4));

	/* ids are not reused after removal */
	g_assert_true(vigil_ruleset_remove(set, 3));
	g_assert_false(vigil_ruleset_remove(set, 3));
	c = add_rule(set, "allow app /usr/bin/c");
	g_assert_cmpuint(c->id, ==, 4);

	list = vigil_ruleset_list(set);
	g_assert_cmpuint(list->len, ==, 4);
	for (guint i = 1; i < list->len; i++)
		g_assert_cmpuint(((VigilRule *)list->pdata[i - 1])->id, <,
		                 ((VigilRule *)list->pdata[i])->id);

	vigil_ruleset_clear(set);
	g_assert_cmpuint(vigil_ruleset_size(set), ==, 0);
	/* the listed references outlive the set's */
	g_assert_cmpuint(((VigilRule *)list->pdata[0])->id, ==, 1);
	c = add_rule(set, "allow app /usr/bin/c");
	g_assert_cmpuint(c->id, ==, 5);
}

/* removing rules leaves no stale index entries behind: the lookup still finds the rest */
static void
test_remove_keeps_index(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	Conn conn;

	for (guint i = 0; i < 8; i++) {
		g_autofree char *line =
		    g_strdup_printf("allow app /usr/bin/a to 10.0.%u.0/24 note n%u", i, i);
		VigilRule *rule = add_rule(set, line);

		g_array_append_val(ids, rule->id);
	}
	add_rule(set, "deny app /usr/bin/a to 10.0.0.0/16");
	for (guint i = 0; i < 8; i += 2)
		g_assert_true(vigil_ruleset_remove(set, g_array_index(ids, guint64, i)));
	for (guint i = 0; i < 8; i++) {
		g_autofree char *addr = g_strdup_printf("10.0.%u.9", i);
		g_autofree char *expected =
		    g_strdup_printf("allow app /usr/bin/a to 10.0.%u.0/24 note n%u", i, i);

		conn_init(&conn, 0, "/usr/bin/a", addr, IPPROTO_TCP, 1);
		assert_match(set, &conn,
		             i % 2 == 0 ? "deny app /usr/bin/a to 10.0.0.0/16" : expected);
	}
	vigil_ruleset_clear(set);
	assert_match(set, &conn, "(none)");
}

/* ---- many rules ---- */

/*
 * An independent statement of the documented semantics, by scanning every rule: the index
 * must give the same answer.
 */
static gboolean
brute_destination(const VigilRule *rule, const VigilMatchQuery *q)
{
	guint bits = rule->family == AF_INET ? 32 : 128;

	switch (rule->target_kind) {
	case VIGIL_TARGET_ANY:
		return TRUE;
	case VIGIL_TARGET_HOST:
	case VIGIL_TARGET_DOMAIN:
		for (guint i = 0; q->hostnames != NULL && q->hostnames[i] != NULL; i++) {
			const char *name = q->hostnames[i];
			gsize nl = strlen(name);
			gsize hl = strlen(rule->host);

			if (g_ascii_strcasecmp(name, rule->host) == 0)
				return TRUE;
			if (rule->target_kind == VIGIL_TARGET_DOMAIN && nl > hl + 1 &&
			    name[nl - hl - 1] == '.' &&
			    g_ascii_strcasecmp(name + nl - hl, rule->host) == 0)
				return TRUE;
		}
		return FALSE;
	case VIGIL_TARGET_CIDR:
		if (rule->family != q->family)
			return FALSE;
		for (guint bit = 0; bit < MIN(rule->prefix_len, bits); bit++) {
			guint8 mask = (guint8)(0x80 >> (bit % 8));

			if ((rule->address.bytes[bit / 8] & mask) != (q->dst.bytes[bit / 8] & mask))
				return FALSE;
		}
		return TRUE;
	}
	return FALSE;
}

static gboolean
brute_matches(const VigilRule *rule, const VigilMatchQuery *q, gint64 now)
{
	gboolean port_ok = rule->ports == NULL;

	if (!rule->enabled || vigil_rule_is_expired(rule, now))
		return FALSE;
	if (!rule->all_users && rule->uid != q->uid)
		return FALSE;
	if (g_strcmp0(rule->program, VIGIL_PROGRAM_UNKNOWN) == 0) {
		if (q->program != NULL)
			return FALSE;
	} else if (rule->program != NULL && g_strcmp0(rule->program, q->program) != 0) {
		return FALSE;
	}
	if (rule->sha256 != NULL && g_strcmp0(rule->sha256, q->sha256) != 0)
		return FALSE;
	if (rule->args_glob != NULL &&
	    (q->cmdline == NULL || !g_pattern_match_simple(rule->args_glob, q->cmdline)))
		return FALSE;
	if (rule->app_id != NULL && g_strcmp0(rule->app_id, q->app_id) != 0)
		return FALSE;
	for (guint i = 0; rule->ports != NULL && i < rule->ports->len; i++) {
		const VigilPortRange *r = &g_array_index(rule->ports, VigilPortRange, i);

		port_ok = port_ok || (q->dport >= r->first && q->dport <= r->last);
	}
	if (!port_ok)
		return FALSE;
	if (rule->proto != 0 && rule->proto != q->protocol &&
	    !(rule->proto == IPPROTO_ICMP && q->protocol == IPPROTO_ICMPV6))
		return FALSE;
	return brute_destination(rule, q);
}

static VigilRule *
brute_match(GPtrArray *rules, const VigilMatchQuery *q, gint64 now)
{
	VigilRule *best = NULL;

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);

		if (!brute_matches(rule, q, now))
			continue;
		if (best == NULL || vigil_rule_specificity(rule) > vigil_rule_specificity(best) ||
		    (vigil_rule_specificity(rule) == vigil_rule_specificity(best) &&
		     rule->id < best->id))
			best = rule;
	}
	return best;
}

static char *
random_rule_line(GRand *rand)
{
	static const char *const actions[] = {"allow", "deny", "drop"};
	static const char *const protos[] = {"", " proto tcp", " proto udp", " proto icmp"};
	GString *line = g_string_new(actions[g_rand_int_range(rand, 0, 3)]);
	guint proto = (guint)g_rand_int_range(rand, 0, 4);
	gboolean any_program = FALSE;

	if (g_rand_int_range(rand, 0, 4) == 0)
		g_string_append_printf(line, " user %d", 1000 + g_rand_int_range(rand, 0, 3));
	/* few rules for any program, and those with a destination: else every query matches */
	switch (g_rand_int_range(rand, 0, 40)) {
	case 0:
		any_program = TRUE;
		break;
	case 1:
		g_string_append(line, " app unknown");
		break;
	case 2:
	case 3:
	case 4:
	case 5:
		g_string_append_printf(line, " app /usr/bin/p%d sha256 %064d",
		                       g_rand_int_range(rand, 0, 300),
		                       g_rand_int_range(rand, 0, 3));
		break;
	default:
		g_string_append_printf(line, " app /usr/bin/p%d", g_rand_int_range(rand, 0, 300));
	}
	switch (g_rand_int_range(rand, any_program ? 1 : 0, 6)) {
	case 0:
		break;
	case 1:
		g_string_append_printf(line, " to h%d.d%d.example", g_rand_int_range(rand, 0, 40),
		                       g_rand_int_range(rand, 0, 10));
		break;
	case 2:
		g_string_append_printf(line, " to *.d%d.example", g_rand_int_range(rand, 0, 10));
		break;
	case 3:
		g_string_append(line, " to *.example");
		break;
	case 4:
		g_string_append_printf(line, " to 10.%d.%d.0/24", g_rand_int_range(rand, 0, 4),
		                       g_rand_int_range(rand, 0, 8));
		break;
	default:
		g_string_append_printf(line, " to 10.%d.0.0/16", g_rand_int_range(rand, 0, 4));
	}
	if (proto != 3 && g_rand_boolean(rand)) {
		gint port = g_rand_int_range(rand, 1, 40);

		if (g_rand_boolean(rand))
			g_string_append_printf(line, " port %d", port);
		else
			g_string_append_printf(line, " port %d-%d", port,
			                       port + g_rand_int_range(rand, 1, 20));
	}
	g_string_append(line, protos[proto]);
	if (g_rand_int_range(rand, 0, 20) == 0)
		g_string_append(line, " disabled");
	if (g_rand_int_range(rand, 0, 20) == 0)
		g_string_append(line, " until 2020-01-01T00:00:00Z");
	return g_string_free(line, FALSE);
}

static void
random_query(GRand *rand, Conn *conn, char *name, gsize name_size, char *sha)
{
	static const guint8 protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6};
	g_autofree char *program = NULL;
	g_autofree char *addr =
	    g_strdup_printf("10.%d.%d.%d", g_rand_int_range(rand, 0, 5),
	                    g_rand_int_range(rand, 0, 9), g_rand_int_range(rand, 1, 255));
	guint8 proto = protos[g_rand_int_range(rand, 0, 4)];

	if (g_rand_int_range(rand, 0, 10) == 0)
		program = NULL;
	else
		program = g_strdup_printf("/usr/bin/p%d", g_rand_int_range(rand, 0, 310));
	conn_init(conn, 999 + (guint32)g_rand_int_range(rand, 0, 4), NULL, addr, proto,
	          proto == IPPROTO_TCP || proto == IPPROTO_UDP
	              ? (guint16)g_rand_int_range(rand, 1, 64)
	              : 0);
	if (program != NULL) {
		g_strlcpy(conn->program, program, sizeof(conn->program));
		conn->q.program = conn->program;
	}
	g_snprintf(sha, 65, "%064d", g_rand_int_range(rand, 0, 4));
	conn->q.sha256 = program != NULL ? sha : NULL;
	g_snprintf(name, name_size, "x.h%d.d%d.example", g_rand_int_range(rand, 0, 42),
	           g_rand_int_range(rand, 0, 11));
	/* sometimes the exact host, sometimes a name below it, sometimes no name */
	switch (g_rand_int_range(rand, 0, 3)) {
	case 0:
		conn_set_name(conn, name + 2);
		break;
	case 1:
		conn_set_name(conn, name);
		break;
	default:
		conn_set_name(conn, NULL);
	}
}

static void
test_many_rules_random(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	g_autoptr(GRand) rand = g_rand_new_with_seed(g_test_rand_int());
	g_autoptr(GPtrArray) rules = NULL;
	guint matched = 0;
	g_autoptr(GHashTable) winners = g_hash_table_new(NULL, NULL);
	guint max_examined = 0;

	for (guint i = 0; i < 10000; i++) {
		g_autofree char *line = random_rule_line(rand);

		add_rule(set, line);
	}
	g_assert_cmpuint(vigil_ruleset_size(set), ==, 10000);
	rules = vigil_ruleset_list(set);

	for (guint i = 0; i < 3000; i++) {
		char name[64];
		char sha[65];
		Conn conn;
		VigilRule *expected;
		VigilRule *got;

		random_query(rand, &conn, name, sizeof(name), sha);
		expected = brute_match(rules, &conn.q, NOW);
		got = match_query(set, &conn.q, NOW);
		if (got != expected) {
			g_autofree char *e = expected ? vigil_rule_to_string(expected, TRUE) : NULL;
			g_autofree char *g = got ? vigil_rule_to_string(got, TRUE) : NULL;

			g_test_message("query %s %s: expected %s, got %s", conn.q.program,
			               conn.q.hostnames ? conn.q.hostnames[0] : "-", e, g);
		}
		g_assert_true(got == expected);
		matched += got != NULL;
		g_hash_table_add(winners, got);
		max_examined = MAX(max_examined, vigil_ruleset_get_examined(set));
	}
	g_test_message("%u of 3000 matched, %u different winners, at most %u examined", matched,
	               g_hash_table_size(winners), max_examined);
	/* rules here crowd into a few programs and names, yet a lookup stays far from a scan */
	g_assert_cmpuint(max_examined, <, 500);
	/* the generator must produce both outcomes, or the comparison proves little */
	g_assert_cmpuint(matched, >, 300);
	g_assert_cmpuint(matched, <, 2990);
	g_assert_cmpuint(g_hash_table_size(winners), >, 500);
}

/* @n random queries give what a scan of @rules gives */
static void
assert_same_as_brute(VigilRuleset *set, GPtrArray *rules, GRand *rand, guint n)
{
	for (guint i = 0; i < n; i++) {
		char name[64];
		char sha[65];
		Conn conn;

		random_query(rand, &conn, name, sizeof(name), sha);
		g_assert_true(match_query(set, &conn.q, NOW) == brute_match(rules, &conn.q, NOW));
	}
}

/*
 * Rules that share a slot (same program and destination) are removed first, last and in
 * between, in random order, and added back: the index still answers like a scan.
 */
static void
test_many_rules_removed(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	g_autoptr(GRand) rand = g_rand_new_with_seed(g_test_rand_int());
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) kept = g_ptr_array_new();
	g_autoptr(GPtrArray) removed =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_rule_unref);

	for (guint i = 0; i < 4000; i++) {
		g_autofree char *line = random_rule_line(rand);

		add_rule(set, line);
	}
	all = vigil_ruleset_list(set);
	for (guint i = 0; i < all->len; i++) {
		VigilRule *rule = g_ptr_array_index(all, i);

		if (g_rand_boolean(rand)) {
			g_ptr_array_add(kept, rule);
			continue;
		}
		g_ptr_array_add(removed, vigil_rule_ref(rule));
	}
	/* in random order, so a slot loses its first rule as often as another */
	for (guint i = removed->len; i > 1; i--) {
		guint j = (guint)g_rand_int_range(rand, 0, (gint32)i);
		gpointer tmp = removed->pdata[i - 1];

		removed->pdata[i - 1] = removed->pdata[j];
		removed->pdata[j] = tmp;
	}
	for (guint i = 0; i < removed->len; i++) {
		VigilRule *rule = g_ptr_array_index(removed, i);

		g_assert_true(vigil_ruleset_remove(set, rule->id));
		g_assert_false(vigil_ruleset_remove(set, rule->id));
	}
	g_assert_cmpuint(vigil_ruleset_size(set), ==, kept->len);
	assert_same_as_brute(set, kept, rand, 2000);

	for (guint i = 0; i < removed->len; i++)
		g_assert_true(vigil_ruleset_add(set, g_ptr_array_index(removed, i)));
	g_assert_cmpuint(vigil_ruleset_size(set), ==, all->len);
	assert_same_as_brute(set, all, rand, 2000);
}

/*
 * 10,000 rules of the shape a real machine has: a few rules per program. Every lookup gets
 * its rule, and examines a handful of candidates, not the 10,000.
 */
static void
test_many_rules_indexed(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	guint max_examined = 0;

	for (guint i = 0; i < 2000; i++) {
		g_autofree char *host = g_strdup_printf(
		    "allow user %u app /usr/bin/p%u to h%u.example.com port 443 proto tcp",
		    1000 + i % 7, i, i);
		g_autofree char *domain =
		    g_strdup_printf("deny app /usr/bin/p%u to *.d%u.example.net", i, i);
		g_autofree char *cidr =
		    g_strdup_printf("allow app /usr/bin/p%u to 10.%u.%u.0/24", i, i / 256, i % 256);
		g_autofree char *port =
		    g_strdup_printf("drop app /usr/bin/p%u port %u", i, 1024 + i);
		g_autofree char *any = g_strdup_printf("deny to 172.%u.%u.1", i / 256, i % 256);

		add_rule(set, host);
		add_rule(set, domain);
		add_rule(set, cidr);
		add_rule(set, port);
		add_rule(set, any);
	}
	g_assert_cmpuint(vigil_ruleset_size(set), ==, 10000);

	for (guint i = 0; i < 2000; i += 7) {
		g_autofree char *program = g_strdup_printf("/usr/bin/p%u", i);
		g_autofree char *host = g_strdup_printf("h%u.example.com", i);
		g_autofree char *sub = g_strdup_printf("a.b.d%u.example.net", i);
		g_autofree char *net = g_strdup_printf("10.%u.%u.77", i / 256, i % 256);
		g_autofree char *single = g_strdup_printf("172.%u.%u.1", i / 256, i % 256);
		g_autofree char *want_host = g_strdup_printf(
		    "allow user %u app %s to %s port 443 proto tcp", 1000 + i % 7, program, host);
		g_autofree char *want_domain =
		    g_strdup_printf("deny app %s to *.d%u.example.net", program, i);
		g_autofree char *want_cidr =
		    g_strdup_printf("allow app %s to 10.%u.%u.0/24", program, i / 256, i % 256);
		g_autofree char *want_port =
		    g_strdup_printf("drop app %s port %u", program, 1024 + i);
		g_autofree char *want_any = g_strdup_printf("deny to %s", single);
		Conn conn;

		conn_init(&conn, 1000 + i % 7, program, "192.0.2.1", IPPROTO_TCP, 443);
		conn_set_name(&conn, host);
		assert_match(set, &conn, want_host);
		max_examined = MAX(max_examined, vigil_ruleset_get_examined(set));
		/* another user: falls through to nothing for that host */
		conn.q.uid = 5;
		assert_match(set, &conn, "(none)");
		max_examined = MAX(max_examined, vigil_ruleset_get_examined(set));

		conn_set_name(&conn, sub);
		assert_match(set, &conn, want_domain);
		max_examined = MAX(max_examined, vigil_ruleset_get_examined(set));

		conn_init(&conn, 0, program, net, IPPROTO_UDP, 53);
		assert_match(set, &conn, want_cidr);
		max_examined = MAX(max_examined, vigil_ruleset_get_examined(set));

		conn_init(&conn, 0, program, "192.0.2.1", IPPROTO_TCP, (guint16)(1024 + i));
		assert_match(set, &conn, want_port);
		max_examined = MAX(max_examined, vigil_ruleset_get_examined(set));

		conn_init(&conn, 0, "/usr/bin/other", single, IPPROTO_TCP, 80);
		assert_match(set, &conn, want_any);
		max_examined = MAX(max_examined, vigil_ruleset_get_examined(set));
		conn_init(&conn, 0, NULL, "198.51.100.1", IPPROTO_TCP, 80);
		assert_match(set, &conn, "(none)");
	}
	g_test_message("at most %u of 10000 rules examined per lookup", max_examined);
	g_assert_cmpuint(max_examined, >=, 1);
	g_assert_cmpuint(max_examined, <=, 4);
}

static void
test_specificity_values(void)
{
	const char *const ascending[] = {
	    "allow",
	    "deny",
	    "allow user 0",
	    "allow proto tcp",
	    "allow port 1-65535",
	    "allow port 1-2",
	    "allow port 7",
	    "allow to ::/0",
	    "allow to 0.0.0.0/1",
	    "allow to 10.0.0.0/8",
	    "allow to 2001:db8::1",
	    "allow to *.com",
	    "allow to *.a.com",
	    "allow to a.com",
	    "allow appid x",
	    "allow args x sha256 " SHA_A,
	    "allow app /a",
	    "allow app /a appid x",
	    "allow app /a appid x args y sha256 " SHA_A,
	};

	for (guint i = 1; i < G_N_ELEMENTS(ascending); i++) {
		g_autoptr(VigilRule) lower = vigil_rule_parse_line(ascending[i - 1], NULL, NULL);
		g_autoptr(VigilRule) higher = vigil_rule_parse_line(ascending[i], NULL, NULL);

		g_test_message("%s < %s", ascending[i - 1], ascending[i]);
		g_assert_cmpuint(vigil_rule_specificity(lower), <, vigil_rule_specificity(higher));
	}
}

/* "app unknown" ranks as a program; it never competes with a path, only with any program */
static void
test_specificity_unknown(void)
{
	g_autoptr(VigilRule) unknown = vigil_rule_parse_line("allow app unknown", NULL, NULL);
	g_autoptr(VigilRule) path = vigil_rule_parse_line("allow app /a", NULL, NULL);
	g_autoptr(VigilRule) any =
	    vigil_rule_parse_line("allow appid x args y sha256 " SHA_A, NULL, NULL);

	g_assert_cmpuint(vigil_rule_specificity(unknown), ==, vigil_rule_specificity(path));
	g_assert_cmpuint(vigil_rule_specificity(unknown), >, vigil_rule_specificity(any));
}

/* ---- program identity ---- */

/*
 * A process in a mount namespace of its own shows /usr/bin/curl as its exe path while it
 * runs another file (bind-mounted there): the path's rules are not for it, except those
 * pinned to a sha256 that its file has.
 */
static void
test_identity_impostor(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	Conn conn;

	add_rule(set, "allow app /usr/bin/curl");
	add_rule(set, "deny port 443");
	conn_init(&conn, 1000, "/usr/bin/curl", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /usr/bin/curl");

	conn.q.exe = (VigilFileId){1, 4242};
	assert_match(set, &conn, "deny port 443");
	/* an unknown file identity (inode 0; dev 2 keeps match_query from filling it in) is
	 * no better */
	conn.q.exe = (VigilFileId){2, 0};
	assert_match(set, &conn, "deny port 443");

	/* a rule pinned to a build matches that build wherever it runs from */
	add_rule(set, "allow app /usr/bin/curl sha256 " SHA_A);
	conn.q.exe = (VigilFileId){1, 4242};
	conn.q.sha256 = SHA_A;
	assert_match(set, &conn, "allow app /usr/bin/curl sha256 " SHA_A);
	conn.q.sha256 = SHA_B;
	assert_match(set, &conn, "deny port 443");
}

/* a rule for a symbolic link names the file it points to, and says so */
static void
test_identity_symlink(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	VigilRule *link_rule;
	VigilRule *direct;
	Conn conn;

	g_hash_table_insert(fake_links, "/usr/bin/python3", "/usr/bin/python3.11");
	link_rule = add_rule(set, "allow app /usr/bin/python3 port 443");
	direct = add_rule(set, "deny app /usr/bin/python3.11 port 80");
	g_assert_cmpstr(link_rule->program_target, ==, "/usr/bin/python3.11");
	g_assert_null(direct->program_target);

	/* /proc/PID/exe shows the file, never the link */
	conn_init(&conn, 1000, "/usr/bin/python3.11", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /usr/bin/python3 port 443");
	conn.q.dport = 80;
	assert_match(set, &conn, "deny app /usr/bin/python3.11 port 80");
	/* a process that shows the link's path runs some other file (another namespace) */
	conn_init(&conn, 1000, "/usr/bin/python3", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "(none)");

	/* both rules share the file's bucket: removing one leaves the other */
	g_assert_true(vigil_ruleset_remove(set, direct->id));
	conn_init(&conn, 1000, "/usr/bin/python3.11", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /usr/bin/python3 port 443");
	g_hash_table_remove(fake_links, "/usr/bin/python3");
}

/* a package upgrade puts a new file at the path: the rule follows it, not the old one */
static void
test_identity_upgrade(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	VigilFileId old = fake_file("/usr/bin/curl");
	Conn conn;

	add_rule(set, "allow app /usr/bin/curl");
	g_hash_table_insert(fake_replaced, "/usr/bin/curl", GUINT_TO_POINTER(1));
	conn_init(&conn, 1000, "/usr/bin/curl", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /usr/bin/curl");
	/* a process still running the replaced file runs a file the path no longer names */
	conn.q.exe = old;
	assert_match(set, &conn, "(none)");
	g_hash_table_remove(fake_replaced, "/usr/bin/curl");
}

/*
 * An upgrade frees the old file's inode; the attacker's own new file can get that inode number
 * on the same file system and be bind-mounted over the rule's path in a mount namespace of its
 * own (unshare -Urm). Until the path is looked at again, the identity remembered for it is the
 * old file's: the new file differs in ctime (and size), and a process in a foreign mount
 * namespace is always checked against the path as it is now.
 */
static void
test_identity_reused_inode(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	VigilFileId old = fake_file("/usr/bin/curl");
	VigilFileId impostor = old;
	Conn conn;

	add_rule(set, "allow app /usr/bin/curl");
	add_rule(set, "deny port 443");
	conn_init(&conn, 1000, "/usr/bin/curl", "192.0.2.1", IPPROTO_TCP, 443);
	conn.q.exe = old;
	assert_match(set, &conn, "allow app /usr/bin/curl");

	/* upgraded: the path names a new file; no match or recheck has looked since */
	g_hash_table_insert(fake_replaced, "/usr/bin/curl", GUINT_TO_POINTER(1));
	/* the freed inode number, a file made later: same device and inode, not the same file */
	impostor.ctime = old.ctime + 7;
	conn.q.exe = impostor;
	assert_match(set, &conn, "deny port 443");
	impostor.ctime = old.ctime;
	impostor.size = old.size + 1;
	conn.q.exe = impostor;
	assert_match(set, &conn, "deny port 443");
	g_hash_table_remove(fake_replaced, "/usr/bin/curl");

	/* even a perfect copy of the remembered identity is looked at again for a process in a
	 * mount namespace of its own: the path names the new file now */
	{
		g_autoptr(VigilRuleset) set2 = new_set();

		add_rule(set2, "allow app /usr/bin/curl");
		add_rule(set2, "deny port 443");
		conn.q.exe = old;
		assert_match(set2, &conn, "allow app /usr/bin/curl");
		g_hash_table_insert(fake_replaced, "/usr/bin/curl", GUINT_TO_POINTER(1));
		conn.q.foreign_mount_ns = TRUE;
		assert_match(set2, &conn, "deny port 443");
		/* the new file itself, run from a foreign namespace, is still the rule's */
		conn.q.exe = fake_file("/usr/bin/curl");
		assert_match(set2, &conn, "allow app /usr/bin/curl");
		g_hash_table_remove(fake_replaced, "/usr/bin/curl");
	}
}

/* a link that points elsewhere (update-alternatives) moves its rules at the next recheck */
static void
test_identity_link_changes(void)
{
	g_autoptr(VigilRuleset) set = new_set();
	VigilRule *rule;
	Conn conn;

	g_hash_table_insert(fake_links, "/usr/bin/editor", "/usr/bin/vim");
	rule = add_rule(set, "allow app /usr/bin/editor");
	add_rule(set, "allow app /missing/x");
	add_rule(set, "deny app /usr/bin/nano port 1");
	conn_init(&conn, 1000, "/usr/bin/vim", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /usr/bin/editor");
	g_assert_cmpuint(vigil_ruleset_recheck_programs(set, 10), ==, 0);

	g_hash_table_insert(fake_links, "/usr/bin/editor", "/usr/bin/nano");
	g_assert_cmpuint(vigil_ruleset_recheck_programs(set, 10), ==, 1);
	g_assert_cmpstr(rule->program_target, ==, "/usr/bin/nano");
	assert_match(set, &conn, "(none)");
	conn_init(&conn, 1000, "/usr/bin/nano", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /usr/bin/editor");
	conn.q.dport = 1;
	assert_match(set, &conn, "deny app /usr/bin/nano port 1");

	/* a path that names no file names one once it appears */
	g_hash_table_insert(fake_links, "/missing/x", "/opt/x");
	g_assert_cmpuint(vigil_ruleset_recheck_programs(set, 10), ==, 1);
	conn_init(&conn, 1000, "/opt/x", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "allow app /missing/x");

	/* the link removed: the path is a file of its own again */
	g_hash_table_remove(fake_links, "/usr/bin/editor");
	g_hash_table_remove(fake_links, "/missing/x");
	g_assert_cmpuint(vigil_ruleset_recheck_programs(set, 1), ==, 1);
	g_assert_cmpuint(vigil_ruleset_recheck_programs(set, 2), ==, 1);
	g_assert_null(rule->program_target);
	conn_init(&conn, 1000, "/usr/bin/nano", "192.0.2.1", IPPROTO_TCP, 443);
	assert_match(set, &conn, "(none)");
}

/* the real resolver, against real files and links */
static void
test_identity_real_files(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigil-ruleset-XXXXXX", &error);
	g_autofree char *file = g_build_filename(dir, "prog.1", NULL);
	g_autofree char *link = g_build_filename(dir, "prog", NULL);
	g_autofree char *resolved = NULL;
	VigilFileId id;
	GStatBuf st;

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(file, "#!/bin/sh\n", -1, NULL));
	g_assert_cmpint(symlink("prog.1", link), ==, 0);
	g_assert_cmpint(g_stat(file, &st), ==, 0);

	g_assert_true(vigil_program_path_resolve(link, &resolved, &id));
	g_assert_cmpstr(resolved, ==, file);
	g_assert_cmpuint(id.dev, ==, (guint64)st.st_dev);
	g_assert_cmpuint(id.ino, ==, (guint64)st.st_ino);
	g_assert_cmpint(id.size, ==, (gint64)st.st_size);
	g_assert_cmpint(id.ctime, >, 0);
	g_clear_pointer(&resolved, g_free);
	g_assert_true(vigil_program_path_resolve(file, NULL, &id));
	g_assert_cmpuint(id.ino, ==, (guint64)st.st_ino);
	/* a directory or nothing is no program */
	g_assert_false(vigil_program_path_resolve(dir, &resolved, &id));
	g_assert_null(resolved);
	g_assert_cmpuint(id.ino, ==, 0);
	g_assert_cmpint(g_remove(file), ==, 0);
	g_assert_false(vigil_program_path_resolve(link, &resolved, &id));

	g_assert_cmpint(g_remove(link), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	fake_links = g_hash_table_new(g_str_hash, g_str_equal);
	fake_replaced = g_hash_table_new(g_str_hash, g_str_equal);

	g_test_add_func("/ruleset/precedence/program", test_precedence_program);
	g_test_add_func("/ruleset/precedence/program-mismatch", test_precedence_program_mismatch);
	g_test_add_func("/ruleset/precedence/destination", test_precedence_destination);
	g_test_add_func("/ruleset/precedence/destination-v6", test_precedence_destination_v6);
	g_test_add_func("/ruleset/precedence/port", test_precedence_port);
	g_test_add_func("/ruleset/precedence/proto", test_precedence_proto);
	g_test_add_func("/ruleset/precedence/user", test_precedence_user);
	g_test_add_func("/ruleset/precedence/combined", test_precedence_combined);
	g_test_add_func("/ruleset/precedence/action-tie", test_action_tie);
	g_test_add_func("/ruleset/precedence/lowest-id", test_equal_rules_lowest_id);
	g_test_add_func("/ruleset/precedence/specificity-values", test_specificity_values);
	g_test_add_func("/ruleset/precedence/specificity-unknown", test_specificity_unknown);
	g_test_add_func("/ruleset/destination-matching", test_destination_matching);
	g_test_add_func("/ruleset/port-matching", test_port_matching);
	g_test_add_func("/ruleset/unknown-process", test_unknown_process);
	g_test_add_func("/ruleset/disabled", test_disabled);
	g_test_add_func("/ruleset/expiry", test_expiry);
	g_test_add_func("/ruleset/hits", test_hits);
	g_test_add_func("/ruleset/ids", test_ids);
	g_test_add_func("/ruleset/remove-keeps-index", test_remove_keeps_index);
	g_test_add_func("/ruleset/many-rules/indexed", test_many_rules_indexed);
	g_test_add_func("/ruleset/many-rules/random", test_many_rules_random);
	g_test_add_func("/ruleset/many-rules/removed", test_many_rules_removed);
	g_test_add_func("/ruleset/identity/impostor", test_identity_impostor);
	g_test_add_func("/ruleset/identity/symlink", test_identity_symlink);
	g_test_add_func("/ruleset/identity/upgrade", test_identity_upgrade);
	g_test_add_func("/ruleset/identity/reused-inode", test_identity_reused_inode);
	g_test_add_func("/ruleset/identity/link-changes", test_identity_link_changes);
	g_test_add_func("/ruleset/identity/real-files", test_identity_real_files);
	return g_test_run();
}
