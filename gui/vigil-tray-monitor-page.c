/* vigil-tray-monitor-page.c: the live decision log, the per-program table with its bytes, the
 * traffic chart and Export, read from vigild */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vigil-format.h"
#include "vigil-rule-syntax.h"
#include "vigil-text.h"
#include "vigil-tray-chart.h"
#include "vigil-tray-destinations.h"
#include "vigil-tray-export.h"
#include "vigil-tray-monitor-page.h"

#define REFRESH_MS 1000
/* the log keeps this many rows; vigild's ring and the journal keep more */
#define MAX_ROWS 5000
/* the first read after opening takes the newest decisions only */
#define FIRST_LIMIT 1000
/* the history (programs' bytes, the chart) is read every this many refreshes: it is a query
 * of SQLite, and vigild runs one per user at a time */
#define HISTORY_EVERY 5
/* the most programs the table and the Show list take from the history */
#define MAX_PROGRAMS 1000

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
	PROG_BYTES_IN,
	PROG_BYTES_OUT,
	PROG_IN_TEXT,
	PROG_OUT_TEXT,
	PROG_PROGRAM_RAW,
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
	GtkComboBoxText *range_combo;
	GtkComboBoxText *show_combo;
	GtkWidget *export_button;
	VigilTrayChart *chart;

	guint ticks;            /* refreshes since the page showed */
	gboolean history_busy;  /* a history read (programs, then the chart) runs */
	gboolean history_again; /* the range or program changed meanwhile: read again */
	gboolean history_off;   /* vigild keeps no history: live counters, no chart */
	gboolean filling_show;  /* the Show list is being filled: no "changed" */
	char *show_key;         /* the programs the Show list has, each ending in a NUL */
	gsize show_key_len;
	gboolean exporting;
	gboolean read_failed; /* the status line says why the log could not be read */
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
		self->read_failed = TRUE;
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
	/* the read works again; other news (a rule made, an export) stays */
	if (self->read_failed)
		set_status(self, NULL);
	self->read_failed = FALSE;
}

/* one program's row: the live counters (GetProgramStats) or the history's, with bytes */
static void
add_program(VigilTrayMonitorPage *self, const char *program, GVariant *counters, gint64 now)
{
	guint64 connections = 0, allowed = 0, denied = 0, bytes_in = 0, bytes_out = 0;
	guint32 destinations = 0;
	gint64 last_seen = 0;
	gboolean has_bytes;
	g_autofree char *seen = NULL;
	g_autofree char *in_text = NULL;
	g_autofree char *out_text = NULL;
	g_autofree char *base = g_path_get_basename(program);
	g_autofree char *name = vigil_text_sanitize(base, VIGIL_TEXT_MAX_NAME);
	g_autofree char *shown = vigil_text_sanitize(program, VIGIL_TEXT_MAX_LINE);

	g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_CONNECTIONS, "t", &connections);
	g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_ALLOWED, "t", &allowed);
	g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_DENIED, "t", &denied);
	g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_DESTINATIONS, "u", &destinations);
	g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_LAST_SEEN, "x", &last_seen);
	has_bytes = g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_BYTES_IN, "t", &bytes_in);
	has_bytes |= g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_BYTES_OUT, "t", &bytes_out);
	seen = vigil_format_time_us(last_seen, now);
	/* the live counters have no bytes: empty, not "0 bytes" */
	in_text = has_bytes ? vigil_format_bytes(bytes_in) : g_strdup("");
	out_text = has_bytes ? vigil_format_bytes(bytes_out) : g_strdup("");
	gtk_list_store_insert_with_values(
	    self->programs_store, NULL, -1, PROG_PROGRAM, shown, PROG_NAME, name, PROG_CONNECTIONS,
	    connections, PROG_DESTINATIONS, destinations, PROG_ALLOWED, allowed, PROG_DENIED,
	    denied, PROG_LAST_SEEN, seen, PROG_LAST_SEEN_US, last_seen, PROG_BYTES_IN, bytes_in,
	    PROG_BYTES_OUT, bytes_out, PROG_IN_TEXT, in_text, PROG_OUT_TEXT, out_text,
	    PROG_PROGRAM_RAW, program, -1);
}

static void
fill_programs(VigilTrayMonitorPage *self, GVariant *list)
{
	GVariantIter iter;
	const char *program;
	GVariant *counters;
	gint64 now = g_get_real_time();

	gtk_list_store_clear(self->programs_store);
	g_variant_iter_init(&iter, list);
	while (g_variant_iter_next(&iter, "(&s@a{sv})", &program, &counters)) {
		add_program(self, program, counters, now);
		g_variant_unref(counters);
	}
}

static void
stats_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayMonitorPage) self = user_data;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GError) error = NULL;

	if (!vigil_firewall_call_get_program_stats_finish(VIGIL_FIREWALL(source), &list, res,
	                                                  &error))
		return;
	/* the history came back meanwhile: its counters have the bytes */
	if (self->history_off)
		fill_programs(self, list);
}

/* the range chosen: [*since_us, now], in *n intervals of *interval_s, the last one ending
 * after now (whole intervals: the bars stay put from one refresh to the next) */
static const char *
current_range(VigilTrayMonitorPage *self, gint64 *since_us, guint *interval_s, guint *n)
{
	const char *id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->range_combo));
	gint64 now_s = g_get_real_time() / G_USEC_PER_SEC;
	const char *text;

	if (g_strcmp0(id, "week") == 0) {
		*interval_s = 3600;
		*n = 7 * 24;
		text = _("in the last week");
	} else if (g_strcmp0(id, "day") == 0) {
		*interval_s = 15 * 60;
		*n = 24 * 4;
		text = _("in the last day");
	} else {
		*interval_s = 60;
		*n = 60;
		text = _("in the last hour");
	}
	*since_us =
	    ((now_s / *interval_s + 1) * *interval_s - (gint64)*n * *interval_s) * G_USEC_PER_SEC;
	return text;
}

/* the programs of the range in the Show list, by name; the one shown stays chosen */
static void
fill_show(VigilTrayMonitorPage *self, GVariant *list)
{
	g_autoptr(GString) key = g_string_new(NULL);
	g_autofree char *active =
	    g_strdup(gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->show_combo)));
	GVariantIter iter;
	const char *program;
	gboolean found = FALSE;
	/* how many programs have each name */
	g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	g_variant_iter_init(&iter, list);
	while (g_variant_iter_next(&iter, "(&s@a{sv})", &program, NULL)) {
		g_autofree char *base = g_path_get_basename(program);
		char *name = vigil_text_sanitize(base, VIGIL_TEXT_MAX_NAME);

		g_string_append_len(key, program, strlen(program) + 1);
		g_hash_table_insert(
		    names, name,
		    GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(names, name)) + 1));
	}
	if (self->show_key != NULL && self->show_key_len == key->len &&
	    memcmp(self->show_key, key->str, key->len) == 0)
		return;
	g_free(self->show_key);
	self->show_key = g_memdup2(key->str, key->len + 1);
	self->show_key_len = key->len;
	self->filling_show = TRUE;
	gtk_combo_box_text_remove_all(self->show_combo);
	gtk_combo_box_text_append(self->show_combo, "all", _("All programs"));
	g_variant_iter_init(&iter, list);
	while (g_variant_iter_next(&iter, "(&s@a{sv})", &program, NULL)) {
		g_autofree char *base = g_path_get_basename(program);
		g_autofree char *name = vigil_text_sanitize(base, VIGIL_TEXT_MAX_NAME);

		/* two programs of one name (two pythons) are told apart by their paths */
		if (GPOINTER_TO_UINT(g_hash_table_lookup(names, name)) > 1) {
			g_autofree char *path = vigil_text_sanitize(program, VIGIL_TEXT_MAX_LINE);
			char *both = g_strdup_printf(_("%s (%s)"), name, path);

			g_free(name);
			name = both;
		}
		gtk_combo_box_text_append(self->show_combo, program, name);
		found |= g_strcmp0(program, active) == 0;
	}
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->show_combo), found ? active : "all");
	self->filling_show = FALSE;
}

static void read_history(VigilTrayMonitorPage *self);

static void
history_done(VigilTrayMonitorPage *self)
{
	self->history_busy = FALSE;
	if (self->history_again) {
		self->history_again = FALSE;
		read_history(self);
	}
}

typedef struct {
	VigilTrayMonitorPage *self;
	gint64 since_us;
	guint interval_s;
	guint n;
	char *subject;
	const char *range_text;
} TimelineCall;

static void
timeline_call_free(TimelineCall *call)
{
	g_object_unref(call->self);
	g_free(call->subject);
	g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TimelineCall, timeline_call_free)

static void
timeline_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(TimelineCall) call = user_data;
	VigilTrayMonitorPage *self = call->self;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) buckets = g_array_new(FALSE, FALSE, sizeof(VigilTrayChartBucket));
	GVariantIter iter;
	GVariant *counters;
	gint64 start;

	if (!vigil_firewall_call_get_timeline_finish(VIGIL_FIREWALL(source), &list, res, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		g_dbus_error_strip_remote_error(error);
		vigil_tray_chart_set_message(self->chart, error->message);
		history_done(self);
		return;
	}
	g_variant_iter_init(&iter, list);
	while (g_variant_iter_next(&iter, "(x@a{sv})", &start, &counters)) {
		VigilTrayChartBucket b = {.start_us = start};

		g_variant_lookup(counters, VIGIL_CONN_KEY_BYTES_IN, "t", &b.bytes_in);
		g_variant_lookup(counters, VIGIL_CONN_KEY_BYTES_OUT, "t", &b.bytes_out);
		g_array_append_val(buckets, b);
		g_variant_unref(counters);
	}
	vigil_tray_chart_set_data(self->chart, call->since_us, call->interval_s, call->n, buckets,
	                          call->subject, call->range_text);
	history_done(self);
}

static void
read_timeline(VigilTrayMonitorPage *self, VigilFirewall *firewall)
{
	TimelineCall *call = g_new0(TimelineCall, 1);
	const char *program = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->show_combo));
	GVariantBuilder options;

	call->self = g_object_ref(self);
	call->range_text = current_range(self, &call->since_us, &call->interval_s, &call->n);
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&options, "{sv}", VIGIL_FILTER_KEY_SINCE,
	                      g_variant_new_int64(call->since_us));
	g_variant_builder_add(&options, "{sv}", VIGIL_RANGE_KEY_INTERVAL,
	                      g_variant_new_uint32(call->interval_s));
	if (program != NULL && g_strcmp0(program, "all") != 0) {
		g_variant_builder_add(&options, "{sv}", VIGIL_FILTER_KEY_PROGRAM,
		                      g_variant_new_string(program));
		call->subject = gtk_combo_box_text_get_active_text(self->show_combo);
	} else {
		call->subject = g_strdup(_("All programs"));
	}
	vigil_firewall_call_get_timeline(firewall, g_variant_builder_end(&options),
	                                 G_DBUS_CALL_FLAGS_NONE, -1,
	                                 VIGIL_TRAY_PAGE_CANCELLABLE(self), timeline_cb, call);
}

static void
program_history_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayMonitorPage) self = user_data;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GError) error = NULL;

	if (!vigil_firewall_call_get_program_history_finish(VIGIL_FIREWALL(source), &list, res,
	                                                    &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		/* Busy: another of the user's history queries (an export); the next tick tries */
		if (!g_error_matches(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_BUSY)) {
			/* the history is off: the live counters fill the table, the chart says why
			 */
			g_dbus_error_strip_remote_error(error);
			self->history_off = TRUE;
			vigil_tray_chart_set_message(self->chart, error->message);
		}
		history_done(self);
		return;
	}
	self->history_off = FALSE;
	fill_programs(self, list);
	fill_show(self, list);
	/* one history query of the user's at a time: the chart's after the table's */
	if (vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self)) == NULL) {
		history_done(self);
		return;
	}
	read_timeline(self, vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self)));
}

/* the programs of the range with their bytes, then the chart */
static void
read_history(VigilTrayMonitorPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	GVariantBuilder options;
	gint64 since_us;
	guint interval_s, n;

	if (firewall == NULL)
		return;
	if (self->history_busy) {
		self->history_again = TRUE;
		return;
	}
	self->history_busy = TRUE;
	current_range(self, &since_us, &interval_s, &n);
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&options, "{sv}", VIGIL_FILTER_KEY_SINCE,
	                      g_variant_new_int64(since_us));
	g_variant_builder_add(&options, "{sv}", VIGIL_RANGE_KEY_SORT,
	                      g_variant_new_string(VIGIL_STATS_SORT_BYTES));
	g_variant_builder_add(&options, "{sv}", VIGIL_FILTER_KEY_LIMIT,
	                      g_variant_new_uint32(MAX_PROGRAMS));
	vigil_firewall_call_get_program_history(
	    firewall, g_variant_builder_end(&options), G_DBUS_CALL_FLAGS_NONE, -1,
	    VIGIL_TRAY_PAGE_CANCELLABLE(self), program_history_cb, g_object_ref(self));
}

static void
refresh(VigilTrayMonitorPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	GVariantBuilder filter;

	if (firewall == NULL) {
		set_status(self, _("Vigil is not running"));
		self->read_failed = TRUE;
		vigil_tray_chart_set_message(self->chart, _("Vigil is not running"));
		return;
	}
	if (self->ticks++ % HISTORY_EVERY == 0)
		read_history(self);
	if (self->history_off)
		vigil_firewall_call_get_program_stats(firewall, G_DBUS_CALL_FLAGS_NONE, -1,
		                                      VIGIL_TRAY_PAGE_CANCELLABLE(self), stats_cb,
		                                      g_object_ref(self));
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
}

static void
range_changed(VigilTrayMonitorPage *self)
{
	read_history(self);
}

static void
show_changed(VigilTrayMonitorPage *self)
{
	if (!self->filling_show)
		read_history(self);
}

/* a program's page: its destinations over the range */
static void
program_activated(VigilTrayMonitorPage *self, GtkTreePath *path, GtkTreeViewColumn *column,
                  GtkTreeView *view)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	GtkTreeModel *model = gtk_tree_view_get_model(view);
	g_autofree char *program = NULL;
	const char *range_text;
	gint64 since_us;
	guint interval_s, n;
	GtkTreeIter iter;

	if (firewall == NULL || !gtk_tree_model_get_iter(model, &iter, path))
		return;
	gtk_tree_model_get(model, &iter, PROG_PROGRAM_RAW, &program, -1);
	if (program == NULL)
		return;
	range_text = current_range(self, &since_us, &interval_s, &n);
	gtk_window_present(GTK_WINDOW(
	    vigil_tray_destinations_new(vigil_tray_page_get_toplevel(VIGIL_TRAY_PAGE(self)),
	                                firewall, program, since_us, range_text)));
}

static void
export_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayMonitorPage) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	gint64 rows = vigil_tray_export_csv_finish(res, &error);

	/* cancelled: the page went away, or vigild did (client_reset) */
	if (rows < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	self->exporting = FALSE;
	gtk_widget_set_sensitive(self->export_button, TRUE);
	if (rows < 0) {
		text = g_strdup_printf(_("The export failed: %s"), error->message);
	} else {
		g_autofree char *number = g_strdup_printf("%" G_GINT64_FORMAT, rows);

		/* TRANSLATORS: %s is a number */
		text = g_strdup_printf(ngettext("%s connection exported", "%s connections exported",
		                                (gulong)MIN(rows, G_MAXLONG)),
		                       number);
	}
	set_status(self, text);
}

static void
export_response(GtkNativeDialog *chooser, int response, VigilTrayMonitorPage *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(VIGIL_TRAY_PAGE_CLIENT(self));
	g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser));
	GVariantBuilder filter;
	gint64 since_us;
	guint interval_s, n;

	g_object_unref(chooser);
	if (response != GTK_RESPONSE_ACCEPT || file == NULL)
		return;
	if (firewall == NULL) {
		set_status(self, _("Vigil is not running"));
		return;
	}
	current_range(self, &since_us, &interval_s, &n);
	g_variant_builder_init(&filter, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_SINCE,
	                      g_variant_new_int64(since_us));
	self->exporting = TRUE;
	gtk_widget_set_sensitive(self->export_button, FALSE);
	set_status(self, _("Exporting…"));
	vigil_tray_export_csv_async(firewall, g_variant_builder_end(&filter), file,
	                            VIGIL_TRAY_PAGE_CANCELLABLE(self), export_cb,
	                            g_object_ref(self));
}

static void
export_clicked(VigilTrayMonitorPage *self)
{
	GtkFileChooserNative *chooser;

	if (self->exporting)
		return;
	chooser = gtk_file_chooser_native_new(
	    _("Export Connections"), vigil_tray_page_get_toplevel(VIGIL_TRAY_PAGE(self)),
	    GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
	gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(chooser), TRUE);
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(chooser), "connections.csv");
	/* the dialog is unreffed in its response; a page gone meanwhile gets none */
	g_signal_connect_object(chooser, "response", G_CALLBACK(export_response), self, 0);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

/* vigild went away: its decision ids start again at 1 */
static void
client_reset(VigilTrayClient *client, VigilTrayMonitorPage *self)
{
	vigil_tray_page_cancel_calls(VIGIL_TRAY_PAGE(self));
	self->reading = FALSE;
	self->history_busy = FALSE;
	self->history_again = FALSE;
	self->exporting = FALSE;
	gtk_widget_set_sensitive(self->export_button, TRUE);
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
	/* the history at once */
	self->ticks = 0;
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
monitor_finalize(GObject *object)
{
	g_free(VIGIL_TRAY_MONITOR_PAGE(object)->show_key);
	G_OBJECT_CLASS(vigil_tray_monitor_page_parent_class)->finalize(object);
}

static void
vigil_tray_monitor_page_class_init(VigilTrayMonitorPageClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	g_type_ensure(VIGIL_TYPE_TRAY_CHART);
	G_OBJECT_CLASS(klass)->finalize = monitor_finalize;
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
	BIND(range_combo);
	BIND(show_combo);
	BIND(export_button);
	BIND(chart);
#undef BIND
	gtk_widget_class_bind_template_callback(widget_class, filter_changed);
	gtk_widget_class_bind_template_callback(widget_class, log_button_press);
	gtk_widget_class_bind_template_callback(widget_class, log_popup_menu);
	gtk_widget_class_bind_template_callback(widget_class, allow_item_activate);
	gtk_widget_class_bind_template_callback(widget_class, deny_item_activate);
	gtk_widget_class_bind_template_callback(widget_class, range_changed);
	gtk_widget_class_bind_template_callback(widget_class, show_changed);
	gtk_widget_class_bind_template_callback(widget_class, program_activated);
	gtk_widget_class_bind_template_callback(widget_class, export_clicked);
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
