/* vigil-tray-app.c: ties the client, the tray icon and the windows together */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-client.h"
#include "vigil-indicator.h"
#include "vigil-program-info.h"
#include "vigil-prompt-window.h"
#include "vigil-tray-app.h"

struct _VigilTrayApp {
	GtkApplication parent;

	VigilClient *client;
	VigilAppIndex *apps;
	VigilIndicator *indicator;
	VigilPromptWindow *prompts;
};

G_DEFINE_TYPE(VigilTrayApp, vigil_tray_app, GTK_TYPE_APPLICATION)

static void
set_action_enabled(VigilTrayApp *self, const char *name, gboolean enabled)
{
	GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), name);

	g_simple_action_set_enabled(G_SIMPLE_ACTION(action), enabled);
}

static char *
status_text(VigilTrayApp *self, VigilClientState state)
{
	const char *agent_error = vigil_client_get_agent_error(self->client);

	switch (state) {
	case VIGIL_CLIENT_STATE_UNREACHABLE:
		return g_strdup(_("Vigil is not running"));
	case VIGIL_CLIENT_STATE_PAUSED:
		return g_strdup(_("Filtering is paused"));
	case VIGIL_CLIENT_STATE_FILTERING:
		if (agent_error != NULL)
			/* TRANSLATORS: vigild refused to send this user's prompts to the tray */
			return g_strdup_printf(_("Vigil is filtering, not asking: %s"),
			                       agent_error);
		return g_strdup(_("Vigil is filtering"));
	}
	return NULL;
}

static void
update(VigilTrayApp *self)
{
	VigilClientState state = vigil_client_get_state(self->client);
	guint pending = vigil_prompt_window_get_n_pending(self->prompts);
	g_autofree char *status = status_text(self, state);
	VigilIndicatorState shown =
	    state == VIGIL_CLIENT_STATE_FILTERING ? VIGIL_INDICATOR_FILTERING
	    : state == VIGIL_CLIENT_STATE_PAUSED  ? VIGIL_INDICATOR_PAUSED
	                                          : VIGIL_INDICATOR_UNREACHABLE;
	const char *configure =
	    vigil_client_get_permission(self->client, VIGIL_POLKIT_ACTION_CONFIGURE);

	vigil_indicator_update(self->indicator, shown, status, pending);
	set_action_enabled(self, "show-prompts", pending > 0);
	/* ask the daemon what is allowed rather than fail on click: "auth" lets polkit ask */
	set_action_enabled(self, "toggle-filtering",
	                   state != VIGIL_CLIENT_STATE_UNREACHABLE &&
	                       g_strcmp0(configure, VIGIL_PERMISSION_NO) != 0);
	vigil_prompt_window_set_default_action(self->prompts,
	                                       vigil_client_get_default_action(self->client));
}

static void
client_changed(VigilClient *client, VigilTrayApp *self)
{
	update(self);
}

static void
client_prompt(VigilClient *client, guint64 request, GVariant *connection, VigilTrayApp *self)
{
	g_autoptr(GError) error = NULL;
	VigilPrompt *prompt = vigil_prompt_new(request, connection, &error);

	if (prompt == NULL) {
		g_warning("ignoring request %" G_GUINT64_FORMAT ": %s", request, error->message);
		return;
	}
	g_debug("request %" G_GUINT64_FORMAT ": %s to %s", request, prompt->program,
	        prompt->destination);
	vigil_prompt_window_add(self->prompts, prompt);
}

static void
client_cancel(VigilClient *client, guint64 request, const char *reason, VigilTrayApp *self)
{
	g_debug("request %" G_GUINT64_FORMAT " cancelled: %s", request, reason);
	vigil_prompt_window_remove(self->prompts, request);
}

static void
client_reset(VigilClient *client, VigilTrayApp *self)
{
	vigil_prompt_window_clear(self->prompts);
}

static void
client_notify_event(VigilClient *client, const char *kind, GVariant *details, VigilTrayApp *self)
{
	g_autofree char *text = g_variant_print(details, FALSE);

	g_debug("notification %s: %s", kind, text);
}

static void
prompt_reply(VigilPromptWindow *window, guint64 request, const char *verdict, GVariant *options,
             VigilTrayApp *self)
{
	vigil_client_reply(self->client, request, verdict, options);
}

static void
prompts_changed(VigilPromptWindow *window, VigilTrayApp *self)
{
	update(self);
}

static void
action_show_prompts(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VigilTrayApp *self = user_data;

	vigil_prompt_window_reveal(self->prompts);
}

static void
action_toggle_filtering(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VigilTrayApp *self = user_data;
	VigilClientState state = vigil_client_get_state(self->client);

	if (state == VIGIL_CLIENT_STATE_UNREACHABLE)
		return;
	vigil_client_set_enabled(self->client, state == VIGIL_CLIENT_STATE_PAUSED);
}

static void
action_quit(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	g_application_quit(G_APPLICATION(user_data));
}

static void
action_not_yet(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
}

static const GActionEntry app_actions[] = {
    {.name = "show-prompts", .activate = action_show_prompts},
    {.name = "rules", .activate = action_not_yet},
    {.name = "monitor", .activate = action_not_yet},
    {.name = "preferences", .activate = action_not_yet},
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
	/* the windows are not written yet */
	set_action_enabled(self, "rules", FALSE);
	set_action_enabled(self, "monitor", FALSE);
	set_action_enabled(self, "preferences", FALSE);

	/* the tray app lives without windows */
	g_application_hold(app);

	self->apps = vigil_app_index_new();
	self->prompts = vigil_prompt_window_new(GTK_APPLICATION(app), self->apps);
	g_signal_connect(self->prompts, "reply", G_CALLBACK(prompt_reply), self);
	g_signal_connect(self->prompts, "pending-changed", G_CALLBACK(prompts_changed), self);
	self->indicator = vigil_indicator_new(GTK_APPLICATION(app));

	self->client = vigil_client_new();
	g_signal_connect(self->client, "changed", G_CALLBACK(client_changed), self);
	g_signal_connect(self->client, "prompt", G_CALLBACK(client_prompt), self);
	g_signal_connect(self->client, "cancel", G_CALLBACK(client_cancel), self);
	g_signal_connect(self->client, "reset", G_CALLBACK(client_reset), self);
	g_signal_connect(self->client, "notify-event", G_CALLBACK(client_notify_event), self);
	update(self);
	vigil_client_start(self->client);
}

/* a second start (e.g. from the menu of applications) shows what waits */
static void
vigil_tray_app_activate(GApplication *app)
{
	VigilTrayApp *self = VIGIL_TRAY_APP(app);

	vigil_prompt_window_reveal(self->prompts);
}

static void
vigil_tray_app_shutdown(GApplication *app)
{
	VigilTrayApp *self = VIGIL_TRAY_APP(app);

	if (self->client != NULL)
		g_signal_handlers_disconnect_by_data(self->client, self);
	g_clear_object(&self->client);
	g_clear_object(&self->indicator);
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
}

static void
vigil_tray_app_init(VigilTrayApp *self)
{
}

VigilTrayApp *
vigil_tray_app_new(void)
{
	return g_object_new(VIGIL_TYPE_TRAY_APP, "application-id", VIGIL_TRAY_APP_ID, "flags",
	                    G_APPLICATION_DEFAULT_FLAGS, NULL);
}
