/* vigil-client-agent.c: exports the prompt agent, lets only vigild call it, registers it with each
 * vigild */
#define G_LOG_DOMAIN "vigil-client"
#include "config.h"

#include <glib/gi18n-lib.h>

#include "vigil-client-agent.h"
#include "vigil-client-error.h"
#include "vigil-dbus.h"

struct _VigilClientAgent {
	GObject parent;

	GDBusConnection *bus;
	char *path;
	GDBusCallFlags register_flags;
	int register_timeout_ms;
	VigilAgent *skeleton;
	guint watch_id;

	/* per appearance of vigild */
	char *owner; /* its unique name: the only caller we answer */
	GCancellable *session;
	gboolean registered;
	GError *register_error;
};

enum {
	SIGNAL_PROMPT,
	SIGNAL_CANCEL,
	SIGNAL_NOTIFY_EVENT,
	SIGNAL_VIGILD_APPEARED,
	SIGNAL_VIGILD_VANISHED,
	SIGNAL_REGISTERED,
	SIGNAL_REGISTER_FAILED,
	N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(VigilClientAgent, vigil_client_agent, G_TYPE_OBJECT)

/* the one caller check: the bus policy lets only root call agents; still, only the current
 * owner of org.vigil.Firewall1 may ask this user anything */
static gboolean
on_authorize(GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation,
             VigilClientAgent *self)
{
	const char *sender = g_dbus_method_invocation_get_sender(invocation);

	if (self->owner != NULL && g_strcmp0(sender, self->owner) == 0)
		return TRUE;
	g_dbus_method_invocation_return_dbus_error(invocation,
	                                           "org.freedesktop.DBus.Error.AccessDenied",
	                                           _("only vigild may call this agent"));
	return FALSE;
}

static gboolean
on_prompt(VigilAgent *skeleton, GDBusMethodInvocation *invocation, guint64 request,
          GVariant *connection, VigilClientAgent *self)
{
	gboolean refused = FALSE;

	g_signal_emit(self, signals[SIGNAL_PROMPT], 0, request, connection, &refused);
	if (refused)
		g_dbus_method_invocation_return_dbus_error(
		    invocation, "org.freedesktop.DBus.Error.LimitsExceeded", _("too many prompts"));
	else
		vigil_agent_complete_prompt(skeleton, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_cancel(VigilAgent *skeleton, GDBusMethodInvocation *invocation, guint64 request,
          const char *reason, VigilClientAgent *self)
{
	vigil_agent_complete_cancel(skeleton, invocation);
	g_signal_emit(self, signals[SIGNAL_CANCEL], 0, request, reason);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_notify(VigilAgent *skeleton, GDBusMethodInvocation *invocation, const char *kind,
          GVariant *details, VigilClientAgent *self)
{
	vigil_agent_complete_notify(skeleton, invocation);
	g_signal_emit(self, signals[SIGNAL_NOTIFY_EVENT], 0, kind, details);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
drop_session(VigilClientAgent *self)
{
	if (self->session != NULL) {
		g_cancellable_cancel(self->session);
		g_clear_object(&self->session);
	}
	g_clear_pointer(&self->owner, g_free);
	g_clear_error(&self->register_error);
	self->registered = FALSE;
}

static void
on_registered(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(VigilClientAgent) self = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (ret == NULL) {
		self->register_error = g_steal_pointer(&error);
		g_signal_emit(self, signals[SIGNAL_REGISTER_FAILED], 0, self->register_error);
		return;
	}
	g_debug("registered as the prompt agent of %s", self->owner);
	self->registered = TRUE;
	g_signal_emit(self, signals[SIGNAL_REGISTERED], 0);
}

static void
on_vigild_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
	VigilClientAgent *self = data;

	drop_session(self);
	self->owner = g_strdup(owner);
	self->session = g_cancellable_new();
	g_signal_emit(self, signals[SIGNAL_VIGILD_APPEARED], 0, owner);
	/* to the unique name: this agent registers with the vigild it answers, no other */
	g_dbus_connection_call(self->bus, owner, VIGIL_DBUS_PATH, VIGIL_DBUS_INTERFACE,
	                       "RegisterAgent", g_variant_new("(o)", self->path), NULL,
	                       self->register_flags, self->register_timeout_ms, self->session,
	                       on_registered, g_object_ref(self));
}

static void
on_vigild_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
	VigilClientAgent *self = data;

	drop_session(self);
	/* GLib passes no connection when the bus connection itself closed */
	g_signal_emit(self, signals[SIGNAL_VIGILD_VANISHED], 0, bus == NULL);
}

gboolean
vigil_client_agent_start(VigilClientAgent *self, GError **error)
{
	g_return_val_if_fail(VIGIL_IS_CLIENT_AGENT(self), FALSE);
	g_return_val_if_fail(self->watch_id == 0, FALSE);

	vigil_client_error_init();
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton), self->bus,
	                                      self->path, error))
		return FALSE;
	self->watch_id = g_bus_watch_name_on_connection(
	    self->bus, VIGIL_DBUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE, on_vigild_appeared,
	    on_vigild_vanished, self, NULL);
	return TRUE;
}

const char *
vigil_client_agent_get_owner(VigilClientAgent *self)
{
	g_return_val_if_fail(VIGIL_IS_CLIENT_AGENT(self), NULL);
	return self->owner;
}

gboolean
vigil_client_agent_is_registered(VigilClientAgent *self)
{
	g_return_val_if_fail(VIGIL_IS_CLIENT_AGENT(self), FALSE);
	return self->registered;
}

const GError *
vigil_client_agent_get_register_error(VigilClientAgent *self)
{
	g_return_val_if_fail(VIGIL_IS_CLIENT_AGENT(self), NULL);
	return self->register_error;
}

void
vigil_client_agent_unregister_sync(VigilClientAgent *self, int timeout_ms)
{
	g_autoptr(GVariant) ret = NULL;

	g_return_if_fail(VIGIL_IS_CLIENT_AGENT(self));

	if (!self->registered)
		return;
	ret = g_dbus_connection_call_sync(self->bus, self->owner, VIGIL_DBUS_PATH,
	                                  VIGIL_DBUS_INTERFACE, "UnregisterAgent", NULL, NULL,
	                                  G_DBUS_CALL_FLAGS_NONE, timeout_ms, NULL, NULL);
	self->registered = FALSE;
}

static void
vigil_client_agent_dispose(GObject *object)
{
	VigilClientAgent *self = VIGIL_CLIENT_AGENT(object);

	drop_session(self);
	g_clear_handle_id(&self->watch_id, g_bus_unwatch_name);
	if (self->skeleton != NULL) {
		if (g_dbus_interface_skeleton_has_connection(
		        G_DBUS_INTERFACE_SKELETON(self->skeleton), self->bus))
			g_dbus_interface_skeleton_unexport(
			    G_DBUS_INTERFACE_SKELETON(self->skeleton));
		g_signal_handlers_disconnect_by_data(self->skeleton, self);
		g_clear_object(&self->skeleton);
	}
	g_clear_object(&self->bus);
	G_OBJECT_CLASS(vigil_client_agent_parent_class)->dispose(object);
}

static void
vigil_client_agent_finalize(GObject *object)
{
	VigilClientAgent *self = VIGIL_CLIENT_AGENT(object);

	g_free(self->path);
	G_OBJECT_CLASS(vigil_client_agent_parent_class)->finalize(object);
}

static void
vigil_client_agent_class_init(VigilClientAgentClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GType type = G_TYPE_FROM_CLASS(klass);

	object_class->dispose = vigil_client_agent_dispose;
	object_class->finalize = vigil_client_agent_finalize;

	signals[SIGNAL_PROMPT] =
	    g_signal_new("prompt", type, G_SIGNAL_RUN_LAST, 0, g_signal_accumulator_true_handled,
	                 NULL, NULL, G_TYPE_BOOLEAN, 2, G_TYPE_UINT64, G_TYPE_VARIANT);
	signals[SIGNAL_CANCEL] = g_signal_new("cancel", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL,
	                                      NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_STRING);
	signals[SIGNAL_NOTIFY_EVENT] =
	    g_signal_new("notify-event", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
	                 2, G_TYPE_STRING, G_TYPE_VARIANT);
	signals[SIGNAL_VIGILD_APPEARED] =
	    g_signal_new("vigild-appeared", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
	                 G_TYPE_NONE, 1, G_TYPE_STRING);
	signals[SIGNAL_VIGILD_VANISHED] =
	    g_signal_new("vigild-vanished", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
	                 G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
	signals[SIGNAL_REGISTERED] = g_signal_new("registered", type, G_SIGNAL_RUN_LAST, 0, NULL,
	                                          NULL, NULL, G_TYPE_NONE, 0);
	signals[SIGNAL_REGISTER_FAILED] =
	    g_signal_new("register-failed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
	                 G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
vigil_client_agent_init(VigilClientAgent *self)
{
	self->skeleton = vigil_agent_skeleton_new();
	g_signal_connect(self->skeleton, "g-authorize-method", G_CALLBACK(on_authorize), self);
	g_signal_connect(self->skeleton, "handle-prompt", G_CALLBACK(on_prompt), self);
	g_signal_connect(self->skeleton, "handle-cancel", G_CALLBACK(on_cancel), self);
	g_signal_connect(self->skeleton, "handle-notify", G_CALLBACK(on_notify), self);
}

VigilClientAgent *
vigil_client_agent_new(GDBusConnection *bus, const char *path, GDBusCallFlags register_flags,
                       int register_timeout_ms)
{
	VigilClientAgent *self = g_object_new(VIGIL_TYPE_CLIENT_AGENT, NULL);

	self->bus = g_object_ref(bus);
	self->path = g_strdup(path);
	self->register_flags = register_flags;
	self->register_timeout_ms = register_timeout_ms;
	return self;
}
