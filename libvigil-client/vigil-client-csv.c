/* vigil-client-csv.c: decisions of the history as CSV (RFC 4180, no formulas) */
#define G_LOG_DOMAIN "vigil-client"
#include "config.h"

#include <string.h>

#include "vigil-client-csv.h"
#include "vigil-dbus.h"

/* the columns, in order: connection dictionary keys */
static const char *const csv_columns[] = {
    VIGIL_CONN_KEY_ID,          VIGIL_CONN_KEY_TIME,       VIGIL_CONN_KEY_UID,
    VIGIL_CONN_KEY_USER,        VIGIL_CONN_KEY_PID,        VIGIL_CONN_KEY_PROGRAM,
    VIGIL_CONN_KEY_SHA256,      VIGIL_CONN_KEY_PROTOCOL,   VIGIL_CONN_KEY_DESTINATION,
    VIGIL_CONN_KEY_HOSTNAME,    VIGIL_CONN_KEY_PORT,       VIGIL_CONN_KEY_ICMP_TYPE,
    VIGIL_CONN_KEY_VERDICT,     VIGIL_CONN_KEY_REASON,     VIGIL_CONN_KEY_RULE,
    VIGIL_CONN_KEY_QUEUED_US,   VIGIL_CONN_KEY_BYTES_OUT,  VIGIL_CONN_KEY_BYTES_IN,
    VIGIL_CONN_KEY_PACKETS_OUT, VIGIL_CONN_KEY_PACKETS_IN, VIGIL_CONN_KEY_ENDED,
};

/* RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled; so
 * is one with a semicolon or a tab, which spreadsheets in many locales split cells at (an
 * unquoted "/tmp/a;=HYPERLINK(…)" would start a cell with a formula there) */
static void
append_field(GString *out, const char *text)
{
	if (strpbrk(text, ",\"\r\n;\t") == NULL) {
		g_string_append(out, text);
		return;
	}
	g_string_append_c(out, '"');
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

/* what LibreOffice, Excel and Google Sheets take for the start of a formula (OWASP's list) */
static gboolean
starts_formula(const char *text)
{
	return text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL;
}

void
vigil_csv_append_text(GString *out, const char *text)
{
	if (starts_formula(text)) {
		g_autofree char *quoted = g_strconcat("'", text, NULL);

		append_field(out, quoted);
		return;
	}
	append_field(out, text);
}

/* unix µs as ISO 8601 in UTC with microseconds: what spreadsheets and scripts read */
static char *
format_iso_time(gint64 unix_us)
{
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(unix_us / G_USEC_PER_SEC);
	g_autofree char *seconds = NULL;

	if (time == NULL)
		return g_strdup("");
	seconds = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
	return g_strdup_printf("%s.%06" G_GINT64_FORMAT "Z", seconds, unix_us % G_USEC_PER_SEC);
}

/* a number or time as CSV shows it; NULL for a string (text, neutralised by the caller) */
static char *
number_value(GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		return format_iso_time(g_variant_get_int64(value));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		return g_strdup_printf("%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		return g_strdup_printf("%" G_GUINT32_FORMAT, g_variant_get_uint32(value));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16))
		return g_strdup_printf("%u", (guint)g_variant_get_uint16(value));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE))
		return g_strdup_printf("%u", (guint)g_variant_get_byte(value));
	return NULL;
}

static void
append_value(GString *out, GVariant *conn, const char *key)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(conn, key, NULL);
	g_autofree char *text = NULL;

	if (value == NULL)
		return;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
		vigil_csv_append_text(out, g_variant_get_string(value, NULL));
		return;
	}
	text = number_value(value);
	if (text != NULL) {
		append_field(out, text);
		return;
	}
	/* a type of a later vigild: its GVariant text, which may be anything */
	text = g_variant_print(value, FALSE);
	vigil_csv_append_text(out, text);
}

char *
vigil_csv_header(void)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(csv_columns); i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		append_field(out, csv_columns[i]);
	}
	g_string_append(out, "\r\n");
	return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
vigil_csv_row(GVariant *conn)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(csv_columns); i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		append_value(out, conn, csv_columns[i]);
	}
	g_string_append(out, "\r\n");
	return g_string_free(g_steal_pointer(&out), FALSE);
}
