/* vigil-tray-indicator.h: the tray icon (StatusNotifierItem, or a GtkStatusIcon without a host) */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
	VIGIL_TRAY_INDICATOR_FILTERING,
	VIGIL_TRAY_INDICATOR_PAUSED,
	VIGIL_TRAY_INDICATOR_UNREACHABLE,
} VigilTrayIndicatorState;

#define VIGIL_TYPE_TRAY_INDICATOR (vigil_tray_indicator_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayIndicator, vigil_tray_indicator, VIGIL, TRAY_INDICATOR, GObject)

/* the menu's items run actions of @app: app.show-prompts, app.rules, app.monitor,
 * app.preferences, app.toggle-filtering and app.quit */
VigilTrayIndicator *vigil_tray_indicator_new(GtkApplication *app);

/* shows the state in the icon and the menu; @status is the menu's first line, @pending
 * the number of requests waiting (the icon asks for attention while there are any) */
void vigil_tray_indicator_update(VigilTrayIndicator *self, VigilTrayIndicatorState state,
                                 const char *status, guint pending);

G_END_DECLS
