/* vigil-rule-store.h: rules on disk: system rules.d (read-only) and the learned rules file */
#pragma once

#include "vigil-ruleset.h"

G_BEGIN_DECLS

/* one problem found while loading: reported, the line skipped, the rest loaded */
typedef struct {
	char *file;
	guint line;    /* 0 when the whole file is concerned */
	char *message;
} VigilLoadProblem;

void vigil_load_problem_free(VigilLoadProblem *problem);

/*
 * Parses the text of a rules file. Each rule gets origin "file:line" and @system.
 * Good rules go into the returned array; each bad line adds a problem to @problems
 * (an array of VigilLoadProblem*, may be NULL).
 */
GPtrArray *vigil_rules_parse_text(const char *text, const char *file_name, gboolean system,
				  VigilUserResolver resolve_user, GPtrArray *problems);

/* the text of the learned-rules file for @rules (with state) */
char *vigil_rules_format_text(GPtrArray *rules, gboolean with_state);

/* writes @contents to @path atomically: temp file in the same directory, fsync, rename */
gboolean vigil_write_file_atomically(const char *path, const char *contents, GError **error);

typedef struct _VigilRuleStore VigilRuleStore;

/*
 * @system_dir: directory of *.rules (read in name order, never written);
 * @learned_path: the daemon-owned file of learned rules.
 */
VigilRuleStore *vigil_rule_store_new(const char *system_dir, const char *learned_path,
				     VigilUserResolver resolve_user);
void vigil_rule_store_free(VigilRuleStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRuleStore, vigil_rule_store_free)

/* the live rules; owned by the store */
VigilRuleset *vigil_rule_store_get_ruleset(VigilRuleStore *store);

/*
 * (Re)reads every file into the ruleset. Problems are logged with file:line and also
 * returned in @problems when not NULL. A file that cannot be read at all keeps the rules
 * it had before. Learned rules keep their ids, hit counts and times. Returns FALSE only
 * when nothing could be loaded and there were no rules before.
 */
gboolean vigil_rule_store_load(VigilRuleStore *store, GPtrArray *problems, GError **error);

/* adds a learned rule and saves the learned file; the rule gets an id */
gboolean vigil_rule_store_add_learned(VigilRuleStore *store, VigilRule *rule, GError **error);
/* removes a learned rule and saves; NotFound-like FALSE for system rules or unknown ids */
gboolean vigil_rule_store_remove_learned(VigilRuleStore *store, guint64 id, GError **error);
/* writes the learned rules (with hit counts) now */
gboolean vigil_rule_store_save(VigilRuleStore *store, GError **error);

/* watches the files (GFileMonitor) and reloads on change; emits @changed after a reload */
void vigil_rule_store_watch(VigilRuleStore *store, GCallback changed, gpointer user_data);

G_END_DECLS
