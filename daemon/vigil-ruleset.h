/* vigil-ruleset.h: the set of live rules, indexed for lookup, with precedence and expiry */
#pragma once

#include "vigil-program-path.h"
#include "vigil-rule.h"

G_BEGIN_DECLS

/* what a rule is matched against: one connection and the process that made it */
typedef struct {
	guint32 uid;
	/* exe path, or NULL when the process is unknown: not found, or not found in time (the
	 * attribution deadline, a flood beyond a bound); "app unknown" rules cover it then */
	const char *program;
	/* the executable's device, inode, ctime and size (stat of /proc/PID/exe): a rule's path
	 * matches only when it names this very file here; ino 0 (unknown) matches only
	 * sha256-pinned rules */
	VigilFileId exe;
	/* the process is in a mount namespace of its own (it may have mounted any file over a
	 * rule's path): the rule's path is looked at again before its rules can match */
	gboolean foreign_mount_ns;
	const char *sha256;  /* NULL when unknown */
	const char *cmdline; /* space-joined argv, or NULL */
	const char *app_id;  /* or NULL */
	int family;
	VigilAddress dst;
	const char *const *hostnames; /* NULL-terminated names known for dst, or NULL */
	guint8 protocol;
	guint16 dport;
} VigilMatchQuery;

typedef struct _VigilRuleset VigilRuleset;

VigilRuleset *vigil_ruleset_new(void);
void vigil_ruleset_free(VigilRuleset *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRuleset, vigil_ruleset_free)

/*
 * Takes a reference; FALSE if the id is taken. When rule->id is 0 it assigns the next
 * id below VIGIL_RULE_ID_SYSTEM_BASE (ids are never reused within one set's life).
 */
gboolean vigil_ruleset_add(VigilRuleset *set, VigilRule *rule);
/* drops the rule with @id; FALSE when there is none */
gboolean vigil_ruleset_remove(VigilRuleset *set, guint64 id);
VigilRule *vigil_ruleset_lookup(VigilRuleset *set, guint64 id); /* borrowed, or NULL */
/* all rules, ordered by id; the array holds references */
GPtrArray *vigil_ruleset_list(VigilRuleset *set);
guint vigil_ruleset_size(VigilRuleset *set);
void vigil_ruleset_clear(VigilRuleset *set);

/*
 * The learned rules whose program path is @program (an executable's path, as /proc/PID/exe
 * shows it) for @uid or all users that pin another sha256 than @sha256: what a package upgrade
 * left behind (vigil-upgrades.h). NULL when there are none; else an array of references.
 * Costs a lookup, and a walk of that path's rules only when some of them pin a hash.
 */
GPtrArray *vigil_ruleset_stale_pins(VigilRuleset *set, const char *program, guint32 uid,
                                    const char *sha256);

/*
 * The path of a program that rules name whose file is @file (device, inode, ctime, size), as
 * the rules last looked at it; NULL when no rule's program is that file. For a process known
 * only from the kernel's record (it exited before vigild saw it), whose path is not known.
 */
const char *vigil_ruleset_program_for_file(VigilRuleset *set, const VigilFileId *file);

/*
 * The rule that decides @query at unix time @now, by the precedence documented in
 * docs/rules.md (most specific wins; at equal specificity deny beats drop beats allow;
 * then the lowest id), or NULL. Disabled and expired rules never match. Counts the hit
 * on the returned rule (hits, last_hit = @now).
 * A rule's program path matches the process whose exe path is the file that path names in
 * vigild's mount namespace (symbolic links resolved) and whose exe is that file (device and
 * inode, looked at again with one stat when they differ: a package upgrade), or, for a rule
 * with sha256, a file with that hash.
 * Cost: hash lookups by program and destination, not a scan of all rules.
 * The matching fields of a rule must not change while it is in a set: remove it, change
 * it, add it again (enabled and the state fields may change in place).
 */
VigilRule *vigil_ruleset_match(VigilRuleset *set, const VigilMatchQuery *query, gint64 now);
/* the same match without counting a hit: a live flow decided again is not a new connection */
VigilRule *vigil_ruleset_peek(VigilRuleset *set, const VigilMatchQuery *query, gint64 now);

/*
 * How the set finds the file a rule's path names (default vigil_program_path_resolve);
 * for tests of pure matching. Set it before adding rules.
 */
void vigil_ruleset_set_resolver(VigilRuleset *set, VigilPathResolver resolve);

/*
 * Looks again at the files up to @max rule paths name, round the set in turn: a symbolic
 * link that now points elsewhere (update-alternatives), or a file that appeared or went,
 * moves that path's rules to the right file. Called now and then from the main loop (and
 * at each load, which resolves every path afresh). Returns how many paths changed file.
 */
guint vigil_ruleset_recheck_programs(VigilRuleset *set, guint max);

/* FALSE when @rule (in @set) names a program path that names no file now: it matches nothing
 * but, with sha256, that build; TRUE for every other rule */
gboolean vigil_ruleset_names_file(VigilRuleset *set, const VigilRule *rule);

/* TRUE when some rule matches on the command line (an args glob): only then does a match
 * need the cmdline of the process to be current */
gboolean vigil_ruleset_uses_cmdline(VigilRuleset *set);
/* TRUE when some rule matches on an app id (flatpak, snap) */
gboolean vigil_ruleset_uses_app_id(VigilRuleset *set);

/*
 * TRUE when a rule that could match @query's program pins a sha256: only then can the
 * executable's hash change the match (hashing a big executable takes seconds)
 */
gboolean vigil_ruleset_needs_sha256(VigilRuleset *set, const VigilMatchQuery *query);

/* removes rules whose UNTIL time has passed; returns how many */
guint vigil_ruleset_expire(VigilRuleset *set, gint64 now);

/*
 * The specificity of a rule as a comparable number (exposed for tests and docs): of two
 * rules that both match a connection, the one with the higher number wins. The order,
 * most significant first (see docs/rules.md): program, destination, port, protocol,
 * user, and in the lowest bits the action (deny > drop > allow).
 */
guint64 vigil_rule_specificity(const VigilRule *rule);

/*
 * Test-only: how many candidate rules the last vigil_ruleset_match() examined, to show
 * that a lookup among many rules looks at a few, not all.
 */
guint vigil_ruleset_get_examined(VigilRuleset *set);

/* an existing rule with the same meaning as @rule (note and enabled aside), or NULL */
VigilRule *vigil_ruleset_find_equal(VigilRuleset *set, VigilRule *rule, guint64 except_id);
/* how many learned rules are only for @uid */
guint vigil_ruleset_count_learned(VigilRuleset *set, guint32 uid);

G_END_DECLS
