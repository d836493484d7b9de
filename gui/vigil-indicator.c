/* vigil-indicator.c: the tray icon and its menu, through libayatana-appindicator, which falls
 * back to a GtkStatusIcon by itself when no StatusNotifierWatcher is on the session bus */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>
#include <libayatana-appindicator/app-indicator.h>

#include "vigil-indicator.h"

/* symbolic icons in the hicolor theme (data/icons), one per state */
#define ICON_FILTERING   "org.vigil.Tray-filtering-symbolic"
#define ICON_PAUSED      "org.vigil.Tray-paused-symbolic"
#define ICON_PROMPT      "org.vigil.Tray-prompt-symbolic"
#define ICON_UNREACHABLE "org.vigil.Tray-offline-symbolic"

struct _VigilIndicator {
	GObject parent;

	AppIndicator *indicator;
	GtkBuilder *builder;
	GtkMenu *menu;
	GtkMenuItem *status_item;
	GtkMenuItem *pending_item;
	GtkMenuItem *pause_item;
};

G_DEFINE_TYPE(VigilIndicator, vigil_indicator, G_TYPE_OBJECT)

void
vigil_indicator_update(VigilIndicator *self, VigilIndicatorState state, const char *status,
                       guint pending)
{
	g_autofree char *pending_text = NULL;
	const char *icon = ICON_UNREACHABLE;
	const char *description = _("Vigil is not running");

	g_return_if_fail(VIGIL_IS_INDICATOR(self));

	switch (state) {
	case VIGIL_INDICATOR_FILTERING:
		icon = ICON_FILTERING;
		description = _("Vigil is filtering");
		break;
	case VIGIL_INDICATOR_PAUSED:
		icon = ICON_PAUSED;
		description = _("Vigil filtering is paused");
		break;
	case VIGIL_INDICATOR_UNREACHABLE:
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
	gtk_menu_item_set_label(self->pause_item, state == VIGIL_INDICATOR_PAUSED
	                                              ? _("Res_ume Filtering")
	                                              : _("P_ause Filtering"));
}

static void
vigil_indicator_dispose(GObject *object)
{
	VigilIndicator *self = VIGIL_INDICATOR(object);

	g_clear_object(&self->indicator);
	g_clear_object(&self->builder);
	G_OBJECT_CLASS(vigil_indicator_parent_class)->dispose(object);
}

static void
vigil_indicator_class_init(VigilIndicatorClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vigil_indicator_dispose;
}

static void
vigil_indicator_init(VigilIndicator *self)
{
}

VigilIndicator *
vigil_indicator_new(GtkApplication *app)
{
	VigilIndicator *self = g_object_new(VIGIL_TYPE_INDICATOR, NULL);

	self->builder = gtk_builder_new_from_resource("/org/vigil/Tray/vigil-tray-menu.ui");
	self->menu = GTK_MENU(gtk_builder_get_object(self->builder, "menu"));
	self->status_item = GTK_MENU_ITEM(gtk_builder_get_object(self->builder, "status_item"));
	self->pending_item = GTK_MENU_ITEM(gtk_builder_get_object(self->builder, "pending_item"));
	self->pause_item = GTK_MENU_ITEM(gtk_builder_get_object(self->builder, "pause_item"));
	/* the menu belongs to no window: its action names ("app.quit") resolve here */
	gtk_widget_insert_action_group(GTK_WIDGET(self->menu), "app", G_ACTION_GROUP(app));

	self->indicator = app_indicator_new("org.vigil.Tray", ICON_UNREACHABLE,
	                                    APP_INDICATOR_CATEGORY_SYSTEM_SERVICES);
	app_indicator_set_attention_icon_full(self->indicator, ICON_PROMPT,
	                                      _("A connection request is waiting"));
	app_indicator_set_menu(self->indicator, self->menu);
	/* a middle click shows the waiting requests */
	app_indicator_set_secondary_activate_target(self->indicator,
	                                            GTK_WIDGET(self->pending_item));
	app_indicator_set_status(self->indicator, APP_INDICATOR_STATUS_ACTIVE);
	return self;
}
