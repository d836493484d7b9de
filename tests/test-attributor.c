/* test-attributor.c: real sockets of real child processes, attributed via sock_diag and /proc */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil-attributor.h"
#include "vigil-sock-diag.h"

#define NOBODY      65534
#define MAX_SOCKETS 4
#define REPORT_WAIT 10000 /* ms */
#define ECHO_ID_RAW 0x4242
#define ICMP_ECHO   8 /* netinet/ip_icmp.h would turn icmp_id into a macro */
#define ICMP6_ECHO  128

static char *test_exe;

/* the test's own endpoints on loopback, in the network namespace main() made */
static int tcp4_listener;
static int tcp6_listener;
static int udp4_server;
static int udp6_server;
static struct sockaddr_in tcp4_addr;
static struct sockaddr_in6 tcp6_addr;
static struct sockaddr_in udp4_addr;
static struct sockaddr_in6 udp6_addr;

/* children */

typedef enum {
	KIND_TCP,
	KIND_UDP_CONNECTED,
	KIND_UDP_SENDTO,
	KIND_UDPLITE,
	KIND_PING,
	KIND_RAW_ICMP,
} Kind;

typedef struct {
	Kind kind;
	int family; /* of the child's socket */
	const struct sockaddr *dst;
	socklen_t dst_len;
	int n_sockets;
	uid_t uid;           /* 0: stays root */
	gboolean uid_first;  /* drop to @uid before making the sockets */
	gboolean dumpable;   /* undo the non-dumpable flag a uid change sets */
	gboolean exec_later; /* exec /bin/sleep on request, the sockets stay open */
	int extra_fds;       /* files opened before the sockets */
	gboolean reuse_addr; /* SO_REUSEADDR, bound to 127.0.0.1:@bind_port before use */
	guint16 bind_port;
} ChildSpec;

typedef struct {
	int error;    /* errno in the child, 0 when all went well */
	pid_t helper; /* after CMD_SHARE: the process that holds the sockets too */
	int n;
	struct sockaddr_storage local[MAX_SOCKETS];
} ChildReport;

typedef struct {
	pid_t pid;
	int ctl;       /* write end of the command pipe; closing it ends the child */
	int report_fd; /* read end: a ChildReport after the start and after each command */
	ChildReport report;
} Child;

/* commands, one byte each */
#define CMD_EXEC          'x' /* exec /bin/sleep (with exec_later) */
#define CMD_EXEC_SELF     'X' /* exec this test program again, as a sleeper (with exec_later) */
#define SLEEPER_ARG       "--exec-sleeper"
#define CMD_NEW_SOCKET    'n' /* one more socket, on the lowest free fd */
#define CMD_REPLACE       'r' /* close the first socket, then a new one takes its fd */
#define CMD_REPLACE_MID   'm' /* close the middle one of the extra files, a socket takes its fd */
#define CMD_BECOME_NOBODY 'u' /* drop to nobody's uids, then one more socket */
#define CMD_SHARE         's' /* fork a /bin/sleep that inherits the sockets, then one more */

static int
child_make_socket(const ChildSpec *spec)
{
	int type = spec->kind == KIND_TCP        ? SOCK_STREAM
	           : spec->kind == KIND_RAW_ICMP ? SOCK_RAW
	                                         : SOCK_DGRAM;
	int proto = 0;
	if (spec->kind == KIND_UDPLITE)
		proto = IPPROTO_UDPLITE;
	else if (spec->kind == KIND_PING || spec->kind == KIND_RAW_ICMP)
		proto = spec->family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	/* no SOCK_CLOEXEC: the sockets must survive an exec */
	return socket(spec->family, type, proto);
}

static guint16
icmp_checksum(const guint8 *data, gsize len)
{
	guint32 sum = 0;
	for (gsize i = 0; i + 1 < len; i += 2)
		sum += (guint32)(data[i] << 8 | data[i + 1]);
	if (len % 2)
		sum += (guint32)data[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (guint16)~sum;
}

static int
child_use_socket(const ChildSpec *spec, int fd)
{
	guint8 echo[16] = {spec->family == AF_INET6 ? ICMP6_ECHO : ICMP_ECHO, 0};
	switch (spec->kind) {
	case KIND_TCP:
	case KIND_UDP_CONNECTED:
	case KIND_UDPLITE:
		return connect(fd, spec->dst, spec->dst_len);
	case KIND_UDP_SENDTO:
		return (int)sendto(fd, "x", 1, 0, spec->dst, spec->dst_len);
	case KIND_PING:
		/* the kernel puts the socket's own identifier into the echo request */
		return (int)sendto(fd, echo, sizeof(echo), 0, spec->dst, spec->dst_len);
	case KIND_RAW_ICMP: {
		echo[4] = ECHO_ID_RAW >> 8;
		echo[5] = ECHO_ID_RAW & 0xff;
		guint16 sum = icmp_checksum(echo, sizeof(echo));
		echo[2] = sum >> 8;
		echo[3] = sum & 0xff;
		return (int)sendto(fd, echo, sizeof(echo), 0, spec->dst, spec->dst_len);
	}
	}
	return -1;
}

static gboolean
child_drop_uid(const ChildSpec *spec)
{
	if (setgroups(0, NULL) < 0 || setresgid(spec->uid, spec->uid, spec->uid) < 0 ||
	    setresuid(spec->uid, spec->uid, spec->uid) < 0)
		return FALSE;
	return !spec->dumpable || prctl(PR_SET_DUMPABLE, 1) == 0;
}

static int
child_new_socket(const ChildSpec *spec, ChildReport *report)
{
	socklen_t len = sizeof(report->local[0]);
	int fd = child_make_socket(spec);
	report->n = 1;
	if (fd < 0 || child_use_socket(spec, fd) < 0 ||
	    getsockname(fd, (struct sockaddr *)&report->local[0], &len) < 0)
		report->error = errno;
	return fd;
}

static gboolean
child_bind(const ChildSpec *spec, int fd)
{
	int one = 1;
	struct sockaddr_in addr = {AF_INET, htons(spec->bind_port), {htonl(INADDR_LOOPBACK)}};
	if (!spec->reuse_addr)
		return TRUE;
	return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	       bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
}

/* another program holding our sockets too: /bin/sleep, forked and exec'd with them open */
static pid_t
child_share(int ctl, int report_fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ctl);
		close(report_fd);
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* runs in the forked child: system calls only, then obeys commands on @ctl */
static G_NORETURN void
child_main(const ChildSpec *spec, int report_fd, int ctl)
{
	ChildReport report = {0};
	int sockets[MAX_SOCKETS];
	int middle_file = -1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; i < spec->extra_fds; i++) {
		int fd = open("/dev/null", O_RDONLY);
		if (i == spec->extra_fds / 2)
			middle_file = fd;
	}
	if (spec->uid != 0 && spec->uid_first && !child_drop_uid(spec))
		report.error = errno;
	for (int i = 0; i < spec->n_sockets && report.error == 0; i++) {
		socklen_t len = sizeof(report.local[i]);
		sockets[i] = child_make_socket(spec);
		if (sockets[i] < 0 || !child_bind(spec, sockets[i]) ||
		    child_use_socket(spec, sockets[i]) < 0 ||
		    getsockname(sockets[i], (struct sockaddr *)&report.local[i], &len) < 0)
			report.error = errno;
		report.n++;
	}
	if (report.error == 0 && spec->uid != 0 && !spec->uid_first && !child_drop_uid(spec))
		report.error = errno;

	for (char cmd = 0;; cmd = 0) {
		if (write(report_fd, &report, sizeof(report)) != sizeof(report) ||
		    read(ctl, &cmd, 1) != 1)
			_exit(0);
		memset(&report, 0, sizeof(report));
		if (cmd == CMD_EXEC && spec->exec_later)
			execl("/bin/sleep", "sleep", "60", (char *)NULL);
		if (cmd == CMD_EXEC_SELF && spec->exec_later)
			execl(test_exe, test_exe, SLEEPER_ARG, (char *)NULL);
		if (cmd == CMD_SHARE)
			report.helper = child_share(ctl, report_fd);
		if (cmd == CMD_REPLACE)
			close(sockets[0]);
		if (cmd == CMD_REPLACE_MID)
			close(middle_file);
		if (cmd == CMD_BECOME_NOBODY &&
		    (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		     setresuid(NOBODY, NOBODY, NOBODY) < 0))
			report.error = errno;
		int fd = child_new_socket(spec, &report);
		if (cmd == CMD_REPLACE)
			sockets[0] = fd;
	}
}

static void
child_read_report(Child *child)
{
	struct pollfd pfd = {child->report_fd, POLLIN, 0};
	g_assert_cmpint(poll(&pfd, 1, REPORT_WAIT), ==, 1);
	g_assert_cmpint(read(child->report_fd, &child->report, sizeof(child->report)), ==,
	                sizeof(child->report));
	g_assert_cmpint(child->report.error, ==, 0);
}

/* sends @cmd; the child's new socket is then child->report.local[0] */
static void
child_command(Child *child, char cmd)
{
	g_assert_cmpint(write(child->ctl, &cmd, 1), ==, 1);
	if (cmd != CMD_EXEC && cmd != CMD_EXEC_SELF)
		child_read_report(child);
}

static void
child_start(Child *child, const ChildSpec *spec)
{
	int report_pipe[2];
	int ctl_pipe[2];
	g_assert_cmpint(pipe2(report_pipe, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(ctl_pipe, O_CLOEXEC), ==, 0);

	child->pid = fork();
	g_assert_cmpint(child->pid, >=, 0);
	if (child->pid == 0) {
		close(report_pipe[0]);
		close(ctl_pipe[1]);
		child_main(spec, report_pipe[1], ctl_pipe[0]);
	}
	close(report_pipe[1]);
	close(ctl_pipe[0]);
	child->ctl = ctl_pipe[1];
	child->report_fd = report_pipe[0];
	child_read_report(child);
	g_assert_cmpint(child->report.n, ==, spec->n_sockets);
}

static void
child_stop(Child *child)
{
	int status;
	close(child->ctl);
	close(child->report_fd);
	kill(child->pid, SIGKILL);
	g_assert_cmpint(waitpid(child->pid, &status, 0), ==, child->pid);
}

/* flows */

static void
flow_set_ends(VigilFlow *flow, const struct sockaddr *local, const struct sockaddr *remote)
{
	if (remote->sa_family == AF_INET6) {
		const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)local;
		const struct sockaddr_in6 *r = (const struct sockaddr_in6 *)remote;
		static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(r->sin6_addr.s6_addr, mapped, 12) == 0) {
			/* an IPv6 socket talking IPv4: the packet is IPv4 */
			flow->family = AF_INET;
			memcpy(flow->src.bytes, l->sin6_addr.s6_addr + 12, 4);
			memcpy(flow->dst.bytes, r->sin6_addr.s6_addr + 12, 4);
		} else {
			flow->family = AF_INET6;
			memcpy(flow->src.bytes, l->sin6_addr.s6_addr, 16);
			memcpy(flow->dst.bytes, r->sin6_addr.s6_addr, 16);
		}
		flow->sport = ntohs(l->sin6_port);
		flow->dport = ntohs(r->sin6_port);
	} else {
		const struct sockaddr_in *l = (const struct sockaddr_in *)local;
		const struct sockaddr_in *r = (const struct sockaddr_in *)remote;
		flow->family = AF_INET;
		memcpy(flow->src.bytes, &l->sin_addr, 4);
		memcpy(flow->dst.bytes, &r->sin_addr, 4);
		flow->sport = ntohs(l->sin_port);
		flow->dport = ntohs(r->sin_port);
	}
}

/* the flow the queue would see for socket @i of @child */
static VigilFlow
child_flow(const Child *child, int i, guint8 protocol, const struct sockaddr *dst, guint32 uid)
{
	VigilFlow flow = {0};
	flow.protocol = protocol;
	flow_set_ends(&flow, (const struct sockaddr *)&child->report.local[i], dst);
	/* an unbound socket's packets leave from the loopback address, like its destination */
	static const VigilAddress any = {{0}};
	if (memcmp(&flow.src, &any, sizeof(any)) == 0) {
		if (flow.family == AF_INET)
			flow.src.bytes[0] = 127, flow.src.bytes[3] = 1;
		else
			flow.src.bytes[15] = 1;
	}
	flow.has_uid = TRUE;
	flow.uid = uid;
	return flow;
}

static VigilFlow
loopback_flow(int family, guint8 protocol, guint16 sport, guint16 dport)
{
	VigilFlow flow = {0};
	flow.family = family;
	flow.protocol = protocol;
	if (family == AF_INET) {
		flow.src.bytes[0] = flow.dst.bytes[0] = 127;
		flow.src.bytes[3] = flow.dst.bytes[3] = 1;
	} else {
		flow.src.bytes[15] = flow.dst.bytes[15] = 1;
	}
	flow.sport = sport;
	flow.dport = dport;
	return flow;
}

/* checks */

static char *
resolved(const char *path)
{
	char buf[PATH_MAX];
	g_assert_nonnull(realpath(path, buf));
	return g_strdup(buf);
}

static char *
user_name_of(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	return pw != NULL ? g_strdup(pw->pw_name) : NULL;
}

static VigilAttributor *
new_attributor(void)
{
	g_autoptr(GError) error = NULL;
	VigilAttributor *attributor = vigil_attributor_new("/proc", &error);
	g_assert_no_error(error);
	g_assert_nonnull(attributor);
	return attributor;
}

/* what a user checks in a prompt: the pid, the program, the user, who started it */
static void
assert_is_child(VigilProcess *process, pid_t pid, const char *exe, uid_t uid)
{
	g_assert_nonnull(process);
	g_assert_cmpuint(process->pid, ==, pid);
	g_assert_cmpstr(process->exe, ==, exe);
	g_assert_cmpuint(process->uid, ==, uid);
	g_autofree char *user = user_name_of(uid);
	g_assert_cmpstr(process->user_name, ==, user);
	g_autofree char *parent = g_strdup_printf("%d %s", getpid(), test_exe);
	g_assert_cmpuint(process->parents->len, >=, 1);
	g_assert_cmpstr(g_ptr_array_index(process->parents, 0), ==, parent);
}

static VigilProcess *
lookup(VigilAttributor *attributor, const VigilFlow *flow)
{
	g_autoptr(GError) error = NULL;
	VigilProcess *process = vigil_attributor_lookup(attributor, flow, &error);
	g_assert_no_error(error);
	return process;
}

/* a child of ours with @spec, its flow attributed to it */
static void
check_child_attributed(const ChildSpec *spec, guint8 protocol, const struct sockaddr *dst)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	Child child;
	child_start(&child, spec);

	uid_t uid = spec->uid;
	for (int i = 0; i < spec->n_sockets; i++) {
		VigilFlow flow = child_flow(&child, i, protocol, dst, uid);
		g_autoptr(VigilProcess) process = lookup(attributor, &flow);
		assert_is_child(process, child.pid, test_exe, uid);
	}
	child_stop(&child);
}

static void
test_tcp4(void)
{
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr), 2};
	check_child_attributed(&spec, IPPROTO_TCP, spec.dst);
}

static void
test_tcp6(void)
{
	ChildSpec spec = {KIND_TCP, AF_INET6, (struct sockaddr *)&tcp6_addr, sizeof(tcp6_addr), 1};
	check_child_attributed(&spec, IPPROTO_TCP, spec.dst);
}

/* an IPv6 socket connecting to ::ffff:127.0.0.1 sends IPv4 packets */
static void
test_tcp_mapped(void)
{
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6, .sin6_port = tcp4_addr.sin_port};
	mapped.sin6_addr.s6_addr[10] = mapped.sin6_addr.s6_addr[11] = 0xff;
	memcpy(mapped.sin6_addr.s6_addr + 12, &tcp4_addr.sin_addr, 4);
	ChildSpec spec = {KIND_TCP, AF_INET6, (struct sockaddr *)&mapped, sizeof(mapped), 1};
	check_child_attributed(&spec, IPPROTO_TCP, spec.dst);
}

static void
test_udp_connected(void)
{
	ChildSpec spec = {KIND_UDP_CONNECTED, AF_INET, (struct sockaddr *)&udp4_addr,
	                  sizeof(udp4_addr), 2};
	check_child_attributed(&spec, IPPROTO_UDP, spec.dst);
	ChildSpec spec6 = {KIND_UDP_CONNECTED, AF_INET6, (struct sockaddr *)&udp6_addr,
	                   sizeof(udp6_addr), 1};
	check_child_attributed(&spec6, IPPROTO_UDP, spec6.dst);
}

static void
test_udplite(void)
{
	ChildSpec spec = {KIND_UDPLITE, AF_INET, (struct sockaddr *)&udp4_addr, sizeof(udp4_addr),
	                  1};
	check_child_attributed(&spec, IPPROTO_UDPLITE, spec.dst);
}

/* an unconnected socket (sendto) may send anywhere: any destination finds it */
static void
test_udp_unconnected(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_UDP_SENDTO, AF_INET, (struct sockaddr *)&udp4_addr,
	                  sizeof(udp4_addr), 1};
	Child child;
	child_start(&child, &spec);

	VigilFlow flow = child_flow(&child, 0, IPPROTO_UDP, spec.dst, 0);
	g_autoptr(VigilProcess) process = lookup(attributor, &flow);
	assert_is_child(process, child.pid, test_exe, 0);

	struct sockaddr_in elsewhere = {AF_INET, htons(9), {htonl(0x7f000002)}};
	VigilFlow other = child_flow(&child, 0, IPPROTO_UDP, (struct sockaddr *)&elsewhere, 0);
	g_autoptr(VigilProcess) again = lookup(attributor, &other);
	assert_is_child(again, child.pid, test_exe, 0);

	ChildSpec spec6 = {KIND_UDP_SENDTO, AF_INET6, (struct sockaddr *)&udp6_addr,
	                   sizeof(udp6_addr), 1};
	Child child6;
	child_start(&child6, &spec6);
	VigilFlow flow6 = child_flow(&child6, 0, IPPROTO_UDP, spec6.dst, 0);
	g_autoptr(VigilProcess) process6 = lookup(attributor, &flow6);
	assert_is_child(process6, child6.pid, test_exe, 0);

	child_stop(&child6);
	child_stop(&child);
}

/* the kernel rewrote the destination (DNAT in OUTPUT): the local port still finds it */
static void
test_tcp_rewritten_destination(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr), 1};
	Child child;
	child_start(&child, &spec);

	struct sockaddr_in rewritten = {AF_INET, htons(4321), {htonl(0x7f000009)}};
	VigilFlow flow = child_flow(&child, 0, IPPROTO_TCP, (struct sockaddr *)&rewritten, 0);
	g_autoptr(VigilProcess) process = lookup(attributor, &flow);
	assert_is_child(process, child.pid, test_exe, 0);
	child_stop(&child);
}

static void
test_ping(void)
{
	struct sockaddr_in dst4 = {AF_INET, 0, {htonl(INADDR_LOOPBACK)}};
	struct sockaddr_in6 dst6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	const ChildSpec specs[] = {
	    {KIND_PING, AF_INET, (struct sockaddr *)&dst4, sizeof(dst4), 2},
	    {KIND_PING, AF_INET6, (struct sockaddr *)&dst6, sizeof(dst6), 1},
	};

	for (guint s = 0; s < G_N_ELEMENTS(specs); s++) {
		g_autoptr(VigilAttributor) attributor = new_attributor();
		Child child;
		child_start(&child, &specs[s]);
		guint8 protocol = specs[s].family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		for (int i = 0; i < specs[s].n_sockets; i++) {
			/* the echo identifier is the ping socket's "port" */
			VigilFlow flow = child_flow(&child, i, protocol, specs[s].dst, 0);
			flow.icmp_id = flow.sport;
			flow.icmp_type = specs[s].family == AF_INET ? ICMP_ECHO : ICMP6_ECHO;
			flow.sport = flow.dport = 0;
			memcpy(&flow.src, &flow.dst, sizeof(flow.src));
			g_autoptr(VigilProcess) process = lookup(attributor, &flow);
			assert_is_child(process, child.pid, test_exe, 0);

			/* another identifier is not this socket */
			flow.icmp_id ^= 0x8000;
			g_autoptr(VigilProcess) none = lookup(attributor, &flow);
			g_assert_null(none);
		}
		child_stop(&child);
	}
}

/* as root a raw ICMP socket sends echo requests with any identifier */
static void
test_raw_icmp(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	struct sockaddr_in dst = {AF_INET, 0, {htonl(INADDR_LOOPBACK)}};
	ChildSpec spec = {KIND_RAW_ICMP, AF_INET, (struct sockaddr *)&dst, sizeof(dst), 1};
	Child child;
	child_start(&child, &spec);

	VigilFlow flow = loopback_flow(AF_INET, IPPROTO_ICMP, 0, 0);
	flow.icmp_type = ICMP_ECHO;
	flow.icmp_id = ECHO_ID_RAW;
	g_autoptr(VigilProcess) process = lookup(attributor, &flow);
	assert_is_child(process, child.pid, test_exe, 0);
	child_stop(&child);

	g_autoptr(VigilProcess) gone = lookup(attributor, &flow);
	g_assert_null(gone);
}

static guint16
unused_port(int type)
{
	/* bind to port 0 and close: that port is free right now */
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in addr = {AF_INET, 0, {htonl(INADDR_LOOPBACK)}};
	socklen_t len = sizeof(addr);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
	close(fd);
	return ntohs(addr.sin_port);
}

/* no socket: an unknown process, no error; never the peer on the other end of loopback */
static void
test_no_socket(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	VigilFlow flows[] = {
	    loopback_flow(AF_INET, IPPROTO_TCP, unused_port(SOCK_STREAM),
	                  ntohs(tcp4_addr.sin_port)),
	    loopback_flow(AF_INET, IPPROTO_UDP, unused_port(SOCK_DGRAM), ntohs(udp4_addr.sin_port)),
	    loopback_flow(AF_INET6, IPPROTO_UDP, unused_port(SOCK_DGRAM),
	                  ntohs(udp6_addr.sin6_port)),
	    loopback_flow(AF_INET, IPPROTO_UDPLITE, unused_port(SOCK_DGRAM), 9),
	    loopback_flow(AF_INET, IPPROTO_ICMP, 0, 0),
	    loopback_flow(AF_INET6, IPPROTO_ICMPV6, 0, 0),
	    loopback_flow(AF_INET, IPPROTO_SCTP, 1234, 5678),
	    loopback_flow(AF_INET, 253, 0, 0),
	};
	for (guint i = 0; i < G_N_ELEMENTS(flows); i++) {
		g_autoptr(GError) error = NULL;
		guint64 inode = 1;
		g_assert_true(vigil_sock_diag_find(&flows[i], &inode, NULL, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(inode, ==, 0);
		g_autoptr(VigilProcess) process = lookup(attributor, &flows[i]);
		g_assert_null(process);
	}
	VigilAttributorStats stats;
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.lookups, ==, G_N_ELEMENTS(flows));
	g_assert_cmpuint(stats.no_socket, ==, G_N_ELEMENTS(flows));
}

/* the socket layer alone reports the socket's inode and owner */
static void
test_sock_diag(void)
{
	ChildSpec spec = {KIND_UDP_CONNECTED, AF_INET, (struct sockaddr *)&udp4_addr,
	                  sizeof(udp4_addr), 1};
	Child child;
	child_start(&child, &spec);
	VigilFlow flow = child_flow(&child, 0, IPPROTO_UDP, spec.dst, 0);
	flow.has_uid = FALSE;

	guint64 inode = 0;
	guint32 uid = 1;
	g_autoptr(GError) error = NULL;
	g_assert_true(vigil_sock_diag_find(&flow, &inode, &uid, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(uid, ==, 0);

	/* the same inode as the child's fd 3.., found independently through /proc */
	gboolean seen = FALSE;
	g_autofree char *fd_dir = g_strdup_printf("/proc/%d/fd", child.pid);
	g_autoptr(GDir) dir = g_dir_open(fd_dir, 0, NULL);
	g_assert_nonnull(dir);
	for (const char *name; (name = g_dir_read_name(dir)) != NULL;) {
		g_autofree char *path = g_build_filename(fd_dir, name, NULL);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode)
			seen = TRUE;
	}
	g_assert_true(seen);
	child_stop(&child);
}

/* another user's process: uid and name are theirs, whether or not /proc shows them as owner */
static void
test_other_uid(void)
{
	for (int variant = 0; variant < 3; variant++) {
		g_autoptr(VigilAttributor) attributor = new_attributor();
		ChildSpec spec = {KIND_TCP,          AF_INET, (struct sockaddr *)&tcp4_addr,
		                  sizeof(tcp4_addr), 1,       NOBODY};
		/* 0: non-dumpable after setresuid, 1: dumpable, 2: socket made while root */
		spec.uid_first = variant != 2;
		spec.dumpable = variant != 0;
		Child child;
		child_start(&child, &spec);

		guint32 socket_uid = spec.uid_first ? NOBODY : 0;
		VigilFlow flow = child_flow(&child, 0, IPPROTO_TCP, spec.dst, socket_uid);
		guint64 inode = 0;
		guint32 uid = 1;
		g_autoptr(GError) error = NULL;
		g_assert_true(vigil_sock_diag_find(&flow, &inode, &uid, &error));
		g_assert_cmpuint(uid, ==, socket_uid);

		g_autoptr(VigilProcess) process = lookup(attributor, &flow);
		/* a socket made while root, held by a process of nobody now: the socket's owner
		 * (root) and the process's user differ, so it is not that process's program */
		if (variant == 2)
			g_assert_null(process);
		else
			assert_is_child(process, child.pid, test_exe, NOBODY);
		child_stop(&child);
	}
}

/* a child dies with the test, also when an assertion ends it */
static void
die_with_parent(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* waits until @pid runs @exe */
static void
wait_for_exe(pid_t pid, const char *exe)
{
	g_autofree char *link = g_strdup_printf("/proc/%d/exe", pid);
	for (int i = 0; i < 400; i++) {
		g_autofree char *now = g_file_read_link(link, NULL);
		if (g_strcmp0(now, exe) == 0)
			return;
		g_usleep(5000);
	}
	g_assert_not_reached();
}

/*
 * A socket inherited by another program (fork and exec): the answer names both programs, so the
 * daemon can let the least trusted decide, and such a socket is never answered on the fast
 * path, which knows one holder only. A socket of one of them alone has no other holders.
 */
static void
test_shared_socket(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr), 1};
	g_autofree char *sleep_exe = resolved("/bin/sleep");
	Child child;
	child_start(&child, &spec);
	VigilFlow shared = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);

	child_command(&child, CMD_SHARE);
	pid_t helper = child.report.helper;
	g_assert_cmpint(helper, >, 0);
	wait_for_exe(helper, sleep_exe);
	VigilFlow alone = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);

	g_autoptr(VigilProcess) process = lookup(attributor, &shared);
	g_assert_nonnull(process);
	g_assert_nonnull(process->holders);
	g_assert_cmpuint(process->holders->len, ==, 1);
	VigilProcess *other = g_ptr_array_index(process->holders, 0);
	/* whichever was found first, the other is the other holder */
	if (process->pid == (guint32)child.pid) {
		g_assert_cmpuint(other->pid, ==, helper);
		g_assert_cmpstr(other->exe, ==, sleep_exe);
	} else {
		g_assert_cmpuint(process->pid, ==, helper);
		g_assert_cmpuint(other->pid, ==, child.pid);
		g_assert_cmpstr(other->exe, ==, test_exe);
	}
	VigilProcess *fast = NULL;
	g_assert_false(
	    vigil_attributor_lookup_fast(attributor, &shared, VIGIL_LOOKUP_EXACT, &fast));
	g_assert_null(fast);
	g_autoptr(VigilProcess) again = lookup(attributor, &shared);
	g_assert_nonnull(again->holders);

	g_autoptr(VigilProcess) single = lookup(attributor, &alone);
	assert_is_child(single, child.pid, test_exe, 0);
	g_assert_null(single->holders);

	kill(helper, SIGKILL);
	child_stop(&child);
	g_assert_cmpint(waitpid(helper, NULL, 0), ==, -1); /* not ours: the child's */
}

/*
 * Unconnected UDP sockets of two users on one port (SO_REUSEADDR): the tuple lookup of the
 * kernel gives one of them for both; the packet's uid (NFQA_UID) tells which one sent it.
 */
static void
test_udp_port_shared_by_users(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec root_spec = {KIND_UDP_SENDTO, AF_INET, (struct sockaddr *)&udp4_addr,
	                       sizeof(udp4_addr), 1};
	root_spec.reuse_addr = TRUE;
	Child root_child;
	child_start(&root_child, &root_spec);
	VigilFlow root_flow = child_flow(&root_child, 0, IPPROTO_UDP, root_spec.dst, 0);

	ChildSpec nobody_spec = root_spec;
	nobody_spec.uid = NOBODY;
	nobody_spec.uid_first = TRUE;
	nobody_spec.dumpable = TRUE;
	nobody_spec.bind_port = root_flow.sport;
	Child nobody_child;
	child_start(&nobody_child, &nobody_spec);
	VigilFlow nobody_flow = child_flow(&nobody_child, 0, IPPROTO_UDP, nobody_spec.dst, NOBODY);
	g_assert_cmpuint(nobody_flow.sport, ==, root_flow.sport);

	for (int round = 0; round < 2; round++) {
		g_autoptr(VigilProcess) of_nobody = lookup(attributor, &nobody_flow);
		assert_is_child(of_nobody, nobody_child.pid, test_exe, NOBODY);
		g_autoptr(VigilProcess) of_root = lookup(attributor, &root_flow);
		assert_is_child(of_root, root_child.pid, test_exe, 0);
	}
	child_stop(&nobody_child);
	child_stop(&root_child);
}

/* a program other than ourselves: python3 connects, its exe and hash are python's */
static void
test_spawned_program(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	g_autofree char *python = resolved("/usr/bin/python3");
	g_autofree char *script =
	    g_strdup_printf("import socket, sys\n"
	                    "s = socket.create_connection(('127.0.0.1', %u))\n"
	                    "print(s.getsockname()[1], flush=True)\n"
	                    "sys.stdin.read()\n",
	                    ntohs(tcp4_addr.sin_port));
	const char *argv[] = {"/usr/bin/python3", "-c", script, NULL};
	GPid pid;
	int in_fd;
	int out_fd;
	g_autoptr(GError) error = NULL;
	g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
	                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL,
	                         die_with_parent, NULL, &pid, &in_fd, &out_fd, NULL, &error);
	g_assert_no_error(error);

	char line[32] = {0};
	struct pollfd pfd = {out_fd, POLLIN, 0};
	g_assert_cmpint(poll(&pfd, 1, REPORT_WAIT), ==, 1);
	g_assert_cmpint(read(out_fd, line, sizeof(line) - 1), >, 0);
	guint64 port = 0;
	g_assert_true(g_ascii_string_to_unsigned(g_strstrip(line), 10, 1, 65535, &port, NULL));

	VigilFlow flow =
	    loopback_flow(AF_INET, IPPROTO_TCP, (guint16)port, ntohs(tcp4_addr.sin_port));
	g_autoptr(VigilProcess) process = lookup(attributor, &flow);
	g_assert_nonnull(process);
	g_assert_cmpuint(process->pid, ==, pid);
	g_assert_cmpstr(process->exe, ==, python);
	g_assert_true(g_str_has_prefix(process->cmdline, "/usr/bin/python3 -c import socket"));
	g_autofree char *parent = g_strdup_printf("%d %s", getpid(), test_exe);
	g_assert_cmpstr(g_ptr_array_index(process->parents, 0), ==, parent);

	/* a lookup does not hash; asked for, the hash is python's, and later lookups have it */
	g_assert_null(process->sha256);
	g_autoptr(VigilProcess) hashed = vigil_attributor_hash(attributor, process, &error);
	g_assert_no_error(error);
	g_autofree char *out = NULL;
	const char *sum_argv[] = {"sha256sum", python, NULL};
	g_spawn_sync(NULL, (char **)sum_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
	             NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(hashed->sha256), ==, 64);
	g_assert_true(g_str_has_prefix(out, hashed->sha256));
	g_assert_cmpuint(hashed->pid, ==, process->pid);
	g_assert_cmpstr(hashed->cmdline, ==, process->cmdline);
	g_autoptr(VigilProcess) again = lookup(attributor, &flow);
	g_assert_cmpstr(again->sha256, ==, hashed->sha256);

	close(in_fd);
	close(out_fd);
	int status;
	kill(pid, SIGKILL);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
}

/* a child whose connected UDP socket stays open across the exec it makes on command; read once */
static VigilProcess *
start_exec_child(VigilAttributor *attributor, Child *child, VigilFlow *flow)
{
	ChildSpec spec = {KIND_UDP_CONNECTED, AF_INET, (struct sockaddr *)&udp4_addr,
	                  sizeof(udp4_addr), 1};
	spec.exec_later = TRUE;
	child_start(child, &spec);
	*flow = child_flow(child, 0, IPPROTO_UDP, spec.dst, 0);
	VigilProcess *process = lookup(attributor, flow);
	assert_is_child(process, child->pid, test_exe, 0);
	return process;
}

/* the exe link changes before the new argv is in place: waits until the argv has @arg */
static void
wait_for_exec(pid_t pid, const char *arg)
{
	g_autofree char *cmdline_path = g_strdup_printf("/proc/%d/cmdline", pid);
	gboolean execd = FALSE;
	for (int i = 0; i < 400 && !execd; i++) {
		g_autofree char *text = NULL;
		gsize len = 0;
		execd = g_file_get_contents(cmdline_path, &text, &len, NULL) &&
		        memmem(text, len, arg, strlen(arg)) != NULL;
		if (!execd)
			g_usleep(5000);
	}
	g_assert_true(execd);
}

/* the process execs with its socket open: the next lookup shows the new program */
static void
test_exec_invalidates(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	Child child;
	VigilFlow flow;
	g_autoptr(VigilProcess) before = start_exec_child(attributor, &child, &flow);
	g_autoptr(VigilProcess) cached = lookup(attributor, &flow);
	g_assert_true(cached == before);

	g_autofree char *sleep_exe = resolved("/bin/sleep");
	g_autoptr(VigilProcess) before_hashed = vigil_attributor_hash(attributor, before, NULL);
	child_command(&child, CMD_EXEC);
	wait_for_exec(child.pid, "sleep");
	/* the cheap path must not answer with the program before the exec, even when it only
	 * checks the executable */
	VigilProcess *stale = NULL;
	g_assert_false(
	    vigil_attributor_lookup_fast(attributor, &flow, VIGIL_LOOKUP_SAME_PROGRAM, &stale));
	g_assert_null(stale);
	g_assert_false(vigil_attributor_lookup_fast(attributor, &flow, VIGIL_LOOKUP_EXACT, &stale));
	g_assert_null(stale);
	g_autoptr(VigilProcess) after = lookup(attributor, &flow);
	g_assert_nonnull(after);
	g_assert_cmpuint(after->pid, ==, child.pid);
	g_assert_cmpstr(after->exe, ==, sleep_exe);
	g_assert_cmpstr(after->cmdline, ==, "sleep 60");
	g_autoptr(VigilProcess) after_hashed = vigil_attributor_hash(attributor, after, NULL);
	g_assert_nonnull(before_hashed);
	g_assert_nonnull(after_hashed);
	g_assert_cmpstr(after_hashed->sha256, !=, before_hashed->sha256);
	child_stop(&child);
}

/*
 * The process execs its own executable again: the exe check alone cannot tell (the cmdline it
 * answers with is the old one, which is why the daemon uses it only while no rule reads the
 * cmdline and confirms in full before a prompt), the exact check can.
 */
static void
test_exec_same_program(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	Child child;
	VigilFlow flow;
	g_autoptr(VigilProcess) before = start_exec_child(attributor, &child, &flow);
	g_assert_null(strstr(before->cmdline, SLEEPER_ARG));

	child_command(&child, CMD_EXEC_SELF);
	wait_for_exec(child.pid, SLEEPER_ARG);

	VigilProcess *process = NULL;
	g_assert_true(
	    vigil_attributor_lookup_fast(attributor, &flow, VIGIL_LOOKUP_SAME_PROGRAM, &process));
	g_assert_true(process == before);
	vigil_process_unref(g_steal_pointer(&process));
	g_assert_false(
	    vigil_attributor_lookup_fast(attributor, &flow, VIGIL_LOOKUP_EXACT, &process));
	g_assert_null(process);

	g_autoptr(VigilProcess) after = lookup(attributor, &flow);
	g_assert_nonnull(after);
	g_assert_cmpuint(after->pid, ==, child.pid);
	g_assert_cmpstr(after->exe, ==, test_exe);
	g_assert_nonnull(strstr(after->cmdline, SLEEPER_ARG));
	child_stop(&child);
}

/* what the last scan saw in a process guides the next: new sockets are found on this thread */
static void
test_fd_knowledge(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr), 1};
	spec.extra_fds = 200;
	Child child;
	child_start(&child, &spec);
	VigilAttributorStats stats;

	VigilFlow flow = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);
	g_autoptr(VigilProcess) first = lookup(attributor, &flow);
	assert_is_child(first, child.pid, test_exe, 0);
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.slow, ==, 1);

	/* a socket on an fd number the last scan did not see, then one on a former socket's fd;
	 * 200 files come first in the fd list, far more than the calling thread may read */
	const char cmds[] = {CMD_NEW_SOCKET, CMD_REPLACE};
	for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
		child_command(&child, cmds[i]);
		VigilFlow next = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);
		g_autoptr(VigilProcess) process = lookup(attributor, &next);
		g_assert_true(process == first);
		vigil_attributor_get_stats(attributor, &stats);
		g_assert_cmpuint(stats.slow, ==, 1);
		g_assert_cmpuint(stats.fast, ==, i + 1);
	}

	/* a socket where a file was, amid the files: too far for the calling thread, found anyway
	 */
	child_command(&child, CMD_REPLACE_MID);
	VigilFlow mid = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);
	g_autoptr(VigilProcess) process = lookup(attributor, &mid);
	g_assert_true(process == first);
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.slow, ==, 2);
	child_stop(&child);
}

/* the synchronous cheap path: a known process is answered, an unknown one is left to the rest */
static void
test_fast_path(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr), 1};
	Child child;
	child_start(&child, &spec);
	VigilAttributorStats stats;

	VigilFlow flow = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);
	VigilProcess *process = NULL;
	g_assert_false(
	    vigil_attributor_lookup_fast(attributor, &flow, VIGIL_LOOKUP_EXACT, &process));
	g_assert_null(process);
	g_autoptr(VigilProcess) first = lookup(attributor, &flow);
	assert_is_child(first, child.pid, test_exe, 0);

	/* a program that closes its socket and opens the next: the same fd, a new socket */
	for (int i = 0; i < 3; i++) {
		child_command(&child, CMD_REPLACE);
		VigilFlow next = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);
		g_assert_cmpuint(next.sport, !=, flow.sport);
		g_assert_true(
		    vigil_attributor_lookup_fast(attributor, &next, VIGIL_LOOKUP_EXACT, &process));
		g_assert_true(process == first);
		vigil_process_unref(g_steal_pointer(&process));
	}
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.fd_guesses, ==, 3);
	g_assert_cmpuint(stats.fast, ==, 3);
	g_assert_cmpuint(stats.slow, ==, 1);

	/* a socket on a new fd: not where the guess looks, found in the fd list */
	child_command(&child, CMD_NEW_SOCKET);
	VigilFlow other = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);
	g_assert_true(
	    vigil_attributor_lookup_fast(attributor, &other, VIGIL_LOOKUP_EXACT, &process));
	g_assert_true(process == first);
	vigil_process_unref(g_steal_pointer(&process));
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.fd_guesses, ==, 3);
	g_assert_cmpuint(stats.fast, ==, 4);

	/* a flow with no socket: not answered here */
	VigilFlow none = loopback_flow(AF_INET, IPPROTO_TCP, unused_port(SOCK_STREAM), 9);
	g_assert_false(
	    vigil_attributor_lookup_fast(attributor, &none, VIGIL_LOOKUP_EXACT, &process));
	g_assert_null(process);
	child_stop(&child);
}

/* a process that changes its uids makes sockets of its new uid: its next one is read afresh */
static void
test_uid_change(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_UDP_CONNECTED, AF_INET, (struct sockaddr *)&udp4_addr,
	                  sizeof(udp4_addr), 1};
	Child child;
	child_start(&child, &spec);

	VigilFlow flow = child_flow(&child, 0, IPPROTO_UDP, spec.dst, 0);
	g_autoptr(VigilProcess) as_root = lookup(attributor, &flow);
	assert_is_child(as_root, child.pid, test_exe, 0);

	child_command(&child, CMD_BECOME_NOBODY);
	VigilFlow next = child_flow(&child, 0, IPPROTO_UDP, spec.dst, NOBODY);
	/* the socket's uid tells, whichever way the process is checked */
	VigilProcess *stale = NULL;
	g_assert_false(
	    vigil_attributor_lookup_fast(attributor, &next, VIGIL_LOOKUP_SAME_PROGRAM, &stale));
	g_assert_null(stale);
	g_assert_false(vigil_attributor_lookup_fast(attributor, &next, VIGIL_LOOKUP_EXACT, &stale));
	g_assert_null(stale);
	g_autoptr(VigilProcess) as_nobody = lookup(attributor, &next);
	assert_is_child(as_nobody, child.pid, test_exe, NOBODY);

	/* and from then on it is the known process again */
	child_command(&child, CMD_NEW_SOCKET);
	VigilFlow again = child_flow(&child, 0, IPPROTO_UDP, spec.dst, NOBODY);
	VigilProcess *known = NULL;
	g_assert_true(vigil_attributor_lookup_fast(attributor, &again, VIGIL_LOOKUP_EXACT, &known));
	g_assert_true(known == as_nobody);
	vigil_process_unref(known);
	child_stop(&child);
}

static guint
count_open_fds(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;
	g_assert_nonnull(dir);
	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

/* the cache keeps two fds per process it knows, for a bounded number of processes */
static void
test_cache_bounded(void)
{
	const guint n_children = 300;
	const guint cache_max = 256; /* PROCESSES_MAX in vigil-attributor.c */
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_UDP_CONNECTED, AF_INET, (struct sockaddr *)&udp4_addr,
	                  sizeof(udp4_addr), 1};
	guint fds_before = count_open_fds();
	VigilAttributorStats stats;

	Child first;
	child_start(&first, &spec);
	VigilFlow first_flow = child_flow(&first, 0, IPPROTO_UDP, spec.dst, 0);
	g_autoptr(VigilProcess) first_process = lookup(attributor, &first_flow);
	assert_is_child(first_process, first.pid, test_exe, 0);
	guint max_fds = 0;
	for (guint i = 1; i < n_children; i++) {
		Child child;
		child_start(&child, &spec);
		VigilFlow flow = child_flow(&child, 0, IPPROTO_UDP, spec.dst, 0);
		g_autoptr(VigilProcess) process = lookup(attributor, &flow);
		g_assert_nonnull(process);
		g_assert_cmpuint(process->pid, ==, child.pid);
		child_stop(&child);
		max_fds = MAX(max_fds, count_open_fds());
	}
	g_test_message("open fds: %u before, at most %u with %u processes known", fds_before,
	               max_fds, n_children);
	/* a few for the idle sock_diag sockets and this directory listing */
	g_assert_cmpuint(max_fds, <=, fds_before + 2 * cache_max + 8);

	/* the first process was evicted meanwhile: still found, read again */
	vigil_attributor_get_stats(attributor, &stats);
	guint64 slow_before = stats.slow;
	VigilProcess *cached = NULL;
	g_assert_false(
	    vigil_attributor_lookup_fast(attributor, &first_flow, VIGIL_LOOKUP_EXACT, &cached));
	g_autoptr(VigilProcess) again = lookup(attributor, &first_flow);
	assert_is_child(again, first.pid, test_exe, 0);
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.slow, ==, slow_before + 1);
	child_stop(&first);

	/* freeing the attributor closes what it kept */
	g_clear_pointer(&attributor, vigil_attributor_free);
	g_assert_cmpuint(count_open_fds(), <=, fds_before);
}

/* async */

typedef struct {
	GMainLoop *loop;
	VigilAttributor *attributor;
	VigilProcess *process;
	GError *error;
	gboolean in_call; /* the callback must not run inside the _async call */
	gboolean done;
	int count; /* lookups answered, for several at once */
} AsyncResult;

static void
lookup_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	AsyncResult *async = user_data;
	g_assert_false(async->in_call);
	async->process = vigil_attributor_lookup_finish(async->attributor, result, &async->error);
	async->done = TRUE;
	g_main_loop_quit(async->loop);
}

static VigilProcess *
lookup_async(VigilAttributor *attributor, const VigilFlow *flow, GCancellable *cancellable,
             GError **error)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	AsyncResult async = {loop, attributor};
	async.in_call = TRUE;
	vigil_attributor_lookup_async(attributor, flow, cancellable, lookup_done, &async);
	async.in_call = FALSE;
	if (!async.done)
		g_main_loop_run(loop);
	g_assert_true(async.done);
	if (async.error != NULL)
		g_propagate_error(error, async.error);
	return async.process;
}

static void
test_async(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr), 3};
	Child child;
	child_start(&child, &spec);
	VigilAttributorStats stats;
	g_autoptr(GError) error = NULL;

	/* a process never seen: found in a worker thread */
	VigilFlow flow = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);
	g_autoptr(VigilProcess) first = lookup_async(attributor, &flow, NULL, &error);
	g_assert_no_error(error);
	assert_is_child(first, child.pid, test_exe, 0);
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.slow, ==, 1);
	g_assert_cmpuint(stats.fast, ==, 0);

	/* its next connections: answered on this thread, from what the first lookup learnt */
	for (int i = 1; i < spec.n_sockets; i++) {
		VigilFlow next = child_flow(&child, i, IPPROTO_TCP, spec.dst, 0);
		g_autoptr(VigilProcess) process = lookup_async(attributor, &next, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(process == first);
	}
	vigil_attributor_get_stats(attributor, &stats);
	g_assert_cmpuint(stats.slow, ==, 1);
	g_assert_cmpuint(stats.fast, ==, (guint64)spec.n_sockets - 1);
	g_assert_cmpuint(stats.process_hits, ==, (guint64)spec.n_sockets - 1);

	/* no socket: NULL and no error, through the loop as well */
	VigilFlow none = loopback_flow(AF_INET, IPPROTO_TCP, unused_port(SOCK_STREAM), 9);
	g_autoptr(VigilProcess) unknown = lookup_async(attributor, &none, NULL, &error);
	g_assert_no_error(error);
	g_assert_null(unknown);

	/* cancelled before it starts */
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_cancellable_cancel(cancellable);
	g_autoptr(VigilProcess) cancelled = lookup_async(attributor, &flow, cancellable, &error);
	g_assert_null(cancelled);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	child_stop(&child);
}

static void
lookup_done_count(GObject *source, GAsyncResult *result, gpointer user_data)
{
	AsyncResult *async = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process =
	    vigil_attributor_lookup_finish(async->attributor, result, &error);
	g_assert_no_error(error);
	g_assert_nonnull(process);
	if (async->process == NULL)
		async->process = vigil_process_ref(process);
	/* one program, one VigilProcess: the later lookups share what the first one read */
	g_assert_cmpuint(process->pid, ==, async->process->pid);
	if (++async->count == MAX_SOCKETS)
		g_main_loop_quit(async->loop);
}

/* a new program opens several connections at once: one search of /proc finds it for all */
static void
test_burst(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr),
	                  MAX_SOCKETS};
	Child child;
	child_start(&child, &spec);

	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	AsyncResult async = {loop, attributor};
	for (int i = 0; i < MAX_SOCKETS; i++) {
		VigilFlow flow = child_flow(&child, i, IPPROTO_TCP, spec.dst, 0);
		vigil_attributor_lookup_async(attributor, &flow, NULL, lookup_done_count, &async);
	}
	g_main_loop_run(loop);
	assert_is_child(async.process, child.pid, test_exe, 0);
	vigil_process_unref(async.process);

	VigilAttributorStats stats;
	vigil_attributor_get_stats(attributor, &stats);
	/* some may come after the first answer and take the fast path: the count is what matters */
	g_assert_cmpuint(stats.slow + stats.fast, ==, MAX_SOCKETS);
	g_assert_cmpuint(stats.proc_searches, ==, 1);
	child_stop(&child);
}

/* freeing the attributor while a lookup runs: the lookup still completes */
static void
test_free_while_pending(void)
{
	VigilAttributor *attributor = new_attributor();
	ChildSpec spec = {KIND_TCP, AF_INET, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr), 1};
	Child child;
	child_start(&child, &spec);
	VigilFlow flow = child_flow(&child, 0, IPPROTO_TCP, spec.dst, 0);

	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	AsyncResult async = {loop, attributor};
	vigil_attributor_lookup_async(attributor, &flow, NULL, lookup_done, &async);
	vigil_attributor_free(attributor);
	g_main_loop_run(loop);
	g_assert_no_error(async.error);
	assert_is_child(async.process, child.pid, test_exe, 0);
	vigil_process_unref(async.process);
	child_stop(&child);
}

typedef struct {
	VigilAttributor *attributor;
	const VigilFlow *flows;
	int n_flows;
	pid_t pid;
} ThreadJob;

static gpointer
lookup_many(gpointer data)
{
	ThreadJob *job = data;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < job->n_flows; i++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(VigilProcess) process =
			    vigil_attributor_lookup(job->attributor, &job->flows[i], &error);
			g_assert_no_error(error);
			g_assert_nonnull(process);
			g_assert_cmpuint(process->pid, ==, job->pid);
		}
	}
	return NULL;
}

/* one attributor shared by threads: caches stay consistent */
static void
test_threads(void)
{
	g_autoptr(VigilAttributor) attributor = new_attributor();
	ChildSpec spec = {KIND_UDP_CONNECTED, AF_INET, (struct sockaddr *)&udp4_addr,
	                  sizeof(udp4_addr), MAX_SOCKETS};
	Child child;
	child_start(&child, &spec);
	VigilFlow flows[MAX_SOCKETS];
	for (int i = 0; i < MAX_SOCKETS; i++)
		flows[i] = child_flow(&child, i, IPPROTO_UDP, spec.dst, 0);

	ThreadJob job = {attributor, flows, MAX_SOCKETS, child.pid};
	GThread *threads[4];
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("lookup", lookup_many, &job);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		g_thread_join(threads[i]);
	child_stop(&child);
}

/* pure parsers of /proc/net, and SCTP through a /proc/net/sctp/assocs we write ourselves */

static void
test_proc_net_parse(void)
{
	VigilProcNetEntry entry;
	char buf[INET6_ADDRSTRLEN];

	g_assert_true(vigil_proc_net_parse_line(
	    "   49: 0100007F:F018 0200007F:0000 07 00000000:00000340 00:00000000 00000000  "
	    "1000        0 500537 2 0000000019161d1f 0",
	    AF_INET, &entry));
	g_assert_cmpstr(inet_ntop(AF_INET, entry.local.bytes, buf, sizeof(buf)), ==, "127.0.0.1");
	g_assert_cmpstr(inet_ntop(AF_INET, entry.remote.bytes, buf, sizeof(buf)), ==, "127.0.0.2");
	g_assert_cmpuint(entry.local_port, ==, 0xF018);
	g_assert_cmpuint(entry.remote_port, ==, 0);
	g_assert_cmpuint(entry.uid, ==, 1000);
	g_assert_cmpuint(entry.inode, ==, 500537);

	/* IPv6: four 32-bit words, each in host order */
	g_assert_true(vigil_proc_net_parse_line(
	    "   50: B80D0120000000000000000001000000:F019 00000000000000000000000001000000:0035 07 "
	    "00000000:00000340 00:00000000 00000000     0        0 500540 2 000000001716b4a1 0",
	    AF_INET6, &entry));
	g_assert_cmpstr(inet_ntop(AF_INET6, entry.local.bytes, buf, sizeof(buf)), ==,
	                "2001:db8::1");
	g_assert_cmpstr(inet_ntop(AF_INET6, entry.remote.bytes, buf, sizeof(buf)), ==, "::1");
	g_assert_cmpuint(entry.remote_port, ==, 53);
	g_assert_cmpuint(entry.inode, ==, 500540);

	/* header lines, the wrong family, truncation, junk */
	g_assert_false(vigil_proc_net_parse_line(
	    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
	    "timeout inode ref pointer drops",
	    AF_INET, &entry));
	g_assert_false(vigil_proc_net_parse_line(
	    "   49: 0100007F:F018 0200007F:0000 07 00000000:00000340 00:00000000 00000000  "
	    "1000        0 500537 2 0000000019161d1f 0",
	    AF_INET6, &entry));
	g_assert_false(
	    vigil_proc_net_parse_line("   49: 0100007F:F018 0200007F:0000 07", AF_INET, &entry));
	g_assert_false(vigil_proc_net_parse_line(
	    "   49: 0100007G:F018 0200007F:0000 07 00000000:00000340 00:00000000 00000000  "
	    "1000        0 500537 2 0000000019161d1f 0",
	    AF_INET, &entry));
	g_assert_false(vigil_proc_net_parse_line(
	    "   49: 0100007F:1F018 0200007F:0000 07 00000000:00000340 00:00000000 00000000  "
	    "1000        0 500537 2 0000000019161d1f 0",
	    AF_INET, &entry));
	g_assert_false(vigil_proc_net_parse_line("", AF_INET, &entry));
}

static const char sctp_assocs[] =
    " ASSOC     SOCK   STY SST ST HBKT ASSOC-ID TX_QUEUE RX_QUEUE UID INODE LPORT RPORT "
    "LADDRS <-> RADDRS HBINT INS OUTS MAXRT T1X T2X RTXC wmema wmemq sndbuf rcvbuf\n"
    "ffff8880062d0000 ffff888005d6b000 0   10  3   0       2        0        0    1000 "
    "771234 40000 5678  127.0.0.1 <-> *127.0.0.1 \t    7500    10    10   10    0    0"
    "        0        1        0   212992   212992\n"
    "ffff8880062d1000 ffff888005d6c000 2   1   4   0       3        0        0    0 "
    "771299 40001 5678  10.0.0.1 192.168.1.2 <-> *10.0.0.9 10.0.0.10 \t    7500    10    10"
    "   10    0    0        0        1        0   212992   212992\n";

static void
test_sctp(void)
{
	VigilProcNetEntry entry;
	g_auto(GStrv) lines = g_strsplit(sctp_assocs, "\n", -1);
	g_assert_false(vigil_proc_net_parse_sctp_assoc(lines[0], &entry));
	g_assert_true(vigil_proc_net_parse_sctp_assoc(lines[1], &entry));
	g_assert_cmpuint(entry.uid, ==, 1000);
	g_assert_cmpuint(entry.inode, ==, 771234);
	g_assert_cmpuint(entry.local_port, ==, 40000);
	g_assert_cmpuint(entry.remote_port, ==, 5678);
	g_assert_false(
	    vigil_proc_net_parse_sctp_assoc("ffff8880062d0000 ffff888005d6b000 0 10", &entry));

	/* the lookup reads <proc_root>/net/sctp/assocs */
	g_autoptr(GError) error = NULL;
	g_autofree char *root = g_dir_make_tmp("vigil-test-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *sctp_dir = g_build_filename(root, "net", "sctp", NULL);
	g_autofree char *assocs = g_build_filename(sctp_dir, "assocs", NULL);
	g_assert_cmpint(g_mkdir_with_parents(sctp_dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(assocs, sctp_assocs, -1, NULL));

	g_autoptr(VigilSockDiag) diag = vigil_sock_diag_new(root, &error);
	g_assert_no_error(error);
	VigilFlow flow = loopback_flow(AF_INET, IPPROTO_SCTP, 40001, 5678);
	guint64 inode = 0;
	guint32 uid = 1;
	g_assert_true(
	    vigil_sock_diag_lookup(diag, &flow, VIGIL_SOCK_DIAG_ALL, &inode, &uid, &error));
	g_assert_cmpuint(inode, ==, 771299);
	g_assert_cmpuint(uid, ==, 0);
	flow.sport = 40002;
	g_assert_true(
	    vigil_sock_diag_lookup(diag, &flow, VIGIL_SOCK_DIAG_ALL, &inode, &uid, &error));
	g_assert_cmpuint(inode, ==, 0);

	g_assert_cmpint(unlink(assocs), ==, 0);
	g_assert_cmpint(rmdir(sctp_dir), ==, 0);
	g_autofree char *net_dir = g_path_get_dirname(sctp_dir);
	g_assert_cmpint(rmdir(net_dir), ==, 0);
	g_assert_cmpint(rmdir(root), ==, 0);
}

/* setup: a private network namespace, so loopback, ping sockets and ports are ours alone */

static void
fatal(const char *what)
{
	g_printerr("test-attributor: %s: %s (the test needs root)\n", what, g_strerror(errno));
	exit(1);
}

static void
enter_private_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		fatal("unshare(CLONE_NEWNET)");
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		fatal("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		fatal("SIOCSIFFLAGS lo");
	close(fd);
	/* ping sockets for every group, in this namespace only */
	static const char range[] = "0 2147483647";
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, range, strlen(range)) != (ssize_t)strlen(range))
		fatal("ping_group_range");
	close(fd);
}

static int
open_endpoint(int family, int type, struct sockaddr *addr, socklen_t len)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	socklen_t out_len = len;
	if (fd < 0 || bind(fd, addr, len) < 0 || getsockname(fd, addr, &out_len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0))
		fatal("test endpoint");
	return fd;
}

static void
open_endpoints(void)
{
	tcp4_addr = (struct sockaddr_in){AF_INET, 0, {htonl(INADDR_LOOPBACK)}};
	udp4_addr = tcp4_addr;
	tcp6_addr =
	    (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	udp6_addr = tcp6_addr;
	tcp4_listener =
	    open_endpoint(AF_INET, SOCK_STREAM, (struct sockaddr *)&tcp4_addr, sizeof(tcp4_addr));
	tcp6_listener =
	    open_endpoint(AF_INET6, SOCK_STREAM, (struct sockaddr *)&tcp6_addr, sizeof(tcp6_addr));
	udp4_server =
	    open_endpoint(AF_INET, SOCK_DGRAM, (struct sockaddr *)&udp4_addr, sizeof(udp4_addr));
	udp6_server =
	    open_endpoint(AF_INET6, SOCK_DGRAM, (struct sockaddr *)&udp6_addr, sizeof(udp6_addr));
}

int
main(int argc, char **argv)
{
	/* a child of test_exec_same_program after its exec: it only waits to be killed */
	if (argc == 2 && strcmp(argv[1], SLEEPER_ARG) == 0) {
		for (;;)
			pause();
	}
	/* before any thread exists: unshare() applies to the calling thread only */
	enter_private_netns();
	open_endpoints();
	test_exe = resolved(argv[0]);
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/attributor/proc-net-parse", test_proc_net_parse);
	g_test_add_func("/attributor/sctp", test_sctp);
	g_test_add_func("/attributor/sock-diag", test_sock_diag);
	g_test_add_func("/attributor/tcp4", test_tcp4);
	g_test_add_func("/attributor/tcp6", test_tcp6);
	g_test_add_func("/attributor/tcp-mapped", test_tcp_mapped);
	g_test_add_func("/attributor/tcp-rewritten-destination", test_tcp_rewritten_destination);
	g_test_add_func("/attributor/udp-connected", test_udp_connected);
	g_test_add_func("/attributor/udp-unconnected", test_udp_unconnected);
	g_test_add_func("/attributor/udplite", test_udplite);
	g_test_add_func("/attributor/ping", test_ping);
	g_test_add_func("/attributor/raw-icmp", test_raw_icmp);
	g_test_add_func("/attributor/no-socket", test_no_socket);
	g_test_add_func("/attributor/other-uid", test_other_uid);
	g_test_add_func("/attributor/shared-socket", test_shared_socket);
	g_test_add_func("/attributor/udp-port-shared-by-users", test_udp_port_shared_by_users);
	g_test_add_func("/attributor/spawned-program", test_spawned_program);
	g_test_add_func("/attributor/exec-invalidates", test_exec_invalidates);
	g_test_add_func("/attributor/exec-same-program", test_exec_same_program);
	g_test_add_func("/attributor/fd-knowledge", test_fd_knowledge);
	g_test_add_func("/attributor/fast-path", test_fast_path);
	g_test_add_func("/attributor/uid-change", test_uid_change);
	g_test_add_func("/attributor/cache-bounded", test_cache_bounded);
	g_test_add_func("/attributor/async", test_async);
	g_test_add_func("/attributor/burst", test_burst);
	g_test_add_func("/attributor/free-while-pending", test_free_while_pending);
	g_test_add_func("/attributor/threads", test_threads);

	int ret = g_test_run();
	close(tcp4_listener);
	close(tcp6_listener);
	close(udp4_server);
	close(udp6_server);
	g_free(test_exe);
	return ret;
}
