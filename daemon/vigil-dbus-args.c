/* vigil-dbus-args.c: dictionary arguments checked whole before they are used (no I/O) */
#define G_LOG_DOMAIN "vigil-dbus"
#include "config.h"

#include "vigil-dbus-args.h"
#include "vigil-dbus.h"
#include "vigil-settings.h"

#define invalid(error, ...) vigil_dbus_invalid(error, __VA_ARGS__)

/* a key as an error message shows it: a caller's 1 MiB key is not echoed back whole */
#define SHOWN_KEY_MAX 64

static char *
shown_key(const char *key)
{
	g_autofree char *cut = NULL;
	g_autofree char *escaped = NULL;

	if (!g_utf8_validate(key, -1, NULL)) {
		cut = g_strndup(key, SHOWN_KEY_MAX);
		return g_strescape(cut, NULL);
	}
	/* g_utf8_substring() must not be asked past the end of the string */
	if (g_utf8_strlen(key, -1) <= SHOWN_KEY_MAX)
		return g_strescape(key, NULL);
	cut = g_utf8_substring(key, 0, SHOWN_KEY_MAX);
	escaped = g_strescape(cut, NULL);
	return g_strconcat(escaped, "...", NULL);
}

gboolean
vigil_dbus_invalid(GError **error, const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT, message);
	return FALSE;
}

static char *
known_keys(const VigilDictKey *keys, gsize n_keys)
{
	GString *out = g_string_new(NULL);

	for (gsize i = 0; i < n_keys; i++)
		g_string_append_printf(out, "%s%s", i > 0 ? ", " : "", keys[i].key);
	return g_string_free(out, FALSE);
}

/* the value of one known key: of its type, a string within its bound */
static gboolean
check_value(const VigilDictKey *spec, GVariant *value, const char *what, GError **error)
{
	gsize len = 0;

	if (!g_variant_is_of_type(value, G_VARIANT_TYPE(spec->type)))
		return invalid(error, "%s: %s must be of type %s, not %s", what, spec->key,
		               spec->type, g_variant_get_type_string(value));
	if (spec->max_len > 0 && g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
		g_variant_get_string(value, &len);
		if (len > spec->max_len)
			return invalid(error, "%s: %s is longer than %" G_GSIZE_FORMAT " bytes",
			               what, spec->key, spec->max_len);
	}
	return TRUE;
}

gboolean
vigil_dbus_check_dict(GVariant *dict, const VigilDictKey *keys, gsize n_keys,
                      const char *const *read_only, const char *what, GError **error)
{
	GVariantIter iter;
	const char *key;
	GVariant *value_out;
	guint32 seen = 0;

	g_return_val_if_fail(n_keys <= VIGIL_DICT_MAX_KEYS, FALSE);
	g_return_val_if_fail(g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT), FALSE);
	g_variant_iter_init(&iter, dict);
	/* one entry at a time, released before the next: an early return keeps nothing */
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value_out)) {
		g_autoptr(GVariant) value = value_out;
		gsize i;

		for (i = 0; i < n_keys && !g_str_equal(keys[i].key, key); i++)
			;
		if (i == n_keys) {
			g_autofree char *shown = shown_key(key);
			g_autofree char *known = known_keys(keys, n_keys);

			if (read_only != NULL && g_strv_contains(read_only, key))
				return invalid(error, "%s: %s is read-only", what, shown);
			return invalid(error, "%s: unknown key '%s' (%s)", what, shown, known);
		}
		if ((seen & (1u << i)) != 0)
			return invalid(error, "%s: %s is given more than once", what, keys[i].key);
		seen |= 1u << i;
		if (!check_value(&keys[i], value, what, error))
			return FALSE;
	}
	return TRUE;
}

/* ---- SetConfig ---- */

/* a choice's text is a word */
#define SETTING_TEXT_MAX 16

static void
add_setting(VigilDBusSettings *out, guint *n, const char *key, const char *text)
{
	/* one slot per key, and the dictionary holds each key once at most */
	g_assert(*n < G_N_ELEMENTS(out->keys) - 1);
	out->keys[*n] = key;
	out->values[*n] = text;
	(*n)++;
	out->keys[*n] = NULL;
	out->values[*n] = NULL;
}

/* the keys of the settings SetConfig sets, from the one table of settings */
static gsize
settable_keys(VigilDictKey *keys, gsize max_keys)
{
	gsize n_settings, n = 0;
	const VigilSetting *settings = vigil_settings(&n_settings);

	for (gsize i = 0; i < n_settings; i++) {
		const char *type = settings[i].dbus_type;

		if (type == NULL)
			continue;
		g_assert(n < max_keys);
		keys[n++] = (VigilDictKey){settings[i].name, type,
		                           g_str_equal(type, "s") ? SETTING_TEXT_MAX : 0};
	}
	return n;
}

/* "DefaultAction, PromptTimeout or FailMode" */
static char *
settable_list(const VigilDictKey *keys, gsize n_keys)
{
	GString *out = g_string_new(NULL);

	for (gsize i = 0; i < n_keys; i++)
		g_string_append_printf(out, "%s%s",
		                       i == 0           ? ""
		                       : i + 1 < n_keys ? ", "
		                                        : " or ",
		                       keys[i].key);
	return g_string_free(out, FALSE);
}

/* one value as vigild.conf writes it; a number's text is kept in @out */
static const char *
setting_text(VigilDBusSettings *out, guint n, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
		g_snprintf(out->numbers[n], sizeof out->numbers[n], "%u",
		           g_variant_get_uint32(value));
		return out->numbers[n];
	}
	return g_variant_get_string(value, NULL);
}

gboolean
vigil_dbus_parse_settings(GVariant *dict, const VigilConfig *current, VigilDBusSettings *out,
                          GError **error)
{
	VigilDictKey keys[G_N_ELEMENTS(out->keys) - 1];
	gsize n_keys = settable_keys(keys, G_N_ELEMENTS(keys));
	g_auto(VigilConfig) next = *current;
	guint n = 0;

	/* the settings own their strings: @current's are never shared, whatever a setting
	 * frees when it is set (SetConfig sets none of these today) */
	next.agent_executables = g_strdupv(current->agent_executables);
	next.ebpf_cgroup = g_strdup(current->ebpf_cgroup);
	*out = (VigilDBusSettings){0};
	if (g_variant_n_children(dict) == 0) {
		g_autofree char *list = settable_list(keys, n_keys);

		return invalid(error, "config: empty; give %s", list);
	}
	if (!vigil_dbus_check_dict(dict, keys, n_keys, NULL, "config", error))
		return FALSE;
	/* checked whole: each key once at most, so a lookup finds the only one */
	for (gsize i = 0; i < n_keys; i++) {
		g_autoptr(GVariant) value = g_variant_lookup_value(dict, keys[i].key, NULL);
		g_autoptr(GError) local_error = NULL;
		const char *text;

		if (value == NULL)
			continue;
		text = setting_text(out, n, value);
		/* the check vigild.conf gets too: the same values refused with the same words */
		if (!vigil_setting_apply(&next, vigil_setting_lookup(keys[i].key), text,
		                         &local_error))
			return invalid(error, "config: %s", local_error->message);
		add_setting(out, &n, keys[i].key, text);
	}
	out->default_action = next.default_action;
	out->prompt_timeout = next.prompt_timeout;
	out->fail_mode = next.fail_mode;
	return TRUE;
}

/* ---- GetConnections ---- */

#define FILTER_PROGRAM_MAX 4095

static const VigilDictKey filter_keys[] = {
    {VIGIL_FILTER_KEY_PROGRAM, "s", FILTER_PROGRAM_MAX},
    {VIGIL_FILTER_KEY_VERDICT, "s", 16},
    {VIGIL_FILTER_KEY_SINCE, "x", 0},
    {VIGIL_FILTER_KEY_AFTER, "t", 0},
    {VIGIL_FILTER_KEY_UID, "u", 0},
    {VIGIL_FILTER_KEY_LIMIT, "u", 0},
    {VIGIL_FILTER_KEY_UNTIL, "x", 0},
    {VIGIL_FILTER_KEY_HISTORY, "b", 0},
    {VIGIL_FILTER_KEY_OLDEST, "b", 0},
};

gboolean
vigil_dbus_parse_filter(GVariant *dict, guint32 caller_uid, VigilDBusFilter *filter, GError **error)
{
	const char *verdict;

	*filter = (VigilDBusFilter){0};
	if (!vigil_dbus_check_dict(dict, filter_keys, G_N_ELEMENTS(filter_keys), NULL, "filter",
	                           error))
		return FALSE;
	if (g_variant_lookup(dict, VIGIL_FILTER_KEY_PROGRAM, "&s", &filter->program) &&
	    filter->program[0] != '/' && !g_str_equal(filter->program, VIGIL_PROGRAM_UNKNOWN))
		return invalid(error, "program: an absolute path or 'unknown'");
	if (g_variant_lookup(dict, VIGIL_FILTER_KEY_VERDICT, "&s", &verdict)) {
		if (!vigil_action_from_string(verdict, &filter->verdict))
			return invalid(error, "verdict: allow, deny or drop");
		filter->has_verdict = TRUE;
	}
	g_variant_lookup(dict, VIGIL_FILTER_KEY_SINCE, "x", &filter->since);
	g_variant_lookup(dict, VIGIL_FILTER_KEY_UNTIL, "x", &filter->until);
	g_variant_lookup(dict, VIGIL_FILTER_KEY_HISTORY, "b", &filter->history);
	g_variant_lookup(dict, VIGIL_FILTER_KEY_AFTER, "t", &filter->after);
	g_variant_lookup(dict, VIGIL_FILTER_KEY_LIMIT, "u", &filter->limit);
	g_variant_lookup(dict, VIGIL_FILTER_KEY_OLDEST, "b", &filter->oldest);
	filter->has_uid = g_variant_lookup(dict, VIGIL_FILTER_KEY_UID, "u", &filter->uid);
	if (filter->has_uid && caller_uid != 0 && filter->uid != caller_uid) {
		g_set_error_literal(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
		                    "uid: only root may read another user's connections");
		return FALSE;
	}
	if (caller_uid != 0) {
		filter->has_uid = TRUE;
		filter->uid = caller_uid;
	}
	return TRUE;
}

gboolean
vigil_dbus_filter_matches(const VigilDBusFilter *filter, const VigilDecision *d, guint64 id)
{
	if (filter->has_uid && d->uid != filter->uid)
		return FALSE;
	if (filter->program != NULL &&
	    !g_str_equal(filter->program, d->program != NULL ? d->program : VIGIL_PROGRAM_UNKNOWN))
		return FALSE;
	if (filter->has_verdict && d->verdict != filter->verdict)
		return FALSE;
	if (filter->until > 0 && d->time > filter->until)
		return FALSE;
	return d->time >= filter->since && id > filter->after;
}

/* ---- GetProgramHistory, GetTimeline ---- */

static const VigilDictKey program_history_keys[] = {
    {VIGIL_FILTER_KEY_SINCE, "x", 0}, {VIGIL_FILTER_KEY_UNTIL, "x", 0},
    {VIGIL_FILTER_KEY_UID, "u", 0},   {VIGIL_RANGE_KEY_SORT, "s", 16},
    {VIGIL_FILTER_KEY_LIMIT, "u", 0},
};

static const VigilDictKey timeline_keys[] = {
    {VIGIL_FILTER_KEY_SINCE, "x", 0},   {VIGIL_FILTER_KEY_UNTIL, "x", 0},
    {VIGIL_FILTER_KEY_UID, "u", 0},     {VIGIL_FILTER_KEY_PROGRAM, "s", FILTER_PROGRAM_MAX},
    {VIGIL_RANGE_KEY_INTERVAL, "u", 0},
};

/* since, until and uid, which both take */
static gboolean
parse_range_common(GVariant *dict, guint32 caller_uid, VigilDBusRange *range, GError **error)
{
	g_variant_lookup(dict, VIGIL_FILTER_KEY_SINCE, "x", &range->since);
	g_variant_lookup(dict, VIGIL_FILTER_KEY_UNTIL, "x", &range->until);
	if (range->since < 0 || range->until < 0)
		return invalid(error, "since, until: unix time in microseconds, not negative");
	if (range->until > 0 && range->until < range->since)
		return invalid(error, "until: before since");
	range->has_uid = g_variant_lookup(dict, VIGIL_FILTER_KEY_UID, "u", &range->uid);
	if (range->has_uid && caller_uid != 0 && range->uid != caller_uid) {
		g_set_error_literal(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_PERMISSION_DENIED,
		                    "uid: only root may read another user's connections");
		return FALSE;
	}
	if (caller_uid != 0) {
		range->has_uid = TRUE;
		range->uid = caller_uid;
	}
	return TRUE;
}

gboolean
vigil_dbus_parse_program_history(GVariant *dict, guint32 caller_uid, VigilDBusRange *range,
                                 GError **error)
{
	static const char *const sorts[] = {VIGIL_STATS_SORT_CONNECTIONS, VIGIL_STATS_SORT_BYTES,
	                                    VIGIL_STATS_SORT_DESTINATIONS, VIGIL_STATS_SORT_DENIED,
	                                    NULL};

	*range = (VigilDBusRange){.sort = VIGIL_STATS_SORT_CONNECTIONS};
	if (!vigil_dbus_check_dict(dict, program_history_keys, G_N_ELEMENTS(program_history_keys),
	                           NULL, "options", error))
		return FALSE;
	if (g_variant_lookup(dict, VIGIL_RANGE_KEY_SORT, "&s", &range->sort) &&
	    !g_strv_contains(sorts, range->sort))
		return invalid(error, "sort: connections, bytes, destinations or denied");
	g_variant_lookup(dict, VIGIL_FILTER_KEY_LIMIT, "u", &range->limit);
	return parse_range_common(dict, caller_uid, range, error);
}

gboolean
vigil_dbus_parse_timeline(GVariant *dict, guint32 caller_uid, gint64 now_us, VigilDBusRange *range,
                          GError **error)
{
	gint64 until;

	*range = (VigilDBusRange){0};
	if (!vigil_dbus_check_dict(dict, timeline_keys, G_N_ELEMENTS(timeline_keys), NULL,
	                           "options", error))
		return FALSE;
	if (!g_variant_lookup(dict, VIGIL_FILTER_KEY_SINCE, "x", &range->since) ||
	    !g_variant_lookup(dict, VIGIL_RANGE_KEY_INTERVAL, "u", &range->interval))
		return invalid(error, "since and interval are required");
	if (range->interval == 0)
		return invalid(error, "interval: at least 1 second");
	if (g_variant_lookup(dict, VIGIL_FILTER_KEY_PROGRAM, "&s", &range->program)) {
		if (g_str_equal(range->program, VIGIL_PROGRAM_UNKNOWN))
			range->program = "";
		else if (range->program[0] != '/')
			return invalid(error, "program: an absolute path or 'unknown'");
	}
	if (!parse_range_common(dict, caller_uid, range, error))
		return FALSE;
	until = range->until > 0 ? range->until : MAX(now_us, range->since);
	if ((until - range->since) / ((gint64)range->interval * G_USEC_PER_SEC) >=
	    VIGIL_TIMELINE_MAX_BUCKETS)
		return invalid(error, "interval: at most %d intervals from since to until",
		               VIGIL_TIMELINE_MAX_BUCKETS);
	return TRUE;
}
