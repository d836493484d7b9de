/* vigil-decision-log.c: one line per decision to the journal/syslog, and in-memory history */
#define G_LOG_DOMAIN "vigil-decision"
#include "config.h"

#include "vigil-decision-log.h"

/* a chatty program can reach many destinations; counting more than this tells nothing new */
#define MAX_DESTINATIONS_TRACKED 4096

typedef struct {
	guint32 uid;
	char *program;
	VigilProgramStats stats;
	GHashTable *destinations; /* of "addr" strings */
} ProgramEntry;

struct _VigilDecisionLog {
	VigilDecision *ring;
	guint ring_size;
	guint ring_next;
	guint ring_count;
	GHashTable *programs; /* "uid:program" -> ProgramEntry */
};

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
	}
	return "unknown";
}

char *
vigil_decision_format(const VigilDecision *d)
{
	char addr[INET6_ADDRSTRLEN];
	char proto[16];
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "%s program=%s pid=%u user=%s(%u) dst=%s",
	                       vigil_action_to_string(d->verdict),
	                       d->program != NULL ? d->program : "unknown", d->pid,
	                       d->user_name != NULL ? d->user_name : "?", d->uid,
	                       vigil_address_to_string(d->family, &d->dst, addr, sizeof addr));
	if (d->hostname != NULL)
		g_string_append_printf(s, " host=%s", d->hostname);
	if (d->protocol == IPPROTO_ICMP || d->protocol == IPPROTO_ICMPV6)
		g_string_append_printf(s, " icmp-type=%u", d->icmp_type);
	else
		g_string_append_printf(s, " port=%u", d->dport);
	g_string_append_printf(s, " proto=%s",
	                       vigil_protocol_name(d->protocol, proto, sizeof proto));
	if (d->reason == VIGIL_REASON_RULE)
		g_string_append_printf(s, " rule=%" G_GUINT64_FORMAT, d->rule_id);
	else
		g_string_append_printf(s, " rule=%s", vigil_reason_to_string(d->reason));
	g_string_append_printf(s, " queued=%" G_GINT64_FORMAT "us", d->queued_us);
	return g_string_free(s, FALSE);
}

static void
program_entry_free(ProgramEntry *entry)
{
	g_free(entry->program);
	g_hash_table_unref(entry->destinations);
	g_free(entry);
}

VigilDecisionLog *
vigil_decision_log_new(guint ring_size)
{
	VigilDecisionLog *log = g_new0(VigilDecisionLog, 1);

	log->ring_size = MAX(ring_size, 1);
	log->ring = g_new0(VigilDecision, log->ring_size);
	log->programs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                      (GDestroyNotify)program_entry_free);
	return log;
}

void
vigil_decision_log_free(VigilDecisionLog *log)
{
	if (log == NULL)
		return;
	for (guint i = 0; i < log->ring_size; i++)
		vigil_decision_clear(&log->ring[i]);
	g_free(log->ring);
	g_hash_table_unref(log->programs);
	g_free(log);
}

static void
count_for_program(VigilDecisionLog *log, const VigilDecision *d)
{
	const char *program = d->program != NULL ? d->program : "unknown";
	g_autofree char *key = g_strdup_printf("%u:%s", d->uid, program);
	ProgramEntry *entry = g_hash_table_lookup(log->programs, key);
	char addr[INET6_ADDRSTRLEN];

	if (entry == NULL) {
		entry = g_new0(ProgramEntry, 1);
		entry->uid = d->uid;
		entry->program = g_strdup(program);
		entry->stats.program = entry->program;
		entry->destinations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_hash_table_insert(log->programs, g_steal_pointer(&key), entry);
	}
	entry->stats.connections++;
	if (d->verdict == VIGIL_ACTION_ALLOW)
		entry->stats.allowed++;
	else
		entry->stats.denied++;
	entry->stats.last_seen = d->time;
	vigil_address_to_string(d->family, &d->dst, addr, sizeof addr);
	/* a known destination costs no copy: this runs for every connection */
	if (g_hash_table_size(entry->destinations) < MAX_DESTINATIONS_TRACKED &&
	    !g_hash_table_contains(entry->destinations, addr))
		g_hash_table_add(entry->destinations, g_strdup(addr));
	entry->stats.destinations = g_hash_table_size(entry->destinations);
}

static void
write_log_line(const VigilDecision *d)
{
	g_autofree char *line = vigil_decision_format(d);
	g_autofree char *rule = g_strdup_printf("%" G_GUINT64_FORMAT, d->rule_id);
	g_autofree char *pid = g_strdup_printf("%u", d->pid);
	char addr[INET6_ADDRSTRLEN];
	/* structured fields let `journalctl VIGIL_VERDICT=deny` filter */
	const GLogField fields[] = {
	    {"MESSAGE", line, -1},
	    {"PRIORITY", "6", -1},
	    {"GLIB_DOMAIN", G_LOG_DOMAIN, -1},
	    {"VIGIL_VERDICT", vigil_action_to_string(d->verdict), -1},
	    {"VIGIL_PROGRAM", d->program != NULL ? d->program : "unknown", -1},
	    {"VIGIL_PID", pid, -1},
	    {"VIGIL_DESTINATION", vigil_address_to_string(d->family, &d->dst, addr, sizeof addr),
	     -1},
	    {"VIGIL_RULE", rule, -1},
	};

	g_log_structured_array(G_LOG_LEVEL_INFO, fields, G_N_ELEMENTS(fields));
}

void
vigil_decision_log_add(VigilDecisionLog *log, VigilDecision *decision)
{
	VigilDecision *slot = &log->ring[log->ring_next];

	write_log_line(decision);
	count_for_program(log, decision);
	vigil_decision_clear(slot);
	*slot = *decision;
	memset(decision, 0, sizeof *decision);
	log->ring_next = (log->ring_next + 1) % log->ring_size;
	log->ring_count = MIN(log->ring_count + 1, log->ring_size);
}

GPtrArray *
vigil_decision_log_recent(VigilDecisionLog *log)
{
	GPtrArray *out = g_ptr_array_sized_new(log->ring_count);
	guint start = (log->ring_next + log->ring_size - log->ring_count) % log->ring_size;

	for (guint i = 0; i < log->ring_count; i++)
		g_ptr_array_add(out, &log->ring[(start + i) % log->ring_size]);
	return out;
}

static gint
compare_stats(gconstpointer a, gconstpointer b)
{
	const VigilProgramStats *x = *(VigilProgramStats *const *)a;
	const VigilProgramStats *y = *(VigilProgramStats *const *)b;

	if (x->connections != y->connections)
		return x->connections > y->connections ? -1 : 1;
	if (x->destinations != y->destinations)
		return x->destinations > y->destinations ? -1 : 1;
	return g_strcmp0(x->program, y->program);
}

GPtrArray *
vigil_decision_log_program_stats(VigilDecisionLog *log, guint32 uid)
{
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter iter;
	ProgramEntry *entry;

	g_hash_table_iter_init(&iter, log->programs);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
		if (uid == G_MAXUINT32 || entry->uid == uid)
			g_ptr_array_add(out, &entry->stats);
	}
	g_ptr_array_sort(out, compare_stats);
	return out;
}
