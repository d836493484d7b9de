/* vigil-program-info.c: finds the .desktop file of an executable, for its name and icon */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <stdlib.h>

#include "vigil-program-info.h"

struct _VigilAppIndex {
	GObject parent;
	GHashTable *by_exe; /* canonical exe path -> desktop id; NULL until needed */
	GAppInfoMonitor *monitor;
};

G_DEFINE_TYPE(VigilAppIndex, vigil_app_index, G_TYPE_OBJECT)

/* the canonical path of a program named in an Exec line: PATH resolved, links followed */
static char *
canonical_program(const char *program)
{
	g_autofree char *found = NULL;

	if (program == NULL || *program == '\0')
		return NULL;
	found = g_find_program_in_path(program);
	if (found == NULL)
		return NULL;
	return realpath(found, NULL);
}

static void
index_add(GHashTable *by_exe, const char *program, const char *id)
{
	/* realpath() allocates with malloc: copy into GLib's allocator */
	char *real = canonical_program(program);

	if (real == NULL)
		return;
	/* the first desktop file wins: g_app_info_get_all() lists the user's own first */
	if (!g_hash_table_contains(by_exe, real))
		g_hash_table_insert(by_exe, g_strdup(real), g_strdup(id));
	free(real);
}

static GHashTable *
build_index(void)
{
	GHashTable *by_exe = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GList *all = g_app_info_get_all();

	for (GList *l = all; l != NULL; l = l->next) {
		GDesktopAppInfo *info;
		const char *id;
		g_autofree char *try_exec = NULL;

		if (!G_IS_DESKTOP_APP_INFO(l->data))
			continue;
		info = G_DESKTOP_APP_INFO(l->data);
		id = g_app_info_get_id(G_APP_INFO(info));
		if (id == NULL)
			continue;
		index_add(by_exe, g_app_info_get_executable(G_APP_INFO(info)), id);
		/* "Exec=env FOO=1 prog" or a launcher script: TryExec often names the program */
		try_exec = g_desktop_app_info_get_string(info, G_KEY_FILE_DESKTOP_KEY_TRY_EXEC);
		if (try_exec != NULL)
			index_add(by_exe, try_exec, id);
	}
	g_list_free_full(all, g_object_unref);
	return by_exe;
}

static void
apps_changed(GAppInfoMonitor *monitor, VigilAppIndex *self)
{
	g_clear_pointer(&self->by_exe, g_hash_table_unref);
}

GDesktopAppInfo *
vigil_app_index_lookup(VigilAppIndex *self, const char *exe_path, const char *appid)
{
	const char *id;
	char *real;
	g_autofree char *key = NULL;

	g_return_val_if_fail(VIGIL_IS_APP_INDEX(self), NULL);

	if (appid != NULL && *appid != '\0') {
		g_autofree char *desktop = g_strconcat(appid, ".desktop", NULL);
		GDesktopAppInfo *info = g_desktop_app_info_new(desktop);

		if (info != NULL)
			return info;
	}
	if (exe_path == NULL || !g_path_is_absolute(exe_path))
		return NULL;
	if (self->by_exe == NULL)
		self->by_exe = build_index();
	/* vigild reports the canonical path already; resolve anyway for a symlinked /bin */
	real = realpath(exe_path, NULL);
	key = g_strdup(real != NULL ? real : exe_path);
	free(real);
	id = g_hash_table_lookup(self->by_exe, key);
	return id != NULL ? g_desktop_app_info_new(id) : NULL;
}

static void
vigil_app_index_finalize(GObject *object)
{
	VigilAppIndex *self = VIGIL_APP_INDEX(object);

	g_signal_handlers_disconnect_by_data(self->monitor, self);
	g_clear_object(&self->monitor);
	g_clear_pointer(&self->by_exe, g_hash_table_unref);
	G_OBJECT_CLASS(vigil_app_index_parent_class)->finalize(object);
}

static void
vigil_app_index_class_init(VigilAppIndexClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = vigil_app_index_finalize;
}

static void
vigil_app_index_init(VigilAppIndex *self)
{
	self->monitor = g_app_info_monitor_get();
	g_signal_connect(self->monitor, "changed", G_CALLBACK(apps_changed), self);
}

VigilAppIndex *
vigil_app_index_new(void)
{
	return g_object_new(VIGIL_TYPE_APP_INDEX, NULL);
}
