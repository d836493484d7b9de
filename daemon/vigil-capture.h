/* vigil-capture.h: packet capture on request: the copies of flows that capture rules allowed,
 * written to pcapng files in a root-only directory of vigild's own */
#pragma once

#include <gio/gio.h>
#include "vigil-flow.h"

G_BEGIN_DECLS

/*
 * The NFLOG group vigild's netfilter rules copy the packets of capture-marked flows to
 * (vigil-netfilter.h): both directions, each flow only until conntrack counted
 * CaptureFlowSize bytes of it, so the kernel never copies more than that per flow.
 */
#define VIGIL_CAPTURE_NFLOG_GROUP 53054
/* the longest copy of one packet (an offloaded TCP segment may be 64 KiB) */
#define VIGIL_CAPTURE_SNAPLEN 65535
/* flows recorded at once; a capture rule's flow beyond that is allowed, not recorded */
#define VIGIL_CAPTURE_MAX_FLOWS 1024
/* capture files kept; beyond that no new one is made (vigilctl capture rm) */
#define VIGIL_CAPTURE_MAX_FILES 4096
/* a flow with no copy for this long is closed (its file is complete) */
#define VIGIL_CAPTURE_IDLE_US (120 * G_USEC_PER_SEC)

typedef struct {
	guint64 flow_bytes;  /* IP bytes per flow, both directions together */
	guint64 total_bytes; /* all capture files together; 0: capture is off */
} VigilCaptureLimits;

typedef struct {
	guint64 flows;      /* flows recorded (files made) */
	guint64 packets;    /* packets written */
	guint64 unexpected; /* copies of no flow being recorded: ignored */
	guint64 refused;    /* capture flows not recorded (a bound, a write error) */
} VigilCaptureStats;

typedef struct _VigilCapture VigilCapture;

/*
 * Opens (creating it, mode 0700, owned by vigild) the directory @dir for the capture files,
 * counting what earlier files there take against the total. Files are named by vigild
 * alone: capture-NNNNNN.pcapng, mode 0600.
 */
VigilCapture *vigil_capture_new(const char *dir, const VigilCaptureLimits *limits, GError **error);
void vigil_capture_free(VigilCapture *capture);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilCapture, vigil_capture_free)

/* reads the copies of group VIGIL_CAPTURE_NFLOG_GROUP; fails when another logger has it */
gboolean vigil_capture_start(VigilCapture *capture, GError **error);

/*
 * @flow (as queued: from this host) is allowed by capture rule @rule_id: its packets are to be
 * recorded. TRUE when they will be: the caller then sets the capture bit with the verdict.
 * FALSE (logged once per cause) when capture is off or a bound is reached.
 * @description (any text) goes into the file's section comment.
 */
gboolean vigil_capture_expect(VigilCapture *capture, const VigilFlow *flow,
                              const char *description);

/* one copied packet (from the IP header), seen at @time_us (unix µs) */
void vigil_capture_handle_packet(VigilCapture *capture, const guint8 *data, gsize len,
                                 gint64 time_us);

/* closes flows idle since @now_us - VIGIL_CAPTURE_IDLE_US (monotonic) */
void vigil_capture_expire(VigilCapture *capture, gint64 now_us);

/*
 * The capture files, oldest first, as aa{sv}: id (t), size (t), time (x, unix seconds of the
 * file's last change), recording (b), description (s, the file's section comment).
 */
GVariant *vigil_capture_list(VigilCapture *capture);

/* removes capture file @id (ending its recording); G_IO_ERROR_NOT_FOUND when there is none */
gboolean vigil_capture_remove(VigilCapture *capture, guint64 id, GError **error);

void vigil_capture_get_stats(VigilCapture *capture, VigilCaptureStats *stats);

G_END_DECLS
