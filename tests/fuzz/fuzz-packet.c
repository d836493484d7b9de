/* fuzz-packet.c: libFuzzer target for the IP packet parser, captures cut short included */
#include "config.h"

#include "vigil-packet.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* the first two bytes say how long the packet was before the capture cut it (0: not cut) */
int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	VigilFlow flow = {0};
	gsize packet_len;
	g_autofree guint8 *packet = NULL;

	if (size < 2)
		return 0;
	packet_len = (gsize)(data[0] << 8 | data[1]);
	data += 2;
	size -= 2;
	if (packet_len == 0 || packet_len < size)
		packet_len = size;
	packet = g_memdup2(data, size);
	if (vigil_packet_parse_captured(packet, size, packet_len, &flow, NULL))
		g_assert(flow.family == AF_INET || flow.family == AF_INET6);
	return 0;
}
