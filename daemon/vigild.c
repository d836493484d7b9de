/* vigild.c: the Vigil daemon's entry point: options, signals, main loop */
#define G_LOG_DOMAIN "vigild"
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vigil-daemon.h"
#include "vigil-dbus-server.h"
#include "vigil-ebpf.h"
#include "vigil-fair-pool.h"
#include "vigil-fair.h"
#include "vigil-logging.h"
#include "vigil-sha-cache.h"

typedef struct {
	char *config_path;
	char *rules_dir;
	char *learned_path;
	char *subuid_path;
	char *ebpf_fail_iterator;
	gboolean foreground;
	gboolean debug;
	gboolean version;
} Options;

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
	    /* for tests: the kernel refuses this eBPF iterator's link (its failure path) */
	    {"ebpf-fail-iterator", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING,
	     &options->ebpf_fail_iterator, "eBPF iterator made to fail", "PROGRAM"},
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
	g_free(options->ebpf_fail_iterator);
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

/*
 * A thread that a process holds (a lookup waiting for its mmap lock, a read its FUSE server
 * never answers: vigil-fair-pool.h, vigil-sha-cache.h) is left behind: the netfilter rules are
 * gone by now, and nothing at exit may wait for it (a sanitizer's leak check stops every
 * thread first, and would wait for ever).
 */
static void
exit_if_threads_held(void)
{
	guint held = vigil_fair_pool_running_anywhere();

	if (held == 0 && !vigil_sha_cache_left_behind())
		return;
	g_message("stopped, leaving %u lookup(s) and any hash held by other processes behind",
	          held);
	vigil_logging_flush();
	_exit(0);
}

static int
run(const Options *options)
{
	g_auto(VigilConfig) config = {0}; /* outlives the daemon and server, which share it */
	if (options->subuid_path != NULL)
		vigil_fair_set_subuid_path(options->subuid_path);
	vigil_ebpf_set_failing_iterator(options->ebpf_fail_iterator);
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
	vigil_logging_set_max_level(options->debug ? G_LOG_LEVEL_DEBUG : config.log_level);
	if (geteuid() != 0)
		g_warning("not running as root: binding the queue will likely fail");

	daemon = vigil_daemon_new(&config, &paths, &error);
	if (daemon == NULL || !vigil_daemon_start(daemon, &error)) {
		g_critical("cannot start: %s", error->message);
		return 1;
	}
	server = start_dbus(daemon, options->config_path);
	vigil_logging_start_batching();
	g_unix_signal_add(SIGTERM, on_quit_signal, loop);
	g_unix_signal_add(SIGINT, on_quit_signal, loop);
	g_unix_signal_add(SIGHUP, on_reload_signal, daemon);
	g_main_loop_run(loop);

	g_message("stopping: removing netfilter rules");
	vigil_daemon_stop(daemon);
	/* after the stop: its Cancel("shutdown") calls still go out to the agents */
	g_clear_pointer(&server, vigil_dbus_server_free);
	g_clear_pointer(&daemon, vigil_daemon_free);
	exit_if_threads_held();
	vigil_logging_flush();
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
	vigil_logging_init(options.foreground || options.debug || isatty(STDERR_FILENO));
	raise_fd_limit();
	set_default_paths(&options);
	status = run(&options);
	options_clear(&options);
	return status;
}
