/* vigil-program-info.h: the installed application (.desktop file) behind an executable path */
#pragma once

#include <gio/gdesktopappinfo.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_APP_INDEX (vigil_app_index_get_type())
G_DECLARE_FINAL_TYPE(VigilAppIndex, vigil_app_index, VIGIL, APP_INDEX, GObject)

/* an index of the installed .desktop files by the executable they run; it is built on the
 * first lookup and again after the installed applications change */
VigilAppIndex *vigil_app_index_new(void);

/* the application for a process: by its flatpak/snap @appid when there is a desktop file of
 * that name, otherwise the one whose Exec (or TryExec) program is @exe_path after resolving
 * PATH and symbolic links; NULL when none matches */
GDesktopAppInfo *vigil_app_index_lookup(VigilAppIndex *index, const char *exe_path,
                                        const char *appid);

G_END_DECLS
