/* connect-many.c: COUNT TCP connection attempts to ADDR PORT, one after another, for tests
 * that flood vigild with new connections from a few programs (no GLib: cheap to start and to
 * hard-link). A refused connection counts as answered. Exit 0 when every attempt was. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	int count;
	int failed = 0;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1)
		return 64;
	addr.sin_port = htons((unsigned short)atoi(argv[2]));
	count = atoi(argv[3]);
	for (int i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return 1;
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
		    errno != ECONNREFUSED)
			failed++;
		close(fd);
	}
	return failed != 0;
}
