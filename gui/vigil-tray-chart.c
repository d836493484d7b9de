/* vigil-tray-chart.c: a bar chart of bytes received and sent over time, drawn with cairo in
 * the theme's colours (light and dark themes alike) */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>

#include "vigil-format.h"
#include "vigil-tray-chart.h"

/* pixels between the plot and the labels, and around the whole */
#define PAD 6
/* horizontal grid lines (and y labels) above zero */
#define Y_TICKS 4
/* time labels under the plot */
#define X_LABELS 5

struct _VigilTrayChart {
	GtkDrawingArea parent;

	gint64 since_us;
	guint interval_s;
	guint n_intervals;
	/* per interval, in order; n_intervals of each */
	guint64 *bytes_in;
	guint64 *bytes_out;
	char *message;
	char *summary;
};

G_DEFINE_TYPE(VigilTrayChart, vigil_tray_chart, GTK_TYPE_DRAWING_AREA)

static void
set_summary(VigilTrayChart *self, const char *summary)
{
	g_free(self->summary);
	self->summary = g_strdup(summary);
	atk_object_set_description(gtk_widget_get_accessible(GTK_WIDGET(self)), summary);
}

void
vigil_tray_chart_set_data(VigilTrayChart *self, gint64 since_us, guint interval_s,
                          guint n_intervals, const GArray *buckets, const char *subject,
                          const char *range_text)
{
	guint64 total_in = 0, total_out = 0;
	g_autofree char *in_text = NULL;
	g_autofree char *out_text = NULL;
	g_autofree char *summary = NULL;

	g_return_if_fail(VIGIL_IS_TRAY_CHART(self));
	g_return_if_fail(interval_s > 0 && n_intervals > 0);

	self->since_us = since_us;
	self->interval_s = interval_s;
	self->n_intervals = n_intervals;
	g_free(self->bytes_in);
	g_free(self->bytes_out);
	self->bytes_in = g_new0(guint64, n_intervals);
	self->bytes_out = g_new0(guint64, n_intervals);
	for (guint i = 0; buckets != NULL && i < buckets->len; i++) {
		const VigilTrayChartBucket *b = &g_array_index(buckets, VigilTrayChartBucket, i);
		gint64 slot = (b->start_us - since_us) / ((gint64)interval_s * G_USEC_PER_SEC);

		/* the totals count every bucket vigild sent; one at the range's very end (until is
		 * inclusive) is drawn in the last bar */
		total_in += b->bytes_in;
		total_out += b->bytes_out;
		slot = CLAMP(slot, 0, (gint64)n_intervals - 1);
		self->bytes_in[slot] += b->bytes_in;
		self->bytes_out[slot] += b->bytes_out;
	}
	g_clear_pointer(&self->message, g_free);
	in_text = vigil_format_bytes(total_in);
	out_text = vigil_format_bytes(total_out);
	/* TRANSLATORS: "curl: 1.0 MiB received, 2.1 KiB sent in the last hour"; the last %s is
	 * "in the last hour", "in the last day" or "in the last week" */
	summary = g_strdup_printf(_("%s: %s received, %s sent %s"), subject, in_text, out_text,
	                          range_text);
	set_summary(self, summary);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

void
vigil_tray_chart_set_message(VigilTrayChart *self, const char *message)
{
	g_return_if_fail(VIGIL_IS_TRAY_CHART(self));

	g_free(self->message);
	self->message = g_strdup(message);
	self->n_intervals = 0;
	set_summary(self, message);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

const char *
vigil_tray_chart_get_summary(VigilTrayChart *self)
{
	g_return_val_if_fail(VIGIL_IS_TRAY_CHART(self), NULL);
	return self->summary;
}

/* a colour the theme names (Adwaita and most themes define these), else @fallback */
static void
theme_color(GtkStyleContext *context, const char *name, const char *fallback, GdkRGBA *color)
{
	if (!gtk_style_context_lookup_color(context, name, color))
		gdk_rgba_parse(color, fallback);
}

typedef struct {
	GdkRGBA fg;
	GdkRGBA received;
	GdkRGBA sent;
} Colors;

static void
read_colors(GtkWidget *widget, Colors *c)
{
	GtkStyleContext *context = gtk_widget_get_style_context(widget);

	gtk_style_context_get_color(context, gtk_style_context_get_state(context), &c->fg);
	/* the theme's accent, and its warning colour for contrast with it */
	theme_color(context, "theme_selected_bg_color", "#3584e4", &c->received);
	theme_color(context, "warning_color", "#e66100", &c->sent);
}

/* the smallest power of two of bytes with Y_TICKS steps at or above @max: labels in whole
 * KiB, MiB, ... */
static guint64
y_step(guint64 max)
{
	guint64 step = 1;

	while (step * Y_TICKS < max && step < G_MAXUINT64 / 4)
		step *= 2;
	return step;
}

static void
draw_text(cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double xalign,
          double yalign)
{
	int w, h;

	pango_layout_set_text(layout, text, -1);
	pango_layout_get_pixel_size(layout, &w, &h);
	cairo_move_to(cr, x - w * xalign, y - h * yalign);
	pango_cairo_show_layout(cr, layout);
}

static int
text_width(PangoLayout *layout, const char *text)
{
	int w, h;

	pango_layout_set_text(layout, text, -1);
	pango_layout_get_pixel_size(layout, &w, &h);
	return w;
}

static void
draw_message(GtkWidget *widget, cairo_t *cr, const char *message, const Colors *c)
{
	g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(widget, NULL);

	gdk_cairo_set_source_rgba(cr, &c->fg);
	draw_text(cr, layout, message, gtk_widget_get_allocated_width(widget) / 2.0,
	          gtk_widget_get_allocated_height(widget) / 2.0, 0.5, 0.5);
}

static void
draw_legend(cairo_t *cr, PangoLayout *layout, double x, double y, const Colors *c, int line)
{
	const struct {
		const GdkRGBA *color;
		const char *label;
	} items[] = {{&c->received, _("Received")}, {&c->sent, _("Sent")}};

	for (guint i = 0; i < G_N_ELEMENTS(items); i++) {
		gdk_cairo_set_source_rgba(cr, items[i].color);
		cairo_rectangle(cr, x, y + line * 0.2, line * 0.6, line * 0.6);
		cairo_fill(cr);
		gdk_cairo_set_source_rgba(cr, &c->fg);
		draw_text(cr, layout, items[i].label, x + line * 0.8, y, 0, 0);
		x += line * 0.8 + text_width(layout, items[i].label) + 2 * PAD;
	}
}

/* the time labels: clock times within a day, weekday and day over longer ranges */
static char *
time_label(gint64 us, guint span_s)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(us / G_USEC_PER_SEC);

	if (t == NULL)
		return g_strdup("");
	return g_date_time_format(t, span_s <= 24 * 3600 ? "%H:%M" : "%a %e");
}

static gboolean
chart_draw(GtkWidget *widget, cairo_t *cr)
{
	VigilTrayChart *self = VIGIL_TRAY_CHART(widget);
	g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(widget, NULL);
	int width = gtk_widget_get_allocated_width(widget);
	int height = gtk_widget_get_allocated_height(widget);
	guint64 max = 0, step;
	guint span_s;
	int line, label_w = 0;
	double left, top, right, bottom, bar_w;
	Colors c;

	read_colors(widget, &c);
	if (self->message != NULL || self->n_intervals == 0) {
		draw_message(widget, cr, self->message != NULL ? self->message : "", &c);
		return FALSE;
	}
	pango_layout_set_text(layout, "0", -1);
	pango_layout_get_pixel_size(layout, NULL, &line);
	for (guint i = 0; i < self->n_intervals; i++)
		max = MAX(max, self->bytes_in[i] + self->bytes_out[i]);
	step = y_step(max);
	for (guint t = 0; t <= Y_TICKS; t++) {
		g_autofree char *label = vigil_format_bytes(step * t);

		label_w = MAX(label_w, text_width(layout, label));
	}
	left = PAD + label_w + PAD;
	top = PAD + line + PAD;
	right = width - PAD - label_w / 2.0;
	bottom = height - PAD - line - PAD;
	if (right - left < 20 || bottom - top < 20)
		return FALSE;
	draw_legend(cr, layout, left, PAD, &c, line);

	/* the grid and the byte labels */
	cairo_set_line_width(cr, 1);
	for (guint t = 0; t <= Y_TICKS; t++) {
		g_autofree char *label = vigil_format_bytes(step * t);
		double y = bottom - (bottom - top) * t / Y_TICKS;

		cairo_set_source_rgba(cr, c.fg.red, c.fg.green, c.fg.blue, t == 0 ? 0.6 : 0.15);
		cairo_move_to(cr, left, (int)y + 0.5);
		cairo_line_to(cr, right, (int)y + 0.5);
		cairo_stroke(cr);
		gdk_cairo_set_source_rgba(cr, &c.fg);
		draw_text(cr, layout, label, left - PAD, y, 1, 0.5);
	}

	/* one bar per interval: received below, sent stacked on it */
	bar_w = (right - left) / self->n_intervals;
	for (guint i = 0; i < self->n_intervals; i++) {
		double x = left + i * bar_w;
		double w = MAX(bar_w - (bar_w > 3 ? 1 : 0), 1);
		double h_in = (bottom - top) * (double)self->bytes_in[i] / (double)(step * Y_TICKS);
		double h_out =
		    (bottom - top) * (double)self->bytes_out[i] / (double)(step * Y_TICKS);

		if (self->bytes_in[i] > 0) {
			gdk_cairo_set_source_rgba(cr, &c.received);
			cairo_rectangle(cr, x, bottom - MAX(h_in, 1), w, MAX(h_in, 1));
			cairo_fill(cr);
		}
		if (self->bytes_out[i] > 0) {
			gdk_cairo_set_source_rgba(cr, &c.sent);
			cairo_rectangle(cr, x, bottom - h_in - MAX(h_out, 1), w, MAX(h_out, 1));
			cairo_fill(cr);
		}
	}

	/* the time labels, evenly over the range */
	span_s = self->interval_s * self->n_intervals;
	gdk_cairo_set_source_rgba(cr, &c.fg);
	for (guint k = 0; k < X_LABELS; k++) {
		double frac = (double)k / (X_LABELS - 1);
		gint64 us = self->since_us + (gint64)(frac * span_s) * G_USEC_PER_SEC;
		g_autofree char *label = time_label(us, span_s);

		draw_text(cr, layout, label, left + frac * (right - left), bottom + PAD, 0.5, 0);
	}
	return FALSE;
}

static void
chart_finalize(GObject *object)
{
	VigilTrayChart *self = VIGIL_TRAY_CHART(object);

	g_free(self->bytes_in);
	g_free(self->bytes_out);
	g_free(self->message);
	g_free(self->summary);
	G_OBJECT_CLASS(vigil_tray_chart_parent_class)->finalize(object);
}

static void
vigil_tray_chart_class_init(VigilTrayChartClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = chart_finalize;
	GTK_WIDGET_CLASS(klass)->draw = chart_draw;
}

static void
vigil_tray_chart_init(VigilTrayChart *self)
{
	AtkObject *accessible = gtk_widget_get_accessible(GTK_WIDGET(self));

	gtk_widget_set_size_request(GTK_WIDGET(self), 360, 200);
	atk_object_set_role(accessible, ATK_ROLE_CHART);
	atk_object_set_name(accessible, _("Traffic over time"));
}

GtkWidget *
vigil_tray_chart_new(void)
{
	return g_object_new(VIGIL_TYPE_TRAY_CHART, NULL);
}
