/* vigil-tray.c: vigil-tray's entry point */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "vigil-tray-app.h"

int
main(int argc, char **argv)
{
	g_autoptr(VigilTrayApp) app = NULL;
	const char *localedir = g_getenv("VIGIL_TRAY_LOCALEDIR");

	setlocale(LC_ALL, "");
	/* the tests run the uninstalled program with the translations of the build tree */
	bindtextdomain(GETTEXT_PACKAGE, localedir != NULL ? localedir : VIGIL_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	app = vigil_tray_app_new();
	return g_application_run(G_APPLICATION(app), argc, argv);
}
