/* vigil-client-error.c: vigild's and the bus's errors sorted into kinds and told as user text */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "vigil-client-error.h"
#include "vigil-dbus.h"

void
vigil_client_error_init(void)
{
	/* registers org.vigil.Firewall1.Error.* so that vigild's errors come back as codes */
	(void)VIGIL_DBUS_ERROR;
}

VigilClientErrorKind
vigil_client_error_kind(const GError *error)
{
	vigil_client_error_init();
	if (g_error_matches(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED) ||
	    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
		return VIGIL_CLIENT_ERROR_KIND_PERMISSION;
	if (g_error_matches(error, VIGIL_DBUS_ERROR,
	                    VIGIL_DBUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
		return VIGIL_CLIENT_ERROR_KIND_AUTH_REQUIRED;
	if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED))
		return VIGIL_CLIENT_ERROR_KIND_AUTH_FAILED;
	if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED))
		return VIGIL_CLIENT_ERROR_KIND_NOT_RUNNING;
	if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
	    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED) ||
	    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED))
		return VIGIL_CLIENT_ERROR_KIND_ACTIVATION_FAILED;
	if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		return VIGIL_CLIENT_ERROR_KIND_TIMEOUT;
	if (g_error_matches(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY))
		return VIGIL_CLIENT_ERROR_KIND_BUSY;
	if (g_error_matches(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_FOUND))
		return VIGIL_CLIENT_ERROR_KIND_NOT_FOUND;
	return VIGIL_CLIENT_ERROR_KIND_OTHER;
}

gboolean
vigil_client_error_is_not_running(const GError *error)
{
	VigilClientErrorKind kind = vigil_client_error_kind(error);

	return kind == VIGIL_CLIENT_ERROR_KIND_NOT_RUNNING ||
	       kind == VIGIL_CLIENT_ERROR_KIND_ACTIVATION_FAILED;
}

char *
vigil_client_error_plain_message(const GError *error)
{
	g_autoptr(GError) copy = g_error_copy(error);

	g_dbus_error_strip_remote_error(copy);
	return g_strdup(copy->message);
}

char *
vigil_client_error_message(const GError *error)
{
	g_autofree char *message = vigil_client_error_plain_message(error);

	switch (vigil_client_error_kind(error)) {
	case VIGIL_CLIENT_ERROR_KIND_NOT_RUNNING:
		return g_strdup(
		    _("vigild is not running (start it with: sudo systemctl start vigild)"));
	case VIGIL_CLIENT_ERROR_KIND_TIMEOUT:
		return g_strdup_printf(
		    _("vigild did not answer in time (%s); it may be overloaded: "
		      "check 'journalctl -u vigild'"),
		    message);
	case VIGIL_CLIENT_ERROR_KIND_BUSY:
		return g_strdup_printf(_("vigild is busy: %s; try again in a moment"), message);
	default:
		return g_steal_pointer(&message);
	}
}
