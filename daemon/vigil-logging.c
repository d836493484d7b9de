/* vigil-logging.c: where vigild's log lines go: stderr in batches, the journal, or syslog */
#define G_LOG_DOMAIN "vigild"
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vigil-logging.h"

/* in the foreground, decision and debug lines are written in batches this often */
#define LOG_FLUSH_MS     25
#define LOG_BUFFER_LIMIT (64 * 1024)

static GLogLevelFlags max_log_level = G_LOG_LEVEL_INFO;
static gboolean log_to_stderr;

/*
 * One write() per decision costs about as much as deciding: in the foreground, info and
 * debug lines gather here and go out together, LOG_FLUSH_MS after the first of them, at
 * exit, or before any more important line (which goes out at once, in order).
 */
static GMutex log_lock;
static GString *log_buffer; /* guarded by log_lock */
static gint64 log_due;      /* monotonic time of the next flush, while log_buffer has lines */
static GThread *log_thread; /* the main loop's: its lines need no wakeup */
static GMainContext *log_context;

static void
log_write_all(const char *text, gsize len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		/* nowhere to report a broken stderr to */
		if (n <= 0)
			return;
		text += n;
		len -= (gsize)n;
	}
}

static void
log_flush_locked(void)
{
	if (log_buffer == NULL || log_buffer->len == 0)
		return;
	log_write_all(log_buffer->str, log_buffer->len);
	g_string_truncate(log_buffer, 0);
}

static void
log_flush(void)
{
	g_mutex_lock(&log_lock);
	log_flush_locked();
	g_mutex_unlock(&log_lock);
}

/* >0: ms until the buffered lines are due, 0: due now, -1: nothing buffered */
static gint
log_flush_timeout(void)
{
	gint timeout = -1;

	g_mutex_lock(&log_lock);
	if (log_buffer != NULL && log_buffer->len > 0) {
		gint64 left = log_due - g_get_monotonic_time();

		timeout = left <= 0 ? 0 : (gint)((left + 999) / 1000);
	}
	g_mutex_unlock(&log_lock);
	return timeout;
}

static gboolean
log_source_prepare(GSource *source, gint *timeout)
{
	*timeout = log_flush_timeout();
	return *timeout == 0;
}

static gboolean
log_source_check(GSource *source)
{
	return log_flush_timeout() == 0;
}

static gboolean
log_source_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
	log_flush();
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs log_source_funcs = {
    log_source_prepare, log_source_check, log_source_dispatch, NULL, NULL, NULL,
};

/* a source that flushes the buffer when it is due, and sleeps while it is empty */
static void
log_start_batching(void)
{
	GSource *source = g_source_new(&log_source_funcs, sizeof(GSource));

	g_source_set_name(source, "vigild log flush");
	log_context = g_main_context_default();
	log_thread = g_thread_self();
	g_source_attach(source, log_context);
	g_source_unref(source);
	g_mutex_lock(&log_lock);
	log_buffer = g_string_sized_new(4096);
	g_mutex_unlock(&log_lock);
	atexit(log_flush);
}

static void
log_to_stderr_line(GLogLevelFlags level, const char *domain, const char *message)
{
	struct timespec now;
	struct tm tm;
	gboolean batch = (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) != 0;
	gboolean wake = FALSE;

	/* localtime_r, unlike GDateTime's local time zone, asks nothing of the file system */
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	g_mutex_lock(&log_lock);
	if (log_buffer == NULL) {
		/* before the main loop: as it comes */
		g_autofree char *line =
		    g_strdup_printf("%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min,
		                    tm.tm_sec, now.tv_nsec / 1000000, domain, message);
		log_write_all(line, strlen(line));
		g_mutex_unlock(&log_lock);
		return;
	}
	if (log_buffer->len == 0) {
		log_due = g_get_monotonic_time() + LOG_FLUSH_MS * 1000;
		/* the main loop may sleep without a timeout: tell it there is something to do */
		wake = g_thread_self() != log_thread;
	}
	g_string_append_printf(log_buffer, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min,
	                       tm.tm_sec, now.tv_nsec / 1000000, domain, message);
	if (!batch || log_buffer->len >= LOG_BUFFER_LIMIT)
		log_flush_locked();
	g_mutex_unlock(&log_lock);
	if (wake && batch)
		g_main_context_wakeup(log_context);
}

static gboolean
level_enabled(GLogLevelFlags level)
{
	/* GLib's levels grow more verbose as the flag value grows */
	return (level & G_LOG_LEVEL_MASK) <= max_log_level;
}

static int
syslog_priority(GLogLevelFlags level)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		return LOG_ERR;
	if (level & G_LOG_LEVEL_WARNING)
		return LOG_WARNING;
	if (level & G_LOG_LEVEL_MESSAGE)
		return LOG_NOTICE;
	if (level & G_LOG_LEVEL_INFO)
		return LOG_INFO;
	return LOG_DEBUG;
}

static const char *
find_field(const GLogField *fields, gsize n_fields, const char *key)
{
	for (gsize i = 0; i < n_fields; i++)
		if (g_str_equal(fields[i].key, key))
			return fields[i].value;
	return NULL;
}

static gboolean
has_control(const char *text)
{
	for (const guchar *p = (const guchar *)text; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return TRUE;
	return FALSE;
}

/*
 * Any message may carry text from outside (an executable's path in a debug line, an error
 * naming a file): its control characters are written as \xNN, the log's one escaping (see
 * vigil-log-writer.c, which also escapes the spaces of its fields), so no message spans two
 * lines or starts a line of its own. Decision lines have none left: one scan, no copy.
 */
static char *
escape_controls(const char *text)
{
	static const char hex[] = "0123456789abcdef";
	GString *s = g_string_sized_new(strlen(text) + 16);

	for (const guchar *p = (const guchar *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			g_string_append(s, "\\x");
			g_string_append_c(s, hex[*p >> 4]);
			g_string_append_c(s, hex[*p & 0xf]);
		} else {
			g_string_append_c(s, (char)*p);
		}
	}
	return g_string_free(s, FALSE);
}

/* @fields with MESSAGE replaced by @message (the caller frees the array, not the fields) */
static GLogField *
fields_with_message(const GLogField *fields, gsize n_fields, const char *message)
{
	GLogField *copy = g_memdup2(fields, n_fields * sizeof *fields);

	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(copy[i].key, "MESSAGE")) {
			copy[i].value = message;
			copy[i].length = -1;
		}
	}
	return copy;
}

/* foreground: stderr with a timestamp; as a service: the journal if there is one, else syslog */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	g_autofree char *escaped = NULL;
	g_autofree GLogField *escaped_fields = NULL;
	const char *message;
	const char *domain;

	if (!level_enabled(level))
		return G_LOG_WRITER_HANDLED;
	message = find_field(fields, n_fields, "MESSAGE");
	if (message != NULL && has_control(message)) {
		escaped = escape_controls(message);
		message = escaped;
		fields = escaped_fields = fields_with_message(fields, n_fields, escaped);
	}
	if (!log_to_stderr &&
	    g_log_writer_journald(level, fields, n_fields, data) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	domain = find_field(fields, n_fields, "GLIB_DOMAIN");
	if (log_to_stderr) {
		log_to_stderr_line(level, domain != NULL ? domain : "vigild",
		                   message != NULL ? message : "");
	} else {
		syslog(syslog_priority(level), "%s", message != NULL ? message : "");
	}
	return G_LOG_WRITER_HANDLED;
}

void
vigil_logging_init(gboolean to_stderr)
{
	log_to_stderr = to_stderr;
	if (!log_to_stderr)
		openlog("vigild", LOG_PID, LOG_DAEMON);
	g_log_set_writer_func(log_writer, NULL, NULL);
}

void
vigil_logging_set_max_level(GLogLevelFlags level)
{
	max_log_level = level;
	/* g_log_writer_default_would_drop() tells the hot path whether to format debug lines */
	g_log_set_debug_enabled(level_enabled(G_LOG_LEVEL_DEBUG));
}

void
vigil_logging_start_batching(void)
{
	if (log_to_stderr)
		log_start_batching();
}

void
vigil_logging_flush(void)
{
	log_flush();
}
