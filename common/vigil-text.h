/* vigil-text.h: text that came from other processes, made safe to show to a person */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* caps for vigil_text_sanitize(), in characters of the result */
#define VIGIL_TEXT_MAX_NAME 128  /* a program's or application's name in a sentence */
#define VIGIL_TEXT_MAX_LINE 1024 /* a path, a host name, a one-line field */
#define VIGIL_TEXT_MAX_LONG 4096 /* a command line, a message */

/*
 * Program names, paths, command lines and host names are chosen by whoever started the
 * program. Shown as they are, a newline or a right-to-left override (U+202E) makes
 * "/tmp/gpj.exe" look like "/tmp/exe.jpg", or adds a line that looks like the UI's own;
 * an escape sequence rewrites a terminal. vigil_text_sanitize() returns @text (NULL: "")
 * as valid UTF-8 (invalid bytes become U+FFFD) in which
 * - control characters (C0 including tab and newline, DEL, C1) show as "\x1b",
 * - characters that reorder or hide text (bidi embeddings, overrides, isolates and marks
 *   U+200E/U+200F/U+061C, zero-width characters, line and paragraph separators, U+FEFF)
 *   show as "\u202e",
 * so the text stays on one line and reads in the order it is stored. With @max_chars > 0,
 * a longer result is cut at @max_chars characters, the last being "…"; an escape is never
 * cut in half. 0 means no cap. vigil-tray and vigilctl both show process-supplied text only
 * through this function.
 */
char *vigil_text_sanitize(const char *text, gsize max_chars);

/* TRUE when vigil_text_sanitize() would escape @c */
gboolean vigil_text_is_unsafe_char(gunichar c);

G_END_DECLS
