/* vigil-config.c: reading and validating vigild.conf */
#define G_LOG_DOMAIN "vigil-config"
#include "config.h"

#include "vigil-atomic-file.h"
#include "vigil-config.h"

#define GROUP "Daemon"

gboolean
vigil_config_parse(VigilConfig *config, const char *text, const char *file_name, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local_error = NULL;
	g_auto(GStrv) groups = NULL;
	g_auto(GStrv) keys = NULL;

	if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, &local_error)) {
		g_set_error(error, VIGIL_CONFIG_ERROR, VIGIL_CONFIG_ERROR_PARSE, "%s: %s",
		            file_name, local_error->message);
		return FALSE;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (gsize i = 0; groups[i] != NULL; i++) {
		if (!g_str_equal(groups[i], GROUP)) {
			g_set_error(error, VIGIL_CONFIG_ERROR, VIGIL_CONFIG_ERROR_UNKNOWN_KEY,
			            "%s: unknown group [%s] (the only group is [" GROUP "])",
			            file_name, groups[i]);
			return FALSE;
		}
	}
	if (!g_key_file_has_group(kf, GROUP))
		return TRUE;

	keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);
	for (gsize i = 0; keys[i] != NULL; i++) {
		const VigilSetting *setting = vigil_setting_lookup(keys[i]);
		g_autofree char *value = NULL;

		if (setting == NULL) {
			g_set_error(error, VIGIL_CONFIG_ERROR, VIGIL_CONFIG_ERROR_UNKNOWN_KEY,
			            "%s: unknown key %s in [" GROUP "]", file_name, keys[i]);
			return FALSE;
		}
		value = g_key_file_get_string(kf, GROUP, keys[i], NULL);
		g_strstrip(value);
		if (!vigil_setting_apply(config, setting, value, error)) {
			g_prefix_error(error, "%s: [" GROUP "] ", file_name);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
vigil_config_load(VigilConfig *config, const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local_error = NULL;

	if (!g_file_get_contents(path, &text, NULL, &local_error)) {
		if (g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	return vigil_config_parse(config, text, path, error);
}

gboolean
vigil_config_save_keys(const char *path, const char *const *keys, const char *const *values,
                       GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local_error = NULL;
	g_autofree char *text = NULL;
	VigilConfig check;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &local_error) &&
	    !g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	for (gsize i = 0; keys[i] != NULL; i++)
		g_key_file_set_string(kf, GROUP, keys[i], values[i]);
	text = g_key_file_to_data(kf, NULL, NULL);
	/* what vigild reads at the next start must be what is running now */
	vigil_config_init_defaults(&check);
	if (!vigil_config_parse(&check, text, path, error)) {
		vigil_config_clear(&check);
		return FALSE;
	}
	vigil_config_clear(&check);
	return vigil_write_file_atomically(path, text, error);
}
