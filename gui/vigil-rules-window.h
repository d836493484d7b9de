/* vigil-rules-window.h: the rules window: list, search, add, edit, remove, import, export */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"
#include "vigil-program-info.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_RULES_WINDOW (vigil_rules_window_get_type())
G_DECLARE_FINAL_TYPE(VigilRulesWindow, vigil_rules_window, VIGIL, RULES_WINDOW,
                     GtkApplicationWindow)

/* shows the rules vigild lets the user see (GetRules), grouped by program; what the user may
 * not change (system rules, and rules for all users without the permission) is marked and
 * cannot be changed */
VigilRulesWindow *vigil_rules_window_new(GtkApplication *app, VigilTrayClient *client,
                                         VigilAppIndex *apps);

G_END_DECLS
