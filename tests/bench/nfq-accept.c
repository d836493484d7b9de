/*
 * nfq-accept.c: the benchmark's baselines, minimal NFQUEUE readers that accept every packet.
 *
 * Plain, it is the yardstick of the targets: a blocking recv() and a verdict, nothing else.
 * With --attribute it is the floor for any firewall that knows which program connects: the
 * same plus only the system calls exact attribution cannot do without, per packet: the socket
 * of the flow's tuple (sock_diag: a request and its answer), proof that the program's process
 * holds that socket (one readlink of the fd where its last socket was) and that it still runs
 * the same executable (one stat of /proc/PID/exe). No main loop, rules or log: what is left
 * between the floor and vigild is vigild's own cost; between the floor and the plain reader,
 * attribution's. The owner is found once by a walk over /proc (the first packet), then guessed.
 */
#define G_LOG_DOMAIN "nfq-accept"
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-attributor.h"
#include "vigil-sock-diag.h"
#include "vigil-packet.h"

/* what vigild asks for too: enough for the IP and transport headers */
#define COPY_RANGE   256
#define QUEUE_MAXLEN 8192

static volatile sig_atomic_t stop;

typedef struct {
	VigilSockDiag *diag; /* --attribute only */
	int owner_dir;       /* /proc/PID of the last owner, or -1 */
	int owner_fd;        /* the fd its socket had */
	unsigned long long accepted, attributed, walks;
} Reader;

static void
on_signal(int sig)
{
	stop = 1;
}

static guint64
socket_inode_at(int dir, const char *name)
{
	char link[64];
	ssize_t n = readlinkat(dir, name, link, sizeof(link) - 1);
	unsigned long long inode = 0;

	if (n < 0)
		return 0;
	link[n] = '\0';
	return sscanf(link, "socket:[%llu]", &inode) == 1 ? inode : 0;
}

/* the slow way, once: every process's fds */
static gboolean
walk_for_owner(Reader *reader, guint64 inode)
{
	DIR *proc = opendir("/proc");
	struct dirent *pid;
	gboolean found = FALSE;

	reader->walks++;
	while (!found && proc != NULL && (pid = readdir(proc)) != NULL) {
		int dir = openat(dirfd(proc), pid->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		int fds = dir >= 0 ? openat(dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		DIR *fd_dir = fds >= 0 ? fdopendir(fds) : NULL;
		struct dirent *fd;

		while (fd_dir != NULL && !found && (fd = readdir(fd_dir)) != NULL) {
			if (socket_inode_at(dirfd(fd_dir), fd->d_name) == inode) {
				if (reader->owner_dir >= 0)
					close(reader->owner_dir);
				reader->owner_dir = dir;
				reader->owner_fd = atoi(fd->d_name);
				found = TRUE;
			}
		}
		if (fd_dir != NULL)
			closedir(fd_dir);
		else if (fds >= 0)
			close(fds);
		if (!found && dir >= 0)
			close(dir);
	}
	if (proc != NULL)
		closedir(proc);
	return found;
}

static void
attribute(Reader *reader, const unsigned char *payload, int len)
{
	VigilFlow flow;
	guint64 inode = 0;
	char name[32];
	struct stat exe;

	if (len <= 0 || !vigil_packet_parse_captured(payload, (gsize)len, (gsize)len, &flow, NULL))
		return;
	if (!vigil_sock_diag_lookup(reader->diag, &flow, VIGIL_SOCK_DIAG_PRIMARY_ONLY, &inode, NULL,
	                            NULL) ||
	    inode == 0)
		return;
	snprintf(name, sizeof(name), "fd/%d", reader->owner_fd);
	if (reader->owner_dir < 0 || socket_inode_at(reader->owner_dir, name) != inode) {
		if (!walk_for_owner(reader, inode))
			return;
	}
	if (fstatat(reader->owner_dir, "exe", &exe, 0) == 0)
		reader->attributed++;
}

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	Reader *reader = data;
	struct nfqnl_msg_packet_hdr *hdr = nfq_get_msg_packet_hdr(nfa);

	if (hdr == NULL)
		return 0;
	if (reader->diag != NULL) {
		unsigned char *payload = NULL;
		int len = nfq_get_payload(nfa, &payload);
		attribute(reader, payload, len);
	}
	reader->accepted++;
	return nfq_set_verdict(qh, ntohl(hdr->packet_id), NF_ACCEPT, 0, NULL);
}

/* no SA_RESTART: the signal interrupts recv() so the loop can report and exit */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int
usage(void)
{
	fprintf(stderr, "usage: nfq-accept [--attribute] QUEUE-NUMBER\n");
	return 64;
}

int
main(int argc, char **argv)
{
	static char buf[65536] __attribute__((aligned));
	Reader reader = {.owner_dir = -1, .owner_fd = -1};
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	char *end = NULL;
	unsigned long num;
	int fd;

	if (argc == 3 && strcmp(argv[1], "--attribute") == 0) {
		reader.diag = vigil_sock_diag_new("/proc", NULL);
		if (reader.diag == NULL) {
			perror("nfq-accept: sock_diag");
			return 1;
		}
		argc--;
		argv++;
	}
	if (argc != 2 || (num = strtoul(argv[1], &end, 10), *end != '\0') || num > 65535)
		return usage();
	h = nfq_open();
	if (h == NULL) {
		perror("nfq-accept: nfq_open");
		return 1;
	}
	qh = nfq_create_queue(h, (uint16_t)num, on_packet, &reader);
	if (qh == NULL || nfq_set_mode(qh, NFQNL_COPY_PACKET, COPY_RANGE) < 0 ||
	    nfq_set_queue_maxlen(qh, QUEUE_MAXLEN) < 0) {
		fprintf(stderr, "nfq-accept: cannot bind queue %lu: %s\n", num, strerror(errno));
		nfq_close(h);
		return 1;
	}
	catch_signals();
	fd = nfq_fd(h);
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0)
			nfq_handle_packet(h, buf, (int)n);
		else if (n < 0 && errno != EINTR && errno != ENOBUFS)
			break;
	}
	fprintf(stderr, "nfq-accept: %llu packets accepted", reader.accepted);
	if (reader.diag != NULL)
		fprintf(stderr, ", %llu attributed, %llu /proc walks", reader.attributed,
		        reader.walks);
	fputc('\n', stderr);
	nfq_destroy_queue(qh);
	nfq_close(h);
	if (reader.diag != NULL)
		vigil_sock_diag_free(reader.diag);
	return 0;
}
