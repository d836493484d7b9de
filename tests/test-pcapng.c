/* test-pcapng.c: the pcapng writer's blocks, read back field by field, and by tcpdump */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "vigil-pcapng.h"

static guint32
u32_at(GByteArray *out, gsize pos)
{
	guint32 value;

	g_assert_cmpuint(pos + 4, <=, out->len);
	memcpy(&value, out->data + pos, sizeof(value));
	return value;
}

/* walks the blocks: each starts and ends with its length, a multiple of 4; returns them */
static GArray *
block_offsets(GByteArray *out)
{
	GArray *offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
	gsize pos = 0;

	while (pos < out->len) {
		guint32 len = u32_at(out, pos + 4);

		g_assert_cmpuint(len % 4, ==, 0);
		g_assert_cmpuint(len, >=, 12);
		g_assert_cmpuint(u32_at(out, pos + len - 4), ==, len);
		g_array_append_val(offsets, pos);
		pos += len;
	}
	g_assert_cmpuint(pos, ==, out->len);
	return offsets;
}

/* an IPv4 UDP packet of @len bytes, from 10.0.0.1 to 10.0.0.2 port 9 */
static guint8 *
make_packet(gsize len)
{
	guint8 *p = g_malloc0(len);

	p[0] = 0x45;
	p[2] = (guint8)(len >> 8);
	p[3] = (guint8)len;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, (guint8[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
	p[20] = 0x30;
	p[21] = 0x39;
	p[23] = 9;
	p[24] = (guint8)((len - 20) >> 8);
	p[25] = (guint8)(len - 20);
	for (gsize i = 28; i < len; i++)
		p[i] = (guint8)('a' + i % 26);
	return p;
}

static void
test_blocks(void)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GArray) offsets = NULL;
	g_autofree guint8 *packet = make_packet(61);
	g_autofree char *comment = NULL;
	gsize n, epb;

	vigil_pcapng_append_header(out, "rule 7: tcp 10.0.0.1:1 -> 10.0.0.2:80", 65535);
	n = vigil_pcapng_append_packet(out, G_GINT64_CONSTANT(1796000000123456), packet, 61, 61);
	g_assert_cmpuint(n, ==, vigil_pcapng_packet_size(61));
	/* a copy cut short: the original length stays */
	vigil_pcapng_append_packet(out, 1, packet, 40, 1500);

	offsets = block_offsets(out);
	g_assert_cmpuint(offsets->len, ==, 4);
	g_assert_cmphex(u32_at(out, 0), ==, VIGIL_PCAPNG_SHB);
	g_assert_cmphex(u32_at(out, 8), ==, VIGIL_PCAPNG_BYTE_ORDER_MAGIC);
	/* IDB: link type RAW, snaplen */
	g_assert_cmphex(u32_at(out, g_array_index(offsets, gsize, 1)), ==, VIGIL_PCAPNG_IDB);
	g_assert_cmpuint(u32_at(out, g_array_index(offsets, gsize, 1) + 8) & 0xffff, ==,
	                 VIGIL_PCAPNG_LINKTYPE_RAW);
	g_assert_cmpuint(u32_at(out, g_array_index(offsets, gsize, 1) + 12), ==, 65535);
	/* EPB: interface 0, the timestamp in two halves, lengths, the bytes themselves */
	epb = g_array_index(offsets, gsize, 2);
	g_assert_cmphex(u32_at(out, epb), ==, VIGIL_PCAPNG_EPB);
	g_assert_cmpuint(u32_at(out, epb + 8), ==, 0);
	g_assert_cmpuint(((guint64)u32_at(out, epb + 12) << 32) | u32_at(out, epb + 16), ==,
	                 G_GUINT64_CONSTANT(1796000000123456));
	g_assert_cmpuint(u32_at(out, epb + 20), ==, 61);
	g_assert_cmpuint(u32_at(out, epb + 24), ==, 61);
	g_assert_cmpmem(out->data + epb + 28, 61, packet, 61);
	epb = g_array_index(offsets, gsize, 3);
	g_assert_cmpuint(u32_at(out, epb + 20), ==, 40);
	g_assert_cmpuint(u32_at(out, epb + 24), ==, 1500);

	comment = vigil_pcapng_read_comment(out->data, out->len);
	g_assert_cmpstr(comment, ==, "rule 7: tcp 10.0.0.1:1 -> 10.0.0.2:80");
}

static void
test_comment_bounds(void)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GString) long_comment = g_string_new(NULL);
	g_autofree char *read = NULL;

	/* 2-byte characters across the cut: it falls between two of them */
	for (int i = 0; i < VIGIL_PCAPNG_MAX_COMMENT; i++)
		g_string_append(long_comment, "é");
	vigil_pcapng_append_header(out, long_comment->str, 65535);
	g_array_unref(block_offsets(out));
	read = vigil_pcapng_read_comment(out->data, out->len);
	g_assert_nonnull(read);
	g_assert_true(g_utf8_validate(read, -1, NULL));
	g_assert_cmpuint(strlen(read), ==, VIGIL_PCAPNG_MAX_COMMENT);

	/* no comment: none written */
	g_byte_array_set_size(out, 0);
	vigil_pcapng_append_header(out, NULL, 100);
	g_array_unref(block_offsets(out));
	g_assert_null(vigil_pcapng_read_comment(out->data, out->len));
	/* a program path that is not UTF-8 does not hide the rest: its bad bytes are replaced */
	g_byte_array_set_size(out, 0);
	vigil_pcapng_append_header(out, "rule 7: uid 1000 /tmp/\xff\xfe 10.0.0.2:80", 100);
	g_clear_pointer(&read, g_free);
	read = vigil_pcapng_read_comment(out->data, out->len);
	g_assert_cmpstr(read, ==, "rule 7: uid 1000 /tmp/\xef\xbf\xbd\xef\xbf\xbd 10.0.0.2:80");
}

/* every prefix and a few corruptions of a header: no comment or the comment, never a crash */
static void
test_read_comment_untrusted(void)
{
	g_autoptr(GByteArray) out = g_byte_array_new();

	vigil_pcapng_append_header(out, "abc", 65535);
	for (gsize len = 0; len < out->len; len++) {
		g_autofree guint8 *copy = g_memdup2(out->data, len);
		g_autofree char *comment = vigil_pcapng_read_comment(copy, len);

		g_assert_true(comment == NULL || g_str_equal(comment, "abc"));
	}
	for (gsize pos = 0; pos < 40; pos++) {
		g_autoptr(GByteArray) bad = g_byte_array_new();
		g_autofree char *comment = NULL;

		g_byte_array_append(bad, out->data, out->len);
		bad->data[pos] ^= 0xff;
		comment = vigil_pcapng_read_comment(bad->data, bad->len);
		g_assert_true(comment == NULL || g_utf8_validate(comment, -1, NULL));
	}
}

/* the file a real reader opens: tcpdump prints each packet with its addresses */
static void
test_tcpdump_reads(void)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autofree guint8 *packet = make_packet(100);
	g_autofree char *dir = g_dir_make_tmp("test-pcapng-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "t.pcapng", NULL);
	g_autofree char *tcpdump = g_find_program_in_path("tcpdump");
	g_autofree char *text = NULL, *errors = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) lines = NULL;
	int status = 0;

	if (tcpdump == NULL) {
		/* tools/test.sh installs it: in CI a missing reader is a failure, not a skip */
		if (g_getenv("CI") != NULL && g_str_equal(g_getenv("CI"), "true"))
			g_test_fail_printf("tcpdump is not installed");
		else
			g_test_skip("tcpdump is not installed");
		return;
	}
	vigil_pcapng_append_header(out, "a test", 65535);
	for (int i = 0; i < 3; i++)
		vigil_pcapng_append_packet(out, g_get_real_time(), packet, 100, 100);
	g_assert_true(g_file_set_contents(path, (const char *)out->data, out->len, &error));
	g_assert_no_error(error);
	{
		const char *argv[] = {tcpdump, "-nn", "-r", path, NULL};
		g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &text, &errors,
		             &status, &error);
	}
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_assert_nonnull(strstr(text, "10.0.0.1.12345 > 10.0.0.2.9: UDP, length 72"));
	lines = g_strsplit(g_strstrip(text), "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_unlink(path);
	g_rmdir(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pcapng/blocks", test_blocks);
	g_test_add_func("/pcapng/comment-bounds", test_comment_bounds);
	g_test_add_func("/pcapng/read-comment-untrusted", test_read_comment_untrusted);
	g_test_add_func("/pcapng/tcpdump-reads", test_tcpdump_reads);
	return g_test_run();
}
