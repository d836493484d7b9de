/* vigil-client-prefs.c: the user's prompt preferences in the tray's state file */
#include "vigil-client-prefs.h"

#include <errno.h>
#include <glib/gstdio.h>

#define GROUP        "Prompts"
#define KEY_DURATION "duration"

static const char *const duration_ids[] = {
    [VIGIL_CLIENT_DURATION_ONCE] = "once",    [VIGIL_CLIENT_DURATION_UNTIL_QUIT] = "until-quit",
    [VIGIL_CLIENT_DURATION_5_MINUTES] = "5m", [VIGIL_CLIENT_DURATION_1_HOUR] = "1h",
    [VIGIL_CLIENT_DURATION_24_HOURS] = "24h", [VIGIL_CLIENT_DURATION_FOREVER] = "forever",
};

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

VigilClientDuration
vigil_client_prefs_get_duration(void)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = vigil_client_prefs_path();
	g_autofree char *id = NULL;
	VigilClientDuration duration = VIGIL_CLIENT_DEFAULT_DURATION;

	if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
		id = g_key_file_get_string(kf, GROUP, KEY_DURATION, NULL);
	if (id != NULL && !vigil_client_duration_from_id(id, &duration))
		g_message("%s: [%s] %s=%s is not one of once, until-quit, 5m, 1h, 24h, forever",
		          path, GROUP, KEY_DURATION, id);
	return duration;
}

gboolean
vigil_client_prefs_set_duration(VigilClientDuration duration, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = vigil_client_prefs_path();
	g_autofree char *dir = g_path_get_dirname(path);

	/* the rest of the file (the tray's state) stays as it is */
	g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
	g_key_file_set_string(kf, GROUP, KEY_DURATION, vigil_client_duration_to_id(duration));
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int saved = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", dir,
		            g_strerror(saved));
		return FALSE;
	}
	return g_key_file_save_to_file(kf, path, error);
}
