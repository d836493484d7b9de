/* vigil-logging.h: where vigild's log lines go: stderr in batches, the journal, or syslog */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Makes vigild's writer the process's GLib log writer: with @to_stderr (the foreground, a
 * terminal) each line goes to stderr with a timestamp; else to the journal when there is
 * one, else to syslog. Control characters in a message are written as \xNN, so no message
 * spans two lines. Call once, first thing in main().
 */
void vigil_logging_init(gboolean to_stderr);
/* the most verbose level written (G_LOG_LEVEL_INFO until called) */
void vigil_logging_set_max_level(GLogLevelFlags level);
/*
 * On stderr, from now on info and debug lines gather in a buffer that the default main
 * context writes out a few milliseconds after the first of them (one write() per decision
 * costs about as much as deciding); a more important line flushes it at once, in order.
 * Does nothing when the lines go to the journal or syslog.
 */
void vigil_logging_start_batching(void);
/* writes out what is buffered (also done at exit) */
void vigil_logging_flush(void);

G_END_DECLS
