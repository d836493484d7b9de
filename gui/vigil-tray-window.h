/* vigil-tray-window.h: what vigil-tray's windows share: the client, their calls, a refresh while
 * shown */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_WINDOW (vigil_tray_window_get_type())
G_DECLARE_DERIVABLE_TYPE(VigilTrayWindow, vigil_tray_window, VIGIL, TRAY_WINDOW,
                         GtkApplicationWindow)

struct _VigilTrayWindowClass {
	GtkApplicationWindowClass parent_class;

	/* the window was shown (mapped): read what it shows, ask for permissions again */
	void (*shown)(VigilTrayWindow *self);
	/* every refresh interval while it is shown */
	void (*refresh)(VigilTrayWindow *self);
};

/*
 * The window keeps a reference on @client; at dispose its calls are cancelled and every
 * handler it connected to @client with itself as the data is disconnected.
 */
void vigil_tray_window_set_client(VigilTrayWindow *self, VigilTrayClient *client);
VigilTrayClient *vigil_tray_window_get_client(VigilTrayWindow *self);
/* for the window's D-Bus calls: cancelled at dispose (NULL after) */
GCancellable *vigil_tray_window_get_cancellable(VigilTrayWindow *self);
/* cancels the calls under way; later calls get a new cancellable */
void vigil_tray_window_cancel_calls(VigilTrayWindow *self);
/* class->refresh every @interval_ms while shown (whole seconds: a coarse timer); 0: never */
void vigil_tray_window_set_refresh_interval(VigilTrayWindow *self, guint interval_ms);

/* takes the window's content out, to be a page of another window (the main window): "shown"
 * and the refresh then follow the content being shown there; this window is never shown. The
 * content is the window's (kept until dispose); the caller adds it where it belongs. */
GtkWidget *vigil_tray_window_take_content(VigilTrayWindow *self);
/* the content is on the screen: in this window, or in the one it was taken to */
gboolean vigil_tray_window_is_shown(VigilTrayWindow *self);
/* the window the content is in, for dialogs: this one, or the one it was taken to */
GtkWindow *vigil_tray_window_get_toplevel(VigilTrayWindow *self);

/* shorthands for the subclasses */
#define VIGIL_TRAY_WINDOW_CLIENT(w)      vigil_tray_window_get_client(VIGIL_TRAY_WINDOW(w))
#define VIGIL_TRAY_WINDOW_CANCELLABLE(w) vigil_tray_window_get_cancellable(VIGIL_TRAY_WINDOW(w))

G_END_DECLS
