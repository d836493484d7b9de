/* vigil-tray-destinations.c: a program's page of the Network Monitor: its destinations from
 * the history, with connections, verdicts and bytes */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-format.h"
#include "vigil-text.h"
#include "vigil-tray-destinations.h"

/* GetConnections' most from the history in one answer: the newest this many are counted */
#define MAX_CONNECTIONS 10000
#define BUSY_RETRIES    50
#define BUSY_WAIT_MS    200

enum {
	COL_DESTINATION,
	COL_CONNECTIONS,
	COL_ALLOWED,
	COL_DENIED,
	COL_BYTES_IN,
	COL_BYTES_OUT,
	COL_IN_TEXT,
	COL_OUT_TEXT,
	COL_LAST_TEXT,
	COL_LAST_US,
	N_COLUMNS,
};

struct _VigilTrayDestinations {
	GtkWindow parent;

	VigilFirewall *firewall;
	char *program;
	gint64 since_us;
	guint retries;
	GCancellable *cancellable;
	GtkListStore *store;
	GtkLabel *status_label;
};

G_DEFINE_TYPE(VigilTrayDestinations, vigil_tray_destinations, GTK_TYPE_WINDOW)

/* one destination's counts while the answer is read */
typedef struct {
	guint64 connections, allowed, denied, bytes_in, bytes_out;
	gint64 last_us;
} Counts;

static void
count(GHashTable *by_destination, GVariant *conn)
{
	const char *host = NULL;
	const char *verdict = NULL;
	guint64 bytes = 0;
	gint64 time_us = 0;
	Counts *c;

	if (!g_variant_lookup(conn, VIGIL_CONN_KEY_HOSTNAME, "&s", &host) &&
	    !g_variant_lookup(conn, VIGIL_CONN_KEY_DESTINATION, "&s", &host))
		host = "";
	c = g_hash_table_lookup(by_destination, host);
	if (c == NULL) {
		c = g_new0(Counts, 1);
		g_hash_table_insert(by_destination, g_strdup(host), c);
	}
	c->connections++;
	g_variant_lookup(conn, VIGIL_CONN_KEY_VERDICT, "&s", &verdict);
	if (g_strcmp0(verdict, "allow") == 0)
		c->allowed++;
	else
		c->denied++;
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_BYTES_IN, "t", &bytes))
		c->bytes_in += bytes;
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_BYTES_OUT, "t", &bytes))
		c->bytes_out += bytes;
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_TIME, "x", &time_us))
		c->last_us = MAX(c->last_us, time_us);
}

static void
fill(VigilTrayDestinations *self, GHashTable *by_destination)
{
	GHashTableIter iter;
	const char *host;
	Counts *c;
	gint64 now = g_get_real_time();

	gtk_list_store_clear(self->store);
	g_hash_table_iter_init(&iter, by_destination);
	while (g_hash_table_iter_next(&iter, (gpointer *)&host, (gpointer *)&c)) {
		g_autofree char *shown = vigil_text_sanitize(host, VIGIL_TEXT_MAX_LINE);
		g_autofree char *in = vigil_format_bytes(c->bytes_in);
		g_autofree char *out = vigil_format_bytes(c->bytes_out);
		g_autofree char *last = vigil_format_time_us(c->last_us, now);

		gtk_list_store_insert_with_values(
		    self->store, NULL, -1, COL_DESTINATION, shown, COL_CONNECTIONS, c->connections,
		    COL_ALLOWED, c->allowed, COL_DENIED, c->denied, COL_BYTES_IN, c->bytes_in,
		    COL_BYTES_OUT, c->bytes_out, COL_IN_TEXT, in, COL_OUT_TEXT, out, COL_LAST_TEXT,
		    last, COL_LAST_US, c->last_us, -1);
	}
}

static void read_connections(VigilTrayDestinations *self);

static gboolean
retry_read(gpointer user_data)
{
	read_connections(user_data);
	return G_SOURCE_REMOVE;
}

static void
connections_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayDestinations) self = user_data;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) by_destination =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GVariantIter iter;
	GVariant *conn;
	gsize n;

	if (!vigil_firewall_call_get_connections_finish(VIGIL_FIREWALL(source), &list, res,
	                                                &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		/* the monitor's own history query may be running: one per user at a time */
		if (g_error_matches(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY) &&
		    self->retries++ < BUSY_RETRIES) {
			g_timeout_add_full(G_PRIORITY_DEFAULT, BUSY_WAIT_MS, retry_read,
			                   g_object_ref(self), g_object_unref);
			return;
		}
		g_dbus_error_strip_remote_error(error);
		gtk_label_set_text(self->status_label, error->message);
		return;
	}
	n = g_variant_n_children(list);
	g_variant_iter_init(&iter, list);
	while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
		count(by_destination, conn);
		g_variant_unref(conn);
	}
	fill(self, by_destination);
	if (n >= MAX_CONNECTIONS) {
		g_autofree char *text = g_strdup_printf(
		    _("Counted from the newest %u connections of the range"), MAX_CONNECTIONS);

		gtk_label_set_text(self->status_label, text);
	} else {
		gtk_label_set_text(self->status_label, "");
	}
}

static void
read_connections(VigilTrayDestinations *self)
{
	GVariantBuilder filter;

	if (g_cancellable_is_cancelled(self->cancellable))
		return;
	g_variant_builder_init(&filter, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_HISTORY,
	                      g_variant_new_boolean(TRUE));
	g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_PROGRAM,
	                      g_variant_new_string(self->program));
	g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_SINCE,
	                      g_variant_new_int64(self->since_us));
	g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_LIMIT,
	                      g_variant_new_uint32(MAX_CONNECTIONS));
	vigil_firewall_call_get_connections(self->firewall, g_variant_builder_end(&filter),
	                                    G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
	                                    connections_cb, g_object_ref(self));
}

static void
add_column(GtkTreeView *view, const char *title, int text_column, int sort_column, gboolean expand)
{
	GtkCellRenderer *cell = gtk_cell_renderer_text_new();
	GtkTreeViewColumn *column =
	    gtk_tree_view_column_new_with_attributes(title, cell, "text", text_column, NULL);

	if (expand) {
		g_object_set(cell, "ellipsize", PANGO_ELLIPSIZE_END, NULL);
		gtk_tree_view_column_set_expand(column, TRUE);
		gtk_tree_view_column_set_resizable(column, TRUE);
	}
	gtk_tree_view_column_set_sort_column_id(column, sort_column);
	gtk_tree_view_append_column(view, column);
}

static GtkWidget *
build_view(VigilTrayDestinations *self)
{
	GtkTreeView *view =
	    GTK_TREE_VIEW(gtk_tree_view_new_with_model(GTK_TREE_MODEL(self->store)));

	add_column(view, _("Destination"), COL_DESTINATION, COL_DESTINATION, TRUE);
	add_column(view, _("Connections"), COL_CONNECTIONS, COL_CONNECTIONS, FALSE);
	add_column(view, _("Allowed"), COL_ALLOWED, COL_ALLOWED, FALSE);
	add_column(view, _("Denied"), COL_DENIED, COL_DENIED, FALSE);
	add_column(view, _("Received"), COL_IN_TEXT, COL_BYTES_IN, FALSE);
	add_column(view, _("Sent"), COL_OUT_TEXT, COL_BYTES_OUT, FALSE);
	add_column(view, _("Last Seen"), COL_LAST_TEXT, COL_LAST_US, FALSE);
	return GTK_WIDGET(view);
}

static void
destinations_dispose(GObject *object)
{
	VigilTrayDestinations *self = VIGIL_TRAY_DESTINATIONS(object);

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->firewall);
	g_clear_object(&self->store);
	G_OBJECT_CLASS(vigil_tray_destinations_parent_class)->dispose(object);
}

static void
destinations_finalize(GObject *object)
{
	g_free(VIGIL_TRAY_DESTINATIONS(object)->program);
	G_OBJECT_CLASS(vigil_tray_destinations_parent_class)->finalize(object);
}

static void
vigil_tray_destinations_class_init(VigilTrayDestinationsClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = destinations_dispose;
	G_OBJECT_CLASS(klass)->finalize = destinations_finalize;
}

static void
vigil_tray_destinations_init(VigilTrayDestinations *self)
{
	self->cancellable = g_cancellable_new();
	self->store = gtk_list_store_new(N_COLUMNS, G_TYPE_STRING, G_TYPE_UINT64, G_TYPE_UINT64,
	                                 G_TYPE_UINT64, G_TYPE_UINT64, G_TYPE_UINT64, G_TYPE_STRING,
	                                 G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT64);
	gtk_tree_sortable_set_sort_column_id(GTK_TREE_SORTABLE(self->store), COL_CONNECTIONS,
	                                     GTK_SORT_DESCENDING);
}

VigilTrayDestinations *
vigil_tray_destinations_new(GtkWindow *parent, VigilFirewall *firewall, const char *program,
                            gint64 since_us, const char *range_text)
{
	VigilTrayDestinations *self = g_object_new(VIGIL_TYPE_TRAY_DESTINATIONS, NULL);
	g_autofree char *base = g_path_get_basename(program);
	g_autofree char *name = vigil_text_sanitize(base, VIGIL_TEXT_MAX_NAME);
	g_autofree char *path = vigil_text_sanitize(program, VIGIL_TEXT_MAX_LINE);
	/* TRANSLATORS: the title of a program's page, %s is its name, e.g. "curl" */
	g_autofree char *title = g_strdup_printf(_("Destinations of %s"), name);
	/* TRANSLATORS: "/usr/bin/curl, in the last hour" */
	g_autofree char *heading = g_strdup_printf(_("%s, %s"), path, range_text);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *label = gtk_label_new(heading);
	GtkWidget *scrolled = gtk_scrolled_window_new(NULL, NULL);

	self->firewall = g_object_ref(firewall);
	self->program = g_strdup(program);
	self->since_us = since_us;
	gtk_window_set_title(GTK_WINDOW(self), title);
	gtk_window_set_default_size(GTK_WINDOW(self), 760, 420);
	gtk_window_set_transient_for(GTK_WINDOW(self), parent);
	gtk_window_set_destroy_with_parent(GTK_WINDOW(self), TRUE);
	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_START);
	gtk_style_context_add_class(gtk_widget_get_style_context(label), "vigil-heading");
	gtk_container_add(GTK_CONTAINER(box), label);
	gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(scrolled), GTK_SHADOW_IN);
	gtk_widget_set_vexpand(scrolled, TRUE);
	gtk_container_add(GTK_CONTAINER(scrolled), build_view(self));
	gtk_container_add(GTK_CONTAINER(box), scrolled);
	self->status_label = GTK_LABEL(gtk_label_new(""));
	gtk_label_set_xalign(self->status_label, 0);
	gtk_container_add(GTK_CONTAINER(box), GTK_WIDGET(self->status_label));
	gtk_container_add(GTK_CONTAINER(self), box);
	gtk_widget_show_all(box);
	read_connections(self);
	return self;
}
