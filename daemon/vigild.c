/* vigild.c: the Vigil daemon's entry point: options, logging, signals, main loop */
#define G_LOG_DOMAIN "vigild"
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vigil-daemon.h"
#include "vigil-dbus-server.h"
#include "vigil-fair.h"

typedef struct {
	char *config_path;
	char *rules_dir;
	char *learned_path;
	char *subuid_path;
	gboolean foreground;
	gboolean debug;
	gboolean version;
} Options;

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

static gboolean
on_quit_signal(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_reload_signal(gpointer data)
{
	vigil_daemon_reload_rules(data);
	return G_SOURCE_CONTINUE;
}

static gboolean
parse_options(int *argc, char ***argv, Options *options)
{
	const GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &options->config_path,
	     "Configuration file (default " VIGIL_SYSCONFDIR "/vigild.conf)", "FILE"},
	    {"rules-dir", 'r', 0, G_OPTION_ARG_FILENAME, &options->rules_dir,
	     "Directory of system *.rules files (default " VIGIL_SYSCONFDIR "/rules.d)", "DIR"},
	    {"learned-rules", 'l', 0, G_OPTION_ARG_FILENAME, &options->learned_path,
	     "File of learned rules (default " VIGIL_STATEDIR "/rules)", "FILE"},
	    /* for tests: a user's subordinate uids without changing the machine's /etc/subuid */
	    {"subuid-file", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &options->subuid_path,
	     "Subordinate uid ranges (default /etc/subuid)", "FILE"},
	    {"foreground", 'f', 0, G_OPTION_ARG_NONE, &options->foreground,
	     "Log to standard error instead of the journal/syslog", NULL},
	    {"debug", 'd', 0, G_OPTION_ARG_NONE, &options->debug,
	     "Log debug messages (implies --foreground)", NULL},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &options->version, "Print the version", NULL},
	    {NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;

	g_option_context_set_summary(context, "Vigil application firewall daemon.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		fprintf(stderr, "vigild: %s (see vigild --help)\n", error->message);
		return FALSE;
	}
	return TRUE;
}

static void
set_default_paths(Options *options)
{
	if (options->config_path == NULL)
		options->config_path = g_strdup(VIGIL_SYSCONFDIR "/vigild.conf");
	if (options->rules_dir == NULL)
		options->rules_dir = g_strdup(VIGIL_SYSCONFDIR "/rules.d");
	if (options->learned_path == NULL)
		options->learned_path = g_strdup(VIGIL_STATEDIR "/rules");
}

static void
options_clear(Options *options)
{
	g_free(options->config_path);
	g_free(options->rules_dir);
	g_free(options->learned_path);
	g_free(options->subuid_path);
}

/* the D-Bus API, when there is a system bus; without one vigild filters headless */
static VigilDBusServer *
start_dbus(VigilDaemon *daemon, const char *config_path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	VigilDBusServer *server;

	if (bus == NULL) {
		g_warning("no system bus (%s): filtering without prompts or D-Bus clients",
		          error->message);
		return NULL;
	}
	/* the bus going away must not take the firewall with it */
	g_dbus_connection_set_exit_on_close(bus, FALSE);
	server = vigil_dbus_server_new(daemon, bus, config_path, &error);
	if (server == NULL)
		g_warning("cannot export the D-Bus API (%s): filtering without it", error->message);
	return server;
}

/*
 * Each process the attributor caches keeps two fds open (see vigil-attributor.c): the usual
 * soft limit of 1024 is low for a busy desktop, the hard limit is what we may use.
 */
static void
raise_fd_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
			g_debug("cannot raise the fd limit: %s", g_strerror(errno));
	}
}

static int
run(const Options *options)
{
	g_auto(VigilConfig) config = {0}; /* outlives the daemon and server, which share it */
	if (options->subuid_path != NULL)
		vigil_fair_set_subuid_path(options->subuid_path);
	VigilDaemonPaths paths = {options->rules_dir, options->learned_path, "/proc"};
	g_autoptr(VigilDaemon) daemon = NULL;
	g_autoptr(VigilDBusServer) server = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GError) error = NULL;

	vigil_config_init_defaults(&config);
	if (!vigil_config_load(&config, options->config_path, &error)) {
		g_critical("bad configuration, nothing installed: %s", error->message);
		return 1;
	}
	max_log_level = options->debug ? G_LOG_LEVEL_DEBUG : config.log_level;
	/* g_log_writer_default_would_drop() tells the hot path whether to format debug lines */
	g_log_set_debug_enabled(level_enabled(G_LOG_LEVEL_DEBUG));
	if (geteuid() != 0)
		g_warning("not running as root: binding the queue will likely fail");

	daemon = vigil_daemon_new(&config, &paths, &error);
	if (daemon == NULL || !vigil_daemon_start(daemon, &error)) {
		g_critical("cannot start: %s", error->message);
		return 1;
	}
	server = start_dbus(daemon, options->config_path);
	if (log_to_stderr)
		log_start_batching();
	g_unix_signal_add(SIGTERM, on_quit_signal, loop);
	g_unix_signal_add(SIGINT, on_quit_signal, loop);
	g_unix_signal_add(SIGHUP, on_reload_signal, daemon);
	g_main_loop_run(loop);

	g_message("stopping: removing netfilter rules");
	vigil_daemon_stop(daemon);
	/* after the stop: its Cancel("shutdown") calls still go out to the agents */
	g_clear_pointer(&server, vigil_dbus_server_free);
	log_flush();
	return 0;
}

int
main(int argc, char **argv)
{
	Options options = {0};
	int status;

	if (!parse_options(&argc, &argv, &options))
		return 2;
	if (options.version) {
		printf("vigild %s\n", VIGIL_VERSION);
		return 0;
	}
#ifdef __GLIBC__
	/* the main loop does nearly all the work; worker threads need no arenas of their own,
	 * each of which would keep its pages */
	mallopt(M_ARENA_MAX, 2);
#endif
	log_to_stderr = options.foreground || options.debug || isatty(STDERR_FILENO);
	if (!log_to_stderr)
		openlog("vigild", LOG_PID, LOG_DAEMON);
	g_log_set_writer_func(log_writer, NULL, NULL);
	raise_fd_limit();
	set_default_paths(&options);
	status = run(&options);
	options_clear(&options);
	return status;
}
