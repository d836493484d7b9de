/* vigil-client-request.c: a connection request of Agent.Prompt() read into typed fields, and its
 * texts */
#define G_LOG_DOMAIN "vigil-client"
#include "config.h"

#include <glib/gi18n-lib.h>

#include "vigil-dbus.h"
#include "vigil-client-request.h"
#include "vigil-text.h"

static char *
lookup_string(GVariant *dict, const char *key)
{
	const char *value = NULL;

	/* g_variant_lookup() checks the type: a value of another type counts as missing */
	if (!g_variant_lookup(dict, key, "&s", &value))
		return NULL;
	return g_utf8_make_valid(value, -1);
}

static gboolean
lookup_flag(GVariant *dict, const char *key)
{
	gboolean value = FALSE;

	return g_variant_lookup(dict, key, "b", &value) && value;
}

static char **
lookup_strv(GVariant *dict, const char *key)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(dict, key, G_VARIANT_TYPE_STRING_ARRAY);
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	g_autofree const char **strv = NULL;

	if (value != NULL) {
		strv = g_variant_get_strv(value, NULL);
		for (guint i = 0; strv[i] != NULL; i++)
			g_ptr_array_add(out, g_utf8_make_valid(strv[i], -1));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

VigilClientRequest *
vigil_client_request_new(guint64 id, GVariant *connection, GError **error)
{
	g_autoptr(VigilClientRequest) prompt = NULL;
	guint16 port = 0;
	guint8 icmp_type = 0;

	if (connection == NULL || !g_variant_is_of_type(connection, G_VARIANT_TYPE_VARDICT)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		                    "the connection is not a dictionary");
		return NULL;
	}
	prompt = g_new0(VigilClientRequest, 1);
	prompt->id = id;
	if (!g_variant_lookup(connection, VIGIL_CONN_KEY_UID, "u", &prompt->uid)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		                    "the connection has no uid");
		return NULL;
	}
	prompt->program = lookup_string(connection, VIGIL_CONN_KEY_PROGRAM);
	prompt->name = lookup_string(connection, VIGIL_CONN_KEY_NAME);
	g_variant_lookup(connection, VIGIL_CONN_KEY_PID, "u", &prompt->pid);
	prompt->user = lookup_string(connection, VIGIL_CONN_KEY_USER);
	prompt->parents = lookup_strv(connection, VIGIL_CONN_KEY_PARENTS);
	prompt->cmdline = lookup_string(connection, VIGIL_CONN_KEY_CMDLINE);
	prompt->sha256 = lookup_string(connection, VIGIL_CONN_KEY_SHA256);
	prompt->appid = lookup_string(connection, VIGIL_CONN_KEY_APPID);
	prompt->app_sandbox = lookup_string(connection, VIGIL_CONN_KEY_APP_SANDBOX);
	prompt->foreign_mount_ns = lookup_flag(connection, VIGIL_CONN_KEY_FOREIGN_MOUNT_NS);
	prompt->exe_deleted = lookup_flag(connection, VIGIL_CONN_KEY_EXE_DELETED);
	prompt->binary_changed = lookup_flag(connection, VIGIL_CONN_KEY_BINARY_CHANGED);
	prompt->changed_reason = lookup_string(connection, VIGIL_CONN_KEY_CHANGED_REASON);
	prompt->changed_package = lookup_string(connection, VIGIL_CONN_KEY_CHANGED_PKG);
	prompt->hash_pending = lookup_flag(connection, VIGIL_CONN_KEY_HASH_PENDING);
	g_variant_lookup(connection, VIGIL_CONN_KEY_TRACED_BY, "u", &prompt->traced_by);
	prompt->preload = lookup_flag(connection, VIGIL_CONN_KEY_PRELOAD);
	prompt->protocol = lookup_string(connection, VIGIL_CONN_KEY_PROTOCOL);
	prompt->family = lookup_string(connection, VIGIL_CONN_KEY_FAMILY);
	prompt->destination = lookup_string(connection, VIGIL_CONN_KEY_DESTINATION);
	prompt->hostname = lookup_string(connection, VIGIL_CONN_KEY_HOSTNAME);
	if (g_variant_lookup(connection, VIGIL_CONN_KEY_PORT, "q", &port)) {
		prompt->has_port = TRUE;
		prompt->port = port;
	}
	if (g_variant_lookup(connection, VIGIL_CONN_KEY_ICMP_TYPE, "y", &icmp_type)) {
		prompt->has_icmp_type = TRUE;
		prompt->icmp_type = icmp_type;
	}
	prompt->service = lookup_string(connection, VIGIL_CONN_KEY_SERVICE);
	g_variant_lookup(connection, VIGIL_CONN_KEY_TIME, "x", &prompt->time_us);
	if (!g_variant_lookup(connection, VIGIL_CONN_KEY_TIMEOUT, "u", &prompt->timeout))
		prompt->timeout = 30;
	/* vigild bounds PromptTimeout to an hour; a larger value is not believed */
	prompt->timeout = MIN(prompt->timeout, VIGIL_PROMPT_TIMEOUT_MAX);
	prompt->deadline = g_get_monotonic_time() + (gint64)prompt->timeout * G_USEC_PER_SEC;
	prompt->host_target = lookup_string(connection, VIGIL_CONN_KEY_HOST_TARGET);
	prompt->domain_target = lookup_string(connection, VIGIL_CONN_KEY_DOMAIN_TARGET);
	prompt->script = lookup_string(connection, VIGIL_CONN_KEY_SCRIPT);
	return g_steal_pointer(&prompt);
}

void
vigil_client_request_free(VigilClientRequest *prompt)
{
	if (prompt == NULL)
		return;
	g_free(prompt->program);
	g_free(prompt->changed_reason);
	g_free(prompt->changed_package);
	g_free(prompt->name);
	g_free(prompt->user);
	g_strfreev(prompt->parents);
	g_free(prompt->cmdline);
	g_free(prompt->sha256);
	g_free(prompt->appid);
	g_free(prompt->protocol);
	g_free(prompt->family);
	g_free(prompt->destination);
	g_free(prompt->hostname);
	g_free(prompt->service);
	g_free(prompt->host_target);
	g_free(prompt->domain_target);
	g_free(prompt->script);
	g_free(prompt->app_sandbox);
	g_free(prompt);
}

guint
vigil_client_request_seconds_left(const VigilClientRequest *prompt, gint64 now)
{
	gint64 left = prompt->deadline - now;

	if (left <= 0)
		return 0;
	/* round up: "1 s" is shown until the very end */
	return (guint)((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

char *
vigil_client_request_display_name(const VigilClientRequest *prompt)
{
	g_autofree char *base = NULL;

	/* the file vigild read through /proc/PID/exe, never a name the process chose */
	if (prompt->program != NULL && g_path_is_absolute(prompt->program)) {
		base = g_path_get_basename(prompt->program);
		return vigil_text_sanitize(base, VIGIL_TEXT_MAX_NAME);
	}
	if (prompt->name != NULL && *prompt->name != '\0')
		return vigil_text_sanitize(prompt->name, VIGIL_TEXT_MAX_NAME);
	return g_strdup(_("Unknown program"));
}

char *
vigil_client_request_format_destination(const VigilClientRequest *prompt)
{
	g_autofree char *address = vigil_text_sanitize(
	    prompt->destination != NULL ? prompt->destination : _("unknown"), VIGIL_TEXT_MAX_LINE);
	g_autofree char *hostname = NULL;

	if (prompt->hostname != NULL && *prompt->hostname != '\0') {
		hostname = vigil_text_sanitize(prompt->hostname, VIGIL_TEXT_MAX_LINE);
		/* TRANSLATORS: a host name and its address, e.g. "example.org (93.184.215.14)" */
		return g_strdup_printf(_("%s (%s)"), hostname, address);
	}
	return g_steal_pointer(&address);
}

char *
vigil_client_request_format_host(const VigilClientRequest *prompt)
{
	const char *host = prompt->hostname != NULL && *prompt->hostname != '\0'
	                       ? prompt->hostname
	                       : prompt->destination;

	if (host == NULL)
		return g_strdup(_("unknown"));
	return vigil_text_sanitize(host, VIGIL_TEXT_MAX_LINE);
}

char *
vigil_client_request_format_port(const VigilClientRequest *prompt)
{
	if (prompt->has_icmp_type)
		/* TRANSLATORS: ICMP has message types instead of ports */
		return g_strdup_printf(_("ICMP type %u"), prompt->icmp_type);
	if (!prompt->has_port)
		return g_strdup(_("none"));
	if (prompt->service != NULL && *prompt->service != '\0') {
		g_autofree char *service =
		    vigil_text_sanitize(prompt->service, VIGIL_TEXT_MAX_NAME);

		/* TRANSLATORS: a port and its service name, e.g. "443 (https)" */
		return g_strdup_printf(_("%u (%s)"), prompt->port, service);
	}
	return g_strdup_printf("%u", prompt->port);
}

char *
vigil_client_request_format_protocol(const VigilClientRequest *prompt)
{
	g_autofree char *raw_up = NULL;
	g_autofree char *up = NULL;

	if (prompt->protocol == NULL)
		return g_strdup(_("unknown"));
	raw_up = g_ascii_strup(prompt->protocol, -1);
	up = vigil_text_sanitize(raw_up, VIGIL_TEXT_MAX_NAME);
	if (g_strcmp0(prompt->family, "ipv6") == 0)
		return g_strdup_printf("%s/IPv6", up);
	if (g_strcmp0(prompt->family, "ipv4") == 0)
		return g_strdup_printf("%s/IPv4", up);
	return g_steal_pointer(&up);
}

/* "1234 /usr/bin/bash" -> "bash (1234)"; "1234 [kworker]" -> "kworker (1234)" */
static char *
format_parent(const char *entry)
{
	const char *space = strchr(entry, ' ');
	g_autofree char *pid = NULL;
	g_autofree char *name = NULL;
	g_autofree char *safe_pid = NULL;
	g_autofree char *safe_name = NULL;
	const char *exe;

	if (space == NULL)
		return vigil_text_sanitize(entry, VIGIL_TEXT_MAX_NAME);
	pid = g_strndup(entry, space - entry);
	exe = space + 1;
	if (exe[0] == '[' && g_str_has_suffix(exe, "]"))
		name = g_strndup(exe + 1, strlen(exe) - 2);
	else
		name = g_path_get_basename(exe);
	safe_pid = vigil_text_sanitize(pid, 16);
	safe_name = vigil_text_sanitize(name, VIGIL_TEXT_MAX_NAME);
	/* TRANSLATORS: a process: its program's name and its pid, e.g. "bash (1234)" */
	return g_strdup_printf(_("%s (%s)"), safe_name, safe_pid);
}

char *
vigil_client_request_format_via(const VigilClientRequest *prompt)
{
	if (prompt->parents[0] == NULL)
		return NULL;
	return format_parent(prompt->parents[0]);
}

char *
vigil_client_request_format_parents(const VigilClientRequest *prompt)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; prompt->parents[i] != NULL; i++) {
		g_autofree char *one = format_parent(prompt->parents[i]);

		if (i > 0)
			g_string_append_c(out, '\n');
		g_string_append(out, one);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
vigil_client_format_changed_reason(const char *reason, const char *package)
{
	g_autofree char *name =
	    vigil_text_sanitize(package != NULL ? package : "?", VIGIL_TEXT_MAX_NAME);

	if (g_strcmp0(reason, "not-from-package") == 0)
		/* TRANSLATORS: %s is a Debian package name */
		return g_strdup_printf(_("Not from package %s: its rules do not follow this file."),
		                       name);
	if (g_strcmp0(reason, "checksum-differs") == 0)
		/* TRANSLATORS: %s is a Debian package name */
		return g_strdup_printf(_("It differs from the checksum package %s recorded for it: "
		                         "it was changed outside the package manager."),
		                       name);
	if (g_strcmp0(reason, "not-packaged") == 0)
		return g_strdup(_("Not a packaged file: its rules do not follow upgrades."));
	if (g_strcmp0(reason, "not-checked") == 0)
		/* TRANSLATORS: %s is a Debian package name */
		return g_strdup_printf(
		    _("Not checked against package %s: too many connections wait "
		      "for that check."),
		    name);
	return NULL;
}
