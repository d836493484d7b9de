/* vigil-flow.h: the 5-tuple (and friends) of one outbound packet, as the queue saw it */
#pragma once

#include <string.h> /* memcmp */

#include "vigil-address.h" /* VigilAddress */

G_BEGIN_DECLS

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

/* FNV-1a over @len bytes: for hash tables keyed by fixed-size, padding-free structs */
guint vigil_hash_bytes(const void *data, gsize len);

/* PREFIX_hash() and PREFIX_equal() of a GHashTable keyed by whole @Type structs (fixed-size, no
 * padding), hashed and compared as bytes */
#define VIGIL_DEFINE_BYTES_KEY(prefix, Type)                                                       \
	static guint prefix##_hash(gconstpointer key)                                              \
	{                                                                                          \
		return vigil_hash_bytes(key, sizeof(Type));                                        \
	}                                                                                          \
	static gboolean prefix##_equal(gconstpointer a, gconstpointer b)                           \
	{                                                                                          \
		return memcmp(a, b, sizeof(Type)) == 0;                                            \
	}

G_END_DECLS
