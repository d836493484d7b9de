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

/* shorthands for the subclasses */
#define VIGIL_TRAY_WINDOW_CLIENT(w)      vigil_tray_window_get_client(VIGIL_TRAY_WINDOW(w))
#define VIGIL_TRAY_WINDOW_CANCELLABLE(w) vigil_tray_window_get_cancellable(VIGIL_TRAY_WINDOW(w))

G_END_DECLS
