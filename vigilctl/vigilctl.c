/* vigilctl.c: vigilctl's main: global options, command dispatch, errors and exit codes */
#define G_LOG_DOMAIN "vigilctl"
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "vigilctl.h"

typedef struct {
	const char *name;
	const char *summary;
	VigilctlCommandFunc run;
} Command;

static const Command commands[] = {
    {"status", N_("Show whether vigild runs, its settings and counters"), vigilctl_cmd_status},
    {"rules", N_("List, add, edit, remove, import and export rules"), vigilctl_cmd_rules},
    {"pending", N_("List the connections waiting for an answer"), vigilctl_cmd_pending},
    {"log", N_("Show recent decisions, filtered by program, verdict and time"), vigilctl_cmd_log},
    {"top", N_("Rank programs by connections, bytes and destinations"), vigilctl_cmd_top},
    {"export", N_("Write the history of decisions as CSV or JSON"), vigilctl_cmd_export},
    {"monitor", N_("Show decisions as they happen, until Ctrl-C"), vigilctl_cmd_monitor},
    {"prompt", N_("Ask about connections no rule covers, in this terminal"), vigilctl_cmd_prompt},
    {"enable", N_("Let vigild decide connections again"), vigilctl_cmd_enable},
    {"disable", N_("Let every connection through without rules or prompts"), vigilctl_cmd_disable},
    {"config", N_("Show or change DefaultAction, PromptTimeout and FailMode"), vigilctl_cmd_config},
    {"captures", N_("List or remove the packet captures of capture rules"), vigilctl_cmd_captures},
};

static const char exit_codes[] =
    N_("Exit status:\n"
       "  0  success\n"
       "  1  vigild refused or could not do it (bad rule, unknown id, ...), or a file failed\n"
       "  2  usage error: unknown command or option, bad argument\n"
       "  3  permission denied: polkit did not authorise it (try sudo)\n"
       "  4  vigild or the system D-Bus is not running\n");

static char *
describe_commands(void)
{
	GString *out = g_string_new(_("Commands:\n"));

	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		g_string_append_printf(out, "  %-9s %s\n", commands[i].name,
		                       _(commands[i].summary));
	g_string_append(out, _("\nRun 'vigilctl COMMAND --help' for a command's options.\n\n"));
	g_string_append(out, _(exit_codes));
	return g_string_free(out, FALSE);
}

static const Command *
find_command(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_strcmp0(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static int
report(const GError *error, const char *command, const char *permission_hint)
{
	g_autofree char *message = vigilctl_error_message(error, permission_hint);
	int code = vigilctl_exit_code(error);

	g_printerr("vigilctl: %s\n", message);
	if (code == VIGILCTL_EXIT_USAGE)
		g_printerr(_("Run 'vigilctl%s%s --help' for usage.\n"), command != NULL ? " " : "",
		           command != NULL ? command : "");
	return code;
}

int
main(int argc, char **argv)
{
	VigilctlContext ctx = {0};
	gboolean version = FALSE;
	const GOptionEntry entries[] = {
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &ctx.json, N_("Print JSON for scripts"), NULL},
	    {"no-ask-password", 0, 0, G_OPTION_ARG_NONE, &ctx.no_ask_password,
	     N_("Fail instead of asking for a password when vigild needs authentication"), NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print vigilctl's version"), NULL},
	    G_OPTION_ENTRY_NULL};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *description = NULL;
	g_autofree char *prgname = NULL;
	const Command *command = NULL;
	int code = VIGILCTL_EXIT_OK;
	const char *localedir = g_getenv("VIGILCTL_LOCALEDIR");

	setlocale(LC_ALL, "");
	/* the tests run the uninstalled program with the translations of the build tree */
	bindtextdomain(GETTEXT_PACKAGE, localedir != NULL ? localedir : VIGIL_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	g_set_prgname("vigilctl");
	/* the help texts are built once the text domain is bound, to be translated */
	/* GOptionContext translates the parameters, summary and entries itself */
	context = g_option_context_new(N_("COMMAND [ARGUMENTS…]"));
	description = describe_commands();
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_set_summary(
	    context, N_("Control vigild, the Vigil application firewall, and answer "
	                "its prompts from a terminal."));
	g_option_context_set_description(context, description);
	g_option_context_add_main_entries(context, entries, NULL);
	/* options after the command belong to the command */
	g_option_context_set_strict_posix(context, TRUE);
	if (!g_option_context_parse(context, &argc, &argv, &error))
		return report(error, NULL, NULL);
	if (version) {
		g_print("vigilctl %s\n", VIGIL_VERSION);
		return VIGILCTL_EXIT_OK;
	}
	if (argc < 2) {
		g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);

		g_printerr("%s", help);
		return VIGILCTL_EXIT_USAGE;
	}
	if (g_strcmp0(argv[1], "help") == 0) {
		g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);

		g_print("%s", help);
		return VIGILCTL_EXIT_OK;
	}
	command = find_command(argv[1]);
	if (command == NULL) {
		g_set_error(&error, VIGILCTL_ERROR, VIGILCTL_ERROR_USAGE,
		            _("'%s' is not a vigilctl command"), argv[1]);
		return report(error, NULL, NULL);
	}
	/* "Usage: vigilctl log [OPTION…]" in the command's --help */
	prgname = g_strconcat("vigilctl ", command->name, NULL);
	g_set_prgname(prgname);
	if (!command->run(&ctx, argc - 1, argv + 1, &error))
		code = report(error, command->name, ctx.permission_hint);
	vigilctl_context_clear(&ctx);
	return code;
}
