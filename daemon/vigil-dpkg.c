/* vigil-dpkg.c: reading the dpkg database (root's) about one executable: its package, its md5 */
#define G_LOG_DOMAIN "vigil-dpkg"
#include "config.h"

#include "vigil-dpkg.h"

#include "vigil-fuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MD5_HEX 32
/* the biggest .list and .md5sums files of a Debian system are a few MiB (texlive) */
#define DB_FILE_MAX (32 * 1024 * 1024)
/* a whole scan of the database reads at most this many .list files (a system has ~2,000) */
#define SCAN_FILES_MAX 65536
/* and no more than this in all */
#define SCAN_BYTES_MAX (G_GINT64_CONSTANT(512) * 1024 * 1024)
/* as the hash pool: no executable is that big */
#define CONTENT_MAX (G_GINT64_CONSTANT(4) * 1024 * 1024 * 1024)
#define READ_CHUNK  (64 * 1024)

/* ---- pure ---- */

gboolean
vigil_dpkg_package_name_valid(const char *name)
{
	const char *colon;
	gsize len;

	if (name == NULL || !(g_ascii_islower(name[0]) || g_ascii_isdigit(name[0])))
		return FALSE;
	len = strlen(name);
	if (len < 2 || len > VIGIL_DPKG_PACKAGE_MAX)
		return FALSE;
	colon = strchr(name, ':');
	for (const char *p = name; *p != '\0'; p++) {
		if (p == colon)
			continue;
		if (p > colon && colon != NULL) {
			/* an architecture: lowercase letters, digits, '-' */
			if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-')
				return FALSE;
		} else if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '+' && *p != '-' &&
		           *p != '.')
			return FALSE;
	}
	return colon == NULL || (colon[1] != '\0' && colon - name >= 2);
}

/* calls @func on each line of @text (without its '\n'); stops when it returns TRUE */
static gboolean
find_line(const char *text, gsize len, gboolean (*func)(const char *line, gsize len, gpointer),
          gpointer data)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', end - text);
		const char *stop = nl != NULL ? nl : end;

		if (func(text, stop - text, data))
			return TRUE;
		text = stop + 1;
	}
	return FALSE;
}

typedef struct {
	const char *path;
	gsize path_len;
	char *md5;
} Md5Search;

static gboolean
md5_line(const char *line, gsize len, gpointer data)
{
	Md5Search *search = data;

	/* "HEX32  path": dpkg writes two spaces (md5sum's text mode) */
	if (len != MD5_HEX + 2 + search->path_len || line[MD5_HEX] != ' ' ||
	    line[MD5_HEX + 1] != ' ' ||
	    memcmp(line + MD5_HEX + 2, search->path, search->path_len) != 0)
		return FALSE;
	for (guint i = 0; i < MD5_HEX; i++) {
		if (!g_ascii_isxdigit(line[i]))
			return FALSE;
		search->md5[i] = g_ascii_tolower(line[i]);
	}
	search->md5[MD5_HEX] = '\0';
	return TRUE;
}

gboolean
vigil_dpkg_md5sums_find(const char *text, gsize len, const char *path, char *md5)
{
	Md5Search search = {.md5 = md5};

	if (path == NULL || path[0] != '/' || path[1] == '\0')
		return FALSE;
	search.path = path + 1;
	search.path_len = strlen(search.path);
	return find_line(text, len, md5_line, &search);
}

typedef struct {
	const char *path;
	gsize path_len;
} ListSearch;

static gboolean
list_line(const char *line, gsize len, gpointer data)
{
	const ListSearch *search = data;

	return len == search->path_len && memcmp(line, search->path, len) == 0;
}

gboolean
vigil_dpkg_list_contains(const char *text, gsize len, const char *path)
{
	ListSearch search = {path, strlen(path)};

	return find_line(text, len, list_line, &search);
}

char **
vigil_dpkg_path_aliases(const char *path)
{
	/* the directories merged-/usr makes links to their /usr twins */
	static const char *const merged[] = {"/bin/",   "/sbin/",  "/lib/",
	                                     "/lib32/", "/lib64/", "/libx32/"};
	GPtrArray *out = g_ptr_array_new();

	g_ptr_array_add(out, g_strdup(path));
	for (guint i = 0; i < G_N_ELEMENTS(merged); i++) {
		g_autofree char *usr = g_strconcat("/usr", merged[i], NULL);

		if (g_str_has_prefix(path, usr))
			g_ptr_array_add(out, g_strconcat(merged[i], path + strlen(usr), NULL));
		else if (g_str_has_prefix(path, merged[i]))
			g_ptr_array_add(out, g_strconcat("/usr", path, NULL));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* ---- I/O ---- */

const char *
vigil_dpkg_result_to_string(VigilDpkgResult result)
{
	switch (result) {
	case VIGIL_DPKG_VERIFIED:
		return "verified";
	case VIGIL_DPKG_NOT_FROM_PACKAGE:
		return "not-from-package";
	case VIGIL_DPKG_CHECKSUM_DIFFERS:
		return "checksum-differs";
	case VIGIL_DPKG_NOT_PACKAGED:
		return "not-packaged";
	}
	return "not-packaged";
}

/* root's, not writable by group or others: what only root can have written */
static gboolean
roots_own(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* a file of the database, whole; NULL when it is missing or not root's regular file */
static char *
read_db_file(int dir_fd, const char *name, gsize *len)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *text = NULL;
	gsize done = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !roots_own(&st) ||
	    st.st_size > DB_FILE_MAX)
		goto out;
	text = g_malloc(st.st_size + 1);
	while (done < (gsize)st.st_size) {
		ssize_t n = read(fd, text + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	text[done] = '\0';
	*len = done;
out:
	close(fd);
	return text;
}

/* the info directory, if root's: a database anyone could write vouches for nothing */
static int
open_info_dir(const char *info_dir)
{
	int fd = open(info_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) != 0 || !roots_own(&st))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* "@package.@suffix" as the database names it: the name as recorded, else with its
 * architecture added or taken off (a package that became Multi-Arch: same, or stopped) */
static char *
db_file_name(int dir_fd, const char *package, const char *suffix)
{
	g_autofree char *exact = g_strconcat(package, ".", suffix, NULL);
	const char *colon = strchr(package, ':');
	struct stat st;
	g_autofree char *prefix = NULL;
	DIR *dir;
	int fd;
	struct dirent *entry;
	char *found = NULL;

	if (fstatat(dir_fd, exact, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return g_steal_pointer(&exact);
	if (colon != NULL) {
		g_autofree char *bare = g_strndup(package, colon - package);

		return g_strconcat(bare, ".", suffix, NULL);
	}
	prefix = g_strconcat(package, ":", NULL);
	fd = dup(dir_fd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(dir);
	while (found == NULL && (entry = readdir(dir)) != NULL) {
		if (g_str_has_prefix(entry->d_name, prefix) &&
		    g_str_has_suffix(entry->d_name, ".list")) {
			g_autofree char *name =
			    g_strndup(entry->d_name, strlen(entry->d_name) - strlen(".list"));
			found = g_strconcat(name, ".", suffix, NULL);
		}
	}
	closedir(dir);
	return found;
}

/* the alias of @file under which @list lists it and that names that very file, or NULL */
static char *
listed_as(const char *list, gsize len, const VigilDpkgFile *file, gboolean *listed)
{
	g_auto(GStrv) aliases = vigil_dpkg_path_aliases(file->path);

	*listed = FALSE;
	for (guint i = 0; aliases[i] != NULL; i++) {
		struct stat st;

		if (!vigil_dpkg_list_contains(list, len, aliases[i]))
			continue;
		*listed = TRUE;
		if (vigil_fuse_stat(AT_FDCWD, aliases[i], 0, &st) == 0 && st.st_dev == file->dev &&
		    st.st_ino == file->ino)
			return g_strdup(aliases[i]);
	}
	return NULL;
}

/*
 * Opens @path for reading only once it is known to be @file's very file, a regular file, root's
 * and on no FUSE file system: a path comes from a rule a user may have made, and opening a
 * terminal (/dev/pts/N) without O_NOCTTY would make it vigild's controlling terminal, whose
 * ^C stops vigild; a FUSE server that never answers would hold the read. -1 and @detail else.
 */
static int
open_checked(const char *path, const VigilDpkgFile *file, char **detail)
{
	int pfd = open(path, O_PATH | O_CLOEXEC);
	g_autofree char *again = NULL;
	struct stat st;
	int fd;

	if (pfd < 0) {
		*detail = g_strdup_printf("%s: %s", path, g_strerror(errno));
		return -1;
	}
	if (vigil_fuse_stat(pfd, "", AT_EMPTY_PATH, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_dev != file->dev || st.st_ino != file->ino ||
	    vigil_fuse_dev_is_fuse_here(st.st_dev)) {
		*detail = g_strdup_printf("%s is not the file the process runs", path);
		close(pfd);
		return -1;
	}
	if (!roots_own(&st)) {
		*detail = g_strdup_printf("%s is not root's, or others may write it", path);
		close(pfd);
		return -1;
	}
	/* the file just checked, not whatever the path names by now */
	again = g_strdup_printf("/proc/self/fd/%d", pfd);
	fd = open(again, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		*detail = g_strdup_printf("%s: %s", path, g_strerror(errno));
	close(pfd);
	return fd;
}

struct _VigilDpkgHash {
	char *path;
	int fd; /* -1 once done */
	GChecksum *md5;
	GChecksum *sha256;
	gint64 total;
	gboolean ok; /* done, with the whole content hashed */
	char *detail;
};

void
vigil_dpkg_hash_free(VigilDpkgHash *hash)
{
	if (hash == NULL)
		return;
	if (hash->fd >= 0)
		close(hash->fd);
	g_checksum_free(hash->md5);
	g_checksum_free(hash->sha256);
	g_free(hash->detail);
	g_free(hash->path);
	g_free(hash);
}

/* hashing what @path holds, if it is @file's very file and root's; NULL with @detail else */
static VigilDpkgHash *
hash_open(const char *path, const VigilDpkgFile *file, char **detail)
{
	int fd = open_checked(path, file, detail);
	VigilDpkgHash *hash;

	if (fd < 0)
		return NULL;
	hash = g_new0(VigilDpkgHash, 1);
	hash->path = g_strdup(path);
	hash->fd = fd;
	hash->md5 = g_checksum_new(G_CHECKSUM_MD5);
	hash->sha256 = g_checksum_new(G_CHECKSUM_SHA256);
	return hash;
}

static void
hash_done(VigilDpkgHash *hash, gboolean ok, char *detail)
{
	close(hash->fd);
	hash->fd = -1;
	hash->ok = ok;
	hash->detail = detail;
}

gboolean
vigil_dpkg_hash_step(VigilDpkgHash *hash, gint64 budget, gint64 *used)
{
	g_autofree guchar *buf = g_malloc(READ_CHUNK);
	gint64 start = hash->total;

	while (hash->fd >= 0 && hash->total - start < budget) {
		ssize_t n = read(hash->fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			hash_done(hash, FALSE,
			          g_strdup_printf("%s: %s", hash->path, g_strerror(errno)));
		else if (n == 0)
			hash_done(hash, TRUE, NULL);
		else if ((hash->total += n) > CONTENT_MAX)
			hash_done(hash, FALSE, g_strdup_printf("%s is too big", hash->path));
		else {
			g_checksum_update(hash->md5, buf, n);
			g_checksum_update(hash->sha256, buf, n);
		}
	}
	if (used != NULL)
		*used = hash->total - start;
	return hash->fd < 0;
}

const char *
vigil_dpkg_hash_sha256(VigilDpkgHash *hash)
{
	return hash->fd < 0 && hash->ok ? g_checksum_get_string(hash->sha256) : NULL;
}

const char *
vigil_dpkg_hash_md5(VigilDpkgHash *hash)
{
	return hash->fd < 0 && hash->ok ? g_checksum_get_string(hash->md5) : NULL;
}

/* @file's md5 and sha256 as its caller hashed it, once the file @path names is checked to be
 * that very file, root's (a file is read once, however big) */
static gboolean
hashed_content(const char *path, const VigilDpkgFile *file, char *md5, char **sha256, char **detail)
{
	int fd = open_checked(path, file, detail);

	if (fd < 0)
		return FALSE;
	close(fd);
	g_strlcpy(md5, file->md5, MD5_HEX + 1);
	*sha256 = g_strdup(file->sha256);
	return TRUE;
}

/* the md5 and sha256 of what @path holds, if it is @file's very file and root's */
static gboolean
hash_content(const char *path, const VigilDpkgFile *file, char *md5, char **sha256, char **detail)
{
	VigilDpkgHash *hash = hash_open(path, file, detail);
	gboolean ok;

	if (hash == NULL)
		return FALSE;
	vigil_dpkg_hash_step(hash, G_MAXINT64, NULL);
	ok = hash->ok;
	if (ok) {
		g_strlcpy(md5, g_checksum_get_string(hash->md5), MD5_HEX + 1);
		*sha256 = g_strdup(g_checksum_get_string(hash->sha256));
	} else {
		*detail = g_steal_pointer(&hash->detail);
	}
	vigil_dpkg_hash_free(hash);
	return ok;
}

VigilDpkgHash *
vigil_dpkg_hash_new(const char *path)
{
	struct stat st;
	VigilDpkgFile file = {path, 0, 0, NULL};
	g_autofree char *detail = NULL;

	if (vigil_fuse_stat(AT_FDCWD, path, 0, &st) != 0)
		return NULL;
	file.dev = st.st_dev;
	file.ino = st.st_ino;
	/* hash_open checks the file it opened is that one, and root's */
	return hash_open(path, &file, &detail);
}

char *
vigil_dpkg_root_file_sha256(const char *path)
{
	g_autoptr(VigilDpkgHash) hash = vigil_dpkg_hash_new(path);

	if (hash == NULL)
		return NULL;
	vigil_dpkg_hash_step(hash, G_MAXINT64, NULL);
	return g_strdup(vigil_dpkg_hash_sha256(hash));
}

static VigilDpkgResult
verify_at(int dir_fd, const VigilDpkgFile *file, const char *package, char **detail)
{
	g_autofree char *list_name = NULL;
	g_autofree char *sums_name = NULL;
	g_autofree char *base = NULL;
	g_autofree char *list = NULL;
	g_autofree char *sums = NULL;
	g_autofree char *path = NULL;
	g_autofree char *sha256 = NULL;
	char recorded[MD5_HEX + 1];
	char md5[MD5_HEX + 1];
	gsize len = 0;
	gboolean listed;

	if (!vigil_dpkg_package_name_valid(package)) {
		*detail = g_strdup("not a package name");
		return VIGIL_DPKG_NOT_FROM_PACKAGE;
	}
	list_name = db_file_name(dir_fd, package, "list");
	list = list_name != NULL ? read_db_file(dir_fd, list_name, &len) : NULL;
	if (list == NULL) {
		*detail = g_strdup_printf("package %s is not installed", package);
		return VIGIL_DPKG_NOT_FROM_PACKAGE;
	}
	path = listed_as(list, len, file, &listed);
	if (path == NULL) {
		*detail = listed
		              ? g_strdup_printf("%s is not the file the process runs", file->path)
		              : g_strdup_printf("package %s does not list %s", package, file->path);
		return listed ? VIGIL_DPKG_NOT_PACKAGED : VIGIL_DPKG_NOT_FROM_PACKAGE;
	}
	if (!(file->md5 != NULL ? hashed_content(path, file, md5, &sha256, detail)
	                        : hash_content(path, file, md5, &sha256, detail)))
		return VIGIL_DPKG_NOT_PACKAGED;
	if (g_ascii_strcasecmp(sha256, file->sha256) != 0) {
		*detail = g_strdup_printf("%s changed while it was checked", path);
		return VIGIL_DPKG_NOT_PACKAGED;
	}
	/* dpkg records an md5 of each file it installs and nothing stronger (Debian 12) */
	base = g_strndup(list_name, strlen(list_name) - strlen(".list"));
	sums_name = g_strconcat(base, ".md5sums", NULL);
	sums = read_db_file(dir_fd, sums_name, &len);
	if (sums == NULL || !vigil_dpkg_md5sums_find(sums, len, path, recorded)) {
		*detail = g_strdup_printf("package %s records no checksum of %s", package, path);
		return VIGIL_DPKG_CHECKSUM_DIFFERS;
	}
	if (strcmp(recorded, md5) != 0) {
		*detail = g_strdup_printf("%s has md5 %s, package %s shipped %s", path, md5,
		                          package, recorded);
		return VIGIL_DPKG_CHECKSUM_DIFFERS;
	}
	*detail = g_strdup_printf("%s is package %s's file (md5 %s)", path, package, md5);
	return VIGIL_DPKG_VERIFIED;
}

VigilDpkgResult
vigil_dpkg_verify(const char *info_dir, const VigilDpkgFile *file, const char *package,
                  char **detail)
{
	int dir_fd = open_info_dir(info_dir);
	VigilDpkgResult result;

	if (dir_fd < 0) {
		*detail = g_strdup_printf("%s: not root's database", info_dir);
		return VIGIL_DPKG_NOT_FROM_PACKAGE;
	}
	result = verify_at(dir_fd, file, package, detail);
	close(dir_fd);
	return result;
}

/* which of @files' aliases a .list line names: alias -> index + 1 */
static GHashTable *
wanted_paths(const VigilDpkgFile *files, guint n)
{
	GHashTable *wanted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < n; i++) {
		g_auto(GStrv) aliases = vigil_dpkg_path_aliases(files[i].path);

		for (guint j = 0; aliases[j] != NULL; j++)
			g_hash_table_insert(wanted, g_strdup(aliases[j]), GUINT_TO_POINTER(i + 1));
	}
	return wanted;
}

typedef struct {
	GHashTable *wanted;
	guint *hits; /* indexes + 1 of the files this .list names */
	guint n_hits;
	guint max_hits;
} OwnerSearch;

static gboolean
owner_line(const char *line, gsize len, gpointer data)
{
	OwnerSearch *search = data;
	g_autofree char *path = NULL;
	gpointer index;

	if (len == 0 || line[0] != '/' || len > 4096)
		return FALSE;
	path = g_strndup(line, len);
	index = g_hash_table_lookup(search->wanted, path);
	if (index != NULL && search->n_hits < search->max_hits)
		search->hits[search->n_hits++] = GPOINTER_TO_UINT(index);
	return FALSE;
}

char **
vigil_dpkg_find_owners(const char *info_dir, const VigilDpkgFile *files, guint n)
{
	char **owners = g_new0(char *, n + 1);
	g_autoptr(GHashTable) wanted = NULL;
	g_autofree guint *hits = g_new0(guint, n * 8 + 1);
	int dir_fd = open_info_dir(info_dir);
	guint scanned = 0;
	gint64 bytes = 0;
	DIR *dir;
	struct dirent *entry;

	if (dir_fd < 0)
		return owners;
	dir = fdopendir(dir_fd);
	if (dir == NULL) {
		close(dir_fd);
		return owners;
	}
	wanted = wanted_paths(files, n);
	while ((entry = readdir(dir)) != NULL && scanned < SCAN_FILES_MAX &&
	       bytes < SCAN_BYTES_MAX) {
		OwnerSearch search = {wanted, hits, 0, n * 8};
		g_autofree char *list = NULL;
		g_autofree char *package = NULL;
		gsize len = 0;

		if (!g_str_has_suffix(entry->d_name, ".list"))
			continue;
		package = g_strndup(entry->d_name, strlen(entry->d_name) - strlen(".list"));
		if (!vigil_dpkg_package_name_valid(package))
			continue;
		scanned++;
		list = read_db_file(dirfd(dir), entry->d_name, &len);
		if (list == NULL)
			continue;
		bytes += len;
		find_line(list, len, owner_line, &search);
		for (guint i = 0; i < search.n_hits; i++) {
			guint index = search.hits[i] - 1;
			g_autofree char *detail = NULL;

			if (owners[index] == NULL && verify_at(dirfd(dir), &files[index], package,
			                                       &detail) == VIGIL_DPKG_VERIFIED)
				owners[index] = g_strdup(package);
		}
	}
	closedir(dir);
	return owners;
}
