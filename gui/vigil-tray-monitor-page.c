/* vigil-tray-monitor-page.c: the live decision log and the per-program table, read from vigild */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-format.h"
#include "vigil-rule-syntax.h"
#include "vigil-tray-monitor-page.h"
#include "vigil-text.h"

#define REFRESH_MS 1000
/* the log keeps this many rows; vigild's ring and the journal keep more */
#define MAX_ROWS 5000
/* the first read after opening takes the newest decisions only */
#define FIRST_LIMIT 1000

enum {
	LOG_ID,
	LOG_TIME,
	LOG_PROGRAM,
	LOG_NAME,
	LOG_DESTINATION,
	LOG_PORT,
	LOG_PROTOCOL,
	LOG_VERDICT,
	LOG_RULE,
	LOG_HOST,
	LOG_PORT_NUMBER,
	LOG_TIME_US,
	LOG_PROGRAM_RAW,
};

enum {
	PROG_PROGRAM,
	PROG_NAME,
	PROG_CONNECTIONS,
	PROG_DESTINATIONS,
	PROG_ALLOWED,
	PROG_DENIED,
	PROG_LAST_SEEN,
	PROG_LAST_SEEN_US,
};

struct _VigilTrayMonitorPage {
	VigilTrayPage parent;

	guint64 last_id; /* the newest decision in the log; 0: none yet */
	gboolean reading;

	GtkListStore *log_store;
	GtkTreeModelFilter *log_filter;
	GtkListStore *programs_store;
	GtkTreeView *log_view;
	GtkMenu *row_menu;
	GtkWidget *allow_item;
	GtkWidget *deny_item;
	GtkSearchEntry *program_entry;
	GtkComboBoxText *verdict_combo;
	GtkLabel *status_label;
};

G_DEFINE_TYPE(VigilTrayMonitorPage, vigil_tray_monitor_page, VIGIL_TYPE_TRAY_PAGE)

static void
set_status(VigilTrayMonitorPage *self, const char *text)
{
	gtk_label_set_text(self->status_label, text != NULL ? text : "");
}

static char *
lookup_str(GVariant *dict, const char *key)
{
	const char *value = NULL;

	if (!g_variant_lookup(dict, key, "&s", &value))
		return NULL;
	return g_utf8_make_valid(value, -1);
}

/* a field as the log shows it: on one line, in stored order (see vigil-text.h) */
static char *
lookup_shown(GVariant *dict, const char *key, gsize max_chars)
{
	const char *value = NULL;

	if (!g_variant_lookup(dict, key, "&s", &value))
		return NULL;
	return vigil_text_sanitize(value, max_chars);
}

static void
add_decision(VigilTrayMonitorPage *self, GVariant *dict, gint64 now)
{
	g_autofree char *program = lookup_str(dict, VIGIL_CONN_KEY_PROGRAM);
	g_autofree char *shown_program =
	    lookup_shown(dict, VIGIL_CONN_KEY_PROGRAM, VIGIL_TEXT_MAX_LINE);
	g_autofree char *name = lookup_shown(dict, VIGIL_CONN_KEY_NAME, VIGIL_TEXT_MAX_NAME);
	g_autofree char *address =
	    lookup_shown(dict, VIGIL_CONN_KEY_DESTINATION, VIGIL_TEXT_MAX_LINE);
	g_autofree char *raw_address = lookup_str(dict, VIGIL_CONN_KEY_DESTINATION);
	g_autofree char *hostname = lookup_str(dict, VIGIL_CONN_KEY_HOSTNAME);
	g_autofree char *shown_hostname =
	    lookup_shown(dict, VIGIL_CONN_KEY_HOSTNAME, VIGIL_TEXT_MAX_LINE);
	g_autofree char *protocol =
	    lookup_shown(dict, VIGIL_CONN_KEY_PROTOCOL, VIGIL_TEXT_MAX_NAME);
	g_autofree char *verdict = lookup_str(dict, VIGIL_CONN_KEY_VERDICT);
	g_autofree char *reason = lookup_str(dict, VIGIL_CONN_KEY_REASON);
	g_autofree char *destination = NULL;
	g_autofree char *port = NULL;
	g_autofree char *proto_up = NULL;
	g_autofree char *rule_text = NULL;
	g_autofree char *time = NULL;
	guint64 id = 0;
	guint64 rule = 0;
	gint64 time_us = 0;
	guint16 port_number = 0;
	guint8 icmp_type = 0;
	gboolean has_rule = g_variant_lookup(dict, VIGIL_CONN_KEY_RULE, "t", &rule);

	g_variant_lookup(dict, VIGIL_CONN_KEY_ID, "t", &id);
	g_variant_lookup(dict, VIGIL_CONN_KEY_TIME, "x", &time_us);
	if (shown_hostname != NULL)
		destination =
		    g_strdup_printf(_("%s (%s)"), shown_hostname, address != NULL ? address : "?");
	else
		destination = g_strdup(address != NULL ? address : "");
	if (g_variant_lookup(dict, VIGIL_CONN_KEY_PORT, "q", &port_number))
		port = g_strdup_printf("%u", port_number);
	else if (g_variant_lookup(dict, VIGIL_CONN_KEY_ICMP_TYPE, "y", &icmp_type))
		port = g_strdup_printf(_("type %u"), icmp_type);
	proto_up = g_ascii_strup(protocol != NULL ? protocol : "", -1);
	rule_text = vigil_format_reason(reason, rule, has_rule);
	time = vigil_format_time_us(time_us, now);
	gtk_list_store_insert_with_values(
	    self->log_store, NULL, 0, LOG_ID, id, LOG_TIME, time, LOG_PROGRAM,
	    shown_program != NULL ? shown_program : "", LOG_PROGRAM_RAW, program, LOG_NAME,
	    name != NULL ? name : "", LOG_DESTINATION, destination, LOG_PORT,
	    port != NULL ? port : "", LOG_PROTOCOL, proto_up, LOG_VERDICT,
	    vigil_format_verdict(verdict), LOG_RULE, rule_text, LOG_HOST,
	    hostname != NULL ? hostname : raw_address, LOG_PORT_NUMBER, (guint)port_number,
	    LOG_TIME_US, time_us, -1);
	self->last_id = MAX(self->last_id, id);
}

static void
trim_log(VigilTrayMonitorPage *self)
{
	GtkTreeModel *model = GTK_TREE_MODEL(self->log_store);
	gint n = gtk_tree_model_iter_n_children(model, NULL);
	GtkTreeIter iter;

	while (n > MAX_ROWS && gtk_tree_model_iter_nth_child(model, &iter, NULL, n - 1)) {
		gtk_list_store_remove(self->log_store, &iter);
		n--;
	}
}

static void
connections_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayMonitorPage) self = user_data;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GError) error = NULL;
	GVariantIter iter;
	GVariant *dict;
	gint64 now = g_get_real_time();

	self->reading = FALSE;
	if (!vigil_firewall_call_get_connections_finish(VIGIL_FIREWALL(source), &list, res,
	                                                &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_dbus_error_strip_remote_error(error);
		set_status(self, error->message);
		return;
	}
	/* oldest first: each goes on top */
	g_variant_iter_init(&iter, list);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		guint64 id = 0;

		g_variant_lookup(dict, VIGIL_CONN_KEY_ID, "t", &id);
		if (id > self->last_id)
			add_decision(self, dict, now);
		g_variant_unref(dict);
	}
	trim_log(self);
	set_status(self, NULL);
}

static void
stats_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayMonitorPage) self = user_data;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GError) error = NULL;
	GVariantIter iter;
	const char *program;
	GVariant *counters;
	gint64 now = g_get_real_time();

	if (!vigil_firewall_call_get_program_stats_finish(VIGIL_FIREWALL(source), &list, res,
	                                                  &error))
		return;
	gtk_list_store_clear(self->programs_store);
	g_variant_iter_init(&iter, list);
	while (g_variant_iter_next(&iter, "(&s@a{sv})", &program, &counters)) {
		guint64 connections = 0, allowed = 0, denied = 0;
		guint32 destinations = 0;
		gint64 last_seen = 0;
		g_autofree char *seen = NULL;
		g_autofree char *base = g_path_get_basename(program);
		g_autofree char *name = vigil_text_sanitize(base, VIGIL_TEXT_MAX_NAME);
		g_autofree char *shown = vigil_text_sanitize(program, VIGIL_TEXT_MAX_LINE);

		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_CONNECTIONS, "t", &connections);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_ALLOWED, "t", &allowed);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_DENIED, "t", &denied);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_DESTINATIONS, "u",
		                 &destinations);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_LAST_SEEN, "x", &last_seen);
		seen = vigil_format_time_us(last_seen, now);
		gtk_list_store_insert_with_values(
		    self->programs_store, NULL, -1, PROG_PROGRAM, shown, PROG_NAME, name,
		    PROG_CONNECTIONS, connections, PROG_DESTINATIONS, destinations, PROG_ALLOWED,
		    allowed, PROG_DENIED, denied, PROG_LAST_SEEN, seen, PROG_LAST_SEEN_US,
		    last_seen, -1);
		g_variant_unref(counters);
	}
}

static void
refresh(VigilTrayMonitorPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	GVariantBuilder filter;

	if (firewall == NULL) {
		set_status(self, _("Vigil is not running"));
		return;
	}
	if (self->reading)
		return;
	self->reading = TRUE;
	g_variant_builder_init(&filter, G_VARIANT_TYPE_VARDICT);
	if (self->last_id > 0)
		g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_AFTER,
		                      g_variant_new_uint64(self->last_id));
	else
		g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_LIMIT,
		                      g_variant_new_uint32(FIRST_LIMIT));
	vigil_firewall_call_get_connections(
	    firewall, g_variant_builder_end(&filter), G_DBUS_CALL_FLAGS_NONE, -1,
	    VIGIL_TRAY_PAGE_CANCELLABLE(self), connections_cb, g_object_ref(self));
	vigil_firewall_call_get_program_stats(firewall, G_DBUS_CALL_FLAGS_NONE, -1,
	                                      VIGIL_TRAY_PAGE_CANCELLABLE(self), stats_cb,
	                                      g_object_ref(self));
}

/* vigild went away: its decision ids start again at 1 */
static void
client_reset(VigilTrayClient *client, VigilTrayMonitorPage *self)
{
	vigil_tray_page_cancel_calls(VIGIL_TRAY_PAGE(self));
	self->reading = FALSE;
	self->last_id = 0;
	gtk_list_store_clear(self->log_store);
	gtk_list_store_clear(self->programs_store);
}

static void
monitor_shown(VigilTrayPage *page)
{
	VigilTrayMonitorPage *self = VIGIL_TRAY_MONITOR_PAGE(page);

	/* ask what rules the user may make: the row menu is greyed out otherwise */
	vigil_tray_client_refresh_permissions(VIGIL_TRAY_PAGE_CLIENT(self));
	refresh(self);
}

static void
monitor_refresh(VigilTrayPage *page)
{
	refresh(VIGIL_TRAY_MONITOR_PAGE(page));
}

static gboolean
row_visible(GtkTreeModel *model, GtkTreeIter *iter, gpointer user_data)
{
	VigilTrayMonitorPage *self = user_data;
	const char *wanted = gtk_entry_get_text(GTK_ENTRY(self->program_entry));
	const char *verdict = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->verdict_combo));
	g_autofree char *program = NULL;
	g_autofree char *shown = NULL;
	gboolean visible = TRUE;

	gtk_tree_model_get(model, iter, LOG_PROGRAM, &program, LOG_VERDICT, &shown, -1);
	if (*wanted != '\0') {
		g_autofree char *a = g_utf8_casefold(program != NULL ? program : "", -1);
		g_autofree char *b = g_utf8_casefold(wanted, -1);

		visible = strstr(a, b) != NULL;
	}
	if (visible && verdict != NULL && g_strcmp0(verdict, "all") != 0)
		visible = g_strcmp0(shown, vigil_format_verdict(verdict)) == 0;
	return visible;
}

static void
filter_changed(VigilTrayMonitorPage *self)
{
	gtk_tree_model_filter_refilter(self->log_filter);
}

static void
add_rule_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayMonitorPage) self = user_data;
	g_autoptr(GError) error = NULL;
	guint64 id = 0;
	g_autofree char *text = NULL;

	if (!vigil_firewall_call_add_rule_finish(VIGIL_FIREWALL(source), &id, res, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_dbus_error_strip_remote_error(error);
		text = g_strdup_printf(_("The rule was not made: %s"), error->message);
	} else {
		g_autofree char *number = g_strdup_printf("%" G_GUINT64_FORMAT, id);

		/* TRANSLATORS: %s is the new rule's number */
		text = g_strdup_printf(_("Rule %s made"), number);
	}
	set_status(self, text);
}

/* a rule for the user's own processes from the selected row: this program, this host (or
 * address), this port and protocol */
static void
make_rule(VigilTrayMonitorPage *self, const char *action)
{
	GtkTreeSelection *selection = gtk_tree_view_get_selection(self->log_view);
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	GtkTreeModel *model;
	GtkTreeIter iter;
	g_autofree char *program = NULL;
	g_autofree char *host = NULL;
	g_autofree char *protocol = NULL;
	guint port = 0;
	GVariantBuilder rule;

	if (firewall == NULL || !gtk_tree_selection_get_selected(selection, &model, &iter))
		return;
	gtk_tree_model_get(model, &iter, LOG_PROGRAM_RAW, &program, LOG_HOST, &host, LOG_PROTOCOL,
	                   &protocol, LOG_PORT_NUMBER, &port, -1);
	g_variant_builder_init(&rule, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&rule, "{sv}", VIGIL_RULE_KEY_ACTION, g_variant_new_string(action));
	if (program != NULL && g_path_is_absolute(program))
		g_variant_builder_add(&rule, "{sv}", VIGIL_RULE_KEY_PROGRAM,
		                      g_variant_new_string(program));
	if (host != NULL && *host != '\0')
		g_variant_builder_add(&rule, "{sv}", VIGIL_RULE_KEY_TO, g_variant_new_string(host));
	if (protocol != NULL && *protocol != '\0') {
		g_autofree char *lower = g_ascii_strdown(protocol, -1);
		guint8 proto;

		/* rules name ICMPv6 "icmp" too; a name rules do not know goes as it is, for
		 * vigild to refuse (never a rule for every protocol) */
		g_variant_builder_add(
		    &rule, "{sv}", VIGIL_RULE_KEY_PROTO,
		    g_variant_new_string(vigil_rule_proto_from_string(lower, &proto) && proto != 0
		                             ? vigil_rule_proto_to_string(proto)
		                             : lower));
	}
	if (port > 0)
		g_variant_builder_add(&rule, "{sv}", VIGIL_RULE_KEY_PORT,
		                      g_variant_new_take_string(g_strdup_printf("%u", port)));
	vigil_firewall_call_add_rule(firewall, g_variant_builder_end(&rule),
	                             G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT,
	                             VIGIL_TRAY_PAGE_CANCELLABLE(self), add_rule_cb,
	                             g_object_ref(self));
}

static void
allow_item_activate(VigilTrayMonitorPage *self)
{
	make_rule(self, "allow");
}

static void
deny_item_activate(VigilTrayMonitorPage *self)
{
	make_rule(self, "deny");
}

static void
popup_row_menu(VigilTrayMonitorPage *self, const GdkEvent *event)
{
	const char *own = vigil_tray_client_get_permission(VIGIL_TRAY_PAGE_CLIENT(self),
	                                                   VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES);
	gboolean may = g_strcmp0(own, VIGIL_PERMISSION_NO) != 0 &&
	               vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self)) != NULL;

	/* greyed out when vigild says the user may not make rules */
	gtk_widget_set_sensitive(self->allow_item, may);
	gtk_widget_set_sensitive(self->deny_item, may);
	gtk_menu_popup_at_pointer(self->row_menu, event);
}

static gboolean
log_button_press(VigilTrayMonitorPage *self, GdkEventButton *event)
{
	GtkTreePath *path = NULL;

	if (!gdk_event_triggers_context_menu((GdkEvent *)event))
		return GDK_EVENT_PROPAGATE;
	if (gtk_tree_view_get_path_at_pos(self->log_view, (gint)event->x, (gint)event->y, &path,
	                                  NULL, NULL, NULL)) {
		gtk_tree_selection_select_path(gtk_tree_view_get_selection(self->log_view), path);
		gtk_tree_path_free(path);
		popup_row_menu(self, (GdkEvent *)event);
	}
	return GDK_EVENT_STOP;
}

static gboolean
log_popup_menu(VigilTrayMonitorPage *self)
{
	if (gtk_tree_selection_count_selected_rows(gtk_tree_view_get_selection(self->log_view)) ==
	    0)
		return FALSE;
	popup_row_menu(self, NULL);
	return TRUE;
}

/* most connections first, then most destinations */
static gint
compare_chattiness(GtkTreeModel *model, GtkTreeIter *a, GtkTreeIter *b, gpointer user_data)
{
	guint64 ca = 0, cb = 0;
	guint da = 0, db = 0;

	gtk_tree_model_get(model, a, PROG_CONNECTIONS, &ca, PROG_DESTINATIONS, &da, -1);
	gtk_tree_model_get(model, b, PROG_CONNECTIONS, &cb, PROG_DESTINATIONS, &db, -1);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (da != db)
		return da < db ? -1 : 1;
	return 0;
}

static void
vigil_tray_monitor_page_class_init(VigilTrayMonitorPageClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	VIGIL_TRAY_PAGE_CLASS(klass)->shown = monitor_shown;
	VIGIL_TRAY_PAGE_CLASS(klass)->refresh = monitor_refresh;
	gtk_widget_class_set_template_from_resource(widget_class,
	                                            "/org/vigil/Tray/vigil-tray-monitor-page.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, VigilTrayMonitorPage, name)
	BIND(log_store);
	BIND(log_filter);
	BIND(programs_store);
	BIND(log_view);
	BIND(row_menu);
	BIND(allow_item);
	BIND(deny_item);
	BIND(program_entry);
	BIND(verdict_combo);
	BIND(status_label);
#undef BIND
	gtk_widget_class_bind_template_callback(widget_class, filter_changed);
	gtk_widget_class_bind_template_callback(widget_class, log_button_press);
	gtk_widget_class_bind_template_callback(widget_class, log_popup_menu);
	gtk_widget_class_bind_template_callback(widget_class, allow_item_activate);
	gtk_widget_class_bind_template_callback(widget_class, deny_item_activate);
}

static void
vigil_tray_monitor_page_init(VigilTrayMonitorPage *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	vigil_tray_page_set_refresh_interval(VIGIL_TRAY_PAGE(self), REFRESH_MS);
	gtk_tree_model_filter_set_visible_func(self->log_filter, row_visible, self, NULL);
	gtk_tree_sortable_set_sort_func(GTK_TREE_SORTABLE(self->programs_store), PROG_CONNECTIONS,
	                                compare_chattiness, NULL, NULL);
	gtk_tree_sortable_set_sort_column_id(GTK_TREE_SORTABLE(self->programs_store),
	                                     PROG_CONNECTIONS, GTK_SORT_DESCENDING);
	gtk_menu_attach_to_widget(self->row_menu, GTK_WIDGET(self->log_view), NULL);
}

VigilTrayMonitorPage *
vigil_tray_monitor_page_new(VigilTrayClient *client)
{
	VigilTrayMonitorPage *self = g_object_new(VIGIL_TYPE_TRAY_MONITOR_PAGE, NULL);

	vigil_tray_page_set_client(VIGIL_TRAY_PAGE(self), client);
	g_signal_connect(client, "reset", G_CALLBACK(client_reset), self);
	return self;
}
