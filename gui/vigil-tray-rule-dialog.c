/* vigil-tray-rule-dialog.c: a rule's fields, read into and out of rule dictionaries */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include "vigil-dbus.h"
#include "vigil-rule-syntax.h" /* the protocol table */
#include "vigil-tray-rule-dialog.h"

struct _VigilTrayRuleDialog {
	GtkDialog parent;

	gboolean editing;
	GtkComboBoxText *action_combo;
	GtkEntry *program_entry;
	GtkEntry *to_entry;
	GtkEntry *port_entry;
	GtkComboBoxText *proto_combo;
	GtkEntry *note_entry;
	GtkToggleButton *capture_check;
	GtkToggleButton *all_users_check;
	GtkWidget *error_bar;
	GtkLabel *error_label;
	gboolean busy;
};

G_DEFINE_TYPE(VigilTrayRuleDialog, vigil_tray_rule_dialog, GTK_TYPE_DIALOG)

static void
set_entry(GtkEntry *entry, GVariant *rule, const char *key)
{
	const char *value = NULL;

	if (g_variant_lookup(rule, key, "&s", &value))
		gtk_entry_set_text(entry, value);
}

static void
add_text(GVariantBuilder *b, const char *key, GtkEntry *entry)
{
	g_autofree char *text = g_strstrip(g_strdup(gtk_entry_get_text(entry)));

	g_variant_builder_add(b, "{sv}", key, g_variant_new_string(text));
}

static gboolean
is_allow(VigilTrayRuleDialog *self)
{
	return g_strcmp0(gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->action_combo)), "allow") ==
	       0;
}

/* only what an allow rule lets through can be recorded */
static void
action_changed(VigilTrayRuleDialog *self)
{
	if (self->capture_check != NULL)
		gtk_widget_set_sensitive(GTK_WIDGET(self->capture_check), is_allow(self));
}

GVariant *
vigil_tray_rule_dialog_get_rule(VigilTrayRuleDialog *self)
{
	GVariantBuilder b;
	const char *proto = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->proto_combo));

	g_return_val_if_fail(VIGIL_IS_TRAY_RULE_DIALOG(self), NULL);

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(
	    &b, "{sv}", VIGIL_RULE_KEY_ACTION,
	    g_variant_new_string(gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->action_combo))));
	add_text(&b, VIGIL_RULE_KEY_PROGRAM, self->program_entry);
	add_text(&b, VIGIL_RULE_KEY_TO, self->to_entry);
	add_text(&b, VIGIL_RULE_KEY_PORT, self->port_entry);
	g_variant_builder_add(
	    &b, "{sv}", VIGIL_RULE_KEY_PROTO,
	    g_variant_new_string(g_strcmp0(proto, "any") == 0 || proto == NULL ? "" : proto));
	add_text(&b, VIGIL_RULE_KEY_NOTE, self->note_entry);
	/* always sent: an edit to another action turns capture off (vigild refuses it on deny) */
	g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_CAPTURE,
	                      g_variant_new_boolean(vigil_tray_rule_dialog_get_capture(self)));
	/* who the rule is for is chosen when it is made; an edit keeps it */
	if (!self->editing && gtk_toggle_button_get_active(self->all_users_check))
		g_variant_builder_add(&b, "{sv}", VIGIL_RULE_KEY_USER,
		                      g_variant_new_string(VIGIL_RULE_USER_ALL));
	return g_variant_builder_end(&b);
}

gboolean
vigil_tray_rule_dialog_get_capture(VigilTrayRuleDialog *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_RULE_DIALOG(self), FALSE);

	return is_allow(self) && gtk_toggle_button_get_active(self->capture_check);
}

void
vigil_tray_rule_dialog_set_busy(VigilTrayRuleDialog *self, gboolean busy)
{
	g_return_if_fail(VIGIL_IS_TRAY_RULE_DIALOG(self));

	self->busy = busy;
	/* a second Save while vigild decides would send the rule twice */
	gtk_dialog_set_response_sensitive(GTK_DIALOG(self), GTK_RESPONSE_OK, !busy);
	if (busy) {
		/* a new try: the last refusal no longer applies */
		gtk_widget_hide(self->error_bar);
		gtk_label_set_text(self->error_label, "");
		atk_object_set_description(gtk_widget_get_accessible(GTK_WIDGET(self)), "");
	}
}

gboolean
vigil_tray_rule_dialog_get_busy(VigilTrayRuleDialog *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_RULE_DIALOG(self), FALSE);

	return self->busy;
}

void
vigil_tray_rule_dialog_show_error(VigilTrayRuleDialog *self, const char *message)
{
	g_return_if_fail(VIGIL_IS_TRAY_RULE_DIALOG(self));
	g_return_if_fail(message != NULL);

	vigil_tray_rule_dialog_set_busy(self, FALSE);
	gtk_label_set_text(self->error_label, message);
	/* the bar is a notification: a screen reader reads it out when it starts to show, so it
	 * shows anew for each refusal (hidden first), even while the last one showed */
	gtk_widget_hide(self->error_bar);
	gtk_widget_show(self->error_bar);
	/* and it describes the dialog while it applies, for whoever reads the dialog again */
	atk_object_set_description(gtk_widget_get_accessible(GTK_WIDGET(self)), message);
}

static void
vigil_tray_rule_dialog_class_init(VigilTrayRuleDialogClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	gtk_widget_class_set_template_from_resource(widget_class,
	                                            "/org/vigil/Tray/vigil-tray-rule-dialog.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, VigilTrayRuleDialog, name)
	BIND(action_combo);
	BIND(program_entry);
	BIND(to_entry);
	BIND(port_entry);
	BIND(proto_combo);
	BIND(note_entry);
	BIND(capture_check);
	BIND(all_users_check);
	BIND(error_bar);
	BIND(error_label);
#undef BIND
	gtk_widget_class_bind_template_callback(widget_class, action_changed);
}

/* after "Any", every protocol a rule may name, from the one table vigild parses with */
static void
add_protocols(GtkComboBoxText *combo)
{
	gsize n = 0;
	const VigilProtocol *protocols = vigil_protocols(&n);

	for (gsize i = 0; i < n; i++) {
		if (protocols[i].in_rules)
			gtk_combo_box_text_append(combo, protocols[i].name, protocols[i].label);
	}
}

static void
vigil_tray_rule_dialog_init(VigilTrayRuleDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	add_protocols(self->proto_combo);
	atk_object_set_role(gtk_widget_get_accessible(self->error_bar), ATK_ROLE_NOTIFICATION);
}

VigilTrayRuleDialog *
vigil_tray_rule_dialog_new(GtkWindow *parent, GVariant *rule, gboolean may_all_users)
{
	VigilTrayRuleDialog *self = g_object_new(VIGIL_TYPE_TRAY_RULE_DIALOG, "transient-for",
	                                         parent, "use-header-bar", FALSE, NULL);
	const char *value = NULL;
	gboolean capture = FALSE;

	gtk_widget_set_sensitive(GTK_WIDGET(self->all_users_check), may_all_users);
	if (rule == NULL)
		return self;
	self->editing = TRUE;
	if (g_variant_lookup(rule, VIGIL_RULE_KEY_ACTION, "&s", &value))
		gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->action_combo), value);
	set_entry(self->program_entry, rule, VIGIL_RULE_KEY_PROGRAM);
	set_entry(self->to_entry, rule, VIGIL_RULE_KEY_TO);
	set_entry(self->port_entry, rule, VIGIL_RULE_KEY_PORT);
	set_entry(self->note_entry, rule, VIGIL_RULE_KEY_NOTE);
	if (g_variant_lookup(rule, VIGIL_RULE_KEY_PROTO, "&s", &value))
		gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->proto_combo), value);
	if (g_variant_lookup(rule, VIGIL_RULE_KEY_CAPTURE, "b", &capture))
		gtk_toggle_button_set_active(self->capture_check, capture);
	if (g_variant_lookup(rule, VIGIL_RULE_KEY_USER, "&s", &value))
		gtk_toggle_button_set_active(self->all_users_check,
		                             g_strcmp0(value, VIGIL_RULE_USER_ALL) == 0);
	gtk_widget_set_sensitive(GTK_WIDGET(self->all_users_check), FALSE);
	return self;
}
