/* vigil-bus-peer.c: the holders of a bus connection's client end, found from the bus's side */
#define G_LOG_DOMAIN "vigil-bus-peer"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vigil-bus-peer.h"

/* connections one process may have opened: the bus allows a user 256 in all */
#define MAX_SERVER_SOCKETS 256
#define SOCKET_LINK_MAX    64
#define UID_FIELDS         4
#define NO_COOKIE          G_MAXUINT32
#define DIAG_BUFFER_SIZE   8192 /* one answer about one socket */

typedef struct {
	GArray *targets; /* guint64: client-end socket inodes */
	GArray *holders; /* guint32 pids */
	guint budget;    /* fd links left to read */
} Scan;

guint64
vigil_bus_peer_parse_socket_link(const char *link)
{
	static const char prefix[] = "socket:[";
	char *end = NULL;
	guint64 value;

	if (strncmp(link, prefix, sizeof(prefix) - 1) != 0 || !g_ascii_isdigit(link[8]))
		return 0;
	value = g_ascii_strtoull(link + sizeof(prefix) - 1, &end, 10);
	if (end == NULL || *end != ']' || end[1] != '\0')
		return 0;
	return value;
}

guint32
vigil_bus_peer_daemon_pid(GDBusConnection *connection)
{
	GIOStream *stream = g_dbus_connection_get_stream(connection);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	GSocket *socket;

	if (!G_IS_SOCKET_CONNECTION(stream))
		return 0;
	socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
	if (g_socket_get_family(socket) != G_SOCKET_FAMILY_UNIX ||
	    getsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.pid <= 0)
		return 0;
	return (guint32)cred.pid;
}

static gboolean
errno_error(GError **error, int err, const char *what)
{
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", what, g_strerror(err));
	return FALSE;
}

static guint64
read_socket_link(int dir_fd, const char *name)
{
	char link[SOCKET_LINK_MAX];
	ssize_t n = readlinkat(dir_fd, name, link, sizeof(link) - 1);

	if (n <= 0)
		return 0;
	link[n] = '\0';
	return vigil_bus_peer_parse_socket_link(link);
}

/* is the fd @fd of the bus (through @pidfd) a connection that (@pid, @uid) opened? */
static gboolean
opened_by(int pidfd, int fd, guint32 pid, guint32 uid, GError **error)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	/* a copy of the bus's fd: the peer credentials are the connecting process's */
	int copy = pidfd_getfd(pidfd, fd, 0);
	gboolean match;

	if (copy < 0) {
		if (errno != EBADF) /* EBADF: closed meanwhile */
			errno_error(error, errno, "cannot look at the bus daemon's sockets");
		return FALSE;
	}
	match = getsockopt(copy, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	        cred.pid == (pid_t)pid && cred.uid == (uid_t)uid;
	close(copy);
	return match;
}

/* the inodes of the bus daemon's ends of the connections (@pid, @uid) opened */
static GArray *
server_sockets(guint32 bus_pid, guint32 pid, guint32 uid, GError **error)
{
	g_autofree char *fd_path = g_strdup_printf("/proc/%u/fd", bus_pid);
	g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(guint64));
	int pidfd = pidfd_open((pid_t)bus_pid, 0);
	GError *local_error = NULL;
	struct dirent *entry;
	guint seen = 0;
	DIR *dir;

	if (pidfd < 0) {
		errno_error(error, errno, "cannot open the bus daemon's process");
		return NULL;
	}
	dir = opendir(fd_path);
	if (dir == NULL) {
		errno_error(error, errno, "cannot read the bus daemon's fds");
		close(pidfd);
		return NULL;
	}
	while (local_error == NULL && (entry = readdir(dir)) != NULL) {
		guint64 inode;

		if (!g_ascii_isdigit(entry->d_name[0]))
			continue;
		if (++seen > VIGIL_BUS_PEER_MAX_BUS_FDS) {
			g_set_error(&local_error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES,
			            "the bus daemon has more than %d fds",
			            VIGIL_BUS_PEER_MAX_BUS_FDS);
			break;
		}
		inode = read_socket_link(dirfd(dir), entry->d_name);
		if (inode != 0 && opened_by(pidfd, atoi(entry->d_name), pid, uid, &local_error) &&
		    found->len < MAX_SERVER_SOCKETS)
			g_array_append_val(found, inode);
	}
	closedir(dir);
	close(pidfd);
	if (local_error != NULL) {
		g_propagate_error(error, local_error);
		return NULL;
	}
	return g_steal_pointer(&found);
}

static int
on_peer_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == UNIX_DIAG_PEER && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(guint64 *)data = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int
on_unix_diag(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct unix_diag_msg))
		return MNL_CB_ERROR;
	mnl_attr_parse(nlh, sizeof(struct unix_diag_msg), on_peer_attr, data);
	return MNL_CB_OK;
}

/* sock_diag: the peer of unix socket @inode in vigild's network namespace (0: none) */
static gboolean
peer_of(struct mnl_socket *nl, guint32 seq, guint64 inode, guint64 *peer, GError **error)
{
	char buf[DIAG_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct unix_diag_req *req;
	ssize_t n;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_UNIX;
	req->udiag_states = G_MAXUINT32;
	req->udiag_ino = (guint32)inode;
	req->udiag_show = UDIAG_SHOW_PEER;
	req->udiag_cookie[0] = req->udiag_cookie[1] = NO_COOKIE;
	*peer = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errno_error(error, errno, "sock_diag");
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return errno_error(error, errno, "sock_diag");
	if (mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), on_unix_diag, peer) < 0) {
		if (errno == ENOENT) {
			/* the socket's network namespace is another: sock_diag sees only its own */
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			            "the connection was made in another network namespace than "
			            "vigild's");
			return FALSE;
		}
		return errno_error(error, errno, "sock_diag");
	}
	return TRUE;
}

/* the client ends of the server sockets @inodes */
static GArray *
client_sockets(GArray *inodes, GError **error)
{
	g_autoptr(GArray) peers = g_array_new(FALSE, FALSE, sizeof(guint64));
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	gboolean ok = TRUE;

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		errno_error(error, errno, "cannot open a sock_diag socket");
		if (nl != NULL)
			mnl_socket_close(nl);
		return NULL;
	}
	for (guint i = 0; ok && i < inodes->len; i++) {
		guint64 peer = 0;

		ok = peer_of(nl, i + 1, g_array_index(inodes, guint64, i), &peer, error);
		if (ok && peer != 0)
			g_array_append_val(peers, peer);
	}
	mnl_socket_close(nl);
	return ok ? g_steal_pointer(&peers) : NULL;
}

/*
 * Is @uid one of the uids of process @name? /proc/PID belongs to its effective uid, or to
 * root when the process made itself non-dumpable: then its status says whose it is.
 */
static gboolean
has_uid(int proc_fd, const char *name, guint32 uid)
{
	g_autofree char *path = g_strdup_printf("/proc/%s/status", name);
	g_autofree char *status = NULL;
	struct stat st;
	const char *line;

	if (fstatat(proc_fd, name, &st, 0) != 0)
		return FALSE;
	if (st.st_uid == uid)
		return TRUE;
	if (st.st_uid != 0 || !g_file_get_contents(path, &status, NULL, NULL))
		return FALSE;
	line = strstr(status, "\nUid:");
	if (line == NULL)
		return FALSE;
	line += strlen("\nUid:");
	for (guint i = 0; i < UID_FIELDS; i++) {
		char *end = NULL;
		guint64 value = g_ascii_strtoull(line, &end, 10);

		if (end == line)
			return FALSE;
		if (value == uid)
			return TRUE;
		line = end;
	}
	return FALSE;
}

static gboolean
is_target(const Scan *scan, guint64 inode)
{
	for (guint i = 0; i < scan->targets->len; i++) {
		if (g_array_index(scan->targets, guint64, i) == inode)
			return TRUE;
	}
	return FALSE;
}

/* does the fd table at @dir_path hold a target? Fails when the budget runs out */
static gboolean
table_holds(Scan *scan, const char *dir_path, gboolean *holds, GError **error)
{
	DIR *dir = opendir(dir_path);
	struct dirent *entry;
	gboolean ok = TRUE;

	*holds = FALSE;
	if (dir == NULL)
		return TRUE; /* gone, or a zombie */
	while (!*holds && (entry = readdir(dir)) != NULL) {
		if (!g_ascii_isdigit(entry->d_name[0]))
			continue;
		if (scan->budget == 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES,
			            "the user's processes have more than %d open files",
			            VIGIL_BUS_PEER_MAX_FDS);
			ok = FALSE;
			break;
		}
		scan->budget--;
		*holds = is_target(scan, read_socket_link(dirfd(dir), entry->d_name));
	}
	closedir(dir);
	return ok;
}

/* do the tasks of @pid share its fd table? (a thread may have unshared its own) */
static gboolean
shares_leader_table(guint32 pid, guint32 tid)
{
	return tid == pid || syscall(SYS_kcmp, (pid_t)pid, (pid_t)tid, KCMP_FILES, 0UL, 0UL) == 0;
}

/* adds @pid to the holders when one of its tasks' fd tables holds a target */
static gboolean
scan_process(Scan *scan, guint32 pid, GError **error)
{
	g_autofree char *task_path = g_strdup_printf("/proc/%u/task", pid);
	g_autofree char *leader_fds = g_strdup_printf("/proc/%u/fd", pid);
	DIR *tasks;
	struct dirent *entry;
	gboolean holds = FALSE;
	gboolean ok;

	ok = table_holds(scan, leader_fds, &holds, error);
	tasks = ok && !holds ? opendir(task_path) : NULL;
	while (tasks != NULL && ok && !holds && (entry = readdir(tasks)) != NULL) {
		guint32 tid = (guint32)strtoul(entry->d_name, NULL, 10);
		g_autofree char *fds = NULL;

		if (tid == 0 || shares_leader_table(pid, tid))
			continue;
		fds = g_strdup_printf("%s/%u/fd", task_path, tid);
		ok = table_holds(scan, fds, &holds, error);
	}
	if (tasks != NULL)
		closedir(tasks);
	if (ok && holds) {
		if (scan->holders->len >= VIGIL_BUS_PEER_MAX_HOLDERS) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES,
			            "more than %d processes hold the connection",
			            VIGIL_BUS_PEER_MAX_HOLDERS);
			return FALSE;
		}
		g_array_append_val(scan->holders, pid);
	}
	return ok;
}

/* every process with @uid among its uids that holds one of @targets */
static GArray *
find_holders(GArray *targets, guint32 uid, GError **error)
{
	g_autoptr(GArray) holders = g_array_new(FALSE, FALSE, sizeof(guint32));
	Scan scan = {targets, holders, VIGIL_BUS_PEER_MAX_FDS};
	DIR *proc = opendir("/proc");
	struct dirent *entry;
	gboolean ok = TRUE;

	if (proc == NULL) {
		errno_error(error, errno, "cannot read /proc");
		return NULL;
	}
	while (ok && (entry = readdir(proc)) != NULL) {
		guint32 pid = (guint32)strtoul(entry->d_name, NULL, 10);

		if (pid == 0 || !has_uid(dirfd(proc), entry->d_name, uid))
			continue;
		ok = scan_process(&scan, pid, error);
	}
	closedir(proc);
	return ok ? g_steal_pointer(&holders) : NULL;
}

GArray *
vigil_bus_peer_holders(guint32 bus_pid, guint32 pid, guint32 uid, GError **error)
{
	g_autoptr(GArray) servers = NULL;
	g_autoptr(GArray) clients = NULL;

	if (bus_pid == 0 || pid == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		            "the bus did not say which process %s",
		            bus_pid == 0 ? "it is" : "opened the connection");
		return NULL;
	}
	servers = server_sockets(bus_pid, pid, uid, error);
	if (servers == NULL)
		return NULL;
	if (servers->len == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		            "the bus has no connection of process %u", pid);
		return NULL;
	}
	clients = client_sockets(servers, error);
	if (clients == NULL)
		return NULL;
	return find_holders(clients, uid, error);
}

typedef struct {
	guint32 bus_pid;
	guint32 pid;
	guint32 uid;
} Search;

static void
search_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	Search *search = task_data;
	GError *error = NULL;
	GArray *holders = vigil_bus_peer_holders(search->bus_pid, search->pid, search->uid, &error);

	if (holders == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, holders, (GDestroyNotify)g_array_unref);
}

void
vigil_bus_peer_holders_async(guint32 bus_pid, guint32 pid, guint32 uid, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	Search *search = g_new0(Search, 1);

	search->bus_pid = bus_pid;
	search->pid = pid;
	search->uid = uid;
	g_task_set_task_data(task, search, g_free);
	g_task_set_source_tag(task, vigil_bus_peer_holders_async);
	g_task_run_in_thread(task, search_thread);
}

GArray *
vigil_bus_peer_holders_finish(GAsyncResult *result, GError **error)
{
	return g_task_propagate_pointer(G_TASK(result), error);
}
