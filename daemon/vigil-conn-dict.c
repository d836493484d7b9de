/* vigil-conn-dict.c: connections and decisions as the dictionaries of D-Bus (prompts, GetPending,
 * GetConnections, Notify) */
#define G_LOG_DOMAIN "vigil-dbus"
#include "config.h"

#include <arpa/inet.h>
#include <libpsl.h>
#include <netdb.h>
#include <string.h>

#include "vigil-conn-dict.h"
#include "vigil-dbus.h"
#include "vigil-process-taint.h"
#include "vigil-users.h"

/* the public suffix list: the newest of the system's copy (package publicsuffix) and the one
 * built into libpsl; loaded once, read-only after */
static const psl_ctx_t *
public_suffixes(void)
{
	static const psl_ctx_t *psl;

	if (g_once_init_enter(&psl)) {
		const psl_ctx_t *loaded = psl_latest(NULL);
		g_once_init_leave(&psl, loaded != NULL ? loaded : psl_builtin());
	}
	return psl;
}

char *
vigil_domain_target(const char *hostname)
{
	g_autofree char *lower = g_ascii_strdown(hostname, -1);
	const psl_ctx_t *psl = public_suffixes();
	const char *domain;

	/* the registrable domain: bbc.co.uk for www.bbc.co.uk, alice.github.io for
	 * www.alice.github.io; none for a public suffix itself or a single label */
	if (psl == NULL || strchr(lower, '.') == NULL)
		return NULL;
	domain = psl_registrable_domain(psl, lower);
	return domain != NULL ? g_strconcat("*.", domain, NULL) : NULL;
}

static const char *
service_protocol(guint8 protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return NULL;
}

static char *
service_name(guint8 protocol, guint16 port)
{
	const char *proto = service_protocol(protocol);
	struct servent entry, *result = NULL;
	char buf[1024];

	if (proto == NULL || port == 0)
		return NULL;
	if (getservbyport_r(htons(port), proto, &entry, buf, sizeof buf, &result) != 0 ||
	    result == NULL)
		return NULL;
	return g_strdup(result->s_name);
}

gboolean
vigil_protocol_has_ports(guint8 protocol)
{
	return service_protocol(protocol) != NULL;
}

void
vigil_connection_dict_add_flow(GVariantBuilder *builder, int family, guint8 protocol,
                               const VigilAddress *dst, guint16 dport, guint8 icmp_type,
                               const char *hostname)
{
	char addr[INET6_ADDRSTRLEN];
	char proto[16];
	g_autofree char *service = NULL;

	g_variant_builder_add(
	    builder, "{sv}", VIGIL_CONN_KEY_PROTOCOL,
	    g_variant_new_string(vigil_protocol_name(protocol, proto, sizeof proto)));
	g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_FAMILY,
	                      g_variant_new_string(family == AF_INET6 ? "ipv6" : "ipv4"));
	g_variant_builder_add(
	    builder, "{sv}", VIGIL_CONN_KEY_DESTINATION,
	    g_variant_new_string(vigil_address_to_string(family, dst, addr, sizeof addr)));
	if (hostname != NULL && g_utf8_validate(hostname, -1, NULL))
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_HOSTNAME,
		                      g_variant_new_string(hostname));
	if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_ICMP_TYPE,
		                      g_variant_new_byte(icmp_type));
		return;
	}
	if (vigil_protocol_has_ports(protocol))
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_PORT,
		                      g_variant_new_uint16(dport));
	service = service_name(protocol, dport);
	if (service != NULL)
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_SERVICE,
		                      g_variant_new_string(service));
}

static void
add_string(GVariantBuilder *builder, const char *key, const char *value)
{
	if (value != NULL && g_utf8_validate(value, -1, NULL))
		g_variant_builder_add(builder, "{sv}", key, g_variant_new_string(value));
}

void
vigil_connection_dict_add_process(GVariantBuilder *builder, const VigilProcess *process,
                                  guint32 uid)
{
	g_autofree char *user = NULL;
	g_autofree char *name = NULL;

	g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_UID, g_variant_new_uint32(uid));
	user = process != NULL && process->user_name != NULL ? g_strdup(process->user_name)
	                                                     : vigil_user_name(uid);
	if (user == NULL)
		user = g_strdup_printf("%u", uid);
	add_string(builder, VIGIL_CONN_KEY_USER, user);
	if (process == NULL || process->exe == NULL) {
		add_string(builder, VIGIL_CONN_KEY_PROGRAM, VIGIL_PROGRAM_UNKNOWN);
		add_string(builder, VIGIL_CONN_KEY_NAME, VIGIL_PROGRAM_UNKNOWN);
		if (process != NULL)
			g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_PID,
			                      g_variant_new_uint32(process->pid));
		return;
	}
	name = g_path_get_basename(process->exe);
	add_string(builder, VIGIL_CONN_KEY_PROGRAM, process->exe);
	add_string(builder, VIGIL_CONN_KEY_NAME, name);
	g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_PID,
	                      g_variant_new_uint32(process->pid));
	if (process->parents != NULL) {
		GVariantBuilder parents;

		g_variant_builder_init(&parents, G_VARIANT_TYPE_STRING_ARRAY);
		for (guint i = 0; i < process->parents->len && i < 8; i++) {
			const char *parent = g_ptr_array_index(process->parents, i);

			if (g_utf8_validate(parent, -1, NULL))
				g_variant_builder_add(&parents, "s", parent);
		}
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_PARENTS,
		                      g_variant_builder_end(&parents));
	}
	add_string(builder, VIGIL_CONN_KEY_CMDLINE, process->cmdline);
	add_string(builder, VIGIL_CONN_KEY_SHA256, process->sha256);
	add_string(builder, VIGIL_CONN_KEY_APPID, process->app_id);
	if (process->foreign_mount_ns)
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_FOREIGN_MOUNT_NS,
		                      g_variant_new_boolean(TRUE));
	add_string(builder, VIGIL_CONN_KEY_APP_SANDBOX, process->app_sandbox);
	if (process->exe_deleted)
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_EXE_DELETED,
		                      g_variant_new_boolean(TRUE));
	if (process->taint & VIGIL_TAINT_TRACED)
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_TRACED_BY,
		                      g_variant_new_uint32(process->tracer_pid));
	if (process->taint & VIGIL_TAINT_PRELOAD)
		g_variant_builder_add(builder, "{sv}", VIGIL_CONN_KEY_PRELOAD,
		                      g_variant_new_boolean(TRUE));
}

GVariant *
vigil_decision_to_dict(const VigilDecision *d, guint64 id)
{
	GVariantBuilder b;
	VigilProcess process = {0};

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	process.pid = d->pid;
	process.uid = d->uid;
	process.user_name = d->user_name;
	process.exe = d->program;
	process.taint = d->taint;
	process.tracer_pid = d->tracer_pid;
	vigil_connection_dict_add_process(&b, d->program != NULL || d->pid != 0 ? &process : NULL,
	                                  d->uid);
	vigil_connection_dict_add_flow(&b, d->family, d->protocol, &d->dst, d->dport, d->icmp_type,
	                               d->hostname);
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_TIME, g_variant_new_int64(d->time));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_ID, g_variant_new_uint64(id));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_VERDICT,
	                      g_variant_new_string(vigil_action_to_string(d->verdict)));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_REASON,
	                      g_variant_new_string(vigil_reason_to_string(d->reason)));
	if (d->rule_id != 0)
		g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_RULE,
		                      g_variant_new_uint64(d->rule_id));
	g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_QUEUED_US,
	                      g_variant_new_uint64((guint64)MAX(d->queued_us, 0)));
	if (d->kernel)
		g_variant_builder_add(&b, "{sv}", VIGIL_CONN_KEY_KERNEL,
		                      g_variant_new_boolean(TRUE));
	return g_variant_builder_end(&b);
}
