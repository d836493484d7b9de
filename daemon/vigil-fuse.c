/* vigil-fuse.c: files on file systems whose server a user runs (FUSE), looked at without asking it
 */
#define G_LOG_DOMAIN "vigil-fuse"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vigil-fuse.h"

/* a mount table bigger than this is read in part: its first mounts only */
#define MOUNTINFO_MAX (4 * 1024 * 1024)
/* fusectl: a directory per FUSE connection, named by its superblock's device (linux/magic.h) */
#define FUSE_CONNECTIONS     "/sys/fs/fuse/connections"
#define FUSE_CTL_SUPER_MAGIC 0x65735543

int
vigil_fuse_stat(int dirfd, const char *path, int flags, struct stat *st)
{
	return vigil_fuse_stat_mount(dirfd, path, flags, st, NULL);
}

int
vigil_fuse_stat_mount(int dirfd, const char *path, int flags, struct stat *st, guint64 *mnt_id)
{
	struct statx sx;
	unsigned int mask = STATX_BASIC_STATS | (mnt_id != NULL ? STATX_MNT_ID : 0);

	/* FUSE answers AT_STATX_DONT_SYNC from the inode's cached attributes, even expired
	 * ones (fuse_update_get_attr()), and a magic link is followed without a lookup */
	if (statx(dirfd, path, flags | AT_STATX_DONT_SYNC, mask, &sx) != 0)
		return -1;
	if (mnt_id != NULL)
		*mnt_id = (sx.stx_mask & STATX_MNT_ID) != 0 ? sx.stx_mnt_id : 0;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = sx.stx_ino;
	st->st_mode = sx.stx_mode;
	st->st_nlink = sx.stx_nlink;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
	st->st_size = (off_t)sx.stx_size;
	st->st_blksize = (blksize_t)sx.stx_blksize;
	st->st_blocks = (blkcnt_t)sx.stx_blocks;
	st->st_atim.tv_sec = sx.stx_atime.tv_sec;
	st->st_atim.tv_nsec = sx.stx_atime.tv_nsec;
	st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = sx.stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = sx.stx_ctime.tv_nsec;
	return 0;
}

/* "fuse" or "fuse.SUBTYPE"; not "fuseblk" (a block device: only root mounts one) */
static gboolean
is_fuse_type(const char *type, gsize len)
{
	return (len == 4 && strncmp(type, "fuse", 4) == 0) ||
	       (len > 5 && strncmp(type, "fuse.", 5) == 0);
}

typedef struct {
	guint64 mnt_id;
	guint64 dev;
	const char *type;
	gsize type_len;
} MountLine;

/* one line: "ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE SOURCE SUPER-OPTIONS" */
static gboolean
parse_line(const char *line, MountLine *mount)
{
	const char *p = line;
	char *end = NULL;

	mount->mnt_id = g_ascii_strtoull(line, &end, 10);
	if (end == line || *end != ' ')
		return FALSE;
	for (int i = 0; i < 2; i++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return FALSE;
		p++;
	}
	guint64 major = g_ascii_strtoull(p, &end, 10);
	if (end == p || *end != ':')
		return FALSE;
	p = end + 1;
	guint64 minor = g_ascii_strtoull(p, &end, 10);
	if (end == p || *end != ' ' || major > G_MAXUINT32 || minor > G_MAXUINT32)
		return FALSE;
	const char *sep = strstr(end, " - ");
	if (sep == NULL)
		return FALSE;
	mount->type = sep + 3;
	mount->type_len = strcspn(mount->type, " \n");
	mount->dev = makedev((unsigned int)major, (unsigned int)minor);
	return TRUE;
}

static VigilFsKind
kind_of_type(const MountLine *mount)
{
	if (is_fuse_type(mount->type, mount->type_len))
		return VIGIL_FS_FUSE;
	if (mount->type_len == 7 && strncmp(mount->type, "overlay", 7) == 0)
		return VIGIL_FS_OVERLAY;
	return VIGIL_FS_OTHER;
}

/* calls @func on each well-formed line of @mountinfo until it returns FALSE */
static void
each_mount(const char *mountinfo, gboolean (*func)(const MountLine *, gpointer), gpointer data)
{
	for (const char *line = mountinfo; line != NULL && *line != '\0';) {
		const char *next = strchr(line, '\n');
		MountLine mount;

		if (parse_line(line, &mount) && !func(&mount, data))
			return;
		line = next != NULL ? next + 1 : NULL;
	}
}

typedef struct {
	guint64 key; /* a device, or a mount id */
	VigilFsKind kind;
	guint64 dev; /* of the mount found by its id */
} Search;

static gboolean
search_dev(const MountLine *mount, gpointer data)
{
	Search *search = data;

	if (mount->dev != search->key)
		return TRUE;
	/* one superblock, one type: any of its mounts tells */
	search->kind = kind_of_type(mount);
	return FALSE;
}

static gboolean
search_mnt_id(const MountLine *mount, gpointer data)
{
	Search *search = data;

	if (mount->mnt_id != search->key)
		return TRUE;
	search->kind = kind_of_type(mount);
	search->dev = mount->dev;
	return FALSE;
}

VigilFsKind
vigil_fuse_kind_in_mountinfo(const char *mountinfo, guint64 dev)
{
	Search search = {dev, VIGIL_FS_UNSEEN, 0};

	g_return_val_if_fail(mountinfo != NULL, VIGIL_FS_UNSEEN);
	each_mount(mountinfo, search_dev, &search);
	return search.kind;
}

VigilFsKind
vigil_fuse_kind_of_mount(const char *mountinfo, guint64 mnt_id)
{
	Search search = {mnt_id, VIGIL_FS_UNSEEN, 0};

	g_return_val_if_fail(mountinfo != NULL, VIGIL_FS_UNSEEN);
	each_mount(mountinfo, search_mnt_id, &search);
	return search.kind;
}

/* the whole of a seq_file from its start (mountinfo), NUL-terminated; NULL on failure */
static char *
read_all(int fd)
{
	GString *text = g_string_sized_new(8192);
	char buf[8192];

	if (lseek(fd, 0, SEEK_SET) < 0) {
		g_string_free(text, TRUE);
		return NULL;
	}
	while (text->len < MOUNTINFO_MAX) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_string_free(text, TRUE);
			return NULL;
		}
		if (n == 0)
			break;
		g_string_append_len(text, buf, n);
	}
	return g_string_free(text, FALSE);
}

VigilFsKind
vigil_fuse_kind_for_process(int pid_dir, guint64 dev)
{
	/* FUSE's superblocks take anonymous device numbers, as tmpfs and btrfs do */
	if (major(dev) != 0)
		return VIGIL_FS_OTHER;
	int fd = openat(pid_dir, "mountinfo", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return VIGIL_FS_UNSEEN;
	g_autofree char *text = read_all(fd);
	close(fd);
	return text != NULL ? vigil_fuse_kind_in_mountinfo(text, dev) : VIGIL_FS_UNSEEN;
}

/* vigild's own mount table: the kinds of its devices without a block device, read again when
 * poll() says it changed */
typedef struct {
	guint64 dev;
	VigilFsKind kind;
} HereDev;

static GMutex here_lock;
static int here_fd = -1;
static GArray *here_devs; /* of HereDev */

static gboolean
add_here(const MountLine *mount, gpointer data)
{
	HereDev here = {mount->dev, kind_of_type(mount)};

	if (major(mount->dev) == 0)
		g_array_append_val(here_devs, here);
	return TRUE;
}

/* the kind of @dev by vigild's own mount table; VIGIL_FS_UNSEEN when it has none of it */
static VigilFsKind
here_kind(guint64 dev)
{
	VigilFsKind kind = VIGIL_FS_UNSEEN;

	if (major(dev) != 0)
		return VIGIL_FS_OTHER;
	g_mutex_lock(&here_lock);
	if (here_fd < 0) {
		here_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC | O_NOCTTY);
		here_devs = g_array_new(FALSE, FALSE, sizeof(HereDev));
		if (here_fd >= 0) {
			g_autofree char *text = read_all(here_fd);
			each_mount(text, add_here, NULL);
		}
	}
	if (here_fd >= 0) {
		/* the kernel flags the table POLLPRI once it changed since the last poll */
		struct pollfd pfd = {.fd = here_fd, .events = POLLPRI};
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLPRI | POLLERR)) != 0) {
			g_autofree char *text = read_all(here_fd);
			g_array_set_size(here_devs, 0);
			each_mount(text, add_here, NULL);
		}
	}
	for (guint i = 0; i < here_devs->len && kind == VIGIL_FS_UNSEEN; i++) {
		const HereDev *here = &g_array_index(here_devs, HereDev, i);
		if (here->dev == dev)
			kind = here->kind;
	}
	g_mutex_unlock(&here_lock);
	return kind;
}

gboolean
vigil_fuse_dev_is_fuse_here(guint64 dev)
{
	return here_kind(dev) == VIGIL_FS_FUSE;
}

/* fusectl lists every FUSE connection of the machine, in whatever namespace it was mounted, by
 * the device number (the kernel's encoding) of its superblock; FALSE where it is not mounted */
static gboolean
is_fuse_connection(guint64 dev)
{
	int fd = open(FUSE_CONNECTIONS, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs fs;
	struct stat st;
	char name[32];
	gboolean found = FALSE;

	if (fd < 0)
		return FALSE;
	g_snprintf(name, sizeof(name), "%u", (major(dev) << 20) | minor(dev));
	if (fstatfs(fd, &fs) == 0 && fs.f_type == FUSE_CTL_SUPER_MAGIC)
		found = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return found;
}

/* the mount namespace of the process is owned by another user namespace than vigild's: one in
 * which a user may have mounted it (an unprivileged user mounts nothing in vigild's) */
static gboolean
mount_ns_is_users(int pid_dir)
{
	struct stat theirs;
	struct stat ours;
	int ns = openat(pid_dir, "ns/mnt", O_RDONLY | O_CLOEXEC);

	if (ns < 0)
		return FALSE;
	int owner = ioctl(ns, NS_GET_USERNS);
	close(ns);
	/* EPERM: owned by an ancestor of vigild's user namespace, no user's */
	if (owner < 0)
		return FALSE;
	gboolean ok = fstat(owner, &theirs) == 0;
	close(owner);
	if (!ok || stat("/proc/self/ns/user", &ours) != 0)
		return FALSE;
	return theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino;
}

gboolean
vigil_fuse_exe_is_users(int pid_dir, guint64 dev, guint64 mnt_id)
{
	/* FUSE's and overlayfs's superblocks take anonymous device numbers (as tmpfs's and
	 * btrfs's do); no user mounts a block device */
	if (major(dev) != 0)
		return FALSE;
	if (is_fuse_connection(dev))
		return TRUE;
	int fd = openat(pid_dir, "mountinfo", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return FALSE; /* gone: nothing is decided for it */
	g_autofree char *text = read_all(fd);
	close(fd);
	if (text == NULL)
		return FALSE;
	/* without the mount's id (before Linux 5.8) only the device tells, and a btrfs
	 * subvolume's shows in no table: FUSE by the table alone */
	if (mnt_id == 0)
		return vigil_fuse_kind_in_mountinfo(text, dev) == VIGIL_FS_FUSE;
	Search search = {mnt_id, VIGIL_FS_UNSEEN, 0};
	each_mount(text, search_mnt_id, &search);
	switch (search.kind) {
	case VIGIL_FS_FUSE:
		return TRUE;
	case VIGIL_FS_OVERLAY:
		/* a root's overlay the namespace came with shows in vigild's table too */
		return mount_ns_is_users(pid_dir) && here_kind(search.dev) != VIGIL_FS_OVERLAY;
	case VIGIL_FS_UNSEEN: {
		/* a mount it cannot see: only vigild's own table may tell what it is (a root's
		 * mount shows there, a FUSE mount does not make it a root's) */
		VigilFsKind here = here_kind(dev);
		return here == VIGIL_FS_UNSEEN || here == VIGIL_FS_FUSE;
	}
	case VIGIL_FS_OTHER:
	default:
		return FALSE;
	}
}
