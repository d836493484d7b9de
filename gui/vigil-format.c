/* vigil-format.c: texts for decisions and rules, shared by the windows */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-format.h"

const char *
vigil_format_verdict(const char *verdict)
{
	if (g_strcmp0(verdict, "allow") == 0)
		return _("Allowed");
	if (g_strcmp0(verdict, "deny") == 0)
		return _("Denied");
	if (g_strcmp0(verdict, "drop") == 0)
		return _("Dropped");
	return verdict != NULL ? verdict : "";
}

char *
vigil_format_reason(const char *reason, guint64 rule, gboolean has_rule)
{
	g_autofree char *number = g_strdup_printf("%" G_GUINT64_FORMAT, rule);

	if (has_rule && g_strcmp0(reason, "reply") == 0)
		/* TRANSLATORS: the user's answer to a prompt made rule number %s */
		return g_strdup_printf(_("your answer, rule %s"), number);
	if (has_rule)
		/* TRANSLATORS: rule number %s decided */
		return g_strdup_printf(_("rule %s"), number);
	if (g_strcmp0(reason, "reply") == 0)
		return g_strdup(_("your answer, once"));
	if (g_strcmp0(reason, "default") == 0)
		return g_strdup(_("default, nobody was asked"));
	if (g_strcmp0(reason, "timeout") == 0)
		return g_strdup(_("default, no answer in time"));
	if (g_strcmp0(reason, "disabled") == 0)
		return g_strdup(_("filtering paused"));
	if (g_strcmp0(reason, "malformed") == 0)
		return g_strdup(_("unreadable packet"));
	if (g_strcmp0(reason, "deadline") == 0)
		return g_strdup(_("default, held too long"));
	if (g_strcmp0(reason, "shutdown") == 0)
		return g_strdup(_("default, Vigil stopped"));
	/* the API says: show reasons of later versions as they are */
	return g_strdup(reason != NULL ? reason : "");
}

char *
vigil_format_time_us(gint64 us, gint64 now_us)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(us / G_USEC_PER_SEC);
	g_autoptr(GDateTime) now = g_date_time_new_from_unix_local(now_us / G_USEC_PER_SEC);

	if (t == NULL || now == NULL)
		return g_strdup("");
	if (g_date_time_get_year(t) == g_date_time_get_year(now) &&
	    g_date_time_get_day_of_year(t) == g_date_time_get_day_of_year(now))
		return g_date_time_format(t, "%H:%M:%S");
	return g_date_time_format(t, "%Y-%m-%d %H:%M");
}

char *
vigil_format_bytes(guint64 bytes)
{
	return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}
