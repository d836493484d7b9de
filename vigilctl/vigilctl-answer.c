/* vigilctl-answer.c: vigilctl prompt's questions as a state machine, and what it shows */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "vigil-client.h"
#include "vigilctl-answer.h"
#include "vigilctl-output.h"

typedef struct {
	const char *keys; /* the words that choose it, separated by '|' */
	const char *value;
	guint32 seconds;
} Choice;

static const Choice verdicts[] = {
    {"a|allow", "allow", 0},
    {"d|deny", "deny", 0},
    {"r|drop", "drop", 0},
};

/* in the order of VigilClientDuration: Enter alone takes answer->default_duration */
static const Choice durations[] = {
    {"o|once", VIGIL_DURATION_ONCE, 0},
    {"q|quit|until-quit", VIGIL_DURATION_UNTIL_QUIT, 0},
    {"5|5m|5min", VIGIL_DURATION_SECONDS, 5 * 60},
    {"h|1h|hour", VIGIL_DURATION_SECONDS, 60 * 60},
    {"d|24h|1d|day", VIGIL_DURATION_SECONDS, 24 * 60 * 60},
    {"f|forever", VIGIL_DURATION_FOREVER, 0},
};

/* for an interpreter running a script: Enter keeps the rule for the interpreter, as the tray's
 * first choice does */
static const Choice program_scopes[] = {
    {"|a|any|anything", VIGIL_PROGRAM_SCOPE_PROGRAM, 0},
    {"s|script", VIGIL_PROGRAM_SCOPE_SCRIPT, 0},
};

/* in the order of VigilClientHostScope: Enter alone takes answer->default_host */
static const Choice host_scopes[] = {
    {"h|host", VIGIL_HOST_SCOPE_HOST, 0},
    {"d|domain", VIGIL_HOST_SCOPE_DOMAIN, 0},
    {"a|any", VIGIL_HOST_SCOPE_ANY, 0},
};

static const Choice port_scopes[] = {
    {"|p|port", VIGIL_PORT_SCOPE_PORT, 0},
    {"a|any", VIGIL_PORT_SCOPE_ANY, 0},
};

static const Choice *
find_choice(const Choice *choices, gsize n, const char *word)
{
	g_autofree char *lower = g_ascii_strdown(word, -1);

	for (gsize i = 0; i < n; i++) {
		g_auto(GStrv) keys = g_strsplit(choices[i].keys, "|", -1);

		if (g_strv_contains((const char *const *)keys, lower))
			return &choices[i];
	}
	return NULL;
}

G_STATIC_ASSERT(G_N_ELEMENTS(durations) == VIGIL_CLIENT_DURATION_FOREVER + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(host_scopes) == VIGIL_CLIENT_HOST_SCOPE_ANY + 1);

void
vigilctl_answer_set_default_host(VigilctlAnswer *answer, VigilClientHostScope scope)
{
	if ((guint)scope >= G_N_ELEMENTS(host_scopes) ||
	    (scope == VIGIL_CLIENT_HOST_SCOPE_DOMAIN && !answer->has_domain))
		scope = VIGIL_CLIENT_HOST_SCOPE_HOST;
	answer->default_host = scope;
}

void
vigilctl_answer_set_default_verdict(VigilctlAnswer *answer, const char *verdict)
{
	answer->default_verdict = g_strcmp0(verdict, "allow") == 0  ? "allow"
	                          : g_strcmp0(verdict, "deny") == 0 ? "deny"
	                                                            : NULL;
}

void
vigilctl_answer_init(VigilctlAnswer *answer, GVariant *conn, VigilClientDuration default_duration)
{
	g_autoptr(GVariant) port = g_variant_lookup_value(conn, VIGIL_CONN_KEY_PORT, NULL);

	memset(answer, 0, sizeof *answer);
	answer->default_duration = (guint)default_duration < G_N_ELEMENTS(durations)
	                               ? default_duration
	                               : VIGIL_CLIENT_DURATION_ONCE;
	answer->step = VIGILCTL_STEP_VERDICT;
	answer->has_domain = vigilctl_dict_string(conn, VIGIL_CONN_KEY_DOMAIN_TARGET) != NULL;
	answer->has_port = port != NULL;
	answer->has_script = vigilctl_dict_string(conn, VIGIL_CONN_KEY_SCRIPT) != NULL;
}

gboolean
vigilctl_answer_is_details(const char *word)
{
	g_autofree char *lower = g_ascii_strdown(word, -1);

	return g_strcmp0(lower, "i") == 0 || g_strcmp0(lower, "info") == 0 ||
	       g_strcmp0(lower, "?") == 0;
}

static void
after_host(VigilctlAnswer *answer)
{
	answer->step = answer->has_port ? VIGILCTL_STEP_PORT : VIGILCTL_STEP_DONE;
}

gboolean
vigilctl_answer_feed(VigilctlAnswer *answer, const char *word)
{
	const Choice *choice = NULL;

	switch (answer->step) {
	case VIGILCTL_STEP_VERDICT:
		choice = find_choice(verdicts, G_N_ELEMENTS(verdicts),
		                     *word == '\0' && answer->default_verdict != NULL
		                         ? answer->default_verdict
		                         : word);
		if (choice == NULL)
			return FALSE;
		answer->verdict = choice->value;
		answer->step = VIGILCTL_STEP_DURATION;
		return TRUE;
	case VIGILCTL_STEP_DURATION:
		choice = *word == '\0' ? &durations[answer->default_duration]
		                       : find_choice(durations, G_N_ELEMENTS(durations), word);
		if (choice == NULL)
			return FALSE;
		answer->duration = choice->value;
		answer->seconds = choice->seconds;
		answer->step = g_strcmp0(choice->value, VIGIL_DURATION_ONCE) == 0
		                   ? VIGILCTL_STEP_DONE
		               : answer->has_script ? VIGILCTL_STEP_PROGRAM
		                                    : VIGILCTL_STEP_HOST;
		return TRUE;
	case VIGILCTL_STEP_PROGRAM:
		choice = find_choice(program_scopes, G_N_ELEMENTS(program_scopes), word);
		if (choice == NULL)
			return FALSE;
		answer->program_scope = g_strcmp0(choice->value, VIGIL_PROGRAM_SCOPE_SCRIPT) == 0
		                            ? choice->value
		                            : NULL;
		answer->step = VIGILCTL_STEP_HOST;
		return TRUE;
	case VIGILCTL_STEP_HOST:
		choice = *word == '\0' ? &host_scopes[answer->default_host]
		                       : find_choice(host_scopes, G_N_ELEMENTS(host_scopes), word);
		if (choice == NULL ||
		    (!answer->has_domain && g_strcmp0(choice->value, VIGIL_HOST_SCOPE_DOMAIN) == 0))
			return FALSE;
		answer->host_scope = choice->value;
		after_host(answer);
		return TRUE;
	case VIGILCTL_STEP_PORT:
		choice = find_choice(port_scopes, G_N_ELEMENTS(port_scopes), word);
		if (choice == NULL)
			return FALSE;
		answer->port_scope = choice->value;
		answer->step = VIGILCTL_STEP_DONE;
		return TRUE;
	case VIGILCTL_STEP_DONE:
		break;
	}
	return FALSE;
}

static char *
port_label(GVariant *conn)
{
	guint16 port = 0;
	const char *proto = vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROTOCOL);

	g_variant_lookup(conn, VIGIL_CONN_KEY_PORT, "q", &port);
	return g_strdup_printf("%u/%s", port, proto != NULL ? proto : "?");
}

/* "For how long? [o]nce (Enter), until [q]uit, ...": the default marked where it is */
static char *
duration_question(const VigilctlAnswer *answer)
{
	/* TRANSLATORS: the choices of "For how long?"; the keys in brackets stay as they are:
	 * o, q, 5, h, d, f */
	const char *labels[] = {N_("[o]nce"),   N_("until [q]uit"), N_("[5] minutes"),
	                        N_("1 [h]our"), N_("1 [d]ay"),      N_("[f]orever")};
	g_autoptr(GString) list = g_string_new(NULL);

	G_STATIC_ASSERT(G_N_ELEMENTS(labels) == G_N_ELEMENTS(durations));
	for (guint i = 0; i < G_N_ELEMENTS(labels); i++) {
		if (i > 0)
			g_string_append(list, ", ");
		g_string_append(list, _(labels[i]));
		if (i == (guint)answer->default_duration)
			/* TRANSLATORS: after the choice that Enter alone takes */
			g_string_append_printf(list, " %s", _("(Enter)"));
	}
	/* TRANSLATORS: %s is the list of choices, e.g. "[o]nce (Enter), until [q]uit, ..." */
	return g_strdup_printf(_("For how long? %s: "), list->str);
}

/* "Which destinations? [h] example.org (Enter), [d] *.example.org, [a]ny host: ": the default
 * (Preferences) marked where it is */
static char *
host_question(const VigilctlAnswer *answer, GVariant *conn)
{
	g_autofree char *host =
	    vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_HOST_TARGET));
	g_autofree char *domain =
	    vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_DOMAIN_TARGET));
	g_autoptr(GString) list = g_string_new(NULL);

	if (*host == '\0') {
		g_free(host);
		host = g_strdup(_("this host"));
	}
	for (guint i = 0; i < G_N_ELEMENTS(host_scopes); i++) {
		if (i == VIGIL_CLIENT_HOST_SCOPE_DOMAIN && !answer->has_domain)
			continue;
		if (list->len > 0)
			g_string_append(list, ", ");
		if (i == VIGIL_CLIENT_HOST_SCOPE_HOST)
			/* TRANSLATORS: a choice of "Which destinations?": the key h stays */
			g_string_append_printf(list, _("[h] %s"), host);
		else if (i == VIGIL_CLIENT_HOST_SCOPE_DOMAIN)
			/* TRANSLATORS: a choice of "Which destinations?": the key d stays */
			g_string_append_printf(list, _("[d] %s"), domain);
		else
			/* TRANSLATORS: a choice of "Which destinations?": the key a stays */
			g_string_append(list, _("[a]ny host"));
		if (i == (guint)answer->default_host)
			g_string_append_printf(list, " %s", _("(Enter)"));
	}
	/* TRANSLATORS: %s is the list of choices, e.g. "[h] example.org (Enter), [a]ny host" */
	return g_strdup_printf(_("Which destinations? %s: "), list->str);
}

char *
vigilctl_answer_question(const VigilctlAnswer *answer, GVariant *conn)
{
	g_autofree char *port = NULL;
	g_autofree char *proto = NULL;

	switch (answer->step) {
	case VIGILCTL_STEP_VERDICT:
		if (g_strcmp0(answer->default_verdict, "allow") == 0)
			/* TRANSLATORS: Enter alone allows (the user's default answer) */
			return g_strdup(
			    _("Allow or deny? [a]llow (Enter), [d]eny, d[r]op, [i]nfo: "));
		if (g_strcmp0(answer->default_verdict, "deny") == 0)
			/* TRANSLATORS: Enter alone denies (the user's default answer) */
			return g_strdup(
			    _("Allow or deny? [a]llow, [d]eny (Enter), d[r]op, [i]nfo: "));
		/* TRANSLATORS: [i] shows the request again and stops its countdown */
		return g_strdup(_("Allow or deny? [a]llow, [d]eny, d[r]op, [i]nfo: "));
	case VIGILCTL_STEP_DURATION:
		return duration_question(answer);
	case VIGILCTL_STEP_PROGRAM: {
		g_autofree char *name =
		    vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_NAME));
		g_autofree char *script =
		    vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_SCRIPT));

		/* TRANSLATORS: for an interpreter: "Which program? [a]nything python3 runs
		 * (Enter), [s] only /home/a/sync.py: "; the keys a and s stay as they are */
		return g_strdup_printf(
		    _("Which program? [a]nything %s runs (Enter), [s] only %s: "), name, script);
	}
	case VIGILCTL_STEP_HOST:
		return host_question(answer, conn);
	case VIGILCTL_STEP_PORT:
		port = vigilctl_sanitize(port_label(conn));
		proto = vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROTOCOL));
		return g_strdup_printf(_("Which ports? [p] %s (Enter), [a]ny %s port: "), port,
		                       proto);
	case VIGILCTL_STEP_DONE:
		break;
	}
	return g_strdup("");
}

GVariant *
vigilctl_answer_options(const VigilctlAnswer *answer)
{
	/* "once" makes no rule: its scopes are not sent */
	g_autoptr(GVariant) options = g_variant_ref_sink(vigil_client_reply_options_from_names(
	    answer->duration, answer->seconds, answer->host_scope, answer->port_scope, FALSE));
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(options);

	/* the key only when it is asked for, as the tray sends it: a vigild before it refuses
	 * keys it does not know */
	if (answer->program_scope != NULL && g_strcmp0(answer->duration, VIGIL_DURATION_ONCE) != 0)
		g_variant_dict_insert(&dict, VIGIL_REPLY_KEY_PROGRAM_SCOPE, "s",
		                      answer->program_scope);
	return g_variant_dict_end(&dict);
}

static const char *
describe_verdict(const VigilctlAnswer *answer)
{
	if (g_strcmp0(answer->verdict, "allow") == 0)
		return C_("answer", "allow");
	if (g_strcmp0(answer->verdict, "deny") == 0)
		return C_("answer", "deny");
	if (g_strcmp0(answer->verdict, "drop") == 0)
		return C_("answer", "drop");
	return answer->verdict != NULL ? answer->verdict : "?";
}

static const char *
describe_duration(const VigilctlAnswer *answer)
{
	if (g_strcmp0(answer->duration, VIGIL_DURATION_UNTIL_QUIT) == 0)
		return _("until the program quits");
	if (g_strcmp0(answer->duration, VIGIL_DURATION_FOREVER) == 0)
		return _("forever");
	if (g_strcmp0(answer->duration, VIGIL_DURATION_SECONDS) != 0)
		return _("once");
	switch (answer->seconds) {
	case 5 * 60:
		return _("for 5 minutes");
	case 60 * 60:
		return _("for 1 hour");
	case 24 * 60 * 60:
		return _("for 1 day");
	default:
		return _("for a while");
	}
}

char *
vigilctl_answer_describe(const VigilctlAnswer *answer, GVariant *conn)
{
	GString *out = g_string_new(NULL);
	g_autofree char *host = NULL;

	/* TRANSLATORS: a verdict and how long it lasts: "deny forever" */
	g_string_append_printf(out, C_("answer", "%s %s"), describe_verdict(answer),
	                       describe_duration(answer));
	if (g_strcmp0(answer->duration, VIGIL_DURATION_ONCE) == 0 || answer->duration == NULL)
		return g_string_free(out, FALSE);
	/* the script (the program's own argv) and the names (DNS answers) are untrusted text:
	 * no escape sequence of theirs reaches the terminal */
	if (answer->program_scope != NULL) {
		g_autofree char *script =
		    vigilctl_sanitize(vigilctl_dict_string(conn, VIGIL_CONN_KEY_SCRIPT));
		/* TRANSLATORS: the rule is for one script of an interpreter */
		g_string_append_printf(out, _(", only the script %s"), script);
	}
	if (g_strcmp0(answer->host_scope, VIGIL_HOST_SCOPE_ANY) == 0) {
		host = g_strdup(_("any host"));
	} else {
		const char *target = vigilctl_dict_string(
		    conn, g_strcmp0(answer->host_scope, VIGIL_HOST_SCOPE_DOMAIN) == 0
		              ? VIGIL_CONN_KEY_DOMAIN_TARGET
		              : VIGIL_CONN_KEY_HOST_TARGET);
		host = target != NULL ? vigilctl_sanitize(target) : NULL;
	}
	g_string_append_printf(out, _(", to %s"), host != NULL ? host : _("this host"));
	if (answer->has_port) {
		g_autofree char *port = port_label(conn);
		const char *proto = vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROTOCOL);

		if (g_strcmp0(answer->port_scope, VIGIL_PORT_SCOPE_ANY) == 0)
			g_string_append_printf(out, _(", any %s port"), proto != NULL ? proto : "");
		else
			g_string_append_printf(out, _(", port %s"), port);
	}
	{
		g_autofree char *raw = g_string_free(out, FALSE);

		return vigilctl_sanitize(raw);
	}
}

static void
append_field(GString *out, const char *label, const char *value)
{
	g_autofree char *safe = vigilctl_sanitize(value);
	g_autofree char *with_colon = g_strconcat(label, *label != '\0' ? ":" : "", NULL);

	/* padded by characters: translated labels may have letters of several bytes */
	glong pad = MAX(0, 11 - g_utf8_strlen(with_colon, -1));

	g_string_append_printf(out, "  %s%*s %s\n", with_colon, (int)pad, "", safe);
}

static void
append_parents(GString *out, GVariant *conn)
{
	g_autofree const char **parents = NULL;

	if (!g_variant_lookup(conn, VIGIL_CONN_KEY_PARENTS, "^a&s", &parents) || parents[0] == NULL)
		return;
	append_field(out, _("Parent"), parents[0]);
	for (guint i = 1; parents[i] != NULL; i++)
		append_field(out, "", parents[i]);
}

static void
append_warnings(GString *out, GVariant *conn)
{
	gboolean flag = FALSE;

	if (g_variant_lookup(conn, VIGIL_CONN_KEY_BINARY_CHANGED, "b", &flag) && flag) {
		const char *reason = NULL;
		const char *package = NULL;
		g_autofree char *why = NULL;

		append_field(out, _("Warning"), _("the program changed since its rule was made"));
		g_variant_lookup(conn, VIGIL_CONN_KEY_CHANGED_REASON, "&s", &reason);
		g_variant_lookup(conn, VIGIL_CONN_KEY_CHANGED_PKG, "&s", &package);
		why = vigil_client_format_changed_reason(reason, package);
		if (why != NULL)
			append_field(out, "", why);
	}
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_EXE_DELETED, "b", &flag) && flag)
		append_field(out, _("Warning"),
		             _("the executable was deleted or replaced after the program started"));
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_FOREIGN_MOUNT_NS, "b", &flag) && flag)
		append_field(out, _("Warning"),
		             _("the program runs in another mount namespace: its path may name "
		               "another file"));
}

/* "curl wants to connect to example.org (93.184.215.14), port 443 (https), tcp." */
static void
append_summary(GString *out, GVariant *conn)
{
	const char *name = vigilctl_dict_string(conn, VIGIL_CONN_KEY_NAME);
	const char *proto = vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROTOCOL);
	g_autofree char *safe_name = NULL;
	g_autofree char *destination = vigilctl_format_destination(conn);
	g_autofree char *port = vigilctl_format_port(conn);
	g_autofree char *safe_proto = vigilctl_sanitize(proto != NULL ? proto : "?");
	g_autoptr(GVariant) has_port = g_variant_lookup_value(conn, VIGIL_CONN_KEY_PORT, NULL);

	if (name == NULL) {
		const char *program = vigilctl_dict_string(conn, VIGIL_CONN_KEY_PROGRAM);

		name = program != NULL ? program : _("unknown");
	}
	safe_name = vigilctl_sanitize(name);
	if (has_port != NULL)
		g_string_append_printf(out, _("%s wants to connect to %s, port %s, %s.\n"),
		                       safe_name, destination, port, safe_proto);
	else
		g_string_append_printf(out, _("%s wants to send %s %s to %s.\n"), safe_name,
		                       safe_proto, port, destination);
}

char *
vigilctl_prompt_format(guint64 request, GVariant *conn, guint more_waiting, gint64 seconds_left)
{
	GString *out = g_string_new(NULL);
	g_autofree char *program = vigilctl_format_program(conn);
	g_autofree char *user = vigilctl_format_user(conn);
	const char *cmdline = vigilctl_dict_string(conn, VIGIL_CONN_KEY_CMDLINE);
	const char *appid = vigilctl_dict_string(conn, VIGIL_CONN_KEY_APPID);
	const char *sha256 = vigilctl_dict_string(conn, VIGIL_CONN_KEY_SHA256);
	const char *hostname = vigilctl_dict_string(conn, VIGIL_CONN_KEY_HOSTNAME);
	guint32 pid = 0;
	guint32 connections = 0;
	gboolean hash_pending = FALSE;

	g_string_append_printf(out, _("\n--- Request %" PRIu64), request);
	if (more_waiting > 0)
		g_string_append_printf(out, _(" (%u more waiting)"), more_waiting);
	g_string_append(out, " ---\n");
	append_summary(out, conn);
	append_field(out, _("Program"), program);
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_PID, "u", &pid)) {
		g_autofree char *process =
		    g_strdup_printf(_("pid %" PRIu32 ", user %s"), pid, user);

		append_field(out, _("Process"), process);
	} else {
		append_field(out, _("User"), user);
	}
	append_field(out, _("Host name"),
	             hostname != NULL ? hostname
	                              : _("unknown (no DNS answer named this address: a "
	                                  "hard-coded address, or DNS over HTTPS)"));
	if (cmdline != NULL)
		append_field(out, _("Command"), cmdline);
	append_parents(out, conn);
	if (appid != NULL)
		append_field(out, _("App id"), appid);
	if (sha256 != NULL)
		append_field(out, _("SHA-256"), sha256);
	else if (g_variant_lookup(conn, VIGIL_CONN_KEY_HASH_PENDING, "b", &hash_pending) &&
	         hash_pending)
		append_field(out, _("SHA-256"),
		             _("still being computed (a big file): a rule made now gets it once it "
		               "is made"));
	append_warnings(out, conn);
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_CONNECTIONS, "u", &connections) &&
	    connections > 1) {
		g_autofree char *waiting = g_strdup_printf(
		    ngettext("%" PRIu32 " connection", "%" PRIu32 " connections", connections),
		    connections);

		append_field(out, _("Waiting"), waiting);
	}
	if (seconds_left >= 0) {
		g_autofree char *left = g_strdup_printf("%" G_GINT64_FORMAT " s", seconds_left);

		append_field(out, _("Time left"), left);
	}
	return g_string_free(out, FALSE);
}

char *
vigilctl_prompt_cancel_text(guint64 request, const char *reason)
{
	if (g_strcmp0(reason, VIGIL_CANCEL_ANSWERED) == 0)
		return g_strdup_printf(_("Request %" PRIu64 " was answered elsewhere."), request);
	if (g_strcmp0(reason, VIGIL_CANCEL_TIMEOUT) == 0)
		return g_strdup_printf(
		    _("Request %" PRIu64 " timed out: vigild applied its default action once."),
		    request);
	if (g_strcmp0(reason, VIGIL_CANCEL_RULE) == 0)
		return g_strdup_printf(
		    _("Request %" PRIu64 " was decided by a rule added meanwhile."), request);
	if (g_strcmp0(reason, VIGIL_CANCEL_DISABLED) == 0)
		return g_strdup_printf(
		    _("Request %" PRIu64 ": the firewall was disabled, the connection allowed."),
		    request);
	if (g_strcmp0(reason, VIGIL_CANCEL_SHUTDOWN) == 0)
		return g_strdup_printf(_("Request %" PRIu64 ": vigild is stopping."), request);
	{
		g_autofree char *safe = vigilctl_sanitize(reason);

		return g_strdup_printf(_("Request %" PRIu64 " was closed (%s)."), request, safe);
	}
}

char *
vigilctl_prompt_notify_text(const char *kind, GVariant *details)
{
	if (g_strcmp0(kind, VIGIL_NOTIFY_BLOCKED) == 0) {
		g_autofree char *program = vigilctl_format_program(details);
		g_autofree char *destination = vigilctl_format_destination(details);
		g_autofree char *port = vigilctl_format_port(details);
		g_autofree char *verdict =
		    vigilctl_sanitize(vigilctl_dict_string(details, VIGIL_CONN_KEY_VERDICT));
		guint64 rule = 0;
		g_autofree char *rule_text = NULL;

		if (g_variant_lookup(details, VIGIL_CONN_KEY_RULE, "t", &rule))
			rule_text = g_strdup_printf(_(" (rule %" PRIu64 ")"), rule);
		return g_strdup_printf(_("Blocked (%s): %s -> %s%s%s%s"), verdict, program,
		                       destination, *port != '\0' ? _(" port ") : "", port,
		                       rule_text != NULL ? rule_text : "");
	}
	if (g_strcmp0(kind, VIGIL_NOTIFY_AGENT_REGISTERED) == 0) {
		g_autofree char *program = vigilctl_format_program(details);
		guint32 pid = 0;
		g_autofree char *bus_name =
		    vigilctl_sanitize(vigilctl_dict_string(details, VIGIL_NOTIFY_KEY_BUS_NAME));

		guint32 count = 1;
		g_autofree char *text = NULL;

		g_variant_lookup(details, VIGIL_CONN_KEY_PID, "u", &pid);
		g_variant_lookup(details, VIGIL_NOTIFY_KEY_COUNT, "u", &count);
		/* another program of yours gets your prompts now, and may answer them first */
		text =
		    g_strdup_printf(_("Another prompt agent registered for you: %s (pid %u, %s). "
		                      "It gets your prompts too; if you did not start it, find "
		                      "out what it is."),
		                    program, pid, bus_name);
		if (count <= 1)
			return g_steal_pointer(&text);
		/* vigild put a burst of registrations in one note */
		return g_strdup_printf(_("%s (%u agents registered in the last few seconds; this "
		                         "was the latest.)"),
		                       text, count);
	}
	if (g_strcmp0(kind, VIGIL_NOTIFY_MESSAGE) == 0) {
		g_autofree char *message =
		    vigilctl_sanitize(vigilctl_dict_string(details, VIGIL_NOTIFY_KEY_MESSAGE));
		g_autofree char *level =
		    vigilctl_sanitize(vigilctl_dict_string(details, VIGIL_NOTIFY_KEY_LEVEL));

		return g_strdup_printf("vigild (%s): %s", *level != '\0' ? level : "info", message);
	}
	return NULL;
}
