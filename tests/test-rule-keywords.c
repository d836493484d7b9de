/* test-rule-keywords.c: every rule keyword through text, rule, D-Bus dictionary and back */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "vigil-dbus-rules.h"
#include "vigil-dbus.h"
#include "vigil-process.h"
#include "vigil-rule.h"
#include "vigilctl-rule-text.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* a canonical line for each keyword (the until-quit one is made for this process) */
static const char *const lines[] = {
    "allow user 1000",
    "allow user 0 app \"/opt/My App/bin/app\"",
    "allow app /usr/bin/curl sha256 " SHA,
    "allow app /usr/bin/python3 args \"*-m http.server*\"",
    "allow appid org.example.App",
    "allow to *.example.org",
    "deny to 10.0.0.0/8",
    "deny to fd00::1",
    "allow to example.org port 80,443,8000-8080 proto tcp",
    "allow proto udplite",
    "drop proto icmp",
    "allow until 2099-01-01T00:00:00Z",
    "deny disabled",
    "allow app /usr/bin/curl to example.org port 80 capture disabled",
    "deny note \"a \\\"quoted\\\" note # not a comment\"",
    "allow port 53 id 7 created 2026-01-02T03:04:05Z hits 12 last-hit 2026-02-03T04:05:06Z",
};

/* what a client sends back of a GetRules() dictionary: the writable keys, uid or user */
static GVariant *
writable_part(GVariant *dict)
{
	GVariantBuilder b;
	GVariantIter iter;
	const char *key;
	GVariant *value;
	gboolean has_uid = g_variant_lookup_value(dict, VIGIL_RULE_KEY_UID, NULL) != NULL;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		const char *const skip[] = {VIGIL_RULE_KEY_ID,
		                            VIGIL_RULE_KEY_CREATED,
		                            VIGIL_RULE_KEY_HITS,
		                            VIGIL_RULE_KEY_LAST_HIT,
		                            VIGIL_RULE_KEY_SYSTEM,
		                            VIGIL_RULE_KEY_TEXT,
		                            NULL};

		if (!g_strv_contains(skip, key) &&
		    !(has_uid && g_str_equal(key, VIGIL_RULE_KEY_USER)))
			g_variant_builder_add(&b, "{sv}", key, value);
		g_variant_unref(value);
	}
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* text -> rule -> dictionary -> rule -> text, and the dictionary as vigilctl writes it */
static void
round_trip(const char *line, guint *seen)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule = vigil_rule_parse_line(line, NULL, &error);
	g_autofree char *text = NULL;
	g_autofree char *plain = NULL;
	g_autofree char *back_text = NULL;
	g_autofree char *ctl_text = NULL;
	g_autoptr(GVariant) dict = NULL;
	g_autoptr(GVariant) writable = NULL;
	g_autoptr(VigilRule) back = NULL;
	VigilRuleLookups lookups;

	g_test_message("%s", line);
	g_assert_no_error(error);
	g_assert_nonnull(rule);
	text = vigil_rule_to_string(rule, TRUE);
	g_assert_cmpstr(text, ==, line);
	plain = vigil_rule_to_string(rule, FALSE);

	/* each keyword of the line is under its D-Bus key, of its type */
	dict = g_variant_ref_sink(vigil_rule_to_dict(rule));
	for (guint id = 0; id < VIGIL_RULE_N_KEYWORDS; id++) {
		const VigilRuleKeyword *kw = vigil_rule_keyword(id);
		g_autofree char *value = vigil_rule_format_keyword(rule, id);
		g_autoptr(GVariant) in_dict = NULL;

		if (value == NULL)
			continue;
		seen[id]++;
		in_dict = g_variant_lookup_value(dict, kw->dbus_key, G_VARIANT_TYPE(kw->dbus_type));
		g_assert_nonnull(in_dict);
		/* a user is a name there (and a uid beside it) */
		if (id == VIGIL_RULE_KW_USER) {
			guint32 uid = G_MAXUINT32;

			g_assert_true(g_variant_lookup(dict, VIGIL_RULE_KEY_UID, "u", &uid));
			g_assert_cmpuint(uid, ==, rule->uid);
		} else if (g_str_equal(kw->dbus_type, "s")) {
			g_assert_cmpstr(g_variant_get_string(in_dict, NULL), ==, value);
		}
	}

	/* back through AddRule's reading of a dictionary */
	writable = writable_part(dict);
	back = vigil_rule_from_dict(writable, 0, &lookups, &error);
	g_assert_no_error(error);
	g_assert_nonnull(back);
	g_assert_true(vigil_rule_check_process(back, &lookups, "/proc", &error));
	g_assert_no_error(error);
	back_text = vigil_rule_to_string(back, FALSE);
	g_assert_cmpstr(back_text, ==, plain);

	/* vigilctl writes a dictionary as vigild writes the rule (until-quit without the
	 * start time, which the dictionary does not have) */
	ctl_text = vigilctl_rule_dict_to_text(dict);
	if (rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT) {
		g_autofree char *pid_only = g_strdup_printf("until-quit %u", rule->pid);
		const char *colon = strchr(plain, ':');

		g_assert_nonnull(colon);
		g_assert_true(g_str_has_prefix(ctl_text, "allow "));
		g_assert_nonnull(strstr(ctl_text, pid_only));
	} else {
		g_assert_cmpstr(ctl_text, ==, plain);
	}
}

static void
test_round_trip_every_keyword(void)
{
	guint seen[VIGIL_RULE_N_KEYWORDS] = {0};
	VigilProcessStamp stamp;
	g_autofree char *until_quit = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(lines); i++)
		round_trip(lines[i], seen);
	g_assert_true(vigil_process_read_stamp("/proc", (guint32)getpid(), &stamp));
	until_quit = g_strdup_printf("allow until-quit %u:%" G_GUINT64_FORMAT, (guint)getpid(),
	                             stamp.start_time);
	round_trip(until_quit, seen);
	/* a keyword added to the table needs a line here */
	for (guint id = 0; id < VIGIL_RULE_N_KEYWORDS; id++) {
		g_test_message("keyword %s", vigil_rule_keyword(id)->name);
		g_assert_cmpuint(seen[id], >, 0);
	}
}

/* the state is read-only over D-Bus: AddRule refuses it, naming the key */
static void
test_state_keys_read_only(void)
{
	for (guint id = 0; id < VIGIL_RULE_N_KEYWORDS; id++) {
		const VigilRuleKeyword *kw = vigil_rule_keyword(id);
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) dict = NULL;
		g_autoptr(VigilRule) rule = NULL;
		g_autofree char *text = NULL;
		GVariantBuilder b;
		VigilRuleLookups lookups;

		if (!kw->state)
			continue;
		g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_ACTION,
		                      g_variant_new_string("deny"));
		g_variant_builder_add(&b, "{sv}", kw->dbus_key,
		                      g_variant_new_from_data(G_VARIANT_TYPE(kw->dbus_type),
		                                              "\1\0\0\0\0\0\0\0", 8, TRUE, NULL,
		                                              NULL));
		dict = g_variant_ref_sink(g_variant_builder_end(&b));
		rule = vigil_rule_from_dict(dict, 0, &lookups, &error);
		g_assert_null(rule);
		g_assert_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT);
		text = g_strdup_printf("%s is read-only", kw->dbus_key);
		g_assert_nonnull(strstr(error->message, text));
	}
}

/* a value with a control character: vigilctl quotes it as vigild does, \xHH */
static void
test_control_characters_quoted_alike(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule =
	    vigil_rule_parse_line("deny note \"tab\\x09and\\x0anewline\"", NULL, &error);
	g_autoptr(GVariant) dict = NULL;
	g_autofree char *text = NULL;
	g_autofree char *ctl_text = NULL;
	g_auto(GStrv) words = NULL;

	g_assert_no_error(error);
	dict = g_variant_ref_sink(vigil_rule_to_dict(rule));
	text = vigil_rule_to_string(rule, FALSE);
	ctl_text = vigilctl_rule_dict_to_text(dict);
	g_assert_cmpstr(ctl_text, ==, text);
	g_assert_cmpstr(text, ==, "deny note \"tab\\x09and\\x0anewline\"");
	words = vigilctl_rule_text_split(ctl_text, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(words[2], ==, "tab\tand\nnewline");
}

/* one list of protocol names for rules and flows */
static void
test_protocol_names(void)
{
	const char *names[] = {"tcp", "udp", "udplite", "sctp", "icmp"};
	char buf[16];
	guint8 proto;

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_assert_true(vigil_rule_proto_from_string(names[i], &proto));
		g_assert_cmpstr(vigil_rule_proto_to_string(proto), ==, names[i]);
		g_assert_cmpstr(vigil_protocol_name(proto, buf, sizeof buf), ==, names[i]);
		g_assert_nonnull(strstr(vigil_rule_proto_names(), names[i]));
	}
	/* a rule's icmp covers ICMPv6; a flow names it */
	g_assert_true(vigil_rule_proto_from_string("icmpv6", &proto));
	g_assert_cmpuint(proto, ==, IPPROTO_ICMP);
	g_assert_cmpstr(vigil_protocol_name(IPPROTO_ICMPV6, buf, sizeof buf), ==, "icmpv6");
	g_assert_true(vigil_rule_proto_from_string("any", &proto));
	g_assert_cmpuint(proto, ==, 0);
	g_assert_false(vigil_rule_proto_from_string("gre", &proto));
	g_assert_cmpstr(vigil_protocol_name(47, buf, sizeof buf), ==, "proto-47");
	g_assert_cmpstr(vigil_rule_proto_names(), ==, "tcp, udp, udplite, sctp, icmp");
}

/* the table the UIs list (the tray's rule dialog): every rule protocol, each with a label */
static void
test_protocol_table(void)
{
	gsize n = 0;
	const VigilProtocol *protocols = vigil_protocols(&n);
	g_autoptr(GPtrArray) in_rules = g_ptr_array_new();
	guint8 proto;

	for (gsize i = 0; i < n; i++) {
		g_assert_nonnull(protocols[i].label);
		g_assert_cmpstr(vigil_protocol_to_string(protocols[i].number), ==,
		                protocols[i].name);
		g_assert_true(vigil_rule_proto_from_string(protocols[i].name, &proto));
		if (!protocols[i].in_rules)
			continue;
		g_assert_cmpstr(vigil_rule_proto_to_string(proto), ==, protocols[i].name);
		g_ptr_array_add(in_rules, (gpointer)protocols[i].name);
	}
	g_ptr_array_add(in_rules, NULL);
	g_assert_cmpstrv((const char *const *)in_rules->pdata,
	                 ((const char *const[]){"tcp", "udp", "udplite", "sctp", "icmp", NULL}));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rule-keywords/round-trip", test_round_trip_every_keyword);
	g_test_add_func("/rule-keywords/state-read-only", test_state_keys_read_only);
	g_test_add_func("/rule-keywords/control-characters", test_control_characters_quoted_alike);
	g_test_add_func("/rule-keywords/protocol-names", test_protocol_names);
	g_test_add_func("/rule-keywords/protocol-table", test_protocol_table);
	return g_test_run();
}
