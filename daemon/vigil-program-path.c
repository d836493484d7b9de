/* vigil-program-path.c: which file a rule's program path names, in vigild's own mount namespace */
#define G_LOG_DOMAIN "vigil-ruleset"
#include "config.h"

#include "vigil-program-path.h"

#include <stdlib.h>
#include <sys/stat.h>

gboolean
vigil_program_path_resolve(const char *path, char **resolved, VigilFileId *id)
{
	g_autofree char *real = NULL;
	struct stat st;

	g_return_val_if_fail(path != NULL && id != NULL, FALSE);

	*id = (VigilFileId){0};
	if (resolved != NULL)
		*resolved = NULL;
	/* /proc/PID/exe shows the file, never a link to it: a rule for a link names its target */
	if (resolved != NULL) {
		real = realpath(path, NULL);
		if (real == NULL)
			return FALSE;
	}
	if (stat(real != NULL ? real : path, &st) != 0 || !S_ISREG(st.st_mode))
		return FALSE;
	id->dev = (guint64)st.st_dev;
	id->ino = (guint64)st.st_ino;
	id->ctime = (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
	id->size = (gint64)st.st_size;
	if (resolved != NULL)
		*resolved = g_steal_pointer(&real);
	return TRUE;
}
