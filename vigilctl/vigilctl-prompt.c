/* vigilctl-prompt.c: vigilctl prompt: a prompt agent on the system bus that asks in the terminal */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "vigilctl-answer.h"
#include "vigilctl-output.h"
#include "vigilctl.h"

#define AGENT_PATH "/org/vigil/vigilctl/Agent"
/* vigild bounds requests per user far lower; this only keeps a misbehaving peer in check */
#define MAX_QUEUED 1024
/* after TooSoon, the answer goes again this much later */
#define RESEND_MS 200

/* while the user reads a request's details, vigild is asked to hold it this often (each
 * HoldRequest: PromptTimeout from now, bounded by vigild), as the tray does */
#define HOLD_INTERVAL_S 1

typedef struct {
	guint64 id;
	GVariant *conn;
	gint64 deadline;  /* monotonic, microseconds: when vigild times it out; 0 unknown */
	gboolean reading; /* the user asked for the details: held until answered */
} Request;

typedef struct {
	VigilctlContext *ctx;
	VigilFirewall *firewall;
	VigilClientAgent *client_agent; /* the exported agent, registered with each vigild */
	GMainLoop *loop;
	GCancellable *cancellable;
	GDataInputStream *input;
	gboolean vigild_seen; /* a vigild was there: say when it goes */
	gboolean sending;     /* a Reply() is on its way (or waits to be sent again) */
	guint resend_id;      /* vigild said TooSoon: the same answer goes again */
	GQueue requests;      /* of Request; the head is on screen */
	VigilctlAnswer answer;
	VigilClientDuration default_duration; /* --duration, or the user's preference */
	VigilClientHostScope default_host;    /* the user's preference (vigil-tray's) */
	const char *default_verdict;          /* the user's chosen default answer, or NULL */
	guint hold_id;                        /* holds the current request while it is read */
	gboolean holding;                     /* a HoldRequest() is on its way */
	GError *error;                        /* what ends the agent with an error */
} Agent;

static void
request_free(Request *request)
{
	g_variant_unref(request->conn);
	g_free(request);
}

static Request *
current(Agent *agent)
{
	return g_queue_peek_head(&agent->requests);
}

static void say(const char *format, ...) G_GNUC_PRINTF(1, 2);

static void
say(const char *format, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	fputs(text, stdout);
	fflush(stdout);
}

/* the questions from the start, with the user's defaults for Enter */
static void
start_answer(Agent *agent, Request *request)
{
	vigilctl_answer_init(&agent->answer, request->conn, agent->default_duration);
	vigilctl_answer_set_default_host(&agent->answer, agent->default_host);
	vigilctl_answer_set_default_verdict(&agent->answer, agent->default_verdict);
}

static void
ask(Agent *agent)
{
	Request *request = current(agent);
	g_autofree char *question = NULL;

	if (request == NULL || agent->sending)
		return;
	question = vigilctl_answer_question(&agent->answer, request->conn);
	say("%s", question);
}

static gint64
seconds_left(Request *request)
{
	if (request->deadline == 0)
		return -1;
	return MAX(0, (request->deadline - g_get_monotonic_time()) / G_USEC_PER_SEC);
}

static void
show_current(Agent *agent)
{
	Request *request = current(agent);
	g_autofree char *text = NULL;

	if (request == NULL) {
		say(_("Waiting for connections to ask about (Ctrl-C to quit).\n"));
		return;
	}
	start_answer(agent, request);
	text =
	    vigilctl_prompt_format(request->id, request->conn,
	                           g_queue_get_length(&agent->requests) - 1, seconds_left(request));
	say("%s", text);
	ask(agent);
}

static void
drop_current(Agent *agent)
{
	Request *request = g_queue_pop_head(&agent->requests);

	if (request != NULL)
		request_free(request);
	show_current(agent);
}

static void
drop_all(Agent *agent)
{
	Request *request = NULL;

	while ((request = g_queue_pop_head(&agent->requests)) != NULL)
		request_free(request);
}

/* ---- Reply ---- */

static gboolean on_resend(gpointer data);

static void
on_replied(GObject *source, GAsyncResult *result, gpointer data)
{
	Agent *agent = data;
	g_autoptr(GError) local = NULL;
	Request *request = NULL;
	g_autofree char *message = NULL;
	gboolean replied = vigil_firewall_call_reply_finish(VIGIL_FIREWALL(source), result, &local);

	/* vigilctl is quitting: @agent is gone */
	if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	agent->sending = FALSE;
	request = current(agent);
	/* vigild went away meanwhile, and its requests with it */
	if (request == NULL)
		return;
	if (replied) {
		g_autofree char *what = vigilctl_answer_describe(&agent->answer, request->conn);

		say(_("Answered request %" PRIu64 ": %s.\n"), request->id, what);
		drop_current(agent);
		return;
	}
	if (g_error_matches(local, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_TOO_SOON)) {
		/* vigild takes an answer that makes a rule only a second after it asked (so that
		 * another program's agent cannot answer before the user saw the prompt): the user
		 * did answer, so the same answer goes again a little later */
		agent->sending = TRUE;
		agent->resend_id = g_timeout_add(RESEND_MS, on_resend, agent);
		return;
	}
	message = vigilctl_error_message(local, _("answering needs the permission to reply to "
	                                          "your own prompts"));
	if (g_error_matches(local, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT)) {
		/* the request is still pending: ask again */
		say(_("vigild did not accept the answer: %s\n"), message);
		start_answer(agent, request);
		ask(agent);
		return;
	}
	if (g_error_matches(local, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_PENDING))
		say(_("Too late: request %" PRIu64
		      " is no longer pending (it timed out or was answered elsewhere).\n"),
		    request->id);
	else
		say(_("Could not answer request %" PRIu64 ": %s\n"), request->id, message);
	drop_current(agent);
}

static void send_reply(Agent *agent);

static gboolean
on_resend(gpointer data)
{
	Agent *agent = data;

	agent->resend_id = 0;
	if (current(agent) == NULL) {
		agent->sending = FALSE;
		return G_SOURCE_REMOVE;
	}
	send_reply(agent);
	return G_SOURCE_REMOVE;
}

static void
send_reply(Agent *agent)
{
	Request *request = current(agent);

	agent->sending = TRUE;
	/* a Reply that makes a rule may need the user to authenticate */
	vigil_firewall_call_reply(
	    agent->firewall, request->id, agent->answer.verdict,
	    vigilctl_answer_options(&agent->answer), vigilctl_call_flags(agent->ctx, TRUE),
	    vigilctl_call_timeout(TRUE), agent->cancellable, on_replied, agent);
}

/* ---- holding a request while the user reads it ---- */

typedef struct {
	Agent *agent;
	guint64 id;
} HoldCall;

static void
on_held(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autofree HoldCall *call = data;
	Agent *agent = call->agent;
	g_autoptr(GError) local = NULL;
	guint left = 0;
	gboolean held =
	    vigil_firewall_call_hold_request_finish(VIGIL_FIREWALL(source), &left, result, &local);
	Request *request = NULL;

	/* vigilctl is quitting: @agent is gone */
	if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	agent->holding = FALSE;
	request = current(agent);
	if (request == NULL || request->id != call->id || !request->reading)
		return;
	if (held) {
		request->deadline = g_get_monotonic_time() + (gint64)left * G_USEC_PER_SEC;
		return;
	}
	/* answered or timed out meanwhile (Cancel() tells), or a vigild without HoldRequest:
	 * the countdown goes on */
	request->reading = FALSE;
	if (!g_error_matches(local, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_PENDING)) {
		g_autofree char *message = vigilctl_error_message(local, NULL);

		say(_("\nvigild did not hold request %" PRIu64 " (%s): its countdown goes on.\n"),
		    call->id, message);
		ask(agent);
	}
}

static gboolean
on_hold_tick(gpointer data)
{
	Agent *agent = data;
	Request *request = current(agent);
	HoldCall *call = NULL;

	if (request == NULL || !request->reading) {
		agent->hold_id = 0;
		return G_SOURCE_REMOVE;
	}
	if (agent->holding || agent->sending)
		return G_SOURCE_CONTINUE;
	agent->holding = TRUE;
	call = g_new0(HoldCall, 1);
	call->agent = agent;
	call->id = request->id;
	vigil_firewall_call_hold_request(agent->firewall, request->id, G_DBUS_CALL_FLAGS_NONE,
	                                 vigilctl_call_timeout(FALSE), agent->cancellable, on_held,
	                                 call);
	return G_SOURCE_CONTINUE;
}

/* "i": the request again, and vigild holds it until the user answers (a few minutes at
 * most), as the tray does while its details are open */
static void
show_details(Agent *agent)
{
	Request *request = current(agent);
	g_autofree char *text = NULL;

	if (request == NULL)
		return;
	text = vigilctl_prompt_format(request->id, request->conn,
	                              g_queue_get_length(&agent->requests) - 1, -1);
	say("%s", text);
	say(_("The countdown waits while you read: vigild holds the request until you answer "
	      "(a few minutes at most).\n"));
	request->reading = TRUE;
	if (agent->hold_id == 0) {
		on_hold_tick(agent);
		agent->hold_id = g_timeout_add_seconds(HOLD_INTERVAL_S, on_hold_tick, agent);
	}
}

/* ---- the terminal ---- */

static void read_next_line(Agent *agent);

static void
handle_line(Agent *agent, char *line)
{
	g_auto(GStrv) words = g_strsplit_set(g_strstrip(line), " \t", -1);

	if (agent->sending) {
		say(_("(still waiting for vigild to take the last answer)\n"));
		return;
	}
	if (current(agent) == NULL) {
		if (*line != '\0')
			say(_("Nothing to answer right now.\n"));
		return;
	}
	/* Enter alone is an answer: the default, where the question has one */
	if (words[0] == NULL) {
		g_strfreev(words);
		words = g_new0(char *, 2);
		words[0] = g_strdup("");
	}
	/* several answers on one line answer the questions in turn: "a f h p" */
	for (guint i = 0; words[i] != NULL; i++) {
		if (words[i][0] == '\0' && words[i + 1] != NULL)
			continue;
		if (vigilctl_answer_is_details(words[i])) {
			show_details(agent);
			continue;
		}
		if (!vigilctl_answer_feed(&agent->answer, words[i])) {
			g_autofree char *word = vigilctl_sanitize(words[i]);

			if (*word == '\0')
				say(_("Please choose: type one of the keys in brackets.\n"));
			else
				say(_("'%s' is not one of the choices.\n"), word);
			break;
		}
		if (agent->answer.step == VIGILCTL_STEP_DONE) {
			send_reply(agent);
			return;
		}
	}
	ask(agent);
}

static void
on_line(GObject *source, GAsyncResult *result, gpointer data)
{
	Agent *agent = data;
	g_autoptr(GError) local = NULL;
	g_autofree char *line = NULL;
	gsize length = 0;

	line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), result,
	                                                 &length, &local);
	if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (line == NULL) {
		/* end of input (or a line that is not UTF-8): nobody is left to answer */
		if (local != NULL)
			say(_("\nvigilctl: cannot read the terminal: %s\n"), local->message);
		g_main_loop_quit(agent->loop);
		return;
	}
	handle_line(agent, line);
	read_next_line(agent);
}

static void
read_next_line(Agent *agent)
{
	g_data_input_stream_read_line_async(agent->input, G_PRIORITY_DEFAULT, agent->cancellable,
	                                    on_line, agent);
}

/* ---- the Agent interface ---- */

static Request *
find_request(Agent *agent, guint64 id)
{
	for (GList *l = agent->requests.head; l != NULL; l = l->next) {
		Request *request = l->data;

		if (request->id == id)
			return request;
	}
	return NULL;
}

/* TRUE refuses the request: vigild gets LimitsExceeded */
static gboolean
on_prompt(VigilClientAgent *client_agent, guint64 id, GVariant *conn, Agent *agent)
{
	Request *request = NULL;
	gboolean was_idle = current(agent) == NULL;
	guint32 timeout = 0;

	if (find_request(agent, id) != NULL)
		return FALSE;
	if (g_queue_get_length(&agent->requests) >= MAX_QUEUED)
		return TRUE;
	request = g_new0(Request, 1);
	request->id = id;
	request->conn = g_variant_ref(conn);
	if (g_variant_lookup(conn, VIGIL_CONN_KEY_TIMEOUT, "u", &timeout))
		request->deadline = g_get_monotonic_time() + (gint64)timeout * G_USEC_PER_SEC;
	g_queue_push_tail(&agent->requests, request);
	if (was_idle)
		show_current(agent);
	return FALSE;
}

static void
on_cancel(VigilClientAgent *client_agent, guint64 id, const char *reason, Agent *agent)
{
	Request *request = find_request(agent, id);
	g_autofree char *text = NULL;

	if (request == NULL)
		return;
	/* the answer on its way will get NotPending; on_replied moves on */
	if (request == current(agent) && agent->sending)
		return;
	text = vigilctl_prompt_cancel_text(id, reason);
	say("\n%s\n", text);
	if (request == current(agent)) {
		drop_current(agent);
	} else {
		g_queue_remove(&agent->requests, request);
		request_free(request);
		ask(agent);
	}
}

static void
on_notify(VigilClientAgent *client_agent, const char *kind, GVariant *details, Agent *agent)
{
	g_autofree char *text = vigilctl_prompt_notify_text(kind, details);

	if (text != NULL) {
		say("\n%s\n", text);
		ask(agent);
	}
}

/* ---- registering with vigild, again after it restarts ---- */

static void
fail(Agent *agent, GError *error)
{
	if (agent->error == NULL)
		agent->error = error;
	else
		g_error_free(error);
	g_main_loop_quit(agent->loop);
}

static void
on_register_failed(VigilClientAgent *client_agent, const GError *error, Agent *agent)
{
	/* vigild went away meanwhile: it is registered with again when it comes back */
	if (vigilctl_error_is_not_running(error))
		return;
	agent->ctx->permission_hint =
	    _("registering a prompt agent needs the permission to answer your own prompts "
	      "(org.vigil.firewall.reply)");
	fail(agent, g_error_copy(error));
}

static void
on_registered(VigilClientAgent *client_agent, Agent *agent)
{
	say(_("Registered with vigild as the prompt agent for %s (uid %u).\n"), g_get_user_name(),
	    (guint)getuid());
	if (current(agent) == NULL)
		show_current(agent);
}

static void
on_vigild_appeared(VigilClientAgent *client_agent, const char *owner, Agent *agent)
{
	agent->vigild_seen = TRUE;
}

static void
on_vigild_vanished(VigilClientAgent *client_agent, gboolean bus_lost, Agent *agent)
{
	if (bus_lost) {
		fail(agent, g_error_new(VIGILCTL_ERROR, VIGILCTL_ERROR_NOT_RUNNING,
		                        _("lost the connection to the system D-Bus")));
		return;
	}
	if (agent->vigild_seen)
		say(_("\nvigild stopped; waiting for it to start again.\n"));
	agent->vigild_seen = FALSE;
	agent->sending = FALSE;
	drop_all(agent);
}

static gboolean
on_quit_signal(gpointer data)
{
	g_main_loop_quit(((Agent *)data)->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
start_agent(Agent *agent, GError **error)
{
	/* registering may need the user to authenticate */
	agent->client_agent = vigil_client_agent_new(agent->ctx->bus, AGENT_PATH,
	                                             vigilctl_call_flags(agent->ctx, TRUE),
	                                             vigilctl_call_timeout(TRUE));
	g_signal_connect(agent->client_agent, "prompt", G_CALLBACK(on_prompt), agent);
	g_signal_connect(agent->client_agent, "cancel", G_CALLBACK(on_cancel), agent);
	g_signal_connect(agent->client_agent, "notify-event", G_CALLBACK(on_notify), agent);
	g_signal_connect(agent->client_agent, "vigild-appeared", G_CALLBACK(on_vigild_appeared),
	                 agent);
	g_signal_connect(agent->client_agent, "vigild-vanished", G_CALLBACK(on_vigild_vanished),
	                 agent);
	g_signal_connect(agent->client_agent, "registered", G_CALLBACK(on_registered), agent);
	g_signal_connect(agent->client_agent, "register-failed", G_CALLBACK(on_register_failed),
	                 agent);
	return vigil_client_agent_start(agent->client_agent, error);
}

static void
agent_clear(Agent *agent)
{
	g_cancellable_cancel(agent->cancellable);
	g_clear_handle_id(&agent->resend_id, g_source_remove);
	g_clear_handle_id(&agent->hold_id, g_source_remove);
	if (agent->client_agent != NULL) {
		g_signal_handlers_disconnect_by_data(agent->client_agent, agent);
		vigil_client_agent_unregister_sync(agent->client_agent, 2000);
		g_clear_object(&agent->client_agent);
	}
	drop_all(agent);
	g_clear_object(&agent->input);
	g_clear_object(&agent->cancellable);
	g_clear_pointer(&agent->loop, g_main_loop_unref);
}

gboolean
vigilctl_cmd_prompt(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	g_autofree char *duration = NULL;
	const GOptionEntry entries[] = {{"duration", 0, 0, G_OPTION_ARG_STRING, &duration,
	                                 N_("What Enter answers to \"for how long?\": once, "
	                                    "until-quit, 5m, 1h, 24h or forever"),
	                                 N_("DURATION")},
	                                G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, "",
	    N_("Asks about the connections of your programs that no rule covers, in this terminal, "
	       "one at a time, until Ctrl-C."),
	    N_("vigild holds such a connection while it waits for an answer (PromptTimeout, then\n"
	       "DefaultAction). Answer each question with a key and Enter, or several at once:\n"
	       "  a, d, r          allow, deny, drop\n"
	       "  o, q, 5, h, d, f once, until the program quits, 5 minutes, 1 hour, 1 day, "
	       "forever\n"
	       "  a, s             for an interpreter: anything it runs, only this script\n"
	       "  h, d, a          this host, its domain, any host\n"
	       "  p, a             this port, any port\n"
	       "  i                the request again; its countdown waits until you answer\n"
	       "Anything but 'once' makes a rule. Enter alone takes the choice marked (Enter):\n"
	       "for how long, --duration, else the default chosen in vigil-tray's Preferences\n"
	       "(~/.local/state/vigil/tray.ini, [Prompts] duration), else once.\n"
	       "vigilctl prompt keeps running when vigild restarts."),
	    entries);
	Agent agent = {.ctx = ctx};
	g_autoptr(GInputStream) stdin_stream = NULL;
	guint sigint = 0;
	guint sigterm = 0;
	guint sighup = 0;
	gboolean ok = FALSE;

	if (!vigilctl_parse_options(context, &argc, &argv, error) ||
	    !vigilctl_no_arguments(argc, "prompt", error))
		return FALSE;
	agent.default_host = vigil_client_prefs_get_host_scope();
	agent.default_verdict = vigil_client_prefs_get_chosen_verdict();
	if (duration == NULL) {
		agent.default_duration = vigil_client_prefs_get_duration();
	} else if (!vigil_client_duration_from_id(duration, &agent.default_duration)) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("--duration: '%s' is not once, until-quit, 5m, 1h, 24h or forever"),
		            duration);
		return FALSE;
	}
	agent.firewall = vigilctl_firewall(ctx, error);
	if (agent.firewall == NULL)
		return FALSE;
	g_queue_init(&agent.requests);
	agent.loop = g_main_loop_new(NULL, FALSE);
	agent.cancellable = g_cancellable_new();
	if (!start_agent(&agent, error))
		goto out;
	stdin_stream = g_unix_input_stream_new(STDIN_FILENO, FALSE);
	agent.input = g_data_input_stream_new(stdin_stream);
	read_next_line(&agent);
	sigint = g_unix_signal_add(SIGINT, on_quit_signal, &agent);
	sigterm = g_unix_signal_add(SIGTERM, on_quit_signal, &agent);
	sighup = g_unix_signal_add(SIGHUP, on_quit_signal, &agent);
	g_main_loop_run(agent.loop);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	g_source_remove(sighup);
	if (agent.error != NULL) {
		g_propagate_error(error, g_steal_pointer(&agent.error));
		goto out;
	}
	say("\n");
	ok = TRUE;
out:
	agent_clear(&agent);
	return ok;
}
