/* vigil-script.h: the script an interpreter (python3, sh, node, perl, ...) runs, from its
 * command line, for a rule that allows that script instead of the whole interpreter */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The script file @exe (the executable's path) runs according to @cmdline (the arguments
 * joined by spaces, as vigild reads /proc/PID/cmdline), or NULL: when @exe is no interpreter
 * it knows, when the code comes from an option (python3 -c, -m; sh -c, also in a cluster
 * such as -ec; node -e; perl -e) or standard input, when the script is not named by an
 * absolute path, or when the command line up to it has a character a rule's args glob cannot
 * match literally (* or ?).
 */
char *vigil_script_from_cmdline(const char *exe, const char *cmdline);

/* the args glob of a rule for that script: the command line as it was up to and including
 * the script, then anything ("/usr/bin/python3 -u /home/alice/bin/sync.py*"); or NULL as
 * above */
char *vigil_script_args_glob(const char *exe, const char *cmdline);

G_END_DECLS
