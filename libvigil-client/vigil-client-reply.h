/* vigil-client-reply.h: the user's answer to a prompt as the options of Firewall1.Reply() */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* how the user answers; the order is the order of the choices in the window */
typedef enum {
	VIGIL_CLIENT_DURATION_ONCE,
	VIGIL_CLIENT_DURATION_UNTIL_QUIT,
	VIGIL_CLIENT_DURATION_5_MINUTES,
	VIGIL_CLIENT_DURATION_1_HOUR,
	VIGIL_CLIENT_DURATION_24_HOURS,
	VIGIL_CLIENT_DURATION_FOREVER,
} VigilClientDuration;

typedef enum {
	VIGIL_CLIENT_HOST_SCOPE_HOST,
	VIGIL_CLIENT_HOST_SCOPE_DOMAIN,
	VIGIL_CLIENT_HOST_SCOPE_ANY,
} VigilClientHostScope;

typedef enum {
	VIGIL_CLIENT_PORT_SCOPE_PORT,
	VIGIL_CLIENT_PORT_SCOPE_ANY,
} VigilClientPortScope;

/* the options of org.vigil.Firewall1.Reply() for these choices, a floating a{sv} with every
 * key (duration, seconds for a timed rule, host scope, port scope) */
GVariant *vigil_client_reply_options(VigilClientDuration duration, VigilClientHostScope host,
                                     VigilClientPortScope port);
/* the same, and with @script_only program-scope "script": the rule allows only the script the
 * request names (its script key), not the whole interpreter */
GVariant *vigil_client_reply_options_full(VigilClientDuration duration, VigilClientHostScope host,
                                          VigilClientPortScope port, gboolean script_only);

/*
 * The same from the D-Bus values (VIGIL_DURATION_*, VIGIL_HOST_SCOPE_*, VIGIL_PORT_SCOPE_*):
 * @duration NULL means "once"; @seconds goes only with "seconds"; a NULL scope is left out,
 * and so is each scope for "once" when @scopes_for_once is FALSE (no rule is made).
 */
GVariant *vigil_client_reply_options_from_names(const char *duration, guint32 seconds,
                                                const char *host_scope, const char *port_scope,
                                                gboolean scopes_for_once);

G_END_DECLS
