/* vigil-format.h: texts for decisions and rules, shared by the windows */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "Allowed", "Denied", "Dropped" for a verdict; other values as they are */
const char *vigil_format_verdict(const char *verdict);
/* why a decision was made: "rule 12", "your answer", "default (no agent)", ... */
char *vigil_format_reason(const char *reason, guint64 rule, gboolean has_rule);
/* a unix time in microseconds as local "HH:MM:SS" today, else "YYYY-MM-DD HH:MM" */
char *vigil_format_time_us(gint64 us, gint64 now_us);

/* a byte count as people read it: "512 bytes", "1.0 MiB" (IEC units, like vigilctl) */
char *vigil_format_bytes(guint64 bytes);

G_END_DECLS
