/* vigil-tray-rules-page.c: the user's and the system's rules, grouped by program, with editing */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "vigil-format.h"
#include "vigil-tray-rule-dialog.h"
#include "vigil-tray-rules-page.h"
#include "vigil-text.h"

/* hit counts change without RulesChanged: read them again this often while shown */
#define REFRESH_SECONDS 5

enum {
	COL_ID,
	COL_ENABLED,
	COL_ICON,
	COL_TITLE,
	COL_ACTION,
	COL_TO,
	COL_PORT,
	COL_PROTO,
	COL_USER,
	COL_EXPIRES,
	COL_HITS,
	COL_LAST_HIT,
	COL_TOOLTIP,
	COL_MAY_CHANGE,
	COL_NEEDS_ADMIN,
	COL_IS_RULE,
	COL_SEARCH,
	COL_TEXT,
};

struct _VigilTrayRulesPage {
	VigilTrayPage parent;

	VigilTrayAppIndex *apps;
	GHashTable *rules; /* id -> rule dictionary */
	gulong rules_changed_id;

	GtkTreeStore *store;
	GtkTreeModelFilter *filter;
	GtkTreeView *view;
	GtkSearchEntry *search_entry;
	GtkWidget *add_button;
	GtkWidget *edit_button;
	GtkWidget *remove_button;
	GtkWidget *import_button;
	GtkWidget *export_button;
	GtkLabel *status_label;
	GtkNativeDialog *chooser; /* the import or export file chooser while it is open */
	gboolean status_is_outcome;
};

G_DEFINE_TYPE(VigilTrayRulesPage, vigil_tray_rules_page, VIGIL_TYPE_TRAY_PAGE)

/* the status line says how the user's last change went (an error, "Rule 4 added") until the
 * next change, so that the list's refreshes do not wipe it before it is read */
static void
set_status(VigilTrayRulesPage *self, const char *text)
{
	gtk_label_set_text(self->status_label, text != NULL ? text : "");
	self->status_is_outcome = TRUE;
}

/* else the state: the number of rules, or why there are none */
static void
set_state(VigilTrayRulesPage *self, const char *text)
{
	gtk_label_set_text(self->status_label, text);
	self->status_is_outcome = FALSE;
}

static gboolean
permitted(VigilTrayRulesPage *self, const char *action)
{
	return vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self)) != NULL &&
	       g_strcmp0(vigil_tray_client_get_permission(VIGIL_TRAY_PAGE_CLIENT(self), action),
	                 VIGIL_PERMISSION_NO) != 0;
}

/* a rule for the caller alone needs manage-own-rules, any other manage-all-rules */
static gboolean
is_own_rule(GVariant *rule)
{
	guint32 uid;

	return g_variant_lookup(rule, VIGIL_RULE_KEY_UID, "u", &uid) && uid == getuid();
}

static const char *
lookup_s(GVariant *rule, const char *key, const char *fallback)
{
	const char *value = NULL;

	return g_variant_lookup(rule, key, "&s", &value) ? value : fallback;
}

static char *
expires_text(GVariant *rule)
{
	const char *lifetime = lookup_s(rule, VIGIL_RULE_KEY_LIFETIME, VIGIL_RULE_LIFETIME_FOREVER);
	gint64 until = 0;
	guint32 pid = 0;

	if (g_strcmp0(lifetime, VIGIL_RULE_LIFETIME_UNTIL) == 0 &&
	    g_variant_lookup(rule, VIGIL_RULE_KEY_UNTIL, "x", &until))
		return vigil_format_time_us(until * G_USEC_PER_SEC, g_get_real_time());
	if (g_strcmp0(lifetime, VIGIL_RULE_LIFETIME_UNTIL_QUIT) == 0 &&
	    g_variant_lookup(rule, VIGIL_RULE_KEY_PID, "u", &pid))
		/* TRANSLATORS: the rule ends when process 4242 exits */
		return g_strdup_printf(_("when %u quits"), pid);
	return g_strdup(_("never"));
}

/* a program's group: its path, with the name and icon of the system .desktop file that runs
 * it; never a name the user's own files or an app id give it (see vigil-tray-program-info.h) */
static GIcon *
program_icon(VigilTrayRulesPage *self, const char *program, char **name)
{
	g_autoptr(VigilAppMatch) match = NULL;
	g_autofree char *path = NULL;

	if (program == NULL) {
		*name = g_strdup(_("Any program"));
		return g_themed_icon_new("network-workgroup");
	}
	match = vigil_tray_app_index_lookup(self->apps, program, NULL);
	path = vigil_text_sanitize(program, VIGIL_TEXT_MAX_LINE);
	if (match->app != NULL && g_app_info_get_icon(G_APP_INFO(match->app)) != NULL) {
		g_autofree char *app_name = vigil_text_sanitize(
		    g_app_info_get_display_name(G_APP_INFO(match->app)), VIGIL_TEXT_MAX_NAME);

		/* TRANSLATORS: an application's name and its executable */
		*name = g_strdup_printf(_("%s — %s"), app_name, path);
		return g_object_ref(g_app_info_get_icon(G_APP_INFO(match->app)));
	}
	*name = g_steal_pointer(&path);
	return g_themed_icon_new("application-x-executable");
}

/* a rule's field as the list shows it */
static char *
shown_field(GVariant *rule, const char *key, const char *fallback)
{
	const char *value = NULL;

	if (!g_variant_lookup(rule, key, "&s", &value))
		return g_strdup(fallback);
	return vigil_text_sanitize(value, VIGIL_TEXT_MAX_LINE);
}

static void
add_rule_row(VigilTrayRulesPage *self, GtkTreeIter *parent, guint64 id, GVariant *rule,
             const char *program_title)
{
	gboolean system = FALSE;
	gboolean enabled = TRUE;
	guint64 hits = 0;
	gint64 last_hit = 0;
	const char *text = lookup_s(rule, VIGIL_RULE_KEY_TEXT, "");
	g_autofree char *shown_text = vigil_text_sanitize(text, VIGIL_TEXT_MAX_LONG);
	const char *user = lookup_s(rule, VIGIL_RULE_KEY_USER, "");
	g_autofree char *shown_user = vigil_text_sanitize(user, VIGIL_TEXT_MAX_NAME);
	g_autofree char *to = shown_field(rule, VIGIL_RULE_KEY_TO, _("any"));
	g_autofree char *port = shown_field(rule, VIGIL_RULE_KEY_PORT, _("any"));
	g_autofree char *proto = shown_field(rule, VIGIL_RULE_KEY_PROTO, _("any"));
	const char *note = lookup_s(rule, VIGIL_RULE_KEY_NOTE, NULL);
	const char *origin = lookup_s(rule, VIGIL_RULE_KEY_ORIGIN, NULL);
	const char *action = lookup_s(rule, VIGIL_RULE_KEY_ACTION, "");
	g_autofree char *expires = expires_text(rule);
	g_autofree char *hits_text = NULL;
	g_autofree char *last = NULL;
	g_autofree char *tooltip = NULL;
	g_autofree char *search = NULL;
	gboolean own = is_own_rule(rule);
	gboolean may;

	g_variant_lookup(rule, VIGIL_RULE_KEY_SYSTEM, "b", &system);
	g_variant_lookup(rule, VIGIL_RULE_KEY_ENABLED, "b", &enabled);
	g_variant_lookup(rule, VIGIL_RULE_KEY_HITS, "t", &hits);
	g_variant_lookup(rule, VIGIL_RULE_KEY_LAST_HIT, "x", &last_hit);
	may = !system && permitted(self, own ? VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES
	                                     : VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES);
	hits_text = g_strdup_printf("%" G_GUINT64_FORMAT, hits);
	last = last_hit > 0 ? vigil_format_time_us(last_hit * G_USEC_PER_SEC, g_get_real_time())
	                    : g_strdup(_("never"));
	if (system) {
		g_autofree char *where = vigil_text_sanitize(
		    origin != NULL ? origin : "/etc/vigil/rules.d", VIGIL_TEXT_MAX_LINE);
		/* TRANSLATORS: where a system rule was read from, e.g.
		 * /etc/vigil/rules.d/50.rules:3 */
		g_autofree char *plain =
		    g_strdup_printf(_("A system rule from %s: change it there"), where);

		/* the tooltip column is markup */
		tooltip = g_markup_escape_text(plain, -1);
	} else if (note != NULL) {
		g_autofree char *shown_note = vigil_text_sanitize(note, VIGIL_TEXT_MAX_LONG);

		tooltip = g_markup_escape_text(shown_note, -1);
	}
	search = g_utf8_casefold(program_title != NULL ? program_title : "", -1);
	{
		g_autofree char *lower = g_utf8_casefold(shown_text, -1);
		g_autofree char *both = g_strconcat(search, " ", lower, NULL);

		g_free(search);
		search = g_steal_pointer(&both);
	}
	gtk_tree_store_insert_with_values(
	    self->store, NULL, parent, -1, COL_ID, id, COL_ENABLED, enabled, COL_TITLE, shown_text,
	    COL_ACTION, vigil_format_verdict(action), COL_TO, to, COL_PORT, port, COL_PROTO, proto,
	    COL_USER, g_strcmp0(user, VIGIL_RULE_USER_ALL) == 0 ? _("all users") : shown_user,
	    COL_EXPIRES, expires, COL_HITS, hits_text, COL_LAST_HIT, last, COL_TOOLTIP, tooltip,
	    COL_MAY_CHANGE, may, COL_NEEDS_ADMIN, system || !own, COL_IS_RULE, TRUE, COL_SEARCH,
	    search, COL_TEXT, text, -1);
}

static guint64
selected_id(VigilTrayRulesPage *self)
{
	GtkTreeModel *model;
	GtkTreeIter iter;
	guint64 id = 0;
	gboolean is_rule = FALSE;

	if (!gtk_tree_selection_get_selected(gtk_tree_view_get_selection(self->view), &model,
	                                     &iter))
		return 0;
	gtk_tree_model_get(model, &iter, COL_ID, &id, COL_IS_RULE, &is_rule, -1);
	return is_rule ? id : 0;
}

static gboolean
select_id(GtkTreeModel *model, GtkTreePath *path, GtkTreeIter *iter, gpointer user_data)
{
	VigilTrayRulesPage *self = user_data;
	guint64 id = 0;
	guint64 *wanted = g_object_get_data(G_OBJECT(self), "select-id");

	gtk_tree_model_get(model, iter, COL_ID, &id, -1);
	if (wanted != NULL && id == *wanted && id != 0) {
		gtk_tree_selection_select_iter(gtk_tree_view_get_selection(self->view), iter);
		return TRUE;
	}
	return FALSE;
}

static void
fill(VigilTrayRulesPage *self, GVariant *rules)
{
	g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                     (GDestroyNotify)gtk_tree_iter_free);
	guint64 keep = selected_id(self);
	GVariantIter iter;
	guint64 id;
	GVariant *rule;
	guint n = 0;
	g_autofree char *status = NULL;

	gtk_tree_store_clear(self->store);
	g_hash_table_remove_all(self->rules);
	g_variant_iter_init(&iter, rules);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &rule)) {
		const char *program = lookup_s(rule, VIGIL_RULE_KEY_PROGRAM, NULL);
		const char *key = program != NULL ? program : "";
		GtkTreeIter *group = g_hash_table_lookup(groups, key);
		g_autofree char *title = NULL;

		if (group == NULL) {
			GtkTreeIter top;
			g_autoptr(GIcon) icon = program_icon(self, program, &title);
			g_autofree char *search = g_utf8_casefold(title, -1);

			gtk_tree_store_insert_with_values(self->store, &top, NULL, -1, COL_ICON,
			                                  icon, COL_TITLE, title, COL_IS_RULE,
			                                  FALSE, COL_SEARCH, search, -1);
			group = gtk_tree_iter_copy(&top);
			g_hash_table_insert(groups, g_strdup(key), group);
		} else {
			gtk_tree_model_get(GTK_TREE_MODEL(self->store), group, COL_TITLE, &title,
			                   -1);
		}
		add_rule_row(self, group, id, rule, title);
		g_hash_table_insert(self->rules, g_memdup2(&id, sizeof(id)), rule);
		n++;
	}
	gtk_tree_view_expand_all(self->view);
	g_object_set_data(G_OBJECT(self), "select-id", &keep);
	gtk_tree_model_foreach(GTK_TREE_MODEL(self->filter), select_id, self);
	g_object_set_data(G_OBJECT(self), "select-id", NULL);
	status = g_strdup_printf(ngettext("%u rule", "%u rules", n), n);
	if (!self->status_is_outcome)
		set_state(self, status);
}

static void
rules_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayRulesPage) self = user_data;
	g_autoptr(GVariant) rules = NULL;
	g_autoptr(GError) error = NULL;

	if (!vigil_firewall_call_get_rules_finish(VIGIL_FIREWALL(source), &rules, res, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_dbus_error_strip_remote_error(error);
		set_state(self, error->message);
		return;
	}
	fill(self, rules);
}

static void
update_buttons(VigilTrayRulesPage *self)
{
	GtkTreeModel *model;
	GtkTreeIter iter;
	gboolean may = FALSE;
	gboolean is_rule = FALSE;
	gboolean reachable = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self)) != NULL;

	if (gtk_tree_selection_get_selected(gtk_tree_view_get_selection(self->view), &model, &iter))
		gtk_tree_model_get(model, &iter, COL_MAY_CHANGE, &may, COL_IS_RULE, &is_rule, -1);
	gtk_widget_set_sensitive(self->edit_button, is_rule && may);
	gtk_widget_set_sensitive(self->remove_button, is_rule && may);
	gtk_widget_set_sensitive(self->add_button,
	                         permitted(self, VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES) ||
	                             permitted(self, VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES));
	gtk_widget_set_sensitive(self->import_button,
	                         permitted(self, VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES));
	gtk_widget_set_sensitive(self->export_button, reachable);
}

static void
refresh(VigilTrayRulesPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));

	update_buttons(self);
	if (firewall == NULL) {
		gtk_tree_store_clear(self->store);
		set_state(self, _("Vigil is not running"));
		return;
	}
	vigil_firewall_call_get_rules(firewall, G_DBUS_CALL_FLAGS_NONE, -1,
	                              VIGIL_TRAY_PAGE_CANCELLABLE(self), rules_cb,
	                              g_object_ref(self));
}

static void
client_changed(VigilTrayClient *client, VigilTrayRulesPage *self)
{
	/* permissions or reachability: the rows' editability too */
	if (vigil_tray_page_is_shown(VIGIL_TRAY_PAGE(self)))
		refresh(self);
}

static void
rules_changed(VigilTrayClient *client, VigilTrayRulesPage *self)
{
	if (vigil_tray_page_is_shown(VIGIL_TRAY_PAGE(self)))
		refresh(self);
}

/* the answer to a change: RulesChanged refreshes the list; errors are shown */
static void
show_outcome(VigilTrayRulesPage *self, GVariant *ret, GError *error)
{
	if (ret != NULL) {
		guint64 id = 0;

		if (g_variant_is_of_type(ret, G_VARIANT_TYPE("(t)"))) {
			g_autofree char *text = NULL;

			g_variant_get(ret, "(t)", &id);
			g_autofree char *number = g_strdup_printf("%" G_GUINT64_FORMAT, id);

			/* TRANSLATORS: %s is the new rule's number */
			text = g_strdup_printf(_("Rule %s added"), number);
			set_status(self, text);
		} else if (g_variant_is_of_type(ret, G_VARIANT_TYPE("(at)"))) {
			g_autoptr(GVariant) ids = g_variant_get_child_value(ret, 0);
			gsize n = g_variant_n_children(ids);
			g_autofree char *text = g_strdup_printf(
			    ngettext("%zu rule imported", "%zu rules imported", n), n);

			set_status(self, text);
		}
		refresh(self);
		return;
	}
	set_status(self, error->message);
}

/*
 * The reply of a change in *@ret, or NULL and vigild's own message in @error (without the
 * D-Bus error name). FALSE when the call was cancelled: the window went away.
 */
static gboolean
finish_change(GObject *source, GAsyncResult *res, GVariant **ret, GError **error)
{
	*ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, error);
	if (*ret != NULL)
		return TRUE;
	if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return FALSE;
	g_dbus_error_strip_remote_error(*error);
	return TRUE;
}

static void
change_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayRulesPage) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = NULL;

	if (finish_change(source, res, &ret, &error))
		show_outcome(self, ret, error);
}

/* changes may need polkit to ask for a password first */
static void
call_change(VigilTrayRulesPage *self, const char *method, GVariant *args)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));

	if (firewall == NULL) {
		g_variant_unref(g_variant_ref_sink(args));
		return;
	}
	self->status_is_outcome = FALSE;
	g_dbus_proxy_call(G_DBUS_PROXY(firewall), method, args,
	                  G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT,
	                  VIGIL_TRAY_PAGE_CANCELLABLE(self), change_cb, g_object_ref(self));
}

static void
enabled_toggled(VigilTrayRulesPage *self, const char *path_text)
{
	g_autoptr(GtkTreePath) path = gtk_tree_path_new_from_string(path_text);
	GtkTreeIter iter;
	guint64 id = 0;
	gboolean enabled = FALSE;
	gboolean may = FALSE;
	GVariantBuilder changes;

	if (!gtk_tree_model_get_iter(GTK_TREE_MODEL(self->filter), &iter, path))
		return;
	gtk_tree_model_get(GTK_TREE_MODEL(self->filter), &iter, COL_ID, &id, COL_ENABLED, &enabled,
	                   COL_MAY_CHANGE, &may, -1);
	if (!may || id == 0)
		return;
	g_variant_builder_init(&changes, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&changes, "{sv}", VIGIL_RULE_KEY_ENABLED,
	                      g_variant_new_boolean(!enabled));
	call_change(self, "UpdateRule", g_variant_new("(ta{sv})", id, &changes));
}

static void
remove_clicked(VigilTrayRulesPage *self)
{
	guint64 id = selected_id(self);

	if (id != 0)
		call_change(self, "RemoveRule", g_variant_new("(t)", id));
}

/* a Save of the rule dialog, which stays open until vigild has answered */
typedef struct {
	VigilTrayRulesPage *self;
	VigilTrayRuleDialog *dialog; /* NULL once the user closed it */
} Save;

static void
save_dialog_destroyed(VigilTrayRuleDialog *dialog, Save *save)
{
	save->dialog = NULL;
}

static void
save_free(Save *save)
{
	if (save->dialog != NULL)
		g_signal_handlers_disconnect_by_data(save->dialog, save);
	g_object_unref(save->self);
	g_free(save);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Save, save_free)

/* why vigild refused the dialog's rule; a capture rule needs an administrator even when it is
 * the user's own, which polkit's "not authorised" alone does not tell */
static char *
refusal_text(VigilTrayRuleDialog *dialog, const GError *error)
{
	if (g_error_matches(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED) &&
	    vigil_tray_rule_dialog_get_capture(dialog))
		/* TRANSLATORS: %s is vigild's reason, e.g. "not authorised: org.vigil..." */
		return g_strdup_printf(
		    _("Only an administrator may make rules that capture packets (%s)"),
		    error->message);
	return g_strdup(error->message);
}

/* vigild's answer to the dialog's rule: accepted, the dialog closes; refused, it stays with
 * what the user typed and says why; closed meanwhile, the status line tells how it went */
static void
save_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(Save) save = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = NULL;

	/* cancelled: the window went away (and its dialog with it) */
	if (!finish_change(source, res, &ret, &error))
		return;
	if (ret == NULL) {
		if (save->dialog != NULL) {
			g_autofree char *message = refusal_text(save->dialog, error);

			vigil_tray_rule_dialog_show_error(save->dialog, message);
			return;
		}
	} else if (save->dialog != NULL) {
		/* the destroy handler clears save->dialog */
		gtk_widget_destroy(GTK_WIDGET(save->dialog));
	}
	show_outcome(save->self, ret, error);
}

/* AddRule or UpdateRule with the dialog's fields; polkit may ask for a password first */
static void
save_rule(VigilTrayRulesPage *self, VigilTrayRuleDialog *dialog)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	guint64 *id = g_object_get_data(G_OBJECT(dialog), "rule-id");
	GVariant *rule;
	GVariant *args;
	Save *save;

	if (firewall == NULL) {
		vigil_tray_rule_dialog_show_error(dialog, _("Vigil is not running"));
		return;
	}
	rule = vigil_tray_rule_dialog_get_rule(dialog);
	if (id != NULL)
		args = g_variant_new("(t@a{sv})", *id, rule);
	else
		args = g_variant_new("(@a{sv})", rule);
	vigil_tray_rule_dialog_set_busy(dialog, TRUE);
	self->status_is_outcome = FALSE;
	save = g_new0(Save, 1);
	save->self = g_object_ref(self);
	save->dialog = dialog;
	g_signal_connect(dialog, "destroy", G_CALLBACK(save_dialog_destroyed), save);
	/* the window's cancellable: when the user closes the dialog the call goes on (vigild
	 * may have made the change already), only the window's end cancels it */
	g_dbus_proxy_call(G_DBUS_PROXY(firewall), id != NULL ? "UpdateRule" : "AddRule", args,
	                  G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT,
	                  VIGIL_TRAY_PAGE_CANCELLABLE(self), save_cb, save);
}

static void
dialog_response(GtkDialog *dialog, gint response, VigilTrayRulesPage *self)
{
	if (response == GTK_RESPONSE_OK) {
		/* Enter in a field while Save is insensitive */
		if (!vigil_tray_rule_dialog_get_busy(VIGIL_TRAY_RULE_DIALOG(dialog)))
			save_rule(self, VIGIL_TRAY_RULE_DIALOG(dialog));
		return;
	}
	/* Cancel or closed, also while a Save runs: its answer goes to the status line */
	gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void
open_dialog(VigilTrayRulesPage *self, guint64 id)
{
	GVariant *rule = id != 0 ? g_hash_table_lookup(self->rules, &id) : NULL;
	VigilTrayRuleDialog *dialog =
	    vigil_tray_rule_dialog_new(vigil_tray_page_get_toplevel(VIGIL_TRAY_PAGE(self)), rule,
	                               permitted(self, VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES));

	if (rule != NULL)
		g_object_set_data_full(G_OBJECT(dialog), "rule-id", g_memdup2(&id, sizeof(id)),
		                       g_free);
	gtk_window_set_title(GTK_WINDOW(dialog), rule != NULL ? _("Edit Rule") : _("Add Rule"));
	/* the dialog goes with the window, and never calls into a window that is gone */
	gtk_window_set_destroy_with_parent(GTK_WINDOW(dialog), TRUE);
	g_signal_connect_object(dialog, "response", G_CALLBACK(dialog_response), self, 0);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void
add_clicked(VigilTrayRulesPage *self)
{
	open_dialog(self, 0);
}

static void
edit_clicked(VigilTrayRulesPage *self)
{
	guint64 id = selected_id(self);

	if (id != 0)
		open_dialog(self, id);
}

static void
row_activated(VigilTrayRulesPage *self, GtkTreePath *path, GtkTreeViewColumn *column)
{
	if (gtk_widget_get_sensitive(self->edit_button))
		edit_clicked(self);
}

static void
selection_changed(VigilTrayRulesPage *self)
{
	update_buttons(self);
}

static gboolean
row_matches(GtkTreeModel *model, GtkTreeIter *iter, const char *query)
{
	g_autofree char *search = NULL;

	gtk_tree_model_get(model, iter, COL_SEARCH, &search, -1);
	return search != NULL && strstr(search, query) != NULL;
}

/* a program shows when it or one of its rules matches; a rule when it or its program does */
static gboolean
row_visible(GtkTreeModel *model, GtkTreeIter *iter, gpointer user_data)
{
	VigilTrayRulesPage *self = user_data;
	g_autofree char *query =
	    g_utf8_casefold(gtk_entry_get_text(GTK_ENTRY(self->search_entry)), -1);
	GtkTreeIter child;
	GtkTreeIter parent;

	if (*query == '\0' || row_matches(model, iter, query))
		return TRUE;
	if (gtk_tree_model_iter_parent(model, &parent, iter))
		return row_matches(model, &parent, query);
	if (gtk_tree_model_iter_children(model, &child, iter)) {
		do {
			if (row_matches(model, &child, query))
				return TRUE;
		} while (gtk_tree_model_iter_next(model, &child));
	}
	return FALSE;
}

static void
search_changed(VigilTrayRulesPage *self)
{
	gtk_tree_model_filter_refilter(self->filter);
	gtk_tree_view_expand_all(self->view);
}

static void
import_loaded(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayRulesPage) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;
	gsize length = 0;

	if (!g_file_load_contents_finish(G_FILE(source), res, &contents, &length, NULL, &error)) {
		set_status(self, error->message);
		return;
	}
	if (!g_utf8_validate(contents, length, NULL)) {
		set_status(self, _("The file is not a rules file (not UTF-8 text)"));
		return;
	}
	call_change(self, "ImportRules", g_variant_new("(s)", contents));
}

static void
close_chooser(VigilTrayRulesPage *self)
{
	g_autoptr(GtkNativeDialog) chooser = g_steal_pointer(&self->chooser);

	if (chooser != NULL) {
		g_signal_handlers_disconnect_by_data(chooser, self);
		gtk_native_dialog_destroy(chooser);
	}
}

/* the file chooser is shown, not run: a nested main loop in a click handler would leave the
 * accessibility bus (the click may have come from it) without answers until it closes */
static void
show_chooser(VigilTrayRulesPage *self, GtkFileChooserNative *native, GCallback response)
{
	GtkNativeDialog *chooser = GTK_NATIVE_DIALOG(native);

	close_chooser(self);
	self->chooser = chooser;
	self->status_is_outcome = FALSE;
	gtk_native_dialog_set_modal(chooser, TRUE);
	g_signal_connect_swapped(chooser, "response", response, self);
	gtk_native_dialog_show(chooser);
}

/* the chosen file, or NULL; the chooser is done either way */
static GFile *
chooser_done(VigilTrayRulesPage *self, gint response)
{
	g_autoptr(GtkNativeDialog) chooser = g_steal_pointer(&self->chooser);

	if (chooser == NULL || response != GTK_RESPONSE_ACCEPT)
		return NULL;
	return gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser));
}

static void
import_response(VigilTrayRulesPage *self, gint response)
{
	g_autoptr(GFile) file = chooser_done(self, response);

	if (file != NULL)
		g_file_load_contents_async(file, VIGIL_TRAY_PAGE_CANCELLABLE(self), import_loaded,
		                           g_object_ref(self));
}

static void
import_clicked(VigilTrayRulesPage *self)
{
	show_chooser(self,
	             gtk_file_chooser_native_new(
	                 _("Import Rules"), vigil_tray_page_get_toplevel(VIGIL_TRAY_PAGE(self)),
	                 GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"), _("_Cancel")),
	             G_CALLBACK(import_response));
}

typedef struct {
	VigilTrayRulesPage *self;
	GFile *file;
} Export;

static void
export_saved(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayRulesPage) self = user_data;
	g_autoptr(GError) error = NULL;

	if (!g_file_replace_contents_finish(G_FILE(source), res, NULL, &error))
		set_status(self, error->message);
	else
		set_status(self, _("Rules exported"));
}

static void
export_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Export *export = user_data;
	g_autoptr(VigilTrayRulesPage) self = export->self;
	g_autoptr(GFile) file = export->file;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	GBytes *bytes;

	g_free(export);
	if (!vigil_firewall_call_export_rules_finish(VIGIL_FIREWALL(source), &text, res, &error)) {
		g_dbus_error_strip_remote_error(error);
		set_status(self, error->message);
		return;
	}
	bytes = g_bytes_new_take(text, strlen(text));
	text = NULL;
	g_file_replace_contents_bytes_async(
	    file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
	    VIGIL_TRAY_PAGE_CANCELLABLE(self), export_saved, g_object_ref(self));
	g_bytes_unref(bytes);
}

static void
export_response(VigilTrayRulesPage *self, gint response)
{
	g_autoptr(GFile) file = chooser_done(self, response);
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	Export *export;

	if (file == NULL)
		return;
	if (firewall == NULL) {
		set_status(self, _("Vigil is not running"));
		return;
	}
	export = g_new0(Export, 1);
	export->self = g_object_ref(self);
	export->file = g_steal_pointer(&file);
	vigil_firewall_call_export_rules(firewall, G_DBUS_CALL_FLAGS_NONE, -1,
	                                 VIGIL_TRAY_PAGE_CANCELLABLE(self), export_cb, export);
}

static void
export_clicked(VigilTrayRulesPage *self)
{
	GtkFileChooserNative *chooser;

	if (vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self)) == NULL)
		return;
	chooser = gtk_file_chooser_native_new(
	    _("Export Rules"), vigil_tray_page_get_toplevel(VIGIL_TRAY_PAGE(self)),
	    GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
	gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(chooser), TRUE);
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(chooser), "vigil.rules");
	show_chooser(self, chooser, G_CALLBACK(export_response));
}

static void
rules_shown(VigilTrayPage *page)
{
	VigilTrayRulesPage *self = VIGIL_TRAY_RULES_PAGE(page);

	self->status_is_outcome = FALSE;
	/* what the user may change can have changed since: ask again ("changed" refreshes) */
	vigil_tray_client_refresh_permissions(VIGIL_TRAY_PAGE_CLIENT(self));
	refresh(self);
}

static void
rules_refresh(VigilTrayPage *page)
{
	refresh(VIGIL_TRAY_RULES_PAGE(page));
}

static void
vigil_tray_rules_page_dispose(GObject *object)
{
	VigilTrayRulesPage *self = VIGIL_TRAY_RULES_PAGE(object);

	close_chooser(self);
	g_clear_object(&self->apps);
	g_clear_pointer(&self->rules, g_hash_table_unref);
	G_OBJECT_CLASS(vigil_tray_rules_page_parent_class)->dispose(object);
}

static void
vigil_tray_rules_page_class_init(VigilTrayRulesPageClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	G_OBJECT_CLASS(klass)->dispose = vigil_tray_rules_page_dispose;
	VIGIL_TRAY_PAGE_CLASS(klass)->shown = rules_shown;
	VIGIL_TRAY_PAGE_CLASS(klass)->refresh = rules_refresh;
	gtk_widget_class_set_template_from_resource(widget_class,
	                                            "/org/vigil/Tray/vigil-tray-rules-page.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, VigilTrayRulesPage, name)
	BIND(store);
	BIND(filter);
	BIND(view);
	BIND(search_entry);
	BIND(add_button);
	BIND(edit_button);
	BIND(remove_button);
	BIND(import_button);
	BIND(export_button);
	BIND(status_label);
#undef BIND
	gtk_widget_class_bind_template_callback(widget_class, search_changed);
	gtk_widget_class_bind_template_callback(widget_class, add_clicked);
	gtk_widget_class_bind_template_callback(widget_class, edit_clicked);
	gtk_widget_class_bind_template_callback(widget_class, remove_clicked);
	gtk_widget_class_bind_template_callback(widget_class, import_clicked);
	gtk_widget_class_bind_template_callback(widget_class, export_clicked);
	gtk_widget_class_bind_template_callback(widget_class, enabled_toggled);
	gtk_widget_class_bind_template_callback(widget_class, row_activated);
	gtk_widget_class_bind_template_callback(widget_class, selection_changed);
}

static void
vigil_tray_rules_page_init(VigilTrayRulesPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	vigil_tray_page_set_refresh_interval(VIGIL_TRAY_PAGE(self), REFRESH_SECONDS * 1000);
	self->rules = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
	                                    (GDestroyNotify)g_variant_unref);
	gtk_tree_model_filter_set_visible_func(self->filter, row_visible, self, NULL);
}

VigilTrayRulesPage *
vigil_tray_rules_page_new(VigilTrayClient *client, VigilTrayAppIndex *apps)
{
	VigilTrayRulesPage *self = g_object_new(VIGIL_TYPE_TRAY_RULES_PAGE, NULL);

	vigil_tray_page_set_client(VIGIL_TRAY_PAGE(self), client);
	self->apps = g_object_ref(apps);
	g_signal_connect(client, "changed", G_CALLBACK(client_changed), self);
	g_signal_connect(client, "rules-changed", G_CALLBACK(rules_changed), self);
	return self;
}
