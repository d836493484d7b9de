/* vigil-rule.c: one firewall rule and its one-line text form (pure: no I/O) */
#define G_LOG_DOMAIN "vigil-rule"
#include "config.h"

#include "vigil-rule.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* generous, but bounded: the text is untrusted */
#define MAX_LINE_LENGTH   16384
#define MAX_NOTE_LENGTH   1024
#define MAX_GLOB_LENGTH   4096
#define MAX_APP_ID_LENGTH 255
#define MAX_HOST_LENGTH   253
#define MAX_LABEL_LENGTH  63

VigilRule *
vigil_rule_new(void)
{
	VigilRule *rule = g_atomic_rc_box_new0(VigilRule);

	rule->action = VIGIL_ACTION_ALLOW;
	rule->all_users = TRUE;
	rule->target_kind = VIGIL_TARGET_ANY;
	rule->lifetime = VIGIL_LIFETIME_FOREVER;
	rule->enabled = TRUE;
	return rule;
}

VigilRule *
vigil_rule_ref(VigilRule *rule)
{
	g_return_val_if_fail(rule != NULL, NULL);
	return g_atomic_rc_box_acquire(rule);
}

/* what a rule holds, freed with its last reference */
static void
rule_clear(VigilRule *rule)
{
	g_free(rule->user_name);
	g_free(rule->program);
	g_free(rule->sha256);
	g_free(rule->args_glob);
	g_free(rule->app_id);
	g_free(rule->host);
	if (rule->ports != NULL)
		g_array_unref(rule->ports);
	g_free(rule->note);
	g_free(rule->origin);
	g_free(rule->program_target);
}

void
vigil_rule_unref(VigilRule *rule)
{
	if (rule != NULL)
		g_atomic_rc_box_release_full(rule, (GDestroyNotify)rule_clear);
}

VigilRule *
vigil_rule_copy(const VigilRule *rule)
{
	VigilRule *copy;

	g_return_val_if_fail(rule != NULL, NULL);
	copy = (g_atomic_rc_box_dup)(sizeof(*rule), rule); /* the macro would keep const */
	copy->user_name = g_strdup(rule->user_name);
	copy->program = g_strdup(rule->program);
	copy->sha256 = g_strdup(rule->sha256);
	copy->args_glob = g_strdup(rule->args_glob);
	copy->app_id = g_strdup(rule->app_id);
	copy->host = g_strdup(rule->host);
	if (rule->ports != NULL) {
		copy->ports =
		    g_array_sized_new(FALSE, FALSE, sizeof(VigilPortRange), rule->ports->len);
		g_array_append_vals(copy->ports, rule->ports->data, rule->ports->len);
	}
	copy->note = g_strdup(rule->note);
	copy->origin = g_strdup(rule->origin);
	copy->program_target = g_strdup(rule->program_target);
	return copy;
}

const char *
vigil_action_to_string(VigilAction action)
{
	switch (action) {
	case VIGIL_ACTION_ALLOW:
		return "allow";
	case VIGIL_ACTION_DENY:
		return "deny";
	case VIGIL_ACTION_DROP:
		return "drop";
	}
	return "invalid";
}

gboolean
vigil_action_from_string(const char *text, VigilAction *action)
{
	static const VigilAction actions[] = {VIGIL_ACTION_ALLOW, VIGIL_ACTION_DENY,
	                                      VIGIL_ACTION_DROP};

	for (guint i = 0; text != NULL && i < G_N_ELEMENTS(actions); i++) {
		if (g_strcmp0(text, vigil_action_to_string(actions[i])) == 0) {
			if (action != NULL)
				*action = actions[i];
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
vigil_rule_is_expired(const VigilRule *rule, gint64 now)
{
	return rule->lifetime == VIGIL_LIFETIME_UNTIL && now >= rule->until;
}

/* ---- small value parsers ---- */

static gboolean
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* decimal digits only: no sign, no spaces, no "0x" (strtoull would take all of those) */
static gboolean
parse_decimal(const char *text, guint64 max, guint64 *out)
{
	guint64 value = 0;

	if (text == NULL || *text == '\0')
		return FALSE;
	for (const char *p = text; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
		if (value > (max - (guint64)(*p - '0')) / 10)
			return FALSE;
		value = value * 10 + (guint64)(*p - '0');
	}
	*out = value;
	return TRUE;
}

static void value_error(GError **error, const char *keyword, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static void
value_error(GError **error, const char *keyword, const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE, "%s: %s", keyword, message);
}

static gboolean
parse_time(const char *keyword, const char *text, gint64 *out, GError **error)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = NULL;

	/* a time without a zone is UTC, never the local zone: files must mean the same
	 * on every machine */
	dt = g_date_time_new_from_iso8601(text, utc);
	if (dt == NULL) {
		value_error(error, keyword,
		            "'%s' is not an ISO 8601 time (like 2026-12-31T00:00:00Z)", text);
		return FALSE;
	}
	*out = g_date_time_to_unix(dt);
	return TRUE;
}

static char *
format_time(gint64 unix_time)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_time);

	if (dt == NULL)
		return g_strdup_printf("invalid-time-%" G_GINT64_FORMAT, unix_time);
	/* not g_date_time_format("%Y"): years before 1000 need their four digits */
	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02dZ", g_date_time_get_year(dt),
	                       g_date_time_get_month(dt), g_date_time_get_day_of_month(dt),
	                       g_date_time_get_hour(dt), g_date_time_get_minute(dt),
	                       g_date_time_get_second(dt));
}

gboolean
vigil_path_is_canonical(const char *path)
{
	g_auto(GStrv) parts = NULL;

	if (path[0] != '/' || path[1] == '\0' || strlen(path) > 4095)
		return FALSE;
	parts = g_strsplit(path + 1, "/", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0' || g_str_equal(parts[i], ".") ||
		    g_str_equal(parts[i], ".."))
			return FALSE;
	}
	return TRUE;
}

static gboolean
label_is_valid(const char *label, gsize len)
{
	if (len == 0 || len > MAX_LABEL_LENGTH)
		return FALSE;
	if (label[0] == '-' || label[len - 1] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		char c = label[i];

		/* '_' is not a host name character, but real DNS names carry it */
		if (!g_ascii_isalnum(c) && c != '-' && c != '_')
			return FALSE;
	}
	return TRUE;
}

/* lowercases, drops one trailing dot and converts IDN to ASCII; NULL when invalid */
static char *
normalize_host_name(const char *text, const char **why)
{
	g_autofree char *ascii = NULL;
	g_autofree char *lower = NULL;
	gsize len;
	const char *label;
	gboolean numeric_last = TRUE;

	if (!g_str_is_ascii(text)) {
		ascii = g_hostname_to_ascii(text);
		if (ascii == NULL) {
			*why = "is not a valid international domain name";
			return NULL;
		}
		text = ascii;
	}
	lower = g_ascii_strdown(text, -1);
	len = strlen(lower);
	if (len > 0 && lower[len - 1] == '.')
		lower[--len] = '\0';
	if (len == 0 || len > MAX_HOST_LENGTH) {
		*why = "is not a host name (1 to 253 characters)";
		return NULL;
	}
	label = lower;
	while (label != NULL) {
		const char *dot = strchr(label, '.');
		gsize label_len = dot != NULL ? (gsize)(dot - label) : strlen(label);

		if (!label_is_valid(label, label_len)) {
			*why = "is not a host name (labels of 1 to 63 letters, digits, '-' or '_')";
			return NULL;
		}
		numeric_last = TRUE;
		for (gsize i = 0; i < label_len; i++)
			numeric_last = numeric_last && g_ascii_isdigit(label[i]);
		label = dot != NULL ? dot + 1 : NULL;
	}
	/* "1.2.3" or "300.1.1.1" is a mistyped address, not a name */
	if (numeric_last) {
		*why = "is neither an address nor a host name";
		return NULL;
	}
	return g_steal_pointer(&lower);
}

static guint
family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static gboolean
host_bits_are_zero(const VigilAddress *addr, guint prefix_len)
{
	for (guint bit = prefix_len; bit < 128; bit++) {
		if (addr->bytes[bit / 8] & (0x80 >> (bit % 8)))
			return FALSE;
	}
	return TRUE;
}

static void
mask_address(VigilAddress *addr, guint prefix_len)
{
	for (guint bit = prefix_len; bit < 128; bit++)
		addr->bytes[bit / 8] &= (guint8) ~(0x80 >> (bit % 8));
}

static char *
format_address(int family, const VigilAddress *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family, addr->bytes, buf, sizeof(buf)) == NULL)
		return g_strdup("invalid-address");
	return g_strdup(buf);
}

/* ---- keyword handlers ---- */

typedef struct {
	VigilUserResolver resolve_user;
	gboolean keep_names; /* a user name goes into rule->user_name, not looked up */
	gboolean has_port;
	gboolean has_lifetime;
	const char *lifetime_keyword;
} ParseContext;

typedef gboolean (*KeywordParser)(VigilRule *rule, const char *keyword, const char *value,
                                  ParseContext *ctx, GError **error);

static gboolean
parse_user(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
           GError **error)
{
	guint64 uid;
	guint32 resolved;

	if (g_str_equal(value, "all")) {
		rule->all_users = TRUE;
		return TRUE;
	}
	/* (uid_t) -1 means "no user" to the kernel */
	if (parse_decimal(value, G_MAXUINT32 - 1, &uid)) {
		rule->all_users = FALSE;
		rule->uid = (guint32)uid;
		return TRUE;
	}
	if (g_ascii_isdigit(value[0])) {
		value_error(error, keyword, "'%s' is not a uid (0 to 4294967294)", value);
		return FALSE;
	}
	if (ctx->keep_names) {
		rule->all_users = FALSE;
		rule->uid = 0;
		g_free(rule->user_name);
		rule->user_name = g_strdup(value);
		return TRUE;
	}
	if (ctx->resolve_user == NULL || !ctx->resolve_user(value, &resolved)) {
		value_error(error, keyword, "unknown user '%s'", value);
		return FALSE;
	}
	rule->all_users = FALSE;
	rule->uid = resolved;
	return TRUE;
}

static gboolean
parse_app(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
          GError **error)
{
	if (g_str_equal(value, "any"))
		return TRUE;
	if (g_str_equal(value, VIGIL_PROGRAM_UNKNOWN)) {
		rule->program = g_strdup(VIGIL_PROGRAM_UNKNOWN);
		return TRUE;
	}
	if (value[0] != '/') {
		value_error(error, keyword, "'%s' is not an absolute path, 'unknown' or 'any'",
		            value);
		return FALSE;
	}
	if (!vigil_path_is_canonical(value)) {
		value_error(error, keyword,
		            "'%s' is not a canonical path (no '//', '.', '..' or trailing '/')",
		            value);
		return FALSE;
	}
	rule->program = g_strdup(value);
	return TRUE;
}

static gboolean
parse_sha256(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
             GError **error)
{
	if (strlen(value) != 64) {
		value_error(error, keyword, "'%s' is not 64 hexadecimal digits", value);
		return FALSE;
	}
	for (const char *p = value; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p)) {
			value_error(error, keyword, "'%s' is not 64 hexadecimal digits", value);
			return FALSE;
		}
	}
	rule->sha256 = g_ascii_strdown(value, -1);
	return TRUE;
}

static gboolean
parse_args(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
           GError **error)
{
	if (*value == '\0' || strlen(value) > MAX_GLOB_LENGTH) {
		value_error(error, keyword, "the pattern must have 1 to %d characters",
		            MAX_GLOB_LENGTH);
		return FALSE;
	}
	rule->args_glob = g_strdup(value);
	return TRUE;
}

static gboolean
parse_app_id(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
             GError **error)
{
	gsize len = strlen(value);

	for (const char *p = value; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
			len = 0;
	}
	if (len == 0 || len > MAX_APP_ID_LENGTH) {
		value_error(error, keyword,
		            "'%s' is not an app id (letters, digits, '.', '_', '-')", value);
		return FALSE;
	}
	rule->app_id = g_strdup(value);
	return TRUE;
}

static gboolean
parse_cidr(VigilRule *rule, const char *keyword, const char *value, GError **error)
{
	const char *slash = strchr(value, '/');
	g_autofree char *addr_text = g_strndup(value, (gsize)(slash - value));
	guint64 prefix;
	int family;
	VigilAddress addr;

	if (!vigil_address_parse(addr_text, &family, &addr)) {
		value_error(error, keyword, "'%s' is not an IPv4 or IPv6 address", addr_text);
		return FALSE;
	}
	if (!parse_decimal(slash + 1, family_bits(family), &prefix)) {
		value_error(error, keyword, "'%s' has no prefix length between 0 and %u", value,
		            family_bits(family));
		return FALSE;
	}
	if (!host_bits_are_zero(&addr, (guint)prefix)) {
		g_autofree char *net = NULL;

		mask_address(&addr, (guint)prefix);
		net = format_address(family, &addr);
		value_error(error, keyword, "'%s' has host bits set (did you mean %s/%u?)", value,
		            net, (guint)prefix);
		return FALSE;
	}
	rule->target_kind = VIGIL_TARGET_CIDR;
	rule->family = family;
	rule->address = addr;
	rule->prefix_len = (guint)prefix;
	return TRUE;
}

static gboolean
parse_to(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx, GError **error)
{
	const char *why = NULL;
	g_autofree char *name = NULL;

	if (g_str_equal(value, "any"))
		return TRUE;
	if (strchr(value, '/') != NULL)
		return parse_cidr(rule, keyword, value, error);
	if (vigil_address_parse(value, &rule->family, &rule->address)) {
		rule->target_kind = VIGIL_TARGET_CIDR;
		rule->prefix_len = family_bits(rule->family);
		return TRUE;
	}
	if (g_str_has_prefix(value, "*.")) {
		name = normalize_host_name(value + 2, &why);
		if (name == NULL) {
			value_error(error, keyword, "'%s': '%s' %s", value, value + 2, why);
			return FALSE;
		}
		rule->target_kind = VIGIL_TARGET_DOMAIN;
		rule->host = g_steal_pointer(&name);
		return TRUE;
	}
	name = normalize_host_name(value, &why);
	if (name == NULL) {
		value_error(error, keyword, "'%s' %s", value, why);
		return FALSE;
	}
	/* it would read back as the keyword */
	if (g_str_equal(name, "any")) {
		value_error(error, keyword, "'%s' is ambiguous: write 'any' for every destination",
		            value);
		return FALSE;
	}
	rule->target_kind = VIGIL_TARGET_HOST;
	rule->host = g_steal_pointer(&name);
	return TRUE;
}

static gint
compare_ranges(gconstpointer a, gconstpointer b)
{
	const VigilPortRange *ra = a;
	const VigilPortRange *rb = b;

	if (ra->first != rb->first)
		return ra->first < rb->first ? -1 : 1;
	if (ra->last != rb->last)
		return ra->last < rb->last ? -1 : 1;
	return 0;
}

/* sorted, overlapping and adjacent ranges merged: one canonical form per port set */
static void
normalize_ranges(GArray *ports)
{
	guint out = 0;

	g_array_sort(ports, compare_ranges);
	for (guint i = 0; i < ports->len; i++) {
		VigilPortRange *cur = &g_array_index(ports, VigilPortRange, i);
		VigilPortRange *last =
		    out > 0 ? &g_array_index(ports, VigilPortRange, out - 1) : NULL;

		if (last != NULL && (guint)cur->first <= (guint)last->last + 1) {
			last->last = MAX(last->last, cur->last);
			continue;
		}
		g_array_index(ports, VigilPortRange, out++) = *cur;
	}
	g_array_set_size(ports, out);
}

static gboolean
parse_port_range(const char *keyword, const char *item, VigilPortRange *range, GError **error)
{
	g_auto(GStrv) ends = g_strsplit(item, "-", 3);
	guint64 first;
	guint64 last;

	if (g_strv_length(ends) > 2 || !parse_decimal(g_strstrip(ends[0]), 65535, &first) ||
	    first == 0) {
		value_error(error, keyword, "'%s' is not a port (1-65535) or range (N-M)", item);
		return FALSE;
	}
	last = first;
	if (ends[1] != NULL && (!parse_decimal(g_strstrip(ends[1]), 65535, &last) || last == 0)) {
		value_error(error, keyword, "'%s' is not a port (1-65535) or range (N-M)", item);
		return FALSE;
	}
	if (last < first) {
		value_error(error, keyword, "the range '%s' ends before it starts", item);
		return FALSE;
	}
	range->first = (guint16)first;
	range->last = (guint16)last;
	return TRUE;
}

static gboolean
parse_port(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
           GError **error)
{
	g_auto(GStrv) items = NULL;
	g_autoptr(GArray) ports = g_array_new(FALSE, FALSE, sizeof(VigilPortRange));

	ctx->has_port = TRUE;
	if (g_str_equal(value, "any"))
		return TRUE;
	items = g_strsplit(value, ",", -1);
	for (guint i = 0; items[i] != NULL; i++) {
		VigilPortRange range;

		if (*g_strstrip(items[i]) == '\0') {
			value_error(error, keyword, "'%s' has an empty item in its list", value);
			return FALSE;
		}
		if (!parse_port_range(keyword, items[i], &range, error))
			return FALSE;
		g_array_append_val(ports, range);
	}
	normalize_ranges(ports);
	rule->ports = g_steal_pointer(&ports);
	return TRUE;
}

static gboolean
parse_proto(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
            GError **error)
{
	if (vigil_rule_proto_from_string(value, &rule->proto))
		return TRUE;
	value_error(error, keyword, "'%s' is not one of %s, any", value, vigil_rule_proto_names());
	return FALSE;
}

static gboolean
claim_lifetime(const char *keyword, ParseContext *ctx, GError **error)
{
	if (ctx->has_lifetime) {
		g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_DUPLICATE,
		            "%s: a rule has one lifetime, and '%s' already gave it", keyword,
		            ctx->lifetime_keyword);
		return FALSE;
	}
	ctx->has_lifetime = TRUE;
	ctx->lifetime_keyword = keyword;
	return TRUE;
}

static gboolean
parse_until(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
            GError **error)
{
	if (!claim_lifetime(keyword, ctx, error) ||
	    !parse_time(keyword, value, &rule->until, error))
		return FALSE;
	rule->lifetime = VIGIL_LIFETIME_UNTIL;
	return TRUE;
}

static gboolean
parse_until_quit(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
                 GError **error)
{
	g_auto(GStrv) parts = g_strsplit(value, ":", 3);
	guint64 pid;
	guint64 start_time;

	if (!claim_lifetime(keyword, ctx, error))
		return FALSE;
	if (g_strv_length(parts) != 2 || !parse_decimal(parts[0], G_MAXUINT32, &pid) || pid == 0 ||
	    !parse_decimal(parts[1], G_MAXUINT64, &start_time)) {
		value_error(error, keyword, "'%s' is not PID:STARTTIME (like 1234:5678)", value);
		return FALSE;
	}
	rule->lifetime = VIGIL_LIFETIME_PROCESS_EXIT;
	rule->pid = (guint32)pid;
	rule->pid_start_time = start_time;
	return TRUE;
}

static gboolean
parse_disabled(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
               GError **error)
{
	rule->enabled = FALSE;
	return TRUE;
}

static gboolean
parse_capture(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
              GError **error)
{
	rule->capture = TRUE;
	return TRUE;
}

static gboolean
parse_note(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
           GError **error)
{
	if (g_utf8_strlen(value, -1) > MAX_NOTE_LENGTH) {
		value_error(error, keyword, "longer than %d characters", MAX_NOTE_LENGTH);
		return FALSE;
	}
	rule->note = g_strdup(value);
	return TRUE;
}

static gboolean
parse_id(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx, GError **error)
{
	if (!parse_decimal(value, G_MAXUINT64, &rule->id) || rule->id == 0) {
		value_error(error, keyword, "'%s' is not a rule id (a positive number)", value);
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_created(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
              GError **error)
{
	return parse_time(keyword, value, &rule->created, error);
}

static gboolean
parse_hits(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
           GError **error)
{
	if (!parse_decimal(value, G_MAXUINT64, &rule->hits)) {
		value_error(error, keyword, "'%s' is not a count", value);
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_last_hit(VigilRule *rule, const char *keyword, const char *value, ParseContext *ctx,
               GError **error)
{
	return parse_time(keyword, value, &rule->last_hit, error);
}

/* the parser of each keyword of the table (vigil-rule-syntax.c) */
/* clang-format off */
static const KeywordParser parsers[VIGIL_RULE_N_KEYWORDS] = {
    [VIGIL_RULE_KW_USER] = parse_user,
    [VIGIL_RULE_KW_APP] = parse_app,
    [VIGIL_RULE_KW_SHA256] = parse_sha256,
    [VIGIL_RULE_KW_ARGS] = parse_args,
    [VIGIL_RULE_KW_APPID] = parse_app_id,
    [VIGIL_RULE_KW_TO] = parse_to,
    [VIGIL_RULE_KW_PORT] = parse_port,
    [VIGIL_RULE_KW_PROTO] = parse_proto,
    [VIGIL_RULE_KW_UNTIL] = parse_until,
    [VIGIL_RULE_KW_UNTIL_QUIT] = parse_until_quit,
    [VIGIL_RULE_KW_CAPTURE] = parse_capture,
    [VIGIL_RULE_KW_DISABLED] = parse_disabled,
    [VIGIL_RULE_KW_NOTE] = parse_note,
    [VIGIL_RULE_KW_ID] = parse_id,
    [VIGIL_RULE_KW_CREATED] = parse_created,
    [VIGIL_RULE_KW_HITS] = parse_hits,
    [VIGIL_RULE_KW_LAST_HIT] = parse_last_hit,
};
/* clang-format on */

/* ---- the line ---- */

static gboolean
syntax_error(GError **error, const char *message, const char *word)
{
	g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_SYNTAX, "%s%s%s%s", message,
	            word != NULL ? " ('" : "", word != NULL ? word : "", word != NULL ? "')" : "");
	return FALSE;
}

static gboolean
check_line(const char *line, GError **error)
{
	if (!g_utf8_validate(line, -1, NULL))
		return syntax_error(error, "the line is not valid UTF-8", NULL);
	if (strlen(line) > MAX_LINE_LENGTH)
		return syntax_error(error, "the line is longer than 16384 bytes", NULL);
	for (const char *p = line; *p != '\0'; p++) {
		if (((guchar)*p < 0x20 && !is_blank(*p)) || *p == 0x7f)
			return syntax_error(error, "the line has a control character", NULL);
	}
	return TRUE;
}

/* the combinations that parse but could never match anything */
static gboolean
check_combinations(const VigilRule *rule, GError **error)
{
	gboolean has_ports = rule->ports != NULL && rule->ports->len > 0;

	if (has_ports && rule->proto == IPPROTO_ICMP) {
		g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE,
		            "port: icmp has no ports; use proto tcp, udp, udplite, sctp or any");
		return FALSE;
	}
	if (rule->capture && rule->action != VIGIL_ACTION_ALLOW) {
		g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE,
		            "capture: only an allow rule lets packets through to record");
		return FALSE;
	}
	if (g_strcmp0(rule->program, VIGIL_PROGRAM_UNKNOWN) == 0 &&
	    (rule->sha256 != NULL || rule->args_glob != NULL || rule->app_id != NULL)) {
		g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE,
		            "app: 'unknown' has no %s to match",
		            rule->sha256 != NULL      ? "sha256"
		            : rule->args_glob != NULL ? "args"
		                                      : "appid");
		return FALSE;
	}
	return TRUE;
}

/* "user, app, ..., note": the keywords a rule is written with (not the state) */
static char *
known_keywords(void)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < VIGIL_RULE_N_KEYWORDS; i++) {
		const VigilRuleKeyword *kw = vigil_rule_keyword(i);

		if (!kw->state)
			g_string_append_printf(out, "%s%s", out->len > 0 ? ", " : "", kw->name);
	}
	return g_string_free(out, FALSE);
}

static gboolean
parse_words(VigilRule *rule, GPtrArray *words, VigilUserResolver resolve_user, gboolean keep_names,
            GError **error)
{
	ParseContext ctx = {.resolve_user = resolve_user, .keep_names = keep_names};
	guint32 seen = 0;

	G_STATIC_ASSERT(VIGIL_RULE_N_KEYWORDS <= 32);
	for (guint i = 1; i < words->len; i++) {
		const char *word = g_ptr_array_index(words, i);
		const VigilRuleKeyword *kw = vigil_rule_keyword_lookup(word);
		VigilRuleKeywordId id;
		guint32 bit;
		const char *value = "";

		if (kw == NULL) {
			g_autofree char *known = known_keywords();

			g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_UNKNOWN_KEY,
			            "'%s' is not a rule keyword (%s)", word, known);
			return FALSE;
		}
		id = vigil_rule_keyword_id(kw);
		bit = 1u << id;
		if (seen & bit) {
			g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_DUPLICATE,
			            "%s: the keyword appears twice", word);
			return FALSE;
		}
		seen |= bit;
		if (kw->takes_value) {
			if (i + 1 >= words->len)
				return syntax_error(error, "the keyword has no value", word);
			value = g_ptr_array_index(words, ++i);
		}
		if (!parsers[id](rule, word, value, &ctx, error))
			return FALSE;
	}
	return check_combinations(rule, error);
}

static VigilRule *
parse_line(const char *line, VigilUserResolver resolve_user, gboolean keep_names, GError **error)
{
	g_autoptr(GPtrArray) words = NULL;
	g_autoptr(VigilRule) rule = NULL;
	const char *first;

	g_return_val_if_fail(line != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!check_line(line, error))
		return NULL;
	words = vigil_rule_split_words(line, error);
	if (words == NULL || words->len == 0)
		return NULL;

	rule = vigil_rule_new();
	first = g_ptr_array_index(words, 0);
	if (!vigil_action_from_string(first, &rule->action)) {
		syntax_error(error, "a rule starts with allow, deny or drop", first);
		return NULL;
	}
	if (!parse_words(rule, words, resolve_user, keep_names, error))
		return NULL;
	return g_steal_pointer(&rule);
}

VigilRule *
vigil_rule_parse_line(const char *line, VigilUserResolver resolve_user, GError **error)
{
	return parse_line(line, resolve_user, FALSE, error);
}

VigilRule *
vigil_rule_parse_line_keep_names(const char *line, GError **error)
{
	return parse_line(line, NULL, TRUE, error);
}

/* ---- the canonical text ---- */

static void
append_pair(GString *out, const char *keyword, const char *value)
{
	g_string_append_c(out, ' ');
	g_string_append(out, keyword);
	if (value == NULL)
		return;
	g_string_append_c(out, ' ');
	vigil_rule_append_value(out, value);
}

gboolean
vigil_rule_set_target(VigilRule *rule, const char *value, GError **error)
{
	g_autoptr(VigilRule) parsed = vigil_rule_new();

	if (!parse_to(parsed, "to", value, NULL, error))
		return FALSE;
	rule->target_kind = parsed->target_kind;
	g_free(rule->host);
	rule->host = g_steal_pointer(&parsed->host);
	rule->family = parsed->family;
	rule->address = parsed->address;
	rule->prefix_len = parsed->prefix_len;
	return TRUE;
}

char *
vigil_rule_format_target(const VigilRule *rule)
{
	g_autofree char *addr = NULL;

	switch (rule->target_kind) {
	case VIGIL_TARGET_ANY:
		return NULL;
	case VIGIL_TARGET_HOST:
		return g_strdup(rule->host);
	case VIGIL_TARGET_DOMAIN:
		return g_strconcat("*.", rule->host, NULL);
	case VIGIL_TARGET_CIDR:
		addr = format_address(rule->family, &rule->address);
		if (rule->prefix_len == family_bits(rule->family))
			return g_steal_pointer(&addr);
		return g_strdup_printf("%s/%u", addr, rule->prefix_len);
	}
	return g_strdup("invalid-target");
}

char *
vigil_rule_format_ports(const GArray *ports)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < ports->len; i++) {
		const VigilPortRange *r = &g_array_index(ports, VigilPortRange, i);

		if (i > 0)
			g_string_append_c(out, ',');
		g_string_append_printf(out, "%u", r->first);
		if (r->last != r->first)
			g_string_append_printf(out, "-%u", r->last);
	}
	return g_string_free(out, FALSE);
}

char *
vigil_rule_format_keyword(const VigilRule *rule, VigilRuleKeywordId id)
{
	switch (id) {
	case VIGIL_RULE_KW_USER:
		if (rule->all_users)
			return NULL;
		/* a name not yet looked up reads back as that name */
		return rule->user_name != NULL ? g_strdup(rule->user_name)
		                               : g_strdup_printf("%u", rule->uid);
	case VIGIL_RULE_KW_APP:
		return g_strdup(rule->program);
	case VIGIL_RULE_KW_SHA256:
		return g_strdup(rule->sha256);
	case VIGIL_RULE_KW_ARGS:
		return g_strdup(rule->args_glob);
	case VIGIL_RULE_KW_APPID:
		return g_strdup(rule->app_id);
	case VIGIL_RULE_KW_TO:
		return vigil_rule_format_target(rule);
	case VIGIL_RULE_KW_PORT:
		return rule->ports != NULL && rule->ports->len > 0
		           ? vigil_rule_format_ports(rule->ports)
		           : NULL;
	case VIGIL_RULE_KW_PROTO:
		return rule->proto != 0 ? g_strdup(vigil_rule_proto_to_string(rule->proto)) : NULL;
	case VIGIL_RULE_KW_UNTIL:
		return rule->lifetime == VIGIL_LIFETIME_UNTIL ? format_time(rule->until) : NULL;
	case VIGIL_RULE_KW_UNTIL_QUIT:
		return rule->lifetime == VIGIL_LIFETIME_PROCESS_EXIT
		           ? g_strdup_printf("%u:%" G_GUINT64_FORMAT, rule->pid,
		                             rule->pid_start_time)
		           : NULL;
	case VIGIL_RULE_KW_CAPTURE:
		return rule->capture ? g_strdup("") : NULL;
	case VIGIL_RULE_KW_DISABLED:
		return rule->enabled ? NULL : g_strdup("");
	case VIGIL_RULE_KW_NOTE:
		return g_strdup(rule->note);
	case VIGIL_RULE_KW_ID:
		return rule->id != 0 ? g_strdup_printf("%" G_GUINT64_FORMAT, rule->id) : NULL;
	case VIGIL_RULE_KW_CREATED:
		return rule->created != 0 ? format_time(rule->created) : NULL;
	case VIGIL_RULE_KW_HITS:
		return rule->hits != 0 ? g_strdup_printf("%" G_GUINT64_FORMAT, rule->hits) : NULL;
	case VIGIL_RULE_KW_LAST_HIT:
		return rule->last_hit != 0 ? format_time(rule->last_hit) : NULL;
	case VIGIL_RULE_N_KEYWORDS:
		break;
	}
	g_return_val_if_reached(NULL);
}

char *
vigil_rule_to_string(const VigilRule *rule, gboolean with_state)
{
	g_autoptr(GString) out = g_string_new(vigil_action_to_string(rule->action));

	/* the table's order is the canonical order */
	for (guint id = 0; id < VIGIL_RULE_N_KEYWORDS; id++) {
		const VigilRuleKeyword *kw = vigil_rule_keyword(id);
		g_autofree char *value = NULL;

		if (kw->state && !with_state)
			continue;
		value = vigil_rule_format_keyword(rule, id);
		if (value != NULL)
			append_pair(out, kw->name, kw->takes_value ? value : NULL);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* @id's field of @rule back to what a rule without the keyword has */
static void
clear_keyword(VigilRule *rule, VigilRuleKeywordId id)
{
	switch (id) {
	case VIGIL_RULE_KW_USER:
		rule->all_users = TRUE;
		rule->uid = 0;
		g_clear_pointer(&rule->user_name, g_free);
		break;
	case VIGIL_RULE_KW_APP:
		g_clear_pointer(&rule->program, g_free);
		break;
	case VIGIL_RULE_KW_SHA256:
		g_clear_pointer(&rule->sha256, g_free);
		break;
	case VIGIL_RULE_KW_ARGS:
		g_clear_pointer(&rule->args_glob, g_free);
		break;
	case VIGIL_RULE_KW_APPID:
		g_clear_pointer(&rule->app_id, g_free);
		break;
	case VIGIL_RULE_KW_TO:
		g_clear_pointer(&rule->host, g_free);
		rule->target_kind = VIGIL_TARGET_ANY;
		rule->family = 0;
		rule->address = (VigilAddress){0};
		rule->prefix_len = 0;
		break;
	case VIGIL_RULE_KW_PORT:
		g_clear_pointer(&rule->ports, g_array_unref);
		break;
	case VIGIL_RULE_KW_PROTO:
		rule->proto = 0;
		break;
	case VIGIL_RULE_KW_UNTIL:
	case VIGIL_RULE_KW_UNTIL_QUIT:
		rule->lifetime = VIGIL_LIFETIME_FOREVER;
		rule->until = 0;
		rule->pid = 0;
		rule->pid_start_time = 0;
		break;
	case VIGIL_RULE_KW_CAPTURE:
		rule->capture = FALSE;
		break;
	case VIGIL_RULE_KW_DISABLED:
		rule->enabled = TRUE;
		break;
	case VIGIL_RULE_KW_NOTE:
		g_clear_pointer(&rule->note, g_free);
		break;
	case VIGIL_RULE_KW_ID:
		rule->id = 0;
		break;
	case VIGIL_RULE_KW_CREATED:
		rule->created = 0;
		break;
	case VIGIL_RULE_KW_HITS:
		rule->hits = 0;
		break;
	case VIGIL_RULE_KW_LAST_HIT:
		rule->last_hit = 0;
		break;
	case VIGIL_RULE_N_KEYWORDS:
		break;
	}
}

gboolean
vigil_rule_set_keyword(VigilRule *rule, VigilRuleKeywordId id, const char *value, const char *name,
                       GError **error)
{
	ParseContext ctx = {0};

	g_return_val_if_fail(id < VIGIL_RULE_N_KEYWORDS, FALSE);
	clear_keyword(rule, id);
	return *value == '\0' || parsers[id](rule, name, value, &ctx, error);
}

/* ---- comparison ---- */

static gboolean
ports_equal(const GArray *a, const GArray *b)
{
	guint la = a != NULL ? a->len : 0;
	guint lb = b != NULL ? b->len : 0;

	if (la != lb)
		return FALSE;
	return la == 0 || memcmp(a->data, b->data, la * sizeof(VigilPortRange)) == 0;
}

static gboolean
targets_equal(const VigilRule *a, const VigilRule *b)
{
	if (a->target_kind != b->target_kind)
		return FALSE;
	switch (a->target_kind) {
	case VIGIL_TARGET_ANY:
		return TRUE;
	case VIGIL_TARGET_HOST:
	case VIGIL_TARGET_DOMAIN:
		return g_strcmp0(a->host, b->host) == 0;
	case VIGIL_TARGET_CIDR:
		return a->family == b->family && a->prefix_len == b->prefix_len &&
		       memcmp(&a->address, &b->address, sizeof(a->address)) == 0;
	}
	return FALSE;
}

static gboolean
lifetimes_equal(const VigilRule *a, const VigilRule *b)
{
	if (a->lifetime != b->lifetime)
		return FALSE;
	if (a->lifetime == VIGIL_LIFETIME_UNTIL)
		return a->until == b->until;
	if (a->lifetime == VIGIL_LIFETIME_PROCESS_EXIT)
		return a->pid == b->pid && a->pid_start_time == b->pid_start_time;
	return TRUE;
}

gboolean
vigil_rule_equal(const VigilRule *a, const VigilRule *b, gboolean with_state)
{
	g_return_val_if_fail(a != NULL && b != NULL, FALSE);

	if (a->action != b->action || a->all_users != b->all_users ||
	    (!a->all_users && (a->uid != b->uid || g_strcmp0(a->user_name, b->user_name) != 0)))
		return FALSE;
	if (g_strcmp0(a->program, b->program) != 0 || g_strcmp0(a->sha256, b->sha256) != 0 ||
	    g_strcmp0(a->args_glob, b->args_glob) != 0 || g_strcmp0(a->app_id, b->app_id) != 0)
		return FALSE;
	if (!targets_equal(a, b) || !ports_equal(a->ports, b->ports) || a->proto != b->proto)
		return FALSE;
	if (!lifetimes_equal(a, b) || a->enabled != b->enabled || a->capture != b->capture ||
	    g_strcmp0(a->note, b->note) != 0)
		return FALSE;
	if (with_state && (a->id != b->id || a->created != b->created || a->hits != b->hits ||
	                   a->last_hit != b->last_hit))
		return FALSE;
	return TRUE;
}

gboolean
vigil_rule_validate(const VigilRule *rule, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(VigilRule) back = NULL;
	g_autoptr(GError) local_error = NULL;

	g_return_val_if_fail(rule != NULL, FALSE);

	text = vigil_rule_to_string(rule, TRUE);
	/* a name still to be looked up reads back as that name */
	back = parse_line(text, NULL, rule->user_name != NULL, &local_error);
	if (back == NULL) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	if (!vigil_rule_equal(rule, back, TRUE)) {
		g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE,
		            "the rule is not in canonical form (it reads back as '%s')", text);
		return FALSE;
	}
	return TRUE;
}
