/* connect-later.c: a TCP connection to ADDR PORT for each such line read from stdin, answered
 * with "ok" or "error ERRNO-NAME" on stdout (tests/security/test_fuse_stall.py runs it from a
 * FUSE file system: started while its server answers, it connects once the server is stuck) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *
errno_name(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case EPERM:
		return "EPERM";
	default:
		return "OTHER";
	}
}

/* 0, or the errno; a connection not answered in 20 s is ETIMEDOUT */
static int
connect_to(const char *host, int port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int fd;
	int err = 0;
	socklen_t len = sizeof err;

	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		if (errno != EINPROGRESS)
			err = errno;
		else if (poll(&pfd, 1, 20000) != 1)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
	}
	close(fd);
	return err;
}

int
main(void)
{
	char line[256];
	char host[64];
	int port;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("started\n");
	while (fgets(line, sizeof line, stdin) != NULL) {
		if (sscanf(line, "%63s %d", host, &port) != 2)
			continue;
		int err = connect_to(host, port);
		if (err == 0)
			printf("ok\n");
		else
			printf("error %s\n", errno_name(err));
	}
	return 0;
}
