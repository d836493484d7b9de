/* vigil-ruleset.h: the set of live rules, indexed for lookup, with precedence and expiry */
#pragma once

#include "vigil-rule.h"

G_BEGIN_DECLS

/* what a rule is matched against: one connection and the process that made it */
typedef struct {
	guint32 uid;
	const char *program;     /* exe path, or NULL when the process is unknown */
	const char *sha256;      /* NULL when unknown */
	const char *cmdline;     /* space-joined argv, or NULL */
	const char *app_id;      /* or NULL */
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

/* takes a reference; assigns the next id when rule->id is 0; FALSE if the id is taken */
gboolean vigil_ruleset_add(VigilRuleset *set, VigilRule *rule);
/* drops the rule with @id; FALSE when there is none */
gboolean vigil_ruleset_remove(VigilRuleset *set, guint64 id);
VigilRule *vigil_ruleset_lookup(VigilRuleset *set, guint64 id); /* borrowed, or NULL */
/* all rules, ordered by id; the array holds references */
GPtrArray *vigil_ruleset_list(VigilRuleset *set);
guint vigil_ruleset_size(VigilRuleset *set);
void vigil_ruleset_clear(VigilRuleset *set);

/*
 * The rule that decides @query at unix time @now, by the precedence documented in
 * README.md (most specific wins; at equal specificity deny/drop beat allow), or NULL.
 * Disabled and expired rules never match. Counts the hit on the returned rule.
 * Cost: hash lookups by program and destination, not a scan of all rules.
 */
VigilRule *vigil_ruleset_match(VigilRuleset *set, const VigilMatchQuery *query, gint64 now);

/* removes rules whose UNTIL time has passed; returns how many */
guint vigil_ruleset_expire(VigilRuleset *set, gint64 now);

/* the specificity of a rule as a comparable number (exposed for tests and docs) */
guint64 vigil_rule_specificity(const VigilRule *rule);

G_END_DECLS
