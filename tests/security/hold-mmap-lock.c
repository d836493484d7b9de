/* hold-mmap-lock.c: a process that holds its own mmap lock for as long as a FUSE server does not
 * answer, then connects (tests/security/test_fuse_stall.py).
 *
 *     hold-mmap-lock FILE
 *
 * Maps FILE (on the FUSE file system, while its server answers) and prints "started". On the
 * line "hold" (sent once the server stopped answering), one thread reads the mapped page
 * through /proc/self/mem: the kernel faults it in holding this process's mmap lock, and waits
 * for the server; another then asks for the lock to map memory, and waits behind it. From then
 * on every reader of the lock waits too: /proc/PID/cmdline and environ of this process do not
 * return. It prints "held". On "ADDR PORT N" it opens N TCP connections at once and prints
 * "done OK REFUSED OTHER" (how many connected, were refused, failed otherwise or timed out).
 * Nothing after "hold" may need the lock: the code, stack and buffers are used before.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECTIONS_MAX 128

static char *mapped;
static int mem_fd = -1;
static volatile int go;

static void
wait_for_go(void)
{
	while (!go)
		usleep(1000);
}

static void *
fault_in(void *data)
{
	char c;

	(void)data;
	wait_for_go();
	/* the kernel holds our mmap lock while it waits for the page (no retry from here) */
	if (pread(mem_fd, &c, 1, (off_t)(unsigned long)mapped) < 0)
		return NULL;
	return NULL;
}

static void *
map_more(void *data)
{
	(void)data;
	wait_for_go();
	usleep(300000);
	/* waits for the lock as a writer: readers that come after wait behind it */
	mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return NULL;
}

/* stack pages used after the hold are there before it: growing the stack needs the lock */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile char pages[256 * 1024];

	for (size_t i = 0; i < sizeof pages; i += 1024)
		pages[i] = 1;
}

static void
connect_all(const char *host, int port, int n, int quiet)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	struct pollfd pfds[CONNECTIONS_MAX];
	int ok = 0, refused = 0, other = 0;

	if (n > CONNECTIONS_MAX)
		n = CONNECTIONS_MAX;
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		n = 0;
	for (int i = 0; i < n; i++) {
		pfds[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		pfds[i].events = POLLOUT;
		pfds[i].revents = 0;
		if (pfds[i].fd >= 0 &&
		    connect(pfds[i].fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
		    errno != EINPROGRESS) {
			if (errno == ECONNREFUSED)
				refused++;
			else
				other++;
			close(pfds[i].fd);
			pfds[i].fd = -1;
		}
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int left = 0;
		for (int i = 0; i < n; i++)
			left += pfds[i].fd >= 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (left == 0 || now.tv_sec - start.tv_sec > 30)
			break;
		if (poll(pfds, (nfds_t)n, 1000) < 0)
			break;
		for (int i = 0; i < n; i++) {
			int err = 0;
			socklen_t len = sizeof err;
			if (pfds[i].fd < 0 || pfds[i].revents == 0)
				continue;
			if (getsockopt(pfds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
			if (err == 0)
				ok++;
			else if (err == ECONNREFUSED)
				refused++;
			else
				other++;
			close(pfds[i].fd);
			pfds[i].fd = -1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (pfds[i].fd >= 0) {
			other++;
			close(pfds[i].fd);
		}
	}
	if (!quiet)
		printf("done %d %d %d\n", ok, refused, other);
}

int
main(int argc, char **argv)
{
	char line[256];
	char host[64];
	int port, n;
	pthread_t threads[2];

	if (argc != 2) {
		fprintf(stderr, "usage: hold-mmap-lock FILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || mem_fd < 0) {
		perror("open");
		return 1;
	}
	mapped = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (mapped == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* threads made now: their stacks are mapped before the hold */
	if (pthread_create(&threads[0], NULL, fault_in, NULL) != 0 ||
	    pthread_create(&threads[1], NULL, map_more, NULL) != 0)
		return 1;
	/* every page the code after the hold uses is there before it (a page fault waits for
	 * the lock): a dry run of it, then, where the limit allows, all pages locked in */
	touch_stack();
	if (sscanf("127.0.0.1 9 1", "%63s %d %d", host, &port, &n) == 3)
		connect_all(host, port, n, 1);
	snprintf(line, sizeof line, "done %d %d %d\n", 1, 2, 3);
	mlockall(MCL_CURRENT);
	printf("started\n");
	while (fgets(line, sizeof line, stdin) != NULL) {
		if (strncmp(line, "hold", 4) == 0) {
			go = 1;
			usleep(700000);
			printf("held\n");
		} else if (sscanf(line, "%63s %d %d", host, &port, &n) == 3) {
			connect_all(host, port, n, 0);
		}
	}
	return 0;
}
