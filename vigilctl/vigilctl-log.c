/* vigilctl-log.c: vigilctl log, top and monitor: what vigild decided, and for whom */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vigilctl-output.h"
#include "vigilctl.h"

#define MONITOR_INTERVAL_MS 500

/* ---- the filter shared by log and monitor ---- */

typedef struct {
	char *program;
	char *verdict;
	char *since;
	char *until;
	int limit;
	int uid;
} FilterOptions;

static void
filter_options_clear(FilterOptions *options)
{
	g_clear_pointer(&options->program, g_free);
	g_clear_pointer(&options->verdict, g_free);
	g_clear_pointer(&options->since, g_free);
	g_clear_pointer(&options->until, g_free);
}

/* a program given by name ("curl") is matched here; vigild's filter takes exact paths */
static gboolean
program_is_path(const char *program)
{
	return program[0] == '/' || g_strcmp0(program, "unknown") == 0;
}

static gboolean
add_time(GVariantBuilder *builder, const char *key, const char *text, gint64 now_us, GError **error)
{
	gint64 time_us = 0;

	if (!vigilctl_parse_since(text, now_us, &time_us, error))
		return FALSE;
	g_variant_builder_add(builder, "{sv}", key, g_variant_new_int64(time_us));
	return TRUE;
}

gboolean
vigilctl_log_build_filter(const char *program, const char *verdict, const char *since,
                          const char *until, int limit, int uid, gint64 now_us, GVariant **filter,
                          GError **error)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	if (program != NULL && program_is_path(program))
		g_variant_builder_add(&builder, "{sv}", VIGIL_FILTER_KEY_PROGRAM,
		                      g_variant_new_string(program));
	if (verdict != NULL) {
		if (!vigilctl_parse_verdict(verdict, error))
			return FALSE;
		g_variant_builder_add(&builder, "{sv}", VIGIL_FILTER_KEY_VERDICT,
		                      g_variant_new_string(verdict));
	}
	if (since != NULL && !add_time(&builder, VIGIL_FILTER_KEY_SINCE, since, now_us, error))
		return FALSE;
	if (until != NULL && !add_time(&builder, VIGIL_FILTER_KEY_UNTIL, until, now_us, error))
		return FALSE;
	/* a time range is for the history on disk: days, not the ring's last minutes */
	if (since != NULL || until != NULL)
		g_variant_builder_add(&builder, "{sv}", VIGIL_FILTER_KEY_HISTORY,
		                      g_variant_new_boolean(TRUE));
	if (limit < 0) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("--limit takes a number of decisions, 0 for all"));
		return FALSE;
	}
	/* with a name to match here, vigild's newest N might not be ours: limit afterwards */
	if (limit > 0 && (program == NULL || program_is_path(program)))
		g_variant_builder_add(&builder, "{sv}", VIGIL_FILTER_KEY_LIMIT,
		                      g_variant_new_uint32((guint32)limit));
	if (uid >= 0)
		g_variant_builder_add(&builder, "{sv}", VIGIL_FILTER_KEY_UID,
		                      g_variant_new_uint32((guint32)uid));
	*filter = g_variant_ref_sink(g_variant_builder_end(&builder));
	return TRUE;
}

/* whether @conn is the program the user named: a path is matched by vigild already */
gboolean
vigilctl_log_program_matches(GVariant *conn, const char *program)
{
	const char *path = vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROGRAM);
	const char *name = vigilctl_dict_string(conn, VIGIL_CONN_KEY_NAME);
	g_autofree char *base = NULL;

	if (program == NULL || program_is_path(program))
		return TRUE;
	if (g_strcmp0(name, program) == 0)
		return TRUE;
	if (path == NULL)
		return FALSE;
	base = g_path_get_basename(path);
	return g_strcmp0(base, program) == 0;
}

/* the decisions of @conns (aa{sv}) that match @program, at most the newest @limit */
GVariant *
vigilctl_log_select(GVariant *conns, const char *program, int limit)
{
	g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	GVariantIter iter;
	GVariant *conn = NULL;
	guint first = 0;

	g_variant_iter_init(&iter, conns);
	while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
		if (vigilctl_log_program_matches(conn, program))
			g_ptr_array_add(kept, conn);
		else
			g_variant_unref(conn);
	}
	if (limit > 0 && kept->len > (guint)limit)
		first = kept->len - (guint)limit;
	for (guint i = first; i < kept->len; i++)
		g_variant_builder_add_value(&builder, g_ptr_array_index(kept, i));
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* "rule 5", "reply (rule 7)", "default" */
static char *
format_reason(GVariant *conn)
{
	const char *reason = vigilctl_dict_string(conn, VIGIL_CONN_KEY_REASON);
	guint64 rule = 0;
	g_autofree char *text = NULL;

	if (reason == NULL)
		reason = "?";
	if (!g_variant_lookup(conn, VIGIL_CONN_KEY_RULE, "t", &rule))
		text = g_strdup(reason);
	else if (g_strcmp0(reason, VIGIL_REASON_NAME_RULE) == 0)
		text = g_strdup_printf(_("rule %" PRIu64), rule);
	else
		text = g_strdup_printf(_("%s (rule %" PRIu64 ")"), reason, rule);
	return vigilctl_sanitize(text);
}

/* "1.0 MiB / 2.1 kiB" (in / out), or "" when conntrack's counters were not read */
static char *
format_bytes(GVariant *conn)
{
	guint64 in = 0, out = 0;
	g_autofree char *in_text = NULL;
	g_autofree char *out_text = NULL;

	if (!g_variant_lookup(conn, VIGIL_CONN_KEY_BYTES_IN, "t", &in) ||
	    !g_variant_lookup(conn, VIGIL_CONN_KEY_BYTES_OUT, "t", &out))
		return g_strdup("");
	in_text = vigilctl_format_bytes(in);
	out_text = vigilctl_format_bytes(out);
	/* TRANSLATORS: bytes received / bytes sent, e.g. "1.0 MiB / 2.1 kiB" */
	return g_strdup_printf(_("%s / %s"), in_text, out_text);
}

/* whether any decision of @conns has conntrack's counters (the history's do) */
static gboolean
any_has_bytes(GVariant *conns)
{
	GVariantIter iter;
	GVariant *conn = NULL;

	g_variant_iter_init(&iter, conns);
	while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = conn;
		guint64 bytes = 0;

		if (g_variant_lookup(conn, VIGIL_CONN_KEY_BYTES_IN, "t", &bytes))
			return TRUE;
	}
	return FALSE;
}

static char *
format_pid(GVariant *conn)
{
	guint32 pid = 0;

	if (!g_variant_lookup(conn, VIGIL_CONN_KEY_PID, "u", &pid))
		return g_strdup("");
	return g_strdup_printf("%" G_GUINT32_FORMAT, pid);
}

char *
vigilctl_log_format(GVariant *conns)
{
	/* bytes only when there are some: the in-memory log has none */
	gboolean bytes = any_has_bytes(conns);
	g_autoptr(VigilctlTable) table =
	    bytes
	        ? vigilctl_table_new(10, _("TIME"), _("VERDICT"), _("PROGRAM"), _("PID"), _("USER"),
	                             _("DESTINATION"), _("PORT"), _("PROTO"), _("REASON"),
	                             _("BYTES IN / OUT"))
	        : vigilctl_table_new(9, _("TIME"), _("VERDICT"), _("PROGRAM"), _("PID"), _("USER"),
	                             _("DESTINATION"), _("PORT"), _("PROTO"), _("REASON"));
	GVariantIter iter;
	GVariant *conn = NULL;

	vigilctl_table_align_right(table, 3);
	g_variant_iter_init(&iter, conns);
	while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = conn;
		gint64 time = 0;
		g_autofree char *time_text = NULL;
		g_autofree char *program = vigilctl_format_program(conn);
		g_autofree char *pid = format_pid(conn);
		g_autofree char *user = vigilctl_format_user(conn);
		g_autofree char *destination = vigilctl_format_destination(conn);
		g_autofree char *port = vigilctl_format_port(conn);
		g_autofree char *reason = format_reason(conn);
		g_autofree char *traffic = format_bytes(conn);

		g_variant_lookup(conn, VIGIL_CONN_KEY_TIME, "x", &time);
		time_text = vigilctl_format_time_us(time, TRUE);
		/* the 10th string is ignored by a table of 9 columns */
		vigilctl_table_add_row(
		    table, time_text, vigilctl_dict_string(conn, VIGIL_CONN_KEY_VERDICT), program,
		    pid, user, destination, port,
		    vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROTOCOL), reason, traffic);
	}
	if (vigilctl_table_n_rows(table) == 0)
		return g_strdup(_("No decisions.\n"));
	return vigilctl_table_render(table);
}

/* one line per decision, for monitor:
 * "12:00:01 deny  /usr/bin/curl[4242] alice (1000) -> example.org (192.0.2.7) 443 (https) tcp: rule
 * 5" */
char *
vigilctl_log_format_line(GVariant *conn)
{
	gint64 time = 0;
	g_autofree char *time_text = NULL;
	g_autofree char *verdict =
	    vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_VERDICT));
	g_autofree char *program = vigilctl_format_program(conn);
	g_autofree char *pid = format_pid(conn);
	g_autofree char *user = vigilctl_format_user(conn);
	g_autofree char *destination = vigilctl_format_destination(conn);
	g_autofree char *port = vigilctl_format_port(conn);
	g_autofree char *proto =
	    vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROTOCOL));
	g_autofree char *reason = format_reason(conn);

	g_variant_lookup(conn, VIGIL_CONN_KEY_TIME, "x", &time);
	time_text = vigilctl_format_time_us(time, FALSE);
	return g_strdup_printf("%s %-5s %s%s%s%s %s -> %s%s%s %s: %s", time_text, verdict, program,
	                       *pid != '\0' ? "[" : "", pid, *pid != '\0' ? "]" : "", user,
	                       destination, *port != '\0' ? " " : "", port, proto, reason);
}

static void
add_filter_entries(GOptionContext *context, FilterOptions *options, gboolean with_since)
{
	const GOptionEntry entries[] = {
	    {"program", 'p', 0, G_OPTION_ARG_STRING, &options->program,
	     N_("Only this program: its path, or its name (e.g. curl)"), N_("PROGRAM")},
	    {"verdict", 'v', 0, G_OPTION_ARG_STRING, &options->verdict,
	     N_("Only decisions with this verdict: allow, deny or drop"), N_("VERDICT")},
	    {"uid", 'u', 0, G_OPTION_ARG_INT, &options->uid,
	     N_("Only this user's connections (root sees every user's)"), N_("UID")},
	    {"since", 's', 0, G_OPTION_ARG_STRING, &options->since,
	     N_("Only decisions since this long ago (10m, 2h, 1d) or this time (ISO 8601, 12:00), "
	        "from the history"),
	     N_("TIME")},
	    {"until", 0, 0, G_OPTION_ARG_STRING, &options->until,
	     N_("Only decisions until this long ago or this time, from the history"), N_("TIME")},
	    G_OPTION_ENTRY_NULL};
	GOptionEntry copy[G_N_ELEMENTS(entries)];

	memcpy(copy, entries, sizeof entries);
	if (!with_since)
		copy[3] = copy[5];
	g_option_context_add_main_entries(context, copy, NULL);
}

/* ---- log ---- */

gboolean
vigilctl_cmd_log(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	FilterOptions options = {.uid = -1};
	const GOptionEntry entries[] = {
	    {"limit", 'n', 0, G_OPTION_ARG_INT, &options.limit,
	     N_("Only the newest N decisions (default: all that vigild keeps)"), N_("N")},
	    G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "",
	    N_("Shows vigild's recent decisions, oldest first: your own connections (root: "
	       "everyone's)."),
	    N_("Without --since or --until: the recent decisions vigild keeps in memory. With\n"
	       "them: its history on disk (HistoryDays in vigild.conf, 30 days by default),\n"
	       "at most 10,000 decisions, the newest."),
	    entries);
	g_autoptr(GVariant) filter = NULL;
	g_autoptr(GVariant) conns = NULL;
	g_autoptr(GVariant) selected = NULL;
	VigilFirewall *firewall = NULL;
	gboolean ok = FALSE;

	add_filter_entries(context, &options, TRUE);
	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_options_only(argc, "log", error))
		goto out;
	if (!vigilctl_log_build_filter(options.program, options.verdict, options.since,
	                               options.until, options.limit, options.uid, g_get_real_time(),
	                               &filter, error))
		goto out;
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		goto out;
	ctx->permission_hint = _("only root may read other users' connections");
	if (!vigil_firewall_call_get_connections_sync(firewall, filter, G_DBUS_CALL_FLAGS_NONE, -1,
	                                              &conns, NULL, error))
		goto out;
	selected = vigilctl_log_select(conns, options.program, options.limit);
	if (ctx->json) {
		g_autofree char *json = vigilctl_json_from_variant(selected);

		g_print("%s\n", json);
	} else {
		g_autofree char *text = vigilctl_log_format(selected);

		g_print("%s", text);
	}
	ok = TRUE;
out:
	filter_options_clear(&options);
	return ok;
}

/* ---- top ---- */

typedef enum {
	SORT_CONNECTIONS,
	SORT_DESTINATIONS,
	SORT_DENIED,
	SORT_BYTES, /* in and out: from the history only */
} SortKey;

/* vigild's name of each SortKey (GetProgramHistory's sort) */
static const char *const sort_names[] = {
    [SORT_CONNECTIONS] = VIGIL_STATS_SORT_CONNECTIONS,
    [SORT_DESTINATIONS] = VIGIL_STATS_SORT_DESTINATIONS,
    [SORT_DENIED] = VIGIL_STATS_SORT_DENIED,
    [SORT_BYTES] = VIGIL_STATS_SORT_BYTES,
};

typedef struct {
	char *program;
	guint64 connections;
	guint64 allowed;
	guint64 denied;
	guint32 destinations;
	gint64 last_seen;
	gboolean has_bytes; /* from the history */
	guint64 bytes_in;
	guint64 bytes_out;
	GVariant *counters;
} ProgramRow;

static void
program_row_free(ProgramRow *row)
{
	g_free(row->program);
	g_variant_unref(row->counters);
	g_free(row);
}

static SortKey sort_key;

static int
compare_u64(guint64 a, guint64 b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

/* most first; ties: the other counts, then the name, so the order is stable */
static int
compare_rows(gconstpointer pa, gconstpointer pb)
{
	const ProgramRow *a = *(ProgramRow *const *)pa;
	const ProgramRow *b = *(ProgramRow *const *)pb;
	int c = 0;

	switch (sort_key) {
	case SORT_CONNECTIONS:
		c = compare_u64(a->connections, b->connections);
		if (c == 0)
			c = compare_u64(a->destinations, b->destinations);
		break;
	case SORT_DESTINATIONS:
		c = compare_u64(a->destinations, b->destinations);
		if (c == 0)
			c = compare_u64(a->connections, b->connections);
		break;
	case SORT_DENIED:
		c = compare_u64(a->denied, b->denied);
		if (c == 0)
			c = compare_u64(a->connections, b->connections);
		break;
	case SORT_BYTES:
		c = compare_u64(a->bytes_in + a->bytes_out, b->bytes_in + b->bytes_out);
		if (c == 0)
			c = compare_u64(a->connections, b->connections);
		break;
	}
	return c != 0 ? c : g_strcmp0(a->program, b->program);
}

gboolean
vigilctl_top_parse_sort(const char *text, int *key, GError **error)
{
	if (text == NULL || g_strcmp0(text, "connections") == 0)
		*key = SORT_CONNECTIONS;
	else if (g_strcmp0(text, "destinations") == 0)
		*key = SORT_DESTINATIONS;
	else if (g_strcmp0(text, "denied") == 0)
		*key = SORT_DENIED;
	else if (g_strcmp0(text, "bytes") == 0)
		*key = SORT_BYTES;
	else {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("--sort: '%s' is not connections, bytes, destinations or denied"),
		            text);
		return FALSE;
	}
	return TRUE;
}

/* GetProgramStats()'s a(sa{sv}) ranked by @key, at most @limit (0: all) */
GPtrArray *
vigilctl_top_rank(GVariant *stats, int key, int limit)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)program_row_free);
	GVariantIter iter;
	const char *program = NULL;
	GVariant *counters = NULL;

	g_variant_iter_init(&iter, stats);
	while (g_variant_iter_next(&iter, "(&s@a{sv})", &program, &counters)) {
		ProgramRow *row = g_new0(ProgramRow, 1);

		row->program = g_strdup(program);
		row->counters = counters;
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_CONNECTIONS, "t",
		                 &row->connections);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_ALLOWED, "t", &row->allowed);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_DENIED, "t", &row->denied);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_DESTINATIONS, "u",
		                 &row->destinations);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_LAST_SEEN, "x", &row->last_seen);
		row->has_bytes = g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_BYTES_IN, "t",
		                                  &row->bytes_in);
		g_variant_lookup(counters, VIGIL_PROGRAM_STATS_KEY_BYTES_OUT, "t", &row->bytes_out);
		g_ptr_array_add(rows, row);
	}
	sort_key = key;
	g_ptr_array_sort(rows, compare_rows);
	if (limit > 0 && rows->len > (guint)limit)
		g_ptr_array_set_size(rows, limit);
	return rows;
}

char *
vigilctl_top_format(GPtrArray *rows)
{
	/* bytes when vigild counted them (the history): the live counters have none */
	gboolean bytes = rows->len > 0 && ((ProgramRow *)g_ptr_array_index(rows, 0))->has_bytes;
	g_autoptr(VigilctlTable) table =
	    bytes ? vigilctl_table_new(8, _("CONNECTIONS"), _("DESTINATIONS"), _("ALLOWED"),
	                               _("DENIED"), _("BYTES IN"), _("BYTES OUT"), _("LAST SEEN"),
	                               _("PROGRAM"))
	          : vigilctl_table_new(6, _("CONNECTIONS"), _("DESTINATIONS"), _("ALLOWED"),
	                               _("DENIED"), _("LAST SEEN"), _("PROGRAM"));

	for (guint c = 0; c < (bytes ? 6u : 4u); c++)
		vigilctl_table_align_right(table, c);
	for (guint i = 0; i < rows->len; i++) {
		ProgramRow *row = g_ptr_array_index(rows, i);
		g_autofree char *connections =
		    g_strdup_printf("%" G_GUINT64_FORMAT, row->connections);
		g_autofree char *destinations =
		    g_strdup_printf("%" G_GUINT32_FORMAT, row->destinations);
		g_autofree char *allowed = g_strdup_printf("%" G_GUINT64_FORMAT, row->allowed);
		g_autofree char *denied = g_strdup_printf("%" G_GUINT64_FORMAT, row->denied);
		g_autofree char *last = vigilctl_format_time_us(row->last_seen, TRUE);
		g_autofree char *in = vigilctl_format_bytes(row->bytes_in);
		g_autofree char *out = vigilctl_format_bytes(row->bytes_out);

		if (bytes)
			vigilctl_table_add_row(table, connections, destinations, allowed, denied,
			                       in, out, last, row->program);
		else
			vigilctl_table_add_row(table, connections, destinations, allowed, denied,
			                       last, row->program);
	}
	if (vigilctl_table_n_rows(table) == 0)
		return g_strdup(_("No connections yet.\n"));
	return vigilctl_table_render(table);
}

/* [{"program": "/usr/bin/curl", "connections": 3, ...}, ...] in rank order */
static char *
top_json(GPtrArray *rows)
{
	g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	g_autoptr(GVariant) value = NULL;

	for (guint i = 0; i < rows->len; i++) {
		ProgramRow *row = g_ptr_array_index(rows, i);
		g_auto(GVariantDict) dict;

		g_variant_dict_init(&dict, row->counters);
		g_variant_dict_insert(&dict, "program", "s", row->program);
		g_variant_builder_add_value(&list, g_variant_dict_end(&dict));
	}
	value = g_variant_ref_sink(g_variant_builder_end(&list));
	return vigilctl_json_from_variant(value);
}

/* GetProgramHistory()'s options from top's; FALSE and @error for a bad time */
gboolean
vigilctl_top_build_options(const char *since, const char *until, int key, int limit, int uid,
                           gint64 now_us, GVariant **options, GError **error)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	if (since != NULL && !add_time(&builder, VIGIL_FILTER_KEY_SINCE, since, now_us, error))
		return FALSE;
	if (until != NULL && !add_time(&builder, VIGIL_FILTER_KEY_UNTIL, until, now_us, error))
		return FALSE;
	g_variant_builder_add(&builder, "{sv}", VIGIL_RANGE_KEY_SORT,
	                      g_variant_new_string(sort_names[key]));
	/* vigild ranks, so that its first N are the ones wanted */
	if (limit > 0)
		g_variant_builder_add(&builder, "{sv}", VIGIL_FILTER_KEY_LIMIT,
		                      g_variant_new_uint32((guint32)limit));
	if (uid >= 0)
		g_variant_builder_add(&builder, "{sv}", VIGIL_FILTER_KEY_UID,
		                      g_variant_new_uint32((guint32)uid));
	*options = g_variant_ref_sink(g_variant_builder_end(&builder));
	return TRUE;
}

/* GetProgramHistory() with top's options, or GetProgramStats() without a range */
static gboolean
top_read(VigilctlContext *ctx, const char *since, const char *until, int key, int limit, int uid,
         GVariant **stats, GError **error)
{
	/* the counters since vigild started, unless a range, bytes or a user asks for days */
	gboolean history = since != NULL || until != NULL || key == SORT_BYTES || uid >= 0;
	g_autoptr(GVariant) options = NULL;
	VigilFirewall *firewall = NULL;

	if (history && !vigilctl_top_build_options(since, until, key, limit, uid, g_get_real_time(),
	                                           &options, error))
		return FALSE;
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	ctx->permission_hint = _("only root may read other users' connections");
	if (!history)
		return vigil_firewall_call_get_program_stats_sync(firewall, G_DBUS_CALL_FLAGS_NONE,
		                                                  -1, stats, NULL, error);
	return vigil_firewall_call_get_program_history_sync(
	    firewall, options, G_DBUS_CALL_FLAGS_NONE, -1, stats, NULL, error);
}

gboolean
vigilctl_cmd_top(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	g_autofree char *sort = NULL;
	g_autofree char *since = NULL;
	g_autofree char *until = NULL;
	int limit = 0;
	int uid = -1;
	int key = SORT_CONNECTIONS;
	const GOptionEntry entries[] = {
	    {"sort", 0, 0, G_OPTION_ARG_STRING, &sort,
	     N_("Rank by connections (the default), bytes, destinations or denied"), N_("KEY")},
	    {"limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_("Only the first N programs"), N_("N")},
	    {"since", 's', 0, G_OPTION_ARG_STRING, &since,
	     N_("Only connections since this long ago (10m, 2h, 1d) or this time (ISO 8601, "
	        "12:00), from the history"),
	     N_("TIME")},
	    {"until", 0, 0, G_OPTION_ARG_STRING, &until,
	     N_("Only connections until this long ago or this time, from the history"), N_("TIME")},
	    {"uid", 'u', 0, G_OPTION_ARG_INT, &uid,
	     N_("Only this user's connections (root sees every user's)"), N_("UID")},
	    G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "",
	    N_("Ranks programs by their connections since vigild started, and shows to how many "
	       "distinct destinations they went: which program is the chattiest?"),
	    N_("With --since, --until, --uid or --sort bytes: from the history on disk, with the\n"
	       "bytes each program sent and received."),
	    entries);
	g_autoptr(GVariant) stats = NULL;
	g_autoptr(GPtrArray) rows = NULL;

	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_options_only(argc, "top", error))
		return FALSE;
	if (!vigilctl_top_parse_sort(sort, &key, error))
		return FALSE;
	if (limit < 0) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("--limit takes a number of programs"));
		return FALSE;
	}
	if (!top_read(ctx, since, until, key, limit, uid, &stats, error))
		return FALSE;
	rows = vigilctl_top_rank(stats, key, limit);
	{
		g_autofree char *text = ctx->json ? top_json(rows) : vigilctl_top_format(rows);

		g_print("%s%s", text, ctx->json ? "\n" : "");
	}
	return TRUE;
}

/* ---- monitor ---- */

typedef struct {
	VigilctlContext *ctx;
	VigilFirewall *firewall;
	GMainLoop *loop;
	GVariant *filter; /* without after */
	const char *program;
	guint64 last;
	gboolean down;
	guint timeout_id;
	GError *error;
} Monitor;

static void monitor_poll(Monitor *monitor);

static void
monitor_print(Monitor *monitor, GVariant *conns)
{
	GVariantIter iter;
	GVariant *conn = NULL;

	g_variant_iter_init(&iter, conns);
	while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
		g_autoptr(GVariant) owned = conn;
		guint64 id = 0;

		if (g_variant_lookup(conn, VIGIL_CONN_KEY_ID, "t", &id) && id > monitor->last)
			monitor->last = id;
		if (!vigilctl_log_program_matches(conn, monitor->program))
			continue;
		if (monitor->ctx->json) {
			g_autofree char *json = vigilctl_json_from_variant(conn);

			g_print("%s\n", json);
		} else {
			g_autofree char *line = vigilctl_log_format_line(conn);

			g_print("%s\n", line);
		}
	}
	fflush(stdout);
}

static gboolean
on_poll_timeout(gpointer data)
{
	Monitor *monitor = data;

	monitor->timeout_id = 0;
	monitor_poll(monitor);
	return G_SOURCE_REMOVE;
}

static void
on_polled(GObject *source, GAsyncResult *result, gpointer data)
{
	Monitor *monitor = data;
	g_autoptr(GVariant) conns = NULL;
	g_autoptr(GError) local = NULL;

	if (!vigil_firewall_call_get_connections_finish(VIGIL_FIREWALL(source), &conns, result,
	                                                &local)) {
		if (!vigilctl_error_is_not_running(local)) {
			monitor->error = g_steal_pointer(&local);
			g_main_loop_quit(monitor->loop);
			return;
		}
		if (!monitor->down)
			g_printerr(_("vigilctl: vigild stopped; waiting for it to start again\n"));
		monitor->down = TRUE;
	} else {
		if (monitor->down)
			g_printerr(_("vigilctl: vigild is back\n"));
		monitor->down = FALSE;
		monitor_print(monitor, conns);
	}
	monitor->timeout_id = g_timeout_add(MONITOR_INTERVAL_MS, on_poll_timeout, monitor);
}

static void
monitor_poll(Monitor *monitor)
{
	g_auto(GVariantDict) dict;

	g_variant_dict_init(&dict, monitor->filter);
	g_variant_dict_remove(&dict, VIGIL_FILTER_KEY_LIMIT);
	g_variant_dict_insert(&dict, VIGIL_FILTER_KEY_AFTER, "t", monitor->last);
	vigil_firewall_call_get_connections(monitor->firewall, g_variant_dict_end(&dict),
	                                    G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_polled, monitor);
}

/* a new vigild counts decisions from 1 again */
static void
on_owner_changed(GObject *proxy, GParamSpec *pspec, gpointer data)
{
	Monitor *monitor = data;
	g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));

	if (owner != NULL)
		monitor->last = 0;
}

static gboolean
on_quit_signal(gpointer data)
{
	g_main_loop_quit(((Monitor *)data)->loop);
	return G_SOURCE_CONTINUE;
}

gboolean
vigilctl_cmd_monitor(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	FilterOptions options = {.uid = -1};
	const GOptionEntry entries[] = {{"lines", 'n', 0, G_OPTION_ARG_INT, &options.limit,
	                                 N_("Show the last N decisions first (default 0)"),
	                                 N_("N")},
	                                G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "", N_("Shows vigild's decisions as they happen, until Ctrl-C."),
	    N_("With --json, one JSON object per line."), entries);
	Monitor monitor = {.ctx = ctx};
	g_autoptr(GVariant) recent = NULL;
	g_autoptr(GVariant) selected = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	guint sigint = 0;
	guint sigterm = 0;
	gulong owner_handler = 0;
	gboolean ok = FALSE;

	add_filter_entries(context, &options, FALSE);
	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_options_only(argc, "monitor", error))
		goto out;
	/* limit 1 finds the newest id when nothing older is wanted */
	if (!vigilctl_log_build_filter(options.program, options.verdict, NULL, NULL,
	                               options.limit > 0 ? options.limit : 1, options.uid,
	                               g_get_real_time(), &monitor.filter, error))
		goto out;
	monitor.firewall = vigilctl_firewall(ctx, error);
	if (monitor.firewall == NULL)
		goto out;
	ctx->permission_hint = _("only root may watch other users' connections");
	if (!vigil_firewall_call_get_connections_sync(
	        monitor.firewall, monitor.filter, G_DBUS_CALL_FLAGS_NONE, -1, &recent, NULL, error))
		goto out;
	monitor.program = options.program;
	selected = vigilctl_log_select(recent, options.program, options.limit);
	if (options.limit > 0)
		monitor_print(&monitor, selected);
	/* the newest id, shown or not: only later ones are new */
	{
		GVariantIter iter;
		GVariant *conn = NULL;

		g_variant_iter_init(&iter, recent);
		while ((conn = g_variant_iter_next_value(&iter)) != NULL) {
			guint64 id = 0;

			if (g_variant_lookup(conn, VIGIL_CONN_KEY_ID, "t", &id) &&
			    id > monitor.last)
				monitor.last = id;
			g_variant_unref(conn);
		}
	}
	/* on stderr, so scripts reading stdout get decisions only (and tests a starting line) */
	g_printerr(_("Watching vigild's decisions; Ctrl-C to stop.\n"));
	loop = g_main_loop_new(NULL, FALSE);
	monitor.loop = loop;
	sigint = g_unix_signal_add(SIGINT, on_quit_signal, &monitor);
	sigterm = g_unix_signal_add(SIGTERM, on_quit_signal, &monitor);
	owner_handler = g_signal_connect(monitor.firewall, "notify::g-name-owner",
	                                 G_CALLBACK(on_owner_changed), &monitor);
	monitor_poll(&monitor);
	g_main_loop_run(loop);
	g_signal_handler_disconnect(monitor.firewall, owner_handler);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	if (monitor.timeout_id != 0)
		g_source_remove(monitor.timeout_id);
	if (monitor.error != NULL) {
		g_propagate_error(error, monitor.error);
		goto out;
	}
	ok = TRUE;
out:
	g_clear_pointer(&monitor.filter, g_variant_unref);
	filter_options_clear(&options);
	return ok;
}
