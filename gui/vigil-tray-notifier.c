/* vigil-tray-notifier.c: libnotify notifications, sent from one worker thread so that the UI never
 * waits for the notification server (notify_notification_show() is a blocking D-Bus call) */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <libnotify/notify.h>

#include "vigil-tray-notifier.h"

struct _VigilTrayNotifier {
	GObject parent;

	GThreadPool *worker;       /* one thread: libnotify's calls in order */
	GHashTable *notifications; /* key -> NotifyNotification, kept until closed */
	GMutex lock;               /* guards caps */
	gboolean caps_known;
	gboolean has_actions;
	gboolean has_body_markup;
};

enum { SIGNAL_ACTION, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(VigilTrayNotifier, vigil_tray_notifier, G_TYPE_OBJECT)

/* everything libnotify does with a notification happens in the worker */
typedef struct {
	VigilTrayNotifier *self; /* a reference */
	NotifyNotification *notification;
	char *summary;
	char *body;
	char *icon;
	char **actions;
	gboolean urgent;
} Job;

typedef struct {
	VigilTrayNotifier *self; /* weak: the notifier outlives its notifications' handlers */
	char *action;
} ActionData;

static void
job_free(Job *job)
{
	g_object_unref(job->self);
	g_object_unref(job->notification);
	g_free(job->summary);
	g_free(job->body);
	g_free(job->icon);
	g_strfreev(job->actions);
	g_free(job);
}

static gboolean
emit_action(gpointer user_data)
{
	ActionData *data = user_data;

	g_signal_emit(data->self, signals[SIGNAL_ACTION], 0, data->action);
	return G_SOURCE_REMOVE;
}

static void
action_data_free(gpointer user_data)
{
	ActionData *data = user_data;

	g_free(data->action);
	g_free(data);
}

/* libnotify calls this in the thread whose main context its proxy uses: hand it to the main
 * loop either way */
static void
action_activated(NotifyNotification *notification, char *action, gpointer user_data)
{
	ActionData *data = user_data;
	ActionData *copy = g_new0(ActionData, 1);

	copy->self = data->self;
	copy->action = g_strdup(data->action);
	g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, emit_action, copy, action_data_free);
}

/* the server's capabilities, asked once it answers */
static void
read_caps(VigilTrayNotifier *self, gboolean *actions, gboolean *body_markup)
{
	g_mutex_lock(&self->lock);
	if (!self->caps_known) {
		GList *caps = notify_get_server_caps();

		self->has_actions =
		    g_list_find_custom(caps, "actions", (GCompareFunc)g_strcmp0) != NULL;
		self->has_body_markup =
		    g_list_find_custom(caps, "body-markup", (GCompareFunc)g_strcmp0) != NULL;
		/* an empty list also means no server yet: ask again next time */
		self->caps_known = caps != NULL;
		g_list_free_full(caps, g_free);
	}
	*actions = self->has_actions;
	*body_markup = self->has_body_markup;
	g_mutex_unlock(&self->lock);
}

/* in the worker thread */
static void
show_job(gpointer data, gpointer user_data)
{
	Job *job = data;
	g_autoptr(GError) error = NULL;
	g_autofree char *escaped = NULL;
	gboolean has_actions = FALSE;
	gboolean body_markup = FALSE;

	read_caps(job->self, &has_actions, &body_markup);
	/* a body may carry a path or a host name: "<" or "&" in it is text, not markup */
	if (body_markup && job->body != NULL)
		escaped = g_markup_escape_text(job->body, -1);
	notify_notification_clear_actions(job->notification);
	notify_notification_update(job->notification, job->summary,
	                           escaped != NULL ? escaped : job->body, job->icon);
	notify_notification_set_urgency(job->notification, job->urgent ? NOTIFY_URGENCY_CRITICAL
	                                                               : NOTIFY_URGENCY_NORMAL);
	if (job->actions != NULL && has_actions) {
		for (guint i = 0; job->actions[i] != NULL && job->actions[i + 1] != NULL; i += 2) {
			ActionData *action = g_new0(ActionData, 1);

			action->self = job->self;
			action->action = g_strdup(job->actions[i]);
			notify_notification_add_action(job->notification, job->actions[i],
			                               job->actions[i + 1], action_activated,
			                               action, action_data_free);
		}
	}
	if (!notify_notification_show(job->notification, &error))
		g_message("cannot show a notification: %s", error->message);
	job_free(job);
}

static void
notification_closed(NotifyNotification *notification, VigilTrayNotifier *self)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->notifications);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (value == notification) {
			g_hash_table_iter_remove(&iter);
			break;
		}
	}
}

void
vigil_tray_notifier_show(VigilTrayNotifier *self, const char *key, const char *summary,
                         const char *body, const char *icon, const char *const *actions)
{
	vigil_tray_notifier_show_full(self, key, summary, body, icon, actions, FALSE);
}

void
vigil_tray_notifier_show_full(VigilTrayNotifier *self, const char *key, const char *summary,
                              const char *body, const char *icon, const char *const *actions,
                              gboolean urgent)
{
	NotifyNotification *notification;
	Job *job;

	g_return_if_fail(VIGIL_IS_TRAY_NOTIFIER(self));

	/* one with the same key is replaced, on screen too */
	notification = g_hash_table_lookup(self->notifications, key);
	if (notification == NULL) {
		notification = notify_notification_new(summary, body, icon);
		notify_notification_set_app_name(notification, "Vigil");
		notify_notification_set_hint(notification, "desktop-entry",
		                             g_variant_new_string("org.vigil.Tray"));
		g_signal_connect_object(notification, "closed", G_CALLBACK(notification_closed),
		                        self, 0);
		g_hash_table_insert(self->notifications, g_strdup(key), notification);
	}
	job = g_new0(Job, 1);
	job->self = g_object_ref(self);
	job->notification = g_object_ref(notification);
	job->summary = g_strdup(summary);
	job->body = g_strdup(body);
	job->icon = g_strdup(icon);
	job->actions = g_strdupv((char **)actions);
	job->urgent = urgent;
	g_thread_pool_push(self->worker, job, NULL);
}

static void
vigil_tray_notifier_dispose(GObject *object)
{
	VigilTrayNotifier *self = VIGIL_TRAY_NOTIFIER(object);

	if (self->worker != NULL) {
		/* let the queued notifications go out */
		g_thread_pool_free(self->worker, FALSE, TRUE);
		self->worker = NULL;
	}
	g_clear_pointer(&self->notifications, g_hash_table_unref);
	G_OBJECT_CLASS(vigil_tray_notifier_parent_class)->dispose(object);
}

static void
vigil_tray_notifier_finalize(GObject *object)
{
	VigilTrayNotifier *self = VIGIL_TRAY_NOTIFIER(object);

	g_mutex_clear(&self->lock);
	G_OBJECT_CLASS(vigil_tray_notifier_parent_class)->finalize(object);
}

static void
vigil_tray_notifier_class_init(VigilTrayNotifierClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vigil_tray_notifier_dispose;
	G_OBJECT_CLASS(klass)->finalize = vigil_tray_notifier_finalize;
	signals[SIGNAL_ACTION] = g_signal_new("action", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
	                                      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
vigil_tray_notifier_init(VigilTrayNotifier *self)
{
	g_mutex_init(&self->lock);
	self->notifications =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->worker = g_thread_pool_new(show_job, self, 1, TRUE, NULL);
}

VigilTrayNotifier *
vigil_tray_notifier_new(const char *app_name)
{
	if (!notify_is_initted())
		notify_init(app_name);
	return g_object_new(VIGIL_TYPE_TRAY_NOTIFIER, NULL);
}
