/* vigil-rule-store.c: rules on disk: the system rules.d directory and the learned rules file */
#define G_LOG_DOMAIN "vigil-rule-store"
#include "config.h"

#include "vigil-rule-store.h"

#include "vigil-atomic-file.h"

#include <errno.h>
#include <fcntl.h> /* renameat2 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* far above any real rules file (10,000 rules are about 1 MiB); bounds what a bad file costs */
#define MAX_FILE_SIZE (32 * 1024 * 1024)
#define DEBOUNCE_MS   200
/* bad lines of one file reported one by one; beyond, one line counts the rest */
#define MAX_REPORTED_LINES 50
/* names tried for the copy of a learned file kept aside in one second */
#define MAX_ASIDE_NAMES 100
/* rule paths that are links, or name no file, reported one by one at each load */
#define MAX_REPORTED_PATHS 20
/* how often rule paths are looked at again (links changed, programs installed), and how many
 * at a time: a bounded cost on the main loop, every path in turn */
#define RECHECK_INTERVAL_S 1
#define RECHECK_BATCH      256

#define LEARNED_HEADER                                                                             \
	"# Vigil learned rules, written by vigild: one rule per line, see docs/rules.md.\n"        \
	"# vigild rewrites this file when rules change; if it has a line vigild cannot read, "     \
	"it is kept aside as its name + .corrupt-TIME first.\n"

struct _VigilRuleStore {
	char *system_dir;
	char *learned_path;
	VigilUserResolver resolve_user;
	VigilRuleset *set;

	/* system rules by file name: what each file contributed at its last good read */
	GHashTable *system_files; /* name -> GPtrArray of VigilRule* */
	/* learned lines that had no id, by a key that survives reloads, to keep their ids and
	 * hits (system rules get theirs from system_files at each reload) */
	GHashTable *learned_keys; /* "text\nN" -> VigilRule* */
	guint64 next_system_id;
	char *learned_text; /* the learned file as last read or written */
	/* the learned file could not be read whole nor kept aside: never write over it */
	gboolean learned_blocked;

	GFileMonitor *system_monitor;
	GFileMonitor *learned_monitor;
	guint debounce_id;
	guint recheck_id;
	gboolean system_dirty;
	gboolean learned_dirty;
	GCallback changed;
	gpointer changed_data;
};

/* ---- problems and text ---- */

void
vigil_load_problem_free(VigilLoadProblem *problem)
{
	if (problem == NULL)
		return;
	g_free(problem->file);
	g_free(problem->message);
	g_free(problem);
}

static void
add_problem(GPtrArray *problems, const char *file, guint line, const char *message)
{
	VigilLoadProblem *problem;

	if (problems == NULL)
		return;
	problem = g_new0(VigilLoadProblem, 1);
	problem->file = g_strdup(file);
	problem->line = line;
	problem->message = g_strdup(message);
	g_ptr_array_add(problems, problem);
}

static void
clear_state(VigilRule *rule)
{
	rule->id = 0;
	rule->hits = 0;
	rule->last_hit = 0;
}

/* the @len bytes at @line: a rule, NULL (blank or comment), or NULL with an error */
static VigilRule *
parse_one_line(const char *line, gsize len, VigilUserResolver resolve_user, GError **error)
{
	g_autofree char *copy = NULL;

	/* a NUL would end the line early for every string function after it: it is the line's
	 * error, not the end of the file's text */
	if (memchr(line, '\0', len) != NULL) {
		g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_SYNTAX,
		            "the line has a NUL byte (binary data?)");
		return NULL;
	}
	copy = g_strndup(line, len);
	return vigil_rule_parse_line(copy, resolve_user, error);
}

GPtrArray *
vigil_rules_parse_text(const char *text, gssize length, const char *file_name, gboolean system,
                       VigilUserResolver resolve_user, GPtrArray *problems)
{
	g_autoptr(GPtrArray) rules =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_rule_unref);
	gsize len = length >= 0 ? (gsize)length : (text != NULL ? strlen(text) : 0);
	const char *stop = text + len;
	guint number = 0;
	guint bad = 0;

	g_return_val_if_fail(text != NULL && file_name != NULL, NULL);

	/* a line at a time rather than split all at once: 10,000 short-lived strings between
	 * the rules would leave the heap full of holes; and bad bytes cost only their line */
	for (const char *line = text; line != NULL;) {
		const char *end = memchr(line, '\n', (gsize)(stop - line));
		gsize line_len = (gsize)((end != NULL ? end : stop) - line);
		g_autoptr(GError) error = NULL;
		VigilRule *rule = parse_one_line(line, line_len, resolve_user, &error);

		number++;
		line = end != NULL ? end + 1 : NULL;
		if (error != NULL) {
			/* a binary file would log a line per line: the first ones tell what it is
			 */
			if (++bad <= MAX_REPORTED_LINES)
				add_problem(problems, file_name, number, error->message);
			continue;
		}
		if (rule == NULL)
			continue;
		rule->origin = g_strdup_printf("%s:%u", file_name, number);
		rule->system = system;
		if (system)
			clear_state(rule);
		g_ptr_array_add(rules, rule);
	}
	if (bad > MAX_REPORTED_LINES) {
		g_autofree char *message = g_strdup_printf(
		    "%u more bad lines, not reported one by one", bad - MAX_REPORTED_LINES);

		add_problem(problems, file_name, 0, message);
	}
	return g_steal_pointer(&rules);
}

char *
vigil_rules_format_text(GPtrArray *rules, gboolean with_state)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; rules != NULL && i < rules->len; i++) {
		g_autofree char *line =
		    vigil_rule_to_string(g_ptr_array_index(rules, i), with_state);

		g_string_append(out, line);
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

/* ---- files ---- */

/*
 * The bytes of a rules file, or NULL with a G_FILE_ERROR when it cannot be read at all.
 * Bad bytes (a NUL, invalid UTF-8) are not such an error: they cost only their line.
 */
static char *
read_rules_file(const char *path, gsize *len, GError **error)
{
	g_autofree char *text = NULL;
	GStatBuf st;
	int saved_errno;

	if (g_stat(path, &st) != 0) {
		saved_errno = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno), "%s",
		            g_strerror(saved_errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
		            S_ISREG(st.st_mode) ? "larger than 32 MiB: not a rules file"
		                                : "not a regular file");
		return NULL;
	}
	if (!g_file_get_contents(path, &text, len, error))
		return NULL;
	return g_steal_pointer(&text);
}

static void
log_problems(GPtrArray *problems, guint from)
{
	for (guint i = from; i < problems->len; i++) {
		VigilLoadProblem *problem = g_ptr_array_index(problems, i);

		if (problem->line > 0)
			g_warning("%s:%u: %s", problem->file, problem->line, problem->message);
		else
			g_warning("%s: %s", problem->file, problem->message);
	}
}

/* ---- the store ---- */

VigilRuleStore *
vigil_rule_store_new(const char *system_dir, const char *learned_path,
                     VigilUserResolver resolve_user)
{
	VigilRuleStore *store;

	g_return_val_if_fail(system_dir != NULL && learned_path != NULL, NULL);

	store = g_new0(VigilRuleStore, 1);
	store->system_dir = g_strdup(system_dir);
	store->learned_path = g_strdup(learned_path);
	store->resolve_user = resolve_user;
	store->set = vigil_ruleset_new();
	store->system_files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                            (GDestroyNotify)g_ptr_array_unref);
	store->learned_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                            (GDestroyNotify)vigil_rule_unref);
	store->next_system_id = VIGIL_RULE_ID_SYSTEM_BASE + 1;
	return store;
}

static void
stop_watching(VigilRuleStore *store)
{
	g_clear_handle_id(&store->debounce_id, g_source_remove);
	g_clear_handle_id(&store->recheck_id, g_source_remove);
	if (store->system_monitor != NULL) {
		g_signal_handlers_disconnect_by_data(store->system_monitor, store);
		g_file_monitor_cancel(store->system_monitor);
		g_clear_object(&store->system_monitor);
	}
	if (store->learned_monitor != NULL) {
		g_signal_handlers_disconnect_by_data(store->learned_monitor, store);
		g_file_monitor_cancel(store->learned_monitor);
		g_clear_object(&store->learned_monitor);
	}
}

void
vigil_rule_store_free(VigilRuleStore *store)
{
	if (store == NULL)
		return;
	stop_watching(store);
	g_hash_table_unref(store->system_files);
	g_hash_table_unref(store->learned_keys);
	vigil_ruleset_free(store->set);
	g_free(store->learned_text);
	g_free(store->system_dir);
	g_free(store->learned_path);
	g_free(store);
}

VigilRuleset *
vigil_rule_store_get_ruleset(VigilRuleStore *store)
{
	g_return_val_if_fail(store != NULL, NULL);
	return store->set;
}

/* ---- loading ---- */

/* what one load has gathered before it replaces the live rules */
typedef struct {
	GHashTable *system_files; /* as in the store */
	GPtrArray *learned;       /* VigilRule*, or NULL: keep the learned rules in the set */
	GPtrArray *problems;
	GError *failure;          /* the first source that could not be read at all */
	gboolean save_learned;    /* the learned file was kept aside: write the rules anew */
	gboolean learned_partial; /* some lines of the learned file could not be read */
} Load;

static void
load_failed(Load *load, const char *file, GError *error)
{
	add_problem(load->problems, file, 0, error->message);
	if (load->failure == NULL)
		load->failure =
		    g_error_new(error->domain, error->code, "%s: %s", file, error->message);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the *.rules names in the directory, sorted; editor droppings (".#x.rules") excluded */
static GPtrArray *
list_rules_files(GDir *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	while ((name = g_dir_read_name(dir)) != NULL) {
		if (name[0] != '.' && g_str_has_suffix(name, ".rules"))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, compare_names);
	return names;
}

static void
load_system_file(VigilRuleStore *store, Load *load, const char *name)
{
	g_autofree char *path = g_build_filename(store->system_dir, name, NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	GPtrArray *old;
	gsize len = 0;

	text = read_rules_file(path, &len, &error);
	if (text == NULL) {
		/* keep what the file gave before: a half-written or broken file loses nothing */
		load_failed(load, path, error);
		old = g_hash_table_lookup(store->system_files, name);
		if (old != NULL)
			g_hash_table_insert(load->system_files, g_strdup(name),
			                    g_ptr_array_ref(old));
		return;
	}
	g_hash_table_insert(load->system_files, g_strdup(name),
	                    vigil_rules_parse_text(text, (gssize)len, path, TRUE,
	                                           store->resolve_user, load->problems));
}

static void
load_system(VigilRuleStore *store, Load *load)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = g_dir_open(store->system_dir, 0, &error);
	g_autoptr(GPtrArray) names = NULL;
	GHashTableIter iter;
	gpointer name, rules;

	if (dir == NULL) {
		/* no directory: no system rules, and nothing wrong with that */
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return;
		load_failed(load, store->system_dir, error);
		g_hash_table_iter_init(&iter, store->system_files);
		while (g_hash_table_iter_next(&iter, &name, &rules))
			g_hash_table_insert(load->system_files, g_strdup(name),
			                    g_ptr_array_ref(rules));
		return;
	}
	names = list_rules_files(dir);
	for (guint i = 0; i < names->len; i++)
		load_system_file(store, load, g_ptr_array_index(names, i));
}

/* "rules" -> "rules.corrupt-20261207T101500Z" (or "...Z-2", ... when that name is taken) */
static char *
aside_name(const char *path, guint attempt)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");

	if (attempt == 0)
		return g_strdup_printf("%s.corrupt-%s", path, stamp);
	return g_strdup_printf("%s.corrupt-%s-%u", path, stamp, attempt + 1);
}

/*
 * Keeps the file at @path under a new name no other file has, and returns that name.
 * A hard link first, so that @path never goes missing (a crash before the next save
 * still finds it); a rename that replaces nothing where the file system has no links.
 */
static char *
keep_aside(const char *path, GError **error)
{
	int saved_errno = 0;

	for (guint attempt = 0; attempt < MAX_ASIDE_NAMES; attempt++) {
		g_autofree char *aside = aside_name(path, attempt);

		if (link(path, aside) == 0 ||
		    (errno != EEXIST &&
		     renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0))
			return g_steal_pointer(&aside);
		saved_errno = errno;
		if (saved_errno != EEXIST)
			break;
	}
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno),
	            "cannot keep it aside: %s", g_strerror(saved_errno));
	return NULL;
}

/*
 * The learned file could not be read whole (@why): its lines are not ours to drop. It is
 * kept aside and the rules it gave (if any) are saved anew; if it cannot be kept aside,
 * nothing writes over it until it reads whole again.
 */
static void
set_learned_aside(VigilRuleStore *store, Load *load, const char *why)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *aside = keep_aside(store->learned_path, &error);
	g_autofree char *message = NULL;

	if (aside == NULL) {
		g_autoptr(GError) failure = NULL;

		store->learned_blocked = TRUE;
		message = g_strdup_printf("could not be read whole (%s) and %s; learned rules are "
		                          "not saved until it reads whole or is moved away",
		                          why, error->message);
		failure = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_FAILED, message);
		load_failed(load, store->learned_path, failure);
		return;
	}
	store->learned_blocked = FALSE;
	load->save_learned = TRUE;
	message = g_strdup_printf("could not be read whole (%s): kept as %s; the rules it gave "
	                          "are saved anew",
	                          why, aside);
	add_problem(load->problems, store->learned_path, 0, message);
}

static void
load_learned(VigilRuleStore *store, Load *load)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_autofree char *text = read_rules_file(store->learned_path, &len, &error);
	guint first_problem = load->problems->len;
	guint bad;

	if (text == NULL) {
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			load->learned =
			    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_rule_unref);
			g_clear_pointer(&store->learned_text, g_free);
			store->learned_blocked = FALSE;
			return;
		}
		/* the learned rules in memory stay (none at start), and are saved beside it */
		set_learned_aside(store, load, error->message);
		return;
	}
	load->learned = vigil_rules_parse_text(text, (gssize)len, store->learned_path, FALSE,
	                                       store->resolve_user, load->problems);
	g_free(store->learned_text);
	store->learned_text = g_steal_pointer(&text);
	bad = load->problems->len - first_problem;
	load->learned_partial = bad > 0;
	if (bad > 0) {
		g_autofree char *why =
		    g_strdup_printf(bad == 1 ? "a bad line" : "bad lines, reported above");

		set_learned_aside(store, load, why);
	} else {
		store->learned_blocked = FALSE;
	}
}

/* "prefix\ntext\nN": N counts earlier identical lines, so duplicates keep distinct keys */
static char *
rule_key(GHashTable *seen, const char *prefix, const VigilRule *rule)
{
	g_autofree char *text = vigil_rule_to_string(rule, FALSE);
	g_autofree char *base = g_strconcat(prefix, "\n", text, NULL);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(seen, base));

	g_hash_table_insert(seen, g_strdup(base), GUINT_TO_POINTER(n + 1));
	return g_strdup_printf("%s\n%u", base, n);
}

/* the rule to keep for @rule: the one loaded before under the same key, or @rule itself */
static VigilRule *
reuse_rule(GHashTable *old_keys, const char *key, VigilRule *rule)
{
	VigilRule *old = g_hash_table_lookup(old_keys, key);

	if (old == NULL || old == rule)
		return rule;
	g_free(old->origin);
	old->origin = g_strdup(rule->origin);
	return old;
}

/*
 * System rules by a key that survives reloads, to keep their ids and hits: the file, the text,
 * and how many identical lines come before it in that file (duplicates keep distinct ids).
 * Built when a reload starts from the files' lists rather than kept all the time, and as a
 * 64-bit hash rather than text: with 10,000 rules, text keys take megabytes. A match is
 * confirmed by comparing the two rules, so a collision could only cost a rule its old id.
 */
typedef struct {
	guint64 key;
	VigilRule *rule;
} KeyedRule;

typedef struct {
	KeyedRule *items; /* sized up front: the table points into it */
	guint len;
	guint capacity;
	GHashTable *table; /* set of KeyedRule*, by key */
} KeyTable;

#define FNV64_OFFSET G_GUINT64_CONSTANT(14695981039346656037)
#define FNV64_PRIME  G_GUINT64_CONSTANT(1099511628211)

static guint64
fnv64(guint64 hash, const char *text)
{
	for (const char *p = text; *p != '\0'; p++)
		hash = (hash ^ (guchar)*p) * FNV64_PRIME;
	/* the terminator too, so "ab" + "c" differs from "a" + "bc" */
	return hash * FNV64_PRIME;
}

static guint
keyed_hash(gconstpointer data)
{
	guint64 key = ((const KeyedRule *)data)->key;

	return (guint)(key ^ (key >> 32));
}

static gboolean
keyed_equal(gconstpointer a, gconstpointer b)
{
	return ((const KeyedRule *)a)->key == ((const KeyedRule *)b)->key;
}

static void
key_table_init(KeyTable *keys, guint capacity)
{
	keys->items = g_new(KeyedRule, capacity);
	keys->len = 0;
	keys->capacity = capacity;
	keys->table = g_hash_table_new(keyed_hash, keyed_equal);
}

static void
key_table_clear(KeyTable *keys)
{
	g_clear_pointer(&keys->table, g_hash_table_unref);
	g_clear_pointer(&keys->items, g_free);
}

/* the key of @rule of file @name, the next one free in @seen (where it is then taken) */
static guint64
key_table_add(KeyTable *seen, const char *name, const VigilRule *rule, VigilRule *value)
{
	g_autofree char *text = vigil_rule_to_string(rule, FALSE);
	guint64 base = fnv64(fnv64(FNV64_OFFSET, name), text);
	KeyedRule item = {0, value};

	g_return_val_if_fail(seen->len < seen->capacity, 0);
	for (guint64 n = 0;; n++) {
		item.key = (base ^ n) * FNV64_PRIME;
		item.key ^= item.key >> 31;
		if (!g_hash_table_contains(seen->table, &item))
			break;
	}
	seen->items[seen->len] = item;
	g_hash_table_add(seen->table, &seen->items[seen->len++]);
	return item.key;
}

static guint
count_rules(GHashTable *system_files)
{
	GHashTableIter iter;
	gpointer rules;
	guint n = 0;

	g_hash_table_iter_init(&iter, system_files);
	while (g_hash_table_iter_next(&iter, NULL, &rules))
		n += ((GPtrArray *)rules)->len;
	return n;
}

/* the live system rules by key; call it while the set still holds them */
static void
live_system_keys(VigilRuleStore *store, KeyTable *keys)
{
	g_autoptr(GList) names =
	    g_list_sort(g_hash_table_get_keys(store->system_files), (GCompareFunc)strcmp);

	key_table_init(keys, count_rules(store->system_files));
	for (GList *l = names; l != NULL; l = l->next) {
		GPtrArray *rules = g_hash_table_lookup(store->system_files, l->data);

		/* every line takes a key, also one that did not make it into the set */
		for (guint i = 0; i < rules->len; i++) {
			VigilRule *rule = g_ptr_array_index(rules, i);
			gboolean live =
			    rule->id != 0 && vigil_ruleset_lookup(store->set, rule->id) == rule;

			key_table_add(keys, l->data, rule, live ? rule : NULL);
		}
	}
}

/* "path:line" -> the length of "path" */
static gsize
origin_file_len(const VigilRule *rule)
{
	const char *colon = rule->origin != NULL ? strrchr(rule->origin, ':') : NULL;

	return colon != NULL ? (gsize)(colon - rule->origin) : 0;
}

/* the rule to keep for @parsed: the one loaded before under the same key, or @parsed itself */
static VigilRule *
reuse_system_rule(KeyTable *old_keys, guint64 key, VigilRule *parsed)
{
	KeyedRule probe = {key, NULL};
	KeyedRule *found = g_hash_table_lookup(old_keys->table, &probe);
	VigilRule *old = found != NULL ? found->rule : NULL;
	gsize len = origin_file_len(parsed);

	if (old == NULL || old == parsed || origin_file_len(old) != len ||
	    strncmp(old->origin, parsed->origin, len) != 0 || !vigil_rule_equal(old, parsed, FALSE))
		return parsed;
	g_free(old->origin);
	old->origin = g_strdup(parsed->origin);
	return old;
}

static void
add_system_rules(VigilRuleStore *store, GHashTable *system_files, KeyTable *old_keys)
{
	g_autoptr(GList) names =
	    g_list_sort(g_hash_table_get_keys(system_files), (GCompareFunc)strcmp);
	KeyTable seen;

	key_table_init(&seen, count_rules(system_files));
	for (GList *l = names; l != NULL; l = l->next) {
		GPtrArray *rules = g_hash_table_lookup(system_files, l->data);

		for (guint i = 0; i < rules->len; i++) {
			VigilRule *parsed = g_ptr_array_index(rules, i);
			guint64 key = key_table_add(&seen, l->data, parsed, parsed);
			VigilRule *rule = reuse_system_rule(old_keys, key, parsed);

			if (rule->id == 0)
				rule->id = store->next_system_id++;
			if (!vigil_ruleset_add(store->set, rule))
				continue;
			/* the file's list holds the live object, should the file break later */
			if (rule != parsed) {
				rules->pdata[i] = vigil_rule_ref(rule);
				vigil_rule_unref(parsed);
			}
		}
	}
	key_table_clear(&seen);
}

/* keeps a learned rule's in-memory object (and its newer hit count) when it is unchanged */
static VigilRule *
reuse_learned(GHashTable *old_by_id, VigilRule *parsed)
{
	VigilRule *old = g_hash_table_lookup(old_by_id, &parsed->id);

	if (old == NULL || !vigil_rule_equal(old, parsed, FALSE))
		return parsed;
	old->hits = MAX(old->hits, parsed->hits);
	old->last_hit = MAX(old->last_hit, parsed->last_hit);
	old->created = parsed->created;
	g_free(old->origin);
	old->origin = g_strdup(parsed->origin);
	return old;
}

/* the line number at the end of a rule's "file:line" origin */
static guint
origin_line(const VigilRule *rule)
{
	const char *colon = rule->origin != NULL ? strrchr(rule->origin, ':') : NULL;
	guint64 line = 0;

	if (colon != NULL)
		g_ascii_string_to_unsigned(colon + 1, 10, 1, G_MAXUINT, &line, NULL);
	return (guint)line;
}

static void
add_learned_rules(VigilRuleStore *store, Load *load, GPtrArray *old_learned, GHashTable *new_keys)
{
	g_autoptr(GHashTable) old_by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) without_id = g_ptr_array_new();

	for (guint i = 0; i < old_learned->len; i++) {
		VigilRule *old = g_ptr_array_index(old_learned, i);

		g_hash_table_insert(old_by_id, &old->id, old);
	}
	for (guint i = 0; i < load->learned->len; i++) {
		VigilRule *parsed = g_ptr_array_index(load->learned, i);
		g_autofree char *message = NULL;

		if (parsed->id >= VIGIL_RULE_ID_SYSTEM_BASE)
			message = g_strdup_printf(
			    "id %" G_GUINT64_FORMAT
			    " is in the system rules' range; the rule gets a new id",
			    parsed->id);
		else if (parsed->id != 0 && vigil_ruleset_lookup(store->set, parsed->id) != NULL)
			message = g_strdup_printf("id %" G_GUINT64_FORMAT
			                          " is used twice; the rule gets a new id",
			                          parsed->id);
		if (message != NULL) {
			add_problem(load->problems, store->learned_path, origin_line(parsed),
			            message);
			parsed->id = 0;
		}
		if (parsed->id == 0 ||
		    !vigil_ruleset_add(store->set, reuse_learned(old_by_id, parsed)))
			g_ptr_array_add(without_id, parsed);
	}
	/* after every saved id is placed; a line without one keeps the id it got last time */
	for (guint i = 0; i < without_id->len; i++) {
		VigilRule *parsed = g_ptr_array_index(without_id, i);
		g_autofree char *key = rule_key(seen, "", parsed);
		VigilRule *rule = reuse_rule(store->learned_keys, key, parsed);

		/* saved with an id meanwhile, and placed by it above */
		if (rule != parsed && vigil_ruleset_lookup(store->set, rule->id) == rule)
			rule = parsed;
		if (rule->id != 0 && vigil_ruleset_lookup(store->set, rule->id) != NULL)
			rule->id = 0;
		if (!vigil_ruleset_add(store->set, rule))
			continue;
		g_hash_table_insert(new_keys, g_steal_pointer(&key), vigil_rule_ref(rule));
	}
}

static GPtrArray *
list_learned(VigilRuleset *set)
{
	GPtrArray *rules = vigil_ruleset_list(set);

	for (guint i = rules->len; i > 0; i--) {
		VigilRule *rule = g_ptr_array_index(rules, i - 1);

		if (rule->system)
			g_ptr_array_remove_index(rules, i - 1);
	}
	return rules;
}

/*
 * A learned file with bad lines may have lost rules to them: the rules loaded before that
 * it no longer gave stay, beside the good lines it did give (a corrupt file never loses
 * the last good rules; at start there are none).
 */
static void
keep_unread_learned(VigilRuleStore *store, GPtrArray *old_learned)
{
	for (guint i = 0; i < old_learned->len; i++) {
		VigilRule *old = g_ptr_array_index(old_learned, i);

		if (vigil_ruleset_lookup(store->set, old->id) == NULL)
			vigil_ruleset_add(store->set, old);
	}
}

/* replaces the live rules with what @load found, keeping ids and hits where it can */
static void
apply_load(VigilRuleStore *store, Load *load)
{
	g_autoptr(GPtrArray) old_learned = list_learned(store->set);
	KeyTable system_keys;
	GHashTable *learned_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                 (GDestroyNotify)vigil_rule_unref);

	live_system_keys(store, &system_keys);
	vigil_ruleset_clear(store->set);
	if (load->learned != NULL) {
		add_learned_rules(store, load, old_learned, learned_keys);
		if (load->learned_partial)
			keep_unread_learned(store, old_learned);
	} else {
		for (guint i = 0; i < old_learned->len; i++)
			vigil_ruleset_add(store->set, g_ptr_array_index(old_learned, i));
		g_hash_table_unref(learned_keys);
		learned_keys = g_hash_table_ref(store->learned_keys);
	}
	add_system_rules(store, load->system_files, &system_keys);
	key_table_clear(&system_keys);

	g_hash_table_unref(store->system_files);
	store->system_files = g_hash_table_ref(load->system_files);
	g_hash_table_unref(store->learned_keys);
	store->learned_keys = learned_keys;
}

/* what a rule's program path names, when that is not the path itself; NULL otherwise */
static char *
program_path_note(VigilRuleStore *store, const VigilRule *rule)
{
	if (rule->program == NULL || g_str_equal(rule->program, VIGIL_PROGRAM_UNKNOWN))
		return NULL;
	if (rule->program_target != NULL)
		return g_strdup_printf("app %s is a symbolic link: the rule matches %s",
		                       rule->program, rule->program_target);
	if (!vigil_ruleset_names_file(store->set, rule))
		return g_strdup_printf("app %s names no file: the rule matches %s until it does",
		                       rule->program,
		                       rule->sha256 != NULL ? "only that build" : "nothing");
	return NULL;
}

/*
 * Tells, once per path and load, which rules name another file than their path (a link:
 * /usr/bin/python3 is /usr/bin/python3.11) or none: either way the rule does not match
 * what its text may suggest, and nobody should have to guess.
 */
static void
report_program_paths(VigilRuleStore *store)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(store->set);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint reported = 0;

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree char *note = NULL;

		if (rule->program == NULL || !g_hash_table_add(seen, rule->program))
			continue;
		note = program_path_note(store, rule);
		if (note != NULL && reported++ < MAX_REPORTED_PATHS)
			g_message("%s: %s",
			          rule->origin != NULL ? rule->origin : store->learned_path, note);
	}
	if (reported > MAX_REPORTED_PATHS)
		g_message("%u more rule paths are links or name no file",
		          reported - MAX_REPORTED_PATHS);
}

/* the learned file was kept aside: its good rules go to a clean file at once */
static void
save_after_aside(VigilRuleStore *store, Load *load)
{
	g_autoptr(GError) error = NULL;

	if (!vigil_rule_store_save(store, &error))
		add_problem(load->problems, store->learned_path, 0, error->message);
}

gboolean
vigil_rule_store_load(VigilRuleStore *store, GPtrArray *problems, GError **error)
{
	g_autoptr(GPtrArray) own_problems = NULL;
	Load load = {0};
	guint size_before;
	guint first_problem;
	gboolean ok = TRUE;

	g_return_val_if_fail(store != NULL, FALSE);

	if (problems == NULL) {
		own_problems =
		    g_ptr_array_new_with_free_func((GDestroyNotify)vigil_load_problem_free);
		problems = own_problems;
	}
	first_problem = problems->len;
	size_before = vigil_ruleset_size(store->set);
	load.problems = problems;
	load.system_files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                          (GDestroyNotify)g_ptr_array_unref);

	load_system(store, &load);
	load_learned(store, &load);
	apply_load(store, &load);
	if (load.save_learned)
		save_after_aside(store, &load);
	log_problems(problems, first_problem);
	report_program_paths(store);

	if (load.failure != NULL && size_before == 0 && vigil_ruleset_size(store->set) == 0) {
		g_propagate_error(error, g_steal_pointer(&load.failure));
		ok = FALSE;
	}
	g_clear_error(&load.failure);
	g_hash_table_unref(load.system_files);
	g_clear_pointer(&load.learned, g_ptr_array_unref);
#ifdef __GLIBC__
	/* the file's text and the rules a reload replaced leave free pages among the live ones:
	 * give them back, or a daemon with many rules keeps twice their size after a reload */
	malloc_trim(0);
#endif
	return ok;
}

/* ---- saving ---- */

gboolean
vigil_rule_store_save(VigilRuleStore *store, GError **error)
{
	g_autoptr(GPtrArray) learned = NULL;
	g_autofree char *body = NULL;
	g_autofree char *text = NULL;
	g_autofree char *dir = NULL;
	const guint header_lines = 2;

	g_return_val_if_fail(store != NULL, FALSE);

	if (store->learned_blocked) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "%s could not be read whole nor kept aside: not writing over it; "
		            "move it away or repair it",
		            store->learned_path);
		return FALSE;
	}
	learned = list_learned(store->set);
	body = vigil_rules_format_text(learned, TRUE);
	text = g_strconcat(LEARNED_HEADER, body, NULL);
	dir = g_path_get_dirname(store->learned_path);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int saved_errno = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
		            "cannot create %s: %s", dir, g_strerror(saved_errno));
		return FALSE;
	}
	if (!vigil_write_file_atomically(store->learned_path, text, error))
		return FALSE;

	for (guint i = 0; i < learned->len; i++) {
		VigilRule *rule = g_ptr_array_index(learned, i);

		g_free(rule->origin);
		rule->origin = g_strdup_printf("%s:%u", store->learned_path, header_lines + i + 1);
	}
	g_free(store->learned_text);
	store->learned_text = g_steal_pointer(&text);
	return TRUE;
}

/*
 * A `user NAME` not looked up yet (vigil_rule_parse_line_keep_names()) has no uid: stored so,
 * the rule would apply to the uid field's value (0, root) and read back as another user's
 * rule once the name resolves. The D-Bus server looks names up before it stores a rule.
 */
static gboolean
check_user_resolved(const VigilRule *rule, GError **error)
{
	if (rule->user_name == NULL)
		return TRUE;
	g_set_error(error, VIGIL_RULE_ERROR, VIGIL_RULE_ERROR_VALUE,
	            "user: '%s' is not resolved to a uid: a rule is stored only for a known user",
	            rule->user_name);
	return FALSE;
}

gboolean
vigil_rule_store_add_learned(VigilRuleStore *store, VigilRule *rule, GError **error)
{
	g_return_val_if_fail(store != NULL && rule != NULL, FALSE);

	if (rule->id != 0 && vigil_ruleset_lookup(store->set, rule->id) == rule) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
		            "rule %" G_GUINT64_FORMAT " is already in the rule set", rule->id);
		return FALSE;
	}
	if (!check_user_resolved(rule, error) || !vigil_rule_validate(rule, error))
		return FALSE;

	rule->id = 0;
	rule->system = FALSE;
	if (rule->created == 0)
		rule->created = g_get_real_time() / G_USEC_PER_SEC;
	g_clear_pointer(&rule->origin, g_free);
	if (!vigil_ruleset_add(store->set, rule)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "no rule id left");
		return FALSE;
	}
	if (!vigil_rule_store_save(store, error)) {
		vigil_ruleset_remove(store->set, rule->id);
		rule->id = 0;
		return FALSE;
	}
	return TRUE;
}

/* the learned rule @id, or NULL with the error a caller can pass on */
static VigilRule *
lookup_learned(VigilRuleStore *store, guint64 id, GError **error)
{
	VigilRule *found = vigil_ruleset_lookup(store->set, id);

	if (found == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		            "there is no rule %" G_GUINT64_FORMAT, id);
		return NULL;
	}
	if (found->system) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
		            "rule %" G_GUINT64_FORMAT " is a system rule (%s): edit that file", id,
		            found->origin != NULL ? found->origin : store->system_dir);
		return NULL;
	}
	return found;
}

gboolean
vigil_rule_store_remove_learned(VigilRuleStore *store, guint64 id, GError **error)
{
	VigilRule *found;
	g_autoptr(VigilRule) rule = NULL;

	g_return_val_if_fail(store != NULL, FALSE);

	found = lookup_learned(store, id, error);
	if (found == NULL)
		return FALSE;
	rule = vigil_rule_ref(found);
	vigil_ruleset_remove(store->set, id);
	if (!vigil_rule_store_save(store, error)) {
		vigil_ruleset_add(store->set, rule);
		return FALSE;
	}
	return TRUE;
}

gboolean
vigil_rule_store_replace_learned(VigilRuleStore *store, guint64 id, VigilRule *rule, GError **error)
{
	VigilRule *found;
	g_autoptr(VigilRule) old = NULL;

	g_return_val_if_fail(store != NULL && rule != NULL, FALSE);

	found = lookup_learned(store, id, error);
	if (found == NULL)
		return FALSE;
	if (rule->id != 0 && vigil_ruleset_lookup(store->set, rule->id) == rule) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
		            "rule %" G_GUINT64_FORMAT " is already in the rule set", rule->id);
		return FALSE;
	}
	if (!check_user_resolved(rule, error) || !vigil_rule_validate(rule, error))
		return FALSE;

	old = vigil_rule_ref(found);
	rule->id = id;
	rule->created = old->created;
	rule->hits = old->hits;
	rule->last_hit = old->last_hit;
	rule->system = FALSE;
	g_free(rule->origin);
	rule->origin = g_strdup(old->origin);
	vigil_ruleset_remove(store->set, id);
	vigil_ruleset_add(store->set, rule);
	if (!vigil_rule_store_save(store, error)) {
		vigil_ruleset_remove(store->set, id);
		vigil_ruleset_add(store->set, old);
		rule->id = 0;
		return FALSE;
	}
	return TRUE;
}

gboolean
vigil_rule_store_repin_learned(VigilRuleStore *store, GArray *ids, const char *sha256,
                               GError **error)
{
	g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_rule_unref);

	g_return_val_if_fail(store != NULL && ids != NULL && sha256 != NULL, FALSE);
	for (guint i = 0; i < ids->len; i++) {
		VigilRule *found = lookup_learned(store, g_array_index(ids, guint64, i), error);

		if (found == NULL)
			return FALSE;
		g_ptr_array_add(old, vigil_rule_ref(found));
	}
	for (guint i = 0; i < old->len; i++) {
		VigilRule *rule = g_ptr_array_index(old, i);
		g_autoptr(VigilRule) moved = vigil_rule_copy(rule);

		g_free(moved->sha256);
		moved->sha256 = g_ascii_strdown(sha256, -1);
		vigil_ruleset_remove(store->set, rule->id);
		vigil_ruleset_add(store->set, moved);
	}
	if (!vigil_rule_store_save(store, error)) {
		for (guint i = 0; i < old->len; i++) {
			VigilRule *rule = g_ptr_array_index(old, i);

			vigil_ruleset_remove(store->set, rule->id);
			vigil_ruleset_add(store->set, rule);
		}
		return FALSE;
	}
	return TRUE;
}

/* ---- watching ---- */

/* what a reload could change, without the hit counts that change on every match */
static char *
ruleset_signature(VigilRuleset *set)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(set);
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);
		g_autofree char *text = vigil_rule_to_string(rule, FALSE);
		g_autofree char *line =
		    g_strdup_printf("%" G_GUINT64_FORMAT " %d %s\n", rule->id, rule->system, text);

		g_checksum_update(sum, (const guchar *)line, -1);
	}
	return g_strdup(g_checksum_get_string(sum));
}

/* TRUE when the learned file holds what the store last read or wrote */
static gboolean
learned_file_unchanged(VigilRuleStore *store)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents(store->learned_path, &text, NULL, NULL))
		return store->learned_text == NULL;
	return g_strcmp0(text, store->learned_text) == 0;
}

static gboolean
on_debounced(gpointer data)
{
	VigilRuleStore *store = data;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;
	gboolean system_dirty = store->system_dirty;

	store->debounce_id = 0;
	store->system_dirty = FALSE;
	store->learned_dirty = FALSE;
	/* our own save, or a touch: nothing to read */
	if (!system_dirty && learned_file_unchanged(store))
		return G_SOURCE_REMOVE;

	before = ruleset_signature(store->set);
	vigil_rule_store_load(store, NULL, NULL);
	after = ruleset_signature(store->set);
	if (g_strcmp0(before, after) != 0 && store->changed != NULL)
		((void (*)(gpointer))store->changed)(store->changed_data);
	return G_SOURCE_REMOVE;
}

/* a link that points elsewhere now (update-alternatives), a program installed or removed */
static gboolean
on_recheck_programs(gpointer data)
{
	VigilRuleStore *store = data;

	if (vigil_ruleset_recheck_programs(store->set, RECHECK_BATCH) > 0 && store->changed != NULL)
		((void (*)(gpointer))store->changed)(store->changed_data);
	return G_SOURCE_CONTINUE;
}

static void
schedule_reload(VigilRuleStore *store)
{
	/* editors and package managers write in bursts: act once it has settled */
	g_clear_handle_id(&store->debounce_id, g_source_remove);
	store->debounce_id = g_timeout_add(DEBOUNCE_MS, on_debounced, store);
}

static gboolean
is_named(GFile *file, const char *name)
{
	g_autofree char *base = file != NULL ? g_file_get_basename(file) : NULL;

	return g_strcmp0(base, name) == 0;
}

static gboolean
is_rules_file(GFile *file)
{
	g_autofree char *base = file != NULL ? g_file_get_basename(file) : NULL;

	return base != NULL && base[0] != '.' && g_str_has_suffix(base, ".rules");
}

static void
on_system_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                  gpointer data)
{
	VigilRuleStore *store = data;
	g_autoptr(GFile) dir = g_file_new_for_path(store->system_dir);

	if (!is_rules_file(file) && !is_rules_file(other) && !g_file_equal(file, dir))
		return;
	store->system_dirty = TRUE;
	schedule_reload(store);
}

static void
on_learned_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                   gpointer data)
{
	VigilRuleStore *store = data;
	g_autofree char *name = g_path_get_basename(store->learned_path);

	if (!is_named(file, name) && !is_named(other, name))
		return;
	store->learned_dirty = TRUE;
	schedule_reload(store);
}

static GFileMonitor *
monitor_directory(const char *path, GCallback handler, VigilRuleStore *store)
{
	g_autoptr(GFile) dir = g_file_new_for_path(path);
	g_autoptr(GError) error = NULL;
	GFileMonitor *monitor;

	monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
	if (monitor == NULL) {
		g_warning("cannot watch %s for rule changes: %s", path, error->message);
		return NULL;
	}
	g_signal_connect(monitor, "changed", handler, store);
	return monitor;
}

void
vigil_rule_store_watch(VigilRuleStore *store, GCallback changed, gpointer user_data)
{
	g_autofree char *learned_dir = NULL;

	g_return_if_fail(store != NULL);

	stop_watching(store);
	store->changed = changed;
	store->changed_data = user_data;
	learned_dir = g_path_get_dirname(store->learned_path);
	store->system_monitor =
	    monitor_directory(store->system_dir, G_CALLBACK(on_system_changed), store);
	store->learned_monitor =
	    monitor_directory(learned_dir, G_CALLBACK(on_learned_changed), store);
	store->recheck_id = g_timeout_add_seconds(RECHECK_INTERVAL_S, on_recheck_programs, store);
}
