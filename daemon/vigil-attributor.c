/* vigil-attributor.c: flow -> socket -> pid -> process; cheap cases inline, the rest in a thread */
#define G_LOG_DOMAIN "vigil-attributor"
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-attributor.h"
#include "vigil-ebpf.h"
#include "vigil-fair-pool.h"
#include "vigil-sock-diag.h"
#include "vigil-users.h"

#define RECENT_MAX          16    /* pids that owned recently attributed sockets */
#define SOCKETS_MAX         16384 /* known socket inode -> (pid, fd) */
#define PROCESSES_MAX       256   /* process info by pid, each holding two fds open */
#define SOCKET_FDS_MAX      4     /* fd numbers of a cached process's latest sockets */
#define GUESS_PROCESSES     2     /* recent processes whose latest socket fds are tried first */
#define SHA_CACHE_MAX       512
#define FAST_FD_BUDGET      32 /* fd links the calling thread may read before going to a thread */
#define SOCKET_LINK_MAX     64
#define UID_LINE_FIELDS     4
#define HOLDERS_MAX         8    /* other holders of one socket looked at */
#define COHOLDER_CANDIDATES 64   /* processes searched for other holders of a socket */
#define SHARED_MAX          1024 /* sockets known to be shared, never answered on the fast path */

#define KNOWN_EXES_MAX 256 /* executables whose path a record of an exited process may use */

/*
 * Lookup threads (vigil-fair-pool.h): reading a process's cmdline or environ waits for its mmap
 * lock, which the process can hold for ever. A user's stuck processes hold at most
 * LOOKUP_PER_USER threads (their other lookups wait, then go unanswered at the connection's
 * deadline); it takes LOOKUP_THREADS / LOOKUP_PER_USER such users to hold every thread but
 * root's own LOOKUP_PER_USER.
 */
#define LOOKUP_THREADS   32
#define LOOKUP_PER_USER  2
#define LOOKUP_QUEUE_MAX 256 /* lookups of one user waiting for a thread */

/* an executable seen running, by the file identity the kernel records */
typedef struct {
	guint64 dev;
	guint64 ino;
	gint64 size;
	gint64 ctime;
	char *path;
} KnownExe;

static void
known_exe_clear(gpointer data)
{
	g_free(((KnownExe *)data)->path);
}

/* where a socket was last seen: its inode, as fd @fd of process @pid */
typedef struct {
	guint64 inode; /* the hash key */
	guint32 pid;
	int fd;
} SocketOwner;

/*
 * What was read about a process, with fds of its /proc directory and stat file kept open: they
 * stay bound to that process, never to a later one with its pid, so a stamp through them is two
 * system calls and a socket guess one, with no pid reuse to fear.
 */
/* reference counted (g_atomic_rc_box): the cache holds one; users take one to use the fds
 * unlocked */
typedef struct {
	VigilProcess *process;
	VigilProcessStamp stamp; /* through the fds, taken before @process was read */
	guint32 sock_uid;        /* owner of the socket it was read for: a uid change shows there */
	int dir_fd;
	int stat_fd;
	/* guarded by the attributor's lock */
	int socket_fds[SOCKET_FDS_MAX]; /* where its latest sockets were, newest first; -1: none */
	gint64 last_used;
} CachedProcess;

/* reference counted (g_atomic_rc_box): pending lookups hold a reference */
struct _VigilAttributor {
	char *proc_root;
	int proc_fd;
	VigilShaCache *sha_cache;
	VigilFairPool *lookup_pool;
	VigilEbpf *ebpf;     /* set before the first lookup, or NULL */
	guint32 host_mnt_ns; /* pid 1's mount namespace inode, for recorded tasks */

	GMutex scan_lock;      /* one search of /proc at a time */
	GMutex lock;           /* guards everything below */
	GPtrArray *idle_diags; /* of VigilSockDiag*, one per concurrent user */
	GHashTable *sockets;   /* &SocketOwner.inode -> SocketOwner* */
	GArray *recent;        /* of guint32 pid, most recent first */
	GHashTable *fd_tables; /* pid -> GHashTable fd -> FD_SOCKET or FD_OTHER, at its last scan */
	GHashTable *processes; /* pid -> CachedProcess* */
	GHashTable *shared;    /* socket inodes held by several programs (guint64*) */
	GArray *known_exes;    /* of KnownExe, oldest first, at most KNOWN_EXES_MAX */
	GQueue shared_order;   /* of guint64*, the keys of shared, oldest first */
	gint n_shared;         /* atomic: its size, read without the lock */
	VigilAttributorStats stats;
};

typedef enum {
	OWNER_FOUND,
	OWNER_NONE,
	OWNER_TOO_COSTLY, /* not worth searching on the calling thread */
} OwnerResult;

static void
cached_process_clear(gpointer data)
{
	CachedProcess *cached = data;
	vigil_process_unref(cached->process);
	close(cached->dir_fd);
	close(cached->stat_fd);
}

static void
cached_process_unref(gpointer data)
{
	if (data != NULL)
		g_atomic_rc_box_release_full(data, cached_process_clear);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CachedProcess, cached_process_unref)

VigilAttributor *
vigil_attributor_new(const char *proc_root, GError **error)
{
	g_return_val_if_fail(proc_root != NULL, NULL);
	int proc_fd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot open %s: %s",
		            proc_root, g_strerror(saved));
		return NULL;
	}
	/* fail early when sock_diag is unusable, rather than on the first connection */
	VigilSockDiag *diag = vigil_sock_diag_new(proc_root, error);
	if (diag == NULL) {
		close(proc_fd);
		return NULL;
	}

	VigilAttributor *attributor = g_atomic_rc_box_new0(VigilAttributor);
	attributor->proc_root = g_strdup(proc_root);
	attributor->proc_fd = proc_fd;
	attributor->sha_cache = vigil_sha_cache_new(SHA_CACHE_MAX);
	attributor->lookup_pool =
	    vigil_fair_pool_new(LOOKUP_THREADS, LOOKUP_PER_USER, LOOKUP_QUEUE_MAX);
	g_mutex_init(&attributor->lock);
	g_mutex_init(&attributor->scan_lock);
	attributor->idle_diags =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_sock_diag_free);
	g_ptr_array_add(attributor->idle_diags, diag);
	attributor->sockets = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	attributor->recent = g_array_new(FALSE, FALSE, sizeof(guint32));
	attributor->fd_tables =
	    g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_hash_table_unref);
	attributor->processes = g_hash_table_new_full(NULL, NULL, NULL, cached_process_unref);
	attributor->shared = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_queue_init(&attributor->shared_order);
	attributor->known_exes = g_array_new(FALSE, FALSE, sizeof(KnownExe));
	g_array_set_clear_func(attributor->known_exes, known_exe_clear);
	return attributor;
}

static void
attributor_clear(gpointer data)
{
	VigilAttributor *attributor = data;
	g_ptr_array_unref(attributor->idle_diags);
	g_hash_table_destroy(attributor->sockets);
	g_array_unref(attributor->recent);
	g_hash_table_destroy(attributor->fd_tables);
	g_hash_table_destroy(attributor->processes);
	g_queue_clear(&attributor->shared_order);
	g_hash_table_destroy(attributor->shared);
	g_array_unref(attributor->known_exes);
	g_mutex_clear(&attributor->lock);
	g_mutex_clear(&attributor->scan_lock);
	vigil_sha_cache_free(attributor->sha_cache);
	/* no lookup holds a reference: none runs */
	vigil_fair_pool_free(attributor->lookup_pool);
	close(attributor->proc_fd);
	g_free(attributor->proc_root);
}

static void
attributor_unref(VigilAttributor *attributor)
{
	g_atomic_rc_box_release_full(attributor, attributor_clear);
}

/* lookups still pending keep what they need alive until they finish (one a process holds for
 * ever, for ever: nothing waits for it); hashes stop now */
void
vigil_attributor_free(VigilAttributor *attributor)
{
	if (attributor == NULL)
		return;
	vigil_sha_cache_stop(attributor->sha_cache);
	attributor_unref(attributor);
}

gboolean
vigil_attributor_set_hash_file(VigilAttributor *attributor, const char *path, GError **error)
{
	g_return_val_if_fail(attributor != NULL && path != NULL, FALSE);
	return vigil_sha_cache_attach_file(attributor->sha_cache, path, error);
}

char *
vigil_attributor_peek_hash(VigilAttributor *attributor, const VigilProcess *process)
{
	g_return_val_if_fail(attributor != NULL && process != NULL, NULL);
	return vigil_sha_cache_peek(attributor->sha_cache, process->exe_dev, process->exe_ino,
	                            process->exe_size, process->exe_mtime, process->exe_ctime);
}

void
vigil_attributor_set_ebpf(VigilAttributor *attributor, VigilEbpf *ebpf)
{
	struct stat st;

	g_return_if_fail(attributor != NULL);
	attributor->ebpf = ebpf;
	g_autofree char *mnt = g_build_filename(attributor->proc_root, "1/ns/mnt", NULL);
	attributor->host_mnt_ns = stat(mnt, &st) == 0 ? (guint32)st.st_ino : 0;
}

void
vigil_attributor_get_stats(VigilAttributor *attributor, VigilAttributorStats *stats)
{
	VigilShaCacheStats hashing;

	g_mutex_lock(&attributor->lock);
	*stats = attributor->stats;
	g_mutex_unlock(&attributor->lock);
	vigil_sha_cache_get_counters(attributor->sha_cache, &hashing);
	stats->hashes = hashing.hashes;
	stats->hash_waits = hashing.joined;
}

#define STAT_INC(a, field)                                                                         \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_mutex_lock(&(a)->lock);                                                          \
		(a)->stats.field++;                                                                \
		g_mutex_unlock(&(a)->lock);                                                        \
	}                                                                                          \
	G_STMT_END

/* flow -> socket */

static gboolean
find_socket(VigilAttributor *attributor, const VigilFlow *flow, VigilSockDiagFlags flags,
            guint64 *inode, guint32 *uid, guint64 *cookie, GError **error)
{
	g_mutex_lock(&attributor->lock);
	VigilSockDiag *diag = attributor->idle_diags->len > 0
	                          ? g_ptr_array_steal_index_fast(attributor->idle_diags,
	                                                         attributor->idle_diags->len - 1)
	                          : NULL;
	g_mutex_unlock(&attributor->lock);
	if (diag == NULL) {
		diag = vigil_sock_diag_new(attributor->proc_root, error);
		if (diag == NULL)
			return FALSE;
	}

	gboolean ok = vigil_sock_diag_lookup_cookie(diag, flow, flags, inode, uid, cookie, error);
	/* after a failure the socket may hold a late answer: do not reuse it */
	if (!ok) {
		vigil_sock_diag_free(diag);
		return FALSE;
	}
	g_mutex_lock(&attributor->lock);
	g_ptr_array_add(attributor->idle_diags, diag);
	g_mutex_unlock(&attributor->lock);
	return TRUE;
}

/* socket inode -> pid */

static gboolean
parse_socket_link(const char *link, guint64 *inode)
{
	static const char prefix[] = "socket:[";
	if (strncmp(link, prefix, sizeof(prefix) - 1) != 0)
		return FALSE;
	char *end = NULL;
	guint64 value = g_ascii_strtoull(link + sizeof(prefix) - 1, &end, 10);
	if (end == NULL || *end != ']' || end[1] != '\0' || value == 0)
		return FALSE;
	*inode = value;
	return TRUE;
}

/* is fd @fd of @pid still socket @inode? */
static gboolean
owner_still_holds(VigilAttributor *attributor, const SocketOwner *owner)
{
	char name[64];
	char link[SOCKET_LINK_MAX];
	guint64 inode = 0;
	g_snprintf(name, sizeof(name), "%u/fd/%d", owner->pid, owner->fd);
	ssize_t n = readlinkat(attributor->proc_fd, name, link, sizeof(link) - 1);
	if (n < 0)
		return FALSE;
	link[n] = '\0';
	return parse_socket_link(link, &inode) && inode == owner->inode;
}

enum {
	FD_SOCKET = 1,
	FD_OTHER = 2,
};

static GArray *
list_fds(DIR *dir)
{
	GArray *fds = g_array_new(FALSE, FALSE, sizeof(int));
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
			continue;
		int fd = atoi(entry->d_name);
		g_array_append_val(fds, fd);
	}
	return fds;
}

/* the order to read fds in: new since the last scan, then former sockets, then the rest */
static guint
fd_rank(GHashTable *previous, int fd)
{
	if (previous == NULL)
		return 0;
	gpointer kind = g_hash_table_lookup(previous, GINT_TO_POINTER(fd));
	return kind == NULL ? 0 : GPOINTER_TO_INT(kind);
}

/*
 * Reads the fd links of @pid, adding every socket to @seen, until @inode is found (as fd
 * *@found_fd) or @budget (when not NULL) runs out; returns whether @inode was found. What each
 * fd was is kept for recently active processes: a new socket usually has a new fd, or the fd of
 * a closed socket, so those are read first; a wrong guess only costs time.
 */
static gboolean
scan_fds(VigilAttributor *attributor, guint32 pid, guint64 inode, int *budget, GArray *seen,
         gboolean *exhausted, int *found_fd)
{
	char name[32];
	g_snprintf(name, sizeof(name), "%u/fd", pid);
	int dfd = openat(attributor->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return FALSE;
	DIR *dir = fdopendir(dfd);
	if (dir == NULL) {
		close(dfd);
		return FALSE;
	}
	g_autoptr(GArray) fds = list_fds(dir);

	/* stored tables are never changed, only replaced: safe to read without the lock */
	g_mutex_lock(&attributor->lock);
	GHashTable *previous = g_hash_table_lookup(attributor->fd_tables, GUINT_TO_POINTER(pid));
	if (previous != NULL)
		g_hash_table_ref(previous);
	g_mutex_unlock(&attributor->lock);
	g_autoptr(GHashTable) table = g_hash_table_new(NULL, NULL);

	gboolean found = FALSE;
	gboolean out_of_budget = FALSE;
	for (guint rank = 0; rank <= FD_OTHER; rank++) {
		for (guint i = 0; i < fds->len; i++) {
			int fd = g_array_index(fds, int, i);
			if (fd_rank(previous, fd) != rank)
				continue;
			gboolean read_now = !found && !out_of_budget;
			if (read_now && budget != NULL && (*budget)-- <= 0) {
				out_of_budget = TRUE;
				read_now = FALSE;
			}
			/* not read now: keep what was known, a new fd stays new */
			if (!read_now) {
				if (rank != 0)
					g_hash_table_insert(table, GINT_TO_POINTER(fd),
					                    GUINT_TO_POINTER(rank));
				continue;
			}
			char link[SOCKET_LINK_MAX];
			g_snprintf(name, sizeof(name), "%d", fd);
			ssize_t n = readlinkat(dirfd(dir), name, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			SocketOwner owner = {0, pid, fd};
			gboolean is_socket = parse_socket_link(link, &owner.inode);
			g_hash_table_insert(table, GINT_TO_POINTER(fd),
			                    GINT_TO_POINTER(is_socket ? FD_SOCKET : FD_OTHER));
			if (is_socket) {
				g_array_append_val(seen, owner);
				found = owner.inode == inode;
				if (found)
					*found_fd = fd;
			}
		}
	}
	closedir(dir);
	if (previous != NULL)
		g_hash_table_unref(previous);
	if (exhausted != NULL && out_of_budget)
		*exhausted = TRUE;

	g_mutex_lock(&attributor->lock);
	gboolean keep =
	    found || g_hash_table_contains(attributor->fd_tables, GUINT_TO_POINTER(pid));
	for (guint i = 0; !keep && i < attributor->recent->len; i++)
		keep = g_array_index(attributor->recent, guint32, i) == pid;
	if (keep)
		g_hash_table_replace(attributor->fd_tables, GUINT_TO_POINTER(pid),
		                     g_steal_pointer(&table));
	g_mutex_unlock(&attributor->lock);
	return found;
}

/* what the scans learnt, for later lookups of the same sockets */
static void
remember_sockets(VigilAttributor *attributor, GArray *seen)
{
	/* the usual fast path: the first guess was right, nothing new to remember */
	if (seen->len == 0)
		return;
	g_mutex_lock(&attributor->lock);
	if (g_hash_table_size(attributor->sockets) + seen->len > SOCKETS_MAX)
		g_hash_table_remove_all(attributor->sockets);
	for (guint i = 0; i < seen->len && i < SOCKETS_MAX; i++) {
		SocketOwner *owner =
		    g_memdup2(&g_array_index(seen, SocketOwner, i), sizeof(SocketOwner));
		g_hash_table_replace(attributor->sockets, &owner->inode, owner);
	}
	g_mutex_unlock(&attributor->lock);
}

static void
remember_recent(VigilAttributor *attributor, guint32 pid)
{
	g_mutex_lock(&attributor->lock);
	GArray *recent = attributor->recent;
	for (guint i = 0; i < recent->len; i++) {
		if (g_array_index(recent, guint32, i) == pid) {
			g_array_remove_index(recent, i);
			break;
		}
	}
	g_array_prepend_val(recent, pid);
	if (recent->len > RECENT_MAX)
		g_array_set_size(recent, RECENT_MAX);
	/* fd tables are for recently active processes only */
	if (g_hash_table_size(attributor->fd_tables) > RECENT_MAX) {
		GHashTableIter iter;
		gpointer key;
		g_hash_table_iter_init(&iter, attributor->fd_tables);
		while (g_hash_table_iter_next(&iter, &key, NULL)) {
			gboolean is_recent = FALSE;
			for (guint i = 0; !is_recent && i < recent->len; i++)
				is_recent =
				    g_array_index(recent, guint32, i) == GPOINTER_TO_UINT(key);
			if (!is_recent)
				g_hash_table_iter_remove(&iter);
		}
	}
	g_mutex_unlock(&attributor->lock);
}

/* the cheap part: the socket map, then recently active processes within @budget */
static OwnerResult
find_owner_known(VigilAttributor *attributor, guint64 inode, int *budget, GArray *seen,
                 GHashTable *scanned, SocketOwner *owner)
{
	g_mutex_lock(&attributor->lock);
	SocketOwner known = {0};
	SocketOwner *entry = g_hash_table_lookup(attributor->sockets, &inode);
	if (entry != NULL)
		known = *entry;
	GArray *recent = g_array_copy(attributor->recent);
	g_mutex_unlock(&attributor->lock);
	g_autoptr(GArray) recent_owned = recent;

	if (known.inode != 0) {
		if (owner_still_holds(attributor, &known)) {
			*owner = known;
			return OWNER_FOUND;
		}
		g_mutex_lock(&attributor->lock);
		g_hash_table_remove(attributor->sockets, &inode);
		g_mutex_unlock(&attributor->lock);
	}

	gboolean exhausted = FALSE;
	for (guint i = 0; i < recent->len && !exhausted; i++) {
		guint32 candidate = g_array_index(recent, guint32, i);
		if (g_hash_table_contains(scanned, GUINT_TO_POINTER(candidate)))
			continue;
		if (scan_fds(attributor, candidate, inode, budget, seen, &exhausted, &owner->fd)) {
			owner->inode = inode;
			owner->pid = candidate;
			return OWNER_FOUND;
		}
		if (!exhausted)
			g_hash_table_add(scanned, GUINT_TO_POINTER(candidate));
	}
	return exhausted ? OWNER_TOO_COSTLY : OWNER_NONE;
}

typedef struct {
	guint32 pid;
	uid_t owner; /* of /proc/PID: the euid, or root for a non-dumpable process */
} ProcEntry;

static guint32
read_last_pid(VigilAttributor *attributor)
{
	char buf[32] = {0};
	int fd = openat(attributor->proc_fd, "sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return G_MAXUINT32;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	guint64 value = 0;
	if (n <= 0 ||
	    !g_ascii_string_to_unsigned(g_strstrip(buf), 10, 1, G_MAXUINT32, &value, NULL))
		return G_MAXUINT32;
	return (guint32)value;
}

/* newest first: pids count down from the last one handed out, then down from the wrap */
static gint
compare_newest_first(gconstpointer a, gconstpointer b, gpointer user_data)
{
	guint32 last = GPOINTER_TO_UINT(user_data);
	guint32 x = ((const ProcEntry *)a)->pid;
	guint32 y = ((const ProcEntry *)b)->pid;
	gboolean x_old = x > last;
	gboolean y_old = y > last;
	if (x_old != y_old)
		return x_old ? 1 : -1;
	return x > y ? -1 : (x < y ? 1 : 0);
}

static GArray *
list_processes(VigilAttributor *attributor)
{
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(ProcEntry));
	int fd = openat(attributor->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return entries;
	}
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		guint64 pid;
		struct stat st;
		if (!g_ascii_string_to_unsigned(entry->d_name, 10, 1, G_MAXUINT32, &pid, NULL) ||
		    fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		ProcEntry proc = {(guint32)pid, st.st_uid};
		g_array_append_val(entries, proc);
	}
	closedir(dir);
	g_array_sort_with_data(entries, compare_newest_first,
	                       GUINT_TO_POINTER(read_last_pid(attributor)));
	return entries;
}

/* whether any of the real, effective, saved or filesystem uids of @pid is @uid */
static gboolean
process_has_uid(VigilAttributor *attributor, guint32 pid, guint32 uid)
{
	char name[32];
	char buf[4096];
	g_snprintf(name, sizeof(name), "%u/status", pid);
	int fd = openat(attributor->proc_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FALSE;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return FALSE;
	buf[n] = '\0';
	const char *line = strstr(buf, "\nUid:");
	if (line == NULL)
		return FALSE;
	const char *p = line + 5;
	for (int i = 0; i < UID_LINE_FIELDS; i++) {
		char *end = NULL;
		guint64 value = g_ascii_strtoull(p, &end, 10);
		if (end == p)
			return FALSE;
		if (value == uid)
			return TRUE;
		p = end;
	}
	return FALSE;
}

typedef enum {
	TIER_OWNED_BY_UID, /* /proc/PID belongs to the socket's uid */
	TIER_HIDDEN_UID,   /* non-dumpable processes show as root: their status tells */
	N_TIERS,           /* another user's process is never the socket's program */
} Tier;

static gboolean
in_tier(VigilAttributor *attributor, const ProcEntry *proc, guint32 uid, Tier tier)
{
	switch (tier) {
	case TIER_OWNED_BY_UID:
		return proc->owner == uid;
	case TIER_HIDDEN_UID:
		return uid != 0 && proc->owner == 0 && process_has_uid(attributor, proc->pid, uid);
	case N_TIERS:
		break;
	}
	return FALSE;
}

/* scans, in @procs, the processes of @tier not scanned yet */
static OwnerResult
scan_tier(VigilAttributor *attributor, GArray *procs, gboolean *done, Tier tier, guint64 inode,
          guint32 uid, GArray *seen, GHashTable *scanned, GCancellable *cancellable,
          SocketOwner *owner)
{
	guint scanned_in_tier = 0;
	for (guint i = 0; i < procs->len; i++) {
		const ProcEntry *proc = &g_array_index(procs, ProcEntry, i);
		if (done[i] || g_hash_table_contains(scanned, GUINT_TO_POINTER(proc->pid)) ||
		    !in_tier(attributor, proc, uid, tier))
			continue;
		if (g_cancellable_is_cancelled(cancellable))
			return OWNER_NONE;
		done[i] = TRUE;
		scanned_in_tier++;
		if (scan_fds(attributor, proc->pid, inode, NULL, seen, NULL, &owner->fd)) {
			owner->inode = inode;
			owner->pid = proc->pid;
			return OWNER_FOUND;
		}
		/* the search for other holders need not look here again */
		g_hash_table_add(scanned, GUINT_TO_POINTER(proc->pid));
	}
	g_debug("socket %" G_GUINT64_FORMAT " not in the %u processes of tier %d", inode,
	        scanned_in_tier, tier);
	return OWNER_NONE;
}

/*
 * The costly part: the processes of the socket's uid, newest first, then those that hide it
 * (non-dumpable ones show as root). Another user's process is not looked at: a socket made
 * before a setuid(), or passed to another user, is not that process's (an unknown process).
 */
static OwnerResult
find_owner_by_uid(VigilAttributor *attributor, guint64 inode, guint32 uid, GArray *seen,
                  GHashTable *scanned, GCancellable *cancellable, SocketOwner *owner)
{
	STAT_INC(attributor, proc_searches);
	g_autoptr(GArray) procs = list_processes(attributor);
	g_autofree gboolean *done = g_new0(gboolean, procs->len);

	for (Tier tier = TIER_OWNED_BY_UID; tier < N_TIERS; tier++) {
		if (scan_tier(attributor, procs, done, tier, inode, uid, seen, scanned, cancellable,
		              owner) == OWNER_FOUND)
			return OWNER_FOUND;
	}
	return OWNER_NONE;
}

/* shared sockets: never answered on the fast path, which knows one holder only */

static gboolean
socket_is_shared(VigilAttributor *attributor, guint64 inode)
{
	if (g_atomic_int_get(&attributor->n_shared) == 0)
		return FALSE;
	g_mutex_lock(&attributor->lock);
	gboolean shared = g_hash_table_contains(attributor->shared, &inode);
	g_mutex_unlock(&attributor->lock);
	return shared;
}

static void
remember_shared(VigilAttributor *attributor, guint64 inode)
{
	g_mutex_lock(&attributor->lock);
	if (!g_hash_table_contains(attributor->shared, &inode)) {
		if (g_hash_table_size(attributor->shared) >= SHARED_MAX) {
			guint64 *oldest = g_queue_pop_head(&attributor->shared_order);
			g_hash_table_remove(attributor->shared, oldest);
		}
		guint64 *key = g_memdup2(&inode, sizeof(inode));
		g_hash_table_add(attributor->shared, key);
		g_queue_push_tail(&attributor->shared_order, key);
		g_atomic_int_set(&attributor->n_shared,
		                 (gint)g_hash_table_size(attributor->shared));
	}
	g_mutex_unlock(&attributor->lock);
}

/* pid -> process */

/* the cached entry of @pid, with a reference, or NULL */
static CachedProcess *
cache_get(VigilAttributor *attributor, guint32 pid)
{
	g_mutex_lock(&attributor->lock);
	CachedProcess *cached = g_hash_table_lookup(attributor->processes, GUINT_TO_POINTER(pid));
	if (cached != NULL)
		g_atomic_rc_box_acquire(cached);
	g_mutex_unlock(&attributor->lock);
	return cached;
}

/*
 * The process of @cached if it is still what was read: alive (its fds still answer), no exec
 * since (the exe and the image in the stamp; with VIGIL_LOOKUP_SAME_PROGRAM the exe only), and
 * its socket owned by the same uid as the one it was read for (a process that changed its uids
 * makes sockets of its new fsuid). Otherwise the entry goes, and the caller reads it again.
 */
static VigilProcess *
cached_process_check(VigilAttributor *attributor, CachedProcess *cached, guint32 sock_uid,
                     VigilLookupCheck check)
{
	VigilProcessStamp now;
	gboolean valid = cached->sock_uid == sock_uid;
	if (valid && check == VIGIL_LOOKUP_SAME_PROGRAM)
		valid = vigil_process_read_exe_stamp_at(cached->dir_fd, &now) &&
		        vigil_process_exe_stamp_equal(&cached->stamp, &now);
	else if (valid)
		valid = vigil_process_read_stamp_at(cached->dir_fd, cached->stat_fd, &now) &&
		        vigil_process_stamp_equal(&cached->stamp, &now);
	guint32 pid = cached->process->pid;

	g_mutex_lock(&attributor->lock);
	if (valid) {
		cached->last_used = g_get_monotonic_time();
		attributor->stats.process_hits++;
	} else if (g_hash_table_lookup(attributor->processes, GUINT_TO_POINTER(pid)) == cached) {
		/* it exec'd, changed its uid, or is gone (its pid may be another process now) */
		g_hash_table_remove(attributor->processes, GUINT_TO_POINTER(pid));
	}
	g_mutex_unlock(&attributor->lock);
	return valid ? vigil_process_ref(cached->process) : NULL;
}

static VigilProcess *
cached_process(VigilAttributor *attributor, guint32 pid, guint32 sock_uid, VigilLookupCheck check)
{
	g_autoptr(CachedProcess) cached = cache_get(attributor, pid);
	return cached != NULL ? cached_process_check(attributor, cached, sock_uid, check) : NULL;
}

/* @fd of @pid held a socket just now: the first guess for its next one */
static void
note_socket_fd(VigilAttributor *attributor, guint32 pid, int fd)
{
	g_mutex_lock(&attributor->lock);
	CachedProcess *cached = g_hash_table_lookup(attributor->processes, GUINT_TO_POINTER(pid));
	if (cached != NULL && fd >= 0) {
		int *fds = cached->socket_fds;
		guint at = SOCKET_FDS_MAX - 1;
		for (guint i = 0; i < SOCKET_FDS_MAX - 1; i++) {
			if (fds[i] == fd) {
				at = i;
				break;
			}
		}
		memmove(fds + 1, fds, at * sizeof(int));
		fds[0] = fd;
	}
	g_mutex_unlock(&attributor->lock);
}

/* takes @dir_fd and @stat_fd */
static void
cache_process(VigilAttributor *attributor, VigilProcess *process, const VigilProcessStamp *stamp,
              guint32 sock_uid, int dir_fd, int stat_fd)
{
	CachedProcess *cached = g_atomic_rc_box_new0(CachedProcess);
	cached->process = vigil_process_ref(process);
	cached->stamp = *stamp;
	cached->sock_uid = sock_uid;
	cached->dir_fd = dir_fd;
	cached->stat_fd = stat_fd;
	for (guint i = 0; i < SOCKET_FDS_MAX; i++)
		cached->socket_fds[i] = -1;
	cached->last_used = g_get_monotonic_time();

	g_mutex_lock(&attributor->lock);
	GHashTable *table = attributor->processes;
	if (g_hash_table_size(table) >= PROCESSES_MAX &&
	    !g_hash_table_contains(table, GUINT_TO_POINTER(process->pid))) {
		/* a linear walk over a few hundred entries, once per new process; the fds of
		 * the one evicted close when its last user is done with them */
		gpointer oldest_key = NULL;
		gint64 oldest = G_MAXINT64;
		GHashTableIter iter;
		gpointer key;
		gpointer value;
		g_hash_table_iter_init(&iter, table);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			CachedProcess *entry = value;
			if (entry->last_used < oldest) {
				oldest = entry->last_used;
				oldest_key = key;
			}
		}
		g_hash_table_remove(table, oldest_key);
	}
	g_hash_table_replace(table, GUINT_TO_POINTER(process->pid), cached);
	g_mutex_unlock(&attributor->lock);
}

/* /proc/PID and its stat file, for a cache entry; FALSE when the process is gone or fds ran out */
static gboolean
open_process_fds(VigilAttributor *attributor, guint32 pid, int *dir_fd, int *stat_fd)
{
	char name[32];
	g_snprintf(name, sizeof(name), "%u", pid);
	*dir_fd = openat(attributor->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*stat_fd = *dir_fd >= 0 ? openat(*dir_fd, "stat", O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;
	if (*stat_fd >= 0)
		return TRUE;
	if (*dir_fd >= 0)
		close(*dir_fd);
	*dir_fd = -1;
	return FALSE;
}

static void
close_process_fds(int dir_fd, int stat_fd)
{
	if (stat_fd >= 0)
		close(stat_fd);
	if (dir_fd >= 0)
		close(dir_fd);
}

/*
 * Reads @pid and caches it when that is safe: stamped through fds bound to the process before
 * and after the read, with nothing changed between, the read (by pid) described that process.
 */
static VigilProcess *
read_process(VigilAttributor *attributor, guint32 pid, guint32 sock_uid, GError **error)
{
	VigilProcess *process = cached_process(attributor, pid, sock_uid, VIGIL_LOOKUP_EXACT);
	if (process != NULL)
		return process;

	int dir_fd = -1;
	int stat_fd = -1;
	VigilProcessStamp before;
	gboolean stamped = open_process_fds(attributor, pid, &dir_fd, &stat_fd) &&
	                   vigil_process_read_stamp_at(dir_fd, stat_fd, &before);
	g_autoptr(GError) local_error = NULL;
	process =
	    vigil_process_read(attributor->proc_root, pid, attributor->sha_cache, &local_error);
	if (process == NULL) {
		close_process_fds(dir_fd, stat_fd);
		/* it exited since: an unknown process, not a failure */
		if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
			return NULL;
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	VigilProcessStamp after;
	/* a process of another user than the socket's is never its program, one run from FUSE
	 * never a known one: not remembered */
	if (process->uid == sock_uid && !process->exe_on_fuse && stamped &&
	    vigil_process_read_stamp_at(dir_fd, stat_fd, &after) &&
	    vigil_process_stamp_equal(&before, &after) &&
	    before.start_time == process->start_time && before.exe_dev == process->exe_dev &&
	    before.exe_ino == process->exe_ino)
		cache_process(attributor, process, &before, sock_uid, dir_fd, stat_fd);
	else
		close_process_fds(dir_fd, stat_fd);
	return process;
}

/*
 * A process whose executable is on a FUSE file system is an unknown program: the file is what
 * its server, a program of the user who mounted it, says it is (another file to a hash than to
 * exec), and vigild asks that server nothing, which might never answer. Takes @process.
 */
static VigilProcess *
known_or_null(VigilProcess *process)
{
	if (process == NULL || !process->exe_on_fuse)
		return process;
	g_info("pid %u runs %s from a FUSE file system: an unknown program", process->pid,
	       process->exe);
	vigil_process_unref(process);
	return NULL;
}

/*
 * The recent processes' latest socket fds: a program that connects and closes in turn gets the
 * same fd number back, so one readlink finds the owner of its new socket. Returns the entry of
 * the owner, with a reference, and the fd in *@fd. Sockets seen on the way go to @seen.
 */
static CachedProcess *
guess_owner(VigilAttributor *attributor, guint64 inode, GArray *seen, int *fd)
{
	CachedProcess *candidates[GUESS_PROCESSES];
	int fds[GUESS_PROCESSES][SOCKET_FDS_MAX];
	guint n = 0;

	g_mutex_lock(&attributor->lock);
	for (guint i = 0; i < attributor->recent->len && n < GUESS_PROCESSES; i++) {
		guint32 pid = g_array_index(attributor->recent, guint32, i);
		CachedProcess *cached =
		    g_hash_table_lookup(attributor->processes, GUINT_TO_POINTER(pid));
		if (cached == NULL)
			continue;
		candidates[n] = g_atomic_rc_box_acquire(cached);
		memcpy(fds[n], cached->socket_fds, sizeof(fds[n]));
		n++;
	}
	g_mutex_unlock(&attributor->lock);

	CachedProcess *found = NULL;
	for (guint i = 0; i < n; i++) {
		for (guint j = 0; found == NULL && j < SOCKET_FDS_MAX && fds[i][j] >= 0; j++) {
			char name[32];
			char link[SOCKET_LINK_MAX];
			g_snprintf(name, sizeof(name), "fd/%d", fds[i][j]);
			ssize_t len =
			    readlinkat(candidates[i]->dir_fd, name, link, sizeof(link) - 1);
			if (len < 0)
				continue;
			link[len] = '\0';
			SocketOwner owner = {0, candidates[i]->process->pid, fds[i][j]};
			if (!parse_socket_link(link, &owner.inode))
				continue;
			if (owner.inode == inode) {
				found = g_atomic_rc_box_acquire(candidates[i]);
				*fd = fds[i][j];
			} else {
				g_array_append_val(seen, owner);
			}
		}
		cached_process_unref(candidates[i]);
	}
	return found;
}

/* one lookup */

typedef struct _Lookup Lookup;

struct _Lookup {
	VigilAttributor *attributor;
	VigilFlow flow;
	guint64 inode;
	guint32 sock_uid;
	VigilLookupCheck check; /* of a cached process, on the fast path */
	gint64 start;
	GArray *seen;        /* of SocketOwner, found by the scans */
	GHashTable *scanned; /* pids already searched in full; made when a search starts */
	GArray *holders;     /* other pids that hold the socket, from the slow path */
	guint64 cookie;      /* of the socket sock_diag found */
	gboolean has_record; /* the kernel recorded who connected or sent (eBPF) */
	VigilEbpfRecord record;
};

static Lookup *
lookup_new(VigilAttributor *attributor, const VigilFlow *flow)
{
	Lookup *lookup = g_new0(Lookup, 1);
	lookup->attributor = g_atomic_rc_box_acquire(attributor);
	lookup->flow = *flow;
	lookup->start = g_get_monotonic_time();
	lookup->seen = g_array_new(FALSE, FALSE, sizeof(SocketOwner));
	return lookup;
}

static void
lookup_free(gpointer data)
{
	Lookup *lookup = data;
	g_array_unref(lookup->seen);
	g_clear_pointer(&lookup->holders, g_array_unref);
	g_clear_pointer(&lookup->scanned, g_hash_table_unref);
	attributor_unref(lookup->attributor);
	g_free(lookup);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Lookup, lookup_free)

/* the pids searched so far; a lookup answered by its first guess never needs the table */
static GHashTable *
lookup_scanned(Lookup *lookup)
{
	if (lookup->scanned == NULL)
		lookup->scanned = g_hash_table_new(NULL, NULL);
	return lookup->scanned;
}

/* one debug line per lookup, with its cost: the numbers that tell whether the caches work */
static void
log_result(Lookup *lookup, const char *path, VigilProcess *process)
{
	/* formatting costs more than the fast path itself: only when someone reads it */
	if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
		return;
	char src[INET6_ADDRSTRLEN] = "?";
	char dst[INET6_ADDRSTRLEN] = "?";
	g_autofree char *who = process != NULL
	                           ? g_strdup_printf("pid %u %s", process->pid, process->exe)
	                           : g_strdup("no process");
	inet_ntop(lookup->flow.family, lookup->flow.src.bytes, src, sizeof(src));
	inet_ntop(lookup->flow.family, lookup->flow.dst.bytes, dst, sizeof(dst));
	g_debug("proto %u %s:%u -> %s:%u: socket %" G_GUINT64_FORMAT " -> %s in %" G_GINT64_FORMAT
	        " us (%s path)",
	        lookup->flow.protocol, src, lookup->flow.sport, dst, lookup->flow.dport,
	        lookup->inode, who, g_get_monotonic_time() - lookup->start, path);
}

/* the kernel's record (eBPF): who connected or sent, also when it is gone since */

static gboolean
same_task_program(const VigilEbpfTask *a, const VigilEbpfTask *b)
{
	return a->exe_dev == b->exe_dev && a->exe_ino == b->exe_ino && a->uid == b->uid;
}

/*
 * The record of the socket that sent the packet: by its flow when that socket wrote it (or the
 * socket is gone), else by the cookie of the socket sock_diag found. A flow record of another
 * live socket than that one (two sockets on one port) joins as the other task: either of them
 * may have sent it. A socket with no record (made outside EbpfCgroup, or before vigild) is
 * left to /proc.
 */
static gboolean
kernel_record(Lookup *lookup)
{
	VigilEbpf *ebpf = lookup->attributor->ebpf;
	VigilEbpfRecord by_flow;
	VigilEbpfRecord by_cookie;

	if (ebpf == NULL)
		return FALSE;
	gboolean flow_ok = vigil_ebpf_lookup_flow(ebpf, &lookup->flow, &by_flow);
	gboolean cookie_ok =
	    lookup->cookie != 0 && vigil_ebpf_lookup_cookie(ebpf, lookup->cookie, &by_cookie);
	if (flow_ok && (lookup->inode == 0 || by_flow.cookie == lookup->cookie)) {
		lookup->record = by_flow;
	} else if (cookie_ok) {
		lookup->record = by_cookie;
		if (flow_ok && !by_flow.released && !lookup->record.other.set &&
		    !same_task_program(&by_flow.actor, &by_cookie.actor))
			lookup->record.other = by_flow.actor;
	} else {
		return FALSE;
	}
	lookup->has_record = TRUE;
	return TRUE;
}

/*
 * A ping or raw socket has no record while it lives (no hook runs per datagram before the
 * queue): the kernel keeps who made it once it is closed. For a packet whose socket /proc
 * does not list (closed since: a ping that sent and exited), or listed with no holder left
 * (closed while it was searched), that record is the sender.
 */
static gboolean
closed_icmp_record(Lookup *lookup)
{
	VigilEbpf *ebpf = lookup->attributor->ebpf;

	if (ebpf == NULL ||
	    !vigil_ebpf_lookup_icmp(ebpf, &lookup->flow, lookup->inode, &lookup->record))
		return FALSE;
	lookup->has_record = TRUE;
	return TRUE;
}

/* what the kernel recorded of a task that is gone (or exec'd since) */
static VigilProcess *
kernel_process(VigilAttributor *attributor, const VigilEbpfTask *task)
{
	VigilProcess *process = vigil_process_new();

	process->pid = task->tgid;
	process->start_time = task->start_time;
	process->uid = task->uid;
	process->user_name = vigil_user_name(task->uid);
	process->exe_dev = (dev_t)task->exe_dev;
	process->exe_ino = (ino_t)task->exe_ino;
	process->exe_size = task->exe_size;
	process->exe_ctime = task->exe_ctime;
	process->exited = TRUE;
	g_mutex_lock(&attributor->lock);
	const char *path = NULL;
	for (guint i = 0; i < attributor->known_exes->len; i++) {
		const KnownExe *known = &g_array_index(attributor->known_exes, KnownExe, i);
		if (known->dev == task->exe_dev && known->ino == task->exe_ino &&
		    known->size == task->exe_size && known->ctime == task->exe_ctime)
			path = known->path;
	}
	process->exe = path != NULL ? g_strdup(path) : g_strdup_printf("[%s]", task->comm);
	g_mutex_unlock(&attributor->lock);
	process->foreign_mount_ns =
	    attributor->host_mnt_ns != 0 && task->mnt_ns != attributor->host_mnt_ns;
	return process;
}

/* the executables of processes read for a record: a path for when one has exited */
static void
remember_exe(VigilAttributor *attributor, const VigilProcess *process)
{
	KnownExe known = {process->exe_dev, process->exe_ino, process->exe_size, process->exe_ctime,
	                  NULL};

	g_mutex_lock(&attributor->lock);
	for (guint i = 0; i < attributor->known_exes->len; i++) {
		KnownExe *k = &g_array_index(attributor->known_exes, KnownExe, i);
		if (k->dev == known.dev && k->ino == known.ino && k->size == known.size &&
		    k->ctime == known.ctime && g_strcmp0(k->path, process->exe) == 0) {
			g_mutex_unlock(&attributor->lock);
			return;
		}
	}
	if (attributor->known_exes->len >= KNOWN_EXES_MAX)
		g_array_remove_index(attributor->known_exes, 0);
	known.path = g_strdup(process->exe);
	g_array_append_val(attributor->known_exes, known);
	g_mutex_unlock(&attributor->lock);
}

/* @process runs the executable file @task had when the kernel recorded it */
static gboolean
same_recorded_exe(const VigilProcess *process, const VigilEbpfTask *task)
{
	return (guint64)process->exe_dev == task->exe_dev &&
	       (guint64)process->exe_ino == task->exe_ino;
}

/*
 * The process of a recorded task: /proc's when its pid is still that process in that exec
 * (start time and address-space layout as recorded), else what the kernel recorded. Without
 * @may_read only a cached process is answered; *@costly says that reading one is needed.
 * *@unknown is set when it runs an executable from FUSE (known_or_null()).
 */
static VigilProcess *
task_process(VigilAttributor *attributor, const VigilEbpfTask *task, gboolean may_read,
             gboolean *costly, gboolean *unknown)
{
	VigilProcessStamp now;

	if (task->no_exe)
		return NULL; /* a kernel thread: no program */
	g_autoptr(CachedProcess) cached = cache_get(attributor, task->tgid);
	/* /proc speaks for the task only while it runs the executable the kernel recorded: a
	 * process that sent and then exec'd another program (even one with the same image
	 * layout) is the program that sent */
	if (cached != NULL && cached->stamp.start_time == task->start_time &&
	    cached->stamp.image == task->image && same_recorded_exe(cached->process, task) &&
	    vigil_process_read_stamp_at(cached->dir_fd, cached->stat_fd, &now) &&
	    vigil_process_stamp_equal(&cached->stamp, &now)) {
		g_mutex_lock(&attributor->lock);
		cached->last_used = g_get_monotonic_time();
		attributor->stats.process_hits++;
		g_mutex_unlock(&attributor->lock);
		return vigil_process_ref(cached->process);
	}
	if (!may_read) {
		*costly = TRUE;
		return NULL;
	}
	if (vigil_process_read_stamp(attributor->proc_root, task->tgid, &now) &&
	    now.start_time == task->start_time && now.image == task->image) {
		g_autoptr(VigilProcess) process =
		    read_process(attributor, task->tgid, task->uid, NULL);
		if (process != NULL && process->exe_on_fuse) {
			*unknown = TRUE;
			return known_or_null(g_steal_pointer(&process));
		}
		if (process != NULL && process->start_time == task->start_time &&
		    process->exe_ino == now.exe_ino && process->exe_dev == now.exe_dev &&
		    same_recorded_exe(process, task)) {
			remember_exe(attributor, process);
			return g_steal_pointer(&process);
		}
	}
	return kernel_process(attributor, task);
}

/* a sender vigild cannot name, of user @uid: an unknown program among a packet's holders */
static VigilProcess *
unnamed_process(guint32 uid)
{
	VigilProcess *process = vigil_process_new();

	process->uid = uid;
	process->user_name = vigil_user_name(uid);
	process->exe = g_strdup("[unknown]");
	process->unnamed = TRUE;
	return process;
}

/*
 * The answer from the record: the task that connected or sent, of the socket's user (another
 * user's task is not its program: an unknown process); the task that made the socket and
 * another live socket's task on the same flow, when they are other programs, are its holders
 * (the least trusted decides). NULL with *@costly set: /proc has to be read, in a thread.
 */
static VigilProcess *
record_process(Lookup *lookup, gboolean may_read, gboolean *costly)
{
	VigilAttributor *attributor = lookup->attributor;
	const VigilEbpfRecord *record = &lookup->record;
	guint32 sock_uid = lookup->flow.has_uid ? lookup->flow.uid
	                   : lookup->inode != 0 ? lookup->sock_uid
	                                        : record->actor.uid;
	const VigilEbpfTask *extra[2];
	guint n_extra = 0;

	*costly = FALSE;
	if (record->creator.set && !same_task_program(&record->creator, &record->actor))
		extra[n_extra++] = &record->creator;
	if (record->other.set && !same_task_program(&record->other, &record->actor) &&
	    !(record->creator.set && same_task_program(&record->other, &record->creator)))
		extra[n_extra++] = &record->other;

	gboolean unknown = FALSE;
	g_autoptr(VigilProcess) actor =
	    task_process(attributor, &record->actor, may_read, costly, &unknown);
	if (actor == NULL)
		return NULL;
	if (actor->uid != sock_uid) {
		g_info("socket of uid %u was connected by pid %u %s of uid %u: not its program",
		       sock_uid, actor->pid, actor->exe, actor->uid);
		return NULL;
	}
	if (n_extra == 0 && !record->unnamed_too)
		return g_steal_pointer(&actor);

	g_autoptr(GPtrArray) others =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_process_unref);
	g_autoptr(GString) names = g_string_new(NULL);
	for (guint i = 0; i < n_extra; i++) {
		VigilProcess *other =
		    task_process(attributor, extra[i], may_read, costly, &unknown);
		/* a holder run from FUSE makes the socket an unknown program's */
		if (*costly || unknown)
			return NULL;
		if (other == NULL)
			continue;
		if (other->uid != sock_uid) {
			g_info("socket of uid %u was also used by pid %u of uid %u: an unknown "
			       "process's",
			       sock_uid, other->pid, other->uid);
			vigil_process_unref(other);
			return NULL;
		}
		g_string_append_printf(names, ", pid %u %s", other->pid, other->exe);
		g_ptr_array_add(others, other);
	}
	if (record->unnamed_too) {
		g_ptr_array_add(others, unnamed_process(sock_uid));
		g_string_append(names, ", an unknown program");
	}
	if (others->len == 0)
		return g_steal_pointer(&actor);
	g_info("socket %" G_GUINT64_FORMAT " is held by %u programs: pid %u %s%s; the least "
	       "trusted decides",
	       lookup->inode, others->len + 1, actor->pid, actor->exe, names->str);
	VigilProcess *shared = vigil_process_copy_with_sha256(actor, actor->sha256);
	shared->holders = g_steal_pointer(&others);
	return shared;
}

/*
 * The calling thread's part: TRUE when it answered, with the process in *result or a failure in
 * *error; FALSE when a worker thread has to go on.
 */
static gboolean
lookup_fast(Lookup *lookup, VigilProcess **result, GError **error)
{
	VigilAttributor *attributor = lookup->attributor;
	*result = NULL;

	if (!find_socket(attributor, &lookup->flow, VIGIL_SOCK_DIAG_PRIMARY_ONLY, &lookup->inode,
	                 &lookup->sock_uid, &lookup->cookie, error)) {
		STAT_INC(attributor, lookups);
		return TRUE;
	}
	/* what the kernel recorded: no search of /proc for who holds the socket */
	if (kernel_record(lookup)) {
		gboolean costly = FALSE;
		*result = record_process(lookup, FALSE, &costly);
		if (costly)
			return FALSE;
		g_mutex_lock(&attributor->lock);
		attributor->stats.lookups++;
		attributor->stats.fast++;
		attributor->stats.kernel++;
		g_mutex_unlock(&attributor->lock);
		log_result(lookup, "kernel", *result);
		return TRUE;
	}
	/* the fallbacks (dumps, raw sockets) may take milliseconds: not on this thread; a shared
	 * socket needs all its holders, which only the search finds */
	if (lookup->inode == 0 || socket_is_shared(attributor, lookup->inode))
		return FALSE;

	SocketOwner owner = {0, 0, -1};
	g_autoptr(CachedProcess) guessed =
	    guess_owner(attributor, lookup->inode, lookup->seen, &owner.fd);
	if (guessed != NULL) {
		STAT_INC(attributor, fd_guesses);
		owner.pid = guessed->process->pid;
		*result =
		    cached_process_check(attributor, guessed, lookup->sock_uid, lookup->check);
	} else {
		int budget = FAST_FD_BUDGET;
		if (find_owner_known(attributor, lookup->inode, &budget, lookup->seen,
		                     lookup_scanned(lookup), &owner) == OWNER_FOUND)
			*result =
			    cached_process(attributor, owner.pid, lookup->sock_uid, lookup->check);
	}
	remember_sockets(attributor, lookup->seen);
	g_array_set_size(lookup->seen, 0);
	/* a known process is answered here; reading a new one (and hashing it) is not */
	if (*result == NULL)
		return FALSE;
	remember_recent(attributor, owner.pid);
	note_socket_fd(attributor, owner.pid, owner.fd);
	g_mutex_lock(&attributor->lock);
	attributor->stats.lookups++;
	attributor->stats.fast++;
	g_mutex_unlock(&attributor->lock);
	log_result(lookup, "fast", *result);
	return TRUE;
}

/*
 * Searches are serialised: when a new program opens many connections at once, the first
 * search finds it and the others then find it among the recent processes, instead of all of
 * them walking /proc side by side.
 */
static OwnerResult
find_owner_slow(Lookup *lookup, GCancellable *cancellable, SocketOwner *owner)
{
	VigilAttributor *attributor = lookup->attributor;

	g_mutex_lock(&attributor->scan_lock);
	OwnerResult found = find_owner_known(attributor, lookup->inode, NULL, lookup->seen,
	                                     lookup_scanned(lookup), owner);
	if (found != OWNER_FOUND)
		found = find_owner_by_uid(attributor, lookup->inode, lookup->sock_uid, lookup->seen,
		                          lookup_scanned(lookup), cancellable, owner);
	remember_sockets(attributor, lookup->seen);
	g_array_set_size(lookup->seen, 0);
	if (found == OWNER_FOUND)
		remember_recent(attributor, owner->pid);
	g_mutex_unlock(&attributor->scan_lock);
	return found;
}

/* adds @pid to @candidates once */
static void
add_candidate(GArray *candidates, guint32 pid)
{
	for (guint i = 0; i < candidates->len; i++) {
		if (g_array_index(candidates, guint32, i) == pid)
			return;
	}
	g_array_append_val(candidates, pid);
}

/* the children of every thread of @pid, from /proc/PID/task/TID/children */
static void
add_children(VigilAttributor *attributor, guint32 pid, GArray *candidates)
{
	char name[64];
	g_snprintf(name, sizeof(name), "%u/task", pid);
	int fd = openat(attributor->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL && candidates->len < COHOLDER_CANDIDATES) {
		char buf[4096];
		if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
			continue;
		g_snprintf(name, sizeof(name), "%s/children", entry->d_name);
		int cfd = openat(dirfd(dir), name, O_RDONLY | O_CLOEXEC);
		if (cfd < 0)
			continue;
		ssize_t n = read(cfd, buf, sizeof(buf) - 1);
		close(cfd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		g_auto(GStrv) pids = g_strsplit(g_strstrip(buf), " ", -1);
		for (guint i = 0; pids[i] != NULL && candidates->len < COHOLDER_CANDIDATES; i++) {
			guint64 child;
			if (g_ascii_string_to_unsigned(pids[i], 10, 1, G_MAXUINT32, &child, NULL))
				add_candidate(candidates, (guint32)child);
		}
	}
	closedir(dir);
}

/*
 * The processes that may hold the socket too, searched without walking every process: the
 * owner's ancestors and descendants (a socket inherited across fork and exec, or passed to a
 * child) and the recently active processes. Bounded by COHOLDER_CANDIDATES.
 */
static GArray *
coholder_candidates(VigilAttributor *attributor, const VigilProcess *owner)
{
	GArray *candidates = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (guint i = 0; owner->parents != NULL && i < owner->parents->len; i++) {
		guint64 pid = g_ascii_strtoull(g_ptr_array_index(owner->parents, i), NULL, 10);
		if (pid > 1 && pid <= G_MAXUINT32)
			add_candidate(candidates, (guint32)pid);
	}
	/* descendants, breadth first: the list grows while it is read */
	guint first_child = candidates->len;
	add_children(attributor, owner->pid, candidates);
	for (guint i = first_child; i < candidates->len && candidates->len < COHOLDER_CANDIDATES;
	     i++)
		add_children(attributor, g_array_index(candidates, guint32, i), candidates);
	g_mutex_lock(&attributor->lock);
	for (guint i = 0; i < attributor->recent->len; i++)
		add_candidate(candidates, g_array_index(attributor->recent, guint32, i));
	g_mutex_unlock(&attributor->lock);
	return candidates;
}

/* which of the candidates hold the socket too */
static GArray *
find_coholders(Lookup *lookup, const VigilProcess *owner, GCancellable *cancellable)
{
	VigilAttributor *attributor = lookup->attributor;
	g_autoptr(GArray) candidates = coholder_candidates(attributor, owner);
	GArray *holders = g_array_new(FALSE, FALSE, sizeof(guint32));
	GHashTable *scanned = lookup_scanned(lookup);

	for (guint i = 0; i < candidates->len && holders->len < HOLDERS_MAX; i++) {
		guint32 pid = g_array_index(candidates, guint32, i);
		int fd = -1;
		if (pid == owner->pid || g_hash_table_contains(scanned, GUINT_TO_POINTER(pid)) ||
		    g_cancellable_is_cancelled(cancellable))
			continue;
		if (scan_fds(attributor, pid, lookup->inode, NULL, lookup->seen, NULL, &fd))
			g_array_append_val(holders, pid);
	}
	remember_sockets(attributor, lookup->seen);
	g_array_set_size(lookup->seen, 0);
	return holders;
}

static gboolean
same_program(const VigilProcess *a, const VigilProcess *b)
{
	return a->exe_dev == b->exe_dev && a->exe_ino == b->exe_ino && a->uid == b->uid &&
	       g_strcmp0(a->app_id, b->app_id) == 0;
}

/*
 * The socket's holders must be of its user: a process of another uid than the socket's owner is
 * not its program (a socket made before a setuid(), or passed to another user), and then the
 * connection is an unknown process's. Holders of other programs come with the answer (a copy of
 * @process with holders set): the daemon lets the least trusted of them decide. Takes @process.
 */
static VigilProcess *
check_holders(Lookup *lookup, VigilProcess *process, GCancellable *cancellable)
{
	VigilAttributor *attributor = lookup->attributor;
	g_autoptr(VigilProcess) owner = process;

	if (owner->uid != lookup->sock_uid) {
		g_info("socket %" G_GUINT64_FORMAT " of uid %u is held by pid %u %s of uid %u: "
		       "not its program",
		       lookup->inode, lookup->sock_uid, owner->pid, owner->exe, owner->uid);
		return NULL;
	}
	lookup->holders = find_coholders(lookup, owner, cancellable);
	if (lookup->holders->len == 0)
		return g_steal_pointer(&owner);

	g_autoptr(GPtrArray) others =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_process_unref);
	g_autoptr(GString) names = g_string_new(NULL);
	for (guint i = 0; i < lookup->holders->len; i++) {
		guint32 pid = g_array_index(lookup->holders, guint32, i);
		g_autoptr(VigilProcess) holder =
		    read_process(attributor, pid, lookup->sock_uid, NULL);
		if (holder == NULL)
			continue; /* gone since */
		if (holder->exe_on_fuse) {
			known_or_null(g_steal_pointer(&holder));
			return NULL; /* the least trusted holder decides: an unknown program */
		}
		if (holder->uid != lookup->sock_uid) {
			g_info("socket %" G_GUINT64_FORMAT " of uid %u is also held by pid %u of "
			       "uid %u: an unknown process's",
			       lookup->inode, lookup->sock_uid, pid, holder->uid);
			return NULL;
		}
		gboolean known = same_program(holder, owner);
		for (guint j = 0; !known && j < others->len; j++)
			known = same_program(holder, g_ptr_array_index(others, j));
		if (known)
			continue;
		g_string_append_printf(names, ", pid %u %s", holder->pid, holder->exe);
		g_ptr_array_add(others, g_steal_pointer(&holder));
	}
	if (others->len == 0)
		return g_steal_pointer(&owner);

	remember_shared(attributor, lookup->inode);
	g_info("socket %" G_GUINT64_FORMAT " is held by %u programs: pid %u %s%s; the least "
	       "trusted decides",
	       lookup->inode, others->len + 1, owner->pid, owner->exe, names->str);
	VigilProcess *shared = vigil_process_copy_with_sha256(owner, owner->sha256);
	shared->holders = g_steal_pointer(&others);
	return shared;
}

/* the process of the kernel's record, read in full (on a worker thread) */
static VigilProcess *
recorded_process(Lookup *lookup)
{
	gboolean costly = FALSE;
	VigilProcess *recorded = record_process(lookup, TRUE, &costly);

	STAT_INC(lookup->attributor, kernel);
	log_result(lookup, "kernel, slow", recorded);
	return recorded;
}

/* the rest, on any thread: searching processes, reading and hashing */
static VigilProcess *
lookup_slow(Lookup *lookup, GCancellable *cancellable, GError **error)
{
	VigilAttributor *attributor = lookup->attributor;
	SocketOwner owner = {0, 0, -1};

	g_mutex_lock(&attributor->lock);
	attributor->stats.lookups++;
	attributor->stats.slow++;
	g_mutex_unlock(&attributor->lock);
	if (lookup->has_record)
		return recorded_process(lookup);
	if (lookup->inode == 0) {
		if (!find_socket(attributor, &lookup->flow, VIGIL_SOCK_DIAG_ALL, &lookup->inode,
		                 &lookup->sock_uid, &lookup->cookie, error))
			return NULL;
		if (lookup->inode == 0 && closed_icmp_record(lookup))
			return recorded_process(lookup);
		if (lookup->inode == 0) {
			STAT_INC(attributor, no_socket);
			log_result(lookup, "slow", NULL);
			return NULL;
		}
	}
	OwnerResult found = find_owner_slow(lookup, cancellable, &owner);
	if (g_cancellable_set_error_if_cancelled(cancellable, error))
		return NULL;
	if (found != OWNER_FOUND && closed_icmp_record(lookup))
		return recorded_process(lookup);

	VigilProcess *process = NULL;
	g_autoptr(GError) local_error = NULL;
	if (found == OWNER_FOUND)
		process = read_process(attributor, owner.pid, lookup->sock_uid, &local_error);
	if (local_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	process = known_or_null(process);
	if (process != NULL)
		process = check_holders(lookup, process, cancellable);
	if (process == NULL)
		STAT_INC(attributor, no_process);
	else
		note_socket_fd(attributor, owner.pid, owner.fd);
	log_result(lookup, "slow", process);
	return process;
}

/* the socket the lookup found: by sock_diag, else the kernel's record of a live one */
static guint64
lookup_socket_cookie(const Lookup *lookup)
{
	if (lookup->cookie != 0)
		return lookup->cookie;
	return lookup->has_record && !lookup->record.released ? lookup->record.cookie : 0;
}

gboolean
vigil_attributor_lookup_fast_cookie(VigilAttributor *attributor, const VigilFlow *flow,
                                    VigilLookupCheck check, VigilProcess **process, guint64 *cookie)
{
	g_return_val_if_fail(attributor != NULL && flow != NULL && process != NULL, FALSE);
	g_autoptr(Lookup) lookup = lookup_new(attributor, flow);
	lookup->check = check;
	g_autoptr(GError) error = NULL;
	/* a failure is reported by the full lookup the caller makes next */
	gboolean answered = lookup_fast(lookup, process, &error) && error == NULL;
	if (cookie != NULL)
		*cookie = answered ? lookup_socket_cookie(lookup) : 0;
	return answered;
}

gboolean
vigil_attributor_lookup_fast(VigilAttributor *attributor, const VigilFlow *flow,
                             VigilLookupCheck check, VigilProcess **process)
{
	return vigil_attributor_lookup_fast_cookie(attributor, flow, check, process, NULL);
}

VigilProcess *
vigil_attributor_lookup(VigilAttributor *attributor, const VigilFlow *flow, GError **error)
{
	g_return_val_if_fail(attributor != NULL && flow != NULL, NULL);
	g_autoptr(Lookup) lookup = lookup_new(attributor, flow);
	VigilProcess *process = NULL;
	GError *local_error = NULL;

	if (lookup_fast(lookup, &process, &local_error)) {
		if (local_error != NULL)
			g_propagate_error(error, local_error);
		return process;
	}
	return lookup_slow(lookup, NULL, error);
}

static void
lookup_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
	GError *error = NULL;
	VigilProcess *process = lookup_slow(task_data, cancellable, &error);
	if (error != NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, process, (GDestroyNotify)vigil_process_unref);
}

void
vigil_attributor_lookup_async(VigilAttributor *attributor, const VigilFlow *flow,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
	g_return_if_fail(attributor != NULL && flow != NULL);
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, vigil_attributor_lookup_async);
	Lookup *lookup = lookup_new(attributor, flow);
	g_task_set_task_data(task, lookup, lookup_free);

	VigilProcess *process = NULL;
	GError *error = NULL;
	if (!lookup_fast(lookup, &process, &error)) {
		/* in the socket's user's share of the threads: the process it reads may hold it;
		 * a flow the kernel gave no uid takes the turns of "no uid" */
		vigil_fair_pool_run(attributor->lookup_pool,
		                    flow->has_uid ? flow->uid : G_MAXUINT32, task, lookup_thread);
		return;
	}
	/* GTask still calls back from the main context, never from inside this call */
	if (error != NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, process, (GDestroyNotify)vigil_process_unref);
}

VigilProcess *
vigil_attributor_lookup_finish(VigilAttributor *attributor, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	g_return_val_if_fail(g_async_result_is_tagged(result, vigil_attributor_lookup_async), NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

guint64
vigil_attributor_lookup_cookie(GAsyncResult *result)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), 0);
	g_return_val_if_fail(g_async_result_is_tagged(result, vigil_attributor_lookup_async), 0);
	/* the worker is done with the lookup: the task has returned */
	return lookup_socket_cookie(g_task_get_task_data(G_TASK(result)));
}

/* hashes */

static gboolean
same_executable(const VigilProcess *a, const VigilProcess *b)
{
	return a->exe_dev == b->exe_dev && a->exe_ino == b->exe_ino && a->exe_size == b->exe_size &&
	       a->exe_mtime == b->exe_mtime && a->exe_ctime == b->exe_ctime;
}

/*
 * Cached processes of the file just hashed get the hash: their entries are replaced (with fds of
 * their own), never changed, as other threads read them unlocked.
 */
static void
share_hash(VigilAttributor *attributor, const VigilProcess *hashed)
{
	g_mutex_lock(&attributor->lock);
	g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(cached_process_unref);
	GHashTableIter iter;
	gpointer value;
	g_hash_table_iter_init(&iter, attributor->processes);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		CachedProcess *cached = value;
		if (cached->process->sha256 == NULL && same_executable(cached->process, hashed))
			g_ptr_array_add(stale, g_atomic_rc_box_acquire(cached));
	}
	for (guint i = 0; i < stale->len; i++) {
		CachedProcess *old = g_ptr_array_index(stale, i);
		int dir_fd = dup(old->dir_fd);
		int stat_fd = dir_fd >= 0 ? dup(old->stat_fd) : -1;
		if (stat_fd < 0) {
			close_process_fds(dir_fd, stat_fd);
			continue;
		}
		/* the macro would keep const */
		CachedProcess *fresh = (g_atomic_rc_box_dup)(sizeof(*old), old);
		fresh->process = vigil_process_copy_with_sha256(old->process, hashed->sha256);
		fresh->dir_fd = dir_fd;
		fresh->stat_fd = stat_fd;
		g_hash_table_replace(attributor->processes, GUINT_TO_POINTER(old->process->pid),
		                     fresh);
	}
	g_mutex_unlock(&attributor->lock);
}

typedef struct {
	VigilAttributor *attributor;
	VigilProcess *process;
} HashRequest;

static void
hash_request_free(gpointer data)
{
	HashRequest *request = data;
	attributor_unref(request->attributor);
	vigil_process_unref(request->process);
	g_free(request);
}

static void
on_hashed(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(GTask) task = data;
	HashRequest *request = g_task_get_task_data(task);
	GError *error = NULL;
	g_autofree char *sha256 =
	    vigil_sha_cache_get_finish(request->attributor->sha_cache, result, &error);
	if (sha256 == NULL) {
		g_task_return_error(task, error);
		return;
	}
	VigilProcess *hashed = vigil_process_copy_with_sha256(request->process, sha256);
	share_hash(request->attributor, hashed);
	g_task_return_pointer(task, hashed, (GDestroyNotify)vigil_process_unref);
}

static char *
exe_path(VigilAttributor *attributor, const VigilProcess *process)
{
	/* the magic link: it opens the very file the process runs, deleted or not */
	return g_strdup_printf("%s/%u/exe", attributor->proc_root, process->pid);
}

void
vigil_attributor_hash_async(VigilAttributor *attributor, VigilProcess *process,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
	g_return_if_fail(attributor != NULL && process != NULL);
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, vigil_attributor_hash_async);
	if (process->sha256 != NULL) {
		g_task_return_pointer(task, vigil_process_ref(process),
		                      (GDestroyNotify)vigil_process_unref);
		g_object_unref(task);
		return;
	}
	HashRequest *request = g_new0(HashRequest, 1);
	request->attributor = g_atomic_rc_box_acquire(attributor);
	request->process = vigil_process_ref(process);
	g_task_set_task_data(task, request, hash_request_free);
	g_autofree char *path = exe_path(attributor, process);
	vigil_sha_cache_get_async(attributor->sha_cache, path, process->exe_dev, process->exe_ino,
	                          process->exe_mtime, process->exe_size, process->exe_ctime,
	                          process->uid, cancellable, on_hashed, task);
}

VigilProcess *
vigil_attributor_hash_finish(VigilAttributor *attributor, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	g_return_val_if_fail(g_async_result_is_tagged(result, vigil_attributor_hash_async), NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

VigilProcess *
vigil_attributor_hash(VigilAttributor *attributor, VigilProcess *process, GError **error)
{
	g_return_val_if_fail(attributor != NULL && process != NULL, NULL);
	if (process->sha256 != NULL)
		return vigil_process_ref(process);
	g_autofree char *path = exe_path(attributor, process);
	g_autofree char *sha256 =
	    vigil_sha_cache_get(attributor->sha_cache, path, process->exe_dev, process->exe_ino,
	                        process->exe_mtime, process->exe_size, error);
	if (sha256 == NULL)
		return NULL;
	VigilProcess *hashed = vigil_process_copy_with_sha256(process, sha256);
	share_hash(attributor, hashed);
	return hashed;
}
