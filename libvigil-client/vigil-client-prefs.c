/* vigil-client-prefs.c: the user's prompt preferences in the tray's state file */
#include "vigil-client-prefs.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "vigil-dbus.h"

#define GROUP        "Prompts"
#define KEY_DURATION "duration"
#define KEY_HOST     "destination"
#define KEY_VERDICT  "action"

static const char *const duration_ids[] = {
    [VIGIL_CLIENT_DURATION_ONCE] = "once",    [VIGIL_CLIENT_DURATION_UNTIL_QUIT] = "until-quit",
    [VIGIL_CLIENT_DURATION_5_MINUTES] = "5m", [VIGIL_CLIENT_DURATION_1_HOUR] = "1h",
    [VIGIL_CLIENT_DURATION_24_HOURS] = "24h", [VIGIL_CLIENT_DURATION_FOREVER] = "forever",
};

static const char *const host_scope_ids[] = {
    [VIGIL_CLIENT_HOST_SCOPE_HOST] = VIGIL_HOST_SCOPE_HOST,
    [VIGIL_CLIENT_HOST_SCOPE_DOMAIN] = VIGIL_HOST_SCOPE_DOMAIN,
    [VIGIL_CLIENT_HOST_SCOPE_ANY] = VIGIL_HOST_SCOPE_ANY,
};

/* the prompt's default button: Drop is no default, it leaves the program waiting */
static const char *const verdict_ids[] = {"allow", "deny"};

char *
vigil_client_prefs_path(void)
{
	return g_build_filename(g_get_user_state_dir(), "vigil", "tray.ini", NULL);
}

const char *
vigil_client_duration_to_id(VigilClientDuration duration)
{
	if ((guint)duration >= G_N_ELEMENTS(duration_ids))
		return duration_ids[VIGIL_CLIENT_DEFAULT_DURATION];
	return duration_ids[duration];
}

gboolean
vigil_client_duration_from_id(const char *id, VigilClientDuration *duration)
{
	for (guint i = 0; id != NULL && i < G_N_ELEMENTS(duration_ids); i++) {
		if (g_strcmp0(id, duration_ids[i]) == 0) {
			*duration = (VigilClientDuration)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* [Prompts] @key, or NULL when the file or the key is missing */
static char *
prefs_get(const char *key)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = vigil_client_prefs_path();

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
		return NULL;
	return g_key_file_get_string(kf, GROUP, key, NULL);
}

static void
complain(const char *key, const char *value, const char *choices)
{
	g_autofree char *path = vigil_client_prefs_path();

	g_message("%s: [%s] %s=%s is not one of %s", path, GROUP, key, value, choices);
}

static gboolean
prefs_set(const char *key, const char *value, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = vigil_client_prefs_path();
	g_autofree char *dir = g_path_get_dirname(path);

	/* the rest of the file (the tray's state) stays as it is */
	g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
	g_key_file_set_string(kf, GROUP, key, value);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int saved = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", dir,
		            g_strerror(saved));
		return FALSE;
	}
	return g_key_file_save_to_file(kf, path, error);
}

VigilClientDuration
vigil_client_prefs_get_duration(void)
{
	g_autofree char *id = prefs_get(KEY_DURATION);
	VigilClientDuration duration = VIGIL_CLIENT_DEFAULT_DURATION;

	if (id != NULL && !vigil_client_duration_from_id(id, &duration))
		complain(KEY_DURATION, id, "once, until-quit, 5m, 1h, 24h, forever");
	return duration;
}

gboolean
vigil_client_prefs_set_duration(VigilClientDuration duration, GError **error)
{
	return prefs_set(KEY_DURATION, vigil_client_duration_to_id(duration), error);
}

const char *
vigil_client_host_scope_to_id(VigilClientHostScope scope)
{
	if ((guint)scope >= G_N_ELEMENTS(host_scope_ids))
		return host_scope_ids[VIGIL_CLIENT_DEFAULT_HOST_SCOPE];
	return host_scope_ids[scope];
}

gboolean
vigil_client_host_scope_from_id(const char *id, VigilClientHostScope *scope)
{
	for (guint i = 0; id != NULL && i < G_N_ELEMENTS(host_scope_ids); i++) {
		if (g_strcmp0(id, host_scope_ids[i]) == 0) {
			*scope = (VigilClientHostScope)i;
			return TRUE;
		}
	}
	return FALSE;
}

VigilClientHostScope
vigil_client_prefs_get_host_scope(void)
{
	g_autofree char *id = prefs_get(KEY_HOST);
	VigilClientHostScope scope = VIGIL_CLIENT_DEFAULT_HOST_SCOPE;

	if (id != NULL && !vigil_client_host_scope_from_id(id, &scope))
		complain(KEY_HOST, id, "host, domain, any");
	return scope;
}

gboolean
vigil_client_prefs_set_host_scope(VigilClientHostScope scope, GError **error)
{
	return prefs_set(KEY_HOST, vigil_client_host_scope_to_id(scope), error);
}

static const char *
known_verdict(const char *id)
{
	for (guint i = 0; id != NULL && i < G_N_ELEMENTS(verdict_ids); i++) {
		if (g_strcmp0(id, verdict_ids[i]) == 0)
			return verdict_ids[i];
	}
	return NULL;
}

const char *
vigil_client_prefs_get_verdict(void)
{
	g_autofree char *id = prefs_get(KEY_VERDICT);
	const char *verdict = known_verdict(id);

	if (id != NULL && verdict == NULL)
		complain(KEY_VERDICT, id, "allow, deny");
	return verdict != NULL ? verdict : VIGIL_CLIENT_DEFAULT_VERDICT;
}

const char *
vigil_client_prefs_get_chosen_verdict(void)
{
	g_autofree char *id = prefs_get(KEY_VERDICT);

	return known_verdict(id);
}

gboolean
vigil_client_prefs_set_verdict(const char *verdict, GError **error)
{
	if (known_verdict(verdict) == NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
		            "'%s' is not a default answer (allow, deny)", verdict ? verdict : "");
		return FALSE;
	}
	return prefs_set(KEY_VERDICT, verdict, error);
}
