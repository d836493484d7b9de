/* vigilctl-config.c: vigilctl enable, disable and config: vigild's settings */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vigilctl-output.h"
#include "vigilctl.h"

#define CONFIGURE_HINT                                                                             \
	_("changing vigild's settings needs an administrator (run with sudo or answer the "        \
	  "authentication prompt)")

static gboolean
no_arguments(int argc, const char *command, GError **error)
{
	if (argc <= 1)
		return TRUE;
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, _("%s takes no arguments"),
	            command);
	return FALSE;
}

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
	    !no_arguments(argc, enabled ? "enable" : "disable", error))
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

/* "default-action=deny", "PromptTimeout=60", "prompt-timeout=2m", "fail-mode=closed" */
gboolean
vigilctl_config_parse_setting(const char *text, GVariantBuilder *changes, GError **error)
{
	const char *eq = strchr(text, '=');
	g_autofree char *key = NULL;
	const char *value = NULL;

	if (eq == NULL)
		return bad_setting(error, text, _("settings are written KEY=VALUE"));
	key = g_ascii_strdown(text, eq - text);
	value = eq + 1;
	/* the property names work too */
	if (g_strcmp0(key, "default-action") == 0 || g_strcmp0(key, "defaultaction") == 0) {
		if (g_strcmp0(value, "allow") != 0 && g_strcmp0(value, "deny") != 0)
			return bad_setting(error, text, _("default-action is allow or deny"));
		g_variant_builder_add(changes, "{sv}", VIGIL_CONFIG_KEY_DEFAULT_ACTION,
		                      g_variant_new_string(value));
	} else if (g_strcmp0(key, "prompt-timeout") == 0 || g_strcmp0(key, "prompttimeout") == 0) {
		gint64 seconds = 0;

		if (!vigilctl_parse_duration(value, &seconds, NULL) ||
		    seconds < VIGIL_PROMPT_TIMEOUT_MIN || seconds > VIGIL_PROMPT_TIMEOUT_MAX)
			return bad_setting(error, text,
			                   _("prompt-timeout is 1 to 3600 seconds (e.g. 30, 2m)"));
		g_variant_builder_add(changes, "{sv}", VIGIL_CONFIG_KEY_PROMPT_TIMEOUT,
		                      g_variant_new_uint32((guint32)seconds));
	} else if (g_strcmp0(key, "fail-mode") == 0 || g_strcmp0(key, "failmode") == 0) {
		if (g_strcmp0(value, "open") != 0 && g_strcmp0(value, "closed") != 0)
			return bad_setting(error, text, _("fail-mode is open or closed"));
		g_variant_builder_add(changes, "{sv}", VIGIL_CONFIG_KEY_FAIL_MODE,
		                      g_variant_new_string(value));
	} else {
		return bad_setting(
		    error, text,
		    _("the settings are default-action, prompt-timeout and fail-mode"));
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
