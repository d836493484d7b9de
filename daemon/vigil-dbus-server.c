/* vigil-dbus-server.c: every org.vigil.Firewall1 method: check arguments, authorise, act */
#define G_LOG_DOMAIN "vigil-dbus"
#include "config.h"

#include <sys/stat.h>

#include "vigil-agents.h"
#include "vigil-as-caller.h"
#include "vigil-bus-peer.h"
#include "vigil-conn-dict.h"
#include "vigil-fair.h"
#include "vigil-dbus-args.h"
#include "vigil-dbus-rules.h"
#include "vigil-dbus-server.h"
#include "vigil-dbus.h"
#include "vigil-polkit.h"
#include "vigil-prompts.h"
#include "vigil-users.h"

/* calls of one connection in progress (most wait for polkit) */
#define MAX_CALLS_PER_SENDER 16
/*
 * calls of one uid in progress once its uid is known: the bus lets a uid open hundreds of
 * connections (max_connections_per_user, 256 on Debian), each with its 16
 */
#define MAX_CALLS_PER_UID 64
/* registrations whose connection's holders are searched at a time (one per uid) */
#define MAX_HOLDER_SEARCHES 4
#define STATS_TICK_S        1
/* rules vigild keeps in all, learned and system */
#define MAX_RULES_TOTAL 100000
/* how long a call waits for the user database to name a rule's user (then Failed) */
#define USER_LOOKUP_TIMEOUT_S 10

struct _VigilDBusServer {
	VigilDaemon *daemon;
	GDBusConnection *connection;
	VigilFirewall *skeleton;
	VigilPolkit *polkit;
	VigilAgents *agents;
	char *config_path;
	guint owner_id;
	gboolean owns_name;
	guint stats_source;
	GHashTable *calls_by_sender;    /* unique name -> count of calls in progress */
	GHashTable *calls_by_uid;       /* fairness bucket -> count of calls in progress */
	guint holder_searches;          /* agents' connections being looked at in a thread */
	GHashTable *holder_search_uids; /* the uids they are for */
};

typedef struct _Call Call;

/* with the caller's uid known: check what needs it, pick the polkit action (or none) */
typedef gboolean (*PrepareFunc)(Call *call, GError **error);
/* authorised: act, then complete the call with call_return() or call_fail() */
typedef void (*RunFunc)(Call *call);

typedef struct {
	const char *name;
	const char *action; /* the polkit action, unless prepare picks one; NULL: none */
	PrepareFunc prepare;
	RunFunc run;
} Method;

struct _Call {
	VigilDBusServer *server;
	const Method *method;
	GDBusMethodInvocation *invocation;
	GVariant *params; /* borrowed from the invocation */
	char *sender;
	guint32 uid;
	const char *action;
	gboolean interactive;
	GCancellable *cancellable; /* an interactive check: cancelled when the caller leaves */
	guint caller_watch;
	gboolean uid_counted; /* in calls_by_uid, under counted_bucket */
	guint32 counted_bucket;
	VigilRule *rule; /* AddRule, UpdateRule */
	VigilRuleLookups lookups;
	VigilRule *snapshot; /* UpdateRule, RemoveRule: the rule as the caller was authorised for */
	RunFunc next;        /* what runs once the rule's lookups are done */
	RunFunc authorized;  /* what runs once polkit said yes (authorize()) */
	GPtrArray *rules;    /* ImportRules */
	GArray *lines;       /* ImportRules: the line of each rule */
	guint64 id;
	guint32 pid; /* RegisterAgent: the process that opened the caller's connection */
	/* RegisterAgent: holds its uid's place among the agents checked (until answered) */
	gboolean holder_search;
	/* GetPermissions */
	VigilPolkitAnswer answers[5];
	guint answers_pending;
};

/* ---- calls ---- */

static void
call_free(Call *call)
{
	VigilDBusServer *server = call->server;
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(server->calls_by_sender, call->sender));

	if (n <= 1)
		g_hash_table_remove(server->calls_by_sender, call->sender);
	else
		g_hash_table_insert(server->calls_by_sender, g_strdup(call->sender),
		                    GUINT_TO_POINTER(n - 1));
	if (call->uid_counted) {
		gpointer key = GUINT_TO_POINTER(call->counted_bucket);

		n = GPOINTER_TO_UINT(g_hash_table_lookup(server->calls_by_uid, key));
		if (n <= 1)
			g_hash_table_remove(server->calls_by_uid, key);
		else
			g_hash_table_insert(server->calls_by_uid, key, GUINT_TO_POINTER(n - 1));
	}
	if (call->caller_watch != 0)
		g_dbus_connection_signal_unsubscribe(server->connection, call->caller_watch);
	g_clear_object(&call->cancellable);
	g_clear_pointer(&call->rule, vigil_rule_unref);
	g_clear_pointer(&call->snapshot, vigil_rule_unref);
	g_clear_pointer(&call->rules, g_ptr_array_unref);
	g_clear_pointer(&call->lines, g_array_unref);
	g_free(call->sender);
	g_free(call);
}

/* completes the call with @value (a tuple, NULL for none; floating is sunk) */
static void
call_return(Call *call, GVariant *value)
{
	g_dbus_method_invocation_return_value(call->invocation, value);
	call_free(call);
}

/* completes the call with @error (taken) */
static void
call_fail(Call *call, GError *error)
{
	if (error->domain != VIGIL_DBUS_ERROR && error->domain != G_DBUS_ERROR) {
		/* an internal failure: nothing was changed */
		GError *failed =
		    g_error_new_literal(VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_FAILED, error->message);
		g_error_free(error);
		error = failed;
	}
	g_debug("%s from %s (uid %u): %s", call->method->name, call->sender, call->uid,
	        error->message);
	g_dbus_method_invocation_take_error(call->invocation, error);
	call_free(call);
}

static void
on_authorized(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	GError *error = NULL;

	if (!vigil_polkit_check_finish(call->server->polkit, result, &error)) {
		call_fail(call, error);
		return;
	}
	call->authorized(call);
}

static void
on_caller_owner_changed(GDBusConnection *connection, const char *sender_name,
                        const char *object_path, const char *interface_name,
                        const char *signal_name, GVariant *parameters, gpointer data)
{
	Call *call = data;
	const char *new_owner = NULL;

	g_variant_get(parameters, "(&s&s&s)", NULL, NULL, &new_owner);
	if (*new_owner == '\0')
		g_cancellable_cancel(call->cancellable);
}

/*
 * An interactive check may wait for the user for as long as they like; if the caller leaves
 * meanwhile, the check is cancelled, and polkit with it (its dialog goes away).
 */
static void
watch_caller(Call *call)
{
	call->cancellable = g_cancellable_new();
	call->caller_watch = g_dbus_connection_signal_subscribe(
	    call->server->connection, "org.freedesktop.DBus", "org.freedesktop.DBus",
	    "NameOwnerChanged", "/org/freedesktop/DBus", call->sender, G_DBUS_SIGNAL_FLAGS_NONE,
	    on_caller_owner_changed, call, NULL);
}

/* one more call of the caller's uid, unless it has as many going as a uid may */
static gboolean
count_uid_call(Call *call, GError **error)
{
	GHashTable *by_uid = call->server->calls_by_uid;
	/* a user's subordinate uids share the user's calls (vigil-fair.h) */
	guint32 bucket = vigil_fair_bucket(call->uid);
	gpointer key = GUINT_TO_POINTER(bucket);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(by_uid, key));

	if (n >= MAX_CALLS_PER_UID) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY,
		            "too many calls of this user in progress (%d); try again later",
		            MAX_CALLS_PER_UID);
		return FALSE;
	}
	g_hash_table_insert(by_uid, key, GUINT_TO_POINTER(n + 1));
	call->uid_counted = TRUE;
	call->counted_bucket = bucket;
	return TRUE;
}

/*
 * Looks up the uids of @names (a rule's `user NAME`) off the main loop, only for a caller
 * polkit authorised: a lookup may reach a network service (sssd, LDAP) and take its time.
 * The call ends when the caller leaves or after USER_LOOKUP_TIMEOUT_S.
 */
static void
resolve_user_names(Call *call, const char *const *names, GAsyncReadyCallback callback)
{
	if (call->cancellable == NULL)
		watch_caller(call);
	g_debug("%s from %s (uid %u): authorised; looking up user %s%s", call->method->name,
	        call->sender, call->uid, names[0], names[1] != NULL ? " and others" : "");
	vigil_users_resolve_async(names, USER_LOOKUP_TIMEOUT_S, call->cancellable, callback, call);
}

/* asks polkit about call->action, then runs @authorized or fails the call; an interactive
 * check ends when the caller leaves */
static void
authorize(Call *call, RunFunc authorized)
{
	VigilPolkit *polkit = call->server->polkit;

	call->authorized = authorized;
	if (call->interactive && call->cancellable == NULL)
		watch_caller(call);
	vigil_polkit_set_interactive_timeout(
	    polkit, vigil_daemon_get_config(call->server->daemon)->auth_timeout);
	vigil_polkit_check_async(polkit, call->sender, call->uid, call->action, call->interactive,
	                         call->cancellable, on_authorized, call);
}

static void
on_caller_uid(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	GError *error = NULL;
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
	if (reply == NULL) {
		g_prefix_error(&error, "cannot tell who is calling: ");
		call_fail(call, error);
		return;
	}
	g_variant_get(reply, "(u)", &call->uid);
	if (!count_uid_call(call, &error)) {
		call_fail(call, error);
		return;
	}
	call->action = call->method->action;
	if (call->method->prepare != NULL && !call->method->prepare(call, &error)) {
		call_fail(call, error);
		return;
	}
	if (call->action == NULL) {
		call->method->run(call);
		return;
	}
	authorize(call, call->method->run);
}

/* every method starts here: who calls, how many calls it has going, then its uid */
static gboolean
dispatch(VigilDBusServer *server, GDBusMethodInvocation *invocation, const Method *method)
{
	const char *sender = g_dbus_method_invocation_get_sender(invocation);
	GDBusMessage *message = g_dbus_method_invocation_get_message(invocation);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(server->calls_by_sender, sender));
	Call *call;

	if (n >= MAX_CALLS_PER_SENDER) {
		g_dbus_method_invocation_return_error(
		    invocation, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY,
		    "too many calls of this connection in progress (%d); try again later",
		    MAX_CALLS_PER_SENDER);
		return TRUE;
	}
	g_hash_table_insert(server->calls_by_sender, g_strdup(sender), GUINT_TO_POINTER(n + 1));
	call = g_new0(Call, 1);
	call->server = server;
	call->method = method;
	call->invocation = invocation;
	call->params = g_dbus_method_invocation_get_parameters(invocation);
	call->sender = g_strdup(sender);
	call->interactive = (g_dbus_message_get_flags(message) &
	                     G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
	/* the bus knows the uid of the connection: nothing the caller says about itself */
	g_dbus_connection_call(server->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	                       "org.freedesktop.DBus", "GetConnectionUnixUser",
	                       g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
	                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_uid, call);
	return TRUE;
}

static GError *dbus_error(VigilDBusError code, const char *format, ...) G_GNUC_PRINTF(2, 3);

static GError *
dbus_error(VigilDBusError code, const char *format, ...)
{
	va_list args;
	GError *error;

	va_start(args, format);
	error = g_error_new_valist(VIGIL_DBUS_ERROR, code, format, args);
	va_end(args);
	return error;
}

static gboolean
set_error(GError **error, VigilDBusError code, const char *message)
{
	g_set_error_literal(error, VIGIL_DBUS_ERROR, code, message);
	return FALSE;
}

/* a rule store error as the D-Bus error the API documents */
static GError *
store_error(GError *error)
{
	GError *out;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
		out = dbus_error(VIGIL_DBUS_ERROR_NOT_FOUND, "%s", error->message);
	else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
		out = dbus_error(VIGIL_DBUS_ERROR_READ_ONLY, "%s", error->message);
	else if (error->domain == VIGIL_RULE_ERROR)
		out = dbus_error(VIGIL_DBUS_ERROR_INVALID_ARGUMENT, "%s", error->message);
	else
		out = dbus_error(VIGIL_DBUS_ERROR_FAILED, "nothing changed: %s", error->message);
	g_error_free(error);
	return out;
}

static VigilRuleset *
ruleset(Call *call)
{
	return vigil_daemon_get_ruleset(call->server->daemon);
}

static void
rules_changed(Call *call)
{
	/* re-decides open requests and emits RulesChanged */
	vigil_daemon_rules_changed(call->server->daemon);
}

/* the rule @id as the caller may see it, or NotFound */
static VigilRule *
visible_rule(Call *call, guint64 id, GError **error)
{
	VigilRule *rule = vigil_ruleset_lookup(ruleset(call), id);

	if (rule == NULL || !vigil_rule_visible_to(rule, call->uid) ||
	    vigil_rule_is_expired(rule, g_get_real_time() / G_USEC_PER_SEC)) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_FOUND,
		            "there is no rule %" G_GUINT64_FORMAT, id);
		return NULL;
	}
	return rule;
}

static gboolean
check_limits(Call *call, guint32 uid, gboolean all_users, guint adding, GError **error)
{
	if (vigil_ruleset_size(ruleset(call)) + adding > MAX_RULES_TOTAL)
		return set_error(error, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
		                 "vigild has as many rules as it keeps; remove some first");
	if (!all_users &&
	    vigil_ruleset_count_learned(ruleset(call), uid) + adding > VIGIL_MAX_RULES_PER_UID)
		return set_error(
		    error, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
		    "the user has as many rules as a user may have; remove some first");
	return TRUE;
}

/* ---- GetPermissions ---- */

static const char *const all_actions[] = {
    VIGIL_POLKIT_ACTION_READ,
    VIGIL_POLKIT_ACTION_REPLY,
    VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES,
    VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES,
    VIGIL_POLKIT_ACTION_CONFIGURE,
};

typedef struct {
	Call *call;
	guint index;
} PermissionQuery;

static void
on_permission(GObject *source, GAsyncResult *result, gpointer data)
{
	PermissionQuery *query = data;
	Call *call = query->call;
	GVariantBuilder builder;

	call->answers[query->index] = vigil_polkit_query_finish(call->server->polkit, result);
	g_free(query);
	if (--call->answers_pending > 0)
		return;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{ss}"));
	for (guint i = 0; i < G_N_ELEMENTS(all_actions); i++)
		g_variant_builder_add(&builder, "{ss}", all_actions[i],
		                      vigil_polkit_answer_to_string(call->answers[i]));
	call_return(call, g_variant_new("(a{ss})", &builder));
}

static void
run_get_permissions(Call *call)
{
	G_STATIC_ASSERT(G_N_ELEMENTS(all_actions) == G_N_ELEMENTS(((Call *)NULL)->answers));
	call->answers_pending = G_N_ELEMENTS(all_actions);
	for (guint i = 0; i < G_N_ELEMENTS(all_actions); i++) {
		PermissionQuery *query = g_new0(PermissionQuery, 1);

		query->call = call;
		query->index = i;
		vigil_polkit_query_async(call->server->polkit, call->sender, call->uid,
		                         all_actions[i], NULL, on_permission, query);
	}
}

/* ---- settings ---- */

static void
update_settings_properties(VigilDBusServer *server)
{
	const VigilConfig *config = vigil_daemon_get_config(server->daemon);
	VigilFirewall *fw = server->skeleton;

	vigil_firewall_set_enabled(fw, config->enabled);
	vigil_firewall_set_default_action(fw, vigil_action_to_string(config->default_action));
	vigil_firewall_set_prompt_timeout(fw, config->prompt_timeout);
	vigil_firewall_set_fail_mode(fw, vigil_fail_mode_to_string(config->fail_mode));
}

static void
run_set_enabled(Call *call)
{
	VigilDBusServer *server = call->server;
	const char *keys[] = {"Enabled", NULL};
	const char *values[] = {NULL, NULL};
	gboolean enabled;
	GError *error = NULL;

	g_variant_get(call->params, "(b)", &enabled);
	if (vigil_daemon_get_config(server->daemon)->enabled == enabled) {
		call_return(call, NULL);
		return;
	}
	values[0] = enabled ? "true" : "false";
	if (!vigil_config_save_keys(server->config_path, keys, values, &error)) {
		call_fail(call,
		          dbus_error(VIGIL_DBUS_ERROR_FAILED, "nothing changed: cannot save %s: %s",
		                     server->config_path, error->message));
		g_error_free(error);
		return;
	}
	vigil_daemon_set_enabled(server->daemon, enabled);
	update_settings_properties(server);
	call_return(call, NULL);
}

static gboolean
prepare_set_config(Call *call, GError **error)
{
	VigilDBusSettings settings;
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);

	return vigil_dbus_parse_settings(dict, vigil_daemon_get_config(call->server->daemon),
	                                 &settings, error);
}

static void
run_set_config(Call *call)
{
	VigilDBusServer *server = call->server;
	VigilDBusSettings settings;
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);
	GError *error = NULL;
	VigilConfig current;

	if (!vigil_dbus_parse_settings(dict, vigil_daemon_get_config(server->daemon), &settings,
	                               &error)) {
		call_fail(call, error);
		return;
	}
	current = *vigil_daemon_get_config(server->daemon);
	if (!vigil_daemon_set_settings(server->daemon, settings.default_action,
	                               settings.prompt_timeout, settings.fail_mode, &error)) {
		call_fail(call, dbus_error(VIGIL_DBUS_ERROR_FAILED, "nothing changed: %s",
		                           error->message));
		g_error_free(error);
		return;
	}
	if (!vigil_config_save_keys(server->config_path, settings.keys, settings.values, &error)) {
		/* all or nothing: the running vigild goes back too */
		vigil_daemon_set_settings(server->daemon, current.default_action,
		                          current.prompt_timeout, current.fail_mode, NULL);
		call_fail(call,
		          dbus_error(VIGIL_DBUS_ERROR_FAILED, "nothing changed: cannot save %s: %s",
		                     server->config_path, error->message));
		g_error_free(error);
		return;
	}
	g_message("settings changed: default action %s, prompt timeout %u s, fail mode %s",
	          vigil_action_to_string(settings.default_action), settings.prompt_timeout,
	          vigil_fail_mode_to_string(settings.fail_mode));
	update_settings_properties(server);
	call_return(call, NULL);
}

/* ---- rules ---- */

static void
run_get_rules(Call *call)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(ruleset(call));
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ta{sv})"));
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);

		if (vigil_rule_visible_to(rule, call->uid) && !vigil_rule_is_expired(rule, now))
			g_variant_builder_add(&builder, "(t@a{sv})", rule->id,
			                      vigil_rule_to_dict(rule));
	}
	call_return(call, g_variant_new("(a(ta{sv}))", &builder));
}

/* a rule a user may make, change or remove as their own: for themselves, and not one that
 * records packets (capture files and their bounds are every user's: an administrator's) */
static gboolean
rule_is_users_own(const VigilRule *rule, guint32 uid)
{
	return vigil_rule_is_own(rule, uid) && !rule->capture;
}

static const char *
manage_action(gboolean own)
{
	return own ? VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES : VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES;
}

static gboolean
prepare_add_rule(Call *call, GError **error)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);

	call->rule = vigil_rule_from_dict(dict, call->uid, &call->lookups, error);
	if (call->rule == NULL)
		return FALSE;
	/* a user name is looked up after this check; a rule for another user needs a second */
	call->action =
	    manage_action(!call->rule->capture && (call->rule->user_name != NULL ||
	                                           vigil_rule_is_own(call->rule, call->uid)));
	return TRUE;
}

/* the lookups are done: the process of an until-quit rule, then what the method does */
static void
finish_rule_lookups(Call *call)
{
	GError *error = NULL;

	if (!vigil_rule_check_process(call->rule, &call->lookups, "/proc", &error)) {
		call_fail(call, error);
		return;
	}
	call->next(call);
}

static void
on_program_looked_at(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	const char *path = call->rule->program;
	g_autoptr(GError) local_error = NULL;
	mode_t mode = 0;

	if (!vigil_as_caller_stat_finish(result, &mode, &local_error)) {
		if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
			call_fail(call, dbus_error(VIGIL_DBUS_ERROR_INVALID_ARGUMENT,
			                           "program: '%s' does not exist (%s)", path,
			                           local_error->message));
		else if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
			call_fail(call,
			          dbus_error(VIGIL_DBUS_ERROR_INVALID_ARGUMENT, "program: '%s': %s",
			                     path, local_error->message));
		else if (local_error->domain == G_IO_ERROR &&
		         (local_error->code == G_IO_ERROR_FAILED ||
		          local_error->code == G_IO_ERROR_TIMED_OUT))
			call_fail(call, dbus_error(VIGIL_DBUS_ERROR_FAILED, "nothing changed: %s",
			                           local_error->message));
		else
			call_fail(call,
			          dbus_error(VIGIL_DBUS_ERROR_INVALID_ARGUMENT,
			                     "program: '%s' cannot be looked at as uid %u (%s)",
			                     path, call->uid, local_error->message));
		return;
	}
	if (!S_ISREG(mode)) {
		call_fail(call, dbus_error(VIGIL_DBUS_ERROR_INVALID_ARGUMENT,
		                           "program: '%s' is not a regular file", path));
		return;
	}
	finish_rule_lookups(call);
}

static void
look_up_program(Call *call)
{
	if (call->lookups.program) {
		vigil_as_caller_stat_async(call->rule->program, call->uid, NULL,
		                           on_program_looked_at, call);
		return;
	}
	finish_rule_lookups(call);
}

static void
on_rule_user_resolved(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	g_autoptr(GHashTable) uids = NULL;
	GError *error = NULL;

	uids = vigil_users_resolve_finish(result, &error);
	if (uids == NULL || !vigil_rule_resolve_user(call->rule, uids, &error)) {
		call_fail(call, error);
		return;
	}
	/* authorised for the caller's own rules only: a rule for another user needs more */
	if (g_strcmp0(call->action, VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES) == 0 &&
	    !rule_is_users_own(call->rule, call->uid)) {
		call->action = VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES;
		authorize(call, look_up_program);
		return;
	}
	look_up_program(call);
}

/*
 * Authorised: what the rule names outside vigild is looked at only now — its user's name
 * in the user database (off the main loop), the program path with the caller's rights — so
 * that no answer tells a caller what it could not see itself and no unauthorised call costs
 * a lookup. Then @next runs.
 */
static void
look_up_rule(Call *call, RunFunc next)
{
	call->next = next;
	if (call->rule->user_name != NULL) {
		const char *names[] = {call->rule->user_name, NULL};

		resolve_user_names(call, names, on_rule_user_resolved);
		return;
	}
	look_up_program(call);
}

static gboolean
check_not_equal(Call *call, VigilRule *rule, guint64 except_id, GError **error)
{
	VigilRule *equal = vigil_ruleset_find_equal(ruleset(call), rule, except_id);

	if (equal == NULL)
		return TRUE;
	g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_EXISTS,
	            "rule %" G_GUINT64_FORMAT " already means the same", equal->id);
	return FALSE;
}

static void
add_rule_now(Call *call)
{
	VigilRule *rule = call->rule;
	GError *error = NULL;

	if (!check_not_equal(call, rule, 0, &error) ||
	    !check_limits(call, rule->uid, rule->all_users, 1, &error)) {
		call_fail(call, error);
		return;
	}
	if (!vigil_rule_store_add_learned(vigil_daemon_get_rule_store(call->server->daemon), rule,
	                                  &error)) {
		call_fail(call, store_error(error));
		return;
	}
	g_info("uid %u added rule %" G_GUINT64_FORMAT, call->uid, rule->id);
	rules_changed(call);
	call_return(call, g_variant_new("(t)", rule->id));
}

static void
run_add_rule(Call *call)
{
	look_up_rule(call, add_rule_now);
}

/*
 * The rule call->id as it is now, if it is still the rule the caller was authorised for:
 * a change meanwhile (another caller's, while polkit was asked) is Busy, never undone.
 */
static VigilRule *
unchanged_rule(Call *call, GError **error)
{
	VigilRule *now = visible_rule(call, call->id, error);

	if (now == NULL)
		return NULL;
	if (!vigil_rule_equal(now, call->snapshot, FALSE)) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY,
		            "rule %" G_GUINT64_FORMAT
		            " changed while the call was being authorised; read it again",
		            call->id);
		return NULL;
	}
	return now;
}

static gboolean
prepare_update_rule(Call *call, GError **error)
{
	g_autoptr(GVariant) changes = NULL;
	VigilRule *old;

	g_variant_get(call->params, "(t@a{sv})", &call->id, &changes);
	/* the arguments first: a bad dictionary is the same error whichever rule it names */
	if (!vigil_rule_check_dict(changes, error))
		return FALSE;
	old = visible_rule(call, call->id, error);
	if (old == NULL)
		return FALSE;
	if (old->system) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_READ_ONLY,
		            "rule %" G_GUINT64_FORMAT
		            " is a system rule (%s): change its line there",
		            old->id, old->origin != NULL ? old->origin : "rules.d");
		return FALSE;
	}
	call->rule = vigil_rule_update_from_dict(old, changes, &call->lookups, error);
	if (call->rule == NULL)
		return FALSE;
	call->snapshot = vigil_rule_copy(old);
	/* a user name is looked up after this check; a rule for another user needs a second */
	call->action = manage_action(
	    rule_is_users_own(old, call->uid) && !call->rule->capture &&
	    (call->rule->user_name != NULL || vigil_rule_is_own(call->rule, call->uid)));
	return TRUE;
}

static void
update_rule_now(Call *call)
{
	VigilRuleStore *store = vigil_daemon_get_rule_store(call->server->daemon);
	VigilRule *old;
	GError *error = NULL;

	/* it may have gone or changed while polkit was asked */
	old = unchanged_rule(call, &error);
	if (old == NULL) {
		call_fail(call, error);
		return;
	}
	if (vigil_rule_equal(old, call->rule, FALSE)) {
		call_return(call, NULL);
		return;
	}
	if (!check_not_equal(call, call->rule, call->id, &error)) {
		call_fail(call, error);
		return;
	}
	if (!vigil_rule_store_replace_learned(store, call->id, call->rule, &error)) {
		call_fail(call, store_error(error));
		return;
	}
	g_info("uid %u changed rule %" G_GUINT64_FORMAT, call->uid, call->id);
	rules_changed(call);
	call_return(call, NULL);
}

static void
run_update_rule(Call *call)
{
	look_up_rule(call, update_rule_now);
}

static gboolean
prepare_remove_rule(Call *call, GError **error)
{
	VigilRule *rule;

	g_variant_get(call->params, "(t)", &call->id);
	rule = visible_rule(call, call->id, error);
	if (rule == NULL)
		return FALSE;
	if (rule->system) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_READ_ONLY,
		            "rule %" G_GUINT64_FORMAT " is a system rule: remove its line from %s",
		            rule->id, rule->origin != NULL ? rule->origin : "/etc/vigil/rules.d");
		return FALSE;
	}
	call->snapshot = vigil_rule_copy(rule);
	call->action = manage_action(rule_is_users_own(rule, call->uid));
	return TRUE;
}

static void
run_remove_rule(Call *call)
{
	GError *error = NULL;

	if (unchanged_rule(call, &error) == NULL) {
		call_fail(call, error);
		return;
	}
	if (!vigil_rule_store_remove_learned(vigil_daemon_get_rule_store(call->server->daemon),
	                                     call->id, &error)) {
		call_fail(call, store_error(error));
		return;
	}
	g_info("uid %u removed rule %" G_GUINT64_FORMAT, call->uid, call->id);
	rules_changed(call);
	call_return(call, NULL);
}

/*
 * ImportRules: only the size is looked at before the caller is authorised to manage its own
 * rules; the text (up to VIGIL_IMPORT_MAX_BYTES) is parsed after, and rules for others then
 * need a second check (manage-all-rules).
 */
static gboolean
prepare_import_rules(Call *call, GError **error)
{
	g_autoptr(GVariant) text = g_variant_get_child_value(call->params, 0);

	if (g_variant_get_size(text) > VIGIL_IMPORT_MAX_BYTES + 1) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
		            "text: more than %d bytes; import it in parts", VIGIL_IMPORT_MAX_BYTES);
		return FALSE;
	}
	call->action = VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES;
	return TRUE;
}

static void
import_rules_now(Call *call)
{
	VigilRuleStore *store = vigil_daemon_get_rule_store(call->server->daemon);
	VigilRuleset *set = ruleset(call);
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) added = g_array_new(FALSE, FALSE, sizeof(guint64));
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	GError *error = NULL;

	if (!check_limits(call, call->uid, FALSE, call->rules->len, &error)) {
		call_fail(call, error);
		return;
	}
	/* all in the set, one save: either every rule is kept or none */
	for (guint i = 0; i < call->rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(call->rules, i);
		VigilRule *equal = vigil_ruleset_find_equal(set, rule, 0);

		if (equal == NULL) {
			rule->created = now;
			if (!vigil_ruleset_add(set, rule)) {
				error = dbus_error(VIGIL_DBUS_ERROR_FAILED, "no rule id left");
				break;
			}
			g_array_append_val(added, rule->id);
			equal = rule;
		}
		g_array_append_val(ids, equal->id);
	}
	if (error == NULL && added->len > 0 && !vigil_rule_store_save(store, &error)) {
		GError *failed =
		    dbus_error(VIGIL_DBUS_ERROR_FAILED, "nothing imported: %s", error->message);
		g_error_free(error);
		error = failed;
	}
	if (error != NULL) {
		for (guint i = 0; i < added->len; i++)
			vigil_ruleset_remove(set, g_array_index(added, guint64, i));
		call_fail(call, error);
		return;
	}
	g_info("uid %u imported %u rule(s), %u new", call->uid, ids->len, added->len);
	if (added->len > 0)
		rules_changed(call);
	call_return(
	    call, g_variant_new("(@at)", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, ids->data,
	                                                           ids->len, sizeof(guint64))));
}

/* the rules' users are known: rules for others need the second check */
static void
import_rules_checked(Call *call)
{
	gboolean own = TRUE;

	for (guint i = 0; i < call->rules->len; i++)
		own = own && rule_is_users_own(g_ptr_array_index(call->rules, i), call->uid);
	if (own) {
		import_rules_now(call);
		return;
	}
	call->action = VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES;
	authorize(call, import_rules_now);
}

static void
on_import_users_resolved(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	g_autoptr(GHashTable) uids = NULL;
	GError *error = NULL;

	uids = vigil_users_resolve_finish(result, &error);
	if (uids == NULL) {
		call_fail(call, error);
		return;
	}
	for (guint i = 0; i < call->rules->len; i++) {
		if (!vigil_rule_resolve_user(g_ptr_array_index(call->rules, i), uids, &error)) {
			g_prefix_error(&error, "line %u: ", g_array_index(call->lines, guint, i));
			call_fail(call, error);
			return;
		}
	}
	import_rules_checked(call);
}

static void
run_import_rules(Call *call)
{
	const char *text;
	GError *error = NULL;
	g_auto(GStrv) names = NULL;

	g_variant_get(call->params, "(&s)", &text);
	call->rules = vigil_rules_from_import(text, &call->lines, &error);
	if (call->rules == NULL) {
		call_fail(call, error);
		return;
	}
	names = vigil_rules_user_names(call->rules);
	if (names != NULL) {
		resolve_user_names(call, (const char *const *)names, on_import_users_resolved);
		return;
	}
	import_rules_checked(call);
}

static void
run_export_rules(Call *call)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(ruleset(call));
	g_autofree char *text = vigil_rules_export(rules, call->uid);

	call_return(call, g_variant_new("(s)", text));
}

/* ---- agents and prompts ---- */

static void
end_holder_search(Call *call)
{
	VigilDBusServer *server = call->server;

	call->holder_search = FALSE;
	server->holder_searches--;
	g_hash_table_remove(server->holder_search_uids, GUINT_TO_POINTER(call->uid));
}

static void
on_agent_registered(GError *error, gpointer user_data)
{
	Call *call = user_data;

	/* the user's next registration may be checked once this one is over */
	if (call->holder_search)
		end_holder_search(call);
	if (error != NULL) {
		call_fail(call, error);
		return;
	}
	call_return(call, NULL);
}

static void
register_agent(Call *call, const GArray *holders)
{
	const char *path;

	g_variant_get(call->params, "(&o)", &path);
	vigil_agents_register(call->server->agents, call->sender, call->uid, call->pid, holders,
	                      path, on_agent_registered, call);
}

static void
on_agent_holders(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	g_autoptr(GArray) holders = NULL;
	g_autoptr(GError) error = NULL;

	holders = vigil_bus_peer_holders_finish(result, &error);
	if (holders == NULL) {
		end_holder_search(call);
		g_message("prompt agent %s of uid %u refused: cannot tell which processes hold "
		          "its bus connection: %s",
		          call->sender, call->uid, error->message);
		call_fail(call, dbus_error(VIGIL_DBUS_ERROR_PERMISSION_DENIED,
		                           "cannot tell which processes hold this agent's bus "
		                           "connection (%s), so it may not be a prompt agent while "
		                           "only the programs in AgentExecutables may be",
		                           error->message));
		return;
	}
	register_agent(call, holders);
}

/*
 * With AgentExecutables, the processes that hold the caller's connection are found in a
 * thread (it reads the fd tables of the user's processes), then their environments in
 * another (vigil_agents_register()): one registration checked per uid at a time,
 * a few in all, so a flood of registrations costs vigild a bounded amount of work.
 */
static gboolean
start_holder_search(Call *call, GError **error)
{
	VigilDBusServer *server = call->server;
	gpointer key = GUINT_TO_POINTER(call->uid);

	if (server->holder_searches >= MAX_HOLDER_SEARCHES ||
	    g_hash_table_contains(server->holder_search_uids, key))
		return set_error(error, VIGIL_DBUS_ERROR_BUSY,
		                 "vigild is checking other prompt agents; try again later");
	server->holder_searches++;
	g_hash_table_add(server->holder_search_uids, key);
	call->holder_search = TRUE;
	vigil_bus_peer_holders_async(vigil_bus_peer_daemon_pid(server->connection), call->pid,
	                             call->uid, NULL, on_agent_holders, call);
	return TRUE;
}

static void
on_agent_pid(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	g_autoptr(GVariant) reply = NULL;
	GError *error = NULL;

	/* without a pid the agent is an unknown program (refused if only some are allowed) */
	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, NULL);
	if (reply != NULL)
		g_variant_get(reply, "(u)", &call->pid);
	if (!vigil_agents_pins_executables(call->server->agents)) {
		register_agent(call, NULL);
		return;
	}
	if (!start_holder_search(call, &error))
		call_fail(call, error);
}

static void
run_register_agent(Call *call)
{
	/* the process that opened the caller's connection, as the bus knows it: its
	 * executable is shown to the user's other agents and checked against AgentExecutables */
	g_dbus_connection_call(call->server->connection, "org.freedesktop.DBus",
	                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
	                       "GetConnectionUnixProcessID", g_variant_new("(s)", call->sender),
	                       G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
	                       on_agent_pid, call);
}

static void
run_unregister_agent(Call *call)
{
	GError *error = NULL;

	if (!vigil_agents_unregister(call->server->agents, call->sender, &error)) {
		call_fail(call, error);
		return;
	}
	call_return(call, NULL);
}

static gboolean
prepare_register_agent(Call *call, GError **error)
{
	const char *path;

	g_variant_get(call->params, "(&o)", &path);
	if (g_str_equal(path, "/"))
		return set_error(error, VIGIL_DBUS_ERROR_INVALID_ARGUMENT,
		                 "agent: '/' is not an agent's object path");
	return TRUE;
}

static gboolean
prepare_reply(Call *call, GError **error)
{
	const char *verdict;
	g_autoptr(GVariant) options = NULL;

	g_variant_get(call->params, "(t&s@a{sv})", &call->id, &verdict, &options);
	return vigil_prompts_check_reply(verdict, options, error);
}

static void
run_reply(Call *call)
{
	VigilPrompts *prompts = vigil_daemon_get_prompts(call->server->daemon);
	const char *verdict;
	g_autoptr(GVariant) options = NULL;
	guint64 rule_id = 0;
	GError *error = NULL;

	g_variant_get(call->params, "(t&s@a{sv})", &call->id, &verdict, &options);
	if (!vigil_prompts_reply(prompts, call->id, call->sender, verdict, options, &rule_id,
	                         &error)) {
		call_fail(call, error);
		return;
	}
	call_return(call, NULL);
}

static void
run_hold_request(Call *call)
{
	VigilPrompts *prompts = vigil_daemon_get_prompts(call->server->daemon);
	guint32 left = 0;
	GError *error = NULL;

	g_variant_get(call->params, "(t)", &call->id);
	if (!vigil_prompts_hold_request(prompts, call->id, call->sender, &left, &error)) {
		call_fail(call, error);
		return;
	}
	call_return(call, g_variant_new("(u)", left));
}

static void
run_get_pending(Call *call)
{
	VigilPrompts *prompts = vigil_daemon_get_prompts(call->server->daemon);

	call_return(call, g_variant_new("(@a(ta{sv}))",
	                                vigil_prompts_get_pending(
	                                    prompts, call->uid == 0 ? G_MAXUINT32 : call->uid)));
}

/* ---- history ---- */

static gboolean
prepare_get_connections(Call *call, GError **error)
{
	VigilDBusFilter filter;
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);

	return vigil_dbus_parse_filter(dict, call->uid, &filter, error);
}

/* a decision's dictionary, with the traffic conntrack counted on its flow */
static GVariant *
history_row_to_dict(const VigilHistoryRow *row)
{
	g_autoptr(GVariant) decision = NULL;
	GVariantDict dict;

	if (!row->has_traffic && row->ended == 0)
		return vigil_decision_to_dict(&row->decision, row->decision.id); /* floating */
	decision = g_variant_ref_sink(vigil_decision_to_dict(&row->decision, row->decision.id));
	g_variant_dict_init(&dict, decision);
	if (row->has_traffic) {
		g_variant_dict_insert(&dict, VIGIL_CONN_KEY_BYTES_OUT, "t", row->traffic.bytes_out);
		g_variant_dict_insert(&dict, VIGIL_CONN_KEY_BYTES_IN, "t", row->traffic.bytes_in);
		g_variant_dict_insert(&dict, VIGIL_CONN_KEY_PACKETS_OUT, "t",
		                      row->traffic.packets_out);
		g_variant_dict_insert(&dict, VIGIL_CONN_KEY_PACKETS_IN, "t",
		                      row->traffic.packets_in);
	}
	if (row->ended != 0)
		g_variant_dict_insert(&dict, VIGIL_CONN_KEY_ENDED, "x", row->ended);
	return g_variant_dict_end(&dict);
}

/* GetConnections' answer from the history's rows: made in the query's worker (vigil-history.h) */
static GVariant *
history_rows_to_variant(GPtrArray *rows)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < rows->len; i++) {
		const VigilHistoryRow *row = g_ptr_array_index(rows, i);

		g_variant_builder_add(&builder, "@a{sv}", history_row_to_dict(row));
	}
	return g_variant_new("(aa{sv})", &builder);
}

static void
on_history_rows(GObject *source, GAsyncResult *result, gpointer data)
{
	Call *call = data;
	VigilHistory *history = vigil_daemon_get_history(call->server->daemon);
	GError *error = NULL;
	g_autoptr(GVariant) answer = vigil_history_query_reply_finish(history, result, &error);

	(void)source;
	if (answer == NULL) {
		if (g_error_matches(error, VIGIL_HISTORY_ERROR, VIGIL_HISTORY_ERROR_BUSY)) {
			GError *busy = g_error_new_literal(VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY,
			                                   error->message);

			g_error_free(error);
			error = busy;
		}
		call_fail(call, error);
		return;
	}
	call_return(call, answer);
}

/* GetConnections with history: the rows on disk, read in a worker (vigil-history.h) */
static void
run_get_history(Call *call, const VigilDBusFilter *filter)
{
	VigilHistoryQuery query = {
	    .since = filter->since,
	    .until = filter->until,
	    .has_uid = filter->has_uid,
	    .uid = filter->uid,
	    .has_verdict = filter->has_verdict,
	    .verdict = filter->verdict,
	    .after = filter->after,
	    .limit = filter->limit,
	    .oldest = filter->oldest,
	};

	if (filter->program != NULL)
		query.program =
		    g_str_equal(filter->program, VIGIL_PROGRAM_UNKNOWN) ? "" : filter->program;
	vigil_history_query_reply_async(vigil_daemon_get_history(call->server->daemon), call->uid,
	                                &query, history_rows_to_variant, NULL, on_history_rows,
	                                call);
}

static void
run_get_connections(Call *call)
{
	VigilDaemon *daemon = call->server->daemon;
	g_autoptr(GPtrArray) recent =
	    vigil_decision_log_recent(vigil_daemon_get_decision_log(daemon));
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);
	g_autoptr(GArray) matched = g_array_new(FALSE, FALSE, sizeof(guint));
	GVariantBuilder builder;
	VigilDBusFilter filter;
	GError *error = NULL;
	guint first = 0;

	if (!vigil_dbus_parse_filter(dict, call->uid, &filter, &error)) {
		call_fail(call, error);
		return;
	}
	if (filter.history) {
		run_get_history(call, &filter);
		return;
	}
	for (guint i = 0; i < recent->len; i++) {
		const VigilDecision *d = g_ptr_array_index(recent, i);

		if (vigil_dbus_filter_matches(&filter, d, d->id))
			g_array_append_val(matched, i);
	}
	if (filter.limit > 0 && matched->len > filter.limit && filter.oldest)
		g_array_set_size(matched, filter.limit);
	else if (filter.limit > 0 && matched->len > filter.limit)
		first = matched->len - filter.limit;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint j = first; j < matched->len; j++) {
		guint i = g_array_index(matched, guint, j);

		const VigilDecision *d = g_ptr_array_index(recent, i);

		g_variant_builder_add(&builder, "@a{sv}", vigil_decision_to_dict(d, d->id));
	}
	call_return(call, g_variant_new("(aa{sv})", &builder));
}

/*
 * What GetProgramStats, GetProgramHistory and GetTimeline count, for a program or an interval:
 * the three answers share their keys (VIGIL_PROGRAM_STATS_KEY_*), so they are made in one place.
 * A program's entry has destinations and last_seen; the history's have the bytes conntrack
 * counted.
 */
typedef struct {
	guint64 connections;
	guint64 allowed;
	guint64 denied;
	gboolean has_program; /* destinations, last_seen */
	guint32 destinations;
	gint64 last_seen;
	gboolean has_bytes; /* bytes_out, bytes_in */
	guint64 bytes_out;
	guint64 bytes_in;
} Counters;

/* a{sv} of @c */
static GVariant *
counters_to_dict(const Counters *c)
{
	GVariantDict counters;

	g_variant_dict_init(&counters, NULL);
	g_variant_dict_insert(&counters, VIGIL_PROGRAM_STATS_KEY_CONNECTIONS, "t", c->connections);
	g_variant_dict_insert(&counters, VIGIL_PROGRAM_STATS_KEY_ALLOWED, "t", c->allowed);
	g_variant_dict_insert(&counters, VIGIL_PROGRAM_STATS_KEY_DENIED, "t", c->denied);
	if (c->has_program) {
		g_variant_dict_insert(&counters, VIGIL_PROGRAM_STATS_KEY_DESTINATIONS, "u",
		                      c->destinations);
		g_variant_dict_insert(&counters, VIGIL_PROGRAM_STATS_KEY_LAST_SEEN, "x",
		                      c->last_seen);
	}
	if (c->has_bytes) {
		g_variant_dict_insert(&counters, VIGIL_PROGRAM_STATS_KEY_BYTES_OUT, "t",
		                      c->bytes_out);
		g_variant_dict_insert(&counters, VIGIL_PROGRAM_STATS_KEY_BYTES_IN, "t",
		                      c->bytes_in);
	}
	return g_variant_dict_end(&counters);
}

/* one (sa{sv}) of a program's counters; a path that is not UTF-8 (or none: the process was not
 * known) cannot go over D-Bus as a string */
static void
add_program_entry(GVariantBuilder *builder, const char *program, const Counters *c)
{
	g_variant_builder_add(
	    builder, "(s@a{sv})",
	    program != NULL && g_utf8_validate(program, -1, NULL) ? program : VIGIL_PROGRAM_UNKNOWN,
	    counters_to_dict(c));
}

static void
add_stats_entry(GVariantBuilder *builder, const VigilProgramStats *stats)
{
	add_program_entry(builder, stats->program,
	                  &(Counters){.connections = stats->connections,
	                              .allowed = stats->allowed,
	                              .denied = stats->denied,
	                              .has_program = TRUE,
	                              .destinations = stats->destinations,
	                              .last_seen = stats->last_seen});
}

static gint
compare_connections(gconstpointer a, gconstpointer b)
{
	const VigilProgramStats *x = *(VigilProgramStats *const *)a;
	const VigilProgramStats *y = *(VigilProgramStats *const *)b;

	if (x->connections != y->connections)
		return x->connections > y->connections ? -1 : 1;
	return g_strcmp0(x->program, y->program);
}

static void
run_get_program_stats(Call *call)
{
	VigilDecisionLog *log = vigil_daemon_get_decision_log(call->server->daemon);
	g_autoptr(GPtrArray) stats =
	    vigil_decision_log_program_stats(log, call->uid == 0 ? G_MAXUINT32 : call->uid);
	g_autoptr(GHashTable) sums = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_autoptr(GPtrArray) merged = g_ptr_array_new();
	GVariantBuilder builder;

	/* root sees every user's counters, added up per program */
	for (guint i = 0; i < stats->len; i++) {
		const VigilProgramStats *one = g_ptr_array_index(stats, i);
		VigilProgramStats *sum = g_hash_table_lookup(sums, one->program);

		if (sum == NULL) {
			sum = g_new0(VigilProgramStats, 1);
			sum->program = one->program;
			g_hash_table_insert(sums, sum->program, sum);
			g_ptr_array_add(merged, sum);
		}
		sum->connections += one->connections;
		sum->allowed += one->allowed;
		sum->denied += one->denied;
		sum->destinations += one->destinations;
		sum->last_seen = MAX(sum->last_seen, one->last_seen);
	}
	g_ptr_array_sort(merged, compare_connections);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sa{sv})"));
	for (guint i = 0; i < merged->len; i++)
		add_stats_entry(&builder, g_ptr_array_index(merged, i));
	call_return(call, g_variant_new("(a(sa{sv}))", &builder));
}

/* ---- packet captures (vigil-capture.h): every user's packets, for admins only ---- */

static void
run_get_captures(Call *call)
{
	VigilCapture *capture = vigil_daemon_get_capture(call->server->daemon);

	call_return(call, g_variant_new_tuple((GVariant *[]){capture != NULL
	                                                         ? vigil_capture_list(capture)
	                                                         : g_variant_new("aa{sv}", NULL)},
	                                      1));
}

static void
run_remove_capture(Call *call)
{
	VigilCapture *capture = vigil_daemon_get_capture(call->server->daemon);
	g_autoptr(GError) error = NULL;
	guint64 id;

	g_variant_get(call->params, "(t)", &id);
	if (capture == NULL) {
		call_fail(call,
		          dbus_error(VIGIL_DBUS_ERROR_NOT_FOUND,
		                     "no capture %" G_GUINT64_FORMAT " (capture is off)", id));
		return;
	}
	if (!vigil_capture_remove(capture, id, &error)) {
		call_fail(call, dbus_error(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
		                               ? VIGIL_DBUS_ERROR_NOT_FOUND
		                               : VIGIL_DBUS_ERROR_FAILED,
		                           "%s", error->message));
		return;
	}
	g_info("uid %u removed capture %" G_GUINT64_FORMAT, call->uid, id);
	call_return(call, NULL);
}

/* ---- GetProgramHistory, GetTimeline: aggregates of the history, read in a worker ---- */

static gboolean
prepare_get_program_history(Call *call, GError **error)
{
	VigilDBusRange range;
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);

	return vigil_dbus_parse_program_history(dict, call->uid, &range, error);
}

/* GetProgramHistory's answer: made in the query's worker, like GetConnections' */
static GVariant *
program_history_to_variant(GPtrArray *programs)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sa{sv})"));
	for (guint i = 0; i < programs->len; i++) {
		const VigilHistoryProgram *p = g_ptr_array_index(programs, i);

		add_program_entry(&builder, p->program,
		                  &(Counters){.connections = p->connections,
		                              .allowed = p->allowed,
		                              .denied = p->denied,
		                              .has_program = TRUE,
		                              .destinations = p->destinations,
		                              .last_seen = p->last_seen,
		                              .has_bytes = TRUE,
		                              .bytes_out = p->bytes_out,
		                              .bytes_in = p->bytes_in});
	}
	return g_variant_new("(a(sa{sv}))", &builder);
}

static void
run_get_program_history(Call *call)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);
	VigilHistorySort sort = VIGIL_HISTORY_SORT_CONNECTIONS;
	VigilDBusRange range;
	GError *error = NULL;

	if (!vigil_dbus_parse_program_history(dict, call->uid, &range, &error)) {
		call_fail(call, error);
		return;
	}
	vigil_history_sort_from_string(range.sort, &sort);
	vigil_history_read_async(vigil_daemon_get_history(call->server->daemon), call->uid,
	                         vigil_history_db_programs,
	                         &(VigilHistoryQuery){.since = range.since,
	                                              .until = range.until,
	                                              .has_uid = range.has_uid,
	                                              .uid = range.uid,
	                                              .limit = range.limit,
	                                              .sort = sort},
	                         program_history_to_variant, NULL, on_history_rows, call);
}

static gboolean
prepare_get_timeline(Call *call, GError **error)
{
	VigilDBusRange range;
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);

	return vigil_dbus_parse_timeline(dict, call->uid, g_get_real_time(), &range, error);
}

/* GetTimeline's answer: made in the query's worker */
static GVariant *
timeline_to_variant(GPtrArray *buckets)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(xa{sv})"));
	for (guint i = 0; i < buckets->len; i++) {
		const VigilHistoryBucket *b = g_ptr_array_index(buckets, i);

		g_variant_builder_add(&builder, "(x@a{sv})", b->start,
		                      counters_to_dict(&(Counters){.connections = b->connections,
		                                                   .allowed = b->allowed,
		                                                   .denied = b->denied,
		                                                   .has_bytes = TRUE,
		                                                   .bytes_out = b->bytes_out,
		                                                   .bytes_in = b->bytes_in}));
	}
	return g_variant_new("(a(xa{sv}))", &builder);
}

static void
run_get_timeline(Call *call)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(call->params, 0);
	VigilDBusRange range;
	GError *error = NULL;

	if (!vigil_dbus_parse_timeline(dict, call->uid, g_get_real_time(), &range, &error)) {
		call_fail(call, error);
		return;
	}
	vigil_history_read_async(
	    vigil_daemon_get_history(call->server->daemon), call->uid, vigil_history_db_timeline,
	    &(VigilHistoryQuery){.since = range.since,
	                         .until = range.until,
	                         .has_uid = range.has_uid,
	                         .uid = range.uid,
	                         .program = range.program,
	                         .interval = (gint64)range.interval * G_USEC_PER_SEC},
	    timeline_to_variant, NULL, on_history_rows, call);
}

/* ---- the method table and the skeleton's handlers ---- */

static const Method m_get_permissions = {"GetPermissions", NULL, NULL, run_get_permissions};
static const Method m_set_enabled = {"SetEnabled", VIGIL_POLKIT_ACTION_CONFIGURE, NULL,
                                     run_set_enabled};
static const Method m_set_config = {"SetConfig", VIGIL_POLKIT_ACTION_CONFIGURE, prepare_set_config,
                                    run_set_config};
static const Method m_get_rules = {"GetRules", VIGIL_POLKIT_ACTION_READ, NULL, run_get_rules};
static const Method m_add_rule = {"AddRule", NULL, prepare_add_rule, run_add_rule};
static const Method m_update_rule = {"UpdateRule", NULL, prepare_update_rule, run_update_rule};
static const Method m_remove_rule = {"RemoveRule", NULL, prepare_remove_rule, run_remove_rule};
static const Method m_import_rules = {"ImportRules", NULL, prepare_import_rules, run_import_rules};
static const Method m_export_rules = {"ExportRules", VIGIL_POLKIT_ACTION_READ, NULL,
                                      run_export_rules};
static const Method m_register_agent = {"RegisterAgent", VIGIL_POLKIT_ACTION_REPLY,
                                        prepare_register_agent, run_register_agent};
static const Method m_unregister_agent = {"UnregisterAgent", NULL, NULL, run_unregister_agent};
static const Method m_reply = {"Reply", VIGIL_POLKIT_ACTION_REPLY, prepare_reply, run_reply};
static const Method m_hold_request = {"HoldRequest", VIGIL_POLKIT_ACTION_REPLY, NULL,
                                      run_hold_request};
static const Method m_get_pending = {"GetPending", VIGIL_POLKIT_ACTION_READ, NULL, run_get_pending};
static const Method m_get_connections = {"GetConnections", VIGIL_POLKIT_ACTION_READ,
                                         prepare_get_connections, run_get_connections};
static const Method m_get_program_stats = {"GetProgramStats", VIGIL_POLKIT_ACTION_READ, NULL,
                                           run_get_program_stats};
static const Method m_get_captures = {"GetCaptures", VIGIL_POLKIT_ACTION_CONFIGURE, NULL,
                                      run_get_captures};
static const Method m_remove_capture = {"RemoveCapture", VIGIL_POLKIT_ACTION_CONFIGURE, NULL,
                                        run_remove_capture};
static const Method m_get_program_history = {"GetProgramHistory", VIGIL_POLKIT_ACTION_READ,
                                             prepare_get_program_history, run_get_program_history};
static const Method m_get_timeline = {"GetTimeline", VIGIL_POLKIT_ACTION_READ, prepare_get_timeline,
                                      run_get_timeline};

#define HANDLER0(fn, method)                                                                       \
	static gboolean fn(VigilFirewall *fw, GDBusMethodInvocation *inv, gpointer data)           \
	{                                                                                          \
		return dispatch(data, inv, &method);                                               \
	}
#define HANDLER1(fn, method, T1)                                                                   \
	static gboolean fn(VigilFirewall *fw, GDBusMethodInvocation *inv, T1 a1, gpointer data)    \
	{                                                                                          \
		return dispatch(data, inv, &method);                                               \
	}
#define HANDLER2(fn, method, T1, T2)                                                               \
	static gboolean fn(VigilFirewall *fw, GDBusMethodInvocation *inv, T1 a1, T2 a2,            \
	                   gpointer data)                                                          \
	{                                                                                          \
		return dispatch(data, inv, &method);                                               \
	}
#define HANDLER3(fn, method, T1, T2, T3)                                                           \
	static gboolean fn(VigilFirewall *fw, GDBusMethodInvocation *inv, T1 a1, T2 a2, T3 a3,     \
	                   gpointer data)                                                          \
	{                                                                                          \
		return dispatch(data, inv, &method);                                               \
	}

HANDLER0(handle_get_permissions, m_get_permissions)
HANDLER1(handle_set_enabled, m_set_enabled, gboolean)
HANDLER1(handle_set_config, m_set_config, GVariant *)
HANDLER0(handle_get_rules, m_get_rules)
HANDLER1(handle_add_rule, m_add_rule, GVariant *)
HANDLER2(handle_update_rule, m_update_rule, guint64, GVariant *)
HANDLER1(handle_remove_rule, m_remove_rule, guint64)
HANDLER1(handle_import_rules, m_import_rules, const char *)
HANDLER0(handle_export_rules, m_export_rules)
HANDLER1(handle_register_agent, m_register_agent, const char *)
HANDLER0(handle_unregister_agent, m_unregister_agent)
HANDLER3(handle_reply, m_reply, guint64, const char *, GVariant *)
HANDLER1(handle_hold_request, m_hold_request, guint64)
HANDLER0(handle_get_pending, m_get_pending)
HANDLER1(handle_get_connections, m_get_connections, GVariant *)
HANDLER0(handle_get_program_stats, m_get_program_stats)
HANDLER0(handle_get_captures, m_get_captures)
HANDLER1(handle_remove_capture, m_remove_capture, guint64)
HANDLER1(handle_get_program_history, m_get_program_history, GVariant *)
HANDLER1(handle_get_timeline, m_get_timeline, GVariant *)

static void
connect_handlers(VigilDBusServer *server)
{
	static const struct {
		const char *signal;
		GCallback handler;
	} handlers[] = {
	    {"handle-get-permissions", G_CALLBACK(handle_get_permissions)},
	    {"handle-set-enabled", G_CALLBACK(handle_set_enabled)},
	    {"handle-set-config", G_CALLBACK(handle_set_config)},
	    {"handle-get-rules", G_CALLBACK(handle_get_rules)},
	    {"handle-add-rule", G_CALLBACK(handle_add_rule)},
	    {"handle-update-rule", G_CALLBACK(handle_update_rule)},
	    {"handle-remove-rule", G_CALLBACK(handle_remove_rule)},
	    {"handle-import-rules", G_CALLBACK(handle_import_rules)},
	    {"handle-export-rules", G_CALLBACK(handle_export_rules)},
	    {"handle-register-agent", G_CALLBACK(handle_register_agent)},
	    {"handle-unregister-agent", G_CALLBACK(handle_unregister_agent)},
	    {"handle-reply", G_CALLBACK(handle_reply)},
	    {"handle-hold-request", G_CALLBACK(handle_hold_request)},
	    {"handle-get-pending", G_CALLBACK(handle_get_pending)},
	    {"handle-get-connections", G_CALLBACK(handle_get_connections)},
	    {"handle-get-program-stats", G_CALLBACK(handle_get_program_stats)},
	    {"handle-get-captures", G_CALLBACK(handle_get_captures)},
	    {"handle-remove-capture", G_CALLBACK(handle_remove_capture)},
	    {"handle-get-program-history", G_CALLBACK(handle_get_program_history)},
	    {"handle-get-timeline", G_CALLBACK(handle_get_timeline)},
	};

	for (guint i = 0; i < G_N_ELEMENTS(handlers); i++)
		g_signal_connect(server->skeleton, handlers[i].signal, handlers[i].handler, server);
}

/* ---- properties ---- */

static GVariant *
stats_variant(VigilDaemon *daemon)
{
	VigilDaemonStats s;
	GVariantBuilder b;
	const struct {
		const char *key;
		guint64 value;
	} * e, entries[] = {
	           {VIGIL_STATS_KEY_QUEUED, 0},     {VIGIL_STATS_KEY_ACCEPTED, 0},
	           {VIGIL_STATS_KEY_DENIED, 0},     {VIGIL_STATS_KEY_DROPPED, 0},
	           {VIGIL_STATS_KEY_DEFAULTED, 0},  {VIGIL_STATS_KEY_PROMPTED, 0},
	           {VIGIL_STATS_KEY_TIMED_OUT, 0},  {VIGIL_STATS_KEY_KERNEL_DROPPED, 0},
	           {VIGIL_STATS_KEY_OVERRUNS, 0},   {VIGIL_STATS_KEY_PENDING, 0},
	           {VIGIL_STATS_KEY_RULES, 0},      {VIGIL_STATS_KEY_AGENTS, 0},
	           {VIGIL_STATS_KEY_OVERFLOWED, 0}, {VIGIL_STATS_KEY_KERNEL_DECIDED, 0},
	       };
	const guint64 *values;

	vigil_daemon_get_stats(daemon, &s);
	/* the same order as VigilDaemonStats */
	G_STATIC_ASSERT(sizeof(VigilDaemonStats) == G_N_ELEMENTS(entries) * sizeof(guint64));
	values = (const guint64 *)&s;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{st}"));
	for (guint i = 0; i < G_N_ELEMENTS(entries); i++) {
		e = &entries[i];
		g_variant_builder_add(&b, "{st}", e->key, values[i]);
	}
	return g_variant_builder_end(&b);
}

static gboolean
on_stats_tick(gpointer data)
{
	VigilDBusServer *server = data;
	g_autoptr(GVariant) stats = g_variant_ref_sink(stats_variant(server->daemon));
	GVariant *current = vigil_firewall_get_stats(server->skeleton);

	/* PropertiesChanged at most once a second */
	if (current == NULL || !g_variant_equal(current, stats))
		vigil_firewall_set_stats(server->skeleton, stats);
	return G_SOURCE_CONTINUE;
}

static void
on_rules_changed(gpointer data)
{
	VigilDBusServer *server = data;

	vigil_firewall_emit_rules_changed(server->skeleton);
}

/* ---- life ---- */

static void
on_name_acquired(GDBusConnection *connection, const char *name, gpointer data)
{
	VigilDBusServer *server = data;

	server->owns_name = TRUE;
	g_message("on the system bus as %s", name);
}

static void
on_name_lost(GDBusConnection *connection, const char *name, gpointer data)
{
	VigilDBusServer *server = data;

	server->owns_name = FALSE;
	g_warning("cannot own %s on the system bus (is another vigild running, or the bus policy "
	          "missing?): filtering goes on without prompts or clients",
	          name);
}

VigilDBusServer *
vigil_dbus_server_new(VigilDaemon *daemon, GDBusConnection *connection, const char *config_path,
                      GError **error)
{
	g_autoptr(VigilDBusServer) server = g_new0(VigilDBusServer, 1);

	server->daemon = daemon;
	server->connection = g_object_ref(connection);
	server->config_path = g_strdup(config_path);
	server->calls_by_sender = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	server->calls_by_uid = g_hash_table_new(NULL, NULL);
	server->holder_search_uids = g_hash_table_new(NULL, NULL);
	server->polkit = vigil_polkit_new(connection);
	server->agents = vigil_agents_new(connection);
	vigil_agents_set_allowed_executables(
	    server->agents,
	    (const char *const *)vigil_daemon_get_config(daemon)->agent_executables);
	server->skeleton = vigil_firewall_skeleton_new();
	vigil_firewall_set_version(server->skeleton, VIGIL_VERSION);
	vigil_firewall_set_backend(server->skeleton, vigil_daemon_get_backend(daemon));
	update_settings_properties(server);
	on_stats_tick(server);
	connect_handlers(server);
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(server->skeleton),
	                                      connection, VIGIL_DBUS_PATH, error))
		return NULL;
	vigil_prompts_set_agents(vigil_daemon_get_prompts(daemon), server->agents);
	vigil_daemon_set_rules_changed_func(daemon, on_rules_changed, server);
	server->stats_source = g_timeout_add_seconds(STATS_TICK_S, on_stats_tick, server);
	server->owner_id = g_bus_own_name_on_connection(
	    connection, VIGIL_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, on_name_acquired,
	    on_name_lost, server, NULL);
	return g_steal_pointer(&server);
}

gboolean
vigil_dbus_server_owns_name(VigilDBusServer *server)
{
	return server->owns_name;
}

void
vigil_dbus_server_free(VigilDBusServer *server)
{
	g_autoptr(GError) error = NULL;

	if (server == NULL)
		return;
	if (server->daemon != NULL) {
		vigil_daemon_set_rules_changed_func(server->daemon, NULL, NULL);
		if (vigil_prompts_get_agents(vigil_daemon_get_prompts(server->daemon)) ==
		    server->agents)
			vigil_prompts_set_agents(vigil_daemon_get_prompts(server->daemon), NULL);
	}
	g_clear_handle_id(&server->owner_id, g_bus_unown_name);
	g_clear_handle_id(&server->stats_source, g_source_remove);
	if (server->skeleton != NULL) {
		g_signal_handlers_disconnect_by_data(server->skeleton, server);
		if (g_dbus_interface_skeleton_get_connection(
		        G_DBUS_INTERFACE_SKELETON(server->skeleton)) != NULL)
			g_dbus_interface_skeleton_unexport(
			    G_DBUS_INTERFACE_SKELETON(server->skeleton));
	}
	/* Cancel("shutdown") and the last replies reach the agents */
	if (!g_dbus_connection_flush_sync(server->connection, NULL, &error))
		g_debug("flushing the bus connection: %s", error->message);
	g_clear_pointer(&server->agents, vigil_agents_free);
	g_clear_pointer(&server->polkit, vigil_polkit_free);
	g_clear_object(&server->skeleton);
	g_clear_object(&server->connection);
	g_clear_pointer(&server->calls_by_sender, g_hash_table_unref);
	g_clear_pointer(&server->calls_by_uid, g_hash_table_unref);
	g_clear_pointer(&server->holder_search_uids, g_hash_table_unref);
	g_free(server->config_path);
	g_free(server);
}
