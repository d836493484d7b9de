/* vigil-decision.h: one decision on a connection, as the log, the ring and the log writer keep it
 */
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
	VigilAddress src; /* the connection's own address and port: its conntrack tuple */
	guint16 sport;
	VigilAddress dst;
	guint16 dport;
	guint8 icmp_type;
	char *hostname;   /* or NULL */
	gint64 queued_us; /* time from the queue to the verdict */
	guint taint;      /* VigilTaint flags of the process */
	guint32 tracer_pid;
	guint32 ct_id;   /* conntrack's id of the flow (from the queue), 0: not known */
	gboolean kernel; /* decided in the kernel by a verdict vigild wrote there (no queue) */
} VigilDecision;

/* frees the decision's strings (not the decision) */
void vigil_decision_clear(VigilDecision *decision);
const char *vigil_reason_to_string(VigilReason reason);

G_END_DECLS
