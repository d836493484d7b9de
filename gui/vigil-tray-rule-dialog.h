/* vigil-tray-rule-dialog.h: a dialog with a rule's fields, to add or edit one */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_TRAY_RULE_DIALOG (vigil_tray_rule_dialog_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayRuleDialog, vigil_tray_rule_dialog, VIGIL, TRAY_RULE_DIALOG,
                     GtkDialog)

/* @rule: a rule dictionary (GetRules) to edit, or NULL for a new rule; @may_all_users: the
 * user may make rules for all users (else the check box is insensitive) */
VigilTrayRuleDialog *vigil_tray_rule_dialog_new(GtkWindow *parent, GVariant *rule,
                                                gboolean may_all_users);

/* the writable keys of AddRule()/UpdateRule() from the fields (a floating a{sv}); an empty
 * field means any, given as "" so that an edit can clear it */
GVariant *vigil_tray_rule_dialog_get_rule(VigilTrayRuleDialog *self);
/* the rule is to capture packets (an allow rule with "Capture packets" checked) */
gboolean vigil_tray_rule_dialog_get_capture(VigilTrayRuleDialog *self);

/* while @busy (vigild decides on the rule) Save is insensitive; a new Save hides the last
 * refusal */
void vigil_tray_rule_dialog_set_busy(VigilTrayRuleDialog *self, gboolean busy);
gboolean vigil_tray_rule_dialog_get_busy(VigilTrayRuleDialog *self);

/* vigild refused the rule: @message shows in the dialog (and to assistive technologies),
 * the fields keep what was typed and Save is sensitive again */
void vigil_tray_rule_dialog_show_error(VigilTrayRuleDialog *self, const char *message);

G_END_DECLS
