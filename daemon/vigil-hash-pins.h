/* vigil-hash-pins.h: a rule made while its program's hash was still being computed pins that
 * hash once it is made */
#pragma once

#include <glib.h>

#include "vigil-process.h"
#include "vigil-rule-store.h"

G_BEGIN_DECLS

/*
 * A prompt about a big executable is raised before its SHA-256 is made (hash-pending), and a
 * rule made from the answer then names the program by its path alone. The hash goes on in the
 * pool; once the cache has it for the very file the prompt was about (device, inode, size,
 * mtime, ctime), the rule gets it: from then on it matches those contents only, as a rule made
 * with the hash known would, and a changed program is asked about again. A rule removed or
 * edited meanwhile is left as it is; a hash not made within VIGIL_HASH_PINS_PATIENCE_S (the
 * file changed, so its hash is keyed otherwise, or it could not be read) is given up on, and
 * logged: that rule keeps naming the program by its path. At most VIGIL_HASH_PINS_MAX pins
 * wait, shared fairly per user (vigil-fair.h); beyond, the oldest pin of the user holding the
 * most is given up on (logged), so one user's prompts never push out another user's pins.
 */
#define VIGIL_HASH_PINS_MAX        64
#define VIGIL_HASH_PINS_PATIENCE_S (30 * 60)

typedef struct _VigilHashPins VigilHashPins;

/* the hash of @process's executable when it is known, without reading any file; or NULL */
typedef char *(*VigilHashPeek)(const VigilProcess *process, gpointer user_data);
/* rules were pinned (the caller acts on changed rules) */
typedef void (*VigilHashPinsChanged)(gpointer user_data);

VigilHashPins *vigil_hash_pins_new(VigilRuleStore *store, VigilHashPeek peek,
                                   VigilHashPinsChanged changed, gpointer user_data);
void vigil_hash_pins_free(VigilHashPins *pins);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilHashPins, vigil_hash_pins_free)

/* the learned rule @rule_id was made for @process, whose hash was still being computed; it is
 * looked for every second */
void vigil_hash_pins_add(VigilHashPins *pins, guint64 rule_id, const VigilProcess *process);

/* looks now (monotonic @now_us); returns how many rules got their hash */
guint vigil_hash_pins_check(VigilHashPins *pins, gint64 now_us);

guint vigil_hash_pins_count(VigilHashPins *pins);

G_END_DECLS
