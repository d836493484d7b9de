/* vigil-program-path.h: which file a rule's program path names, in vigild's own mount namespace */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* a file: what stat() says of it, and of /proc/PID/exe for a process running it */
typedef struct {
	guint64 dev;
	guint64 ino; /* 0: unknown (no file has inode 0) */
} VigilFileId;

static inline gboolean
vigil_file_id_equal(const VigilFileId *a, const VigilFileId *b)
{
	return a->ino != 0 && a->dev == b->dev && a->ino == b->ino;
}

/*
 * Resolves @path as vigild sees it. With @resolved, *resolved gets the path with every
 * symbolic link resolved (realpath(3)); *id gets the device and inode of the regular file it
 * names. FALSE, *id zeroed, when it names no regular file (missing, a directory, ...).
 * The ruleset calls it through a pointer so that tests of pure matching can name made-up files.
 */
typedef gboolean (*VigilPathResolver)(const char *path, char **resolved, VigilFileId *id);

gboolean vigil_program_path_resolve(const char *path, char **resolved, VigilFileId *id);

G_END_DECLS
