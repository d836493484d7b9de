/* vigil-process-taint.h: signs that a process may run code its executable does not hold */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The adversary runs with the user's uid, so it may put its code into a program the user
 * allowed: by tracing it (ptrace, which also gives /proc/PID/mem) or by starting it with a
 * library to preload. Either shows in /proc while it lasts; Vigil reads both once, when a
 * process is first attributed, and shows them in prompts and the log. A hint, not a proof:
 * a tracer may detach before the connection, and preloaded code may erase the variable.
 */
typedef enum {
	VIGIL_TAINT_TRACED = 1 << 0,  /* TracerPid in /proc/PID/status is not 0 */
	VIGIL_TAINT_PRELOAD = 1 << 1, /* LD_PRELOAD or LD_AUDIT, not empty, in /proc/PID/environ
	                               * (or an environment too large to read to its end) */
} VigilTaint;

/* environments larger than this are not read further, and count as preloading */
#define VIGIL_TAINT_ENVIRON_MAX (1024 * 1024)

/*
 * Reads the taint of the process whose /proc directory is @pid_dir (an fd), and the pid of
 * its tracer into @tracer_pid (0: none). Unreadable files count as no taint: the process
 * may have gone, and then nothing is decided for it anyway.
 */
guint vigil_process_taint_read(int pid_dir, guint32 *tracer_pid);
/* the same without the environment, which waits for the process's mmap lock (a process can
 * hold it for ever: vigil-fair-pool.h): only VIGIL_TAINT_TRACED, for the main loop */
guint vigil_process_taint_read_traced(int pid_dir, guint32 *tracer_pid);

/* pure: the TracerPid of a /proc/PID/status text, 0 when absent or malformed */
guint32 vigil_process_taint_tracer_from_status(const char *status_text);

/*
 * Scans an environment (NUL-separated entries, as /proc/PID/environ gives them) in pieces:
 * a scanner is zeroed, fed every piece in order, then finished.
 */
typedef struct {
	char prefix[12]; /* the start of the current entry */
	guint prefix_len;
	gboolean preload;
} VigilEnvironScan;
void vigil_environ_scan_feed(VigilEnvironScan *scan, const char *data, gsize len);
gboolean vigil_environ_scan_finish(VigilEnvironScan *scan);

G_END_DECLS
