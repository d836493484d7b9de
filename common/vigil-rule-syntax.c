/* vigil-rule-syntax.c: the rule keyword table, protocol names, and a line's words (pure) */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <netinet/in.h>

#include "vigil-dbus.h"
#include "vigil-rule-syntax.h"

GQuark
vigil_rule_error_quark(void)
{
	return g_quark_from_static_string("vigil-rule-error-quark");
}

/* ---- keywords ---- */

#define MAX_STRING 4096

static const VigilRuleKeyword keywords[VIGIL_RULE_N_KEYWORDS] = {
    [VIGIL_RULE_KW_USER] = {"user", TRUE, FALSE, VIGIL_RULE_KEY_USER, "s", 256},
    [VIGIL_RULE_KW_APP] = {"app", TRUE, FALSE, VIGIL_RULE_KEY_PROGRAM, "s", 4095},
    [VIGIL_RULE_KW_SHA256] = {"sha256", TRUE, FALSE, VIGIL_RULE_KEY_SHA256, "s", 64},
    [VIGIL_RULE_KW_ARGS] = {"args", TRUE, FALSE, VIGIL_RULE_KEY_ARGS, "s", MAX_STRING},
    [VIGIL_RULE_KW_APPID] = {"appid", TRUE, FALSE, VIGIL_RULE_KEY_APPID, "s", 255},
    /* a host name of 253 characters, "*." and a little */
    [VIGIL_RULE_KW_TO] = {"to", TRUE, FALSE, VIGIL_RULE_KEY_TO, "s", 260},
    [VIGIL_RULE_KW_PORT] = {"port", TRUE, FALSE, VIGIL_RULE_KEY_PORT, "s", MAX_STRING},
    [VIGIL_RULE_KW_PROTO] = {"proto", TRUE, FALSE, VIGIL_RULE_KEY_PROTO, "s", 16},
    /* with lifetime "until" */
    [VIGIL_RULE_KW_UNTIL] = {"until", TRUE, FALSE, VIGIL_RULE_KEY_UNTIL, "x", 0},
    /* with lifetime "until-quit"; the dictionary has the pid alone */
    [VIGIL_RULE_KW_UNTIL_QUIT] = {"until-quit", TRUE, FALSE, VIGIL_RULE_KEY_PID, "u", 0},
    /* allow only: the packets of the flows it allows go to a capture file (vigil-capture.h) */
    [VIGIL_RULE_KW_CAPTURE] = {"capture", FALSE, FALSE, VIGIL_RULE_KEY_CAPTURE, "b", 0},
    /* the dictionary says the opposite: enabled */
    [VIGIL_RULE_KW_DISABLED] = {"disabled", FALSE, FALSE, VIGIL_RULE_KEY_ENABLED, "b", 0},
    [VIGIL_RULE_KW_NOTE] = {"note", TRUE, FALSE, VIGIL_RULE_KEY_NOTE, "s", 1024},
    [VIGIL_RULE_KW_ID] = {"id", TRUE, TRUE, VIGIL_RULE_KEY_ID, "t", 0},
    [VIGIL_RULE_KW_CREATED] = {"created", TRUE, TRUE, VIGIL_RULE_KEY_CREATED, "x", 0},
    [VIGIL_RULE_KW_HITS] = {"hits", TRUE, TRUE, VIGIL_RULE_KEY_HITS, "t", 0},
    [VIGIL_RULE_KW_LAST_HIT] = {"last-hit", TRUE, TRUE, VIGIL_RULE_KEY_LAST_HIT, "x", 0},
};

const VigilRuleKeyword *
vigil_rule_keyword(VigilRuleKeywordId id)
{
	g_return_val_if_fail(id < VIGIL_RULE_N_KEYWORDS, NULL);
	return &keywords[id];
}

const VigilRuleKeyword *
vigil_rule_keyword_lookup(const char *name)
{
	for (guint i = 0; name != NULL && i < G_N_ELEMENTS(keywords); i++) {
		if (g_str_equal(name, keywords[i].name))
			return &keywords[i];
	}
	return NULL;
}

VigilRuleKeywordId
vigil_rule_keyword_id(const VigilRuleKeyword *keyword)
{
	g_return_val_if_fail(keyword >= keywords && keyword < keywords + VIGIL_RULE_N_KEYWORDS,
	                     VIGIL_RULE_N_KEYWORDS);
	return (VigilRuleKeywordId)(keyword - keywords);
}

/* ---- protocol names ---- */

static const VigilProtocol protocols[] = {
    {"tcp", "TCP", IPPROTO_TCP, TRUE},
    {"udp", "UDP", IPPROTO_UDP, TRUE},
    {"udplite", "UDP-Lite", IPPROTO_UDPLITE, TRUE},
    {"sctp", "SCTP", IPPROTO_SCTP, TRUE},
    {"icmp", "ICMP", IPPROTO_ICMP, TRUE},
    /* a rule's "icmp" covers it */
    {"icmpv6", "ICMPv6", IPPROTO_ICMPV6, FALSE},
};

const VigilProtocol *
vigil_protocols(gsize *n_protocols)
{
	g_return_val_if_fail(n_protocols != NULL, NULL);

	*n_protocols = G_N_ELEMENTS(protocols);
	return protocols;
}

const char *
vigil_protocol_to_string(guint8 protocol)
{
	for (guint i = 0; i < G_N_ELEMENTS(protocols); i++) {
		if (protocols[i].number == protocol)
			return protocols[i].name;
	}
	return NULL;
}

gboolean
vigil_rule_proto_from_string(const char *name, guint8 *proto)
{
	if (g_strcmp0(name, "any") == 0) {
		*proto = 0;
		return TRUE;
	}
	for (guint i = 0; name != NULL && i < G_N_ELEMENTS(protocols); i++) {
		if (g_str_equal(name, protocols[i].name)) {
			/* "icmp" covers both */
			*proto = protocols[i].number == IPPROTO_ICMPV6 ? IPPROTO_ICMP
			                                               : protocols[i].number;
			return TRUE;
		}
	}
	return FALSE;
}

const char *
vigil_rule_proto_to_string(guint8 proto)
{
	const char *name;

	if (proto == 0)
		return "any";
	name = vigil_protocol_to_string(proto);
	/* a rule never holds ICMPv6 (it reads as icmp) */
	return name != NULL && proto != IPPROTO_ICMPV6 ? name : "invalid";
}

const char *
vigil_rule_proto_names(void)
{
	static char *names;

	if (g_once_init_enter(&names)) {
		GString *text = g_string_new(NULL);

		for (guint i = 0; i < G_N_ELEMENTS(protocols); i++) {
			if (!protocols[i].in_rules)
				continue;
			if (text->len > 0)
				g_string_append(text, ", ");
			g_string_append(text, protocols[i].name);
		}
		g_once_init_leave(&names, g_string_free(text, FALSE));
	}
	return names;
}

/* ---- words ---- */

static gboolean
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static gboolean
is_control(char c)
{
	return (guchar)c < 0x20 || c == 0x7f;
}

/* @message (untranslated) and, when there is one, the word it is about */
static gboolean
syntax_error(GError **error, const char *message, const char *word)
{
	if (word != NULL)
		g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_SYNTAX, "%s ('%s')",
		            _(message), word);
	else
		g_set_error_literal(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_SYNTAX, _(message));
	return FALSE;
}

/* "\xHH" at @p (after the backslash): a control character, the only bytes written so */
static gboolean
read_hex_escape(const char *p, char *out)
{
	int value;

	if (p[0] != 'x' || !g_ascii_isxdigit(p[1]) || !g_ascii_isxdigit(p[2]))
		return FALSE;
	value = g_ascii_xdigit_value(p[1]) * 16 + g_ascii_xdigit_value(p[2]);
	*out = (char)value;
	return value != 0 && is_control(*out);
}

static gboolean
read_quoted(const char **pos, GString *word, GError **error)
{
	const char *p = *pos + 1;

	while (*p != '"') {
		char c;

		if (*p == '\0')
			return syntax_error(error, N_("a quoted value has no closing quote"),
			                    word->str);
		if (*p == '\\' && read_hex_escape(p + 1, &c)) {
			g_string_append_c(word, c);
			p += 4;
			continue;
		}
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\')
				return syntax_error(error,
				                    N_("only \\\", \\\\ and \\xHH (a control "
				                       "character 01 to 1f or 7f) are escapes in "
				                       "quotes"),
				                    word->str);
		}
		if (is_control(*p))
			return syntax_error(error, N_("a control character inside quotes"),
			                    word->str);
		g_string_append_c(word, *p++);
	}
	p++;
	if (*p != '\0' && !is_blank(*p) && *p != '#')
		return syntax_error(error, N_("text right after a closing quote"), word->str);
	*pos = p;
	return TRUE;
}

static gboolean
read_plain(const char **pos, GString *word, GError **error)
{
	const char *p = *pos;

	while (*p != '\0' && !is_blank(*p) && *p != '#') {
		if (*p == '"') {
			g_string_append_c(word, '"');
			return syntax_error(
			    error, N_("a quote inside a word; quote the whole value"), word->str);
		}
		g_string_append_c(word, *p++);
	}
	*pos = p;
	return TRUE;
}

GPtrArray *
vigil_rule_split_words(const char *line, GError **error)
{
	g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
	const char *p = line;

	for (;;) {
		g_autoptr(GString) word = g_string_new(NULL);

		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (*p == '"' ? !read_quoted(&p, word, error) : !read_plain(&p, word, error))
			return NULL;
		g_ptr_array_add(words, g_string_free(g_steal_pointer(&word), FALSE));
	}
	return g_steal_pointer(&words);
}

static gboolean
needs_quotes(const char *value)
{
	if (*value == '\0')
		return TRUE;
	for (const char *p = value; *p != '\0'; p++) {
		if (is_blank(*p) || is_control(*p) || *p == '#' || *p == '"' || *p == '\\')
			return TRUE;
	}
	return FALSE;
}

void
vigil_rule_append_value(GString *out, const char *value)
{
	if (!needs_quotes(value)) {
		g_string_append(out, value);
		return;
	}
	g_string_append_c(out, '"');
	for (const char *p = value; *p != '\0'; p++) {
		/* a newline or any control character stays on the line, as \xHH */
		if (is_control(*p)) {
			g_string_append_printf(out, "\\x%02x", (guchar)*p);
			continue;
		}
		if (*p == '"' || *p == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

char *
vigil_rule_quote(const char *value)
{
	GString *out = g_string_new(NULL);

	vigil_rule_append_value(out, value);
	return g_string_free(out, FALSE);
}
