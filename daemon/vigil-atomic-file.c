/* vigil-atomic-file.c: replacing a file whole and durably */
#define G_LOG_DOMAIN "vigil-atomic-file"
#include "config.h"

#include "vigil-atomic-file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static gboolean
fsync_directory(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int saved_errno;

	if (fd < 0 || fsync(fd) < 0) {
		saved_errno = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
		            "cannot sync directory %s: %s", dir, g_strerror(saved_errno));
		return FALSE;
	}
	close(fd);
	return TRUE;
}

gboolean
vigil_write_file_atomically(const char *path, const char *contents, GError **error)
{
	g_return_val_if_fail(path != NULL && contents != NULL, FALSE);

	/* temp file beside @path, fsync, rename: a crash leaves the old file or the new one */
	if (!g_file_set_contents_full(path, contents, -1,
	                              G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
	                              0600, error))
		return FALSE;
	/* and make the rename itself durable */
	return fsync_directory(path, error);
}
