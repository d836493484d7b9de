/* vigil-tray-monitor-window.h: the network monitor: recent decisions and per-program counters */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"
#include "vigil-tray-window.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_MONITOR_WINDOW (vigil_tray_monitor_window_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayMonitorWindow, vigil_tray_monitor_window, VIGIL, TRAY_MONITOR_WINDOW,
                     VigilTrayWindow)

/* reads vigild's decision log (GetConnections) and program counters (GetProgramStats) while
 * the window is shown, once a second */
VigilTrayMonitorWindow *vigil_tray_monitor_window_new(GtkApplication *app, VigilTrayClient *client);

G_END_DECLS
