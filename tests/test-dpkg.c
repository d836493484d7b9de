/* test-dpkg.c: reading the dpkg database: the pure line parsers, and a check against a database
 * made in a temporary directory */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"
#include "vigil-dpkg.h"

static void
test_package_names(void)
{
	const char *good[] = {"bash",
	                      "libc6:amd64",
	                      "g++",
	                      "libstdc++6:i386",
	                      "0ad",
	                      "x.y-z",
	                      "linux-image-6.1.0-13-amd64"};
	const char *bad[] = {"",    "a",  "Bash",   "-x",      ".x",       "a/b",  "../x",
	                     "a b", "a:", ":amd64", "a:AMD64", "a:x86_64", "a\nb", "ab:c:d"};

	for (guint i = 0; i < G_N_ELEMENTS(good); i++)
		g_assert_true(vigil_dpkg_package_name_valid(good[i]));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_false(vigil_dpkg_package_name_valid(bad[i]));
	g_assert_false(vigil_dpkg_package_name_valid(NULL));
}

static void
test_md5sums(void)
{
	const char *text = "d41d8cd98f00b204e9800998ecf8427e  usr/bin/other\n"
	                   "0123456789ABCDEF0123456789abcdef  usr/bin/tool\n"
	                   "zz23456789abcdef0123456789abcdef  usr/bin/bad\n"
	                   "0123456789abcdef0123456789abcdef usr/bin/onespace\n"
	                   "0123456789abcdef0123456789abcdef  usr/bin/tool2";
	char md5[33];

	g_assert_true(vigil_dpkg_md5sums_find(text, strlen(text), "/usr/bin/tool", md5));
	g_assert_cmpstr(md5, ==, "0123456789abcdef0123456789abcdef");
	g_assert_true(vigil_dpkg_md5sums_find(text, strlen(text), "/usr/bin/tool2", md5));
	g_assert_false(vigil_dpkg_md5sums_find(text, strlen(text), "/usr/bin/too", md5));
	g_assert_false(vigil_dpkg_md5sums_find(text, strlen(text), "/usr/bin/bad", md5));
	g_assert_false(vigil_dpkg_md5sums_find(text, strlen(text), "/usr/bin/onespace", md5));
	g_assert_false(vigil_dpkg_md5sums_find(text, strlen(text), "usr/bin/tool", md5));
	/* a line cut short by the length given is not read past */
	g_assert_false(vigil_dpkg_md5sums_find(text, 40, "/usr/bin/other", md5));
}

static void
test_list(void)
{
	const char *text = "/.\n/usr\n/usr/bin\n/usr/bin/tool\n/usr/bin/tool-extra";

	g_assert_true(vigil_dpkg_list_contains(text, strlen(text), "/usr/bin/tool"));
	g_assert_true(vigil_dpkg_list_contains(text, strlen(text), "/usr/bin/tool-extra"));
	g_assert_false(vigil_dpkg_list_contains(text, strlen(text), "/usr/bin/too"));
	g_assert_false(vigil_dpkg_list_contains(text, strlen(text), "/usr/bin/tool-"));
	g_assert_false(vigil_dpkg_list_contains("", 0, "/usr/bin/tool"));
}

static void
test_aliases(void)
{
	g_auto(GStrv) usr = vigil_dpkg_path_aliases("/usr/bin/ls");
	g_auto(GStrv) bin = vigil_dpkg_path_aliases("/sbin/ip");
	g_auto(GStrv) opt = vigil_dpkg_path_aliases("/opt/x/bin/x");
	g_auto(GStrv) lib = vigil_dpkg_path_aliases("/usr/lib64/ld.so");

	g_assert_cmpuint(g_strv_length(usr), ==, 2);
	g_assert_cmpstr(usr[1], ==, "/bin/ls");
	g_assert_cmpuint(g_strv_length(bin), ==, 2);
	g_assert_cmpstr(bin[1], ==, "/usr/sbin/ip");
	g_assert_cmpuint(g_strv_length(opt), ==, 1);
	g_assert_cmpstr(lib[1], ==, "/lib64/ld.so");
}

/* a database of one package "tool" with one file, in a temporary directory */
typedef struct {
	const char *info;
	const char *exe;
	char sha256[65];
	dev_t dev;
	ino_t ino;
} Db;

static void
write_file(const char *path, const char *text)
{
	vigil_test_write_file(path, text, -1);
	g_assert_cmpint(chmod(path, 0644), ==, 0);
}

static void
db_set_up(Db *db, gconstpointer data)
{
	g_autofree char *md5 = NULL;
	g_autofree char *sha = NULL;
	g_autofree char *list = NULL;
	g_autofree char *sums = NULL;
	struct stat st;

	const char *dir = vigil_test_tmp_dir("vigil-dpkg-XXXXXX");

	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	db->info = vigil_test_path(dir, "info");
	g_assert_cmpint(g_mkdir(db->info, 0755), ==, 0);
	db->exe = vigil_test_path(dir, "tool");
	write_file(db->exe, "#!/bin/true\nversion 1\n");
	md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, "#!/bin/true\nversion 1\n", -1);
	sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "#!/bin/true\nversion 1\n", -1);
	g_strlcpy(db->sha256, sha, sizeof db->sha256);
	g_assert_cmpint(stat(db->exe, &st), ==, 0);
	db->dev = st.st_dev;
	db->ino = st.st_ino;
	list = g_build_filename(db->info, data != NULL ? data : "tool.list", NULL);
	write_file(list, db->exe);
	sums = g_strdup_printf("%s  %s\n", md5, db->exe + 1);
	g_free(list);
	list = g_build_filename(db->info, "tool.md5sums", NULL);
	if (data != NULL) {
		g_free(list);
		list = g_strdup_printf("%s/%.*s.md5sums", db->info,
		                       (int)(strlen(data) - strlen(".list")), (const char *)data);
	}
	write_file(list, sums);
}

static VigilDpkgResult
verify(Db *db, const char *package)
{
	VigilDpkgFile file = {db->exe, db->dev, db->ino, db->sha256};
	g_autofree char *detail = NULL;
	VigilDpkgResult result = vigil_dpkg_verify(db->info, &file, package, &detail);

	g_test_message("%s: %s", vigil_dpkg_result_to_string(result), detail);
	g_assert_nonnull(detail);
	return result;
}

static void
test_verify(Db *db, gconstpointer data)
{
	if (getuid() != 0) {
		/* the database must be root's: only root can make one in a test */
		g_test_skip("needs root");
		return;
	}
	g_assert_cmpint(verify(db, "tool"), ==, VIGIL_DPKG_VERIFIED);
	g_assert_cmpint(verify(db, "other"), ==, VIGIL_DPKG_NOT_FROM_PACKAGE);
	g_assert_cmpint(verify(db, "../tool"), ==, VIGIL_DPKG_NOT_FROM_PACKAGE);
	/* group-writable: anyone in the group could have put it there */
	g_assert_cmpint(chmod(db->exe, 0664), ==, 0);
	g_assert_cmpint(verify(db, "tool"), ==, VIGIL_DPKG_NOT_PACKAGED);
	g_assert_cmpint(chmod(db->exe, 0755), ==, 0);
	/* another file at the path than the process runs */
	db->ino++;
	g_assert_cmpint(verify(db, "tool"), ==, VIGIL_DPKG_NOT_PACKAGED);
	db->ino--;
	/* content other than what the package shipped (the hash is of the new content) */
	write_file(db->exe, "#!/bin/true\nversion 2\n");
	{
		g_autofree char *sha = g_compute_checksum_for_string(
		    G_CHECKSUM_SHA256, "#!/bin/true\nversion 2\n", -1);
		struct stat st;

		g_strlcpy(db->sha256, sha, sizeof db->sha256);
		g_assert_cmpint(stat(db->exe, &st), ==, 0);
		db->ino = st.st_ino;
	}
	g_assert_cmpint(verify(db, "tool"), ==, VIGIL_DPKG_CHECKSUM_DIFFERS);
}

static void
test_verify_multiarch(Db *db, gconstpointer data)
{
	VigilDpkgFile file = {db->exe, db->dev, db->ino, db->sha256};
	g_auto(GStrv) owners = NULL;

	if (getuid() != 0) {
		g_test_skip("needs root");
		return;
	}
	/* recorded as "tool" while it was not Multi-Arch: same, or as "tool:amd64" */
	g_assert_cmpint(verify(db, "tool"), ==, VIGIL_DPKG_VERIFIED);
	g_assert_cmpint(verify(db, "tool:amd64"), ==, VIGIL_DPKG_VERIFIED);
	owners = vigil_dpkg_find_owners(db->info, &file, 1);
	g_assert_cmpstr(owners[0], ==, "tool:amd64");
}

static void
test_find_owners(Db *db, gconstpointer data)
{
	VigilDpkgFile files[2] = {{db->exe, db->dev, db->ino, db->sha256},
	                          {"/nonexistent/x", 1, 2, db->sha256}};
	g_auto(GStrv) owners = NULL;

	if (getuid() != 0) {
		g_test_skip("needs root");
		return;
	}
	owners = vigil_dpkg_find_owners(db->info, files, 2);
	g_assert_cmpstr(owners[0], ==, "tool");
	g_assert_null(owners[1]);
}

/* a rule's path that names a terminal: vigild, without a controlling terminal, must not make
 * it its own by opening it (a ^C written to the terminal would then stop vigild) */
static void
test_terminal_not_opened(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	pid_t child;
	int status = 0;

	g_assert_cmpint(master, >=, 0);
	g_assert_cmpint(grantpt(master), ==, 0);
	g_assert_cmpint(unlockpt(master), ==, 0);
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		g_autofree char *sha256 = NULL;
		int tty;

		setsid(); /* no controlling terminal, as vigild under systemd */
		sha256 = vigil_dpkg_root_file_sha256(ptsname(master));
		tty = open("/dev/tty", O_RDONLY | O_NOCTTY);
		_exit(sha256 == NULL && tty < 0 ? 0 : 1);
	}
	g_assert_cmpint(waitpid(child, &status, 0), ==, child);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	close(master);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dpkg/package-names", test_package_names);
	g_test_add_func("/dpkg/md5sums", test_md5sums);
	g_test_add_func("/dpkg/list", test_list);
	g_test_add_func("/dpkg/aliases", test_aliases);
	g_test_add_func("/dpkg/terminal-not-opened", test_terminal_not_opened);
	g_test_add("/dpkg/verify", Db, NULL, db_set_up, test_verify, NULL);
	g_test_add("/dpkg/verify-multiarch", Db, "tool:amd64.list", db_set_up,
	           test_verify_multiarch, NULL);
	g_test_add("/dpkg/find-owners", Db, NULL, db_set_up, test_find_owners, NULL);
	return g_test_run();
}
