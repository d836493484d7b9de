/* vigil-tray-app.h: the vigil-tray application: one instance per session */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VIGIL_TRAY_APP_ID "org.vigil.Tray"

#define VIGIL_TYPE_TRAY_APP (vigil_tray_app_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayApp, vigil_tray_app, VIGIL, TRAY_APP, GtkApplication)

VigilTrayApp *vigil_tray_app_new(void);

G_END_DECLS
