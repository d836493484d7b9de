/* vigil-netfilter.h: installing and removing vigild's own netfilter rules (nftables or iptables) */
#pragma once

#include <glib.h>
#include "vigil-config.h"

G_BEGIN_DECLS

typedef enum {
	VIGIL_BACKEND_NFTABLES, /* table inet vigil, native `queue` */
	VIGIL_BACKEND_IPTABLES, /* chain VIGIL in filter, xt NFQUEUE (iptables/ip6tables) */
} VigilBackend;

#define VIGIL_IPTABLES_CHAIN "VIGIL"
#define VIGIL_NFT_TABLE      "vigil"

/*
 * Vigil's mark bits (MarkMask, a run of at least two bits): the lowest two hold the verdict
 * (1 allow, 2 deny, 3 drop), the third, when MarkMask has one, is the capture bit: the flow
 * was allowed by a capture rule and its packets are copied to VIGIL_CAPTURE_NFLOG_GROUP.
 */
/* the mark Vigil sets on a packet for @action; the bits lie within config->mark_mask */
guint32 vigil_netfilter_mark(const VigilConfig *config, VigilAction action);
/* the verdict's bits of the mark: what the allow/deny/drop rules compare */
guint32 vigil_netfilter_action_mask(const VigilConfig *config);
/* the capture bit, or 0 when MarkMask has only two bits (no capture then) */
guint32 vigil_netfilter_capture_mark(const VigilConfig *config);

/* pure: the iptables-restore --noflush input for our chain (@ipv6: ip6tables flavour) */
char *vigil_netfilter_iptables_script(const VigilConfig *config, gboolean ipv6);
/* pure: the nft -f input that atomically replaces table inet vigil */
char *vigil_netfilter_nft_script(const VigilConfig *config);

typedef struct _VigilNetfilter VigilNetfilter;

VigilNetfilter *vigil_netfilter_new(const VigilConfig *config);
void vigil_netfilter_free(VigilNetfilter *nf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNetfilter, vigil_netfilter_free)

/*
 * Detects the backend (nftables when the kernel has the `queue` expression, else iptables)
 * and installs the rules, replacing any left by an earlier instance that crashed.
 * On failure nothing of ours stays installed.
 */
gboolean vigil_netfilter_install(VigilNetfilter *nf, GError **error);
/* removes exactly our rules: our table, or our chain and the one jump to it */
gboolean vigil_netfilter_remove(VigilNetfilter *nf, GError **error);
VigilBackend vigil_netfilter_get_backend(VigilNetfilter *nf);
const char *vigil_backend_to_string(VigilBackend backend);

G_END_DECLS
