/* vigil-fuse.c: files on file systems whose server a user runs (FUSE), looked at without asking it
 */
#define G_LOG_DOMAIN "vigil-fuse"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vigil-fuse.h"

/* a mount table bigger than this is read in part: its first mounts only */
#define MOUNTINFO_MAX (4 * 1024 * 1024)

int
vigil_fuse_stat(int dirfd, const char *path, int flags, struct stat *st)
{
	struct statx sx;

	/* FUSE answers AT_STATX_DONT_SYNC from the inode's cached attributes, even expired
	 * ones (fuse_update_get_attr()), and a magic link is followed without a lookup */
	if (statx(dirfd, path, flags | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx) != 0)
		return -1;
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

/* one line: "ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE SOURCE SUPER-OPTIONS" */
static gboolean
parse_line(const char *line, guint64 *dev, const char **type, gsize *type_len)
{
	const char *p = line;
	char *end = NULL;

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
	*type = sep + 3;
	*type_len = strcspn(*type, " \n");
	*dev = makedev((unsigned int)major, (unsigned int)minor);
	return TRUE;
}

VigilFsKind
vigil_fuse_kind_in_mountinfo(const char *mountinfo, guint64 dev)
{
	VigilFsKind kind = VIGIL_FS_UNSEEN;

	g_return_val_if_fail(mountinfo != NULL, VIGIL_FS_UNSEEN);
	for (const char *line = mountinfo; *line != '\0';) {
		const char *next = strchr(line, '\n');
		guint64 line_dev;
		const char *type;
		gsize type_len;

		if (parse_line(line, &line_dev, &type, &type_len) && line_dev == dev) {
			/* one superblock, one type: any of its mounts tells */
			if (is_fuse_type(type, type_len))
				return VIGIL_FS_FUSE;
			kind = VIGIL_FS_OTHER;
		}
		if (next == NULL)
			break;
		line = next + 1;
	}
	return kind;
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

/* vigild's own mount table: its FUSE devices, read again when poll() says it changed */
static GMutex here_lock;
static int here_fd = -1;
static GArray *here_devs; /* of guint64 */

static void
reload_here_locked(void)
{
	g_autofree char *text = read_all(here_fd);

	g_array_set_size(here_devs, 0);
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *next = strchr(line, '\n');
		guint64 dev;
		const char *type;
		gsize type_len;

		if (parse_line(line, &dev, &type, &type_len) && is_fuse_type(type, type_len))
			g_array_append_val(here_devs, dev);
		line = next != NULL ? next + 1 : NULL;
	}
}

gboolean
vigil_fuse_dev_is_fuse_here(guint64 dev)
{
	gboolean found = FALSE;

	if (major(dev) != 0)
		return FALSE;
	g_mutex_lock(&here_lock);
	if (here_fd < 0) {
		here_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC | O_NOCTTY);
		here_devs = g_array_new(FALSE, FALSE, sizeof(guint64));
		if (here_fd >= 0)
			reload_here_locked();
	}
	if (here_fd >= 0) {
		/* the kernel flags the table POLLPRI once it changed since the last poll */
		struct pollfd pfd = {.fd = here_fd, .events = POLLPRI};
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLPRI | POLLERR)) != 0)
			reload_here_locked();
	}
	for (guint i = 0; i < here_devs->len && !found; i++)
		found = g_array_index(here_devs, guint64, i) == dev;
	g_mutex_unlock(&here_lock);
	return found;
}
