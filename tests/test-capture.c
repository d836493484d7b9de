/* test-capture.c: the capture files of capture rules: names, modes, both directions, bounds */
#include "config.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil-capture.h"
#include "vigil-pcapng.h"

#define CLIENT "10.0.0.1"
#define SERVER "10.0.0.2"

typedef struct {
	char *root; /* the state directory */
	char *dir;  /* root/captures */
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	f->root = g_dir_make_tmp("test-capture-XXXXXX", NULL);
	g_assert_nonnull(f->root);
	f->dir = g_build_filename(f->root, "captures", NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->root);

	g_assert_cmpint(system(cmd), ==, 0);
	g_free(f->dir);
	g_free(f->root);
}

static VigilFlow
flow_v4(guint16 sport, guint16 dport)
{
	VigilFlow flow = {0};

	flow.family = AF_INET;
	flow.protocol = IPPROTO_TCP;
	g_assert_cmpint(inet_pton(AF_INET, CLIENT, flow.src.bytes), ==, 1);
	g_assert_cmpint(inet_pton(AF_INET, SERVER, flow.dst.bytes), ==, 1);
	flow.sport = sport;
	flow.dport = dport;
	return flow;
}

/* an IPv4 TCP packet of @len bytes from @src:@sport to @dst:@dport, payload @fill */
static guint8 *
tcp_packet(const char *src, guint16 sport, const char *dst, guint16 dport, gsize len, char fill)
{
	guint8 *p = g_malloc0(len);

	g_assert_cmpuint(len, >=, 40);
	p[0] = 0x45;
	p[2] = (guint8)(len >> 8);
	p[3] = (guint8)len;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	g_assert_cmpint(inet_pton(AF_INET, src, p + 12), ==, 1);
	g_assert_cmpint(inet_pton(AF_INET, dst, p + 16), ==, 1);
	p[20] = (guint8)(sport >> 8);
	p[21] = (guint8)sport;
	p[22] = (guint8)(dport >> 8);
	p[23] = (guint8)dport;
	p[32] = 5 << 4; /* data offset: 20 bytes */
	p[33] = 0x18;   /* PSH ACK */
	memset(p + 40, fill, len - 40);
	return p;
}

static void
send_packet(VigilCapture *capture, gboolean reply, gsize len, char fill)
{
	g_autofree guint8 *p = reply ? tcp_packet(SERVER, 80, CLIENT, 40000, len, fill)
	                             : tcp_packet(CLIENT, 40000, SERVER, 80, len, fill);

	vigil_capture_handle_packet(capture, p, len, g_get_real_time());
}

static char *
read_file(Fixture *f, guint64 id, gsize *len)
{
	g_autofree char *path =
	    g_strdup_printf("%s/capture-%06" G_GUINT64_FORMAT ".pcapng", f->dir, id);
	char *data = NULL;

	if (!g_file_get_contents(path, &data, len, NULL))
		return NULL;
	return data;
}

/* the entries of vigil_capture_list(), unreffed by the caller */
static GVariant *
list(VigilCapture *capture)
{
	return g_variant_ref_sink(vigil_capture_list(capture));
}

static void
test_both_directions_own_names(Fixture *f, gconstpointer data)
{
	VigilCaptureLimits limits = {65536, 1 << 20};
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilCapture) capture = vigil_capture_new(f->dir, &limits, &error);
	VigilFlow flow = flow_v4(40000, 80);
	g_autoptr(GVariant) entries = NULL;
	g_autoptr(GVariant) entry = NULL;
	g_autofree char *file = NULL, *comment = NULL;
	const char *description = NULL;
	VigilCaptureStats stats;
	gboolean recording = FALSE;
	struct stat st;
	gsize len = 0;
	guint64 id = 0;

	g_assert_no_error(error);
	g_assert_nonnull(capture);
	g_assert_cmpint(g_stat(f->dir, &st), ==, 0);
	g_assert_cmphex(st.st_mode & 07777, ==, 0700);

	g_assert_true(vigil_capture_expect(capture, &flow, "rule 5: curl"));
	send_packet(capture, FALSE, 100, 'q');
	send_packet(capture, TRUE, 200, 'a');
	/* another flow: not this capture's */
	{
		g_autofree guint8 *p = tcp_packet(CLIENT, 40001, SERVER, 80, 120, 'x');

		vigil_capture_handle_packet(capture, p, 120, g_get_real_time());
	}
	vigil_capture_get_stats(capture, &stats);
	g_assert_cmpuint(stats.flows, ==, 1);
	g_assert_cmpuint(stats.packets, ==, 2);
	g_assert_cmpuint(stats.unexpected, ==, 1);

	file = read_file(f, 1, &len);
	g_assert_nonnull(file);
	g_assert_nonnull(memmem(file, len, "qqqqqqqq", 8));
	g_assert_nonnull(memmem(file, len, "aaaaaaaa", 8));
	g_assert_null(memmem(file, len, "xxxxxxxx", 8));
	comment = vigil_pcapng_read_comment((const guint8 *)file, len);
	g_assert_cmpstr(comment, ==, "rule 5: curl");
	{
		g_autofree char *path = g_build_filename(f->dir, "capture-000001.pcapng", NULL);

		g_assert_cmpint(g_stat(path, &st), ==, 0);
		g_assert_cmphex(st.st_mode & 07777, ==, 0600);
		g_assert_cmpuint(st.st_size, ==, len);
	}

	entries = list(capture);
	g_assert_cmpuint(g_variant_n_children(entries), ==, 1);
	entry = g_variant_get_child_value(entries, 0);
	g_assert_true(g_variant_lookup(entry, "id", "t", &id));
	g_assert_cmpuint(id, ==, 1);
	g_assert_true(g_variant_lookup(entry, "recording", "b", &recording));
	g_assert_true(recording);
	g_assert_true(g_variant_lookup(entry, "description", "&s", &description));
	g_assert_cmpstr(description, ==, "rule 5: curl");

	/* idle long enough: the recording ends, the file stays */
	vigil_capture_expire(capture, g_get_monotonic_time() + VIGIL_CAPTURE_IDLE_US);
	g_clear_pointer(&entry, g_variant_unref);
	g_clear_pointer(&entries, g_variant_unref);
	entries = list(capture);
	entry = g_variant_get_child_value(entries, 0);
	g_assert_true(g_variant_lookup(entry, "recording", "b", &recording));
	g_assert_false(recording);
}

static void
test_flow_bound(Fixture *f, gconstpointer data)
{
	VigilCaptureLimits limits = {1000, 1 << 20};
	g_autoptr(VigilCapture) capture = vigil_capture_new(f->dir, &limits, NULL);
	VigilFlow flow = flow_v4(40000, 80);
	VigilCaptureStats stats;

	g_assert_true(vigil_capture_expect(capture, &flow, NULL));
	for (int i = 0; i < 5; i++)
		send_packet(capture, i % 2, 400, 'b');
	/* 2 x 400 fit in 1000 bytes; the third ends the recording, the rest are no one's */
	vigil_capture_get_stats(capture, &stats);
	g_assert_cmpuint(stats.packets, ==, 2);
	g_assert_cmpuint(stats.unexpected, ==, 2);
}

static guint64
files_size(Fixture *f)
{
	g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
	const char *name;
	guint64 total = 0;

	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(f->dir, name, NULL);
		struct stat st;

		g_assert_cmpint(g_stat(path, &st), ==, 0);
		total += (guint64)st.st_size;
	}
	return total;
}

static void
test_total_bound_and_remove(Fixture *f, gconstpointer data)
{
	VigilCaptureLimits limits = {1 << 20, 4096};
	g_autoptr(VigilCapture) capture = vigil_capture_new(f->dir, &limits, NULL);
	VigilFlow flow = flow_v4(40000, 80);
	g_autoptr(GError) error = NULL;
	VigilCaptureStats stats;

	g_assert_true(vigil_capture_expect(capture, &flow, "first"));
	g_test_expect_message("vigil-capture", G_LOG_LEVEL_WARNING, "packet capture stopped*");
	for (int i = 0; i < 40; i++)
		send_packet(capture, i % 2, 500, 'c');
	g_test_assert_expected_messages();
	g_assert_cmpuint(files_size(f), <=, 4096);
	/* stopped: a new capture flow is allowed but not recorded, and nothing is logged again */
	g_assert_false(vigil_capture_expect(capture, &flow, "second"));
	vigil_capture_get_stats(capture, &stats);
	g_assert_cmpuint(stats.refused, ==, 1);
	g_assert_cmpuint(stats.packets, <, 40);

	/* removing makes room: capture goes on */
	g_assert_true(vigil_capture_remove(capture, 1, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(files_size(f), ==, 0);
	g_assert_true(vigil_capture_expect(capture, &flow, "third"));
	g_assert_false(vigil_capture_remove(capture, 1, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* the files of an earlier run fill the total: capture is stopped from the start, and says so */
static void
test_full_at_start(Fixture *f, gconstpointer data)
{
	VigilCaptureLimits limits = {1 << 20, 100};
	g_autoptr(GByteArray) header = g_byte_array_new();
	g_autoptr(VigilCapture) capture = NULL;
	g_autofree char *path = g_build_filename(f->dir, "capture-000001.pcapng", NULL);
	VigilFlow flow = flow_v4(40000, 80);

	g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
	vigil_pcapng_append_header(header, "an old capture of more than 100 bytes", 65535);
	g_assert_true(g_file_set_contents(path, (const char *)header->data, header->len, NULL));
	g_test_expect_message("vigil-capture", G_LOG_LEVEL_WARNING, "packet capture stopped*");
	capture = vigil_capture_new(f->dir, &limits, NULL);
	g_test_assert_expected_messages();
	g_assert_false(vigil_capture_expect(capture, &flow, NULL));
	g_assert_true(vigil_capture_remove(capture, 1, NULL));
	g_assert_true(vigil_capture_expect(capture, &flow, NULL));
}

/* files from before count against the total and keep their ids; other names are not ours */
static void
test_existing_files(Fixture *f, gconstpointer data)
{
	VigilCaptureLimits limits = {1 << 20, 1 << 20};
	g_autoptr(GByteArray) header = g_byte_array_new();
	g_autoptr(VigilCapture) capture = NULL;
	g_autoptr(GVariant) entries = NULL;
	g_autoptr(GError) error = NULL;
	VigilFlow flow = flow_v4(40000, 80);
	const char *foreign[] = {"capture-7.pcapng", "notes.txt", "capture-000009.pcapng.bak"};

	g_assert_cmpint(g_mkdir(f->dir, 0755), ==, 0);
	vigil_pcapng_append_header(header, "old", 65535);
	{
		g_autofree char *path = g_build_filename(f->dir, "capture-000007.pcapng", NULL);

		g_assert_true(
		    g_file_set_contents(path, (const char *)header->data, header->len, NULL));
	}
	for (gsize i = 0; i < G_N_ELEMENTS(foreign); i++) {
		g_autofree char *path = g_build_filename(f->dir, foreign[i], NULL);

		g_assert_true(g_file_set_contents(path, "x", 1, NULL));
	}
	capture = vigil_capture_new(f->dir, &limits, &error);
	g_assert_no_error(error);
	/* the directory is made root-only again */
	{
		struct stat st;

		g_assert_cmpint(g_stat(f->dir, &st), ==, 0);
		g_assert_cmphex(st.st_mode & 07777, ==, 0700);
	}
	entries = list(capture);
	g_assert_cmpuint(g_variant_n_children(entries), ==, 1);
	g_assert_true(vigil_capture_expect(capture, &flow, NULL));
	{
		g_autofree char *path = g_build_filename(f->dir, "capture-000008.pcapng", NULL);

		g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	}
	g_assert_false(vigil_capture_remove(capture, 9, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	{
		g_autofree char *path = g_build_filename(f->dir, "capture-000009.pcapng.bak", NULL);

		g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	}
}

/* CaptureTotalSize=0: capture is off, said once */
static void
test_off(Fixture *f, gconstpointer data)
{
	VigilCaptureLimits limits = {1 << 20, 0};
	g_autoptr(VigilCapture) capture = vigil_capture_new(f->dir, &limits, NULL);
	VigilFlow flow = flow_v4(40000, 80);

	g_test_expect_message("vigil-capture", G_LOG_LEVEL_WARNING, "*CaptureTotalSize=0*");
	g_assert_false(vigil_capture_expect(capture, &flow, NULL));
	g_assert_false(vigil_capture_expect(capture, &flow, NULL));
	g_test_assert_expected_messages();
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
	ADD("/capture/both-directions-own-names", test_both_directions_own_names);
	ADD("/capture/flow-bound", test_flow_bound);
	ADD("/capture/total-bound-and-remove", test_total_bound_and_remove);
	ADD("/capture/existing-files", test_existing_files);
	ADD("/capture/full-at-start", test_full_at_start);
	ADD("/capture/off", test_off);
	return g_test_run();
}
