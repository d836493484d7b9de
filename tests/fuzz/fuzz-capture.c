/* fuzz-capture.c: libFuzzer target for what the packet capture reads: NFLOG messages, the
 * copied packets it writes to pcapng, and a capture file's section header read back */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>

#include "vigil-capture.h"
#include "vigil-nflog.h"
#include "vigil-packet.h"
#include "vigil-pcapng.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static VigilCapture *capture;
static char *root, *dir;

/* the directories go at exit: each input's files went already */
static void
clean_up(void)
{
	g_clear_pointer(&capture, vigil_capture_free);
	g_rmdir(dir);
	g_rmdir(root);
}

static void
on_copy(const VigilNflogPacket *packet, gpointer user_data)
{
	vigil_capture_handle_packet(user_data, packet->payload, packet->len, 1);
}

/* every capture file goes again: each input starts with room */
static void
remove_all(void)
{
	g_autoptr(GVariant) list = g_variant_ref_sink(vigil_capture_list(capture));
	GVariantIter iter;
	GVariant *entry;

	g_variant_iter_init(&iter, list);
	while ((entry = g_variant_iter_next_value(&iter)) != NULL) {
		guint64 id = 0;

		g_variant_lookup(entry, "id", "t", &id);
		g_assert_true(vigil_capture_remove(capture, id, NULL));
		g_variant_unref(entry);
	}
}

/*
 * The input is a copied packet (a flow made of it is expected first, so it is written), and
 * also an NFLOG datagram and the start of a capture file.
 */
int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree guint8 *copy = g_memdup2(data, size);
	g_autofree char *comment = NULL;
	VigilFlow flow = {0};

	if (capture == NULL) {
		VigilCaptureLimits limits = {4096, 65536};

		root = g_dir_make_tmp("fuzz-capture-XXXXXX", NULL);
		dir = g_build_filename(root, "captures", NULL);
		capture = vigil_capture_new(dir, &limits, NULL);
		g_assert_nonnull(capture);
		atexit(clean_up);
	}
	if (vigil_packet_parse(copy, size, &flow, NULL))
		vigil_capture_expect(capture, &flow, "fuzz");
	vigil_capture_handle_packet(capture, copy, size, 1);
	vigil_nflog_parse(copy, size, on_copy, capture);
	comment = vigil_pcapng_read_comment(copy, size);
	g_assert_true(comment == NULL || g_utf8_validate(comment, -1, NULL));
	vigil_capture_expire(capture, G_MAXINT64 / 2);
	remove_all();
	return 0;
}
