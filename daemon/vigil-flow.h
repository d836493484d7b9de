/* vigil-flow.h: the 5-tuple (and friends) of one outbound packet, as the queue saw it */
#pragma once

#include <glib.h>
#include <netinet/in.h>

G_BEGIN_DECLS

/* an IPv4 address is stored in the first 4 bytes, the rest zero */
typedef struct {
	guint8 bytes[16];
} VigilAddress;

typedef struct {
	int family;      /* AF_INET or AF_INET6 */
	guint8 protocol; /* IPPROTO_TCP, _UDP, _UDPLITE, _SCTP, _ICMP, _ICMPV6 */
	VigilAddress src;
	VigilAddress dst;
	guint16 sport; /* host byte order; 0 for ICMP */
	guint16 dport; /* host byte order; 0 for ICMP */
	guint8 icmp_type;
	guint8 icmp_code;
	guint16 icmp_id; /* echo identifier, host byte order */
	gboolean has_uid;
	guint32 uid; /* socket owner's uid as the kernel reported it (NFQA_UID) */
} VigilFlow;

/* writes the textual address ("10.0.0.1", "fd00::1") into buf; returns buf */
const char *vigil_address_to_string(int family, const VigilAddress *addr, char *buf, gsize len);
/* parses a literal IPv4/IPv6 address; family is set to AF_INET or AF_INET6 */
gboolean vigil_address_parse(const char *text, int *family, VigilAddress *addr);
/* "tcp", "udp", "udplite", "sctp", "icmp", "icmpv6", or "proto-N" in buf */
const char *vigil_protocol_name(guint8 protocol, char *buf, gsize len);

/* FNV-1a over @len bytes: for hash tables keyed by fixed-size, padding-free structs */
guint vigil_hash_bytes(const void *data, gsize len);

G_END_DECLS
