/* vigil-text.c: one sanitiser for process-supplied text shown by vigil-tray and vigilctl */
#include "vigil-text.h"

#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

static gboolean
is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

/* characters that reorder or hide text, or break a line, without being controls */
static gboolean
is_format_control(gunichar c)
{
	return c == 0x061c                     /* arabic letter mark */
	       || (c >= 0x200b && c <= 0x200f) /* zero-width space/(non-)joiner, LRM, RLM */
	       || (c >= 0x2028 && c <= 0x202e) /* line/paragraph separator, embeddings, overrides */
	       || (c >= 0x2060 && c <= 0x206f) /* word joiner, invisible operators, isolates */
	       || c == 0xfeff                  /* zero-width no-break space */
	       || (c >= 0xfff9 && c <= 0xfffb); /* interlinear annotation */
}

gboolean
vigil_text_is_unsafe_char(gunichar c)
{
	return is_control(c) || is_format_control(c);
}

/* @c as it is shown, appended to @out; returns its length in characters */
static gsize
append_shown(GString *out, gunichar c)
{
	if (is_control(c)) {
		g_string_append_printf(out, "\\x%02x", c);
		return 4;
	}
	if (is_format_control(c)) {
		g_string_append_printf(out, "\\u%04x", c);
		return 6;
	}
	g_string_append_unichar(out, c);
	return 1;
}

char *
vigil_text_sanitize(const char *text, gsize max_chars)
{
	g_autofree char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *out = g_string_sized_new(strlen(valid));
	gsize limit = max_chars > 0 ? max_chars : G_MAXSIZE;
	gsize shown = 0;
	gsize cut = 0; /* bytes of @out that fit before an ellipsis */
	gboolean cut_known = FALSE;

	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gsize before = out->len;
		gsize n = append_shown(out, g_utf8_get_char(p));

		/* the last whole piece that leaves room for the ellipsis */
		if (!cut_known && shown + n > limit - 1) {
			cut = before;
			cut_known = TRUE;
		}
		shown += n;
		if (shown > limit) {
			g_string_truncate(out, cut);
			g_string_append(out, ELLIPSIS);
			break;
		}
	}
	return g_string_free(out, FALSE);
}
