/* vigil-blocked-notices.h: how often a user is told that a rule blocked a connection (pure) */
#pragma once

#include "vigil-decision-log.h"

G_BEGIN_DECLS

/* at most one notice per user, program and destination a minute */
#define VIGIL_BLOCKED_NOTICE_INTERVAL_US (60 * G_USEC_PER_SEC)
/* the (user, program, destination) remembered; past it, the table starts again */
#define VIGIL_BLOCKED_NOTICE_MAX_KEYS 1024

typedef struct _VigilBlockedNotices VigilBlockedNotices;

VigilBlockedNotices *vigil_blocked_notices_new(void);
void vigil_blocked_notices_free(VigilBlockedNotices *notices);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilBlockedNotices, vigil_blocked_notices_free)

/*
 * TRUE when the user of @decision is to be told of it at @now_us (monotonic): its program
 * and destination were not told in the last interval. A TRUE is counted as told.
 */
gboolean vigil_blocked_notices_due(VigilBlockedNotices *notices, const VigilDecision *decision,
                                   gint64 now_us);

G_END_DECLS
