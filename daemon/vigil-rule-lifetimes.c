/* vigil-rule-lifetimes.c: rules that end at a time or with a process, in one place */
#define G_LOG_DOMAIN "vigil-rules"
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vigil-process.h"
#include "vigil-rule-lifetimes.h"

/* the process of until-quit rules, watched while they last */
typedef struct {
	VigilRuleLifetimes *lifetimes;
	guint32 pid;
	guint64 start_time;
	int fd;
	guint source; /* on the pidfd; 0 when polled */
} QuitWatch;

struct _VigilRuleLifetimes {
	VigilRuleStore *store;
	char *proc_root;
	VigilRuleLifetimesFunc ended;
	gpointer user_data;
	GHashTable *quit_watches; /* "pid:start" -> QuitWatch */
	guint recheck_source;
};

static void
quit_watch_free(QuitWatch *watch)
{
	g_clear_handle_id(&watch->source, g_source_remove);
	if (watch->fd >= 0)
		close(watch->fd);
	g_free(watch);
}

static gboolean
process_alive(VigilRuleLifetimes *lifetimes, guint32 pid, guint64 start_time)
{
	VigilProcessStamp stamp;

	return vigil_process_read_stamp(lifetimes->proc_root, pid, &stamp) &&
	       stamp.start_time == start_time;
}

static gboolean
on_recheck(gpointer data)
{
	VigilRuleLifetimes *lifetimes = data;

	lifetimes->recheck_source = 0;
	if (vigil_rule_lifetimes_update(lifetimes, g_get_real_time() / G_USEC_PER_SEC) > 0 &&
	    lifetimes->ended != NULL)
		lifetimes->ended(lifetimes->user_data);
	return G_SOURCE_REMOVE;
}

static gboolean
on_process_exit(gint fd, GIOCondition condition, gpointer data)
{
	QuitWatch *watch = data;
	VigilRuleLifetimes *lifetimes = watch->lifetimes;

	g_debug("process %u exited", watch->pid);
	watch->source = 0;
	close(watch->fd);
	watch->fd = -1;
	/* not from inside this source: the watch table changes */
	if (lifetimes->recheck_source == 0)
		lifetimes->recheck_source = g_idle_add(on_recheck, lifetimes);
	return G_SOURCE_REMOVE;
}

static QuitWatch *
quit_watch_new(VigilRuleLifetimes *lifetimes, guint32 pid, guint64 start_time)
{
	QuitWatch *watch = g_new0(QuitWatch, 1);

	watch->lifetimes = lifetimes;
	watch->pid = pid;
	watch->start_time = start_time;
	watch->fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	/* the pidfd may name a new process with the old pid: check it is still ours */
	if (watch->fd >= 0 && process_alive(lifetimes, pid, start_time))
		watch->source = g_unix_fd_add(watch->fd, G_IO_IN, on_process_exit, watch);
	else if (watch->fd < 0)
		g_debug("no pidfd for %u (%s): polled", pid, g_strerror(errno));
	return watch;
}

/* until-quit rules: removes those whose process is gone, watches the others' */
static guint
update_quit_rules(VigilRuleLifetimes *lifetimes, VigilRuleset *set)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(set);
	g_autoptr(GHashTable) live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter iter;
	const char *key;
	guint removed = 0;

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree char *watch_key = NULL;

		if (rule->lifetime != VIGIL_LIFETIME_PROCESS_EXIT)
			continue;
		if (!process_alive(lifetimes, rule->pid, rule->pid_start_time)) {
			g_info("rule %" G_GUINT64_FORMAT " ends: process %u has quit", rule->id,
			       rule->pid);
			vigil_ruleset_remove(set, rule->id);
			removed++;
			continue;
		}
		watch_key =
		    g_strdup_printf("%u:%" G_GUINT64_FORMAT, rule->pid, rule->pid_start_time);
		if (!g_hash_table_contains(lifetimes->quit_watches, watch_key))
			g_hash_table_insert(
			    lifetimes->quit_watches, g_strdup(watch_key),
			    quit_watch_new(lifetimes, rule->pid, rule->pid_start_time));
		g_hash_table_add(live, g_steal_pointer(&watch_key));
	}
	g_hash_table_iter_init(&iter, lifetimes->quit_watches);
	while (g_hash_table_iter_next(&iter, (gpointer *)&key, NULL)) {
		if (!g_hash_table_contains(live, key))
			g_hash_table_iter_remove(&iter);
	}
	return removed;
}

guint
vigil_rule_lifetimes_update(VigilRuleLifetimes *lifetimes, gint64 now)
{
	VigilRuleset *set = vigil_rule_store_get_ruleset(lifetimes->store);
	g_autoptr(GError) error = NULL;
	guint timed = vigil_ruleset_expire(set, now);
	guint removed = timed + update_quit_rules(lifetimes, set);

	if (timed > 0)
		g_info("%u rule(s) expired", timed);
	if (removed > 0 && !vigil_rule_store_save(lifetimes->store, &error))
		g_warning("saving learned rules: %s", error->message);
	return removed;
}

VigilRuleLifetimes *
vigil_rule_lifetimes_new(VigilRuleStore *store, const char *proc_root, VigilRuleLifetimesFunc ended,
                         gpointer user_data)
{
	VigilRuleLifetimes *lifetimes = g_new0(VigilRuleLifetimes, 1);

	lifetimes->store = store;
	lifetimes->proc_root = g_strdup(proc_root);
	lifetimes->ended = ended;
	lifetimes->user_data = user_data;
	lifetimes->quit_watches =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)quit_watch_free);
	return lifetimes;
}

void
vigil_rule_lifetimes_free(VigilRuleLifetimes *lifetimes)
{
	if (lifetimes == NULL)
		return;
	g_clear_handle_id(&lifetimes->recheck_source, g_source_remove);
	g_hash_table_unref(lifetimes->quit_watches);
	g_free(lifetimes->proc_root);
	g_free(lifetimes);
}
