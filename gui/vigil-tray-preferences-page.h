/* vigil-tray-preferences-page.h: vigild's settings (SetConfig, admin) and the tray's silent mode
 */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"
#include "vigil-tray-page.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_PREFERENCES_PAGE (vigil_tray_preferences_page_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayPreferencesPage, vigil_tray_preferences_page, VIGIL,
                     TRAY_PREFERENCES_PAGE, VigilTrayPage)

/*
 * Signals:
 * - "silent-changed" (const char *verdict): silent mode was switched on with "allow" or
 *   "deny", or off (NULL).
 */
VigilTrayPreferencesPage *vigil_tray_preferences_page_new(VigilTrayClient *client);

/* shows the current silent mode: "allow", "deny" or NULL (off) */
void vigil_tray_preferences_page_set_silent(VigilTrayPreferencesPage *self, const char *verdict);

G_END_DECLS
