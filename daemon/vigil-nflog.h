/* vigil-nflog.h: NFLOG copies: one parser of their messages, and a reader of a group of its own */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* one copied packet; valid only during the callback */
typedef struct {
	guint16 group;         /* the NFLOG group it was copied to */
	guint8 hook;           /* NF_INET_LOCAL_OUT, NF_INET_LOCAL_IN, ... */
	const guint8 *payload; /* from the IP header on */
	gsize len;             /* bytes in @payload */
	gboolean has_uid;
	guint32 uid; /* the socket owner (NFULA_UID), for packets that had a socket */
} VigilNflogPacket;

typedef void (*VigilNflogFunc)(const VigilNflogPacket *packet, gpointer user_data);

/*
 * Hands each NFULNL_MSG_PACKET of a netlink datagram (any bytes: checked) with a header and a
 * payload to @func; anything else in it is ignored. Pure: the DNS watch and the capture both
 * read their copies with it.
 */
void vigil_nflog_parse(const guint8 *datagram, gsize len, VigilNflogFunc func, gpointer user_data);

/*
 * A socket of its own bound to NFLOG group @group, read on the thread-default main context:
 * copies of at most @copy_range bytes, handed to @func. The kernel may batch copies (they
 * are not ordered against anything else); when vigild reads too slowly it drops copies, which
 * are counted, never waited for. Fails when the group is taken.
 */
typedef struct _VigilNflogReader VigilNflogReader;

VigilNflogReader *vigil_nflog_reader_new(guint16 group, guint32 copy_range, VigilNflogFunc func,
                                         gpointer user_data, GError **error);
void vigil_nflog_reader_free(VigilNflogReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNflogReader, vigil_nflog_reader_free)
/* copies the kernel could not hand over (receive buffer full) */
guint64 vigil_nflog_reader_get_lost(VigilNflogReader *reader);

G_END_DECLS
