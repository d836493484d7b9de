/* vigil-tray-preferences-window.h: vigild's settings (SetConfig, admin) and the tray's silent mode
 */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"
#include "vigil-tray-window.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_PREFERENCES_WINDOW (vigil_tray_preferences_window_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayPreferencesWindow, vigil_tray_preferences_window, VIGIL,
                     TRAY_PREFERENCES_WINDOW, VigilTrayWindow)

/*
 * Signals:
 * - "silent-changed" (const char *verdict): silent mode was switched on with "allow" or
 *   "deny", or off (NULL).
 */
VigilTrayPreferencesWindow *vigil_tray_preferences_window_new(GtkApplication *app,
                                                              VigilTrayClient *client);

/* shows the current silent mode: "allow", "deny" or NULL (off) */
void vigil_tray_preferences_window_set_silent(VigilTrayPreferencesWindow *self,
                                              const char *verdict);

G_END_DECLS
