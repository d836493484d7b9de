/* vigil-log-writer.c: the decision log's text (one escaping, one line per decision, the
 * "suppressed" summaries) and its structured fields, handed to GLib's log writer */
#define G_LOG_DOMAIN "vigil-decision"
#include "config.h"

#include "vigil-log-writer.h"

/* what runs for every connection writes its numbers without printf */
#define NUMBER_TEXT_SIZE 21

/* @value in decimal, written backwards from the end of @buf; returns where it starts */
static const char *
number_text(guint64 value, char buf[NUMBER_TEXT_SIZE])
{
	char *p = buf + NUMBER_TEXT_SIZE - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	return p;
}

static void
append_number(GString *s, guint64 value)
{
	char buf[NUMBER_TEXT_SIZE];

	g_string_append(s, number_text(value, buf));
}

/*
 * The one escaping of the log: a value from outside (a path, a user or host name) is written
 * as it is except for the bytes of a space, a control or format character (newlines, bidi
 * overrides), a quote, a backslash, and bytes that are not UTF-8: those are written as \xNN.
 * A value then never holds a space, so a line splits on spaces into its fields and a path
 * cannot forge one (`/tmp/x pid=1` is `/tmp/x\x20pid=1`).
 */
static gboolean
ascii_plain(guchar c)
{
	return c > ' ' && c < 0x7f && c != '"' && c != '\\';
}

/* the length of the printable UTF-8 character at @p, or 0 when its bytes are escaped */
static gsize
utf8_plain_length(const char *p)
{
	gunichar c = g_utf8_get_char_validated(p, -1);

	if (c == (gunichar)-1 || c == (gunichar)-2)
		return 0;
	switch (g_unichar_type(c)) {
	case G_UNICODE_CONTROL:
	case G_UNICODE_FORMAT:
	case G_UNICODE_UNASSIGNED:
	case G_UNICODE_PRIVATE_USE:
	case G_UNICODE_SURROGATE:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
	case G_UNICODE_SPACE_SEPARATOR:
		return 0;
	default:
		return (gsize)g_utf8_skip[*(const guchar *)p];
	}
}

static void
append_escaped(GString *s, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = text;

	while (*p != '\0') {
		const char *run = p;
		gsize n;

		/* plain ASCII, the usual case, is copied in runs */
		while (ascii_plain((guchar)*p))
			p++;
		if (p > run)
			g_string_append_len(s, run, p - run);
		if (*p == '\0')
			break;
		if ((guchar)*p >= 0x80 && (n = utf8_plain_length(p)) > 0) {
			g_string_append_len(s, p, (gssize)n);
			p += n;
			continue;
		}
		g_string_append_c(s, '\\');
		g_string_append_c(s, 'x');
		g_string_append_c(s, hex[(guchar)*p >> 4]);
		g_string_append_c(s, hex[(guchar)*p & 0xf]);
		p++;
	}
}

char *
vigil_decision_log_escape(const char *text)
{
	GString *s = g_string_new(NULL);

	append_escaped(s, text);
	return g_string_free(s, FALSE);
}

static void
append_taint(GString *s, guint taint)
{
	if (taint == 0)
		return;
	g_string_append(s, " taint=");
	if (taint & VIGIL_TAINT_TRACED)
		g_string_append(s, "traced");
	if (taint & VIGIL_TAINT_PRELOAD) {
		if (taint & VIGIL_TAINT_TRACED)
			g_string_append_c(s, ',');
		g_string_append(s, "preload");
	}
}

/* the log line of @d, whose destination is @addr */
static void
format_line(GString *s, const VigilDecision *d, const char *addr)
{
	char proto[16];

	g_string_append(s, vigil_action_to_string(d->verdict));
	g_string_append(s, " program=");
	append_escaped(s, d->program != NULL ? d->program : "unknown");
	g_string_append(s, " pid=");
	append_number(s, d->pid);
	g_string_append(s, " user=");
	append_escaped(s, d->user_name != NULL ? d->user_name : "?");
	g_string_append_c(s, '(');
	append_number(s, d->uid);
	g_string_append(s, ") dst=");
	g_string_append(s, addr);
	if (d->hostname != NULL) {
		g_string_append(s, " host=");
		append_escaped(s, d->hostname);
	}
	if (d->protocol == IPPROTO_ICMP || d->protocol == IPPROTO_ICMPV6) {
		g_string_append(s, " icmp-type=");
		append_number(s, d->icmp_type);
	} else {
		g_string_append(s, " port=");
		append_number(s, d->dport);
	}
	g_string_append(s, " proto=");
	g_string_append(s, vigil_protocol_name(d->protocol, proto, sizeof proto));
	g_string_append(s, " rule=");
	if (d->reason == VIGIL_REASON_RULE)
		append_number(s, d->rule_id);
	else
		g_string_append(s, vigil_reason_to_string(d->reason));
	g_string_append(s, " queued=");
	append_number(s, (guint64)MAX(d->queued_us, 0));
	g_string_append(s, "us");
	if (d->kernel)
		g_string_append(s, " kernel");
	append_taint(s, d->taint);
}

char *
vigil_decision_format(const VigilDecision *d)
{
	char addr[INET6_ADDRSTRLEN];
	GString *s = g_string_new(NULL);

	format_line(s, d, vigil_address_to_string(d->family, &d->dst, addr, sizeof addr));
	return g_string_free(s, FALSE);
}

void
vigil_log_writer_decision(GString *line, const VigilDecision *d, const char *addr)
{
	char rule_buf[NUMBER_TEXT_SIZE];
	char pid_buf[NUMBER_TEXT_SIZE];

	g_string_truncate(line, 0);
	format_line(line, d, addr);
	/* structured fields let `journalctl VIGIL_VERDICT=deny` filter; the journal keeps each
	 * field apart (newlines too), so VIGIL_PROGRAM is the path as it is */
	const GLogField fields[] = {
	    {"MESSAGE", line->str, -1},
	    {"PRIORITY", "6", -1},
	    {"GLIB_DOMAIN", G_LOG_DOMAIN, -1},
	    {"VIGIL_VERDICT", vigil_action_to_string(d->verdict), -1},
	    {"VIGIL_PROGRAM", d->program != NULL ? d->program : "unknown", -1},
	    {"VIGIL_PID", number_text(d->pid, pid_buf), -1},
	    {"VIGIL_DESTINATION", addr, -1},
	    {"VIGIL_RULE", number_text(d->rule_id, rule_buf), -1},
	};

	g_log_structured_array(G_LOG_LEVEL_INFO, fields, G_N_ELEMENTS(fields));
}

/* the budgets, as a "suppressed" line ends; an undefined name would be stringified as it is */
G_STATIC_ASSERT(VIGIL_DECISION_LOG_INTERVAL_S > 0 && VIGIL_DECISION_LOG_LINES_PER_PROGRAM > 0 &&
                VIGIL_DECISION_LOG_LINES_PER_UID > 0 && VIGIL_DECISION_LOG_LINES_PER_INTERVAL > 0);
/* clang-format off */
#define LIMIT_TEXT                                                                         \
	" (log limit per " G_STRINGIFY(VIGIL_DECISION_LOG_INTERVAL_S) " s: the first line"   \
	" of each program and of each program and destination, then "                        \
	G_STRINGIFY(VIGIL_DECISION_LOG_LINES_PER_PROGRAM) " per program and "                \
	G_STRINGIFY(VIGIL_DECISION_LOG_LINES_PER_UID) " per user, "                          \
	G_STRINGIFY(VIGIL_DECISION_LOG_LINES_PER_INTERVAL) " in all)"
/* clang-format on */

/* " to D destinations, first: A:P, B:P" (addresses as vigild wrote them: nothing to escape) */
static void
append_destinations(GString *line, const VigilLogSummary *summary)
{
	if (summary->program == NULL || summary->destinations == 0)
		return;
	g_string_append(line, " to ");
	append_number(line, summary->destinations);
	if (summary->destinations >= VIGIL_DECISION_LOG_SUMMARY_DESTINATIONS)
		g_string_append(line, " or more");
	g_string_append(line, summary->destinations == 1 ? " destination" : " destinations");
	for (guint i = 0; summary->first != NULL && summary->first[i] != NULL; i++) {
		g_string_append(line, i == 0 ? ", first: " : ", ");
		g_string_append(line, summary->first[i]);
	}
}

void
vigil_log_writer_summary(GString *line, const VigilLogSummary *summary)
{
	char count_buf[NUMBER_TEXT_SIZE];
	char uid_buf[NUMBER_TEXT_SIZE];

	g_string_truncate(line, 0);
	g_string_append(line, "suppressed ");
	append_number(line, summary->suppressed);
	g_string_append(line, " decisions of ");
	if (summary->program != NULL) {
		g_string_append(line, "program=");
		append_escaped(line, summary->program);
	} else {
		append_number(line, summary->programs);
		g_string_append(line, " more programs");
	}
	if (summary->has_uid) {
		g_string_append(line, " uid=");
		append_number(line, summary->uid);
	}
	append_destinations(line, summary);
	g_string_append(line, LIMIT_TEXT);
	const GLogField fields[] = {
	    {"MESSAGE", line->str, -1},
	    {"PRIORITY", "5", -1},
	    {"GLIB_DOMAIN", G_LOG_DOMAIN, -1},
	    {"VIGIL_SUPPRESSED", number_text(summary->suppressed, count_buf), -1},
	    {"VIGIL_PROGRAM", summary->program != NULL ? summary->program : "", -1},
	    {"VIGIL_UID", summary->has_uid ? number_text(summary->uid, uid_buf) : "", -1},
	};

	g_log_structured_array(G_LOG_LEVEL_MESSAGE, fields, G_N_ELEMENTS(fields));
}
