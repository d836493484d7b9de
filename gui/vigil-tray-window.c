/* vigil-tray-window.c: the base of vigil-tray's windows: the client, cancellable calls, a
 * refresh timer that runs only while the window is shown */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include "vigil-tray-window.h"

typedef struct {
	VigilTrayClient *client;
	GCancellable *cancellable;
	guint refresh_interval_ms;
	guint refresh_id;
	GtkWidget *content; /* taken out to be a page of another window; NULL: shown here */
} VigilTrayWindowPrivate;

G_DEFINE_TYPE_WITH_PRIVATE(VigilTrayWindow, vigil_tray_window, GTK_TYPE_APPLICATION_WINDOW)

#define PRIV(self) ((VigilTrayWindowPrivate *)vigil_tray_window_get_instance_private(self))

static gboolean
refresh_timeout(gpointer user_data)
{
	VigilTrayWindow *self = user_data;

	VIGIL_TRAY_WINDOW_GET_CLASS(self)->refresh(self);
	return G_SOURCE_CONTINUE;
}

static void
start_refresh(VigilTrayWindow *self)
{
	VigilTrayWindowPrivate *priv = PRIV(self);
	guint ms = priv->refresh_interval_ms;

	if (ms == 0 || priv->refresh_id != 0 || VIGIL_TRAY_WINDOW_GET_CLASS(self)->refresh == NULL)
		return;
	priv->refresh_id = ms % 1000 == 0 ? g_timeout_add_seconds(ms / 1000, refresh_timeout, self)
	                                  : g_timeout_add(ms, refresh_timeout, self);
}

static void
shown(VigilTrayWindow *self)
{
	if (VIGIL_TRAY_WINDOW_GET_CLASS(self)->shown != NULL)
		VIGIL_TRAY_WINDOW_GET_CLASS(self)->shown(self);
	start_refresh(self);
}

static void
hidden(VigilTrayWindow *self)
{
	g_clear_handle_id(&PRIV(self)->refresh_id, g_source_remove);
}

static void
window_map(GtkWidget *widget)
{
	GTK_WIDGET_CLASS(vigil_tray_window_parent_class)->map(widget);
	shown(VIGIL_TRAY_WINDOW(widget));
}

static void
window_unmap(GtkWidget *widget)
{
	hidden(VIGIL_TRAY_WINDOW(widget));
	GTK_WIDGET_CLASS(vigil_tray_window_parent_class)->unmap(widget);
}

static void
vigil_tray_window_dispose(GObject *object)
{
	VigilTrayWindow *self = VIGIL_TRAY_WINDOW(object);
	VigilTrayWindowPrivate *priv = PRIV(self);

	g_clear_handle_id(&priv->refresh_id, g_source_remove);
	if (priv->content != NULL)
		g_signal_handlers_disconnect_by_data(priv->content, self);
	g_clear_object(&priv->content);
	if (priv->cancellable != NULL)
		g_cancellable_cancel(priv->cancellable);
	g_clear_object(&priv->cancellable);
	if (priv->client != NULL)
		g_signal_handlers_disconnect_by_data(priv->client, self);
	g_clear_object(&priv->client);
	G_OBJECT_CLASS(vigil_tray_window_parent_class)->dispose(object);
}

static void
vigil_tray_window_class_init(VigilTrayWindowClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vigil_tray_window_dispose;
	GTK_WIDGET_CLASS(klass)->map = window_map;
	GTK_WIDGET_CLASS(klass)->unmap = window_unmap;
}

static void
vigil_tray_window_init(VigilTrayWindow *self)
{
	PRIV(self)->cancellable = g_cancellable_new();
}

void
vigil_tray_window_set_client(VigilTrayWindow *self, VigilTrayClient *client)
{
	VigilTrayWindowPrivate *priv;

	g_return_if_fail(VIGIL_IS_TRAY_WINDOW(self));
	priv = PRIV(self);
	if (priv->client != NULL)
		g_signal_handlers_disconnect_by_data(priv->client, self);
	g_set_object(&priv->client, client);
}

VigilTrayClient *
vigil_tray_window_get_client(VigilTrayWindow *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_WINDOW(self), NULL);
	return PRIV(self)->client;
}

GCancellable *
vigil_tray_window_get_cancellable(VigilTrayWindow *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_WINDOW(self), NULL);
	return PRIV(self)->cancellable;
}

void
vigil_tray_window_cancel_calls(VigilTrayWindow *self)
{
	VigilTrayWindowPrivate *priv;

	g_return_if_fail(VIGIL_IS_TRAY_WINDOW(self));
	priv = PRIV(self);
	if (priv->cancellable == NULL)
		return;
	g_cancellable_cancel(priv->cancellable);
	g_object_unref(priv->cancellable);
	priv->cancellable = g_cancellable_new();
}

void
vigil_tray_window_set_refresh_interval(VigilTrayWindow *self, guint interval_ms)
{
	g_return_if_fail(VIGIL_IS_TRAY_WINDOW(self));
	PRIV(self)->refresh_interval_ms = interval_ms;
	if (vigil_tray_window_is_shown(self))
		start_refresh(self);
}

GtkWidget *
vigil_tray_window_take_content(VigilTrayWindow *self)
{
	VigilTrayWindowPrivate *priv;
	GtkWidget *child;

	g_return_val_if_fail(VIGIL_IS_TRAY_WINDOW(self), NULL);
	priv = PRIV(self);
	g_return_val_if_fail(priv->content == NULL, NULL);
	child = gtk_bin_get_child(GTK_BIN(self));
	g_return_val_if_fail(child != NULL, NULL);
	priv->content = g_object_ref(child);
	gtk_container_remove(GTK_CONTAINER(self), child);
	g_signal_connect_swapped(child, "map", G_CALLBACK(shown), self);
	g_signal_connect_swapped(child, "unmap", G_CALLBACK(hidden), self);
	return child;
}

gboolean
vigil_tray_window_is_shown(VigilTrayWindow *self)
{
	GtkWidget *content;

	g_return_val_if_fail(VIGIL_IS_TRAY_WINDOW(self), FALSE);
	content = PRIV(self)->content;
	return gtk_widget_get_mapped(content != NULL ? content : GTK_WIDGET(self));
}

GtkWindow *
vigil_tray_window_get_toplevel(VigilTrayWindow *self)
{
	GtkWidget *toplevel;

	g_return_val_if_fail(VIGIL_IS_TRAY_WINDOW(self), NULL);
	if (PRIV(self)->content == NULL)
		return GTK_WINDOW(self);
	toplevel = gtk_widget_get_toplevel(PRIV(self)->content);
	return GTK_IS_WINDOW(toplevel) ? GTK_WINDOW(toplevel) : GTK_WINDOW(self);
}
