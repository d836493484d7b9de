/* vigilctl.h: what vigilctl's command files share: the context, exit codes, errors, helpers */
#pragma once

#include <gio/gio.h>

#include "vigil-client.h"

G_BEGIN_DECLS

/* exit codes, documented in vigilctl --help and the README */
typedef enum {
	VIGILCTL_EXIT_OK = 0,
	VIGILCTL_EXIT_FAILED = 1,      /* vigild refused or could not do it; a file failed */
	VIGILCTL_EXIT_USAGE = 2,       /* bad command line */
	VIGILCTL_EXIT_PERMISSION = 3,  /* not authorised (polkit, or the bus policy) */
	VIGILCTL_EXIT_NOT_RUNNING = 4, /* vigild (or the system bus) is not running */
} VigilctlExit;

#define VIGILCTL_ERROR (vigilctl_error_quark())
GQuark vigilctl_error_quark(void);

typedef enum {
	VIGILCTL_ERROR_FAILED,      /* a local failure, e.g. a file could not be read */
	VIGILCTL_ERROR_USAGE,       /* a bad command line */
	VIGILCTL_ERROR_NOT_RUNNING, /* no system bus, or nobody owns org.vigil.Firewall1 */
} VigilctlError;

typedef struct {
	gboolean json;            /* machine-readable output */
	gboolean no_ask_password; /* never let polkit ask (no interactive authorisation) */
	GDBusConnection *bus;
	VigilFirewall *firewall;
	GSubprocess *tty_agent; /* pkttyagent, while one runs for us */
	/* what to tell the user when vigild denies the command's call: what needs whom */
	const char *permission_hint;
} VigilctlContext;

/* a command: parses its own options from @argv (argv[0] is the command's name) */
typedef gboolean (*VigilctlCommandFunc)(VigilctlContext *ctx, int argc, char **argv,
                                        GError **error);

void vigilctl_context_clear(VigilctlContext *ctx);

/* vigilctl-client.c: the connection to vigild and what its errors mean for the user */
VigilFirewall *vigilctl_firewall(VigilctlContext *ctx, GError **error);
GDBusCallFlags vigilctl_call_flags(VigilctlContext *ctx, gboolean may_ask);
int vigilctl_call_timeout(gboolean may_ask);
void vigilctl_start_tty_agent(VigilctlContext *ctx);
int vigilctl_exit_code(const GError *error);
char *vigilctl_error_message(const GError *error, const char *permission_hint);
gboolean vigilctl_error_is_not_running(const GError *error);

/* vigilctl-args.c: option parsing and the values of arguments */
GOptionContext *vigilctl_option_context(VigilctlContext *ctx, const char *parameters,
                                        const char *summary, const char *description,
                                        const GOptionEntry *entries);
gboolean vigilctl_parse_options(GOptionContext *context, int *argc, char ***argv, GError **error);
/* a usage error "@command takes no arguments" when argv holds more than the command */
gboolean vigilctl_no_arguments(int argc, const char *command, GError **error);
/* a usage error "@command takes options only (see --help)" when argv holds more than the
 * command: for the commands with options */
gboolean vigilctl_options_only(int argc, const char *command, GError **error);
gboolean vigilctl_parse_id(const char *text, guint64 *id, GError **error);
gboolean vigilctl_parse_duration(const char *text, gint64 *seconds, GError **error);
gboolean vigilctl_parse_since(const char *text, gint64 now_us, gint64 *since_us, GError **error);
gboolean vigilctl_parse_verdict(const char *text, GError **error);

/* the formatters of the commands, for tests */
char *vigilctl_kebab_case(const char *name); /* "DefaultAction" -> "default-action" */
char *vigilctl_status_format(GVariant *props, GVariant *permissions);
GVariant *vigilctl_status_json_variant(GVariant *props, GVariant *permissions);
gboolean vigilctl_config_parse_setting(const char *text, GVariantBuilder *changes, GError **error);
char *vigilctl_rules_format(GVariant *rules); /* GetRules()'s a(ta{sv}) as a table */
GVariant *vigilctl_rules_json_variant(GVariant *rules);
char *vigilctl_rules_line_from_args(int argc, char **argv);
char *vigilctl_rules_read_import(const char *path, GError **error);
char *vigilctl_pending_format(GVariant *requests); /* GetPending()'s a(ta{sv}) */
GVariant *vigilctl_pending_json_variant(GVariant *requests);
char *vigilctl_captures_format(GVariant *captures); /* GetCaptures()'s aa{sv} as a table */
/* GetConnections()'s filter from log's options; a program name (no '/') is matched here;
 * with @since or @until it asks for the history on disk */
gboolean vigilctl_log_build_filter(const char *program, const char *verdict, const char *since,
                                   const char *until, int limit, int uid, gint64 now_us,
                                   GVariant **filter, GError **error);
gboolean vigilctl_log_program_matches(GVariant *conn, const char *program);
GVariant *vigilctl_log_select(GVariant *conns, const char *program, int limit);
char *vigilctl_log_format(GVariant *conns);     /* aa{sv} as a table */
char *vigilctl_log_format_line(GVariant *conn); /* one decision, for monitor */
gboolean vigilctl_top_parse_sort(const char *text, int *key, GError **error);
GPtrArray *vigilctl_top_rank(GVariant *stats, int key, int limit);
char *vigilctl_top_format(GPtrArray *rows);
gboolean vigilctl_top_build_options(const char *since, const char *until, int key, int limit,
                                    int uid, gint64 now_us, GVariant **options, GError **error);
/* CSV and JSON of history decisions (vigilctl export) */
gboolean vigilctl_cmd_export(VigilctlContext *ctx, int argc, char **argv, GError **error);

/* the commands */
gboolean vigilctl_cmd_status(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_enable(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_disable(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_config(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_rules(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_pending(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_log(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_top(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_monitor(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_captures(VigilctlContext *ctx, int argc, char **argv, GError **error);
gboolean vigilctl_cmd_prompt(VigilctlContext *ctx, int argc, char **argv, GError **error);

G_END_DECLS
