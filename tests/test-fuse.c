/* test-fuse.c: telling FUSE file systems by the mount table, and stat() without asking them */
#include <fcntl.h>
#include <glib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vigil-fuse.h"

static const char mountinfo[] =
    "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "60 26 0:41 / /home/u/mnt rw,nosuid,nodev,relatime shared:40 - fuse.sshfs u@host: "
    "rw,user_id=1000,group_id=1000,allow_other\n"
    "61 26 0:42 / /tmp rw - tmpfs tmpfs rw\n"
    "62 26 0:43 / /media/app - fuse /dev/fuse rw,user_id=1000\n"
    "63 26 8:17 / /media/ntfs rw - fuseblk /dev/sdb1 rw,allow_other\n"
    "64 26 0:44 /x /weird\\040name rw - fusectl fusectl rw\n"
    "66 26 0:46 / /ovl rw - overlay overlay rw,lowerdir=/a,upperdir=/b/u,workdir=/b/w\n"
    "garbage line\n"
    "65 26 0:45 / /last - fuse.appimage ro";

static void
test_kind_in_mountinfo(void)
{
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(0, 41)), ==, VIGIL_FS_FUSE);
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(0, 43)), ==, VIGIL_FS_FUSE);
	/* the last line, with no newline */
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(0, 45)), ==, VIGIL_FS_FUSE);
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(254, 0)), ==,
	                VIGIL_FS_OTHER);
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(0, 42)), ==,
	                VIGIL_FS_OTHER);
	/* a type that only starts with "fuse", and fuseblk (a block device: root's) */
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(0, 44)), ==,
	                VIGIL_FS_OTHER);
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(8, 17)), ==,
	                VIGIL_FS_OTHER);
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(0, 99)), ==,
	                VIGIL_FS_UNSEEN);
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo("", makedev(0, 41)), ==, VIGIL_FS_UNSEEN);
}

/* by the mount's id, as statx() gives it for a file: its mount, not its device's */
static void
test_kind_of_mount(void)
{
	g_assert_cmpint(vigil_fuse_kind_of_mount(mountinfo, 60), ==, VIGIL_FS_FUSE);
	g_assert_cmpint(vigil_fuse_kind_of_mount(mountinfo, 65), ==, VIGIL_FS_FUSE);
	g_assert_cmpint(vigil_fuse_kind_of_mount(mountinfo, 26), ==, VIGIL_FS_OTHER);
	g_assert_cmpint(vigil_fuse_kind_of_mount(mountinfo, 63), ==, VIGIL_FS_OTHER);
	g_assert_cmpint(vigil_fuse_kind_of_mount(mountinfo, 66), ==, VIGIL_FS_OVERLAY);
	g_assert_cmpint(vigil_fuse_kind_in_mountinfo(mountinfo, makedev(0, 46)), ==,
	                VIGIL_FS_OVERLAY);
	/* "6" is no mount's id, nor a prefix of one */
	g_assert_cmpint(vigil_fuse_kind_of_mount(mountinfo, 6), ==, VIGIL_FS_UNSEEN);
	g_assert_cmpint(vigil_fuse_kind_of_mount(mountinfo, 99), ==, VIGIL_FS_UNSEEN);
	g_assert_cmpint(vigil_fuse_kind_of_mount("", 60), ==, VIGIL_FS_UNSEEN);
}

/* this process's own executable and root are on no FUSE file system here */
static void
test_own_mounts(void)
{
	struct stat st;
	struct stat plain;
	int dir = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);

	g_assert_cmpint(dir, >=, 0);
	g_assert_cmpint(vigil_fuse_stat(dir, "exe", 0, &st), ==, 0);
	g_assert_cmpint(stat("/proc/self/exe", &plain), ==, 0);
	g_assert_cmpuint(st.st_dev, ==, plain.st_dev);
	g_assert_cmpuint(st.st_ino, ==, plain.st_ino);
	g_assert_cmpint(st.st_size, ==, plain.st_size);
	g_assert_cmpint(st.st_mtim.tv_nsec, ==, plain.st_mtim.tv_nsec);
	g_assert_cmpint(st.st_ctim.tv_sec, ==, plain.st_ctim.tv_sec);
	g_assert_cmpint(vigil_fuse_kind_for_process(dir, st.st_dev), ==, VIGIL_FS_OTHER);
	g_assert_false(vigil_fuse_dev_is_fuse_here(st.st_dev));
	guint64 mnt_id = 0;
	g_assert_cmpint(vigil_fuse_stat_mount(dir, "exe", 0, &st, &mnt_id), ==, 0);
	g_assert_cmpuint(mnt_id, !=, 0);
	g_assert_false(vigil_fuse_exe_is_users(dir, st.st_dev, mnt_id));
	close(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fuse/kind-in-mountinfo", test_kind_in_mountinfo);
	g_test_add_func("/fuse/kind-of-mount", test_kind_of_mount);
	g_test_add_func("/fuse/own-mounts", test_own_mounts);
	return g_test_run();
}
