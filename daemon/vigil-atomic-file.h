/* vigil-atomic-file.h: a file replaced whole, so that a crash leaves the old one or the new one */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Writes @contents to @path atomically, mode 0600: temp file in the same directory, fsync,
 * rename, fsync of the directory. Readers see the old file or the new one, never a mix.
 * The learned rules and vigild.conf are written with it.
 */
gboolean vigil_write_file_atomically(const char *path, const char *contents, GError **error);

G_END_DECLS
