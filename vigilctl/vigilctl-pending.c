/* vigilctl-pending.c: vigilctl pending: the connections held while vigild waits for an answer */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include "vigilctl-output.h"
#include "vigilctl.h"

char *
vigilctl_pending_format(GVariant *requests)
{
	g_autoptr(VigilctlTable) table =
	    vigilctl_table_new(9, _("REQUEST"), _("PROGRAM"), _("PID"), _("USER"), _("DESTINATION"),
	                       _("PORT"), _("PROTO"), _("WAITING"), _("TIME LEFT"));
	GVariantIter iter;
	guint64 id = 0;
	GVariant *conn = NULL;

	vigilctl_table_align_right(table, 0);
	vigilctl_table_align_right(table, 2);
	vigilctl_table_align_right(table, 7);
	vigilctl_table_align_right(table, 8);
	g_variant_iter_init(&iter, requests);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &conn)) {
		g_autoptr(GVariant) owned = conn;
		guint32 pid = 0;
		guint32 connections = 0;
		guint32 timeout = 0;
		g_autofree char *id_text = g_strdup_printf("%" G_GUINT64_FORMAT, id);
		g_autofree char *program = vigilctl_format_program(conn);
		g_autofree char *pid_text = NULL;
		g_autofree char *user = vigilctl_format_user(conn);
		g_autofree char *destination = vigilctl_format_destination(conn);
		g_autofree char *port = vigilctl_format_port(conn);
		g_autofree char *waiting = NULL;
		g_autofree char *left = NULL;

		if (g_variant_lookup(conn, VIGIL_CONN_KEY_PID, "u", &pid))
			pid_text = g_strdup_printf("%" G_GUINT32_FORMAT, pid);
		if (g_variant_lookup(conn, VIGIL_CONN_KEY_CONNECTIONS, "u", &connections))
			waiting = g_strdup_printf("%" G_GUINT32_FORMAT, connections);
		if (g_variant_lookup(conn, VIGIL_CONN_KEY_TIMEOUT, "u", &timeout))
			left = g_strdup_printf("%" G_GUINT32_FORMAT " s", timeout);
		vigilctl_table_add_row(table, id_text, program, pid_text, user, destination, port,
		                       vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROTOCOL), waiting,
		                       left);
	}
	if (vigilctl_table_n_rows(table) == 0)
		return g_strdup(_("No connections are waiting for an answer.\n"));
	return vigilctl_table_render(table);
}

/* [{"request": 7, "program": ..., ...}, ...] */
GVariant *
vigilctl_pending_json_variant(GVariant *requests)
{
	return vigilctl_json_list_with_ids(requests, "request");
}

gboolean
vigilctl_cmd_pending(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "",
	    N_("Lists the connections vigild holds while it waits for an answer to a prompt: your "
	       "own (root: everyone's)."),
	    N_("Answer them with 'vigilctl prompt' or the tray app."), NULL);
	g_autoptr(GVariant) requests = NULL;
	VigilFirewall *firewall = NULL;

	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_no_arguments(argc, "pending", error))
		return FALSE;
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	if (!vigil_firewall_call_get_pending_sync(firewall, G_DBUS_CALL_FLAGS_NONE, -1, &requests,
	                                          NULL, error))
		return FALSE;
	vigilctl_show(requests, ctx->json, vigilctl_pending_json_variant, vigilctl_pending_format);
	return TRUE;
}
