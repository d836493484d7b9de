/* vigil-app-sandbox.c: a flatpak's or snap's process recognised by the host's installation */
#include "vigil-app-sandbox.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil-fuse.h"

#define SNAP_ROOT    "/snap"
#define FLATPAK_ROOT "/var/lib/flatpak/app"
/* where a flatpak app's files appear in its sandbox */
#define FLATPAK_APP_PREFIX "/app/"

/* a name a path component may be: no "/", "." or ".." */
static gboolean
plain_name(const char *name)
{
	return *name != '\0' && strchr(name, '/') == NULL && g_strcmp0(name, ".") != 0 &&
	       g_strcmp0(name, "..") != 0;
}

/* owned by root and writable by nobody else: what a user cannot have put there */
static gboolean
root_owned(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* "bin/app" for "/snap/NAME/REV/bin/app": the path within the snap's revision, or NULL when
 * @exe is not under /snap/NAME/ (or climbs out of it) */
static const char *
snap_inner_path(const char *name, const char *exe)
{
	g_autofree char *prefix = g_strconcat(SNAP_ROOT "/", name, "/", NULL);
	const char *revision = NULL;
	const char *slash = NULL;

	if (!g_str_has_prefix(exe, prefix) || strstr(exe, "/../") != NULL ||
	    strstr(exe, "/./") != NULL)
		return NULL;
	revision = exe + strlen(prefix);
	slash = strchr(revision, '/');
	if (slash == NULL || slash == revision || slash[1] == '\0')
		return NULL;
	return slash + 1;
}

static gboolean
snap_matches(const char *name, const char *exe, dev_t exe_dev, ino_t exe_ino)
{
	g_autofree char *dir = g_build_filename(SNAP_ROOT, name, NULL);
	g_autofree char *current = g_build_filename(dir, "current", NULL);
	const char *inner = snap_inner_path(name, exe);
	g_autofree char *file = NULL;
	struct stat top;
	struct stat cur;
	struct stat st;

	if (inner == NULL)
		return FALSE;
	/* the revision's squashfs is mounted on the host at /snap/NAME/REV; "current" links
	 * to it. The very file, not only its file system: another binary of the snap, shown
	 * under another path (a bind mount of the user's own), is not what the path says */
	file = g_build_filename(current, inner, NULL);
	/* root's directories only: no FUSE server on the way (vigil-fuse.h) */
	return vigil_fuse_stat(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, &top) == 0 &&
	       S_ISDIR(top.st_mode) && root_owned(&top) &&
	       vigil_fuse_stat(AT_FDCWD, current, 0, &cur) == 0 && S_ISDIR(cur.st_mode) &&
	       cur.st_dev != top.st_dev && vigil_fuse_stat(AT_FDCWD, file, 0, &st) == 0 &&
	       S_ISREG(st.st_mode) && st.st_dev == cur.st_dev && st.st_dev == exe_dev &&
	       st.st_ino == exe_ino;
}

static gboolean
flatpak_matches(const char *app_id, const char *exe, dev_t exe_dev, ino_t exe_ino)
{
	g_autofree char *file = NULL;
	struct stat st;

	if (!g_str_has_prefix(exe, FLATPAK_APP_PREFIX) || strstr(exe, "/../") != NULL)
		return FALSE;
	file = g_build_filename(FLATPAK_ROOT, app_id, "current", "active", "files",
	                        exe + strlen(FLATPAK_APP_PREFIX), NULL);
	return vigil_fuse_stat(AT_FDCWD, file, 0, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_dev == exe_dev && st.st_ino == exe_ino && root_owned(&st);
}

const char *
vigil_app_sandbox_verify(const char *app_id, const char *exe, dev_t exe_dev, ino_t exe_ino)
{
	if (app_id == NULL || exe == NULL || !plain_name(app_id))
		return NULL;
	/* a flatpak app id is reverse DNS; a snap name has no dot */
	if (strchr(app_id, '.') != NULL)
		return flatpak_matches(app_id, exe, exe_dev, exe_ino) ? VIGIL_APP_SANDBOX_FLATPAK
		                                                      : NULL;
	return snap_matches(app_id, exe, exe_dev, exe_ino) ? VIGIL_APP_SANDBOX_SNAP : NULL;
}
