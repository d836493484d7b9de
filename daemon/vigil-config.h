/* vigil-config.h: /etc/vigil/vigild.conf, a GKeyFile: read, checked (vigil-settings.h), saved */
#pragma once

#include <glib.h>
#include "vigil-settings.h" /* VigilConfig */

G_BEGIN_DECLS

/* parses @text (the contents of @file_name, used in messages) on top of the defaults */
gboolean vigil_config_parse(VigilConfig *config, const char *text, const char *file_name,
                            GError **error);
/* reads @path; a missing file is not an error (defaults apply) */
gboolean vigil_config_load(VigilConfig *config, const char *path, GError **error);

/*
 * Sets @keys to @values (NULL-terminated, same length) in [Daemon] of the file at @path and
 * writes it atomically, keeping its comments and other keys. A missing file is created.
 * The result must parse (a key file of known keys with valid values), else nothing is
 * written and the error is a VIGIL_CONFIG_ERROR; failing to write gives a G_IO_ERROR or
 * G_FILE_ERROR.
 */
gboolean vigil_config_save_keys(const char *path, const char *const *keys,
                                const char *const *values, GError **error);

G_END_DECLS
