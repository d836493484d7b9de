/* vigil-program-path.h: which file a rule's program path names, in vigild's own mount namespace */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* a file: what stat() says of it, and of /proc/PID/exe for a process running it */
typedef struct {
	guint64 dev;
	guint64 ino; /* 0: unknown (no file has inode 0) */
	/* an inode number is reused once its file is gone (a package upgrade frees the old one):
	 * the new file has its own ctime (ns, set by the kernel when it is made, changed by no
	 * call a user can make with a chosen value) and usually another size */
	gint64 ctime;
	gint64 size;
} VigilFileId;

static inline gboolean
vigil_file_id_equal(const VigilFileId *a, const VigilFileId *b)
{
	return a->ino != 0 && a->dev == b->dev && a->ino == b->ino && a->ctime == b->ctime &&
	       a->size == b->size;
}

/*
 * Resolves @path as vigild sees it. With @resolved, *resolved gets the path with every
 * symbolic link resolved (realpath(3)); *id gets the device, inode, ctime and size of the
 * regular file it names. FALSE, *id zeroed, when it names no regular file (missing, a directory,
 * ...). The ruleset calls it through a pointer so that tests of pure matching can name made-up
 * files.
 */
typedef gboolean (*VigilPathResolver)(const char *path, char **resolved, VigilFileId *id);

gboolean vigil_program_path_resolve(const char *path, char **resolved, VigilFileId *id);

G_END_DECLS
