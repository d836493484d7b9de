/* test-rule.c: the rule's one-line text form: parsing, canonical output, errors */
#include "config.h"

#include "vigil-rule.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

static gboolean
resolve_test_user(const char *name, guint32 *uid)
{
	if (g_str_equal(name, "alice")) {
		*uid = 1000;
		return TRUE;
	}
	if (g_str_equal(name, "bob")) {
		*uid = 1001;
		return TRUE;
	}
	return FALSE;
}

static VigilRule *
parse_ok(const char *line)
{
	g_autoptr(GError) error = NULL;
	VigilRule *rule = vigil_rule_parse_line(line, resolve_test_user, &error);

	g_assert_no_error(error);
	g_assert_nonnull(rule);
	return rule;
}

static char *
address_text(const VigilRule *rule)
{
	char buf[INET6_ADDRSTRLEN];

	g_assert_nonnull(inet_ntop(rule->family, rule->address.bytes, buf, sizeof(buf)));
	return g_strdup(buf);
}

static void
test_design_examples(void)
{
	g_autoptr(VigilRule) apt =
	    parse_ok("allow app /usr/bin/apt-get to *.debian.org port 80,443 proto tcp");
	g_autoptr(VigilRule) curl = parse_ok("deny  app /usr/bin/curl port 443");
	g_autoptr(VigilRule) net = parse_ok("deny  to 203.0.113.0/24");
	g_autoptr(VigilRule) alice =
	    parse_ok("allow user alice app /usr/lib/firefox-esr/firefox-esr");
	g_autoptr(VigilRule) nc = parse_ok("drop  app /usr/bin/nc proto udp");
	g_autoptr(VigilRule) ssh = parse_ok(
	    "allow app /usr/bin/ssh to git.example.org port 22 until 2026-12-31T00:00:00Z");
	g_autofree char *net_addr = address_text(net);

	g_assert_cmpint(apt->action, ==, VIGIL_ACTION_ALLOW);
	g_assert_true(apt->all_users);
	g_assert_cmpstr(apt->program, ==, "/usr/bin/apt-get");
	g_assert_cmpint(apt->target_kind, ==, VIGIL_TARGET_DOMAIN);
	g_assert_cmpstr(apt->host, ==, "debian.org");
	g_assert_cmpuint(apt->ports->len, ==, 2);
	g_assert_cmpuint(g_array_index(apt->ports, VigilPortRange, 0).first, ==, 80);
	g_assert_cmpuint(g_array_index(apt->ports, VigilPortRange, 1).last, ==, 443);
	g_assert_cmpuint(apt->proto, ==, IPPROTO_TCP);
	g_assert_true(apt->enabled);
	g_assert_cmpint(apt->lifetime, ==, VIGIL_LIFETIME_FOREVER);

	g_assert_cmpint(curl->action, ==, VIGIL_ACTION_DENY);
	g_assert_cmpint(curl->target_kind, ==, VIGIL_TARGET_ANY);
	g_assert_cmpuint(curl->proto, ==, 0);

	g_assert_null(net->program);
	g_assert_cmpint(net->target_kind, ==, VIGIL_TARGET_CIDR);
	g_assert_cmpint(net->family, ==, AF_INET);
	g_assert_cmpuint(net->prefix_len, ==, 24);
	g_assert_cmpstr(net_addr, ==, "203.0.113.0");

	g_assert_false(alice->all_users);
	g_assert_cmpuint(alice->uid, ==, 1000);

	g_assert_cmpint(nc->action, ==, VIGIL_ACTION_DROP);
	g_assert_cmpuint(nc->proto, ==, IPPROTO_UDP);

	g_assert_cmpint(ssh->target_kind, ==, VIGIL_TARGET_HOST);
	g_assert_cmpstr(ssh->host, ==, "git.example.org");
	g_assert_cmpint(ssh->lifetime, ==, VIGIL_LIFETIME_UNTIL);
	/* 2026-12-31T00:00:00Z, computed independently of the parser */
	g_assert_cmpint(ssh->until, ==,
	                (gint64)(2026 - 1970) * 365 * 86400 + 14 * 86400 + 364 * 86400);
}

static void
test_blank_and_comments(void)
{
	const char *lines[] = {"", "   ", "\t", "# a comment", "   # indented comment", "\r"};

	for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VigilRule) rule = vigil_rule_parse_line(lines[i], NULL, &error);

		g_assert_no_error(error);
		g_assert_null(rule);
	}
}

static void
test_quotes_and_comments(void)
{
	g_autoptr(VigilRule) spaced =
	    parse_ok("allow app \"/opt/My App/bin/app\" note \"say \\\"hi\\\" # not a comment "
	             "\\\\ done\" # a real comment");
	g_autoptr(VigilRule) trailing = parse_ok("deny app /usr/bin/x# comment right after");
	g_autoptr(VigilRule) crlf = parse_ok("deny app /usr/bin/x\r");
	g_autoptr(VigilRule) empty_note = parse_ok("allow note \"\"");
	g_autofree char *text = vigil_rule_to_string(spaced, FALSE);

	g_assert_cmpstr(spaced->program, ==, "/opt/My App/bin/app");
	g_assert_cmpstr(spaced->note, ==, "say \"hi\" # not a comment \\ done");
	g_assert_cmpstr(trailing->program, ==, "/usr/bin/x");
	g_assert_cmpstr(crlf->program, ==, "/usr/bin/x");
	g_assert_cmpstr(empty_note->note, ==, "");
	g_assert_cmpstr(text, ==,
	                "allow app \"/opt/My App/bin/app\" note \"say \\\"hi\\\" # not a comment "
	                "\\\\ done\"");
}

/* a value with a newline stays one line (\xHH) and reads back as exactly that value */
static void
test_control_characters(void)
{
	const char *path = "/tmp/evil #1 \"x\"\\y\nallow app any\x7f\tz";
	g_autoptr(VigilRule) rule = vigil_rule_new();
	g_autoptr(VigilRule) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autofree char *quoted = NULL;
	g_autoptr(GString) word = g_string_new(NULL);

	rule->program = g_strdup(path);
	rule->note = g_strdup("\x01");
	g_assert_true(vigil_rule_validate(rule, &error));
	g_assert_no_error(error);
	text = vigil_rule_to_string(rule, TRUE);
	g_assert_cmpstr(text, ==,
	                "allow app \"/tmp/evil #1 \\\"x\\\"\\\\y\\x0aallow app any\\x7f\\x09z\" "
	                "note \"\\x01\"");
	back = parse_ok(text);
	g_assert_cmpstr(back->program, ==, path);
	g_assert_cmpstr(back->note, ==, "\x01");
	g_assert_true(vigil_rule_equal(rule, back, TRUE));
	vigil_rule_append_value(word, "a\nb");
	g_assert_cmpstr(word->str, ==, "\"a\\x0ab\"");
}

/* a `to` value set on its own, as the parser reads it */
static void
test_set_target(void)
{
	g_autoptr(VigilRule) rule = vigil_rule_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *cidr = NULL;

	g_assert_true(vigil_rule_set_target(rule, "WWW.Example.org.", &error));
	g_assert_cmpint(rule->target_kind, ==, VIGIL_TARGET_HOST);
	g_assert_cmpstr(rule->host, ==, "www.example.org");
	g_assert_true(vigil_rule_set_target(rule, "*.example.org", &error));
	g_assert_cmpint(rule->target_kind, ==, VIGIL_TARGET_DOMAIN);
	g_assert_cmpstr(rule->host, ==, "example.org");
	g_assert_true(vigil_rule_set_target(rule, "10.0.0.0/8", &error));
	g_assert_cmpint(rule->target_kind, ==, VIGIL_TARGET_CIDR);
	g_assert_null(rule->host);
	cidr = vigil_rule_format_target(rule);
	g_assert_cmpstr(cidr, ==, "10.0.0.0/8");
	g_assert_no_error(error);
	/* a bad value changes nothing */
	g_assert_false(vigil_rule_set_target(rule, "a b\nport 22", &error));
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
	g_assert_cmpint(rule->target_kind, ==, VIGIL_TARGET_CIDR);
}

typedef struct {
	const char *input;
	const char *canonical;
} CanonicalCase;

static void
test_canonical_form(void)
{
	const CanonicalCase cases[] = {
	    {"allow to WWW.Example.COM.", "allow to www.example.com"},
	    {"allow to *.Example.org.", "allow to *.example.org"},
	    {"deny to 2001:DB8:0:0:0:0:0:1", "deny to 2001:db8::1"},
	    {"deny to 2001:db8::/32", "deny to 2001:db8::/32"},
	    {"deny to 10.0.0.7/32", "deny to 10.0.0.7"},
	    {"deny to 0.0.0.0/0", "deny to 0.0.0.0/0"},
	    {"allow port 443,80,81-90,85", "allow port 80-90,443"},
	    {"allow port 1-65535", "allow port 1-65535"},
	    {"allow port 22,23,24", "allow port 22-24"},
	    {"allow port any proto any to any app any user all", "allow"},
	    {"allow proto icmpv6", "allow proto icmp"},
	    {"allow proto udplite port 5000", "allow port 5000 proto udplite"},
	    {"allow sha256 "
	     "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789",
	     "allow sha256 abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"},
	    {"allow until 2030-01-01T01:00:00+01:00 disabled",
	     "allow until 2030-01-01T00:00:00Z disabled"},
	    {"allow until 2030-01-01T00:00:00 disabled",
	     "allow until 2030-01-01T00:00:00Z disabled"},
	    {"allow user bob app /bin/x", "allow user 1001 app /bin/x"},
	    {"allow to bücher.example", "allow to xn--bcher-kva.example"},
	    {"drop note plain proto sctp app unknown", "drop app unknown proto sctp note plain"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(VigilRule) rule = NULL;
		g_autofree char *text = NULL;

		rule = parse_ok(cases[i].input);
		text = vigil_rule_to_string(rule, FALSE);
		g_assert_cmpstr(text, ==, cases[i].canonical);
	}
}

/* the first word must be an action; the remainder is any of these */
static const char *const round_trip_lines[] = {
    "allow",
    "deny app /usr/bin/curl port 443",
    "drop app unknown",
    "allow user 0 app /usr/sbin/ntpd to pool.ntp.org port 123 proto udp",
    "allow user alice app \"/opt/My App/bin/app\" to *.example.com port 80,443,8000-8080",
    "deny app /usr/bin/python3.11 args \"*-m pip install*\" to any proto tcp",
    "allow app /app/bin/firefox appid org.mozilla.firefox to *.mozilla.org",
    "allow sha256 0000000000000000000000000000000000000000000000000000000000000000",
    "deny to fe80::/10 proto icmp",
    "deny to 192.168.0.0/16",
    "deny to ::ffff:192.0.2.1",
    "allow to 127.0.0.1 port 631",
    "allow to localhost",
    "allow to _dmarc.example.com",
    "allow app /usr/bin/ssh to git.example.org port 22 until 2026-12-31T00:00:00Z",
    "allow app /usr/bin/zoom until-quit 4242:987654321",
    "allow app /usr/bin/x disabled note \"made by hand #1\"",
    "deny note \"back\\\\slash\"",
    "allow app \"/tmp/a\\x0ab\" note \"\\x1f#\\x7f\"",
    "allow id 17 created 2024-05-01T12:00:00Z hits 99 last-hit 2024-06-01T08:30:00Z",
    "allow app /usr/bin/nc port 1-65535 proto sctp id 4294967296",
    "deny user 4294967294 to *.com port 65535",
};

static void
test_round_trip(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(round_trip_lines); i++) {
		g_autoptr(VigilRule) rule = parse_ok(round_trip_lines[i]);

		for (gboolean with_state = FALSE; with_state <= TRUE; with_state++) {
			g_autofree char *text = vigil_rule_to_string(rule, with_state);
			g_autoptr(VigilRule) back = parse_ok(text);
			g_autofree char *again = vigil_rule_to_string(back, with_state);

			g_test_message("%s -> %s", round_trip_lines[i], text);
			g_assert_true(vigil_rule_equal(rule, back, with_state));
			g_assert_cmpstr(text, ==, again);
		}
	}
}

static void
test_state(void)
{
	g_autoptr(VigilRule) rule =
	    parse_ok("allow app /bin/x id 17 created 2024-05-01T12:00:00Z hits 99 last-hit "
	             "2024-06-01T08:30:00Z");
	g_autoptr(VigilRule) other = parse_ok("allow app /bin/x");
	g_autofree char *without = vigil_rule_to_string(rule, FALSE);

	g_assert_cmpuint(rule->id, ==, 17);
	g_assert_cmpuint(rule->hits, ==, 99);
	g_assert_cmpint(rule->last_hit - rule->created, ==,
	                31 * 86400 - 12 * 3600 + 8 * 3600 + 1800);
	g_assert_cmpstr(without, ==, "allow app /bin/x");
	g_assert_true(vigil_rule_equal(rule, other, FALSE));
	g_assert_false(vigil_rule_equal(rule, other, TRUE));
}

typedef struct {
	const char *line;
	VigilRuleError code;
	const char *in_message; /* the message names the word and what is wrong */
} ErrorCase;

static void
test_errors(void)
{
	const ErrorCase cases[] = {
	    {"permit app /bin/x", VIGIL_RULE_ERROR_SYNTAX, "permit"},
	    {"Allow", VIGIL_RULE_ERROR_SYNTAX, "Allow"},
	    {"allow app", VIGIL_RULE_ERROR_SYNTAX, "app"},
	    {"allow app \"/bin/x", VIGIL_RULE_ERROR_SYNTAX, "closing quote"},
	    {"allow note \"a\\n\"", VIGIL_RULE_ERROR_SYNTAX, "escape"},
	    {"allow note \"a\"b", VIGIL_RULE_ERROR_SYNTAX, "after a closing quote"},
	    {"allow note a\"b\"", VIGIL_RULE_ERROR_SYNTAX, "quote inside a word"},
	    {"allow note \"a\tb\"", VIGIL_RULE_ERROR_SYNTAX, "control character"},
	    /* \xHH names control characters only: one way to write every value */
	    {"allow note \"\\x41\"", VIGIL_RULE_ERROR_SYNTAX, "escape"},
	    {"allow note \"\\x00\"", VIGIL_RULE_ERROR_SYNTAX, "escape"},
	    {"allow note \"\\x0\"", VIGIL_RULE_ERROR_SYNTAX, "escape"},
	    {"allow note a\x01", VIGIL_RULE_ERROR_SYNTAX, "control character"},
	    {"allow note \xff\xfe", VIGIL_RULE_ERROR_SYNTAX, "UTF-8"},
	    {"allow app /bin/x frobnicate 3", VIGIL_RULE_ERROR_UNKNOWN_KEY, "frobnicate"},
	    {"allow port 80, 443", VIGIL_RULE_ERROR_VALUE, "port: '80,' has an empty item"},
	    {"allow port 80 443", VIGIL_RULE_ERROR_UNKNOWN_KEY, "'443'"},
	    {"allow app /bin/x app /bin/y", VIGIL_RULE_ERROR_DUPLICATE, "app"},
	    {"allow disabled disabled", VIGIL_RULE_ERROR_DUPLICATE, "disabled"},
	    {"allow until 2030-01-01T00:00:00Z until-quit 1:2", VIGIL_RULE_ERROR_DUPLICATE,
	     "until-quit"},
	    {"allow app bin/x", VIGIL_RULE_ERROR_VALUE, "app: 'bin/x'"},
	    {"allow app /usr/bin/../bin/x", VIGIL_RULE_ERROR_VALUE, "app:"},
	    {"allow app /usr//bin/x", VIGIL_RULE_ERROR_VALUE, "canonical"},
	    {"allow app /usr/bin/", VIGIL_RULE_ERROR_VALUE, "app:"},
	    {"allow app \"\"", VIGIL_RULE_ERROR_VALUE, "app:"},
	    {"allow user nobody-here", VIGIL_RULE_ERROR_VALUE, "unknown user 'nobody-here'"},
	    {"allow user 4294967295", VIGIL_RULE_ERROR_VALUE, "user:"},
	    {"allow user -1", VIGIL_RULE_ERROR_VALUE, "user:"},
	    {"allow sha256 abc", VIGIL_RULE_ERROR_VALUE, "sha256:"},
	    {"allow sha256 "
	     "g000000000000000000000000000000000000000000000000000000000000000",
	     VIGIL_RULE_ERROR_VALUE, "sha256:"},
	    {"allow args \"\"", VIGIL_RULE_ERROR_VALUE, "args:"},
	    {"allow appid \"org mozilla\"", VIGIL_RULE_ERROR_VALUE, "appid:"},
	    {"allow to 10.0.0.1/24", VIGIL_RULE_ERROR_VALUE, "did you mean 10.0.0.0/24"},
	    {"allow to 2001:db8::1/32", VIGIL_RULE_ERROR_VALUE, "2001:db8::/32"},
	    {"allow to 10.0.0.0/33", VIGIL_RULE_ERROR_VALUE, "prefix length"},
	    {"allow to 10.0.0.0/", VIGIL_RULE_ERROR_VALUE, "prefix length"},
	    {"allow to 10.0.0.0/+8", VIGIL_RULE_ERROR_VALUE, "prefix length"},
	    {"allow to 300.1.1.1", VIGIL_RULE_ERROR_VALUE, "300.1.1.1"},
	    {"allow to -bad.example.com", VIGIL_RULE_ERROR_VALUE, "to:"},
	    {"allow to bad..example.com", VIGIL_RULE_ERROR_VALUE, "to:"},
	    {"allow to *", VIGIL_RULE_ERROR_VALUE, "to:"},
	    {"allow to *.", VIGIL_RULE_ERROR_VALUE, "to:"},
	    {"allow to a*.example.com", VIGIL_RULE_ERROR_VALUE, "to:"},
	    {"allow to example.com:443", VIGIL_RULE_ERROR_VALUE, "to:"},
	    {"allow to [::1]", VIGIL_RULE_ERROR_VALUE, "to:"},
	    {"allow port 0", VIGIL_RULE_ERROR_VALUE, "port: '0'"},
	    {"allow port 65536", VIGIL_RULE_ERROR_VALUE, "port: '65536'"},
	    {"allow port 90-80", VIGIL_RULE_ERROR_VALUE, "ends before it starts"},
	    {"allow port 80,,443", VIGIL_RULE_ERROR_VALUE, "port: '80,,443' has an empty item"},
	    {"allow port 1-2-3", VIGIL_RULE_ERROR_VALUE, "port: '1-2-3'"},
	    {"allow port http", VIGIL_RULE_ERROR_VALUE, "port: 'http'"},
	    {"allow port 443 proto icmp", VIGIL_RULE_ERROR_VALUE, "icmp has no ports"},
	    {"allow proto gre", VIGIL_RULE_ERROR_VALUE, "proto: 'gre'"},
	    {"deny app /usr/bin/curl capture", VIGIL_RULE_ERROR_VALUE,
	     "capture: only an allow rule"},
	    {"allow capture capture", VIGIL_RULE_ERROR_DUPLICATE,
	     "capture: the keyword appears twice"},
	    {"allow capture yes", VIGIL_RULE_ERROR_UNKNOWN_KEY, "'yes' is not a rule keyword"},
	    {"allow until tomorrow", VIGIL_RULE_ERROR_VALUE, "until: 'tomorrow'"},
	    {"allow until-quit 1234", VIGIL_RULE_ERROR_VALUE, "until-quit: '1234'"},
	    {"allow until-quit 0:5", VIGIL_RULE_ERROR_VALUE, "until-quit:"},
	    {"allow app unknown sha256 "
	     "0000000000000000000000000000000000000000000000000000000000000000",
	     VIGIL_RULE_ERROR_VALUE, "sha256"},
	    {"allow id 0", VIGIL_RULE_ERROR_VALUE, "id:"},
	    {"allow hits many", VIGIL_RULE_ERROR_VALUE, "hits:"},
	    {"allow created 2024", VIGIL_RULE_ERROR_VALUE, "created:"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VigilRule) rule =
		    vigil_rule_parse_line(cases[i].line, resolve_test_user, &error);

		g_autofree char *shown = g_strescape(cases[i].line, NULL);

		/* escaped: TAP readers choke on the invalid UTF-8 some cases contain */
		g_test_message("%s -> %s", shown, error != NULL ? error->message : "(ok)");
		g_assert_null(rule);
		g_assert_error(error, VIGIL_RULE_ERROR, (gint)cases[i].code);
		g_assert_nonnull(strstr(error->message, cases[i].in_message));
	}
}

static void
test_limits(void)
{
	g_autoptr(GString) note = g_string_new("allow note \"");
	g_autoptr(GString) host = g_string_new("allow to ");
	g_autoptr(GString) label = g_string_new("allow to ");
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule = NULL;

	for (guint i = 0; i < 1025; i++)
		g_string_append_c(note, 'n');
	g_string_append_c(note, '"');
	rule = vigil_rule_parse_line(note->str, NULL, &error);
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
	g_clear_error(&error);

	/* 256 characters: over the DNS limit of 253 */
	for (guint i = 0; i < 127; i++)
		g_string_append(host, i == 0 ? "a" : ".a");
	g_string_append(host, ".bc");
	g_assert_cmpuint(host->len - strlen("allow to "), ==, 256);
	rule = vigil_rule_parse_line(host->str, NULL, &error);
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
	g_clear_error(&error);

	for (guint i = 0; i < 64; i++)
		g_string_append_c(label, 'l');
	g_string_append(label, ".com");
	rule = vigil_rule_parse_line(label->str, NULL, &error);
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
	g_clear_error(&error);

	/* 63 is allowed */
	g_string_erase(label, strlen("allow to "), 1);
	rule = parse_ok(label->str);
	g_assert_cmpuint(strlen(rule->host), ==, 67);
}

static void
test_user_resolution(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) all = parse_ok("allow user all");
	g_autoptr(VigilRule) root = parse_ok("allow user 0");
	g_autoptr(VigilRule) unresolved = vigil_rule_parse_line("allow user alice", NULL, &error);

	g_assert_true(all->all_users);
	g_assert_false(root->all_users);
	g_assert_cmpuint(root->uid, ==, 0);
	/* without a resolver only numbers work */
	g_assert_null(unresolved);
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
}

/* a D-Bus caller's rule keeps the name as written: it is looked up after authorisation */
static void
test_user_name_kept(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) kept =
	    vigil_rule_parse_line_keep_names("deny user \"vigil nobody\" port 1", &error);
	g_autoptr(VigilRule) number = vigil_rule_parse_line_keep_names("deny user 5", &error);
	g_autoptr(VigilRule) all = vigil_rule_parse_line_keep_names("deny user all", &error);
	g_autoptr(VigilRule) resolved = parse_ok("deny user alice port 1");
	g_autoptr(VigilRule) copy = NULL;
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	g_assert_false(kept->all_users);
	g_assert_cmpstr(kept->user_name, ==, "vigil nobody");
	g_assert_cmpuint(kept->uid, ==, 0);
	/* a number or "all" is no name */
	g_assert_null(number->user_name);
	g_assert_cmpuint(number->uid, ==, 5);
	g_assert_true(all->all_users);
	g_assert_null(all->user_name);
	/* it reads back as the name, and means something else than any uid */
	text = vigil_rule_to_string(kept, FALSE);
	g_assert_cmpstr(text, ==, "deny user \"vigil nobody\" port 1");
	g_assert_true(vigil_rule_validate(kept, &error));
	g_assert_no_error(error);
	copy = vigil_rule_copy(kept);
	g_assert_cmpstr(copy->user_name, ==, "vigil nobody");
	g_assert_true(vigil_rule_equal(copy, kept, TRUE));
	g_assert_null(resolved->user_name);
	g_free(resolved->user_name);
	resolved->user_name = g_strdup("vigil nobody");
	resolved->uid = 0;
	g_assert_true(vigil_rule_equal(resolved, kept, FALSE));
	g_clear_pointer(&resolved->user_name, g_free);
	g_assert_false(vigil_rule_equal(resolved, kept, FALSE));
}

static void
test_expiry(void)
{
	g_autoptr(VigilRule) until = parse_ok("allow until 2030-01-01T00:00:00Z");
	g_autoptr(VigilRule) forever = parse_ok("allow");
	g_autoptr(VigilRule) quit = parse_ok("allow until-quit 10:20");

	g_assert_false(vigil_rule_is_expired(until, until->until - 1));
	g_assert_true(vigil_rule_is_expired(until, until->until));
	g_assert_true(vigil_rule_is_expired(until, until->until + 1));
	g_assert_false(vigil_rule_is_expired(forever, G_MAXINT64));
	/* process exit is the daemon's business, not the clock's */
	g_assert_false(vigil_rule_is_expired(quit, G_MAXINT64));
	g_assert_cmpuint(quit->pid, ==, 10);
	g_assert_cmpuint(quit->pid_start_time, ==, 20);
}

static void
test_copy_and_ref(void)
{
	g_autoptr(VigilRule) rule = parse_ok(round_trip_lines[4]);
	g_autoptr(VigilRule) copy = vigil_rule_copy(rule);
	VigilRule *ref = vigil_rule_ref(rule);

	g_assert_true(ref == rule);
	vigil_rule_unref(ref);
	g_assert_true(vigil_rule_equal(rule, copy, TRUE));
	g_assert_true(copy->ports != rule->ports);
	g_array_index(copy->ports, VigilPortRange, 0).first = 81;
	g_assert_false(vigil_rule_equal(rule, copy, FALSE));
}

static void
test_validate(void)
{
	g_autoptr(VigilRule) good = vigil_rule_new();
	g_autoptr(VigilRule) upper = vigil_rule_new();
	g_autoptr(VigilRule) newline = vigil_rule_new();
	g_autoptr(VigilRule) relative = vigil_rule_new();
	g_autoptr(GError) error = NULL;

	good->program = g_strdup("/usr/bin/x");
	good->target_kind = VIGIL_TARGET_HOST;
	good->host = g_strdup("example.com");
	good->id = 5;
	good->hits = 3;
	g_assert_true(vigil_rule_validate(good, &error));
	g_assert_no_error(error);

	upper->target_kind = VIGIL_TARGET_HOST;
	upper->host = g_strdup("Example.com");
	g_assert_false(vigil_rule_validate(upper, &error));
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
	g_clear_error(&error);

	/* a newline in a note or path is written as \x0a; in a host name it is no name */
	newline->note = g_strdup("two\nlines");
	g_assert_true(vigil_rule_validate(newline, &error));
	g_assert_no_error(error);
	newline->target_kind = VIGIL_TARGET_HOST;
	newline->host = g_strdup("a\nb");
	g_assert_false(vigil_rule_validate(newline, &error));
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
	g_clear_error(&error);

	relative->program = g_strdup("x");
	g_assert_false(vigil_rule_validate(relative, &error));
	g_assert_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE);
}

static void
test_actions(void)
{
	VigilAction action = VIGIL_ACTION_ALLOW;

	g_assert_true(vigil_action_from_string("drop", &action));
	g_assert_cmpint(action, ==, VIGIL_ACTION_DROP);
	g_assert_cmpstr(vigil_action_to_string(action), ==, "drop");
	g_assert_true(vigil_action_from_string("deny", &action));
	g_assert_cmpint(action, ==, VIGIL_ACTION_DENY);
	g_assert_false(vigil_action_from_string("reject", &action));
	g_assert_false(vigil_action_from_string(NULL, &action));
	g_assert_cmpint(action, ==, VIGIL_ACTION_DENY);
}

/* mutated lines must either fail with a rule error or parse into a rule that round-trips */
static void
test_mutations(void)
{
	static const char alphabet[] = " \t\"\\#*./:-,0123456789abcdefxyz\x01\xc3\xa9";

	for (guint n = 0; n < 20000; n++) {
		const char *base =
		    round_trip_lines[g_test_rand_int_range(0, G_N_ELEMENTS(round_trip_lines))];
		g_autoptr(GString) line = g_string_new(base);
		guint edits = (guint)g_test_rand_int_range(1, 4);
		g_autoptr(GError) error = NULL;
		g_autoptr(VigilRule) rule = NULL;

		for (guint e = 0; e < edits; e++) {
			gsize pos = (gsize)g_test_rand_int_range(0, (gint)line->len + 1);
			char c = alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)];

			if (g_test_rand_bit() && pos < line->len)
				g_string_erase(line, (gssize)pos, 1);
			else
				g_string_insert_c(line, (gssize)pos, c);
		}
		rule = vigil_rule_parse_line(line->str, resolve_test_user, &error);
		if (rule != NULL) {
			g_autofree char *text = vigil_rule_to_string(rule, TRUE);
			g_autoptr(VigilRule) back = parse_ok(text);

			g_assert_no_error(error);
			if (!vigil_rule_equal(rule, back, TRUE))
				g_test_message("'%s' -> '%s'", line->str, text);
			g_assert_true(vigil_rule_equal(rule, back, TRUE));
		} else if (error != NULL) {
			g_assert_true(error->domain == VIGIL_RULE_ERROR);
			g_assert_cmpstr(error->message, !=, "");
		}
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/rule/design-examples", test_design_examples);
	g_test_add_func("/rule/user-name-kept", test_user_name_kept);
	g_test_add_func("/rule/blank-and-comments", test_blank_and_comments);
	g_test_add_func("/rule/quotes-and-comments", test_quotes_and_comments);
	g_test_add_func("/rule/control-characters", test_control_characters);
	g_test_add_func("/rule/set-target", test_set_target);
	g_test_add_func("/rule/canonical-form", test_canonical_form);
	g_test_add_func("/rule/round-trip", test_round_trip);
	g_test_add_func("/rule/state", test_state);
	g_test_add_func("/rule/errors", test_errors);
	g_test_add_func("/rule/limits", test_limits);
	g_test_add_func("/rule/user-resolution", test_user_resolution);
	g_test_add_func("/rule/expiry", test_expiry);
	g_test_add_func("/rule/copy-and-ref", test_copy_and_ref);
	g_test_add_func("/rule/validate", test_validate);
	g_test_add_func("/rule/actions", test_actions);
	g_test_add_func("/rule/mutations", test_mutations);
	return g_test_run();
}
