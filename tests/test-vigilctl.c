/* test-vigilctl.c: vigilctl without vigild: arguments, output, rule text, answers, exit codes */
#define G_LOG_DOMAIN "vigil-test-vigilctl"
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-rule-syntax.h" /* vigil_rule_quote */
#include "vigil-settings.h"
#include "vigilctl-answer.h"
#include "vigilctl-output.h"
#include "vigilctl-rule-text.h"
#include "vigilctl.h"

/* a{sv} from GVariant text format, e.g. "{'program': <'/usr/bin/curl'>}" */
static GVariant *
dict(const char *text)
{
	g_autoptr(GError) error = NULL;
	GVariant *value = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

	g_assert_no_error(error);
	return g_variant_ref_sink(value);
}

static GVariant *
parse(const char *type, const char *text)
{
	g_autoptr(GError) error = NULL;
	GVariant *value = g_variant_parse(G_VARIANT_TYPE(type), text, NULL, NULL, &error);

	g_assert_no_error(error);
	return g_variant_ref_sink(value);
}

static GVariant *
curl_connection(void)
{
	return dict("{'program': <'/usr/bin/curl'>, 'name': <'curl'>, 'pid': <uint32 4242>, "
	            "'uid': <uint32 1000>, 'user': <'alice'>, 'protocol': <'tcp'>, "
	            "'destination': <'93.184.215.14'>, 'hostname': <'www.example.org'>, "
	            "'port': <uint16 443>, 'service': <'https'>, 'time': <int64 1714564800000000>, "
	            "'cmdline': <'curl https://www.example.org/'>, "
	            "'parents': <['4200 /usr/bin/bash', '1 /sbin/init']>, "
	            "'timeout': <uint32 30>, 'host-target': <'www.example.org'>, "
	            "'domain-target': <'*.example.org'>}");
}

/* ---- JSON ---- */

static void
test_json_string_escapes(void)
{
	g_autoptr(GString) out = g_string_new(NULL);

	vigilctl_json_append_string(out, "say \"hi\"\\ \n\t\x01\x1b é");
	g_assert_cmpstr(out->str, ==, "\"say \\\"hi\\\"\\\\ \\n\\t\\u0001\\u001b é\"");
	g_string_truncate(out, 0);
	/* never invalid UTF-8 in the output, whatever comes in */
	vigilctl_json_append_string(out, "a\xff"
	                                 "b");
	g_assert_true(g_utf8_validate(out->str, -1, NULL));
	g_assert_true(g_str_has_prefix(out->str, "\"a"));
	g_assert_true(g_str_has_suffix(out->str, "b\""));
}

static void
test_json_variant_types(void)
{
	g_autoptr(GVariant) value =
	    dict("{'id': <uint64 18446744073709551615>, 'ok': <true>, 'n': <int32 -5>, "
	         "'port': <uint16 443>, 'type': <byte 8>, 'since': <int64 -1>, "
	         "'parents': <['1 /sbin/init']>, 'stats': <{'queued': uint64 3}>, "
	         "'pair': <(1, 'x')>, 'ratio': <1.5>, 'empty': <@as []>}");
	g_autofree char *json = vigilctl_json_from_variant(value);

	g_assert_cmpstr(json, ==,
	                "{\"id\":18446744073709551615,\"ok\":true,\"n\":-5,\"port\":443,"
	                "\"type\":8,\"since\":-1,\"parents\":[\"1 /sbin/init\"],"
	                "\"stats\":{\"queued\":3},\"pair\":[1,\"x\"],\"ratio\":1.5,\"empty\":[]}");
}

static void
test_json_list_of_rules(void)
{
	g_autoptr(GVariant) rules = parse(
	    "a(ta{sv})", "[(uint64 3, {'action': <'deny'>, 'text': <'deny app /usr/bin/curl'>})]");
	g_autoptr(GVariant) list = g_variant_ref_sink(vigilctl_rules_json_variant(rules));
	g_autofree char *json = vigilctl_json_from_variant(list);

	/* scripts get each rule with its id, as a list of objects */
	g_assert_cmpstr(json, ==,
	                "[{\"action\":\"deny\",\"text\":\"deny app /usr/bin/curl\",\"id\":3}]");
}

/* ---- terminal output ---- */

static void
test_sanitize(void)
{
	g_autofree char *escape = vigilctl_sanitize("/tmp/\x1b[2Jevil\rprogram");
	g_autofree char *bidi = vigilctl_sanitize("/tmp/gpj.\xe2\x80\xae"
	                                          "exe");
	g_autofree char *plain = vigilctl_sanitize("/usr/bin/curl é 例");
	g_autofree char *c1 = vigilctl_sanitize("a\xc2\x9b"
	                                        "b");

	g_assert_cmpstr(escape, ==, "/tmp/\\x1b[2Jevil\\x0dprogram");
	g_assert_cmpstr(bidi, ==, "/tmp/gpj.\\u202eexe");
	g_assert_cmpstr(plain, ==, "/usr/bin/curl é 例");
	g_assert_cmpstr(c1, ==, "a\\x9bb");
}

static void
test_table(void)
{
	g_autoptr(VigilctlTable) table = vigilctl_table_new(3, "ID", "NAME", "NOTE");
	g_autofree char *text = NULL;

	vigilctl_table_align_right(table, 0);
	vigilctl_table_add_row(table, "7", "curl", "é");
	vigilctl_table_add_row(table, "1234", "x", NULL);
	g_assert_cmpuint(vigilctl_table_n_rows(table), ==, 2);
	text = vigilctl_table_render(table);
	g_assert_cmpstr(text, ==,
	                "  ID  NAME  NOTE\n"
	                "   7  curl  é\n"
	                "1234  x\n");
}

static void
test_format_connection(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	g_autoptr(GVariant) icmp =
	    dict("{'uid': <uint32 0>, 'protocol': <'icmp'>, 'destination': <'192.0.2.1'>, "
	         "'icmp-type': <byte 8>}");
	g_autofree char *destination = vigilctl_format_destination(conn);
	g_autofree char *port = vigilctl_format_port(conn);
	g_autofree char *user = vigilctl_format_user(conn);
	g_autofree char *icmp_port = vigilctl_format_port(icmp);
	g_autofree char *icmp_destination = vigilctl_format_destination(icmp);
	g_autofree char *icmp_user = vigilctl_format_user(icmp);
	g_autofree char *icmp_program = vigilctl_format_program(icmp);

	g_assert_cmpstr(destination, ==, "www.example.org (93.184.215.14)");
	g_assert_cmpstr(port, ==, "443 (https)");
	g_assert_cmpstr(user, ==, "alice (1000)");
	g_assert_cmpstr(icmp_port, ==, "type 8");
	g_assert_cmpstr(icmp_destination, ==, "192.0.2.1");
	g_assert_cmpstr(icmp_user, ==, "0");
	g_assert_cmpstr(icmp_program, ==, "unknown");
}

static void
test_time_format(void)
{
	g_autofree char *never = vigilctl_format_time_s(0);
	g_autofree char *utc = NULL;

	g_assert_cmpstr(never, ==, "never");
	g_setenv("TZ", "UTC", TRUE);
	utc =
	    vigilctl_format_time_us(G_GINT64_CONSTANT(1714564800) * G_USEC_PER_SEC + 999999, TRUE);
	g_assert_cmpstr(utc, ==, "2024-05-01 12:00:00");
	g_unsetenv("TZ");
}

/* ---- arguments ---- */

static void
test_parse_duration(void)
{
	static const struct {
		const char *text;
		gint64 seconds; /* -1: invalid */
	} cases[] = {
	    {"30s", 30},     {"10m", 600},
	    {"2h", 7200},    {"1d", 86400},
	    {"1h30m", 5400}, {"90", 90},
	    {"1w", 604800},  {"", -1},
	    {"h", -1},       {"10x", -1},
	    {"1h30", -1},    {"-5m", -1},
	    {"5 m", -1},     {"99999999999999999999s", -1},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		gint64 seconds = 0;
		gboolean ok = vigilctl_parse_duration(cases[i].text, &seconds, &error);

		if (cases[i].seconds < 0) {
			g_assert_false(ok);
			g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
		} else {
			g_assert_no_error(error);
			g_assert_cmpint(seconds, ==, cases[i].seconds);
		}
	}
}

static void
test_parse_since(void)
{
	const gint64 now = G_GINT64_CONSTANT(1714564800) * G_USEC_PER_SEC; /* 2024-05-01 12:00Z */
	g_autoptr(GError) error = NULL;
	gint64 since = 0;

	g_assert_true(vigilctl_parse_since("10m", now, &since, &error));
	g_assert_cmpint(since, ==, now - (gint64)600 * G_USEC_PER_SEC);
	g_assert_true(vigilctl_parse_since("2024-05-01T11:00:00Z", now, &since, &error));
	g_assert_cmpint(since, ==, now - (gint64)3600 * G_USEC_PER_SEC);
	g_assert_true(vigilctl_parse_since("2024-05-01T13:00:00+02:00", now, &since, &error));
	g_assert_cmpint(since, ==, now - (gint64)3600 * G_USEC_PER_SEC);
	g_assert_no_error(error);

	/* times without a zone are local: pin the zone */
	g_setenv("TZ", "UTC", TRUE);
	g_assert_true(vigilctl_parse_since("2024-05-01 11:30", now, &since, &error));
	g_assert_cmpint(since, ==, now - (gint64)1800 * G_USEC_PER_SEC);
	g_assert_true(vigilctl_parse_since("2024-05-01", now, &since, &error));
	g_assert_cmpint(since, ==, now - (gint64)12 * 3600 * G_USEC_PER_SEC);
	g_assert_true(vigilctl_parse_since("11:59", now, &since, &error));
	g_assert_cmpint(since, ==, now - (gint64)60 * G_USEC_PER_SEC);
	g_assert_no_error(error);
	g_unsetenv("TZ");

	g_assert_false(vigilctl_parse_since("yesterday", now, &since, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
	g_clear_error(&error);
	g_assert_false(vigilctl_parse_since("2024-13-01", now, &since, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
}

static void
test_parse_id_and_verdict(void)
{
	g_autoptr(GError) error = NULL;
	guint64 id = 0;

	g_assert_true(vigilctl_parse_id("1000000001", &id, &error));
	g_assert_cmpuint(id, ==, 1000000001);
	g_assert_false(vigilctl_parse_id("0", &id, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
	g_clear_error(&error);
	g_assert_false(vigilctl_parse_id("12abc", &id, &error));
	g_clear_error(&error);
	g_assert_false(vigilctl_parse_id("-1", &id, &error));
	g_clear_error(&error);
	g_assert_true(vigilctl_parse_verdict("drop", &error));
	g_assert_false(vigilctl_parse_verdict("reject", &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
}

static void
test_config_settings(void)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) changes = NULL;
	g_autoptr(GError) error = NULL;
	const char *bad[] = {"default-action=drop", "prompt-timeout=0", "prompt-timeout=2h",
	                     "fail-mode=half",      "colour=red",       "default-action"};
	guint32 timeout = 0;
	const char *action = NULL;

	g_assert_true(vigilctl_config_parse_setting("default-action=deny", &builder, &error));
	g_assert_true(vigilctl_config_parse_setting("PromptTimeout=2m", &builder, &error));
	g_assert_true(vigilctl_config_parse_setting("fail-mode=closed", &builder, &error));
	g_assert_no_error(error);
	changes = g_variant_ref_sink(g_variant_builder_end(&builder));
	g_assert_true(g_variant_lookup(changes, VIGIL_CONFIG_KEY_DEFAULT_ACTION, "&s", &action));
	g_assert_cmpstr(action, ==, "deny");
	g_assert_true(g_variant_lookup(changes, VIGIL_CONFIG_KEY_PROMPT_TIMEOUT, "u", &timeout));
	g_assert_cmpuint(timeout, ==, 120);
	g_assert_true(g_variant_lookup(changes, VIGIL_CONFIG_KEY_FAIL_MODE, "&s", &action));
	g_assert_cmpstr(action, ==, "closed");

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_auto(GVariantBuilder) other = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

		g_assert_false(vigilctl_config_parse_setting(bad[i], &other, &error));
		g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
		g_clear_error(&error);
	}
}

/* vigilctl config refuses what vigild refuses (one check, vigil_setting_apply()) */
static void
test_config_settings_agree(void)
{
	const char *values[] = {"allow", "deny", "drop", "open", "closed", "half", "0",
	                        "1",     "30",   "3600", "3601", "-1",     "",     "0x10"};
	const char *keys[] = {"default-action", "prompt-timeout", "fail-mode"};
	const char *settings[] = {VIGIL_CONFIG_KEY_DEFAULT_ACTION, VIGIL_CONFIG_KEY_PROMPT_TIMEOUT,
	                          VIGIL_CONFIG_KEY_FAIL_MODE};

	for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
		for (guint v = 0; v < G_N_ELEMENTS(values); v++) {
			g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
			g_auto(VigilConfig) config = {0};
			g_autofree char *text = g_strdup_printf("%s=%s", keys[k], values[v]);
			gboolean daemon_ok = FALSE;

			vigil_config_init_defaults(&config);
			daemon_ok = vigil_setting_apply(&config, vigil_setting_lookup(settings[k]),
			                                values[v], NULL);
			/* vigilctl reads "0x10" as no duration; vigild.conf takes hex numbers */
			if (g_str_equal(values[v], "0x10") && k == 1)
				continue;
			g_assert_cmpint(vigilctl_config_parse_setting(text, &b, NULL), ==,
			                daemon_ok);
		}
	}
}

/* ---- rule text ---- */

static void
test_rule_text_split(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) words = vigilctl_rule_text_split(
	    "allow app \"/opt/My App/bin/app\" note \"a \\\"b\\\" \\\\c\" # comment", &error);
	g_auto(GStrv) blank = vigilctl_rule_text_split("   # only a comment", &error);
	g_auto(GStrv) unbalanced = NULL;
	const char *expected[] = {"allow", "app",         "/opt/My App/bin/app",
	                          "note",  "a \"b\" \\c", NULL};

	g_assert_no_error(error);
	g_assert_cmpstrv(words, expected);
	g_assert_nonnull(blank);
	g_assert_null(blank[0]);
	unbalanced = vigilctl_rule_text_split("deny app \"/usr/bin/curl", &error);
	g_assert_null(unbalanced);
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
}

static void
test_rule_text_quote_join(void)
{
	const char *words[] = {"allow", "app",           "/opt/My App/bin/app",
	                       "note",  "say \"hi\" #1", NULL};
	g_autofree char *line = vigilctl_rule_text_join(words);
	g_autofree char *empty = vigil_rule_quote("");
	g_autofree char *plain = vigil_rule_quote("/usr/bin/curl");
	g_auto(GStrv) back = NULL;

	g_assert_cmpstr(line, ==, "allow app \"/opt/My App/bin/app\" note \"say \\\"hi\\\" #1\"");
	g_assert_cmpstr(empty, ==, "\"\"");
	g_assert_cmpstr(plain, ==, "/usr/bin/curl");
	/* what join quotes, split reads back */
	back = vigilctl_rule_text_split(line, NULL);
	g_assert_cmpstrv(back, words);
}

static void
test_rule_text_lookup(void)
{
	const char *line = "deny disabled app /usr/bin/curl user 1000 note user # user 0";
	g_autofree char *user = vigilctl_rule_text_lookup(line, "user", NULL);
	g_autofree char *app = vigilctl_rule_text_lookup(line, "app", NULL);
	g_autofree char *note = vigilctl_rule_text_lookup(line, "note", NULL);
	g_autofree char *disabled = vigilctl_rule_text_lookup(line, "disabled", NULL);
	g_autofree char *to = vigilctl_rule_text_lookup(line, "to", NULL);

	g_assert_cmpstr(user, ==, "1000");
	g_assert_cmpstr(app, ==, "/usr/bin/curl");
	/* a value that looks like a keyword is a value */
	g_assert_cmpstr(note, ==, "user");
	g_assert_cmpstr(disabled, ==, "");
	g_assert_null(to);
	g_assert_false(vigilctl_rule_text_is_all_users(line));
	g_assert_true(vigilctl_rule_text_is_all_users("deny app /usr/bin/curl"));
	g_assert_true(vigilctl_rule_text_is_all_users("deny user all app /usr/bin/curl"));
	g_assert_true(vigilctl_rule_text_is_all_users("deny app /usr/bin/curl note \"user 5\""));
}

static void
test_rule_text_with_user(void)
{
	g_autoptr(GError) error = NULL;
	gboolean had_user = TRUE;
	g_autofree char *mine = vigilctl_rule_text_with_user("  deny app /usr/bin/curl port 443",
	                                                     1000, &had_user, &error);
	g_autofree char *kept = NULL;
	g_autofree char *empty = NULL;

	g_assert_no_error(error);
	g_assert_false(had_user);
	g_assert_cmpstr(mine, ==, "  deny user 1000 app /usr/bin/curl port 443");
	kept =
	    vigilctl_rule_text_with_user("allow user 0 app /usr/bin/apt", 1000, &had_user, &error);
	g_assert_true(had_user);
	g_assert_cmpstr(kept, ==, "allow user 0 app /usr/bin/apt");
	empty = vigilctl_rule_text_with_user("# nothing", 1000, NULL, &error);
	g_assert_null(empty);
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
}

static void
test_rule_dict_to_text(void)
{
	g_autoptr(GVariant) rule =
	    dict("{'id': <uint64 4>, 'action': <'allow'>, 'user': <'alice'>, 'uid': <uint32 1000>, "
	         "'program': <'/opt/My App/app'>, 'to': <'*.example.org'>, 'port': <'80,443'>, "
	         "'proto': <'tcp'>, 'lifetime': <'until'>, 'until': <int64 1798675200>, "
	         "'enabled': <false>, 'note': <'any'>}");
	g_autoptr(GVariant) all =
	    dict("{'action': <'deny'>, 'user': <'all'>, 'to': <'203.0.113.0/24'>, "
	         "'lifetime': <'forever'>, 'enabled': <true>}");
	g_autofree char *text = vigilctl_rule_dict_to_text(rule);
	g_autofree char *all_text = vigilctl_rule_dict_to_text(all);

	g_assert_cmpstr(text, ==,
	                "allow user 1000 app \"/opt/My App/app\" to *.example.org port 80,443 "
	                "proto tcp until 2026-12-31T00:00:00Z disabled note any");
	g_assert_cmpstr(all_text, ==, "deny to 203.0.113.0/24");
}

static void
test_rules_line_from_args(void)
{
	char *one[] = {"deny app /usr/bin/curl port 443", NULL};
	char *words[] = {"allow", "app", "/opt/My App/bin/app", NULL};
	g_autofree char *a = vigilctl_rules_line_from_args(1, one);
	g_autofree char *b = vigilctl_rules_line_from_args(3, words);

	g_assert_cmpstr(a, ==, "deny app /usr/bin/curl port 443");
	g_assert_cmpstr(b, ==, "allow app \"/opt/My App/bin/app\"");
}

static void
test_rules_format(void)
{
	g_autoptr(GVariant) rules =
	    parse("a(ta{sv})",
	          "[(uint64 3, {'action': <'deny'>, 'text': <'deny app /usr/bin/curl port 443'>, "
	          "'hits': <uint64 12>, 'last-hit': <int64 0>, 'system': <false>}), "
	          "(uint64 1000000001, {'action': <'allow'>, 'program': <'/usr/bin/apt-get'>, "
	          "'hits': <uint64 0>, 'system': <true>, "
	          "'origin': <'/etc/vigil/rules.d/50-local.rules:2'>})]");
	g_autoptr(GVariant) none = parse("a(ta{sv})", "@a(ta{sv}) []");
	g_autofree char *text = vigilctl_rules_format(rules);
	g_autofree char *empty = vigilctl_rules_format(none);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	g_assert_cmpuint(g_strv_length(lines), ==, 4);
	g_assert_true(g_str_has_prefix(lines[0], "        ID  SOURCE"));
	g_assert_true(g_str_has_prefix(lines[1], "         3  learned"));
	g_assert_true(g_str_has_suffix(lines[1], "never     deny app /usr/bin/curl port 443"));
	g_assert_nonnull(strstr(lines[1], " 12 "));
	/* without a text key the dictionary is written out */
	g_assert_true(g_str_has_prefix(lines[2], "1000000001  50-local.rules:2"));
	g_assert_true(g_str_has_suffix(lines[2], "allow app /usr/bin/apt-get"));
	g_assert_cmpstr(empty, ==, "No rules.\n");
}

static void
test_rules_read_import(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vigilctl-test-XXXXXX", &error);
	g_autofree char *good = g_build_filename(dir, "good.rules", NULL);
	g_autofree char *binary = g_build_filename(dir, "binary.rules", NULL);
	g_autofree char *big = g_build_filename(dir, "big.rules", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing.rules", NULL);
	g_autofree char *huge = g_malloc(VIGIL_IMPORT_MAX_BYTES + 2);
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	memset(huge, '#', VIGIL_IMPORT_MAX_BYTES + 1);
	huge[VIGIL_IMPORT_MAX_BYTES + 1] = '\0';
	g_assert_true(g_file_set_contents(good, "deny app /usr/bin/curl\n", -1, NULL));
	g_assert_true(g_file_set_contents(binary, "deny app \xff\n", -1, NULL));
	g_assert_true(g_file_set_contents(big, huge, -1, NULL));

	text = vigilctl_rules_read_import(good, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(text, ==, "deny app /usr/bin/curl\n");
	g_assert_null(vigilctl_rules_read_import(binary, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "UTF-8"));
	g_clear_error(&error);
	g_assert_null(vigilctl_rules_read_import(big, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "1 MiB"));
	g_clear_error(&error);
	g_assert_null(vigilctl_rules_read_import(missing, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "missing.rules"));

	g_unlink(good);
	g_unlink(binary);
	g_unlink(big);
	g_rmdir(dir);
}

/* ---- status, pending, log, top ---- */

static void
test_status_format(void)
{
	g_autoptr(GVariant) props =
	    dict("{'Version': <'0.1.0'>, 'Enabled': <true>, 'DefaultAction': <'deny'>, "
	         "'PromptTimeout': <uint32 30>, 'FailMode': <'open'>, 'Backend': <'iptables'>, "
	         "'Stats': <{'rules': uint64 2, 'queued': uint64 10, 'future-key': uint64 1}>}");
	g_autoptr(GVariant) perms =
	    parse("a{ss}", "{'org.vigil.firewall.read': 'yes', 'org.vigil.firewall.configure': "
	                   "'auth'}");
	g_autofree char *text = vigilctl_status_format(props, perms);
	g_autoptr(GVariant) json_value =
	    g_variant_ref_sink(vigilctl_status_json_variant(props, NULL));
	g_autofree char *json = vigilctl_json_from_variant(json_value);
	const char *queued = NULL;
	const char *rules = NULL;
	const char *future = NULL;

	g_assert_nonnull(strstr(text, "Version:         0.1.0\n"));
	g_assert_nonnull(strstr(text, "Enabled:         yes\n"));
	g_assert_nonnull(strstr(text, "Default action:  deny\n"));
	g_assert_nonnull(strstr(text, "Prompt timeout:  30 s\n"));
	g_assert_nonnull(strstr(text, "Backend:         iptables\n"));
	g_assert_nonnull(strstr(text, "configure:         after authentication\n"));
	/* known counters in reading order, then the unknown ones */
	queued = strstr(text, "queued:");
	rules = strstr(text, "rules:");
	future = strstr(text, "future-key:");
	g_assert_nonnull(queued);
	g_assert_true(queued < rules && rules < future);
	g_assert_nonnull(strstr(json, "\"default-action\":\"deny\""));
	g_assert_nonnull(strstr(json, "\"prompt-timeout\":30"));
	g_assert_nonnull(strstr(json, "\"stats\":{"));
}

static void
test_kebab_case(void)
{
	g_autofree char *a = vigilctl_kebab_case("DefaultAction");
	g_autofree char *b = vigilctl_kebab_case("Version");

	g_assert_cmpstr(a, ==, "default-action");
	g_assert_cmpstr(b, ==, "version");
}

static void
test_pending_format(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	g_autoptr(GVariant) requests = NULL;
	g_autoptr(GVariant) json_value = NULL;
	g_autofree char *text = NULL;
	g_autofree char *json = NULL;
	g_autoptr(GVariant) none = parse("a(ta{sv})", "@a(ta{sv}) []");
	g_autofree char *empty = vigilctl_pending_format(none);
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ta{sv})"));
	g_variant_builder_add(&builder, "(t@a{sv})", (guint64)7, conn);
	requests = g_variant_ref_sink(g_variant_builder_end(&builder));
	text = vigilctl_pending_format(requests);
	g_assert_nonnull(strstr(text, "REQUEST"));
	g_assert_nonnull(strstr(text, "      7  /usr/bin/curl  4242  alice (1000)  "
	                              "www.example.org (93.184.215.14)  443 (https)  tcp"));
	g_assert_nonnull(strstr(text, "30 s"));
	json_value = g_variant_ref_sink(vigilctl_pending_json_variant(requests));
	json = vigilctl_json_from_variant(json_value);
	g_assert_true(g_str_has_suffix(json, ",\"request\":7}]"));
	g_assert_cmpstr(empty, ==, "No connections are waiting for an answer.\n");
}

static GVariant *
decisions(void)
{
	return parse("aa{sv}",
	             "[{'id': <uint64 1>, 'program': <'/usr/bin/curl'>, 'name': <'curl'>, "
	             "'uid': <uint32 0>, 'verdict': <'allow'>, 'reason': <'default'>, "
	             "'destination': <'10.0.0.2'>, 'port': <uint16 80>, 'protocol': <'tcp'>, "
	             "'time': <int64 1714564800000000>}, "
	             "{'id': <uint64 2>, 'program': <'/usr/bin/wget'>, 'name': <'wget'>, "
	             "'uid': <uint32 0>, 'verdict': <'deny'>, 'reason': <'rule'>, "
	             "'rule': <uint64 5>, 'destination': <'10.0.0.2'>, 'port': <uint16 443>, "
	             "'protocol': <'tcp'>, 'time': <int64 1714564801000000>}, "
	             "{'id': <uint64 3>, 'program': <'/usr/local/bin/curl'>, 'uid': <uint32 0>, "
	             "'verdict': <'allow'>, 'reason': <'reply'>, 'rule': <uint64 9>, "
	             "'destination': <'10.0.0.3'>, 'port': <uint16 80>, 'protocol': <'tcp'>, "
	             "'time': <int64 1714564802000000>}]");
}

static void
test_log_filter(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) filter = NULL;
	g_autoptr(GVariant) by_name = NULL;
	const char *value = NULL;
	guint32 limit = 0;
	gint64 since = 0;
	gboolean history = FALSE;

	g_assert_true(vigilctl_log_build_filter("/usr/bin/curl", "deny", "10m", NULL, 5, -1,
	                                        G_GINT64_CONSTANT(1000000000000), &filter, &error));
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(filter, VIGIL_FILTER_KEY_PROGRAM, "&s", &value));
	g_assert_cmpstr(value, ==, "/usr/bin/curl");
	g_assert_true(g_variant_lookup(filter, VIGIL_FILTER_KEY_VERDICT, "&s", &value));
	g_assert_cmpstr(value, ==, "deny");
	g_assert_true(g_variant_lookup(filter, VIGIL_FILTER_KEY_LIMIT, "u", &limit));
	g_assert_cmpuint(limit, ==, 5);
	g_assert_true(g_variant_lookup(filter, VIGIL_FILTER_KEY_SINCE, "x", &since));
	g_assert_cmpint(since, ==, G_GINT64_CONSTANT(1000000000000) - 600 * G_USEC_PER_SEC);
	g_assert_false(g_variant_lookup(filter, VIGIL_FILTER_KEY_UID, "u", &limit));
	/* a time range reads the history on disk */
	g_assert_true(g_variant_lookup(filter, VIGIL_FILTER_KEY_HISTORY, "b", &history));
	g_assert_true(history);

	/* a name is matched by vigilctl, so vigild must not cut the list short */
	g_assert_true(
	    vigilctl_log_build_filter("curl", NULL, NULL, NULL, 5, 1000, 0, &by_name, &error));
	g_assert_false(g_variant_lookup(by_name, VIGIL_FILTER_KEY_PROGRAM, "&s", &value));
	g_assert_false(g_variant_lookup(by_name, VIGIL_FILTER_KEY_LIMIT, "u", &limit));
	g_assert_false(g_variant_lookup(by_name, VIGIL_FILTER_KEY_HISTORY, "b", &history));
	g_assert_true(g_variant_lookup(by_name, VIGIL_FILTER_KEY_UID, "u", &limit));
	g_assert_cmpuint(limit, ==, 1000);

	g_assert_false(
	    vigilctl_log_build_filter(NULL, "reject", NULL, NULL, 0, -1, 0, &by_name, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
}

static void
test_log_select_and_format(void)
{
	g_autoptr(GVariant) all = decisions();
	g_autoptr(GVariant) curl = vigilctl_log_select(all, "curl", 0);
	g_autoptr(GVariant) last = vigilctl_log_select(all, "curl", 1);
	g_autoptr(GVariant) everything = vigilctl_log_select(all, NULL, 0);
	g_autoptr(GVariant) first = g_variant_get_child_value(all, 0);
	g_autoptr(GVariant) second = g_variant_get_child_value(all, 1);
	g_autoptr(GVariant) none = parse("aa{sv}", "@aa{sv} []");
	g_autofree char *table = NULL;
	g_autofree char *line = NULL;
	g_autofree char *empty = vigilctl_log_format(none);
	guint64 id = 0;

	/* by name: both curls (one found by its path's base name), not wget */
	g_assert_cmpuint(g_variant_n_children(curl), ==, 2);
	g_assert_cmpuint(g_variant_n_children(last), ==, 1);
	{
		g_autoptr(GVariant) only = g_variant_get_child_value(last, 0);

		g_assert_true(g_variant_lookup(only, VIGIL_CONN_KEY_ID, "t", &id));
		g_assert_cmpuint(id, ==, 3);
	}
	g_assert_cmpuint(g_variant_n_children(everything), ==, 3);
	g_assert_true(vigilctl_log_program_matches(first, "/anything/else"));

	g_setenv("TZ", "UTC", TRUE);
	table = vigilctl_log_format(all);
	line = vigilctl_log_format_line(second);
	g_unsetenv("TZ");
	g_assert_nonnull(strstr(table, "2024-05-01 12:00:01  deny"));
	g_assert_nonnull(strstr(table, "rule 5"));
	g_assert_nonnull(strstr(table, "reply (rule 9)"));
	g_assert_cmpstr(line, ==, "12:00:01 deny  /usr/bin/wget 0 -> 10.0.0.2 443 tcp: rule 5");
	g_assert_cmpstr(empty, ==, "No decisions.\n");
}

static void
test_top_rank(void)
{
	g_autoptr(GVariant) stats =
	    parse("a(sa{sv})",
	          "[('/usr/bin/quiet', {'connections': <uint64 2>, 'destinations': <uint32 2>, "
	          "'allowed': <uint64 2>, 'denied': <uint64 0>, 'last-seen': <int64 0>}), "
	          "('/usr/bin/chatty', {'connections': <uint64 50>, 'destinations': <uint32 1>, "
	          "'allowed': <uint64 40>, 'denied': <uint64 10>, 'last-seen': <int64 0>}), "
	          "('/usr/bin/wide', {'connections': <uint64 2>, 'destinations': <uint32 9>, "
	          "'allowed': <uint64 2>, 'denied': <uint64 0>, 'last-seen': <int64 0>})]");
	g_autoptr(GPtrArray) by_connections = vigilctl_top_rank(stats, 0, 0);
	g_autoptr(GPtrArray) by_destinations = NULL;
	g_autoptr(GPtrArray) first_only = vigilctl_top_rank(stats, 0, 1);
	g_autofree char *text = vigilctl_top_format(by_connections);
	g_autofree char *dest_text = NULL;
	g_autoptr(GError) error = NULL;
	int key = -1;

	/* chattiest first; a tie in connections goes to the one with more destinations */
	g_assert_true(strstr(text, "/usr/bin/chatty") < strstr(text, "/usr/bin/wide"));
	g_assert_true(strstr(text, "/usr/bin/wide") < strstr(text, "/usr/bin/quiet"));
	g_assert_cmpuint(first_only->len, ==, 1);
	g_assert_true(vigilctl_top_parse_sort("destinations", &key, &error));
	by_destinations = vigilctl_top_rank(stats, key, 0);
	dest_text = vigilctl_top_format(by_destinations);
	g_assert_true(strstr(dest_text, "/usr/bin/wide") < strstr(dest_text, "/usr/bin/quiet"));
	g_assert_true(strstr(dest_text, "/usr/bin/quiet") < strstr(dest_text, "/usr/bin/chatty"));
	g_assert_false(vigilctl_top_parse_sort("name", &key, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
}

/* from the history: ranked by bytes, with a column for each direction */
static void
test_top_bytes(void)
{
	g_autoptr(GVariant) stats =
	    parse("a(sa{sv})",
	          "[('/usr/bin/chatty', {'connections': <uint64 50>, 'destinations': <uint32 1>, "
	          "'allowed': <uint64 50>, 'denied': <uint64 0>, 'last-seen': <int64 0>, "
	          "'bytes-in': <uint64 2048>, 'bytes-out': <uint64 100>}), "
	          "('/usr/bin/big', {'connections': <uint64 1>, 'destinations': <uint32 1>, "
	          "'allowed': <uint64 1>, 'denied': <uint64 0>, 'last-seen': <int64 0>, "
	          "'bytes-in': <uint64 1048576>, 'bytes-out': <uint64 300>})]");
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GVariant) options = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	const char *sort = NULL;
	guint32 limit = 0;
	int key = -1;

	g_assert_true(vigilctl_top_parse_sort("bytes", &key, &error));
	rows = vigilctl_top_rank(stats, key, 0);
	text = vigilctl_top_format(rows);
	g_assert_true(strstr(text, "/usr/bin/big") < strstr(text, "/usr/bin/chatty"));
	g_assert_nonnull(strstr(text, "BYTES IN"));
	g_assert_nonnull(strstr(text, "1.0 MiB"));
	g_assert_true(
	    vigilctl_top_build_options("2d", NULL, key, 5, -1, 1000000000000000, &options, &error));
	g_assert_true(g_variant_lookup(options, "sort", "&s", &sort));
	g_assert_cmpstr(sort, ==, "bytes");
	g_assert_true(g_variant_lookup(options, "limit", "u", &limit));
	g_assert_cmpuint(limit, ==, 5);
	g_clear_pointer(&options, g_variant_unref);
	g_assert_false(
	    vigilctl_top_build_options("yesterday-ish", NULL, key, 0, -1, 0, &options, &error));
	g_assert_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE);
}

/* CSV: a header line, RFC 4180 quoting of paths with commas, quotes and line breaks */
static void
test_export_csv(void)
{
	g_autoptr(GVariant) conn =
	    parse("a{sv}", "{'id': <uint64 7>, 'time': <int64 1714564801000002>, "
	                   "'uid': <uint32 1000>, 'program': <'/opt/a,b \"q\"\\nx'>, "
	                   "'destination': <'10.0.0.2'>, 'port': <uint16 443>, "
	                   "'verdict': <'allow'>, 'bytes-in': <uint64 1048576>}");
	g_autofree char *header = vigil_csv_header();
	g_autofree char *row = vigil_csv_row(conn);

	g_assert_true(g_str_has_prefix(header, "id,time,uid,user,pid,program,"));
	g_assert_true(g_str_has_suffix(header, "\r\n"));
	g_assert_true(g_str_has_prefix(row, "7,2024-05-01T12:00:01.000002Z,1000,,,"
	                                    "\"/opt/a,b \"\"q\"\"\nx\",,,10.0.0.2,,443,"));
	g_assert_nonnull(strstr(row, ",allow,"));
	g_assert_nonnull(strstr(row, ",1048576,"));
}

/* CSV formula injection: a text field a spreadsheet would run as a formula gets a leading
 * apostrophe (a program path or host name is anyone's); numbers and times stay as they are */
static void
test_export_csv_no_formulas(void)
{
	g_autoptr(GVariant) conn =
	    parse("a{sv}", "{'id': <uint64 8>, 'time': <int64 1714564801000002>, "
	                   "'user': <'@SUM(1+1)'>, 'program': <'=HYPERLINK(\"http://x\",\"a\")'>, "
	                   "'protocol': <'+tcp'>, 'destination': <'-1+1'>, 'hostname': <'\\tcmd'>, "
	                   "'reason': <'\\rx'>, 'verdict': <'a=b'>, 'port': <uint16 443>}");
	g_autofree char *row = vigil_csv_row(conn);
	g_autoptr(GString) field = g_string_new(NULL);

	g_assert_cmpstr(row, ==,
	                "8,2024-05-01T12:00:01.000002Z,,'@SUM(1+1),,"
	                "\"'=HYPERLINK(\"\"http://x\"\",\"\"a\"\")\",,'+tcp,'-1+1,\"'\tcmd\",443,,"
	                "a=b,\"'\rx\",,,,,,,\r\n");
	vigil_csv_append_text(field, "");
	vigil_csv_append_text(field, "plain");
	g_assert_cmpstr(field->str, ==, "plain");
	/* a spreadsheet that splits at semicolons must not find a cell starting with "=" */
	g_string_truncate(field, 0);
	vigil_csv_append_text(field, "/tmp/a;=HYPERLINK(1)");
	g_assert_cmpstr(field->str, ==, "\"/tmp/a;=HYPERLINK(1)\"");
}

/* ---- prompt answers ---- */

static void
feed_all(VigilctlAnswer *answer, const char *const *words)
{
	for (guint i = 0; words[i] != NULL; i++)
		g_assert_true(vigilctl_answer_feed(answer, words[i]));
}

static void
test_answer_forever(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	g_autoptr(GVariant) options = NULL;
	const char *words[] = {"a", "f", "d", "a", NULL};
	VigilctlAnswer answer;
	const char *value = NULL;
	g_autofree char *described = NULL;

	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	feed_all(&answer, words);
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_DONE);
	g_assert_cmpstr(answer.verdict, ==, "allow");
	options = g_variant_ref_sink(vigilctl_answer_options(&answer));
	g_assert_true(g_variant_lookup(options, VIGIL_REPLY_KEY_DURATION, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_DURATION_FOREVER);
	g_assert_true(g_variant_lookup(options, VIGIL_REPLY_KEY_HOST_SCOPE, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_HOST_SCOPE_DOMAIN);
	g_assert_true(g_variant_lookup(options, VIGIL_REPLY_KEY_PORT_SCOPE, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_PORT_SCOPE_ANY);
	g_assert_false(g_variant_lookup(options, VIGIL_REPLY_KEY_SECONDS, "u", NULL));
	described = vigilctl_answer_describe(&answer, conn);
	g_assert_cmpstr(described, ==, "allow forever, to *.example.org, any tcp port");
}

/* the default answer chosen in vigil-tray's Preferences: Enter alone gives it, and the question
 * marks it; without a chosen one Enter is not an answer */
static void
test_answer_default_verdict(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	VigilctlAnswer answer;
	g_autofree char *question = NULL;
	g_autofree char *plain = NULL;

	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	vigilctl_answer_set_default_verdict(&answer, "deny");
	question = vigilctl_answer_question(&answer, conn);
	g_assert_cmpstr(question, ==, "Allow or deny? [a]llow, [d]eny (Enter), d[r]op, [i]nfo: ");
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	g_assert_cmpstr(answer.verdict, ==, "deny");

	/* anything but allow and deny is no default */
	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	vigilctl_answer_set_default_verdict(&answer, "drop");
	plain = vigilctl_answer_question(&answer, conn);
	g_assert_cmpstr(plain, ==, "Allow or deny? [a]llow, [d]eny, d[r]op, [i]nfo: ");
	g_assert_false(vigilctl_answer_feed(&answer, ""));
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	g_assert_cmpstr(answer.verdict, ==, "allow");
}

/* what the summary repeats of a request (a name from a DNS answer, a script from the program's
 * argv) reaches the terminal without its escape sequences */
static void
test_answer_describe_untrusted(void)
{
	g_autoptr(GVariant) conn =
	    dict("{'program': <'/usr/bin/python3'>, 'protocol': <'tcp'>, 'port': <uint16 443>, "
	         "'destination': <'93.184.215.14'>, 'host-target': <'evil\x1b]0;x\x07.example'>, "
	         "'script': <'/tmp/a\x1b[2Jb.py'>}");
	VigilctlAnswer answer;
	g_autofree char *described = NULL;

	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	answer.verdict = "allow";
	answer.duration = VIGIL_DURATION_FOREVER;
	answer.program_scope = "script";
	answer.host_scope = VIGIL_HOST_SCOPE_HOST;
	described = vigilctl_answer_describe(&answer, conn);
	g_assert_null(strchr(described, '\x1b'));
	g_assert_null(strchr(described, '\x07'));
	g_assert_nonnull(strstr(described, "evil"));
	g_assert_nonnull(strstr(described, ".py"));
}

static void
test_answer_once_and_defaults(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	g_autoptr(GVariant) once = NULL;
	g_autoptr(GVariant) timed = NULL;
	VigilctlAnswer answer;
	const char *value = NULL;
	guint32 seconds = 0;
	const char *hour[] = {"DENY", "h", "", "", NULL};

	/* a verdict has no default: Enter alone is not an answer */
	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	g_assert_false(vigilctl_answer_feed(&answer, ""));
	g_assert_false(vigilctl_answer_feed(&answer, "x"));
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_VERDICT);
	/* once: no scope questions, no rule */
	g_assert_true(vigilctl_answer_feed(&answer, "r"));
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_DONE);
	once = g_variant_ref_sink(vigilctl_answer_options(&answer));
	g_assert_cmpuint(g_variant_n_children(once), ==, 1);
	g_assert_true(g_variant_lookup(once, VIGIL_REPLY_KEY_DURATION, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_DURATION_ONCE);
	g_assert_cmpstr(answer.verdict, ==, "drop");

	/* an hour, Enter for this host and this port */
	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	feed_all(&answer, hour);
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_DONE);
	timed = g_variant_ref_sink(vigilctl_answer_options(&answer));
	g_assert_true(g_variant_lookup(timed, VIGIL_REPLY_KEY_DURATION, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_DURATION_SECONDS);
	g_assert_true(g_variant_lookup(timed, VIGIL_REPLY_KEY_SECONDS, "u", &seconds));
	g_assert_cmpuint(seconds, ==, 3600);
	g_assert_true(g_variant_lookup(timed, VIGIL_REPLY_KEY_HOST_SCOPE, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_HOST_SCOPE_HOST);
	g_assert_true(g_variant_lookup(timed, VIGIL_REPLY_KEY_PORT_SCOPE, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_PORT_SCOPE_PORT);
}

/* the user's default duration: Enter takes it, and the question marks it */
static void
test_answer_default_duration(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	g_autoptr(GVariant) options = NULL;
	VigilctlAnswer answer;
	const char *value = NULL;
	g_autofree char *question = NULL;
	g_autofree char *once_question = NULL;

	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_FOREVER);
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	question = vigilctl_answer_question(&answer, conn);
	g_assert_cmpstr(question, ==,
	                "For how long? [o]nce, until [q]uit, [5] minutes, 1 [h]our, 1 [d]ay, "
	                "[f]orever (Enter): ");
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_HOST);
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	options = g_variant_ref_sink(vigilctl_answer_options(&answer));
	g_assert_true(g_variant_lookup(options, VIGIL_REPLY_KEY_DURATION, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_DURATION_FOREVER);
	/* "o" still answers once */
	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_FOREVER);
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	g_assert_true(vigilctl_answer_feed(&answer, "o"));
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_DONE);
	/* the default once reads as before */
	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	once_question = vigilctl_answer_question(&answer, conn);
	g_assert_cmpstr(once_question, ==,
	                "For how long? [o]nce (Enter), until [q]uit, [5] minutes, 1 [h]our, "
	                "1 [d]ay, [f]orever: ");
}

/* the user's default destination (vigil-tray's Preferences): Enter takes it, the question
 * marks it; its domain only where the request has one */
static void
test_answer_default_host(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	g_autoptr(GVariant) icmp =
	    dict("{'uid': <uint32 0>, 'protocol': <'icmp'>, 'destination': <'192.0.2.1'>, "
	         "'icmp-type': <byte 8>, 'host-target': <'192.0.2.1'>, 'timeout': <uint32 30>}");
	g_autoptr(GVariant) options = NULL;
	VigilctlAnswer answer;
	const char *value = NULL;
	g_autofree char *question = NULL;
	g_autofree char *host_question = NULL;
	g_autofree char *icmp_question = NULL;

	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_FOREVER);
	vigilctl_answer_set_default_host(&answer, VIGIL_CLIENT_HOST_SCOPE_DOMAIN);
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	g_assert_true(vigilctl_answer_feed(&answer, "f"));
	question = vigilctl_answer_question(&answer, conn);
	g_assert_cmpstr(question, ==,
	                "Which destinations? [h] www.example.org, [d] *.example.org (Enter), "
	                "[a]ny host: ");
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	options = g_variant_ref_sink(vigilctl_answer_options(&answer));
	g_assert_true(g_variant_lookup(options, VIGIL_REPLY_KEY_HOST_SCOPE, "&s", &value));
	g_assert_cmpstr(value, ==, VIGIL_HOST_SCOPE_DOMAIN);
	/* "h" still answers this host; unset, Enter is this host as before */
	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_FOREVER);
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	g_assert_true(vigilctl_answer_feed(&answer, "f"));
	host_question = vigilctl_answer_question(&answer, conn);
	g_assert_cmpstr(host_question, ==,
	                "Which destinations? [h] www.example.org (Enter), [d] *.example.org, "
	                "[a]ny host: ");
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	g_assert_cmpstr(answer.host_scope, ==, VIGIL_HOST_SCOPE_HOST);
	/* no domain to default to: this host */
	vigilctl_answer_init(&answer, icmp, VIGIL_CLIENT_DURATION_FOREVER);
	vigilctl_answer_set_default_host(&answer, VIGIL_CLIENT_HOST_SCOPE_DOMAIN);
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	g_assert_true(vigilctl_answer_feed(&answer, "f"));
	icmp_question = vigilctl_answer_question(&answer, icmp);
	g_assert_cmpstr(icmp_question, ==,
	                "Which destinations? [h] 192.0.2.1 (Enter), [a]ny host: ");
	g_assert_true(vigilctl_answer_feed(&answer, ""));
	g_assert_cmpstr(answer.host_scope, ==, VIGIL_HOST_SCOPE_HOST);
	/* any host */
	vigilctl_answer_set_default_host(&answer, VIGIL_CLIENT_HOST_SCOPE_ANY);
	g_assert_cmpint(answer.default_host, ==, VIGIL_CLIENT_HOST_SCOPE_ANY);
}

static void
test_answer_no_domain_no_port(void)
{
	g_autoptr(GVariant) icmp =
	    dict("{'uid': <uint32 0>, 'protocol': <'icmp'>, 'destination': <'192.0.2.1'>, "
	         "'icmp-type': <byte 8>, 'host-target': <'192.0.2.1'>, 'timeout': <uint32 30>}");
	VigilctlAnswer answer;
	g_autofree char *question = NULL;

	vigilctl_answer_init(&answer, icmp, VIGIL_CLIENT_DURATION_ONCE);
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	g_assert_true(vigilctl_answer_feed(&answer, "q"));
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_HOST);
	question = vigilctl_answer_question(&answer, icmp);
	g_assert_null(strstr(question, "[d]"));
	/* no hostname, no domain to allow */
	g_assert_false(vigilctl_answer_feed(&answer, "d"));
	g_assert_true(vigilctl_answer_feed(&answer, "a"));
	/* ICMP has no port to ask about */
	g_assert_cmpint(answer.step, ==, VIGILCTL_STEP_DONE);
}

static void
test_prompt_format(void)
{
	g_autoptr(GVariant) conn = curl_connection();
	g_autoptr(GVariant) evil =
	    dict("{'uid': <uint32 1000>, 'program': <'/tmp/\\u001b[2Jfake'>, 'name': <'fake'>, "
	         "'protocol': <'udp'>, 'destination': <'10.0.0.1'>, 'port': <uint16 53>, "
	         "'binary-changed': <true>}");
	g_autofree char *text = vigilctl_prompt_format(7, conn, 2, 27);
	g_autofree char *evil_text = vigilctl_prompt_format(8, evil, 0, -1);
	VigilctlAnswer answer;
	g_autofree char *verdict_question = NULL;
	g_autofree char *host_question = NULL;
	const char *words[] = {"a", "f", NULL};

	g_assert_nonnull(strstr(text, "Request 7 (2 more waiting)"));
	g_assert_nonnull(strstr(text, "curl wants to connect to www.example.org (93.184.215.14), "
	                              "port 443 (https), tcp."));
	g_assert_nonnull(strstr(text, "Program:    /usr/bin/curl\n"));
	g_assert_nonnull(strstr(text, "Process:    pid 4242, user alice (1000)\n"));
	g_assert_nonnull(strstr(text, "Command:    curl https://www.example.org/\n"));
	g_assert_nonnull(strstr(text, "Parent:     4200 /usr/bin/bash\n"));
	g_assert_nonnull(strstr(text, "            1 /sbin/init\n"));
	g_assert_nonnull(strstr(text, "Time left:  27 s\n"));
	g_assert_nonnull(strstr(text, "Host name:  www.example.org\n"));
	/* a destination no DNS answer named says so rather than showing a bare address */
	g_assert_nonnull(strstr(evil_text, "Host name:  unknown (no DNS answer"));
	/* no raw escape reaches the terminal, and the changed binary is pointed out */
	g_assert_null(strchr(evil_text, '\x1b'));
	g_assert_nonnull(strstr(evil_text, "/tmp/\\x1b[2Jfake"));
	g_assert_nonnull(strstr(evil_text, "Warning:    the program changed"));
	g_assert_null(strstr(evil_text, "Time left"));

	vigilctl_answer_init(&answer, conn, VIGIL_CLIENT_DURATION_ONCE);
	verdict_question = vigilctl_answer_question(&answer, conn);
	g_assert_nonnull(strstr(verdict_question, "[a]llow"));
	g_assert_nonnull(strstr(verdict_question, "[d]eny"));
	feed_all(&answer, words);
	host_question = vigilctl_answer_question(&answer, conn);
	g_assert_nonnull(strstr(host_question, "[h] www.example.org"));
	g_assert_nonnull(strstr(host_question, "[d] *.example.org"));
}

static void
test_prompt_cancel_notify(void)
{
	g_autoptr(GVariant) blocked =
	    dict("{'uid': <uint32 1000>, 'program': <'/usr/bin/curl'>, 'verdict': <'deny'>, "
	         "'destination': <'10.0.0.2'>, 'port': <uint16 443>, 'rule': <uint64 5>}");
	g_autoptr(GVariant) message =
	    dict("{'message': <'could not save the rules'>, 'level': <'error'>}");
	g_autofree char *timeout = vigilctl_prompt_cancel_text(4, VIGIL_CANCEL_TIMEOUT);
	g_autofree char *answered = vigilctl_prompt_cancel_text(4, VIGIL_CANCEL_ANSWERED);
	g_autofree char *odd = vigilctl_prompt_cancel_text(4, "\x1b]0;x");
	g_autofree char *blocked_text = vigilctl_prompt_notify_text(VIGIL_NOTIFY_BLOCKED, blocked);
	g_autofree char *message_text = vigilctl_prompt_notify_text(VIGIL_NOTIFY_MESSAGE, message);

	g_assert_nonnull(strstr(timeout, "timed out"));
	g_assert_nonnull(strstr(answered, "answered elsewhere"));
	g_assert_null(strchr(odd, '\x1b'));
	g_assert_cmpstr(blocked_text, ==,
	                "Blocked (deny): /usr/bin/curl -> 10.0.0.2 port 443 (rule 5)");
	g_assert_cmpstr(message_text, ==, "vigild (error): could not save the rules");
	g_assert_null(vigilctl_prompt_notify_text("future-kind", message));
}

static void
test_prompt_agent_registered(void)
{
	/* the other agent's program is its text: a newline or escape must not forge a line */
	g_autoptr(GVariant) details =
	    dict("{'uid': <uint32 1000>, 'program': <'/tmp/x\\n\\x1b[2Jvigild: ok'>, "
	         "'pid': <uint32 4242>, 'bus-name': <':1.42'>}");
	g_autofree char *text = vigilctl_prompt_notify_text(VIGIL_NOTIFY_AGENT_REGISTERED, details);

	g_assert_nonnull(strstr(text, "Another prompt agent registered for you: /tmp/x"));
	g_assert_nonnull(strstr(text, "(pid 4242, :1.42)"));
	g_assert_null(strchr(text, '\n'));
	g_assert_null(strchr(text, '\x1b'));
	g_assert_null(strstr(text, "agents registered"));
}

static void
test_prompt_agents_registered_in_a_burst(void)
{
	/* vigild coalesces a flood of registrations into one note with their count */
	g_autoptr(GVariant) details =
	    dict("{'uid': <uint32 1000>, 'program': <'/tmp/x'>, 'pid': <uint32 4242>, "
	         "'bus-name': <':1.42'>, 'count': <uint32 30>}");
	g_autofree char *text = vigilctl_prompt_notify_text(VIGIL_NOTIFY_AGENT_REGISTERED, details);

	g_assert_nonnull(strstr(text, "Another prompt agent registered for you: /tmp/x"));
	g_assert_nonnull(strstr(text, "(30 agents registered in the last few seconds"));
}

/* ---- errors ---- */

static void
test_exit_codes(void)
{
	static const struct {
		const char *name;
		int code;
	} remote[] = {
	    {VIGIL_DBUS_ERROR_PREFIX "PermissionDenied", VIGILCTL_EXIT_PERMISSION},
	    {VIGIL_DBUS_ERROR_PREFIX "InteractiveAuthorizationRequired", VIGILCTL_EXIT_PERMISSION},
	    {VIGIL_DBUS_ERROR_PREFIX "InvalidArgument", VIGILCTL_EXIT_FAILED},
	    {VIGIL_DBUS_ERROR_PREFIX "NotFound", VIGILCTL_EXIT_FAILED},
	    {"org.freedesktop.DBus.Error.ServiceUnknown", VIGILCTL_EXIT_NOT_RUNNING},
	    {"org.freedesktop.DBus.Error.AccessDenied", VIGILCTL_EXIT_PERMISSION},
	    {"org.example.Unknown", VIGILCTL_EXIT_FAILED},
	};
	g_autoptr(GError) usage = g_error_new(VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, "x");
	g_autoptr(GError) option = g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "x");
	g_autoptr(GError) down = g_error_new(VIGILCTL_ERROR, VIGILCTL_ERROR_NOT_RUNNING, "x");

	(void)VIGIL_DBUS_ERROR;
	g_assert_cmpint(vigilctl_exit_code(NULL), ==, VIGILCTL_EXIT_OK);
	g_assert_cmpint(vigilctl_exit_code(usage), ==, VIGILCTL_EXIT_USAGE);
	g_assert_cmpint(vigilctl_exit_code(option), ==, VIGILCTL_EXIT_USAGE);
	g_assert_cmpint(vigilctl_exit_code(down), ==, VIGILCTL_EXIT_NOT_RUNNING);
	for (guint i = 0; i < G_N_ELEMENTS(remote); i++) {
		g_autoptr(GError) error = g_dbus_error_new_for_dbus_error(remote[i].name, "why");

		g_assert_cmpint(vigilctl_exit_code(error), ==, remote[i].code);
	}
}

static void
test_error_messages(void)
{
	g_autoptr(GError) denied = NULL;
	g_autoptr(GError) missing = NULL;
	g_autoptr(GError) unknown = NULL;
	g_autoptr(GError) readonly = NULL;
	g_autofree char *generic = NULL;
	g_autofree char *hinted = NULL;
	g_autofree char *missing_text = NULL;
	g_autofree char *unknown_text = NULL;
	g_autofree char *readonly_text = NULL;

	(void)VIGIL_DBUS_ERROR;
	denied = g_dbus_error_new_for_dbus_error(VIGIL_DBUS_ERROR_PREFIX "PermissionDenied",
	                                         "not authorised");
	g_assert_error(denied, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED);
	generic = vigilctl_error_message(denied, NULL);
	hinted =
	    vigilctl_error_message(denied, "adding a rule for all users needs an administrator");
	/* vigild's message without the D-Bus prefix, and what to do */
	g_assert_null(strstr(generic, "GDBus.Error"));
	g_assert_nonnull(strstr(generic, "not authorised"));
	g_assert_nonnull(strstr(generic, "sudo"));
	g_assert_true(g_str_has_prefix(hinted, "permission denied: adding a rule for all users"));

	missing = g_dbus_error_new_for_dbus_error("org.freedesktop.DBus.Error.ServiceUnknown",
	                                          "The name is not activatable");
	missing_text = vigilctl_error_message(missing, NULL);
	g_assert_cmpstr(missing_text, ==,
	                "vigild is not running (start it with: sudo systemctl start vigild)");

	unknown = g_dbus_error_new_for_dbus_error(VIGIL_DBUS_ERROR_PREFIX "NotFound",
	                                          "there is no rule 99");
	unknown_text = vigilctl_error_message(unknown, NULL);
	g_assert_cmpstr(unknown_text, ==, "there is no rule 99 (see 'vigilctl rules list')");

	readonly = g_dbus_error_new_for_dbus_error(VIGIL_DBUS_ERROR_PREFIX "ReadOnly",
	                                           "rule 1000000001 is a system rule");
	readonly_text = vigilctl_error_message(readonly, NULL);
	/* vigild's own words where they say it all */
	g_assert_cmpstr(readonly_text, ==, "rule 1000000001 is a system rule");
}

/* ---- the program: what a user sees before any vigild is involved ---- */

typedef struct {
	int status;
	char *out;
	char *err;
} Run;

static void
run_clear(Run *run)
{
	g_free(run->out);
	g_free(run->err);
}

static void
run_vigilctl(Run *run, const char *bus_address, const char *const *args)
{
	const char *binary = g_getenv("VIGILCTL");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) envp = g_get_environ();
	g_autoptr(GError) error = NULL;
	int wait_status = 0;

	g_assert_nonnull(binary);
	g_ptr_array_add(argv, (char *)binary);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	envp = g_environ_setenv(envp, "DBUS_SYSTEM_BUS_ADDRESS", bus_address, TRUE);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
	                           &run->out, &run->err, &wait_status, &error));
	g_assert_no_error(error);
	g_assert_true(WIFEXITED(wait_status));
	run->status = WEXITSTATUS(wait_status);
}

#define NO_BUS "unix:path=/nonexistent/vigilctl-test-bus"

static void
test_program_usage(void)
{
	static const struct {
		const char *args[6];
		int status;
		const char *err; /* in stderr */
	} cases[] = {
	    {{"--help", NULL}, 0, NULL},
	    {{"help", NULL}, 0, NULL},
	    {{"--version", NULL}, 0, NULL},
	    {{"rules", "add", "--help", NULL}, 0, NULL},
	    {{NULL}, 2, "Usage"},
	    {{"frobnicate", NULL}, 2, "'frobnicate' is not a vigilctl command"},
	    {{"--bogus", NULL}, 2, "Run 'vigilctl --help'"},
	    {{"status", "extra", NULL}, 2, "Run 'vigilctl status --help'"},
	    {{"rules", NULL}, 2, "rules needs a command"},
	    {{"rules", "zap", NULL}, 2, "'zap' is not a rules command"},
	    {{"log", "--verdict", "maybe", NULL}, 2, "'maybe' is not a verdict"},
	    {{"log", "--since", "soon", NULL}, 2, "'soon' is neither"},
	    {{"top", "--sort", "name", NULL}, 2, "--sort"},
	    {{"top", "--since", "soon", NULL}, 2, "'soon' is neither"},
	    {{"export", "--format", "xml", NULL}, 2, "'xml' is not csv or json"},
	    {{"export", "--since", "soon", NULL}, 2, "'soon' is neither"},
	    {{"export", "extra", NULL}, 2, "export takes options only"},
	    {{"config", "colour=red", NULL}, 2, "default-action, prompt-timeout"},
	    {{"status", NULL}, 4, "cannot connect to the system D-Bus"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		Run run = {0};

		run_vigilctl(&run, NO_BUS, cases[i].args);
		if (run.status != cases[i].status ||
		    (cases[i].err != NULL && strstr(run.err, cases[i].err) == NULL))
			g_test_message("case %u: status %d, stderr: %s", i, run.status, run.err);
		g_assert_cmpint(run.status, ==, cases[i].status);
		if (cases[i].err != NULL)
			g_assert_nonnull(strstr(run.err, cases[i].err));
		if (cases[i].status == 0)
			g_assert_cmpstr(run.err, ==, "");
		run_clear(&run);
	}
}

static void
test_program_help_documents_exit_codes(void)
{
	Run run = {0};
	const char *args[] = {"--help", NULL};

	run_vigilctl(&run, NO_BUS, args);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_nonnull(strstr(run.out, "Exit status:"));
	g_assert_nonnull(strstr(run.out, "3  permission denied"));
	g_assert_nonnull(strstr(run.out, "4  vigild or the system D-Bus is not running"));
	for (const char *const *c = (const char *const[]){"status", "rules", "pending", "log",
	                                                  "top", "monitor", "prompt", NULL};
	     *c != NULL; c++)
		g_assert_nonnull(strstr(run.out, *c));
	run_clear(&run);
}

/* a bus where nobody owns org.vigil.Firewall1: "vigild is not running", exit 4 */
static void
test_program_not_running(void)
{
	g_autoptr(GTestDBus) bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	const char *commands[][3] = {
	    {"status", NULL}, {"rules", "list", NULL}, {"log", NULL}, {"prompt", NULL}};

	g_test_dbus_up(bus);
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		Run run = {0};

		run_vigilctl(&run, g_test_dbus_get_bus_address(bus), commands[i]);
		g_assert_cmpint(run.status, ==, VIGILCTL_EXIT_NOT_RUNNING);
		g_assert_nonnull(strstr(run.err, "vigild is not running (start it with: sudo "
		                                 "systemctl start vigild)"));
		run_clear(&run);
	}
	g_test_dbus_down(bus);
}

int
main(int argc, char **argv)
{
	setlocale(LC_ALL, "C.UTF-8");
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/vigilctl/json/string-escapes", test_json_string_escapes);
	g_test_add_func("/vigilctl/json/variant-types", test_json_variant_types);
	g_test_add_func("/vigilctl/json/rules", test_json_list_of_rules);
	g_test_add_func("/vigilctl/output/sanitize", test_sanitize);
	g_test_add_func("/vigilctl/output/table", test_table);
	g_test_add_func("/vigilctl/output/connection", test_format_connection);
	g_test_add_func("/vigilctl/output/time", test_time_format);
	g_test_add_func("/vigilctl/args/duration", test_parse_duration);
	g_test_add_func("/vigilctl/args/since", test_parse_since);
	g_test_add_func("/vigilctl/args/id-verdict", test_parse_id_and_verdict);
	g_test_add_func("/vigilctl/args/config", test_config_settings);
	g_test_add_func("/vigilctl/args/config-agrees-with-vigild", test_config_settings_agree);
	g_test_add_func("/vigilctl/rule-text/split", test_rule_text_split);
	g_test_add_func("/vigilctl/rule-text/quote-join", test_rule_text_quote_join);
	g_test_add_func("/vigilctl/rule-text/lookup", test_rule_text_lookup);
	g_test_add_func("/vigilctl/rule-text/with-user", test_rule_text_with_user);
	g_test_add_func("/vigilctl/rule-text/dict-to-text", test_rule_dict_to_text);
	g_test_add_func("/vigilctl/rules/line-from-args", test_rules_line_from_args);
	g_test_add_func("/vigilctl/rules/format", test_rules_format);
	g_test_add_func("/vigilctl/rules/read-import", test_rules_read_import);
	g_test_add_func("/vigilctl/status/format", test_status_format);
	g_test_add_func("/vigilctl/status/kebab-case", test_kebab_case);
	g_test_add_func("/vigilctl/pending/format", test_pending_format);
	g_test_add_func("/vigilctl/log/filter", test_log_filter);
	g_test_add_func("/vigilctl/log/select-format", test_log_select_and_format);
	g_test_add_func("/vigilctl/top/rank", test_top_rank);
	g_test_add_func("/vigilctl/top/bytes", test_top_bytes);
	g_test_add_func("/vigilctl/export/csv", test_export_csv);
	g_test_add_func("/vigilctl/export/csv-no-formulas", test_export_csv_no_formulas);
	g_test_add_func("/vigilctl/prompt/answer-forever", test_answer_forever);
	g_test_add_func("/vigilctl/prompt/answer-default-verdict", test_answer_default_verdict);
	g_test_add_func("/vigilctl/prompt/answer-describe-untrusted",
	                test_answer_describe_untrusted);
	g_test_add_func("/vigilctl/prompt/answer-once-defaults", test_answer_once_and_defaults);
	g_test_add_func("/vigilctl/prompt/answer-no-domain-no-port", test_answer_no_domain_no_port);
	g_test_add_func("/vigilctl/prompt/answer-default-duration", test_answer_default_duration);
	g_test_add_func("/vigilctl/prompt/answer-default-host", test_answer_default_host);
	g_test_add_func("/vigilctl/prompt/format", test_prompt_format);
	g_test_add_func("/vigilctl/prompt/cancel-notify", test_prompt_cancel_notify);
	g_test_add_func("/vigilctl/prompt/agent-registered", test_prompt_agent_registered);
	g_test_add_func("/vigilctl/prompt/agents-registered-burst",
	                test_prompt_agents_registered_in_a_burst);
	g_test_add_func("/vigilctl/errors/exit-codes", test_exit_codes);
	g_test_add_func("/vigilctl/errors/messages", test_error_messages);
	g_test_add_func("/vigilctl/program/usage", test_program_usage);
	g_test_add_func("/vigilctl/program/help", test_program_help_documents_exit_codes);
	g_test_add_func("/vigilctl/program/not-running", test_program_not_running);
	return g_test_run();
}
