/* vigil-sha-cache.c: SHA-256 of executables, cached by file identity, bounded, thread-safe */
#define G_LOG_DOMAIN "vigil-sha-cache"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-process.h"

#define READ_CHUNK (64 * 1024)

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

struct _VigilShaCache {
	GMutex lock;
	GHashTable *entries; /* FileKey* -> Entry* (the key lives in the entry) */
	GQueue lru;          /* of Entry* */
	guint max_entries;
	guint64 hits;
	guint64 misses;
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

VigilShaCache *
vigil_sha_cache_new(guint max_entries)
{
	VigilShaCache *cache = g_new0(VigilShaCache, 1);
	g_mutex_init(&cache->lock);
	cache->entries = g_hash_table_new_full(file_key_hash, file_key_equal, NULL, entry_free);
	g_queue_init(&cache->lru);
	cache->max_entries = MAX(max_entries, 1);
	return cache;
}

void
vigil_sha_cache_free(VigilShaCache *cache)
{
	if (cache == NULL)
		return;
	g_queue_clear(&cache->lru);
	g_hash_table_destroy(cache->entries);
	g_mutex_clear(&cache->lock);
	g_free(cache);
}

void
vigil_sha_cache_get_stats(VigilShaCache *cache, guint64 *hits, guint64 *misses)
{
	g_mutex_lock(&cache->lock);
	if (hits != NULL)
		*hits = cache->hits;
	if (misses != NULL)
		*misses = cache->misses;
	g_mutex_unlock(&cache->lock);
}

/* returns a copy of the cached hash, or NULL; counts the hit or miss */
static char *
cache_lookup(VigilShaCache *cache, const FileKey *key)
{
	char *result = NULL;

	g_mutex_lock(&cache->lock);
	Entry *entry = g_hash_table_lookup(cache->entries, key);
	if (entry != NULL) {
		g_queue_unlink(&cache->lru, entry->lru_link);
		g_queue_push_head_link(&cache->lru, entry->lru_link);
		result = g_strdup(entry->sha256);
		cache->hits++;
	} else {
		cache->misses++;
	}
	g_mutex_unlock(&cache->lock);
	return result;
}

static void
cache_insert(VigilShaCache *cache, const FileKey *key, const char *sha256)
{
	g_mutex_lock(&cache->lock);
	/* two threads may hash the same file at once; the first insert wins */
	if (g_hash_table_lookup(cache->entries, key) == NULL) {
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
	}
	g_mutex_unlock(&cache->lock);
}

/* streams the file behind @fd through SHA-256 */
static char *
hash_fd(int fd, const char *path, GError **error)
{
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree guint8 *buf = g_malloc(READ_CHUNK);

	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			            "cannot read %s: %s", path, g_strerror(saved));
			return NULL;
		}
		if (n == 0)
			break;
		g_checksum_update(checksum, buf, n);
	}
	return g_strdup(g_checksum_get_string(checksum));
}

char *
vigil_sha_cache_get(VigilShaCache *cache, const char *path, dev_t dev, ino_t ino, gint64 mtime,
                    gint64 size, GError **error)
{
	struct stat before;
	struct stat after;
	FileKey key;

	g_return_val_if_fail(cache != NULL, NULL);
	g_return_val_if_fail(path != NULL, NULL);

	/* open first and stat the descriptor: what is hashed is what the key describes */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot open %s: %s",
		            path, g_strerror(saved));
		return NULL;
	}
	if (fstat(fd, &before) < 0) {
		int saved = errno;
		close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot stat %s: %s",
		            path, g_strerror(saved));
		return NULL;
	}
	file_key_from_stat(&key, &before);
	if (key.dev != dev || key.ino != ino || key.mtime_ns != mtime || key.size != size) {
		close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_WRONG_ETAG,
		            "%s changed since it was looked at", path);
		return NULL;
	}
	if (!S_ISREG(before.st_mode)) {
		close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
		            "%s is not a regular file", path);
		return NULL;
	}

	char *cached = cache_lookup(cache, &key);
	if (cached != NULL) {
		close(fd);
		return cached;
	}

	gint64 start = g_get_monotonic_time();
	g_autofree char *sha256 = hash_fd(fd, path, error);
	gboolean stable = fstat(fd, &after) == 0;
	close(fd);
	if (sha256 == NULL)
		return NULL;

	/* a file written while it was read gives a hash of no version: do not remember it */
	FileKey key_after;
	if (stable) {
		file_key_from_stat(&key_after, &after);
		stable = file_key_equal(&key, &key_after);
	}
	if (!stable) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_WRONG_ETAG, "%s changed while being read",
		            path);
		return NULL;
	}
	g_debug("hashed %s (%" G_GINT64_FORMAT " bytes) in %" G_GINT64_FORMAT " us", path, key.size,
	        g_get_monotonic_time() - start);
	cache_insert(cache, &key, sha256);
	return g_steal_pointer(&sha256);
}
