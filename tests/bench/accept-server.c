/* accept-server.c: the benchmark's TCP server, accepting and closing as fast as it can */
#define G_LOG_DOMAIN "accept-server"
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int one = 1;
	int fd;

	if (argc != 3 || getaddrinfo(argv[1], argv[2], &hints, &res) != 0) {
		fprintf(stderr, "usage: accept-server ADDRESS PORT\n");
		return 64;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
		perror("accept-server");
		return 1;
	}
	freeaddrinfo(res);
	/* the kernel completes handshakes on its own; we only keep the backlog from filling */
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			close(c);
	}
}
