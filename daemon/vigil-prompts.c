/* vigil-prompts.c: the life of a request: held, asked, answered (or not), finished */
#define G_LOG_DOMAIN "vigil-prompts"
#include "config.h"

#include <string.h>

#include "vigil-blocked-notices.h"
#include "vigil-conn-dict.h"
#include "vigil-dbus-args.h"
#include "vigil-fair.h"
#include "vigil-script.h"
#include "vigil-dbus.h"
#include "vigil-prompts.h"
#include "vigil-users.h"

typedef struct {
	VigilPrompts *prompts;
	guint64 id;
	char *key;
	guint32 uid;
	guint32 bucket;        /* whose share of the pools it takes (vigil-fair.h) */
	VigilProcess *process; /* of the first connection, or NULL */
	VigilFlow flow;        /* of the first connection */
	char **hostnames;      /* or NULL */
	char *host_target;
	char *domain_target; /* or NULL */
	gboolean binary_changed;
	gboolean hash_pending; /* the first connection's process had no sha256 yet: being made */
	char *changed_reason;  /* why an upgrade was not followed, or NULL */
	char *changed_package; /* or NULL */
	char *script;          /* the interpreter's script, for program-scope "script"; or NULL */
	char *script_glob;     /* the args glob of a rule for it (vigil-script.h), with script */
	gint64 time_us;
	gint64 prompted_us; /* monotonic: when the prompt went out */
	gint64 deadline_us; /* monotonic */
	guint timeout_source;
	GPtrArray *held;    /* opaque packets of the daemon */
	GPtrArray *sent_to; /* unique names of the agents that were asked */
	GList link;         /* in prompts->order, oldest first */
} Request;

/* what one user takes of the shared pools */
typedef struct {
	guint requests;
	guint held;
} UidUsage;

struct _VigilPrompts {
	VigilRuleStore *store;
	const VigilConfig *config;
	VigilPromptsCallbacks callbacks;
	gpointer user_data;
	VigilAgents *agents;
	GHashTable *by_id;  /* &id -> Request */
	GHashTable *by_key; /* key -> Request */
	GQueue order;
	guint64 next_id;
	GHashTable *usage; /* fairness bucket -> UidUsage, while the user has requests */
	guint64 prompted;
	guint64 timed_out;
	VigilBlockedNotices *notices; /* how often Notify("blocked") is sent */
};

/* ---- blocked notifications ---- */

void
vigil_prompts_notify_blocked(VigilPrompts *prompts, const VigilDecision *decision, guint64 id)
{
	if (!vigil_prompts_can_prompt(prompts, decision->uid) ||
	    !vigil_blocked_notices_due(prompts->notices, decision, g_get_monotonic_time()))
		return;
	vigil_agents_notify(prompts->agents, decision->uid, VIGIL_NOTIFY_BLOCKED,
	                    vigil_decision_to_dict(decision, id));
}

/* ---- requests ---- */

static void
request_free(Request *request)
{
	g_clear_handle_id(&request->timeout_source, g_source_remove);
	g_clear_pointer(&request->process, vigil_process_unref);
	g_strfreev(request->hostnames);
	g_free(request->key);
	g_free(request->host_target);
	g_free(request->domain_target);
	g_free(request->changed_reason);
	g_free(request->changed_package);
	g_free(request->script);
	g_free(request->script_glob);
	g_ptr_array_unref(request->held);
	g_ptr_array_unref(request->sent_to);
	g_free(request);
}

static char *
request_key(const VigilPromptConnection *conn)
{
	const VigilProcess *process = conn->process;
	char addr[INET6_ADDRSTRLEN];
	g_autofree char *identity = NULL;
	g_autofree char *script = NULL;
	guint port = conn->flow->protocol == IPPROTO_ICMP || conn->flow->protocol == IPPROTO_ICMPV6
	                 ? conn->flow->icmp_type
	                 : conn->flow->dport;

	/* the executable, not the process: parallel connections of one program join */
	if (process == NULL || process->exe == NULL)
		identity = g_strdup(VIGIL_PROGRAM_UNKNOWN);
	else if (process->sha256 != NULL)
		identity = g_strdup_printf("%s\n%s", process->exe, process->sha256);
	else
		identity =
		    g_strdup_printf("%s\n%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, process->exe,
		                    (guint64)process->exe_dev, (guint64)process->exe_ino);
	/* an interpreter's scripts are asked about one by one: an answer for this script must not
	 * decide another script's connections waiting with it */
	if (process != NULL)
		script = vigil_script_args_glob(process->exe, process->cmdline);
	return g_strdup_printf(
	    "%u\n%s\n%u\n%s\n%u\n%s", conn->uid, identity, conn->flow->protocol,
	    vigil_address_to_string(conn->flow->family, &conn->flow->dst, addr, sizeof addr), port,
	    script != NULL ? script : "");
}

static UidUsage *
usage_of(VigilPrompts *prompts, guint32 uid)
{
	UidUsage *usage = g_hash_table_lookup(prompts->usage, GUINT_TO_POINTER(uid));

	if (usage == NULL) {
		usage = g_new0(UidUsage, 1);
		g_hash_table_insert(prompts->usage, GUINT_TO_POINTER(uid), usage);
	}
	return usage;
}

/* a user's entry goes with their last request */
static void
usage_release(VigilPrompts *prompts, guint32 uid, guint held)
{
	UidUsage *usage = usage_of(prompts, uid);

	usage->requests--;
	usage->held -= held;
	if (usage->requests == 0)
		g_hash_table_remove(prompts->usage, GUINT_TO_POINTER(uid));
}

/*
 * A user's share of a pool of @total: the pool divided among the users who have an agent
 * (only they can hold anything), so a user who floods fills their own share, not the pool.
 */
static guint
fair_share(VigilPrompts *prompts, guint total)
{
	guint users = MAX(vigil_agents_count_uids(prompts->agents), 1);

	return MAX(total / users, 1);
}

/* a name DNS gave, usable as a rule's "to", or NULL */
static char *
usable_hostname(const char *const *hostnames)
{
	g_autoptr(VigilRule) probe = vigil_rule_new();

	if (hostnames == NULL || hostnames[0] == NULL)
		return NULL;
	if (!vigil_rule_set_target(probe, hostnames[0], NULL) ||
	    probe->target_kind != VIGIL_TARGET_HOST)
		return NULL;
	return g_strdup(probe->host);
}

static GVariant *
request_dict(Request *request, gboolean pending)
{
	GVariantBuilder builder;
	gint64 left_us = request->deadline_us - g_get_monotonic_time();

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	vigil_connection_dict_add_process(&builder, request->process, request->uid);
	vigil_connection_dict_add_flow(&builder, request->flow.family, request->flow.protocol,
	                               &request->flow.dst, request->flow.dport,
	                               request->flow.icmp_type,
	                               request->hostnames != NULL ? request->hostnames[0] : NULL);
	g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_TIME,
	                      g_variant_new_int64(request->time_us));
	g_variant_builder_add(
	    &builder, "{sv}", VIGIL_CONN_KEY_TIMEOUT,
	    g_variant_new_uint32((guint32)MAX(0, (left_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC)));
	g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_HOST_TARGET,
	                      g_variant_new_string(request->host_target));
	if (request->domain_target != NULL)
		g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_DOMAIN_TARGET,
		                      g_variant_new_string(request->domain_target));
	if (request->binary_changed)
		g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_BINARY_CHANGED,
		                      g_variant_new_boolean(TRUE));
	if (request->hash_pending)
		g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_HASH_PENDING,
		                      g_variant_new_boolean(TRUE));
	if (request->binary_changed && request->changed_reason != NULL)
		g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_CHANGED_REASON,
		                      g_variant_new_string(request->changed_reason));
	if (request->binary_changed && request->changed_package != NULL)
		g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_CHANGED_PKG,
		                      g_variant_new_string(request->changed_package));
	if (request->script != NULL)
		g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_SCRIPT,
		                      g_variant_new_string(request->script));
	if (pending)
		g_variant_builder_add(&builder, "{sv}", VIGIL_CONN_KEY_CONNECTIONS,
		                      g_variant_new_uint32(request->held->len));
	return g_variant_builder_end(&builder);
}

/* gives every held packet its verdict, tells the agents, forgets the request */
static void
request_finish(Request *request, VigilAction action, VigilReason reason, const VigilRule *rule,
               const char *cancel_reason, const char *except_agent)
{
	VigilPrompts *prompts = request->prompts;

	g_hash_table_remove(prompts->by_key, request->key);
	g_hash_table_remove(prompts->by_id, &request->id);
	g_queue_unlink(&prompts->order, &request->link);
	usage_release(prompts, request->bucket, request->held->len);
	g_info("request %" G_GUINT64_FORMAT " ends: %s (%s), %u connection(s)", request->id,
	       vigil_action_to_string(action), vigil_reason_to_string(reason), request->held->len);
	for (guint i = 0; i < request->held->len; i++)
		prompts->callbacks.finish(g_ptr_array_index(request->held, i), action, reason, rule,
		                          prompts->user_data);
	g_ptr_array_set_size(request->held, 0);
	if (cancel_reason != NULL) {
		for (guint i = 0; i < request->sent_to->len; i++) {
			const char *name = g_ptr_array_index(request->sent_to, i);

			if (g_strcmp0(name, except_agent) != 0)
				vigil_agents_cancel(prompts->agents, name, request->id,
				                    cancel_reason);
		}
	}
	request_free(request);
}

static gboolean
on_request_timeout(gpointer data)
{
	Request *request = data;

	request->timeout_source = 0;
	request->prompts->timed_out++;
	request_finish(request, request->prompts->config->default_action, VIGIL_REASON_TIMEOUT,
	               NULL, VIGIL_CANCEL_TIMEOUT, NULL);
	return G_SOURCE_REMOVE;
}

static Request *
lookup_request(VigilPrompts *prompts, guint64 id)
{
	return g_hash_table_lookup(prompts->by_id, &id);
}

static gboolean
str_equal0(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(a, b) == 0;
}

/* TRUE when @name was in @names */
static gboolean
remove_name(GPtrArray *names, const char *name)
{
	guint index;

	if (!g_ptr_array_find_with_equal_func(names, name, str_equal0, &index))
		return FALSE;
	g_ptr_array_remove_index(names, index);
	return TRUE;
}

static void
on_prompt_failed(const char *name, guint64 id, gpointer data)
{
	VigilPrompts *prompts = data;
	Request *request = lookup_request(prompts, id);

	/* as if it had not been sent to that agent */
	if (request == NULL || !remove_name(request->sent_to, name))
		return;
	if (request->sent_to->len == 0)
		request_finish(request, prompts->config->default_action, VIGIL_REASON_DEFAULT, NULL,
		               NULL, NULL);
}

static void
send_prompt(Request *request, const char *name)
{
	VigilPrompts *prompts = request->prompts;

	if (g_ptr_array_find_with_equal_func(request->sent_to, name, str_equal0, NULL))
		return;
	g_ptr_array_add(request->sent_to, g_strdup(name));
	vigil_agents_prompt(prompts->agents, name, request->id, request_dict(request, FALSE),
	                    on_prompt_failed, prompts);
}

/* a rule of @uid for this program pins another sha256: the binary changed since */
static gboolean
binary_changed(VigilPrompts *prompts, guint32 uid, const VigilProcess *process)
{
	g_autoptr(GPtrArray) rules = NULL;

	if (process == NULL || process->exe == NULL || process->sha256 == NULL)
		return FALSE;
	rules = vigil_ruleset_list(vigil_rule_store_get_ruleset(prompts->store));
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);

		if (rule->sha256 != NULL && g_strcmp0(rule->program, process->exe) == 0 &&
		    (rule->all_users || rule->uid == uid) &&
		    !g_str_equal(rule->sha256, process->sha256))
			return TRUE;
	}
	return FALSE;
}

static Request *
request_new(VigilPrompts *prompts, char *key, const VigilPromptConnection *conn)
{
	Request *request = g_new0(Request, 1);
	guint timeout_s = CLAMP(prompts->config->prompt_timeout, VIGIL_PROMPT_TIMEOUT_MIN,
	                        VIGIL_PROMPT_TIMEOUT_MAX);
	char addr[INET6_ADDRSTRLEN];
	g_autofree char *hostname = usable_hostname(conn->hostnames);

	request->prompts = prompts;
	request->id = ++prompts->next_id;
	request->key = key;
	request->uid = conn->uid;
	request->bucket = vigil_fair_bucket(conn->uid);
	request->process = conn->process != NULL ? vigil_process_ref(conn->process) : NULL;
	request->flow = *conn->flow;
	request->hostnames = g_strdupv((char **)conn->hostnames);
	request->time_us = conn->time_us;
	request->host_target = hostname != NULL
	                           ? g_strdup(hostname)
	                           : g_strdup(vigil_address_to_string(
	                                 conn->flow->family, &conn->flow->dst, addr, sizeof addr));
	request->domain_target = hostname != NULL ? vigil_domain_target(hostname) : NULL;
	request->binary_changed = binary_changed(prompts, conn->uid, conn->process);
	request->hash_pending = conn->hash_pending;
	request->changed_reason = g_strdup(conn->changed_reason);
	request->changed_package = g_strdup(conn->changed_package);
	if (conn->process != NULL) {
		request->script =
		    vigil_script_from_cmdline(conn->process->exe, conn->process->cmdline);
		request->script_glob =
		    vigil_script_args_glob(conn->process->exe, conn->process->cmdline);
	}
	request->prompted_us = g_get_monotonic_time();
	request->deadline_us = request->prompted_us + (gint64)timeout_s * G_USEC_PER_SEC;
	request->timeout_source = g_timeout_add(timeout_s * 1000, on_request_timeout, request);
	request->held = g_ptr_array_new();
	request->sent_to = g_ptr_array_new_with_free_func(g_free);
	request->link.data = request;
	g_hash_table_insert(prompts->by_key, request->key, request);
	g_hash_table_insert(prompts->by_id, &request->id, request);
	g_queue_push_tail_link(&prompts->order, &request->link);
	return request;
}

gboolean
vigil_prompts_can_prompt(VigilPrompts *prompts, guint32 uid)
{
	return prompts->agents != NULL && vigil_agents_has_uid(prompts->agents, uid);
}

static void
request_add_held(Request *request, gpointer held)
{
	g_ptr_array_add(request->held, held);
	usage_of(request->prompts, request->bucket)->held++;
}

VigilHoldResult
vigil_prompts_hold(VigilPrompts *prompts, gpointer held, const VigilPromptConnection *conn)
{
	g_autofree char *key = NULL;
	g_autoptr(GPtrArray) names = NULL;
	const UidUsage *usage;
	Request *request;

	if (!vigil_prompts_can_prompt(prompts, conn->uid))
		return VIGIL_HOLD_NO_AGENT;
	/* shares per user: a user's subordinate uids count as the user */
	usage = g_hash_table_lookup(prompts->usage, GUINT_TO_POINTER(vigil_fair_bucket(conn->uid)));
	if (usage != NULL && usage->held >= fair_share(prompts, VIGIL_PROMPTS_MAX_HELD_TOTAL)) {
		g_debug("uid %u holds its share of connections: not holding more", conn->uid);
		return VIGIL_HOLD_FULL;
	}
	key = request_key(conn);
	request = g_hash_table_lookup(prompts->by_key, key);
	if (request != NULL) {
		if (request->held->len >= VIGIL_PROMPTS_MAX_HELD_PER_REQ)
			return VIGIL_HOLD_FULL;
		request_add_held(request, held);
		return VIGIL_HOLD_HELD;
	}
	if (usage != NULL && usage->requests >= MIN(fair_share(prompts, VIGIL_PROMPTS_MAX_PENDING),
	                                            VIGIL_PROMPTS_MAX_PER_UID)) {
		g_debug("uid %u has its share of open requests: not asking", conn->uid);
		return VIGIL_HOLD_FULL;
	}
	request = request_new(prompts, g_steal_pointer(&key), conn);
	usage_of(prompts, request->bucket)->requests++;
	request_add_held(request, held);
	prompts->prompted++;
	names = vigil_agents_names_for_uid(prompts->agents, conn->uid);
	g_info("request %" G_GUINT64_FORMAT ": asking %u agent(s) of uid %u", request->id,
	       names->len, conn->uid);
	for (guint i = 0; i < names->len; i++)
		send_prompt(request, g_ptr_array_index(names, i));
	return VIGIL_HOLD_HELD;
}

/* ---- answers ---- */

typedef struct {
	const char *duration;
	guint32 seconds;
	gboolean has_seconds;
	const char *host_scope;
	const char *port_scope;
	const char *program_scope;
} ReplyOptions;

#define invalid(error, ...) vigil_dbus_invalid(error, __VA_ARGS__)

static gboolean
one_of(const char *value, const char *const *allowed)
{
	return g_strv_contains(allowed, value);
}

static gboolean
parse_reply_options(GVariant *options, ReplyOptions *out, GError **error)
{
	static const char *const durations[] = {VIGIL_DURATION_ONCE, VIGIL_DURATION_UNTIL_QUIT,
	                                        VIGIL_DURATION_SECONDS, VIGIL_DURATION_FOREVER,
	                                        NULL};
	static const char *const host_scopes[] = {VIGIL_HOST_SCOPE_HOST, VIGIL_HOST_SCOPE_DOMAIN,
	                                          VIGIL_HOST_SCOPE_ANY, NULL};
	static const char *const port_scopes[] = {VIGIL_PORT_SCOPE_PORT, VIGIL_PORT_SCOPE_ANY,
	                                          NULL};
	static const char *const program_scopes[] = {VIGIL_PROGRAM_SCOPE_PROGRAM,
	                                             VIGIL_PROGRAM_SCOPE_SCRIPT, NULL};
	static const VigilDictKey keys[] = {
	    {VIGIL_REPLY_KEY_DURATION, "s", 0},      {VIGIL_REPLY_KEY_SECONDS, "u", 0},
	    {VIGIL_REPLY_KEY_HOST_SCOPE, "s", 0},    {VIGIL_REPLY_KEY_PORT_SCOPE, "s", 0},
	    {VIGIL_REPLY_KEY_PROGRAM_SCOPE, "s", 0},
	};
	static const struct {
		const char *key;
		const char *const *allowed;
		gsize offset;
	} choices[] = {
	    {VIGIL_REPLY_KEY_DURATION, durations, G_STRUCT_OFFSET(ReplyOptions, duration)},
	    {VIGIL_REPLY_KEY_HOST_SCOPE, host_scopes, G_STRUCT_OFFSET(ReplyOptions, host_scope)},
	    {VIGIL_REPLY_KEY_PORT_SCOPE, port_scopes, G_STRUCT_OFFSET(ReplyOptions, port_scope)},
	    {VIGIL_REPLY_KEY_PROGRAM_SCOPE, program_scopes,
	     G_STRUCT_OFFSET(ReplyOptions, program_scope)},
	};

	*out = (ReplyOptions){
	    VIGIL_DURATION_ONCE,        0, FALSE, VIGIL_HOST_SCOPE_HOST, VIGIL_PORT_SCOPE_PORT,
	    VIGIL_PROGRAM_SCOPE_PROGRAM};
	/* known keys, each once, of their types: then each is looked up */
	if (!vigil_dbus_check_dict(options, keys, G_N_ELEMENTS(keys), NULL, "options", error))
		return FALSE;
	out->has_seconds = g_variant_lookup(options, VIGIL_REPLY_KEY_SECONDS, "u", &out->seconds);
	for (guint i = 0; i < G_N_ELEMENTS(choices); i++) {
		const char *value;

		if (!g_variant_lookup(options, choices[i].key, "&s", &value))
			continue;
		if (!one_of(value, choices[i].allowed))
			return invalid(error, "options: %s: '%s' is not one of its values",
			               choices[i].key, value);
		/* the string lives as long as @options */
		G_STRUCT_MEMBER(const char *, out, choices[i].offset) = value;
	}
	if (g_str_equal(out->duration, VIGIL_DURATION_SECONDS)) {
		if (!out->has_seconds || out->seconds < 1 || out->seconds > VIGIL_REPLY_SECONDS_MAX)
			return invalid(error, "options: duration 'seconds' needs seconds, 1 to %d",
			               VIGIL_REPLY_SECONDS_MAX);
	} else if (out->has_seconds) {
		return invalid(error, "options: seconds goes only with duration 'seconds'");
	}
	return TRUE;
}

gboolean
vigil_prompts_check_reply(const char *verdict, GVariant *options, GError **error)
{
	ReplyOptions opts;
	VigilAction action;

	if (!vigil_action_from_string(verdict, &action))
		return invalid(error, "verdict: '%s' is not allow, deny or drop", verdict);
	return parse_reply_options(options, &opts, error);
}

/* FAILED: the verdict applies once, and why no rule could be made */
static VigilRule *
no_rule(GError **error, const char *why)
{
	g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_FAILED,
	            "the verdict was applied once; no rule could be made: %s", why);
	return NULL;
}

/* the destination of an answer's rule: @request's host, its domain, or any */
static gboolean
set_reply_target(VigilRule *rule, Request *request, const ReplyOptions *opts, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	const char *target = NULL;

	if (g_str_equal(opts->host_scope, VIGIL_HOST_SCOPE_HOST))
		target = request->host_target;
	else if (g_str_equal(opts->host_scope, VIGIL_HOST_SCOPE_DOMAIN)) {
		if (request->domain_target == NULL)
			return invalid(error,
			               "options: host-scope 'domain': the destination has no "
			               "known host name; use 'host' or 'any'");
		target = request->domain_target;
	}
	if (target != NULL && !vigil_rule_set_target(rule, target, &local_error)) {
		no_rule(error, local_error->message);
		return FALSE;
	}
	return TRUE;
}

/* the lifetime of an answer's rule; @process may be NULL (an unknown process) */
static gboolean
set_reply_lifetime(VigilRule *rule, const VigilProcess *process, const ReplyOptions *opts,
                   GError **error)
{
	if (g_str_equal(opts->duration, VIGIL_DURATION_UNTIL_QUIT)) {
		if (process == NULL)
			return invalid(error,
			               "options: duration 'until-quit': the program's process "
			               "is unknown; use 'seconds' or 'forever'");
		rule->lifetime = VIGIL_LIFETIME_PROCESS_EXIT;
		rule->pid = process->pid;
		rule->pid_start_time = process->start_time;
	} else if (g_str_equal(opts->duration, VIGIL_DURATION_SECONDS)) {
		rule->lifetime = VIGIL_LIFETIME_UNTIL;
		rule->until = g_get_real_time() / G_USEC_PER_SEC + opts->seconds;
	}
	return TRUE;
}

/*
 * The rule an answer makes, filled in from the request's values. Never from a line of
 * text: a program path is the user's data and may hold a newline, quotes or '#', which
 * pasted into a line would read as other keywords and name another file.
 */
static VigilRule *
reply_rule_new(Request *request, VigilAction action, const ReplyOptions *opts, GError **error)
{
	g_autoptr(VigilRule) rule = vigil_rule_new();
	g_autoptr(GError) local_error = NULL;
	const VigilProcess *process = request->process;
	guint8 proto = request->flow.protocol;

	rule->action = action;
	rule->all_users = FALSE;
	rule->uid = request->uid;
	if (process != NULL && process->exe != NULL) {
		rule->program = g_strdup(process->exe);
		/* a rule from a prompt is for this binary: a changed one is asked about again */
		rule->sha256 = g_strdup(process->sha256);
	} else {
		rule->program = g_strdup(VIGIL_PROGRAM_UNKNOWN);
	}
	/* the script vigild read from the command line, never one the agent names */
	if (g_str_equal(opts->program_scope, VIGIL_PROGRAM_SCOPE_SCRIPT)) {
		if (request->script == NULL || request->script_glob == NULL) {
			invalid(error,
			        "options: program-scope 'script': request %" G_GUINT64_FORMAT
			        " runs no script a rule can name",
			        request->id);
			return NULL;
		}
		rule->args_glob = g_strdup(request->script_glob);
	}
	if (!set_reply_target(rule, request, opts, error))
		return NULL;
	if (g_str_equal(opts->port_scope, VIGIL_PORT_SCOPE_PORT) &&
	    vigil_protocol_has_ports(proto)) {
		VigilPortRange range = {request->flow.dport, request->flow.dport};

		rule->ports = g_array_new(FALSE, FALSE, sizeof(VigilPortRange));
		g_array_append_val(rule->ports, range);
	}
	/* "icmp" covers both */
	rule->proto = proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : proto;
	if (!set_reply_lifetime(rule, process, opts, error))
		return NULL;
	/* what cannot be saved and read back (a protocol rules do not know, a path that is
	 * not valid UTF-8) is no rule */
	if (!vigil_rule_validate(rule, &local_error))
		return no_rule(error, local_error->message);
	return g_steal_pointer(&rule);
}

/*
 * The rule for an answer: an equal existing one, or @rule added as a learned one. NULL
 * with an error when it cannot be added; the verdict still applies once.
 */
static VigilRule *
make_reply_rule(VigilPrompts *prompts, Request *request, VigilRule *rule, gboolean *made,
                GError **error)
{
	VigilRuleset *set = vigil_rule_store_get_ruleset(prompts->store);
	g_autoptr(GError) local_error = NULL;
	VigilRule *existing;

	*made = FALSE;
	existing = vigil_ruleset_find_equal(set, rule, 0);
	if (existing != NULL)
		return vigil_rule_ref(existing);
	if (vigil_ruleset_count_learned(set, request->uid) >= VIGIL_MAX_RULES_PER_UID) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
		            "the verdict was applied once: you have %d rules, the most a user may "
		            "have; remove some",
		            VIGIL_MAX_RULES_PER_UID);
		return NULL;
	}
	rule->note = g_strdup("made from a prompt");
	if (!vigil_rule_store_add_learned(prompts->store, rule, &local_error)) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_FAILED,
		            "the verdict was applied once; the rule could not be saved: %s",
		            local_error->message);
		return NULL;
	}
	*made = TRUE;
	return vigil_rule_ref(rule);
}

/* an answer that makes a rule comes at least a second after the prompt, or TOO_SOON */
static gboolean
rule_answer_due(Request *request, GError **error)
{
	gint64 left_us = request->prompted_us + (gint64)VIGIL_PROMPTS_RULE_ANSWER_DELAY_MS * 1000 -
	                 g_get_monotonic_time();

	if (left_us <= 0)
		return TRUE;
	g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_TOO_SOON,
	            "an answer that makes a rule is taken from %d ms after the prompt; answer "
	            "again in %" G_GINT64_FORMAT " ms (request %" G_GUINT64_FORMAT
	            " is still open)",
	            VIGIL_PROMPTS_RULE_ANSWER_DELAY_MS, (left_us + 999) / 1000, request->id);
	return FALSE;
}

/* is @request (number @id, NULL: unknown) open and asked of @sender? */
static gboolean
pending_for(const Request *request, guint64 id, const char *sender, GError **error)
{
	if (request != NULL &&
	    g_ptr_array_find_with_equal_func(request->sent_to, sender, str_equal0, NULL))
		return TRUE;
	g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_PENDING,
	            "request %" G_GUINT64_FORMAT
	            " is not pending for you (unknown, answered, timed out, or asked of "
	            "another agent)",
	            id);
	return FALSE;
}

gboolean
vigil_prompts_hold_request(VigilPrompts *prompts, guint64 id, const char *sender,
                           guint32 *seconds_left, GError **error)
{
	Request *request = lookup_request(prompts, id);
	guint timeout_s = CLAMP(prompts->config->prompt_timeout, VIGIL_PROMPT_TIMEOUT_MIN,
	                        VIGIL_PROMPT_TIMEOUT_MAX);
	gint64 now = g_get_monotonic_time();
	gint64 latest;
	gint64 wanted;

	*seconds_left = 0;
	if (!pending_for(request, id, sender, error))
		return FALSE;
	/* bounded: a reader (or an agent that holds for ever) keeps it a few minutes at most */
	latest = request->prompted_us +
	         (gint64)MAX(timeout_s, VIGIL_PROMPTS_HOLD_MAX_S) * G_USEC_PER_SEC;
	wanted = MIN(now + (gint64)timeout_s * G_USEC_PER_SEC, latest);
	if (wanted > request->deadline_us) {
		request->deadline_us = wanted;
		g_clear_handle_id(&request->timeout_source, g_source_remove);
		request->timeout_source = g_timeout_add((guint)((wanted - now + 999) / 1000),
		                                        on_request_timeout, request);
		g_info("request %" G_GUINT64_FORMAT ": held by its agent, %" G_GINT64_FORMAT
		       " s left",
		       request->id, (wanted - now) / G_USEC_PER_SEC);
	}
	*seconds_left = (guint32)MAX(0, (request->deadline_us - now) / G_USEC_PER_SEC);
	return TRUE;
}

gboolean
vigil_prompts_reply(VigilPrompts *prompts, guint64 id, const char *sender, const char *verdict,
                    GVariant *options, guint64 *rule_id, GError **error)
{
	Request *request = lookup_request(prompts, id);
	ReplyOptions opts;
	VigilAction action;
	g_autoptr(VigilRule) wanted = NULL;
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(GError) rule_error = NULL;
	gboolean made = FALSE;

	*rule_id = 0;
	if (!pending_for(request, id, sender, error))
		return FALSE;
	if (!vigil_action_from_string(verdict, &action))
		return invalid(error, "verdict: '%s' is not allow, deny or drop", verdict);
	if (!parse_reply_options(options, &opts, error))
		return FALSE;
	if (!g_str_equal(opts.duration, VIGIL_DURATION_ONCE)) {
		if (!rule_answer_due(request, error))
			return FALSE;
		wanted = reply_rule_new(request, action, &opts, &rule_error);
		/* a bad option leaves the request open; a rule that cannot be made does not */
		if (wanted == NULL && g_error_matches(rule_error, VIGIL_DBUS_ERROR,
		                                      VIGIL_DBUS_ERROR_INVALID_ARGUMENT)) {
			g_propagate_error(error, g_steal_pointer(&rule_error));
			return FALSE;
		}
		if (wanted != NULL)
			rule = make_reply_rule(prompts, request, wanted, &made, &rule_error);
	}
	*rule_id = rule != NULL ? rule->id : 0;
	if (made && request->hash_pending && rule->sha256 == NULL && request->process != NULL &&
	    prompts->callbacks.rule_without_hash != NULL)
		prompts->callbacks.rule_without_hash(rule->id, request->process,
		                                     prompts->user_data);
	request_finish(request, action, VIGIL_REASON_REPLY, rule, VIGIL_CANCEL_ANSWERED, sender);
	if (made && prompts->callbacks.rules_changed != NULL)
		prompts->callbacks.rules_changed(prompts->user_data);
	if (rule_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&rule_error));
		return FALSE;
	}
	return TRUE;
}

GVariant *
vigil_prompts_get_pending(VigilPrompts *prompts, guint32 uid)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ta{sv})"));
	for (GList *l = prompts->order.head; l != NULL; l = l->next) {
		Request *request = l->data;

		if (uid == G_MAXUINT32 || request->uid == uid)
			g_variant_builder_add(&builder, "(t@a{sv})", request->id,
			                      request_dict(request, TRUE));
	}
	return g_variant_builder_end(&builder);
}

static VigilRule *
match_request(VigilPrompts *prompts, Request *request)
{
	VigilMatchQuery query;

	/* as the daemon took it: an unknown program stays one for the rules made since */
	vigil_process_match_query(&query, request->uid, request->process, &request->flow,
	                          request->hostnames);
	return vigil_ruleset_match(vigil_rule_store_get_ruleset(prompts->store), &query,
	                           g_get_real_time() / G_USEC_PER_SEC);
}

void
vigil_prompts_recheck(VigilPrompts *prompts)
{
	GList *l = prompts->order.head;

	while (l != NULL) {
		Request *request = l->data;
		VigilRule *rule;

		l = l->next;
		rule = match_request(prompts, request);
		if (rule != NULL)
			request_finish(request, rule->action, VIGIL_REASON_RULE, rule,
			               VIGIL_CANCEL_RULE, NULL);
	}
}

void
vigil_prompts_finish_all(VigilPrompts *prompts, VigilAction action, VigilReason reason,
                         const char *cancel_reason)
{
	while (prompts->order.head != NULL)
		request_finish(prompts->order.head->data, action, reason, NULL, cancel_reason,
		               NULL);
}

guint
vigil_prompts_count(VigilPrompts *prompts)
{
	return g_hash_table_size(prompts->by_id);
}

void
vigil_prompts_get_stats(VigilPrompts *prompts, guint64 *prompted, guint64 *timed_out)
{
	*prompted = prompts->prompted;
	*timed_out = prompts->timed_out;
}

/* ---- agents coming and going ---- */

static void
on_agent_added(guint32 uid, const char *name, gpointer data)
{
	VigilPrompts *prompts = data;

	/* a new agent is asked about what its user's requests already wait for */
	for (GList *l = prompts->order.head; l != NULL; l = l->next) {
		Request *request = l->data;

		if (request->uid == uid)
			send_prompt(request, name);
	}
}

static void
on_agent_removed(guint32 uid, const char *name, gpointer data)
{
	VigilPrompts *prompts = data;
	GList *l = prompts->order.head;

	while (l != NULL) {
		Request *request = l->data;

		l = l->next;
		if (!remove_name(request->sent_to, name))
			continue;
		/* no other agent holds it: nobody will answer */
		if (request->sent_to->len == 0)
			request_finish(request, prompts->config->default_action,
			               VIGIL_REASON_DEFAULT, NULL, NULL, NULL);
	}
}

void
vigil_prompts_set_agents(VigilPrompts *prompts, VigilAgents *agents)
{
	static const VigilAgentsCallbacks callbacks = {on_agent_added, on_agent_removed};

	prompts->agents = agents;
	if (agents != NULL)
		vigil_agents_set_callbacks(agents, &callbacks, prompts);
}

VigilAgents *
vigil_prompts_get_agents(VigilPrompts *prompts)
{
	return prompts->agents;
}

/* ---- life ---- */

VigilPrompts *
vigil_prompts_new(VigilRuleStore *store, const VigilConfig *config,
                  const VigilPromptsCallbacks *callbacks, gpointer user_data)
{
	VigilPrompts *prompts = g_new0(VigilPrompts, 1);

	prompts->store = store;
	prompts->config = config;
	prompts->callbacks = *callbacks;
	prompts->user_data = user_data;
	prompts->by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	prompts->by_key = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&prompts->order);
	prompts->usage = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	prompts->notices = vigil_blocked_notices_new();
	return prompts;
}

void
vigil_prompts_free(VigilPrompts *prompts)
{
	if (prompts == NULL)
		return;
	vigil_prompts_finish_all(prompts, prompts->config->default_action, VIGIL_REASON_SHUTDOWN,
	                         VIGIL_CANCEL_SHUTDOWN);
	g_idle_remove_by_data(prompts);
	vigil_blocked_notices_free(prompts->notices);
	g_hash_table_unref(prompts->by_id);
	g_hash_table_unref(prompts->by_key);
	g_hash_table_unref(prompts->usage);
	g_free(prompts);
}
