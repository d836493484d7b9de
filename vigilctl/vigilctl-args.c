/* vigilctl-args.c: option parsing and the values of vigilctl's arguments */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vigilctl.h"

G_DEFINE_QUARK(vigilctl - error - quark, vigilctl_error)

GOptionContext *
vigilctl_option_context(VigilctlContext *ctx, const char *parameters, const char *summary,
                        const char *description, const GOptionEntry *entries)
{
	const GOptionEntry common[] = {
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &ctx->json, N_("Print JSON for scripts"), NULL},
	    {"no-ask-password", 0, 0, G_OPTION_ARG_NONE, &ctx->no_ask_password,
	     N_("Fail instead of asking for a password when vigild needs authentication"), NULL},
	    G_OPTION_ENTRY_NULL};
	/* the callers pass their texts untranslated (N_): GOptionContext translates them */
	GOptionContext *context =
	    g_option_context_new(parameters != NULL && parameters[0] != '\0' ? parameters : NULL);

	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);

	g_option_context_set_summary(context, summary);
	if (description != NULL)
		g_option_context_set_description(context, description);
	if (entries != NULL)
		g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_main_entries(context, common, NULL);
	return context;
}

gboolean
vigilctl_parse_options(GOptionContext *context, int *argc, char ***argv, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (g_option_context_parse(context, argc, argv, &local))
		return TRUE;
	g_set_error_literal(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, local->message);
	return FALSE;
}

gboolean
vigilctl_no_arguments(int argc, const char *command, GError **error)
{
	if (argc <= 1)
		return TRUE;
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, _("%s takes no arguments"),
	            command);
	return FALSE;
}

gboolean
vigilctl_options_only(int argc, const char *command, GError **error)
{
	if (argc <= 1)
		return TRUE;
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
	            _("%s takes options only (see --help)"), command);
	return FALSE;
}

gboolean
vigilctl_parse_id(const char *text, guint64 *id, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT64, id, &local)) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("'%s' is not a rule id (a number from 'vigilctl rules list')"), text);
		return FALSE;
	}
	return TRUE;
}

static gint64
unit_seconds(const char *unit, gsize len)
{
	static const struct {
		const char *name;
		gint64 seconds;
	} units[] = {
	    {"s", 1},         {"sec", 1},        {"m", 60},       {"min", 60},     {"h", 3600},
	    {"hour", 3600},   {"d", 86400},      {"day", 86400},  {"days", 86400}, {"w", 604800},
	    {"week", 604800}, {"weeks", 604800}, {"hours", 3600}, {"mins", 60},    {"secs", 1},
	};

	for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
		if (strlen(units[i].name) == len && strncmp(units[i].name, unit, len) == 0)
			return units[i].seconds;
	}
	return 0;
}

gboolean
vigilctl_parse_duration(const char *text, gint64 *seconds, GError **error)
{
	const char *p = text;
	gint64 total = 0;

	if (*p == '\0')
		goto bad;
	while (*p != '\0') {
		gint64 number = 0;
		gint64 unit = 1;
		const char *unit_start = NULL;

		if (!g_ascii_isdigit(*p))
			goto bad;
		while (g_ascii_isdigit(*p)) {
			if (number > (G_MAXINT32 - (*p - '0')) / 10)
				goto bad;
			number = number * 10 + (*p++ - '0');
		}
		unit_start = p;
		while (g_ascii_isalpha(*p))
			p++;
		/* a bare number is seconds, but only on its own: "1h30" is a typo */
		if (p > unit_start)
			unit = unit_seconds(unit_start, p - unit_start);
		else if (p != text + strlen(text) || total != 0)
			goto bad;
		if (unit == 0)
			goto bad;
		total += number * unit;
		if (total > G_MAXINT32 * G_GINT64_CONSTANT(604800))
			goto bad;
	}
	*seconds = total;
	return TRUE;
bad:
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
	            _("'%s' is not a duration (e.g. 30s, 10m, 2h, 1d, 1h30m)"), text);
	return FALSE;
}

static GDateTime *
parse_absolute(const char *text, gint64 now_us)
{
	g_autoptr(GTimeZone) local = g_time_zone_new_local();
	/* GLib 2.74 has no _usec constructor; a second is precise enough for a date */
	g_autoptr(GDateTime) now = g_date_time_new_from_unix_local(now_us / G_USEC_PER_SEC);
	g_autofree char *iso = g_strdup(text);
	gsize len = strlen(iso);

	if (now == NULL)
		return NULL;
	/* "2024-05-01 12:00" as people write it */
	if (len > 10 && iso[10] == ' ')
		iso[10] = 'T';
	/* GLib wants seconds: "2024-05-01T12:00" and "2024-05-01T12:00Z" get ":00" */
	if (len >= 16 && iso[10] == 'T' && iso[13] == ':' && iso[16] != ':' &&
	    !g_ascii_isdigit(iso[16])) {
		g_autofree char *with_seconds = g_strdup_printf("%.16s:00%s", iso, iso + 16);

		return g_date_time_new_from_iso8601(with_seconds, local);
	}
	/* a date alone: its midnight */
	if (len == 10 && iso[4] == '-' && iso[7] == '-') {
		g_autofree char *midnight = g_strconcat(iso, "T00:00:00", NULL);

		return g_date_time_new_from_iso8601(midnight, local);
	}
	/* a time alone ("12:30", "12:30:05"): today */
	if ((len == 5 || len == 8) && iso[2] == ':') {
		g_autofree char *date = g_date_time_format(now, "%Y-%m-%d");
		g_autofree char *full = g_strconcat(date, "T", iso, len == 5 ? ":00" : "", NULL);

		return g_date_time_new_from_iso8601(full, local);
	}
	return g_date_time_new_from_iso8601(iso, local);
}

gboolean
vigilctl_parse_since(const char *text, gint64 now_us, gint64 *since_us, GError **error)
{
	gint64 seconds = 0;
	g_autoptr(GDateTime) time = NULL;

	if (g_ascii_isdigit(text[0]) && vigilctl_parse_duration(text, &seconds, NULL) &&
	    strchr(text, '-') == NULL && strchr(text, ':') == NULL) {
		*since_us = now_us - seconds * G_USEC_PER_SEC;
		return TRUE;
	}
	time = parse_absolute(text, now_us);
	if (time == NULL) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("'%s' is neither a time span (10m, 2h, 1d) nor a time "
		              "(2024-05-01T12:00:00Z, '2024-05-01 12:00', 12:00)"),
		            text);
		return FALSE;
	}
	*since_us = g_date_time_to_unix(time) * G_USEC_PER_SEC + g_date_time_get_microsecond(time);
	return TRUE;
}

gboolean
vigilctl_parse_verdict(const char *text, GError **error)
{
	if (g_strcmp0(text, "allow") == 0 || g_strcmp0(text, "deny") == 0 ||
	    g_strcmp0(text, "drop") == 0)
		return TRUE;
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
	            _("'%s' is not a verdict (allow, deny or drop)"), text);
	return FALSE;
}
