/* vigil-decision-log.h: every decision as a log line, a ring of recent ones, per-program counts */
#pragma once

#include "vigil-flow.h"
#include "vigil-process-taint.h"
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
	guint64 id;  /* counted from 1 by the log that recorded it (GetConnections' "id") */
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
	guint taint;      /* VigilTaint flags of the process */
	guint32 tracer_pid;
} VigilDecision;

/* the bounds of what is remembered per program (tables keyed by what users' processes choose) */
#define VIGIL_DECISION_LOG_MAX_PROGRAMS     1024 /* (uid, program) pairs, least recent forgotten */
#define VIGIL_DECISION_LOG_MAX_DESTINATIONS 128  /* distinct destinations counted per program */
#define VIGIL_DECISION_LOG_MAX_UIDS         128  /* uids with budgets, least recent forgotten */
/* a flood's lines, per interval (see vigil-decision-log.c); the rest is summarised */
#define VIGIL_DECISION_LOG_INTERVAL_S             10
#define VIGIL_DECISION_LOG_LINES_PER_PROGRAM      100  /* per (uid, program) */
#define VIGIL_DECISION_LOG_LINES_PER_UID          1000 /* per uid, all its programs together */
#define VIGIL_DECISION_LOG_FIRST_LINES_PER_UID    500  /* first line of a (program, destination) */
#define VIGIL_DECISION_LOG_LINES_PER_INTERVAL     5000 /* all uids together */
#define VIGIL_DECISION_LOG_SUMMARIES_PER_UID      20   /* "suppressed" lines naming a program */
#define VIGIL_DECISION_LOG_SUMMARIES_PER_INTERVAL 500  /* "suppressed" lines in all */

void vigil_decision_clear(VigilDecision *decision);
const char *vigil_reason_to_string(VigilReason reason);

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

/*
 * Numbers the decision (its id), logs its line (unless its program's, its uid's or everyone's
 * share of lines in this interval is used up: then it is counted and summarised when the
 * interval ends) and records it; takes ownership of the decision's strings. Runs in the
 * thread of the main context.
 */
void vigil_decision_log_add(VigilDecisionLog *log, VigilDecision *decision);
/* ends the interval if it is over at @now (unix µs), writing its "suppressed" lines;
 * a timer calls it, so a flood that stopped is told too */
void vigil_decision_log_flush(VigilDecisionLog *log, gint64 now);
/* the id of the last decision added (0: none yet) */
guint64 vigil_decision_log_last_id(VigilDecisionLog *log);
/* how many (uid, program) pairs are remembered (tests) */
guint vigil_decision_log_n_programs(VigilDecisionLog *log);
/* the recent decisions, oldest first (borrowed pointers, valid until the next add); shared
 * fairly between uids (vigil-decision-ring.h) */
GPtrArray *vigil_decision_log_recent(VigilDecisionLog *log);
/* per-program counters for @uid (G_MAXUINT32: all users), most connections first */
GPtrArray *vigil_decision_log_program_stats(VigilDecisionLog *log, guint32 uid);

G_END_DECLS
