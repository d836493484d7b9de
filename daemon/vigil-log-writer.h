/* vigil-log-writer.h: the decision log's lines as text and as structured log fields */
#pragma once

#include "vigil-decision-log.h"

G_BEGIN_DECLS

/* pure: the one-line text of a decision, as logged */
char *vigil_decision_format(const VigilDecision *decision);
/* pure: @text as the log writes a value from outside: spaces, controls, format characters,
 * '"', '\\' and bytes that are not UTF-8 as \xNN */
char *vigil_decision_log_escape(const char *text);

/* writes @decision's line (built in @line, reused: no allocation per connection), whose
 * destination is @addr, with its structured fields (VIGIL_VERDICT, VIGIL_PROGRAM, ...) */
void vigil_log_writer_decision(GString *line, const VigilDecision *decision, const char *addr);
/* writes "suppressed @suppressed decisions of" @program of @uid, or with @program NULL, of
 * @programs more programs */
void vigil_log_writer_summary(GString *line, guint64 suppressed, const char *program, guint32 uid,
                              guint programs);

G_END_DECLS
