/* vigil-fair.h: whom a uid's use of a shared bound counts against (its fairness bucket) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Every bound that users share fairly (log budgets, recent history, DNS queues, hash turns,
 * held packets, polkit checks, agents' prompt calls, socket records) counts per bucket, not
 * per kernel uid: one user may own many uids (subordinate uids from /etc/subuid, used by
 * rootless containers and `newuidmap`), and must not count as many users. The bucket of a uid:
 * - the owner's uid when the uid lies in a range of /etc/subuid (an owner the file names by a
 *   user name that /etc/passwd does not have, puts its range in the unknown bucket; ranges
 *   root owns, for its containers, share VIGIL_FAIR_ROOT_RANGES: root's own share, which
 *   some bounds keep aside for root, is for uid 0 alone);
 * - VIGIL_FAIR_UNKNOWN for a uid with no user: not in /etc/passwd, and the user database
 *   answered "no such user" when vigild last asked (uids nobody has an account for, e.g.
 *   someone's container uids without a subuid entry, all share one bucket);
 * - else the uid itself.
 * Rules, prompts, agents and what a user may see still go by the real uid: this is only
 * about shares of bounds. The files are read again when they change (checked at most once a
 * second), at most VIGIL_FAIR_MAX_RANGES ranges and VIGIL_FAIR_MAX_USERS users of each; a
 * table keeps the bucket an item was counted under (a file may change meanwhile).
 */
#define VIGIL_FAIR_UNKNOWN     ((guint32)0xfffffffeu) /* below "no uid" (G_MAXUINT32) */
#define VIGIL_FAIR_ROOT_RANGES ((guint32)0xfffffffdu) /* uids of root's subordinate ranges */
#define VIGIL_FAIR_MAX_RANGES  4096
#define VIGIL_FAIR_MAX_USERS   65536

/* the bucket of @uid; G_MAXUINT32 ("no uid" in vigild's tables) stays itself. Any thread. */
guint32 vigil_fair_bucket(guint32 uid);

/* the subordinate-uid file to read instead of /etc/subuid (vigild's --subuid-file, for tests);
 * NULL: the default. Call before the first vigil_fair_bucket(). */
void vigil_fair_set_subuid_path(const char *path);
/* the same for /etc/passwd (unit tests) */
void vigil_fair_set_passwd_path(const char *path);

/* a subordinate range as the bucket tables hold it (for the kernel's copy, vigil-ebpf.c) */
typedef struct {
	guint64 start;
	guint64 end; /* exclusive */
	guint32 bucket;
} VigilFairRange;

/*
 * What the buckets come from now, for a copy outside this file (the eBPF programs count their
 * shares by bucket too): the subordinate ranges (VigilFairRange, sorted by start) and the uids
 * of /etc/passwd (guint32). Returns a number that changes whenever they do; with @ranges and
 * @users NULL, only that number. Any thread.
 */
guint64 vigil_fair_get_tables(GArray **ranges, GArray **users);

/* how many subordinate ranges are known (tests) */
guint vigil_fair_n_ranges(void);

G_END_DECLS
