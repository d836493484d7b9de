/* vigil-tray-program-info.c: the .desktop files behind an executable, split into the ones root
 * installed (which may name the program) and the ones anybody could have written (claims) */
#define G_LOG_DOMAIN "vigil-tray"
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil-tray-program-info.h"

/* how deep subdirectories of an applications directory are read (kde4/, wine/Programs/…) */
#define MAX_DEPTH 4

struct _VigilTrayAppIndex {
	GObject parent;
	GHashTable *system_by_exe; /* canonical exe path -> system .desktop file; NULL: not built */
	GHashTable *other_by_exe;  /* canonical exe path -> any other .desktop file */
	GAppInfoMonitor *monitor;
};

G_DEFINE_TYPE(VigilTrayAppIndex, vigil_tray_app_index, G_TYPE_OBJECT)

void
vigil_app_match_free(VigilAppMatch *match)
{
	if (match == NULL)
		return;
	g_clear_object(&match->app);
	g_free(match->claimed_name);
	g_free(match);
}

static gboolean
owned_by_root_only(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

gboolean
vigil_desktop_file_is_system(const char *filename)
{
	g_autofree char *user_dir = g_build_filename(g_get_user_data_dir(), "/", NULL);
	g_autofree char *dir = NULL;
	char *real;
	gboolean system;

	if (filename == NULL || !g_path_is_absolute(filename))
		return FALSE;
	/* the file's real place decides: a link in a system directory may point anywhere */
	real = realpath(filename, NULL);
	if (real == NULL)
		return FALSE;
	dir = g_path_get_dirname(real);
	system = !g_str_has_prefix(real, user_dir) && !g_str_has_prefix(filename, user_dir) &&
	         owned_by_root_only(real) && owned_by_root_only(dir);
	free(real);
	return system;
}

/* the canonical path of a program named in an Exec line: PATH resolved, links followed */
static char *
canonical_program(const char *program)
{
	g_autofree char *found = NULL;
	char *real;
	char *copy;

	if (program == NULL || *program == '\0')
		return NULL;
	found = g_find_program_in_path(program);
	if (found == NULL)
		return NULL;
	/* realpath() allocates with malloc: copy into GLib's allocator */
	real = realpath(found, NULL);
	copy = g_strdup(real);
	free(real);
	return copy;
}

static void
index_program(GHashTable *by_exe, const char *program, const char *filename)
{
	char *real = canonical_program(program);

	if (real == NULL)
		return;
	/* the first file wins: directories are read in the order of their precedence */
	if (!g_hash_table_contains(by_exe, real))
		g_hash_table_insert(by_exe, real, g_strdup(filename));
	else
		g_free(real);
}

static void
index_app(GHashTable *by_exe, GDesktopAppInfo *info)
{
	const char *filename = g_desktop_app_info_get_filename(info);
	g_autofree char *try_exec = NULL;

	if (filename == NULL)
		return;
	index_program(by_exe, g_app_info_get_executable(G_APP_INFO(info)), filename);
	/* "Exec=env FOO=1 prog" or a launcher script: TryExec often names the program */
	try_exec = g_desktop_app_info_get_string(info, G_KEY_FILE_DESKTOP_KEY_TRY_EXEC);
	if (try_exec != NULL)
		index_program(by_exe, try_exec, filename);
}

/* every system .desktop file under @dir, whether or not a user's file of the same name
 * shadows it (GLib lists only the one that wins) */
static void
index_system_dir(GHashTable *by_exe, const char *dir, guint depth)
{
	g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
	const char *name;

	if (listing == NULL || depth > MAX_DEPTH)
		return;
	while ((name = g_dir_read_name(listing)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
			index_system_dir(by_exe, path, depth + 1);
		} else if (g_str_has_suffix(name, ".desktop") &&
		           vigil_desktop_file_is_system(path)) {
			g_autoptr(GDesktopAppInfo) info =
			    g_desktop_app_info_new_from_filename(path);

			if (info != NULL)
				index_app(by_exe, info);
		}
	}
}

static void
build_index(VigilTrayAppIndex *self)
{
	const char *const *dirs = g_get_system_data_dirs();
	GList *all;

	self->system_by_exe = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->other_by_exe = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; dirs[i] != NULL; i++) {
		g_autofree char *apps = g_build_filename(dirs[i], "applications", NULL);

		index_system_dir(self->system_by_exe, apps, 0);
	}
	/* the rest (the user's own first): claims */
	all = g_app_info_get_all();
	for (GList *l = all; l != NULL; l = l->next) {
		if (G_IS_DESKTOP_APP_INFO(l->data) &&
		    !vigil_desktop_file_is_system(
		        g_desktop_app_info_get_filename(G_DESKTOP_APP_INFO(l->data))))
			index_app(self->other_by_exe, G_DESKTOP_APP_INFO(l->data));
	}
	g_list_free_full(all, g_object_unref);
}

static void
apps_changed(GAppInfoMonitor *monitor, VigilTrayAppIndex *self)
{
	g_clear_pointer(&self->system_by_exe, g_hash_table_unref);
	g_clear_pointer(&self->other_by_exe, g_hash_table_unref);
}

static char *
display_name_of_file(const char *filename)
{
	g_autoptr(GDesktopAppInfo) info = g_desktop_app_info_new_from_filename(filename);

	return info != NULL ? g_strdup(g_app_info_get_display_name(G_APP_INFO(info))) : NULL;
}

/* what the app id claims: its .desktop file's name, else the app id itself */
static char *
appid_claim(const char *appid, const char *verified_file)
{
	g_autofree char *desktop = g_strconcat(appid, ".desktop", NULL);
	g_autoptr(GDesktopAppInfo) info = NULL;

	/* a name GLib would take for a path or refuse: the app id is all there is */
	if (strchr(appid, '/') == NULL && g_utf8_validate(appid, -1, NULL))
		info = g_desktop_app_info_new(desktop);
	if (info == NULL)
		return g_strdup(appid);
	if (g_strcmp0(g_desktop_app_info_get_filename(info), verified_file) == 0)
		return NULL;
	return g_strdup(g_app_info_get_display_name(G_APP_INFO(info)));
}

VigilAppMatch *
vigil_tray_app_index_lookup(VigilTrayAppIndex *self, const char *exe_path, const char *appid)
{
	g_autoptr(VigilAppMatch) match = g_new0(VigilAppMatch, 1);
	g_autofree char *key = NULL;
	const char *verified_file = NULL;

	g_return_val_if_fail(VIGIL_IS_TRAY_APP_INDEX(self), NULL);

	if (self->system_by_exe == NULL)
		build_index(self);
	if (exe_path != NULL && g_path_is_absolute(exe_path)) {
		/* vigild reports the canonical path already; resolve anyway for a symlinked /bin */
		char *real = realpath(exe_path, NULL);

		key = g_strdup(real != NULL ? real : exe_path);
		free(real);
		verified_file = g_hash_table_lookup(self->system_by_exe, key);
		if (verified_file != NULL)
			match->app = g_desktop_app_info_new_from_filename(verified_file);
	}
	if (appid != NULL && *appid != '\0') {
		match->claimed_name = appid_claim(appid, verified_file);
	} else if (key != NULL && match->app == NULL) {
		const char *other = g_hash_table_lookup(self->other_by_exe, key);

		if (other != NULL)
			match->claimed_name = display_name_of_file(other);
	}
	/* a claim that says what root's file says adds nothing */
	if (match->app != NULL && match->claimed_name != NULL &&
	    g_strcmp0(match->claimed_name, g_app_info_get_display_name(G_APP_INFO(match->app))) ==
	        0)
		g_clear_pointer(&match->claimed_name, g_free);
	return g_steal_pointer(&match);
}

static void
vigil_tray_app_index_finalize(GObject *object)
{
	VigilTrayAppIndex *self = VIGIL_TRAY_APP_INDEX(object);

	g_signal_handlers_disconnect_by_data(self->monitor, self);
	g_clear_object(&self->monitor);
	apps_changed(NULL, self);
	G_OBJECT_CLASS(vigil_tray_app_index_parent_class)->finalize(object);
}

static void
vigil_tray_app_index_class_init(VigilTrayAppIndexClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = vigil_tray_app_index_finalize;
}

static void
vigil_tray_app_index_init(VigilTrayAppIndex *self)
{
	self->monitor = g_app_info_monitor_get();
	g_signal_connect(self->monitor, "changed", G_CALLBACK(apps_changed), self);
}

VigilTrayAppIndex *
vigil_tray_app_index_new(void)
{
	return g_object_new(VIGIL_TYPE_TRAY_APP_INDEX, NULL);
}
