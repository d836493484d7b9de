/* vigil-decision-log.h: every decision as a log line, a ring of recent ones, per-program counts */
#pragma once

#include "vigil-flow.h"
#include "vigil-rule.h"

G_BEGIN_DECLS

typedef enum {
	VIGIL_REASON_RULE,      /* a rule matched */
	VIGIL_REASON_DEFAULT,   /* no rule: DefaultAction, once */
	VIGIL_REASON_MALFORMED, /* the packet could not be parsed */
	VIGIL_REASON_DEADLINE,  /* held too long: DefaultAction */
	VIGIL_REASON_SHUTDOWN,  /* vigild stopping with the packet held: DefaultAction */
	VIGIL_REASON_REPLY,     /* the user answered a prompt */
	VIGIL_REASON_TIMEOUT,   /* the prompt timed out: DefaultAction, once */
	VIGIL_REASON_DISABLED,  /* the firewall is disabled: allowed */
	VIGIL_REASON_OVERFLOW,  /* beyond a bound, no rule that needs no program decided: denied */
} VigilReason;

typedef struct {
	gint64 time; /* unix time, microseconds */
	VigilAction verdict;
	VigilReason reason;
	guint64 rule_id; /* with REASON_RULE, and REASON_REPLY when the answer made a rule */
	guint32 pid;     /* 0 when the process is unknown */
	guint32 uid;
	char *user_name;
	char *program; /* exe path, or NULL for an unknown process */
	int family;
	guint8 protocol;
	VigilAddress dst;
	guint16 dport;
	guint8 icmp_type;
	char *hostname;   /* or NULL */
	gint64 queued_us; /* time from the queue to the verdict */
} VigilDecision;

void vigil_decision_clear(VigilDecision *decision);
const char *vigil_reason_to_string(VigilReason reason);

/* pure: the one-line text of a decision, as logged */
char *vigil_decision_format(const VigilDecision *decision);

typedef struct {
	char *program;
	guint64 connections;
	guint64 allowed;
	guint64 denied;
	guint destinations; /* distinct destination addresses (bounded count) */
	gint64 last_seen;   /* unix time, microseconds */
} VigilProgramStats;

typedef struct _VigilDecisionLog VigilDecisionLog;

VigilDecisionLog *vigil_decision_log_new(guint ring_size);
void vigil_decision_log_free(VigilDecisionLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDecisionLog, vigil_decision_log_free)

/* logs the line and records it; takes ownership of the decision's strings */
void vigil_decision_log_add(VigilDecisionLog *log, VigilDecision *decision);
/* the recent decisions, oldest first (borrowed pointers, valid until the next add) */
GPtrArray *vigil_decision_log_recent(VigilDecisionLog *log);
/* per-program counters for @uid (G_MAXUINT32: all users), most connections first */
GPtrArray *vigil_decision_log_program_stats(VigilDecisionLog *log, guint32 uid);

G_END_DECLS
