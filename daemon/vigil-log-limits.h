/* vigil-log-limits.h: the decision log's line budgets: the log applies them, the log writer's
 * "suppressed" lines name them */
#pragma once

/* a flood's lines, per interval (see vigil-decision-log.c); the rest is summarised */
#define VIGIL_DECISION_LOG_INTERVAL_S             10
#define VIGIL_DECISION_LOG_LINES_PER_PROGRAM      100  /* per (uid, program) */
#define VIGIL_DECISION_LOG_LINES_PER_UID          1000 /* per uid, all its programs together */
#define VIGIL_DECISION_LOG_FIRST_LINES_PER_UID    500  /* first line of a (program, destination) */
#define VIGIL_DECISION_LOG_PROGRAM_FIRSTS_PER_UID 256  /* first line of a program, per user */
#define VIGIL_DECISION_LOG_PROGRAM_FIRSTS         1000 /* first line of a program, all users */
#define VIGIL_DECISION_LOG_LINES_PER_INTERVAL     5000 /* all uids together */
#define VIGIL_DECISION_LOG_SUMMARIES_PER_UID      20   /* "suppressed" lines naming a program */
#define VIGIL_DECISION_LOG_SUMMARIES_PER_INTERVAL 500  /* "suppressed" lines in all */
/* a "suppressed" line of a program counts the distinct destinations of its decisions left out
 * up to this many, and names the first few */
#define VIGIL_DECISION_LOG_SUMMARY_DESTINATIONS 1024
#define VIGIL_DECISION_LOG_SUMMARY_NAMED        3
