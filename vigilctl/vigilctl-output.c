/* vigilctl-output.c: how vigilctl shows things: JSON, tables, times, connections */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdarg.h>

#include "vigil-dbus.h"
#include "vigil-text.h"
#include "vigilctl-output.h"

void
vigilctl_json_append_string(GString *out, const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);

	g_string_append_c(out, '"');
	for (const char *p = valid; *p != '\0'; p++) {
		guchar c = (guchar)*p;

		switch (c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_c(out, (char)c);
		}
	}
	g_string_append_c(out, '"');
}

static void
append_double(GString *out, double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	/* JSON has no NaN or infinity */
	if (!isfinite(value)) {
		g_string_append(out, "null");
		return;
	}
	g_string_append(out, g_ascii_dtostr(buf, sizeof buf, value));
}

static gboolean
is_string_keyed_dict(GVariant *value)
{
	const GVariantType *type = g_variant_get_type(value);

	return g_variant_type_is_array(type) &&
	       g_variant_type_is_dict_entry(g_variant_type_element(type)) &&
	       g_variant_type_equal(g_variant_type_key(g_variant_type_element(type)),
	                            G_VARIANT_TYPE_STRING);
}

static void
append_container(GString *out, GVariant *value)
{
	gboolean object = is_string_keyed_dict(value);
	gsize n = g_variant_n_children(value);

	g_string_append_c(out, object ? '{' : '[');
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(value, i);

		if (i > 0)
			g_string_append_c(out, ',');
		if (object) {
			g_autoptr(GVariant) key = g_variant_get_child_value(child, 0);
			g_autoptr(GVariant) item = g_variant_get_child_value(child, 1);

			vigilctl_json_append_string(out, g_variant_get_string(key, NULL));
			g_string_append_c(out, ':');
			vigilctl_json_append_variant(out, item);
		} else {
			/* a dict entry that is not string-keyed is a [key, value] pair */
			vigilctl_json_append_variant(out, child);
		}
	}
	g_string_append_c(out, object ? '}' : ']');
}

void
vigilctl_json_append_variant(GString *out, GVariant *value)
{
	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_BOOLEAN:
		g_string_append(out, g_variant_get_boolean(value) ? "true" : "false");
		break;
	case G_VARIANT_CLASS_BYTE:
		g_string_append_printf(out, "%u", g_variant_get_byte(value));
		break;
	case G_VARIANT_CLASS_INT16:
		g_string_append_printf(out, "%d", g_variant_get_int16(value));
		break;
	case G_VARIANT_CLASS_UINT16:
		g_string_append_printf(out, "%u", g_variant_get_uint16(value));
		break;
	case G_VARIANT_CLASS_INT32:
		g_string_append_printf(out, "%" G_GINT32_FORMAT, g_variant_get_int32(value));
		break;
	case G_VARIANT_CLASS_UINT32:
		g_string_append_printf(out, "%" G_GUINT32_FORMAT, g_variant_get_uint32(value));
		break;
	case G_VARIANT_CLASS_INT64:
		g_string_append_printf(out, "%" G_GINT64_FORMAT, g_variant_get_int64(value));
		break;
	case G_VARIANT_CLASS_UINT64:
		g_string_append_printf(out, "%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
		break;
	case G_VARIANT_CLASS_HANDLE:
		g_string_append_printf(out, "%" G_GINT32_FORMAT, g_variant_get_handle(value));
		break;
	case G_VARIANT_CLASS_DOUBLE:
		append_double(out, g_variant_get_double(value));
		break;
	case G_VARIANT_CLASS_STRING:
	case G_VARIANT_CLASS_OBJECT_PATH:
	case G_VARIANT_CLASS_SIGNATURE:
		vigilctl_json_append_string(out, g_variant_get_string(value, NULL));
		break;
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);

		vigilctl_json_append_variant(out, inner);
		break;
	}
	case G_VARIANT_CLASS_MAYBE: {
		g_autoptr(GVariant) inner = g_variant_get_maybe(value);

		if (inner == NULL)
			g_string_append(out, "null");
		else
			vigilctl_json_append_variant(out, inner);
		break;
	}
	case G_VARIANT_CLASS_ARRAY:
	case G_VARIANT_CLASS_TUPLE:
	case G_VARIANT_CLASS_DICT_ENTRY:
		append_container(out, value);
		break;
	}
}

char *
vigilctl_json_from_variant(GVariant *value)
{
	GString *out = g_string_new(NULL);

	vigilctl_json_append_variant(out, value);
	return g_string_free(out, FALSE);
}

void
vigilctl_print_json(GVariant *value)
{
	g_autoptr(GVariant) owned = g_variant_ref_sink(value);
	g_autofree char *json = vigilctl_json_from_variant(owned);

	g_print("%s\n", json);
}

void
vigilctl_show(GVariant *value, gboolean json, GVariant *(*json_of)(GVariant *value),
              char *(*text_of)(GVariant *value))
{
	g_autofree char *text = NULL;

	if (json) {
		vigilctl_print_json(json_of != NULL ? json_of(value) : value);
		return;
	}
	text = text_of(value);
	g_print("%s", text);
}

GVariant *
vigilctl_json_list_with_ids(GVariant *items, const char *key)
{
	g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	GVariantIter iter;
	guint64 id = 0;
	GVariant *item = NULL;

	g_variant_iter_init(&iter, items);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &item)) {
		g_autoptr(GVariant) owned = item;
		g_auto(GVariantDict) dict;

		g_variant_dict_init(&dict, item);
		g_variant_dict_insert(&dict, key, "t", id);
		g_variant_builder_add_value(&list, g_variant_dict_end(&dict));
	}
	return g_variant_builder_end(&list);
}

char *
vigilctl_sanitize(const char *text)
{
	/* the one sanitiser of every UI (common/vigil-text.h); a terminal line is long */
	return vigil_text_sanitize(text, VIGIL_TEXT_MAX_LONG);
}

struct _VigilctlTable {
	guint n_columns;
	GPtrArray *rows; /* of GStrv, the first is the header */
	gboolean *right;
};

VigilctlTable *
vigilctl_table_new(guint n_columns, ...)
{
	VigilctlTable *table = NULL;
	char **header = NULL;
	va_list ap;

	g_return_val_if_fail(n_columns > 0, NULL);
	table = g_new0(VigilctlTable, 1);
	header = g_new0(char *, n_columns + 1);
	table->n_columns = n_columns;
	table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	table->right = g_new0(gboolean, n_columns);
	va_start(ap, n_columns);
	for (guint i = 0; i < n_columns; i++)
		header[i] = g_strdup(va_arg(ap, const char *));
	va_end(ap);
	g_ptr_array_add(table->rows, header);
	return table;
}

void
vigilctl_table_align_right(VigilctlTable *table, guint column)
{
	g_return_if_fail(column < table->n_columns);
	table->right[column] = TRUE;
}

void
vigilctl_table_add_row(VigilctlTable *table, ...)
{
	char **row = g_new0(char *, table->n_columns + 1);
	va_list ap;

	va_start(ap, table);
	for (guint i = 0; i < table->n_columns; i++)
		row[i] = vigilctl_sanitize(va_arg(ap, const char *));
	va_end(ap);
	g_ptr_array_add(table->rows, row);
}

guint
vigilctl_table_n_rows(VigilctlTable *table)
{
	return table->rows->len - 1;
}

static void
append_padding(GString *out, glong n)
{
	for (glong i = 0; i < n; i++)
		g_string_append_c(out, ' ');
}

char *
vigilctl_table_render(VigilctlTable *table)
{
	g_autofree glong *widths = g_new0(glong, table->n_columns);
	GString *out = g_string_new(NULL);

	for (guint r = 0; r < table->rows->len; r++) {
		char **row = g_ptr_array_index(table->rows, r);

		for (guint c = 0; c < table->n_columns; c++)
			widths[c] = MAX(widths[c], g_utf8_strlen(row[c], -1));
	}
	for (guint r = 0; r < table->rows->len; r++) {
		char **row = g_ptr_array_index(table->rows, r);
		gsize line_start = out->len;

		for (guint c = 0; c < table->n_columns; c++) {
			glong pad = widths[c] - g_utf8_strlen(row[c], -1);
			gboolean last = c + 1 == table->n_columns;

			if (c > 0)
				g_string_append(out, "  ");
			if (table->right[c])
				append_padding(out, pad);
			g_string_append(out, row[c]);
			if (!table->right[c] && !last)
				append_padding(out, pad);
		}
		/* no trailing blanks when the last cells are empty */
		while (out->len > line_start && out->str[out->len - 1] == ' ')
			g_string_truncate(out, out->len - 1);
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

void
vigilctl_table_free(VigilctlTable *table)
{
	if (table == NULL)
		return;
	g_ptr_array_unref(table->rows);
	g_free(table->right);
	g_free(table);
}

char *
vigilctl_format_time_us(gint64 unix_us, gboolean with_date)
{
	g_autoptr(GDateTime) local = NULL;

	if (unix_us == 0)
		return g_strdup(_("never"));
	/* whole seconds are what is shown (GLib 2.74 has no _usec constructor) */
	local = g_date_time_new_from_unix_local(unix_us / G_USEC_PER_SEC);
	if (local == NULL)
		return g_strdup("?");
	return g_date_time_format(local, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S");
}

char *
vigilctl_format_time_s(gint64 unix_s)
{
	if (unix_s == 0)
		return g_strdup(_("never"));
	if (unix_s > G_MAXINT64 / G_USEC_PER_SEC || unix_s < G_MININT64 / G_USEC_PER_SEC)
		return g_strdup("?");
	return vigilctl_format_time_us(unix_s * G_USEC_PER_SEC, TRUE);
}

const char *
vigilctl_dict_string(GVariant *dict, const char *key)
{
	const char *value = NULL;

	if (dict == NULL || !g_variant_lookup(dict, key, "&s", &value))
		return NULL;
	return value;
}

char *
vigilctl_format_program(GVariant *conn)
{
	const char *program = vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROGRAM);

	return vigilctl_sanitize(program != NULL ? program : _("unknown"));
}

char *
vigilctl_format_destination(GVariant *conn)
{
	const char *address = vigilctl_dict_string(conn, VIGIL_CONN_KEY_DESTINATION);
	const char *host = vigilctl_dict_string(conn, VIGIL_CONN_KEY_HOSTNAME);
	g_autofree char *text = NULL;

	if (address == NULL)
		address = "?";
	if (host != NULL && g_strcmp0(host, address) != 0)
		text = g_strdup_printf("%s (%s)", host, address);
	else
		text = g_strdup(address);
	return vigilctl_sanitize(text);
}

char *
vigilctl_format_port(GVariant *conn)
{
	guint16 port = 0;
	guint8 icmp_type = 0;
	const char *service = vigilctl_dict_string(conn, VIGIL_CONN_KEY_SERVICE);
	g_autofree char *text = NULL;

	if (g_variant_lookup(conn, VIGIL_CONN_KEY_PORT, "q", &port)) {
		if (service != NULL)
			text = g_strdup_printf("%u (%s)", port, service);
		else
			text = g_strdup_printf("%u", port);
	} else if (g_variant_lookup(conn, VIGIL_CONN_KEY_ICMP_TYPE, "y", &icmp_type)) {
		text = g_strdup_printf(_("type %u"), icmp_type);
	} else {
		text = g_strdup("");
	}
	return vigilctl_sanitize(text);
}

char *
vigilctl_format_user(GVariant *conn)
{
	const char *user = vigilctl_dict_string(conn, VIGIL_CONN_KEY_USER);
	guint32 uid = 0;
	g_autofree char *text = NULL;

	if (!g_variant_lookup(conn, VIGIL_CONN_KEY_UID, "u", &uid))
		return g_strdup(user != NULL ? user : "?");
	if (user != NULL && g_strcmp0(user, "") != 0) {
		g_autofree char *uid_text = g_strdup_printf("%" G_GUINT32_FORMAT, uid);

		if (g_strcmp0(user, uid_text) == 0)
			text = g_strdup(user);
		else
			text = g_strdup_printf("%s (%" G_GUINT32_FORMAT ")", user, uid);
	} else {
		text = g_strdup_printf("%" G_GUINT32_FORMAT, uid);
	}
	return vigilctl_sanitize(text);
}

char *
vigilctl_format_bytes(guint64 bytes)
{
	g_autofree char *text = g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
	g_auto(GStrv) parts = g_strsplit(text, "\u00a0", -1);

	/* GLib puts a no-break space before the unit: a plain one is what scripts split on */
	return g_strjoinv(" ", parts);
}
