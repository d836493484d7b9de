/* vigil-tray-rules-page.h: the rules page: list, search, add, edit, remove, import, export */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"
#include "vigil-tray-page.h"
#include "vigil-tray-program-info.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_RULES_PAGE (vigil_tray_rules_page_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayRulesPage, vigil_tray_rules_page, VIGIL, TRAY_RULES_PAGE,
                     VigilTrayPage)

/* shows the rules vigild lets the user see (GetRules), grouped by program; what the user may
 * not change (system rules, and rules for all users without the permission) is marked and
 * cannot be changed */
VigilTrayRulesPage *vigil_tray_rules_page_new(VigilTrayClient *client, VigilTrayAppIndex *apps);

G_END_DECLS
