/* vigil-script.h: the script an interpreter (python3, sh, node, perl, ...) runs, from its
 * command line, for a rule that allows that script instead of the whole interpreter */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The script file @exe (the executable's path) runs according to @cmdline (the arguments
 * joined by spaces, as vigild reads /proc/PID/cmdline), or NULL: when @exe is no interpreter
 * it knows, when the code comes from an option (python3 -c, -m; sh -c; node -e; perl -e) or
 * standard input, or when the script's name has a character a rule's args glob cannot match
 * literally (* ? or a space, which the joined command line cannot tell apart).
 */
char *vigil_script_from_cmdline(const char *exe, const char *cmdline);

/* the args glob of a rule for that script: the script as an argument, with any before and
 * after it ("* /home/alice/bin/sync.py*") */
char *vigil_script_args_glob(const char *script);

G_END_DECLS
