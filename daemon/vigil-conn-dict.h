/* vigil-conn-dict.h: connections and decisions as the dictionaries of D-Bus (pure but for the
 * user and service databases) */
#pragma once

#include <gio/gio.h>

#include "vigil-decision-log.h"
#include "vigil-process.h"
#include "vigil-rule.h"

G_BEGIN_DECLS

/* "*.example.org" for "www.example.org" and "example.org"; NULL for a single label */
char *vigil_domain_target(const char *hostname);
/* adds the flow keys of a connection dictionary (protocol .. service) to @builder */
void vigil_connection_dict_add_flow(GVariantBuilder *builder, int family, guint8 protocol,
                                    const VigilAddress *dst, guint16 dport, guint8 icmp_type,
                                    const char *hostname);
/* adds the process keys (program .. foreign-mount-ns) for @process, or program "unknown" */
void vigil_connection_dict_add_process(GVariantBuilder *builder, const VigilProcess *process,
                                       guint32 uid);
/* a connection dictionary of a decision, with id, verdict, reason, rule and queued-us */
GVariant *vigil_decision_to_dict(const VigilDecision *decision, guint64 id);
/* TRUE for the protocols with ports (tcp, udp, udplite, sctp) */
gboolean vigil_protocol_has_ports(guint8 protocol);

G_END_DECLS
