/* vigil-dbus-errors.h: the org.vigil.Firewall1.Error.* D-Bus errors as a GError domain */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The quark function registers every name with g_dbus_error_register_error_domain(), so a
 * GError of this domain returned from a method handler goes out as its D-Bus name, and a
 * client that has used VIGIL_DBUS_ERROR once gets errors of this domain back from
 * vigild (g_error_matches() works; g_dbus_error_strip_remote_error() leaves the message).
 */
#define VIGIL_DBUS_ERROR (vigil_dbus_error_quark())
GQuark vigil_dbus_error_quark(void);

/* the meaning of each error, and which methods return it: dbus/org.vigil.Firewall1.xml */
typedef enum {
	VIGIL_DBUS_ERROR_FAILED,                             /* .Failed */
	VIGIL_DBUS_ERROR_PERMISSION_DENIED,                  /* .PermissionDenied */
	VIGIL_DBUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, /* .InteractiveAuthorizationRequired */
	VIGIL_DBUS_ERROR_INVALID_ARGUMENT,                   /* .InvalidArgument */
	VIGIL_DBUS_ERROR_NOT_FOUND,                          /* .NotFound */
	VIGIL_DBUS_ERROR_READ_ONLY,                          /* .ReadOnly */
	VIGIL_DBUS_ERROR_EXISTS,                             /* .Exists */
	VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,                     /* .LimitExceeded */
	VIGIL_DBUS_ERROR_BUSY,                               /* .Busy */
	VIGIL_DBUS_ERROR_NOT_PENDING,                        /* .NotPending */
	VIGIL_DBUS_ERROR_NO_AGENT,                           /* .NoAgent */
	VIGIL_DBUS_ERROR_TOO_SOON,                           /* .TooSoon */
	VIGIL_DBUS_ERROR_NUM_ENTRIES                         /*< skip >*/
} VigilDBusError;

/* the prefix of every name: "org.vigil.Firewall1.Error." */
#define VIGIL_DBUS_ERROR_PREFIX "org.vigil.Firewall1.Error."

/* "org.vigil.Firewall1.Error.NotFound" for VIGIL_DBUS_ERROR_NOT_FOUND; NULL when out of range */
const char *vigil_dbus_error_to_name(VigilDBusError code);

G_END_DECLS
