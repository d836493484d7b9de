/* vigilctl-client.c: vigilctl's connection to vigild and what vigild's errors mean for the user */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "vigilctl.h"

#define TTY_AGENT_WAIT_MS 5000

void
vigilctl_context_clear(VigilctlContext *ctx)
{
	if (ctx->tty_agent != NULL) {
		g_subprocess_send_signal(ctx->tty_agent, SIGTERM);
		g_subprocess_wait(ctx->tty_agent, NULL, NULL);
		g_clear_object(&ctx->tty_agent);
	}
	g_clear_object(&ctx->firewall);
	g_clear_object(&ctx->bus);
}

VigilFirewall *
vigilctl_firewall(VigilctlContext *ctx, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *owner = NULL;

	if (ctx->firewall != NULL)
		return ctx->firewall;
	vigil_client_error_init();
	if (ctx->bus == NULL) {
		ctx->bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &local);
		if (ctx->bus == NULL) {
			g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_NOT_RUNNING,
			            _("cannot connect to the system D-Bus (%s): is dbus running?"),
			            local->message);
			return NULL;
		}
	}
	ctx->firewall = vigil_firewall_proxy_new_sync(
	    ctx->bus, G_DBUS_PROXY_FLAGS_NONE, VIGIL_DBUS_NAME, VIGIL_DBUS_PATH, NULL, &local);
	if (ctx->firewall == NULL) {
		/* the bus refused to start it: no activation file, or (systemd) vigild.service is
		 * disabled or masked, so its activation alias is missing: not running, not a
		 * failure */
		if (local->domain == G_DBUS_ERROR ||
		    g_error_matches(local, G_IO_ERROR, G_IO_ERROR_DBUS_ERROR) ||
		    vigilctl_error_is_not_running(local)) {
			g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_NOT_RUNNING,
			            _("vigild is not running and the system bus may not start it "
			              "(%s); start it with: systemctl start vigild"),
			            local->message);
			return NULL;
		}
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED,
		            _("cannot talk to vigild: %s"), local->message);
		return NULL;
	}
	/* the proxy has started vigild by bus activation where that is set up */
	owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(ctx->firewall));
	if (owner == NULL) {
		g_clear_object(&ctx->firewall);
		g_set_error(
		    error, VIGILCTL_ERROR, VIGILCTL_ERROR_NOT_RUNNING,
		    _("vigild is not running (start it with: sudo systemctl start vigild)"));
		return NULL;
	}
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(ctx->firewall), 30000);
	return ctx->firewall;
}

/*
 * Calls that change something may need the user to authenticate: they carry the flag that
 * lets polkit ask (through the desktop's agent or the pkttyagent we start), and wait as
 * long as a person takes to type a password.
 */
GDBusCallFlags
vigilctl_call_flags(VigilctlContext *ctx, gboolean may_ask)
{
	if (may_ask && !ctx->no_ask_password)
		return G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
	return G_DBUS_CALL_FLAGS_NONE;
}

int
vigilctl_call_timeout(gboolean may_ask)
{
	return may_ask ? G_MAXINT : 30000;
}

/* pkttyagent talks to the user on /dev/tty: without one it cannot ask */
static gboolean
have_controlling_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return FALSE;
	close(fd);
	return TRUE;
}

/*
 * As systemctl does: when a person runs vigilctl in a terminal and no desktop polkit agent
 * may be there, start pkttyagent so that polkit can ask for the password on this terminal.
 * It is told to step back (--fallback) when a desktop agent exists, and we wait until it
 * has registered (it closes the notify pipe) before making the call.
 */
void
vigilctl_start_tty_agent(VigilctlContext *ctx)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GError) local = NULL;
	g_autofree char *path = NULL;
	int fds[2];
	char buf[16];

	if (ctx->tty_agent != NULL || ctx->no_ask_password || geteuid() == 0 ||
	    !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO) || !have_controlling_tty())
		return;
	path = g_find_program_in_path("pkttyagent");
	if (path == NULL)
		return;
	if (!g_unix_open_pipe(fds, FD_CLOEXEC, NULL))
		return;
	/* it asks on /dev/tty; its stderr only has diagnostics, e.g. when another agent asks */
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	g_subprocess_launcher_take_fd(launcher, fds[1], 3);
	ctx->tty_agent = g_subprocess_launcher_spawn(launcher, &local, path, "--notify-fd", "3",
	                                             "--fallback", NULL);
	g_clear_object(&launcher); /* closes our copy of the write end */
	if (ctx->tty_agent == NULL) {
		g_debug("pkttyagent: %s", local->message);
		close(fds[0]);
		return;
	}
	/* EOF when it is ready, or when it gave up; a hung agent must not hang vigilctl */
	for (;;) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};

		if (poll(&pfd, 1, TTY_AGENT_WAIT_MS) <= 0 || read(fds[0], buf, sizeof buf) <= 0)
			break;
	}
	close(fds[0]);
}

gboolean
vigilctl_error_is_not_running(const GError *error)
{
	return g_error_matches(error, VIGILCTL_ERROR, VIGILCTL_ERROR_NOT_RUNNING) ||
	       vigil_client_error_is_not_running(error);
}

int
vigilctl_exit_code(const GError *error)
{
	if (error == NULL)
		return VIGILCTL_EXIT_OK;
	if (g_error_matches(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE) ||
	    error->domain == G_OPTION_ERROR)
		return VIGILCTL_EXIT_USAGE;
	if (vigilctl_error_is_not_running(error))
		return VIGILCTL_EXIT_NOT_RUNNING;
	switch (vigil_client_error_kind(error)) {
	case VIGIL_CLIENT_ERROR_KIND_PERMISSION:
	case VIGIL_CLIENT_ERROR_KIND_AUTH_REQUIRED:
	case VIGIL_CLIENT_ERROR_KIND_AUTH_FAILED:
		return VIGILCTL_EXIT_PERMISSION;
	default:
		return VIGILCTL_EXIT_FAILED;
	}
}

/* libvigil-client's text, with what a command line user can do about permissions */
char *
vigilctl_error_message(const GError *error, const char *permission_hint)
{
	g_autofree char *message = vigil_client_error_plain_message(error);

	switch (vigil_client_error_kind(error)) {
	case VIGIL_CLIENT_ERROR_KIND_PERMISSION:
		if (permission_hint != NULL)
			return g_strdup_printf(_("permission denied: %s\n(vigild: %s)"),
			                       permission_hint, message);
		return g_strdup_printf(_("permission denied: %s (run with sudo or answer the "
		                         "authentication prompt)"),
		                       message);
	case VIGIL_CLIENT_ERROR_KIND_AUTH_REQUIRED:
		return g_strdup_printf(
		    _("authentication required: %s (run without "
		      "--no-ask-password to be asked for the password, or use sudo)"),
		    message);
	case VIGIL_CLIENT_ERROR_KIND_NOT_FOUND:
		return g_strdup_printf(_("%s (see 'vigilctl rules list')"), message);
	case VIGIL_CLIENT_ERROR_KIND_ACTIVATION_FAILED:
		/* vigilctl_firewall() says why the bus could not start it */
		return g_steal_pointer(&message);
	default:
		return vigil_client_error_message(error);
	}
}
