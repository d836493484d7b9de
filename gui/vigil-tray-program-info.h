/* vigil-tray-program-info.h: what the installed applications (.desktop files) say about an
 * executable */
#pragma once

#include <gio/gdesktopappinfo.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_APP_INDEX (vigil_tray_app_index_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayAppIndex, vigil_tray_app_index, VIGIL, TRAY_APP_INDEX, GObject)

/*
 * What may name a program. The headline of a prompt always names the executable vigild read
 * through /proc/PID/exe; other names only add to it:
 * - @app: a system .desktop file (owned by root, writable by nobody else, outside the user's
 *   own data directory) whose Exec or TryExec program is this very executable. Only root
 *   installs those, so its name and icon may be shown as the program's.
 * - @claimed_name: what something nobody vouches for calls the program: the .desktop file
 *   named after the process's app id (an app id comes from the process's cgroup name, which
 *   any program of the user can choose, e.g. `systemd-run --user --scope
 *   --unit=snap.firefox.x`), the app id itself, or a .desktop file the user can write that
 *   runs this executable. Shown only marked as unverified; its icon is never shown.
 * Both are NULL when nothing matches; @claimed_name is NULL when it says what @app says.
 */
typedef struct {
	GDesktopAppInfo *app;
	char *claimed_name; /* raw: sanitize before showing */
} VigilAppMatch;

void vigil_app_match_free(VigilAppMatch *match);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilAppMatch, vigil_app_match_free)

/* TRUE for a .desktop file only root can have written: the file (links followed) and its
 * directory are owned by root and writable by no group or other, and it is not under the
 * user's own data directory (g_get_user_data_dir()) */
gboolean vigil_desktop_file_is_system(const char *filename);

/* an index of the system .desktop files by the executable they run (PATH resolved, links
 * followed); it is built on the first lookup and again after the installed applications
 * change */
VigilTrayAppIndex *vigil_tray_app_index_new(void);

/* what names the process running @exe_path (vigild's verified path) with the (claimed)
 * @appid, which may be NULL; never NULL */
VigilAppMatch *vigil_tray_app_index_lookup(VigilTrayAppIndex *index, const char *exe_path,
                                           const char *appid);

G_END_DECLS
