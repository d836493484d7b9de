/* vigil-tray-main-window.c: the "Vigil" window: the status line with Pause, the tray hint and a
 * stack of pages (rules, monitor, preferences) */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-tray-main-window.h"

struct _VigilTrayMainWindow {
	GtkApplicationWindow parent;

	GtkLabel *status_label;
	GtkLabel *pending_label;
	GtkButton *pause_button;
	GtkWidget *tray_bar;
	GtkStack *stack;
};

enum { SIGNAL_TRAY_HINT_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(VigilTrayMainWindow, vigil_tray_main_window, GTK_TYPE_APPLICATION_WINDOW)

void
vigil_tray_main_window_add_page(VigilTrayMainWindow *self, GtkWidget *content, const char *name,
                                const char *title)
{
	/* a stack lists only the pages that are visible */
	gtk_widget_show(content);
	gtk_stack_add_titled(self->stack, content, name, title);
}

gboolean
vigil_tray_main_window_show_page(VigilTrayMainWindow *self, const char *name)
{
	if (gtk_stack_get_child_by_name(self->stack, name) == NULL)
		return FALSE;
	gtk_stack_set_visible_child_name(self->stack, name);
	return TRUE;
}

void
vigil_tray_main_window_set_status(VigilTrayMainWindow *self, const char *status, guint pending,
                                  gboolean paused)
{
	g_autofree char *waiting = NULL;

	gtk_label_set_text(self->status_label, status);
	if (pending == 0)
		waiting = g_strdup(_("No connection requests waiting"));
	else
		waiting = g_strdup_printf(ngettext("%u connection request waiting",
		                                   "%u connection requests waiting", pending),
		                          pending);
	gtk_label_set_text(self->pending_label, waiting);
	gtk_button_set_label(self->pause_button,
	                     paused ? _("Res_ume Filtering") : _("P_ause Filtering"));
}

void
vigil_tray_main_window_show_tray_hint(VigilTrayMainWindow *self, gboolean shown)
{
	gtk_widget_set_visible(self->tray_bar, shown);
}

static void
tray_bar_response(GtkInfoBar *bar, int response, VigilTrayMainWindow *self)
{
	gtk_widget_hide(GTK_WIDGET(bar));
	g_signal_emit(self, signals[SIGNAL_TRAY_HINT_CLOSED], 0);
}

static void
vigil_tray_main_window_class_init(VigilTrayMainWindowClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	signals[SIGNAL_TRAY_HINT_CLOSED] =
	    g_signal_new("tray-hint-closed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
	                 NULL, NULL, G_TYPE_NONE, 0);
	gtk_widget_class_set_template_from_resource(widget_class,
	                                            "/org/vigil/Tray/vigil-tray-main-window.ui");
	gtk_widget_class_bind_template_child(widget_class, VigilTrayMainWindow, status_label);
	gtk_widget_class_bind_template_child(widget_class, VigilTrayMainWindow, pending_label);
	gtk_widget_class_bind_template_child(widget_class, VigilTrayMainWindow, pause_button);
	gtk_widget_class_bind_template_child(widget_class, VigilTrayMainWindow, tray_bar);
	gtk_widget_class_bind_template_child(widget_class, VigilTrayMainWindow, stack);
	gtk_widget_class_bind_template_callback(widget_class, tray_bar_response);
	gtk_widget_class_bind_template_callback(widget_class, gtk_widget_hide_on_delete);
}

static void
vigil_tray_main_window_init(VigilTrayMainWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

VigilTrayMainWindow *
vigil_tray_main_window_new(GtkApplication *app)
{
	return g_object_new(VIGIL_TYPE_TRAY_MAIN_WINDOW, "application", app, NULL);
}
