/* vigilctl-export.c: vigilctl export: the caller's history on disk, as CSV or JSON */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "vigil-client-csv.h"
#include "vigilctl-output.h"
#include "vigilctl.h"

/*
 * The history may hold millions of decisions: it is read in pages of PAGE_ROWS, oldest first
 * (GetConnections with history, oldest, after), and each page is written out before the next
 * is asked for, so neither vigild nor vigilctl ever holds more than a page.
 */
#define PAGE_ROWS 1000
/* vigild answers one history query per user at a time (Busy): wait for the other one */
#define BUSY_RETRIES 50
#define BUSY_WAIT_US (200 * 1000)

typedef enum {
	FORMAT_CSV,
	FORMAT_JSON,
} ExportFormat;

typedef struct {
	char *since;
	char *until;
	char *format;
	int uid;
} ExportOptions;

static void
export_options_clear(ExportOptions *options)
{
	g_clear_pointer(&options->since, g_free);
	g_clear_pointer(&options->until, g_free);
	g_clear_pointer(&options->format, g_free);
}

/* one page: GetConnections, waiting while another of the caller's history queries runs */
static GVariant *
read_page(VigilFirewall *firewall, GVariant *base, guint64 after, GError **error)
{
	for (guint attempt = 0;; attempt++) {
		g_auto(GVariantDict) dict;
		g_autoptr(GVariant) conns = NULL;
		g_autoptr(GError) local = NULL;

		g_variant_dict_init(&dict, base);
		g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_AFTER, "t", after);
		if (vigil_firewall_call_get_connections_sync(firewall, g_variant_dict_end(&dict),
		                                             G_DBUS_CALL_FLAGS_NONE, -1, &conns,
		                                             NULL, &local))
			return g_steal_pointer(&conns);
		if (!g_error_matches(local, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY) ||
		    attempt >= BUSY_RETRIES) {
			g_propagate_error(error, g_steal_pointer(&local));
			return NULL;
		}
		g_usleep(BUSY_WAIT_US);
	}
}

static gboolean
write_out(const char *text, GError **error)
{
	size_t len = strlen(text);

	if (fwrite(text, 1, len, stdout) == len)
		return TRUE;
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED, _("could not write: %s"),
	            g_strerror(errno));
	return FALSE;
}

/* the page's decisions written out; *@after: the last one's id; *@n: how many */
static gboolean
write_page(GVariant *conns, ExportFormat format, guint64 *written, guint64 *after, guint *n,
           GError **error)
{
	GVariantIter iter;
	GVariant *conn = NULL;

	*n = 0;
	g_variant_iter_init(&iter, conns);
	while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = conn;
		g_autofree char *text = NULL;

		g_variant_lookup(conn, VIGIL_CONN_KEY_ID, "t", after);
		if (format == FORMAT_CSV) {
			text = vigil_csv_row(conn);
		} else {
			g_autofree char *json = vigilctl_json_from_variant(conn);

			text = g_strdup_printf("%s%s", *written > 0 ? ",\n" : "", json);
		}
		if (!write_out(text, error))
			return FALSE;
		(*written)++;
		(*n)++;
	}
	return TRUE;
}

static gboolean
parse_format(const char *text, gboolean json, ExportFormat *format, GError **error)
{
	if (text == NULL)
		*format = json ? FORMAT_JSON : FORMAT_CSV;
	else if (g_str_equal(text, "csv"))
		*format = FORMAT_CSV;
	else if (g_str_equal(text, "json"))
		*format = FORMAT_JSON;
	else {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("--format: '%s' is not csv or json"), text);
		return FALSE;
	}
	return TRUE;
}

/* the filter of every page: the history, oldest first, in pages */
static gboolean
build_base(const ExportOptions *options, GVariant **base, GError **error)
{
	g_autoptr(GVariant) filter = NULL;
	GVariantDict dict;

	if (!vigilctl_log_build_filter(NULL, NULL, options->since, options->until, PAGE_ROWS,
	                               options->uid, g_get_real_time(), &filter, error))
		return FALSE;
	g_variant_dict_init(&dict, filter);
	g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_HISTORY, "b", TRUE);
	g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_OLDEST, "b", TRUE);
	*base = g_variant_ref_sink(g_variant_dict_end(&dict));
	return TRUE;
}

static gboolean export(VigilctlContext *ctx, const ExportOptions *options, ExportFormat format,
                       GError **error)
{
	g_autoptr(GVariant) base = NULL;
	VigilFirewall *firewall = NULL;
	guint64 written = 0, after = 0;
	guint n = PAGE_ROWS;

	if (!build_base(options, &base, error))
		return FALSE;
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	ctx->permission_hint = _("only root may read other users' connections");
	/* the first page before any output: an error leaves no half file behind */
	{
		g_autoptr(GVariant) first = read_page(firewall, base, after, error);
		g_autofree char *header =
		    format == FORMAT_CSV ? vigil_csv_header() : g_strdup("[\n");

		if (first == NULL || !write_out(header, error) ||
		    !write_page(first, format, &written, &after, &n, error))
			return FALSE;
	}
	while (n == PAGE_ROWS) {
		g_autoptr(GVariant) page = read_page(firewall, base, after, error);

		if (page == NULL || !write_page(page, format, &written, &after, &n, error))
			return FALSE;
	}
	if (format == FORMAT_JSON && !write_out(written > 0 ? "\n]\n" : "]\n", error))
		return FALSE;
	if (fflush(stdout) != 0) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED, _("could not write: %s"),
		            g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

gboolean
vigilctl_cmd_export(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	ExportOptions options = {.uid = -1};
	const GOptionEntry entries[] = {
	    {"format", 'f', 0, G_OPTION_ARG_STRING, &options.format,
	     N_("csv (the default) or json"), N_("FORMAT")},
	    {"since", 's', 0, G_OPTION_ARG_STRING, &options.since,
	     N_("Only decisions since this long ago (10m, 2h, 1d) or this time (ISO 8601, 12:00)"),
	     N_("TIME")},
	    {"until", 0, 0, G_OPTION_ARG_STRING, &options.until,
	     N_("Only decisions until this long ago or this time"), N_("TIME")},
	    {"uid", 'u', 0, G_OPTION_ARG_INT, &options.uid,
	     N_("Only this user's connections (root sees every user's)"), N_("UID")},
	    G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "",
	    N_("Writes vigild's history on disk to standard output, oldest first: your own "
	       "connections (root: everyone's)."),
	    N_("CSV has a header line; JSON is one array of connection objects. Times are\n"
	       "ISO 8601 in UTC in CSV, unix microseconds in JSON."),
	    entries);
	ExportFormat format = FORMAT_CSV;
	gboolean ok = FALSE;

	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_options_only(argc, "export", error))
		goto out;
	if (!parse_format(options.format, ctx->json, &format, error))
		goto out;
	ok = export(ctx, &options, format, error);
out:
	export_options_clear(&options);
	return ok;
}
