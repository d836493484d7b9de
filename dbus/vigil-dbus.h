/* vigil-dbus.h: everything vigild, vigilctl and vigil-tray share about the D-Bus API */
#pragma once

/*
 * The generated code: VigilFirewall (org.vigil.Firewall1: vigil_firewall_skeleton_new(),
 * vigil_firewall_proxy_new_for_bus(), vigil_firewall_call_add_rule(), ...) and VigilAgent
 * (org.vigil.Firewall1.Agent). What every method, argument and key means is documented in
 * dbus/org.vigil.Firewall1.xml and dbus/org.vigil.Firewall1.Agent.xml; the names below are
 * the strings those documents define, so that a typo is a compile error.
 */
#include "vigil-dbus-generated.h"
#include "vigil-dbus-errors.h"

G_BEGIN_DECLS

#define VIGIL_DBUS_NAME            "org.vigil.Firewall1"
#define VIGIL_DBUS_PATH            "/org/vigil/Firewall1"
#define VIGIL_DBUS_INTERFACE       "org.vigil.Firewall1"
#define VIGIL_DBUS_AGENT_INTERFACE "org.vigil.Firewall1.Agent"

/* polkit actions (data/org.vigil.firewall.policy) */
#define VIGIL_POLKIT_ACTION_READ             "org.vigil.firewall.read"
#define VIGIL_POLKIT_ACTION_REPLY            "org.vigil.firewall.reply"
#define VIGIL_POLKIT_ACTION_MANAGE_OWN_RULES "org.vigil.firewall.manage-own-rules"
#define VIGIL_POLKIT_ACTION_MANAGE_ALL_RULES "org.vigil.firewall.manage-all-rules"
#define VIGIL_POLKIT_ACTION_CONFIGURE        "org.vigil.firewall.configure"

/* GetPermissions() values */
#define VIGIL_PERMISSION_YES  "yes"
#define VIGIL_PERMISSION_AUTH "auth"
#define VIGIL_PERMISSION_NO   "no"

/* SetConfig() keys: the names of the writable settings' properties */
#define VIGIL_CONFIG_KEY_DEFAULT_ACTION "DefaultAction"
#define VIGIL_CONFIG_KEY_PROMPT_TIMEOUT "PromptTimeout"
#define VIGIL_CONFIG_KEY_FAIL_MODE      "FailMode"
#define VIGIL_PROMPT_TIMEOUT_MIN        1
#define VIGIL_PROMPT_TIMEOUT_MAX        3600

/* Stats property keys, all of type t */
#define VIGIL_STATS_KEY_QUEUED         "queued"
#define VIGIL_STATS_KEY_ACCEPTED       "accepted"
#define VIGIL_STATS_KEY_DENIED         "denied"
#define VIGIL_STATS_KEY_DROPPED        "dropped"
#define VIGIL_STATS_KEY_DEFAULTED      "defaulted"
#define VIGIL_STATS_KEY_PROMPTED       "prompted"
#define VIGIL_STATS_KEY_TIMED_OUT      "timed-out"
#define VIGIL_STATS_KEY_KERNEL_DROPPED "kernel-dropped"
#define VIGIL_STATS_KEY_OVERRUNS       "overruns"
#define VIGIL_STATS_KEY_PENDING        "pending"
#define VIGIL_STATS_KEY_RULES          "rules"
#define VIGIL_STATS_KEY_AGENTS         "agents"
#define VIGIL_STATS_KEY_OVERFLOWED     "overflowed"
#define VIGIL_STATS_KEY_KERNEL_DECIDED "kernel-decided"

/* rule dictionary keys (GetRules, AddRule, UpdateRule) and their D-Bus types */
#define VIGIL_RULE_KEY_ID       "id"       /* t, read-only */
#define VIGIL_RULE_KEY_ACTION   "action"   /* s: allow | deny | drop */
#define VIGIL_RULE_KEY_USER     "user"     /* s: "all" or a user name */
#define VIGIL_RULE_KEY_UID      "uid"      /* u */
#define VIGIL_RULE_KEY_PROGRAM  "program"  /* s: absolute path | "unknown" */
#define VIGIL_RULE_KEY_SHA256   "sha256"   /* s */
#define VIGIL_RULE_KEY_ARGS     "args"     /* s: glob over the space-joined cmdline */
#define VIGIL_RULE_KEY_APPID    "appid"    /* s */
#define VIGIL_RULE_KEY_TO       "to"       /* s: host | *.domain | address | CIDR */
#define VIGIL_RULE_KEY_PORT     "port"     /* s: N | N-M | comma list */
#define VIGIL_RULE_KEY_PROTO    "proto"    /* s: tcp | udp | udplite | sctp | icmp */
#define VIGIL_RULE_KEY_LIFETIME "lifetime" /* s: forever | until | until-quit */
#define VIGIL_RULE_KEY_UNTIL    "until"    /* x: unix seconds */
#define VIGIL_RULE_KEY_PID      "pid"      /* u */
#define VIGIL_RULE_KEY_ENABLED  "enabled"  /* b */
#define VIGIL_RULE_KEY_CAPTURE  "capture"  /* b: record the packets of the flows it allows */
#define VIGIL_RULE_KEY_CREATED  "created"  /* x: unix seconds, read-only */
#define VIGIL_RULE_KEY_LAST_HIT "last-hit" /* x: unix seconds, read-only */
#define VIGIL_RULE_KEY_HITS     "hits"     /* t, read-only */
#define VIGIL_RULE_KEY_NOTE     "note"     /* s */
#define VIGIL_RULE_KEY_SYSTEM   "system"   /* b, read-only */
#define VIGIL_RULE_KEY_ORIGIN   "origin"   /* s: FILE:LINE, read-only */
/* s: the file a symlinked program path names (/usr/bin/python3.11 for python3), read-only */
#define VIGIL_RULE_KEY_PROGRAM_TARGET "program-target"
#define VIGIL_RULE_KEY_TEXT           "text" /* s: the one-line text form */

#define VIGIL_RULE_USER_ALL            "all"
#define VIGIL_RULE_ANY                 "any"
#define VIGIL_RULE_LIFETIME_FOREVER    "forever"
#define VIGIL_RULE_LIFETIME_UNTIL      "until"
#define VIGIL_RULE_LIFETIME_UNTIL_QUIT "until-quit"

/* connection dictionary keys (Agent.Prompt, GetPending, GetConnections, Agent.Notify) */
#define VIGIL_CONN_KEY_PROGRAM          "program"          /* s: exe path | "unknown" */
#define VIGIL_CONN_KEY_NAME             "name"             /* s */
#define VIGIL_CONN_KEY_PID              "pid"              /* u */
#define VIGIL_CONN_KEY_UID              "uid"              /* u, always present */
#define VIGIL_CONN_KEY_USER             "user"             /* s */
#define VIGIL_CONN_KEY_PARENTS          "parents"          /* as: "PID EXE", nearest first */
#define VIGIL_CONN_KEY_CMDLINE          "cmdline"          /* s */
#define VIGIL_CONN_KEY_SHA256           "sha256"           /* s */
#define VIGIL_CONN_KEY_APPID            "appid"            /* s */
#define VIGIL_CONN_KEY_FOREIGN_MOUNT_NS "foreign-mount-ns" /* b */
#define VIGIL_CONN_KEY_APP_SANDBOX      "app-sandbox"      /* s: see VIGIL_APP_SANDBOX_* */
#define VIGIL_APP_SANDBOX_SNAP          "snap"
#define VIGIL_APP_SANDBOX_FLATPAK       "flatpak"
#define VIGIL_CONN_KEY_EXE_DELETED      "exe-deleted"      /* b */
#define VIGIL_CONN_KEY_TRACED_BY        "traced-by"        /* u */
#define VIGIL_CONN_KEY_PRELOAD          "preload"          /* b */
#define VIGIL_CONN_KEY_BINARY_CHANGED   "binary-changed"   /* b */
#define VIGIL_CONN_KEY_HASH_PENDING     "hash-pending"     /* b: prompts and GetPending */
#define VIGIL_CONN_KEY_PROTOCOL         "protocol"         /* s */
#define VIGIL_CONN_KEY_FAMILY           "family"           /* s: ipv4 | ipv6 */
#define VIGIL_CONN_KEY_DESTINATION      "destination"      /* s: address */
#define VIGIL_CONN_KEY_HOSTNAME         "hostname"         /* s */
#define VIGIL_CONN_KEY_PORT             "port"             /* q */
#define VIGIL_CONN_KEY_ICMP_TYPE        "icmp-type"        /* y */
#define VIGIL_CONN_KEY_SERVICE          "service"          /* s */
#define VIGIL_CONN_KEY_TIME             "time"             /* x: unix microseconds */
/* s, s: why dpkg did not vouch for the changed binary (vigil-upgrades.h), the package */
#define VIGIL_CONN_KEY_CHANGED_REASON "binary-changed-reason"
#define VIGIL_CONN_KEY_CHANGED_PKG    "binary-changed-package"
/* prompts and GetPending only */
#define VIGIL_CONN_KEY_TIMEOUT       "timeout"       /* u: seconds left */
#define VIGIL_CONN_KEY_HOST_TARGET   "host-target"   /* s */
#define VIGIL_CONN_KEY_DOMAIN_TARGET "domain-target" /* s: "*.example.org" */
#define VIGIL_CONN_KEY_SCRIPT        "script"        /* s: what program-scope "script" allows */
#define VIGIL_CONN_KEY_CONNECTIONS   "connections"   /* u: GetPending only */
/* decisions (GetConnections, Agent.Notify "blocked") only */
#define VIGIL_CONN_KEY_ID        "id"        /* t: decision sequence number */
#define VIGIL_CONN_KEY_VERDICT   "verdict"   /* s: allow | deny | drop */
#define VIGIL_CONN_KEY_REASON    "reason"    /* s, see VIGIL_REASON_NAME_* */
#define VIGIL_CONN_KEY_RULE      "rule"      /* t */
#define VIGIL_CONN_KEY_QUEUED_US "queued-us" /* t */
#define VIGIL_CONN_KEY_KERNEL    "kernel"    /* b */
/* GetConnections with history: what conntrack counted on an allowed flow, when it was read */
#define VIGIL_CONN_KEY_BYTES_OUT   "bytes-out"   /* t */
#define VIGIL_CONN_KEY_BYTES_IN    "bytes-in"    /* t */
#define VIGIL_CONN_KEY_PACKETS_OUT "packets-out" /* t */
#define VIGIL_CONN_KEY_PACKETS_IN  "packets-in"  /* t */
#define VIGIL_CONN_KEY_ENDED       "ended"       /* x: unix microseconds */

/* values of the reason key */
#define VIGIL_REASON_NAME_RULE      "rule"
#define VIGIL_REASON_NAME_REPLY     "reply"
#define VIGIL_REASON_NAME_DEFAULT   "default"
#define VIGIL_REASON_NAME_TIMEOUT   "timeout"
#define VIGIL_REASON_NAME_DISABLED  "disabled"
#define VIGIL_REASON_NAME_MALFORMED "malformed"
#define VIGIL_REASON_NAME_DEADLINE  "deadline"
#define VIGIL_REASON_NAME_SHUTDOWN  "shutdown"
#define VIGIL_REASON_NAME_OVERFLOW  "overflow"

/* GetConnections() filter keys */
#define VIGIL_FILTER_KEY_PROGRAM "program" /* s */
#define VIGIL_FILTER_KEY_VERDICT "verdict" /* s */
#define VIGIL_FILTER_KEY_SINCE   "since"   /* x: unix microseconds */
#define VIGIL_FILTER_KEY_AFTER   "after"   /* t: decision id */
#define VIGIL_FILTER_KEY_UID     "uid"     /* u */
#define VIGIL_FILTER_KEY_LIMIT   "limit"   /* u */
#define VIGIL_FILTER_KEY_UNTIL   "until"   /* x: unix microseconds */
#define VIGIL_FILTER_KEY_HISTORY "history" /* b: read the history on disk, not the ring */
#define VIGIL_FILTER_KEY_OLDEST  "oldest"  /* b: with limit, the oldest, not the newest */

/* GetProgramStats() counter keys */
#define VIGIL_PROGRAM_STATS_KEY_CONNECTIONS  "connections"  /* t */
#define VIGIL_PROGRAM_STATS_KEY_ALLOWED      "allowed"      /* t */
#define VIGIL_PROGRAM_STATS_KEY_DENIED       "denied"       /* t: deny and drop */
#define VIGIL_PROGRAM_STATS_KEY_DESTINATIONS "destinations" /* u */
#define VIGIL_PROGRAM_STATS_KEY_LAST_SEEN    "last-seen"    /* x: unix microseconds */
/* GetProgramHistory() and GetTimeline() only: what conntrack counted on allowed flows */
#define VIGIL_PROGRAM_STATS_KEY_BYTES_OUT "bytes-out" /* t */
#define VIGIL_PROGRAM_STATS_KEY_BYTES_IN  "bytes-in"  /* t */

/* GetProgramHistory() and GetTimeline() option keys (and since, until, uid, program, limit
 * of the filter keys) */
#define VIGIL_RANGE_KEY_SORT     "sort"     /* s: VIGIL_STATS_SORT_* */
#define VIGIL_RANGE_KEY_INTERVAL "interval" /* u: seconds */
#define VIGIL_STATS_SORT_CONNECTIONS  "connections"
#define VIGIL_STATS_SORT_BYTES        "bytes"
#define VIGIL_STATS_SORT_DESTINATIONS "destinations"
#define VIGIL_STATS_SORT_DENIED       "denied"
/* GetTimeline(): at most this many intervals */
#define VIGIL_TIMELINE_MAX_BUCKETS 10000

/* ImportRules() bounds */
#define VIGIL_IMPORT_MAX_BYTES (1024 * 1024)
#define VIGIL_IMPORT_MAX_RULES 10000
/* distinct user names in one import: each is a lookup in the user database */
#define VIGIL_IMPORT_MAX_USERS 64

/* Reply() option keys and values */
#define VIGIL_REPLY_KEY_DURATION   "duration"   /* s */
#define VIGIL_REPLY_KEY_SECONDS    "seconds"    /* u */
#define VIGIL_REPLY_KEY_HOST_SCOPE "host-scope" /* s */
#define VIGIL_REPLY_KEY_PORT_SCOPE "port-scope" /* s */
#define VIGIL_REPLY_KEY_PROGRAM_SCOPE "program-scope" /* s */
#define VIGIL_DURATION_ONCE        "once"
#define VIGIL_DURATION_UNTIL_QUIT  "until-quit"
#define VIGIL_DURATION_SECONDS     "seconds"
#define VIGIL_DURATION_FOREVER     "forever"
#define VIGIL_REPLY_SECONDS_MAX    31536000
#define VIGIL_HOST_SCOPE_HOST      "host"
#define VIGIL_HOST_SCOPE_DOMAIN    "domain"
#define VIGIL_HOST_SCOPE_ANY       "any"
#define VIGIL_PORT_SCOPE_PORT      "port"
#define VIGIL_PORT_SCOPE_ANY       "any"
#define VIGIL_PROGRAM_SCOPE_PROGRAM "program"
#define VIGIL_PROGRAM_SCOPE_SCRIPT  "script"

/* Agent.Cancel() reasons */
#define VIGIL_CANCEL_ANSWERED "answered"
#define VIGIL_CANCEL_TIMEOUT  "timeout"
#define VIGIL_CANCEL_RULE     "rule"
#define VIGIL_CANCEL_DISABLED "disabled"
#define VIGIL_CANCEL_SHUTDOWN "shutdown"

/* Agent.Notify() kinds and the keys of "message" */
#define VIGIL_NOTIFY_BLOCKED     "blocked"
#define VIGIL_NOTIFY_MESSAGE     "message"
#define VIGIL_NOTIFY_KEY_MESSAGE "message" /* s */
#define VIGIL_NOTIFY_KEY_LEVEL   "level"   /* s: info | warning | error */
/* another agent of the user registered: the process keys of a connection dictionary
 * (program, name, pid, uid, user, cmdline, traced-by, ...), bus-name and time */
#define VIGIL_NOTIFY_AGENT_REGISTERED "agent-registered"
#define VIGIL_NOTIFY_KEY_BUS_NAME     "bus-name" /* s: the new agent's unique bus name */
/* u: how many agents registered since the last such note (1, or more when vigild put the
 * registrations of a few seconds in one note, which then names the latest) */
#define VIGIL_NOTIFY_KEY_COUNT "count"

G_END_DECLS
