/* vigil-dpkg.h: what the dpkg database (root's) says of an executable: which package installed
 * it, and whether its content is the one that package shipped */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define VIGIL_DPKG_INFO_DIR "/var/lib/dpkg/info"

/* a package name as dpkg writes it in a file name of its database: "bash", "libc6:amd64" */
#define VIGIL_DPKG_PACKAGE_MAX 256

/* ---- pure: lines of the database ---- */

/* TRUE for a package name (with an optional ":arch"), as a file name of the info directory
 * may carry it: a lowercase letter or digit, then letters, digits, '+', '-', '.' */
gboolean vigil_dpkg_package_name_valid(const char *name);

/*
 * The md5sums line for @path (absolute) in @text (a <package>.md5sums file: "HEX32  rel/path"
 * per line, paths without their leading '/'), its 32 lowercase hex digits copied to @md5
 * (33 bytes); FALSE when no well-formed line names it.
 */
gboolean vigil_dpkg_md5sums_find(const char *text, gsize len, const char *path, char *md5);

/* TRUE when a line of @text (a <package>.list file: one absolute path per line) is @path */
gboolean vigil_dpkg_list_contains(const char *text, gsize len, const char *path);

/*
 * The paths under which a package may list the file @path: @path itself, and on a merged-/usr
 * system the other name of a file under /bin, /sbin or /lib* (e.g. /usr/bin/ls is listed as
 * /bin/ls). A NULL-terminated array; which of them names the file is for the caller to check.
 */
char **vigil_dpkg_path_aliases(const char *path);

/* ---- I/O, for worker threads: every call reads files, some of them whole ---- */

typedef enum {
	VIGIL_DPKG_VERIFIED,         /* listed by the package, content as its md5sums says */
	VIGIL_DPKG_NOT_FROM_PACKAGE, /* the package is not installed or does not list the file */
	VIGIL_DPKG_CHECKSUM_DIFFERS, /* listed, but its content is not what the package shipped */
	VIGIL_DPKG_NOT_PACKAGED,     /* not root's file, not the process's file, unreadable */
} VigilDpkgResult;

/* the file a process runs, as vigild saw it */
typedef struct {
	const char *path; /* in vigild's own mount namespace */
	dev_t dev;
	ino_t ino;
	const char *sha256; /* of its content, as hashed for the rules */
	/* its md5, when the caller hashed that very file already (vigil_dpkg_hash_md5()): it is
	 * checked again, not read again; NULL: read here */
	const char *md5;
} VigilDpkgFile;

/* the SHA-256 of the file @path names, when it is a regular file of root's that its group and
 * others cannot write (what dpkg installs); else NULL */
char *vigil_dpkg_root_file_sha256(const char *path);

/* the same in turns, so that one big file does not hold a worker for one go */
typedef struct _VigilDpkgHash VigilDpkgHash;
/* the file @path names, opened when it is such a file (else NULL) */
VigilDpkgHash *vigil_dpkg_hash_new(const char *path);
/* hashes at most about @budget more bytes (*@used: how many); TRUE once the file is done */
gboolean vigil_dpkg_hash_step(VigilDpkgHash *hash, gint64 budget, gint64 *used);
/* once done: its SHA-256 (and MD5), or NULL (unreadable, or more than any executable) */
const char *vigil_dpkg_hash_sha256(VigilDpkgHash *hash);
const char *vigil_dpkg_hash_md5(VigilDpkgHash *hash);
void vigil_dpkg_hash_free(VigilDpkgHash *hash);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDpkgHash, vigil_dpkg_hash_free)

/* a short reason for @result, for logs and prompts: "not from package P", ... */
const char *vigil_dpkg_result_to_string(VigilDpkgResult result);

/*
 * Is @file the one @package installed? @file->path must name that very file (same device and
 * inode), root's and not writable by group or others; @package's .list (or "pkg:arch.list")
 * must list it (under one of its aliases), and its content, read once here, must have
 * @file->sha256 and the md5sum that @package's .md5sums records for it. @info_dir is
 * VIGIL_DPKG_INFO_DIR outside tests. @detail gets a sentence for the log.
 */
VigilDpkgResult vigil_dpkg_verify(const char *info_dir, const VigilDpkgFile *file,
                                  const char *package, char **detail);

/*
 * The packages that installed @files (@n of them): for each, the first package whose .list
 * names it and for which vigil_dpkg_verify() says VIGIL_DPKG_VERIFIED, or NULL. Reads every
 * .list file of @info_dir once (a bounded number, each of bounded size). A NULL-terminated
 * array of @n entries (some NULL): free each, then the array.
 */
char **vigil_dpkg_find_owners(const char *info_dir, const VigilDpkgFile *files, guint n);

G_END_DECLS
