/* vigil-tray-page.h: what the pages of the main window share: the client, their calls, a refresh
 * while shown */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-client.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_PAGE (vigil_tray_page_get_type())
G_DECLARE_DERIVABLE_TYPE(VigilTrayPage, vigil_tray_page, VIGIL, TRAY_PAGE, GtkBin)

struct _VigilTrayPageClass {
	GtkBinClass parent_class;

	/* the page was shown (mapped): read what it shows, ask for permissions again */
	void (*shown)(VigilTrayPage *self);
	/* every refresh interval while it is shown */
	void (*refresh)(VigilTrayPage *self);
};

/*
 * The page keeps a reference on @client; at dispose its calls are cancelled and every
 * handler it connected to @client with itself as the data is disconnected.
 */
void vigil_tray_page_set_client(VigilTrayPage *self, VigilTrayClient *client);
VigilTrayClient *vigil_tray_page_get_client(VigilTrayPage *self);
/* for the page's D-Bus calls: cancelled at dispose (NULL after) */
GCancellable *vigil_tray_page_get_cancellable(VigilTrayPage *self);
/* cancels the calls under way; later calls get a new cancellable */
void vigil_tray_page_cancel_calls(VigilTrayPage *self);
/* class->refresh every @interval_ms while shown (whole seconds: a coarse timer); 0: never */
void vigil_tray_page_set_refresh_interval(VigilTrayPage *self, guint interval_ms);

/* the page is on the screen (its window shown, and it the stack's visible page) */
gboolean vigil_tray_page_is_shown(VigilTrayPage *self);
/* the window the page is in, for dialogs; NULL while it is in none */
GtkWindow *vigil_tray_page_get_toplevel(VigilTrayPage *self);

/* shorthands for the subclasses */
#define VIGIL_TRAY_PAGE_CLIENT(w)      vigil_tray_page_get_client(VIGIL_TRAY_PAGE(w))
#define VIGIL_TRAY_PAGE_CANCELLABLE(w) vigil_tray_page_get_cancellable(VIGIL_TRAY_PAGE(w))

G_END_DECLS
