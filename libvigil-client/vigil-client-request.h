/* vigil-client-request.h: one connection request of Agent.Prompt(), read once into typed fields */
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
	char *app_sandbox; /* "snap" or "flatpak": the mount namespace is its app's sandbox */
	gboolean exe_deleted;
	gboolean binary_changed;
	char *changed_reason;  /* why the rules did not follow it as an upgrade, or NULL */
	char *changed_package; /* the package that reason names, or NULL */
	gboolean hash_pending; /* no sha256 yet: vigild is still computing it (a big file) */
	guint32 traced_by;     /* the pid of the process tracing it when vigild saw it; 0: none */
	gboolean preload;      /* started with LD_PRELOAD or LD_AUDIT */
	char *protocol;        /* "tcp", "udp", ... */
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
	char *script; /* the interpreter's script a "this script" answer allows, or NULL */
} VigilClientRequest;

/* reads @connection (a{sv}); keys of other types than documented count as missing; fails only
 * when @connection is not a dictionary or has no uid */
VigilClientRequest *vigil_client_request_new(guint64 id, GVariant *connection, GError **error);
void vigil_client_request_free(VigilClientRequest *prompt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilClientRequest, vigil_client_request_free)

/* seconds until the request times out, at the monotonic time @now; never negative */
guint vigil_client_request_seconds_left(const VigilClientRequest *prompt, gint64 now);

/* texts for a prompt (window or terminal), newly allocated and safe to show: what came from vigild
 * (and from the process before it) went through vigil_text_sanitize() (common/vigil-text.h) */
/* the file name of the executable vigild verified, never a name the process chose */
char *vigil_client_request_display_name(const VigilClientRequest *prompt);
char *vigil_client_request_format_destination(const VigilClientRequest *prompt);
/* the hostname if known, else the address */
char *vigil_client_request_format_host(const VigilClientRequest *prompt);
char *vigil_client_request_format_port(const VigilClientRequest *prompt);
char *vigil_client_request_format_protocol(const VigilClientRequest *prompt);
/* the nearest parent as "NAME (PID)", NULL when there is none */
char *vigil_client_request_format_via(const VigilClientRequest *prompt);
/* the whole parent chain, one "NAME (PID)" per line, nearest first */
char *vigil_client_request_format_parents(const VigilClientRequest *prompt);
/* why a changed program's rules did not follow it as a package upgrade (binary-changed-reason
 * and -package of a connection), one sentence; NULL when @reason is NULL or unknown */
char *vigil_client_format_changed_reason(const char *reason, const char *package);

G_END_DECLS
