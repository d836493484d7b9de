/* vigil-capture.c: the packets of capture-rule flows, from NFLOG copies into pcapng files */
#define G_LOG_DOMAIN "vigil-capture"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil-capture.h"
#include "vigil-nflog.h"
#include "vigil-packet.h"
#include "vigil-pcapng.h"

#define FILE_PREFIX "capture-"
#define FILE_SUFFIX ".pcapng"
/* the start of a file read for its comment */
#define HEADER_READ_BYTES (VIGIL_PCAPNG_MAX_COMMENT + 256)

/* a flow in one orientation: the side that opened it first */
typedef struct {
	guint8 family;
	guint8 protocol;
	guint16 port_a;
	guint16 port_b;
	VigilAddress a;
	VigilAddress b;
} FlowKey;

typedef struct {
	FlowKey key;
	guint64 id;
	int fd;
	guint64 bytes; /* IP bytes of the packets written (what conntrack counts) */
	gint64 last_us;
} Recording;

struct _VigilCapture {
	VigilCaptureLimits limits;
	char *dir;
	int dir_fd;
	guint64 next_id;
	guint64 used;           /* bytes of all capture files */
	guint n_files;          /* capture files in the directory */
	GHashTable *recordings; /* FlowKey -> Recording (owned) */
	VigilNflogReader *reader;
	VigilCaptureStats stats;
	gboolean stopped;      /* the total is reached: nothing is recorded until files go */
	gboolean warned_flows; /* VIGIL_CAPTURE_MAX_FLOWS reached, logged */
	gboolean warned_files; /* VIGIL_CAPTURE_MAX_FILES reached, logged */
	gboolean warned_off;   /* CaptureTotalSize=0, logged */
};

/* compared and hashed as bytes: no padding, and every key is zeroed before it is filled */
G_STATIC_ASSERT(sizeof(FlowKey) == 6 + 2 * sizeof(VigilAddress));
VIGIL_DEFINE_BYTES_KEY(flow_key, FlowKey)

/* @flow's key as sent (@reverse FALSE) or as its replies come (TRUE) */
static void
flow_key_init(FlowKey *key, const VigilFlow *flow, gboolean reverse)
{
	guint16 sport = flow->sport, dport = flow->dport;

	memset(key, 0, sizeof(*key));
	key->family = (guint8)flow->family;
	key->protocol = flow->protocol;
	/* an echo and its reply share the identifier */
	if (flow->protocol == IPPROTO_ICMP || flow->protocol == IPPROTO_ICMPV6)
		sport = dport = flow->icmp_id;
	key->port_a = reverse ? dport : sport;
	key->port_b = reverse ? sport : dport;
	key->a = reverse ? flow->dst : flow->src;
	key->b = reverse ? flow->src : flow->dst;
}

static char *
file_name(guint64 id)
{
	return g_strdup_printf(FILE_PREFIX "%06" G_GUINT64_FORMAT FILE_SUFFIX, id);
}

/* the id of a file name vigild made, or 0 for any other name */
static guint64
file_id(const char *name)
{
	g_autofree char *canonical = NULL;
	guint64 id = 0;
	const char *digits;

	if (!g_str_has_prefix(name, FILE_PREFIX) || !g_str_has_suffix(name, FILE_SUFFIX))
		return 0;
	digits = name + strlen(FILE_PREFIX);
	if (!g_ascii_isdigit(*digits))
		return 0;
	id = g_ascii_strtoull(digits, NULL, 10);
	canonical = file_name(id);
	return g_str_equal(canonical, name) ? id : 0;
}

static void
recording_close(Recording *rec)
{
	if (rec->fd >= 0)
		close(rec->fd);
	g_free(rec);
}

/* --- the directory ---------------------------------------------------------------------- */

typedef void (*FileFunc)(guint64 id, const struct stat *st, gpointer user_data);

/* calls @func for each capture file (regular, named by vigild) in the directory */
static void
for_each_file(VigilCapture *capture, FileFunc func, gpointer user_data)
{
	int fd = dup(capture->dir_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		g_warning("cannot list %s: %s", capture->dir, g_strerror(errno));
		return;
	}
	rewinddir(dir);
	while ((entry = readdir(dir)) != NULL) {
		guint64 id = file_id(entry->d_name);
		struct stat st;

		if (id == 0 ||
		    fstatat(capture->dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		func(id, &st, user_data);
	}
	closedir(dir);
}

static void
count_file(guint64 id, const struct stat *st, gpointer data)
{
	VigilCapture *capture = data;

	capture->used += (guint64)st->st_size;
	capture->n_files++;
	capture->next_id = MAX(capture->next_id, id + 1);
}

static void stop_all(VigilCapture *capture);

static gboolean
open_dir(VigilCapture *capture, GError **error)
{
	struct stat st;

	if (mkdir(capture->dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	capture->dir_fd = open(capture->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (capture->dir_fd < 0 || fstat(capture->dir_fd, &st) < 0)
		goto fail;
	/* vigild's own: nobody else may add, swap or read what it writes there */
	if (st.st_uid != geteuid()) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
		            "%s: owned by uid %u, not by vigild", capture->dir, (guint)st.st_uid);
		return FALSE;
	}
	if ((st.st_mode & 07777) != 0700 && fchmod(capture->dir_fd, 0700) < 0)
		goto fail;
	return TRUE;
fail:
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", capture->dir,
	            g_strerror(errno));
	return FALSE;
}

VigilCapture *
vigil_capture_new(const char *dir, const VigilCaptureLimits *limits, GError **error)
{
	g_autoptr(VigilCapture) capture = g_new0(VigilCapture, 1);

	capture->limits = *limits;
	capture->dir = g_strdup(dir);
	capture->dir_fd = -1;
	capture->next_id = 1;
	capture->recordings = g_hash_table_new_full(flow_key_hash, flow_key_equal, NULL,
	                                            (GDestroyNotify)recording_close);
	if (!open_dir(capture, error))
		return NULL;
	for_each_file(capture, count_file, capture);
	/* the files of earlier runs may fill the total already: said at start, once */
	if (capture->limits.total_bytes > 0 && capture->used >= capture->limits.total_bytes)
		stop_all(capture);
	return g_steal_pointer(&capture);
}

void
vigil_capture_free(VigilCapture *capture)
{
	if (capture == NULL)
		return;
	g_clear_pointer(&capture->reader, vigil_nflog_reader_free);
	g_hash_table_unref(capture->recordings);
	if (capture->dir_fd >= 0)
		close(capture->dir_fd);
	g_free(capture->dir);
	g_free(capture);
}

/* --- recording -------------------------------------------------------------------------- */

static void
on_copy(const VigilNflogPacket *packet, gpointer data)
{
	vigil_capture_handle_packet(data, packet->payload, packet->len, g_get_real_time());
}

gboolean
vigil_capture_start(VigilCapture *capture, GError **error)
{
	capture->reader = vigil_nflog_reader_new(VIGIL_CAPTURE_NFLOG_GROUP, VIGIL_CAPTURE_SNAPLEN,
	                                         on_copy, capture, error);
	return capture->reader != NULL;
}

/* the total is reached: every recording ends, and none starts until files are removed */
static void
stop_all(VigilCapture *capture)
{
	if (!capture->stopped)
		g_warning("packet capture stopped: the capture files in %s take %" G_GUINT64_FORMAT
		          " bytes, CaptureTotalSize is %" G_GUINT64_FORMAT
		          " (vigilctl capture rm makes room)",
		          capture->dir, capture->used, capture->limits.total_bytes);
	capture->stopped = TRUE;
	g_hash_table_remove_all(capture->recordings);
}

static gboolean
write_all(int fd, const guint8 *data, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* appends @bytes to @rec's file, counted against the total; FALSE ends the recording */
static gboolean
append(VigilCapture *capture, Recording *rec, GByteArray *bytes)
{
	if (capture->used + bytes->len > capture->limits.total_bytes) {
		stop_all(capture);
		return FALSE;
	}
	if (!write_all(rec->fd, bytes->data, bytes->len)) {
		g_warning("capture %" G_GUINT64_FORMAT
		          ": cannot write to %s: %s; its recording ends",
		          rec->id, capture->dir, g_strerror(errno));
		capture->stats.refused++;
		g_hash_table_remove(capture->recordings, &rec->key);
		return FALSE;
	}
	capture->used += bytes->len;
	return TRUE;
}

static gboolean
can_start(VigilCapture *capture)
{
	if (capture->limits.total_bytes == 0) {
		if (!capture->warned_off)
			g_warning(
			    "a capture rule matched, but CaptureTotalSize=0 turns capture off");
		capture->warned_off = TRUE;
		return FALSE;
	}
	if (capture->stopped)
		return FALSE;
	if (g_hash_table_size(capture->recordings) >= VIGIL_CAPTURE_MAX_FLOWS) {
		if (!capture->warned_flows)
			g_warning("%u flows are being recorded: more capture flows are allowed but "
			          "not recorded until some end",
			          VIGIL_CAPTURE_MAX_FLOWS);
		capture->warned_flows = TRUE;
		return FALSE;
	}
	capture->warned_flows = FALSE;
	if (capture->n_files >= VIGIL_CAPTURE_MAX_FILES) {
		if (!capture->warned_files)
			g_warning("%u capture files in %s: no new capture until some are removed "
			          "(vigilctl capture rm)",
			          VIGIL_CAPTURE_MAX_FILES, capture->dir);
		capture->warned_files = TRUE;
		return FALSE;
	}
	capture->warned_files = FALSE;
	return TRUE;
}

gboolean
vigil_capture_expect(VigilCapture *capture, const VigilFlow *flow, const char *description)
{
	g_autoptr(GByteArray) header = g_byte_array_new();
	g_autofree char *name = NULL;
	Recording *rec;

	if (!can_start(capture)) {
		capture->stats.refused++;
		return FALSE;
	}
	rec = g_new0(Recording, 1);
	flow_key_init(&rec->key, flow, FALSE);
	rec->id = capture->next_id++;
	rec->last_us = g_get_monotonic_time();
	name = file_name(rec->id);
	rec->fd = openat(capture->dir_fd, name,
	                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0600);
	if (rec->fd < 0) {
		g_warning("cannot create %s/%s: %s", capture->dir, name, g_strerror(errno));
		capture->stats.refused++;
		recording_close(rec);
		return FALSE;
	}
	capture->n_files++;
	/* the same flow again (a port used anew): the earlier recording is complete */
	g_hash_table_replace(capture->recordings, &rec->key, rec);
	vigil_pcapng_append_header(header, description, VIGIL_CAPTURE_SNAPLEN);
	if (!append(capture, rec, header))
		return FALSE;
	capture->stats.flows++;
	g_debug("capture %" G_GUINT64_FORMAT ": %s", rec->id, description);
	return TRUE;
}

/* the length the packet had, from its IP header (a copy may be cut short) */
static gsize
original_length(const guint8 *data, gsize len)
{
	gsize claimed = 0;

	if (len >= 20 && (data[0] >> 4) == 4)
		claimed = ((gsize)data[2] << 8) | data[3];
	else if (len >= 40 && (data[0] >> 4) == 6)
		claimed = 40 + (((gsize)data[4] << 8) | data[5]);
	return MAX(claimed, len);
}

void
vigil_capture_handle_packet(VigilCapture *capture, const guint8 *data, gsize len, gint64 time_us)
{
	g_autoptr(GByteArray) block = NULL;
	gsize original = original_length(data, len);
	VigilFlow flow;
	FlowKey key;
	Recording *rec;

	if (!vigil_packet_parse_captured(data, len, original, &flow, NULL)) {
		capture->stats.unexpected++;
		return;
	}
	flow_key_init(&key, &flow, FALSE);
	rec = g_hash_table_lookup(capture->recordings, &key);
	if (rec == NULL) {
		flow_key_init(&key, &flow, TRUE);
		rec = g_hash_table_lookup(capture->recordings, &key);
	}
	if (rec == NULL) {
		capture->stats.unexpected++;
		return;
	}
	/* the kernel stops copying at CaptureFlowSize too; this holds where copies raced it */
	if (rec->bytes + original > capture->limits.flow_bytes) {
		g_debug("capture %" G_GUINT64_FORMAT ": CaptureFlowSize reached", rec->id);
		g_hash_table_remove(capture->recordings, &rec->key);
		return;
	}
	rec->last_us = g_get_monotonic_time();
	block = g_byte_array_sized_new((guint)vigil_pcapng_packet_size(len));
	vigil_pcapng_append_packet(block, time_us, data, len, original);
	if (!append(capture, rec, block))
		return;
	rec->bytes += original;
	capture->stats.packets++;
}

void
vigil_capture_expire(VigilCapture *capture, gint64 now_us)
{
	GHashTableIter iter;
	Recording *rec;

	g_hash_table_iter_init(&iter, capture->recordings);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&rec)) {
		if (now_us - rec->last_us >= VIGIL_CAPTURE_IDLE_US)
			g_hash_table_iter_remove(&iter);
	}
}

/* --- listing and removing --------------------------------------------------------------- */

typedef struct {
	VigilCapture *capture;
	GArray *ids;         /* sorted afterwards */
	GHashTable *entries; /* id -> GVariant a{sv} */
} ListContext;

static gboolean
is_recording(VigilCapture *capture, guint64 id)
{
	GHashTableIter iter;
	Recording *rec;

	g_hash_table_iter_init(&iter, capture->recordings);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&rec)) {
		if (rec->id == id)
			return TRUE;
	}
	return FALSE;
}

static char *
read_comment(VigilCapture *capture, guint64 id)
{
	g_autofree char *name = file_name(id);
	guint8 buf[HEADER_READ_BYTES];
	int fd = openat(capture->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	return n > 0 ? vigil_pcapng_read_comment(buf, (gsize)n) : NULL;
}

static void
list_file(guint64 id, const struct stat *st, gpointer data)
{
	ListContext *ctx = data;
	g_autofree char *comment = read_comment(ctx->capture, id);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "id", g_variant_new_uint64(id));
	g_variant_builder_add(&b, "{sv}", "size", g_variant_new_uint64((guint64)st->st_size));
	g_variant_builder_add(&b, "{sv}", "time", g_variant_new_int64(st->st_mtime));
	g_variant_builder_add(&b, "{sv}", "recording",
	                      g_variant_new_boolean(is_recording(ctx->capture, id)));
	g_variant_builder_add(&b, "{sv}", "description",
	                      g_variant_new_string(comment != NULL ? comment : ""));
	g_array_append_val(ctx->ids, id);
	g_hash_table_insert(ctx->entries, g_memdup2(&id, sizeof(id)),
	                    g_variant_ref_sink(g_variant_builder_end(&b)));
}

static gint
compare_ids(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

GVariant *
vigil_capture_list(VigilCapture *capture)
{
	ListContext ctx = {capture, g_array_new(FALSE, FALSE, sizeof(guint64)),
	                   g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
	                                         (GDestroyNotify)g_variant_unref)};
	GVariantBuilder b;

	for_each_file(capture, list_file, &ctx);
	g_array_sort(ctx.ids, compare_ids);
	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < ctx.ids->len; i++)
		g_variant_builder_add_value(
		    &b, g_hash_table_lookup(ctx.entries, &g_array_index(ctx.ids, guint64, i)));
	g_array_unref(ctx.ids);
	g_hash_table_unref(ctx.entries);
	return g_variant_builder_end(&b);
}

gboolean
vigil_capture_remove(VigilCapture *capture, guint64 id, GError **error)
{
	g_autofree char *name = file_name(id);
	GHashTableIter iter;
	Recording *rec;
	struct stat st;

	if (id == 0 || fstatat(capture->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		            "no capture %" G_GUINT64_FORMAT, id);
		return FALSE;
	}
	g_hash_table_iter_init(&iter, capture->recordings);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&rec)) {
		if (rec->id == id)
			g_hash_table_iter_remove(&iter);
	}
	if (unlinkat(capture->dir_fd, name, 0) < 0) {
		int saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "%s/%s: %s",
		            capture->dir, name, g_strerror(saved));
		return FALSE;
	}
	capture->used -= MIN(capture->used, (guint64)st.st_size);
	capture->n_files -= MIN(capture->n_files, 1);
	if (capture->stopped && capture->used < capture->limits.total_bytes) {
		capture->stopped = FALSE;
		g_info("packet capture resumed: the capture files take %" G_GUINT64_FORMAT " bytes",
		       capture->used);
	}
	g_info("capture %" G_GUINT64_FORMAT " removed", id);
	return TRUE;
}

void
vigil_capture_get_stats(VigilCapture *capture, VigilCaptureStats *stats)
{
	*stats = capture->stats;
}
