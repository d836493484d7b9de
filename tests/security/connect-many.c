/* connect-many.c: COUNT TCP connection attempts to ADDR PORT, one after another, for tests
 * that flood vigild with new connections from a few programs (no GLib: cheap to start and to
 * hard-link). With PORTS, the attempts go to PORT, PORT+1, ... PORT+PORTS-1 in turn (as many
 * destinations). A refused connection counts as answered. Exit 0 when every attempt was. */
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
	int port;
	int ports = 1;
	int failed = 0;

	if ((argc != 4 && argc != 5) || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1)
		return 64;
	port = atoi(argv[2]);
	count = atoi(argv[3]);
	if (argc == 5)
		ports = atoi(argv[4]);
	if (ports < 1 || port < 1 || port + ports - 1 > 65535)
		return 64;
	for (int i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		addr.sin_port = htons((unsigned short)(port + i % ports));
		if (fd < 0)
			return 1;
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
		    errno != ECONNREFUSED)
			failed++;
		close(fd);
	}
	return failed != 0;
}
