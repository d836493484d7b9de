/* vigil-tray-client.c: follows vigild on the system bus with the shared agent, relays calls */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include "vigil-tray-client.h"

/* how long to wait before trying the system bus again after it was lost or refused us */
#define RECONNECT_SECONDS 3
/* permissions can change (kept authorisations expire), so they are asked for again */
#define PERMISSIONS_REFRESH_SECONDS 60

struct _VigilTrayClient {
	GObject parent;

	GDBusConnection *bus;
	GCancellable *bus_cancellable; /* connecting to the bus; cancelled on dispose */
	guint reconnect_id;
	gboolean bus_failure_logged; /* say it once, not every few seconds */
	gulong closed_id;

	VigilClientAgent *agent; /* exported and following vigild while connected */

	/* per appearance of vigild: everything below is reset when it vanishes */
	char *owner; /* the unique name of vigild */
	GCancellable *session;
	VigilFirewall *firewall;
	GHashTable *permissions; /* action -> "yes" | "auth" | "no" */
	char *agent_error_text;  /* what get_agent_error() returned last */
	guint permissions_id;
};

enum {
	SIGNAL_CHANGED,
	SIGNAL_PROMPT,
	SIGNAL_CANCEL,
	SIGNAL_RESET,
	SIGNAL_NOTIFY_EVENT,
	SIGNAL_RULES_CHANGED,
	N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(VigilTrayClient, vigil_tray_client, G_TYPE_OBJECT)

static void connect_bus(VigilTrayClient *self);

static void
emit_changed(VigilTrayClient *self)
{
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

/* forgets the vigild that was on the bus; its requests are void */
static void
drop_session(VigilTrayClient *self)
{
	gboolean had = self->owner != NULL;

	if (self->session != NULL) {
		g_cancellable_cancel(self->session);
		g_clear_object(&self->session);
	}
	if (self->firewall != NULL)
		g_signal_handlers_disconnect_by_data(self->firewall, self);
	g_clear_object(&self->firewall);
	g_clear_pointer(&self->owner, g_free);
	g_hash_table_remove_all(self->permissions);
	g_clear_handle_id(&self->permissions_id, g_source_remove);
	if (had)
		g_signal_emit(self, signals[SIGNAL_RESET], 0);
}

static void
permissions_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayClient) self = user_data;
	g_autoptr(GVariant) perms = NULL;
	g_autoptr(GError) error = NULL;
	GVariantIter iter;
	const char *action;
	const char *value;

	if (!vigil_firewall_call_get_permissions_finish(VIGIL_FIREWALL(source), &perms, res,
	                                                &error)) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_warning("cannot ask vigild for permissions: %s", error->message);
		return;
	}
	g_hash_table_remove_all(self->permissions);
	g_variant_iter_init(&iter, perms);
	while (g_variant_iter_next(&iter, "{&s&s}", &action, &value))
		g_hash_table_insert(self->permissions, g_strdup(action), g_strdup(value));
	emit_changed(self);
}

void
vigil_tray_client_refresh_permissions(VigilTrayClient *self)
{
	g_return_if_fail(VIGIL_IS_TRAY_CLIENT(self));

	if (self->firewall == NULL)
		return;
	vigil_firewall_call_get_permissions(self->firewall, G_DBUS_CALL_FLAGS_NONE, -1,
	                                    self->session, permissions_cb, g_object_ref(self));
}

static gboolean
permissions_timeout(gpointer user_data)
{
	vigil_tray_client_refresh_permissions(user_data);
	return G_SOURCE_CONTINUE;
}

static void
agent_registered(VigilClientAgent *agent, VigilTrayClient *self)
{
	emit_changed(self);
}

static void
agent_register_failed(VigilClientAgent *agent, const GError *error, VigilTrayClient *self)
{
	g_autofree char *message = vigil_client_error_plain_message(error);

	g_warning("vigild did not accept vigil-tray as the prompt agent: %s", message);
	emit_changed(self);
}

static void
firewall_properties_changed(GDBusProxy *proxy, GVariant *changed, GStrv invalidated,
                            VigilTrayClient *self)
{
	g_autoptr(GVariant) stats = g_variant_lookup_value(changed, "Stats", NULL);

	/* Stats changes up to once a second and the tray shows none of it */
	if (stats != NULL && g_variant_n_children(changed) == 1 &&
	    (invalidated == NULL || invalidated[0] == NULL))
		return;
	emit_changed(self);
}

static void
firewall_rules_changed(VigilFirewall *firewall, VigilTrayClient *self)
{
	g_signal_emit(self, signals[SIGNAL_RULES_CHANGED], 0);
}

static void
proxy_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayClient) self = user_data;
	g_autoptr(GError) error = NULL;
	VigilFirewall *firewall = vigil_firewall_proxy_new_finish(res, &error);

	if (firewall == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_warning("cannot reach vigild: %s", error->message);
		return;
	}
	self->firewall = firewall;
	g_signal_connect(firewall, "g-properties-changed", G_CALLBACK(firewall_properties_changed),
	                 self);
	g_signal_connect(firewall, "rules-changed", G_CALLBACK(firewall_rules_changed), self);
	vigil_tray_client_refresh_permissions(self);
	self->permissions_id =
	    g_timeout_add_seconds(PERMISSIONS_REFRESH_SECONDS, permissions_timeout, self);
	emit_changed(self);
}

static void
vigild_appeared(VigilClientAgent *agent, const char *owner, VigilTrayClient *self)
{
	g_debug("vigild appeared as %s", owner);
	drop_session(self);
	self->owner = g_strdup(owner);
	self->session = g_cancellable_new();
	/* the well-known name only appears when vigild has started: never activate it from here */
	vigil_firewall_proxy_new(self->bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, VIGIL_DBUS_NAME,
	                         VIGIL_DBUS_PATH, self->session, proxy_cb, g_object_ref(self));
	emit_changed(self);
}

static void
vigild_vanished(VigilClientAgent *agent, gboolean bus_lost, VigilTrayClient *self)
{
	if (self->owner != NULL)
		g_message("vigild left the system bus");
	drop_session(self);
	emit_changed(self);
}

/* vigild's requests come through the agent, whose caller check lets only vigild call */
static gboolean
agent_prompt(VigilClientAgent *agent, guint64 request, GVariant *connection, VigilTrayClient *self)
{
	g_signal_emit(self, signals[SIGNAL_PROMPT], 0, request, connection);
	return FALSE;
}

static void
agent_cancel(VigilClientAgent *agent, guint64 request, const char *reason, VigilTrayClient *self)
{
	g_signal_emit(self, signals[SIGNAL_CANCEL], 0, request, reason);
}

static void
agent_notify(VigilClientAgent *agent, const char *kind, GVariant *details, VigilTrayClient *self)
{
	g_signal_emit(self, signals[SIGNAL_NOTIFY_EVENT], 0, kind, details);
}

static gboolean
reconnect_timeout(gpointer user_data)
{
	VigilTrayClient *self = user_data;

	self->reconnect_id = 0;
	connect_bus(self);
	return G_SOURCE_REMOVE;
}

static void
schedule_reconnect(VigilTrayClient *self)
{
	if (self->reconnect_id == 0)
		self->reconnect_id =
		    g_timeout_add_seconds(RECONNECT_SECONDS, reconnect_timeout, self);
}

static void
drop_bus(VigilTrayClient *self)
{
	drop_session(self);
	if (self->agent != NULL) {
		g_signal_handlers_disconnect_by_data(self->agent, self);
		g_clear_object(&self->agent);
	}
	if (self->bus != NULL) {
		g_clear_signal_handler(&self->closed_id, self->bus);
		g_clear_object(&self->bus);
	}
}

static void
bus_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
           VigilTrayClient *self)
{
	g_message("lost the system bus%s%s", error != NULL ? ": " : "",
	          error != NULL ? error->message : "");
	drop_bus(self);
	emit_changed(self);
	schedule_reconnect(self);
}

static void
bus_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VigilTrayClient) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = g_dbus_connection_new_for_address_finish(res, &error);

	if (bus == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			if (!self->bus_failure_logged)
				g_message("cannot connect to the system bus (trying again every "
				          "%d s): %s",
				          RECONNECT_SECONDS, error->message);
			self->bus_failure_logged = TRUE;
			schedule_reconnect(self);
		}
		return;
	}
	/* our own connection, not the process-wide singleton: losing the bus must not end the
	 * app (exit-on-close), and a new connection replaces it */
	g_dbus_connection_set_exit_on_close(bus, FALSE);
	self->bus_failure_logged = FALSE;
	self->bus = g_steal_pointer(&bus);
	self->closed_id = g_signal_connect(self->bus, "closed", G_CALLBACK(bus_closed), self);
	/* vigild sends Prompt() for the requests already open right after it registered us */
	self->agent =
	    vigil_client_agent_new(self->bus, VIGIL_TRAY_AGENT_PATH, G_DBUS_CALL_FLAGS_NONE, -1);
	g_signal_connect(self->agent, "prompt", G_CALLBACK(agent_prompt), self);
	g_signal_connect(self->agent, "cancel", G_CALLBACK(agent_cancel), self);
	g_signal_connect(self->agent, "notify-event", G_CALLBACK(agent_notify), self);
	g_signal_connect(self->agent, "vigild-appeared", G_CALLBACK(vigild_appeared), self);
	g_signal_connect(self->agent, "vigild-vanished", G_CALLBACK(vigild_vanished), self);
	g_signal_connect(self->agent, "registered", G_CALLBACK(agent_registered), self);
	g_signal_connect(self->agent, "register-failed", G_CALLBACK(agent_register_failed), self);
	if (!vigil_client_agent_start(self->agent, &error))
		g_warning("cannot export the agent: %s", error->message);
}

static void
connect_bus(VigilTrayClient *self)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &error);

	if (address == NULL) {
		if (!self->bus_failure_logged)
			g_message("no system bus: %s", error->message);
		self->bus_failure_logged = TRUE;
		schedule_reconnect(self);
		return;
	}
	g_dbus_connection_new_for_address(address,
	                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
	                                      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	                                  NULL, self->bus_cancellable, bus_cb, g_object_ref(self));
}

void
vigil_tray_client_start(VigilTrayClient *self)
{
	g_return_if_fail(VIGIL_IS_TRAY_CLIENT(self));
	g_return_if_fail(self->bus == NULL);

	connect_bus(self);
}

VigilTrayClientState
vigil_tray_client_get_state(VigilTrayClient *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_CLIENT(self), VIGIL_TRAY_CLIENT_STATE_UNREACHABLE);

	if (self->firewall == NULL)
		return VIGIL_TRAY_CLIENT_STATE_UNREACHABLE;
	return vigil_firewall_get_enabled(self->firewall) ? VIGIL_TRAY_CLIENT_STATE_FILTERING
	                                                  : VIGIL_TRAY_CLIENT_STATE_PAUSED;
}

VigilFirewall *
vigil_tray_client_get_firewall(VigilTrayClient *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_CLIENT(self), NULL);
	return self->firewall;
}

gboolean
vigil_tray_client_is_agent(VigilTrayClient *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_CLIENT(self), FALSE);
	return self->agent != NULL && self->owner != NULL &&
	       vigil_client_agent_is_registered(self->agent);
}

const char *
vigil_tray_client_get_agent_error(VigilTrayClient *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_CLIENT(self), NULL);
	g_clear_pointer(&self->agent_error_text, g_free);
	if (self->agent == NULL || vigil_client_agent_get_register_error(self->agent) == NULL)
		return NULL;
	self->agent_error_text =
	    vigil_client_error_plain_message(vigil_client_agent_get_register_error(self->agent));
	return self->agent_error_text;
}

const char *
vigil_tray_client_get_default_action(VigilTrayClient *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_CLIENT(self), NULL);
	if (self->firewall == NULL)
		return NULL;
	return vigil_firewall_get_default_action(self->firewall);
}

const char *
vigil_tray_client_get_permission(VigilTrayClient *self, const char *action)
{
	const char *value;

	g_return_val_if_fail(VIGIL_IS_TRAY_CLIENT(self), VIGIL_PERMISSION_NO);
	value = g_hash_table_lookup(self->permissions, action);
	return value != NULL ? value : VIGIL_PERMISSION_NO;
}

static void
call_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree char *what = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);

	if (ret == NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_dbus_error_strip_remote_error(error);
		g_warning("%s failed: %s", what, error->message);
	}
}

/* a call that polkit may first have to ask the user about, so it may take long */
static void
call_interactive(VigilTrayClient *self, const char *method, GVariant *args, char *what)
{
	g_dbus_proxy_call(G_DBUS_PROXY(self->firewall), method, args,
	                  G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT,
	                  self->session, call_cb, what);
}

typedef struct {
	guint64 request;
	void (*done)(guint64 request, gint64 seconds_left, gpointer data);
	gpointer data;
} HoldCall;

static void
hold_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree HoldCall *call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);
	guint32 left = 0;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (ret == NULL) {
		/* an older vigild, or the request ended: the countdown goes on as it was */
		g_debug("HoldRequest(%" G_GUINT64_FORMAT ") failed: %s", call->request,
		        error->message);
		call->done(call->request, -1, call->data);
		return;
	}
	g_variant_get(ret, "(u)", &left);
	call->done(call->request, left, call->data);
}

void
vigil_tray_client_hold(VigilTrayClient *self, guint64 request,
                       void (*done)(guint64 request, gint64 seconds_left, gpointer data),
                       gpointer data)
{
	HoldCall *call;

	g_return_if_fail(VIGIL_IS_TRAY_CLIENT(self));
	if (self->firewall == NULL)
		return;
	call = g_new0(HoldCall, 1);
	call->request = request;
	call->done = done;
	call->data = data;
	g_dbus_proxy_call(G_DBUS_PROXY(self->firewall), "HoldRequest",
	                  g_variant_new("(t)", request), G_DBUS_CALL_FLAGS_NONE, -1, self->session,
	                  hold_cb, call);
}

void
vigil_tray_client_reply(VigilTrayClient *self, guint64 request, const char *verdict,
                        GVariant *options)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(options);

	g_return_if_fail(VIGIL_IS_TRAY_CLIENT(self));

	if (self->firewall == NULL) {
		g_message("cannot answer request %" G_GUINT64_FORMAT ": vigild is gone", request);
		return;
	}
	call_interactive(self, "Reply", g_variant_new("(ts@a{sv})", request, verdict, sunk),
	                 g_strdup_printf("Reply(%" G_GUINT64_FORMAT ")", request));
}

void
vigil_tray_client_set_enabled(VigilTrayClient *self, gboolean enabled)
{
	g_return_if_fail(VIGIL_IS_TRAY_CLIENT(self));

	if (self->firewall == NULL)
		return;
	call_interactive(self, "SetEnabled", g_variant_new("(b)", enabled), g_strdup("SetEnabled"));
}

static void
vigil_tray_client_dispose(GObject *object)
{
	VigilTrayClient *self = VIGIL_TRAY_CLIENT(object);

	g_cancellable_cancel(self->bus_cancellable);
	g_clear_handle_id(&self->reconnect_id, g_source_remove);
	drop_bus(self);
	G_OBJECT_CLASS(vigil_tray_client_parent_class)->dispose(object);
}

static void
vigil_tray_client_finalize(GObject *object)
{
	VigilTrayClient *self = VIGIL_TRAY_CLIENT(object);

	g_clear_object(&self->bus_cancellable);
	g_free(self->agent_error_text);
	g_clear_pointer(&self->permissions, g_hash_table_unref);
	G_OBJECT_CLASS(vigil_tray_client_parent_class)->finalize(object);
}

static void
vigil_tray_client_class_init(VigilTrayClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vigil_tray_client_dispose;
	object_class->finalize = vigil_tray_client_finalize;

	signals[SIGNAL_CHANGED] =
	    g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
	                 NULL, G_TYPE_NONE, 0);
	signals[SIGNAL_PROMPT] =
	    g_signal_new("prompt", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
	                 G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_VARIANT);
	signals[SIGNAL_CANCEL] =
	    g_signal_new("cancel", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
	                 G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_STRING);
	signals[SIGNAL_RESET] = g_signal_new("reset", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
	                                     0, NULL, NULL, NULL, G_TYPE_NONE, 0);
	signals[SIGNAL_NOTIFY_EVENT] =
	    g_signal_new("notify-event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
	                 NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_VARIANT);
	signals[SIGNAL_RULES_CHANGED] =
	    g_signal_new("rules-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
	                 NULL, NULL, G_TYPE_NONE, 0);
}

static void
vigil_tray_client_init(VigilTrayClient *self)
{
	self->bus_cancellable = g_cancellable_new();
	self->permissions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

VigilTrayClient *
vigil_tray_client_new(void)
{
	return g_object_new(VIGIL_TYPE_TRAY_CLIENT, NULL);
}
