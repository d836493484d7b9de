/* vigild.c: the Vigil daemon's entry point: options, logging, signals, main loop */
#define G_LOG_DOMAIN "vigild"
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "vigil-daemon.h"
#include "vigil-dbus-server.h"

typedef struct {
	char *config_path;
	char *rules_dir;
	char *learned_path;
	gboolean foreground;
	gboolean debug;
	gboolean version;
} Options;

static GLogLevelFlags max_log_level = G_LOG_LEVEL_INFO;
static gboolean log_to_stderr;

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

/* foreground: stderr with a timestamp; as a service: the journal if there is one, else syslog */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	const char *message;
	const char *domain;

	if (!level_enabled(level))
		return G_LOG_WRITER_HANDLED;
	if (!log_to_stderr &&
	    g_log_writer_journald(level, fields, n_fields, data) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	message = find_field(fields, n_fields, "MESSAGE");
	domain = find_field(fields, n_fields, "GLIB_DOMAIN");
	if (log_to_stderr) {
		g_autoptr(GDateTime) now = g_date_time_new_now_local();
		g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S.%f");
		fprintf(stderr, "%.12s %s: %s\n", stamp, domain != NULL ? domain : "vigild",
		        message != NULL ? message : "");
		fflush(stderr);
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

static int
run(const Options *options)
{
	VigilConfig config;
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
	if (geteuid() != 0)
		g_warning("not running as root: binding the queue will likely fail");

	daemon = vigil_daemon_new(&config, &paths, &error);
	if (daemon == NULL || !vigil_daemon_start(daemon, &error)) {
		g_critical("cannot start: %s", error->message);
		return 1;
	}
	server = start_dbus(daemon, options->config_path);
	g_unix_signal_add(SIGTERM, on_quit_signal, loop);
	g_unix_signal_add(SIGINT, on_quit_signal, loop);
	g_unix_signal_add(SIGHUP, on_reload_signal, daemon);
	g_main_loop_run(loop);

	g_message("stopping: removing netfilter rules");
	vigil_daemon_stop(daemon);
	/* after the stop: its Cancel("shutdown") calls still go out to the agents */
	g_clear_pointer(&server, vigil_dbus_server_free);
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
	log_to_stderr = options.foreground || options.debug || isatty(STDERR_FILENO);
	if (!log_to_stderr)
		openlog("vigild", LOG_PID, LOG_DAEMON);
	g_log_set_writer_func(log_writer, NULL, NULL);
	set_default_paths(&options);
	status = run(&options);
	options_clear(&options);
	return status;
}
