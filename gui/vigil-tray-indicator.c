/* vigil-tray-indicator.c: the tray icon and its menu, through libayatana-appindicator, which falls
 * back to a GtkStatusIcon by itself when no StatusNotifierWatcher is on the session bus (on X11
 * only: Wayland has no XEmbed tray) */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>
#include <libayatana-appindicator/app-indicator.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

#include "vigil-tray-indicator.h"

/* symbolic icons in the hicolor theme (data/icons), one per state */
#define ICON_FILTERING   "org.vigil.Tray-filtering-symbolic"
#define ICON_PAUSED      "org.vigil.Tray-paused-symbolic"
#define ICON_PROMPT      "org.vigil.Tray-prompt-symbolic"
#define ICON_UNREACHABLE "org.vigil.Tray-offline-symbolic"

/* libayatana-appindicator 0.5.92 can miss a StatusNotifierWatcher whose name appears while it
 * is still connecting to the session bus ("g_dbus_proxy_new: assertion ... failed"), and then
 * never shows the icon; it is made again when it is not connected this long after a watcher
 * appeared */
#define WATCHER_CHECK_SECONDS 3
#define WATCHER_MAX_RETRIES   3
#define WATCHER_NAME          "org.kde.StatusNotifierWatcher"

struct _VigilTrayIndicator {
	GObject parent;

	GtkApplication *app;
	AppIndicator *indicator;
	guint watcher_id;
	guint check_id;
	guint retries;
	/* the last state shown, to show it again on a new indicator */
	VigilTrayIndicatorState state;
	char *status;
	guint pending;
	GtkBuilder *builder;
	GtkMenu *menu;
	GtkMenuItem *status_item;
	GtkMenuItem *pending_item;
	GtkMenuItem *pause_item;
};

G_DEFINE_TYPE(VigilTrayIndicator, vigil_tray_indicator, G_TYPE_OBJECT)

/* an AppIndicator that falls back to a GtkStatusIcon only on X11: on Wayland (GNOME, KDE) there
 * is no XEmbed tray to embed it in, and the icon, which has no widget there, only makes GTK
 * complain; without a StatusNotifier host the main window says how to get one instead */
typedef struct {
	AppIndicator parent;
} VigilAppIndicator;

typedef struct {
	AppIndicatorClass parent_class;
} VigilAppIndicatorClass;

static GType vigil_app_indicator_get_type(void);
G_DEFINE_TYPE(VigilAppIndicator, vigil_app_indicator, APP_INDICATOR_TYPE)

static GtkStatusIcon *
no_fallback(AppIndicator *indicator)
{
	return NULL;
}

static void
no_unfallback(AppIndicator *indicator, GtkStatusIcon *status_icon)
{
}

static gboolean
on_x11(void)
{
#ifdef GDK_WINDOWING_X11
	return GDK_IS_X11_DISPLAY(gdk_display_get_default());
#else
	return FALSE;
#endif
}

static void
vigil_app_indicator_class_init(VigilAppIndicatorClass *klass)
{
	/* the display is open by now: the class is made with the first indicator */
	if (on_x11())
		return;
	klass->parent_class.fallback = no_fallback;
	klass->parent_class.unfallback = no_unfallback;
}

static void
vigil_app_indicator_init(VigilAppIndicator *self)
{
}

void
vigil_tray_indicator_update(VigilTrayIndicator *self, VigilTrayIndicatorState state,
                            const char *status, guint pending)
{
	g_autofree char *pending_text = NULL;
	const char *icon = ICON_UNREACHABLE;
	const char *description = _("Vigil is not running");

	g_return_if_fail(VIGIL_IS_TRAY_INDICATOR(self));

	self->state = state;
	self->pending = pending;
	if (status != self->status) {
		g_free(self->status);
		self->status = g_strdup(status);
	}
	switch (state) {
	case VIGIL_TRAY_INDICATOR_FILTERING:
		icon = ICON_FILTERING;
		description = _("Vigil is filtering");
		break;
	case VIGIL_TRAY_INDICATOR_PAUSED:
		icon = ICON_PAUSED;
		description = _("Vigil filtering is paused");
		break;
	case VIGIL_TRAY_INDICATOR_UNREACHABLE:
		break;
	}
	app_indicator_set_icon_full(self->indicator, icon, description);
	app_indicator_set_title(self->indicator, description);
	/* while requests wait, the host shows the attention icon instead */
	app_indicator_set_status(self->indicator, pending > 0 ? APP_INDICATOR_STATUS_ATTENTION
	                                                      : APP_INDICATOR_STATUS_ACTIVE);

	gtk_menu_item_set_label(self->status_item, status);
	if (pending == 0)
		pending_text = g_strdup(_("No connection requests waiting"));
	else
		pending_text = g_strdup_printf(ngettext("%u connection request waiting…",
		                                        "%u connection requests waiting…", pending),
		                               pending);
	gtk_menu_item_set_label(self->pending_item, pending_text);
	gtk_menu_item_set_label(self->pause_item, state == VIGIL_TRAY_INDICATOR_PAUSED
	                                              ? _("Res_ume Filtering")
	                                              : _("P_ause Filtering"));
}

static void
vigil_tray_indicator_dispose(GObject *object)
{
	VigilTrayIndicator *self = VIGIL_TRAY_INDICATOR(object);

	g_clear_handle_id(&self->watcher_id, g_bus_unwatch_name);
	g_clear_handle_id(&self->check_id, g_source_remove);
	g_clear_object(&self->indicator);
	g_clear_object(&self->builder);
	g_clear_pointer(&self->status, g_free);
	G_OBJECT_CLASS(vigil_tray_indicator_parent_class)->dispose(object);
}

static void
vigil_tray_indicator_class_init(VigilTrayIndicatorClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vigil_tray_indicator_dispose;
}

static void
vigil_tray_indicator_init(VigilTrayIndicator *self)
{
}

/* the indicator with a menu of its own: the dbusmenu export keeps state on the menu's items */
static void
make_indicator(VigilTrayIndicator *self)
{
	/* a retry: whatever else still holds the old indicator, its D-Bus objects must go now,
	 * or the new one cannot export at the same path (seen in CI: "already exported") */
	if (self->indicator != NULL)
		g_object_run_dispose(G_OBJECT(self->indicator));
	g_clear_object(&self->indicator);
	g_clear_object(&self->builder);
	self->builder = gtk_builder_new_from_resource("/org/vigil/Tray/vigil-tray-menu.ui");
	self->menu = GTK_MENU(gtk_builder_get_object(self->builder, "menu"));
	self->status_item = GTK_MENU_ITEM(gtk_builder_get_object(self->builder, "status_item"));
	self->pending_item = GTK_MENU_ITEM(gtk_builder_get_object(self->builder, "pending_item"));
	self->pause_item = GTK_MENU_ITEM(gtk_builder_get_object(self->builder, "pause_item"));
	/* the menu belongs to no window: its action names ("app.quit") resolve here */
	gtk_widget_insert_action_group(GTK_WIDGET(self->menu), "app", G_ACTION_GROUP(self->app));

	/* app_indicator_new() with our class: the same properties */
	self->indicator =
	    g_object_new(vigil_app_indicator_get_type(), "id", "org.vigil.Tray", "category",
	                 "SystemServices", "icon-name", ICON_UNREACHABLE, NULL);
	app_indicator_set_attention_icon_full(self->indicator, ICON_PROMPT,
	                                      _("A connection request is waiting"));
	app_indicator_set_menu(self->indicator, self->menu);
	/* a middle click shows the waiting requests */
	app_indicator_set_secondary_activate_target(self->indicator,
	                                            GTK_WIDGET(self->pending_item));
	app_indicator_set_status(self->indicator, APP_INDICATOR_STATUS_ACTIVE);
}

static gboolean
check_connected(gpointer user_data)
{
	VigilTrayIndicator *self = user_data;
	gboolean connected = FALSE;

	self->check_id = 0;
	g_object_get(self->indicator, "connected", &connected, NULL);
	if (connected || self->retries >= WATCHER_MAX_RETRIES)
		return G_SOURCE_REMOVE;
	self->retries++;
	g_message("the tray icon did not reach the StatusNotifierWatcher; trying again");
	make_indicator(self);
	if (self->status != NULL)
		vigil_tray_indicator_update(self, self->state, self->status, self->pending);
	self->check_id = g_timeout_add_seconds(WATCHER_CHECK_SECONDS, check_connected, self);
	return G_SOURCE_REMOVE;
}

static void
watcher_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer user_data)
{
	VigilTrayIndicator *self = user_data;

	self->retries = 0;
	g_clear_handle_id(&self->check_id, g_source_remove);
	self->check_id = g_timeout_add_seconds(WATCHER_CHECK_SECONDS, check_connected, self);
}

VigilTrayIndicator *
vigil_tray_indicator_new(GtkApplication *app)
{
	VigilTrayIndicator *self = g_object_new(VIGIL_TYPE_TRAY_INDICATOR, NULL);

	/* the application owns the indicator: no reference back */
	self->app = app;
	make_indicator(self);
	self->watcher_id =
	    g_bus_watch_name(G_BUS_TYPE_SESSION, WATCHER_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
	                     watcher_appeared, NULL, self, NULL);
	return self;
}
