/* vigil-settings.h: vigild's settings, one table and one check for vigild.conf and SetConfig (pure)
 */
#pragma once

#include <glib.h>
#include "vigil-rule.h" /* VigilAction */

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

/* whether connections already decided by a rule are decided again in the kernel */
typedef enum {
	VIGIL_KERNEL_VERDICTS_AUTO,  /* when the attribution programs run, else the queue */
	VIGIL_KERNEL_VERDICTS_EBPF,  /* in the kernel; vigild does not start without it */
	VIGIL_KERNEL_VERDICTS_QUEUE, /* every new connection goes through the queue */
} VigilKernelVerdicts;

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
	VigilKernelVerdicts kernel_verdicts; /* KernelVerdicts (docs/ebpf-verdicts.md) */
	/* the history of decisions (vigil-history.h): rows older than history_days are deleted
	 * (0: no history is kept), and they take at most history_size_mib MiB */
	guint history_days;
	guint history_size_mib;
	/* packet capture (capture rules): the first capture_flow_kib KiB of each flow, at most
	 * capture_total_mib MiB of capture files in all (0: capture is off) */
	guint capture_flow_kib;
	guint capture_total_mib;
} VigilConfig;

/* at most this many AgentExecutables */
#define VIGIL_CONFIG_MAX_AGENT_EXECUTABLES 64

void vigil_config_init_defaults(VigilConfig *config);
/* frees what parsing allocated (agent_executables); the struct can be parsed into again */
void vigil_config_clear(VigilConfig *config);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VigilConfig, vigil_config_clear)
const char *vigil_fail_mode_to_string(VigilFailMode mode);
const char *vigil_attribution_to_string(VigilAttribution attribution);
const char *vigil_kernel_verdicts_to_string(VigilKernelVerdicts mode);

typedef enum {
	VIGIL_SETTING_UINT,   /* decimal or 0x-hex, within [min, max] */
	VIGIL_SETTING_BOOL,   /* true or false */
	VIGIL_SETTING_CHOICE, /* one of the setting's named values */
	VIGIL_SETTING_MASK,   /* a 32-bit mask: one run of at least min set bits */
	VIGIL_SETTING_PATHS,  /* absolute canonical paths separated by ';' (empty: none) */
	VIGIL_SETTING_PATH,   /* one absolute canonical path (empty: none) */
} VigilSettingType;

/* one named value of a VIGIL_SETTING_CHOICE */
typedef struct {
	const char *name;
	int value;
} VigilSettingChoice;

/*
 * One key of [Daemon] in vigild.conf. The same name is the settings property of
 * org.vigil.Firewall1 and, where dbus_type is set, a key SetConfig() takes: SetConfig and the
 * file parser both check a value with vigil_setting_apply(), so both refuse the same values
 * with the same message.
 */
typedef struct {
	const char *name;
	VigilSettingType type;
	guint64 min, max;                  /* UINT: the range; MASK: min is the fewest bits */
	const VigilSettingChoice *choices; /* CHOICE: ended by a NULL name */
	gboolean ignore_case;              /* CHOICE: "Debug" is "debug" */
	const char *expected;              /* how the error names a good value */
	const char *dbus_type;             /* SetConfig's type for it; NULL: only in the file */
	gsize offset, size;                /* where VigilConfig keeps it, and its size */
} VigilSetting;

/* the setting named @name (case matters, as in the file), or NULL */
const VigilSetting *vigil_setting_lookup(const char *name);
/* all settings, in the order the documentation lists them */
const VigilSetting *vigil_settings(gsize *n_settings);

/*
 * Checks @text as a value of @setting and, when it is good, stores it in @config (nothing
 * else changes). A bad value is VIGIL_CONFIG_ERROR_VALUE "Key=text: expected ...", the same
 * words from either path; callers put their own context in front.
 */
gboolean vigil_setting_apply(VigilConfig *config, const VigilSetting *setting, const char *text,
                             GError **error);

G_END_DECLS
