/* vigil-daemon.c: the life of a connection inside vigild */
#define G_LOG_DOMAIN "vigil-daemon"
#include "config.h"

#include <sys/stat.h>

#include "vigil-attributor.h"
#include "vigil-capture.h"
#include "vigil-daemon.h"
#include "vigil-dbus.h"
#include "vigil-dns-cache.h"
#include "vigil-dns-watch.h"
#include "vigil-hash-pins.h"
#include "vigil-log-writer.h" /* vigil_decision_log_escape */
#include "vigil-ebpf.h"
#include "vigil-ebpf-verdicts.h"
#include "vigil-fair.h"
#include "vigil-netfilter.h"
#include "vigil-packet.h"
#include "vigil-prompts.h"
#include "vigil-rule-lifetimes.h"
#include "vigil-queue.h"
#include "vigil-rule-store.h"
#include "vigil-socket-watch.h"
#include "vigil-turns.h"
#include "vigil-dpkg.h"
#include "vigil-upgrades.h"
#include "vigil-users.h"

/* a packet waits at most this long for its process (and, if needed, its hash) to be found;
 * then the rules decide with what is known, as for an unknown process */
#define ATTRIBUTION_DEADLINE_US (3 * G_USEC_PER_SEC)
/* packets waiting for their process, shared fairly among the uids that have some: a uid's
 * packets beyond its share are decided at once without their program (overflow) */
#define MAX_HELD_PACKETS 4096
/* connections of one socket waiting for their turn; beyond this they are denied (overflow) */
#define MAX_WAITING_PER_SOCKET 1024
/* the turns taken in one go before the main loop gets its turn (reading goes on between) */
#define TURNS_SLICE_US     2000
#define DEADLINE_TICK_MS   200
#define EXPIRY_TICK_S      10
#define SAVE_TICK_S        600
#define DECISION_RING_SIZE 4096
/* in the directory of the learned rules: executable hashes kept across restarts */
#define EXE_HASHES_FILE "exe-hashes"
/* likewise: the Debian packages of the files rules are pinned to */
#define PIN_PACKAGES_FILE "pin-packages"
#define HISTORY_FILE      "history.db"
/* likewise: the capture files of capture rules, root-only */
#define CAPTURES_DIR "captures"

typedef struct _HeldPacket HeldPacket;

/* an answer a held packet waits for (a lookup or a hash); it may go on without it */
typedef struct {
	HeldPacket *held;      /* NULL once the packet went on without the answer */
	VigilProcess *process; /* a hash: the process it is for */
} Waiting;

struct _HeldPacket {
	VigilTurn turn; /* waiting for its turn, or its lookup keeps its socket's turns */
	VigilDaemon *daemon;
	guint32 packet_id;
	guint32 mark;  /* as it arrived: our verdict keeps the bits that are not ours */
	guint32 ct_id; /* conntrack's id of its flow (0: not told), for the history */
	VigilFlow flow;
	guint32 bucket; /* held_uid(): set once, the counts stay right if /etc/subuid changes */
	guint64 cookie; /* of the socket its lookup found (0: none): what a live one ends by */
	gint64 received_us;
	gint64 deadline_us;
	GCancellable *cancellable; /* set while a lookup or a hash runs */
	Waiting *waiting;          /* likewise */
	gboolean hash_tried;       /* its program's hash was asked for once */
	gboolean hash_pending;     /* and is still being made: it went on without it */
	gboolean upgrade_tried;    /* its rules' pins were checked against dpkg once */
	gboolean late;             /* past the attribution deadline: decided with what is known */
	char **hostnames;  /* what DNS named dst for this uid, most recent first; NULL: unknown */
	GList link;        /* in daemon->held, ordered by deadline */
	gboolean prompted; /* waits on a request in daemon->prompts, not in daemon->held */
	gboolean cmdline_unchecked; /* its process came from the cache with the exe checked only */
	VigilProcess *process;      /* while prompted */
	/* not a packet: a live TCP connection decided again after the rules changed (no verdict
	 * to send; allowed, it is watched again, else ended) */
	gboolean live;
};

/* what a live allowed flow was decided on, to decide it again when the rules change */
typedef struct {
	VigilProcess *process; /* or NULL: an unknown program */
	char **hostnames;      /* or NULL */
	gboolean has_uid;
	guint32 uid;
	guint64 rule_id; /* the allow rule that allowed it, or 0 (DefaultAction, "once") */
} FlowBasis;

static void judge_live_flows(VigilDaemon *daemon);

/* a connection a rule made from an answer decided: its verdict goes into the kernel once the
 * rule is in force (a new generation), if the rules then still decide it so */
typedef struct {
	VigilFlow flow;
	VigilProcess *process;
	char **hostnames;
	guint64 rule_id;
} Answered;

#define MAX_ANSWERED 64

static void
answered_free(Answered *a)
{
	vigil_process_unref(a->process);
	g_strfreev(a->hostnames);
	g_free(a);
}
static void kernel_invalidate(VigilDaemon *daemon);

static void
flow_basis_free(FlowBasis *basis)
{
	g_clear_pointer(&basis->process, vigil_process_unref);
	g_strfreev(basis->hostnames);
	g_free(basis);
}

struct _VigilDaemon {
	VigilConfig config;
	VigilRuleStore *store;
	VigilAttributor *attributor;
	VigilEbpf *ebpf; /* attribution recorded in the kernel; NULL: /proc only */
	/* connections a rule decided, decided again in the kernel; NULL: the queue decides all */
	VigilEbpfVerdicts *kernel_verdicts;
	guint64 dns_changes; /* vigil_dns_cache_changes() when the kernel's verdicts were made */
	/* the lines of datagrams failed for a stale verdict (log_stale): this interval's */
	gint64 stale_interval_start;
	guint stale_lines;
	guint stale_suppressed;
	GPtrArray *answered; /* of Answered: connections an answer's new rule decided */
	VigilNetfilter *netfilter;
	VigilQueue *queue;
	VigilDecisionLog *decisions;
	VigilHistory *history;
	VigilConntrack *conntrack; /* bytes per allowed flow, for the history */
	VigilDnsCache *dns_cache;
	VigilDnsWatch *dns_watch;
	VigilCapture *capture;    /* capture rules' packets to files; NULL: no capture */
	GQueue held;              /* of HeldPacket, oldest first: deadlines are in arrival order */
	GHashTable *held_per_uid; /* held_uid() -> packets of it in held (> 0) */
	VigilTurns *turns;        /* held packets not looked at yet, per uid and socket */
	/* allowed TCP and UDP flows: decided again when the rules change; may be NULL */
	VigilSocketWatch *socket_watch;
	guint turns_source; /* takes more turns when the last go left some */
	guint deadline_source;
	guint expiry_source;
	guint save_source;
	VigilPrompts *prompts;         /* connections no rule covers, held for an agent's answer */
	VigilRuleLifetimes *lifetimes; /* rules that end at a time or with a process */
	VigilUpgrades *upgrades;       /* pins that follow package upgrades */
	VigilHashPins *hash_pins;      /* rules made before their program's hash was known */
	VigilDaemonStats stats;
	VigilDaemonFunc rules_changed_func;
	gpointer rules_changed_data;
	/* the last process a live flow's basis was made from, and that basis: a program's many
	 * connections share one */
	VigilProcess *basis_from;
	VigilProcess *basis_process;
};

/* whom a packet counts against: its socket owner's fairness bucket (a user's subordinate uids
 * count as the user, vigil-fair.h); packets without a socket owner share one */
static guint32
held_uid(const HeldPacket *held)
{
	return held->bucket;
}

/* the bucket of @flow's socket owner; flows without one share one */
static guint32
held_bucket_of(const VigilFlow *flow)
{
	return flow->has_uid ? vigil_fair_bucket(flow->uid) : G_MAXUINT32;
}

static guint
held_count(VigilDaemon *daemon, guint32 uid)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(daemon->held_per_uid, GUINT_TO_POINTER(uid)));
}

static void
held_count_add(VigilDaemon *daemon, guint32 uid, int delta)
{
	guint n = held_count(daemon, uid) + delta;

	if (n == 0)
		g_hash_table_remove(daemon->held_per_uid, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(daemon->held_per_uid, GUINT_TO_POINTER(uid),
		                    GUINT_TO_POINTER(n));
}

static void
held_enqueue(VigilDaemon *daemon, HeldPacket *held)
{
	g_queue_push_tail_link(&daemon->held, &held->link);
	held_count_add(daemon, held_uid(held), +1);
}

static void
held_dequeue(VigilDaemon *daemon, HeldPacket *held)
{
	g_queue_unlink(&daemon->held, &held->link);
	held_count_add(daemon, held_uid(held), -1);
}

/*
 * TRUE when @held's uid has more than its share of the packets waiting for their process:
 * the pool divided among the uids that have packets in it, so one uid's flood is decided
 * without attribution while the others' packets are still looked up.
 */
static gboolean
held_over_share(VigilDaemon *daemon, const HeldPacket *held)
{
	guint uids = MAX(g_hash_table_size(daemon->held_per_uid), 1);

	return held_count(daemon, held_uid(held)) > MAX(MAX_HELD_PACKETS / uids, 1);
}

/* @held goes on without the answer it waits for; returns the process a hash was for */
static VigilProcess *
wait_abandon(HeldPacket *held)
{
	Waiting *waiting = held->waiting;
	VigilProcess *process = g_steal_pointer(&waiting->process);

	/* first detached: cancelling may call back at once, and the callback finds nobody */
	waiting->held = NULL;
	held->waiting = NULL;
	g_cancellable_cancel(held->cancellable);
	g_clear_object(&held->cancellable);
	return process;
}

static gboolean on_turns_idle(gpointer data);

/*
 * @held is done with its socket's turns: decided before its turn came, or after its lookup
 * (which kept the socket out of the turns) came back or was given up. The socket's next
 * connection gets its turn.
 */
static void
turn_leave(HeldPacket *held)
{
	VigilDaemon *daemon = held->daemon;

	if (held->turn.waiting)
		vigil_turns_remove(daemon->turns, &held->turn);
	else if (held->turn.socket != NULL)
		vigil_turns_done(daemon->turns, &held->turn);
	else
		return;
	if (vigil_turns_ready(daemon->turns) && daemon->turns_source == 0)
		daemon->turns_source =
		    g_idle_add_full(G_PRIORITY_DEFAULT, on_turns_idle, daemon, NULL);
}

static void
held_packet_free(HeldPacket *held)
{
	turn_leave(held);
	if (held->waiting != NULL)
		vigil_process_unref(wait_abandon(held));
	g_clear_object(&held->cancellable);
	g_clear_pointer(&held->process, vigil_process_unref);
	g_strfreev(held->hostnames);
	g_free(held);
}

/* @capture: the flow's packets are copied for its capture file (the capture bit) */
static void
send_verdict(VigilDaemon *daemon, guint32 packet_id, guint32 arrived_mark, VigilAction action,
             gboolean capture)
{
	g_autoptr(GError) error = NULL;
	guint32 mark = (arrived_mark & ~daemon->config.mark_mask) |
	               vigil_netfilter_mark(&daemon->config, action) |
	               (capture ? vigil_netfilter_capture_mark(&daemon->config) : 0);

	if (!vigil_queue_set_verdict(daemon->queue, packet_id, mark, &error))
		g_warning("%s", error->message);
	if (action == VIGIL_ACTION_ALLOW)
		daemon->stats.accepted++;
	else if (action == VIGIL_ACTION_DENY)
		daemon->stats.denied++;
	else
		daemon->stats.dropped++;
}

/* records @decision; the log numbers it (GetConnections' id); the history keeps a copy */
static void
log_decision(VigilDaemon *daemon, VigilDecision *decision, const char *sha256)
{
	if (decision->reason == VIGIL_REASON_DEFAULT || decision->reason == VIGIL_REASON_TIMEOUT)
		daemon->stats.defaulted++;
	vigil_history_add(daemon->history, decision, sha256);
	vigil_decision_log_add(daemon->decisions, decision);
}

static void
fill_decision_from_flow(VigilDecision *decision, const VigilFlow *flow, gint64 received_us)
{
	decision->time = g_get_real_time();
	decision->family = flow->family;
	decision->protocol = flow->protocol;
	decision->src = flow->src;
	decision->sport = flow->sport;
	decision->dst = flow->dst;
	decision->dport = flow->dport;
	decision->icmp_type = flow->icmp_type;
	decision->uid = flow->has_uid ? flow->uid : 0;
	decision->queued_us = g_get_monotonic_time() - received_us;
}

/*
 * The names @uid's own DNS lookups gave the destination. The DNS copies share the queue's
 * socket, so every answer that came before this connection has been read already.
 */
static void
learn_hostnames(HeldPacket *held, guint32 uid)
{
	VigilDaemon *daemon = held->daemon;

	if (held->hostnames != NULL)
		return;
	held->hostnames = vigil_dns_cache_lookup(daemon->dns_cache, uid, held->flow.family,
	                                         &held->flow.dst, held->received_us);
}

static guint32
dns_uid(const HeldPacket *held, const VigilProcess *process)
{
	/* the socket owner, as NFLOG reported it for the query */
	if (held->flow.has_uid)
		return held->flow.uid;
	return process != NULL ? process->uid : VIGIL_DNS_CACHE_ANY_UID;
}

/*
 * What of @process a live flow is decided again on: what rules match and a prompt shows,
 * without its parents, and its command line only while a rule reads one (a flow's basis
 * stays while the flow lives: 8,192 of them at most, and a process may have kilobytes)
 */
static VigilProcess *
basis_process_new(const VigilProcess *process, gboolean with_cmdline)
{
	VigilProcess *slim = vigil_process_new();

	slim->pid = process->pid;
	slim->start_time = process->start_time;
	slim->uid = process->uid;
	slim->user_name = g_strdup(process->user_name);
	slim->exe = g_strdup(process->exe);
	slim->exe_deleted = process->exe_deleted;
	slim->exe_dev = process->exe_dev;
	slim->exe_ino = process->exe_ino;
	slim->exe_mtime = process->exe_mtime;
	slim->exe_size = process->exe_size;
	slim->exe_ctime = process->exe_ctime;
	slim->sha256 = g_strdup(process->sha256);
	slim->cmdline = with_cmdline ? g_strdup(process->cmdline) : NULL;
	slim->app_id = g_strdup(process->app_id);
	slim->foreign_mount_ns = process->foreign_mount_ns;
	slim->taint = process->taint;
	slim->tracer_pid = process->tracer_pid;
	slim->exited = process->exited;
	slim->unnamed = process->unnamed;
	if (process->holders != NULL) {
		slim->holders = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_process_unref);
		for (guint i = 0; i < process->holders->len; i++)
			g_ptr_array_add(slim->holders,
			                basis_process_new(g_ptr_array_index(process->holders, i),
			                                  with_cmdline));
	}
	return slim;
}

static VigilProcess *
basis_process(VigilDaemon *daemon, const VigilProcess *process)
{
	gboolean with_cmdline =
	    vigil_ruleset_uses_cmdline(vigil_rule_store_get_ruleset(daemon->store));

	if (process == NULL)
		return NULL;
	if (process != daemon->basis_from ||
	    (with_cmdline && daemon->basis_process->cmdline == NULL && process->cmdline != NULL)) {
		g_clear_pointer(&daemon->basis_from, vigil_process_unref);
		g_clear_pointer(&daemon->basis_process, vigil_process_unref);
		daemon->basis_from = vigil_process_ref((VigilProcess *)process);
		daemon->basis_process = basis_process_new(process, with_cmdline);
	}
	return vigil_process_ref(daemon->basis_process);
}

/* @flow (of socket @cookie, 0: not known) was allowed: watched, with what it was decided on,
 * until it ends */
static void
remember_allowed(VigilDaemon *daemon, const VigilFlow *flow, guint64 cookie,
                 const VigilProcess *process, char **hostnames, const VigilRule *rule)
{
	FlowBasis *basis;

	if (daemon->socket_watch == NULL)
		return;
	basis = g_new0(FlowBasis, 1);
	basis->process = basis_process(daemon, process);
	basis->hostnames = g_strdupv(hostnames);
	basis->has_uid = flow->has_uid;
	basis->uid = flow->uid;
	basis->rule_id = rule != NULL ? rule->id : 0;
	vigil_socket_watch_allowed(daemon->socket_watch, flow, cookie, basis,
	                           (GDestroyNotify)flow_basis_free);
}

/* the comment of @flow's capture file: what it is, for whoever opens it */
static char *
capture_description(const VigilFlow *flow, const VigilRule *rule, const VigilProcess *process,
                    char **hostnames)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[16];
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *time = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");

	vigil_address_to_string(flow->family, &flow->src, src, sizeof(src));
	vigil_address_to_string(flow->family, &flow->dst, dst, sizeof(dst));
	return g_strdup_printf(
	    "vigild capture, rule %" G_GUINT64_FORMAT
	    ", %s: %s uid %u, %s %s%s%s:%u -> %s%s%s:%u%s%s",
	    rule->id, time, process != NULL && process->exe != NULL ? process->exe : "unknown",
	    process != NULL ? process->uid : (flow->has_uid ? flow->uid : 0),
	    vigil_protocol_name(flow->protocol, proto, sizeof(proto)),
	    flow->family == AF_INET6 ? "[" : "", src, flow->family == AF_INET6 ? "]" : "",
	    flow->sport, flow->family == AF_INET6 ? "[" : "", dst,
	    flow->family == AF_INET6 ? "]" : "", flow->dport, hostnames != NULL ? " " : "",
	    hostnames != NULL ? hostnames[0] : "");
}

/* an allow by a capture rule: TRUE when the flow's packets will be recorded */
static gboolean
start_capture(HeldPacket *held, const VigilRule *rule, const VigilProcess *process)
{
	VigilDaemon *daemon = held->daemon;
	g_autofree char *description = NULL;

	if (rule == NULL || !rule->capture || daemon->capture == NULL)
		return FALSE;
	description = capture_description(&held->flow, rule, process, held->hostnames);
	return vigil_capture_expect(daemon->capture, &held->flow, description);
}

/* sends the verdict for @held and logs the decision; @held stays the caller's */
static void
send_and_log(HeldPacket *held, VigilAction action, VigilReason reason, const VigilRule *rule,
             const VigilProcess *process)
{
	VigilDaemon *daemon = held->daemon;
	VigilDecision decision = {0};

	if (held->live && reason == VIGIL_REASON_SHUTDOWN)
		return; /* vigild stopping ends no connection: it was allowed, and stays so */
	if (!held->live)
		send_verdict(daemon, held->packet_id, held->mark, action,
		             action == VIGIL_ACTION_ALLOW && start_capture(held, rule, process));
	if (action == VIGIL_ACTION_ALLOW)
		remember_allowed(daemon, &held->flow, held->cookie, process, held->hostnames, rule);
	else if (held->live)
		vigil_socket_watch_end(daemon->socket_watch, &held->flow, held->cookie);

	fill_decision_from_flow(&decision, &held->flow, held->received_us);
	decision.ct_id = held->ct_id;
	decision.verdict = action;
	decision.reason = reason;
	decision.rule_id = rule != NULL ? rule->id : 0;
	decision.hostname = held->hostnames != NULL ? g_strdup(held->hostnames[0]) : NULL;
	if (process != NULL) {
		decision.pid = process->pid;
		decision.uid = process->uid;
		decision.user_name = g_strdup(process->user_name);
		decision.program = g_strdup(process->exe);
		decision.taint = process->taint;
		decision.tracer_pid = process->tracer_pid;
	} else {
		decision.user_name = vigil_user_name(decision.uid);
	}
	if (reason == VIGIL_REASON_RULE && action != VIGIL_ACTION_ALLOW)
		vigil_prompts_notify_blocked(daemon->prompts, &decision,
		                             vigil_decision_log_last_id(daemon->decisions) + 1);
	log_decision(daemon, &decision, process != NULL ? process->sha256 : NULL);
}

/* removes @held from the held queue, sends the verdict, logs it, frees @held */
static void
finish_held(HeldPacket *held, VigilAction action, VigilReason reason, const VigilRule *rule,
            const VigilProcess *process)
{
	if (!held->prompted)
		held_dequeue(held->daemon, held);
	if (reason == VIGIL_REASON_OVERFLOW)
		held->daemon->stats.overflowed++;
	send_and_log(held, action, reason, rule, process);
	held_packet_free(held);
}

/* a request @held waited on ended */
static void
on_prompt_finish(gpointer data, VigilAction action, VigilReason reason, const VigilRule *rule,
                 gpointer user_data)
{
	HeldPacket *held = data;
	VigilDaemon *daemon = held->daemon;

	if (reason == VIGIL_REASON_REPLY && rule != NULL && held->process != NULL &&
	    daemon->kernel_verdicts != NULL && !held->live &&
	    daemon->answered->len < MAX_ANSWERED) {
		Answered *a = g_new0(Answered, 1);
		a->flow = held->flow;
		a->process = vigil_process_ref(held->process);
		a->hostnames = g_strdupv(held->hostnames);
		a->rule_id = rule->id;
		g_ptr_array_add(daemon->answered, a);
	}
	finish_held(held, action, reason, rule, held->process);
}

/*
 * No rule covers the connection. When its user has an agent, @held waits on a request
 * (deadline PromptTimeout) for the answer; with no agent it gets DefaultAction, once. When
 * the user's share of requests or held connections is used up, it is denied: a connection
 * is never allowed unasked while its user could be asked.
 */
static void start_lookup(HeldPacket *held);
static void start_hash(HeldPacket *held, const VigilProcess *process);
static gboolean start_upgrade_check(HeldPacket *held, const VigilProcess *process);

/* a hash not known yet is worth waiting for: a rule may pin it, a prompt shows it */
static gboolean
wants_hash(HeldPacket *held, const VigilProcess *process)
{
	return process != NULL && process->sha256 == NULL && !held->hash_tried && !held->late;
}

static void
decide_unmatched(HeldPacket *held, const VigilProcess *process)
{
	VigilDaemon *daemon = held->daemon;
	VigilPromptConnection conn = {0};

	if (held->cmdline_unchecked && !held->late) {
		/* a prompt shows the cmdline: confirm the process in full first (no rule read
		 * it, so none could have matched on a stale one). Past the deadline, the exe
		 * was confirmed: only an exec of the same file again would show a stale one */
		held->cmdline_unchecked = FALSE;
		start_lookup(held);
		return;
	}
	conn.process = (VigilProcess *)process;
	conn.flow = &held->flow;
	conn.hostnames = (const char *const *)held->hostnames;
	conn.hash_pending = held->hash_pending && process != NULL && process->sha256 == NULL;
	conn.time_us = g_get_real_time() - (g_get_monotonic_time() - held->received_us);
	if (process != NULL)
		conn.uid = process->uid;
	else if (held->flow.has_uid)
		conn.uid = held->flow.uid;
	conn.changed_reason =
	    vigil_upgrades_reason(daemon->upgrades, process, conn.uid, &conn.changed_package);
	/* the prompt shows the hash, and a rule made from the answer pins it */
	if (wants_hash(held, process) && vigil_prompts_can_prompt(daemon->prompts, conn.uid)) {
		start_hash(held, process);
		return;
	}
	switch ((process != NULL || held->flow.has_uid)
	            ? vigil_prompts_hold(daemon->prompts, held, &conn)
	            : VIGIL_HOLD_NO_AGENT) {
	case VIGIL_HOLD_HELD:
		held_dequeue(daemon, held);
		held->prompted = TRUE;
		held->process = process != NULL ? vigil_process_ref((VigilProcess *)process) : NULL;
		return;
	case VIGIL_HOLD_FULL:
		finish_held(held, VIGIL_ACTION_DENY, VIGIL_REASON_OVERFLOW, NULL, process);
		return;
	case VIGIL_HOLD_NO_AGENT:
		break;
	}
	finish_held(held, daemon->config.default_action,
	            held->late ? VIGIL_REASON_DEADLINE : VIGIL_REASON_DEFAULT, NULL, process);
}

/*
 * @held's uid is past its share of packets waiting for their process: it is decided now,
 * without its program, as an unknown program: "app unknown" rules and rules that need no
 * program (addresses, ports, users) still decide; otherwise it is denied, since a program
 * rule or a prompt would have been skipped.
 */
static void
decide_overflow(HeldPacket *held)
{
	VigilDaemon *daemon = held->daemon;
	VigilMatchQuery query = {0};
	VigilRule *rule;

	if (!daemon->config.enabled) {
		finish_held(held, VIGIL_ACTION_ALLOW, VIGIL_REASON_DISABLED, NULL, NULL);
		return;
	}
	learn_hostnames(held, dns_uid(held, NULL));
	/* no process: an unknown program, so "app unknown" rules apply too */
	vigil_process_match_query(&query, held->flow.uid, NULL, &held->flow, held->hostnames);
	rule = vigil_ruleset_match(vigil_rule_store_get_ruleset(daemon->store), &query,
	                           g_get_real_time() / G_USEC_PER_SEC);
	if (rule != NULL)
		finish_held(held, rule->action, VIGIL_REASON_RULE, rule, NULL);
	else
		finish_held(held, VIGIL_ACTION_DENY, VIGIL_REASON_OVERFLOW, NULL, NULL);
}

/*
 * The socket is held by several programs (inherited or passed): whichever of them sent the
 * packet, the least trusted decides. Each holder's own rules are matched: a holder that a rule
 * denies or drops blocks it; else a holder no rule covers is asked about (or DefaultAction);
 * only when every holder is allowed is it allowed. Holders are taken with what is known of them
 * (a rule that pins a hash not known yet does not match).
 */
static void
decide_shared(HeldPacket *held, const VigilProcess *process, const VigilMatchQuery *query)
{
	VigilRuleset *ruleset = vigil_rule_store_get_ruleset(held->daemon->store);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	const VigilProcess *blocker = NULL;
	const VigilProcess *unmatched = NULL;
	VigilRule *block_rule = NULL;
	VigilRule *allow_rule = NULL;

	held->hash_tried = TRUE;
	for (guint i = 0; i <= process->holders->len; i++) {
		const VigilProcess *holder =
		    i == 0 ? process : g_ptr_array_index(process->holders, i - 1);
		VigilMatchQuery q = *query;
		VigilRule *rule;

		vigil_process_fill_query(holder, &q);
		/* "[comm]": a recorded process that exited, never seen running: the program of a
		 * rule for that very file, as name_recorded_process() names the sender */
		if (q.program == NULL && holder->exited)
			q.program = vigil_ruleset_program_for_file(ruleset, &q.exe);
		rule = vigil_ruleset_match(ruleset, &q, now);
		if (rule == NULL && unmatched == NULL)
			unmatched = holder;
		else if (rule != NULL && rule->action != VIGIL_ACTION_ALLOW && block_rule == NULL) {
			block_rule = rule;
			blocker = holder;
		} else if (rule != NULL && rule->action == VIGIL_ACTION_ALLOW && allow_rule == NULL)
			allow_rule = rule;
	}
	/* an unnamed holder is an unknown program: asked about and logged as one */
	if (block_rule != NULL)
		finish_held(held, block_rule->action, VIGIL_REASON_RULE, block_rule,
		            blocker->unnamed ? NULL : blocker);
	else if (unmatched != NULL)
		decide_unmatched(held, unmatched->unnamed ? NULL : unmatched);
	else
		finish_held(held, VIGIL_ACTION_ALLOW, VIGIL_REASON_RULE, allow_rule, process);
}

/*
 * A process gone before vigild looked, whose executable it never saw running, is known only by
 * the kernel's record: its path is not known ("[comm]"). When a rule's program is that very
 * file (device, inode, ctime, size), it is that program (a copy named so); else NULL, and it
 * stays an unknown program to the rules.
 */
static void decide_process(HeldPacket *held, const VigilProcess *process);

static VigilProcess *
name_recorded_process(VigilDaemon *daemon, const VigilProcess *process)
{
	VigilFileId exe = {.dev = process->exe_dev,
	                   .ino = process->exe_ino,
	                   .ctime = process->exe_ctime,
	                   .size = process->exe_size};
	const char *path;
	VigilProcess *named;

	if (!process->exited || process->exe[0] == '/')
		return NULL;
	path = vigil_ruleset_program_for_file(vigil_rule_store_get_ruleset(daemon->store), &exe);
	if (path == NULL)
		return NULL;
	named = vigil_process_copy_with_sha256(process, process->sha256);
	g_free(named->exe);
	named->exe = g_strdup(path);
	return named;
}

static void
decide(HeldPacket *held, const VigilProcess *process)
{
	g_autoptr(VigilProcess) named =
	    process != NULL ? name_recorded_process(held->daemon, process) : NULL;

	if (named != NULL)
		process = named;
	decide_process(held, process);
}

/* the names' latest end for the kernel's verdicts, so that a stale entry costs a queue trip */
#define KERNEL_VERDICT_DNS_MAX_US (600 * G_USEC_PER_SEC)

/* when a verdict made now for @held, by @rule, must end (monotonic; 0: with the rules); -1
 * when it must not be made */
static gint64
kernel_verdict_expiry(HeldPacket *held, const VigilRule *rule, const VigilProcess *process)
{
	VigilDaemon *daemon = held->daemon;
	gint64 now = g_get_monotonic_time();
	gint64 expires = 0;

	if (rule->lifetime == VIGIL_LIFETIME_UNTIL)
		expires = now + (rule->until * G_USEC_PER_SEC - g_get_real_time());
	if (held->hostnames != NULL) {
		/* decided with the names then known for the address: with the first of them gone,
		 * another rule may decide (a name learned since makes a new generation) */
		gint64 names = vigil_dns_cache_expiry(daemon->dns_cache, dns_uid(held, process),
		                                      held->flow.family, &held->flow.dst, now);
		if (names <= now)
			return -1;
		names = MIN(names, now + KERNEL_VERDICT_DNS_MAX_US);
		expires = expires == 0 ? names : MIN(expires, names);
	}
	return expires != 0 && expires <= now ? -1 : expires;
}

/*
 * @rule decided @held, a connection of @process: the kernel decides the next connections of
 * the same program (the file, in any mount namespace), user and destination itself, without the
 * queue, when it can match them as exactly as the rules do (docs/ebpf-verdicts.md): not when the
 * decision read what the kernel does not see (a command line, an app id, other holders of the
 * socket), nor for DNS (its queries are copied for their answers' names only while unmarked), nor
 * for capture rules. For UDP only a deny: an allowed UDP flow's conntrack entry must end with its
 * socket (the socket watch, which needs the flow's port, not known at connect()), or another
 * program on that port rides its verdict; and netfilter dropping a local datagram fails its
 * send() with EPERM, where a drop is silent. @generation: read when the rules were matched.
 */
/*
 * TRUE when the program's file has one name only. The kernel knows a program by its file
 * (device, inode): a hard link under another path would get this path's verdict (review L1).
 * A link made later changes the file's ctime, which is in the key: then no entry matches.
 */
static gboolean
exe_single_link(const VigilProcess *process)
{
	struct stat st;

	return stat(process->exe, &st) == 0 && st.st_dev == process->exe_dev &&
	       st.st_ino == process->exe_ino &&
	       (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec ==
	           process->exe_ctime &&
	       st.st_nlink == 1;
}

static void
kernel_remember(HeldPacket *held, const VigilRule *rule, const VigilProcess *process,
                const VigilMatchQuery *query, guint64 generation)
{
	VigilDaemon *daemon = held->daemon;
	VigilRuleset *ruleset = vigil_rule_store_get_ruleset(daemon->store);
	g_autoptr(GError) error = NULL;

	if (daemon->kernel_verdicts == NULL || held->live || !daemon->config.enabled ||
	    process == NULL || process->exe[0] != '/' || process->exe_ino == 0 ||
	    process->holders != NULL || process->app_id != NULL ||
	    (held->flow.protocol != IPPROTO_TCP && held->flow.protocol != IPPROTO_UDP) ||
	    held->flow.dport == 53 ||
	    (held->flow.protocol == IPPROTO_UDP && rule->action != VIGIL_ACTION_DENY) ||
	    rule->args_glob != NULL || rule->app_id != NULL || rule->capture ||
	    vigil_ruleset_uses_cmdline(ruleset) || vigil_ruleset_uses_app_id(ruleset) ||
	    /* decided without the hash a rule of this program pins (too big, or too late): with
	     * it, that rule may decide otherwise */
	    (process->sha256 == NULL && vigil_ruleset_needs_sha256(ruleset, query)))
		return;
	gint64 expires = kernel_verdict_expiry(held, rule, process);
	if (expires < 0 || !exe_single_link(process))
		return;
	VigilVerdictKey key = {.exe_dev = process->exe_dev,
	                       .exe_ino = process->exe_ino,
	                       .exe_size = process->exe_size,
	                       .exe_ctime = process->exe_ctime,
	                       .uid = process->uid,
	                       .family = held->flow.family,
	                       .protocol = held->flow.protocol,
	                       .dport = held->flow.dport,
	                       .dst = held->flow.dst};
	VigilVerdictInfo info = {process->exe, process->sha256,
	                         held->hostnames != NULL ? held->hostnames[0] : NULL,
	                         process->user_name};
	if (!vigil_ebpf_verdicts_put(daemon->kernel_verdicts, &key, generation, rule->action,
	                             vigil_netfilter_mark(&daemon->config, rule->action), rule->id,
	                             expires, &info, &error))
		g_warning("%s: the queue decides them", error->message);
	else
		g_debug("kernel verdict: rule %" G_GUINT64_FORMAT " for %s uid %u, generation "
		        "%" G_GUINT64_FORMAT,
		        rule->id, process->exe, process->uid, generation);
}

static void
decide_process(HeldPacket *held, const VigilProcess *process)
{
	VigilDaemon *daemon = held->daemon;
	VigilMatchQuery query = {0};
	VigilRule *rule;

	/* a prompt may hold it for long: its socket's turns go on meanwhile */
	turn_leave(held);
	if (!daemon->config.enabled) {
		finish_held(held, VIGIL_ACTION_ALLOW, VIGIL_REASON_DISABLED, NULL, process);
		return;
	}
	learn_hostnames(held, dns_uid(held, process));
	/* past the deadline with the lookup still out, or known only by the kernel's record
	 * ("[comm]"), it is an unknown program: "app unknown" rules decide it as they would any
	 * process vigild cannot name */
	vigil_process_match_query(&query, process != NULL ? process->uid : held->flow.uid, process,
	                          &held->flow, held->hostnames);

	if (process != NULL && process->holders != NULL) {
		decide_shared(held, process, &query);
		return;
	}
	/* a rule of this program pins a hash: it can decide only once the hash is known */
	if (wants_hash(held, process) &&
	    vigil_ruleset_needs_sha256(vigil_rule_store_get_ruleset(daemon->store), &query)) {
		start_hash(held, process);
		return;
	}
	/* its rules pin another build: dpkg may vouch for this one (vigil-upgrades.h) */
	if (process != NULL && process->sha256 != NULL && !held->upgrade_tried && !held->late &&
	    start_upgrade_check(held, process))
		return;
	guint64 generation = daemon->kernel_verdicts != NULL
	                         ? vigil_ebpf_verdicts_generation(daemon->kernel_verdicts)
	                         : 0;
	rule = vigil_ruleset_match(vigil_rule_store_get_ruleset(daemon->store), &query,
	                           g_get_real_time() / G_USEC_PER_SEC);
	if (rule != NULL) {
		kernel_remember(held, rule, process, &query, generation);
		finish_held(held, rule->action, VIGIL_REASON_RULE, rule, process);
	} else
		decide_unmatched(held, process);
}

static Waiting *
wait_start(HeldPacket *held, const VigilProcess *process)
{
	Waiting *waiting = g_new0(Waiting, 1);

	waiting->held = held;
	waiting->process = process != NULL ? vigil_process_ref((VigilProcess *)process) : NULL;
	held->waiting = waiting;
	held->cancellable = g_cancellable_new();
	return waiting;
}

/* the answer came: the packet that waits for it, or NULL when it went on without */
static HeldPacket *
wait_end(Waiting *waiting, VigilProcess **process)
{
	HeldPacket *held = waiting->held;

	if (process != NULL)
		*process = g_steal_pointer(&waiting->process);
	g_clear_pointer(&waiting->process, vigil_process_unref);
	g_free(waiting);
	if (held != NULL) {
		held->waiting = NULL;
		g_clear_object(&held->cancellable);
	}
	return held;
}

static void run_turns(VigilDaemon *daemon);

/* @held's socket may take turns again; in a backlog, its next connection gets its turn */
static void
turn_done(HeldPacket *held)
{
	VigilDaemon *daemon = held->daemon;
	gboolean was_busy = held->turn.busy;

	if (held->turn.socket == NULL)
		return;
	vigil_turns_done(daemon->turns, &held->turn);
	if (was_busy && vigil_turns_ready(daemon->turns) && daemon->turns_source == 0)
		run_turns(daemon);
}

static void
on_attributed(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) process = NULL;
	HeldPacket *held = wait_end(data, NULL);

	if (held == NULL) {
		/* its deadline passed while we were looking */
		g_autoptr(VigilProcess) late = vigil_attributor_lookup_finish(NULL, result, NULL);
		return;
	}
	process = vigil_attributor_lookup_finish(held->daemon->attributor, result, &error);
	held->cookie = vigil_attributor_lookup_cookie(result);
	turn_done(held);
	if (error != NULL)
		g_debug("attribution failed, unknown process: %s", error->message);
	decide(held, process);
}

static void
on_hashed(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VigilProcess) unhashed = NULL;
	g_autoptr(VigilProcess) hashed = NULL;
	HeldPacket *held = wait_end(data, &unhashed);

	hashed = vigil_attributor_hash_finish(NULL, result, &error);
	if (held == NULL)
		return;
	/* without it, rules that pin a hash do not match; the others still do */
	if (hashed == NULL)
		g_debug("no hash for %s: %s", unhashed->exe, error->message);
	/* too much left to read for a connection to wait: it is made on, for the cache */
	held->hash_pending = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PENDING);
	decide(held, hashed != NULL ? hashed : unhashed);
}

/* hashes @process's executable (one hash per file, in a pool), then decides again */
static void
start_hash(HeldPacket *held, const VigilProcess *process)
{
	Waiting *waiting = wait_start(held, process);

	held->hash_tried = TRUE;
	vigil_attributor_hash_async(held->daemon->attributor, waiting->process, held->cancellable,
	                            on_hashed, waiting);
}

static void
on_upgrade_checked(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(VigilProcess) process = NULL;
	HeldPacket *held = wait_end(data, &process);

	vigil_upgrades_follow_finish(result);
	/* past its deadline it went on without: decided as a changed program */
	if (held != NULL)
		decide(held, process);
}

/* checks @process's file against its package (off the main thread) when its rules pin another
 * build; TRUE when @held waits for that, to be decided again by the rules it left */
static gboolean
start_upgrade_check(HeldPacket *held, const VigilProcess *process)
{
	Waiting *waiting = wait_start(held, process);

	held->upgrade_tried = TRUE;
	if (vigil_upgrades_follow(held->daemon->upgrades, waiting->process, held->cancellable,
	                          on_upgrade_checked, waiting))
		return TRUE;
	wait_end(waiting, NULL);
	return FALSE;
}

static void
decide_malformed(VigilDaemon *daemon, const VigilQueuedPacket *packet, const GError *error)
{
	/* the local stack does not build broken packets; a raw socket might. Not let out. */
	g_warning("dropping malformed packet %u (%u bytes): %s", packet->id, (guint)packet->len,
	          error->message);
	send_verdict(daemon, packet->id, packet->mark, VIGIL_ACTION_DROP, FALSE);
}

static void
on_packet(const VigilQueuedPacket *packet, gpointer data)
{
	VigilDaemon *daemon = data;
	g_autoptr(GError) error = NULL;
	HeldPacket *held = g_new0(HeldPacket, 1);

	held->daemon = daemon;
	held->packet_id = packet->id;
	held->mark = packet->mark;
	held->ct_id = packet->ct_id;
	held->received_us = packet->received_us;
	held->deadline_us = packet->received_us + ATTRIBUTION_DEADLINE_US;
	held->link.data = held;
	if (!vigil_packet_parse_captured(packet->payload, packet->len, packet->packet_len,
	                                 &held->flow, &error)) {
		decide_malformed(daemon, packet, error);
		held_packet_free(held);
		return;
	}
	held->flow.has_uid = packet->has_uid;
	held->flow.uid = packet->uid;
	held->bucket = held_bucket_of(&held->flow);
	held_enqueue(daemon, held);

	/* its turn comes after the batch is read (on_queue_batch) */
	VigilTurnsKey key;
	vigil_turns_key_from_flow(&key, &held->flow, held_uid(held));
	if (held_over_share(daemon, held)) {
		/* a flood: the uid's longest backlog gives up its newest packet, decided without
		 * looking for its process, rather than fall behind (or this one, if that is it) */
		HeldPacket *victim = vigil_turns_evict(daemon->turns, &key);
		if (victim == NULL) {
			decide_overflow(held);
			return;
		}
		decide_overflow(victim);
	}
	if (!vigil_turns_push(daemon->turns, &key, &held->turn, held)) {
		/* its socket's backlog is full: denied and counted, never let through */
		finish_held(held, VIGIL_ACTION_DENY, VIGIL_REASON_OVERFLOW, NULL, NULL);
		return;
	}
}

/*
 * @held's turn (vigil-turns.h). A known process is answered at once, without a round trip
 * through the main loop. While no rule reads the cmdline, a cached process is confirmed by
 * its exe alone: a system call less per connection, and only an exec of the same executable
 * again (a new cmdline) would go unseen. Decide_unmatched confirms it in full before any
 * prompt.
 */
static void
take_turn(HeldPacket *held)
{
	VigilDaemon *daemon = held->daemon;
	VigilLookupCheck check =
	    vigil_ruleset_uses_cmdline(vigil_rule_store_get_ruleset(daemon->store))
	        ? VIGIL_LOOKUP_EXACT
	        : VIGIL_LOOKUP_SAME_PROGRAM;
	VigilProcess *process = NULL;

	if (vigil_attributor_lookup_fast_cookie(daemon->attributor, &held->flow, check, &process,
	                                        &held->cookie)) {
		turn_done(held);
		held->cmdline_unchecked = check != VIGIL_LOOKUP_EXACT;
		decide(held, process);
		vigil_process_unref(process);
		return;
	}
	/* one slow lookup per socket at a time: its next connections wait for what it finds */
	vigil_turns_busy(daemon->turns, &held->turn);
	start_lookup(held);
}

/*
 * Takes turns for a while. In a backlog, the queue is read between turns, so a connection
 * arriving behind thousands of another socket's waits for one turn of each, not for them all.
 */
static void
run_turns(VigilDaemon *daemon)
{
	gint64 end = g_get_monotonic_time() + TURNS_SLICE_US;
	HeldPacket *held;

	while ((held = vigil_turns_pop(daemon->turns)) != NULL) {
		take_turn(held);
		if (!vigil_turns_ready(daemon->turns))
			break;
		vigil_queue_read_pending(daemon->queue);
		if (g_get_monotonic_time() >= end)
			break;
	}
	if (vigil_turns_ready(daemon->turns) && daemon->turns_source == 0)
		daemon->turns_source =
		    g_idle_add_full(G_PRIORITY_DEFAULT, on_turns_idle, daemon, NULL);
}

static gboolean
on_turns_idle(gpointer data)
{
	VigilDaemon *daemon = data;

	daemon->turns_source = 0;
	run_turns(daemon);
	return G_SOURCE_REMOVE;
}

static void
on_queue_batch(gpointer data)
{
	run_turns(data);
}

/* the full lookup, on a worker thread when it has to search; decides when it is back */
static void
start_lookup(HeldPacket *held)
{
	Waiting *waiting = wait_start(held, NULL);

	vigil_attributor_lookup_async(held->daemon->attributor, &held->flow, held->cancellable,
	                              on_attributed, waiting);
}

/* shutdown: DefaultAction, whatever it waits for */
static void
expire_held(HeldPacket *held, VigilReason reason)
{
	VigilDaemon *daemon = held->daemon;

	if (held->turn.waiting)
		vigil_turns_remove(daemon->turns, &held->turn);
	else if (held->turn.socket != NULL)
		vigil_turns_done(daemon->turns, &held->turn);
	held_dequeue(daemon, held);
	learn_hostnames(held, dns_uid(held, NULL));
	send_and_log(held, daemon->config.default_action, reason, NULL, NULL);
	held_packet_free(held);
}

/*
 * The attribution deadline passed: the rules decide now with what is known. With the lookup
 * still out, it is an unknown program: "app unknown" rules and the rules that need no program
 * (addresses, ports, users) decide (a program cannot escape a "deny app unknown" by making its
 * own lookup slow); with no such rule it is asked about as an unknown program, or gets
 * DefaultAction, as any unknown program would. With the process
 * found and only its hash still out, it is decided with its program but no hash (rules that
 * pin a hash do not match). A late packet starts no more lookups or hashes, so it always leaves
 * daemon->held.
 */
static void
decide_late(HeldPacket *held)
{
	g_autoptr(VigilProcess) process = held->waiting != NULL ? wait_abandon(held) : NULL;

	held->late = TRUE;
	/* a hash given up on goes on in the pool, for the cache */
	held->hash_pending = process != NULL && process->sha256 == NULL;
	decide(held, process);
}

static gboolean
on_deadline_tick(gpointer data)
{
	VigilDaemon *daemon = data;
	gint64 now = g_get_monotonic_time();

	while (daemon->held.head != NULL) {
		HeldPacket *held = daemon->held.head->data;
		if (held->deadline_us > now)
			break;
		if (held->turn.waiting) {
			/* a backlog kept it from its turn: as for a flood, never DefaultAction */
			vigil_turns_remove(daemon->turns, &held->turn);
			decide_overflow(held);
		} else
			decide_late(held);
	}
	return G_SOURCE_CONTINUE;
}

static void
save_learned_rules(VigilDaemon *daemon)
{
	g_autoptr(GError) error = NULL;

	if (!vigil_rule_store_save(daemon->store, &error))
		g_warning("saving learned rules: %s", error->message);
}

static gboolean
on_expiry_tick(gpointer data)
{
	VigilDaemon *daemon = data;
	/* also until-quit rules whose process exit no pidfd reported */
	guint n =
	    vigil_rule_lifetimes_update(daemon->lifetimes, g_get_real_time() / G_USEC_PER_SEC);

	vigil_dns_watch_expire(daemon->dns_watch, g_get_monotonic_time());
	if (daemon->capture != NULL)
		vigil_capture_expire(daemon->capture, g_get_monotonic_time());
	if (n > 0)
		vigil_daemon_rules_changed(daemon);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_save_tick(gpointer data)
{
	/* hit counts and last-hit times of learned rules reach the disk now and then */
	save_learned_rules(data);
	return G_SOURCE_CONTINUE;
}

static void
on_rules_changed(gpointer data)
{
	VigilDaemon *daemon = data;

	/* logged once the rules in force act on what they changed (tests wait for it) */
	vigil_daemon_rules_changed(daemon);
	g_info("rules reloaded: %u rule(s)",
	       vigil_ruleset_size(vigil_rule_store_get_ruleset(daemon->store)));
}

/*
 * The connections answers just decided by the rules they made, now in force: when the rules
 * still decide each so (matched again, no hit counted), the kernel decides the next ones.
 */
static void
remember_answered(VigilDaemon *daemon)
{
	VigilRuleset *ruleset = vigil_rule_store_get_ruleset(daemon->store);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	for (guint i = 0; i < daemon->answered->len && daemon->kernel_verdicts != NULL; i++) {
		const Answered *a = g_ptr_array_index(daemon->answered, i);
		const VigilProcess *p = a->process;
		VigilMatchQuery q;
		HeldPacket held = {0};

		vigil_process_match_query(&q, p->uid, p, &a->flow, a->hostnames);
		VigilRule *rule = vigil_ruleset_peek(ruleset, &q, now);
		if (rule == NULL || rule->id != a->rule_id)
			continue;
		held.daemon = daemon;
		held.flow = a->flow;
		held.hostnames = a->hostnames;
		kernel_remember(&held, rule, p, &q,
		                vigil_ebpf_verdicts_generation(daemon->kernel_verdicts));
	}
	g_ptr_array_set_size(daemon->answered, 0);
}

static void
on_prompt_rules_changed(gpointer data)
{
	vigil_daemon_rules_changed(data);
	remember_answered(data);
}

static void
on_rules_ended(gpointer data)
{
	vigil_daemon_rules_changed(data);
}

static void
on_pins_moved(gpointer data)
{
	vigil_daemon_rules_changed(data);
}

static void
follow_upgrades(VigilDaemon *daemon, const VigilDaemonPaths *paths)
{
	g_autofree char *dir = g_path_get_dirname(paths->learned_path);
	g_autofree char *path = g_build_filename(dir, PIN_PACKAGES_FILE, NULL);

	daemon->upgrades =
	    vigil_upgrades_new(daemon->store, VIGIL_DPKG_INFO_DIR, path, on_pins_moved, daemon);
	/* pins made before: their packages, while their files are still the pinned ones */
	vigil_upgrades_rules_changed(daemon->upgrades);
}

/* every decision, kept beside the learned rules (vigil-history.h) */
static void
open_history(VigilDaemon *daemon, const VigilDaemonPaths *paths)
{
	g_autofree char *dir = g_path_get_dirname(paths->learned_path);
	g_autofree char *path = g_build_filename(dir, HISTORY_FILE, NULL);
	VigilHistoryLimits limits = {daemon->config.history_days, daemon->config.history_size_mib};

	daemon->history = vigil_history_new(path, &limits);
}

/* capture rules' files, beside the learned rules: a help, not a condition */
static void
open_captures(VigilDaemon *daemon, const VigilDaemonPaths *paths)
{
	g_autofree char *dir = g_path_get_dirname(paths->learned_path);
	g_autofree char *path = g_build_filename(dir, CAPTURES_DIR, NULL);
	VigilCaptureLimits limits = {(guint64)daemon->config.capture_flow_kib * 1024,
	                             (guint64)daemon->config.capture_total_mib * 1024 * 1024};
	g_autoptr(GError) error = NULL;

	if (vigil_netfilter_capture_mark(&daemon->config) == 0) {
		g_info("no packet capture: MarkMask has no third bit for it");
		return;
	}
	daemon->capture = vigil_capture_new(path, &limits, &error);
	if (daemon->capture == NULL)
		g_warning("no packet capture: %s", error->message);
}

static void
on_rule_without_hash(guint64 rule_id, const VigilProcess *process, gpointer data)
{
	VigilDaemon *daemon = data;

	vigil_hash_pins_add(daemon->hash_pins, rule_id, process);
}

static char *
peek_hash(const VigilProcess *process, gpointer data)
{
	VigilDaemon *daemon = data;

	return vigil_attributor_peek_hash(daemon->attributor, process);
}

/* hashes of big executables take seconds: kept beside the learned rules across restarts */
static void
remember_hashes(VigilDaemon *daemon, const VigilDaemonPaths *paths)
{
	g_autofree char *dir = g_path_get_dirname(paths->learned_path);
	g_autofree char *path = g_build_filename(dir, EXE_HASHES_FILE, NULL);
	g_autoptr(GError) error = NULL;

	if (!vigil_attributor_set_hash_file(daemon->attributor, path, &error))
		g_warning("%s", error->message);
}

VigilDaemon *
vigil_daemon_new(const VigilConfig *config, const VigilDaemonPaths *paths, GError **error)
{
	static const VigilPromptsCallbacks prompt_callbacks = {
	    on_prompt_finish, on_prompt_rules_changed, on_rule_without_hash};
	g_autoptr(VigilDaemon) daemon = g_new0(VigilDaemon, 1);

	daemon->config = *config;
	g_queue_init(&daemon->held);
	daemon->held_per_uid = g_hash_table_new(NULL, NULL);
	daemon->answered = g_ptr_array_new_with_free_func((GDestroyNotify)answered_free);
	daemon->turns = vigil_turns_new(MAX_WAITING_PER_SOCKET);
	daemon->decisions = vigil_decision_log_new(DECISION_RING_SIZE);
	daemon->store =
	    vigil_rule_store_new(paths->rules_dir, paths->learned_path, vigil_user_resolve);
	if (!vigil_rule_store_load(daemon->store, NULL, error))
		return NULL;
	daemon->attributor = vigil_attributor_new(paths->proc_root, error);
	if (daemon->attributor == NULL)
		return NULL;
	remember_hashes(daemon, paths);
	follow_upgrades(daemon, paths);
	open_history(daemon, paths);
	open_captures(daemon, paths);
	daemon->netfilter = vigil_netfilter_new(config);
	daemon->dns_cache =
	    vigil_dns_cache_new(VIGIL_DNS_CACHE_MAX_ENTRIES, VIGIL_DNS_CACHE_TTL_FLOOR_S,
	                        VIGIL_DNS_CACHE_TTL_CEILING_S);
	daemon->dns_watch = vigil_dns_watch_new(daemon->dns_cache);
	daemon->prompts =
	    vigil_prompts_new(daemon->store, &daemon->config, &prompt_callbacks, daemon);
	daemon->lifetimes =
	    vigil_rule_lifetimes_new(daemon->store, paths->proc_root, on_rules_ended, daemon);
	daemon->hash_pins = vigil_hash_pins_new(daemon->store, peek_hash, on_rules_ended, daemon);
	/* rules that ended while vigild was not running (until-quit: their process quit) */
	vigil_rule_lifetimes_update(daemon->lifetimes, g_get_real_time() / G_USEC_PER_SEC);
	return g_steal_pointer(&daemon);
}

static void
on_dns_copies(const guint8 *datagram, gsize len, gpointer data)
{
	VigilDaemon *daemon = data;

	vigil_dns_watch_handle_copies(daemon->dns_watch, datagram, len);
	/* a name learned for an address: what the kernel decided for it may differ now */
	if (daemon->kernel_verdicts != NULL &&
	    vigil_dns_cache_changes(daemon->dns_cache) != daemon->dns_changes)
		kernel_invalidate(daemon);
}

static void
start_dns_watch(VigilDaemon *daemon)
{
	g_autoptr(GError) error = NULL;

	/* names are a help, not a condition: without them, rules by address still work */
	if (!vigil_queue_bind_log_group(daemon->queue, VIGIL_DNS_NFLOG_GROUP, on_dns_copies, daemon,
	                                &error))
		g_warning("hostnames unknown: cannot watch DNS answers: %s", error->message);
	else
		g_info("watching DNS answers (NFLOG group %u)", VIGIL_DNS_NFLOG_GROUP);
}

static void
start_capture_reader(VigilDaemon *daemon)
{
	g_autoptr(GError) error = NULL;

	if (daemon->capture == NULL)
		return;
	if (!vigil_capture_start(daemon->capture, &error)) {
		g_warning("no packet capture: %s", error->message);
		g_clear_pointer(&daemon->capture, vigil_capture_free);
		return;
	}
	g_info("packet capture: NFLOG group %u, %u KiB per flow, %u MiB in all",
	       VIGIL_CAPTURE_NFLOG_GROUP, daemon->config.capture_flow_kib,
	       daemon->config.capture_total_mib);
}

static void
start_socket_watch(VigilDaemon *daemon)
{
	g_autoptr(GError) error = NULL;

	/* without it, another program can send on an allowed UDP flow's verdict after its
	 * socket closed, until conntrack forgets the flow (vigil-socket-watch.h) */
	daemon->socket_watch = vigil_socket_watch_new(&error);
	if (daemon->socket_watch == NULL)
		g_warning("allowed UDP flows outlive their sockets: %s", error->message);
}

/*
 * Attribution=auto|ebpf|queue: the kernel's record of who connected or sent, when its programs
 * load; in auto mode a failure is logged with its reason and vigild finds programs in /proc.
 */
static gboolean
start_ebpf(VigilDaemon *daemon, GError **error)
{
	g_autoptr(GError) local_error = NULL;

	if (daemon->config.attribution == VIGIL_ATTRIBUTION_QUEUE) {
		g_info("attribution: sock_diag and /proc (Attribution=queue)");
		return TRUE;
	}
	daemon->ebpf = vigil_ebpf_new(daemon->config.ebpf_cgroup, &local_error);
	if (daemon->ebpf == NULL) {
		if (daemon->config.attribution == VIGIL_ATTRIBUTION_EBPF) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local_error),
			                           "Attribution=ebpf: ");
			return FALSE;
		}
		g_warning("attribution: eBPF unavailable, finding programs through /proc: %s",
		          local_error->message);
		return TRUE;
	}
	vigil_attributor_set_ebpf(daemon->attributor, daemon->ebpf);
	g_info("attribution: eBPF, recorded in the kernel for the sockets of cgroup %s",
	       vigil_ebpf_get_cgroup(daemon->ebpf));
	return TRUE;
}

/* what the kernel decided stops with the rules, the settings or the names it was decided on */
static void
kernel_invalidate(VigilDaemon *daemon)
{
	if (daemon->kernel_verdicts == NULL)
		return;
	vigil_ebpf_verdicts_invalidate(daemon->kernel_verdicts, daemon->config.enabled,
	                               daemon->config.mark_mask);
	daemon->dns_changes = vigil_dns_cache_changes(daemon->dns_cache);
}

/*
 * A datagram the kernel failed for a socket's stale verdict bits: no decision of a rule, so
 * no decision line; its lines share one budget (the decision log's per-program lines per
 * interval), the rest is counted and told with the next line: a flood of them (an event per
 * sendto) must not flood the journal (review L3).
 */
static void
log_stale(VigilDaemon *daemon, const VigilVerdictEvent *event)
{
	char addr[INET6_ADDRSTRLEN];
	gint64 now = g_get_monotonic_time();

	if (now - daemon->stale_interval_start >= VIGIL_DECISION_LOG_INTERVAL_S * G_USEC_PER_SEC) {
		daemon->stale_interval_start = now;
		daemon->stale_lines = 0;
	}
	if (daemon->stale_lines >= VIGIL_DECISION_LOG_LINES_PER_PROGRAM) {
		daemon->stale_suppressed++;
		return;
	}
	daemon->stale_lines++;
	g_autofree char *comm = vigil_decision_log_escape(event->comm);
	g_message("denied a datagram of pid %u (%s) to %s port %u: its socket had the "
	          "verdict of a connect() to another destination (kernel; %u more not logged)",
	          event->tgid, comm,
	          vigil_address_to_string(event->key.family, &event->key.dst, addr, sizeof(addr)),
	          event->key.dport, daemon->stale_suppressed);
	daemon->stale_suppressed = 0;
}

/* one connection the kernel decided: logged, counted and in the history as any other */
static void
on_kernel_verdict(const VigilVerdictEvent *event, gpointer data)
{
	VigilDaemon *daemon = data;
	VigilDecision decision = {0};

	if (event->stale) {
		log_stale(daemon, event);
		return;
	}
	decision.time = event->time_us;
	decision.family = event->key.family;
	decision.protocol = event->key.protocol;
	decision.dst = event->key.dst;
	decision.dport = event->key.dport;
	decision.uid = event->key.uid;
	decision.pid = event->tgid;
	decision.verdict = event->action;
	decision.reason = VIGIL_REASON_RULE;
	decision.rule_id = event->rule_id;
	decision.kernel = TRUE;
	if (event->info != NULL) {
		decision.program = g_strdup(event->info->program);
		decision.hostname = g_strdup(event->info->hostname);
		decision.user_name = g_strdup(event->info->user_name);
	} else {
		/* the task's name is the task's choice: escaped as the log escapes (and valid
		 * UTF-8 for D-Bus) */
		g_autofree char *comm = vigil_decision_log_escape(event->comm);
		decision.program = g_strdup_printf("[%s]", comm);
		decision.user_name = vigil_user_name(decision.uid);
	}
	VigilRule *rule =
	    vigil_ruleset_lookup(vigil_rule_store_get_ruleset(daemon->store), event->rule_id);
	if (rule != NULL) {
		rule->hits++;
		rule->last_hit = event->time_us / G_USEC_PER_SEC;
	}
	daemon->stats.kernel_decided++;
	if (decision.verdict != VIGIL_ACTION_ALLOW)
		vigil_prompts_notify_blocked(daemon->prompts, &decision,
		                             vigil_decision_log_last_id(daemon->decisions) + 1);
	log_decision(daemon, &decision, event->info != NULL ? event->info->sha256 : NULL);
}

/*
 * KernelVerdicts=auto|ebpf|queue: the kernel decides again what a rule decided, when the
 * attribution programs run; in auto mode a failure is logged with its reason and the queue
 * decides every new connection, as it does without.
 */
static gboolean
start_kernel_verdicts(VigilDaemon *daemon, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	VigilKernelVerdicts mode = daemon->config.kernel_verdicts;

	if (mode == VIGIL_KERNEL_VERDICTS_QUEUE) {
		g_info("kernel verdicts: none, the queue decides every new connection "
		       "(KernelVerdicts=queue)");
		return TRUE;
	}
	if (daemon->ebpf == NULL)
		g_set_error(&local_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		            "the eBPF attribution programs do not run (Attribution=%s)",
		            vigil_attribution_to_string(daemon->config.attribution));
	else
		daemon->kernel_verdicts = vigil_ebpf_verdicts_new(
		    vigil_ebpf_get_cgroup(daemon->ebpf), on_kernel_verdict, daemon, &local_error);
	if (daemon->kernel_verdicts == NULL) {
		if (mode == VIGIL_KERNEL_VERDICTS_EBPF) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local_error),
			                           "KernelVerdicts=ebpf: ");
			return FALSE;
		}
		g_warning(
		    "kernel verdicts: unavailable, the queue decides every new connection: %s",
		    local_error->message);
		return TRUE;
	}
	kernel_invalidate(daemon);
	g_info("kernel verdicts: connections a rule decided are decided in the kernel next time "
	       "(cgroup %s)",
	       vigil_ebpf_get_cgroup(daemon->ebpf));
	return TRUE;
}

static void
on_flow_counters(const VigilFlowCounters *counters, gpointer data)
{
	VigilDaemon *daemon = data;

	vigil_history_add_traffic(daemon->history, counters);
}

/* bytes per allowed flow, for the history: a help, not a condition */
static void
start_traffic_counts(VigilDaemon *daemon)
{
	g_autoptr(GError) error = NULL;

	if (!vigil_history_is_on(daemon->history))
		return;
	daemon->conntrack = vigil_conntrack_new(
	    vigil_netfilter_mark(&daemon->config, VIGIL_ACTION_ALLOW),
	    vigil_netfilter_action_mask(&daemon->config), on_flow_counters, daemon, &error);
	if (daemon->conntrack == NULL)
		g_warning("no bytes per connection in the history: %s", error->message);
}

gboolean
vigil_daemon_start(VigilDaemon *daemon, GError **error)
{
	/* before any packet is queued: a socket's record is made when it connects */
	if (!start_ebpf(daemon, error) || !start_kernel_verdicts(daemon, error))
		return FALSE;
	/* bind first: once our rules are in, every queued packet has a reader */
	daemon->queue = vigil_queue_new(daemon->config.queue_number, daemon->config.queue_length,
	                                on_packet, daemon, error);
	if (daemon->queue == NULL)
		return FALSE;
	vigil_queue_set_batch_func(daemon->queue, on_queue_batch, daemon);
	start_dns_watch(daemon);
	start_capture_reader(daemon);
	start_socket_watch(daemon);
	start_traffic_counts(daemon);
	if (!vigil_netfilter_install(daemon->netfilter, error)) {
		g_clear_pointer(&daemon->queue, vigil_queue_free);
		return FALSE;
	}
	vigil_rule_store_watch(daemon->store, G_CALLBACK(on_rules_changed), daemon);
	daemon->deadline_source = g_timeout_add(DEADLINE_TICK_MS, on_deadline_tick, daemon);
	daemon->expiry_source = g_timeout_add_seconds(EXPIRY_TICK_S, on_expiry_tick, daemon);
	daemon->save_source = g_timeout_add_seconds(SAVE_TICK_S, on_save_tick, daemon);
	g_message("filtering: queue %u, %s backend, fail mode %s, default action %s, %u rule(s), "
	          "attribution %s, kernel verdicts %s",
	          daemon->config.queue_number,
	          vigil_backend_to_string(vigil_netfilter_get_backend(daemon->netfilter)),
	          vigil_fail_mode_to_string(daemon->config.fail_mode),
	          vigil_action_to_string(daemon->config.default_action),
	          vigil_ruleset_size(vigil_rule_store_get_ruleset(daemon->store)),
	          daemon->ebpf != NULL ? "ebpf" : "queue",
	          daemon->kernel_verdicts != NULL ? "ebpf" : "queue");
	return TRUE;
}

void
vigil_daemon_stop(VigilDaemon *daemon)
{
	g_autoptr(GError) error = NULL;

	/* the kernel decides nothing more (its last decisions are logged) */
	g_clear_pointer(&daemon->kernel_verdicts, vigil_ebpf_verdicts_free);
	/* verdicts first, while our rules are in: they carry out a verdict's mark (a deny is a
	 * reset); with the rules gone a held connection re-ran an empty chain and got out */
	vigil_prompts_finish_all(daemon->prompts, daemon->config.default_action,
	                         VIGIL_REASON_SHUTDOWN, VIGIL_CANCEL_SHUTDOWN);
	while (daemon->held.head != NULL)
		expire_held(daemon->held.head->data, VIGIL_REASON_SHUTDOWN);
	if (!vigil_netfilter_remove(daemon->netfilter, &error))
		g_warning("removing netfilter rules: %s", error->message);
	g_clear_handle_id(&daemon->turns_source, g_source_remove);
	g_clear_handle_id(&daemon->deadline_source, g_source_remove);
	g_clear_handle_id(&daemon->expiry_source, g_source_remove);
	g_clear_handle_id(&daemon->save_source, g_source_remove);
	save_learned_rules(daemon);
}

void
vigil_daemon_reload_rules(VigilDaemon *daemon)
{
	g_autoptr(GError) error = NULL;

	if (!vigil_rule_store_load(daemon->store, NULL, &error))
		g_warning("reloading rules: %s", error->message);
	else
		on_rules_changed(daemon);
}

void
vigil_daemon_free(VigilDaemon *daemon)
{
	if (daemon == NULL)
		return;
	g_clear_handle_id(&daemon->turns_source, g_source_remove);
	g_clear_handle_id(&daemon->deadline_source, g_source_remove);
	g_clear_handle_id(&daemon->expiry_source, g_source_remove);
	g_clear_handle_id(&daemon->save_source, g_source_remove);
	/* before the queue goes: the requests' packets get their verdicts */
	g_clear_pointer(&daemon->kernel_verdicts, vigil_ebpf_verdicts_free);
	g_clear_pointer(&daemon->prompts, vigil_prompts_free);
	g_clear_pointer(&daemon->lifetimes, vigil_rule_lifetimes_free);
	g_clear_pointer(&daemon->hash_pins, vigil_hash_pins_free);
	g_clear_pointer(&daemon->queue, vigil_queue_free);
	g_clear_pointer(&daemon->dns_watch, vigil_dns_watch_free);
	g_clear_pointer(&daemon->dns_cache, vigil_dns_cache_free);
	g_clear_pointer(&daemon->capture, vigil_capture_free);
	g_clear_pointer(&daemon->netfilter, vigil_netfilter_free);
	g_clear_pointer(&daemon->attributor, vigil_attributor_free);
	/* after the attributor, whose lookups may still read its maps */
	g_clear_pointer(&daemon->ebpf, vigil_ebpf_free);
	g_clear_pointer(&daemon->upgrades, vigil_upgrades_free);
	g_clear_pointer(&daemon->store, vigil_rule_store_free);
	g_clear_pointer(&daemon->decisions, vigil_decision_log_free);
	g_clear_pointer(&daemon->conntrack, vigil_conntrack_free);
	/* writes what is still queued */
	g_clear_pointer(&daemon->history, vigil_history_free);
	g_clear_pointer(&daemon->held_per_uid, g_hash_table_unref);
	g_clear_pointer(&daemon->answered, g_ptr_array_unref);
	g_clear_pointer(&daemon->turns, vigil_turns_free);
	g_clear_pointer(&daemon->socket_watch, vigil_socket_watch_free);
	g_clear_pointer(&daemon->basis_from, vigil_process_unref);
	g_clear_pointer(&daemon->basis_process, vigil_process_unref);
	g_free(daemon);
}

VigilCapture *
vigil_daemon_get_capture(VigilDaemon *daemon)
{
	return daemon->capture;
}

VigilRuleset *
vigil_daemon_get_ruleset(VigilDaemon *daemon)
{
	return vigil_rule_store_get_ruleset(daemon->store);
}

VigilDecisionLog *
vigil_daemon_get_decision_log(VigilDaemon *daemon)
{
	return daemon->decisions;
}

VigilHistory *
vigil_daemon_get_history(VigilDaemon *daemon)
{
	return daemon->history;
}

const VigilConfig *
vigil_daemon_get_config(VigilDaemon *daemon)
{
	return &daemon->config;
}

/* our rules again, for @fail_mode (--queue-bypass or not); on failure the old ones stay */
static gboolean
reinstall_netfilter(VigilDaemon *daemon, VigilFailMode fail_mode, GError **error)
{
	VigilConfig next = daemon->config;
	g_autoptr(VigilNetfilter) nf = NULL;

	next.fail_mode = fail_mode;
	nf = vigil_netfilter_new(&next);
	if (!vigil_netfilter_install(nf, error)) {
		g_autoptr(GError) again = NULL;

		/* a failed install leaves nothing of ours: put the old rules back */
		if (!vigil_netfilter_install(daemon->netfilter, &again))
			g_critical("netfilter rules lost, restart vigild: %s", again->message);
		return FALSE;
	}
	vigil_netfilter_free(daemon->netfilter);
	daemon->netfilter = g_steal_pointer(&nf);
	return TRUE;
}

gboolean
vigil_daemon_set_settings(VigilDaemon *daemon, VigilAction default_action, guint prompt_timeout,
                          VigilFailMode fail_mode, GError **error)
{
	/* only the bypass changes: a full queue drops in either mode (vigil-queue.h) */
	if (fail_mode != daemon->config.fail_mode && daemon->queue != NULL &&
	    !reinstall_netfilter(daemon, fail_mode, error))
		return FALSE;
	daemon->config.default_action = default_action;
	daemon->config.prompt_timeout = prompt_timeout;
	daemon->config.fail_mode = fail_mode;
	kernel_invalidate(daemon);
	return TRUE;
}

void
vigil_daemon_set_enabled(VigilDaemon *daemon, gboolean enabled)
{
	if (daemon->config.enabled == enabled)
		return;
	daemon->config.enabled = enabled;
	/* disabled: the kernel decides nothing; enabled again: from a new generation */
	kernel_invalidate(daemon);
	g_message("firewall %s", enabled ? "enabled" : "disabled: every connection is allowed");
	if (!enabled)
		vigil_prompts_finish_all(daemon->prompts, VIGIL_ACTION_ALLOW, VIGIL_REASON_DISABLED,
		                         VIGIL_CANCEL_DISABLED);
	else
		judge_live_flows(daemon); /* what was allowed meanwhile meets the rules now */
}

VigilRuleStore *
vigil_daemon_get_rule_store(VigilDaemon *daemon)
{
	return daemon->store;
}

VigilPrompts *
vigil_daemon_get_prompts(VigilDaemon *daemon)
{
	return daemon->prompts;
}

const char *
vigil_daemon_get_backend(VigilDaemon *daemon)
{
	return vigil_backend_to_string(vigil_netfilter_get_backend(daemon->netfilter));
}

void
vigil_daemon_get_stats(VigilDaemon *daemon, VigilDaemonStats *stats)
{
	VigilQueueStats queue = {0};

	*stats = daemon->stats;
	if (daemon->queue != NULL)
		vigil_queue_get_stats(daemon->queue, &queue);
	stats->queued = queue.received;
	stats->kernel_dropped = queue.queue_dropped + queue.user_dropped;
	stats->overruns = queue.enobufs;
	vigil_prompts_get_stats(daemon->prompts, &stats->prompted, &stats->timed_out);
	stats->pending = vigil_prompts_count(daemon->prompts);
	stats->rules = vigil_ruleset_size(vigil_rule_store_get_ruleset(daemon->store));
	stats->agents = vigil_agents_count(vigil_prompts_get_agents(daemon->prompts));
}

void
vigil_daemon_set_rules_changed_func(VigilDaemon *daemon, VigilDaemonFunc func, gpointer user_data)
{
	daemon->rules_changed_func = func;
	daemon->rules_changed_data = user_data;
}

/*
 * The rule that decides a live flow now, by the rules in force (no hit counted), from what it
 * was decided on. A socket several programs hold is decided as decide_shared() does: a holder
 * a rule blocks blocks it (returned); else a holder no rule covers leaves it unmatched (NULL);
 * else the (first) allow rule.
 */
static VigilRule *
match_live(VigilDaemon *daemon, const VigilFlow *flow, const FlowBasis *basis)
{
	VigilRuleset *ruleset = vigil_rule_store_get_ruleset(daemon->store);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	const VigilProcess *process = basis->process;
	guint holders = process != NULL && process->holders != NULL ? process->holders->len : 0;
	VigilRule *allow_rule = NULL;
	gboolean unmatched = FALSE;

	for (guint i = 0; i <= holders; i++) {
		const VigilProcess *holder =
		    i == 0 ? process : g_ptr_array_index(process->holders, i - 1);
		VigilMatchQuery q;
		VigilRule *rule;
		g_autofree char *sha256 = NULL;

		vigil_process_match_query(&q, holder != NULL ? holder->uid : basis->uid, holder,
		                          flow, basis->hostnames);
		/* a hash made since it was allowed (a big file) counts: a rule pinned to it once it
		 * was made still allows it */
		if (holder != NULL && holder->sha256 == NULL)
			q.sha256 = sha256 = vigil_attributor_peek_hash(daemon->attributor, holder);
		rule = vigil_ruleset_peek(ruleset, &q, now);
		if (rule != NULL && rule->action != VIGIL_ACTION_ALLOW)
			return rule;
		if (rule == NULL)
			unmatched = TRUE;
		else if (allow_rule == NULL)
			allow_rule = rule;
	}
	return unmatched ? NULL : allow_rule;
}

/* a TCP connection a rule now blocks is ended: logged as that rule's decision */
static void
log_ended(VigilDaemon *daemon, const VigilFlow *flow, const FlowBasis *basis, const VigilRule *rule)
{
	VigilDecision decision = {0};

	fill_decision_from_flow(&decision, flow, g_get_monotonic_time());
	decision.uid = basis->has_uid ? basis->uid : 0;
	decision.verdict = rule->action;
	decision.reason = VIGIL_REASON_RULE;
	decision.rule_id = rule->id;
	decision.hostname = basis->hostnames != NULL ? g_strdup(basis->hostnames[0]) : NULL;
	if (basis->process != NULL) {
		decision.pid = basis->process->pid;
		decision.uid = basis->process->uid;
		decision.user_name = g_strdup(basis->process->user_name);
		decision.program = g_strdup(basis->process->exe);
		decision.taint = basis->process->taint;
		decision.tracer_pid = basis->process->tracer_pid;
	} else {
		decision.user_name = vigil_user_name(decision.uid);
	}
	g_message("a live TCP connection is ended: rule %" G_GUINT64_FORMAT " now %s it", rule->id,
	          rule->action == VIGIL_ACTION_DENY ? "denies" : "drops");
	log_decision(daemon, &decision, basis->process != NULL ? basis->process->sha256 : NULL);
}

/*
 * Every live flow vigild allowed is decided again when the rules change (docs/rules.md, "When
 * the rules change"): a rule that now denies or drops it ends it; an allow rule keeps it; when
 * no rule covers it any more, a flow that a rule had allowed is decided again as a new
 * connection would be (asked about, or DefaultAction), and a flow allowed without a rule
 * (DefaultAction, an answer "once") keeps its verdict, as nothing about it changed.
 */
static VigilFlowFate
judge_live_flow(const VigilFlow *flow, gpointer tag, gpointer data)
{
	VigilDaemon *daemon = data;
	FlowBasis *basis = tag;
	VigilRule *rule;

	if (basis == NULL || !daemon->config.enabled)
		return VIGIL_FLOW_KEEP;
	rule = match_live(daemon, flow, basis);
	if (rule != NULL && rule->action != VIGIL_ACTION_ALLOW) {
		if (flow->protocol == IPPROTO_TCP)
			log_ended(daemon, flow, basis, rule);
		return VIGIL_FLOW_END;
	}
	if (rule != NULL) {
		basis->rule_id = rule->id;
		return VIGIL_FLOW_KEEP;
	}
	return basis->rule_id != 0 ? VIGIL_FLOW_AGAIN : VIGIL_FLOW_KEEP;
}

/*
 * A live TCP connection no rule covers any more, that a rule had allowed: asked about as a new
 * connection of its program would be, without holding anything (its packets flow meanwhile);
 * the answer allows it (watched again) or ends it. With no agent it gets DefaultAction.
 */
static void
ask_live_flow(const VigilFlow *flow, guint64 cookie, gpointer tag, GDestroyNotify tag_free,
              gpointer data)
{
	VigilDaemon *daemon = data;
	FlowBasis *basis = tag;
	HeldPacket *held = g_new0(HeldPacket, 1);

	held->daemon = daemon;
	held->live = TRUE;
	held->flow = *flow;
	held->flow.has_uid = basis->has_uid;
	held->flow.uid = basis->uid;
	/* it counts against its user's share, as its packets did, never root's */
	held->bucket = held_bucket_of(&held->flow);
	/* a deny ends that socket, not a newer one on the same tuple */
	held->cookie = cookie;
	held->received_us = g_get_monotonic_time();
	held->deadline_us = held->received_us + ATTRIBUTION_DEADLINE_US;
	held->link.data = held;
	held->hostnames = g_strdupv(basis->hostnames);
	/* what the prompt shows is what it was decided on: no new lookup, no hash to wait for */
	held->hash_tried = TRUE;
	held_enqueue(daemon, held);
	decide_unmatched(held, basis->process);
	tag_free(basis);
}

static void
judge_live_flows(VigilDaemon *daemon)
{
	const VigilSocketWatchJudge judge = {judge_live_flow, ask_live_flow, daemon};

	vigil_socket_watch_judge_all(daemon->socket_watch, &judge);
}

void
vigil_daemon_rules_changed(VigilDaemon *daemon)
{
	/* before anything else: the very next connection meets the rules as they are now */
	kernel_invalidate(daemon);
	/* new until-quit rules get their process watched (and end now when it is gone) */
	vigil_rule_lifetimes_update(daemon->lifetimes, g_get_real_time() / G_USEC_PER_SEC);
	vigil_upgrades_rules_changed(daemon->upgrades);
	vigil_prompts_recheck(daemon->prompts);
	judge_live_flows(daemon);
	if (daemon->rules_changed_func != NULL)
		daemon->rules_changed_func(daemon->rules_changed_data);
}
