/* vigil-dbus-server.h: vigild on the system bus: org.vigil.Firewall1, authorised per call */
#pragma once

#include <gio/gio.h>

#include "vigil-daemon.h"

G_BEGIN_DECLS

typedef struct _VigilDBusServer VigilDBusServer;

/*
 * Exports org.vigil.Firewall1 for @daemon on @connection and asks for the well-known name.
 * @config_path is the vigild.conf that SetEnabled() and SetConfig() rewrite. The daemon
 * must outlive the server. Losing the name (or never getting it) is logged; filtering goes
 * on without the bus.
 */
VigilDBusServer *vigil_dbus_server_new(VigilDaemon *daemon, GDBusConnection *connection,
                                       const char *config_path, GError **error);
/* unexports, releases the name and lets queued messages (Cancel, ...) out first */
void vigil_dbus_server_free(VigilDBusServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDBusServer, vigil_dbus_server_free)

/* TRUE once the well-known name is ours */
gboolean vigil_dbus_server_owns_name(VigilDBusServer *server);

G_END_DECLS
