/* vigil-netfilter.c: vigild's own netfilter rules, and nothing else's */
#define G_LOG_DOMAIN "vigil-netfilter"
#include "config.h"

#include <gio/gio.h>
#include "vigil-capture.h"
#include "vigil-dns-watch.h"
#include "vigil-netfilter.h"

/*
 * How a verdict reaches netfilter: vigild answers a queued packet with NF_REPEAT and a
 * packet mark (allow/deny/drop in our mark bits). The hook runs our chain again, which
 * copies the mark into conntrack and acts on it. Later packets of the flow carry the mark in
 * conntrack and are decided by the chain before the queue rule, so they never come back to
 * userspace (UDP flows without replies too: they stay NEW but are marked).
 */

/* DNS answers arriving, copied to vigild's DNS watch (NFLOG), which never holds them */
#define VIGIL_IPTABLES_INPUT_CHAIN "VIGIL_IN"

struct _VigilNetfilter {
	VigilConfig config;
	VigilBackend backend;
	gboolean installed;
};

/* the protocols Vigil decides; the rest never reach the queue */
static const char *const queued_protocols_v4[] = {"tcp", "udp", "udplite", "sctp", "icmp", NULL};
static const char *const queued_protocols_v6[] = {"tcp",  "udp",       "udplite",
                                                  "sctp", "ipv6-icmp", NULL};

guint32
vigil_netfilter_mark(const VigilConfig *config, VigilAction action)
{
	guint shift = (guint)__builtin_ctz(config->mark_mask);
	guint32 code = 0;

	switch (action) {
	case VIGIL_ACTION_ALLOW:
		code = 1;
		break;
	case VIGIL_ACTION_DENY:
		code = 2;
		break;
	case VIGIL_ACTION_DROP:
		code = 3;
		break;
	}
	return (code << shift) & config->mark_mask;
}

guint32
vigil_netfilter_action_mask(const VigilConfig *config)
{
	guint shift = (guint)__builtin_ctz(config->mark_mask);

	return (3u << shift) & config->mark_mask;
}

guint32
vigil_netfilter_capture_mark(const VigilConfig *config)
{
	guint shift = (guint)__builtin_ctz(config->mark_mask);

	return shift <= 29 ? (4u << shift) & config->mark_mask : 0;
}

/* the IP bytes of a flow, both directions, that its capture copies may cover */
static guint64
capture_flow_bytes(const VigilConfig *config)
{
	return (guint64)config->capture_flow_kib * 1024;
}

const char *
vigil_backend_to_string(VigilBackend backend)
{
	return backend == VIGIL_BACKEND_NFTABLES ? "nftables" : "iptables";
}

static void
append_verdict_rule(GString *s, const VigilConfig *config, const char *match, VigilAction action,
                    const char *target)
{
	g_string_append_printf(
	    s, "-A " VIGIL_IPTABLES_CHAIN " %s-m connmark --mark 0x%x/0x%x -j %s\n", match,
	    vigil_netfilter_mark(config, action), vigil_netfilter_action_mask(config), target);
}

/*
 * A copy of each packet of an allowed capture flow, in @chain (our OUTPUT or INPUT chain),
 * only while conntrack has counted at most CaptureFlowSize bytes of the flow (both
 * directions): the kernel never copies more of a flow, whatever it sends.
 */
static void
append_capture_rule(GString *s, const VigilConfig *config, const char *chain, const char *match)
{
	guint32 capture = vigil_netfilter_capture_mark(config);
	guint32 allow = vigil_netfilter_mark(config, VIGIL_ACTION_ALLOW);

	if (capture == 0 || config->capture_total_mib == 0)
		return;
	g_string_append_printf(
	    s,
	    "-A %s %s-m connmark --mark 0x%x/0x%x -m connbytes --connbytes "
	    "0:%" G_GUINT64_FORMAT " --connbytes-dir both --connbytes-mode bytes "
	    "-j NFLOG --nflog-group %u --nflog-size %u\n",
	    chain, match, allow | capture, vigil_netfilter_action_mask(config) | capture,
	    capture_flow_bytes(config), VIGIL_CAPTURE_NFLOG_GROUP, VIGIL_CAPTURE_SNAPLEN);
}

char *
vigil_netfilter_iptables_script(const VigilConfig *config, gboolean ipv6)
{
	GString *s = g_string_new("*filter\n");
	guint32 mask = config->mark_mask;
	const char *const *protocols = ipv6 ? queued_protocols_v6 : queued_protocols_v4;
	const char *loopback = config->filter_loopback ? "" : "! -o lo ";
	const char *bypass = config->fail_mode == VIGIL_FAIL_OPEN ? " --queue-bypass" : "";

	/* declaring our chains in --noflush mode empties them: a restart never duplicates */
	g_string_append(s, ":" VIGIL_IPTABLES_CHAIN " - [0:0]\n");
	g_string_append(s, ":" VIGIL_IPTABLES_INPUT_CHAIN " - [0:0]\n");
	/* a copy of each DNS query for the names of its answers; not again when our verdict
	 * re-runs the chain (the packet then carries our mark) */
	for (gsize i = 0; i < 2; i++)
		g_string_append_printf(s,
		                       "-A " VIGIL_IPTABLES_CHAIN
		                       " -p %s --dport 53 -m mark --mark "
		                       "0x0/0x%x -j NFLOG --nflog-group %u\n",
		                       i == 0 ? "udp" : "tcp", mask, VIGIL_DNS_NFLOG_GROUP);
	g_string_append_printf(s,
	                       "-A " VIGIL_IPTABLES_CHAIN " -m mark ! --mark 0x0/0x%x"
	                       " -j CONNMARK --save-mark --mask 0x%x\n",
	                       mask, mask);
	append_capture_rule(s, config, VIGIL_IPTABLES_CHAIN, "");
	/* deny and drop act on the original direction only: the reset or ICMP error that REJECT
	 * sends back belongs to the same conntrack entry and must not be rejected in turn */
	append_verdict_rule(s, config, "", VIGIL_ACTION_ALLOW, "RETURN");
	append_verdict_rule(s, config, "-p tcp -m conntrack --ctdir ORIGINAL ", VIGIL_ACTION_DENY,
	                    "REJECT --reject-with tcp-reset");
	append_verdict_rule(s, config, "-m conntrack --ctdir ORIGINAL ", VIGIL_ACTION_DENY,
	                    ipv6 ? "REJECT --reject-with icmp6-port-unreachable"
	                         : "REJECT --reject-with icmp-port-unreachable");
	append_verdict_rule(s, config, "-m conntrack --ctdir ORIGINAL ", VIGIL_ACTION_DROP, "DROP");
	/* a TCP segment conntrack cannot place (its entry was deleted and the kernel does not
	 * pick connections up mid-stream, nf_conntrack_tcp_loose=0; a FIN or RST without an
	 * entry) is never queued as new: dropped rather than let through undecided */
	g_string_append_printf(
	    s, "-A " VIGIL_IPTABLES_CHAIN " %s-p tcp -m conntrack --ctstate INVALID -j DROP\n",
	    loopback);
	for (gsize i = 0; protocols[i] != NULL; i++)
		g_string_append_printf(s,
		                       "-A " VIGIL_IPTABLES_CHAIN
		                       " %s-p %s -m conntrack --ctstate NEW"
		                       " -j NFQUEUE --queue-num %u%s\n",
		                       loopback, protocols[i], config->queue_number, bypass);
	/* what arrives on lo was copied on its way out already */
	append_capture_rule(s, config, VIGIL_IPTABLES_INPUT_CHAIN, "! -i lo ");
	for (gsize i = 0; i < 2; i++)
		g_string_append_printf(s,
		                       "-A " VIGIL_IPTABLES_INPUT_CHAIN
		                       " -p %s --sport 53 -j NFLOG --nflog-group %u\n",
		                       i == 0 ? "udp" : "tcp", VIGIL_DNS_NFLOG_GROUP);
	g_string_append(s, "COMMIT\n");
	return g_string_free(s, FALSE);
}

/* nft's form of append_capture_rule(), or NULL when there is no capture */
static char *
nft_capture_rule(const VigilConfig *config)
{
	guint32 capture = vigil_netfilter_capture_mark(config);

	if (capture == 0 || config->capture_total_mib == 0)
		return NULL;
	return g_strdup_printf(
	    "ct mark & 0x%x == 0x%x ct bytes <= %" G_GUINT64_FORMAT " log group %u snaplen %u",
	    vigil_netfilter_action_mask(config) | capture,
	    vigil_netfilter_mark(config, VIGIL_ACTION_ALLOW) | capture, capture_flow_bytes(config),
	    VIGIL_CAPTURE_NFLOG_GROUP, VIGIL_CAPTURE_SNAPLEN);
}

char *
vigil_netfilter_nft_script(const VigilConfig *config)
{
	GString *s = g_string_new(NULL);
	guint32 mask = config->mark_mask;
	guint32 actions_mask = vigil_netfilter_action_mask(config);
	guint32 allow = vigil_netfilter_mark(config, VIGIL_ACTION_ALLOW);
	g_autofree char *capture_rule = nft_capture_rule(config);
	/* the marks a verdict sets: each action, and allow with the capture bit */
	guint32 marks[] = {allow, vigil_netfilter_mark(config, VIGIL_ACTION_DENY),
	                   vigil_netfilter_mark(config, VIGIL_ACTION_DROP),
	                   allow | vigil_netfilter_capture_mark(config)};
	gsize n_marks = vigil_netfilter_capture_mark(config) != 0 ? 4 : 3;

	/* create-then-delete makes the replacement atomic whether or not the table exists */
	g_string_append(s, "table inet " VIGIL_NFT_TABLE " {}\n"
	                   "delete table inet " VIGIL_NFT_TABLE "\n"
	                   "table inet " VIGIL_NFT_TABLE " {\n"
	                   "\tchain output {\n"
	                   "\t\ttype filter hook output priority filter - 5; policy accept;\n");
	/* DNS queries and answers are copied to vigild's DNS watch (NFLOG), never held */
	g_string_append_printf(s,
	                       "\t\tmeta mark & 0x%x == 0 meta l4proto { tcp, udp } th dport 53 "
	                       "log group %u\n",
	                       mask, VIGIL_DNS_NFLOG_GROUP);
	for (gsize i = 0; i < n_marks; i++)
		g_string_append_printf(
		    s, "\t\tmeta mark & 0x%x == 0x%x ct mark set ct mark & 0x%x | 0x%x\n", mask,
		    marks[i], ~mask, marks[i]);
	if (capture_rule != NULL)
		g_string_append_printf(s, "\t\t%s\n", capture_rule);
	g_string_append_printf(s, "\t\tct mark & 0x%x == 0x%x accept\n", actions_mask, allow);
	g_string_append_printf(s,
	                       "\t\tct direction original meta l4proto tcp ct mark & 0x%x == 0x%x "
	                       "reject with tcp reset\n",
	                       actions_mask, vigil_netfilter_mark(config, VIGIL_ACTION_DENY));
	g_string_append_printf(s, "\t\tct direction original ct mark & 0x%x == 0x%x reject\n",
	                       actions_mask, vigil_netfilter_mark(config, VIGIL_ACTION_DENY));
	g_string_append_printf(s, "\t\tct direction original ct mark & 0x%x == 0x%x drop\n",
	                       actions_mask, vigil_netfilter_mark(config, VIGIL_ACTION_DROP));
	/* TCP conntrack cannot place is never queued as new: dropped, not let through undecided
	 * (as in the iptables script) */
	g_string_append_printf(s, "\t\t%smeta l4proto tcp ct state invalid drop\n",
	                       config->filter_loopback ? "" : "oifname != \"lo\" ");
	g_string_append_printf(s,
	                       "\t\t%smeta l4proto { tcp, udp, udplite, sctp, icmp, ipv6-icmp }"
	                       " ct state new queue num %u%s\n",
	                       config->filter_loopback ? "" : "oifname != \"lo\" ",
	                       config->queue_number,
	                       config->fail_mode == VIGIL_FAIL_OPEN ? " bypass" : "");
	g_string_append_printf(s,
	                       "\t}\n"
	                       "\tchain input {\n"
	                       "\t\ttype filter hook input priority filter - 5; policy accept;\n"
	                       "\t\tmeta l4proto { tcp, udp } th sport 53 log group %u\n",
	                       VIGIL_DNS_NFLOG_GROUP);
	/* what arrives on lo was copied on its way out already */
	if (capture_rule != NULL)
		g_string_append_printf(s, "\t\tiifname != \"lo\" %s\n", capture_rule);
	g_string_append(s, "\t}\n}\n");
	return g_string_free(s, FALSE);
}

/* runs @argv with @input on stdin; fails with the tool's stderr in the message */
static gboolean
run_tool(const char *const *argv, const char *input, GError **error)
{
	g_autoptr(GSubprocess) proc = NULL;
	g_autofree char *err_text = NULL;
	GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE;

	if (input != NULL)
		flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
	proc = g_subprocess_newv(argv, flags, error);
	if (proc == NULL)
		return FALSE;
	if (!g_subprocess_communicate_utf8(proc, input, NULL, NULL, &err_text, error))
		return FALSE;
	if (!g_subprocess_get_successful(proc)) {
		g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", cmd,
		            err_text != NULL ? g_strstrip(err_text) : "");
		return FALSE;
	}
	return TRUE;
}

static gboolean
nft_available(const VigilConfig *config)
{
	g_autofree char *script = vigil_netfilter_nft_script(config);
	const char *argv[] = {"nft", "--check", "-f", "-", NULL};
	g_autoptr(GError) error = NULL;

	/* --check has the kernel validate the batch: it fails where `queue` is missing */
	if (!run_tool(argv, script, &error)) {
		g_debug("nftables backend not usable: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

static const char *
iptables_tool(gboolean ipv6)
{
	return ipv6 ? "ip6tables" : "iptables";
}

/* our chains and the built-in chain that jumps to each */
static const char *const our_chains[][2] = {
    {"OUTPUT", VIGIL_IPTABLES_CHAIN},
    {"INPUT", VIGIL_IPTABLES_INPUT_CHAIN},
};

static gboolean
iptables_has_jump(gboolean ipv6, const char *builtin, const char *chain)
{
	const char *argv[] = {iptables_tool(ipv6), "-w", "-C", builtin, "-j", chain, NULL};
	return run_tool(argv, NULL, NULL);
}

static void
iptables_remove_family(gboolean ipv6)
{
	const char *tool = iptables_tool(ipv6);

	for (gsize c = 0; c < G_N_ELEMENTS(our_chains); c++) {
		const char *builtin = our_chains[c][0], *chain = our_chains[c][1];
		const char *del_jump[] = {tool, "-w", "-D", builtin, "-j", chain, NULL};
		const char *flush[] = {tool, "-w", "-F", chain, NULL};
		const char *delete_chain[] = {tool, "-w", "-X", chain, NULL};

		/* a crash between inserting and checking could, in theory, leave two jumps */
		for (int i = 0; i < 8 && run_tool(del_jump, NULL, NULL); i++)
			;
		run_tool(flush, NULL, NULL);
		run_tool(delete_chain, NULL, NULL);
	}
}

static gboolean
iptables_install_family(const VigilConfig *config, gboolean ipv6, GError **error)
{
	g_autofree char *script = vigil_netfilter_iptables_script(config, ipv6);
	g_autofree char *restore = g_strdup_printf("%s-restore", iptables_tool(ipv6));
	const char *restore_argv[] = {restore, "-w", "--noflush", NULL};

	if (!run_tool(restore_argv, script, error))
		return FALSE;
	/* the jumps go first so no earlier ACCEPT hides connections (or answers) from us */
	for (gsize c = 0; c < G_N_ELEMENTS(our_chains); c++) {
		const char *builtin = our_chains[c][0], *chain = our_chains[c][1];
		const char *jump_argv[] = {
		    iptables_tool(ipv6), "-w", "-I", builtin, "1", "-j", chain, NULL};

		if (!iptables_has_jump(ipv6, builtin, chain) && !run_tool(jump_argv, NULL, error))
			return FALSE;
	}
	return TRUE;
}

VigilNetfilter *
vigil_netfilter_new(const VigilConfig *config)
{
	VigilNetfilter *nf = g_new0(VigilNetfilter, 1);

	nf->config = *config;
	nf->backend = VIGIL_BACKEND_IPTABLES;
	return nf;
}

void
vigil_netfilter_free(VigilNetfilter *nf)
{
	g_free(nf);
}

VigilBackend
vigil_netfilter_get_backend(VigilNetfilter *nf)
{
	return nf->backend;
}

static gboolean
nft_install(VigilNetfilter *nf, GError **error)
{
	g_autofree char *script = vigil_netfilter_nft_script(&nf->config);
	const char *argv[] = {"nft", "-f", "-", NULL};

	return run_tool(argv, script, error);
}

gboolean
vigil_netfilter_install(VigilNetfilter *nf, GError **error)
{
	if (nft_available(&nf->config)) {
		nf->backend = VIGIL_BACKEND_NFTABLES;
		/* an earlier instance may have used the other backend */
		iptables_remove_family(FALSE);
		iptables_remove_family(TRUE);
		if (!nft_install(nf, error))
			return FALSE;
	} else {
		nf->backend = VIGIL_BACKEND_IPTABLES;
		if (!iptables_install_family(&nf->config, FALSE, error) ||
		    !iptables_install_family(&nf->config, TRUE, error)) {
			iptables_remove_family(FALSE);
			iptables_remove_family(TRUE);
			return FALSE;
		}
	}
	nf->installed = TRUE;
	g_info("netfilter backend %s: queue %u, fail mode %s, loopback %s",
	       vigil_backend_to_string(nf->backend), nf->config.queue_number,
	       vigil_fail_mode_to_string(nf->config.fail_mode),
	       nf->config.filter_loopback ? "filtered" : "not filtered");
	return TRUE;
}

gboolean
vigil_netfilter_remove(VigilNetfilter *nf, GError **error)
{
	if (!nf->installed)
		return TRUE;
	nf->installed = FALSE;
	if (nf->backend == VIGIL_BACKEND_NFTABLES) {
		const char *argv[] = {"nft", "delete", "table", "inet", VIGIL_NFT_TABLE, NULL};
		return run_tool(argv, NULL, error);
	}
	iptables_remove_family(FALSE);
	iptables_remove_family(TRUE);
	return TRUE;
}
