/* vigil-client-agent.h: the one org.vigil.Firewall1.Agent of every front end: export, caller check,
 * registration */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_CLIENT_AGENT (vigil_client_agent_get_type())
G_DECLARE_FINAL_TYPE(VigilClientAgent, vigil_client_agent, VIGIL, CLIENT_AGENT, GObject)

/*
 * An agent on @bus at @path. vigil_client_agent_start() exports it and follows vigild: each
 * time org.vigil.Firewall1 gets an owner, the agent registers with that owner (RegisterAgent
 * with @register_flags and @register_timeout_ms; vigild then sends Prompt() for the requests
 * already open), again after every restart of vigild. Only the current owner of
 * org.vigil.Firewall1 may call Prompt, Cancel and Notify; anyone else gets AccessDenied
 * before any signal is emitted (the bus policy says so too: do not rely on it alone).
 *
 * Signals (each call is answered before its signal is emitted):
 * - "prompt" (guint64 request, GVariant *connection) -> gboolean: return TRUE to refuse a
 *   request the front end cannot hold (vigild gets LimitsExceeded); answer with Reply().
 * - "cancel" (guint64 request, const char *reason)
 * - "notify-event" (const char *kind, GVariant *details)
 * - "vigild-appeared" (const char *owner): a vigild started; its old requests are void
 * - "vigild-vanished" (gboolean bus_lost): vigild went away, or the bus connection closed
 * - "registered", "register-failed" (GError *error)
 */
VigilClientAgent *vigil_client_agent_new(GDBusConnection *bus, const char *path,
                                         GDBusCallFlags register_flags, int register_timeout_ms);

gboolean vigil_client_agent_start(VigilClientAgent *self, GError **error);

/* vigild's unique name while it is on the bus, else NULL */
const char *vigil_client_agent_get_owner(VigilClientAgent *self);
/* TRUE while the current vigild accepted this agent */
gboolean vigil_client_agent_is_registered(VigilClientAgent *self);
/* why the current vigild did not accept it, or NULL */
const GError *vigil_client_agent_get_register_error(VigilClientAgent *self);

/* tells vigild this agent stops (waiting up to @timeout_ms): for a front end that quits
 * while the bus stays; a closed bus tells vigild by itself */
void vigil_client_agent_unregister_sync(VigilClientAgent *self, int timeout_ms);

G_END_DECLS
