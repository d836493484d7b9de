/* vigil-tray-rules-window.h: the rules window: list, search, add, edit, remove, import, export */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"
#include "vigil-tray-window.h"
#include "vigil-tray-program-info.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_RULES_WINDOW (vigil_tray_rules_window_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayRulesWindow, vigil_tray_rules_window, VIGIL, TRAY_RULES_WINDOW,
                     VigilTrayWindow)

/* shows the rules vigild lets the user see (GetRules), grouped by program; what the user may
 * not change (system rules, and rules for all users without the permission) is marked and
 * cannot be changed */
VigilTrayRulesWindow *vigil_tray_rules_window_new(GtkApplication *app, VigilTrayClient *client,
                                                  VigilTrayAppIndex *apps);

G_END_DECLS
