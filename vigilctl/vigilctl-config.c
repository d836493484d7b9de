/* vigilctl-config.c: vigilctl enable, disable and config: vigild's settings */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vigil-settings.h" /* the one check of a setting */
#include "vigilctl-output.h"
#include "vigilctl.h"

#define CONFIGURE_HINT                                                                             \
	_("changing vigild's settings needs an administrator (run with sudo or answer the "        \
	  "authentication prompt)")

static gboolean
set_enabled(VigilctlContext *ctx, int argc, char **argv, gboolean enabled, GError **error)
{
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "",
	    enabled ? N_("Lets vigild decide connections again (rules and prompts).")
	            : N_("Lets every connection through without rules or prompts, until "
	                 "'vigilctl enable'. The setting survives a restart of vigild."),
	    NULL, NULL);
	VigilFirewall *firewall = NULL;

	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_no_arguments(argc, enabled ? "enable" : "disable", error))
		return FALSE;
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	ctx->permission_hint = CONFIGURE_HINT;
	vigilctl_start_tty_agent(ctx);
	if (!vigil_firewall_call_set_enabled_sync(firewall, enabled, vigilctl_call_flags(ctx, TRUE),
	                                          vigilctl_call_timeout(TRUE), NULL, error))
		return FALSE;
	if (enabled)
		g_print(_("Vigil is enabled: vigild decides connections.\n"));
	else
		g_print(_("Vigil is disabled: every connection is allowed without rules or prompts "
		          "('vigilctl enable' turns it back on).\n"));
	return TRUE;
}

gboolean
vigilctl_cmd_enable(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	return set_enabled(ctx, argc, argv, TRUE, error);
}

gboolean
vigilctl_cmd_disable(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	return set_enabled(ctx, argc, argv, FALSE, error);
}

static gboolean
bad_setting(GError **error, const char *text, const char *why)
{
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, "'%s': %s", text, why);
	return FALSE;
}

/* the settings vigilctl config changes: vigild's (SetConfig's) with vigilctl's words for them */
static const struct {
	const char *key;     /* vigilctl's name; the property name, in lowercase, works too */
	const char *setting; /* vigild's name (vigil-settings.c) */
	gboolean duration;   /* the value may be written 2m, 1h30m (vigilctl_parse_duration) */
	const char *why;     /* what a bad value is told */
} config_keys[] = {
    {"default-action", VIGIL_CONFIG_KEY_DEFAULT_ACTION, FALSE,
     N_("default-action is allow or deny")},
    {"prompt-timeout", VIGIL_CONFIG_KEY_PROMPT_TIMEOUT, TRUE,
     N_("prompt-timeout is 1 to 3600 seconds (e.g. 30, 2m)")},
    {"fail-mode", VIGIL_CONFIG_KEY_FAIL_MODE, FALSE, N_("fail-mode is open or closed")},
};

/* the row for @key ("default-action", "defaultaction"), or -1 */
static int
config_key_lookup(const char *key)
{
	for (guint i = 0; i < G_N_ELEMENTS(config_keys); i++) {
		g_autofree char *property = g_ascii_strdown(config_keys[i].setting, -1);

		if (g_str_equal(key, config_keys[i].key) || g_str_equal(key, property))
			return (int)i;
	}
	return -1;
}

/* "default-action=deny", "PromptTimeout=60", "prompt-timeout=2m", "fail-mode=closed" */
gboolean
vigilctl_config_parse_setting(const char *text, GVariantBuilder *changes, GError **error)
{
	const char *eq = strchr(text, '=');
	g_autofree char *key = NULL;
	g_autofree char *value = NULL;
	g_auto(VigilConfig) checked = {0};
	const VigilSetting *setting = NULL;
	int row;

	if (eq == NULL)
		return bad_setting(error, text, _("settings are written KEY=VALUE"));
	key = g_ascii_strdown(text, eq - text);
	row = config_key_lookup(key);
	if (row < 0)
		return bad_setting(
		    error, text,
		    _("the settings are default-action, prompt-timeout and fail-mode"));
	setting = vigil_setting_lookup(config_keys[row].setting);
	g_assert(setting != NULL && setting->dbus_type != NULL);
	value = g_strdup(eq + 1);
	if (config_keys[row].duration) {
		gint64 seconds = 0;

		if (!vigilctl_parse_duration(value, &seconds, NULL))
			return bad_setting(error, text, _(config_keys[row].why));
		g_free(value);
		value = g_strdup_printf("%" G_GINT64_FORMAT, seconds);
	}
	/* the check vigild makes of vigild.conf and SetConfig: it refuses what vigild would */
	vigil_config_init_defaults(&checked);
	if (!vigil_setting_apply(&checked, setting, value, NULL))
		return bad_setting(error, text, _(config_keys[row].why));
	if (g_str_equal(setting->dbus_type, "u")) {
		guint64 number = 0;

		g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT32, &number, NULL);
		g_variant_builder_add(changes, "{sv}", setting->name,
		                      g_variant_new_uint32((guint32)number));
	} else {
		g_variant_builder_add(changes, "{sv}", setting->name, g_variant_new_string(value));
	}
	return TRUE;
}

static gboolean
show_config(VigilctlContext *ctx, VigilFirewall *firewall)
{
	const char *default_action = vigil_firewall_get_default_action(firewall);
	const char *fail_mode = vigil_firewall_get_fail_mode(firewall);
	guint timeout = vigil_firewall_get_prompt_timeout(firewall);
	g_autofree char *action_text = vigilctl_sanitize(default_action);
	g_autofree char *fail_text = vigilctl_sanitize(fail_mode);

	if (ctx->json) {
		GString *out = g_string_new("{\"default-action\":");

		vigilctl_json_append_string(out, default_action);
		g_string_append_printf(out, ",\"prompt-timeout\":%u,\"fail-mode\":", timeout);
		vigilctl_json_append_string(out, fail_mode);
		g_string_append(out, "}\n");
		g_print("%s", out->str);
		g_string_free(out, TRUE);
		return TRUE;
	}
	g_print("default-action=%s\nprompt-timeout=%u\nfail-mode=%s\n", action_text, timeout,
	        fail_text);
	return TRUE;
}

gboolean
vigilctl_cmd_config(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, N_("[KEY=VALUE…]"),
	    N_("Shows vigild's settings, or changes them (all or none) and saves them in "
	       "vigild.conf."),
	    N_("Settings:\n"
	       "  default-action=allow|deny  what a connection no rule covers gets when nobody\n"
	       "                             answers a prompt (no agent, timeout)\n"
	       "  prompt-timeout=SECONDS     how long a prompt waits, 1 to 3600 (e.g. 30, 2m)\n"
	       "  fail-mode=open|closed      whether traffic flows while vigild is not running\n"
	       "\n"
	       "Changing settings needs an administrator.\n"),
	    NULL);
	g_auto(GVariantBuilder) changes = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	VigilFirewall *firewall = NULL;

	if (!vigilctl_parse_options(context, &argc, &argv, error))
		return FALSE;
	for (int i = 1; i < argc; i++) {
		if (!vigilctl_config_parse_setting(argv[i], &changes, error))
			return FALSE;
	}
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	if (argc <= 1)
		return show_config(ctx, firewall);
	ctx->permission_hint = CONFIGURE_HINT;
	vigilctl_start_tty_agent(ctx);
	return vigil_firewall_call_set_config_sync(firewall, g_variant_builder_end(&changes),
	                                           vigilctl_call_flags(ctx, TRUE),
	                                           vigilctl_call_timeout(TRUE), NULL, error);
}
