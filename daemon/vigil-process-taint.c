/* vigil-process-taint.c: is a process traced, or started with a library to preload */
#define G_LOG_DOMAIN "vigil-process"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vigil-process-taint.h"

#define STATUS_MAX 8192
#define CHUNK      16384

guint32
vigil_process_taint_tracer_from_status(const char *status_text)
{
	static const char key[] = "\nTracerPid:";
	const char *p;
	guint64 value = 0;

	g_return_val_if_fail(status_text != NULL, 0);
	p = strstr(status_text, key);
	if (p == NULL)
		return 0;
	p += sizeof key - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p >= '0' && *p <= '9'; p++) {
		value = value * 10 + (guint64)(*p - '0');
		if (value > G_MAXUINT32)
			return 0;
	}
	return (*p == '\n' || *p == '\0') ? (guint32)value : 0;
}

/* whether a finished entry (or its first bytes) sets a variable that loads code */
static gboolean
entry_preloads(const char *prefix, guint len)
{
	static const char *const names[] = {"LD_PRELOAD=", "LD_AUDIT="};

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		gsize n = strlen(names[i]);

		/* an empty value loads nothing */
		if (len > n && memcmp(prefix, names[i], n) == 0)
			return TRUE;
	}
	return FALSE;
}

void
vigil_environ_scan_feed(VigilEnvironScan *scan, const char *data, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if (data[i] == '\0') {
			scan->preload |= entry_preloads(scan->prefix, scan->prefix_len);
			scan->prefix_len = 0;
		} else if (scan->prefix_len < sizeof scan->prefix) {
			scan->prefix[scan->prefix_len++] = data[i];
		}
	}
}

gboolean
vigil_environ_scan_finish(VigilEnvironScan *scan)
{
	scan->preload |= entry_preloads(scan->prefix, scan->prefix_len);
	scan->prefix_len = 0;
	return scan->preload;
}

static guint32
read_tracer(int pid_dir)
{
	char text[STATUS_MAX];
	gsize len = 0;
	int fd = openat(pid_dir, "status", O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return 0;
	while (len < sizeof text - 1) {
		ssize_t n = read(fd, text + len, sizeof text - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (gsize)n;
	}
	close(fd);
	text[len] = '\0';
	return vigil_process_taint_tracer_from_status(text);
}

/* the whole environment, in pieces: the variable may come after any amount of padding */
static gboolean
read_preload(int pid_dir)
{
	VigilEnvironScan scan = {0};
	g_autofree char *buf = NULL;
	gsize total = 0;
	int fd = openat(pid_dir, "environ", O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return FALSE;
	buf = g_malloc(CHUNK);
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (gsize)n;
		vigil_environ_scan_feed(&scan, buf, (gsize)n);
		if (total >= VIGIL_TAINT_ENVIRON_MAX) {
			scan.preload = TRUE;
			break;
		}
	}
	close(fd);
	return vigil_environ_scan_finish(&scan);
}

guint
vigil_process_taint_read_traced(int pid_dir, guint32 *tracer_pid)
{
	guint32 tracer = read_tracer(pid_dir);

	if (tracer_pid != NULL)
		*tracer_pid = tracer;
	return tracer != 0 ? VIGIL_TAINT_TRACED : 0;
}

guint
vigil_process_taint_read(int pid_dir, guint32 *tracer_pid)
{
	guint taint = 0;
	guint32 tracer = read_tracer(pid_dir);

	if (tracer != 0)
		taint |= VIGIL_TAINT_TRACED;
	if (read_preload(pid_dir))
		taint |= VIGIL_TAINT_PRELOAD;
	if (tracer_pid != NULL)
		*tracer_pid = tracer;
	return taint;
}
