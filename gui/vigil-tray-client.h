/* vigil-tray-client.h: vigil-tray's link to vigild: the system bus, the Firewall proxy */
#pragma once

#include <gio/gio.h>

#include "vigil-client.h"

G_BEGIN_DECLS

/* where vigil-tray exports org.vigil.Firewall1.Agent on its system bus connection */
#define VIGIL_TRAY_AGENT_PATH "/org/vigil/Tray/Agent"

typedef enum {
	VIGIL_TRAY_CLIENT_STATE_UNREACHABLE, /* no system bus, or no vigild on it */
	VIGIL_TRAY_CLIENT_STATE_FILTERING,   /* vigild runs and decides connections */
	VIGIL_TRAY_CLIENT_STATE_PAUSED,      /* vigild runs with filtering disabled */
} VigilTrayClientState;

#define VIGIL_TYPE_TRAY_CLIENT (vigil_tray_client_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayClient, vigil_tray_client, VIGIL, TRAY_CLIENT, GObject)

/*
 * Signals:
 * - "changed": the state, a property of vigild, the agent registration or the permissions
 *   changed; read them again.
 * - "prompt" (guint64 request, GVariant *connection): vigild asks; answer with
 *   vigil_tray_client_reply().
 * - "cancel" (guint64 request, const char *reason): the request is no longer pending.
 * - "reset": vigild went away: every request it sent is void.
 * - "notify-event" (const char *kind, GVariant *details): Agent.Notify().
 * - "rules-changed": vigild's RulesChanged.
 */
VigilTrayClient *vigil_tray_client_new(void);

/* connects to the system bus and follows vigild from then on: when it starts, stops or
 * restarts, and when the bus connection is lost */
void vigil_tray_client_start(VigilTrayClient *self);

VigilTrayClientState vigil_tray_client_get_state(VigilTrayClient *self);
/* the proxy while vigild is reachable, else NULL */
VigilFirewall *vigil_tray_client_get_firewall(VigilTrayClient *self);
/* TRUE while vigild accepted this app as the user's prompt agent */
gboolean vigil_tray_client_is_agent(VigilTrayClient *self);
/* why registering as the agent failed, or NULL */
const char *vigil_tray_client_get_agent_error(VigilTrayClient *self);
/* "allow" or "deny"; NULL while unreachable */
const char *vigil_tray_client_get_default_action(VigilTrayClient *self);
/* VIGIL_PERMISSION_YES, _AUTH or _NO for a polkit action of Vigil (_NO while unknown) */
const char *vigil_tray_client_get_permission(VigilTrayClient *self, const char *action);
/* asks vigild for the permissions again ("changed" follows) */
void vigil_tray_client_refresh_permissions(VigilTrayClient *self);

/* answers a prompt; failures are logged (the request is then decided by vigild's timeout) */
/* HoldRequest(@request): the user reads its prompt; @done gets the seconds left (or -1) */
void vigil_tray_client_hold(VigilTrayClient *self, guint64 request,
                            void (*done)(guint64 request, gint64 seconds_left, gpointer data),
                            gpointer data);
void vigil_tray_client_reply(VigilTrayClient *self, guint64 request, const char *verdict,
                             GVariant *options);
/* pauses or resumes filtering, letting polkit ask for authentication */
void vigil_tray_client_set_enabled(VigilTrayClient *self, gboolean enabled);

G_END_DECLS
