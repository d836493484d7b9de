/* vigil-upgrades.h: rules pinned to a program's sha256 follow the upgrades dpkg vouches for */
#pragma once

#include <gio/gio.h>

#include "vigil-process.h"
#include "vigil-rule-store.h"

G_BEGIN_DECLS

/*
 * A learned rule pinned to a sha256 (a prompt's answer makes such rules) stops matching when
 * its program is upgraded. vigild remembers which Debian package installed each pinned file
 * (checked against the dpkg database when the pin is first seen, off the main thread), and when
 * a process runs a file of another content than its rules' pin, checks (off the main thread)
 * whether that file is the one the same package installed now; if so the rules' pin moves to the
 * new hash, ids and counters kept. Tables keyed by paths and packages are bounded; results are
 * cached per file (device, inode, mtime, ctime, size).
 */
typedef struct _VigilUpgrades VigilUpgrades;

typedef void (*VigilUpgradesFunc)(gpointer user_data);

/*
 * @info_dir: the dpkg database (VIGIL_DPKG_INFO_DIR); @state_path: where the packages of pinned
 * files are kept across restarts (beside the learned rules); @moved is called after rules
 * moved (the caller emits RulesChanged).
 */
VigilUpgrades *vigil_upgrades_new(VigilRuleStore *store, const char *info_dir,
                                  const char *state_path, VigilUpgradesFunc moved,
                                  gpointer user_data);
void vigil_upgrades_free(VigilUpgrades *upgrades);

/* the rules changed: pins not seen before get their package looked up, in the background */
void vigil_upgrades_rules_changed(VigilUpgrades *upgrades);

/*
 * @process (its sha256 known) runs a file whose rules pin another hash. When a check of that
 * file against its package is worth waiting for, starts or joins it and returns TRUE: @callback
 * runs in the main loop when it is done (the rules moved or not). FALSE: go on now (nothing to
 * check, or a result known already: then the rules have moved if it was verified).
 */
gboolean vigil_upgrades_follow(VigilUpgrades *upgrades, const VigilProcess *process,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
void vigil_upgrades_follow_finish(GAsyncResult *result);

/*
 * Why @process's rules for @uid that pin another hash were not moved: "not-from-package",
 * "checksum-differs" or "not-packaged" (the pinned file was not known as a package's), or
 * "not-checked" (the check still runs and too many connections of @uid's user wait for checks),
 * with the package in @package when one was recorded; NULL when no such rule exists or no
 * reason is known yet.
 */
const char *vigil_upgrades_reason(VigilUpgrades *upgrades, const VigilProcess *process, guint32 uid,
                                  const char **package);

G_END_DECLS
