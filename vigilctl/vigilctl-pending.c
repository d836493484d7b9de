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
	g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	GVariantIter iter;
	guint64 id = 0;
	GVariant *conn = NULL;

	g_variant_iter_init(&iter, requests);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &conn)) {
		g_autoptr(GVariant) owned = conn;
		g_auto(GVariantDict) dict;

		g_variant_dict_init(&dict, conn);
		g_variant_dict_insert(&dict, "request", "t", id);
		g_variant_builder_add_value(&list, g_variant_dict_end(&dict));
	}
	return g_variant_builder_end(&list);
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

	if (!vigilctl_parse_options(context, &argc, &argv, error))
		return FALSE;
	if (argc > 1) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("pending takes no arguments"));
		return FALSE;
	}
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	if (!vigil_firewall_call_get_pending_sync(firewall, G_DBUS_CALL_FLAGS_NONE, -1, &requests,
	                                          NULL, error))
		return FALSE;
	if (ctx->json) {
		g_autoptr(GVariant) list =
		    g_variant_ref_sink(vigilctl_pending_json_variant(requests));
		g_autofree char *json = vigilctl_json_from_variant(list);

		g_print("%s\n", json);
	} else {
		g_autofree char *text = vigilctl_pending_format(requests);

		g_print("%s", text);
	}
	return TRUE;
}
