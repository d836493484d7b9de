/* vigil-address.h: an IP address and a protocol number, and their text forms */
#pragma once

#include <glib.h>
#include <netinet/in.h>

G_BEGIN_DECLS

/* an IPv4 address is stored in the first 4 bytes, the rest zero */
typedef struct {
	guint8 bytes[16];
} VigilAddress;

/* writes the textual address ("10.0.0.1", "fd00::1") into buf; returns buf */
const char *vigil_address_to_string(int family, const VigilAddress *addr, char *buf, gsize len);
/* parses a literal IPv4/IPv6 address; family is set to AF_INET or AF_INET6 */
gboolean vigil_address_parse(const char *text, int *family, VigilAddress *addr);
/* "tcp", "udp", "udplite", "sctp", "icmp", "icmpv6", or "proto-N" in buf */
const char *vigil_protocol_name(guint8 protocol, char *buf, gsize len);

G_END_DECLS
