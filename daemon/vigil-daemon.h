/* vigil-daemon.h: vigild's core: queue -> parse -> attribute -> rules -> verdict -> log */
#pragma once

#include "vigil-config.h"
#include "vigil-decision-log.h"
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
/* removes our netfilter rules, then gives every held packet its DefaultAction */
void vigil_daemon_stop(VigilDaemon *daemon);
/* rereads the rules files (SIGHUP) */
void vigil_daemon_reload_rules(VigilDaemon *daemon);

VigilRuleset *vigil_daemon_get_ruleset(VigilDaemon *daemon);
VigilDecisionLog *vigil_daemon_get_decision_log(VigilDaemon *daemon);

G_END_DECLS
