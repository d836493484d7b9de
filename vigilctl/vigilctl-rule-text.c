/* vigilctl-rule-text.c: the one-line rule text form as vigilctl handles it (docs/rules.md) */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vigil-dbus.h"
#include "vigilctl-output.h"
#include "vigilctl-rule-text.h"
#include "vigilctl.h"

static gboolean
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static gboolean
syntax_error(GError **error, const char *message)
{
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, "%s", message);
	return FALSE;
}

static gboolean
read_quoted(const char **pos, GString *word, GError **error)
{
	const char *p = *pos + 1;

	while (*p != '"') {
		if (*p == '\0')
			return syntax_error(error, _("a quoted value has no closing quote"));
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\')
				return syntax_error(error,
				                    _("only \\\" and \\\\ are escapes in quotes"));
		}
		g_string_append_c(word, *p++);
	}
	p++;
	if (*p != '\0' && !is_blank(*p) && *p != '#')
		return syntax_error(error, _("text right after a closing quote"));
	*pos = p;
	return TRUE;
}

GStrv
vigilctl_rule_text_split(const char *line, GError **error)
{
	g_autoptr(GStrvBuilder) words = g_strv_builder_new();
	const char *p = line;

	for (;;) {
		g_autoptr(GString) word = g_string_new(NULL);

		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (*p == '"') {
			if (!read_quoted(&p, word, error))
				return NULL;
		} else {
			while (*p != '\0' && !is_blank(*p) && *p != '#') {
				if (*p == '"') {
					syntax_error(
					    error,
					    _("a quote inside a word; quote the whole value"));
					return NULL;
				}
				g_string_append_c(word, *p++);
			}
		}
		g_strv_builder_add(words, word->str);
	}
	return g_strv_builder_end(words);
}

static gboolean
needs_quotes(const char *value)
{
	if (*value == '\0')
		return TRUE;
	for (const char *p = value; *p != '\0'; p++) {
		if (is_blank(*p) || *p == '#' || *p == '"' || *p == '\\')
			return TRUE;
	}
	return FALSE;
}

char *
vigilctl_rule_text_quote(const char *value)
{
	GString *out = NULL;

	if (!needs_quotes(value))
		return g_strdup(value);
	out = g_string_new("\"");
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
	return g_string_free(out, FALSE);
}

char *
vigilctl_rule_text_join(const char *const *words)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; words[i] != NULL; i++) {
		g_autofree char *quoted = vigilctl_rule_text_quote(words[i]);

		if (i > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, quoted);
	}
	return g_string_free(out, FALSE);
}

char *
vigilctl_rule_text_lookup(const char *line, const char *keyword, GError **error)
{
	g_auto(GStrv) words = vigilctl_rule_text_split(line, error);
	guint n = 0;

	if (words == NULL)
		return NULL;
	n = g_strv_length(words);
	/* words[0] is the action; "disabled" is the only keyword without a value */
	for (guint i = 1; i < n;) {
		if (g_strcmp0(words[i], "disabled") == 0) {
			if (g_strcmp0(keyword, "disabled") == 0)
				return g_strdup("");
			i++;
			continue;
		}
		if (g_strcmp0(words[i], keyword) == 0)
			return i + 1 < n ? g_strdup(words[i + 1]) : NULL;
		i += 2;
	}
	return NULL;
}

char *
vigilctl_rule_text_with_user(const char *line, guint32 uid, gboolean *had_user, GError **error)
{
	g_auto(GStrv) words = vigilctl_rule_text_split(line, error);
	g_autofree char *user = NULL;
	const char *p = line;
	const char *action_end = NULL;

	if (had_user != NULL)
		*had_user = FALSE;
	if (words == NULL)
		return NULL;
	if (words[0] == NULL) {
		syntax_error(error, _("the rule is empty"));
		return NULL;
	}
	user = vigilctl_rule_text_lookup(line, "user", NULL);
	if (user != NULL) {
		if (had_user != NULL)
			*had_user = TRUE;
		return g_strdup(line);
	}
	/* the action is a plain word (quoting it would make it an unknown action anyway) */
	while (is_blank(*p))
		p++;
	action_end = p;
	while (*action_end != '\0' && !is_blank(*action_end) && *action_end != '#')
		action_end++;
	return g_strdup_printf("%.*s user %" G_GUINT32_FORMAT "%s", (int)(action_end - line), line,
	                       uid, action_end);
}

gboolean
vigilctl_rule_text_is_all_users(const char *line)
{
	g_autofree char *user = vigilctl_rule_text_lookup(line, "user", NULL);

	return user == NULL || g_strcmp0(user, VIGIL_RULE_USER_ALL) == 0;
}

static void
append_pair(GString *out, const char *keyword, const char *value)
{
	g_string_append_c(out, ' ');
	g_string_append(out, keyword);
	if (value != NULL) {
		g_autofree char *quoted = vigilctl_rule_text_quote(value);

		g_string_append_c(out, ' ');
		g_string_append(out, quoted);
	}
}

static void
append_string_key(GString *out, GVariant *rule, const char *key, const char *keyword)
{
	const char *value = vigilctl_dict_string(rule, key);

	if (value != NULL && *value != '\0' && g_strcmp0(value, VIGIL_RULE_ANY) != 0)
		append_pair(out, keyword, value);
}

static void
append_user(GString *out, GVariant *rule)
{
	guint32 uid = 0;
	const char *user = vigilctl_dict_string(rule, VIGIL_RULE_KEY_USER);

	if (g_variant_lookup(rule, VIGIL_RULE_KEY_UID, "u", &uid)) {
		g_autofree char *text = g_strdup_printf("%" G_GUINT32_FORMAT, uid);

		append_pair(out, "user", text);
	} else if (user != NULL && g_strcmp0(user, VIGIL_RULE_USER_ALL) != 0) {
		append_pair(out, "user", user);
	}
}

static void
append_lifetime(GString *out, GVariant *rule)
{
	const char *lifetime = vigilctl_dict_string(rule, VIGIL_RULE_KEY_LIFETIME);
	gint64 until = 0;
	guint32 pid = 0;

	if (g_strcmp0(lifetime, VIGIL_RULE_LIFETIME_UNTIL) == 0 &&
	    g_variant_lookup(rule, VIGIL_RULE_KEY_UNTIL, "x", &until)) {
		g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(until);
		g_autofree char *text =
		    time != NULL ? g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ") : NULL;

		if (text != NULL)
			append_pair(out, "until", text);
	} else if (g_strcmp0(lifetime, VIGIL_RULE_LIFETIME_UNTIL_QUIT) == 0 &&
	           g_variant_lookup(rule, VIGIL_RULE_KEY_PID, "u", &pid)) {
		/* the dictionary has no start time: this names the process for people only */
		g_autofree char *text = g_strdup_printf("%" G_GUINT32_FORMAT, pid);

		append_pair(out, "until-quit", text);
	}
}

char *
vigilctl_rule_dict_to_text(GVariant *rule)
{
	const char *action = vigilctl_dict_string(rule, VIGIL_RULE_KEY_ACTION);
	GString *out = g_string_new(action != NULL ? action : "?");
	gboolean enabled = TRUE;

	/* the order of docs/rules.md's keyword table, which is vigild's canonical order */
	append_user(out, rule);
	append_string_key(out, rule, VIGIL_RULE_KEY_PROGRAM, "app");
	append_string_key(out, rule, VIGIL_RULE_KEY_SHA256, "sha256");
	append_string_key(out, rule, VIGIL_RULE_KEY_ARGS, "args");
	append_string_key(out, rule, VIGIL_RULE_KEY_APPID, "appid");
	append_string_key(out, rule, VIGIL_RULE_KEY_TO, "to");
	append_string_key(out, rule, VIGIL_RULE_KEY_PORT, "port");
	append_string_key(out, rule, VIGIL_RULE_KEY_PROTO, "proto");
	append_lifetime(out, rule);
	if (g_variant_lookup(rule, VIGIL_RULE_KEY_ENABLED, "b", &enabled) && !enabled)
		append_pair(out, "disabled", NULL);
	/* a note is free text: "any" is a note like any other */
	if (vigilctl_dict_string(rule, VIGIL_RULE_KEY_NOTE) != NULL)
		append_pair(out, "note", vigilctl_dict_string(rule, VIGIL_RULE_KEY_NOTE));
	return g_string_free(out, FALSE);
}
