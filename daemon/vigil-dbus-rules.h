/* vigil-dbus-rules.h: rules to and from their D-Bus form (rule dictionaries, import/export text) */
#pragma once

#include <gio/gio.h>

#include "vigil-rule.h"
#include "vigil-ruleset.h"

G_BEGIN_DECLS

/* the rule dictionary GetRules() returns for @rule */
GVariant *vigil_rule_to_dict(const VigilRule *rule);

/*
 * What a rule from a caller names outside vigild: looked at only once the caller is
 * authorised (an answer before would tell an unauthorised caller what exists), the program
 * with the caller's own rights (vigil_as_caller_stat_async()). A user name is kept in
 * rule->user_name until then (vigil_rules_user_names(), vigil_rule_resolve_user()): a lookup
 * in the user database may reach a network service, which nobody may make vigild ask for
 * free.
 */
typedef struct {
	gboolean program;   /* rule->program must be a regular file the caller can see */
	gboolean process;   /* rule->pid must be a running process of the rule's user */
	guint64 start_time; /* with process: the start time the rule text gave (0: any) */
} VigilRuleLookups;

/*
 * AddRule(): a new rule from @dict (writable keys, or text alone), checked without I/O: a
 * user name stays unresolved in rule->user_name.
 * Without user or uid the rule is for @caller_uid. @lookups says what is still to be looked
 * at. Errors: VIGIL_DBUS_ERROR_INVALID_ARGUMENT naming the key.
 */
VigilRule *vigil_rule_from_dict(GVariant *dict, guint32 caller_uid, VigilRuleLookups *lookups,
                                GError **error);
/* UpdateRule(): @old with @changes applied (a new rule; @old is not touched) */
VigilRule *vigil_rule_update_from_dict(const VigilRule *old, GVariant *changes,
                                       VigilRuleLookups *lookups, GError **error);
/*
 * With @lookups->process: the until-quit rule's pid is a running process of the rule's
 * user (@proc_root is "/proc" outside tests); its start time goes into @rule.
 */
gboolean vigil_rule_check_process(VigilRule *rule, const VigilRuleLookups *lookups,
                                  const char *proc_root, GError **error);

/*
 * A rule dictionary's keys alone: each known, writable, given once, of its type, within its
 * length, without control characters (InvalidArgument naming the key). The first step of
 * vigil_rule_from_dict() and vigil_rule_update_from_dict().
 */
gboolean vigil_rule_check_dict(GVariant *dict, GError **error);

/*
 * ImportRules(): every rule of @text (rules file format), all or none: the first bad line
 * gives VIGIL_DBUS_ERROR_INVALID_ARGUMENT "line N: why". State keywords are dropped,
 * until-quit lines rejected; at most VIGIL_IMPORT_MAX_BYTES, VIGIL_IMPORT_MAX_RULES and
 * VIGIL_IMPORT_MAX_USERS distinct user names (LIMIT_EXCEEDED). User names are not looked up
 * (rule->user_name). @lines (optional): each rule's line number in @text (guint).
 */
GPtrArray *vigil_rules_from_import(const char *text, GArray **lines, GError **error);

/* the distinct user names @rules still have to look up (NULL-terminated), or NULL: none */
char **vigil_rules_user_names(GPtrArray *rules);
/*
 * Sets @rule's uid from @uids (name -> uid, vigil_users_resolve_finish()) when it names a
 * user: InvalidArgument "user: unknown user 'NAME'" for a name without an entry.
 */
gboolean vigil_rule_resolve_user(VigilRule *rule, GHashTable *uids, GError **error);

/* ExportRules(): learned rules @uid may see (G_MAXUINT32: all), without until-quit ones */
char *vigil_rules_export(GPtrArray *rules, guint32 uid);

/* may @uid see @rule? Its own, all-users rules; uid 0 every rule */
gboolean vigil_rule_visible_to(const VigilRule *rule, guint32 uid);
/* is @rule only for @uid (manage-own-rules suffices)? Not while it names a user unresolved */
gboolean vigil_rule_is_own(const VigilRule *rule, guint32 uid);

G_END_DECLS
