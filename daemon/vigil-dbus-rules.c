/* vigil-dbus-rules.c: rule dictionaries and import/export text, validated like a rules file */
#define G_LOG_DOMAIN "vigil-dbus"
#include "config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include "vigil-dbus-args.h"
#include "vigil-dbus-rules.h"
#include "vigil-dbus.h"
#include "vigil-process.h"
#include "vigil-users.h"

#define MAX_UID G_GUINT64_CONSTANT(4294967294)

#define invalid(error, ...) vigil_dbus_invalid(error, __VA_ARGS__)

/* the keys of a rule dictionary that are not one keyword of the text form */
static const VigilDictKey other_writable_keys[] = {
    {VIGIL_RULE_KEY_ACTION, "s", 16},
    {VIGIL_RULE_KEY_UID, "u", 0},
    {VIGIL_RULE_KEY_LIFETIME, "s", 16},
    {VIGIL_RULE_KEY_TEXT, "s", 16384},
};

static const char *const other_read_only_keys[] = {
    VIGIL_RULE_KEY_SYSTEM,
    VIGIL_RULE_KEY_ORIGIN,
    VIGIL_RULE_KEY_PROGRAM_TARGET,
};

/* the keywords of the text form set from their dictionary string as a rules file reads
 * them; user, the lifetime, enabled and capture have code of their own */
static const VigilRuleKeywordId string_keywords[] = {
    VIGIL_RULE_KW_APP, VIGIL_RULE_KW_SHA256, VIGIL_RULE_KW_ARGS,  VIGIL_RULE_KW_APPID,
    VIGIL_RULE_KW_TO,  VIGIL_RULE_KW_PORT,   VIGIL_RULE_KW_PROTO, VIGIL_RULE_KW_NOTE,
};

typedef struct {
	VigilDictKey writable[VIGIL_RULE_N_KEYWORDS + G_N_ELEMENTS(other_writable_keys)];
	gsize n_writable;
	const char *read_only[VIGIL_RULE_N_KEYWORDS + G_N_ELEMENTS(other_read_only_keys) + 1];
} RuleKeys;

/* the keys of a rule dictionary: the keyword table's, and the few of D-Bus alone */
static const RuleKeys *
rule_keys(void)
{
	static RuleKeys keys;
	static gsize done;

	if (g_once_init_enter(&done)) {
		gsize n_read_only = 0;

		for (guint id = 0; id < VIGIL_RULE_N_KEYWORDS; id++) {
			const VigilRuleKeyword *kw = vigil_rule_keyword(id);

			if (kw->state)
				keys.read_only[n_read_only++] = kw->dbus_key;
			else
				keys.writable[keys.n_writable++] =
				    (VigilDictKey){kw->dbus_key, kw->dbus_type, kw->max_len};
		}
		for (guint i = 0; i < G_N_ELEMENTS(other_writable_keys); i++)
			keys.writable[keys.n_writable++] = other_writable_keys[i];
		for (guint i = 0; i < G_N_ELEMENTS(other_read_only_keys); i++)
			keys.read_only[n_read_only++] = other_read_only_keys[i];
		keys.read_only[n_read_only] = NULL;
		g_once_init_leave(&done, 1);
	}
	return &keys;
}

/* ---- to a dictionary ---- */

static const char *
lifetime_name(VigilLifetime lifetime)
{
	switch (lifetime) {
	case VIGIL_LIFETIME_UNTIL:
		return VIGIL_RULE_LIFETIME_UNTIL;
	case VIGIL_LIFETIME_PROCESS_EXIT:
		return VIGIL_RULE_LIFETIME_UNTIL_QUIT;
	case VIGIL_LIFETIME_FOREVER:
		break;
	}
	return VIGIL_RULE_LIFETIME_FOREVER;
}

static void
add_str(GVariantBuilder *builder, const char *key, const char *value)
{
	if (value != NULL && g_utf8_validate(value, -1, NULL))
		g_variant_builder_add(builder, "{sv}", key, g_variant_new_string(value));
}

GVariant *
vigil_rule_to_dict(const VigilRule *rule)
{
	GVariantBuilder b;
	g_autofree char *user = NULL;
	g_autofree char *text = vigil_rule_to_string(rule, FALSE);

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_ID, g_variant_new_uint64(rule->id));
	add_str(&b, VIGIL_RULE_KEY_ACTION, vigil_action_to_string(rule->action));
	if (rule->all_users) {
		user = g_strdup(VIGIL_RULE_USER_ALL);
	} else if (rule->user_name != NULL) {
		/* not looked up yet: no uid to give */
		user = g_strdup(rule->user_name);
	} else {
		user = vigil_user_name(rule->uid);
		if (user == NULL)
			user = g_strdup_printf("%u", rule->uid);
		g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_UID,
		                      g_variant_new_uint32(rule->uid));
	}
	add_str(&b, VIGIL_RULE_KEY_USER, user);
	add_str(&b, VIGIL_RULE_KEY_LIFETIME, lifetime_name(rule->lifetime));
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_ENABLED,
	                      g_variant_new_boolean(rule->enabled));
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_CAPTURE,
	                      g_variant_new_boolean(rule->capture));
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_CREATED,
	                      g_variant_new_int64(rule->created));
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_LAST_HIT,
	                      g_variant_new_int64(rule->last_hit));
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_HITS, g_variant_new_uint64(rule->hits));
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_SYSTEM,
	                      g_variant_new_boolean(rule->system));
	add_str(&b, VIGIL_RULE_KEY_TEXT, text);
	add_str(&b, VIGIL_RULE_KEY_PROGRAM_TARGET, rule->program_target);
	/* each as the text form writes it */
	for (guint i = 0; i < G_N_ELEMENTS(string_keywords); i++) {
		g_autofree char *value = vigil_rule_format_keyword(rule, string_keywords[i]);

		add_str(&b, vigil_rule_keyword(string_keywords[i])->dbus_key, value);
	}
	if (rule->lifetime == VIGIL_LIFETIME_UNTIL)
		g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_UNTIL,
		                      g_variant_new_int64(rule->until));
	if (rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT)
		g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_PID,
		                      g_variant_new_uint32(rule->pid));
	if (rule->system)
		add_str(&b, VIGIL_RULE_KEY_ORIGIN, rule->origin);
	return g_variant_builder_end(&b);
}

/* ---- from a dictionary ---- */

static gboolean
has_control(const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			return TRUE;
	}
	return FALSE;
}

static const char *
lookup_str(GVariant *dict, const char *key)
{
	const char *value = NULL;

	g_variant_lookup(dict, key, "&s", &value);
	return value;
}

/* every key known and writable, once, of its type, within its length: before anything else */
gboolean
vigil_rule_check_dict(GVariant *dict, GError **error)
{
	const RuleKeys *keys = rule_keys();

	if (!vigil_dbus_check_dict(dict, keys->writable, keys->n_writable, keys->read_only, "rule",
	                           error))
		return FALSE;
	for (guint i = 0; i < keys->n_writable; i++) {
		const char *text = NULL;

		if (keys->writable[i].type[0] == 's' &&
		    (text = lookup_str(dict, keys->writable[i].key)) != NULL && has_control(text))
			return invalid(error, "%s: control characters are not allowed",
			               keys->writable[i].key);
	}
	if (lookup_str(dict, VIGIL_RULE_KEY_TEXT) != NULL && g_variant_n_children(dict) != 1)
		return invalid(error, "text: give the rule either as text alone or as keys");
	return TRUE;
}

/* one keyword read as in a rules file: the error names the D-Bus key */
static VigilRule *
parse_fragment(const char *key, const char *keyword, const char *value, GError **error)
{
	g_autofree char *quoted = vigil_rule_quote(value);
	g_autofree char *line = g_strdup_printf("allow %s %s", keyword, quoted);
	g_autoptr(GError) local_error = NULL;
	/* a user name is looked up once the caller is authorised (vigil_rule_resolve_user) */
	VigilRule *rule = vigil_rule_parse_line_keep_names(line, &local_error);

	if (rule == NULL) {
		g_autofree char *message =
		    g_strdup(local_error != NULL ? local_error->message : "empty");
		char *shown = message;
		gsize len = strlen(keyword);

		/* the parser's messages start with its keyword: name the D-Bus key instead */
		if (g_str_has_prefix(message, keyword) && message[len] == ':')
			shown = message + len + 1;
		invalid(error, "%s: %s", key, g_strstrip(shown));
	}
	return rule;
}

/* one keyword's field from its dictionary string, read as in a rules file */
static gboolean
apply_string_key(VigilRule *rule, VigilRuleKeywordId id, const char *value, GError **error)
{
	const char *key = vigil_rule_keyword(id)->dbus_key;
	g_autoptr(GError) local_error = NULL;

	if (id == VIGIL_RULE_KW_PROTO && g_str_equal(value, "icmpv6"))
		return invalid(error, "proto: write 'icmp', which covers ICMPv6 too");
	if (!vigil_rule_set_keyword(rule, id, value, key, &local_error))
		return invalid(error, "%s", local_error->message);
	return TRUE;
}

static gboolean
apply_match_keys(VigilRule *rule, GVariant *dict, VigilRuleLookups *lookups, GError **error)
{
	const char *value;

	if ((value = lookup_str(dict, VIGIL_RULE_KEY_ACTION)) != NULL &&
	    !vigil_action_from_string(value, &rule->action))
		return invalid(error, "action: '%s' is not allow, deny or drop", value);
	for (guint i = 0; i < G_N_ELEMENTS(string_keywords); i++) {
		value = lookup_str(dict, vigil_rule_keyword(string_keywords[i])->dbus_key);
		if (value != NULL && !apply_string_key(rule, string_keywords[i], value, error))
			return FALSE;
	}
	/* looked at once the caller is authorised, with the caller's rights */
	if (lookup_str(dict, VIGIL_RULE_KEY_PROGRAM) != NULL)
		lookups->program =
		    rule->program != NULL && !g_str_equal(rule->program, VIGIL_PROGRAM_UNKNOWN);
	g_variant_lookup(dict, VIGIL_RULE_KEY_ENABLED, "b", &rule->enabled);
	g_variant_lookup(dict, VIGIL_RULE_KEY_CAPTURE, "b", &rule->capture);
	return TRUE;
}

static gboolean
apply_user_keys(VigilRule *rule, GVariant *dict, GError **error)
{
	const char *user = lookup_str(dict, VIGIL_RULE_KEY_USER);
	guint32 uid;

	if (user != NULL && g_variant_lookup(dict, VIGIL_RULE_KEY_UID, "u", &uid))
		return invalid(error, "user: give user or uid, not both");
	if (user != NULL) {
		g_autoptr(VigilRule) part = NULL;

		if (*user == '\0')
			return invalid(error, "user: empty (write 'all' or a user name)");
		part = parse_fragment(VIGIL_RULE_KEY_USER, "user", user, error);
		if (part == NULL)
			return FALSE;
		rule->all_users = part->all_users;
		rule->uid = part->uid;
		g_free(rule->user_name);
		rule->user_name = g_steal_pointer(&part->user_name);
	} else if (g_variant_lookup(dict, VIGIL_RULE_KEY_UID, "u", &uid)) {
		if (uid > MAX_UID)
			return invalid(error, "uid: %u is not a uid (0 to 4294967294)", uid);
		rule->all_users = FALSE;
		rule->uid = uid;
		g_clear_pointer(&rule->user_name, g_free);
	}
	return TRUE;
}

/* the process @pid of user @uid (any user when @any_user), and its start time */
static gboolean
check_quit_process(guint32 pid, guint32 uid, gboolean any_user, const char *proc_root,
                   guint64 *start_time, GError **error)
{
	g_autoptr(VigilProcess) process = NULL;
	VigilProcessStamp stamp;

	if (pid == 0 || !vigil_process_read_stamp(proc_root, pid, &stamp))
		return invalid(error, "pid: no process %u is running", pid);
	/* on the main loop: nothing the process can hold (its cmdline is not needed) */
	process = vigil_process_read_full(proc_root, pid, NULL, VIGIL_PROCESS_READ_NO_MEMORY, NULL);
	if (process == NULL || process->start_time != stamp.start_time)
		return invalid(error, "pid: no process %u is running", pid);
	if (!any_user && process->uid != uid)
		return invalid(error, "pid: process %u is not one of the rule's user's", pid);
	*start_time = stamp.start_time;
	return TRUE;
}

gboolean
vigil_rule_check_process(VigilRule *rule, const VigilRuleLookups *lookups, const char *proc_root,
                         GError **error)
{
	guint64 start_time = 0;

	if (!lookups->process)
		return TRUE;
	if (!check_quit_process(rule->pid, rule->uid, rule->all_users, proc_root, &start_time,
	                        error))
		return FALSE;
	if (lookups->start_time != 0 && start_time != lookups->start_time)
		return invalid(error, "until-quit: process %u has another start time", rule->pid);
	rule->pid_start_time = start_time;
	return TRUE;
}

static gboolean
apply_lifetime_keys(VigilRule *rule, GVariant *dict, VigilRuleLookups *lookups, GError **error)
{
	const char *lifetime = lookup_str(dict, VIGIL_RULE_KEY_LIFETIME);
	gboolean has_until, has_pid;
	gint64 until = 0;
	guint32 pid = 0;
	VigilLifetime wanted = rule->lifetime;

	has_until = g_variant_lookup(dict, VIGIL_RULE_KEY_UNTIL, "x", &until);
	has_pid = g_variant_lookup(dict, VIGIL_RULE_KEY_PID, "u", &pid);
	if (lifetime != NULL) {
		if (g_str_equal(lifetime, VIGIL_RULE_LIFETIME_FOREVER))
			wanted = VIGIL_LIFETIME_FOREVER;
		else if (g_str_equal(lifetime, VIGIL_RULE_LIFETIME_UNTIL))
			wanted = VIGIL_LIFETIME_UNTIL;
		else if (g_str_equal(lifetime, VIGIL_RULE_LIFETIME_UNTIL_QUIT))
			wanted = VIGIL_LIFETIME_PROCESS_EXIT;
		else
			return invalid(error, "lifetime: '%s' is not forever, until or until-quit",
			               lifetime);
	}
	if (has_until && wanted != VIGIL_LIFETIME_UNTIL)
		return invalid(error, "until: only with lifetime 'until'");
	if (has_pid && wanted != VIGIL_LIFETIME_PROCESS_EXIT)
		return invalid(error, "pid: only with lifetime 'until-quit'");
	if (wanted == VIGIL_LIFETIME_UNTIL && (has_until || rule->lifetime != wanted)) {
		if (!has_until)
			return invalid(error, "until: lifetime 'until' needs it");
		if (until <= g_get_real_time() / G_USEC_PER_SEC)
			return invalid(error, "until: %" G_GINT64_FORMAT " is not in the future",
			               until);
		rule->until = until;
	}
	if (wanted == VIGIL_LIFETIME_PROCESS_EXIT && (has_pid || rule->lifetime != wanted)) {
		if (!has_pid)
			return invalid(error, "pid: lifetime 'until-quit' needs it");
		/* the process is looked at once the caller is authorised */
		lookups->process = TRUE;
		lookups->start_time = 0;
		rule->pid = pid;
		rule->pid_start_time = 0;
	}
	if (wanted != VIGIL_LIFETIME_UNTIL)
		rule->until = 0;
	if (wanted != VIGIL_LIFETIME_PROCESS_EXIT) {
		rule->pid = 0;
		rule->pid_start_time = 0;
	}
	rule->lifetime = wanted;
	return TRUE;
}

static gboolean
check_whole(VigilRule *rule, GError **error)
{
	g_autoptr(GError) local_error = NULL;

	if (!vigil_rule_validate(rule, &local_error))
		return invalid(error, "%s", local_error->message);
	return TRUE;
}

static VigilRule *
rule_from_text(const char *text, VigilRuleLookups *lookups, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(VigilRule) rule = vigil_rule_parse_line_keep_names(text, &local_error);

	if (rule == NULL) {
		invalid(error, "text: %s",
		        local_error != NULL ? local_error->message : "there is no rule in it");
		return NULL;
	}
	if (rule->id != 0 || rule->created != 0 || rule->hits != 0 || rule->last_hit != 0) {
		invalid(error, "text: the state keywords id, created, hits and last-hit are not "
		               "allowed here");
		return NULL;
	}
	lookups->program =
	    rule->program != NULL && !g_str_equal(rule->program, VIGIL_PROGRAM_UNKNOWN);
	if (rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT) {
		lookups->process = TRUE;
		lookups->start_time = rule->pid_start_time;
	}
	return g_steal_pointer(&rule);
}

VigilRule *
vigil_rule_from_dict(GVariant *dict, guint32 caller_uid, VigilRuleLookups *lookups, GError **error)
{
	g_autoptr(VigilRule) rule = NULL;
	const char *text;

	*lookups = (VigilRuleLookups){0};
	if (!vigil_rule_check_dict(dict, error))
		return NULL;
	if ((text = lookup_str(dict, VIGIL_RULE_KEY_TEXT)) != NULL)
		return rule_from_text(text, lookups, error);
	if (lookup_str(dict, VIGIL_RULE_KEY_ACTION) == NULL) {
		invalid(error, "action: required (allow, deny or drop)");
		return NULL;
	}
	rule = vigil_rule_new();
	rule->all_users = FALSE;
	rule->uid = caller_uid;
	if (!apply_user_keys(rule, dict, error) || !apply_match_keys(rule, dict, lookups, error) ||
	    !apply_lifetime_keys(rule, dict, lookups, error) || !check_whole(rule, error))
		return NULL;
	return g_steal_pointer(&rule);
}

VigilRule *
vigil_rule_update_from_dict(const VigilRule *old, GVariant *changes, VigilRuleLookups *lookups,
                            GError **error)
{
	g_autoptr(VigilRule) rule = NULL;
	const char *text;

	*lookups = (VigilRuleLookups){0};
	if (!vigil_rule_check_dict(changes, error))
		return NULL;
	if ((text = lookup_str(changes, VIGIL_RULE_KEY_TEXT)) != NULL) {
		rule = rule_from_text(text, lookups, error);
		if (rule == NULL)
			return NULL;
		rule->enabled = old->enabled;
	} else {
		rule = vigil_rule_copy(old);
		g_clear_pointer(&rule->origin, g_free);
		if (!apply_user_keys(rule, changes, error) ||
		    !apply_match_keys(rule, changes, lookups, error) ||
		    !apply_lifetime_keys(rule, changes, lookups, error))
			return NULL;
	}
	rule->id = old->id;
	rule->created = old->created;
	rule->hits = old->hits;
	rule->last_hit = old->last_hit;
	if (!check_whole(rule, error))
		return NULL;
	return g_steal_pointer(&rule);
}

/* ---- import and export ---- */

GPtrArray *
vigil_rules_from_import(const char *text, GArray **lines_out, GError **error)
{
	g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) rules =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_rule_unref);
	g_auto(GStrv) text_lines = NULL;

	if (strlen(text) > VIGIL_IMPORT_MAX_BYTES) {
		g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
		            "text: more than %d bytes; import it in parts", VIGIL_IMPORT_MAX_BYTES);
		return NULL;
	}
	text_lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; text_lines[i] != NULL; i++) {
		g_autoptr(GError) local_error = NULL;
		g_autoptr(VigilRule) rule =
		    vigil_rule_parse_line_keep_names(text_lines[i], &local_error);
		guint line = i + 1;

		if (local_error != NULL) {
			invalid(error, "line %u: %s", i + 1, local_error->message);
			return NULL;
		}
		if (rule == NULL)
			continue;
		if (rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT) {
			invalid(error, "line %u: until-quit rules cannot be imported", i + 1);
			return NULL;
		}
		if (rules->len >= VIGIL_IMPORT_MAX_RULES) {
			g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
			            "text: more than %d rules; import them in parts",
			            VIGIL_IMPORT_MAX_RULES);
			return NULL;
		}
		/* each name costs a lookup in the user database, later: few per call */
		if (rule->user_name != NULL) {
			g_hash_table_add(names, rule->user_name);
			if (g_hash_table_size(names) > VIGIL_IMPORT_MAX_USERS) {
				g_set_error(
				    error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_LIMIT_EXCEEDED,
				    "line %u: more than %d user names; import them in parts", line,
				    VIGIL_IMPORT_MAX_USERS);
				return NULL;
			}
		}
		/* imported rules get new ids and counters */
		rule->id = 0;
		rule->created = 0;
		rule->hits = 0;
		rule->last_hit = 0;
		g_ptr_array_add(rules, g_steal_pointer(&rule));
		g_array_append_val(lines, line);
	}
	if (lines_out != NULL)
		*lines_out = g_steal_pointer(&lines);
	return g_steal_pointer(&rules);
}

char *
vigil_rules_export(GPtrArray *rules, guint32 uid)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "# Vigil rules exported by vigild %s at %s\n", VIGIL_VERSION,
	                       stamp);
	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree char *line = NULL;
		g_autofree char *name = NULL;

		if (rule->system || rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT ||
		    (uid != G_MAXUINT32 && !vigil_rule_visible_to(rule, uid)))
			continue;
		line = vigil_rule_to_string(rule, FALSE);
		/* rules for one user carry the user's name, which another machine knows */
		if (!rule->all_users && (name = vigil_user_name(rule->uid)) != NULL) {
			g_autofree char *uid_word = g_strdup_printf(" user %u", rule->uid);
			const char *after = strstr(line, uid_word);

			if (after != NULL) {
				g_autofree char *quoted = vigil_rule_quote(name);
				g_autofree char *head = g_strndup(line, (gsize)(after - line));

				g_string_append_printf(out, "%s user %s%s\n", head, quoted,
				                       after + strlen(uid_word));
				continue;
			}
		}
		g_string_append_printf(out, "%s\n", line);
	}
	return g_string_free(out, FALSE);
}

gboolean
vigil_rule_visible_to(const VigilRule *rule, guint32 uid)
{
	return uid == 0 || rule->all_users || rule->uid == uid;
}

gboolean
vigil_rule_is_own(const VigilRule *rule, guint32 uid)
{
	/* a name not yet looked up may name anyone */
	return !rule->all_users && rule->user_name == NULL && rule->uid == uid;
}

char **
vigil_rules_user_names(GPtrArray *rules)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (guint i = 0; i < rules->len; i++) {
		const VigilRule *rule = g_ptr_array_index(rules, i);

		if (rule->user_name != NULL &&
		    !g_ptr_array_find_with_equal_func(names, rule->user_name, g_str_equal, NULL))
			g_ptr_array_add(names, g_strdup(rule->user_name));
	}
	if (names->len == 0)
		return NULL;
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

gboolean
vigil_rule_resolve_user(VigilRule *rule, GHashTable *uids, GError **error)
{
	gpointer uid;

	if (rule->user_name == NULL)
		return TRUE;
	if (!g_hash_table_lookup_extended(uids, rule->user_name, NULL, &uid))
		return invalid(error, "user: unknown user '%s'", rule->user_name);
	if (GPOINTER_TO_UINT(uid) > MAX_UID)
		return invalid(error, "user: '%s' has uid %u, which no rule can name",
		               rule->user_name, GPOINTER_TO_UINT(uid));
	rule->uid = GPOINTER_TO_UINT(uid);
	g_clear_pointer(&rule->user_name, g_free);
	return TRUE;
}
