/* vigil-tray-export.h: the Network Monitor's Export: decisions of the history to a CSV file */
#pragma once

#include <gio/gio.h>

#include "vigil-client.h"

G_BEGIN_DECLS

/*
 * Writes the history's decisions that @filter selects (GetConnections keys: since, until;
 * history, oldest, after and limit are set here) to @file as CSV, with the columns and quoting
 * of `vigilctl export` (vigil-client-csv.h). Read from vigild in pages, oldest first, each page
 * written before the next is asked for; the file is replaced only once all is written (a
 * failure keeps the old one). The file is the user's alone (0600): it is their history.
 */
void vigil_tray_export_csv_async(VigilFirewall *firewall, GVariant *filter, GFile *file,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);
/* the number of decisions written, or -1 with @error */
gint64 vigil_tray_export_csv_finish(GAsyncResult *result, GError **error);

G_END_DECLS
