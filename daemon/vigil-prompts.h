/* vigil-prompts.h: pending requests: connections no rule covers, held while an agent asks */
#pragma once

#include <gio/gio.h>

#include "vigil-agents.h"
#include "vigil-config.h"
#include "vigil-decision-log.h"
#include "vigil-process.h"
#include "vigil-rule-store.h"

G_BEGIN_DECLS

/*
 * Bounds, so that a flood of unknown connections costs bounded memory and never holds
 * more of the kernel queue than the connections that rules decide can spare. The pools
 * are shared fairly: each user with an agent may open MAX_PENDING / (users with an agent)
 * requests (at most MAX_PER_UID) and hold MAX_HELD_TOTAL / (users with an agent) packets,
 * so one user's flood never takes another user's room. A packet beyond a bound is not
 * held (VIGIL_HOLD_FULL): the caller denies it, since its user could not be asked.
 */
#define VIGIL_PROMPTS_MAX_PENDING      256  /* open requests, all users */
#define VIGIL_PROMPTS_MAX_PER_UID      32   /* open requests of one user */
#define VIGIL_PROMPTS_MAX_HELD_PER_REQ 128  /* packets waiting on one request */
#define VIGIL_PROMPTS_MAX_HELD_TOTAL   2048 /* packets waiting on all requests */
/*
 * An answer that makes a rule is refused (TOO_SOON) this long after the prompt went out: any
 * program of the user may register an agent, and it must not make a rule before the user
 * could see the prompt. "Once" answers are taken at once.
 */
#define VIGIL_PROMPTS_RULE_ANSWER_DELAY_MS 1000
/* HoldRequest() keeps a request open at most this long after its prompt went out (or
 * PromptTimeout, when that is longer): the user reads, the program waits, but not forever */
#define VIGIL_PROMPTS_HOLD_MAX_S 300
/* learned rules one user may have (Reply and AddRule both count) */
#define VIGIL_MAX_RULES_PER_UID 10000

typedef struct _VigilPrompts VigilPrompts;

/* one held packet's connection, as the daemon knows it */
typedef struct {
	guint32 uid;
	VigilProcess *process;        /* or NULL: unknown process */
	const VigilFlow *flow;        /* copied */
	const char *const *hostnames; /* names DNS gave the destination, newest first, or NULL */
	gint64 time_us;               /* unix time, microseconds */
	gboolean hash_pending; /* process has no sha256 yet: it is still being made (big file) */
	/* its rules pin another build, and dpkg did not vouch for this one: why, and the package
	 * ("not-from-package", "checksum-differs", "not-packaged"; vigil-upgrades.h), or NULL */
	const char *changed_reason;
	const char *changed_package;
} VigilPromptConnection;

typedef struct {
	/* the verdict for one held packet given to vigil_prompts_hold(); the callee owns it
	 * again (sends the verdict, logs, frees); @rule may be NULL */
	void (*finish)(gpointer held, VigilAction action, VigilReason reason, const VigilRule *rule,
	               gpointer user_data);
	/* the learned rules changed (a reply made a rule) */
	void (*rules_changed)(gpointer user_data);
	/* a reply made learned rule @rule_id for @process while its hash was still being
	 * computed (hash-pending): the rule names it by its path only, for now */
	void (*rule_without_hash)(guint64 rule_id, const VigilProcess *process, gpointer user_data);
} VigilPromptsCallbacks;

/* @config is read when needed (DefaultAction, PromptTimeout) and must outlive the prompts */
VigilPrompts *vigil_prompts_new(VigilRuleStore *store, const VigilConfig *config,
                                const VigilPromptsCallbacks *callbacks, gpointer user_data);
/* requests still open get DefaultAction (reason "shutdown") first */
void vigil_prompts_free(VigilPrompts *prompts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPrompts, vigil_prompts_free)

/* where to send prompts; NULL (no bus) means no prompts. Not owned. */
void vigil_prompts_set_agents(VigilPrompts *prompts, VigilAgents *agents);
VigilAgents *vigil_prompts_get_agents(VigilPrompts *prompts);

/* TRUE when @uid has an agent that could be asked */
gboolean vigil_prompts_can_prompt(VigilPrompts *prompts, guint32 uid);

typedef enum {
	VIGIL_HOLD_HELD,     /* waits on a request */
	VIGIL_HOLD_NO_AGENT, /* the user has no agent: nobody could be asked */
	VIGIL_HOLD_FULL,     /* the user has an agent, but a bound (their share) was reached */
} VigilHoldResult;

/*
 * Holds @held for an answer: it joins the open request with the same (uid, program,
 * protocol, destination, port), or opens one and sends Prompt to @uid's agents. HELD:
 * @held comes back through the finish callback (answer, timeout, agent gone, rule,
 * disabled, shutdown). Otherwise the caller keeps @held.
 */
VigilHoldResult vigil_prompts_hold(VigilPrompts *prompts, gpointer held,
                                   const VigilPromptConnection *connection);

/*
 * Reply() from @sender. VIGIL_DBUS_ERROR: NOT_PENDING (unknown, answered, timed out or not
 * sent to @sender), INVALID_ARGUMENT and TOO_SOON (the request stays open), LIMIT_EXCEEDED
 * and FAILED (the verdict was applied once, no rule). *@rule_id is the rule made or reused,
 * or 0.
 */
gboolean vigil_prompts_reply(VigilPrompts *prompts, guint64 request, const char *sender,
                             const char *verdict, GVariant *options, guint64 *rule_id,
                             GError **error);

/*
 * The user is reading the prompt of @request (sent to @sender): its timeout starts again
 * (PromptTimeout from now), up to VIGIL_PROMPTS_HOLD_MAX_S after the prompt went out.
 * *@seconds_left is what is left then. NOT_PENDING as for vigil_prompts_reply().
 */
gboolean vigil_prompts_hold_request(VigilPrompts *prompts, guint64 request, const char *sender,
                                    guint32 *seconds_left, GError **error);

/* the argument checks of vigil_prompts_reply() alone (INVALID_ARGUMENT) */
gboolean vigil_prompts_check_reply(const char *verdict, GVariant *options, GError **error);

/* a(ta{sv}): open requests of @uid (G_MAXUINT32: everyone's), oldest first */
GVariant *vigil_prompts_get_pending(VigilPrompts *prompts, guint32 uid);

/* after the rules changed: requests that a rule decides now get its verdict (Cancel "rule") */
void vigil_prompts_recheck(VigilPrompts *prompts);

/* ends every request: @action, @reason, Cancel(@cancel_reason) to its agents */
void vigil_prompts_finish_all(VigilPrompts *prompts, VigilAction action, VigilReason reason,
                              const char *cancel_reason);

guint vigil_prompts_count(VigilPrompts *prompts);
/* requests sent to agents, and requests that timed out, since start */
void vigil_prompts_get_stats(VigilPrompts *prompts, guint64 *prompted, guint64 *timed_out);

/* Notify("blocked") to the agents of the decision's user, at most once a minute per
 * program and destination */
void vigil_prompts_notify_blocked(VigilPrompts *prompts, const VigilDecision *decision, guint64 id);

G_END_DECLS
