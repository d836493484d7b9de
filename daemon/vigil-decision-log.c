/* vigil-decision-log.c: which decisions get a log line (flood budgets), and in-memory history */
#define G_LOG_DOMAIN "vigil-decision"
#include "config.h"

#include "vigil-decision-log.h"
#include "vigil-decision-ring.h"
#include "vigil-fair.h"
#include "vigil-log-writer.h"
#include "vigil-uid-queues.h"

/*
 * Every table here is keyed by what a user's processes choose (an executable path, a
 * destination, their uid): each is bounded. The programs table forgets the least recently
 * seen program of the user with the most programs (one user's thousands of hard links push
 * out their own programs, not another user's: vigil-uid-queues.h); a program's destinations
 * are counted up to a bound; the users' budgets are kept for the most recently seen MAX_UIDS
 * users (forgetting one only gives it a fresh budget). "User" here is the fairness bucket of
 * the uid (vigil-fair.h): a user's subordinate uids share their owner's budgets.
 */
#define MAX_PROGRAMS_TRACKED     VIGIL_DECISION_LOG_MAX_PROGRAMS
#define MAX_DESTINATIONS_TRACKED VIGIL_DECISION_LOG_MAX_DESTINATIONS
#define MAX_UIDS                 VIGIL_DECISION_LOG_MAX_UIDS

/*
 * A flood of decisions must neither hide the next decision (journald drops a unit's lines
 * beyond its rate limit, see vigild.service) nor fill the disk, and one uid's flood must not
 * hide another uid's decisions. Per interval:
 * - the first decision of each program (per uid) in the interval gets a line, outside every
 *   budget below, for PROGRAM_FIRSTS_PER_UID programs per user and PROGRAM_FIRSTS in all (a
 *   trojan's first connection shows however much its user's other programs flood, and
 *   however many destinations they flood);
 * - a decision whose (program, destination) has had no line yet in the interval gets one,
 *   outside the budgets below, for FIRST_LINES_PER_UID such pairs per uid (a trojan's first
 *   connection shows even amid a flood of its user's other programs). Past that bound the
 *   pair is simply not "first": the budgets below decide, and at worst the decision is counted
 *   in a "suppressed" line of its program;
 * - otherwise a program (per uid) gets LINES_PER_PROGRAM lines, a uid LINES_PER_UID;
 * - all uids together LINES_PER_INTERVAL, more than three uids' lines at most: no one uid
 *   (or two, or three) can use it up, and it keeps journald's limit from dropping lines.
 * What goes beyond is counted, and when the interval ends each program with decisions left
 * out gets one "suppressed" line: SUMMARIES_PER_UID per uid, then one line for the rest of
 * that uid, SUMMARIES_PER_INTERVAL in all, then one line for the rest. A program's line names
 * how many destinations its decisions left out went to, and the first few. No decision goes
 * without its line or a count in one.
 */
#define LOG_INTERVAL_US        (VIGIL_DECISION_LOG_INTERVAL_S * G_USEC_PER_SEC)
#define LINES_PER_PROGRAM      VIGIL_DECISION_LOG_LINES_PER_PROGRAM
#define LINES_PER_UID          VIGIL_DECISION_LOG_LINES_PER_UID
#define FIRST_LINES_PER_UID    VIGIL_DECISION_LOG_FIRST_LINES_PER_UID
#define PROGRAM_FIRSTS_PER_UID VIGIL_DECISION_LOG_PROGRAM_FIRSTS_PER_UID
#define PROGRAM_FIRSTS         VIGIL_DECISION_LOG_PROGRAM_FIRSTS
#define SUMMARY_DESTINATIONS   VIGIL_DECISION_LOG_SUMMARY_DESTINATIONS
#define SUMMARY_NAMED          VIGIL_DECISION_LOG_SUMMARY_NAMED
#define LINES_PER_INTERVAL     VIGIL_DECISION_LOG_LINES_PER_INTERVAL
#define SUMMARIES_PER_UID      VIGIL_DECISION_LOG_SUMMARIES_PER_UID
#define SUMMARIES_PER_INTERVAL VIGIL_DECISION_LOG_SUMMARIES_PER_INTERVAL
G_STATIC_ASSERT(3 * (LINES_PER_UID + FIRST_LINES_PER_UID) < LINES_PER_INTERVAL);
/* vigild.service: LogRateLimitIntervalSec=30s, LogRateLimitBurst=20000 */
G_STATIC_ASSERT((30 / VIGIL_DECISION_LOG_INTERVAL_S) *
                    (LINES_PER_INTERVAL + PROGRAM_FIRSTS + SUMMARIES_PER_INTERVAL + 1) <
                20000);
/* no one user (nor three) can use up the programs' first lines */
G_STATIC_ASSERT(3 * PROGRAM_FIRSTS_PER_UID < PROGRAM_FIRSTS);

/* what a program is counted under: the lookup key, on the stack, costs no allocation */
typedef struct {
	guint32 uid;
	const char *program;
} ProgramKey;

typedef struct {
	ProgramKey key; /* first: the entry is its own key; key.program is entry->program */
	guint32 bucket; /* of key.uid when the entry was made: its queue and budget */
	char *program;
	guint64 program_hash; /* of the path, seeded: for the (program, destination) pairs */
	VigilProgramStats stats;
	GHashTable *destinations; /* of address hashes: a set of integers, no string each */
	GList uid_link;           /* in its uid's queue of log->program_queues */
	GList pending_link;       /* in its uid's pending while it has suppressed decisions */
	guint64 interval;         /* the interval that @lines counts in */
	guint lines;
	guint64 first_interval; /* the interval it last had its first line in */
	guint64 suppressed;
	/* the destinations of its suppressed decisions: pair hashes (at most
	 * SUMMARY_DESTINATIONS), and the first few as text; NULL while it has none */
	GHashTable *suppressed_destinations;
	char *suppressed_first[SUMMARY_NAMED + 1];
} ProgramEntry;

/* a user's (fairness bucket's) share of the log in the current interval */
typedef struct {
	guint32 uid;          /* the bucket */
	GList lru_link;       /* in log->uid_lru, most recently seen first */
	GList pending_link;   /* in log->pending while it has decisions left out */
	guint64 interval;     /* the interval that @lines and @firsts are of */
	guint lines;          /* lines within the budgets */
	guint program_firsts; /* programs' first lines */
	GHashTable *firsts;   /* (program, destination) pairs with a line: set of 64-bit hashes */
	GQueue pending;       /* of its ProgramEntry with suppressed decisions, via pending_link */
	guint64 forgotten_suppressed; /* of its programs forgotten while they had some */
	guint forgotten_programs;
} UidBudget;

struct _VigilDecisionLog {
	VigilDecisionRing *ring;
	guint64 last_id;
	GHashTable *programs;           /* ProgramKey -> ProgramEntry (the same pointer) */
	VigilUidQueues *program_queues; /* of ProgramEntry, via uid_link, least recently seen
	                                 * first: which one to forget */
	GHashTable *uids;               /* bucket -> UidBudget */
	GQueue uid_lru;                 /* of UidBudget, via lru_link */
	GQueue pending;                 /* of UidBudget with decisions left out, via pending_link */
	guint64 seed;                   /* of the pairs' hashes: a user cannot aim at a collision */
	GString *line; /* reused for every decision: no allocation per connection */
	/* the flood limit's interval */
	guint64 interval;
	gint64 interval_start; /* unix time of its first decision, microseconds */
	guint interval_lines;
	guint interval_program_firsts;
	guint64 forgotten_suppressed; /* of uids forgotten, or beyond SUMMARIES_PER_INTERVAL */
	guint forgotten_programs;
	guint timer; /* ends the interval when no decision comes to do it */
};

/* FNV-1a, 64 bits, continuing from @h */
static guint64
fnv1a(guint64 h, const void *data, gsize len)
{
	const guchar *p = data;

	for (gsize i = 0; i < len; i++)
		h = (h ^ p[i]) * G_GUINT64_CONSTANT(1099511628211);
	return h;
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

/* @entry's suppressed decisions are told (or counted elsewhere): their destinations go */
static void
clear_suppressed(ProgramEntry *entry)
{
	entry->suppressed = 0;
	g_clear_pointer(&entry->suppressed_destinations, g_hash_table_unref);
	for (guint i = 0; i < SUMMARY_NAMED; i++)
		g_clear_pointer(&entry->suppressed_first[i], g_free);
}

static void
program_entry_free(ProgramEntry *entry)
{
	clear_suppressed(entry);
	g_free(entry->program);
	g_hash_table_unref(entry->destinations);
	g_free(entry);
}

static void
uid_budget_free(UidBudget *budget)
{
	g_hash_table_unref(budget->firsts);
	g_free(budget);
}

VigilDecisionLog *
vigil_decision_log_new(guint ring_size)
{
	VigilDecisionLog *log = g_new0(VigilDecisionLog, 1);

	log->ring = vigil_decision_ring_new(ring_size);
	log->programs = g_hash_table_new_full(program_key_hash, program_key_equal, NULL,
	                                      (GDestroyNotify)program_entry_free);
	log->program_queues = vigil_uid_queues_new();
	log->uids = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)uid_budget_free);
	g_queue_init(&log->uid_lru);
	g_queue_init(&log->pending);
	log->seed = ((guint64)g_random_int() << 32 | g_random_int()) ^
	            G_GUINT64_CONSTANT(14695981039346656037);
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
	vigil_decision_ring_free(log->ring);
	g_hash_table_unref(log->programs);
	vigil_uid_queues_free(log->program_queues);
	g_hash_table_unref(log->uids);
	g_string_free(log->line, TRUE);
	g_free(log);
}

static UidBudget *
budget_of(VigilDecisionLog *log, guint32 uid)
{
	return g_hash_table_lookup(log->uids, GUINT_TO_POINTER(uid));
}

/* @budget has something to tell when the interval ends */
static void
budget_pending(VigilDecisionLog *log, UidBudget *budget)
{
	if (g_queue_is_empty(&budget->pending) && budget->forgotten_suppressed == 0)
		g_queue_push_tail_link(&log->pending, &budget->pending_link);
}

/* forgets @entry (to make room); its suppressed decisions are still told (under its uid, as
 * one of "N more programs") */
static void
forget_program(VigilDecisionLog *log, ProgramEntry *entry)
{
	vigil_uid_queues_unlink(log->program_queues,
	                        vigil_uid_queues_lookup(log->program_queues, entry->bucket),
	                        &entry->uid_link);
	if (entry->suppressed > 0) {
		/* a program with suppressed decisions is pending in its bucket's budget, which is
		 * kept while it has any (forget_oldest_uid) */
		UidBudget *budget = budget_of(log, entry->bucket);

		g_queue_unlink(&budget->pending, &entry->pending_link);
		budget->forgotten_suppressed += entry->suppressed;
		budget->forgotten_programs++;
	}
	g_hash_table_remove(log->programs, &entry->key);
}

static ProgramEntry *
find_program(VigilDecisionLog *log, const VigilDecision *d, guint32 bucket)
{
	ProgramKey key = {d->uid, d->program != NULL ? d->program : "unknown"};
	ProgramEntry *entry = g_hash_table_lookup(log->programs, &key);
	VigilUidQueue *queue;

	if (entry != NULL) {
		/* its bucket's most recently seen: O(1), the link lives in the entry */
		queue = vigil_uid_queues_lookup(log->program_queues, entry->bucket);
		g_queue_unlink(&queue->items, &entry->uid_link);
		g_queue_push_tail_link(&queue->items, &entry->uid_link);
		return entry;
	}
	if (g_hash_table_size(log->programs) >= MAX_PROGRAMS_TRACKED) {
		/* the least recently seen program of the bucket with the most */
		queue = vigil_uid_queues_longest(
		    log->program_queues, vigil_uid_queues_lookup(log->program_queues, bucket));
		forget_program(log, g_queue_peek_head(&queue->items));
	}
	entry = g_new0(ProgramEntry, 1);
	entry->program = g_strdup(key.program);
	entry->program_hash = fnv1a(log->seed, entry->program, strlen(entry->program));
	entry->key.uid = d->uid;
	entry->key.program = entry->program;
	entry->bucket = bucket;
	entry->stats.program = entry->program;
	entry->destinations = g_hash_table_new(NULL, NULL);
	entry->uid_link.data = entry;
	entry->pending_link.data = entry;
	entry->interval = G_MAXUINT64;
	entry->first_interval = G_MAXUINT64;
	g_hash_table_add(log->programs, entry);
	g_queue_push_tail_link(&vigil_uid_queues_get(log->program_queues, bucket)->items,
	                       &entry->uid_link);
	return entry;
}

/*
 * Forgets the budget of the uid seen least recently (only with MAX_UIDS uids seen since: a
 * user has one uid, so only many users together get here). Its suppressed decisions are
 * still told, in the line for the rest; it starts afresh when it is seen again.
 */
static void
forget_oldest_uid(VigilDecisionLog *log)
{
	UidBudget *budget = g_queue_peek_tail(&log->uid_lru);
	gboolean pending = !g_queue_is_empty(&budget->pending) || budget->forgotten_suppressed > 0;
	GList *link;

	while ((link = g_queue_pop_head_link(&budget->pending)) != NULL) {
		ProgramEntry *entry = link->data;

		log->forgotten_suppressed += entry->suppressed;
		log->forgotten_programs++;
		clear_suppressed(entry);
	}
	log->forgotten_suppressed += budget->forgotten_suppressed;
	log->forgotten_programs += budget->forgotten_programs;
	if (pending)
		g_queue_unlink(&log->pending, &budget->pending_link);
	g_queue_unlink(&log->uid_lru, &budget->lru_link);
	g_hash_table_remove(log->uids, GUINT_TO_POINTER(budget->uid));
}

static UidBudget *
find_budget(VigilDecisionLog *log, guint32 uid)
{
	UidBudget *budget = budget_of(log, uid);

	if (budget != NULL) {
		g_queue_unlink(&log->uid_lru, &budget->lru_link);
		g_queue_push_head_link(&log->uid_lru, &budget->lru_link);
		return budget;
	}
	if (g_hash_table_size(log->uids) >= MAX_UIDS)
		forget_oldest_uid(log);
	budget = g_new0(UidBudget, 1);
	budget->uid = uid;
	budget->lru_link.data = budget;
	budget->pending_link.data = budget;
	budget->interval = G_MAXUINT64;
	budget->firsts = g_hash_table_new(NULL, NULL);
	g_queue_init(&budget->pending);
	g_hash_table_insert(log->uids, GUINT_TO_POINTER(uid), budget);
	g_queue_push_head_link(&log->uid_lru, &budget->lru_link);
	return budget;
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

static void
write_summary(VigilDecisionLog *log, guint64 suppressed, const char *program, guint programs,
              gboolean has_uid, guint32 uid)
{
	const VigilLogSummary summary = {suppressed, program, programs, has_uid, uid, 0, NULL};

	vigil_log_writer_summary(log->line, &summary);
}

/* @entry's "suppressed" line, with the destinations of what was left out */
static void
write_program_summary(VigilDecisionLog *log, ProgramEntry *entry)
{
	const VigilLogSummary summary = {
	    entry->suppressed,
	    entry->program,
	    0,
	    TRUE,
	    entry->key.uid,
	    entry->suppressed_destinations != NULL
	        ? g_hash_table_size(entry->suppressed_destinations)
	        : 0,
	    (const char *const *)entry->suppressed_first,
	};

	vigil_log_writer_summary(log->line, &summary);
}

/* @budget's lines for its programs with decisions left out, and one for the rest; counts in
 * @written the lines of the interval so far */
static void
write_uid_summaries(VigilDecisionLog *log, UidBudget *budget, guint *written)
{
	guint mine = 0;
	GList *link;

	while ((link = g_queue_pop_head_link(&budget->pending)) != NULL) {
		ProgramEntry *entry = link->data;

		if (mine < SUMMARIES_PER_UID && *written < SUMMARIES_PER_INTERVAL) {
			write_program_summary(log, entry);
			mine++;
			(*written)++;
		} else {
			budget->forgotten_suppressed += entry->suppressed;
			budget->forgotten_programs++;
		}
		clear_suppressed(entry);
	}
	if (budget->forgotten_suppressed > 0 && *written < SUMMARIES_PER_INTERVAL) {
		/* the bucket's uid: the owner of subordinate uids; none for the unknown bucket */
		write_summary(log, budget->forgotten_suppressed, NULL, budget->forgotten_programs,
		              budget->uid != VIGIL_FAIR_UNKNOWN, budget->uid);
		(*written)++;
	} else {
		log->forgotten_suppressed += budget->forgotten_suppressed;
		log->forgotten_programs += budget->forgotten_programs;
	}
	budget->forgotten_suppressed = 0;
	budget->forgotten_programs = 0;
}

/* the "suppressed" lines of the interval: per uid, in the order they first had one */
static void
write_summaries(VigilDecisionLog *log)
{
	guint written = 0;
	GList *link;

	while ((link = g_queue_pop_head_link(&log->pending)) != NULL)
		write_uid_summaries(log, link->data, &written);
	if (log->forgotten_suppressed > 0)
		write_summary(log, log->forgotten_suppressed, NULL, log->forgotten_programs, FALSE,
		              0);
	log->forgotten_suppressed = 0;
	log->forgotten_programs = 0;
}

/* @now is unix time in microseconds; a clock set back starts a new interval too */
static void
end_interval_if_due(VigilDecisionLog *log, gint64 now)
{
	if (log->interval_lines + log->interval_program_firsts > 0 && now >= log->interval_start &&
	    now - log->interval_start < LOG_INTERVAL_US)
		return;
	write_summaries(log);
	log->interval++;
	log->interval_start = now;
	log->interval_lines = 0;
	log->interval_program_firsts = 0;
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

/* the (program, destination) pair of @d, as a seeded 64-bit hash */
static guint64
pair_hash(const ProgramEntry *entry, const VigilDecision *d)
{
	guint64 h = entry->program_hash;

	h = fnv1a(h, &d->family, sizeof d->family);
	h = fnv1a(h, d->dst.bytes, d->family == AF_INET6 ? 16 : 4);
	h = fnv1a(h, &d->dport, sizeof d->dport);
	h = fnv1a(h, &d->protocol, sizeof d->protocol);
	return fnv1a(h, &d->icmp_type, sizeof d->icmp_type);
}

/* whether @d is the first decision of its (program, destination) in @budget's interval, while
 * the uid has room for more such pairs; it is then remembered */
static gboolean
first_of_pair(UidBudget *budget, const ProgramEntry *entry, const VigilDecision *d)
{
	gpointer pair = GSIZE_TO_POINTER((gsize)pair_hash(entry, d));

	if (g_hash_table_size(budget->firsts) >= FIRST_LINES_PER_UID ||
	    g_hash_table_contains(budget->firsts, pair))
		return FALSE;
	g_hash_table_add(budget->firsts, pair);
	return TRUE;
}

/*
 * Whether @d is its program's first decision in the interval, while its user and everyone have
 * room for more such lines; its (program, destination) pair then counts as having had its line
 * too (when there is room for pairs).
 */
static gboolean
first_of_program(VigilDecisionLog *log, UidBudget *budget, ProgramEntry *entry,
                 const VigilDecision *d)
{
	if (entry->first_interval == log->interval ||
	    budget->program_firsts >= PROGRAM_FIRSTS_PER_UID ||
	    log->interval_program_firsts >= PROGRAM_FIRSTS)
		return FALSE;
	entry->first_interval = log->interval;
	budget->program_firsts++;
	log->interval_program_firsts++;
	first_of_pair(budget, entry, d);
	return TRUE;
}

/* whether @d (of @entry, of @budget's uid) gets a line of its own in this interval */
static gboolean
line_allowed(VigilDecisionLog *log, UidBudget *budget, ProgramEntry *entry, const VigilDecision *d)
{
	if (entry->interval != log->interval) {
		entry->interval = log->interval;
		entry->lines = 0;
	}
	if (budget->interval != log->interval) {
		budget->interval = log->interval;
		budget->lines = 0;
		budget->program_firsts = 0;
		g_hash_table_remove_all(budget->firsts);
	}
	/* outside every budget: bounded by its own */
	if (first_of_program(log, budget, entry, d))
		return TRUE;
	if (log->interval_lines >= LINES_PER_INTERVAL)
		return FALSE;
	if (!first_of_pair(budget, entry, d)) {
		if (entry->lines >= LINES_PER_PROGRAM || budget->lines >= LINES_PER_UID)
			return FALSE;
		entry->lines++;
		budget->lines++;
	}
	log->interval_lines++;
	return TRUE;
}

/* remembers where @d went, for its program's "suppressed" line: a bounded count of distinct
 * destinations, the first few by address and port */
static void
note_destination(ProgramEntry *entry, const VigilDecision *d, const char *addr)
{
	gpointer pair = GSIZE_TO_POINTER((gsize)pair_hash(entry, d));
	gboolean has_port;
	guint n;

	if (entry->suppressed_destinations == NULL)
		entry->suppressed_destinations = g_hash_table_new(NULL, NULL);
	n = g_hash_table_size(entry->suppressed_destinations);
	if (n >= SUMMARY_DESTINATIONS || !g_hash_table_add(entry->suppressed_destinations, pair) ||
	    n >= SUMMARY_NAMED)
		return;
	has_port = d->protocol == IPPROTO_TCP || d->protocol == IPPROTO_UDP ||
	           d->protocol == IPPROTO_SCTP || d->protocol == IPPROTO_UDPLITE;
	if (!has_port)
		entry->suppressed_first[n] = g_strdup(addr);
	else if (d->family == AF_INET6)
		entry->suppressed_first[n] = g_strdup_printf("[%s]:%u", addr, d->dport);
	else
		entry->suppressed_first[n] = g_strdup_printf("%s:%u", addr, d->dport);
}

static void
suppress(VigilDecisionLog *log, UidBudget *budget, ProgramEntry *entry, const VigilDecision *d,
         const char *addr)
{
	note_destination(entry, d, addr);
	if (entry->suppressed++ == 0) {
		budget_pending(log, budget);
		g_queue_push_tail_link(&budget->pending, &entry->pending_link);
	}
	/* a flood that stops at once is still told when its interval ends */
	vigil_decision_log_flush(log, d->time);
}

void
vigil_decision_log_add(VigilDecisionLog *log, VigilDecision *decision)
{
	char addr[INET6_ADDRSTRLEN];
	guint32 bucket = vigil_fair_bucket(decision->uid);
	UidBudget *budget;
	ProgramEntry *entry;

	decision->id = ++log->last_id;
	vigil_address_to_string(decision->family, &decision->dst, addr, sizeof addr);
	end_interval_if_due(log, decision->time);
	entry = find_program(log, decision, bucket);
	/* the entry's bucket, which /etc/subuid may have changed since: its pending list is there
	 */
	budget = find_budget(log, entry->bucket);
	count_for_program(entry, decision);
	if (line_allowed(log, budget, entry, decision))
		vigil_log_writer_decision(log->line, decision, addr);
	else
		suppress(log, budget, entry, decision, addr);
	vigil_decision_ring_add(log->ring, decision);
}

guint64
vigil_decision_log_last_id(VigilDecisionLog *log)
{
	return log->last_id;
}

guint
vigil_decision_log_n_programs(VigilDecisionLog *log)
{
	return g_hash_table_size(log->programs);
}

GPtrArray *
vigil_decision_log_recent(VigilDecisionLog *log)
{
	return vigil_decision_ring_recent(log->ring);
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
	while (g_hash_table_iter_next(&iter, (gpointer *)&entry, NULL)) {
		if (uid == G_MAXUINT32 || entry->key.uid == uid)
			g_ptr_array_add(out, &entry->stats);
	}
	g_ptr_array_sort(out, compare_stats);
	return out;
}
