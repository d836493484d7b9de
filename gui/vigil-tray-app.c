/* vigil-tray-app.c: ties the client, the tray icon and the windows together */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>
#include <gdk/gdkx.h>

#include "vigil-tray-client.h"
#include "vigil-format.h"
#include "vigil-tray-indicator.h"
#include "vigil-tray-main-window.h"
#include "vigil-tray-monitor-page.h"
#include "vigil-tray-notifier.h"
#include "vigil-tray-preferences-page.h"
#include "vigil-tray-program-info.h"
#include "vigil-tray-prompt-window.h"
#include "vigil-tray-rules-page.h"
#include "vigil-text.h"
#include "vigil-tray-app.h"

/* notification actions */
#define ACTION_REVIEW  "review"
#define ACTION_PROMPTS "prompts"
#define ACTION_RULES   "rules"

/* how long after the start a tray host must be there, or the app says how to get one */
#define TRAY_CHECK_SECONDS 5

struct _VigilTrayApp {
	GtkApplication parent;

	VigilTrayClient *client;
	VigilTrayAppIndex *apps;
	VigilTrayIndicator *indicator;
	VigilTrayPromptWindow *prompts;
	/* the one window (made when first shown), and its pages */
	VigilTrayMainWindow *main;
	VigilTrayPreferencesPage *preferences;
	gboolean background; /* started with --background (at login): no window at once */
	guint tray_check_id;
	char *silent; /* silent mode: "allow" or "deny" answers every request, once; NULL: ask */
	VigilTrayNotifier *notifier;
	gboolean was_connected; /* vigild was reachable: its going away is news */
	char *fail_mode;        /* vigild's FailMode when last seen */
	gboolean agent_seen;    /* this registration was already looked at */
};

G_DEFINE_TYPE(VigilTrayApp, vigil_tray_app, GTK_TYPE_APPLICATION)

static void
set_action_enabled(VigilTrayApp *self, const char *name, gboolean enabled)
{
	GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), name);

	g_simple_action_set_enabled(G_SIMPLE_ACTION(action), enabled);
}

static char *
status_text(VigilTrayApp *self, VigilTrayClientState state)
{
	const char *agent_error = vigil_tray_client_get_agent_error(self->client);

	switch (state) {
	case VIGIL_TRAY_CLIENT_STATE_UNREACHABLE:
		return g_strdup(_("Vigil is not running"));
	case VIGIL_TRAY_CLIENT_STATE_PAUSED:
		return g_strdup(_("Filtering is paused"));
	case VIGIL_TRAY_CLIENT_STATE_FILTERING:
		if (agent_error != NULL) {
			g_autofree char *why =
			    vigil_text_sanitize(agent_error, VIGIL_TEXT_MAX_LINE);

			/* TRANSLATORS: vigild refused to send this user's prompts to the tray */
			return g_strdup_printf(_("Vigil is filtering, not asking: %s"), why);
		}
		return g_strdup(_("Vigil is filtering"));
	}
	return NULL;
}

static void
update(VigilTrayApp *self)
{
	VigilTrayClientState state = vigil_tray_client_get_state(self->client);
	guint pending = vigil_tray_prompt_window_get_n_pending(self->prompts);
	g_autofree char *status = status_text(self, state);
	VigilTrayIndicatorState shown =
	    state == VIGIL_TRAY_CLIENT_STATE_FILTERING ? VIGIL_TRAY_INDICATOR_FILTERING
	    : state == VIGIL_TRAY_CLIENT_STATE_PAUSED  ? VIGIL_TRAY_INDICATOR_PAUSED
	                                               : VIGIL_TRAY_INDICATOR_UNREACHABLE;
	const char *configure =
	    vigil_tray_client_get_permission(self->client, VIGIL_POLKIT_ACTION_CONFIGURE);

	vigil_tray_indicator_update(self->indicator, shown, status, pending);
	if (self->main != NULL)
		vigil_tray_main_window_set_status(self->main, status, pending,
		                                  state == VIGIL_TRAY_CLIENT_STATE_PAUSED);
	set_action_enabled(self, "show-prompts", pending > 0);
	/* ask the daemon what is allowed rather than fail on click: "auth" lets polkit ask */
	set_action_enabled(self, "toggle-filtering",
	                   state != VIGIL_TRAY_CLIENT_STATE_UNREACHABLE &&
	                       g_strcmp0(configure, VIGIL_PERMISSION_NO) != 0);
	vigil_tray_prompt_window_set_default_action(
	    self->prompts, vigil_tray_client_get_default_action(self->client));
}

/* ~/.local/state/vigil/tray.ini: until when the connections decided without asking were
 * reported, so that each is reported once, across logins */
static char *
state_path(void)
{
	/* the user's prompt preferences live there too (vigilctl prompt reads them) */
	return vigil_client_prefs_path();
}

static GKeyFile *
load_state(void)
{
	GKeyFile *kf = g_key_file_new();
	g_autofree char *path = state_path();

	g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
	return kf;
}

static void
save_state(GKeyFile *kf)
{
	g_autofree char *path = state_path();
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	if (g_mkdir_with_parents(dir, 0700) != 0 || !g_key_file_save_to_file(kf, path, &error))
		g_message("cannot save %s: %s", path, error != NULL ? error->message : "");
}

static char *
load_silent(void)
{
	g_autoptr(GKeyFile) kf = load_state();
	g_autofree char *value = g_key_file_get_string(kf, "Prompts", "silent", NULL);

	if (g_strcmp0(value, "allow") == 0 || g_strcmp0(value, "deny") == 0)
		return g_steal_pointer(&value);
	return NULL;
}

static void
save_silent(const char *verdict)
{
	g_autoptr(GKeyFile) kf = load_state();

	g_key_file_set_string(kf, "Prompts", "silent", verdict != NULL ? verdict : "off");
	save_state(kf);
}

static gint64
load_reported_until(void)
{
	g_autoptr(GKeyFile) kf = load_state();

	return g_key_file_get_int64(kf, "Notifications", "defaults-reported-until", NULL);
}

static void
save_reported_until(gint64 until)
{
	g_autoptr(GKeyFile) kf = load_state();

	g_key_file_set_int64(kf, "Notifications", "defaults-reported-until", until);
	save_state(kf);
}

typedef struct {
	VigilTrayApp *self;
	gint64 asked_at;
} DefaultsQuery;

static void
defaults_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	DefaultsQuery *query = user_data;
	g_autoptr(VigilTrayApp) self = query->self;
	g_autoptr(GVariant) list = NULL;
	g_autoptr(GError) error = NULL;
	guint allowed = 0;
	guint denied = 0;
	GVariantIter iter;
	GVariant *dict;
	g_autofree char *summary = NULL;
	const char *actions[] = {ACTION_REVIEW, _("Review"), NULL};
	gint64 asked_at = query->asked_at;

	g_free(query);
	if (!vigil_firewall_call_get_connections_finish(VIGIL_FIREWALL(source), &list, res,
	                                                &error)) {
		g_debug("cannot read the decisions: %s", error->message);
		return;
	}
	g_variant_iter_init(&iter, list);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		const char *reason = NULL;
		const char *verdict = NULL;

		if (g_variant_lookup(dict, VIGIL_CONN_KEY_REASON, "&s", &reason) &&
		    g_strcmp0(reason, VIGIL_REASON_NAME_DEFAULT) == 0 &&
		    g_variant_lookup(dict, VIGIL_CONN_KEY_VERDICT, "&s", &verdict)) {
			if (g_strcmp0(verdict, "allow") == 0)
				allowed++;
			else
				denied++;
		}
		g_variant_unref(dict);
	}
	save_reported_until(asked_at);
	g_debug("decided without asking since the last report: %u allowed, %u denied", allowed,
	        denied);
	if (allowed + denied == 0)
		return;
	if (denied == 0)
		summary = g_strdup_printf(ngettext("%u connection was allowed while Vigil wasn't "
		                                   "asking",
		                                   "%u connections were allowed while Vigil wasn't "
		                                   "asking",
		                                   allowed),
		                          allowed);
	else if (allowed == 0)
		summary = g_strdup_printf(ngettext("%u connection was denied while Vigil wasn't "
		                                   "asking",
		                                   "%u connections were denied while Vigil wasn't "
		                                   "asking",
		                                   denied),
		                          denied);
	else
		summary = g_strdup_printf(_("%u connections were allowed and %u denied while Vigil "
		                            "wasn't asking"),
		                          allowed, denied);
	vigil_tray_notifier_show(
	    self->notifier, "defaults", summary,
	    _("No rule covered them and no prompt could be shown, so the default "
	      "action decided them once."),
	    "org.vigil.Tray", actions);
}

/* once registered as the agent: what was decided without asking since last reported */
static void
report_defaults(VigilTrayApp *self)
{
	VigilFirewall *firewall = vigil_tray_client_get_firewall(self->client);
	DefaultsQuery *query;
	GVariantBuilder filter;

	g_return_if_fail(firewall != NULL);
	query = g_new0(DefaultsQuery, 1);
	query->self = g_object_ref(self);
	query->asked_at = g_get_real_time();
	g_debug("asking vigild what was decided without asking since %" G_GINT64_FORMAT,
	        load_reported_until());
	g_variant_builder_init(&filter, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&filter, "{sv}", VIGIL_FILTER_KEY_SINCE,
	                      g_variant_new_int64(load_reported_until()));
	vigil_firewall_call_get_connections(firewall, g_variant_builder_end(&filter),
	                                    G_DBUS_CALL_FLAGS_NONE, -1, NULL, defaults_cb, query);
}

static void
client_changed(VigilTrayClient *client, VigilTrayApp *self)
{
	VigilTrayClientState state = vigil_tray_client_get_state(client);

	if (state != VIGIL_TRAY_CLIENT_STATE_UNREACHABLE) {
		const char *fail_mode =
		    vigil_firewall_get_fail_mode(vigil_tray_client_get_firewall(client));

		self->was_connected = TRUE;
		if (fail_mode != NULL && g_strcmp0(fail_mode, self->fail_mode) != 0) {
			g_free(self->fail_mode);
			self->fail_mode = g_strdup(fail_mode);
		}
	}
	/* the agent's registration and the proxy of vigild are made concurrently, and either may
	 * be ready first: report once both are. Reporting at the registration alone skipped the
	 * report for good when the proxy came second (a loaded machine: gui-notify failed) */
	if (vigil_tray_client_is_agent(client) && !self->agent_seen) {
		if (vigil_tray_client_get_firewall(client) != NULL) {
			self->agent_seen = TRUE;
			report_defaults(self);
		} else {
			g_debug(
			    "registered before the proxy of vigild was ready: the report waits");
		}
	}
	update(self);
}

static void
client_prompt(VigilTrayClient *client, guint64 request, GVariant *connection, VigilTrayApp *self)
{
	g_autoptr(GError) error = NULL;
	VigilClientRequest *prompt = vigil_client_request_new(request, connection, &error);

	if (prompt == NULL) {
		g_warning("ignoring request %" G_GUINT64_FORMAT ": %s", request, error->message);
		return;
	}
	g_debug("request %" G_GUINT64_FORMAT ": %s to %s", request, prompt->program,
	        prompt->destination);
	if (prompt->binary_changed) {
		g_autofree char *name = vigil_client_request_display_name(prompt);
		g_autofree char *summary = g_strdup_printf(_("%s has changed"), name);
		g_autofree char *key = g_strdup_printf("changed:%s", prompt->program);
		const char *actions[] = {ACTION_PROMPTS, _("Show"), NULL};

		vigil_tray_notifier_show(
		    self->notifier, key, summary,
		    _("Its file no longer matches the one a rule was made for, so "
		      "Vigil asks again."),
		    "dialog-warning", actions);
	}
	if (self->silent != NULL) {
		/* silent mode: answered at once, for this connection only; vigild logs it */
		vigil_tray_client_reply(self->client, request, self->silent,
		                        vigil_client_reply_options(VIGIL_CLIENT_DURATION_ONCE,
		                                                   VIGIL_CLIENT_HOST_SCOPE_HOST,
		                                                   VIGIL_CLIENT_PORT_SCOPE_PORT));
		vigil_client_request_free(prompt);
		return;
	}
	vigil_tray_prompt_window_add(self->prompts, prompt);
}

static void
client_cancel(VigilTrayClient *client, guint64 request, const char *reason, VigilTrayApp *self)
{
	g_debug("request %" G_GUINT64_FORMAT " cancelled: %s", request, reason);
	vigil_tray_prompt_window_remove(self->prompts, request);
}

static void
client_reset(VigilTrayClient *client, VigilTrayApp *self)
{
	vigil_tray_prompt_window_clear(self->prompts);
	self->agent_seen = FALSE;
	if (self->was_connected)
		vigil_tray_notifier_show(
		    self->notifier, "daemon", _("Vigil has stopped"),
		    g_strcmp0(self->fail_mode, "closed") == 0
		        ? _("Connections that need a decision are blocked "
		            "until it runs again.")
		        : _("Connections are not filtered until it runs again."),
		    "org.vigil.Tray-offline-symbolic", NULL);
	/* what it decides from now until the tray registers again is reported then */
	save_reported_until(g_get_real_time());
}

static void
notify_blocked(VigilTrayApp *self, GVariant *details)
{
	g_autoptr(VigilClientRequest) conn = vigil_client_request_new(0, details, NULL);
	const char *verdict = NULL;
	guint64 rule = 0;
	gboolean has_rule;
	const char *reason = NULL;
	g_autofree char *name = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *body = NULL;
	g_autofree char *destination = NULL;
	g_autofree char *port = NULL;
	g_autofree char *why = NULL;
	g_autofree char *key = NULL;
	const char *actions[] = {ACTION_REVIEW, _("Review"), ACTION_RULES, _("Open Rules"), NULL};

	if (conn == NULL)
		return;
	g_variant_lookup(details, VIGIL_CONN_KEY_VERDICT, "&s", &verdict);
	g_variant_lookup(details, VIGIL_CONN_KEY_REASON, "&s", &reason);
	has_rule = g_variant_lookup(details, VIGIL_CONN_KEY_RULE, "t", &rule);
	name = vigil_client_request_display_name(conn);
	destination = vigil_client_request_format_destination(conn);
	port = vigil_client_request_format_port(conn);
	why = vigil_format_reason(reason, rule, has_rule);
	summary = g_strdup_printf(_("%s was blocked"), name);
	/* TRANSLATORS: "example.org (93.184.215.14), port 443 (https): Denied, rule 5" */
	body = g_strdup_printf(_("%s, port %s: %s, %s"), destination, port,
	                       vigil_format_verdict(verdict), why);
	key = g_strdup_printf("blocked:%s", conn->program != NULL ? conn->program : "");
	vigil_tray_notifier_show(self->notifier, key, summary, body, "org.vigil.Tray", actions);
}

/* another program of this user now gets the prompts too, and may answer them first: the user
 * must know which, by the executable vigild verified, never by a name it chose */
static void
notify_agent_registered(VigilTrayApp *self, GVariant *details)
{
	const char *program = NULL;
	const char *bus_name = NULL;
	guint32 pid = 0;
	guint32 count = 0;
	g_autofree char *path = NULL;
	g_autofree char *body = NULL;
	g_autofree char *key = NULL;

	if (!g_variant_lookup(details, VIGIL_CONN_KEY_PROGRAM, "&s", &program))
		program = _("an unknown program");
	g_variant_lookup(details, VIGIL_CONN_KEY_PID, "u", &pid);
	g_variant_lookup(details, VIGIL_NOTIFY_KEY_BUS_NAME, "&s", &bus_name);
	path = vigil_text_sanitize(program, VIGIL_TEXT_MAX_LINE);
	body = g_strdup_printf(
	    /* TRANSLATORS: %s is an executable's path, %u its process id */
	    _("Another program registered to answer your firewall prompts: %s (pid %u). If you "
	      "did not start it, it can allow connections in your name: stop it, and look for "
	      "how it was started."),
	    path, pid);
	if (g_variant_lookup(details, VIGIL_NOTIFY_KEY_COUNT, "u", &count) && count > 1) {
		/* vigild put a burst of registrations in one note: say so */
		g_autofree char *more = g_strdup_printf(
		    /* TRANSLATORS: %u is how many agents registered in a few seconds (> 1) */
		    _("%u agents registered in the last few seconds; this was the latest."), count);
		g_autofree char *both = g_strconcat(body, " ", more, NULL);

		g_free(body);
		body = g_steal_pointer(&both);
	}
	/* one per agent: a second registration of the same one replaces it */
	key = g_strdup_printf("agent:%s", bus_name != NULL ? bus_name : path);
	g_message("another prompt agent registered: %s (pid %u, %s)", path, pid,
	          bus_name != NULL ? bus_name : "?");
	vigil_tray_notifier_show_full(self->notifier, key,
	                              _("Another program can answer your firewall prompts"), body,
	                              "dialog-warning", NULL, TRUE);
}

static void
client_notify_event(VigilTrayClient *client, const char *kind, GVariant *details,
                    VigilTrayApp *self)
{
	if (g_strcmp0(kind, VIGIL_NOTIFY_BLOCKED) == 0) {
		notify_blocked(self, details);
	} else if (g_strcmp0(kind, VIGIL_NOTIFY_AGENT_REGISTERED) == 0) {
		notify_agent_registered(self, details);
	} else if (g_strcmp0(kind, VIGIL_NOTIFY_MESSAGE) == 0) {
		const char *message = NULL;
		const char *level = NULL;

		g_autofree char *shown = NULL;

		if (!g_variant_lookup(details, VIGIL_NOTIFY_KEY_MESSAGE, "&s", &message))
			return;
		g_variant_lookup(details, VIGIL_NOTIFY_KEY_LEVEL, "&s", &level);
		shown = vigil_text_sanitize(message, VIGIL_TEXT_MAX_LONG);
		vigil_tray_notifier_show(self->notifier, "message", _("Vigil"), shown,
		                         g_strcmp0(level, "error") == 0     ? "dialog-error"
		                         : g_strcmp0(level, "warning") == 0 ? "dialog-warning"
		                                                            : "org.vigil.Tray",
		                         NULL);
	}
	/* kinds of later versions are ignored, as the API asks */
}

static void
notifier_action(VigilTrayNotifier *notifier, const char *action, VigilTrayApp *self)
{
	if (g_strcmp0(action, ACTION_REVIEW) == 0)
		g_action_group_activate_action(G_ACTION_GROUP(self), "monitor", NULL);
	else if (g_strcmp0(action, ACTION_RULES) == 0)
		g_action_group_activate_action(G_ACTION_GROUP(self), "rules", NULL);
	else if (g_strcmp0(action, ACTION_PROMPTS) == 0)
		vigil_tray_prompt_window_reveal(self->prompts);
}

static void
prompt_reply(VigilTrayPromptWindow *window, guint64 request, const char *verdict, GVariant *options,
             VigilTrayApp *self)
{
	vigil_tray_client_reply(self->client, request, verdict, options);
}

static void
prompt_held(guint64 request, gint64 seconds_left, gpointer data)
{
	vigil_tray_prompt_window_held(VIGIL_TRAY_PROMPT_WINDOW(data), request, seconds_left);
}

static void
prompt_hold(VigilTrayPromptWindow *window, guint64 request, VigilTrayApp *self)
{
	vigil_tray_client_hold(self->client, request, prompt_held, window);
}

static void
prompts_changed(VigilTrayPromptWindow *window, VigilTrayApp *self)
{
	update(self);
}

static void
action_show_prompts(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VigilTrayApp *self = user_data;

	vigil_tray_prompt_window_reveal(self->prompts);
}

static void
action_toggle_filtering(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VigilTrayApp *self = user_data;
	VigilTrayClientState state = vigil_tray_client_get_state(self->client);

	if (state == VIGIL_TRAY_CLIENT_STATE_UNREACHABLE)
		return;
	vigil_tray_client_set_enabled(self->client, state == VIGIL_TRAY_CLIENT_STATE_PAUSED);
}

static void
action_quit(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	g_application_quit(G_APPLICATION(user_data));
}

static void
preferences_silent_changed(VigilTrayPreferencesPage *page, const char *verdict, VigilTrayApp *self)
{
	g_free(self->silent);
	self->silent = g_strdup(verdict);
	save_silent(verdict);
}

static void
tray_hint_closed(VigilTrayMainWindow *window, VigilTrayApp *self)
{
	g_autoptr(GKeyFile) kf = load_state();

	g_key_file_set_boolean(kf, "Tray", "hint-shown", TRUE);
	save_state(kf);
}

static VigilTrayMainWindow *
main_window(VigilTrayApp *self)
{
	if (self->main != NULL)
		return self->main;
	self->main = vigil_tray_main_window_new(GTK_APPLICATION(self));
	g_object_ref_sink(self->main);
	g_signal_connect(self->main, "tray-hint-closed", G_CALLBACK(tray_hint_closed), self);
	vigil_tray_main_window_add_page(
	    self->main, GTK_WIDGET(vigil_tray_rules_page_new(self->client, self->apps)),
	    VIGIL_TRAY_PAGE_RULES, _("Rules"));
	vigil_tray_main_window_add_page(self->main,
	                                GTK_WIDGET(vigil_tray_monitor_page_new(self->client)),
	                                VIGIL_TRAY_PAGE_MONITOR, _("Network Monitor"));
	/* the window owns the pages; the app keeps the one it tells about the silent mode */
	self->preferences = vigil_tray_preferences_page_new(self->client);
	vigil_tray_preferences_page_set_silent(self->preferences, self->silent);
	g_signal_connect(self->preferences, "silent-changed",
	                 G_CALLBACK(preferences_silent_changed), self);
	vigil_tray_main_window_add_page(self->main, GTK_WIDGET(self->preferences),
	                                VIGIL_TRAY_PAGE_PREFERENCES, _("Preferences"));
	update(self);
	return self->main;
}

/* shows the main window, at the page @page unless NULL */
static void
present_main(VigilTrayApp *self, const char *page)
{
	VigilTrayMainWindow *window = main_window(self);

	if (page != NULL && !vigil_tray_main_window_show_page(window, page))
		g_message("no page %s", page);
	gtk_window_present(GTK_WINDOW(window));
}

static void
action_show_page(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	present_main(user_data, g_variant_get_string(parameter, NULL));
}

/* the tray menu's items and the notifications' actions: the pages of the one window */
static void
action_rules(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	present_main(user_data, VIGIL_TRAY_PAGE_RULES);
}

static void
action_monitor(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	present_main(user_data, VIGIL_TRAY_PAGE_MONITOR);
}

static void
action_preferences(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	present_main(user_data, VIGIL_TRAY_PAGE_PREFERENCES);
}

/* a StatusNotifierWatcher on the session bus, or an XEmbed tray (the fallback's) on the screen */
static gboolean
has_tray_host(VigilTrayApp *self)
{
	GDBusConnection *bus = g_application_get_dbus_connection(G_APPLICATION(self));
	GdkDisplay *display = gdk_display_get_default();
	g_autoptr(GVariant) reply = NULL;
	gboolean owned = FALSE;

	if (bus != NULL)
		reply = g_dbus_connection_call_sync(
		    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		    "NameHasOwner", g_variant_new("(s)", "org.kde.StatusNotifierWatcher"),
		    G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	if (reply != NULL)
		g_variant_get(reply, "(b)", &owned);
	if (owned)
		return TRUE;
#ifdef GDK_WINDOWING_X11
	if (GDK_IS_X11_DISPLAY(display)) {
		GdkScreen *screen = gdk_display_get_default_screen(display);
		g_autofree char *name = g_strdup_printf("_NET_SYSTEM_TRAY_S%d",
		                                        gdk_x11_screen_get_screen_number(screen));

		return XGetSelectionOwner(gdk_x11_display_get_xdisplay(display),
		                          gdk_x11_get_xatom_by_name_for_display(display, name)) !=
		       None;
	}
#endif
	return FALSE;
}

/* without a tray host the icon never shows: say once how to get one, in the main window */
static gboolean
check_tray_host(gpointer user_data)
{
	VigilTrayApp *self = user_data;
	g_autoptr(GKeyFile) kf = NULL;

	self->tray_check_id = 0;
	if (has_tray_host(self))
		return G_SOURCE_REMOVE;
	g_message("no tray host: no StatusNotifierWatcher and no system tray");
	kf = load_state();
	if (g_key_file_get_boolean(kf, "Tray", "hint-shown", NULL))
		return G_SOURCE_REMOVE;
	g_key_file_set_boolean(kf, "Tray", "hint-shown", TRUE);
	save_state(kf);
	vigil_tray_main_window_show_tray_hint(main_window(self), TRUE);
	present_main(self, NULL);
	return G_SOURCE_REMOVE;
}

static const GActionEntry app_actions[] = {
    {.name = "show-prompts", .activate = action_show_prompts},
    {.name = "rules", .activate = action_rules},
    {.name = "monitor", .activate = action_monitor},
    {.name = "preferences", .activate = action_preferences},
    {.name = "show-page", .activate = action_show_page, .parameter_type = "s"},
    {.name = "toggle-filtering", .activate = action_toggle_filtering},
    {.name = "quit", .activate = action_quit},
};

static void
load_css(void)
{
	g_autoptr(GtkCssProvider) css = gtk_css_provider_new();

	gtk_css_provider_load_from_resource(css, "/org/vigil/Tray/vigil-tray.css");
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
	                                          GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
vigil_tray_app_startup(GApplication *app)
{
	VigilTrayApp *self = VIGIL_TRAY_APP(app);

	G_APPLICATION_CLASS(vigil_tray_app_parent_class)->startup(app);

	g_set_application_name(_("Vigil"));
	gtk_window_set_default_icon_name(VIGIL_TRAY_APP_ID);
	load_css();
	g_action_map_add_action_entries(G_ACTION_MAP(self), app_actions, G_N_ELEMENTS(app_actions),
	                                self);

	/* the tray app lives without windows */
	g_application_hold(app);

	self->silent = load_silent();
	self->apps = vigil_tray_app_index_new();
	self->prompts = vigil_tray_prompt_window_new(GTK_APPLICATION(app), self->apps);
	g_signal_connect(self->prompts, "reply", G_CALLBACK(prompt_reply), self);
	g_signal_connect(self->prompts, "pending-changed", G_CALLBACK(prompts_changed), self);
	g_signal_connect(self->prompts, "hold", G_CALLBACK(prompt_hold), self);
	self->indicator = vigil_tray_indicator_new(GTK_APPLICATION(app));
	self->notifier = vigil_tray_notifier_new(_("Vigil"));
	g_signal_connect(self->notifier, "action", G_CALLBACK(notifier_action), self);

	self->client = vigil_tray_client_new();
	g_signal_connect(self->client, "changed", G_CALLBACK(client_changed), self);
	g_signal_connect(self->client, "prompt", G_CALLBACK(client_prompt), self);
	g_signal_connect(self->client, "cancel", G_CALLBACK(client_cancel), self);
	g_signal_connect(self->client, "reset", G_CALLBACK(client_reset), self);
	g_signal_connect(self->client, "notify-event", G_CALLBACK(client_notify_event), self);
	update(self);
	vigil_tray_client_start(self->client);
	self->tray_check_id = g_timeout_add_seconds(TRAY_CHECK_SECONDS, check_tray_host, self);
}

/* a start from the menu of applications shows the main window, and what waits; the start at
 * login (--background) shows only what waits */
static void
vigil_tray_app_activate(GApplication *app)
{
	VigilTrayApp *self = VIGIL_TRAY_APP(app);

	if (!self->background)
		present_main(self, NULL);
	self->background = FALSE;
	vigil_tray_prompt_window_reveal(self->prompts);
}

static gboolean
is_page(const char *name)
{
	return g_strcmp0(name, VIGIL_TRAY_PAGE_RULES) == 0 ||
	       g_strcmp0(name, VIGIL_TRAY_PAGE_MONITOR) == 0 ||
	       g_strcmp0(name, VIGIL_TRAY_PAGE_PREFERENCES) == 0;
}

/* --page=NAME (the .desktop file's actions) opens the main window there, in the running
 * instance if there is one */
static int
vigil_tray_app_handle_local_options(GApplication *app, GVariantDict *options)
{
	VigilTrayApp *self = VIGIL_TRAY_APP(app);
	const char *page = NULL;
	g_autoptr(GError) error = NULL;

	self->background = g_variant_dict_contains(options, "background");
	if (!g_variant_dict_lookup(options, "page", "&s", &page))
		return -1;
	if (!is_page(page)) {
		g_printerr(_("vigil-tray: unknown page \"%s\": rules, monitor or preferences\n"),
		           page);
		return 2;
	}
	if (!g_application_register(app, NULL, &error)) {
		g_printerr("vigil-tray: %s\n", error->message);
		return 1;
	}
	g_action_group_activate_action(G_ACTION_GROUP(app), "show-page",
	                               g_variant_new_string(page));
	/* the running instance has it; this one ends. Else this is it: run, without showing the
	 * main window twice */
	if (g_application_get_is_remote(app))
		return 0;
	self->background = TRUE;
	return -1;
}

static void
vigil_tray_app_shutdown(GApplication *app)
{
	VigilTrayApp *self = VIGIL_TRAY_APP(app);

	if (self->client != NULL)
		g_signal_handlers_disconnect_by_data(self->client, self);
	g_clear_object(&self->client);
	g_clear_object(&self->indicator);
	g_clear_object(&self->notifier);
	g_clear_handle_id(&self->tray_check_id, g_source_remove);
	if (self->main != NULL)
		gtk_widget_destroy(GTK_WIDGET(self->main));
	g_clear_object(&self->main);
	self->preferences = NULL; /* the window's, gone with it */
	g_clear_pointer(&self->silent, g_free);
	g_clear_pointer(&self->fail_mode, g_free);
	if (self->prompts != NULL)
		gtk_widget_destroy(GTK_WIDGET(self->prompts));
	self->prompts = NULL;
	g_clear_object(&self->apps);
	G_APPLICATION_CLASS(vigil_tray_app_parent_class)->shutdown(app);
}

static void
vigil_tray_app_class_init(VigilTrayAppClass *klass)
{
	GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

	app_class->startup = vigil_tray_app_startup;
	app_class->activate = vigil_tray_app_activate;
	app_class->shutdown = vigil_tray_app_shutdown;
	app_class->handle_local_options = vigil_tray_app_handle_local_options;
}

static const GOptionEntry options[] = {
    {"page", 0, 0, G_OPTION_ARG_STRING, NULL,
     N_("Open the window at a page: rules, monitor or preferences"), N_("PAGE")},
    {"background", 0, 0, G_OPTION_ARG_NONE, NULL,
     N_("Start without opening the window (as at login)"), NULL},
    {NULL},
};

static void
vigil_tray_app_init(VigilTrayApp *self)
{
	g_application_add_main_option_entries(G_APPLICATION(self), options);
}

VigilTrayApp *
vigil_tray_app_new(void)
{
	return g_object_new(VIGIL_TYPE_TRAY_APP, "application-id", VIGIL_TRAY_APP_ID, "flags",
	                    G_APPLICATION_DEFAULT_FLAGS, NULL);
}
