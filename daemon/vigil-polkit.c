/* vigil-polkit.c: CheckAuthorization over D-Bus in a GTask, never blocking the main loop */
#define G_LOG_DOMAIN "vigil-polkit"
#include "config.h"

#include "vigil-dbus.h"
#include "vigil-fair.h"
#include "vigil-polkit.h"

#define POLKIT_NAME      "org.freedesktop.PolicyKit1"
#define POLKIT_PATH      "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorizationFlags.AllowUserInteraction */
#define POLKIT_FLAG_ALLOW_INTERACTION 1u
/* a polkitd that does not answer denies rather than holding the caller for ever */
#define POLKIT_TIMEOUT_MS (30 * 1000)

/* checks in flight; shared with the checks, which may end after vigil_polkit_free() */
typedef struct {
	gint ref_count;
	guint total;
	GHashTable *per_uid; /* fairness bucket (vigil-fair.h) -> checks in flight (> 0) */
} Budget;

struct _VigilPolkit {
	GDBusConnection *connection;
	guint checks;                /* for the cancellation ids */
	guint interactive_timeout_s; /* how long a user may take to authenticate */
	Budget *budget;
};

typedef struct {
	guint32 uid;
	guint32 bucket; /* whose share of the budget the check takes */
	char *action;
	gboolean interactive;
	GDBusConnection *connection;
	char *cancellation_id; /* names the check to CancelCheckAuthorization */
	GCancellable *cancellable;
	gulong cancelled_handler;
	gboolean timed_out;
	gboolean busy;  /* refused: too many checks in flight */
	Budget *budget; /* counts this check while it is in flight */
} CheckData;

static Budget *
budget_new(void)
{
	Budget *budget = g_new0(Budget, 1);

	budget->ref_count = 1;
	budget->per_uid = g_hash_table_new(NULL, NULL);
	return budget;
}

static void
budget_unref(Budget *budget)
{
	if (budget == NULL || !g_atomic_int_dec_and_test(&budget->ref_count))
		return;
	g_hash_table_unref(budget->per_uid);
	g_free(budget);
}

static guint
budget_of_uid(Budget *budget, guint32 uid)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(budget->per_uid, GUINT_TO_POINTER(uid)));
}

gboolean
vigil_polkit_budget_admits(guint total, guint of_uid)
{
	G_STATIC_ASSERT(VIGIL_POLKIT_RESERVED < VIGIL_POLKIT_MAX_IN_FLIGHT);
	if (total >= VIGIL_POLKIT_MAX_IN_FLIGHT)
		return FALSE;
	/* the reserve is for uids with few checks going */
	return of_uid < VIGIL_POLKIT_SHARE_PER_UID ||
	       total < VIGIL_POLKIT_MAX_IN_FLIGHT - VIGIL_POLKIT_RESERVED;
}

/* counts @data's check in the budget if it admits one more of its uid */
static gboolean
budget_take(Budget *budget, CheckData *data)
{
	guint n = budget_of_uid(budget, data->bucket);

	if (!vigil_polkit_budget_admits(budget->total, n))
		return FALSE;
	budget->total++;
	g_hash_table_insert(budget->per_uid, GUINT_TO_POINTER(data->bucket),
	                    GUINT_TO_POINTER(n + 1));
	g_atomic_int_inc(&budget->ref_count);
	data->budget = budget;
	return TRUE;
}

/* the check is over (answered, failed or cancelled): its reply is no longer awaited */
static void
budget_release(CheckData *data)
{
	Budget *budget = g_steal_pointer(&data->budget);
	guint n;

	if (budget == NULL)
		return;
	n = budget_of_uid(budget, data->bucket);
	budget->total--;
	if (n <= 1)
		g_hash_table_remove(budget->per_uid, GUINT_TO_POINTER(data->bucket));
	else
		g_hash_table_insert(budget->per_uid, GUINT_TO_POINTER(data->bucket),
		                    GUINT_TO_POINTER(n - 1));
	budget_unref(budget);
}

static void
check_data_free(CheckData *data)
{
	budget_release(data);
	if (data->cancelled_handler != 0)
		g_cancellable_disconnect(data->cancellable, data->cancelled_handler);
	g_clear_object(&data->cancellable);
	g_clear_object(&data->connection);
	g_free(data->cancellation_id);
	g_free(data->action);
	g_free(data);
}

/*
 * The caller is gone (or no longer waits): polkit is told, so that an authentication dialog
 * it may be showing for this check goes away too. Nobody waits for the answer.
 */
static void
on_check_cancelled(GCancellable *cancellable, gpointer user_data)
{
	CheckData *data = user_data;

	g_debug("cancelling polkit check %s (%s)", data->cancellation_id, data->action);
	g_dbus_connection_call(data->connection, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE,
	                       "CancelCheckAuthorization",
	                       g_variant_new("(s)", data->cancellation_id), NULL,
	                       G_DBUS_CALL_FLAGS_NONE, POLKIT_TIMEOUT_MS, NULL, NULL, NULL);
}

VigilPolkit *
vigil_polkit_new(GDBusConnection *connection)
{
	VigilPolkit *polkit = g_new0(VigilPolkit, 1);

	polkit->connection = g_object_ref(connection);
	polkit->interactive_timeout_s = VIGIL_POLKIT_INTERACTIVE_TIMEOUT_S;
	polkit->budget = budget_new();
	return polkit;
}

void
vigil_polkit_free(VigilPolkit *polkit)
{
	if (polkit == NULL)
		return;
	g_clear_object(&polkit->connection);
	g_clear_pointer(&polkit->budget, budget_unref);
	g_free(polkit);
}

void
vigil_polkit_set_interactive_timeout(VigilPolkit *polkit, guint seconds)
{
	polkit->interactive_timeout_s = MAX(seconds, 1);
}

gboolean
vigil_polkit_fallback_allows(guint32 uid, const char *action)
{
	if (uid == 0)
		return TRUE;
	return g_strcmp0(action, VIGIL_POLKIT_ACTION_READ) == 0 ||
	       g_strcmp0(action, VIGIL_POLKIT_ACTION_REPLY) == 0;
}

const char *
vigil_polkit_answer_to_string(VigilPolkitAnswer answer)
{
	switch (answer) {
	case VIGIL_POLKIT_YES:
		return VIGIL_PERMISSION_YES;
	case VIGIL_POLKIT_AUTH:
		return VIGIL_PERMISSION_AUTH;
	case VIGIL_POLKIT_NO:
		break;
	}
	return VIGIL_PERMISSION_NO;
}

/* no authority on the bus at all, as opposed to one that failed */
static gboolean
is_no_authority(const GError *error)
{
	return g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

static void
on_check_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	CheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) details = NULL;
	gboolean authorized = FALSE;
	gboolean challenge = FALSE;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	budget_release(data);
	if (reply == NULL && data->interactive &&
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		/* the user did not authenticate in time: polkit's dialog goes, the call fails */
		g_message("polkit check %s (%s) timed out waiting for the user, denied",
		          data->cancellation_id, data->action);
		data->timed_out = TRUE;
		on_check_cancelled(NULL, data);
		g_task_return_int(task, VIGIL_POLKIT_NO);
		return;
	}
	if (reply == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_task_return_int(task, VIGIL_POLKIT_NO);
		return;
	}
	if (reply == NULL) {
		if (is_no_authority(error)) {
			g_debug("no polkit authority: %s for uid %u by the fallback rule",
			        data->action, data->uid);
			g_task_return_int(task,
			                  vigil_polkit_fallback_allows(data->uid, data->action)
			                      ? VIGIL_POLKIT_YES
			                      : VIGIL_POLKIT_NO);
			return;
		}
		/* any other failure denies */
		g_warning("polkit failed checking %s, denied: %s", data->action, error->message);
		g_task_return_int(task, VIGIL_POLKIT_NO);
		return;
	}
	g_variant_get(reply, "((bb@a{ss}))", &authorized, &challenge, &details);
	if (authorized)
		g_task_return_int(task, VIGIL_POLKIT_YES);
	else if (challenge)
		g_task_return_int(task, VIGIL_POLKIT_AUTH);
	else
		g_task_return_int(task, VIGIL_POLKIT_NO);
}

static void
ask_async(VigilPolkit *polkit, const char *sender, guint32 uid, const char *action,
          gboolean interactive, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	CheckData *data = g_new0(CheckData, 1);
	GVariantBuilder subject_details;
	GVariant *params;

	data->uid = uid;
	/* a user's subordinate uids share the user's share */
	data->bucket = vigil_fair_bucket(uid);
	data->action = g_strdup(action);
	data->interactive = interactive;
	data->connection = g_object_ref(polkit->connection);
	data->cancellation_id = g_strdup_printf("vigild-%u", ++polkit->checks);
	g_task_set_task_data(task, data, (GDestroyNotify)check_data_free);
	g_task_set_source_tag(task, ask_async);
	if (!budget_take(polkit->budget, data)) {
		g_debug("not asking polkit about %s for %s (uid %u): %u checks in flight", action,
		        sender, uid, polkit->budget->total);
		data->busy = TRUE;
		g_task_return_int(task, VIGIL_POLKIT_NO);
		return;
	}
	if (cancellable != NULL) {
		data->cancellable = g_object_ref(cancellable);
		data->cancelled_handler =
		    g_cancellable_connect(cancellable, G_CALLBACK(on_check_cancelled), data, NULL);
	}
	g_debug("asking polkit about %s for %s (check %s)", action, sender, data->cancellation_id);

	g_variant_builder_init(&subject_details, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&subject_details, "{sv}", "name", g_variant_new_string(sender));
	params =
	    g_variant_new("((sa{sv})sa{ss}us)", "system-bus-name", &subject_details, action, NULL,
	                  interactive ? POLKIT_FLAG_ALLOW_INTERACTION : 0u, data->cancellation_id);
	g_dbus_connection_call(
	    polkit->connection, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE, "CheckAuthorization",
	    params, G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
	    /* the user may take their time to authenticate, not for ever */
	    interactive ? (int)(polkit->interactive_timeout_s * 1000) : POLKIT_TIMEOUT_MS,
	    cancellable, on_check_reply, g_steal_pointer(&task));
}

void
vigil_polkit_check_async(VigilPolkit *polkit, const char *sender, guint32 uid, const char *action,
                         gboolean interactive, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(polkit != NULL && sender != NULL && action != NULL);
	ask_async(polkit, sender, uid, action, interactive, cancellable, callback, user_data);
}

gboolean
vigil_polkit_check_finish(VigilPolkit *polkit, GAsyncResult *result, GError **error)
{
	CheckData *data = g_task_get_task_data(G_TASK(result));
	gssize answer = g_task_propagate_int(G_TASK(result), NULL);

	if (answer == VIGIL_POLKIT_YES)
		return TRUE;
	if (data->busy) {
		g_set_error(
		    error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY,
		    "vigild is waiting for polkit on too many calls (at most %d, fewer for a "
		    "user with %d going); try again later",
		    VIGIL_POLKIT_MAX_IN_FLIGHT, VIGIL_POLKIT_SHARE_PER_UID);
		return FALSE;
	}
	if (answer == VIGIL_POLKIT_AUTH && !data->interactive) {
		g_set_error(
		    error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
		    "%s needs authentication: call again allowing interactive "
		    "authorisation (e.g. run the command in a terminal with a polkit agent)",
		    data->action);
		return FALSE;
	}
	if (data->timed_out) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
		            "not authorised: %s: authentication was not done within the time "
		            "allowed (AuthTimeout)",
		            data->action);
		return FALSE;
	}
	g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
	            "not authorised: %s", data->action);
	return FALSE;
}

void
vigil_polkit_query_async(VigilPolkit *polkit, const char *sender, guint32 uid, const char *action,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
	g_return_if_fail(polkit != NULL && sender != NULL && action != NULL);
	ask_async(polkit, sender, uid, action, FALSE, cancellable, callback, user_data);
}

VigilPolkitAnswer
vigil_polkit_query_finish(VigilPolkit *polkit, GAsyncResult *result)
{
	gssize answer = g_task_propagate_int(G_TASK(result), NULL);

	return answer < 0 ? VIGIL_POLKIT_NO : (VigilPolkitAnswer)answer;
}
