/* vigilctl-status.c: vigilctl status: vigild's version, settings, counters and your rights */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "vigilctl-output.h"
#include "vigilctl.h"

/* the Stats keys in the order people read them; keys vigild adds later follow, sorted */
static const char *const stats_order[] = {
    VIGIL_STATS_KEY_QUEUED,    VIGIL_STATS_KEY_ACCEPTED,       VIGIL_STATS_KEY_DENIED,
    VIGIL_STATS_KEY_DROPPED,   VIGIL_STATS_KEY_DEFAULTED,      VIGIL_STATS_KEY_PROMPTED,
    VIGIL_STATS_KEY_TIMED_OUT, VIGIL_STATS_KEY_KERNEL_DROPPED, VIGIL_STATS_KEY_OVERRUNS,
    VIGIL_STATS_KEY_PENDING,   VIGIL_STATS_KEY_RULES,          VIGIL_STATS_KEY_AGENTS,
};

static const char *const property_order[] = {
    "Version", "Enabled", "DefaultAction", "PromptTimeout", "FailMode", "Backend",
};

char *
vigilctl_kebab_case(const char *name)
{
	GString *out = g_string_new(NULL);

	for (const char *p = name; *p != '\0'; p++) {
		if (g_ascii_isupper(*p) && p != name)
			g_string_append_c(out, '-');
		g_string_append_c(out, g_ascii_tolower(*p));
	}
	return g_string_free(out, FALSE);
}

static gboolean
in_list(const char *const *list, gsize n, const char *key)
{
	for (gsize i = 0; i < n; i++) {
		if (g_strcmp0(list[i], key) == 0)
			return TRUE;
	}
	return FALSE;
}

static int
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* the keys of @dict: first those of @order it has, then the others sorted */
static GPtrArray *
ordered_keys(GVariant *dict, const char *const *order, gsize n_order)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func(g_free);
	GVariantIter iter;
	const char *key = NULL;

	for (gsize i = 0; i < n_order; i++) {
		g_autoptr(GVariant) value = g_variant_lookup_value(dict, order[i], NULL);

		if (value != NULL)
			g_ptr_array_add(keys, g_strdup(order[i]));
	}
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&s@*}", &key, NULL)) {
		if (!in_list(order, n_order, key))
			g_ptr_array_add(others, g_strdup(key));
	}
	g_ptr_array_sort(others, compare_strings);
	for (guint i = 0; i < others->len; i++)
		g_ptr_array_add(keys, g_strdup(g_ptr_array_index(others, i)));
	return keys;
}

static char *
format_value(GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(g_variant_get_boolean(value) ? _("yes") : _("no"));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return vigilctl_sanitize(g_variant_get_string(value, NULL));
	return g_variant_print(value, FALSE);
}

static const char *
property_label(const char *name)
{
	static const struct {
		const char *name;
		const char *label;
	} labels[] = {
	    {"Version", N_("Version")},
	    {"Enabled", N_("Enabled")},
	    {"DefaultAction", N_("Default action")},
	    {"PromptTimeout", N_("Prompt timeout")},
	    {"FailMode", N_("Fail mode")},
	    {"Backend", N_("Backend")},
	};

	for (guint i = 0; i < G_N_ELEMENTS(labels); i++) {
		if (g_strcmp0(labels[i].name, name) == 0)
			return _(labels[i].label);
	}
	return name;
}

static void
append_properties(GString *out, GVariant *props)
{
	g_autoptr(GPtrArray) keys =
	    ordered_keys(props, property_order, G_N_ELEMENTS(property_order));

	for (guint i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index(keys, i);
		g_autoptr(GVariant) value = g_variant_lookup_value(props, key, NULL);
		g_autofree char *text = NULL;
		g_autofree char *label = NULL;

		/* Stats gets a section of its own */
		if (g_strcmp0(key, "Stats") == 0)
			continue;
		text = format_value(value);
		label = g_strconcat(property_label(key), ":", NULL);
		g_string_append_printf(out, "%-16s %s%s\n", label, text,
		                       g_strcmp0(key, "PromptTimeout") == 0 ? " s" : "");
	}
}

static void
append_stats(GString *out, GVariant *props)
{
	g_autoptr(GVariant) stats = g_variant_lookup_value(props, "Stats", G_VARIANT_TYPE("a{st}"));
	g_autoptr(GPtrArray) keys = NULL;

	if (stats == NULL)
		return;
	keys = ordered_keys(stats, stats_order, G_N_ELEMENTS(stats_order));
	g_string_append(out, _("Stats:\n"));
	for (guint i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index(keys, i);
		guint64 count = 0;
		g_autofree char *label = g_strconcat(key, ":", NULL);

		g_variant_lookup(stats, key, "t", &count);
		g_string_append_printf(out, "  %-16s %" G_GUINT64_FORMAT "\n", label, count);
	}
}

static void
append_permissions(GString *out, GVariant *permissions)
{
	GVariantIter iter;
	const char *action = NULL;
	const char *answer = NULL;

	if (permissions == NULL || g_variant_n_children(permissions) == 0)
		return;
	g_string_append(out, _("Your permissions:\n"));
	g_variant_iter_init(&iter, permissions);
	while (g_variant_iter_next(&iter, "{&s&s}", &action, &answer)) {
		const char *name = g_str_has_prefix(action, "org.vigil.firewall.")
		                       ? action + strlen("org.vigil.firewall.")
		                       : action;
		g_autofree char *label = g_strconcat(name, ":", NULL);
		const char *meaning = g_strcmp0(answer, VIGIL_PERMISSION_YES) == 0 ? _("yes")
		                      : g_strcmp0(answer, VIGIL_PERMISSION_AUTH) == 0
		                          ? _("after authentication")
		                      : g_strcmp0(answer, VIGIL_PERMISSION_NO) == 0 ? _("no")
		                                                                    : answer;
		g_autofree char *safe_label = vigilctl_sanitize(label);
		g_autofree char *safe_meaning = vigilctl_sanitize(meaning);

		g_string_append_printf(out, "  %-18s %s\n", safe_label, safe_meaning);
	}
}

char *
vigilctl_status_format(GVariant *props, GVariant *permissions)
{
	GString *out = g_string_new(NULL);

	append_properties(out, props);
	append_stats(out, props);
	append_permissions(out, permissions);
	return g_string_free(out, FALSE);
}

/* {"version": ..., "default-action": ..., "stats": {...}, "permissions": {...}} */
GVariant *
vigilctl_status_json_variant(GVariant *props, GVariant *permissions)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	GVariantIter iter;
	const char *key = NULL;
	GVariant *value = NULL;

	g_variant_iter_init(&iter, props);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autofree char *name = vigilctl_kebab_case(key);

		g_variant_builder_add(&builder, "{sv}", name, value);
		g_variant_unref(value);
	}
	if (permissions != NULL)
		g_variant_builder_add(&builder, "{sv}", "permissions", permissions);
	return g_variant_builder_end(&builder);
}

gboolean
vigilctl_cmd_status(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "",
	    N_("Shows whether vigild runs, its settings, its counters and what you may do."), NULL,
	    NULL);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GVariant) permissions = NULL;
	VigilFirewall *firewall = NULL;

	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_no_arguments(argc, "status", error))
		return FALSE;
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	/* GetAll rather than the proxy's cache: a failure must show, not print empty values */
	reply = g_dbus_proxy_call_sync(
	    G_DBUS_PROXY(firewall), "org.freedesktop.DBus.Properties.GetAll",
	    g_variant_new("(s)", VIGIL_DBUS_INTERFACE), G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
	if (reply == NULL)
		return FALSE;
	props = g_variant_get_child_value(reply, 0);
	/* only informative: an older vigild without it still has a status */
	if (!vigil_firewall_call_get_permissions_sync(firewall, G_DBUS_CALL_FLAGS_NONE, -1,
	                                              &permissions, NULL, NULL))
		permissions = NULL;
	if (ctx->json) {
		vigilctl_print_json(vigilctl_status_json_variant(props, permissions));
	} else {
		g_autofree char *text = vigilctl_status_format(props, permissions);

		g_print("%s", text);
	}
	return TRUE;
}
