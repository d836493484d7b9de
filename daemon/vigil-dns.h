/* vigil-dns.h: pure, bounds-checked parser of DNS messages (question, A/AAAA, CNAME chains) */
#pragma once

#include "vigil-flow.h"

G_BEGIN_DECLS

#define VIGIL_DNS_ERROR (vigil_dns_error_quark())
GQuark vigil_dns_error_quark(void);

typedef enum {
	VIGIL_DNS_ERROR_TRUNCATED, /* the message ends inside a header, name or record it announces
	                            */
	VIGIL_DNS_ERROR_BAD_NAME,  /* a name or label too long, or a reserved label type */
	VIGIL_DNS_ERROR_BAD_POINTER, /* a compression pointer that points forward or loops */
	VIGIL_DNS_ERROR_MALFORMED,   /* a record whose data does not fit its type */
	VIGIL_DNS_ERROR_UNSUPPORTED, /* not a standard query with exactly one question */
} VigilDnsError;

/* the longest name in text form (255 bytes on the wire), plus the terminating NUL */
#define VIGIL_DNS_NAME_SIZE 254

#define VIGIL_DNS_TYPE_A     1
#define VIGIL_DNS_TYPE_CNAME 5
#define VIGIL_DNS_TYPE_AAAA  28
#define VIGIL_DNS_CLASS_IN   1
#define VIGIL_DNS_RCODE_OK   0

/* an address the question's name resolves to */
typedef struct {
	int family; /* AF_INET or AF_INET6 */
	VigilAddress address;
	guint32 ttl; /* seconds: the smallest TTL along the CNAME chain that led here */
} VigilDnsAnswer;

typedef struct {
	guint16 id;
	gboolean response;  /* QR: an answer rather than a query */
	gboolean truncated; /* TC: the server had more to say (the client retries over TCP) */
	guint8 opcode;
	guint8 rcode;
	/*
	 * The question, in lowercase without the trailing dot ("" is the root). Only names
	 * made of letters, digits, '-' and '_' are accepted, so a name is always safe to log
	 * and to match against rules.
	 */
	char qname[VIGIL_DNS_NAME_SIZE];
	guint16 qtype;
	guint16 qclass;
	/*
	 * Of VigilDnsAnswer: the IN-class A and AAAA records of the answer section that belong
	 * to qname, directly or through a chain of CNAMEs starting at qname. Records for any
	 * other name are ignored, so an answer cannot name addresses it was not asked about.
	 */
	GArray *answers;
} VigilDnsMessage;

/*
 * Parses the DNS message in @data (as carried in a UDP datagram, without TCP's length
 * prefix). Never reads past @len; every section the header announces must be present and
 * well formed. On failure returns FALSE with a VIGIL_DNS_ERROR and @message is cleared.
 */
gboolean vigil_dns_parse(const guint8 *data, gsize len, VigilDnsMessage *message, GError **error);
/* frees what a parse filled in; the struct may be parsed into again */
void vigil_dns_message_clear(VigilDnsMessage *message);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilDnsMessage, vigil_dns_message_clear)

G_END_DECLS
