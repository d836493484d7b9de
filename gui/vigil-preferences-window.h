/* vigil-preferences-window.h: vigild's settings (SetConfig, admin) and the tray's silent mode */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_PREFERENCES_WINDOW (vigil_preferences_window_get_type())
G_DECLARE_FINAL_TYPE(VigilPreferencesWindow, vigil_preferences_window, VIGIL, PREFERENCES_WINDOW,
                     GtkApplicationWindow)

/*
 * Signals:
 * - "silent-changed" (const char *verdict): silent mode was switched on with "allow" or
 *   "deny", or off (NULL).
 */
VigilPreferencesWindow *vigil_preferences_window_new(GtkApplication *app, VigilTrayClient *client);

/* shows the current silent mode: "allow", "deny" or NULL (off) */
void vigil_preferences_window_set_silent(VigilPreferencesWindow *self, const char *verdict);

G_END_DECLS
