/* vigil-rule-lifetimes.h: rules that end on their own: at a time (until) or with a process
 * (until-quit) */
#pragma once

#include "vigil-rule-store.h"

G_BEGIN_DECLS

typedef struct _VigilRuleLifetimes VigilRuleLifetimes;

typedef void (*VigilRuleLifetimesFunc)(gpointer user_data);

/*
 * Ends the rules of @store's ruleset whose lifetime is over. @ended is called from the main
 * loop after rules ended on their own (a watched process exited), never from inside
 * vigil_rule_lifetimes_update(). @proc_root is "/proc" outside tests.
 */
VigilRuleLifetimes *vigil_rule_lifetimes_new(VigilRuleStore *store, const char *proc_root,
                                             VigilRuleLifetimesFunc ended, gpointer user_data);
void vigil_rule_lifetimes_free(VigilRuleLifetimes *lifetimes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRuleLifetimes, vigil_rule_lifetimes_free)

/*
 * Removes the rules whose time has come at @now (unix seconds) and the until-quit rules
 * whose process is gone (exited, its pid reused, or quit while vigild was stopped), saves the
 * learned rules when any went, and watches the processes of the other until-quit rules
 * (pidfd). Call it after the rules were loaded or changed, and now and then: that also
 * catches exits where pidfds are not available. Returns how many rules it removed; the
 * caller, who knows it, tells whoever follows the rules.
 */
guint vigil_rule_lifetimes_update(VigilRuleLifetimes *lifetimes, gint64 now);

G_END_DECLS
