/* vigil-packet.h: pure parser from the bytes of an IP packet to a VigilFlow */
#pragma once

#include "vigil-flow.h"

G_BEGIN_DECLS

#define VIGIL_PACKET_ERROR (vigil_packet_error_quark())
GQuark vigil_packet_error_quark(void);

typedef enum {
	VIGIL_PACKET_ERROR_TRUNCATED,   /* fewer bytes than a header claims or needs */
	VIGIL_PACKET_ERROR_BAD_VERSION, /* not IPv4 or IPv6 */
	VIGIL_PACKET_ERROR_MALFORMED,   /* a length or header field that cannot be right */
	VIGIL_PACKET_ERROR_FRAGMENT,    /* a non-first fragment: no transport header to read */
	VIGIL_PACKET_ERROR_UNSUPPORTED, /* a transport protocol Vigil does not decide */
} VigilPacketError;

/*
 * Fills @flow from the IP packet in @data (network byte order, starting at the IP header).
 * Does not touch flow->has_uid / flow->uid. Never reads past @len. On failure returns FALSE
 * with a VIGIL_PACKET_ERROR naming the reason, and @flow is unspecified.
 */
gboolean vigil_packet_parse(const guint8 *data, gsize len, VigilFlow *flow, GError **error);

/*
 * Like vigil_packet_parse(), for a capture: @data holds the first @len bytes of a packet that was
 * @packet_len bytes long (NFQUEUE's copy range cuts packets short and reports the original length
 * in NFQA_CAP_LEN). The IP length fields are checked against @packet_len; only the headers that
 * are read must lie within @len. vigil_packet_parse() is this with @packet_len == @len.
 */
gboolean vigil_packet_parse_captured(const guint8 *data, gsize len, gsize packet_len,
                                     VigilFlow *flow, GError **error);

G_END_DECLS
