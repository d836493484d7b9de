/* vigil-client-error.h: what an error from vigild or the bus means, for every front end */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the kinds of failure a front end tells apart; each error has exactly one */
typedef enum {
	VIGIL_CLIENT_ERROR_KIND_OTHER,         /* shown as vigild's message */
	VIGIL_CLIENT_ERROR_KIND_PERMISSION,    /* .PermissionDenied, or the bus policy said no */
	VIGIL_CLIENT_ERROR_KIND_AUTH_REQUIRED, /* .InteractiveAuthorizationRequired */
	VIGIL_CLIENT_ERROR_KIND_AUTH_FAILED,   /* the bus refused to authenticate us */
	VIGIL_CLIENT_ERROR_KIND_NOT_RUNNING,   /* nobody owns org.vigil.Firewall1; bus closed */
	VIGIL_CLIENT_ERROR_KIND_ACTIVATION_FAILED, /* the bus could not start vigild */
	VIGIL_CLIENT_ERROR_KIND_TIMEOUT,           /* no answer in time */
	VIGIL_CLIENT_ERROR_KIND_BUSY,              /* .Busy */
	VIGIL_CLIENT_ERROR_KIND_NOT_FOUND,         /* .NotFound */
} VigilClientErrorKind;

/* uses VIGIL_DBUS_ERROR first, so that org.vigil.Firewall1.Error.* arrive as its codes;
 * call it (or any function here) before the first call to vigild */
void vigil_client_error_init(void);

VigilClientErrorKind vigil_client_error_kind(const GError *error);

/* vigild is not there (not running, or could not be started) */
gboolean vigil_client_error_is_not_running(const GError *error);

/* vigild's message without the "GDBus.Error:org.vigil.Firewall1.Error.X: " prefix */
char *vigil_client_error_plain_message(const GError *error);

/*
 * The text to show a person for @error: vigild's own message, with what to do where the
 * kind says more (not running: how to start it; timeout: where to look; busy: try again).
 * Front ends add their own hints for permissions and missing objects.
 */
char *vigil_client_error_message(const GError *error);

G_END_DECLS
