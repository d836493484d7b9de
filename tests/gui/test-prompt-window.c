/* test-prompt-window.c: the prompt window's safety and stacking, driven in-process on Xvfb */
#define G_LOG_DOMAIN "test-prompt-window"
#include "config.h"

#include <gdk/gdkkeysyms.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "vigil-dbus.h"
#include "vigil-tray-prompt-window.h"
#include "vigil-text.h"

typedef struct {
	VigilTrayPromptWindow *window;
	GPtrArray *replies; /* "ID VERDICT OPTIONS" */
} Fixture;

static void
on_reply(VigilTrayPromptWindow *window, guint64 request, const char *verdict, GVariant *options,
         Fixture *f)
{
	g_autofree char *text = g_variant_print(options, FALSE);

	g_ptr_array_add(f->replies,
	                g_strdup_printf("%" G_GUINT64_FORMAT " %s %s", request, verdict, text));
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(VigilTrayAppIndex) apps = vigil_tray_app_index_new();

	f->window = vigil_tray_prompt_window_new(NULL, apps);
	f->replies = g_ptr_array_new_with_free_func(g_free);
	g_signal_connect(f->window, "reply", G_CALLBACK(on_reply), f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	gtk_widget_destroy(GTK_WIDGET(f->window));
	g_ptr_array_unref(f->replies);
}

/* a template child by its id in the .ui file */
static GtkWidget *
find_in(GtkWidget *widget, const char *id)
{
	g_autoptr(GList) children = NULL;

	if (g_strcmp0(gtk_buildable_get_name(GTK_BUILDABLE(widget)), id) == 0)
		return widget;
	if (!GTK_IS_CONTAINER(widget))
		return NULL;
	children = gtk_container_get_children(GTK_CONTAINER(widget));
	for (GList *l = children; l != NULL; l = l->next) {
		GtkWidget *found = find_in(l->data, id);

		if (found != NULL)
			return found;
	}
	return NULL;
}

static GtkWidget *
child(Fixture *f, const char *id)
{
	GtkWidget *found = find_in(GTK_WIDGET(f->window), id);

	g_assert_nonnull(found);
	return found;
}

static void
run_for(guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE), g_usleep(5000);
}

static VigilClientRequest *
make_prompt(guint64 id, const char *program, guint16 port, const char *extra)
{
	g_autofree char *text = g_strdup_printf(
	    "{'uid': <@u 1000>, 'user': <'alice'>, 'pid': <@u 4242>, 'program': <'%s'>, "
	    "'protocol': <'tcp'>, 'family': <'ipv4'>, 'destination': <'93.184.215.14'>, "
	    "'hostname': <'www.example.org'>, 'port': <@q %u>, 'timeout': <@u 30>, "
	    "'host-target': <'www.example.org'>%s}",
	    program, port, extra != NULL ? extra : "");
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) conn = g_variant_parse(NULL, text, NULL, NULL, &error);
	VigilClientRequest *prompt;

	g_assert_no_error(error);
	prompt = vigil_client_request_new(id, conn, &error);
	g_assert_no_error(error);
	return prompt;
}

static const char *
label_text(Fixture *f, const char *id)
{
	return gtk_label_get_text(GTK_LABEL(child(f, id)));
}

/* shown without taking the keyboard; the buttons wake up only after a second */
static void
test_no_focus_and_armed_after_a_second(Fixture *f, gconstpointer data)
{
	GtkWidget *allow = child(f, "allow_button");
	GtkWidget *deny = child(f, "deny_button");

	gint64 shown = g_get_monotonic_time();
	vigil_tray_prompt_window_add(f->window, make_prompt(1, "/usr/bin/curl", 443, NULL));
	g_assert_true(gtk_widget_get_visible(GTK_WIDGET(f->window)));
	g_assert_false(gtk_window_get_focus_on_map(GTK_WINDOW(f->window)));
	g_assert_false(gtk_window_get_accept_focus(GTK_WINDOW(f->window)));
	g_assert_false(gtk_widget_is_focus(allow) && gtk_window_is_active(GTK_WINDOW(f->window)));
	g_assert_false(gtk_widget_get_sensitive(allow));
	g_assert_false(gtk_widget_get_sensitive(deny));

	/* Alt+A now, e.g. typed into another window a moment ago, answers nothing */
	gtk_window_mnemonic_activate(GTK_WINDOW(f->window), GDK_KEY_a, GDK_MOD1_MASK);
	run_for(500);
	g_assert_cmpuint(f->replies->len, ==, 0);
	/* still asleep half a second later (unless a loaded machine stalled the test that long) */
	if (g_get_monotonic_time() - shown < 900 * G_TIME_SPAN_MILLISECOND)
		g_assert_false(gtk_widget_get_sensitive(allow));
	else
		g_test_message("stalled past the arming second: not checked asleep");

	run_for(700);
	g_assert_true(gtk_widget_get_sensitive(allow));
	g_assert_true(gtk_widget_get_sensitive(deny));
	g_assert_true(gtk_window_get_accept_focus(GTK_WINDOW(f->window)));
	/* now Alt+D denies: a button activated by a key shows itself pressed a moment first */
	g_assert_true(
	    gtk_window_mnemonic_activate(GTK_WINDOW(f->window), GDK_KEY_d, GDK_MOD1_MASK));
	run_for(500);
	g_assert_cmpuint(f->replies->len, ==, 1);
	/* with no preference chosen an answer is for once: no rule by default */
	g_assert_cmpstr(g_ptr_array_index(f->replies, 0), ==,
	                "1 deny {'duration': <'once'>, 'host-scope': <'host'>, "
	                "'port-scope': <'port'>}");
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(f->window)));
}

static void
collect_mnemonics(GtkWidget *widget, GArray *keys)
{
	if (GTK_IS_LABEL(widget) && gtk_label_get_use_underline(GTK_LABEL(widget))) {
		g_test_message("mnemonic %s: %s", gtk_label_get_label(GTK_LABEL(widget)),
		               gdk_keyval_name(gtk_label_get_mnemonic_keyval(GTK_LABEL(widget))));
		g_array_append_val(keys, (guint){gtk_label_get_mnemonic_keyval(GTK_LABEL(widget))});
	}
	if (GTK_IS_CONTAINER(widget)) {
		g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(widget));

		for (GList *l = children; l != NULL; l = l->next)
			collect_mnemonics(l->data, keys);
	}
}

/* every action has a mnemonic, and no two share one */
static void
test_mnemonics_unique(Fixture *f, gconstpointer data)
{
	g_autoptr(GArray) keys = g_array_new(FALSE, FALSE, sizeof(guint));

	vigil_tray_prompt_window_add(f->window, make_prompt(1, "/usr/bin/curl", 443, NULL));
	collect_mnemonics(GTK_WIDGET(f->window), keys);
	/* Allow, Deny, Drop, Duration, Destination, Port, Script, Details */
	g_assert_cmpuint(keys->len, ==, 8);
	for (guint i = 0; i < keys->len; i++) {
		g_assert_cmpuint(g_array_index(keys, guint, i), !=, GDK_KEY_VoidSymbol);
		for (guint j = i + 1; j < keys->len; j++)
			g_assert_cmpuint(g_array_index(keys, guint, i), !=,
			                 g_array_index(keys, guint, j));
	}
}

/* several requests share one window: "N more waiting", in order, one answer each */
static void
test_stacking(Fixture *f, gconstpointer data)
{
	GtkWidget *expander = child(f, "queue_expander");
	GtkWidget *queue = gtk_expander_get_label_widget(GTK_EXPANDER(expander));

	vigil_tray_prompt_window_add(f->window, make_prompt(1, "/usr/bin/curl", 443, NULL));
	vigil_tray_prompt_window_add(f->window, make_prompt(2, "/usr/bin/wget", 80, NULL));
	vigil_tray_prompt_window_add(f->window, make_prompt(3, "/usr/bin/ssh", 22, NULL));
	/* vigild sends open requests again when the agent registers again */
	vigil_tray_prompt_window_add(f->window, make_prompt(2, "/usr/bin/wget", 80, NULL));
	g_assert_cmpuint(vigil_tray_prompt_window_get_n_pending(f->window), ==, 3);
	g_assert_true(gtk_widget_get_visible(expander));
	g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(queue)), ==, "2 more waiting");
	g_assert_nonnull(strstr(label_text(f, "headline_label"), "curl"));

	run_for(1100);
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(child(f, "duration_combo")), "once");
	g_assert_false(gtk_widget_get_sensitive(child(f, "host_combo")));
	gtk_button_clicked(GTK_BUTTON(child(f, "allow_button")));
	g_assert_cmpuint(f->replies->len, ==, 1);
	g_assert_true(
	    g_str_has_prefix(g_ptr_array_index(f->replies, 0), "1 allow {'duration': <'once'>"));
	/* the next one, its buttons asleep again, the choices back to their defaults */
	g_assert_nonnull(strstr(label_text(f, "headline_label"), "wget"));
	g_assert_cmpstr(label_text(f, "port_label"), ==, "80");
	g_assert_false(gtk_widget_get_sensitive(child(f, "allow_button")));
	g_assert_cmpstr(gtk_combo_box_get_active_id(GTK_COMBO_BOX(child(f, "duration_combo"))), ==,
	                "once");
	g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(queue)), ==, "1 more waiting");

	/* a request answered elsewhere leaves the queue; the one on screen stays */
	vigil_tray_prompt_window_remove(f->window, 3);
	g_assert_false(gtk_widget_get_visible(expander));
	g_assert_nonnull(strstr(label_text(f, "headline_label"), "wget"));
	vigil_tray_prompt_window_remove(f->window, 99);
	g_assert_cmpuint(vigil_tray_prompt_window_get_n_pending(f->window), ==, 1);
	vigil_tray_prompt_window_remove(f->window, 2);
	g_assert_cmpuint(vigil_tray_prompt_window_get_n_pending(f->window), ==, 0);
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(f->window)));
	g_assert_cmpuint(f->replies->len, ==, 1);
}

/* the scope choices map to Reply()'s options */
static void
test_scopes(Fixture *f, gconstpointer data)
{
	GtkComboBox *host = GTK_COMBO_BOX(child(f, "host_combo"));

	vigil_tray_prompt_window_add(f->window, make_prompt(7, "/usr/bin/curl", 443,
	                                                    ", 'domain-target': <'*.example.org'>, "
	                                                    "'service': <'https'>"));
	g_assert_cmpstr(label_text(f, "port_label"), ==, "443 (https)");
	g_assert_cmpstr(label_text(f, "destination_label"), ==, "www.example.org (93.184.215.14)");
	g_assert_true(gtk_combo_box_set_active_id(host, "domain"));
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(child(f, "port_combo")), "any");
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(child(f, "duration_combo")), "1h");
	run_for(1100);
	gtk_button_clicked(GTK_BUTTON(child(f, "allow_button")));
	g_assert_cmpstr(g_ptr_array_index(f->replies, 0), ==,
	                "7 allow {'duration': <'seconds'>, 'seconds': <uint32 3600>, "
	                "'host-scope': <'domain'>, 'port-scope': <'any'>}");

	/* without a hostname there is no domain to offer */
	vigil_tray_prompt_window_add(f->window, make_prompt(8, "/usr/bin/curl", 443, NULL));
	g_assert_false(gtk_combo_box_set_active_id(host, "domain"));
	g_assert_true(gtk_combo_box_set_active_id(host, "any"));
}

static void
test_countdown_and_warning(Fixture *f, gconstpointer data)
{
	vigil_tray_prompt_window_set_default_action(f->window, "allow");
	vigil_tray_prompt_window_add(
	    f->window, make_prompt(1, "/usr/bin/curl", 443, ", 'binary-changed': <true>"));
	g_assert_nonnull(strstr(label_text(f, "countdown_label"), "30 seconds"));
	g_assert_nonnull(strstr(label_text(f, "countdown_label"), "allowed once"));
	vigil_tray_prompt_window_set_default_action(f->window, "deny");
	g_assert_nonnull(strstr(label_text(f, "countdown_label"), "denied once"));
	g_assert_true(gtk_widget_get_visible(child(f, "warning_box")));
	g_assert_nonnull(strstr(label_text(f, "warning_label"), "changed"));
	vigil_tray_prompt_window_add(f->window, make_prompt(2, "/usr/bin/curl", 80, NULL));
	vigil_tray_prompt_window_remove(f->window, 1);
	g_assert_false(gtk_widget_get_visible(child(f, "warning_box")));
}

/* a changed program dpkg did not vouch for: the popup says why its rules did not follow */
static void
test_changed_reason(Fixture *f, gconstpointer data)
{
	vigil_tray_prompt_window_add(
	    f->window, make_prompt(1, "/usr/bin/curl", 443,
	                           ", 'binary-changed': <true>, 'binary-changed-reason': "
	                           "<'checksum-differs'>, 'binary-changed-package': <'curl'>"));
	g_assert_true(gtk_widget_get_visible(child(f, "warning_box")));
	g_assert_nonnull(strstr(label_text(f, "warning_label"), "changed since a rule"));
	g_assert_nonnull(
	    strstr(label_text(f, "warning_label"), "differs from the checksum package curl"));
}

/* a big program's hash still being made: the popup says so, and that a rule made gets it */
static void
test_hash_pending(Fixture *f, gconstpointer data)
{
	vigil_tray_prompt_window_add(
	    f->window, make_prompt(1, "/opt/big/browser", 443, ", 'hash-pending': <true>"));
	g_assert_nonnull(strstr(label_text(f, "sha256_label"), "still being computed"));
	g_assert_nonnull(strstr(label_text(f, "sha256_label"), "once it is made"));
	vigil_tray_prompt_window_add(f->window, make_prompt(2, "/usr/bin/curl", 80, NULL));
	vigil_tray_prompt_window_remove(f->window, 1);
	g_assert_cmpstr(label_text(f, "sha256_label"), ==, "unknown");
}

/* a traced process, or one started with LD_PRELOAD, may run code that is not its file's */
static void
test_traced_and_preload_warned(Fixture *f, gconstpointer data)
{
	vigil_tray_prompt_window_add(
	    f->window,
	    make_prompt(1, "/usr/bin/curl", 443, ", 'traced-by': <@u 77>, 'preload': <true>"));
	g_assert_true(gtk_widget_get_visible(child(f, "warning_box")));
	g_assert_nonnull(strstr(label_text(f, "warning_label"), "traced by process 77"));
	g_assert_nonnull(strstr(label_text(f, "warning_label"), "LD_PRELOAD"));
	vigil_tray_prompt_window_add(f->window,
	                             make_prompt(2, "/usr/bin/curl", 80, ", 'preload': <true>"));
	vigil_tray_prompt_window_remove(f->window, 1);
	g_assert_null(strstr(label_text(f, "warning_label"), "traced"));
	g_assert_nonnull(strstr(label_text(f, "warning_label"), "LD_PRELOAD"));
}

/* the texts of every label and combo box item under @widget */
static void
collect_label_texts(GtkWidget *widget, GPtrArray *texts)
{
	if (GTK_IS_LABEL(widget))
		g_ptr_array_add(texts, g_strdup(gtk_label_get_text(GTK_LABEL(widget))));
	if (GTK_IS_COMBO_BOX_TEXT(widget)) {
		GtkTreeModel *model = gtk_combo_box_get_model(GTK_COMBO_BOX(widget));
		GtkTreeIter iter;
		gboolean more = gtk_tree_model_get_iter_first(model, &iter);

		for (; more; more = gtk_tree_model_iter_next(model, &iter)) {
			char *text = NULL;

			gtk_tree_model_get(model, &iter, 0, &text, -1);
			g_ptr_array_add(texts, text);
		}
	}
	if (GTK_IS_CONTAINER(widget)) {
		g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(widget));

		for (GList *l = children; l != NULL; l = l->next)
			collect_label_texts(l->data, texts);
	}
}

static void
assert_no_unsafe_text(GtkWidget *window)
{
	g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);

	collect_label_texts(window, texts);
	g_assert_cmpuint(texts->len, >, 20);
	for (guint i = 0; i < texts->len; i++) {
		const char *text = g_ptr_array_index(texts, i);

		g_assert_true(g_utf8_validate(text, -1, NULL));
		for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
			/* the window's own multi-line labels (parents, warnings) break lines */
			if (*p == '\n')
				continue;
			if (vigil_text_is_unsafe_char(g_utf8_get_char(p)))
				g_error("unsafe character U+%04X in label \"%s\"",
				        g_utf8_get_char(p), text);
		}
	}
}

/* what the process chose (its command line, its cgroup's app id, its parents' names, the
 * names DNS gave its destination) is shown escaped, on one line; the headline names the file
 * vigild verified, the app id's name is marked unverified */
static void
test_untrusted_text(Fixture *f, gconstpointer data)
{
	g_autofree char *extra =
	    g_strdup_printf(", 'name': <'firefox'>, 'appid': <'org.mozilla.firefox\u202e'>, "
	                    "'cmdline': <'%s'>, 'parents': <['1 /tmp/a\\nb']>, "
	                    "'domain-target': <'*.example\u2066.org'>, 'service': <'h\\ttps'>, "
	                    "'sha256': <'ab\\r'>",
	                    "/tmp/gpj.\u202eexe --x\\nPID 1, user root\\t\u2067");
	const char *headline;

	vigil_tray_prompt_window_add(f->window,
	                             make_prompt(1, "/tmp/gpj.\u202eexe\\nfirefox", 443, extra));
	headline = label_text(f, "headline_label");
	g_assert_true(g_str_has_prefix(headline, "gpj.\\u202eexe\\x0afirefox wants to connect"));
	g_assert_cmpstr(label_text(f, "program_label"), ==, "/tmp/gpj.\\u202eexe\\x0afirefox");
	g_assert_true(gtk_widget_get_visible(child(f, "claim_box")));
	g_assert_cmpstr(label_text(f, "claim_label"), ==,
	                "Claims to be: org.mozilla.firefox\\u202e (unverified)");
	g_assert_false(gtk_widget_get_visible(child(f, "app_label")));
	g_assert_cmpstr(label_text(f, "appid_label"), ==,
	                "org.mozilla.firefox\\u202e (unverified)");
	g_assert_cmpstr(label_text(f, "cmdline_label"), ==,
	                "/tmp/gpj.\\u202eexe --x\\x0aPID 1, user root\\x09\\u2067");
	assert_no_unsafe_text(GTK_WIDGET(f->window));

	/* without an app id nothing is claimed */
	vigil_tray_prompt_window_remove(f->window, 1);
	vigil_tray_prompt_window_add(f->window, make_prompt(2, "/usr/bin/curl", 443, NULL));
	g_assert_false(gtk_widget_get_visible(child(f, "claim_box")));
}

/* the user's default duration (Preferences, shared with vigilctl prompt) is what a new
 * request shows, and what an answer without another choice lasts */
static void
test_default_duration(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(vigil_client_prefs_set_duration(VIGIL_CLIENT_DURATION_1_HOUR, &error));
	g_assert_no_error(error);
	vigil_tray_prompt_window_add(f->window, make_prompt(1, "/usr/bin/curl", 443, NULL));
	g_assert_cmpstr(gtk_combo_box_get_active_id(GTK_COMBO_BOX(child(f, "duration_combo"))), ==,
	                "1h");
	run_for(1100);
	gtk_button_clicked(GTK_BUTTON(child(f, "allow_button")));
	g_assert_cmpuint(f->replies->len, ==, 1);
	g_assert_true(
	    g_str_has_prefix(g_ptr_array_index(f->replies, 0),
	                     "1 allow {'duration': <'seconds'>, 'seconds': <uint32 3600>"));
	g_assert_true(vigil_client_prefs_set_duration(VIGIL_CLIENT_DURATION_ONCE, &error));
}

/* Drop answers "drop"; Deny is the safe answer: neutral, not red like a destructive one */
static void
test_drop_and_neutral_deny(Fixture *f, gconstpointer data)
{
	GtkStyleContext *deny = gtk_widget_get_style_context(child(f, "deny_button"));
	GtkStyleContext *drop = gtk_widget_get_style_context(child(f, "drop_button"));

	g_assert_false(gtk_style_context_has_class(deny, GTK_STYLE_CLASS_DESTRUCTIVE_ACTION));
	g_assert_false(gtk_style_context_has_class(drop, GTK_STYLE_CLASS_DESTRUCTIVE_ACTION));
	vigil_tray_prompt_window_add(f->window, make_prompt(1, "/usr/bin/curl", 443, NULL));
	g_assert_false(gtk_widget_get_sensitive(child(f, "drop_button")));
	run_for(1100);
	gtk_button_clicked(GTK_BUTTON(child(f, "drop_button")));
	g_assert_cmpuint(f->replies->len, ==, 1);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(f->replies, 0), "1 drop "));
}

/* an interpreter's script: a rule for it alone (program-scope "script"), only when vigild
 * named one, and not for an answer "once" */
static void
test_script_scope(Fixture *f, gconstpointer data)
{
	GtkComboBox *script = GTK_COMBO_BOX(child(f, "script_combo"));

	vigil_tray_prompt_window_add(f->window, make_prompt(1, "/usr/bin/curl", 443, NULL));
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(script)));
	vigil_tray_prompt_window_add(f->window, make_prompt(2, "/usr/bin/python3.11", 443,
	                                                    ", 'script': <'/home/a/sync.py'>"));
	run_for(1100);
	gtk_button_clicked(GTK_BUTTON(child(f, "deny_button")));
	g_assert_true(gtk_widget_get_visible(GTK_WIDGET(script)));
	g_assert_cmpstr(gtk_combo_box_get_active_id(script), ==, "program");
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(child(f, "duration_combo")), "once");
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(script)));
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(child(f, "duration_combo")), "forever");
	g_assert_true(gtk_combo_box_set_active_id(script, "script"));
	run_for(1100);
	gtk_button_clicked(GTK_BUTTON(child(f, "allow_button")));
	g_assert_cmpuint(f->replies->len, ==, 2);
	g_assert_null(strstr(g_ptr_array_index(f->replies, 0), "program-scope"));
	g_assert_nonnull(strstr(g_ptr_array_index(f->replies, 1), "'program-scope': <'script'>"));
}

int
main(int argc, char **argv)
{
	const char *localedir = g_getenv("VIGIL_TEST_LOCALEDIR");
	g_autofree char *state = g_dir_make_tmp("test-prompt-window-XXXXXX", NULL);

	/* the user's preferences of this test only, not those of whoever runs it */
	g_assert_nonnull(state);
	g_setenv("XDG_STATE_HOME", state, TRUE);
	gtk_test_init(&argc, &argv, NULL);
	/* with VIGIL_TEST_LOCALEDIR and LANGUAGE, the window in a translation (gtk_test_init()
	 * chose the C locale) */
	if (localedir != NULL) {
		setlocale(LC_ALL, "");
		bindtextdomain(GETTEXT_PACKAGE, localedir);
		bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
		textdomain(GETTEXT_PACKAGE);
	}
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/prompt-window/no-focus-and-armed-after-a-second",
	    test_no_focus_and_armed_after_a_second);
	ADD("/prompt-window/mnemonics-unique", test_mnemonics_unique);
	ADD("/prompt-window/stacking", test_stacking);
	ADD("/prompt-window/scopes", test_scopes);
	ADD("/prompt-window/countdown-and-warning", test_countdown_and_warning);
	ADD("/prompt-window/changed-reason", test_changed_reason);
	ADD("/prompt-window/untrusted-text", test_untrusted_text);
	ADD("/prompt-window/traced-and-preload-warned", test_traced_and_preload_warned);
	ADD("/prompt-window/hash-pending", test_hash_pending);
	ADD("/prompt-window/default-duration", test_default_duration);
	ADD("/prompt-window/drop-and-neutral-deny", test_drop_and_neutral_deny);
	ADD("/prompt-window/script-scope", test_script_scope);
#undef ADD
	{
		int status = g_test_run();
		g_autofree char *file = g_build_filename(state, "vigil", "tray.ini", NULL);
		g_autofree char *dir = g_build_filename(state, "vigil", NULL);

		g_unlink(file);
		g_rmdir(dir);
		g_rmdir(state);
		return status;
	}
}
