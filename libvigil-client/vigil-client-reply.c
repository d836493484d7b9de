/* vigil-client-reply.c: the options of Firewall1.Reply(), built in one place for every front end */
#include "vigil-client-reply.h"

#include "vigil-dbus.h"

GVariant *
vigil_client_reply_options_from_names(const char *duration, guint32 seconds, const char *host_scope,
                                      const char *port_scope, gboolean scopes_for_once)
{
	g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	const char *name = duration != NULL ? duration : VIGIL_DURATION_ONCE;

	g_variant_builder_add(&b, "{sv}", VIGIL_REPLY_KEY_DURATION, g_variant_new_string(name));
	if (g_strcmp0(name, VIGIL_DURATION_ONCE) == 0 && !scopes_for_once)
		return g_variant_builder_end(&b);
	if (g_strcmp0(name, VIGIL_DURATION_SECONDS) == 0)
		g_variant_builder_add(&b, "{sv}", VIGIL_REPLY_KEY_SECONDS,
		                      g_variant_new_uint32(seconds));
	if (host_scope != NULL)
		g_variant_builder_add(&b, "{sv}", VIGIL_REPLY_KEY_HOST_SCOPE,
		                      g_variant_new_string(host_scope));
	if (port_scope != NULL)
		g_variant_builder_add(&b, "{sv}", VIGIL_REPLY_KEY_PORT_SCOPE,
		                      g_variant_new_string(port_scope));
	return g_variant_builder_end(&b);
}

GVariant *
vigil_client_reply_options(VigilClientDuration duration, VigilClientHostScope host,
                           VigilClientPortScope port)
{
	return vigil_client_reply_options_full(duration, host, port, FALSE);
}

GVariant *
vigil_client_reply_options_full(VigilClientDuration duration, VigilClientHostScope host,
                                VigilClientPortScope port, gboolean script_only)
{
	g_autoptr(GVariant) options = NULL;
	GVariant *floating;
	GVariantBuilder b;
	GVariantIter iter;
	const char *key;
	GVariant *value;
	const char *name = VIGIL_DURATION_ONCE;
	guint32 seconds = 0;

	switch (duration) {
	case VIGIL_CLIENT_DURATION_ONCE:
		name = VIGIL_DURATION_ONCE;
		break;
	case VIGIL_CLIENT_DURATION_UNTIL_QUIT:
		name = VIGIL_DURATION_UNTIL_QUIT;
		break;
	case VIGIL_CLIENT_DURATION_5_MINUTES:
		seconds = 5 * 60;
		break;
	case VIGIL_CLIENT_DURATION_1_HOUR:
		seconds = 60 * 60;
		break;
	case VIGIL_CLIENT_DURATION_24_HOURS:
		seconds = 24 * 60 * 60;
		break;
	case VIGIL_CLIENT_DURATION_FOREVER:
		name = VIGIL_DURATION_FOREVER;
		break;
	}
	if (seconds > 0)
		name = VIGIL_DURATION_SECONDS;
	floating = vigil_client_reply_options_from_names(
	    name, seconds,
	    host == VIGIL_CLIENT_HOST_SCOPE_DOMAIN ? VIGIL_HOST_SCOPE_DOMAIN
	    : host == VIGIL_CLIENT_HOST_SCOPE_ANY  ? VIGIL_HOST_SCOPE_ANY
	                                           : VIGIL_HOST_SCOPE_HOST,
	    port == VIGIL_CLIENT_PORT_SCOPE_ANY ? VIGIL_PORT_SCOPE_ANY : VIGIL_PORT_SCOPE_PORT,
	    TRUE);
	if (!script_only)
		return floating;
	options = g_variant_ref_sink(floating);
	/* the key only when it is asked for: a vigild before it refuses keys it does not know */
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_variant_builder_add(&b, "{sv}", key, value);
		g_variant_unref(value);
	}
	g_variant_builder_add(&b, "{sv}", VIGIL_REPLY_KEY_PROGRAM_SCOPE,
	                      g_variant_new_string(VIGIL_PROGRAM_SCOPE_SCRIPT));
	return g_variant_builder_end(&b);
}
