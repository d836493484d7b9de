/* vigil-settings.h: vigild's settings, one table and one check for vigild.conf and SetConfig (pure)
 */
#pragma once

#include <glib.h>
#include "vigil-config.h"

G_BEGIN_DECLS

typedef enum {
	VIGIL_SETTING_UINT,   /* decimal or 0x-hex, within [min, max] */
	VIGIL_SETTING_BOOL,   /* true or false */
	VIGIL_SETTING_CHOICE, /* one of the setting's named values */
	VIGIL_SETTING_MASK,   /* a 32-bit mask: one run of at least min set bits */
	VIGIL_SETTING_PATHS,  /* absolute canonical paths separated by ';' (empty: none) */
	VIGIL_SETTING_PATH,   /* one absolute canonical path (empty: none) */
} VigilSettingType;

/* one named value of a VIGIL_SETTING_CHOICE */
typedef struct {
	const char *name;
	int value;
} VigilSettingChoice;

/*
 * One key of [Daemon] in vigild.conf. The same name is the settings property of
 * org.vigil.Firewall1 and, where dbus_type is set, a key SetConfig() takes: SetConfig and the
 * file parser both check a value with vigil_setting_apply(), so both refuse the same values
 * with the same message.
 */
typedef struct {
	const char *name;
	VigilSettingType type;
	guint64 min, max;                  /* UINT: the range; MASK: min is the fewest bits */
	const VigilSettingChoice *choices; /* CHOICE: ended by a NULL name */
	gboolean ignore_case;              /* CHOICE: "Debug" is "debug" */
	const char *expected;              /* how the error names a good value */
	const char *dbus_type;             /* SetConfig's type for it; NULL: only in the file */
	gsize offset, size;                /* where VigilConfig keeps it, and its size */
} VigilSetting;

/* the setting named @name (case matters, as in the file), or NULL */
const VigilSetting *vigil_setting_lookup(const char *name);
/* all settings, in the order the documentation lists them */
const VigilSetting *vigil_settings(gsize *n_settings);

/*
 * Checks @text as a value of @setting and, when it is good, stores it in @config (nothing
 * else changes). A bad value is VIGIL_CONFIG_ERROR_VALUE "Key=text: expected ...", the same
 * words from either path; callers put their own context in front.
 */
gboolean vigil_setting_apply(VigilConfig *config, const VigilSetting *setting, const char *text,
                             GError **error);

G_END_DECLS
