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
	GString *line;        /* reused for every decision: no allocation per connection */
	GString *key;
};

/* what runs for every connection writes its numbers without printf */
#define NUMBER_TEXT_SIZE 21

/* @value in decimal, written backwards from the end of @buf; returns where it starts */
static const char *
number_text(guint64 value, char buf[NUMBER_TEXT_SIZE])
{
	char *p = buf + NUMBER_TEXT_SIZE - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	return p;
}

static void
append_number(GString *s, guint64 value)
{
	char buf[NUMBER_TEXT_SIZE];

	g_string_append(s, number_text(value, buf));
}

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

/* the log line of @d, whose destination is @addr */
static void
format_line(GString *s, const VigilDecision *d, const char *addr)
{
	char proto[16];

	g_string_append(s, vigil_action_to_string(d->verdict));
	g_string_append(s, " program=");
	g_string_append(s, d->program != NULL ? d->program : "unknown");
	g_string_append(s, " pid=");
	append_number(s, d->pid);
	g_string_append(s, " user=");
	g_string_append(s, d->user_name != NULL ? d->user_name : "?");
	g_string_append_c(s, '(');
	append_number(s, d->uid);
	g_string_append(s, ") dst=");
	g_string_append(s, addr);
	if (d->hostname != NULL) {
		g_string_append(s, " host=");
		g_string_append(s, d->hostname);
	}
	if (d->protocol == IPPROTO_ICMP || d->protocol == IPPROTO_ICMPV6) {
		g_string_append(s, " icmp-type=");
		append_number(s, d->icmp_type);
	} else {
		g_string_append(s, " port=");
		append_number(s, d->dport);
	}
	g_string_append(s, " proto=");
	g_string_append(s, vigil_protocol_name(d->protocol, proto, sizeof proto));
	g_string_append(s, " rule=");
	if (d->reason == VIGIL_REASON_RULE)
		append_number(s, d->rule_id);
	else
		g_string_append(s, vigil_reason_to_string(d->reason));
	g_string_append(s, " queued=");
	append_number(s, (guint64)MAX(d->queued_us, 0));
	g_string_append(s, "us");
}

char *
vigil_decision_format(const VigilDecision *d)
{
	char addr[INET6_ADDRSTRLEN];
	GString *s = g_string_new(NULL);

	format_line(s, d, vigil_address_to_string(d->family, &d->dst, addr, sizeof addr));
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
	log->line = g_string_new(NULL);
	log->key = g_string_new(NULL);
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
	g_string_free(log->line, TRUE);
	g_string_free(log->key, TRUE);
	g_free(log);
}

static void
count_for_program(VigilDecisionLog *log, const VigilDecision *d, const char *addr)
{
	const char *program = d->program != NULL ? d->program : "unknown";
	ProgramEntry *entry;

	g_string_truncate(log->key, 0);
	append_number(log->key, d->uid);
	g_string_append_c(log->key, ':');
	g_string_append(log->key, program);
	entry = g_hash_table_lookup(log->programs, log->key->str);
	if (entry == NULL) {
		entry = g_new0(ProgramEntry, 1);
		entry->uid = d->uid;
		entry->program = g_strdup(program);
		entry->stats.program = entry->program;
		entry->destinations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_hash_table_insert(log->programs, g_strdup(log->key->str), entry);
	}
	entry->stats.connections++;
	if (d->verdict == VIGIL_ACTION_ALLOW)
		entry->stats.allowed++;
	else
		entry->stats.denied++;
	entry->stats.last_seen = d->time;
	/* a known destination costs no copy: this runs for every connection */
	if (g_hash_table_size(entry->destinations) < MAX_DESTINATIONS_TRACKED &&
	    !g_hash_table_contains(entry->destinations, addr))
		g_hash_table_add(entry->destinations, g_strdup(addr));
	entry->stats.destinations = g_hash_table_size(entry->destinations);
}

static void
write_log_line(VigilDecisionLog *log, const VigilDecision *d, const char *addr)
{
	char rule_buf[NUMBER_TEXT_SIZE];
	char pid_buf[NUMBER_TEXT_SIZE];

	g_string_truncate(log->line, 0);
	format_line(log->line, d, addr);
	/* structured fields let `journalctl VIGIL_VERDICT=deny` filter */
	const GLogField fields[] = {
	    {"MESSAGE", log->line->str, -1},
	    {"PRIORITY", "6", -1},
	    {"GLIB_DOMAIN", G_LOG_DOMAIN, -1},
	    {"VIGIL_VERDICT", vigil_action_to_string(d->verdict), -1},
	    {"VIGIL_PROGRAM", d->program != NULL ? d->program : "unknown", -1},
	    {"VIGIL_PID", number_text(d->pid, pid_buf), -1},
	    {"VIGIL_DESTINATION", addr, -1},
	    {"VIGIL_RULE", number_text(d->rule_id, rule_buf), -1},
	};

	g_log_structured_array(G_LOG_LEVEL_INFO, fields, G_N_ELEMENTS(fields));
}

void
vigil_decision_log_add(VigilDecisionLog *log, VigilDecision *decision)
{
	VigilDecision *slot = &log->ring[log->ring_next];
	char addr[INET6_ADDRSTRLEN];

	vigil_address_to_string(decision->family, &decision->dst, addr, sizeof addr);
	write_log_line(log, decision, addr);
	count_for_program(log, decision, addr);
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
