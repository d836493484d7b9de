/* vigil-address.c: IP addresses and protocol numbers as text */
#define G_LOG_DOMAIN "vigil-address"
#include "config.h"

#include "vigil-address.h"
#include "vigil-rule-syntax.h" /* the protocol names */

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

const char *
vigil_address_to_string(int family, const VigilAddress *addr, char *buf, gsize len)
{
	g_return_val_if_fail(addr != NULL, NULL);
	g_return_val_if_fail(buf != NULL, NULL);
	g_return_val_if_fail(len > 0, NULL);

	if ((family != AF_INET && family != AF_INET6) ||
	    inet_ntop(family, addr->bytes, buf, (socklen_t)MIN(len, G_MAXINT32)) == NULL) {
		/* an unknown family or a buffer too small still yields a printable string */
		g_strlcpy(buf, "?", len);
	}
	return buf;
}

gboolean
vigil_address_parse(const char *text, int *family, VigilAddress *addr)
{
	VigilAddress tmp = {0};

	g_return_val_if_fail(text != NULL, FALSE);
	g_return_val_if_fail(family != NULL, FALSE);
	g_return_val_if_fail(addr != NULL, FALSE);

	/* inet_pton accepts only dotted-quad for AF_INET, never "1" or "0x7f.1" forms */
	if (inet_pton(AF_INET, text, tmp.bytes) == 1) {
		*family = AF_INET;
		*addr = tmp;
		return TRUE;
	}
	if (inet_pton(AF_INET6, text, tmp.bytes) == 1) {
		*family = AF_INET6;
		*addr = tmp;
		return TRUE;
	}
	return FALSE;
}

const char *
vigil_protocol_name(guint8 protocol, char *buf, gsize len)
{
	const char *name = vigil_protocol_to_string(protocol);

	g_return_val_if_fail(buf != NULL, NULL);
	g_return_val_if_fail(len > 0, NULL);

	/* like addresses: a name that does not fit becomes "?", never a cut-off other name */
	if (name != NULL) {
		if (g_strlcpy(buf, name, len) >= len)
			g_strlcpy(buf, "?", len);
	} else if ((gsize)g_snprintf(buf, len, "proto-%u", protocol) >= len) {
		g_strlcpy(buf, "?", len);
	}
	return buf;
}
