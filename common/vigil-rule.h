/* vigil-rule.h: one firewall rule, and its one-line text form (pure: no I/O) */
#pragma once

#include "vigil-address.h" /* VigilAddress */
#include "vigil-rule-syntax.h" /* keywords, VIGIL_RULE_ERROR, quoting */

G_BEGIN_DECLS

typedef enum {
	VIGIL_ACTION_ALLOW,
	VIGIL_ACTION_DENY, /* fail fast: TCP reset, ICMP unreachable */
	VIGIL_ACTION_DROP, /* silent */
} VigilAction;

typedef enum {
	VIGIL_TARGET_ANY,
	VIGIL_TARGET_HOST,   /* exact host name */
	VIGIL_TARGET_DOMAIN, /* "*.example.com": example.com and every subdomain */
	VIGIL_TARGET_CIDR,   /* an address is a CIDR with the full prefix length */
} VigilTargetKind;

typedef enum {
	VIGIL_LIFETIME_FOREVER,
	VIGIL_LIFETIME_UNTIL,        /* until a wall-clock time */
	VIGIL_LIFETIME_PROCESS_EXIT, /* until the process (pid + start time) exits */
} VigilLifetime;

typedef struct {
	guint16 first;
	guint16 last;
} VigilPortRange;

/* "app unknown": matches connections whose process could not be found */
#define VIGIL_PROGRAM_UNKNOWN "unknown"

/*
 * Rule ids below this are learned (or run-time) rules and persist in the learned file;
 * ids from here up belong to system rules and are handed out by the rule store.
 */
#define VIGIL_RULE_ID_SYSTEM_BASE G_GUINT64_CONSTANT(1000000000)

/* reference counted (g_atomic_rc_box): only vigil_rule_new() and _copy() make one on the heap */
typedef struct {
	guint64 id; /* 0 until a ruleset assigns one */
	VigilAction action;

	gboolean all_users; /* TRUE: applies to every user; FALSE: only to @uid */
	guint32 uid;
	/* `user NAME` as written, when read by vigil_rule_parse_line_keep_names(): not yet
	 * looked up (@uid is 0 and means nothing until the owner of the rule resolves it) */
	char *user_name;

	char *program;   /* absolute path, VIGIL_PROGRAM_UNKNOWN, or NULL for any program */
	char *sha256;    /* lowercase hex, or NULL */
	char *args_glob; /* GPattern over the space-joined cmdline, or NULL */
	char *app_id;    /* flatpak/snap app id, or NULL */

	VigilTargetKind target_kind;
	/* HOST: the name; DOMAIN: the domain without "*."; lowercase, no trailing dot */
	char *host;
	int family;           /* CIDR: AF_INET / AF_INET6 */
	VigilAddress address; /* CIDR: network address, host bits zero */
	guint prefix_len;     /* CIDR */

	GArray *ports; /* of VigilPortRange, sorted; NULL = any port */
	guint8 proto;  /* 0 = any; IPPROTO_TCP, _UDP, _UDPLITE, _SCTP, _ICMP (matches ICMPv6 too) */

	VigilLifetime lifetime;
	gint64 until;           /* UNTIL: unix time, seconds */
	guint32 pid;            /* PROCESS_EXIT */
	guint64 pid_start_time; /* PROCESS_EXIT: /proc/PID/stat starttime, in clock ticks */

	gboolean capture; /* allow rules: the packets of the flows it allows are recorded */
	gboolean enabled;
	gint64 created;  /* unix time, seconds; 0 = unknown */
	gint64 last_hit; /* unix time, seconds; 0 = never */
	guint64 hits;
	char *note;

	char *origin;    /* "file:line" it was read from, or NULL for a rule made at run time */
	gboolean system; /* read from /etc/vigil/rules.d: never written back */
	/* set by the ruleset holding the rule, for display: the file @program names when it is
	 * a symbolic link (or under one), e.g. /usr/bin/python3.11 for /usr/bin/python3; NULL
	 * when the path names itself or no file. Not part of the rule's meaning or text. */
	char *program_target;
} VigilRule;

VigilRule *vigil_rule_new(void);
VigilRule *vigil_rule_ref(VigilRule *rule);
void vigil_rule_unref(VigilRule *rule);
VigilRule *vigil_rule_copy(const VigilRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRule, vigil_rule_unref)

/*
 * Parses one line of the text form. Blank lines and comments return NULL with no error
 * (check *error). @resolve_user maps a user name to a uid (NULL: only numeric uids).
 */
typedef gboolean (*VigilUserResolver)(const char *name, guint32 *uid);
VigilRule *vigil_rule_parse_line(const char *line, VigilUserResolver resolve_user, GError **error);
/*
 * As vigil_rule_parse_line(), but a user name is not looked up: it is kept in
 * rule->user_name. For rules from D-Bus callers, whose names are looked up only once polkit
 * authorised the call (a lookup may be a network service's, e.g. LDAP).
 */
VigilRule *vigil_rule_parse_line_keep_names(const char *line, GError **error);

/*
 * The value @rule's text form gives keyword @id: NULL when the text has no such keyword,
 * "" for "disabled" (which takes no value).
 */
char *vigil_rule_format_keyword(const VigilRule *rule, VigilRuleKeywordId id);

/*
 * Sets one field of @rule from its keyword's value, as a rules file reads it ("" and, where
 * the keyword knows it, "any" leave it unset); errors (a VIGIL_RULE_ERROR) start with @name,
 * e.g. the D-Bus key. User names are not looked up (only uids and "all"). On error the
 * field is left unset or partly set: the rule is for throwing away.
 */
gboolean vigil_rule_set_keyword(VigilRule *rule, VigilRuleKeywordId id, const char *value,
                                const char *name, GError **error);

/* the canonical one-line text form; with @with_state, also id/created/hits/last-hit */
char *vigil_rule_to_string(const VigilRule *rule, gboolean with_state);

/*
 * TRUE when the two rules mean the same; @with_state also compares id, created, hits
 * and last-hit. origin and system are never compared.
 */
gboolean vigil_rule_equal(const VigilRule *a, const VigilRule *b, gboolean with_state);

/*
 * Checks a rule built in code (e.g. from D-Bus arguments): TRUE when its text form reads
 * back as the same rule, i.e. it can be saved and loaded. The error is a VIGIL_RULE_ERROR.
 */
gboolean vigil_rule_validate(const VigilRule *rule, GError **error);

/*
 * Sets @rule's destination from a `to` value alone ("any", a host, "*.domain", an address
 * or a CIDR), as the parser reads it; on error (VIGIL_RULE_ERROR_VALUE) @rule is unchanged.
 */
gboolean vigil_rule_set_target(VigilRule *rule, const char *value, GError **error);

/* the `to` value of @rule's text form ("*.example.org", "10.0.0.0/8", ...), NULL for any */
char *vigil_rule_format_target(const VigilRule *rule);
/* the `port` value of the text form ("80,443,8000-8080") */
char *vigil_rule_format_ports(const GArray *ports);

/* TRUE when @rule's lifetime has ended at unix time @now (PROCESS_EXIT is checked elsewhere) */
gboolean vigil_rule_is_expired(const VigilRule *rule, gint64 now);

/* an absolute path as /proc/PID/exe shows it: no "//", ".", ".." parts or trailing '/', at
 * most 4095 bytes */
gboolean vigil_path_is_canonical(const char *path);

const char *vigil_action_to_string(VigilAction action);
gboolean vigil_action_from_string(const char *text, VigilAction *action);

G_END_DECLS
