/* vigil-tray-main-window.h: the "Vigil" window the app launcher opens: the status, and the
 * rules, the network monitor and the preferences as its pages */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_MAIN_WINDOW (vigil_tray_main_window_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayMainWindow, vigil_tray_main_window, VIGIL, TRAY_MAIN_WINDOW,
                     GtkApplicationWindow)

/* the names of its pages, as in vigil-tray --page=NAME and app.show-page::NAME */
#define VIGIL_TRAY_PAGE_RULES       "rules"
#define VIGIL_TRAY_PAGE_MONITOR     "monitor"
#define VIGIL_TRAY_PAGE_PREFERENCES "preferences"

VigilTrayMainWindow *vigil_tray_main_window_new(GtkApplication *app);

/* adds @content (a VigilTrayPage) as the page @name, titled @title; the window owns it */
void vigil_tray_main_window_add_page(VigilTrayMainWindow *self, GtkWidget *content,
                                     const char *name, const char *title);

/* shows the page @name; FALSE if there is none of that name */
gboolean vigil_tray_main_window_show_page(VigilTrayMainWindow *self, const char *name);

/* the status line: @status (filtering, paused, not running), @pending requests waiting, and
 * the Pause button says Resume while @paused */
void vigil_tray_main_window_set_status(VigilTrayMainWindow *self, const char *status, guint pending,
                                       gboolean paused);

/* shows (or hides) the bar that tells how to get a tray icon on this desktop; "tray-hint-closed"
 * is emitted when the user closes it */
void vigil_tray_main_window_show_tray_hint(VigilTrayMainWindow *self, gboolean shown);

G_END_DECLS
