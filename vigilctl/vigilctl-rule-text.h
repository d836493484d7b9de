/* vigilctl-rule-text.h: the one-line rule text form as vigilctl handles it (docs/rules.md) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The words of a rule line, read as vigild reads them (vigil_rule_split_words()): quoted
 * values unquoted, a "#" outside quotes ends the line. Empty for a blank or comment line; a
 * VIGILCTL_ERROR_USAGE for an unbalanced quote. vigild checks everything else: vigilctl only
 * needs to find keywords.
 */
GStrv vigilctl_rule_text_split(const char *line, GError **error);

/* command-line words as one rule line, each quoted as needed: `add allow app "/opt/My App"` */
char *vigilctl_rule_text_join(const char *const *words);

/*
 * The value of @keyword in the line (NULL when the line does not have it): the line is the
 * action followed by keyword/value pairs, where "disabled" has no value.
 */
char *vigilctl_rule_text_lookup(const char *line, const char *keyword, GError **error);

/*
 * The line with "user UID" after its action, when it names no user (a line without a
 * user keyword is for all users); an unchanged copy when it already names one.
 */
char *vigilctl_rule_text_with_user(const char *line, guint32 uid, gboolean *had_user,
                                   GError **error);

/* TRUE when the line's rule applies to all users: no user keyword, or "user all" */
gboolean vigilctl_rule_text_is_all_users(const char *line);

/*
 * A rule dictionary (GetRules()) as a line of the text form, keywords in canonical order:
 * what vigilctl shows when the dictionary has no text key.
 */
char *vigilctl_rule_dict_to_text(GVariant *rule);

G_END_DECLS
