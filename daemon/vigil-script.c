/* vigil-script.c: which script an interpreter runs, read from its command line */
#include "vigil-script.h"

#include <string.h>

/* interpreters by the file name of their executable, version suffixes ("python3.11",
 * "perl5.36.0") left out; and the options of each that take the program as their value
 * (no script file then) or take a value of their own (skipped with it) */
typedef struct {
	const char *name;
	const char *const *code_options;
	const char *const *value_options;
} Interpreter;

static const char *const python_code[] = {"-c", "-m", NULL};
static const char *const python_value[] = {"-W", "-X", "-Q", NULL};
static const char *const shell_code[] = {"-c", "-s", NULL};
static const char *const shell_value[] = {"-o", "-O", "+o", "+O", NULL};
static const char *const node_code[] = {"-e", "--eval", "-p", "--print", "-i", NULL};
static const char *const node_value[] = {"-r", "--require", "--import", NULL};
static const char *const perl_code[] = {"-e", "-E", NULL};
static const char *const perl_value[] = {"-I", "-M", "-m", NULL};
static const char *const ruby_code[] = {"-e", NULL};
static const char *const ruby_value[] = {"-I", "-r", NULL};
static const char *const none[] = {NULL};

static const Interpreter interpreters[] = {
    {"python", python_code, python_value},
    {"sh", shell_code, shell_value},
    {"bash", shell_code, shell_value},
    {"dash", shell_code, shell_value},
    {"zsh", shell_code, shell_value},
    {"ksh", shell_code, shell_value},
    {"mksh", shell_code, shell_value},
    {"node", node_code, node_value},
    {"nodejs", node_code, node_value},
    {"perl", perl_code, perl_value},
    {"ruby", ruby_code, ruby_value},
    {"php", ruby_code, none},
    {"lua", ruby_code, none},
};

static const Interpreter *
find_interpreter(const char *exe)
{
	g_autofree char *name = g_path_get_basename(exe);
	gsize len = strlen(name);

	/* "python3.11" -> "python" */
	while (len > 0 && (g_ascii_isdigit(name[len - 1]) || name[len - 1] == '.'))
		len--;
	name[len] = '\0';
	for (guint i = 0; i < G_N_ELEMENTS(interpreters); i++) {
		if (g_str_equal(name, interpreters[i].name))
			return &interpreters[i];
	}
	return NULL;
}

/* an option word: "-c", "-Wdefault" (a value attached), "--eval=..." */
static gboolean
option_is(const char *word, const char *const *options)
{
	for (guint i = 0; options[i] != NULL; i++) {
		gsize n = strlen(options[i]);

		if (strncmp(word, options[i], n) == 0 &&
		    (word[n] == '\0' || (options[i][1] != '-' && n == 2) || word[n] == '='))
			return TRUE;
	}
	return FALSE;
}

/* "-ec", "-Ic", "-we": a cluster of one-letter options, one of which takes the program as its
 * value (the interpreter then runs that code, whatever file names follow) */
static gboolean
cluster_has_code_option(const char *word, const char *const *code_options)
{
	if (word[0] != '-' || word[1] == '-' || word[1] == '\0')
		return FALSE;
	for (const char *c = word + 1; *c != '\0'; c++) {
		for (guint i = 0; code_options[i] != NULL; i++) {
			const char *option = code_options[i];

			if (option[0] == '-' && option[1] == *c && option[2] == '\0')
				return TRUE;
		}
	}
	return FALSE;
}

/* the index of the script's word in @words, or 0 */
static guint
script_word(const Interpreter *interpreter, char **words)
{
	/* words[0] is how it was started (argv[0]) */
	for (guint i = 1; words[i] != NULL; i++) {
		const char *word = words[i];

		if (*word == '\0')
			continue;
		if (g_str_equal(word, "-") || g_str_equal(word, "--"))
			return 0; /* standard input, or a script we cannot see past "--" */
		/* only a script named by its absolute path names one file for a rule */
		if (*word != '-' && *word != '+')
			return *word == '/' ? i : 0;
		if (option_is(word, interpreter->code_options))
			return 0;
		if (option_is(word, interpreter->value_options)) {
			/* "-W ignore", "--require x": the value is the next word, unless attached
			 * ("-Wignore", "--require=x") */
			if (strchr(word, '=') == NULL && (word[1] == '-' || word[2] == '\0') &&
			    words[i + 1] != NULL)
				i++;
			continue;
		}
		if (cluster_has_code_option(word, interpreter->code_options))
			return 0;
	}
	return 0;
}

/* no word of the glob's literal part may hold a character GPatternSpec reads as a wildcard */
static gboolean
words_are_literal(char **words, guint last)
{
	for (guint i = 0; i <= last; i++) {
		if (strpbrk(words[i], "*?") != NULL)
			return FALSE;
	}
	return TRUE;
}

char *
vigil_script_args_glob(const char *exe, const char *cmdline)
{
	const Interpreter *interpreter;
	g_auto(GStrv) words = NULL;
	GString *glob;
	guint i;

	if (exe == NULL || cmdline == NULL || (interpreter = find_interpreter(exe)) == NULL)
		return NULL;
	words = g_strsplit(cmdline, " ", -1);
	i = script_word(interpreter, words);
	if (i == 0 || !words_are_literal(words, i))
		return NULL;
	/* the command line as it was up to the script, then its arguments: another script named
	 * later on the line ("python3 evil.py /usr/bin/trusted.py") does not match */
	glob = g_string_new(words[0]);
	for (guint j = 1; j <= i; j++)
		g_string_append_printf(glob, " %s", words[j]);
	g_string_append_c(glob, '*');
	return g_string_free(glob, FALSE);
}

char *
vigil_script_from_cmdline(const char *exe, const char *cmdline)
{
	const Interpreter *interpreter;
	g_auto(GStrv) words = NULL;
	guint i;

	if (exe == NULL || cmdline == NULL || (interpreter = find_interpreter(exe)) == NULL)
		return NULL;
	words = g_strsplit(cmdline, " ", -1);
	i = script_word(interpreter, words);
	return i == 0 || !words_are_literal(words, i) ? NULL : g_strdup(words[i]);
}
