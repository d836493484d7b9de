/* vigilctl-output.h: how vigilctl shows things: JSON, tables, times, connections */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* JSON: strings escaped per RFC 8259; a{sv} and a{s*} become objects, other arrays and
 * tuples arrays, variants their contents, maybe-nothing null */
void vigilctl_json_append_string(GString *out, const char *text);
void vigilctl_json_append_variant(GString *out, GVariant *value);
char *vigilctl_json_from_variant(GVariant *value);
/* prints @value (a floating one is sunk) as JSON and a newline */
void vigilctl_print_json(GVariant *value);
/* prints what a command got, @value: as JSON (json_of(@value), or @value itself when
 * @json_of is NULL) with --json (@json), else the text text_of(@value) */
void vigilctl_show(GVariant *value, gboolean json, GVariant *(*json_of)(GVariant *value),
                   char *(*text_of)(GVariant *value));
/* a(ta{sv}), as GetRules and GetPending give them, as aa{sv}: each dictionary with its id
 * under @key */
GVariant *vigilctl_json_list_with_ids(GVariant *items, const char *key);

/*
 * Text from vigild shown on a terminal, through the one sanitiser of every UI
 * (vigil_text_sanitize(), common/vigil-text.h, capped at VIGIL_TEXT_MAX_LONG): control
 * characters and the Unicode controls that reorder or hide text are shown escaped ("\x1b",
 * "\u202e"), so that a program's path or a host name cannot rewrite the screen or fake a
 * prompt.
 */
char *vigilctl_sanitize(const char *text);

/* a table of columns padded to their widest cell; the last column is not padded */
typedef struct _VigilctlTable VigilctlTable;
VigilctlTable *vigilctl_table_new(guint n_columns, ...); /* the headers */
void vigilctl_table_align_right(VigilctlTable *table, guint column);
void vigilctl_table_add_row(VigilctlTable *table, ...); /* n_columns strings (NULL: "") */
guint vigilctl_table_n_rows(VigilctlTable *table);
char *vigilctl_table_render(VigilctlTable *table);
void vigilctl_table_free(VigilctlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilctlTable, vigilctl_table_free)

/* local time "2024-05-01 12:00:03" (or "12:00:03" without @with_date); 0 is "never" */
char *vigilctl_format_time_us(gint64 unix_us, gboolean with_date);
char *vigilctl_format_time_s(gint64 unix_s);

/* from a connection dictionary (a{sv}), sanitized for a terminal */
const char *vigilctl_dict_string(GVariant *dict, const char *key); /* NULL when missing */
char *vigilctl_format_program(GVariant *conn);     /* "/usr/bin/curl" or "unknown" */
char *vigilctl_format_destination(GVariant *conn); /* "host.example (192.0.2.7)" */
char *vigilctl_format_port(GVariant *conn);        /* "443 (https)", "icmp 8", "" */
char *vigilctl_format_user(GVariant *conn);        /* "alice (1000)" */
char *vigilctl_format_bytes(guint64 bytes);        /* "1.0 MiB", IEC units */

G_END_DECLS
