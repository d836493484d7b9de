/* vigil-client-csv.h: decisions of the history as CSV, the same for vigilctl export and the
 * Network Monitor's Export */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The columns are connection dictionary keys (vigil-dbus.h), in a fixed order; quoting is
 * RFC 4180 (a field with a comma, a quote or a line break is quoted, its quotes doubled),
 * lines end in CRLF. A text field that a spreadsheet would read as a formula (it starts with
 * = + - @, a tab or a carriage return) gets a leading apostrophe: program paths and host names
 * are chosen by whoever runs the program or answers its DNS query, and must not run as
 * formulas in the spreadsheet that opens the export. Numbers and times are never changed.
 */
char *vigil_csv_header(void);
/* one line for the connection dictionary @conn; times as ISO 8601 UTC with microseconds */
char *vigil_csv_row(GVariant *conn);
/* @text as one field, neutralised and quoted as above */
void vigil_csv_append_text(GString *out, const char *text);

G_END_DECLS
