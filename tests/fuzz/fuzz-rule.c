/* fuzz-rule.c: libFuzzer target for the one-line rule parser, with a round trip */
#include "config.h"

#include "vigil-rule.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static gboolean
resolve_user(const char *name, guint32 *uid)
{
	if (g_strcmp0(name, "alice") != 0)
		return FALSE;
	*uid = 1000;
	return TRUE;
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *line = NULL;
	g_autoptr(VigilRule) rule = NULL;
	g_autoptr(VigilRule) again = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	/* rule files are read line by line, as text */
	if (memchr(data, '\0', size) != NULL || memchr(data, '\n', size) != NULL)
		return 0;
	line = g_strndup((const char *)data, size);
	rule = vigil_rule_parse_line(line, resolve_user, &error);
	if (rule == NULL)
		return 0;
	/* what the daemon writes back must read as the same rule */
	text = vigil_rule_to_string(rule, TRUE);
	again = vigil_rule_parse_line(text, resolve_user, NULL);
	if (again == NULL || !vigil_rule_equal(rule, again, TRUE)) {
		g_printerr("round trip failed:\n  in:  %s\n  out: %s\n", line, text);
		g_assert_not_reached();
	}
	return 0;
}
