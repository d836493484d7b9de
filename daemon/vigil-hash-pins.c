/* vigil-hash-pins.c: rules made while their program's hash was being computed get it later */
#define G_LOG_DOMAIN "vigil-hash-pins"
#include "config.h"

#include "vigil-hash-pins.h"

#include "vigil-fair.h"
#include "vigil-uid-queues.h"

#define CHECK_INTERVAL_S 1

typedef struct {
	guint64 rule_id;
	VigilProcess *file; /* the executable the prompt was about: path and file identity */
	gint64 added_us;
	GList link;          /* in pins->pins */
	GList bucket_link;   /* in its user's queue of pins->buckets, oldest first */
	VigilUidQueue *user; /* the fairness bucket of the prompt's user */
} Pin;

struct _VigilHashPins {
	VigilRuleStore *store;
	VigilHashPeek peek;
	VigilHashPinsChanged changed;
	gpointer user_data;
	GQueue pins;             /* of Pin, oldest first */
	VigilUidQueues *buckets; /* of Pin, per fairness bucket (vigil-fair.h) */
	guint source;
};

/* off both lists, and freed */
static void
pin_drop(VigilHashPins *pins, Pin *pin)
{
	g_queue_unlink(&pins->pins, &pin->link);
	vigil_uid_queues_unlink(pins->buckets, pin->user, &pin->bucket_link);
	vigil_process_unref(pin->file);
	g_free(pin);
}

VigilHashPins *
vigil_hash_pins_new(VigilRuleStore *store, VigilHashPeek peek, VigilHashPinsChanged changed,
                    gpointer user_data)
{
	VigilHashPins *pins = g_new0(VigilHashPins, 1);

	pins->store = store;
	pins->peek = peek;
	pins->changed = changed;
	pins->user_data = user_data;
	g_queue_init(&pins->pins);
	pins->buckets = vigil_uid_queues_new();
	return pins;
}

void
vigil_hash_pins_free(VigilHashPins *pins)
{
	if (pins == NULL)
		return;
	g_clear_handle_id(&pins->source, g_source_remove);
	while (pins->pins.head != NULL)
		pin_drop(pins, pins->pins.head->data);
	vigil_uid_queues_free(pins->buckets);
	g_free(pins);
}

guint
vigil_hash_pins_count(VigilHashPins *pins)
{
	return pins->pins.length;
}

static gboolean
on_check(gpointer data)
{
	VigilHashPins *pins = data;

	vigil_hash_pins_check(pins, g_get_monotonic_time());
	if (pins->pins.length > 0)
		return G_SOURCE_CONTINUE;
	pins->source = 0;
	return G_SOURCE_REMOVE;
}

/* only what the file is known by: the path, and the identity its hash is keyed on */
static VigilProcess *
file_of(const VigilProcess *process)
{
	VigilProcess *file = vigil_process_new();

	file->pid = process->pid;
	file->uid = process->uid;
	file->exe = g_strdup(process->exe);
	file->exe_dev = process->exe_dev;
	file->exe_ino = process->exe_ino;
	file->exe_size = process->exe_size;
	file->exe_mtime = process->exe_mtime;
	file->exe_ctime = process->exe_ctime;
	return file;
}

void
vigil_hash_pins_add(VigilHashPins *pins, guint64 rule_id, const VigilProcess *process)
{
	guint32 bucket;
	Pin *pin;

	g_return_if_fail(process != NULL && process->exe != NULL);
	bucket = vigil_fair_bucket(process->uid);
	if (pins->pins.length >= VIGIL_HASH_PINS_MAX) {
		/* the oldest of the user holding the most (this one's, when it is among them):
		 * one user's prompts never push out another user's pins */
		VigilUidQueue *most = vigil_uid_queues_longest(
		    pins->buckets, vigil_uid_queues_lookup(pins->buckets, bucket));
		Pin *old = most->items.head->data;

		g_message("rule %" G_GUINT64_FORMAT " keeps naming %s by its path: too many rules "
		          "wait for their program's hash",
		          old->rule_id, old->file->exe);
		pin_drop(pins, old);
	}
	pin = g_new0(Pin, 1);
	pin->rule_id = rule_id;
	pin->file = file_of(process);
	pin->added_us = g_get_monotonic_time();
	pin->link.data = pin;
	pin->bucket_link.data = pin;
	pin->user = vigil_uid_queues_get(pins->buckets, bucket);
	g_queue_push_tail_link(&pins->pins, &pin->link);
	g_queue_push_tail_link(&pin->user->items, &pin->bucket_link);
	if (pins->source == 0)
		pins->source = g_timeout_add_seconds(CHECK_INTERVAL_S, on_check, pins);
}

/* TRUE when @pin is done with: pinned, or nothing left to pin */
static gboolean
check_pin(VigilHashPins *pins, Pin *pin, gint64 now_us, guint *pinned)
{
	VigilRule *rule =
	    vigil_ruleset_lookup(vigil_rule_store_get_ruleset(pins->store), pin->rule_id);
	g_autofree char *sha256 = NULL;
	g_autoptr(VigilRule) pinned_rule = NULL;
	g_autoptr(GError) error = NULL;

	/* removed or edited since (another program, or a hash given): the user's rule now */
	if (rule == NULL || rule->sha256 != NULL || g_strcmp0(rule->program, pin->file->exe) != 0)
		return TRUE;
	sha256 = pins->peek(pin->file, pins->user_data);
	if (sha256 == NULL) {
		if (now_us - pin->added_us < (gint64)VIGIL_HASH_PINS_PATIENCE_S * G_USEC_PER_SEC)
			return FALSE;
		g_message("rule %" G_GUINT64_FORMAT " keeps naming %s by its path: the hash of the "
		          "file it was made for was not made (the file changed, or was unreadable)",
		          pin->rule_id, pin->file->exe);
		return TRUE;
	}
	pinned_rule = vigil_rule_copy(rule);
	g_free(pinned_rule->sha256);
	pinned_rule->sha256 = g_steal_pointer(&sha256);
	if (!vigil_rule_store_replace_learned(pins->store, pin->rule_id, pinned_rule, &error)) {
		g_warning("rule %" G_GUINT64_FORMAT
		          " could not be pinned to its program's hash: %s",
		          pin->rule_id, error->message);
		return TRUE;
	}
	g_message("rule %" G_GUINT64_FORMAT " now pins the hash of %s (sha256 %s), made after the "
	          "answer",
	          pin->rule_id, pin->file->exe, pinned_rule->sha256);
	(*pinned)++;
	return TRUE;
}

guint
vigil_hash_pins_check(VigilHashPins *pins, gint64 now_us)
{
	guint pinned = 0;

	for (GList *l = pins->pins.head, *next; l != NULL; l = next) {
		next = l->next;
		if (check_pin(pins, l->data, now_us, &pinned))
			pin_drop(pins, l->data);
	}
	if (pinned > 0 && pins->changed != NULL)
		pins->changed(pins->user_data);
	return pinned;
}
