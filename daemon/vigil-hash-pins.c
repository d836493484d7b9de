/* vigil-hash-pins.c: rules made while their program's hash was being computed get it later */
#define G_LOG_DOMAIN "vigil-hash-pins"
#include "config.h"

#include "vigil-hash-pins.h"

#define CHECK_INTERVAL_S 1

typedef struct {
	guint64 rule_id;
	VigilProcess *file; /* the executable the prompt was about: path and file identity */
	gint64 added_us;
} Pin;

struct _VigilHashPins {
	VigilRuleStore *store;
	VigilHashPeek peek;
	VigilHashPinsChanged changed;
	gpointer user_data;
	GQueue pins; /* of Pin, oldest first */
	guint source;
};

static void
pin_free(Pin *pin)
{
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
	return pins;
}

void
vigil_hash_pins_free(VigilHashPins *pins)
{
	if (pins == NULL)
		return;
	g_clear_handle_id(&pins->source, g_source_remove);
	g_queue_clear_full(&pins->pins, (GDestroyNotify)pin_free);
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
	Pin *pin;

	g_return_if_fail(process != NULL && process->exe != NULL);
	if (pins->pins.length >= VIGIL_HASH_PINS_MAX) {
		Pin *old = g_queue_pop_head(&pins->pins);

		g_message("rule %" G_GUINT64_FORMAT " keeps naming %s by its path: too many rules "
		          "wait for their program's hash",
		          old->rule_id, old->file->exe);
		pin_free(old);
	}
	pin = g_new0(Pin, 1);
	pin->rule_id = rule_id;
	pin->file = file_of(process);
	pin->added_us = g_get_monotonic_time();
	g_queue_push_tail(&pins->pins, pin);
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
		if (check_pin(pins, l->data, now_us, &pinned)) {
			pin_free(l->data);
			g_queue_delete_link(&pins->pins, l);
		}
	}
	if (pinned > 0 && pins->changed != NULL)
		pins->changed(pins->user_data);
	return pinned;
}
