/* test-ebpf-verdicts.c: the verdict programs load, decide what vigild wrote (allow: the mark on
 * the socket; deny: EPERM at once), tell each decision through the ring, and decide nothing
 * of an older generation; in a cgroup and a network namespace of the test's own */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "config.h"
#include "vigil-ebpf-verdicts.h"
#include "vigil-ebpf.h"

static char *cgroup_dir;
static const guint32 MASK = 0x00700000;
static const guint32 ALLOW_MARK = 0x00100000;
static const guint32 DROP_MARK = 0x00300000;

typedef struct {
	int err;       /* of connect() or sendto(), 0: none */
	guint32 mark;  /* SO_MARK after it */
	guint32 pid;   /* the child */
	guint32 spare; /* keeps the struct free of padding */
} Outcome;

/* in a child in the cgroup: a socket (@type, with SO_MARK @mark_before) connects to, or with
 * @sendto sends a datagram to, 127.0.0.1:@port */
static Outcome
attempt_n(int type, guint16 port, gboolean sendto_, guint32 mark_before, int times)
{
	int fds[2];
	Outcome out = {0};

	g_assert_cmpint(pipe(fds), ==, 0);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		g_autofree char *procs = g_build_filename(cgroup_dir, "cgroup.procs", NULL);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(90);
		close(fd);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int s = socket(AF_INET, type, 0);
		Outcome o = {0};
		socklen_t len = sizeof(o.mark);
		if (mark_before != 0)
			setsockopt(s, SOL_SOCKET, SO_MARK, &mark_before, sizeof(mark_before));
		int rc = 0;
		for (int i = 0; i < times; i++)
			rc = sendto_ ? (int)sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to))
			             : connect(s, (struct sockaddr *)&to, sizeof(to));
		o.err = rc < 0 ? errno : 0;
		getsockopt(s, SOL_SOCKET, SO_MARK, &o.mark, &len);
		if (write(fds[1], &o, sizeof(o)) != sizeof(o))
			_exit(91);
		_exit(0);
	}
	close(fds[1]);
	g_assert_cmpint(read(fds[0], &out, sizeof(out)), ==, sizeof(out));
	close(fds[0]);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	out.pid = (guint32)pid;
	return out;
}

static Outcome
attempt(int type, guint16 port, gboolean sendto_, guint32 mark_before)
{
	return attempt_n(type, port, sendto_, mark_before, 1);
}

/* a listening TCP socket or a bound UDP one on 127.0.0.1; its port */
static int
server(int type, guint16 *port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, len), ==, 0);
	if (type == SOCK_STREAM)
		g_assert_cmpint(listen(fd, 16), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
	*port = ntohs(addr.sin_port);
	return fd;
}

/* this very program (the children fork from it), to 127.0.0.1:@port */
static VigilVerdictKey
own_key(guint8 protocol, guint16 port)
{
	struct stat st;
	VigilVerdictKey key = {0};

	g_assert_cmpint(stat("/proc/self/exe", &st), ==, 0);
	key.exe_dev = st.st_dev;
	key.exe_ino = st.st_ino;
	key.exe_size = st.st_size;
	key.exe_ctime =
	    (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
	key.uid = getuid();
	key.family = AF_INET;
	key.protocol = protocol;
	key.dport = port;
	key.dst.bytes[0] = 127;
	key.dst.bytes[3] = 1;
	return key;
}

static void
on_event(const VigilVerdictEvent *event, gpointer data)
{
	GArray *events = data;
	g_array_append_val(events, *event);
}

/* the events the ring holds by now */
static void
drain(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static VigilEbpfVerdicts *
load(GArray *events)
{
	g_autoptr(GError) error = NULL;
	VigilEbpfVerdicts *verdicts = vigil_ebpf_verdicts_new(cgroup_dir, on_event, events, &error);
	g_assert_no_error(error);
	vigil_ebpf_verdicts_invalidate(verdicts, TRUE, MASK);
	return verdicts;
}

static void
put(VigilEbpfVerdicts *verdicts, const VigilVerdictKey *key, VigilAction action, guint32 mark,
    guint64 rule_id)
{
	g_autoptr(GError) error = NULL;
	VigilVerdictInfo info = {"/test", NULL, NULL, "root"};

	g_assert_true(vigil_ebpf_verdicts_put(verdicts, key,
	                                      vigil_ebpf_verdicts_generation(verdicts), action,
	                                      mark, rule_id, 0, &info, &error));
	g_assert_no_error(error);
}

static void
test_tcp(void)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(VigilVerdictEvent));
	guint16 port;
	int fd = server(SOCK_STREAM, &port);
	VigilEbpfVerdicts *verdicts = load(events);
	VigilVerdictKey key = own_key(IPPROTO_TCP, port);

	/* nothing written: the call goes on, unmarked */
	Outcome o = attempt(SOCK_STREAM, port, FALSE, 0);
	g_assert_cmpint(o.err, ==, 0);
	g_assert_cmpuint(o.mark, ==, 0);
	/* allow: the mark on the SYN (the e2e tests see it pass the queue); once established,
	 * vigild's bits leave the socket (review H1: they would outlive the hooks), its own
	 * bits stay */
	put(verdicts, &key, VIGIL_ACTION_ALLOW, ALLOW_MARK, 7);
	o = attempt(SOCK_STREAM, port, FALSE, 0x5);
	g_assert_cmpint(o.err, ==, 0);
	g_assert_cmpuint(o.mark, ==, 0x5);
	drain();
	g_assert_cmpuint(events->len, ==, 1);
	VigilVerdictEvent *e = &g_array_index(events, VigilVerdictEvent, 0);
	g_assert_cmpint(e->action, ==, VIGIL_ACTION_ALLOW);
	g_assert_cmpuint(e->rule_id, ==, 7);
	g_assert_cmpuint(e->tgid, ==, o.pid);
	g_assert_false(e->sendmsg);
	g_assert_nonnull(e->info);
	g_assert_cmpstr(e->info->program, ==, "/test");
	g_assert_cmpuint(e->key.exe_ino, ==, key.exe_ino);
	g_assert_cmpuint(e->key.exe_dev, ==, key.exe_dev);
	g_assert_cmpuint(e->key.dport, ==, port);
	/* deny: EPERM, nothing connected */
	put(verdicts, &key, VIGIL_ACTION_DENY, 0, 8);
	o = attempt(SOCK_STREAM, port, FALSE, 0);
	g_assert_cmpint(o.err, ==, EPERM);
	/* a new generation: the old verdict is no more */
	vigil_ebpf_verdicts_invalidate(verdicts, TRUE, MASK);
	o = attempt(SOCK_STREAM, port, FALSE, 0);
	g_assert_cmpint(o.err, ==, 0);
	/* disabled: not even a fresh one decides */
	put(verdicts, &key, VIGIL_ACTION_DENY, 0, 9);
	vigil_ebpf_verdicts_invalidate(verdicts, FALSE, MASK);
	put(verdicts, &key, VIGIL_ACTION_DENY, 0, 9);
	o = attempt(SOCK_STREAM, port, FALSE, 0);
	g_assert_cmpint(o.err, ==, 0);
	drain();
	g_assert_cmpuint(events->len, ==, 2);
	guint64 decided, ring_full;
	vigil_ebpf_verdicts_get_stats(verdicts, &decided, &ring_full);
	g_assert_cmpuint(decided, ==, 2);
	g_assert_cmpuint(ring_full, ==, 0);
	vigil_ebpf_verdicts_free(verdicts);
	close(fd);
}

static void
test_udp(void)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(VigilVerdictEvent));
	guint16 port;
	int fd = server(SOCK_DGRAM, &port);
	VigilEbpfVerdicts *verdicts = load(events);
	VigilVerdictKey key = own_key(IPPROTO_UDP, port);

	/* connected: neither allow nor drop is decided here (review H1: the socket's send() runs
	 * no hook, its mark would outlive the verdict): the queue decides each flow */
	put(verdicts, &key, VIGIL_ACTION_DROP, DROP_MARK, 3);
	Outcome o = attempt(SOCK_DGRAM, port, FALSE, 0);
	g_assert_cmpint(o.err, ==, 0);
	g_assert_cmpuint(o.mark, ==, 0);
	put(verdicts, &key, VIGIL_ACTION_ALLOW, ALLOW_MARK, 3);
	o = attempt(SOCK_DGRAM, port, FALSE, 0);
	g_assert_cmpint(o.err, ==, 0);
	g_assert_cmpuint(o.mark, ==, 0);
	/* a deny still is: EPERM */
	put(verdicts, &key, VIGIL_ACTION_DENY, 0, 3);
	o = attempt(SOCK_DGRAM, port, FALSE, 0);
	g_assert_cmpint(o.err, ==, EPERM);
	/* a socket marked before connects again: vigild's bits go before anything else */
	vigil_ebpf_verdicts_invalidate(verdicts, TRUE, MASK);
	o = attempt(SOCK_DGRAM, port, FALSE, ALLOW_MARK | 0x5);
	g_assert_cmpint(o.err, ==, 0);
	g_assert_cmpuint(o.mark, ==, 0x5);
	/* unconnected: only a deny is made at sendto() (a mark would be the next datagram's) */
	put(verdicts, &key, VIGIL_ACTION_ALLOW, ALLOW_MARK, 4);
	o = attempt(SOCK_DGRAM, port, TRUE, 0);
	g_assert_cmpint(o.err, ==, 0);
	g_assert_cmpuint(o.mark, ==, 0);
	put(verdicts, &key, VIGIL_ACTION_DENY, 0, 5);
	o = attempt(SOCK_DGRAM, port, TRUE, 0);
	g_assert_cmpint(o.err, ==, EPERM);
	drain();
	g_assert_cmpuint(events->len, ==, 2);
	VigilVerdictEvent *e = &g_array_index(events, VigilVerdictEvent, 1);
	g_assert_true(e->sendmsg);
	g_assert_cmpint(e->action, ==, VIGIL_ACTION_DENY);
	vigil_ebpf_verdicts_free(verdicts);
	close(fd);
}

/* review M1: a flood of the kernel's decisions (one user's denied datagrams) is read one
 * bounded batch per main loop dispatch, never all at once */
static void
test_flood_batches(void)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(VigilVerdictEvent));
	guint16 port;
	int fd = server(SOCK_DGRAM, &port);
	VigilEbpfVerdicts *verdicts = load(events);
	VigilVerdictKey key = own_key(IPPROTO_UDP, port);
	const guint flood = 3 * VIGIL_VERDICTS_BATCH + 10;

	put(verdicts, &key, VIGIL_ACTION_DENY, 0, 5);
	Outcome o = attempt_n(SOCK_DGRAM, port, TRUE, 0, (int)flood);
	g_assert_cmpint(o.err, ==, EPERM);
	/* one dispatch of the ring's source: one batch */
	g_assert_true(g_main_context_iteration(NULL, FALSE));
	g_assert_cmpuint(events->len, ==, VIGIL_VERDICTS_BATCH);
	/* a new generation reads one batch more, not the rest */
	vigil_ebpf_verdicts_invalidate(verdicts, TRUE, MASK);
	g_assert_cmpuint(events->len, ==, 2 * VIGIL_VERDICTS_BATCH);
	/* and the rest comes at the next dispatches, nothing lost */
	drain();
	g_assert_cmpuint(events->len, ==, flood);
	vigil_ebpf_verdicts_free(verdicts);
	close(fd);
}

static void
lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	g_assert_cmpint(ioctl(fd, SIOCGIFFLAGS, &ifr), ==, 0);
	ifr.ifr_flags |= IFF_UP;
	g_assert_cmpint(ioctl(fd, SIOCSIFFLAGS, &ifr), ==, 0);
	close(fd);
}

static void
cleanup_cgroup(void)
{
	if (cgroup_dir != NULL && g_rmdir(cgroup_dir) != 0)
		g_printerr("cannot remove %s: %s\n", cgroup_dir, g_strerror(errno));
}

int
main(int argc, char **argv)
{
	g_autofree char *mountinfo = NULL;

	g_test_init(&argc, &argv, NULL);
	if (!HAVE_EBPF) {
		g_autoptr(GError) error = NULL;
		g_assert_null(vigil_ebpf_verdicts_new(NULL, on_event, NULL, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
		return g_test_run();
	}
	if (unshare(CLONE_NEWNET) != 0)
		g_error("unshare(CLONE_NEWNET): %s (the test needs root)", g_strerror(errno));
	lo_up();
	/* a cgroup of this test's own, never the root one */
	g_assert_true(g_file_get_contents("/proc/self/mountinfo", &mountinfo, NULL, NULL));
	g_autofree char *mount = vigil_ebpf_cgroup2_mount(mountinfo);
	g_assert_nonnull(mount);
	cgroup_dir = g_strdup_printf("%s/vigil-test-ebpf-verdicts-%d", mount, (int)getpid());
	g_assert_cmpint(g_mkdir(cgroup_dir, 0755), ==, 0);
	atexit(cleanup_cgroup);
	g_test_add_func("/ebpf-verdicts/tcp", test_tcp);
	g_test_add_func("/ebpf-verdicts/udp", test_udp);
	g_test_add_func("/ebpf-verdicts/flood-batches", test_flood_batches);
	return g_test_run();
}
