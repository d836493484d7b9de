/* vigil-tray-monitor-page.h: the network monitor: recent decisions and per-program counters */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"
#include "vigil-tray-page.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_MONITOR_PAGE (vigil_tray_monitor_page_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayMonitorPage, vigil_tray_monitor_page, VIGIL, TRAY_MONITOR_PAGE,
                     VigilTrayPage)

/* reads vigild's decision log (GetConnections) and program counters (GetProgramStats) while
 * the page is shown, once a second */
VigilTrayMonitorPage *vigil_tray_monitor_page_new(VigilTrayClient *client);

G_END_DECLS
