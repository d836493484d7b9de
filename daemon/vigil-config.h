/* vigil-config.h: /etc/vigil/vigild.conf, a GKeyFile, parsed and validated (pure) */
#pragma once

#include <glib.h>
#include "vigil-rule.h"

G_BEGIN_DECLS

#define VIGIL_CONFIG_ERROR (vigil_config_error_quark())
GQuark vigil_config_error_quark(void);

typedef enum {
	VIGIL_CONFIG_ERROR_PARSE,       /* not a key file */
	VIGIL_CONFIG_ERROR_UNKNOWN_KEY, /* a key or group Vigil does not know (likely a typo) */
	VIGIL_CONFIG_ERROR_VALUE,       /* a known key with a value it cannot take */
} VigilConfigError;

typedef enum {
	VIGIL_FAIL_OPEN,   /* traffic flows when no daemon listens (--queue-bypass) */
	VIGIL_FAIL_CLOSED, /* traffic that needs a decision is blocked while the daemon is down */
} VigilFailMode;

/* how vigild finds the program behind a connection */
typedef enum {
	VIGIL_ATTRIBUTION_AUTO,  /* recorded in the kernel (eBPF) when it loads, else /proc */
	VIGIL_ATTRIBUTION_EBPF,  /* recorded in the kernel; vigild does not start without it */
	VIGIL_ATTRIBUTION_QUEUE, /* the socket (sock_diag) and its holders in /proc only */
} VigilAttribution;

typedef struct {
	guint16 queue_number;
	guint queue_length;         /* packets the kernel holds for us; beyond that it drops them */
	VigilAction default_action; /* allow or deny */
	VigilFailMode fail_mode;
	guint prompt_timeout;     /* seconds */
	guint auth_timeout;       /* seconds an interactive polkit check may take (D-Bus) */
	GLogLevelFlags log_level; /* the most verbose level logged */
	gboolean filter_loopback; /* also decide connections to lo */
	guint32 mark_mask;        /* packet/conntrack mark bits Vigil owns */
	gboolean enabled;         /* FALSE: every connection allowed undecided (SetEnabled) */
	/* AgentExecutables: the only programs that may register as prompt agents (absolute
	 * paths), or NULL for any. Owned by the config that parsed it; copies of the struct
	 * share it, vigil_config_clear() frees it. */
	char **agent_executables;
	VigilAttribution attribution;
	/* EbpfCgroup: the cgroup v2 directory the attribution programs attach to (they see the
	 * sockets of its processes and of every cgroup below), or NULL for the hierarchy's
	 * root. Owned like agent_executables. */
	char *ebpf_cgroup;
} VigilConfig;

/* at most this many AgentExecutables */
#define VIGIL_CONFIG_MAX_AGENT_EXECUTABLES 64

void vigil_config_init_defaults(VigilConfig *config);
/* frees what parsing allocated (agent_executables); the struct can be parsed into again */
void vigil_config_clear(VigilConfig *config);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilConfig, vigil_config_clear)
/* parses @text (the contents of @file_name, used in messages) on top of the defaults */
gboolean vigil_config_parse(VigilConfig *config, const char *text, const char *file_name,
                            GError **error);
/* reads @path; a missing file is not an error (defaults apply) */
gboolean vigil_config_load(VigilConfig *config, const char *path, GError **error);

const char *vigil_attribution_to_string(VigilAttribution attribution);
const char *vigil_fail_mode_to_string(VigilFailMode mode);

/*
 * Sets @keys to @values (NULL-terminated, same length) in [Daemon] of the file at @path and
 * writes it atomically, keeping its comments and other keys. A missing file is created.
 * The result must parse (a key file of known keys with valid values), else nothing is
 * written and the error is a VIGIL_CONFIG_ERROR; failing to write gives a G_IO_ERROR or
 * G_FILE_ERROR.
 */
gboolean vigil_config_save_keys(const char *path, const char *const *keys,
                                const char *const *values, GError **error);

G_END_DECLS
