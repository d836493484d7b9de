/* vigil-polkit.h: asynchronous polkit authorisation of D-Bus callers, with a rule for no polkit */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
	VIGIL_POLKIT_NO,   /* denied */
	VIGIL_POLKIT_AUTH, /* allowed once the user authenticates */
	VIGIL_POLKIT_YES,  /* allowed now */
} VigilPolkitAnswer;

typedef struct _VigilPolkit VigilPolkit;

/*
 * Checks in flight. dbus-daemon lets vigild wait for at most 128 replies at a time
 * (max_replies_per_connection on the system bus); beyond that its calls fail, polkit's too,
 * which would deny everyone. polkit gets at most 96 of them, the rest stays for the calls to
 * prompt agents. The last 32 of the 96 are kept for uids with fewer than 8 checks going, so a
 * uid with many (at most 64, the bound on its calls) cannot take them all: a user who asks for
 * the first time still gets an answer while others flood. Beyond: VIGIL_DBUS_ERROR_BUSY.
 */
#define VIGIL_POLKIT_MAX_IN_FLIGHT 96
#define VIGIL_POLKIT_RESERVED      32
#define VIGIL_POLKIT_SHARE_PER_UID 8

/*
 * Asks org.freedesktop.PolicyKit1.Authority on @connection (CheckAuthorization with the
 * caller's unique bus name as a system-bus-name subject). When no authority is on the bus
 * (its name is unknown there), the fallback applies: uid 0 may do everything, other users
 * only the read and reply actions. Any other polkit error denies.
 */
VigilPolkit *vigil_polkit_new(GDBusConnection *connection);
void vigil_polkit_free(VigilPolkit *polkit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPolkit, vigil_polkit_free)

/*
 * Is @sender (a unique bus name, uid @uid) allowed @action? With @interactive, polkit may
 * ask the user to authenticate first (the call then takes as long as the user does).
 * Finishes with TRUE, or FALSE and a VIGIL_DBUS_ERROR: PERMISSION_DENIED,
 * INTERACTIVE_AUTHORIZATION_REQUIRED when authenticating would help but @interactive is
 * FALSE, or BUSY when too many checks are in flight (see VIGIL_POLKIT_MAX_IN_FLIGHT).
 */
void vigil_polkit_check_async(VigilPolkit *polkit, const char *sender, guint32 uid,
                              const char *action, gboolean interactive, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean vigil_polkit_check_finish(VigilPolkit *polkit, GAsyncResult *result, GError **error);

/* what the caller may do without interaction (GetPermissions); never fails (too many checks
 * in flight: "no") */
void vigil_polkit_query_async(VigilPolkit *polkit, const char *sender, guint32 uid,
                              const char *action, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
VigilPolkitAnswer vigil_polkit_query_finish(VigilPolkit *polkit, GAsyncResult *result);

/*
 * An interactive check (the user authenticates in a polkit dialog) fails with
 * PERMISSION_DENIED after @seconds, and polkit is told to drop it (CancelCheckAuthorization):
 * a caller never waits for ever. vigild sets it from vigild.conf's AuthTimeout.
 */
#define VIGIL_POLKIT_INTERACTIVE_TIMEOUT_S 300
void vigil_polkit_set_interactive_timeout(VigilPolkit *polkit, guint seconds);

/* pure: may one more check of a uid with @of_uid in flight start, with @total in all? */
gboolean vigil_polkit_budget_admits(guint total, guint of_uid);

/* pure: the answer without a polkit authority */
gboolean vigil_polkit_fallback_allows(guint32 uid, const char *action);

/* "yes", "auth" or "no" */
const char *vigil_polkit_answer_to_string(VigilPolkitAnswer answer);

G_END_DECLS
