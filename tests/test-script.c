/* test-script.c: the script an interpreter runs, read from its command line */
#include <glib.h>

#include "vigil-script.h"

static void
check(const char *exe, const char *cmdline, const char *script)
{
	g_autofree char *found = vigil_script_from_cmdline(exe, cmdline);

	g_test_message("%s: %s", exe, cmdline);
	g_assert_cmpstr(found, ==, script);
}

static void
test_interpreters_and_their_scripts(void)
{
	check("/usr/bin/python3.11", "/usr/bin/python3 /home/a/bin/sync.py --all",
	      "/home/a/bin/sync.py");
	check("/usr/bin/python3.11", "python3 -u -W ignore /srv/tool.py", "/srv/tool.py");
	check("/usr/bin/python3.11", "python3 -Wignore /srv/tool.py x", "/srv/tool.py");
	check("/usr/bin/dash", "/bin/sh /usr/local/bin/backup", "/usr/local/bin/backup");
	check("/usr/bin/bash", "bash -x -o pipefail /opt/run.sh", "/opt/run.sh");
	check("/usr/bin/node", "node --require ./hook.js /srv/server.js", "/srv/server.js");
	check("/usr/bin/perl5.36.0", "perl -I lib /usr/bin/script.pl", "/usr/bin/script.pl");
	check("/usr/bin/ruby3.1", "ruby /srv/app.rb", "/srv/app.rb");
}

static void
test_no_script(void)
{
	/* not an interpreter: its arguments are not scripts */
	check("/usr/bin/curl", "curl https://example.org/x.py", NULL);
	check("/usr/bin/pythonista", "pythonista /a.py", NULL);
	/* the code comes from an option or from standard input */
	check("/usr/bin/python3.11", "python3 -c import urllib", NULL);
	check("/usr/bin/python3.11", "python3 -m pip install x", NULL);
	check("/usr/bin/bash", "bash -c curl x", NULL);
	check("/usr/bin/node", "node -e fetch()", NULL);
	check("/usr/bin/node", "node --eval=fetch()", NULL);
	check("/usr/bin/perl", "perl -e print", NULL);
	check("/usr/bin/python3.11", "python3 - x", NULL);
	check("/usr/bin/python3.11", "python3", NULL);
	/* ... also in a cluster of options, whatever file names follow */
	check("/usr/bin/dash", "sh -ec /usr/local/bin/backup.sh", NULL);
	check("/usr/bin/bash", "bash -lc /usr/local/bin/backup.sh", NULL);
	check("/usr/bin/python3.11", "python3 -Ic /srv/tool.py", NULL);
	check("/usr/bin/perl", "perl -we /usr/bin/script.pl", NULL);
	/* a script not named by its absolute path names no one file */
	check("/usr/bin/python3.11", "python3 tool.py", NULL);
	check("/usr/bin/python3.11", "python3 ./tool.py", NULL);
	/* a name a glob cannot match literally */
	check("/usr/bin/python3.11", "python3 /tmp/a*b.py", NULL);
	check("/usr/bin/python3.11", "python3 -X? /tmp/a.py", NULL);
	check(NULL, "python3 /a.py", NULL);
	check("/usr/bin/python3.11", NULL, NULL);
}

static void
test_args_glob(void)
{
	g_autofree char *glob = vigil_script_args_glob("/usr/bin/python3.11",
	                                               "/usr/bin/python3 -u /home/a/sync.py --all");

	g_assert_cmpstr(glob, ==, "/usr/bin/python3 -u /home/a/sync.py*");
	g_assert_true(g_pattern_match_simple(glob, "/usr/bin/python3 -u /home/a/sync.py"));
	g_assert_true(g_pattern_match_simple(glob, "/usr/bin/python3 -u /home/a/sync.py --all"));
	g_assert_false(g_pattern_match_simple(glob, "/usr/bin/python3 -u /home/a/other.py"));
	/* another script first, the allowed one only as its argument */
	g_assert_false(
	    g_pattern_match_simple(glob, "/usr/bin/python3 /home/a/evil.py /home/a/sync.py"));
	g_assert_false(g_pattern_match_simple(
	    glob, "/usr/bin/python3 -c x /usr/bin/python3 -u /home/a/sync.py"));
	g_assert_null(vigil_script_args_glob("/usr/bin/bash", "bash -ec /opt/x.sh"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/script/interpreters", test_interpreters_and_their_scripts);
	g_test_add_func("/script/none", test_no_script);
	g_test_add_func("/script/args-glob", test_args_glob);
	return g_test_run();
}
