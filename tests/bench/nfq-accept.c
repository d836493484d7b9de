/* nfq-accept.c: the benchmark's baseline, a minimal NFQUEUE reader that accepts every packet */
#define G_LOG_DOMAIN "nfq-accept"
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* what vigild asks for too: enough for the IP and transport headers */
#define COPY_RANGE   128
#define QUEUE_MAXLEN 8192

static volatile sig_atomic_t stop;
static unsigned long long accepted;

static void
on_signal(int sig)
{
	stop = 1;
}

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *hdr = nfq_get_msg_packet_hdr(nfa);

	if (hdr == NULL)
		return 0;
	accepted++;
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

int
main(int argc, char **argv)
{
	static char buf[65536] __attribute__((aligned));
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	char *end = NULL;
	unsigned long num;
	int fd;

	if (argc != 2 || (num = strtoul(argv[1], &end, 10), *end != '\0') || num > 65535) {
		fprintf(stderr, "usage: nfq-accept QUEUE-NUMBER\n");
		return 64;
	}
	h = nfq_open();
	if (h == NULL) {
		perror("nfq-accept: nfq_open");
		return 1;
	}
	qh = nfq_create_queue(h, (uint16_t)num, on_packet, NULL);
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
	fprintf(stderr, "nfq-accept: %llu packets accepted\n", accepted);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
