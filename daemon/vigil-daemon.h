/* vigil-daemon.h: vigild's core: queue -> parse -> attribute -> rules -> verdict -> log */
#pragma once

#include "vigil-capture.h"
#include "vigil-config.h"
#include "vigil-decision-log.h"
#include "vigil-history.h"
#include "vigil-prompts.h"
#include "vigil-rule-store.h"
#include "vigil-ruleset.h"

G_BEGIN_DECLS

typedef struct {
	const char *rules_dir;    /* system rules, *.rules */
	const char *learned_path; /* learned rules file */
	const char *proc_root;    /* "/proc" */
} VigilDaemonPaths;

typedef struct _VigilDaemon VigilDaemon;

/* loads the rules; nothing is installed yet */
VigilDaemon *vigil_daemon_new(const VigilConfig *config, const VigilDaemonPaths *paths,
                              GError **error);
void vigil_daemon_free(VigilDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDaemon, vigil_daemon_free)

/* binds the queue, then installs the netfilter rules; on failure nothing stays installed */
gboolean vigil_daemon_start(VigilDaemon *daemon, GError **error);
/* gives every held packet its DefaultAction (Cancel "shutdown" to agents), then removes our
 * netfilter rules */
void vigil_daemon_stop(VigilDaemon *daemon);
/* rereads the rules files (SIGHUP) */
void vigil_daemon_reload_rules(VigilDaemon *daemon);

VigilRuleset *vigil_daemon_get_ruleset(VigilDaemon *daemon);
VigilDecisionLog *vigil_daemon_get_decision_log(VigilDaemon *daemon);
VigilHistory *vigil_daemon_get_history(VigilDaemon *daemon);
/* the capture files of capture rules, or NULL when there is no capture */
VigilCapture *vigil_daemon_get_capture(VigilDaemon *daemon);

/* what the D-Bus server reads and changes */

/* the counters of the Stats property */
typedef struct {
	guint64 queued;
	guint64 accepted;
	guint64 denied;
	guint64 dropped;
	guint64 defaulted;
	guint64 prompted;
	guint64 timed_out;
	guint64 kernel_dropped;
	guint64 overruns;
	guint64 pending;
	guint64 rules;
	guint64 agents;
	guint64 overflowed;     /* denied beyond a bound (reason overflow) */
	guint64 kernel_decided; /* decided in the kernel by a verdict vigild wrote there */
} VigilDaemonStats;
void vigil_daemon_get_stats(VigilDaemon *daemon, VigilDaemonStats *stats);

const VigilConfig *vigil_daemon_get_config(VigilDaemon *daemon);
/*
 * The settings SetConfig changes. A new PromptTimeout applies to new requests; a new FailMode
 * reinstalls the netfilter rules (with or without queue bypass; a full queue drops in either
 * mode). On failure nothing changed.
 */
gboolean vigil_daemon_set_settings(VigilDaemon *daemon, VigilAction default_action,
                                   guint prompt_timeout, VigilFailMode fail_mode, GError **error);
/* disabled: every connection is allowed (reason "disabled"); open prompts are cancelled */
void vigil_daemon_set_enabled(VigilDaemon *daemon, gboolean enabled);
const char *vigil_daemon_get_backend(VigilDaemon *daemon);

VigilRuleStore *vigil_daemon_get_rule_store(VigilDaemon *daemon);
/* pending requests; give them agents with vigil_prompts_set_agents() */
VigilPrompts *vigil_daemon_get_prompts(VigilDaemon *daemon);

/*
 * Call after changing rules: open requests that a rule now decides get its verdict,
 * until-quit rules are watched, and the rules-changed function runs (RulesChanged).
 * Also runs when the rules files were reloaded or rules expired.
 */
typedef void (*VigilDaemonFunc)(gpointer user_data);
void vigil_daemon_rules_changed(VigilDaemon *daemon);
void vigil_daemon_set_rules_changed_func(VigilDaemon *daemon, VigilDaemonFunc func,
                                         gpointer user_data);

G_END_DECLS
