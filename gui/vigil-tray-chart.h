/* vigil-tray-chart.h: a bar chart of bytes received and sent over time, drawn with cairo */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* one interval of the chart: where it starts, and the bytes counted in it */
typedef struct {
	gint64 start_us;
	guint64 bytes_in;
	guint64 bytes_out;
} VigilTrayChartBucket;

#define VIGIL_TYPE_TRAY_CHART (vigil_tray_chart_get_type())
G_DECLARE_FINAL_TYPE(VigilTrayChart, vigil_tray_chart, VIGIL, TRAY_CHART, GtkDrawingArea)

GtkWidget *vigil_tray_chart_new(void);

/*
 * Shows @buckets (VigilTrayChartBucket, any order; intervals without traffic may be left out)
 * over [@since_us, @since_us + @n_intervals * @interval_s). @subject names what is plotted ("All
 * programs", "curl") and @range_text the range ("in the last hour"): both go into the
 * accessible description, which states the plotted totals for those who cannot see the
 * bars. The chart keeps its own copy.
 */
void vigil_tray_chart_set_data(VigilTrayChart *self, gint64 since_us, guint interval_s,
                               guint n_intervals, const GArray *buckets, const char *subject,
                               const char *range_text);
/* no data (history off, vigild gone): the chart says @message instead */
void vigil_tray_chart_set_message(VigilTrayChart *self, const char *message);

/* the accessible description: "curl: 1.0 MiB received, 2.1 KiB sent in the last hour" */
const char *vigil_tray_chart_get_summary(VigilTrayChart *self);

G_END_DECLS
