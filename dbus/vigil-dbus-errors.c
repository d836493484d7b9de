/* vigil-dbus-errors.c: registers the org.vigil.Firewall1.Error.* names for VIGIL_DBUS_ERROR */
#define G_LOG_DOMAIN "vigil-dbus"
#include "config.h"

#include "vigil-dbus-errors.h"

/* in enum order: vigil_dbus_error_to_name() indexes it by code */
static const GDBusErrorEntry error_entries[] = {
    {VIGIL_DBUS_ERROR_FAILED, VIGIL_DBUS_ERROR_PREFIX "Failed"},
    {VIGIL_DBUS_ERROR_PERMISSION_DENIED, VIGIL_DBUS_ERROR_PREFIX "PermissionDenied"},
    {VIGIL_DBUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
     VIGIL_DBUS_ERROR_PREFIX "InteractiveAuthorizationRequired"},
    {VIGIL_DBUS_ERROR_INVALID_ARGUMENT, VIGIL_DBUS_ERROR_PREFIX "InvalidArgument"},
    {VIGIL_DBUS_ERROR_NOT_FOUND, VIGIL_DBUS_ERROR_PREFIX "NotFound"},
    {VIGIL_DBUS_ERROR_READ_ONLY, VIGIL_DBUS_ERROR_PREFIX "ReadOnly"},
    {VIGIL_DBUS_ERROR_EXISTS, VIGIL_DBUS_ERROR_PREFIX "Exists"},
    {VIGIL_DBUS_ERROR_LIMIT_EXCEEDED, VIGIL_DBUS_ERROR_PREFIX "LimitExceeded"},
    {VIGIL_DBUS_ERROR_BUSY, VIGIL_DBUS_ERROR_PREFIX "Busy"},
    {VIGIL_DBUS_ERROR_NOT_PENDING, VIGIL_DBUS_ERROR_PREFIX "NotPending"},
    {VIGIL_DBUS_ERROR_NO_AGENT, VIGIL_DBUS_ERROR_PREFIX "NoAgent"},
    {VIGIL_DBUS_ERROR_TOO_SOON, VIGIL_DBUS_ERROR_PREFIX "TooSoon"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(error_entries) == VIGIL_DBUS_ERROR_NUM_ENTRIES);

GQuark
vigil_dbus_error_quark(void)
{
	static gsize quark = 0;

	g_dbus_error_register_error_domain("vigil-dbus-error-quark", &quark, error_entries,
	                                   G_N_ELEMENTS(error_entries));
	return (GQuark)quark;
}

const char *
vigil_dbus_error_to_name(VigilDBusError code)
{
	if ((guint)code >= G_N_ELEMENTS(error_entries))
		return NULL;
	g_assert(error_entries[code].error_code == (gint)code);
	return error_entries[code].dbus_error_name;
}
