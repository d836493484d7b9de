/* vigil-indicator.h: the tray icon (StatusNotifierItem, or a GtkStatusIcon without a host) */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
	VIGIL_INDICATOR_FILTERING,
	VIGIL_INDICATOR_PAUSED,
	VIGIL_INDICATOR_UNREACHABLE,
} VigilIndicatorState;

#define VIGIL_TYPE_INDICATOR (vigil_indicator_get_type())
G_DECLARE_FINAL_TYPE(VigilIndicator, vigil_indicator, VIGIL, INDICATOR, GObject)

/* the menu's items run actions of @app: app.show-prompts, app.rules, app.monitor,
 * app.preferences, app.toggle-filtering and app.quit */
VigilIndicator *vigil_indicator_new(GtkApplication *app);

/* shows the state in the icon and the menu; @status is the menu's first line, @pending
 * the number of requests waiting (the icon asks for attention while there are any) */
void vigil_indicator_update(VigilIndicator *self, VigilIndicatorState state, const char *status,
                            guint pending);

G_END_DECLS
