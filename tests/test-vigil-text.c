/* test-vigil-text.c: the sanitiser every UI shows process-supplied text through */
#include <glib.h>

#include "vigil-text.h"

static void
assert_shown(const char *text, gsize max, const char *expected)
{
	g_autofree char *shown = vigil_text_sanitize(text, max);

	g_assert_cmpstr(shown, ==, expected);
	g_assert_true(g_utf8_validate(shown, -1, NULL));
}

static void
test_plain(void)
{
	assert_shown("/usr/bin/curl é 例", 0, "/usr/bin/curl é 例");
	assert_shown("", 0, "");
	assert_shown(NULL, 0, "");
	/* a quoted rule stays as it is: backslashes are not escaped */
	assert_shown("app \"/opt/a\\\"b\"", 0, "app \"/opt/a\\\"b\"");
}

static void
test_controls(void)
{
	assert_shown("/tmp/\x1b[2Jevil\rprogram", 0, "/tmp/\\x1b[2Jevil\\x0dprogram");
	assert_shown("a\nb\tc\x7f", 0, "a\\x0ab\\x09c\\x7f");
	/* C1: CSI (U+009B) and NEL (U+0085) */
	assert_shown("a\xc2\x9b"
	             "b\xc2\x85",
	             0, "a\\x9bb\\x85");
}

static void
test_bidi(void)
{
	/* "/tmp/gpj.<RLO>exe" would read "/tmp/exe.jpg" */
	assert_shown("/tmp/gpj.\xe2\x80\xae"
	             "exe",
	             0, "/tmp/gpj.\\u202eexe");
	/* embeddings and overrides U+202A..U+202E, isolates U+2066..U+2069 */
	for (gunichar c = 0x202a; c <= 0x202e; c++)
		g_assert_true(vigil_text_is_unsafe_char(c));
	for (gunichar c = 0x2066; c <= 0x2069; c++)
		g_assert_true(vigil_text_is_unsafe_char(c));
	/* marks: LRM, RLM, ALM; zero-width characters; line and paragraph separators */
	const gunichar marks[] = {0x200e, 0x200f, 0x061c, 0x200b, 0xfeff, 0x2028, 0x2029};
	for (guint i = 0; i < G_N_ELEMENTS(marks); i++)
		g_assert_true(vigil_text_is_unsafe_char(marks[i]));
	assert_shown("x\xe2\x81\xa7y\xd8\x9cz\xe2\x80\xa8", 0, "x\\u2067y\\u061cz\\u2028");
	/* letters of right-to-left scripts are text, not controls */
	assert_shown("שלום عربي", 0, "שלום عربي");
	g_assert_false(vigil_text_is_unsafe_char(0x05d0));
}

static void
test_invalid_utf8(void)
{
	assert_shown("a\xff"
	             "b\xc3",
	             0,
	             "a\xef\xbf\xbd"
	             "b\xef\xbf\xbd");
	/* an overlong encoding of '/' is not a slash */
	assert_shown("\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd");
}

static void
test_cap(void)
{
	/* fits: unchanged; one more: cut with an ellipsis, counted in characters */
	assert_shown("abcde", 5, "abcde");
	assert_shown("abcdef", 5, "abcd…");
	assert_shown("ééééé例", 5, "éééé…");
	/* an escape is never cut in half */
	assert_shown("ab\ncd", 5, "ab…");
	assert_shown("ab\ncdef", 7, "ab\\x0a…");
	assert_shown("\xe2\x80\xae"
	             "abc",
	             6, "…");
	/* a huge text is cut to the cap */
	g_autofree char *huge = g_strnfill(1 << 20, 'a');
	g_autofree char *shown = vigil_text_sanitize(huge, VIGIL_TEXT_MAX_LINE);
	g_assert_cmpint(g_utf8_strlen(shown, -1), ==, VIGIL_TEXT_MAX_LINE);
	g_assert_true(g_str_has_suffix(shown, "…"));
}

/* no character of any plane comes out raw if it is a control or a bidi character */
static void
test_no_unsafe_survives(void)
{
	g_autoptr(GString) all = g_string_new(NULL);
	g_autofree char *shown = NULL;

	for (gunichar c = 1; c < 0x30000; c++) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		g_string_append_unichar(all, c);
	}
	shown = vigil_text_sanitize(all->str, 0);
	for (const char *p = shown; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		g_assert_false(vigil_text_is_unsafe_char(c));
		/* everything GLib calls a format or control character is covered where it
		 * moves or breaks text */
		if (g_unichar_type(c) == G_UNICODE_CONTROL)
			g_assert_not_reached();
		g_assert_true(g_unichar_break_type(c) != G_UNICODE_BREAK_MANDATORY &&
		              g_unichar_break_type(c) != G_UNICODE_BREAK_LINE_FEED &&
		              g_unichar_break_type(c) != G_UNICODE_BREAK_CARRIAGE_RETURN &&
		              g_unichar_break_type(c) != G_UNICODE_BREAK_NEXT_LINE);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/text/plain", test_plain);
	g_test_add_func("/text/controls", test_controls);
	g_test_add_func("/text/bidi", test_bidi);
	g_test_add_func("/text/invalid-utf8", test_invalid_utf8);
	g_test_add_func("/text/cap", test_cap);
	g_test_add_func("/text/no-unsafe-survives", test_no_unsafe_survives);
	return g_test_run();
}
