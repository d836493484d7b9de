/* vigil-tray-prompt-window.h: the one window that shows vigild's connection requests, one at a time
 */
#pragma once

#include <gtk/gtk.h>

#include "vigil-tray-program-info.h"
#include "vigil-client.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_PROMPT_WINDOW (vigil_tray_prompt_window_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayPromptWindow, vigil_tray_prompt_window, VIGIL, TRAY_PROMPT_WINDOW,
                     GtkApplicationWindow)

/*
 * Signals:
 * - "reply" (guint64 request, const char *verdict, GVariant *options): the user answered;
 *   pass it on to Reply().
 * - "pending-changed": the number of requests waiting changed.
 * - "hold" (guint64 request): the user reads the request's prompt (its details are open);
 *   pass it on to HoldRequest() and its answer to vigil_tray_prompt_window_held(). Emitted
 *   again every few seconds while reading.
 */
VigilTrayPromptWindow *vigil_tray_prompt_window_new(GtkApplication *app, VigilTrayAppIndex *apps);

/* queues @prompt (taking it) and shows the window without taking the keyboard focus */
void vigil_tray_prompt_window_add(VigilTrayPromptWindow *self, VigilClientRequest *prompt);
/* forgets a request that is no longer pending; unknown ids are ignored */
void vigil_tray_prompt_window_remove(VigilTrayPromptWindow *self, guint64 request);
/* forgets every request (vigild went away) and hides the window */
void vigil_tray_prompt_window_clear(VigilTrayPromptWindow *self);
guint vigil_tray_prompt_window_get_n_pending(VigilTrayPromptWindow *self);
/* vigild held @request: @seconds_left until it times out; -1: it did not (the countdown runs) */
void vigil_tray_prompt_window_held(VigilTrayPromptWindow *self, guint64 request,
                                   gint64 seconds_left);
/* what a timeout does, for the countdown text: "allow" or "deny" */
void vigil_tray_prompt_window_set_default_action(VigilTrayPromptWindow *self, const char *action);
/* shows the window again after the user closed it while requests wait */
void vigil_tray_prompt_window_reveal(VigilTrayPromptWindow *self);

G_END_DECLS
