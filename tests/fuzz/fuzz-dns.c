/* fuzz-dns.c: libFuzzer target for the DNS message parser */
#include "config.h"

#include "vigil-dns.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_auto(VigilDnsMessage) msg = {0};

	if (vigil_dns_parse(data, size, &msg, NULL)) {
		/* what a successful parse promises its users */
		g_assert(msg.answers != NULL);
		g_assert(strlen(msg.qname) < VIGIL_DNS_NAME_SIZE);
		for (const char *p = msg.qname; *p != '\0'; p++)
			g_assert(g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.');
		g_assert(msg.answers->len <= size);
	}
	return 0;
}
