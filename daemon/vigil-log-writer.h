/* vigil-log-writer.h: the decision log's lines as text and as structured log fields */
#pragma once

#include "vigil-decision.h"
#include "vigil-log-limits.h" /* the budgets a summary names */

G_BEGIN_DECLS

/* pure: the one-line text of a decision, as logged */
char *vigil_decision_format(const VigilDecision *decision);
/* pure: @text as the log writes a value from outside: spaces, controls, format characters,
 * '"', '\\' and bytes that are not UTF-8 as \xNN */
char *vigil_decision_log_escape(const char *text);

/* writes @decision's line (built in @line, reused: no allocation per connection), whose
 * destination is @addr, with its structured fields (VIGIL_VERDICT, VIGIL_PROGRAM, ...) */
void vigil_log_writer_decision(GString *line, const VigilDecision *decision, const char *addr);
/* what a "suppressed" line tells */
typedef struct {
	guint64 suppressed;  /* decisions left out */
	const char *program; /* their program, or NULL: they are of @programs more programs */
	guint programs;
	gboolean has_uid; /* they are all of @uid */
	guint32 uid;
	/* with @program: how many distinct destinations they went to (at most
	 * VIGIL_DECISION_LOG_SUMMARY_DESTINATIONS: "or more"), and the first of them ("ADDR:PORT",
	 * NULL-terminated, at most VIGIL_DECISION_LOG_SUMMARY_NAMED) */
	guint destinations;
	const char *const *first;
} VigilLogSummary;

/* writes "suppressed N decisions of program=PATH uid=UID to D destinations, first: A:P, ...
 * (log limit ...)" (or "of M more programs", with or without "uid=UID") */
void vigil_log_writer_summary(GString *line, const VigilLogSummary *summary);

G_END_DECLS
