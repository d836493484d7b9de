/* vigil-tray-prompt-window.c: shows and answers connection requests, one at a time, never a storm
 */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-dbus.h"
#include "vigil-tray-prompt-window.h"
#include "vigil-text.h"

/* the buttons stay insensitive this long after a request appears, so that a click or key
 * meant for something else does not answer it */
#define ARM_DELAY_MS 1000
/* vigild sends Cancel() at the timeout; if it does not (it died), the request is dropped
 * this long after its timeout */
#define EXPIRY_GRACE_SECONDS 5
/* while the user reads the details, vigild is asked to hold the request at each tick (a
 * second; HoldRequest: PromptTimeout from now, bounded by vigild) */
#define HOLD_INTERVAL_US (900 * G_TIME_SPAN_MILLISECOND)

struct _VigilTrayPromptWindow {
	GtkApplicationWindow parent;

	VigilTrayAppIndex *apps;
	GQueue queue; /* VigilClientRequest *, the one shown first */
	char *default_action;
	guint arm_id;
	guint tick_id;
	gint64 held_at;       /* monotonic: when the current request was last held, or 0 */
	gboolean hold_failed; /* vigild did not hold it (an older vigild): the countdown runs */

	GtkImage *program_icon;
	GtkLabel *headline_label;
	GtkLabel *program_label;
	GtkLabel *app_label;
	GtkWidget *claim_box;
	GtkLabel *claim_label;
	GtkLabel *destination_label;
	GtkLabel *port_label;
	GtkLabel *protocol_label;
	GtkLabel *process_label;
	GtkLabel *via_title;
	GtkLabel *via_label;
	GtkWidget *warning_box;
	GtkLabel *warning_label;
	GtkExpander *details_expander;
	GtkLabel *cmdline_label;
	GtkLabel *sha256_label;
	GtkLabel *appid_label;
	GtkLabel *parents_label;
	GtkWidget *sandbox_title;
	GtkLabel *sandbox_label;
	GtkComboBoxText *duration_combo;
	GtkComboBoxText *host_combo;
	GtkComboBoxText *port_combo;
	GtkWidget *script_title;
	GtkComboBoxText *script_combo;
	GtkLabel *countdown_label;
	GtkLabel *queue_label;
	GtkWidget *queue_expander;
	GtkBox *queue_box;
	GtkToggleButton *all_check;
	GtkWidget *allow_button;
	GtkWidget *deny_button;
	GtkWidget *drop_button;
};

enum { SIGNAL_REPLY, SIGNAL_PENDING_CHANGED, SIGNAL_HOLD, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(VigilTrayPromptWindow, vigil_tray_prompt_window, GTK_TYPE_APPLICATION_WINDOW)

static VigilClientRequest *
current(VigilTrayPromptWindow *self)
{
	return g_queue_peek_head(&self->queue);
}

/* @text came from vigild or the process: shown sanitized, "unknown" when missing */
static void
set_untrusted(GtkLabel *label, const char *text, gsize max_chars)
{
	g_autofree char *shown = NULL;

	if (text == NULL || *text == '\0') {
		gtk_label_set_text(label, _("unknown"));
		return;
	}
	shown = vigil_text_sanitize(text, max_chars);
	gtk_label_set_text(label, shown);
}

/* the program's icon and the names others give it: only root's .desktop file may show its
 * icon; a claim is shown as one */
static void
fill_identity(VigilTrayPromptWindow *self, VigilClientRequest *prompt)
{
	g_autoptr(VigilAppMatch) match =
	    vigil_tray_app_index_lookup(self->apps, prompt->program, prompt->appid);
	GIcon *icon = match->app != NULL ? g_app_info_get_icon(G_APP_INFO(match->app)) : NULL;

	if (icon != NULL)
		gtk_image_set_from_gicon(self->program_icon, icon, GTK_ICON_SIZE_DIALOG);
	else
		gtk_image_set_from_icon_name(self->program_icon, "application-x-executable",
		                             GTK_ICON_SIZE_DIALOG);
	gtk_image_set_pixel_size(self->program_icon, 48);

	gtk_widget_set_visible(GTK_WIDGET(self->app_label), match->app != NULL);
	if (match->app != NULL) {
		g_autofree char *name = vigil_text_sanitize(
		    g_app_info_get_display_name(G_APP_INFO(match->app)), VIGIL_TEXT_MAX_NAME);
		g_autofree char *file = vigil_text_sanitize(
		    g_desktop_app_info_get_filename(match->app), VIGIL_TEXT_MAX_LINE);
		/* TRANSLATORS: the installed application that runs this executable */
		g_autofree char *text = g_strdup_printf(_("Application: %s"), name);
		/* TRANSLATORS: %s is a .desktop file's path */
		g_autofree char *tip = g_strdup_printf(_("Installed by the system: %s"), file);

		gtk_label_set_text(self->app_label, text);
		gtk_widget_set_tooltip_text(GTK_WIDGET(self->app_label), tip);
	}
	gtk_widget_set_visible(self->claim_box, match->claimed_name != NULL);
	if (match->claimed_name != NULL) {
		g_autofree char *claim =
		    vigil_text_sanitize(match->claimed_name, VIGIL_TEXT_MAX_NAME);
		/* TRANSLATORS: a name the program's app id or a user's .desktop file gives it,
		 * which Vigil cannot check */
		g_autofree char *text = g_strdup_printf(_("Claims to be: %s (unverified)"), claim);

		gtk_label_set_text(self->claim_label, text);
		gtk_widget_set_tooltip_text(
		    GTK_WIDGET(self->claim_label),
		    _("This name comes from the program's app id or from a .desktop file that any "
		      "program of yours could have written. Only the path above is checked."));
	}
}

/* the user reads the prompt: they opened its details. Not the pointer: a prompt that appears
 * under a resting pointer would never time out */
static gboolean
reading(VigilTrayPromptWindow *self)
{
	return current(self) != NULL && !self->hold_failed &&
	       gtk_expander_get_expanded(self->details_expander);
}

/* while the user reads, vigild holds the request (and the program waits) */
static void
hold_if_reading(VigilTrayPromptWindow *self)
{
	gint64 now = g_get_monotonic_time();

	if (!reading(self) || now - self->held_at < HOLD_INTERVAL_US)
		return;
	self->held_at = now;
	g_signal_emit(self, signals[SIGNAL_HOLD], 0, current(self)->id);
}

static void
update_countdown(VigilTrayPromptWindow *self)
{
	VigilClientRequest *prompt = current(self);
	guint left;
	g_autofree char *text = NULL;

	if (prompt == NULL)
		return;
	if (reading(self)) {
		gtk_label_set_text(self->countdown_label,
		                   _("The countdown waits while the details are open (a few "
		                     "minutes at most)."));
		return;
	}
	left = vigil_client_request_seconds_left(prompt, g_get_monotonic_time());
	if (g_strcmp0(self->default_action, "allow") == 0)
		text = g_strdup_printf(ngettext("Without an answer in %u second, the connection "
		                                "will be allowed once.",
		                                "Without an answer in %u seconds, the connection "
		                                "will be allowed once.",
		                                left),
		                       left);
	else
		text = g_strdup_printf(ngettext("Without an answer in %u second, the connection "
		                                "will be denied once.",
		                                "Without an answer in %u seconds, the connection "
		                                "will be denied once.",
		                                left),
		                       left);
	gtk_label_set_text(self->countdown_label, text);
}

/* another request of the same program and user as @head, which "answer all" answers too */
static gboolean
same_program(const VigilClientRequest *head, const VigilClientRequest *other)
{
	return other->uid == head->uid && g_strcmp0(other->program, head->program) == 0;
}

/* "2 more waiting", the list of them, and "answer all" for those of this program */
static void
update_queue(VigilTrayPromptWindow *self)
{
	VigilClientRequest *head = current(self);
	guint more = g_queue_get_length(&self->queue);
	guint same = 0;
	g_autofree char *text = NULL;
	g_autoptr(GList) old = gtk_container_get_children(GTK_CONTAINER(self->queue_box));

	more = more > 0 ? more - 1 : 0;
	gtk_widget_set_visible(self->queue_expander, more > 0);
	text = g_strdup_printf(ngettext("%u more waiting", "%u more waiting", more), more);
	gtk_label_set_text(self->queue_label, text);
	for (GList *l = old; l != NULL; l = l->next)
		gtk_widget_destroy(l->data);
	for (GList *l = head != NULL ? self->queue.head->next : NULL; l != NULL; l = l->next) {
		VigilClientRequest *prompt = l->data;
		g_autofree char *name = vigil_client_request_display_name(prompt);
		g_autofree char *destination = vigil_client_request_format_host(prompt);
		g_autofree char *port = vigil_client_request_format_port(prompt);
		/* TRANSLATORS: a waiting request: "curl to example.org, port 443 (https)" */
		g_autofree char *line =
		    g_strdup_printf(_("%s to %s, port %s"), name, destination, port);
		GtkWidget *label = gtk_label_new(line);

		gtk_label_set_xalign(GTK_LABEL(label), 0);
		gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
		gtk_label_set_max_width_chars(GTK_LABEL(label), 48);
		gtk_widget_show(label);
		gtk_container_add(GTK_CONTAINER(self->queue_box), label);
		same += same_program(head, prompt);
	}
	gtk_widget_set_visible(GTK_WIDGET(self->all_check), same > 0);
	if (same > 0) {
		g_autofree char *name = vigil_client_request_display_name(head);
		g_autofree char *label = g_strdup_printf(
		    /* TRANSLATORS: %u other requests of the program %s wait behind this one */
		    ngettext("Answer the %u other request from %s the same way",
		             "Answer the %u other requests from %s the same way", same),
		    same, name);

		gtk_button_set_label(GTK_BUTTON(self->all_check), label);
	} else {
		gtk_toggle_button_set_active(self->all_check, FALSE);
	}
}

static gboolean
arm_timeout(gpointer user_data)
{
	VigilTrayPromptWindow *self = user_data;
	GtkWidget *focus = NULL;
	GtkWidget *chosen = NULL;

	self->arm_id = 0;
	gtk_widget_set_sensitive(self->allow_button, TRUE);
	gtk_widget_set_sensitive(self->deny_button, TRUE);
	gtk_widget_set_sensitive(self->drop_button, TRUE);
	/* from now on a click may focus the window, so that the mnemonics work */
	gtk_window_set_accept_focus(GTK_WINDOW(self), TRUE);
	/* the keyboard starts on the default button, unless the user is on another control */
	focus = gtk_window_get_focus(GTK_WINDOW(self));
	chosen = gtk_window_get_default_widget(GTK_WINDOW(self));
	if (chosen != NULL && (focus == NULL || focus == self->allow_button ||
	                       focus == self->deny_button || focus == self->drop_button))
		gtk_widget_grab_focus(chosen);
	return G_SOURCE_REMOVE;
}

/* the buttons answer only a second after a request is on screen */
static void
disarm(VigilTrayPromptWindow *self)
{
	gtk_widget_set_sensitive(self->allow_button, FALSE);
	gtk_widget_set_sensitive(self->deny_button, FALSE);
	gtk_widget_set_sensitive(self->drop_button, FALSE);
	g_clear_handle_id(&self->arm_id, g_source_remove);
	self->arm_id = g_timeout_add(ARM_DELAY_MS, arm_timeout, self);
}

static void
fill_program(VigilTrayPromptWindow *self, VigilClientRequest *prompt)
{
	g_autofree char *name = vigil_client_request_display_name(prompt);
	g_autofree char *destination = vigil_client_request_format_host(prompt);
	g_autofree char *port = vigil_client_request_format_port(prompt);
	g_autofree char *protocol = vigil_client_request_format_protocol(prompt);
	g_autofree char *headline = NULL;
	g_autofree char *path = NULL;

	fill_identity(self, prompt);
	/* the protocol without its family: "TCP port 443" */
	if (strchr(protocol, '/') != NULL)
		*strchr(protocol, '/') = '\0';
	if (prompt->has_port)
		headline = g_markup_printf_escaped(
		    /* TRANSLATORS: "curl wants to connect to example.org on TCP port 443
		     * (https)" */
		    _("<b>%s</b> wants to connect to <b>%s</b> on %s port %s"), name, destination,
		    protocol, port);
	else
		headline = g_markup_printf_escaped(_("<b>%s</b> wants to connect to <b>%s</b>"),
		                                   name, destination);
	gtk_label_set_markup(self->headline_label, headline);
	set_untrusted(self->program_label, prompt->program, VIGIL_TEXT_MAX_LINE);
	path = vigil_text_sanitize(prompt->program, VIGIL_TEXT_MAX_LINE);
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->program_label), path);
}

/* another mount namespace that is its app's own sandbox (vigild checked the executable against
 * the host's installation) is a fact for Details, not a warning */
static gboolean
in_own_sandbox(const VigilClientRequest *prompt)
{
	return prompt->foreign_mount_ns && prompt->appid != NULL &&
	       (g_strcmp0(prompt->app_sandbox, VIGIL_APP_SANDBOX_SNAP) == 0 ||
	        g_strcmp0(prompt->app_sandbox, VIGIL_APP_SANDBOX_FLATPAK) == 0);
}

static void
fill_sandbox(VigilTrayPromptWindow *self, VigilClientRequest *prompt)
{
	g_autofree char *appid = NULL;
	g_autofree char *text = NULL;

	gtk_widget_set_visible(self->sandbox_title, in_own_sandbox(prompt));
	gtk_widget_set_visible(GTK_WIDGET(self->sandbox_label), in_own_sandbox(prompt));
	if (!in_own_sandbox(prompt))
		return;
	appid = vigil_text_sanitize(prompt->appid, VIGIL_TEXT_MAX_LINE);
	if (g_str_equal(prompt->app_sandbox, VIGIL_APP_SANDBOX_SNAP))
		/* TRANSLATORS: %s is a snap's name */
		text = g_strdup_printf(_("The snap %s: the program is the snap's own file, in the "
		                         "snap's mount namespace"),
		                       appid);
	else
		/* TRANSLATORS: %s is a flatpak app id */
		text = g_strdup_printf(_("The Flatpak app %s: the program is the app's own file, "
		                         "in its sandbox's mount namespace"),
		                       appid);
	gtk_label_set_text(self->sandbox_label, text);
}

static void
fill_connection(VigilTrayPromptWindow *self, VigilClientRequest *prompt)
{
	g_autofree char *destination = vigil_client_request_format_destination(prompt);
	g_autofree char *port = vigil_client_request_format_port(prompt);
	g_autofree char *protocol = vigil_client_request_format_protocol(prompt);
	g_autofree char *via = vigil_client_request_format_via(prompt);
	g_autofree char *parents = vigil_client_request_format_parents(prompt);
	g_autofree char *process = NULL;
	g_autofree char *user = NULL;

	gtk_label_set_text(self->destination_label, destination);
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->destination_label), destination);
	gtk_label_set_text(self->port_label, port);
	gtk_label_set_text(self->protocol_label, protocol);
	user = prompt->user != NULL ? vigil_text_sanitize(prompt->user, VIGIL_TEXT_MAX_NAME)
	                            : g_strdup_printf("%u", prompt->uid);
	if (prompt->pid != 0)
		/* TRANSLATORS: "PID 4242, user alice" */
		process = g_strdup_printf(_("PID %u, user %s"), prompt->pid, user);
	else
		process = g_strdup_printf(_("unknown, user %s"), user);
	gtk_label_set_text(self->process_label, process);
	gtk_widget_set_visible(GTK_WIDGET(self->via_title), via != NULL);
	gtk_widget_set_visible(GTK_WIDGET(self->via_label), via != NULL);
	gtk_label_set_text(self->via_label, via != NULL ? via : "");
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->via_label), parents);

	set_untrusted(self->cmdline_label, prompt->cmdline, VIGIL_TEXT_MAX_LONG);
	set_untrusted(self->sha256_label, prompt->sha256, VIGIL_TEXT_MAX_NAME);
	if (prompt->sha256 == NULL && prompt->hash_pending)
		gtk_label_set_text(self->sha256_label, _("still being computed (a big file): a "
		                                         "rule made now gets it once it is made"));
	if (prompt->appid != NULL) {
		g_autofree char *appid = vigil_text_sanitize(prompt->appid, VIGIL_TEXT_MAX_LINE);
		/* TRANSLATORS: an app id (from the program's cgroup), which Vigil cannot check */
		g_autofree char *text = g_strdup_printf(_("%s (unverified)"), appid);

		gtk_label_set_text(self->appid_label, text);
	} else {
		gtk_label_set_text(self->appid_label, _("none"));
	}
	gtk_label_set_text(self->parents_label, *parents != '\0' ? parents : _("none"));
	fill_sandbox(self, prompt);
}

static void
add_warning(GString *text, const char *sentence)
{
	if (text->len > 0)
		g_string_append_c(text, '\n');
	g_string_append(text, sentence);
}

static void
fill_warning(VigilTrayPromptWindow *self, VigilClientRequest *prompt)
{
	g_autoptr(GString) text = g_string_new(NULL);

	if (prompt->binary_changed) {
		g_autofree char *why = vigil_client_format_changed_reason(prompt->changed_reason,
		                                                          prompt->changed_package);

		add_warning(text, _("This program has changed since a rule was made for it: "
		                    "its file no longer matches that rule."));
		if (why != NULL)
			add_warning(text, why);
	}
	if (prompt->exe_deleted)
		add_warning(text, _("The program's file was deleted or replaced after the "
		                    "program started."));
	if (prompt->foreign_mount_ns && !in_own_sandbox(prompt))
		add_warning(text, _("The program runs in another mount namespace (e.g. a "
		                    "container): its path may name another file there."));
	/* code injected by another program of the user runs with this program's name: say so */
	if (prompt->traced_by != 0) {
		g_autofree char *traced = g_strdup_printf(
		    /* TRANSLATORS: %u is the pid of a debugger or other tracing process */
		    _("The program is being traced by process %u (a debugger, or another program "
		      "controlling it): the connection may not be its own doing."),
		    prompt->traced_by);

		add_warning(text, traced);
	}
	if (prompt->preload)
		add_warning(text, _("The program was started with preloaded libraries "
		                    "(LD_PRELOAD or LD_AUDIT): code other than its file's may run "
		                    "in it."));
	gtk_label_set_text(self->warning_label, text->str);
	gtk_widget_set_visible(self->warning_box, text->len > 0);
}

static void duration_changed(VigilTrayPromptWindow *self);

/* the user's default answer (Preferences) is the default button, drawn as the suggested one:
 * what Enter presses once the buttons answer */
static void
set_default_button(VigilTrayPromptWindow *self, const char *verdict)
{
	GtkWidget *chosen =
	    g_strcmp0(verdict, "deny") == 0 ? self->deny_button : self->allow_button;
	GtkWidget *other = chosen == self->allow_button ? self->deny_button : self->allow_button;

	gtk_style_context_remove_class(gtk_widget_get_style_context(other),
	                               GTK_STYLE_CLASS_SUGGESTED_ACTION);
	gtk_style_context_add_class(gtk_widget_get_style_context(chosen),
	                            GTK_STYLE_CLASS_SUGGESTED_ACTION);
	gtk_widget_grab_default(chosen);
}

static void
fill_choices(VigilTrayPromptWindow *self, VigilClientRequest *prompt)
{
	g_autofree char *only_host = NULL;
	g_autofree char *only_port = NULL;
	VigilClientHostScope host;
	g_autofree char *target =
	    vigil_text_sanitize(prompt->host_target != NULL   ? prompt->host_target
	                        : prompt->destination != NULL ? prompt->destination
	                                                      : _("unknown"),
	                        VIGIL_TEXT_MAX_LINE);

	/* the user's default (Preferences), read again for each request */
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->duration_combo),
	                            vigil_client_duration_to_id(vigil_client_prefs_get_duration()));

	gtk_combo_box_text_remove_all(self->host_combo);
	/* TRANSLATORS: a rule's destination: only this host or address */
	only_host = g_strdup_printf(_("Only %s"), target);
	gtk_combo_box_text_append(self->host_combo, VIGIL_HOST_SCOPE_HOST, only_host);
	if (prompt->domain_target != NULL) {
		/* TRANSLATORS: a rule's destination: e.g. "Any host in *.example.org" */
		g_autofree char *suffix =
		    vigil_text_sanitize(prompt->domain_target, VIGIL_TEXT_MAX_LINE);
		g_autofree char *domain = g_strdup_printf(_("Any host in %s"), suffix);

		gtk_combo_box_text_append(self->host_combo, VIGIL_HOST_SCOPE_DOMAIN, domain);
	}
	gtk_combo_box_text_append(self->host_combo, VIGIL_HOST_SCOPE_ANY, _("Any host"));
	/* the user's default destination (Preferences); its domain only where there is one */
	host = vigil_client_prefs_get_host_scope();
	if (host == VIGIL_CLIENT_HOST_SCOPE_DOMAIN && prompt->domain_target == NULL)
		host = VIGIL_CLIENT_HOST_SCOPE_HOST;
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->host_combo),
	                            vigil_client_host_scope_to_id(host));

	gtk_combo_box_text_remove_all(self->port_combo);
	if (prompt->has_port)
		only_port = g_strdup_printf(_("Only port %u"), prompt->port);
	else
		only_port = g_strdup(_("Only this kind of connection"));
	gtk_combo_box_text_append(self->port_combo, VIGIL_PORT_SCOPE_PORT, only_port);
	gtk_combo_box_text_append(self->port_combo, VIGIL_PORT_SCOPE_ANY, _("Any port"));
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->port_combo), VIGIL_PORT_SCOPE_PORT);
	/* an interpreter: a rule for its script, or for all it runs (as for any program) */
	gtk_combo_box_text_remove_all(self->script_combo);
	gtk_widget_set_visible(self->script_title, prompt->script != NULL);
	gtk_widget_set_visible(GTK_WIDGET(self->script_combo), prompt->script != NULL);
	if (prompt->script != NULL) {
		g_autofree char *name = vigil_client_request_display_name(prompt);
		g_autofree char *script = vigil_text_sanitize(prompt->script, VIGIL_TEXT_MAX_LINE);
		/* TRANSLATORS: a rule for an interpreter: "Anything python3 runs" */
		g_autofree char *any = g_strdup_printf(_("Anything %s runs"), name);
		/* TRANSLATORS: a rule for one script of an interpreter: "Only /home/a/sync.py" */
		g_autofree char *only = g_strdup_printf(_("Only %s"), script);

		gtk_combo_box_text_append(self->script_combo, VIGIL_PROGRAM_SCOPE_PROGRAM, any);
		gtk_combo_box_text_append(self->script_combo, VIGIL_PROGRAM_SCOPE_SCRIPT, only);
		gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->script_combo),
		                            VIGIL_PROGRAM_SCOPE_PROGRAM);
	}
	set_default_button(self, vigil_client_prefs_get_verdict());
	/* "changed" does not come when the duration stayed the same */
	duration_changed(self);
}

/* shows the request at the head of the queue, or hides the window when there is none */
static void
show_current(VigilTrayPromptWindow *self)
{
	VigilClientRequest *prompt = current(self);

	update_queue(self);
	g_signal_emit(self, signals[SIGNAL_PENDING_CHANGED], 0);
	if (prompt == NULL) {
		g_clear_handle_id(&self->arm_id, g_source_remove);
		gtk_widget_hide(GTK_WIDGET(self));
		return;
	}
	/* "answer all" is a choice for one request, as the others are */
	gtk_toggle_button_set_active(self->all_check, FALSE);
	self->held_at = 0;
	self->hold_failed = FALSE;
	fill_program(self, prompt);
	fill_connection(self, prompt);
	fill_warning(self, prompt);
	fill_choices(self, prompt);
	update_countdown(self);
	disarm(self);
	if (!gtk_widget_get_visible(GTK_WIDGET(self))) {
		/* accept-focus off while mapping: even a window manager that ignores
		 * focus-on-map must not move the keyboard here */
		gtk_window_set_accept_focus(GTK_WINDOW(self), FALSE);
		gtk_widget_show(GTK_WIDGET(self));
	}
}

static VigilClientDuration
chosen_duration(VigilTrayPromptWindow *self)
{
	const char *id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->duration_combo));
	VigilClientDuration duration = VIGIL_CLIENT_DURATION_ONCE;

	vigil_client_duration_from_id(id, &duration);
	return duration;
}

static GVariant *
chosen_options(VigilTrayPromptWindow *self)
{
	const char *host = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->host_combo));
	const char *port = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->port_combo));

	const char *script = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->script_combo));

	return vigil_client_reply_options_full(
	    chosen_duration(self),
	    g_strcmp0(host, VIGIL_HOST_SCOPE_DOMAIN) == 0 ? VIGIL_CLIENT_HOST_SCOPE_DOMAIN
	    : g_strcmp0(host, VIGIL_HOST_SCOPE_ANY) == 0  ? VIGIL_CLIENT_HOST_SCOPE_ANY
	                                                  : VIGIL_CLIENT_HOST_SCOPE_HOST,
	    g_strcmp0(port, VIGIL_PORT_SCOPE_ANY) == 0 ? VIGIL_CLIENT_PORT_SCOPE_ANY
	                                               : VIGIL_CLIENT_PORT_SCOPE_PORT,
	    chosen_duration(self) != VIGIL_CLIENT_DURATION_ONCE &&
	        g_strcmp0(script, VIGIL_PROGRAM_SCOPE_SCRIPT) == 0);
}

/* answers the waiting requests of @head's program with the same choices (each its own host
 * and port); vigild refuses a rule for a request asked less than a second ago (TooSoon), so
 * such a one stays, to be answered on its own */
static void
answer_same_program(VigilTrayPromptWindow *self, const VigilClientRequest *head,
                    const char *verdict)
{
	gboolean rule = chosen_duration(self) != VIGIL_CLIENT_DURATION_ONCE;
	const char *scope = gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->script_combo));
	gboolean script_only = rule && g_strcmp0(scope, VIGIL_PROGRAM_SCOPE_SCRIPT) == 0;
	gint64 now = g_get_monotonic_time();
	GList *l = self->queue.head;

	while (l != NULL) {
		GList *next = l->next;
		VigilClientRequest *prompt = l->data;
		gint64 asked = prompt->deadline - (gint64)prompt->timeout * G_USEC_PER_SEC;

		/* "only this script" answers only the requests of the same script */
		if (same_program(head, prompt) && (!rule || now - asked > G_USEC_PER_SEC) &&
		    (!script_only || g_strcmp0(prompt->script, head->script) == 0)) {
			g_queue_delete_link(&self->queue, l);
			g_signal_emit(self, signals[SIGNAL_REPLY], 0, prompt->id, verdict,
			              chosen_options(self));
			vigil_client_request_free(prompt);
		}
		l = next;
	}
}

static void
answer(VigilTrayPromptWindow *self, const char *verdict)
{
	g_autoptr(VigilClientRequest) prompt = g_queue_pop_head(&self->queue);

	if (prompt == NULL)
		return;
	g_signal_emit(self, signals[SIGNAL_REPLY], 0, prompt->id, verdict, chosen_options(self));
	if (gtk_toggle_button_get_active(self->all_check))
		answer_same_program(self, prompt, verdict);
	show_current(self);
}

static void
allow_clicked(VigilTrayPromptWindow *self)
{
	answer(self, "allow");
}

static void
deny_clicked(VigilTrayPromptWindow *self)
{
	answer(self, "deny");
}

static void
drop_clicked(VigilTrayPromptWindow *self)
{
	answer(self, "drop");
}

static void
duration_changed(VigilTrayPromptWindow *self)
{
	/* an answer for once makes no rule: where it would apply does not matter */
	gboolean rule = chosen_duration(self) != VIGIL_CLIENT_DURATION_ONCE;

	gtk_widget_set_sensitive(GTK_WIDGET(self->host_combo), rule);
	gtk_widget_set_sensitive(GTK_WIDGET(self->port_combo), rule);
	gtk_widget_set_sensitive(GTK_WIDGET(self->script_combo), rule);
}

/* closing the window answers nothing: the requests wait (the tray shows them) until their
 * timeout */
static gboolean
window_delete_event(GtkWidget *widget, GdkEvent *event, gpointer user_data)
{
	gtk_widget_hide(widget);
	return GDK_EVENT_STOP;
}

/* drops requests long past their timeout, in case vigild never cancelled them */
static void
expire(VigilTrayPromptWindow *self, gint64 now)
{
	gboolean head_gone = FALSE;
	GList *l = self->queue.head;

	while (l != NULL) {
		GList *next = l->next;
		VigilClientRequest *prompt = l->data;

		if (now > prompt->deadline + EXPIRY_GRACE_SECONDS * G_USEC_PER_SEC) {
			head_gone |= l == self->queue.head;
			g_queue_delete_link(&self->queue, l);
			vigil_client_request_free(prompt);
		}
		l = next;
	}
	if (head_gone)
		show_current(self);
}

static gboolean
tick(gpointer user_data)
{
	VigilTrayPromptWindow *self = user_data;

	expire(self, g_get_monotonic_time());
	hold_if_reading(self);
	update_countdown(self);
	return G_SOURCE_CONTINUE;
}

void
vigil_tray_prompt_window_held(VigilTrayPromptWindow *self, guint64 request, gint64 seconds_left)
{
	VigilClientRequest *prompt;

	g_return_if_fail(VIGIL_IS_TRAY_PROMPT_WINDOW(self));
	prompt = current(self);
	if (prompt == NULL || prompt->id != request)
		return;
	if (seconds_left < 0) {
		self->hold_failed = TRUE;
	} else {
		prompt->deadline = g_get_monotonic_time() + seconds_left * G_USEC_PER_SEC;
		prompt->timeout = (guint)seconds_left;
	}
	update_countdown(self);
}

/* the details opened or closed: hold at once, or count again */
static void
reading_changed(VigilTrayPromptWindow *self)
{
	self->held_at = 0;
	hold_if_reading(self);
	update_countdown(self);
}

void
vigil_tray_prompt_window_add(VigilTrayPromptWindow *self, VigilClientRequest *prompt)
{
	g_return_if_fail(VIGIL_IS_TRAY_PROMPT_WINDOW(self));
	g_return_if_fail(prompt != NULL);

	/* vigild sends the open requests again when the agent registers again */
	for (GList *l = self->queue.head; l != NULL; l = l->next) {
		if (((VigilClientRequest *)l->data)->id == prompt->id) {
			vigil_client_request_free(prompt);
			return;
		}
	}
	g_queue_push_tail(&self->queue, prompt);
	if (self->queue.length == 1)
		show_current(self);
	else {
		update_queue(self);
		g_signal_emit(self, signals[SIGNAL_PENDING_CHANGED], 0);
	}
}

void
vigil_tray_prompt_window_remove(VigilTrayPromptWindow *self, guint64 request)
{
	g_return_if_fail(VIGIL_IS_TRAY_PROMPT_WINDOW(self));

	for (GList *l = self->queue.head; l != NULL; l = l->next) {
		VigilClientRequest *prompt = l->data;
		gboolean was_head = l == self->queue.head;

		if (prompt->id != request)
			continue;
		g_queue_delete_link(&self->queue, l);
		vigil_client_request_free(prompt);
		if (was_head)
			show_current(self);
		else {
			update_queue(self);
			g_signal_emit(self, signals[SIGNAL_PENDING_CHANGED], 0);
		}
		return;
	}
}

void
vigil_tray_prompt_window_clear(VigilTrayPromptWindow *self)
{
	g_return_if_fail(VIGIL_IS_TRAY_PROMPT_WINDOW(self));

	g_queue_clear_full(&self->queue, (GDestroyNotify)vigil_client_request_free);
	show_current(self);
}

guint
vigil_tray_prompt_window_get_n_pending(VigilTrayPromptWindow *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_PROMPT_WINDOW(self), 0);
	return g_queue_get_length(&self->queue);
}

void
vigil_tray_prompt_window_set_default_action(VigilTrayPromptWindow *self, const char *action)
{
	g_return_if_fail(VIGIL_IS_TRAY_PROMPT_WINDOW(self));

	g_free(self->default_action);
	self->default_action = g_strdup(action);
	update_countdown(self);
}

void
vigil_tray_prompt_window_reveal(VigilTrayPromptWindow *self)
{
	g_return_if_fail(VIGIL_IS_TRAY_PROMPT_WINDOW(self));

	if (current(self) == NULL || gtk_widget_get_visible(GTK_WIDGET(self)))
		return;
	disarm(self);
	gtk_window_set_accept_focus(GTK_WINDOW(self), FALSE);
	gtk_widget_show(GTK_WIDGET(self));
}

static void
vigil_tray_prompt_window_dispose(GObject *object)
{
	VigilTrayPromptWindow *self = VIGIL_TRAY_PROMPT_WINDOW(object);

	g_clear_handle_id(&self->arm_id, g_source_remove);
	g_clear_handle_id(&self->tick_id, g_source_remove);
	g_queue_clear_full(&self->queue, (GDestroyNotify)vigil_client_request_free);
	g_clear_object(&self->apps);
	G_OBJECT_CLASS(vigil_tray_prompt_window_parent_class)->dispose(object);
}

static void
vigil_tray_prompt_window_finalize(GObject *object)
{
	VigilTrayPromptWindow *self = VIGIL_TRAY_PROMPT_WINDOW(object);

	g_free(self->default_action);
	G_OBJECT_CLASS(vigil_tray_prompt_window_parent_class)->finalize(object);
}

static void
vigil_tray_prompt_window_class_init(VigilTrayPromptWindowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = vigil_tray_prompt_window_dispose;
	object_class->finalize = vigil_tray_prompt_window_finalize;

	signals[SIGNAL_REPLY] =
	    g_signal_new("reply", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
	                 G_TYPE_NONE, 3, G_TYPE_UINT64, G_TYPE_STRING, G_TYPE_VARIANT);
	signals[SIGNAL_HOLD] = g_signal_new("hold", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
	                                    NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
	signals[SIGNAL_PENDING_CHANGED] =
	    g_signal_new("pending-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
	                 NULL, NULL, G_TYPE_NONE, 0);

	gtk_widget_class_set_template_from_resource(widget_class,
	                                            "/org/vigil/Tray/vigil-tray-prompt-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, VigilTrayPromptWindow, name)
	BIND(program_icon);
	BIND(headline_label);
	BIND(program_label);
	BIND(app_label);
	BIND(claim_box);
	BIND(claim_label);
	BIND(destination_label);
	BIND(port_label);
	BIND(protocol_label);
	BIND(process_label);
	BIND(via_title);
	BIND(via_label);
	BIND(warning_box);
	BIND(warning_label);
	BIND(details_expander);
	BIND(cmdline_label);
	BIND(sha256_label);
	BIND(appid_label);
	BIND(parents_label);
	BIND(sandbox_title);
	BIND(sandbox_label);
	BIND(duration_combo);
	BIND(host_combo);
	BIND(port_combo);
	BIND(script_title);
	BIND(script_combo);
	BIND(countdown_label);
	BIND(queue_label);
	BIND(queue_expander);
	BIND(queue_box);
	BIND(all_check);
	BIND(allow_button);
	BIND(deny_button);
	BIND(drop_button);
#undef BIND
	gtk_widget_class_bind_template_callback(widget_class, allow_clicked);
	gtk_widget_class_bind_template_callback(widget_class, deny_clicked);
	gtk_widget_class_bind_template_callback(widget_class, drop_clicked);
	gtk_widget_class_bind_template_callback(widget_class, duration_changed);
	gtk_widget_class_bind_template_callback(widget_class, window_delete_event);
}

static void
vigil_tray_prompt_window_init(VigilTrayPromptWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	g_queue_init(&self->queue);
	self->default_action = g_strdup("deny");
	gtk_window_set_keep_above(GTK_WINDOW(self), TRUE);
	g_signal_connect_swapped(self->details_expander, "notify::expanded",
	                         G_CALLBACK(reading_changed), self);
	self->tick_id = g_timeout_add_seconds(1, tick, self);
}

VigilTrayPromptWindow *
vigil_tray_prompt_window_new(GtkApplication *app, VigilTrayAppIndex *apps)
{
	VigilTrayPromptWindow *self =
	    g_object_new(VIGIL_TYPE_TRAY_PROMPT_WINDOW, "application", app, NULL);

	self->apps = g_object_ref(apps);
	return self;
}
