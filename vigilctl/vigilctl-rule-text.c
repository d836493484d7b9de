/* vigilctl-rule-text.c: the one-line rule text form as vigilctl handles it (docs/rules.md) */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vigil-dbus.h"
#include "vigil-rule-syntax.h"
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

GStrv
vigilctl_rule_text_split(const char *line, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GPtrArray) words = vigil_rule_split_words(line, &local_error);

	if (words == NULL) {
		/* the words vigild reads, with its (translated) message */
		syntax_error(error, local_error->message);
		return NULL;
	}
	g_ptr_array_add(words, NULL);
	return (GStrv)g_ptr_array_free(g_steal_pointer(&words), FALSE);
}

char *
vigilctl_rule_text_join(const char *const *words)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; words[i] != NULL; i++) {
		g_autofree char *quoted = vigil_rule_quote(words[i]);

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
	/* words[0] is the action; a few keywords ("disabled") take no value */
	for (guint i = 1; i < n;) {
		const VigilRuleKeyword *kw = vigil_rule_keyword_lookup(words[i]);
		gboolean takes_value = kw == NULL || kw->takes_value;

		if (g_strcmp0(words[i], keyword) == 0)
			return !takes_value ? g_strdup("")
			       : i + 1 < n  ? g_strdup(words[i + 1])
			                    : NULL;
		i += takes_value ? 2 : 1;
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
		g_string_append_c(out, ' ');
		vigil_rule_append_value(out, value);
	}
}

/* keyword @id's value in the dictionary @rule as the text form writes it, or NULL */
static char *
dict_keyword_value(GVariant *rule, VigilRuleKeywordId id)
{
	const VigilRuleKeyword *kw = vigil_rule_keyword(id);
	const char *lifetime = vigilctl_dict_string(rule, VIGIL_RULE_KEY_LIFETIME);
	const char *text = NULL;
	gboolean enabled = TRUE, capture = FALSE;
	gint64 until = 0;
	guint32 number = 0;

	switch (id) {
	case VIGIL_RULE_KW_USER:
		if (g_variant_lookup(rule, VIGIL_RULE_KEY_UID, "u", &number))
			return g_strdup_printf("%" G_GUINT32_FORMAT, number);
		text = vigilctl_dict_string(rule, kw->dbus_key);
		return g_strcmp0(text, VIGIL_RULE_USER_ALL) != 0 ? g_strdup(text) : NULL;
	case VIGIL_RULE_KW_UNTIL:
		if (g_strcmp0(lifetime, VIGIL_RULE_LIFETIME_UNTIL) == 0 &&
		    g_variant_lookup(rule, kw->dbus_key, "x", &until)) {
			g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(until);

			return time != NULL ? g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ") : NULL;
		}
		return NULL;
	case VIGIL_RULE_KW_UNTIL_QUIT:
		/* the dictionary has no start time: this names the process for people only */
		if (g_strcmp0(lifetime, VIGIL_RULE_LIFETIME_UNTIL_QUIT) == 0 &&
		    g_variant_lookup(rule, kw->dbus_key, "u", &number))
			return g_strdup_printf("%" G_GUINT32_FORMAT, number);
		return NULL;
	case VIGIL_RULE_KW_DISABLED:
		g_variant_lookup(rule, kw->dbus_key, "b", &enabled);
		return enabled ? NULL : g_strdup("");
	case VIGIL_RULE_KW_CAPTURE:
		g_variant_lookup(rule, kw->dbus_key, "b", &capture);
		return capture ? g_strdup("") : NULL;
	case VIGIL_RULE_KW_NOTE:
		/* a note is free text: "any" is a note like any other */
		return g_strdup(vigilctl_dict_string(rule, kw->dbus_key));
	default:
		text = vigilctl_dict_string(rule, kw->dbus_key);
		if (text == NULL || *text == '\0' || g_strcmp0(text, VIGIL_RULE_ANY) == 0)
			return NULL;
		return g_strdup(text);
	}
}

char *
vigilctl_rule_dict_to_text(GVariant *rule)
{
	const char *action = vigilctl_dict_string(rule, VIGIL_RULE_KEY_ACTION);
	GString *out = g_string_new(action != NULL ? action : "?");

	/* the keyword table's order, which is vigild's canonical order; no state */
	for (guint id = 0; id < VIGIL_RULE_N_KEYWORDS; id++) {
		const VigilRuleKeyword *kw = vigil_rule_keyword(id);
		g_autofree char *value = NULL;

		if (kw->state)
			continue;
		value = dict_keyword_value(rule, id);
		if (value != NULL)
			append_pair(out, kw->name, kw->takes_value ? value : NULL);
	}
	return g_string_free(out, FALSE);
}
