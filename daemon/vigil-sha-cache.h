/* vigil-sha-cache.h: SHA-256 of executables, cached, hashed in a pool of threads that take turns */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _VigilShaCache VigilShaCache;

/*
 * SHA-256 of executables, cached by (dev, inode, size, mtime, ctime); thread-safe. A file is
 * hashed once at a time: whoever asks while it is hashed waits for that result. Asynchronous
 * requests run in a small pool of threads that take turns: each turn hashes 8 MiB of one file,
 * users take turns round robin (one turn of a user's at a time), and files someone waits for go
 * before files no one waits for any more. A bounded number of files may wait (at most 4 of one
 * user's). Files are opened and read only in the pool: a FUSE server may never answer.
 */
/* an asynchronous caller waits for a hash only while at most this much is left to read: about
 * 2 s of hashing on a slow machine, within a connection's deadline */
#define VIGIL_SHA_CACHE_WAIT_MAX (G_GINT64_CONSTANT(512) * 1024 * 1024)
VigilShaCache *vigil_sha_cache_new(guint max_entries);
/* stops hashes in progress (within one read) and waits for the pool's threads; with a turn
 * stuck in a read that never returns (vigil_sha_cache_stop()), the cache is left behind */
void vigil_sha_cache_free(VigilShaCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilShaCache, vigil_sha_cache_free)
/* hashes in progress stop (within one read of 64 KiB; it waits for that, 2 s at most: a read a
 * FUSE server never answers is left behind), waiting ones end at once, new ones are refused
 * (CANCELLED) */
void vigil_sha_cache_stop(VigilShaCache *cache);
/* whether a stop left a hash behind in a read that did not return (any cache): at exit */
gboolean vigil_sha_cache_left_behind(void);
/*
 * Remembers hashes in @path across restarts: loads it now, and rewrites it atomically (mode
 * 0600, most recently used first, at most max_entries lines) after each new hash. A file that
 * is too big, of another version, or unreadable is ignored with an error (it is replaced at the
 * next save); malformed lines are skipped with a warning. Not finding it is no error.
 */
gboolean vigil_sha_cache_attach_file(VigilShaCache *cache, const char *path, GError **error);
/* the hash of that file identity when known, without reading any file; or NULL */
char *vigil_sha_cache_peek(VigilShaCache *cache, dev_t dev, ino_t ino, gint64 size, gint64 mtime,
                           gint64 ctime);
/*
 * Hashes through @path (e.g. /proc/PID/exe, which works for deleted files too), on the calling
 * thread (or waits for the thread that hashes it already). @dev, @ino, @mtime (ns) and @size
 * are what the caller saw; the cache stats @path again and also keys on the ctime, which unlike
 * the mtime cannot be set back by the file's owner. If the file is no longer what the caller
 * saw (replaced, or a pid reused), the error is G_IO_ERROR_WRONG_ETAG.
 */
char *vigil_sha_cache_get(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino,
                          gint64 mtime, gint64 size, GError **error);
/*
 * The same in the pool, answered in the caller's thread-default main context; the file is
 * opened in the pool, never here (only pinned, O_PATH: the process may be gone by then), and
 * must still be the one (with @ctime too) the caller saw.
 * @ctime lets a known hash be answered without opening the file; @uid is the user it is
 * hashed for (the
 * process's), whose turns it takes. Errors as above, and G_IO_ERROR_BUSY when too many files
 * wait for a hash, or 4 of that user's do already (one user never fills the queue for the
 * others), G_IO_ERROR_PENDING at once when more than VIGIL_SHA_CACHE_WAIT_MAX of the file is
 * left to hash (it is hashed on for the cache: a later request may find it made),
 * G_IO_ERROR_CANCELLED when @cancellable fires (the hash goes on for others and for the cache) or
 * the cache stops.
 */
void vigil_sha_cache_get_async(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino,
                               gint64 mtime, gint64 size, gint64 ctime, guint32 uid,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
char *vigil_sha_cache_get_finish(VigilShaCache *cache, GAsyncResult *result, GError **error);

/* counters for tests and the debug log */
typedef struct {
	guint64 hits;    /* answered from the cache */
	guint64 misses;  /* not in the cache when asked (a hash, or a wait for one) */
	guint64 hashes;  /* files read and hashed (started) */
	guint64 joined;  /* requests that waited for a hash already running */
	guint64 refused; /* asynchronous requests beyond the bound */
	guint64 pending; /* asynchronous requests answered at once: too much left to hash */
} VigilShaCacheStats;
/* tests: files of a few MiB stand for big ones */
void vigil_sha_cache_set_wait_max(VigilShaCache *cache, gint64 bytes);
void vigil_sha_cache_get_counters(VigilShaCache *cache, VigilShaCacheStats *stats);
void vigil_sha_cache_get_stats(VigilShaCache *cache, guint64 *hits, guint64 *misses);

G_END_DECLS
