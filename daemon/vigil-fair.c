/* vigil-fair.c: the fairness bucket of a uid, from /etc/subuid and /etc/passwd */
#define G_LOG_DOMAIN "vigil-fair"
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil-fair.h"
#include "vigil-users.h"

#define DEFAULT_SUBUID "/etc/subuid"
#define DEFAULT_PASSWD "/etc/passwd"
#define RECHECK_US     G_USEC_PER_SEC
/* the files are local and root's, but read in the main loop: a bound on what is read */
#define MAX_FILE_BYTES (16 * 1024 * 1024)

typedef VigilFairRange Range;

/* what a file was when it was read: read again when any of it differs */
typedef struct {
	gboolean exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
} FileStamp;

static GMutex lock;
static char *subuid_path;
static char *passwd_path;
static gint64 checked_us; /* when the files were last stat()ed; 0: never */
static FileStamp subuid_stamp;
static FileStamp passwd_stamp;
static GHashTable *users;  /* uids of /etc/passwd (a set) */
static GHashTable *names;  /* name -> uid of /etc/passwd */
static GArray *ranges;     /* of Range, sorted by start */
static guint64 generation; /* bumped when the files are read again */

/* @file_path (NULL: the default) is read at the next lookup */
static void
set_path(char **file_path, FileStamp *stamp, const char *path)
{
	g_mutex_lock(&lock);
	g_free(*file_path);
	*file_path = g_strdup(path);
	checked_us = 0;
	memset(stamp, 0, sizeof *stamp);
	g_mutex_unlock(&lock);
}

void
vigil_fair_set_subuid_path(const char *path)
{
	set_path(&subuid_path, &subuid_stamp, path);
}

void
vigil_fair_set_passwd_path(const char *path)
{
	set_path(&passwd_path, &passwd_stamp, path);
}

static void
stamp_of(const char *path, FileStamp *stamp)
{
	struct stat st;

	memset(stamp, 0, sizeof *stamp);
	if (stat(path, &st) != 0)
		return;
	stamp->exists = TRUE;
	stamp->dev = st.st_dev;
	stamp->ino = st.st_ino;
	stamp->size = st.st_size;
	stamp->mtime = st.st_mtim;
	stamp->ctime = st.st_ctim;
}

static gboolean
stamp_equal(const FileStamp *a, const FileStamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* the lines of @path (none when it is missing, unreadable or too big: logged) */
static char **
read_lines(const char *path)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &text, &len, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_warning("%s: %s", path, error->message);
		return g_new0(char *, 1);
	}
	if (len > MAX_FILE_BYTES) {
		g_warning("%s: larger than %d bytes, not used", path, MAX_FILE_BYTES);
		return g_new0(char *, 1);
	}
	return g_strsplit(text, "\n", -1);
}

/* a decimal uid, the whole of @text */
static gboolean
parse_u64(const char *text, guint64 max, guint64 *out)
{
	char *end = NULL;
	guint64 v;

	if (*text < '0' || *text > '9')
		return FALSE;
	errno = 0;
	v = g_ascii_strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return FALSE;
	*out = v;
	return TRUE;
}

static void
load_passwd(const char *path)
{
	g_auto(GStrv) lines = read_lines(path);

	g_hash_table_remove_all(users);
	g_hash_table_remove_all(names);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = g_strsplit(lines[i], ":", 4);
		guint64 uid;

		if (g_strv_length(fields) < 4 || !parse_u64(fields[2], G_MAXUINT32 - 3, &uid))
			continue;
		if (g_hash_table_size(users) >= VIGIL_FAIR_MAX_USERS) {
			g_warning("%s: more than %d users, the rest not used", path,
			          VIGIL_FAIR_MAX_USERS);
			break;
		}
		g_hash_table_add(users, GUINT_TO_POINTER((guint32)uid));
		if (!g_hash_table_contains(names, fields[0]))
			g_hash_table_insert(names, g_strdup(fields[0]),
			                    GUINT_TO_POINTER((guint32)uid));
	}
}

static gint
compare_ranges(gconstpointer a, gconstpointer b)
{
	const Range *x = a;
	const Range *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* the owner of a subuid line: a uid, or a name /etc/passwd has; root's ranges are not root
 * (a container's root is no more trusted than any of its uids) */
static guint32
owner_bucket(const char *owner)
{
	guint64 uid;
	gpointer value;
	guint32 bucket = VIGIL_FAIR_UNKNOWN;

	if (parse_u64(owner, G_MAXUINT32 - 3, &uid))
		bucket = (guint32)uid;
	else if (g_hash_table_lookup_extended(names, owner, NULL, &value))
		bucket = GPOINTER_TO_UINT(value);
	return bucket == 0 ? VIGIL_FAIR_ROOT_RANGES : bucket;
}

static void
load_subuid(const char *path)
{
	g_auto(GStrv) lines = read_lines(path);

	g_array_set_size(ranges, 0);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) fields = g_strsplit(lines[i], ":", 4);
		guint64 start;
		guint64 count;
		Range range;

		if (g_strv_length(fields) != 3 || !parse_u64(fields[1], G_MAXUINT32, &start) ||
		    !parse_u64(fields[2], G_MAXUINT32, &count) || count == 0)
			continue;
		if (ranges->len >= VIGIL_FAIR_MAX_RANGES) {
			g_warning("%s: more than %d ranges, the rest not used", path,
			          VIGIL_FAIR_MAX_RANGES);
			break;
		}
		range.start = start;
		range.end = start + count;
		range.bucket = owner_bucket(fields[0]);
		g_array_append_val(ranges, range);
	}
	g_array_sort(ranges, compare_ranges);
}

/* with the lock held: the files read again if they changed (checked once a second) */
static void
refresh_locked(void)
{
	gint64 now = g_get_monotonic_time();
	const char *spath = subuid_path != NULL ? subuid_path : DEFAULT_SUBUID;
	const char *ppath = passwd_path != NULL ? passwd_path : DEFAULT_PASSWD;
	FileStamp sstamp;
	FileStamp pstamp;
	gboolean passwd_changed;

	if (checked_us != 0 && now - checked_us < RECHECK_US)
		return;
	checked_us = now;
	if (ranges == NULL) {
		ranges = g_array_new(FALSE, FALSE, sizeof(Range));
		users = g_hash_table_new(NULL, NULL);
		names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		passwd_stamp.exists = TRUE; /* never equal to a real stamp: read at once */
		subuid_stamp.exists = TRUE;
	}
	stamp_of(ppath, &pstamp);
	stamp_of(spath, &sstamp);
	passwd_changed = !stamp_equal(&pstamp, &passwd_stamp);
	if (passwd_changed) {
		load_passwd(ppath);
		passwd_stamp = pstamp;
	}
	/* the owners' names are looked up in /etc/passwd: its change changes the buckets */
	if (passwd_changed || !stamp_equal(&sstamp, &subuid_stamp)) {
		load_subuid(spath);
		subuid_stamp = sstamp;
		generation++;
		g_debug("%u subordinate uid ranges from %s", ranges->len, spath);
	}
}

/* with the lock held: the range holding @uid, or NULL (ranges sorted by start; when they
 * overlap, one of the few starting just before @uid) */
static const Range *
find_range_locked(guint32 uid)
{
	guint lo = 0;
	guint hi = ranges->len;

	/* the first range starting after @uid */
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (g_array_index(ranges, Range, mid).start <= uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (guint i = lo; i > 0 && lo - i < 8; i--) {
		const Range *r = &g_array_index(ranges, Range, i - 1);

		if (uid < r->end)
			return r;
	}
	return NULL;
}

guint32
vigil_fair_bucket(guint32 uid)
{
	const Range *range;
	gboolean exists = TRUE;
	guint32 bucket;

	if (uid == G_MAXUINT32)
		return uid;
	g_mutex_lock(&lock);
	refresh_locked();
	range = find_range_locked(uid);
	if (range != NULL)
		bucket = range->bucket;
	else if (g_hash_table_contains(users, GUINT_TO_POINTER(uid)))
		bucket = uid;
	/* not a local user: one the user database (sssd, LDAP) said has no entry is unknown; one
	 * not asked about yet counts as itself (never waits for the database here) */
	else if (vigil_users_peek(uid, &exists) && !exists)
		bucket = VIGIL_FAIR_UNKNOWN;
	else
		bucket = uid;
	g_mutex_unlock(&lock);
	return bucket;
}

guint64
vigil_fair_get_tables(GArray **out_ranges, GArray **out_users)
{
	guint64 gen;

	g_mutex_lock(&lock);
	refresh_locked();
	gen = generation;
	if (out_ranges != NULL) {
		*out_ranges = g_array_sized_new(FALSE, FALSE, sizeof(Range), ranges->len);
		g_array_append_vals(*out_ranges, ranges->data, ranges->len);
	}
	if (out_users != NULL) {
		GHashTableIter iter;
		gpointer uid;

		*out_users =
		    g_array_sized_new(FALSE, FALSE, sizeof(guint32), g_hash_table_size(users));
		g_hash_table_iter_init(&iter, users);
		while (g_hash_table_iter_next(&iter, &uid, NULL)) {
			guint32 value = GPOINTER_TO_UINT(uid);
			g_array_append_val(*out_users, value);
		}
	}
	g_mutex_unlock(&lock);
	return gen;
}

guint
vigil_fair_n_ranges(void)
{
	guint n;

	g_mutex_lock(&lock);
	refresh_locked();
	n = ranges->len;
	g_mutex_unlock(&lock);
	return n;
}
