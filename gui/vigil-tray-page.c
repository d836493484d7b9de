/* vigil-tray-page.c: the base of the main window's pages: the client, cancellable calls, a
 * refresh timer that runs only while the page is shown */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include "vigil-tray-page.h"

typedef struct {
	VigilTrayClient *client;
	GCancellable *cancellable;
	guint refresh_interval_ms;
	guint refresh_id;
} VigilTrayPagePrivate;

G_DEFINE_TYPE_WITH_PRIVATE(VigilTrayPage, vigil_tray_page, GTK_TYPE_BIN)

#define PRIV(self) ((VigilTrayPagePrivate *)vigil_tray_page_get_instance_private(self))

static gboolean
refresh_timeout(gpointer user_data)
{
	VigilTrayPage *self = user_data;

	VIGIL_TRAY_PAGE_GET_CLASS(self)->refresh(self);
	return G_SOURCE_CONTINUE;
}

static void
start_refresh(VigilTrayPage *self)
{
	VigilTrayPagePrivate *priv = PRIV(self);
	guint ms = priv->refresh_interval_ms;

	if (ms == 0 || priv->refresh_id != 0 || VIGIL_TRAY_PAGE_GET_CLASS(self)->refresh == NULL)
		return;
	priv->refresh_id = ms % 1000 == 0 ? g_timeout_add_seconds(ms / 1000, refresh_timeout, self)
	                                  : g_timeout_add(ms, refresh_timeout, self);
}

/* a GtkStack maps only its visible page: mapped is shown */
static void
page_map(GtkWidget *widget)
{
	VigilTrayPage *self = VIGIL_TRAY_PAGE(widget);

	GTK_WIDGET_CLASS(vigil_tray_page_parent_class)->map(widget);
	if (VIGIL_TRAY_PAGE_GET_CLASS(self)->shown != NULL)
		VIGIL_TRAY_PAGE_GET_CLASS(self)->shown(self);
	start_refresh(self);
}

static void
page_unmap(GtkWidget *widget)
{
	g_clear_handle_id(&PRIV(VIGIL_TRAY_PAGE(widget))->refresh_id, g_source_remove);
	GTK_WIDGET_CLASS(vigil_tray_page_parent_class)->unmap(widget);
}

static void
vigil_tray_page_dispose(GObject *object)
{
	VigilTrayPage *self = VIGIL_TRAY_PAGE(object);
	VigilTrayPagePrivate *priv = PRIV(self);

	g_clear_handle_id(&priv->refresh_id, g_source_remove);
	if (priv->cancellable != NULL)
		g_cancellable_cancel(priv->cancellable);
	g_clear_object(&priv->cancellable);
	if (priv->client != NULL)
		g_signal_handlers_disconnect_by_data(priv->client, self);
	g_clear_object(&priv->client);
	G_OBJECT_CLASS(vigil_tray_page_parent_class)->dispose(object);
}

static void
vigil_tray_page_class_init(VigilTrayPageClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vigil_tray_page_dispose;
	GTK_WIDGET_CLASS(klass)->map = page_map;
	GTK_WIDGET_CLASS(klass)->unmap = page_unmap;
}

static void
vigil_tray_page_init(VigilTrayPage *self)
{
	PRIV(self)->cancellable = g_cancellable_new();
}

void
vigil_tray_page_set_client(VigilTrayPage *self, VigilTrayClient *client)
{
	VigilTrayPagePrivate *priv;

	g_return_if_fail(VIGIL_IS_TRAY_PAGE(self));
	priv = PRIV(self);
	if (priv->client != NULL)
		g_signal_handlers_disconnect_by_data(priv->client, self);
	g_set_object(&priv->client, client);
}

VigilTrayClient *
vigil_tray_page_get_client(VigilTrayPage *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_PAGE(self), NULL);
	return PRIV(self)->client;
}

GCancellable *
vigil_tray_page_get_cancellable(VigilTrayPage *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_PAGE(self), NULL);
	return PRIV(self)->cancellable;
}

void
vigil_tray_page_cancel_calls(VigilTrayPage *self)
{
	VigilTrayPagePrivate *priv;

	g_return_if_fail(VIGIL_IS_TRAY_PAGE(self));
	priv = PRIV(self);
	if (priv->cancellable == NULL)
		return;
	g_cancellable_cancel(priv->cancellable);
	g_object_unref(priv->cancellable);
	priv->cancellable = g_cancellable_new();
}

void
vigil_tray_page_set_refresh_interval(VigilTrayPage *self, guint interval_ms)
{
	g_return_if_fail(VIGIL_IS_TRAY_PAGE(self));
	PRIV(self)->refresh_interval_ms = interval_ms;
	if (vigil_tray_page_is_shown(self))
		start_refresh(self);
}

gboolean
vigil_tray_page_is_shown(VigilTrayPage *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_PAGE(self), FALSE);
	return gtk_widget_get_mapped(GTK_WIDGET(self));
}

GtkWindow *
vigil_tray_page_get_toplevel(VigilTrayPage *self)
{
	GtkWidget *toplevel;

	g_return_val_if_fail(VIGIL_IS_TRAY_PAGE(self), NULL);
	toplevel = gtk_widget_get_toplevel(GTK_WIDGET(self));
	return GTK_IS_WINDOW(toplevel) ? GTK_WINDOW(toplevel) : NULL;
}
