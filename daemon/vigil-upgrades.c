/* vigil-upgrades.c: pins of learned rules follow package upgrades that dpkg vouches for */
#define G_LOG_DOMAIN "vigil-upgrades"
#include "config.h"

#include "vigil-upgrades.h"

#include <string.h>
#include <sys/stat.h>

#include "vigil-atomic-file.h"
#include "vigil-dpkg.h"
#include "vigil-fair.h"

/* pinned files whose package is known: a user's prompts make pins, so the table is bounded and
 * shared fairly per user (vigil-fair.h); at the bound a pin of the user holding the most makes
 * room, or a new pin of that very user is not recorded (its rules are asked about again after
 * an upgrade) */
#define RECORDS_MAX 4096
/* pins looked up without finding a package: not looked up again while vigild runs */
#define TRIED_MAX 4096
/* results of checks, per file and package */
#define RESULTS_MAX 256
/* checks under way; beyond, a connection does not wait for one (it is asked about). A user's
 * connections (by fairness bucket, vigil-fair.h) start at most JOBS_PER_BUCKET of them, so that
 * checks one user's programs keep held leave room for another user's */
#define JOBS_MAX        16
#define JOBS_PER_BUCKET 4
/* connections waiting for checks: a check's worker may be held (a path walk on a FUSE mount
 * that never answers) while a program's connections keep coming. A user's connections (by
 * fairness bucket) wait at most WAITERS_PER_BUCKET at once, in all checks together, and all
 * users' at most WAITERS_MAX; beyond, the next ones do not wait (they are asked about as a
 * changed program, and the log says why). One user's flood so never turns another user's
 * connection away from a check both wait for */
#define WAITERS_PER_BUCKET 64
#define WAITERS_MAX        1024
/* pins looked up in one scan of the database */
#define RECORD_BATCH 64
/* what a record job reads of the pinned files in one turn of the worker: a pin may name any of
 * root's files (up to 4 GiB, as big as any executable hashed), and a check a connection waits
 * for gets the worker between two turns, not after the whole batch */
#define RECORD_TURN_BYTES (32 * 1024 * 1024)
#define STATE_HEADER      "# vigil packages of pinned executables v1: sha256 package path"
#define SHA256_HEX        64

struct _VigilUpgrades {
	gint ref_count; /* jobs in the pool hold one: their results come back after a free */
	gboolean stopping;
	VigilRuleStore *store;
	char *info_dir;
	char *state_path;
	VigilUpgradesFunc moved;
	gpointer user_data;
	GHashTable *records; /* pin key -> package */
	GHashTable *tried;   /* pin keys looked up in vain */
	GHashTable *results; /* file key -> Result */
	GQueue result_order; /* of file keys (owned by results), oldest first */
	GHashTable *jobs;    /* file key -> CheckJob */
	GHashTable *waiting; /* fairness bucket -> connections waiting for checks (> 0) */
	guint n_waiting;     /* all of them */
	GHashTable *starts;  /* fairness bucket -> checks under way it started (> 0) */
	GThreadPool *pool;   /* one thread: the database is read by one job at a time */
	gboolean recording;  /* a record job is in the pool */
	gboolean record_again;
};

typedef struct {
	VigilDpkgResult result;
	char *package;
} Result;

typedef struct {
	VigilUpgrades *upgrades;
	char *key;
	char *path;
	dev_t dev;
	ino_t ino;
	char *sha256;
	char *package;
	guint32 uid;
	guint32 bucket;      /* the fairness bucket of the connection that started it */
	GPtrArray *waiters;  /* of GTask, its task data the waiter's fairness bucket */
	GHashTable *refused; /* buckets whose connections were turned away (each logged once) */
	VigilDpkgResult result;
	char *detail;
} CheckJob;

typedef struct {
	VigilUpgrades *upgrades;
	GPtrArray *paths;   /* of char* */
	GPtrArray *hashes;  /* of char* */
	char **owners;      /* set by the worker */
	gboolean truncated; /* more pins wait for the next batch */
	/* the worker's, across its turns: what each path holds now (path -> Content) */
	GHashTable *contents;
	guint next;             /* the path the next turn goes on with */
	VigilDpkgHash *hashing; /* of that path, part-way */
	gboolean paused;        /* the turn ended with files left to read: another turn */
} RecordJob;

typedef struct {
	char *sha256; /* NULL: not a root file (or unreadable) */
	char *md5;
} Content;

static void
content_free(Content *content)
{
	g_free(content->sha256);
	g_free(content->md5);
	g_free(content);
}

/* ---- keys ---- */

static char *
pin_key(const char *sha256, const char *path)
{
	g_autofree char *sha = g_ascii_strdown(sha256, -1);

	return g_strdup_printf("%s\n%s", sha, path);
}

static char *
file_key(const VigilProcess *process, const char *package)
{
	return g_strdup_printf("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT
	                       ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT "\n%s",
	                       (guint64)process->exe_dev, (guint64)process->exe_ino,
	                       process->exe_mtime, process->exe_ctime, process->exe_size, package);
}

/* ---- the packages of pinned files, kept across restarts ---- */

static gboolean
sha256_valid(const char *s)
{
	if (s == NULL || strlen(s) != SHA256_HEX)
		return FALSE;
	for (; *s != '\0'; s++) {
		if (!g_ascii_isxdigit(*s))
			return FALSE;
	}
	return TRUE;
}

static void
load_state(VigilUpgrades *upgrades)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(upgrades->state_path, &text, NULL, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_warning("%s", error->message);
		return;
	}
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) words = g_strsplit(lines[i], " ", 3);
		g_autofree char *path = NULL;

		if (lines[i][0] == '#' || lines[i][0] == '\0')
			continue;
		if (g_strv_length(words) != 3 || !sha256_valid(words[0]) ||
		    !vigil_dpkg_package_name_valid(words[1])) {
			g_warning("%s:%u: not a pinned file's package: ignored",
			          upgrades->state_path, i + 1);
			continue;
		}
		path = g_strcompress(words[2]);
		if (path[0] != '/' || g_hash_table_size(upgrades->records) >= RECORDS_MAX)
			continue;
		g_hash_table_replace(upgrades->records, pin_key(words[0], path),
		                     g_strdup(words[1]));
	}
}

static void
save_state(VigilUpgrades *upgrades)
{
	g_autoptr(GString) out = g_string_new(STATE_HEADER "\n");
	g_autoptr(GError) error = NULL;
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, upgrades->records);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const char *nl = strchr(key, '\n');
		g_autofree char *sha = g_strndup(key, nl - (const char *)key);
		/* a path may hold any byte but NUL: escaped, one line each */
		g_autofree char *path = g_strescape(nl + 1, NULL);

		g_string_append_printf(out, "%s %s %s\n", sha, (const char *)value, path);
	}
	if (!vigil_write_file_atomically(upgrades->state_path, out->str, &error))
		g_warning("%s", error->message);
}

/* keeps only the records some learned rule still pins */
static void
forget_unused_records(VigilUpgrades *upgrades)
{
	g_autoptr(GPtrArray) rules =
	    vigil_ruleset_list(vigil_rule_store_get_ruleset(upgrades->store));
	g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter iter;
	gpointer key;

	for (guint i = 0; i < rules->len; i++) {
		const VigilRule *rule = g_ptr_array_index(rules, i);

		if (rule->sha256 != NULL && rule->program != NULL)
			g_hash_table_add(used, pin_key(rule->sha256, rule->program));
	}
	g_hash_table_iter_init(&iter, upgrades->records);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(used, key))
			g_hash_table_iter_remove(&iter);
	}
}

/*
 * Whose share each pin takes (pin key -> fairness bucket): root's when root's own or an
 * all-users rule pins it (an administrator relies on it), else the bucket of a user whose rule
 * pins it. Pins no rule has are not in the table.
 */
static GHashTable *
pin_owners(VigilUpgrades *upgrades)
{
	g_autoptr(GPtrArray) rules =
	    vigil_ruleset_list(vigil_rule_store_get_ruleset(upgrades->store));
	GHashTable *owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < rules->len; i++) {
		const VigilRule *rule = g_ptr_array_index(rules, i);
		guint32 bucket;

		if (rule->sha256 == NULL || rule->program == NULL)
			continue;
		bucket = rule->all_users ? vigil_fair_bucket(0) : vigil_fair_bucket(rule->uid);
		char *key = pin_key(rule->sha256, rule->program);
		gpointer known;
		if (g_hash_table_lookup_extended(owners, key, NULL, &known) &&
		    GPOINTER_TO_UINT(known) == vigil_fair_bucket(0)) {
			g_free(key);
			continue;
		}
		g_hash_table_replace(owners, key, GUINT_TO_POINTER(bucket));
	}
	return owners;
}

static guint32
owner_of(GHashTable *owners, const char *key)
{
	gpointer bucket;

	return g_hash_table_lookup_extended(owners, key, NULL, &bucket) ? GPOINTER_TO_UINT(bucket)
	                                                                : G_MAXUINT32;
}

/*
 * The table is full: one record of the user holding the most goes, to make room for @key's.
 * FALSE when @key's user holds the most already (its own new pin is not recorded). One pass
 * over the rules and the records, only at the bound.
 */
static gboolean
make_room(VigilUpgrades *upgrades, const char *key)
{
	g_autoptr(GHashTable) owners = pin_owners(upgrades);
	g_autoptr(GHashTable) counts = g_hash_table_new(NULL, NULL);
	guint32 asking = owner_of(owners, key);
	guint32 most = asking;
	GHashTableIter iter;
	gpointer record_key;

	g_hash_table_iter_init(&iter, upgrades->records);
	while (g_hash_table_iter_next(&iter, &record_key, NULL)) {
		guint32 bucket = owner_of(owners, record_key);
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, GUINT_TO_POINTER(bucket)));

		g_hash_table_insert(counts, GUINT_TO_POINTER(bucket), GUINT_TO_POINTER(n + 1));
		if (n + 1 > GPOINTER_TO_UINT(g_hash_table_lookup(counts, GUINT_TO_POINTER(most))))
			most = bucket;
	}
	if (most == asking)
		return FALSE;
	g_hash_table_iter_init(&iter, upgrades->records);
	while (g_hash_table_iter_next(&iter, &record_key, NULL)) {
		if (owner_of(owners, record_key) != most)
			continue;
		g_info("%u pinned files' packages known: forgetting one of the user holding the "
		       "most (%s), its rules are asked about again after an upgrade",
		       RECORDS_MAX, strchr(record_key, '\n') + 1);
		g_hash_table_iter_remove(&iter);
		return TRUE;
	}
	return FALSE;
}

static gboolean
record(VigilUpgrades *upgrades, const char *sha256, const char *path, const char *package)
{
	g_autofree char *key = pin_key(sha256, path);

	if (g_strcmp0(g_hash_table_lookup(upgrades->records, key), package) == 0)
		return FALSE;
	if (!g_hash_table_contains(upgrades->records, key) &&
	    g_hash_table_size(upgrades->records) >= RECORDS_MAX) {
		forget_unused_records(upgrades);
		if (g_hash_table_size(upgrades->records) >= RECORDS_MAX &&
		    !make_room(upgrades, key)) {
			g_warning("%u pinned files' packages known, most of them of the user who "
			          "pinned %s: not recording its package",
			          RECORDS_MAX, path);
			return FALSE;
		}
	}
	g_hash_table_replace(upgrades->records, g_steal_pointer(&key), g_strdup(package));
	return TRUE;
}

/* ---- the worker ---- */

static void
record_job_free(RecordJob *job)
{
	if (job->owners != NULL) {
		for (guint i = 0; i < job->paths->len; i++)
			g_free(job->owners[i]);
		g_free(job->owners);
	}
	g_ptr_array_unref(job->paths);
	g_ptr_array_unref(job->hashes);
	g_hash_table_unref(job->contents);
	vigil_dpkg_hash_free(job->hashing);
	g_free(job);
}

/*
 * Reads what the job's paths hold, RECORD_TURN_BYTES a turn; FALSE when the turn is over with
 * files left (the job takes another turn, behind the checks queued meanwhile).
 */
static gboolean
read_contents(RecordJob *job)
{
	gint64 budget = RECORD_TURN_BYTES;

	for (; job->next < job->paths->len; job->next++) {
		const char *path = g_ptr_array_index(job->paths, job->next);
		Content *content;
		gint64 used = 0;

		if (g_hash_table_contains(job->contents, path))
			continue;
		if (budget <= 0)
			return FALSE;
		if (job->hashing == NULL)
			job->hashing = vigil_dpkg_hash_new(path);
		if (job->hashing != NULL && !vigil_dpkg_hash_step(job->hashing, budget, &used))
			return FALSE;
		budget -= used;
		content = g_new0(Content, 1);
		if (job->hashing != NULL) {
			content->sha256 = g_strdup(vigil_dpkg_hash_sha256(job->hashing));
			content->md5 = g_strdup(vigil_dpkg_hash_md5(job->hashing));
		}
		g_clear_pointer(&job->hashing, vigil_dpkg_hash_free);
		g_hash_table_insert(job->contents, (gpointer)path, content);
	}
	return TRUE;
}

static void
run_record(VigilUpgrades *upgrades, RecordJob *job)
{
	guint n = job->paths->len;
	g_autofree VigilDpkgFile *files = NULL;
	g_autofree guint *index = NULL;
	char **owners;
	guint wanted = 0;

	job->paused = !read_contents(job);
	if (job->paused)
		return;
	files = g_new0(VigilDpkgFile, n);
	index = g_new0(guint, n);
	for (guint i = 0; i < n; i++) {
		const char *path = g_ptr_array_index(job->paths, i);
		const char *pin = g_ptr_array_index(job->hashes, i);
		const Content *content = g_hash_table_lookup(job->contents, path);
		struct stat st;

		/* the file the path names now is the pinned one only if its content is: pins of
		 * other content (made by hand, or of a file since changed) cost no scan */
		if (content->sha256 == NULL || strcmp(content->sha256, pin) != 0 ||
		    stat(path, &st) != 0)
			continue;
		files[wanted].path = path;
		files[wanted].sha256 = pin;
		files[wanted].md5 = content->md5; /* read once: checked again, not read again */
		files[wanted].dev = st.st_dev;
		files[wanted].ino = st.st_ino;
		index[wanted++] = i;
	}
	if (wanted == 0)
		return;
	owners = vigil_dpkg_find_owners(upgrades->info_dir, files, wanted);
	job->owners = g_new0(char *, n + 1);
	for (guint i = 0; i < wanted; i++)
		job->owners[index[i]] = owners[i];
	g_free(owners);
}

static void
run_check(VigilUpgrades *upgrades, CheckJob *job)
{
	VigilDpkgFile file = {job->path, job->dev, job->ino, job->sha256};

	job->result = vigil_dpkg_verify(upgrades->info_dir, &file, job->package, &job->detail);
}

/* tasks carry a CheckJob or a RecordJob; the callback (main loop) frees it */
static void
pool_func(gpointer data, gpointer user_data)
{
	GTask *task = data;
	VigilUpgrades *upgrades = user_data;

	if (!g_atomic_int_get(&upgrades->stopping)) {
		if (g_task_get_source_tag(task) == run_check)
			run_check(upgrades, g_task_get_task_data(task));
		else
			run_record(upgrades, g_task_get_task_data(task));
	}
	g_task_return_boolean(task, TRUE);
	g_object_unref(task);
}

static VigilUpgrades *
upgrades_ref(VigilUpgrades *upgrades)
{
	g_atomic_int_inc(&upgrades->ref_count);
	return upgrades;
}

static void
upgrades_unref(VigilUpgrades *upgrades)
{
	if (!g_atomic_int_dec_and_test(&upgrades->ref_count))
		return;
	/* in the main loop: the pool's thread is done with its last task */
	if (upgrades->pool != NULL)
		g_thread_pool_free(upgrades->pool, FALSE, TRUE);
	g_hash_table_unref(upgrades->jobs);
	g_hash_table_unref(upgrades->waiting);
	g_hash_table_unref(upgrades->starts);
	g_queue_clear(&upgrades->result_order);
	g_hash_table_unref(upgrades->results);
	g_hash_table_unref(upgrades->tried);
	g_hash_table_unref(upgrades->records);
	g_free(upgrades->state_path);
	g_free(upgrades->info_dir);
	g_free(upgrades);
}

static void
push(VigilUpgrades *upgrades, gpointer job, gpointer tag, GAsyncReadyCallback done)
{
	GTask *task = g_task_new(NULL, NULL, done, job);
	g_autoptr(GError) error = NULL;

	g_task_set_source_tag(task, tag);
	g_task_set_task_data(task, job, NULL);
	upgrades_ref(upgrades);
	if (upgrades->pool == NULL)
		upgrades->pool = g_thread_pool_new(pool_func, upgrades, 1, FALSE, &error);
	if (upgrades->pool == NULL || !g_thread_pool_push(upgrades->pool, task, &error)) {
		g_warning("dpkg checks: %s", error != NULL ? error->message : "no thread");
		g_task_return_boolean(task, FALSE);
		g_object_unref(task);
	}
}

/* ---- recording the packages of pins ---- */

static void start_record(VigilUpgrades *upgrades);

static void
on_recorded(GObject *source, GAsyncResult *result, gpointer data)
{
	RecordJob *job = data;
	VigilUpgrades *upgrades = job->upgrades;
	gboolean changed = FALSE;

	/* a job the pool did not take (no thread) takes no other turn */
	if (g_task_propagate_boolean(G_TASK(result), NULL) && !upgrades->stopping && job->paused) {
		/* another turn, behind the checks queued meanwhile */
		push(upgrades, job, start_record, on_recorded);
		upgrades_unref(upgrades);
		return;
	}
	upgrades->recording = FALSE;
	if (!upgrades->stopping && job->owners != NULL) {
		for (guint i = 0; i < job->paths->len; i++) {
			const char *path = g_ptr_array_index(job->paths, i);
			const char *sha = g_ptr_array_index(job->hashes, i);

			if (job->owners[i] == NULL)
				continue;
			if (record(upgrades, sha, path, job->owners[i])) {
				changed = TRUE;
				g_info(
				    "pinned %s (sha256 %s) is package %s's file: its rules follow "
				    "the package's upgrades",
				    path, sha, job->owners[i]);
			}
		}
		if (changed)
			save_state(upgrades);
		if (job->truncated || upgrades->record_again) {
			upgrades->record_again = FALSE;
			start_record(upgrades);
		}
	}
	record_job_free(job);
	upgrades_unref(upgrades);
}

static void
start_record(VigilUpgrades *upgrades)
{
	g_autoptr(GPtrArray) rules = NULL;
	RecordJob *job;

	if (upgrades->recording) {
		upgrades->record_again = TRUE;
		return;
	}
	rules = vigil_ruleset_list(vigil_rule_store_get_ruleset(upgrades->store));
	job = g_new0(RecordJob, 1);
	job->upgrades = upgrades;
	job->paths = g_ptr_array_new_with_free_func(g_free);
	job->hashes = g_ptr_array_new_with_free_func(g_free);
	job->contents =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)content_free);
	for (guint i = 0; i < rules->len; i++) {
		const VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree char *key = NULL;

		if (rule->system || rule->sha256 == NULL || rule->program == NULL ||
		    rule->program[0] != '/')
			continue;
		key = pin_key(rule->sha256, rule->program);
		if (g_hash_table_contains(upgrades->records, key) ||
		    g_hash_table_contains(upgrades->tried, key))
			continue;
		if (job->paths->len == RECORD_BATCH) {
			job->truncated = TRUE;
			break;
		}
		if (g_hash_table_size(upgrades->tried) >= TRIED_MAX)
			g_hash_table_remove_all(upgrades->tried);
		g_hash_table_add(upgrades->tried, g_steal_pointer(&key));
		g_ptr_array_add(job->paths, g_strdup(rule->program));
		g_ptr_array_add(job->hashes, g_ascii_strdown(rule->sha256, -1));
	}
	if (job->paths->len == 0) {
		record_job_free(job);
		return;
	}
	upgrades->recording = TRUE;
	push(upgrades, job, start_record, on_recorded);
}

void
vigil_upgrades_rules_changed(VigilUpgrades *upgrades)
{
	start_record(upgrades);
}

/* ---- following an upgrade ---- */

/* the stale pins of @process's rules for @uid that @package installed, and their hashes */
static GArray *
pins_of_package(VigilUpgrades *upgrades, const char *path, guint32 uid, const char *sha256,
                const char *package, GString *old_hashes)
{
	g_autoptr(GPtrArray) stale = vigil_ruleset_stale_pins(
	    vigil_rule_store_get_ruleset(upgrades->store), path, uid, sha256);
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint64));

	for (guint i = 0; stale != NULL && i < stale->len; i++) {
		const VigilRule *rule = g_ptr_array_index(stale, i);
		g_autofree char *key = pin_key(rule->sha256, path);

		if (g_strcmp0(g_hash_table_lookup(upgrades->records, key), package) != 0)
			continue;
		g_array_append_val(ids, rule->id);
		if (strstr(old_hashes->str, rule->sha256) == NULL)
			g_string_append_printf(old_hashes, "%s%s", old_hashes->len > 0 ? ", " : "",
			                       rule->sha256);
	}
	return ids;
}

/* the package vouched for @sha256 at @path: its rules for @uid that pinned it move there */
static void
move_pins(VigilUpgrades *upgrades, const char *path, guint32 uid, const char *sha256,
          const char *package)
{
	g_autoptr(GString) old = g_string_new(NULL);
	g_autoptr(GArray) ids = pins_of_package(upgrades, path, uid, sha256, package, old);
	g_autoptr(GString) list = g_string_new(NULL);
	g_autoptr(GError) error = NULL;

	if (ids->len == 0)
		return;
	if (!vigil_rule_store_repin_learned(upgrades->store, ids, sha256, &error)) {
		g_warning("rules of %s cannot follow the upgrade of package %s: %s", path, package,
		          error->message);
		return;
	}
	if (record(upgrades, sha256, path, package))
		save_state(upgrades);
	for (guint i = 0; i < ids->len; i++)
		g_string_append_printf(list, "%s%" G_GUINT64_FORMAT, i > 0 ? ", " : "",
		                       g_array_index(ids, guint64, i));
	g_message("rules %s of %s follow the upgrade of package %s: sha256 %s → %s", list->str,
	          path, package, old->str, sha256);
	upgrades->moved(upgrades->user_data);
}

static void
remember_result(VigilUpgrades *upgrades, const char *key, VigilDpkgResult result,
                const char *package)
{
	Result *r = g_hash_table_lookup(upgrades->results, key);
	char *owned;

	if (r != NULL) {
		r->result = result;
		return;
	}
	if (g_hash_table_size(upgrades->results) >= RESULTS_MAX)
		g_hash_table_remove(upgrades->results, g_queue_pop_head(&upgrades->result_order));
	r = g_new0(Result, 1);
	r->result = result;
	r->package = g_strdup(package);
	owned = g_strdup(key);
	g_hash_table_insert(upgrades->results, owned, r);
	g_queue_push_tail(&upgrades->result_order, owned);
}

/* @table's count for @bucket, changed by @delta (a count of 0 leaves the table) */
static void
count_add(GHashTable *table, guint32 bucket, gint delta)
{
	gpointer key = GUINT_TO_POINTER(bucket);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(table, key)) + delta;

	if (n == 0)
		g_hash_table_remove(table, key);
	else
		g_hash_table_insert(table, key, GUINT_TO_POINTER(n));
}

static guint
count_of(GHashTable *table, guint32 bucket)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(table, GUINT_TO_POINTER(bucket)));
}

/* a connection of @bucket waits for @job */
static void
waiter_add(VigilUpgrades *upgrades, CheckJob *job, guint32 bucket, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);

	g_task_set_task_data(task, GUINT_TO_POINTER(bucket), NULL);
	g_ptr_array_add(job->waiters, task);
	count_add(upgrades->waiting, bucket, 1);
	upgrades->n_waiting++;
}

/* @task waits no more: answered (@checked: after the check) and not counted */
static void
waiter_answer(VigilUpgrades *upgrades, GTask *task, gboolean checked)
{
	count_add(upgrades->waiting, GPOINTER_TO_UINT(g_task_get_task_data(task)), -1);
	upgrades->n_waiting--;
	g_task_return_boolean(task, checked);
}

static void
check_job_free(CheckJob *job)
{
	g_ptr_array_unref(job->waiters);
	g_hash_table_unref(job->refused);
	g_free(job->key);
	g_free(job->path);
	g_free(job->sha256);
	g_free(job->package);
	g_free(job->detail);
	g_free(job);
}

static void
on_checked(GObject *source, GAsyncResult *result, gpointer data)
{
	CheckJob *job = data;
	VigilUpgrades *upgrades = job->upgrades;

	g_hash_table_steal(upgrades->jobs, job->key);
	count_add(upgrades->starts, job->bucket, -1);
	if (!upgrades->stopping) {
		remember_result(upgrades, job->key, job->result, job->package);
		if (job->result == VIGIL_DPKG_VERIFIED)
			move_pins(upgrades, job->path, job->uid, job->sha256, job->package);
		else
			g_message("rules of %s do not follow it (sha256 %s): %s", job->path,
			          job->sha256, job->detail != NULL ? job->detail : "not checked");
	}
	for (guint i = 0; i < job->waiters->len; i++)
		waiter_answer(upgrades, g_ptr_array_index(job->waiters, i), TRUE);
	check_job_free(job);
	upgrades_unref(upgrades);
}

/*
 * Those that went on without a check (their deadline passed) are answered now, so that they
 * stop counting: a held worker keeps only live waiters. At most WAITERS_MAX waiters in all.
 */
static void
forget_gone_waiters(VigilUpgrades *upgrades)
{
	GHashTableIter iter;
	gpointer job_data;

	g_hash_table_iter_init(&iter, upgrades->jobs);
	while (g_hash_table_iter_next(&iter, NULL, &job_data)) {
		CheckJob *job = job_data;

		for (guint i = job->waiters->len; i > 0; i--) {
			GTask *task = g_ptr_array_index(job->waiters, i - 1);

			if (!g_cancellable_is_cancelled(g_task_get_cancellable(task)))
				continue;
			/* the array's unref comes after the answer */
			g_ptr_array_steal_index_fast(job->waiters, i - 1);
			waiter_answer(upgrades, task, FALSE);
			g_object_unref(task);
		}
	}
}

/* TRUE when another connection of @bucket may wait for a check */
static gboolean
has_room(VigilUpgrades *upgrades, guint32 bucket)
{
	if (count_of(upgrades->waiting, bucket) >= WAITERS_PER_BUCKET ||
	    upgrades->n_waiting >= WAITERS_MAX)
		forget_gone_waiters(upgrades);
	return count_of(upgrades->waiting, bucket) < WAITERS_PER_BUCKET &&
	       upgrades->n_waiting < WAITERS_MAX;
}

/* @bucket's connection does not wait for @job: its prompt says why (logged once a bucket) */
static void
refuse(VigilUpgrades *upgrades, CheckJob *job, guint32 bucket)
{
	if (g_hash_table_contains(job->refused, GUINT_TO_POINTER(bucket)))
		return;
	g_hash_table_add(job->refused, GUINT_TO_POINTER(bucket));
	g_message("rules of %s: the check against package %s still runs, and %u connections of "
	          "the same user (%u in all) wait for checks: the next ones are asked about as "
	          "a changed program (not checked)",
	          job->path, job->package, count_of(upgrades->waiting, bucket),
	          upgrades->n_waiting);
}

/* the package recorded for the first of @process's stale pins that has one */
static char *
stale_package(VigilUpgrades *upgrades, const VigilProcess *process, guint32 uid,
              gboolean *stale_found)
{
	g_autoptr(GPtrArray) stale = vigil_ruleset_stale_pins(
	    vigil_rule_store_get_ruleset(upgrades->store), process->exe, uid, process->sha256);

	*stale_found = stale != NULL;
	for (guint i = 0; stale != NULL && i < stale->len; i++) {
		const VigilRule *rule = g_ptr_array_index(stale, i);
		g_autofree char *key = pin_key(rule->sha256, process->exe);
		const char *package = g_hash_table_lookup(upgrades->records, key);

		if (package != NULL)
			return g_strdup(package);
	}
	return NULL;
}

gboolean
vigil_upgrades_follow(VigilUpgrades *upgrades, const VigilProcess *process,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autofree char *package = NULL;
	g_autofree char *key = NULL;
	gboolean stale;
	const Result *known;
	CheckJob *job;
	guint32 bucket;

	if (process->sha256 == NULL || process->exe == NULL || process->exe[0] != '/' ||
	    process->exited)
		return FALSE;
	package = stale_package(upgrades, process, process->uid, &stale);
	if (package == NULL)
		return FALSE;
	key = file_key(process, package);
	known = g_hash_table_lookup(upgrades->results, key);
	if (known != NULL) {
		/* another uid's rules, or rules made since: the file was vouched for already */
		if (known->result == VIGIL_DPKG_VERIFIED)
			move_pins(upgrades, process->exe, process->uid, process->sha256, package);
		return FALSE;
	}
	bucket = vigil_fair_bucket(process->uid);
	job = g_hash_table_lookup(upgrades->jobs, key);
	if (job != NULL && !has_room(upgrades, bucket)) {
		refuse(upgrades, job, bucket);
		return FALSE;
	}
	if (job == NULL) {
		if (g_hash_table_size(upgrades->jobs) >= JOBS_MAX ||
		    count_of(upgrades->starts, bucket) >= JOBS_PER_BUCKET ||
		    !has_room(upgrades, bucket))
			return FALSE;
		job = g_new0(CheckJob, 1);
		job->upgrades = upgrades;
		job->key = g_steal_pointer(&key);
		job->path = g_strdup(process->exe);
		job->dev = process->exe_dev;
		job->ino = process->exe_ino;
		job->sha256 = g_ascii_strdown(process->sha256, -1);
		job->package = g_steal_pointer(&package);
		job->uid = process->uid;
		job->bucket = bucket;
		job->waiters = g_ptr_array_new_with_free_func(g_object_unref);
		job->refused = g_hash_table_new(NULL, NULL);
		g_hash_table_insert(upgrades->jobs, job->key, job);
		count_add(upgrades->starts, bucket, 1);
		/* first the waiter: a failed push returns the job (and its waiters) at once */
		waiter_add(upgrades, job, bucket, cancellable, callback, user_data);
		push(upgrades, job, run_check, on_checked);
		return TRUE;
	}
	waiter_add(upgrades, job, bucket, cancellable, callback, user_data);
	return TRUE;
}

void
vigil_upgrades_follow_finish(GAsyncResult *result)
{
	g_task_propagate_boolean(G_TASK(result), NULL);
}

const char *
vigil_upgrades_reason(VigilUpgrades *upgrades, const VigilProcess *process, guint32 uid,
                      const char **package)
{
	g_autofree char *recorded = NULL;
	g_autofree char *key = NULL;
	gboolean stale;
	const Result *known;

	*package = NULL;
	if (process == NULL || process->sha256 == NULL || process->exe == NULL ||
	    process->exe[0] != '/')
		return NULL;
	recorded = stale_package(upgrades, process, uid, &stale);
	if (!stale)
		return NULL;
	if (recorded == NULL)
		return vigil_dpkg_result_to_string(VIGIL_DPKG_NOT_PACKAGED);
	key = file_key(process, recorded);
	known = g_hash_table_lookup(upgrades->results, key);
	if (known == NULL) {
		const CheckJob *job = g_hash_table_lookup(upgrades->jobs, key);

		/* too many of this user's connections wait for checks: this one did not */
		if (job == NULL ||
		    !g_hash_table_contains(job->refused, GUINT_TO_POINTER(vigil_fair_bucket(uid))))
			return NULL;
		*package = job->package;
		return "not-checked";
	}
	if (known->result == VIGIL_DPKG_VERIFIED)
		return NULL;
	*package = known->package;
	return vigil_dpkg_result_to_string(known->result);
}

/* ---- life ---- */

static void
result_free(Result *r)
{
	g_free(r->package);
	g_free(r);
}

VigilUpgrades *
vigil_upgrades_new(VigilRuleStore *store, const char *info_dir, const char *state_path,
                   VigilUpgradesFunc moved, gpointer user_data)
{
	VigilUpgrades *upgrades = g_new0(VigilUpgrades, 1);

	upgrades->ref_count = 1;
	upgrades->store = store;
	upgrades->info_dir = g_strdup(info_dir);
	upgrades->state_path = g_strdup(state_path);
	upgrades->moved = moved;
	upgrades->user_data = user_data;
	upgrades->records = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	upgrades->tried = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	upgrades->results =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)result_free);
	g_queue_init(&upgrades->result_order);
	upgrades->jobs = g_hash_table_new(g_str_hash, g_str_equal);
	upgrades->waiting = g_hash_table_new(NULL, NULL);
	upgrades->starts = g_hash_table_new(NULL, NULL);
	load_state(upgrades);
	return upgrades;
}

void
vigil_upgrades_free(VigilUpgrades *upgrades)
{
	if (upgrades == NULL)
		return;
	/* jobs still in the pool finish without effect and release it */
	g_atomic_int_set(&upgrades->stopping, TRUE);
	upgrades->store = NULL;
	upgrades_unref(upgrades);
}
