/* vigil-tray-export.c: the Network Monitor's Export: history pages to a CSV file */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <string.h>

#include "vigil-tray-export.h"

/* as vigilctl export: a page at a time, so neither side holds the whole history */
#define PAGE_ROWS 1000
/* one history query per user at a time (Busy): the monitor's own may be running */
#define BUSY_RETRIES 50
#define BUSY_WAIT_MS 200

typedef struct {
	VigilFirewall *firewall;
	GVariant *base;
	GOutputStream *out;
	guint64 after;
	gint64 rows;
	guint retries;
} Export;

static void
export_free(Export *e)
{
	g_clear_object(&e->firewall);
	g_clear_pointer(&e->base, g_variant_unref);
	if (e->out != NULL && !g_output_stream_is_closed(e->out)) {
		/* closed while cancelled: GIO removes the new file and keeps the old one */
		g_autoptr(GCancellable) abort = g_cancellable_new();

		g_cancellable_cancel(abort);
		g_output_stream_close(e->out, abort, NULL);
	}
	g_clear_object(&e->out);
	g_free(e);
}

static void read_page(GTask *task);

static gboolean
write_text(Export *e, const char *text, GCancellable *cancellable, GError **error)
{
	/* a local file, a page at a time: short enough for the main loop */
	return g_output_stream_write_all(e->out, text, strlen(text), NULL, cancellable, error);
}

static gboolean
retry_page(gpointer user_data)
{
	read_page(user_data);
	return G_SOURCE_REMOVE;
}

static void
page_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	Export *e = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);
	g_autoptr(GVariant) page = NULL;
	g_autoptr(GError) error = NULL;
	GVariantIter iter;
	GVariant *conn;
	guint n = 0;

	if (!vigil_firewall_call_get_connections_finish(VIGIL_FIREWALL(source), &page, res,
	                                                &error)) {
		if (g_error_matches(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY) &&
		    e->retries++ < BUSY_RETRIES) {
			g_timeout_add_full(G_PRIORITY_DEFAULT, BUSY_WAIT_MS, retry_page,
			                   g_steal_pointer(&task), g_object_unref);
			return;
		}
		g_dbus_error_strip_remote_error(error);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	e->retries = 0;
	g_variant_iter_init(&iter, page);
	while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = conn;
		g_autofree char *row = vigil_csv_row(conn);

		g_variant_lookup(conn, VIGIL_CONN_KEY_ID, "t", &e->after);
		if (!write_text(e, row, cancellable, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		e->rows++;
		n++;
	}
	if (n == PAGE_ROWS) {
		read_page(g_steal_pointer(&task));
		return;
	}
	if (!g_output_stream_close(e->out, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_int(task, e->rows);
}

static void
read_page(GTask *task)
{
	Export *e = g_task_get_task_data(task);
	GVariantDict dict;

	g_variant_dict_init(&dict, e->base);
	g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_AFTER, "t", e->after);
	vigil_firewall_call_get_connections(e->firewall, g_variant_dict_end(&dict),
	                                    G_DBUS_CALL_FLAGS_NONE, -1,
	                                    g_task_get_cancellable(task), page_cb, task);
}

void
vigil_tray_export_csv_async(VigilFirewall *firewall, GVariant *filter, GFile *file,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	Export *e = g_new0(Export, 1);
	g_autoptr(GVariant) owned = g_variant_ref_sink(filter);
	g_autoptr(GError) error = NULL;
	g_autofree char *header = vigil_csv_header();
	GVariantDict dict;

	g_task_set_source_tag(task, vigil_tray_export_csv_async);
	g_task_set_task_data(task, e, (GDestroyNotify)export_free);
	e->firewall = g_object_ref(firewall);
	g_variant_dict_init(&dict, owned);
	g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_HISTORY, "b", TRUE);
	g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_OLDEST, "b", TRUE);
	g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_LIMIT, "u", (guint32)PAGE_ROWS);
	e->base = g_variant_ref_sink(g_variant_dict_end(&dict));
	/* the user's own file, replaced atomically when it is complete */
	e->out = G_OUTPUT_STREAM(g_file_replace(
	    file, NULL, FALSE, G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
	    cancellable, &error));
	if (e->out == NULL || !write_text(e, header, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	read_page(task);
}

gint64
vigil_tray_export_csv_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), -1);
	return g_task_propagate_int(G_TASK(result), error);
}
