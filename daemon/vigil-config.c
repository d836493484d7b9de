/* vigil-config.c: reading and validating vigild.conf */
#define G_LOG_DOMAIN "vigil-config"
#include "config.h"

#include <errno.h>
#include <string.h>
#include "vigil-config.h"
#include "vigil-rule-store.h" /* vigil_write_file_atomically */

#define GROUP "Daemon"

/* written out: clang-format would put spaces into a G_DEFINE_QUARK name */
GQuark
vigil_config_error_quark(void)
{
	return g_quark_from_static_string("vigil-config-error-quark");
}

static const char *const known_keys[] = {
    "QueueNumber",    "QueueLength", "DefaultAction", "FailMode",    "PromptTimeout",    "LogLevel",
    "FilterLoopback", "MarkMask",    "Enabled",       "AuthTimeout", "AgentExecutables", NULL,
};

void
vigil_config_init_defaults(VigilConfig *config)
{
	config->queue_number = 0;
	config->queue_length = 8192;
	config->default_action = VIGIL_ACTION_ALLOW;
	config->fail_mode = VIGIL_FAIL_OPEN;
	config->prompt_timeout = 30;
	config->auth_timeout = 300;
	config->log_level = G_LOG_LEVEL_INFO;
	config->filter_loopback = FALSE;
	config->mark_mask = 0x00700000;
	config->enabled = TRUE;
	config->agent_executables = NULL;
}

void
vigil_config_clear(VigilConfig *config)
{
	g_clear_pointer(&config->agent_executables, g_strfreev);
}

const char *
vigil_fail_mode_to_string(VigilFailMode mode)
{
	return mode == VIGIL_FAIL_CLOSED ? "closed" : "open";
}

gboolean
vigil_fail_mode_from_string(const char *text, VigilFailMode *mode)
{
	if (g_strcmp0(text, "open") == 0)
		*mode = VIGIL_FAIL_OPEN;
	else if (g_strcmp0(text, "closed") == 0)
		*mode = VIGIL_FAIL_CLOSED;
	else
		return FALSE;
	return TRUE;
}

static gboolean
parse_bool(const char *text, gboolean *out)
{
	if (g_str_equal(text, "true"))
		*out = TRUE;
	else if (g_str_equal(text, "false"))
		*out = FALSE;
	else
		return FALSE;
	return TRUE;
}

static gboolean
value_error(GError **error, const char *file_name, const char *key, const char *value,
            const char *expected)
{
	g_set_error(error, VIGIL_CONFIG_ERROR, VIGIL_CONFIG_ERROR_VALUE,
	            "%s: [" GROUP "] %s=%s: expected %s", file_name, key, value, expected);
	return FALSE;
}

/* strict unsigned parse of the whole string, decimal or 0x-hex, within [min, max] */
static gboolean
parse_uint(const char *text, guint64 min, guint64 max, guint64 *out)
{
	if (g_str_has_prefix(text, "0x") || g_str_has_prefix(text, "0X"))
		return g_ascii_string_to_unsigned(text + 2, 16, min, max, out, NULL);
	return g_ascii_string_to_unsigned(text, 10, min, max, out, NULL);
}

/* TRUE when @mask is one run of at least @min_bits set bits */
static gboolean
is_contiguous_mask(guint64 mask, guint min_bits)
{
	guint64 run;

	if (mask == 0)
		return FALSE;
	run = mask >> __builtin_ctzll(mask);
	return (run & (run + 1)) == 0 && (guint)__builtin_popcountll(run) >= min_bits;
}

/* an absolute path as /proc/PID/exe shows it: no "//", "." or ".." parts, no trailing '/' */
static gboolean
is_canonical_path(const char *path)
{
	g_auto(GStrv) parts = NULL;

	if (path[0] != '/' || path[1] == '\0' || strlen(path) > 4095)
		return FALSE;
	parts = g_strsplit(path + 1, "/", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0' || g_str_equal(parts[i], ".") ||
		    g_str_equal(parts[i], ".."))
			return FALSE;
	}
	return TRUE;
}

/* "/usr/bin/vigil-tray; /usr/bin/vigilctl": a list of paths; empty means any program */
static gboolean
parse_agent_executables(VigilConfig *config, const char *value, const char *file_name,
                        GError **error)
{
	g_auto(GStrv) items = g_strsplit(value, ";", -1);
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; items[i] != NULL; i++) {
		const char *path = g_strstrip(items[i]);

		if (*path == '\0')
			continue;
		if (!is_canonical_path(path) || !g_utf8_validate(path, -1, NULL))
			return value_error(error, file_name, "AgentExecutables", path,
			                   "absolute canonical paths separated by ';'");
		if (paths->len >= VIGIL_CONFIG_MAX_AGENT_EXECUTABLES)
			return value_error(
			    error, file_name, "AgentExecutables", value,
			    "at most " G_STRINGIFY(VIGIL_CONFIG_MAX_AGENT_EXECUTABLES) " paths");
		g_ptr_array_add(paths, g_strdup(path));
	}
	g_clear_pointer(&config->agent_executables, g_strfreev);
	if (paths->len > 0) {
		g_ptr_array_add(paths, NULL);
		config->agent_executables =
		    (char **)g_ptr_array_free(g_steal_pointer(&paths), FALSE);
	}
	return TRUE;
}

static gboolean
parse_log_level(const char *text, GLogLevelFlags *level)
{
	static const struct {
		const char *name;
		GLogLevelFlags level;
	} levels[] = {
	    {"error", G_LOG_LEVEL_CRITICAL}, {"warning", G_LOG_LEVEL_WARNING},
	    {"notice", G_LOG_LEVEL_MESSAGE}, {"info", G_LOG_LEVEL_INFO},
	    {"debug", G_LOG_LEVEL_DEBUG},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(levels); i++) {
		if (g_ascii_strcasecmp(text, levels[i].name) == 0) {
			*level = levels[i].level;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
apply_key(VigilConfig *config, const char *key, const char *value, const char *file_name,
          GError **error)
{
	guint64 n;

	if (g_str_equal(key, "QueueNumber")) {
		if (!parse_uint(value, 0, 65535, &n))
			return value_error(error, file_name, key, value, "a number 0-65535");
		config->queue_number = (guint16)n;
	} else if (g_str_equal(key, "QueueLength")) {
		if (!parse_uint(value, 1, 1048576, &n))
			return value_error(error, file_name, key, value, "a number 1-1048576");
		config->queue_length = (guint)n;
	} else if (g_str_equal(key, "DefaultAction")) {
		if (g_str_equal(value, "allow"))
			config->default_action = VIGIL_ACTION_ALLOW;
		else if (g_str_equal(value, "deny"))
			config->default_action = VIGIL_ACTION_DENY;
		else
			return value_error(error, file_name, key, value, "allow or deny");
	} else if (g_str_equal(key, "FailMode")) {
		if (!vigil_fail_mode_from_string(value, &config->fail_mode))
			return value_error(error, file_name, key, value, "open or closed");
	} else if (g_str_equal(key, "PromptTimeout")) {
		if (!parse_uint(value, 1, 3600, &n))
			return value_error(error, file_name, key, value, "seconds, 1-3600");
		config->prompt_timeout = (guint)n;
	} else if (g_str_equal(key, "AuthTimeout")) {
		if (!parse_uint(value, 1, 3600, &n))
			return value_error(error, file_name, key, value, "seconds, 1-3600");
		config->auth_timeout = (guint)n;
	} else if (g_str_equal(key, "LogLevel")) {
		if (!parse_log_level(value, &config->log_level))
			return value_error(error, file_name, key, value,
			                   "error, warning, notice, info or debug");
	} else if (g_str_equal(key, "FilterLoopback")) {
		if (!parse_bool(value, &config->filter_loopback))
			return value_error(error, file_name, key, value, "true or false");
	} else if (g_str_equal(key, "Enabled")) {
		if (!parse_bool(value, &config->enabled))
			return value_error(error, file_name, key, value, "true or false");
	} else if (g_str_equal(key, "AgentExecutables")) {
		return parse_agent_executables(config, value, file_name, error);
	} else if (g_str_equal(key, "MarkMask")) {
		/* allow, deny and drop are 1, 2, 3 shifted into a contiguous run of bits */
		if (!parse_uint(value, 0, G_MAXUINT32, &n) || !is_contiguous_mask(n, 2))
			return value_error(
			    error, file_name, key, value,
			    "a 32-bit mask with at least two bits set, e.g. 0x00700000");
		config->mark_mask = (guint32)n;
	}
	return TRUE;
}

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
		g_autofree char *value = NULL;

		if (!g_strv_contains(known_keys, keys[i])) {
			g_set_error(error, VIGIL_CONFIG_ERROR, VIGIL_CONFIG_ERROR_UNKNOWN_KEY,
			            "%s: unknown key %s in [" GROUP "]", file_name, keys[i]);
			return FALSE;
		}
		value = g_key_file_get_string(kf, GROUP, keys[i], NULL);
		g_strstrip(value);
		if (!apply_key(config, keys[i], value, file_name, error))
			return FALSE;
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
