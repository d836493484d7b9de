/* vigil-probe.c: a test client that times TCP/UDP connection attempts for end-to-end tests */
#define G_LOG_DOMAIN "vigil-probe"
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#define DEFAULT_TIMEOUT_MS 5000

/* exit codes the end-to-end tests match on */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_TIMEOUT = 2,
	EXIT_USAGE = 64,
};

/* the outcome of one attempt: err is 0 or an errno value; timed_out is our own deadline */
typedef struct {
	int err;
	gboolean timed_out;
	gint64 elapsed_us;
} Attempt;

static void
usage(void)
{
	fprintf(stderr,
	        "usage: vigil-probe tcp HOST PORT [--timeout MS]\n"
	        "       vigil-probe udp HOST PORT [--timeout MS]\n"
	        "       vigil-probe udp-from HOST PORT LOCAL_PORT [--timeout MS]\n"
	        "       vigil-probe tcp-many HOST PORT COUNT [--timeout MS]\n"
	        "       vigil-probe tcp-parallel HOST PORT COUNT [HOST PORT COUNT]... "
	        "[--timeout MS]\n"
	        "       vigil-probe tcp-fd FD HOST PORT [--timeout MS]\n"
	        "       vigil-probe tcp-recv-fd UNIX_FD HOST PORT [--timeout MS]\n"
	        "       vigil-probe tcp-lines HOST PORT [--timeout MS]\n"
	        "       vigil-probe udp-flood HOST FIRST_PORT COUNT [SOCKETS] [--timeout MS]\n"
	        "HOST is a literal IPv4 or IPv6 address.\n");
}

static const char *
errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name != NULL ? name : "EUNKNOWN";
}

/* numeric only: a probe that resolved names would time DNS, not the firewall */
static gboolean
resolve(const char *host, const char *port, struct sockaddr_storage *addr, socklen_t *addr_len)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "vigil-probe: %s port %s: %s\n", host, port, gai_strerror(rc));
		return FALSE;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return TRUE;
}

/* waits for @events on @fd until @deadline (monotonic µs); FALSE when the time ran out */
static gboolean
wait_for(int fd, short events, gint64 deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		gint64 left_ms = (deadline - g_get_monotonic_time() + 999) / 1000;
		int rc;

		if (left_ms <= 0)
			return FALSE;
		rc = poll(&pfd, 1, (int)MIN(left_ms, G_MAXINT));
		if (rc > 0)
			return TRUE;
		if (rc < 0 && errno != EINTR)
			return TRUE; /* let the caller's next call report the error */
	}
}

static int
socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* one non-blocking connect(), timed from the call to its outcome; *fd_out is the socket */
static Attempt
tcp_attempt(const struct sockaddr_storage *addr, socklen_t addr_len, int timeout_ms, int *fd_out)
{
	Attempt a = {0};
	gint64 start;
	int fd;

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	*fd_out = fd;
	if (fd < 0) {
		a.err = errno;
		return a;
	}
	start = g_get_monotonic_time();
	if (connect(fd, (const struct sockaddr *)addr, addr_len) < 0) {
		if (errno != EINPROGRESS)
			a.err = errno;
		else if (!wait_for(fd, POLLOUT, start + (gint64)timeout_ms * 1000))
			a.timed_out = TRUE;
		else
			a.err = socket_error(fd);
	}
	a.elapsed_us = g_get_monotonic_time() - start;
	return a;
}

/*
 * A connected UDP socket sends "ping" and waits for any reply; ICMP errors surface on recv.
 * With @local_port, the socket is bound to it first with SO_REUSEADDR, as programs that
 * share a port do.
 */
static Attempt
udp_attempt(const struct sockaddr_storage *addr, socklen_t addr_len, int timeout_ms,
            guint16 local_port)
{
	Attempt a = {0};
	char reply[512];
	gint64 start;
	int fd;

	fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		a.err = errno;
		return a;
	}
	if (local_port != 0) {
		struct sockaddr_storage local = {.ss_family = addr->ss_family};
		int one = 1;

		if (local.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&local)->sin6_port = htons(local_port);
		else
			((struct sockaddr_in *)&local)->sin_port = htons(local_port);
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&local, addr_len) < 0) {
			a.err = errno;
			close(fd);
			return a;
		}
	}
	start = g_get_monotonic_time();
	if (connect(fd, (const struct sockaddr *)addr, addr_len) < 0 || send(fd, "ping", 4, 0) < 0)
		a.err = errno;
	else if (!wait_for(fd, POLLIN, start + (gint64)timeout_ms * 1000))
		a.timed_out = TRUE;
	else if (recv(fd, reply, sizeof(reply), 0) < 0)
		a.err = errno;
	a.elapsed_us = g_get_monotonic_time() - start;
	close(fd);
	return a;
}

static int
report(Attempt a)
{
	if (a.timed_out) {
		printf("timeout %" G_GINT64_FORMAT "\n", a.elapsed_us);
		return EXIT_TIMEOUT;
	}
	if (a.err != 0) {
		printf("error %s %" G_GINT64_FORMAT "\n", errno_name(a.err), a.elapsed_us);
		return EXIT_ERROR;
	}
	printf("ok %" G_GINT64_FORMAT "\n", a.elapsed_us);
	return EXIT_OK;
}

/* abortive close: thousands of sequential connections must not pile up in TIME_WAIT */
static void
close_with_reset(int fd)
{
	struct linger linger = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
	close(fd);
}

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a;
	gint64 y = *(const gint64 *)b;

	return (x > y) - (x < y);
}

/* nearest-rank percentile of sorted samples */
static gint64
percentile(const GArray *sorted, guint pct)
{
	gsize rank;

	if (sorted->len == 0)
		return 0;
	rank = ((gsize)sorted->len * pct + 99) / 100;
	return g_array_index(sorted, gint64, MAX(rank, 1) - 1);
}

static int
tcp_many(const struct sockaddr_storage *addr, socklen_t addr_len, guint64 count, int timeout_ms)
{
	g_autoptr(GArray) samples = g_array_sized_new(FALSE, FALSE, sizeof(gint64), (guint)count);
	guint64 failures = 0;
	gint64 start = g_get_monotonic_time();
	gint64 total_us;

	for (guint64 i = 0; i < count; i++) {
		int fd = -1;
		Attempt a = tcp_attempt(addr, addr_len, timeout_ms, &fd);

		if (a.err == 0 && !a.timed_out)
			g_array_append_val(samples, a.elapsed_us);
		else
			failures++;
		close_with_reset(fd);
	}
	total_us = MAX(g_get_monotonic_time() - start, 1);
	g_array_sort(samples, compare_gint64);
	printf("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %.0f %" G_GUINT64_FORMAT "\n",
	       percentile(samples, 50), percentile(samples, 99),
	       (double)(count - failures) * G_USEC_PER_SEC / (double)total_us, failures);
	return failures == 0 ? EXIT_OK : EXIT_ERROR;
}

/*
 * All connections at once from this one process, as a browser's first burst: COUNT
 * non-blocking connects to each HOST PORT, then one line per connection, in the order given:
 * "HOST PORT ok|error NAME|timeout ELAPSED_US". Exit 0 when every line was printed.
 */
static int
tcp_parallel(int argc, char **argv, int timeout_ms)
{
	g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
	gint64 start = g_get_monotonic_time();
	gint64 deadline = start + (gint64)timeout_ms * 1000;

	if (argc < 5 || (argc - 2) % 3 != 0)
		return EXIT_USAGE;
	for (int i = 2; i + 2 < argc; i += 3) {
		struct sockaddr_storage addr;
		socklen_t addr_len = 0;
		guint64 count = 0;

		if (!resolve(argv[i], argv[i + 1], &addr, &addr_len) ||
		    !g_ascii_string_to_unsigned(argv[i + 2], 10, 1, 1024, &count, NULL))
			return EXIT_USAGE;
		for (guint64 n = 0; n < count; n++) {
			int fd =
			    socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			if (fd >= 0 && connect(fd, (const struct sockaddr *)&addr, addr_len) < 0 &&
			    errno != EINPROGRESS) {
				/* failed at once: a closed socket reports it below */
				int err = errno;
				close(fd);
				fd = -err;
			}
			g_array_append_val(fds, fd);
			g_ptr_array_add(labels, g_strdup_printf("%s %s", argv[i], argv[i + 1]));
		}
	}
	/* each socket in turn: waiting on one costs none of the others' time */
	for (guint i = 0; i < fds->len; i++) {
		int fd = g_array_index(fds, int, i);
		Attempt a = {0};

		if (fd < 0)
			a.err = -fd;
		else if (!wait_for(fd, POLLOUT, deadline))
			a.timed_out = TRUE;
		else
			a.err = socket_error(fd);
		a.elapsed_us = g_get_monotonic_time() - start;
		printf("%s ", (const char *)g_ptr_array_index(labels, i));
		report(a);
		if (fd >= 0)
			close(fd);
	}
	return EXIT_OK;
}

/* connects a socket this process was given, by another program that may still hold it */
static int
tcp_fd(int fd, const struct sockaddr_storage *addr, socklen_t addr_len, int timeout_ms)
{
	Attempt a = {0};
	gint64 start = g_get_monotonic_time();

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		a.err = errno;
		return report(a);
	}
	if (connect(fd, (const struct sockaddr *)addr, addr_len) < 0) {
		if (errno != EINPROGRESS)
			a.err = errno;
		else if (!wait_for(fd, POLLOUT, start + (gint64)timeout_ms * 1000))
			a.timed_out = TRUE;
		else
			a.err = socket_error(fd);
	}
	a.elapsed_us = g_get_monotonic_time() - start;
	return report(a);
}

/* receives one socket over the unix socket @unix_fd (SCM_RIGHTS), then connects it */
static int
tcp_recv_fd(int unix_fd, const struct sockaddr_storage *addr, socklen_t addr_len, int timeout_ms)
{
	char byte;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = control.buf,
	                     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg;
	int fd = -1;

	if (recvmsg(unix_fd, &msg, MSG_CMSG_CLOEXEC) <= 0) {
		fprintf(stderr, "vigil-probe: recvmsg: %s\n", g_strerror(errno));
		return EXIT_ERROR;
	}
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "vigil-probe: no socket received\n");
		return EXIT_ERROR;
	}
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	return tcp_fd(fd, addr, addr_len, timeout_ms);
}

/* one connection per line read on stdin, each reported as by `tcp`: a long-lived client
 * (known to the firewall after its first connection) that connects when it is told to */
static int
tcp_lines(const struct sockaddr_storage *addr, socklen_t addr_len, int timeout_ms)
{
	char line[64];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		int fd = -1;

		report(tcp_attempt(addr, addr_len, timeout_ms, &fd));
		close_with_reset(fd);
	}
	return EXIT_OK;
}

/*
 * @count new UDP flows, one datagram to each port from @addr's port up, from @n_sockets
 * unconnected sockets in turn, as fast as the kernel takes them; prints how many were sent,
 * then keeps the sockets for @hold_ms (a program that lives on, so the firewall can find it).
 * The send buffers hold them all: a datagram waiting in the netfilter queue stays charged.
 */
static int
udp_flood(const struct sockaddr_storage *addr, socklen_t addr_len, guint64 count, guint64 n_sockets,
          int hold_ms)
{
	struct sockaddr_storage to = *addr;
	guint16 first =
	    ntohs(addr->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port
	                                      : ((const struct sockaddr_in *)addr)->sin_port);
	int sndbuf = 1 << 28;
	guint64 sent = 0;
	g_autofree int *fds = g_new(int, n_sockets);

	for (guint64 s = 0; s < n_sockets; s++) {
		fds[s] = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[s] < 0) {
			printf("error %s 0\n", errno_name(errno));
			return EXIT_ERROR;
		}
		/* SO_SNDBUFFORCE needs CAP_NET_ADMIN; else the flood is what SO_SNDBUF allows */
		if (setsockopt(fds[s], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
			setsockopt(fds[s], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	for (guint64 i = 0; i < count && first + i <= G_MAXUINT16; i++) {
		guint16 port = htons((guint16)(first + i));

		if (to.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&to)->sin6_port = port;
		else
			((struct sockaddr_in *)&to)->sin_port = port;
		if (sendto(fds[i % n_sockets], "x", 1, MSG_DONTWAIT, (struct sockaddr *)&to,
		           addr_len) == 1)
			sent++;
	}
	printf("%" G_GUINT64_FORMAT "\n", sent);
	g_usleep((gulong)hold_ms * 1000);
	for (guint64 s = 0; s < n_sockets; s++)
		close(fds[s]);
	return EXIT_OK;
}

/* takes "--timeout MS" or "--timeout=MS" out of argv; FALSE on a bad value */
static gboolean
take_timeout(int *argc, char **argv, int *timeout_ms)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *value = NULL;
		guint64 ms;

		if (g_str_equal(argv[i], "--timeout") && i + 1 < *argc)
			value = argv[++i];
		else if (g_str_has_prefix(argv[i], "--timeout="))
			value = argv[i] + strlen("--timeout=");
		else if (g_str_equal(argv[i], "--timeout"))
			return FALSE;
		if (value == NULL) {
			argv[out++] = argv[i];
			continue;
		}
		if (!g_ascii_string_to_unsigned(value, 10, 1, G_MAXINT, &ms, NULL))
			return FALSE;
		*timeout_ms = (int)ms;
	}
	*argc = out;
	return TRUE;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage addr;
	socklen_t addr_len = 0;
	int timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *mode;
	guint64 count = 0;
	int fd = -1;
	int status;

	if (!take_timeout(&argc, argv, &timeout_ms) || argc < 4) {
		usage();
		return EXIT_USAGE;
	}
	mode = argv[1];
	/* line-buffered so a test reading a pipe sees each result as it happens */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (g_str_equal(mode, "tcp-parallel")) {
		status = tcp_parallel(argc, argv, timeout_ms);
		if (status == EXIT_USAGE)
			usage();
		return status;
	}
	if ((g_str_equal(mode, "tcp-fd") || g_str_equal(mode, "tcp-recv-fd")) && argc == 5) {
		guint64 given = 0;

		if (!g_ascii_string_to_unsigned(argv[2], 10, 0, G_MAXINT, &given, NULL) ||
		    !resolve(argv[3], argv[4], &addr, &addr_len)) {
			usage();
			return EXIT_USAGE;
		}
		if (g_str_equal(mode, "tcp-fd"))
			return tcp_fd((int)given, &addr, addr_len, timeout_ms);
		return tcp_recv_fd((int)given, &addr, addr_len, timeout_ms);
	}
	if (!resolve(argv[2], argv[3], &addr, &addr_len))
		return EXIT_USAGE;

	if (g_str_equal(mode, "tcp") && argc == 4) {
		status = report(tcp_attempt(&addr, addr_len, timeout_ms, &fd));
		if (fd >= 0)
			close(fd);
		return status;
	}
	if (g_str_equal(mode, "udp") && argc == 4)
		return report(udp_attempt(&addr, addr_len, timeout_ms, 0));
	if (g_str_equal(mode, "udp-from") && argc == 5 &&
	    g_ascii_string_to_unsigned(argv[4], 10, 1, G_MAXUINT16, &count, NULL))
		return report(udp_attempt(&addr, addr_len, timeout_ms, (guint16)count));
	if (g_str_equal(mode, "tcp-many") && argc == 5 &&
	    g_ascii_string_to_unsigned(argv[4], 10, 1, G_MAXUINT32, &count, NULL))
		return tcp_many(&addr, addr_len, count, timeout_ms);
	if (g_str_equal(mode, "tcp-lines") && argc == 4)
		return tcp_lines(&addr, addr_len, timeout_ms);
	guint64 n_sockets = 1;
	if (g_str_equal(mode, "udp-flood") && (argc == 5 || argc == 6) &&
	    g_ascii_string_to_unsigned(argv[4], 10, 1, G_MAXUINT16, &count, NULL) &&
	    (argc == 5 || g_ascii_string_to_unsigned(argv[5], 10, 1, 64, &n_sockets, NULL)))
		return udp_flood(&addr, addr_len, count, n_sockets, timeout_ms);
	usage();
	return EXIT_USAGE;
}
