/* vigil-app-sandbox.h: whether a process in another mount namespace runs its app's own file:
 * the snap or flatpak its cgroup names, checked against the host's installation */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "vigil-dbus.h" /* VIGIL_APP_SANDBOX_* */

G_BEGIN_DECLS

/*
 * VIGIL_APP_SANDBOX_SNAP when @app_id (from the cgroup, which anyone may name) is a snap
 * and the executable (@exe as the process sees it, /snap/APP/REV/PATH) is that very file
 * (@exe_dev, @exe_ino) of its current revision, mounted by root on the host
 * (/snap/APP/current/PATH); VIGIL_APP_SANDBOX_FLATPAK when it is a flatpak app
 * id and the executable (@exe as the process sees it, /app/...) is that very file (@exe_dev,
 * @exe_ino) of the app's system installation (/var/lib/flatpak/app/APP/current/active/files);
 * NULL otherwise. Then the path the prompt shows names the app's file, and the mount namespace
 * is the sandbox's, not a reason to doubt the path. What a user can make (a cgroup's name, a
 * namespace of their own, files in their home) never matches: only root's mounts and files
 * on the host count.
 */
const char *vigil_app_sandbox_verify(const char *app_id, const char *exe, dev_t exe_dev,
                                     ino_t exe_ino);

G_END_DECLS
