/* vigil-attributor.h: flow -> socket (sock_diag) -> pid -> VigilProcess, without blocking */
#pragma once

#include <gio/gio.h>
#include "vigil-flow.h"
#include "vigil-process.h"

G_BEGIN_DECLS

typedef struct _VigilAttributor VigilAttributor;

/* @proc_root is "/proc" outside tests */
VigilAttributor *vigil_attributor_new(const char *proc_root, GError **error);
/* lookups still pending keep what they need and complete normally */
void vigil_attributor_free(VigilAttributor *attributor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilAttributor, vigil_attributor_free)

/*
 * Finds the process that owns the socket of @flow. Cheap cases (a socket of a recently
 * seen process, a cached executable hash) are answered on the calling thread; the rest
 * (sock_diag fallbacks, scanning the processes of the socket's uid, hashing a new executable)
 * runs in a worker thread; one /proc search runs at a time, so a burst of connections from a
 * new program costs one search.
 * The callback runs in the thread-default main context of the caller.
 * The result is NULL with no error when the process cannot be found ("unknown process"), or
 * when the process found is not of the socket's user (the socket's uid, which the kernel also
 * reports with the packet): a socket made before a setuid() or passed to another user is not
 * that process's. When other programs of that user hold the socket too (inherited or passed),
 * the result is a copy with VigilProcess.holders set; such a socket is never answered on the
 * fast path again.
 */
void vigil_attributor_lookup_async(VigilAttributor *attributor, const VigilFlow *flow,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
VigilProcess *vigil_attributor_lookup_finish(VigilAttributor *attributor, GAsyncResult *result,
                                             GError **error);
/* the cookie of the socket a finished lookup found (sock_diag's answer, or the kernel's
 * record): what names that very socket later (vigil-socket-watch.h); 0 when none was found */
guint64 vigil_attributor_lookup_cookie(GAsyncResult *result);

/* how a cached process is confirmed on the fast path */
typedef enum {
	/* no exec since it was read: everything in it is current (two system calls) */
	VIGIL_LOOKUP_EXACT,
	/* the same executable (one system call): an exec of the very same executable again
	 * goes unseen, so its cmdline may be stale; for callers that do not read it */
	VIGIL_LOOKUP_SAME_PROGRAM,
} VigilLookupCheck;

/*
 * Only the cheap case, on the calling thread, with no main-loop round trip: TRUE when the
 * process is answered from what is known (a recent process whose fds and stamp still fit, as
 * @check says), with a reference in *@process. FALSE otherwise (also on a failure): the caller
 * goes on with vigil_attributor_lookup_async(), which repeats the cheap part (always with
 * VIGIL_LOOKUP_EXACT) and reports any failure.
 */
gboolean vigil_attributor_lookup_fast(VigilAttributor *attributor, const VigilFlow *flow,
                                      VigilLookupCheck check, VigilProcess **process);
/* the same, with the cookie of the socket found in *@cookie when it answered (0: none) */
gboolean vigil_attributor_lookup_fast_cookie(VigilAttributor *attributor, const VigilFlow *flow,
                                             VigilLookupCheck check, VigilProcess **process,
                                             guint64 *cookie);

/* blocking variant of the above, for tests and tools */
VigilProcess *vigil_attributor_lookup(VigilAttributor *attributor, const VigilFlow *flow,
                                      GError **error);

/*
 * Remembers executable hashes in @path (in the state directory) across restarts; see
 * vigil_sha_cache_attach_file(). An error is only worth a warning: hashes are made again.
 */
gboolean vigil_attributor_set_hash_file(VigilAttributor *attributor, const char *path,
                                        GError **error);

/*
 * Lookups never hash: a process comes with its hash only when it is known already. When a rule
 * or a prompt needs it, this hashes @process's executable in a small pool of threads, one hash
 * per file at a time (parallel requests for the same file wait for that one), and answers a
 * copy of @process with sha256 set; later lookups of processes of that file get it too. Errors:
 * G_IO_ERROR_CANCELLED (@cancellable, or the attributor is being freed: the hash stops),
 * G_IO_ERROR_BUSY (too many files wait), WRONG_ETAG (the file or process changed), I/O errors.
 */
void vigil_attributor_hash_async(VigilAttributor *attributor, VigilProcess *process,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);
VigilProcess *vigil_attributor_hash_finish(VigilAttributor *attributor, GAsyncResult *result,
                                           GError **error);
/* the hash of @process's executable when the cache has it (no file is read), or NULL */
char *vigil_attributor_peek_hash(VigilAttributor *attributor, const VigilProcess *process);

/* blocking variant, for tests and tools */
VigilProcess *vigil_attributor_hash(VigilAttributor *attributor, VigilProcess *process,
                                    GError **error);

/*
 * Finds sockets in what the kernel recorded (vigil-ebpf.h) before looking in /proc: the task
 * that connected or sent, also when it has exited since. @ebpf must outlive the attributor's
 * lookups; NULL: /proc only.
 */
typedef struct _VigilEbpf VigilEbpf;
void vigil_attributor_set_ebpf(VigilAttributor *attributor, VigilEbpf *ebpf);

/* counters, for tests and the debug log */
typedef struct {
	guint64 lookups;
	guint64 fast;          /* answered on the calling thread */
	guint64 slow;          /* went to a worker thread */
	guint64 no_socket;     /* no socket had the flow's tuple */
	guint64 no_process;    /* a socket, but no process holding it */
	guint64 process_hits;  /* process info reused from the cache (its stamp still fits) */
	guint64 fd_guesses;    /* owners found at a former socket fd of a recent process */
	guint64 proc_searches; /* walks over /proc for processes of a uid */
	guint64 hashes;        /* executables read and hashed */
	guint64 hash_waits;    /* hash requests that waited for the same file's hash */
	guint64 kernel;        /* answered from the kernel's record (eBPF) */
} VigilAttributorStats;
void vigil_attributor_get_stats(VigilAttributor *attributor, VigilAttributorStats *stats);

G_END_DECLS
