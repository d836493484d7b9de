/* vigil-decision-log.c: which decisions get a log line (flood budgets), and in-memory history */
#define G_LOG_DOMAIN "vigil-decision"
#include "config.h"

#include "vigil-decision-log.h"
#include "vigil-log-writer.h"

/*
 * Every table here is keyed by what a user's processes choose (an executable path, a
 * destination): each is bounded. The programs table forgets the least recently seen
 * program; a program's destinations are counted up to a bound.
 */
#define MAX_PROGRAMS_TRACKED     VIGIL_DECISION_LOG_MAX_PROGRAMS
#define MAX_DESTINATIONS_TRACKED VIGIL_DECISION_LOG_MAX_DESTINATIONS

/*
 * A flood of decisions must neither hide the next decision (journald drops a unit's lines
 * beyond its rate limit, see vigild.service) nor fill the disk: per interval, a program gets
 * LINES_PER_PROGRAM lines and all programs together LINES_PER_INTERVAL; what goes beyond is
 * counted, and each program with decisions left out gets one "suppressed" line when the
 * interval ends (at most SUMMARIES_PER_INTERVAL, then one line for the rest).
 */
#define LOG_INTERVAL_US        (VIGIL_DECISION_LOG_INTERVAL_S * G_USEC_PER_SEC)
#define LINES_PER_PROGRAM      VIGIL_DECISION_LOG_LINES_PER_PROGRAM
#define LINES_PER_INTERVAL     VIGIL_DECISION_LOG_LINES_PER_INTERVAL
#define SUMMARIES_PER_INTERVAL 100

/* what a program is counted under: the lookup key, on the stack, costs no allocation */
typedef struct {
	guint32 uid;
	const char *program;
} ProgramKey;

typedef struct {
	ProgramKey key; /* first: the entry is its own key; key.program is entry->program */
	char *program;
	VigilProgramStats stats;
	GHashTable *destinations; /* of address hashes: a set of integers, no string each */
	GList lru_link;           /* in log->lru, most recently seen first */
	GList pending_link;       /* in log->pending while it has suppressed decisions */
	guint64 interval;         /* the interval that @lines counts in */
	guint lines;
	guint64 suppressed;
} ProgramEntry;

struct _VigilDecisionLog {
	VigilDecision *ring;
	guint ring_size;
	guint ring_next;
	guint ring_count;
	GHashTable *programs; /* ProgramKey -> ProgramEntry (the same pointer) */
	GQueue lru;           /* of ProgramEntry, via lru_link */
	GQueue pending;       /* of ProgramEntry with suppressed decisions, via pending_link */
	GString *line;        /* reused for every decision: no allocation per connection */
	/* the flood limit's interval */
	guint64 interval;
	gint64 interval_start; /* unix time of its first decision, microseconds */
	guint interval_lines;
	guint64 forgotten_suppressed; /* of programs forgotten while they had some */
	guint forgotten_programs;
	guint timer; /* ends the interval when no decision comes to do it */
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
	case VIGIL_REASON_OVERFLOW:
		return "overflow";
	}
	return "unknown";
}

static guint
program_key_hash(gconstpointer key)
{
	const ProgramKey *k = key;

	return g_str_hash(k->program) ^ (k->uid * 2654435761u);
}

static gboolean
program_key_equal(gconstpointer a, gconstpointer b)
{
	const ProgramKey *x = a;
	const ProgramKey *y = b;

	return x->uid == y->uid && strcmp(x->program, y->program) == 0;
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
	log->programs = g_hash_table_new_full(program_key_hash, program_key_equal, NULL,
	                                      (GDestroyNotify)program_entry_free);
	g_queue_init(&log->lru);
	g_queue_init(&log->pending);
	log->line = g_string_new(NULL);
	return log;
}

static void write_summaries(VigilDecisionLog *log);

void
vigil_decision_log_free(VigilDecisionLog *log)
{
	if (log == NULL)
		return;
	/* vigild stopping: what was left out is still told */
	write_summaries(log);
	g_clear_handle_id(&log->timer, g_source_remove);
	for (guint i = 0; i < log->ring_size; i++)
		vigil_decision_clear(&log->ring[i]);
	g_free(log->ring);
	g_hash_table_unref(log->programs);
	g_string_free(log->line, TRUE);
	g_free(log);
}

/* forgets the program seen least recently; its suppressed decisions are still told */
static void
forget_oldest_program(VigilDecisionLog *log)
{
	GList *link = g_queue_peek_tail_link(&log->lru);
	ProgramEntry *entry = link->data;

	g_queue_unlink(&log->lru, link);
	if (entry->suppressed > 0) {
		g_queue_unlink(&log->pending, &entry->pending_link);
		log->forgotten_suppressed += entry->suppressed;
		log->forgotten_programs++;
	}
	g_hash_table_remove(log->programs, &entry->key);
}

static ProgramEntry *
find_program(VigilDecisionLog *log, const VigilDecision *d)
{
	ProgramKey key = {d->uid, d->program != NULL ? d->program : "unknown"};
	ProgramEntry *entry = g_hash_table_lookup(log->programs, &key);

	if (entry != NULL) {
		/* most recently seen first: O(1), the links live in the entry */
		g_queue_unlink(&log->lru, &entry->lru_link);
		g_queue_push_head_link(&log->lru, &entry->lru_link);
		return entry;
	}
	if (g_hash_table_size(log->programs) >= MAX_PROGRAMS_TRACKED)
		forget_oldest_program(log);
	entry = g_new0(ProgramEntry, 1);
	entry->program = g_strdup(key.program);
	entry->key.uid = d->uid;
	entry->key.program = entry->program;
	entry->stats.program = entry->program;
	entry->destinations = g_hash_table_new(NULL, NULL);
	entry->lru_link.data = entry;
	entry->pending_link.data = entry;
	entry->interval = G_MAXUINT64;
	g_hash_table_add(log->programs, entry);
	g_queue_push_head_link(&log->lru, &entry->lru_link);
	return entry;
}

/* FNV-1a of the address bytes: a destination is counted without a copy of it */
static guint
address_hash(int family, const VigilAddress *addr)
{
	gsize len = family == AF_INET6 ? 16 : 4;
	guint h = 2166136261u ^ (guint)family;

	for (gsize i = 0; i < len; i++)
		h = (h ^ addr->bytes[i]) * 16777619u;
	return h;
}

static void
count_for_program(ProgramEntry *entry, const VigilDecision *d)
{
	gpointer dst = GUINT_TO_POINTER(address_hash(d->family, &d->dst));

	entry->stats.connections++;
	if (d->verdict == VIGIL_ACTION_ALLOW)
		entry->stats.allowed++;
	else
		entry->stats.denied++;
	entry->stats.last_seen = d->time;
	/* a known destination costs nothing: this runs for every connection */
	if (g_hash_table_size(entry->destinations) < MAX_DESTINATIONS_TRACKED)
		g_hash_table_add(entry->destinations, dst);
	entry->stats.destinations = g_hash_table_size(entry->destinations);
}

/* one line per program that had decisions left out, and one for the rest */
static void
write_summaries(VigilDecisionLog *log)
{
	guint written = 0;
	GList *link;

	while ((link = g_queue_pop_head_link(&log->pending)) != NULL) {
		ProgramEntry *entry = link->data;

		if (written < SUMMARIES_PER_INTERVAL) {
			vigil_log_writer_summary(log->line, entry->suppressed, entry->program,
			                         entry->key.uid, 0);
			written++;
		} else {
			log->forgotten_suppressed += entry->suppressed;
			log->forgotten_programs++;
		}
		entry->suppressed = 0;
	}
	if (log->forgotten_suppressed > 0)
		vigil_log_writer_summary(log->line, log->forgotten_suppressed, NULL, 0,
		                         log->forgotten_programs);
	log->forgotten_suppressed = 0;
	log->forgotten_programs = 0;
}

/* @now is unix time in microseconds; a clock set back starts a new interval too */
static void
end_interval_if_due(VigilDecisionLog *log, gint64 now)
{
	if (log->interval_lines > 0 && now >= log->interval_start &&
	    now - log->interval_start < LOG_INTERVAL_US)
		return;
	write_summaries(log);
	log->interval++;
	log->interval_start = now;
	log->interval_lines = 0;
}

static gboolean
on_interval_timer(gpointer data)
{
	VigilDecisionLog *log = data;

	log->timer = 0;
	vigil_decision_log_flush(log, g_get_real_time());
	return G_SOURCE_REMOVE;
}

void
vigil_decision_log_flush(VigilDecisionLog *log, gint64 now)
{
	if (g_queue_is_empty(&log->pending) && log->forgotten_suppressed == 0)
		return;
	if (now >= log->interval_start && now - log->interval_start < LOG_INTERVAL_US) {
		/* not yet: the timer comes back when the interval ends */
		if (log->timer == 0)
			log->timer = g_timeout_add_full(
			    G_PRIORITY_DEFAULT,
			    (guint)((log->interval_start + LOG_INTERVAL_US - now) / 1000 + 1),
			    on_interval_timer, log, NULL);
		return;
	}
	write_summaries(log);
	log->interval_lines = 0;
}

/* whether @entry's decision gets a line of its own in this interval */
static gboolean
line_allowed(VigilDecisionLog *log, ProgramEntry *entry)
{
	if (entry->interval != log->interval) {
		entry->interval = log->interval;
		entry->lines = 0;
	}
	if (entry->lines >= LINES_PER_PROGRAM || log->interval_lines >= LINES_PER_INTERVAL)
		return FALSE;
	entry->lines++;
	log->interval_lines++;
	return TRUE;
}

static void
suppress(VigilDecisionLog *log, ProgramEntry *entry, gint64 now)
{
	if (entry->suppressed++ == 0)
		g_queue_push_tail_link(&log->pending, &entry->pending_link);
	/* a flood that stops at once is still told when its interval ends */
	vigil_decision_log_flush(log, now);
}

void
vigil_decision_log_add(VigilDecisionLog *log, VigilDecision *decision)
{
	VigilDecision *slot = &log->ring[log->ring_next];
	char addr[INET6_ADDRSTRLEN];
	ProgramEntry *entry;

	vigil_address_to_string(decision->family, &decision->dst, addr, sizeof addr);
	end_interval_if_due(log, decision->time);
	entry = find_program(log, decision);
	count_for_program(entry, decision);
	if (line_allowed(log, entry))
		vigil_log_writer_decision(log->line, decision, addr);
	else
		suppress(log, entry, decision->time);
	vigil_decision_clear(slot);
	*slot = *decision;
	memset(decision, 0, sizeof *decision);
	log->ring_next = (log->ring_next + 1) % log->ring_size;
	log->ring_count = MIN(log->ring_count + 1, log->ring_size);
}

guint
vigil_decision_log_n_programs(VigilDecisionLog *log)
{
	return g_hash_table_size(log->programs);
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
	for (GList *l = log->lru.head; l != NULL; l = l->next) {
		ProgramEntry *entry = l->data;

		if (uid == G_MAXUINT32 || entry->key.uid == uid)
			g_ptr_array_add(out, &entry->stats);
	}
	g_ptr_array_sort(out, compare_stats);
	return out;
}
