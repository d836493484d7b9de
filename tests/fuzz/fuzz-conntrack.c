/* fuzz-conntrack.c: libFuzzer target for ctnetlink messages (flow ends and dump entries) */
#include "config.h"

#include <libmnl/libmnl.h>
#include <string.h>

#include "vigil-conntrack.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* one netlink message as mnl_cb_run hands it over: its length field within what was read */
int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree struct nlmsghdr *nlh = NULL;
	VigilFlowCounters counters;

	if (size < sizeof *nlh || size > 65536)
		return 0;
	/* libmnl reads attributes up to the message's aligned end, as a receive buffer has it */
	nlh = g_malloc0(MNL_ALIGN(size));
	memcpy(nlh, data, size);
	if (nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > size)
		nlh->nlmsg_len = (guint32)size;
	if (vigil_conntrack_parse(nlh, &counters))
		g_assert(counters.family == AF_INET || counters.family == AF_INET6);
	return 0;
}
