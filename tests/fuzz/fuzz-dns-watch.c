/* fuzz-dns-watch.c: libFuzzer target feeding a series of copied packets to the DNS watch */
#include "config.h"

#include "vigil-dns-watch.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/*
 * The input is a series of records: one byte (bit 0: received, not sent; bit 1: the
 * sender's uid is known; bits 2-7: seconds that pass before it), two bytes of length, then
 * that many bytes of IP packet. A small cache makes eviction happen too.
 */
int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autoptr(VigilDnsCache) cache = vigil_dns_cache_new(16, 1, 60);
	g_autoptr(VigilDnsWatch) watch = vigil_dns_watch_new(cache);
	gint64 now = 1000 * G_USEC_PER_SEC;

	while (size >= 3) {
		guint8 flags = data[0];
		gsize len = MIN((gsize)(data[1] << 8 | data[2]), size - 3);
		VigilDnsDirection dir =
		    flags & 1 ? VIGIL_DNS_PACKET_RECEIVED : VIGIL_DNS_PACKET_SENT;
		/* a copy of exactly @len bytes: a read past it is caught */
		g_autofree guint8 *packet = g_memdup2(data + 3, len);

		now += (gint64)(flags >> 2) * G_USEC_PER_SEC;
		vigil_dns_watch_handle_packet(watch, dir, packet, len, (flags & 2) != 0, 1000, now);
		vigil_dns_watch_expire(watch, now);
		data += 3 + len;
		size -= 3 + len;
	}
	g_assert(vigil_dns_cache_size(cache) <= 16);
	return 0;
}
