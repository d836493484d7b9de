/* vigil-decision.c: one decision on a connection: freeing it, its reason as a word */
#define G_LOG_DOMAIN "vigil-decision"
#include "config.h"

#include "vigil-decision.h"

void
vigil_decision_clear(VigilDecision *decision)
{
	g_clear_pointer(&decision->user_name, g_free);
	g_clear_pointer(&decision->program, g_free);
	g_clear_pointer(&decision->hostname, g_free);
}

const char *
vigil_reason_to_string(VigilReason reason)
{
	switch (reason) {
	case VIGIL_REASON_RULE:
		return "rule";
	case VIGIL_REASON_DEFAULT:
		return "default";
	case VIGIL_REASON_MALFORMED:
		return "malformed";
	case VIGIL_REASON_DEADLINE:
		return "deadline";
	case VIGIL_REASON_SHUTDOWN:
		return "shutdown";
	case VIGIL_REASON_REPLY:
		return "reply";
	case VIGIL_REASON_TIMEOUT:
		return "timeout";
	case VIGIL_REASON_DISABLED:
		return "disabled";
	case VIGIL_REASON_OVERFLOW:
		return "overflow";
	}
	return "unknown";
}
