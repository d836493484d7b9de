/* vigil-rule-store.h: rules on disk: system rules.d (read-only) and the learned rules file */
#pragma once

#include "vigil-ruleset.h"

#include <gio/gio.h> /* GCallback, G_IO_ERROR */

G_BEGIN_DECLS

/* one problem found while loading: reported, the line skipped, the rest loaded */
typedef struct {
	char *file;
	guint line; /* 0 when the whole file is concerned */
	char *message;
} VigilLoadProblem;

void vigil_load_problem_free(VigilLoadProblem *problem);

/*
 * Parses the @length bytes of a rules file at @text (-1: up to its NUL). Each rule gets
 * origin "file:line" and @system. Good rules go into the returned array; each bad line —
 * bad words, a NUL byte, invalid UTF-8 — adds a problem to @problems (an array of
 * VigilLoadProblem*, may be NULL) and costs only itself; past 50, one problem (line 0)
 * counts the rest. System rules carry no state: an id, hits or last-hit is ignored.
 */
GPtrArray *vigil_rules_parse_text(const char *text, gssize length, const char *file_name,
                                  gboolean system, VigilUserResolver resolve_user,
                                  GPtrArray *problems);

/* the text of the learned-rules file for @rules (with state) */
char *vigil_rules_format_text(GPtrArray *rules, gboolean with_state);

typedef struct _VigilRuleStore VigilRuleStore;

/*
 * @system_dir: directory of *.rules (read in name order, never written);
 * @learned_path: the daemon-owned file of learned rules.
 * Ids: learned rules keep the ids saved in their file (below VIGIL_RULE_ID_SYSTEM_BASE);
 * system rules get ids from VIGIL_RULE_ID_SYSTEM_BASE + 1 up, in load order, and keep
 * them across reloads while their file name and text stay the same.
 */
VigilRuleStore *vigil_rule_store_new(const char *system_dir, const char *learned_path,
                                     VigilUserResolver resolve_user);
void vigil_rule_store_free(VigilRuleStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRuleStore, vigil_rule_store_free)

/*
 * The live rules; owned by the store. Rules added to it directly (not through
 * vigil_rule_store_add_learned) are dropped by the next reload.
 */
VigilRuleset *vigil_rule_store_get_ruleset(VigilRuleStore *store);

/*
 * (Re)reads every file into the ruleset. Problems are logged with file:line and also
 * returned in @problems when not NULL. A bad line costs only itself. A system file that
 * cannot be read at all keeps the rules it had before. A learned file that cannot be read
 * whole (an I/O error, or any bad line) is kept aside as "FILE.corrupt-<UTC time>" and the
 * rules it gave (or, if unreadable, those in memory) are saved anew; if it cannot be kept
 * aside, saves fail until it reads whole again, so it is never written over.
 * Learned rules keep their ids, hit counts and times. Returns FALSE only
 * when nothing could be loaded and there were no rules before.
 */
gboolean vigil_rule_store_load(VigilRuleStore *store, GPtrArray *problems, GError **error);

/*
 * Adds a learned rule (takes a reference) and saves the learned file. The rule gets a
 * fresh id (any id it had is replaced) and, if it has none, a creation time. When the rule
 * is invalid (see vigil_rule_validate) or saving fails, nothing changes and FALSE is
 * returned.
 */
gboolean vigil_rule_store_add_learned(VigilRuleStore *store, VigilRule *rule, GError **error);
/*
 * Removes a learned rule and saves; when saving fails the rule stays. Errors:
 * G_IO_ERROR_NOT_FOUND for an unknown id, G_IO_ERROR_PERMISSION_DENIED for a system rule.
 */
gboolean vigil_rule_store_remove_learned(VigilRuleStore *store, guint64 id, GError **error);
/*
 * Replaces the learned rule @id by @rule (takes a reference), which keeps the id, creation
 * time, hits and last hit of the old one, and saves. Errors as for add and remove; when
 * saving fails the old rule stays.
 */
gboolean vigil_rule_store_replace_learned(VigilRuleStore *store, guint64 id, VigilRule *rule,
                                          GError **error);
/*
 * Pins the learned rules @ids (of guint64) to @sha256 instead of the hash they pin, keeping
 * everything else (id, times, hits), and saves once. On any error (an id that is not a learned
 * rule, a failed save) nothing changes.
 */
gboolean vigil_rule_store_repin_learned(VigilRuleStore *store, GArray *ids, const char *sha256,
                                        GError **error);
/*
 * Writes the learned rules (with hit counts) now; on failure the rules in memory stay.
 * Fails while the learned file could neither be read whole nor kept aside.
 */
gboolean vigil_rule_store_save(VigilRuleStore *store, GError **error);

/*
 * Watches the system directory and the learned file (GFileMonitor), waits for changes to
 * settle (200 ms), reloads, and calls @changed as void (*)(gpointer user_data) when the
 * rules differ. The store's own saves do not count as changes.
 */
void vigil_rule_store_watch(VigilRuleStore *store, GCallback changed, gpointer user_data);

G_END_DECLS
