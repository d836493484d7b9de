/* vigil-rule-syntax.h: the words of a rule (docs/rules.md): keywords, protocol names, quoting */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * One table of the rule keywords, shared by vigild (the parser, the canonical text and the
 * rule dictionaries of D-Bus), vigilctl and vigil-tray. Adding a keyword: a row here, its
 * parser and text in vigil-rule.c, its match in vigild's vigil-ruleset.c, and their tests
 * (HACKING.md).
 */

#define VIGIL_RULE_ERROR (vigil_rule_error_quark())
GQuark vigil_rule_error_quark(void);

typedef enum {
	VIGIL_RULE_ERROR_SYNTAX,      /* unbalanced quotes, a keyword without its value, ... */
	VIGIL_RULE_ERROR_UNKNOWN_KEY, /* a word that is not a rule keyword */
	VIGIL_RULE_ERROR_DUPLICATE,   /* the same keyword twice */
	VIGIL_RULE_ERROR_VALUE,       /* a keyword with a value it cannot take */
} VigilRuleError;

/* the keywords, in the canonical order of the text form */
typedef enum {
	VIGIL_RULE_KW_USER,
	VIGIL_RULE_KW_APP,
	VIGIL_RULE_KW_SHA256,
	VIGIL_RULE_KW_ARGS,
	VIGIL_RULE_KW_APPID,
	VIGIL_RULE_KW_TO,
	VIGIL_RULE_KW_PORT,
	VIGIL_RULE_KW_PROTO,
	VIGIL_RULE_KW_UNTIL,
	VIGIL_RULE_KW_UNTIL_QUIT,
	VIGIL_RULE_KW_CAPTURE,
	VIGIL_RULE_KW_DISABLED,
	VIGIL_RULE_KW_NOTE,
	/* the state vigild keeps for a learned rule: written with it, read-only over D-Bus */
	VIGIL_RULE_KW_ID,
	VIGIL_RULE_KW_CREATED,
	VIGIL_RULE_KW_HITS,
	VIGIL_RULE_KW_LAST_HIT,
	VIGIL_RULE_N_KEYWORDS,
} VigilRuleKeywordId;

typedef struct {
	const char *name;      /* the word in the text form: "app" */
	gboolean takes_value;  /* FALSE for "disabled" alone */
	gboolean state;        /* id, created, hits, last-hit */
	const char *dbus_key;  /* the key of a rule dictionary that carries it: "program" */
	const char *dbus_type; /* that key's D-Bus type */
	gsize max_len;         /* a string value's longest, in bytes, over D-Bus (0: no bound) */
} VigilRuleKeyword;

/* the row of @id */
const VigilRuleKeyword *vigil_rule_keyword(VigilRuleKeywordId id);
/* the row whose text-form word is @name, or NULL */
const VigilRuleKeyword *vigil_rule_keyword_lookup(const char *name);
/* the id of a row of the table */
VigilRuleKeywordId vigil_rule_keyword_id(const VigilRuleKeyword *keyword);

/*
 * Protocol names, as rules, connections and the UIs write them. A rule's "icmp" matches
 * ICMPv6 too, so a rule never holds IPPROTO_ICMPV6 (vigil_rule_proto_from_string folds it).
 */
typedef struct {
	const char *name;  /* as rules and connections write it: "udplite" */
	const char *label; /* as the UIs show it: "UDP-Lite" (a name: not translated) */
	guint8 number;     /* IPPROTO_UDPLITE */
	gboolean in_rules; /* a rule's proto may name it (not icmpv6: "icmp" covers it) */
} VigilProtocol;
/* the protocols vigild knows by name, @n_protocols rows, in the order the UIs list them */
const VigilProtocol *vigil_protocols(gsize *n_protocols);

/* "tcp", "udp", "udplite", "sctp", "icmp", "icmpv6" for @protocol, NULL for another */
const char *vigil_protocol_to_string(guint8 protocol);
/* a rule's proto value ("any" is 0, "icmpv6" is icmp); FALSE for an unknown name */
gboolean vigil_rule_proto_from_string(const char *name, guint8 *proto);
/* the proto value of a rule's text for @proto (0: "any") */
const char *vigil_rule_proto_to_string(guint8 proto);
/* "tcp, udp, udplite, sctp, icmp": what a rule's proto may name, for messages */
const char *vigil_rule_proto_names(void);

/*
 * Splits a line of the text form into its words (a GPtrArray of strings): double quotes
 * group, with \" \\ and \xHH (a control character) as escapes; '#' outside quotes ends the
 * line. An empty array for a blank line or a comment. Errors: VIGIL_RULE_ERROR_SYNTAX with
 * a translated message.
 */
GPtrArray *vigil_rule_split_words(const char *line, GError **error);

/*
 * Appends @value as one word of a rule line: as it is, or double-quoted when it needs it,
 * with \" \\ and, for control characters such as a newline, \xHH escaped. What
 * vigil_rule_split_words() reads back as @value.
 */
void vigil_rule_append_value(GString *out, const char *value);
/* @value as one word (vigil_rule_append_value()) */
char *vigil_rule_quote(const char *value);

G_END_DECLS
