/* vigil-decision-log.h: every decision as a log line, a ring of recent ones, per-program counts */
#pragma once

#include "vigil-decision.h"
#include "vigil-log-limits.h" /* the line budgets */

G_BEGIN_DECLS

/* the bounds of what is remembered per program (tables keyed by what users' processes choose) */
#define VIGIL_DECISION_LOG_MAX_PROGRAMS     1024 /* (uid, program) pairs, least recent forgotten */
#define VIGIL_DECISION_LOG_MAX_DESTINATIONS 128  /* distinct destinations counted per program */
#define VIGIL_DECISION_LOG_MAX_UIDS         128  /* uids with budgets, least recent forgotten */

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
