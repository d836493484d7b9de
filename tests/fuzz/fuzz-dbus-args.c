/* fuzz-dbus-args.c: libFuzzer target for what vigild does with D-Bus arguments before acting */
#include "config.h"

#include <string.h>

#include "vigil-dbus-args.h"
#include "vigil-dbus-rules.h"
#include "vigil-dbus.h"
#include "vigil-prompts.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/*
 * The first byte picks the method, the rest is its arguments serialised as the bus
 * delivers them (GVariant's serialisation of the method's in-signature). As GDBus does
 * for a message, the bytes are taken in normal form; then the same checks run that
 * vigild runs on the arguments before (and, for rules, after) authorisation.
 */
typedef enum {
	M_SET_CONFIG,
	M_ADD_RULE,
	M_UPDATE_RULE,
	M_IMPORT_RULES,
	M_GET_CONNECTIONS,
	M_REPLY,
	M_COUNT,
} FuzzMethod;

static const char *const signatures[M_COUNT] = {
    [M_SET_CONFIG] = "(a{sv})", [M_ADD_RULE] = "(a{sv})",        [M_UPDATE_RULE] = "(ta{sv})",
    [M_IMPORT_RULES] = "(s)",   [M_GET_CONNECTIONS] = "(a{sv})", [M_REPLY] = "(tsa{sv})",
};

/* an error from the argument layer is always one of the documented names */
static void
check_error(const GError *error)
{
	g_assert_nonnull(error);
	g_assert_true(error->domain == VIGIL_DBUS_ERROR);
	g_assert_true(error->message != NULL && *error->message != '\0');
}

static void
fuzz_set_config(GVariant *params)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(params, 0);
	g_autoptr(GError) error = NULL;
	VigilDBusSettings settings;
	VigilConfig current;
	guint n = 0;

	vigil_config_init_defaults(&current);
	if (!vigil_dbus_parse_settings(dict, &current, &settings, &error)) {
		check_error(error);
		return;
	}
	/* what is written to vigild.conf: at most one of each key, the list terminated */
	while (settings.keys[n] != NULL) {
		g_assert_nonnull(settings.values[n]);
		n++;
		g_assert_cmpuint(n, <, G_N_ELEMENTS(settings.keys));
	}
	g_assert_cmpuint(n, ==, g_variant_n_children(dict));
}

/* a rule the arguments made must read back as itself */
static void
check_rule(VigilRule *rule)
{
	g_autoptr(GVariant) back = g_variant_ref_sink(vigil_rule_to_dict(rule));
	g_autofree char *text = vigil_rule_to_string(rule, TRUE);

	g_assert_true(g_variant_is_of_type(back, G_VARIANT_TYPE_VARDICT));
	g_assert_nonnull(text);
}

static void
fuzz_add_rule(GVariant *params)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(params, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) rule = NULL;
	VigilRuleLookups lookups;

	rule = vigil_rule_from_dict(dict, 1000, &lookups, &error);
	if (rule == NULL) {
		check_error(error);
		return;
	}
	check_rule(rule);
}

static void
fuzz_update_rule(GVariant *params)
{
	g_autoptr(GVariant) changes = g_variant_get_child_value(params, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilRule) old =
	    vigil_rule_parse_line("deny user 1000 app /usr/bin/curl to example.org port 443 "
	                          "proto tcp",
	                          NULL, NULL);
	g_autoptr(VigilRule) rule = NULL;
	VigilRuleLookups lookups;

	g_assert_nonnull(old);
	old->id = 7;
	rule = vigil_rule_update_from_dict(old, changes, &lookups, &error);
	if (rule == NULL) {
		check_error(error);
		return;
	}
	g_assert_cmpuint(rule->id, ==, 7);
	check_rule(rule);
}

static void
fuzz_import_rules(GVariant *params)
{
	const char *text;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rules = NULL;

	g_variant_get(params, "(&s)", &text);
	rules = vigil_rules_from_import(text, NULL, &error);
	if (rules == NULL) {
		check_error(error);
		return;
	}
	for (guint i = 0; i < rules->len; i++)
		check_rule(g_ptr_array_index(rules, i));
}

static void
fuzz_get_connections(GVariant *params)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(params, 0);
	const guint32 callers[] = {0, 1000};

	for (guint i = 0; i < G_N_ELEMENTS(callers); i++) {
		g_autoptr(GError) error = NULL;
		VigilDBusFilter filter;

		if (!vigil_dbus_parse_filter(dict, callers[i], &filter, &error)) {
			check_error(error);
			continue;
		}
		/* a caller other than root sees only its own decisions */
		if (callers[i] != 0)
			g_assert_true(filter.has_uid && filter.uid == callers[i]);
	}
}

static void
fuzz_reply(GVariant *params)
{
	const char *verdict;
	guint64 request;
	g_autoptr(GVariant) options = NULL;
	g_autoptr(GError) error = NULL;

	g_variant_get(params, "(t&s@a{sv})", &request, &verdict, &options);
	if (!vigil_prompts_check_reply(verdict, options, &error))
		check_error(error);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autoptr(GVariant) raw = NULL;
	g_autoptr(GVariant) params = NULL;
	gpointer copy;
	FuzzMethod method;

	if (size < 1)
		return 0;
	method = data[0] % M_COUNT;
	/* copied: GVariant may keep the pointer, libFuzzer's buffer goes away */
	copy = g_memdup2(data + 1, size - 1);
	raw = g_variant_ref_sink(g_variant_new_from_data(G_VARIANT_TYPE(signatures[method]), copy,
	                                                 size - 1, FALSE, g_free, copy));
	/* GDBus hands a method handler its arguments in normal form */
	params = g_variant_get_normal_form(raw);
	switch (method) {
	case M_SET_CONFIG:
		fuzz_set_config(params);
		break;
	case M_ADD_RULE:
		fuzz_add_rule(params);
		break;
	case M_UPDATE_RULE:
		fuzz_update_rule(params);
		break;
	case M_IMPORT_RULES:
		fuzz_import_rules(params);
		break;
	case M_GET_CONNECTIONS:
		fuzz_get_connections(params);
		break;
	case M_REPLY:
		fuzz_reply(params);
		break;
	case M_COUNT:
		break;
	}
	return 0;
}
