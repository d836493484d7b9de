/* vigilctl-rules.c: vigilctl rules: list, add, edit, remove, enable, disable, import, export */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vigilctl-output.h"
#include "vigilctl-rule-text.h"
#include "vigilctl.h"

typedef gboolean (*RulesFunc)(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv,
                              GError **error);

typedef struct {
	const char *name;
	const char *parameters;
	const char *brief; /* for the list of commands */
	const char *summary;
	const char *description;
	RulesFunc run;
	const GOptionEntry *entries;
} RulesCommand;

static gboolean opt_mine;

static const GOptionEntry add_entries[] = {
    {"mine", 'm', 0, G_OPTION_ARG_NONE, &opt_mine,
     N_("Make the rule for your own programs only (adds 'user UID' when the rule names no user)"),
     NULL},
    G_OPTION_ENTRY_NULL};

/* ---- list ---- */

static char *
rule_text(GVariant *rule)
{
	const char *text = vigilctl_dict_string(rule, VIGIL_RULE_KEY_TEXT);
	const char *target = vigilctl_dict_string(rule, VIGIL_RULE_KEY_PROGRAM_TARGET);
	g_autofree char *line = text != NULL ? g_strdup(text) : vigilctl_rule_dict_to_text(rule);

	/* a rule for a symbolic link matches the file it names: say which */
	if (target != NULL)
		return g_strdup_printf("%s (-> %s)", line, target);
	return g_steal_pointer(&line);
}

static char *
rule_source(GVariant *rule)
{
	gboolean system = FALSE;
	const char *origin = vigilctl_dict_string(rule, VIGIL_RULE_KEY_ORIGIN);

	g_variant_lookup(rule, VIGIL_RULE_KEY_SYSTEM, "b", &system);
	if (!system)
		return g_strdup(_("learned"));
	if (origin == NULL)
		return g_strdup(_("system"));
	return g_path_get_basename(origin);
}

char *
vigilctl_rules_format(GVariant *rules)
{
	g_autoptr(VigilctlTable) table =
	    vigilctl_table_new(5, _("ID"), _("SOURCE"), _("HITS"), _("LAST HIT"), _("RULE"));
	GVariantIter iter;
	guint64 id = 0;
	GVariant *rule = NULL;

	vigilctl_table_align_right(table, 0);
	vigilctl_table_align_right(table, 2);
	g_variant_iter_init(&iter, rules);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &rule)) {
		g_autoptr(GVariant) owned = rule;
		guint64 hits = 0;
		gint64 last_hit = 0;
		g_autofree char *id_text = g_strdup_printf("%" G_GUINT64_FORMAT, id);
		g_autofree char *hits_text = NULL;
		g_autofree char *last_text = NULL;
		g_autofree char *source = rule_source(rule);
		g_autofree char *text = rule_text(rule);

		g_variant_lookup(rule, VIGIL_RULE_KEY_HITS, "t", &hits);
		g_variant_lookup(rule, VIGIL_RULE_KEY_LAST_HIT, "x", &last_hit);
		hits_text = g_strdup_printf("%" G_GUINT64_FORMAT, hits);
		last_text = vigilctl_format_time_s(last_hit);
		vigilctl_table_add_row(table, id_text, source, hits_text, last_text, text);
	}
	if (vigilctl_table_n_rows(table) == 0)
		return g_strdup(_("No rules.\n"));
	return vigilctl_table_render(table);
}

/* [{"id": 1, "action": ...}, ...]: the rule dictionaries, each with its id */
GVariant *
vigilctl_rules_json_variant(GVariant *rules)
{
	return vigilctl_json_list_with_ids(rules, VIGIL_RULE_KEY_ID);
}

static gboolean
rules_list(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) rules = NULL;

	if (!vigilctl_no_arguments(argc, "rules list", error))
		return FALSE;
	if (!vigil_firewall_call_get_rules_sync(firewall, G_DBUS_CALL_FLAGS_NONE, -1, &rules, NULL,
	                                        error))
		return FALSE;
	vigilctl_show(rules, ctx->json, vigilctl_rules_json_variant, vigilctl_rules_format);
	return TRUE;
}

/* ---- add, edit ---- */

/* the rule line from the command line: one argument as it is, several joined and quoted */
char *
vigilctl_rules_line_from_args(int argc, char **argv)
{
	if (argc == 1)
		return g_strdup(argv[0]);
	return vigilctl_rule_text_join((const char *const *)argv);
}

static const char *
add_permission_hint(const char *line)
{
	if (vigilctl_rule_text_is_all_users(line))
		return _("adding a rule for all users needs an administrator (run with sudo or "
		         "answer the authentication prompt; "
		         "'vigilctl rules add --mine' makes a rule for your own programs only)");
	return _("a rule for another user needs an administrator (run with sudo or answer the "
	         "authentication prompt)");
}

static gboolean
need_rule_words(int argc, const char *usage, GError **error)
{
	if (argc >= 1)
		return TRUE;
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, _("usage: %s"), usage);
	return FALSE;
}

static GVariant *
text_dict(const char *line)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	g_variant_builder_add(&builder, "{sv}", VIGIL_RULE_KEY_TEXT, g_variant_new_string(line));
	return g_variant_builder_end(&builder);
}

static gboolean
check_text(const char *line, GError **error)
{
	g_auto(GStrv) words = NULL;

	if (!g_utf8_validate(line, -1, NULL)) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("the rule is not valid UTF-8"));
		return FALSE;
	}
	words = vigilctl_rule_text_split(line, error);
	if (words == NULL)
		return FALSE;
	if (words[0] == NULL) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("the rule is empty (e.g. 'deny app /usr/bin/curl port 443')"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
rules_add(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	g_autofree char *line = NULL;
	guint64 id = 0;

	if (!need_rule_words(argc - 1, _("vigilctl rules add [--mine] RULE"), error))
		return FALSE;
	line = vigilctl_rules_line_from_args(argc - 1, argv + 1);
	if (!check_text(line, error))
		return FALSE;
	if (opt_mine) {
		gboolean had_user = FALSE;
		g_autofree char *mine =
		    vigilctl_rule_text_with_user(line, getuid(), &had_user, error);

		if (mine == NULL)
			return FALSE;
		if (had_user) {
			g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
			            _("--mine: the rule already names a user"));
			return FALSE;
		}
		g_free(line);
		line = g_steal_pointer(&mine);
	}
	ctx->permission_hint = add_permission_hint(line);
	vigilctl_start_tty_agent(ctx);
	if (!vigil_firewall_call_add_rule_sync(firewall, text_dict(line),
	                                       vigilctl_call_flags(ctx, TRUE),
	                                       vigilctl_call_timeout(TRUE), &id, NULL, error))
		return FALSE;
	if (ctx->json)
		g_print("{\"id\":%" G_GUINT64_FORMAT "}\n", id);
	else
		g_print(_("Added rule %" PRIu64 ".\n"), id);
	return TRUE;
}

/* the rule's dictionary from GetRules(), or NULL when the caller cannot see it */
static GVariant *
find_rule(VigilFirewall *firewall, guint64 wanted, GError **error)
{
	g_autoptr(GVariant) rules = NULL;
	GVariantIter iter;
	guint64 id = 0;
	GVariant *rule = NULL;

	if (!vigil_firewall_call_get_rules_sync(firewall, G_DBUS_CALL_FLAGS_NONE, -1, &rules, NULL,
	                                        error))
		return NULL;
	g_variant_iter_init(&iter, rules);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &rule)) {
		if (id == wanted)
			return rule;
		g_variant_unref(rule);
	}
	g_set_error(error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_NOT_FOUND,
	            _("there is no rule %" PRIu64), wanted);
	return NULL;
}

/* a rule for one user stays that user's when the new text names nobody */
static char *
keep_user(GVariant *rule, const char *line, GError **error)
{
	guint32 uid = 0;

	if (!g_variant_lookup(rule, VIGIL_RULE_KEY_UID, "u", &uid))
		return g_strdup(line);
	return vigilctl_rule_text_with_user(line, uid, NULL, error);
}

static gboolean
rules_edit(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) rule = NULL;
	g_autofree char *line = NULL;
	g_autofree char *final = NULL;
	guint64 id = 0;

	if (!need_rule_words(argc - 2, _("vigilctl rules edit ID RULE"), error) ||
	    !vigilctl_parse_id(argv[1], &id, error))
		return FALSE;
	line = vigilctl_rules_line_from_args(argc - 2, argv + 2);
	if (!check_text(line, error))
		return FALSE;
	rule = find_rule(firewall, id, error);
	if (rule == NULL)
		return FALSE;
	final = keep_user(rule, line, error);
	if (final == NULL)
		return FALSE;
	ctx->permission_hint = vigilctl_rule_text_is_all_users(final)
	                           ? _("a rule for all users needs an administrator (run with sudo "
	                               "or answer the authentication prompt)")
	                           : _("changing this rule needs an administrator (run with sudo "
	                               "or answer the authentication prompt)");
	vigilctl_start_tty_agent(ctx);
	if (!vigil_firewall_call_update_rule_sync(firewall, id, text_dict(final),
	                                          vigilctl_call_flags(ctx, TRUE),
	                                          vigilctl_call_timeout(TRUE), NULL, error))
		return FALSE;
	if (!ctx->json)
		g_print(_("Changed rule %" PRIu64 ".\n"), id);
	return TRUE;
}

/* ---- remove, enable, disable: one call per id ---- */

static gboolean
need_ids(int argc, char **argv, const char *usage, GArray *ids, GError **error)
{
	if (argc < 2) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE, _("usage: %s"), usage);
		return FALSE;
	}
	for (int i = 1; i < argc; i++) {
		guint64 id = 0;

		if (!vigilctl_parse_id(argv[i], &id, error))
			return FALSE;
		g_array_append_val(ids, id);
	}
	return TRUE;
}

#define CHANGE_HINT                                                                                \
	N_("changing a rule for all users or another user needs an administrator (run with sudo "  \
	   "or answer the authentication prompt)")

static gboolean
rules_remove(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));

	if (!need_ids(argc, argv, _("vigilctl rules remove ID…"), ids, error))
		return FALSE;
	ctx->permission_hint = _(CHANGE_HINT);
	vigilctl_start_tty_agent(ctx);
	for (guint i = 0; i < ids->len; i++) {
		guint64 id = g_array_index(ids, guint64, i);

		if (!vigil_firewall_call_remove_rule_sync(firewall, id,
		                                          vigilctl_call_flags(ctx, TRUE),
		                                          vigilctl_call_timeout(TRUE), NULL, error))
			return FALSE;
		if (!ctx->json)
			g_print(_("Removed rule %" PRIu64 ".\n"), id);
	}
	return TRUE;
}

static gboolean
set_enabled(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, gboolean enabled,
            GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));

	if (!need_ids(argc, argv,
	              enabled ? _("vigilctl rules enable ID…") : _("vigilctl rules disable ID…"),
	              ids, error))
		return FALSE;
	ctx->permission_hint = _(CHANGE_HINT);
	vigilctl_start_tty_agent(ctx);
	for (guint i = 0; i < ids->len; i++) {
		guint64 id = g_array_index(ids, guint64, i);
		g_auto(GVariantBuilder) changes = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

		g_variant_builder_add(&changes, "{sv}", VIGIL_RULE_KEY_ENABLED,
		                      g_variant_new_boolean(enabled));
		if (!vigil_firewall_call_update_rule_sync(
		        firewall, id, g_variant_builder_end(&changes),
		        vigilctl_call_flags(ctx, TRUE), vigilctl_call_timeout(TRUE), NULL, error))
			return FALSE;
		if (!ctx->json)
			g_print(enabled ? _("Enabled rule %" PRIu64 ".\n")
			                : _("Disabled rule %" PRIu64 ".\n"),
			        id);
	}
	return TRUE;
}

static gboolean
rules_enable(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	return set_enabled(ctx, firewall, argc, argv, TRUE, error);
}

static gboolean
rules_disable(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	return set_enabled(ctx, firewall, argc, argv, FALSE, error);
}

/* ---- import, export ---- */

static char *
read_stdin(GError **error)
{
	g_autoptr(GString) text = g_string_new(NULL);
	char buf[65536];
	size_t n = 0;

	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		g_string_append_len(text, buf, n);
		if (text->len > VIGIL_IMPORT_MAX_BYTES)
			break;
	}
	if (ferror(stdin)) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED,
		            _("cannot read the standard input"));
		return NULL;
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/* the rules text of FILE ("-": the standard input), checked as vigild would check it first */
char *
vigilctl_rules_read_import(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	const char *name = g_strcmp0(path, "-") == 0 ? _("the standard input") : path;
	g_autoptr(GError) local = NULL;
	gsize len = 0;

	if (g_strcmp0(path, "-") == 0) {
		text = read_stdin(error);
		if (text == NULL)
			return NULL;
	} else if (!g_file_get_contents(path, &text, &len, &local)) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED, _("cannot import: %s"),
		            local->message);
		return NULL;
	}
	len = strlen(text);
	if (len > VIGIL_IMPORT_MAX_BYTES) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED,
		            _("%s is larger than 1 MiB, the most vigild imports at once: split it"),
		            name);
		return NULL;
	}
	if (!g_utf8_validate(text, -1, NULL)) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED,
		            _("%s is not UTF-8 text (a rules file is one rule per line)"), name);
		return NULL;
	}
	return g_steal_pointer(&text);
}

static GHashTable *
visible_ids(VigilFirewall *firewall)
{
	GHashTable *ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_autoptr(GVariant) rules = NULL;
	GVariantIter iter;
	guint64 id = 0;

	/* only to tell new rules from ones that were there: a failure just loses that */
	if (!vigil_firewall_call_get_rules_sync(firewall, G_DBUS_CALL_FLAGS_NONE, -1, &rules, NULL,
	                                        NULL))
		return ids;
	g_variant_iter_init(&iter, rules);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, NULL))
		g_hash_table_add(ids, g_memdup2(&id, sizeof id));
	return ids;
}

static gboolean
rules_import(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GHashTable) before = NULL;
	g_autoptr(GVariant) ids = NULL;
	const guint64 *list = NULL;
	gsize n = 0;
	guint added = 0;
	const char *path = NULL;

	if (argc != 2) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("usage: vigilctl rules import FILE (- for the standard input)"));
		return FALSE;
	}
	path = argv[1];
	text = vigilctl_rules_read_import(path, error);
	if (text == NULL)
		return FALSE;
	before = visible_ids(firewall);
	ctx->permission_hint =
	    _("importing rules for all users or other users needs an administrator "
	      "(run with sudo or answer the authentication prompt; lines with 'user YOUR-UID' are "
	      "yours alone)");
	vigilctl_start_tty_agent(ctx);
	if (!vigil_firewall_call_import_rules_sync(firewall, text, vigilctl_call_flags(ctx, TRUE),
	                                           vigilctl_call_timeout(TRUE), &ids, NULL,
	                                           error)) {
		if (g_error_matches(*error, VIGIL_DBUS_ERROR, VIGIL_DBUS_ERROR_INVALID_ARGUMENT)) {
			g_dbus_error_strip_remote_error(*error);
			g_prefix_error(error,
			               "%s: ", g_strcmp0(path, "-") == 0 ? _("stdin") : path);
		}
		return FALSE;
	}
	list = g_variant_get_fixed_array(ids, &n, sizeof(guint64));
	for (gsize i = 0; i < n; i++) {
		if (!g_hash_table_contains(before, &list[i]))
			added++;
	}
	if (ctx->json) {
		vigilctl_print_json(ids);
		return TRUE;
	}
	/* TRANSLATORS: the first number counts the rules of the file */
	g_print(ngettext("Imported %zu rule: %u new, %zu already there.\n",
	                 "Imported %zu rules: %u new, %zu already there.\n", n),
	        n, added, n - added);
	return TRUE;
}

static guint
count_rule_lines(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	guint n = 0;

	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) words = vigilctl_rule_text_split(lines[i], NULL);

		if (words != NULL && words[0] != NULL)
			n++;
	}
	return n;
}

static gboolean
rules_export(VigilctlContext *ctx, VigilFirewall *firewall, int argc, char **argv, GError **error)
{
	g_autofree char *text = NULL;
	guint lines = 0;
	g_autoptr(GError) local = NULL;

	if (argc > 2) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("usage: vigilctl rules export [FILE]"));
		return FALSE;
	}
	if (!vigil_firewall_call_export_rules_sync(firewall, G_DBUS_CALL_FLAGS_NONE, -1, &text,
	                                           NULL, error))
		return FALSE;
	if (argc < 2 || g_strcmp0(argv[1], "-") == 0) {
		fputs(text, stdout);
		return TRUE;
	}
	/* written whole or not at all */
	if (!g_file_set_contents(argv[1], text, -1, &local)) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_FAILED, _("cannot export: %s"),
		            local->message);
		return FALSE;
	}
	lines = count_rule_lines(text);
	g_print(ngettext("Exported %u rule to %s.\n", "Exported %u rules to %s.\n", lines), lines,
	        argv[1]);
	return TRUE;
}

/* ---- dispatch ---- */

static const RulesCommand rules_commands[] = {
    {"list", "", N_("List the rules you may see"),
     N_("Lists the rules you may see: yours, all users' and the system rules."), NULL, rules_list,
     NULL},
    {"add", N_("RULE"), N_("Add a rule, e.g. 'deny app /usr/bin/curl port 443'"),
     N_("Adds a rule, in the text form of rules files (docs/rules.md), e.g.\n"
        "  vigilctl rules add 'deny app /usr/bin/curl port 443'"),
     N_("As in rules files, a rule without 'user' applies to ALL users, which needs an\n"
        "administrator; --mine (or 'user YOUR-NAME') makes it apply to your own programs only.\n"
        "The rule may be one argument or several words; options go before it."),
     rules_add, add_entries},
    {"edit", N_("ID RULE"), N_("Replace a rule's text, keeping its id and counters"),
     N_("Replaces rule ID's match and action with RULE; it keeps its id, state and counters."),
     N_("A rule for one user stays that user's when RULE names no user; write 'user all' to\n"
        "make it apply to all users."),
     rules_edit, NULL},
    {"remove", N_("ID…"), N_("Remove rules"),
     N_("Removes rules (learned ones; system rules live in /etc/vigil/rules.d)."), NULL,
     rules_remove, NULL},
    {"enable", N_("ID…"), N_("Enable rules"), N_("Enables rules again."), NULL, rules_enable, NULL},
    {"disable", N_("ID…"), N_("Disable rules (kept, never match)"),
     N_("Disables rules: they stay but never match."), NULL, rules_disable, NULL},
    {"import", N_("FILE|-"), N_("Add the rules of a rules file, all or none"),
     N_("Adds the rules of a rules file (- reads the standard input), all or none."),
     N_("Lines without 'user' apply to all users. Rules already there are not added twice."),
     rules_import, NULL},
    {"export", N_("[FILE]"), N_("Write your learned rules as a rules file"),
     N_("Writes your learned rules in the rules file format, to FILE or the standard output."),
     NULL, rules_export, NULL},
};

static char *
describe_rules_commands(void)
{
	GString *out = g_string_new(_("Commands:\n"));

	for (guint i = 0; i < G_N_ELEMENTS(rules_commands); i++) {
		/* _("") would be the catalog's header */
		const char *parameters =
		    rules_commands[i].parameters[0] != '\0' ? _(rules_commands[i].parameters) : "";
		g_autofree char *usage = g_strconcat(rules_commands[i].name, " ", parameters, NULL);
		glong width = g_utf8_strlen(usage, -1);

		/* padded by characters: "…" is one column but three bytes */
		g_string_append_printf(out, "  %s%*s %s\n", usage, (int)MAX(0, 16 - width), "",
		                       _(rules_commands[i].brief));
	}
	g_string_append(out, _("\nRun 'vigilctl rules COMMAND --help' for details.\n"));
	return g_string_free(out, FALSE);
}

static gboolean
run_rules_command(VigilctlContext *ctx, const RulesCommand *command, int argc, char **argv,
                  GError **error)
{
	g_autofree char *prgname = g_strconcat("vigilctl rules ", command->name, NULL);
	g_autoptr(GOptionContext) context = NULL;
	VigilFirewall *firewall = NULL;

	g_set_prgname(prgname);
	context = vigilctl_option_context(ctx, command->parameters, command->summary,
	                                  command->description, command->entries);
	/* "rules add deny to -1" would otherwise take "-1" for an option */
	if (g_strcmp0(command->name, "add") == 0 || g_strcmp0(command->name, "edit") == 0)
		g_option_context_set_strict_posix(context, TRUE);
	if (!vigilctl_parse_options(context, &argc, &argv, error))
		return FALSE;
	firewall = vigilctl_firewall(ctx, error);
	if (firewall == NULL)
		return FALSE;
	return command->run(ctx, firewall, argc, argv, error);
}

gboolean
vigilctl_cmd_rules(VigilctlContext *ctx, int argc, char **argv, GError **error)
{
	g_autofree char *description = describe_rules_commands();
	g_autoptr(GOptionContext) context = vigilctl_option_context(
	    ctx, N_("COMMAND [ARGUMENTS…]"), N_("Manages Vigil's rules."), description, NULL);
	const char *name = NULL;

	/* the subcommand's options are its own */
	g_option_context_set_strict_posix(context, TRUE);
	if (!vigilctl_parse_options(context, &argc, &argv, error))
		return FALSE;
	if (argc < 2) {
		g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("rules needs a command: list, add, edit, remove, enable, disable, "
		              "import or export"));
		return FALSE;
	}
	/* "rm" is "remove", as people type it */
	name = g_strcmp0(argv[1], "rm") == 0 ? "remove" : argv[1];
	for (guint i = 0; i < G_N_ELEMENTS(rules_commands); i++) {
		if (g_strcmp0(rules_commands[i].name, name) == 0)
			return run_rules_command(ctx, &rules_commands[i], argc - 1, argv + 1,
			                         error);
	}
	g_set_error(error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
	            _("'%s' is not a rules command (list, add, edit, remove, enable, disable, "
	              "import, export)"),
	            argv[1]);
	return FALSE;
}
