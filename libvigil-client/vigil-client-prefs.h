/* vigil-client-prefs.h: the user's own choices for answering prompts, one file shared by
 * vigil-tray and vigilctl prompt */
#pragma once

#include <glib.h>

#include "vigil-client-reply.h"

G_BEGIN_DECLS

/* what an answer lasts unless the user picks another, when nothing was chosen: once (no rule
 * is made by a click or an Enter that was not meant for it) */
#define VIGIL_CLIENT_DEFAULT_DURATION VIGIL_CLIENT_DURATION_ONCE

/* $XDG_STATE_HOME/vigil/tray.ini (~/.local/state/vigil/tray.ini): the tray's state and the
 * user's prompt preferences, [Prompts] duration among them */
char *vigil_client_prefs_path(void);

/* the names of the durations in that file and in the windows: once, until-quit, 5m, 1h, 24h,
 * forever */
const char *vigil_client_duration_to_id(VigilClientDuration duration);
/* FALSE (and @duration untouched) when @id is none of them */
gboolean vigil_client_duration_from_id(const char *id, VigilClientDuration *duration);

/* the destination a rule made from a prompt starts with, unless chosen: only this host */
#define VIGIL_CLIENT_DEFAULT_HOST_SCOPE VIGIL_CLIENT_HOST_SCOPE_HOST
/* the prompt's default button, unless chosen: Allow, as before there was a choice */
#define VIGIL_CLIENT_DEFAULT_VERDICT "allow"

/* the user's default duration; VIGIL_CLIENT_DEFAULT_DURATION when none (or a bad one) is set */
VigilClientDuration vigil_client_prefs_get_duration(void);
/* stores it for both front ends; FALSE with @error when the file cannot be written */
gboolean vigil_client_prefs_set_duration(VigilClientDuration duration, GError **error);

/* the names of the destination scopes in that file: host, domain, any (the D-Bus values,
 * VIGIL_HOST_SCOPE_*) */
const char *vigil_client_host_scope_to_id(VigilClientHostScope scope);
/* FALSE (and @scope untouched) when @id is none of them */
gboolean vigil_client_host_scope_from_id(const char *id, VigilClientHostScope *scope);

/* the user's default destination ([Prompts] destination); VIGIL_CLIENT_DEFAULT_HOST_SCOPE when
 * none (or a bad one) is set */
VigilClientHostScope vigil_client_prefs_get_host_scope(void);
gboolean vigil_client_prefs_set_host_scope(VigilClientHostScope scope, GError **error);

/* the user's default answer, the prompt's default button ([Prompts] action): "allow" or
 * "deny"; VIGIL_CLIENT_DEFAULT_VERDICT when none (or a bad one) is set. Static strings. */
const char *vigil_client_prefs_get_verdict(void);
/* the same, but NULL unless the user chose one: vigilctl prompt's Enter answers "allow or
 * deny?" only with an answer the user chose (in a terminal an Enter is easily meant for
 * something else); static strings */
const char *vigil_client_prefs_get_chosen_verdict(void);
/* FALSE with G_FILE_ERROR_INVAL for anything but "allow" and "deny" */
gboolean vigil_client_prefs_set_verdict(const char *verdict, GError **error);

G_END_DECLS
