/* vigil-prompt.h: one connection request from vigild, as the prompt window shows and answers it */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the connection dictionary of Agent.Prompt(), read into typed fields; any key may be missing.
 * The strings are as vigild sent them (valid UTF-8, nothing else checked): show them only
 * through the format functions below or vigil_text_sanitize() */
typedef struct {
	guint64 id;
	char *program; /* executable path, or "unknown" */
	char *name;    /* short name for display */
	guint32 pid;   /* 0: unknown */
	guint32 uid;
	char *user;
	char **parents; /* "PID EXE", nearest first; never NULL */
	char *cmdline;
	char *sha256;
	char *appid;
	gboolean foreign_mount_ns;
	gboolean exe_deleted;
	gboolean binary_changed;
	guint32 traced_by; /* the pid of the process tracing it when vigild saw it; 0: none */
	gboolean preload;  /* started with LD_PRELOAD or LD_AUDIT */
	char *protocol;    /* "tcp", "udp", ... */
	char *family;
	char *destination;
	char *hostname;
	gboolean has_port;
	guint16 port;
	gboolean has_icmp_type;
	guint8 icmp_type;
	char *service;
	gint64 time_us;
	guint timeout;   /* seconds left when the prompt arrived */
	gint64 deadline; /* g_get_monotonic_time() when the request times out */
	char *host_target;
	char *domain_target;
} VigilPrompt;

/* how the user answers; the order is the order of the choices in the window */
typedef enum {
	VIGIL_PROMPT_DURATION_ONCE,
	VIGIL_PROMPT_DURATION_UNTIL_QUIT,
	VIGIL_PROMPT_DURATION_5_MINUTES,
	VIGIL_PROMPT_DURATION_1_HOUR,
	VIGIL_PROMPT_DURATION_24_HOURS,
	VIGIL_PROMPT_DURATION_FOREVER,
} VigilPromptDuration;

typedef enum {
	VIGIL_PROMPT_HOST_SCOPE_HOST,
	VIGIL_PROMPT_HOST_SCOPE_DOMAIN,
	VIGIL_PROMPT_HOST_SCOPE_ANY,
} VigilPromptHostScope;

typedef enum {
	VIGIL_PROMPT_PORT_SCOPE_PORT,
	VIGIL_PROMPT_PORT_SCOPE_ANY,
} VigilPromptPortScope;

/* reads @connection (a{sv}); keys of other types than documented count as missing; fails only
 * when @connection is not a dictionary or has no uid */
VigilPrompt *vigil_prompt_new(guint64 id, GVariant *connection, GError **error);
void vigil_prompt_free(VigilPrompt *prompt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPrompt, vigil_prompt_free)

/* seconds until the request times out, at the monotonic time @now; never negative */
guint vigil_prompt_seconds_left(const VigilPrompt *prompt, gint64 now);

/* the options of org.vigil.Firewall1.Reply() for these choices, a floating a{sv} */
GVariant *vigil_prompt_reply_options(VigilPromptDuration duration, VigilPromptHostScope host,
                                     VigilPromptPortScope port);

/* texts for the window, newly allocated and safe to show: what came from vigild (and from the
 * process before it) went through vigil_text_sanitize() (common/vigil-text.h) */
/* the file name of the executable vigild verified, never a name the process chose */
char *vigil_prompt_display_name(const VigilPrompt *prompt);
char *vigil_prompt_format_destination(const VigilPrompt *prompt);
/* the hostname if known, else the address */
char *vigil_prompt_format_host(const VigilPrompt *prompt);
char *vigil_prompt_format_port(const VigilPrompt *prompt);
char *vigil_prompt_format_protocol(const VigilPrompt *prompt);
/* the nearest parent as "NAME (PID)", NULL when there is none */
char *vigil_prompt_format_via(const VigilPrompt *prompt);
/* the whole parent chain, one "NAME (PID)" per line, nearest first */
char *vigil_prompt_format_parents(const VigilPrompt *prompt);

G_END_DECLS
