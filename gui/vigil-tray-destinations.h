/* vigil-tray-destinations.h: a program's page of the Network Monitor: where it connected */
#pragma once

#include <gtk/gtk.h>

#include "vigil-client.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_DESTINATIONS (vigil_tray_destinations_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayDestinations, vigil_tray_destinations, VIGIL, TRAY_DESTINATIONS,
                     GtkWindow)

/*
 * A window listing the destinations of @program (an executable path as vigild sends it, or
 * "unknown") from the history between @since_us and now, one row per host name (or address
 * when no name is known): connections, how many were allowed and denied, bytes received and
 * sent, when last seen. @range_text says which range ("in the last hour").
 */
VigilTrayDestinations *vigil_tray_destinations_new(GtkWindow *parent, VigilFirewall *firewall,
                                                   const char *program, gint64 since_us,
                                                   const char *range_text);

G_END_DECLS
