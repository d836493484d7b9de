/* vigilctl-answer.h: vigilctl prompt's questions as a state machine, and what it shows */
#pragma once

#include <glib.h>

#include "vigil-client-reply.h"

G_BEGIN_DECLS

typedef enum {
	VIGILCTL_STEP_VERDICT,  /* allow, deny or drop */
	VIGILCTL_STEP_DURATION, /* once, until quit, 5 min, 1 h, 24 h, forever */
	VIGILCTL_STEP_PROGRAM,  /* an interpreter's script: anything it runs, or only the script */
	VIGILCTL_STEP_HOST,     /* this host, its domain, any host */
	VIGILCTL_STEP_PORT,     /* this port, any port */
	VIGILCTL_STEP_DONE,     /* ready for Reply() */
} VigilctlStep;

/* the answers to one prompt so far; the strings are the Reply() values (static) */
typedef struct {
	VigilctlStep step;
	gboolean has_domain;                  /* the request has a domain-target */
	gboolean has_port;                    /* the request has a port (not ICMP) */
	gboolean has_script;                  /* an interpreter running a script (script key) */
	VigilClientDuration default_duration; /* what Enter alone answers "for how long?" */
	VigilClientHostScope default_host;    /* what Enter alone answers "which destinations?" */
	const char *default_verdict; /* what Enter alone answers "allow or deny?", or NULL */
	const char *verdict;
	const char *duration;
	guint32 seconds; /* with duration "seconds" */
	const char *host_scope;
	const char *port_scope;
	const char *program_scope; /* NULL (the program) or VIGIL_PROGRAM_SCOPE_SCRIPT */
} VigilctlAnswer;

/* the word that asks for the details again, at any question: vigild is then asked to hold
 * the request while the user reads (HoldRequest) */
gboolean vigilctl_answer_is_details(const char *word);

/* starts the questions for a request with this connection dictionary; Enter alone answers
 * "for how long?" with @default_duration (the user's preference, or --duration) */
void vigilctl_answer_init(VigilctlAnswer *answer, GVariant *conn,
                          VigilClientDuration default_duration);

/* Enter alone answers "which destinations?" with @scope (the user's preference) from now on;
 * its domain only where the request has one, else this host. Host until set. */
void vigilctl_answer_set_default_host(VigilctlAnswer *answer, VigilClientHostScope scope);

/* Enter alone answers "allow or deny?" with @verdict ("allow" or "deny": the user's chosen
 * default answer, vigil-tray's default button) from now on; NULL (the start): no default */
void vigilctl_answer_set_default_verdict(VigilctlAnswer *answer, const char *verdict);

/*
 * Takes one answer ("a", "allow", "f", "" for the default where there is one) to the
 * current question and moves on; FALSE when it is not one of the choices (nothing changes).
 */
gboolean vigilctl_answer_feed(VigilctlAnswer *answer, const char *word);

/* the current question with its choices, e.g. "Allow or deny? [a]llow, [d]eny, d[r]op: " */
char *vigilctl_answer_question(const VigilctlAnswer *answer, GVariant *conn);

/* the options of Reply() for a finished answer */
GVariant *vigilctl_answer_options(const VigilctlAnswer *answer);

/* "allow forever, to example.org, port 443/tcp" */
char *vigilctl_answer_describe(const VigilctlAnswer *answer, GVariant *conn);

/* what the prompt shows about a request */
char *vigilctl_prompt_format(guint64 request, GVariant *conn, guint more_waiting,
                             gint64 seconds_left);

/* why a prompt closed, from Cancel()'s reason */
char *vigilctl_prompt_cancel_text(guint64 request, const char *reason);

/* a Notify() as one line, or NULL for a kind vigilctl does not know */
char *vigilctl_prompt_notify_text(const char *kind, GVariant *details);

G_END_DECLS
