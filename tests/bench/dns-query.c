/* dns-query.c: times DNS queries over UDP for the DNS benchmark (run-dns-bench.sh) */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 2000

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* a standard A query for @name with id @id; returns its length */
static size_t
build_query(unsigned char *buf, size_t size, const char *name, unsigned id)
{
	size_t pos = 12;
	const char *label = name;

	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = 0x01; /* recursion desired */
	buf[5] = 1;    /* one question */
	while (*label != '\0') {
		const char *dot = strchr(label, '.');
		size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);

		if (len == 0 || len > 63 || pos + len + 6 > size)
			return 0;
		buf[pos++] = (unsigned char)len;
		memcpy(buf + pos, label, len);
		pos += len;
		label += len + (dot != NULL ? 1 : 0);
	}
	buf[pos++] = 0;
	buf[pos++] = 0;
	buf[pos++] = 1; /* A */
	buf[pos++] = 0;
	buf[pos++] = 1; /* IN */
	return pos;
}

/* @port: the source port, or 0 for any */
static int
open_socket(const struct sockaddr_in *server, int port)
{
	struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (const struct sockaddr *)&local, sizeof local) < 0 ||
	    connect(fd, (const struct sockaddr *)server, sizeof(*server)) < 0) {
		perror("dns-query: socket");
		exit(1);
	}
	return fd;
}

/* one query and its answer; the time in ns, or -1 on timeout */
static long long
ask(int fd, const char *name, unsigned id)
{
	unsigned char query[512], answer[4096];
	size_t len = build_query(query, sizeof query, name, id);
	long long start = now_ns();
	struct pollfd pfd = {fd, POLLIN, 0};

	if (len == 0 || send(fd, query, len, 0) != (ssize_t)len)
		return -1;
	while (poll(&pfd, 1, TIMEOUT_MS) == 1) {
		ssize_t n = recv(fd, answer, sizeof answer, 0);

		if (n >= 12 && answer[0] == query[0] && answer[1] == query[1] && (answer[2] & 0x80))
			return now_ns() - start;
		if (n < 0 && errno != EINTR)
			return -1;
	}
	return -1;
}

static int
compare(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(53)};
	int one_socket, first_port = 0, count, fd = -1, failures = 0, ok = 0;
	long long *times, start;
	double elapsed;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
		fprintf(stderr, "usage: dns-query SERVER NAME COUNT [one-socket|FIRST_PORT]\n"
		                "Prints: p50_us p99_us queries_per_second failures\n"
		                "Without one-socket each query has a socket of its own, from\n"
		                "source port FIRST_PORT on (default: any port).\n");
		return 64;
	}
	count = atoi(argv[3]);
	one_socket = argc > 4 && strcmp(argv[4], "one-socket") == 0;
	if (argc > 4 && !one_socket)
		first_port = atoi(argv[4]);
	if (first_port < 0 || first_port + count > 65536) {
		fprintf(stderr, "dns-query: ports %d to %d do not exist\n", first_port,
		        first_port + count - 1);
		return 64;
	}
	times = calloc((size_t)count + 1, sizeof(*times));
	srand((unsigned)getpid());
	start = now_ns();
	for (int i = 0; i < count; i++) {
		long long t;

		/* like the C library: a new socket, so a new flow, per lookup; ports that were not
		 * used before, so conntrack sees each as new */
		if (!one_socket || fd < 0)
			fd = open_socket(&server, first_port > 0 ? first_port + i : 0);
		t = ask(fd, argv[2], (unsigned)rand() & 0xffff);
		if (t < 0)
			failures++;
		else
			times[ok++] = t;
		if (!one_socket) {
			close(fd);
			fd = -1;
		}
	}
	elapsed = (double)(now_ns() - start) / 1e9;
	if (ok == 0) {
		printf("0 0 0 %d\n", failures);
		return 1;
	}
	qsort(times, (size_t)ok, sizeof(*times), compare);
	printf("%lld %lld %.0f %d\n", times[ok / 2] / 1000, times[(ok * 99) / 100] / 1000,
	       ok / elapsed, failures);
	free(times);
	return 0;
}
