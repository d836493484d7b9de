/* vigil-pcapng.h: a minimal pcapng writer (one section, one raw-IP interface, packets) (pure) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* LINKTYPE_RAW: each packet starts with its IPv4 or IPv6 header (what NFLOG hands over) */
#define VIGIL_PCAPNG_LINKTYPE_RAW 101
/* block types (pcapng, draft-ietf-opsawg-pcapng) */
#define VIGIL_PCAPNG_SHB              0x0A0D0D0Au
#define VIGIL_PCAPNG_IDB              0x00000001u
#define VIGIL_PCAPNG_EPB              0x00000006u
#define VIGIL_PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
/* the longest comment written into a section header; longer ones are cut (UTF-8 kept whole) */
#define VIGIL_PCAPNG_MAX_COMMENT 1024

/*
 * Appends a Section Header Block (with @comment, if not NULL, as opt_comment and
 * shb_userappl "vigild") and one Interface Description Block (LINKTYPE_RAW, @snaplen,
 * microsecond timestamps) to @out: the start of a file that tcpdump and Wireshark read.
 * Blocks are in the host's byte order, which the byte-order magic tells readers.
 */
void vigil_pcapng_append_header(GByteArray *out, const char *comment, guint32 snaplen);

/*
 * Appends an Enhanced Packet Block for interface 0: @captured bytes of @data, of a packet
 * that was @original_len bytes long (at least @captured), seen at @time_us (unix time, µs).
 * The number of bytes appended.
 */
gsize vigil_pcapng_append_packet(GByteArray *out, gint64 time_us, const guint8 *data,
                                 gsize captured, gsize original_len);

/* what vigil_pcapng_append_packet() appends for @captured bytes */
gsize vigil_pcapng_packet_size(gsize captured);

/*
 * The comment of the Section Header Block at the start of @data (what
 * vigil_pcapng_append_header() wrote), or NULL when @data does not start with one or it
 * has no valid UTF-8 comment. Bounds-checked: @data may be any bytes (a file cut short).
 */
char *vigil_pcapng_read_comment(const guint8 *data, gsize len);

G_END_DECLS
