/* vigil-tray-notifier.h: desktop notifications through libnotify, shown without blocking the UI */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_NOTIFIER (vigil_tray_notifier_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayNotifier, vigil_tray_notifier, VIGIL, TRAY_NOTIFIER, GObject)

/*
 * Signals:
 * - "action" (const char *action): the user chose an action of a notification.
 */
VigilTrayNotifier *vigil_tray_notifier_new(const char *app_name);

/* shows (or replaces the one with the same @key) a notification; @summary and @body are plain
 * text (escaped for a server that reads markup in bodies); @actions is NULL or pairs
 * of action name and label, NULL-terminated, offered only when the notification server
 * supports actions. libnotify's calls block, so a worker thread makes them. */
void vigil_tray_notifier_show(VigilTrayNotifier *self, const char *key, const char *summary,
                              const char *body, const char *icon, const char *const *actions);
/* the same; @urgent asks the server to keep it until the user closes it (a warning about
 * something that may be an attack) */
void vigil_tray_notifier_show_full(VigilTrayNotifier *self, const char *key, const char *summary,
                                   const char *body, const char *icon, const char *const *actions,
                                   gboolean urgent);

G_END_DECLS
