/* vigil-sha-cache.c: SHA-256 of executables by file identity: one hash per file at a time, in a
 * small pool of threads taking turns per user, remembered in a bounded file across restarts */
#define G_LOG_DOMAIN "vigil-sha-cache"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-fair.h"
#include "vigil-fuse.h"
#include "vigil-sha-cache.h"

#define READ_CHUNK (64 * 1024)
/*
 * Threads of the pool, and at most one turn of each user's in one at a time. A file is opened
 * and read there, never on the main loop: a FUSE server (a program of a user's) may leave an
 * open() or read() unanswered for ever. Such a user holds one thread; it takes this many such
 * users to stall hashing for all (connections are then decided at their deadline, without the
 * hash, as with any hash not made in time).
 */
#define HASH_THREADS 8
/* what vigil_sha_cache_stop() waits for a turn in progress before it leaves it behind */
#define STOP_WAIT_US (2 * G_USEC_PER_SEC)
#define JOBS_MAX     64 /* distinct files waiting for a hash; beyond, a request is refused */
#define JOBS_PER_UID 4  /* of them, one user's: one user cannot fill the table */
/* a worker hashes this much of one file, then the next user's file gets its turn: a user's
 * big files delay another user's hash by one turn, not by whole hashes */
#define TURN_BYTES (8 * 1024 * 1024)
/* no executable is that big; a (sparse) file that is would only hold a worker for hours */
#define HASH_MAX_BYTES (G_GINT64_CONSTANT(4) * 1024 * 1024 * 1024)
#define SHA256_HEX     64
#define STORE_HEADER   "# vigil executable hashes v1: dev inode size mtime-ns ctime-ns sha256"
/* a line: five numbers of at most 20 digits, the hash, separators */
#define STORE_LINE_MAX (5 * 21 + SHA256_HEX + 1)

/* the ctime is part of the key: an owner can set the mtime back, not the ctime */
typedef struct {
	dev_t dev;
	ino_t ino;
	gint64 size;
	gint64 mtime_ns;
	gint64 ctime_ns;
} FileKey;

typedef struct {
	FileKey key;
	char *sha256;
	GList *lru_link; /* in cache->lru, most recent at the head */
} Entry;

typedef struct _Job Job;

/* one caller of vigil_sha_cache_get_async() waiting for a job (g_atomic_rc_box) */
typedef struct {
	GTask *task; /* until it is returned; guarded by cache->lock */
	Job *job;    /* while it waits; guarded by cache->lock */
	VigilShaCache *cache;
} Waiter;

/* one file being hashed; everyone who asks for it meanwhile waits for this one result
 * (g_atomic_rc_box) */
struct _Job {
	FileKey key;
	int fd; /* what is hashed: the file the key was read from */
	/* asynchronous jobs: the file, held from the request on (O_PATH, which opens nothing:
	 * no file system is asked) so that it is still there when the pool opens it, though the
	 * process that ran it (its /proc/PID/exe) is gone by then; -1 once opened */
	int pin_fd;
	char *path;
	GList *waiters;    /* of Waiter*, guarded by cache->lock */
	guint blocking;    /* callers of vigil_sha_cache_get() on it, guarded by cache->lock */
	guint32 uid;       /* the fairness bucket of the uid that asked first (vigil-fair.h) */
	gboolean counted;  /* in its user's count while in the jobs table */
	GList queue_link;  /* in its user's queue while it waits for a turn; guarded */
	gboolean queued;   /* guarded */
	GChecksum *state;  /* the hash so far: only the thread taking its turn touches it */
	gint64 offset;     /* bytes hashed so far, guarded (written at the end of a turn) */
	gint64 started_us; /* when its first turn began */
	gboolean done;     /* guarded by cache->lock; then sha256 or error is set */
	char *sha256;
	GError *error;
};

/* one user's files waiting for a turn of the pool */
typedef struct {
	guint32 uid;
	guint jobs;      /* its files in cache->jobs, waiting or not */
	gboolean busy;   /* one of its files takes a turn in a thread now */
	GQueue waiting;  /* of Job (queue_link), in the order of their turns */
	GList ring_link; /* in cache->ring while @waiting is not empty */
	gboolean in_ring;
} UserQueue;

struct _VigilShaCache {
	GMutex lock;
	GCond done_cond;     /* a job finished (for blocking callers waiting on it) */
	GHashTable *entries; /* FileKey* -> Entry* (the key lives in the entry) */
	GQueue lru;          /* of Entry* */
	GHashTable *jobs;    /* FileKey* -> Job* (the key lives in the job) */
	GHashTable *users;   /* uid -> UserQueue* of users with files in @jobs */
	GQueue ring;         /* of UserQueue with files waiting, in the order of their turns */
	GThreadPool *pool;   /* made at the first asynchronous request; one task per turn */
	guint max_entries;
	gint64 wait_max; /* VIGIL_SHA_CACHE_WAIT_MAX, smaller in tests */
	gint stopping;   /* atomic: hashes in progress stop, new ones are refused */
	guint running;   /* turns in progress, guarded by @lock */
	gboolean stuck;  /* a turn did not end when stopping: the cache cannot be freed */
	char *store_path;
	GMutex store_lock; /* one save at a time, each of a fresh snapshot */
	VigilShaCacheStats stats;
};

static guint
file_key_hash(gconstpointer data)
{
	const FileKey *key = data;
	guint64 h = (guint64)key->dev * 1099511628211ULL ^ (guint64)key->ino;
	h = h * 1099511628211ULL ^ (guint64)key->mtime_ns;
	h = h * 1099511628211ULL ^ (guint64)key->ctime_ns;
	h = h * 1099511628211ULL ^ (guint64)key->size;
	return (guint)(h ^ (h >> 32));
}

static gboolean
file_key_equal(gconstpointer a, gconstpointer b)
{
	const FileKey *x = a;
	const FileKey *y = b;
	return x->dev == y->dev && x->ino == y->ino && x->size == y->size &&
	       x->mtime_ns == y->mtime_ns && x->ctime_ns == y->ctime_ns;
}

static void
entry_free(gpointer data)
{
	Entry *entry = data;
	g_free(entry->sha256);
	g_free(entry);
}

static gint64
timespec_ns(const struct timespec *ts)
{
	return (gint64)ts->tv_sec * G_GINT64_CONSTANT(1000000000) + ts->tv_nsec;
}

static void
file_key_from_stat(FileKey *key, const struct stat *st)
{
	key->dev = st->st_dev;
	key->ino = st->st_ino;
	key->size = st->st_size;
	key->mtime_ns = timespec_ns(&st->st_mtim);
	key->ctime_ns = timespec_ns(&st->st_ctim);
}

static void
job_clear(gpointer data)
{
	Job *job = data;

	if (job->fd >= 0)
		close(job->fd);
	if (job->pin_fd >= 0)
		close(job->pin_fd);
	g_clear_pointer(&job->state, g_checksum_free);
	g_free(job->path);
	g_free(job->sha256);
	g_clear_error(&job->error);
}

static void
job_unref(Job *job)
{
	g_atomic_rc_box_release_full(job, job_clear);
}

static void
waiter_clear(gpointer data)
{
	Waiter *waiter = data;

	g_clear_object(&waiter->task);
}

static void
waiter_unref(gpointer data)
{
	g_atomic_rc_box_release_full(data, waiter_clear);
}

/* with the lock held: @uid's queue, made when @create */
static UserQueue *
user_queue_locked(VigilShaCache *cache, guint32 uid, gboolean create)
{
	UserQueue *user = g_hash_table_lookup(cache->users, GUINT_TO_POINTER(uid));
	if (user == NULL && create) {
		user = g_new0(UserQueue, 1);
		user->uid = uid;
		user->ring_link.data = user;
		g_queue_init(&user->waiting);
		g_hash_table_insert(cache->users, GUINT_TO_POINTER(uid), user);
	}
	return user;
}

/* with the lock held: a user with no files left goes */
static void
user_queue_drop_if_idle_locked(VigilShaCache *cache, UserQueue *user)
{
	if (user->jobs == 0 && !user->in_ring && !user->busy)
		g_hash_table_remove(cache->users, GUINT_TO_POINTER(user->uid));
}

/* with the lock held: @job waits for its next turn, behind its user's other files; a user who
 * had none waiting joins the ring at its end */
static void
job_enqueue_locked(VigilShaCache *cache, Job *job)
{
	UserQueue *user = user_queue_locked(cache, job->uid, TRUE);
	job->queue_link.data = job;
	g_queue_push_tail_link(&user->waiting, &job->queue_link);
	job->queued = TRUE;
	if (!user->in_ring) {
		g_queue_push_tail_link(&cache->ring, &user->ring_link);
		user->in_ring = TRUE;
	}
}

/* with the lock held: @job leaves its user's queue; the user takes its next turn after the
 * users behind it in the ring */
static void
job_dequeue_locked(VigilShaCache *cache, UserQueue *user, Job *job)
{
	g_queue_unlink(&user->waiting, &job->queue_link);
	job->queued = FALSE;
	g_queue_unlink(&cache->ring, &user->ring_link);
	if (user->waiting.length > 0)
		g_queue_push_tail_link(&cache->ring, &user->ring_link);
	else
		user->in_ring = FALSE;
}

/* someone waits for it: a connection (asynchronous) or a thread (blocking) */
static gboolean
job_awaited_locked(const Job *job)
{
	return job->waiters != NULL || job->blocking > 0;
}

/* with the lock held: @job of @user takes its turn now; the user takes no other meanwhile */
static Job *
job_take_locked(VigilShaCache *cache, UserQueue *user, Job *job)
{
	job_dequeue_locked(cache, user, job);
	user->busy = TRUE;
	cache->running++;
	return job;
}

/*
 * With the lock held: the file whose turn it is. Users take turns in the ring, skipping those
 * with a turn in progress (one stuck in a file system that does not answer holds one thread,
 * not the pool); files someone waits for go before files nobody waits for any more (their hash
 * goes on for the cache, but never ahead of a connection's); among a user's files, the first
 * one waiting.
 */
static Job *
next_job_locked(VigilShaCache *cache)
{
	for (GList *u = cache->ring.head; u != NULL; u = u->next) {
		UserQueue *user = u->data;
		if (user->busy)
			continue;
		for (GList *j = user->waiting.head; j != NULL; j = j->next) {
			Job *job = j->data;
			if (job_awaited_locked(job))
				return job_take_locked(cache, user, job);
		}
	}
	for (GList *u = cache->ring.head; u != NULL; u = u->next) {
		UserQueue *user = u->data;
		if (!user->busy)
			return job_take_locked(cache, user, user->waiting.head->data);
	}
	return NULL;
}

/* with the lock held: @job's turn is over; its user may take the next */
static void
turn_end_locked(VigilShaCache *cache, Job *job)
{
	UserQueue *user = user_queue_locked(cache, job->uid, FALSE);

	cache->running--;
	if (user != NULL) {
		user->busy = FALSE;
		user_queue_drop_if_idle_locked(cache, user);
	}
	g_cond_broadcast(&cache->done_cond);
}

/* with the lock held: @job leaves the jobs table (if still there), and its user's count */
static void
job_forget_locked(VigilShaCache *cache, Job *job)
{
	if (g_hash_table_lookup(cache->jobs, &job->key) == job)
		g_hash_table_remove(cache->jobs, &job->key);
	UserQueue *user = user_queue_locked(cache, job->uid, FALSE);
	if (job->queued && user != NULL)
		job_dequeue_locked(cache, user, job);
	if (!job->counted || user == NULL)
		return;
	job->counted = FALSE;
	user->jobs--;
	user_queue_drop_if_idle_locked(cache, user);
}

VigilShaCache *
vigil_sha_cache_new(guint max_entries)
{
	VigilShaCache *cache = g_new0(VigilShaCache, 1);
	g_mutex_init(&cache->lock);
	g_mutex_init(&cache->store_lock);
	g_cond_init(&cache->done_cond);
	cache->entries = g_hash_table_new_full(file_key_hash, file_key_equal, NULL, entry_free);
	cache->jobs = g_hash_table_new(file_key_hash, file_key_equal);
	cache->users = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	g_queue_init(&cache->ring);
	g_queue_init(&cache->lru);
	cache->max_entries = MAX(max_entries, 1);
	cache->wait_max = VIGIL_SHA_CACHE_WAIT_MAX;
	return cache;
}

void
vigil_sha_cache_set_wait_max(VigilShaCache *cache, gint64 bytes)
{
	g_mutex_lock(&cache->lock);
	cache->wait_max = bytes;
	g_mutex_unlock(&cache->lock);
}

static void job_finish(VigilShaCache *cache, Job *job, char *sha256, GError *error);

/* a stop left a turn behind in a read (atomic) */
static gint left_behind;

gboolean
vigil_sha_cache_left_behind(void)
{
	return g_atomic_int_get(&left_behind) != 0;
}

void
vigil_sha_cache_stop(VigilShaCache *cache)
{
	g_return_if_fail(cache != NULL);
	g_atomic_int_set(&cache->stopping, 1);
	/* files waiting for a turn end now, here: every thread may be held by a file system
	 * that does not answer */
	g_autoptr(GPtrArray) queued = g_ptr_array_new();
	g_mutex_lock(&cache->lock);
	while (cache->ring.head != NULL) {
		UserQueue *user = cache->ring.head->data;
		Job *job = user->waiting.head->data;
		job_dequeue_locked(cache, user, job);
		g_ptr_array_add(queued, job);
	}
	g_mutex_unlock(&cache->lock);
	for (guint i = 0; i < queued->len; i++) {
		Job *job = g_ptr_array_index(queued, i);
		job_finish(cache, job, NULL,
		           g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED,
		                       "stopped hashing %s: stopping", job->path));
		job_unref(job); /* the jobs table's */
	}
	/* a turn in progress notices within one read; one stuck in a read is left behind */
	gint64 until = g_get_monotonic_time() + STOP_WAIT_US;
	g_mutex_lock(&cache->lock);
	while (cache->running > 0 && g_cond_wait_until(&cache->done_cond, &cache->lock, until))
		;
	if (cache->running > 0 && !cache->stuck) {
		cache->stuck = TRUE;
		g_atomic_int_set(&left_behind, 1);
		g_message("%u hash(es) still stuck in a read: left behind", cache->running);
	}
	g_mutex_unlock(&cache->lock);
}

void
vigil_sha_cache_free(VigilShaCache *cache)
{
	if (cache == NULL)
		return;
	/* hashes in progress end within one chunk; queued ones end at once */
	vigil_sha_cache_stop(cache);
	/* a thread still in a read (a FUSE server that never answers) uses the cache: it stays,
	 * and goes with the process */
	g_mutex_lock(&cache->lock);
	gboolean in_use = cache->running > 0;
	g_mutex_unlock(&cache->lock);
	if (in_use)
		return;
	if (cache->pool != NULL)
		g_thread_pool_free(cache->pool, FALSE, TRUE);
	g_assert(g_hash_table_size(cache->jobs) == 0);
	g_hash_table_destroy(cache->jobs);
	g_assert(cache->ring.length == 0);
	g_hash_table_destroy(cache->users);
	g_queue_clear(&cache->lru);
	g_hash_table_destroy(cache->entries);
	g_free(cache->store_path);
	g_cond_clear(&cache->done_cond);
	g_mutex_clear(&cache->store_lock);
	g_mutex_clear(&cache->lock);
	g_free(cache);
}

void
vigil_sha_cache_get_stats(VigilShaCache *cache, guint64 *hits, guint64 *misses)
{
	g_mutex_lock(&cache->lock);
	if (hits != NULL)
		*hits = cache->stats.hits;
	if (misses != NULL)
		*misses = cache->stats.misses;
	g_mutex_unlock(&cache->lock);
}

void
vigil_sha_cache_get_counters(VigilShaCache *cache, VigilShaCacheStats *stats)
{
	g_mutex_lock(&cache->lock);
	*stats = cache->stats;
	g_mutex_unlock(&cache->lock);
}

/* with the lock held: a copy of the cached hash, or NULL */
static char *
cache_lookup_locked(VigilShaCache *cache, const FileKey *key)
{
	Entry *entry = g_hash_table_lookup(cache->entries, key);
	if (entry == NULL)
		return NULL;
	g_queue_unlink(&cache->lru, entry->lru_link);
	g_queue_push_head_link(&cache->lru, entry->lru_link);
	return g_strdup(entry->sha256);
}

/* with the lock held; TRUE when it was new */
static gboolean
cache_insert_locked(VigilShaCache *cache, const FileKey *key, const char *sha256)
{
	if (g_hash_table_lookup(cache->entries, key) != NULL)
		return FALSE;
	Entry *entry = g_new0(Entry, 1);
	entry->key = *key;
	entry->sha256 = g_strdup(sha256);
	g_queue_push_head(&cache->lru, entry);
	entry->lru_link = cache->lru.head;
	g_hash_table_insert(cache->entries, &entry->key, entry);
	while (g_hash_table_size(cache->entries) > cache->max_entries) {
		Entry *oldest = g_queue_pop_tail(&cache->lru);
		g_hash_table_remove(cache->entries, &oldest->key);
	}
	return TRUE;
}

char *
vigil_sha_cache_peek(VigilShaCache *cache, dev_t dev, ino_t ino, gint64 size, gint64 mtime,
                     gint64 ctime)
{
	g_return_val_if_fail(cache != NULL, NULL);
	FileKey key = {dev, ino, size, mtime, ctime};
	g_mutex_lock(&cache->lock);
	char *sha256 = cache_lookup_locked(cache, &key);
	if (sha256 != NULL)
		cache->stats.hits++;
	g_mutex_unlock(&cache->lock);
	return sha256;
}

/* ---- the file that keeps hashes across restarts ---- */

static gboolean
parse_store_line(const char *line, FileKey *key, char sha256[SHA256_HEX + 1])
{
	guint64 dev;
	guint64 ino;
	gint64 size;
	gint64 mtime;
	gint64 ctime;
	char hex[SHA256_HEX + 2];
	char extra;

	/* exactly six fields; the hash exactly 64 lowercase hex digits */
	if (strlen(line) > STORE_LINE_MAX ||
	    sscanf(line,
	           "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT
	           " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %65s %c",
	           &dev, &ino, &size, &mtime, &ctime, hex, &extra) != 6 ||
	    strlen(hex) != SHA256_HEX || size < 0)
		return FALSE;
	for (guint i = 0; i < SHA256_HEX; i++) {
		if (!g_ascii_isxdigit(hex[i]) || g_ascii_isupper(hex[i]))
			return FALSE;
	}
	*key = (FileKey){(dev_t)dev, (ino_t)ino, size, mtime, ctime};
	memcpy(sha256, hex, SHA256_HEX + 1);
	return TRUE;
}

/* reads at most @max bytes of @path; NULL with no error when it does not exist */
static char *
read_store(const char *path, gsize max, GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		int saved = errno;
		if (saved != ENOENT)
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			            "cannot open %s: %s", path, g_strerror(saved));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (guint64)st.st_size > max) {
		close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "%s is not a regular file of at most %" G_GSIZE_FORMAT " bytes", path,
		            max);
		return NULL;
	}
	g_autofree char *text = g_malloc(max + 1);
	gsize len = 0;
	while (len < max) {
		ssize_t n = read(fd, text + len, max - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (gsize)n;
	}
	close(fd);
	text[len] = '\0';
	if (strlen(text) != len) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s holds a NUL byte",
		            path);
		return NULL;
	}
	return g_steal_pointer(&text);
}

gboolean
vigil_sha_cache_attach_file(VigilShaCache *cache, const char *path, GError **error)
{
	g_return_val_if_fail(cache != NULL && path != NULL, FALSE);
	gsize max = (gsize)cache->max_entries * (STORE_LINE_MAX + 1) + sizeof(STORE_HEADER) + 1;

	g_mutex_lock(&cache->store_lock);
	g_free(cache->store_path);
	cache->store_path = g_strdup(path);
	g_mutex_unlock(&cache->store_lock);

	/* the file is a help: anything wrong with it costs a hash again, never a wrong one */
	g_autoptr(GError) local_error = NULL;
	g_autofree char *text = read_store(path, max, &local_error);
	if (text == NULL) {
		if (local_error != NULL) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local_error),
			                           "executable hashes ignored: ");
			return FALSE;
		}
		return TRUE;
	}
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	if (lines[0] == NULL || !g_str_equal(lines[0], STORE_HEADER)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "executable hashes ignored: %s is not a hash file of this version",
		            path);
		return FALSE;
	}
	guint bad = 0;
	guint loaded = 0;
	g_mutex_lock(&cache->lock);
	/* most recent first in the file: loaded last to first, so the LRU order survives */
	guint n = g_strv_length(lines);
	for (guint i = n; i-- > 1;) {
		FileKey key;
		char sha256[SHA256_HEX + 1];
		if (lines[i][0] == '\0')
			continue;
		if (!parse_store_line(lines[i], &key, sha256)) {
			bad++;
			continue;
		}
		loaded += cache_insert_locked(cache, &key, sha256);
	}
	g_mutex_unlock(&cache->lock);
	if (bad > 0)
		g_warning("%s: %u malformed line(s) skipped", path, bad);
	g_debug("%u executable hash(es) from %s", loaded, path);
	return TRUE;
}

/* written atomically (temp, fsync, rename), most recent first; a failure costs hashes again */
static void
save_store(VigilShaCache *cache)
{
	g_mutex_lock(&cache->store_lock);
	if (cache->store_path == NULL) {
		g_mutex_unlock(&cache->store_lock);
		return;
	}
	g_autoptr(GString) text = g_string_new(STORE_HEADER "\n");
	g_mutex_lock(&cache->lock);
	for (GList *l = cache->lru.head; l != NULL; l = l->next) {
		const Entry *entry = l->data;
		g_string_append_printf(
		    text,
		    "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT
		    " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s\n",
		    (guint64)entry->key.dev, (guint64)entry->key.ino, entry->key.size,
		    entry->key.mtime_ns, entry->key.ctime_ns, entry->sha256);
	}
	g_mutex_unlock(&cache->lock);
	g_autoptr(GError) error = NULL;
	if (!g_file_set_contents_full(cache->store_path, text->str, (gssize)text->len,
	                              G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
	                              0600, &error))
		g_warning("cannot remember executable hashes: %s", error->message);
	g_mutex_unlock(&cache->store_lock);
}

/* ---- hashing ---- */

/* @job's hash is done: a file written meanwhile gives a hash of no version, refused */
static char *
job_digest(VigilShaCache *cache, Job *job, GError **error)
{
	struct stat after;
	FileKey key_after = {0};
	gboolean stable = vigil_fuse_stat(job->fd, "", AT_EMPTY_PATH, &after) == 0;
	if (stable)
		file_key_from_stat(&key_after, &after);
	if (!stable || !file_key_equal(&job->key, &key_after)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_WRONG_ETAG, "%s changed while being read",
		            job->path);
		return NULL;
	}
	g_debug("hashed %s (%" G_GINT64_FORMAT " bytes) in %" G_GINT64_FORMAT " us", job->path,
	        job->key.size, g_get_monotonic_time() - job->started_us);
	return g_strdup(g_checksum_get_string(job->state));
}

/*
 * One turn of @job: hashes up to @bytes more of its file, from where the last turn ended. TRUE
 * when the job is done, with its hash in *@sha256 or an error (it stops within one read when
 * the cache stops); FALSE when there is more to read.
 */
static int open_pinned(Job *job, FileKey *key, GError **error);

static gboolean
job_turn(VigilShaCache *cache, Job *job, gint64 bytes, char **sha256, GError **error)
{
	if (g_atomic_int_get(&cache->stopping)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped hashing %s: stopping",
		            job->path);
		return TRUE;
	}
	/* opened at its first turn, in the pool's thread (see HASH_THREADS) */
	if (job->fd < 0) {
		FileKey opened;
		job->fd = open_pinned(job, &opened, error);
		if (job->fd < 0)
			return TRUE;
	}
	if (job->state == NULL) {
		job->state = g_checksum_new(G_CHECKSUM_SHA256);
		job->started_us = g_get_monotonic_time();
		g_mutex_lock(&cache->lock);
		cache->stats.hashes++;
		g_mutex_unlock(&cache->lock);
		g_debug("hashing %s (%" G_GINT64_FORMAT " bytes)", job->path, job->key.size);
	}
	g_autofree guint8 *buf = g_malloc(READ_CHUNK);
	gint64 offset = job->offset;
	/* never past the size the key was made with: a file that grows is not this version */
	gint64 end = MIN(job->key.size, bytes > G_MAXINT64 - offset ? G_MAXINT64 : offset + bytes);
	gboolean eof = FALSE;

	while (offset < end) {
		if (g_atomic_int_get(&cache->stopping)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
			            "stopped hashing %s: stopping", job->path);
			return TRUE;
		}
		ssize_t n = pread(job->fd, buf, MIN(READ_CHUNK, end - offset), offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			            "cannot read %s: %s", job->path, g_strerror(saved));
			return TRUE;
		}
		if (n == 0) {
			eof = TRUE;
			break;
		}
		g_checksum_update(job->state, buf, n);
		offset += n;
	}
	g_mutex_lock(&cache->lock);
	job->offset = offset;
	g_mutex_unlock(&cache->lock);
	/* at the key's size: the end, whatever may follow (job_digest() sees a changed file) */
	if (offset >= job->key.size)
		eof = TRUE;
	if (!eof)
		return FALSE;
	*sha256 = job_digest(cache, job, error);
	return TRUE;
}

/* @job is done (in a pool thread, or in a blocking caller's): everyone waiting gets the answer */
static void
job_finish(VigilShaCache *cache, Job *job, char *sha256, GError *error)
{
	gboolean fresh = FALSE;

	/* whether it stopped mid-file or waiting for a turn, and whoever waits for it */
	if (error != NULL)
		g_debug("no hash of %s: %s", job->path, error->message);
	g_mutex_lock(&cache->lock);
	if (sha256 != NULL)
		fresh = cache_insert_locked(cache, &job->key, sha256);
	job_forget_locked(cache, job);
	GList *waiters = g_steal_pointer(&job->waiters);
	GPtrArray *tasks = g_ptr_array_new_with_free_func(g_object_unref);
	for (GList *l = waiters; l != NULL; l = l->next) {
		Waiter *waiter = l->data;
		waiter->job = NULL;
		if (waiter->task != NULL)
			g_ptr_array_add(tasks, g_steal_pointer(&waiter->task));
	}
	job->sha256 = sha256;
	job->error = error;
	job->done = TRUE;
	g_cond_broadcast(&cache->done_cond);
	g_mutex_unlock(&cache->lock);

	/* outside the lock: a task's callback may come back at once */
	for (guint i = 0; i < tasks->len; i++) {
		GTask *task = g_ptr_array_index(tasks, i);
		if (job->sha256 != NULL)
			g_task_return_pointer(task, g_strdup(job->sha256), g_free);
		else
			g_task_return_error(task, g_error_copy(job->error));
	}
	g_ptr_array_unref(tasks);
	g_list_free_full(waiters, waiter_unref);
	if (fresh)
		save_store(cache);
	/* its fd and state are not needed any more; blocking waiters still read the result */
	if (job->fd >= 0) {
		close(job->fd);
		job->fd = -1;
	}
	g_clear_pointer(&job->state, g_checksum_free);
}

/*
 * A task of the pool is one turn: whichever file's turn it is (next_job_locked()) gets
 * TURN_BYTES more hashed and, unfinished, waits for its next turn with a task of its own. Each
 * file put in a queue pushes one task, so there are never fewer tasks than files waiting.
 */
static void
pool_turn(gpointer data, gpointer user_data)
{
	VigilShaCache *cache = user_data;
	char *sha256 = NULL;
	GError *error = NULL;

	/* turns until no user without one in progress has a file waiting: a task pushed while
	 * its user was busy is taken up here, when that user's turn ends */
	for (;;) {
		g_mutex_lock(&cache->lock);
		Job *job = next_job_locked(cache);
		g_mutex_unlock(&cache->lock);
		if (job == NULL)
			return;
		gboolean done = job_turn(cache, job, TURN_BYTES, &sha256, &error);
		g_mutex_lock(&cache->lock);
		turn_end_locked(cache, job);
		/* read once, under the lock: vigil_sha_cache_stop() sets it, then ends what waits
		 */
		gboolean stopped = !done && g_atomic_int_get(&cache->stopping);
		if (!done && !stopped)
			job_enqueue_locked(cache, job);
		g_mutex_unlock(&cache->lock);
		if (stopped) {
			done = TRUE;
			error = g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED,
			                    "stopped hashing %s: stopping", job->path);
		}
		if (done) {
			job_finish(cache, job, sha256, error);
			job_unref(job); /* the jobs table's */
		}
		sha256 = NULL;
		error = NULL;
	}
}

/*
 * Opens @path and checks that it is the file the caller saw (@expected; its ctime only when
 * not 0); errors name it @name. On success *@key is the file's identity (with its ctime) and
 * the fd is returned.
 * Blocking: a FUSE server decides when open() returns.
 */
static int
open_checked(const char *path, const char *name, const FileKey *expected, FileKey *key,
             GError **error)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot open %s: %s",
		            name, g_strerror(saved));
		return -1;
	}
	/* the attributes the process was read with (vigil_fuse_stat()), compared alike */
	if (vigil_fuse_stat(fd, "", AT_EMPTY_PATH, &st) < 0) {
		int saved = errno;
		close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot stat %s: %s",
		            name, g_strerror(saved));
		return -1;
	}
	file_key_from_stat(key, &st);
	if (key->dev != expected->dev || key->ino != expected->ino ||
	    key->mtime_ns != expected->mtime_ns || key->size != expected->size ||
	    (expected->ctime_ns != 0 && key->ctime_ns != expected->ctime_ns)) {
		close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_WRONG_ETAG,
		            "%s changed since it was looked at", name);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
		            "%s is not a regular file", name);
		return -1;
	}
	if (st.st_size > HASH_MAX_BYTES) {
		close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		            "%s is over %" G_GINT64_FORMAT " bytes: not hashed", name,
		            HASH_MAX_BYTES);
		return -1;
	}
	return fd;
}

/*
 * Opens @job's file for reading, through its pin when it has one: the pinned file itself, by
 * its descriptor's magic link (no path walk that could lead elsewhere). Its message names the
 * path the job was asked for.
 */
static int
open_pinned(Job *job, FileKey *key, GError **error)
{
	if (job->pin_fd < 0)
		return open_checked(job->path, job->path, &job->key, key, error);
	g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", job->pin_fd);
	int fd = open_checked(link, job->path, &job->key, key, error);
	close(job->pin_fd);
	job->pin_fd = -1;
	return fd;
}

/* with the lock held: a new job for @key, which takes @fd and @pin_fd */
static Job *
job_new_locked(VigilShaCache *cache, const FileKey *key, int fd, int pin_fd, const char *path)
{
	Job *job = g_atomic_rc_box_new0(Job); /* the jobs table's reference, until it completes */
	job->key = *key;
	job->fd = fd;
	job->pin_fd = pin_fd;
	job->path = g_strdup(path);
	g_hash_table_insert(cache->jobs, &job->key, job);
	return job;
}

char *
vigil_sha_cache_get(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino, gint64 mtime,
                    gint64 size, GError **error)
{
	FileKey key;

	g_return_val_if_fail(cache != NULL, NULL);
	g_return_val_if_fail(path != NULL, NULL);

	/* open first and stat the descriptor: what is hashed is what the key describes */
	FileKey expected = {dev, ino, size, mtime, 0};
	int fd = open_checked(path, path, &expected, &key, error);
	if (fd < 0)
		return NULL;

	g_mutex_lock(&cache->lock);
	char *cached = cache_lookup_locked(cache, &key);
	if (cached != NULL) {
		cache->stats.hits++;
		g_mutex_unlock(&cache->lock);
		close(fd);
		return cached;
	}
	cache->stats.misses++;
	Job *job = g_hash_table_lookup(cache->jobs, &key);
	if (job != NULL) {
		/* someone hashes this file already: its result is ours */
		close(fd);
		g_atomic_rc_box_acquire(job);
		job->blocking++;
		cache->stats.joined++;
		while (!job->done)
			g_cond_wait(&cache->done_cond, &cache->lock);
		job->blocking--;
		g_mutex_unlock(&cache->lock);
		char *sha256 = g_strdup(job->sha256);
		if (sha256 == NULL)
			g_propagate_error(error, g_error_copy(job->error));
		job_unref(job);
		return sha256;
	}
	job = job_new_locked(cache, &key, fd, -1, path);
	g_atomic_rc_box_acquire(job);
	job->blocking++; /* this caller runs it, never in the pool's queues */
	g_mutex_unlock(&cache->lock);

	char *result = NULL;
	GError *job_error = NULL;
	while (!job_turn(cache, job, TURN_BYTES, &result, &job_error))
		;
	job_finish(cache, job, result, job_error);
	char *sha256 = g_strdup(job->sha256);
	if (sha256 == NULL)
		g_propagate_error(error, g_error_copy(job->error));
	job_unref(job); /* the table's */
	job_unref(job); /* ours */
	return sha256;
}

/*
 * The cancellable of a waiting caller fired: it stops waiting. The hash goes on, for the
 * others and for the cache (the next connection of that program finds it made, or joins it
 * where it got to); nobody waiting, it takes only the turns no awaited file wants.
 */
static void
on_waiter_cancelled(GCancellable *cancellable, gpointer data)
{
	Waiter *waiter = data;
	VigilShaCache *cache = waiter->cache;

	g_mutex_lock(&cache->lock);
	GTask *task = NULL;
	if (waiter->job != NULL) {
		Job *job = waiter->job;
		job->waiters = g_list_remove(job->waiters, waiter);
		if (!job_awaited_locked(job))
			g_debug("no one waits for the hash of %s now: it goes on when no other is "
			        "waited for",
			        job->path);
		waiter->job = NULL;
		task = g_steal_pointer(&waiter->task);
		/* the job's reference to the waiter */
		waiter_unref(waiter);
	}
	g_mutex_unlock(&cache->lock);
	if (task != NULL) {
		g_task_return_error_if_cancelled(task);
		g_object_unref(task);
	}
}

void
vigil_sha_cache_get_async(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino,
                          gint64 mtime, gint64 size, gint64 ctime, guint32 uid,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
	g_return_if_fail(cache != NULL && path != NULL);
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, vigil_sha_cache_get_async);
	if (g_atomic_int_get(&cache->stopping)) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopping");
		return;
	}
	/* known already: no file is opened */
	char *known = vigil_sha_cache_peek(cache, dev, ino, size, mtime, ctime);
	if (known != NULL) {
		g_task_return_pointer(task, known, g_free);
		return;
	}
	/* the file is opened in the pool, never here (see HASH_THREADS): the key is what the
	 * caller saw, and the turn that opens it checks that it still is */
	FileKey key = {dev, ino, size, mtime, ctime};
	if (size > HASH_MAX_BYTES) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		                        "%s is over %" G_GINT64_FORMAT " bytes: not hashed", path,
		                        HASH_MAX_BYTES);
		return;
	}

	/* pinned now, while the process runs: it may exit before the pool opens it (an O_PATH
	 * open of the magic link opens nothing: no file system, FUSE neither, is asked) */
	int pin_fd = open(path, O_PATH | O_CLOEXEC);
	if (pin_fd < 0) {
		int saved = errno;
		g_task_return_new_error(task, G_IO_ERROR, g_io_error_from_errno(saved),
		                        "cannot open %s: %s", path, g_strerror(saved));
		return;
	}

	g_mutex_lock(&cache->lock);
	cache->stats.misses++;
	Job *job = g_hash_table_lookup(cache->jobs, &key);
	gboolean start = job == NULL;
	/* turns and shares per user: a user's subordinate uids count as the user (vigil-fair.h) */
	guint32 bucket = vigil_fair_bucket(uid);
	UserQueue *user = user_queue_locked(cache, bucket, FALSE);
	if (start && g_hash_table_size(cache->jobs) >= JOBS_MAX) {
		cache->stats.refused++;
		g_mutex_unlock(&cache->lock);
		close(pin_fd);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_BUSY,
		                        "%u executables wait for a hash already", JOBS_MAX);
		return;
	}
	if (start && user != NULL && user->jobs >= JOBS_PER_UID) {
		cache->stats.refused++;
		g_mutex_unlock(&cache->lock);
		close(pin_fd);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_BUSY,
		                        "%u executables of uid %u wait for a hash already",
		                        JOBS_PER_UID, uid);
		return;
	}
	if (start) {
		job = job_new_locked(cache, &key, -1, pin_fd, path);
		pin_fd = -1;
		job->uid = bucket;
		job->counted = TRUE;
		user_queue_locked(cache, bucket, TRUE)->jobs++;
		job_enqueue_locked(cache, job);
		if (cache->pool == NULL)
			cache->pool =
			    g_thread_pool_new(pool_turn, cache, HASH_THREADS, FALSE, NULL);
	}
	if (pin_fd >= 0)
		close(pin_fd); /* the job has its own */
	/* a connection waits only for what can be read well within its deadline; a bigger
	 * file is hashed on for the cache (the next connection may find it made) */
	gint64 left = job->key.size - job->offset;
	if (left > cache->wait_max) {
		cache->stats.pending++;
		g_mutex_unlock(&cache->lock);
		if (start)
			g_thread_pool_push(cache->pool, cache, NULL);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_PENDING,
		                        "%s: %" G_GINT64_FORMAT " MiB still to hash, more than a "
		                        "connection waits for",
		                        path, left / (1024 * 1024));
		return;
	}
	if (!start)
		cache->stats.joined++;
	Waiter *waiter = g_atomic_rc_box_new0(Waiter); /* the job's reference */
	waiter->task = g_object_ref(task);
	waiter->job = job;
	waiter->cache = cache;
	job->waiters = g_list_prepend(job->waiters, waiter);
	if (cancellable != NULL)
		g_atomic_rc_box_acquire(waiter); /* the cancellable's */
	g_mutex_unlock(&cache->lock);
	if (start)
		g_thread_pool_push(cache->pool, cache, NULL);
	/* may run the handler at once when already cancelled; never disconnected: the handler
	 * does nothing once the waiter is answered, and the cancellable frees it */
	if (cancellable != NULL)
		g_cancellable_connect(cancellable, G_CALLBACK(on_waiter_cancelled), waiter,
		                      waiter_unref);
}

char *
vigil_sha_cache_get_finish(VigilShaCache *cache, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	g_return_val_if_fail(g_async_result_is_tagged(result, vigil_sha_cache_get_async), NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}
