/* vigil-dbus-args.h: D-Bus arguments checked before anything is done with them (pure, fuzzed) */
#pragma once

#include <gio/gio.h>

#include "vigil-config.h"
#include "vigil-decision-log.h"
#include "vigil-rule.h"

G_BEGIN_DECLS

/* sets @error to VIGIL_DBUS_ERROR_INVALID_ARGUMENT with the message; returns FALSE */
gboolean vigil_dbus_invalid(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* one key a dictionary argument may have */
typedef struct {
	const char *key;
	const char *type; /* a definite D-Bus type string, e.g. "s" */
	gsize max_len;    /* strings: the longest value in bytes; 0: no bound of its own */
} VigilDictKey;

/* a dictionary argument has at most this many kinds of key (a bitmask tracks them) */
#define VIGIL_DICT_MAX_KEYS 32

/*
 * Checks the a{sv} @dict against @keys (@n_keys of them, at most VIGIL_DICT_MAX_KEYS): every
 * key known, none twice, each value of its key's type, strings within their key's max_len.
 * Keys in @read_only (NULL-terminated, may be NULL) are known but refused as read-only.
 * Stops at the first problem: VIGIL_DBUS_ERROR_INVALID_ARGUMENT "@what: ..." naming the
 * key. Walks the dictionary once, holding one entry at a time; allocates nothing else.
 */
gboolean vigil_dbus_check_dict(GVariant *dict, const VigilDictKey *keys, gsize n_keys,
                               const char *const *read_only, const char *what, GError **error);

/* SetConfig(): what the dictionary sets, on top of the current settings */
typedef struct {
	VigilAction default_action;
	guint prompt_timeout;
	VigilFailMode fail_mode;
	/* the vigild.conf keys the call sets and their text, NULL-terminated */
	const char *keys[4];
	const char *values[4];
	char numbers[4][16]; /* the text of values[i] given as a number */
} VigilDBusSettings;

/* SetConfig(a{sv}): @out (borrows strings of @dict) from @dict over @current */
gboolean vigil_dbus_parse_settings(GVariant *dict, const VigilConfig *current,
                                   VigilDBusSettings *out, GError **error);

/* GetConnections(a{sv}): which decisions a caller of @caller_uid asked for */
typedef struct {
	const char *program; /* borrowed from the dictionary */
	gboolean has_verdict;
	VigilAction verdict;
	gint64 since;
	gint64 until; /* 0: no bound */
	gboolean history; /* the history on disk, not the ring */
	guint64 after;
	gboolean has_uid;
	guint32 uid;
	guint32 limit;
	gboolean oldest; /* with limit: the oldest, not the newest */
} VigilDBusFilter;

/* a caller other than root always gets its own uid in the filter (PermissionDenied else) */
gboolean vigil_dbus_parse_filter(GVariant *dict, guint32 caller_uid, VigilDBusFilter *filter,
                                 GError **error);
gboolean vigil_dbus_filter_matches(const VigilDBusFilter *filter, const VigilDecision *decision,
                                   guint64 id);

/* GetProgramHistory(a{sv}) and GetTimeline(a{sv}): which part of the history */
typedef struct {
	gint64 since;
	gint64 until; /* 0: now */
	gboolean has_uid;
	guint32 uid;
	const char *program; /* GetTimeline: borrowed; "" for the unknown process; NULL: any */
	const char *sort;    /* GetProgramHistory: a VIGIL_STATS_SORT_* name */
	guint32 limit;
	guint32 interval; /* GetTimeline: seconds */
} VigilDBusRange;

/* a caller other than root always gets its own uid (PermissionDenied else); @now_us (unix µs)
 * bounds a timeline without until */
gboolean vigil_dbus_parse_program_history(GVariant *dict, guint32 caller_uid, VigilDBusRange *range,
                                          GError **error);
gboolean vigil_dbus_parse_timeline(GVariant *dict, guint32 caller_uid, gint64 now_us,
                                   VigilDBusRange *range, GError **error);

G_END_DECLS
