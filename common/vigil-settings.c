/* vigil-settings.c: the table of vigild's settings and the one check of a value (no I/O) */
#define G_LOG_DOMAIN "vigil-config"
#include "config.h"

#include <stddef.h>

#include "vigil-dbus.h"
#include "vigil-settings.h"

#define FIELD(member)                                                                              \
	.offset = offsetof(VigilConfig, member), .size = sizeof(((VigilConfig *)NULL)->member)

/* written out: clang-format would put spaces into a G_DEFINE_QUARK name */
GQuark
vigil_config_error_quark(void)
{
	return g_quark_from_static_string("vigil-config-error-quark");
}

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
	config->attribution = VIGIL_ATTRIBUTION_AUTO;
	config->ebpf_cgroup = NULL;
	config->kernel_verdicts = VIGIL_KERNEL_VERDICTS_QUEUE;
	config->history_days = 30;
	config->history_size_mib = 256;
	config->capture_flow_kib = 256;
	config->capture_total_mib = 64;
}

void
vigil_config_clear(VigilConfig *config)
{
	g_clear_pointer(&config->agent_executables, g_strfreev);
	g_clear_pointer(&config->ebpf_cgroup, g_free);
}

const char *
vigil_attribution_to_string(VigilAttribution attribution)
{
	switch (attribution) {
	case VIGIL_ATTRIBUTION_EBPF:
		return "ebpf";
	case VIGIL_ATTRIBUTION_QUEUE:
		return "queue";
	case VIGIL_ATTRIBUTION_AUTO:
		break;
	}
	return "auto";
}

const char *
vigil_kernel_verdicts_to_string(VigilKernelVerdicts mode)
{
	switch (mode) {
	case VIGIL_KERNEL_VERDICTS_EBPF:
		return "ebpf";
	case VIGIL_KERNEL_VERDICTS_QUEUE:
		return "queue";
	case VIGIL_KERNEL_VERDICTS_AUTO:
		break;
	}
	return "auto";
}

const char *
vigil_fail_mode_to_string(VigilFailMode mode)
{
	return mode == VIGIL_FAIL_CLOSED ? "closed" : "open";
}

/* choices and booleans are stored as the enum (int) they are */
G_STATIC_ASSERT(sizeof(VigilAction) == sizeof(int));
G_STATIC_ASSERT(sizeof(VigilFailMode) == sizeof(int));
G_STATIC_ASSERT(sizeof(GLogLevelFlags) == sizeof(int));
G_STATIC_ASSERT(sizeof(gboolean) == sizeof(int));

static const VigilSettingChoice actions[] = {
    {"allow", VIGIL_ACTION_ALLOW},
    {"deny", VIGIL_ACTION_DENY},
    {NULL, 0},
};

static const VigilSettingChoice fail_modes[] = {
    {"open", VIGIL_FAIL_OPEN},
    {"closed", VIGIL_FAIL_CLOSED},
    {NULL, 0},
};

static const VigilSettingChoice log_levels[] = {
    {"error", G_LOG_LEVEL_CRITICAL}, {"warning", G_LOG_LEVEL_WARNING},
    {"notice", G_LOG_LEVEL_MESSAGE}, {"info", G_LOG_LEVEL_INFO},
    {"debug", G_LOG_LEVEL_DEBUG},    {NULL, 0},
};

G_STATIC_ASSERT(sizeof(VigilAttribution) == sizeof(int));

static const VigilSettingChoice attributions[] = {
    {"auto", VIGIL_ATTRIBUTION_AUTO},
    {"ebpf", VIGIL_ATTRIBUTION_EBPF},
    {"queue", VIGIL_ATTRIBUTION_QUEUE},
    {NULL, 0},
};

G_STATIC_ASSERT(sizeof(VigilKernelVerdicts) == sizeof(int));

static const VigilSettingChoice kernel_verdicts[] = {
    {"auto", VIGIL_KERNEL_VERDICTS_AUTO},
    {"ebpf", VIGIL_KERNEL_VERDICTS_EBPF},
    {"queue", VIGIL_KERNEL_VERDICTS_QUEUE},
    {NULL, 0},
};

static const VigilSetting settings[] = {
    {.name = "QueueNumber",
     .type = VIGIL_SETTING_UINT,
     .min = 0,
     .max = 65535,
     .expected = "a number 0-65535",
     FIELD(queue_number)},
    {.name = "QueueLength",
     .type = VIGIL_SETTING_UINT,
     .min = 1,
     .max = 1048576,
     .expected = "a number 1-1048576",
     FIELD(queue_length)},
    {.name = VIGIL_CONFIG_KEY_DEFAULT_ACTION,
     .type = VIGIL_SETTING_CHOICE,
     .choices = actions,
     .expected = "allow or deny",
     .dbus_type = "s",
     FIELD(default_action)},
    {.name = VIGIL_CONFIG_KEY_PROMPT_TIMEOUT,
     .type = VIGIL_SETTING_UINT,
     .min = VIGIL_PROMPT_TIMEOUT_MIN,
     .max = VIGIL_PROMPT_TIMEOUT_MAX,
     .expected = "seconds, " G_STRINGIFY(VIGIL_PROMPT_TIMEOUT_MIN) "-" G_STRINGIFY(
         VIGIL_PROMPT_TIMEOUT_MAX),
     .dbus_type = "u",
     FIELD(prompt_timeout)},
    {.name = VIGIL_CONFIG_KEY_FAIL_MODE,
     .type = VIGIL_SETTING_CHOICE,
     .choices = fail_modes,
     .expected = "open or closed",
     .dbus_type = "s",
     FIELD(fail_mode)},
    {.name = "AuthTimeout",
     .type = VIGIL_SETTING_UINT,
     .min = 1,
     .max = 3600,
     .expected = "seconds, 1-3600",
     FIELD(auth_timeout)},
    {.name = "LogLevel",
     .type = VIGIL_SETTING_CHOICE,
     .choices = log_levels,
     .ignore_case = TRUE,
     .expected = "error, warning, notice, info or debug",
     FIELD(log_level)},
    {.name = "FilterLoopback",
     .type = VIGIL_SETTING_BOOL,
     .expected = "true or false",
     FIELD(filter_loopback)},
    /* allow, deny and drop are 1, 2, 3 shifted into a contiguous run of bits */
    {.name = "MarkMask",
     .type = VIGIL_SETTING_MASK,
     .min = 2,
     .max = G_MAXUINT32,
     .expected = "a 32-bit mask with at least two bits set, e.g. 0x00700000",
     FIELD(mark_mask)},
    {.name = "Enabled", .type = VIGIL_SETTING_BOOL, .expected = "true or false", FIELD(enabled)},
    {.name = "AgentExecutables",
     .type = VIGIL_SETTING_PATHS,
     .max = VIGIL_CONFIG_MAX_AGENT_EXECUTABLES,
     .expected = "absolute canonical paths separated by ';'",
     FIELD(agent_executables)},
    {.name = "Attribution",
     .type = VIGIL_SETTING_CHOICE,
     .choices = attributions,
     .expected = "auto, ebpf or queue",
     FIELD(attribution)},
    {.name = "EbpfCgroup",
     .type = VIGIL_SETTING_PATH,
     .expected = "an absolute canonical path of a cgroup v2 directory",
     FIELD(ebpf_cgroup)},
    {.name = "KernelVerdicts",
     .type = VIGIL_SETTING_CHOICE,
     .choices = kernel_verdicts,
     .expected = "auto, ebpf or queue",
     FIELD(kernel_verdicts)},
    {.name = "HistoryDays",
     .type = VIGIL_SETTING_UINT,
     .min = 0,
     .max = 36500,
     .expected = "days, 0-36500 (0: no history)",
     FIELD(history_days)},
    {.name = "HistorySize",
     .type = VIGIL_SETTING_UINT,
     .min = 1,
     .max = 1048576,
     .expected = "MiB, 1-1048576",
     FIELD(history_size_mib)},
    {.name = "CaptureFlowSize",
     .type = VIGIL_SETTING_UINT,
     .min = 1,
     .max = 1048576,
     .expected = "KiB, 1-1048576",
     FIELD(capture_flow_kib)},
    {.name = "CaptureTotalSize",
     .type = VIGIL_SETTING_UINT,
     .min = 0,
     .max = 1048576,
     .expected = "MiB, 0-1048576 (0: no capture)",
     FIELD(capture_total_mib)},
};

const VigilSetting *
vigil_settings(gsize *n_settings)
{
	*n_settings = G_N_ELEMENTS(settings);
	return settings;
}

const VigilSetting *
vigil_setting_lookup(const char *name)
{
	for (gsize i = 0; name != NULL && i < G_N_ELEMENTS(settings); i++) {
		if (g_str_equal(settings[i].name, name))
			return &settings[i];
	}
	return NULL;
}

static gboolean
value_error(GError **error, const VigilSetting *setting, const char *text, const char *expected)
{
	g_set_error(error, VIGIL_CONFIG_ERROR, VIGIL_CONFIG_ERROR_VALUE, "%s=%s: expected %s",
	            setting->name, text, expected);
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
is_contiguous_mask(guint64 mask, guint64 min_bits)
{
	guint64 run;

	if (mask == 0)
		return FALSE;
	run = mask >> __builtin_ctzll(mask);
	return (run & (run + 1)) == 0 && (guint64)__builtin_popcountll(run) >= min_bits;
}

/* "/usr/bin/vigil-tray; /usr/bin/vigilctl": a list of paths; empty is NULL */
static gboolean
parse_paths(const VigilSetting *setting, const char *text, char ***out, GError **error)
{
	g_auto(GStrv) items = g_strsplit(text, ";", -1);
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; items[i] != NULL; i++) {
		const char *path = g_strstrip(items[i]);

		if (*path == '\0')
			continue;
		if (!vigil_path_is_canonical(path) || !g_utf8_validate(path, -1, NULL))
			return value_error(error, setting, path, setting->expected);
		if (paths->len >= setting->max) {
			g_autofree char *most =
			    g_strdup_printf("at most %" G_GUINT64_FORMAT " paths", setting->max);

			return value_error(error, setting, text, most);
		}
		g_ptr_array_add(paths, g_strdup(path));
	}
	*out = NULL;
	if (paths->len > 0) {
		g_ptr_array_add(paths, NULL);
		*out = (char **)g_ptr_array_free(g_steal_pointer(&paths), FALSE);
	}
	return TRUE;
}

static gboolean
parse_choice(const VigilSetting *setting, const char *text, int *out)
{
	for (const VigilSettingChoice *c = setting->choices; c->name != NULL; c++) {
		if (setting->ignore_case ? g_ascii_strcasecmp(text, c->name) == 0
		                         : g_str_equal(text, c->name)) {
			*out = c->value;
			return TRUE;
		}
	}
	return FALSE;
}

static void
store_uint(gpointer field, gsize size, guint64 n)
{
	if (size == sizeof(guint16))
		*(guint16 *)field = (guint16)n;
	else
		*(guint32 *)field = (guint32)n;
}

gboolean
vigil_setting_apply(VigilConfig *config, const VigilSetting *setting, const char *text,
                    GError **error)
{
	gpointer field = G_STRUCT_MEMBER_P(config, setting->offset);
	guint64 n = 0;
	int choice = 0;
	char **paths = NULL;

	switch (setting->type) {
	case VIGIL_SETTING_UINT:
		if (!parse_uint(text, setting->min, setting->max, &n))
			return value_error(error, setting, text, setting->expected);
		store_uint(field, setting->size, n);
		break;
	case VIGIL_SETTING_MASK:
		if (!parse_uint(text, 0, setting->max, &n) || !is_contiguous_mask(n, setting->min))
			return value_error(error, setting, text, setting->expected);
		store_uint(field, setting->size, n);
		break;
	case VIGIL_SETTING_BOOL:
		if (!g_str_equal(text, "true") && !g_str_equal(text, "false"))
			return value_error(error, setting, text, setting->expected);
		*(gboolean *)field = g_str_equal(text, "true");
		break;
	case VIGIL_SETTING_CHOICE:
		if (!parse_choice(setting, text, &choice))
			return value_error(error, setting, text, setting->expected);
		*(int *)field = choice;
		break;
	case VIGIL_SETTING_PATH:
		if (*text != '\0' &&
		    (!vigil_path_is_canonical(text) || !g_utf8_validate(text, -1, NULL)))
			return value_error(error, setting, text, setting->expected);
		g_free(*(char **)field);
		*(char **)field = *text != '\0' ? g_strdup(text) : NULL;
		break;
	case VIGIL_SETTING_PATHS:
		if (!parse_paths(setting, text, &paths, error))
			return FALSE;
		/* parsed again (a later file, a repeated key): replaced, not leaked */
		g_strfreev(*(char ***)field);
		*(char ***)field = paths;
		break;
	}
	return TRUE;
}
