/* vigil-tray-preferences-page.c: DefaultAction, PromptTimeout, FailMode, the user's defaults
 * for the prompt (duration, destination, default button) and the silent mode */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-tray-preferences-page.h"

struct _VigilTrayPreferencesPage {
	VigilTrayPage parent;

	gboolean loading; /* filling the fields: not the user's edit */

	GtkLabel *admin_label;
	GtkWidget *config_grid;
	GtkComboBoxText *default_action_combo;
	GtkSpinButton *timeout_spin;
	GtkComboBoxText *fail_mode_combo;
	GtkWidget *apply_button;
	GtkComboBoxText *duration_combo;
	GtkComboBoxText *host_combo;
	GtkComboBoxText *verdict_combo;
	GtkToggleButton *silent_check;
	GtkComboBoxText *silent_combo;
	GtkLabel *status_label;
};

enum { SIGNAL_SILENT_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(VigilTrayPreferencesPage, vigil_tray_preferences_page, VIGIL_TYPE_TRAY_PAGE)

static const char *
combo_id(GtkComboBoxText *combo)
{
	return gtk_combo_box_get_active_id(GTK_COMBO_BOX(combo));
}

/* the settings the user changed, keyed as SetConfig() wants them; NULL when none */
static GVariant *
changes(VigilTrayPreferencesPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	GVariantBuilder b;
	guint timeout = (guint)gtk_spin_button_get_value_as_int(self->timeout_spin);
	gboolean any = FALSE;

	if (firewall == NULL)
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	if (g_strcmp0(combo_id(self->default_action_combo),
	              vigil_firewall_get_default_action(firewall)) != 0) {
		g_variant_builder_add(&b, "{sv}", VIGIL_CONFIG_KEY_DEFAULT_ACTION,
		                      g_variant_new_string(combo_id(self->default_action_combo)));
		any = TRUE;
	}
	if (timeout != vigil_firewall_get_prompt_timeout(firewall)) {
		g_variant_builder_add(&b, "{sv}", VIGIL_CONFIG_KEY_PROMPT_TIMEOUT,
		                      g_variant_new_uint32(timeout));
		any = TRUE;
	}
	if (g_strcmp0(combo_id(self->fail_mode_combo), vigil_firewall_get_fail_mode(firewall)) !=
	    0) {
		g_variant_builder_add(&b, "{sv}", VIGIL_CONFIG_KEY_FAIL_MODE,
		                      g_variant_new_string(combo_id(self->fail_mode_combo)));
		any = TRUE;
	}
	if (!any) {
		g_variant_builder_clear(&b);
		return NULL;
	}
	return g_variant_builder_end(&b);
}

static void
config_edited(VigilTrayPreferencesPage *self)
{
	g_autoptr(GVariant) changed = NULL;

	if (self->loading)
		return;
	changed = changes(self);
	if (changed != NULL)
		g_variant_ref_sink(changed);
	gtk_widget_set_sensitive(self->apply_button, changed != NULL);
}

/* the fields from vigild's properties, and what the user may change */
static void
load(VigilTrayPreferencesPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	const char *configure;

	self->loading = TRUE;
	if (firewall == NULL) {
		gtk_label_set_text(self->admin_label, _("Vigil is not running."));
		gtk_widget_set_sensitive(self->config_grid, FALSE);
		gtk_widget_set_sensitive(self->apply_button, FALSE);
		self->loading = FALSE;
		return;
	}
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->default_action_combo),
	                            vigil_firewall_get_default_action(firewall));
	gtk_spin_button_set_value(self->timeout_spin, vigil_firewall_get_prompt_timeout(firewall));
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->fail_mode_combo),
	                            vigil_firewall_get_fail_mode(firewall));
	configure = vigil_tray_client_get_permission(VIGIL_TRAY_PAGE_CLIENT(self),
	                                             VIGIL_POLKIT_ACTION_CONFIGURE);
	if (g_strcmp0(configure, VIGIL_PERMISSION_YES) == 0)
		gtk_label_set_text(self->admin_label, _("These settings apply to all users."));
	else if (g_strcmp0(configure, VIGIL_PERMISSION_AUTH) == 0)
		gtk_label_set_text(self->admin_label,
		                   _("These settings apply to all users: changing them asks for "
		                     "an administrator's password."));
	else
		gtk_label_set_text(self->admin_label,
		                   _("These settings apply to all users: only an administrator "
		                     "can change them."));
	gtk_widget_set_sensitive(self->config_grid, g_strcmp0(configure, VIGIL_PERMISSION_NO) != 0);
	gtk_widget_set_sensitive(self->apply_button, FALSE);
	self->loading = FALSE;
}

static void
apply_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayPreferencesPage) self = user_data;
	g_autoptr(GError) error = NULL;

	if (!vigil_firewall_call_set_config_finish(VIGIL_FIREWALL(source), res, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_dbus_error_strip_remote_error(error);
		gtk_label_set_text(self->status_label, error->message);
		config_edited(self);
		return;
	}
	gtk_label_set_text(self->status_label, _("Saved."));
	gtk_widget_set_sensitive(self->apply_button, FALSE);
}

static void
apply_clicked(VigilTrayPreferencesPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	GVariant *changed = changes(self);

	if (firewall == NULL || changed == NULL)
		return;
	gtk_widget_set_sensitive(self->apply_button, FALSE);
	gtk_label_set_text(self->status_label, "");
	/* polkit may ask for an administrator's password first */
	vigil_firewall_call_set_config(
	    firewall, changed, G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT,
	    VIGIL_TRAY_PAGE_CANCELLABLE(self), apply_cb, g_object_ref(self));
}

/* the user's own: written at once (no Apply), for the tray's prompts and vigilctl prompt */
static void
duration_edited(VigilTrayPreferencesPage *self)
{
	VigilClientDuration duration;
	g_autoptr(GError) error = NULL;

	if (self->loading ||
	    !vigil_client_duration_from_id(combo_id(self->duration_combo), &duration))
		return;
	if (!vigil_client_prefs_set_duration(duration, &error))
		gtk_label_set_text(self->status_label, error->message);
}

static void
host_edited(VigilTrayPreferencesPage *self)
{
	VigilClientHostScope scope;
	g_autoptr(GError) error = NULL;

	if (self->loading || !vigil_client_host_scope_from_id(combo_id(self->host_combo), &scope))
		return;
	if (!vigil_client_prefs_set_host_scope(scope, &error))
		gtk_label_set_text(self->status_label, error->message);
}

static void
verdict_edited(VigilTrayPreferencesPage *self)
{
	g_autoptr(GError) error = NULL;

	if (self->loading || combo_id(self->verdict_combo) == NULL)
		return;
	if (!vigil_client_prefs_set_verdict(combo_id(self->verdict_combo), &error))
		gtk_label_set_text(self->status_label, error->message);
}

/* the user's own defaults for the prompt, as stored */
static void
load_prompt_defaults(VigilTrayPreferencesPage *self)
{
	self->loading = TRUE;
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->duration_combo),
	                            vigil_client_duration_to_id(vigil_client_prefs_get_duration()));
	gtk_combo_box_set_active_id(
	    GTK_COMBO_BOX(self->host_combo),
	    vigil_client_host_scope_to_id(vigil_client_prefs_get_host_scope()));
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->verdict_combo),
	                            vigil_client_prefs_get_verdict());
	self->loading = FALSE;
}

static void
silent_edited(VigilTrayPreferencesPage *self)
{
	gboolean on = gtk_toggle_button_get_active(self->silent_check);

	gtk_widget_set_sensitive(GTK_WIDGET(self->silent_combo), on);
	if (self->loading)
		return;
	g_signal_emit(self, signals[SIGNAL_SILENT_CHANGED], 0,
	              on ? combo_id(self->silent_combo) : NULL);
}

void
vigil_tray_preferences_page_set_silent(VigilTrayPreferencesPage *self, const char *verdict)
{
	g_return_if_fail(VIGIL_IS_TRAY_PREFERENCES_PAGE(self));

	self->loading = TRUE;
	gtk_toggle_button_set_active(self->silent_check, verdict != NULL);
	if (verdict != NULL)
		gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->silent_combo), verdict);
	gtk_widget_set_sensitive(GTK_WIDGET(self->silent_combo), verdict != NULL);
	self->loading = FALSE;
}

static void
client_changed(VigilTrayClient *client, VigilTrayPreferencesPage *self)
{
	/* vigild's values, unless the user is editing them */
	if (!gtk_widget_get_sensitive(self->apply_button))
		load(self);
}

static void
preferences_shown(VigilTrayPage *page)
{
	VigilTrayPreferencesPage *self = VIGIL_TRAY_PREFERENCES_PAGE(page);

	gtk_label_set_text(self->status_label, "");
	load(self);
	load_prompt_defaults(self);
	vigil_tray_client_refresh_permissions(VIGIL_TRAY_PAGE_CLIENT(self));
}

static void
vigil_tray_preferences_page_class_init(VigilTrayPreferencesPageClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	VIGIL_TRAY_PAGE_CLASS(klass)->shown = preferences_shown;
	signals[SIGNAL_SILENT_CHANGED] =
	    g_signal_new("silent-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
	                 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
	gtk_widget_class_set_template_from_resource(
	    widget_class, "/org/vigil/Tray/vigil-tray-preferences-page.ui");
#define BIND(name)                                                                                 \
	gtk_widget_class_bind_template_child(widget_class, VigilTrayPreferencesPage, name)
	BIND(admin_label);
	BIND(config_grid);
	BIND(default_action_combo);
	BIND(timeout_spin);
	BIND(fail_mode_combo);
	BIND(apply_button);
	BIND(duration_combo);
	BIND(host_combo);
	BIND(verdict_combo);
	BIND(silent_check);
	BIND(silent_combo);
	BIND(status_label);
#undef BIND
	gtk_widget_class_bind_template_callback(widget_class, config_edited);
	gtk_widget_class_bind_template_callback(widget_class, apply_clicked);
	gtk_widget_class_bind_template_callback(widget_class, silent_edited);
	gtk_widget_class_bind_template_callback(widget_class, duration_edited);
	gtk_widget_class_bind_template_callback(widget_class, host_edited);
	gtk_widget_class_bind_template_callback(widget_class, verdict_edited);
}

static void
vigil_tray_preferences_page_init(VigilTrayPreferencesPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	vigil_tray_preferences_page_set_silent(self, NULL);
}

VigilTrayPreferencesPage *
vigil_tray_preferences_page_new(VigilTrayClient *client)
{
	VigilTrayPreferencesPage *self = g_object_new(VIGIL_TYPE_TRAY_PREFERENCES_PAGE, NULL);

	vigil_tray_page_set_client(VIGIL_TRAY_PAGE(self), client);
	g_signal_connect(client, "changed", G_CALLBACK(client_changed), self);
	return self;
}
