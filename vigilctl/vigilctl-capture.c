/* vigilctl-capture.c: vigilctl captures: the packet captures of capture rules, listed and removed
 */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include "vigilctl-output.h"
#include "vigilctl.h"

#define CAPTURES_HINT                                                                              \
	_("the packet captures hold every user's packets: they need an administrator (run with "   \
	  "sudo or answer the authentication prompt)")

char *
vigilctl_captures_format(GVariant *captures)
{
	g_autoptr(VigilctlTable) table =
	    vigilctl_table_new(4, _("ID"), _("SIZE"), _("CHANGED"), _("FLOW"));
	GVariantIter iter;
	GVariant *entry = NULL;

	vigilctl_table_align_right(table, 0);
	vigilctl_table_align_right(table, 1);
	g_variant_iter_init(&iter, captures);
	while (g_variant_iter_next(&iter, "@a{sv}", &entry)) {
		g_autoptr(GVariant) owned = entry;
		guint64 id = 0, size = 0;
		gint64 time = 0;
		gboolean recording = FALSE;
		g_autofree char *id_text = NULL, *size_text = NULL, *time_text = NULL;
		g_autofree char *flow = NULL;

		g_variant_lookup(entry, "id", "t", &id);
		g_variant_lookup(entry, "size", "t", &size);
		g_variant_lookup(entry, "time", "x", &time);
		g_variant_lookup(entry, "recording", "b", &recording);
		id_text = g_strdup_printf("%" G_GUINT64_FORMAT "%s", id, recording ? "*" : "");
		size_text = g_format_size(size);
		time_text = vigilctl_format_time_s(time);
		flow = g_strdup(vigilctl_dict_string(entry, "description"));
		vigilctl_table_add_row(table, id_text, size_text, time_text, flow);
	}
	if (vigilctl_table_n_rows(table) == 0)
		return g_strdup(_("No packet captures.\n"));
	return vigilctl_table_render(table);
}

static gboolean
list_captures(VigilctlContext *ctx, VigilFirewall *firewall, GError **error)
{
	g_autoptr(GVariant) captures = NULL;

	if (!vigil_firewall_call_get_captures_sync(firewall, vigilctl_call_flags(ctx, TRUE),
	                                           vigilctl_call_timeout(TRUE), &captures, NULL,
	                                           error))
		return FALSE;
	vigilctl_show(captures, ctx->json, NULL, vigilctl_captures_format);
	return TRUE;
}

static gboolean
remove_captures(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv,
                GError **error)
{
	if (argc < 3) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("captures rm needs the id of a capture"));
		return FALSE;
	}
	for (int i = 2; i < argc; i++) {
		guint64 id;

		if (!vigilctl_parse_id(argv[i], &id, error) ||
		    !vigil_firewall_call_remove_capture_sync(
		        firewall, id, vigilctl_call_flags(ctx, TRUE), vigilctl_call_timeout(TRUE),
		        NULL, error))
			return FALSE;
		g_print(_("Removed capture %" PRIu64 ".\n"), id);
	}
	return TRUE;
}

gboolean
vigilctl_cmd_captures(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, N_("[rm ID…]"),
	    N_("Lists the packet captures of capture rules (an id with * is still being "
	       "recorded), or removes them (rm)."),
	    N_("The files are root's, in vigild's state directory (/var/lib/vigil/captures): "
	       "read them with 'tcpdump -r' or Wireshark."),
	    NULL);
	VigilFirewall *firewall = NULL;

	if (!vigilctl_parse_options(context, &argc, &argv, error))
		return FALSE;
	if (argc > 1 && g_strcmp0(argv[1], "rm") != 0 && g_strcmp0(argv[1], "remove") != 0) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("unknown captures command '%s' (rm)"), argv[1]);
		return FALSE;
	}
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	ctx->permission_hint = CAPTURES_HINT;
	vigilctl_start_tty_agent(ctx);
	if (argc > 1)
		return remove_captures(ctx, firewall, argc, argv, error);
	return list_captures(ctx, firewall, error);
}
