/* vigil-ruleset.c: the live rules, indexed by program then destination, and their precedence */
#define G_LOG_DOMAIN "vigil-ruleset"
#include "config.h"

#include "vigil-ruleset.h"

#include <string.h>
#include <sys/socket.h>

/*
 * The index: a bucket per program file, one for "any program" and one for
 * "app unknown". A program's bucket is keyed by the path of the file its rules' paths name
 * in vigild's own mount namespace, every symbolic link resolved (what /proc/PID/exe shows),
 * and knows that file's device and inode: a process matches its rules only when it runs
 * that very file (or, for a rule with sha256, that build). Rule paths are kept apart
 * (ProgramPath), so that a path whose link changes moves its rules to another bucket. A bucket's
 * rules sit in slots by destination: exact host, domain, network (per family and prefix length
 * present in the bucket), and "any". The slots of all buckets share one hash table keyed by
 * (bucket, destination), each slot a chain of entries, so a rule costs one entry and a table cell.
 * A lookup visits the slots its program and destination can reach: the cost depends on how many
 * names and prefix lengths there are, not on how many rules.
 */

typedef struct _Bucket Bucket;
typedef struct _Entry Entry;

/* a rule's program path as written, and the bucket of the file it names */
typedef struct {
	char *path;       /* the key in set->paths */
	Bucket *bucket;   /* never NULL: the bucket lives while it holds this path's entries */
	Entry *entries;   /* the rules with this path, linked through path_next */
	guint list_index; /* in set->path_list, which vigil_ruleset_recheck_programs walks */
} ProgramPath;

/* a slot: which bucket, and which destination in it */
typedef struct {
	Bucket *bucket;
	const char *name;     /* HOST, DOMAIN: the rule's host (or the query's name) */
	VigilAddress address; /* CIDR: the network, host bits zero */
	guint8 kind;          /* a VigilTargetKind */
	guint8 family;        /* CIDR */
	guint8 prefix_len;    /* CIDR */
} SlotKey;

struct _Entry {
	SlotKey key; /* first: the slot table's keys are entries */
	VigilRule *rule;
	GPatternSpec *args; /* compiled rule->args_glob */
	guint64 specificity;
	Entry *prev; /* in the slot's chain; the first is the table's key */
	Entry *next;
	ProgramPath *path; /* for a rule with a program path, else NULL */
	Entry *path_prev;  /* among path->entries: a list in the entries, no array per path */
	Entry *path_next;
};

typedef struct {
	guint8 family;
	guint8 prefix_len;
	guint count; /* rules of the bucket with this prefix */
} Level;

struct _Bucket {
	/* the key in programs: the resolved path of the file its rules name, or the path as
	 * written while it names no file; NULL for the two fixed buckets */
	char *program;
	VigilFileId file; /* that file, as last looked at; ino 0 when there is none */
	guint n_entries;
	guint n_names;  /* host and domain rules: names are looked up only when there are some */
	guint n_hashes; /* rules that pin a sha256: only then does a match need the hash */
	Level *levels;  /* longest prefix first */
	guint n_levels;
	Entry *any; /* the chain of rules for any destination */
};

struct _VigilRuleset {
	GHashTable *by_id;    /* guint64* -> Entry* (owns the entries) */
	GHashTable *programs; /* resolved exe path -> Bucket* */
	GHashTable *paths;    /* rule program path -> ProgramPath* (owns them) */
	GPtrArray *path_list; /* the same ProgramPath*, in an order the recheck walks round */
	guint recheck_pos;
	VigilPathResolver resolve;
	GHashTable *slots; /* set of Entry*, the first of each slot's chain, by SlotKey */
	Bucket *any_program;
	Bucket *unknown_program;
	guint64 next_id;
	guint n_args; /* rules with an args glob: while there are none, no match reads a cmdline */
	guint n_app_ids; /* rules with an app id */
	guint examined;
};

/* ---- specificity ---- */

/* bit layout of vigil_rule_specificity(), most significant first */
#define SHIFT_PROGRAM 29 /* 3 bits: 4 for a program (or "unknown"), + 1 per qualifier */
#define SHIFT_DEST    20 /* 9 bits: any 0, CIDR 1 + prefix, domain 200 + labels, host 400 */
#define SHIFT_PORT    4  /* 16 bits: any 0, else 65536 - number of ports */
#define SHIFT_PROTO   3
#define SHIFT_USER    2
#define SHIFT_ACTION  0 /* 2 bits: allow 0, drop 1, deny 2 */

#define DEST_CIDR   1
#define DEST_DOMAIN 200
#define DEST_HOST   400

static guint
count_labels(const char *name)
{
	guint labels = 1;

	for (const char *p = name; *p != '\0'; p++)
		labels += *p == '.';
	return labels;
}

static guint
program_rank(const VigilRule *rule)
{
	guint rank = rule->program != NULL ? 4 : 0;

	rank += rule->sha256 != NULL;
	rank += rule->args_glob != NULL;
	rank += rule->app_id != NULL;
	return rank;
}

static guint
destination_rank(const VigilRule *rule)
{
	switch (rule->target_kind) {
	case VIGIL_TARGET_ANY:
		return 0;
	case VIGIL_TARGET_CIDR:
		return DEST_CIDR + MIN(rule->prefix_len, 128);
	case VIGIL_TARGET_DOMAIN:
		return DEST_DOMAIN + MIN(count_labels(rule->host), 127);
	case VIGIL_TARGET_HOST:
		return DEST_HOST;
	}
	return 0;
}

static guint
port_rank(const VigilRule *rule)
{
	guint count = 0;

	if (rule->ports == NULL || rule->ports->len == 0)
		return 0;
	for (guint i = 0; i < rule->ports->len; i++) {
		const VigilPortRange *r = &g_array_index(rule->ports, VigilPortRange, i);

		count += (guint)r->last - r->first + 1;
	}
	/* fewer ports is narrower; a single port ranks highest (65535) */
	return 65536 - MIN(count, 65535);
}

static guint
action_rank(VigilAction action)
{
	switch (action) {
	case VIGIL_ACTION_ALLOW:
		return 0;
	case VIGIL_ACTION_DROP:
		return 1;
	case VIGIL_ACTION_DENY:
		return 2;
	}
	return 0;
}

guint64
vigil_rule_specificity(const VigilRule *rule)
{
	g_return_val_if_fail(rule != NULL, 0);

	return ((guint64)program_rank(rule) << SHIFT_PROGRAM) |
	       ((guint64)destination_rank(rule) << SHIFT_DEST) |
	       ((guint64)port_rank(rule) << SHIFT_PORT) |
	       ((guint64)(rule->proto != 0) << SHIFT_PROTO) |
	       ((guint64)!rule->all_users << SHIFT_USER) |
	       ((guint64)action_rank(rule->action) << SHIFT_ACTION);
}

/* ---- addresses ---- */

static void
mask_address(VigilAddress *addr, guint prefix_len)
{
	for (guint i = 0; i < sizeof(addr->bytes); i++) {
		guint bit = i * 8;

		if (bit >= prefix_len)
			addr->bytes[i] = 0;
		else if (prefix_len - bit < 8)
			addr->bytes[i] &= (guint8)(0xff << (8 - (prefix_len - bit)));
	}
}

/* ---- entries and buckets ---- */

static void
entry_free(Entry *entry)
{
	vigil_rule_unref(entry->rule);
	g_clear_pointer(&entry->args, g_pattern_spec_free);
	g_free(entry);
}

static void
bucket_free(Bucket *bucket)
{
	g_free(bucket->program);
	g_free(bucket->levels);
	g_free(bucket);
}

static guint
slot_hash(gconstpointer data)
{
	const SlotKey *key = data;
	guint hash = g_direct_hash(key->bucket) * 31 + key->kind;

	if (key->kind != VIGIL_TARGET_CIDR)
		return hash * 31 + g_str_hash(key->name);
	hash = (hash * 31 + key->family) * 31 + key->prefix_len;
	for (guint i = 0; i < sizeof(key->address.bytes); i++)
		hash = (hash ^ key->address.bytes[i]) * 16777619u;
	return hash;
}

static gboolean
slot_equal(gconstpointer a, gconstpointer b)
{
	const SlotKey *x = a;
	const SlotKey *y = b;

	if (x->bucket != y->bucket || x->kind != y->kind)
		return FALSE;
	if (x->kind != VIGIL_TARGET_CIDR)
		return g_str_equal(x->name, y->name);
	return x->family == y->family && x->prefix_len == y->prefix_len &&
	       memcmp(&x->address, &y->address, sizeof(x->address)) == 0;
}

/* the CIDR prefix lengths present in a bucket, counted, longest first */
static void
bucket_add_level(Bucket *bucket, int family, guint prefix_len)
{
	guint pos = 0;

	for (; pos < bucket->n_levels; pos++) {
		Level *level = &bucket->levels[pos];

		if (level->family == family && level->prefix_len == prefix_len) {
			level->count++;
			return;
		}
		if (level->prefix_len < prefix_len)
			break;
	}
	bucket->levels = g_renew(Level, bucket->levels, bucket->n_levels + 1);
	memmove(bucket->levels + pos + 1, bucket->levels + pos,
	        (bucket->n_levels - pos) * sizeof(Level));
	bucket->levels[pos] = (Level){(guint8)family, (guint8)prefix_len, 1};
	bucket->n_levels++;
}

static void
bucket_remove_level(Bucket *bucket, int family, guint prefix_len)
{
	for (guint pos = 0; pos < bucket->n_levels; pos++) {
		Level *level = &bucket->levels[pos];

		if (level->family != family || level->prefix_len != prefix_len ||
		    --level->count > 0)
			continue;
		memmove(level, level + 1, (bucket->n_levels - pos - 1) * sizeof(Level));
		if (--bucket->n_levels == 0)
			g_clear_pointer(&bucket->levels, g_free);
		return;
	}
}

/* links @entry into the chain of its slot: the bucket's "any" chain, or one in set->slots */
static void
slot_insert(VigilRuleset *set, Entry *entry)
{
	Entry **head = &entry->key.bucket->any;

	if (entry->key.kind != VIGIL_TARGET_ANY) {
		Entry *first = g_hash_table_lookup(set->slots, &entry->key);

		if (first == NULL) {
			g_hash_table_add(set->slots, entry);
			return;
		}
		/* behind the first, which stays the table's key */
		head = &first->next;
		entry->prev = first;
	}
	entry->next = *head;
	if (*head != NULL)
		(*head)->prev = entry;
	*head = entry;
}

static void
slot_remove(VigilRuleset *set, Entry *entry)
{
	if (entry->prev != NULL) {
		entry->prev->next = entry->next;
	} else if (entry->key.kind == VIGIL_TARGET_ANY) {
		entry->key.bucket->any = entry->next;
	} else if (entry->next != NULL) {
		/* the next one becomes the key, with the same slot */
		g_hash_table_add(set->slots, entry->next);
	} else {
		g_hash_table_remove(set->slots, &entry->key);
	}
	if (entry->next != NULL)
		entry->next->prev = entry->prev;
	entry->prev = entry->next = NULL;
}

static void
bucket_insert(VigilRuleset *set, Bucket *bucket, Entry *entry)
{
	VigilRule *rule = entry->rule;

	entry->key.bucket = bucket;
	entry->key.kind = (guint8)rule->target_kind;
	switch (rule->target_kind) {
	case VIGIL_TARGET_HOST:
	case VIGIL_TARGET_DOMAIN:
		entry->key.name = rule->host;
		bucket->n_names++;
		break;
	case VIGIL_TARGET_CIDR:
		entry->key.family = (guint8)rule->family;
		entry->key.prefix_len = (guint8)MIN(rule->prefix_len, 128);
		entry->key.address = rule->address;
		bucket_add_level(bucket, rule->family, entry->key.prefix_len);
		break;
	case VIGIL_TARGET_ANY:
		break;
	}
	slot_insert(set, entry);
	bucket->n_entries++;
	bucket->n_hashes += rule->sha256 != NULL;
}

static void
bucket_remove(VigilRuleset *set, Bucket *bucket, Entry *entry)
{
	slot_remove(set, entry);
	if (entry->key.kind == VIGIL_TARGET_HOST || entry->key.kind == VIGIL_TARGET_DOMAIN)
		bucket->n_names--;
	else if (entry->key.kind == VIGIL_TARGET_CIDR)
		bucket_remove_level(bucket, entry->key.family, entry->key.prefix_len);
	bucket->n_entries--;
	bucket->n_hashes -= entry->rule->sha256 != NULL;
}

static Bucket *
bucket_new(const char *program)
{
	Bucket *bucket = g_new0(Bucket, 1);

	bucket->program = g_strdup(program);
	return bucket;
}

/* the bucket of the file at @key, made when there is none; @file is a fresh look at it */
static Bucket *
program_bucket(VigilRuleset *set, const char *key, const VigilFileId *file)
{
	Bucket *bucket = g_hash_table_lookup(set->programs, key);

	if (bucket == NULL) {
		bucket = bucket_new(key);
		g_hash_table_insert(set->programs, bucket->program, bucket);
	}
	bucket->file = *file;
	return bucket;
}

/* rule->program_target: the file a rule's path names, shown when it is not the path itself */
static void
set_program_target(VigilRule *rule, const Bucket *bucket)
{
	const char *target =
	    g_strcmp0(bucket->program, rule->program) != 0 ? bucket->program : NULL;
	/* shown over D-Bus, which carries UTF-8 only; a link may point to any bytes */
	g_autofree char *shown = target != NULL ? g_utf8_make_valid(target, -1) : NULL;

	if (g_strcmp0(shown, rule->program_target) == 0)
		return;
	g_free(rule->program_target);
	rule->program_target = g_steal_pointer(&shown);
}

static void
program_path_free(ProgramPath *path)
{
	g_free(path->path);
	g_free(path);
}

/* the ProgramPath of @program, made (and the file it names looked up) when there is none */
static ProgramPath *
program_path(VigilRuleset *set, const char *program)
{
	ProgramPath *path = g_hash_table_lookup(set->paths, program);
	g_autofree char *resolved = NULL;
	VigilFileId file;

	if (path != NULL)
		return path;
	set->resolve(program, &resolved, &file);
	path = g_new0(ProgramPath, 1);
	path->path = g_strdup(program);
	path->bucket = program_bucket(set, resolved != NULL ? resolved : program, &file);
	path->list_index = set->path_list->len;
	g_ptr_array_add(set->path_list, path);
	g_hash_table_insert(set->paths, path->path, path);
	return path;
}

/* the bucket a new entry goes to; a program path's entry joins its ProgramPath */
static Bucket *
entry_bucket(VigilRuleset *set, Entry *entry)
{
	VigilRule *rule = entry->rule;
	ProgramPath *path;

	if (rule->program == NULL)
		return set->any_program;
	if (g_str_equal(rule->program, VIGIL_PROGRAM_UNKNOWN))
		return set->unknown_program;
	path = program_path(set, rule->program);
	entry->path = path;
	entry->path_next = path->entries;
	if (path->entries != NULL)
		path->entries->path_prev = entry;
	path->entries = entry;
	set_program_target(rule, path->bucket);
	return path->bucket;
}

/* takes @entry out of its ProgramPath, which goes with its last entry */
static void
entry_leave_path(VigilRuleset *set, Entry *entry)
{
	ProgramPath *path = entry->path;

	if (path == NULL)
		return;
	if (entry->path_prev != NULL)
		entry->path_prev->path_next = entry->path_next;
	else
		path->entries = entry->path_next;
	if (entry->path_next != NULL)
		entry->path_next->path_prev = entry->path_prev;
	entry->path = NULL;
	entry->path_prev = entry->path_next = NULL;
	if (path->entries != NULL)
		return;
	g_ptr_array_remove_index_fast(set->path_list, path->list_index);
	if (path->list_index < set->path_list->len)
		((ProgramPath *)set->path_list->pdata[path->list_index])->list_index =
		    path->list_index;
	g_hash_table_remove(set->paths, path->path);
}

/* drops a program's bucket once its last rule has left */
static void
bucket_release(VigilRuleset *set, Bucket *bucket)
{
	if (bucket->n_entries == 0 && bucket != set->any_program && bucket != set->unknown_program)
		g_hash_table_remove(set->programs, bucket->program);
}

/* ---- the set ---- */

VigilRuleset *
vigil_ruleset_new(void)
{
	VigilRuleset *set = g_new0(VigilRuleset, 1);

	set->by_id =
	    g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)entry_free);
	set->programs =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)bucket_free);
	set->paths =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)program_path_free);
	set->path_list = g_ptr_array_new();
	set->resolve = vigil_program_path_resolve;
	set->slots = g_hash_table_new(slot_hash, slot_equal);
	set->any_program = bucket_new(NULL);
	set->unknown_program = bucket_new(NULL);
	set->next_id = 1;
	return set;
}

void
vigil_ruleset_free(VigilRuleset *set)
{
	if (set == NULL)
		return;
	/* the index first: it points into the entries */
	g_hash_table_unref(set->slots);
	g_hash_table_unref(set->programs);
	g_hash_table_unref(set->paths);
	g_ptr_array_unref(set->path_list);
	bucket_free(set->any_program);
	bucket_free(set->unknown_program);
	g_hash_table_unref(set->by_id);
	g_free(set);
}

gboolean
vigil_ruleset_add(VigilRuleset *set, VigilRule *rule)
{
	Entry *entry;

	g_return_val_if_fail(set != NULL && rule != NULL, FALSE);

	if (rule->id == 0) {
		if (set->next_id >= VIGIL_RULE_ID_SYSTEM_BASE)
			return FALSE;
		rule->id = set->next_id;
	}
	if (g_hash_table_contains(set->by_id, &rule->id))
		return FALSE;
	if (rule->id < VIGIL_RULE_ID_SYSTEM_BASE)
		set->next_id = MAX(set->next_id, rule->id + 1);

	entry = g_new0(Entry, 1);
	entry->rule = vigil_rule_ref(rule);
	entry->specificity = vigil_rule_specificity(rule);
	if (rule->args_glob != NULL) {
		entry->args = g_pattern_spec_new(rule->args_glob);
		set->n_args++;
	}
	if (rule->app_id != NULL)
		set->n_app_ids++;
	/* the key lives in the rule, whose id does not change while it is in the set */
	g_hash_table_insert(set->by_id, &entry->rule->id, entry);
	bucket_insert(set, entry_bucket(set, entry), entry);
	return TRUE;
}

gboolean
vigil_ruleset_remove(VigilRuleset *set, guint64 id)
{
	Entry *entry;
	Bucket *bucket;

	g_return_val_if_fail(set != NULL, FALSE);

	entry = g_hash_table_lookup(set->by_id, &id);
	if (entry == NULL)
		return FALSE;
	bucket = entry->key.bucket;
	if (entry->args != NULL)
		set->n_args--;
	if (entry->rule->app_id != NULL)
		set->n_app_ids--;
	bucket_remove(set, bucket, entry);
	entry_leave_path(set, entry);
	bucket_release(set, bucket);
	g_hash_table_remove(set->by_id, &id);
	return TRUE;
}

VigilRule *
vigil_ruleset_lookup(VigilRuleset *set, guint64 id)
{
	Entry *entry;

	g_return_val_if_fail(set != NULL, NULL);
	entry = g_hash_table_lookup(set->by_id, &id);
	return entry != NULL ? entry->rule : NULL;
}

static gint
compare_by_id(gconstpointer a, gconstpointer b)
{
	const VigilRule *ra = *(VigilRule *const *)a;
	const VigilRule *rb = *(VigilRule *const *)b;

	return ra->id < rb->id ? -1 : ra->id > rb->id;
}

GPtrArray *
vigil_ruleset_list(VigilRuleset *set)
{
	GPtrArray *rules;
	GHashTableIter iter;
	Entry *entry;

	g_return_val_if_fail(set != NULL, NULL);

	rules =
	    g_ptr_array_new_full(g_hash_table_size(set->by_id), (GDestroyNotify)vigil_rule_unref);
	g_hash_table_iter_init(&iter, set->by_id);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry))
		g_ptr_array_add(rules, vigil_rule_ref(entry->rule));
	g_ptr_array_sort(rules, compare_by_id);
	return rules;
}

guint
vigil_ruleset_size(VigilRuleset *set)
{
	g_return_val_if_fail(set != NULL, 0);
	return g_hash_table_size(set->by_id);
}

void
vigil_ruleset_clear(VigilRuleset *set)
{
	g_return_if_fail(set != NULL);

	g_hash_table_remove_all(set->slots);
	g_hash_table_remove_all(set->paths);
	g_ptr_array_set_size(set->path_list, 0);
	set->recheck_pos = 0;
	g_hash_table_remove_all(set->programs);
	bucket_free(set->any_program);
	bucket_free(set->unknown_program);
	set->any_program = bucket_new(NULL);
	set->unknown_program = bucket_new(NULL);
	g_hash_table_remove_all(set->by_id);
	set->n_args = 0;
	set->n_app_ids = 0;
}

gboolean
vigil_ruleset_uses_cmdline(VigilRuleset *set)
{
	g_return_val_if_fail(set != NULL, TRUE);
	return set->n_args > 0;
}

gboolean
vigil_ruleset_uses_app_id(VigilRuleset *set)
{
	g_return_val_if_fail(set != NULL, TRUE);
	return set->n_app_ids > 0;
}

gboolean
vigil_ruleset_needs_sha256(VigilRuleset *set, const VigilMatchQuery *query)
{
	g_return_val_if_fail(set != NULL && query != NULL, TRUE);
	if (query->program == NULL)
		return FALSE;
	/* "sha256 X" without a program names a file by its contents alone */
	if (set->any_program->n_hashes > 0)
		return TRUE;
	Bucket *bucket = g_hash_table_lookup(set->programs, query->program);
	return bucket != NULL && bucket->n_hashes > 0;
}

GPtrArray *
vigil_ruleset_stale_pins(VigilRuleset *set, const char *program, guint32 uid, const char *sha256)
{
	ProgramPath *path;
	GPtrArray *stale = NULL;

	g_return_val_if_fail(set != NULL && program != NULL && sha256 != NULL, NULL);
	path = g_hash_table_lookup(set->paths, program);
	if (path == NULL || path->bucket->n_hashes == 0)
		return NULL;
	for (Entry *entry = path->entries; entry != NULL; entry = entry->path_next) {
		VigilRule *rule = entry->rule;

		if (rule->system || rule->sha256 == NULL ||
		    g_ascii_strcasecmp(rule->sha256, sha256) == 0 ||
		    !(rule->all_users || rule->uid == uid))
			continue;
		if (stale == NULL)
			stale = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_rule_unref);
		g_ptr_array_add(stale, vigil_rule_ref(rule));
	}
	return stale;
}

typedef gboolean (*RulePredicate)(const VigilRule *rule, gconstpointer data);

static guint
remove_where(VigilRuleset *set, RulePredicate predicate, gconstpointer data)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	GHashTableIter iter;
	Entry *entry;

	g_hash_table_iter_init(&iter, set->by_id);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
		if (predicate(entry->rule, data))
			g_array_append_val(ids, entry->rule->id);
	}
	for (guint i = 0; i < ids->len; i++)
		vigil_ruleset_remove(set, g_array_index(ids, guint64, i));
	return ids->len;
}

static gboolean
is_expired(const VigilRule *rule, gconstpointer data)
{
	return vigil_rule_is_expired(rule, *(const gint64 *)data);
}

guint
vigil_ruleset_expire(VigilRuleset *set, gint64 now)
{
	g_return_val_if_fail(set != NULL, 0);
	return remove_where(set, is_expired, &now);
}

guint
vigil_ruleset_get_examined(VigilRuleset *set)
{
	g_return_val_if_fail(set != NULL, 0);
	return set->examined;
}

/* ---- matching ---- */

typedef struct {
	VigilRuleset *set;
	const VigilMatchQuery *query;
	gint64 now;
	Entry *best;
	/* the bucket being searched names the process's executable: FALSE in a program's bucket
	 * whose file the process does not run, where only rules pinned to a sha256 may match */
	gboolean file_ok;
} Search;

static gboolean
port_matches(const GArray *ports, guint16 port)
{
	if (ports == NULL || ports->len == 0)
		return TRUE;
	for (guint i = 0; i < ports->len; i++) {
		const VigilPortRange *r = &g_array_index(ports, VigilPortRange, i);

		if (port >= r->first && port <= r->last)
			return TRUE;
	}
	return FALSE;
}

static gboolean
proto_matches(guint8 rule_proto, guint8 proto)
{
	if (rule_proto == 0 || rule_proto == proto)
		return TRUE;
	return rule_proto == IPPROTO_ICMP && proto == IPPROTO_ICMPV6;
}

/* everything but program and destination, which the index has already matched */
static gboolean
entry_matches(const Entry *entry, const VigilMatchQuery *q, gint64 now, gboolean file_ok)
{
	const VigilRule *rule = entry->rule;

	if (!rule->enabled || vigil_rule_is_expired(rule, now))
		return FALSE;
	if (!file_ok && rule->sha256 == NULL)
		return FALSE;
	if (!rule->all_users && rule->uid != q->uid)
		return FALSE;
	if (rule->sha256 != NULL &&
	    (q->sha256 == NULL || g_ascii_strcasecmp(rule->sha256, q->sha256) != 0))
		return FALSE;
	if (entry->args != NULL &&
	    (q->cmdline == NULL || !g_pattern_spec_match_string(entry->args, q->cmdline)))
		return FALSE;
	if (rule->app_id != NULL && g_strcmp0(rule->app_id, q->app_id) != 0)
		return FALSE;
	return port_matches(rule->ports, q->dport) && proto_matches(rule->proto, q->protocol);
}

static void
consider_slot(Search *search, const Entry *chain)
{
	for (const Entry *entry = chain; entry != NULL; entry = entry->next) {
		search->set->examined++;
		if (!entry_matches(entry, search->query, search->now, search->file_ok))
			continue;
		if (search->best == NULL || entry->specificity > search->best->specificity ||
		    (entry->specificity == search->best->specificity &&
		     entry->rule->id < search->best->rule->id))
			search->best = (Entry *)entry;
	}
}

static const Entry *
slot_lookup(Search *search, const SlotKey *key)
{
	return g_hash_table_lookup(search->set->slots, key);
}

/* lowercase, without a trailing dot, into @buf; FALSE when it cannot be a rule's host */
static gboolean
normalize_query_name(const char *name, char *buf, gsize size)
{
	gsize len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= size)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		buf[i] = g_ascii_tolower(name[i]);
	buf[len] = '\0';
	return TRUE;
}

static void
search_names(Search *search, Bucket *bucket)
{
	const char *const *names = search->query->hostnames;

	if (names == NULL || bucket->n_names == 0)
		return;
	for (guint i = 0; names[i] != NULL; i++) {
		char name[256];
		SlotKey key = {.bucket = bucket, .kind = VIGIL_TARGET_HOST, .name = name};

		if (!normalize_query_name(names[i], name, sizeof(name)))
			continue;
		consider_slot(search, slot_lookup(search, &key));
		/* "*.example.com" covers example.com and every name below it */
		key.kind = VIGIL_TARGET_DOMAIN;
		for (const char *suffix = name; suffix != NULL;) {
			const char *dot = strchr(suffix, '.');

			key.name = suffix;
			consider_slot(search, slot_lookup(search, &key));
			suffix = dot != NULL ? dot + 1 : NULL;
		}
	}
}

static void
search_networks(Search *search, Bucket *bucket)
{
	for (guint i = 0; i < bucket->n_levels; i++) {
		const Level *level = &bucket->levels[i];
		SlotKey key = {.bucket = bucket, .kind = VIGIL_TARGET_CIDR};

		if (level->family != search->query->family)
			continue;
		key.family = level->family;
		key.prefix_len = level->prefix_len;
		key.address = search->query->dst;
		mask_address(&key.address, level->prefix_len);
		consider_slot(search, slot_lookup(search, &key));
	}
}

static void
search_bucket(Search *search, Bucket *bucket)
{
	if (bucket == NULL || bucket->n_entries == 0)
		return;
	search_names(search, bucket);
	search_networks(search, bucket);
	consider_slot(search, bucket->any);
}

/*
 * TRUE when the process runs the file @bucket's path names here: same device and inode.
 * A path alone is not enough: in a mount namespace of its own (unshare -Urm, allowed to any
 * user) a process can bind-mount any file over /usr/bin/curl, and /proc/PID/exe then shows
 * that path for it.
 */
static gboolean
bucket_names_exe(VigilRuleset *set, Bucket *bucket, const VigilMatchQuery *query)
{
	const VigilFileId *exe = &query->exe;

	if (exe->ino == 0)
		return FALSE;
	/* the identity remembered may be minutes old (the recheck walks round); a process that
	 * could have mounted a file that reuses a freed inode over the path is checked against
	 * the path as it is now */
	if (vigil_file_id_equal(&bucket->file, exe) && !query->foreign_mount_ns)
		return TRUE;
	/* replaced since it was last looked at (a package upgrade), or not the file at all:
	 * one stat tells; equal identities, the common case, cost nothing */
	set->resolve(bucket->program, NULL, &bucket->file);
	return vigil_file_id_equal(&bucket->file, exe);
}

const char *
vigil_ruleset_program_for_file(VigilRuleset *set, const VigilFileId *file)
{
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail(set != NULL && file != NULL, NULL);
	if (file->ino == 0)
		return NULL;
	/* a walk over the programs that have rules: only for a process that exited before
	 * vigild saw it run, whose path it does not know */
	g_hash_table_iter_init(&iter, set->programs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Bucket *bucket = value;
		if (bucket->n_entries > 0 && vigil_file_id_equal(&bucket->file, file))
			return bucket->program;
	}
	return NULL;
}

VigilRule *
vigil_ruleset_match(VigilRuleset *set, const VigilMatchQuery *query, gint64 now)
{
	VigilRule *rule = vigil_ruleset_peek(set, query, now);

	if (rule != NULL) {
		rule->hits++;
		rule->last_hit = now;
	}
	return rule;
}

VigilRule *
vigil_ruleset_peek(VigilRuleset *set, const VigilMatchQuery *query, gint64 now)
{
	Search search = {.set = set, .query = query, .now = now, .file_ok = TRUE};

	g_return_val_if_fail(set != NULL && query != NULL, NULL);

	set->examined = 0;
	/* a process not found, also one not found in time: a program vigild cannot name is an
	 * unknown program, whatever the reason (a rule for "app unknown" is not skipped by making
	 * the lookup slow) */
	if (query->program == NULL) {
		search_bucket(&search, set->unknown_program);
	} else {
		Bucket *bucket = g_hash_table_lookup(set->programs, query->program);

		if (bucket != NULL && bucket->n_entries > 0) {
			search.file_ok = bucket_names_exe(set, bucket, query);
			search_bucket(&search, bucket);
			search.file_ok = TRUE;
		}
	}
	search_bucket(&search, set->any_program);
	return search.best != NULL ? search.best->rule : NULL;
}

void
vigil_ruleset_set_resolver(VigilRuleset *set, VigilPathResolver resolve)
{
	g_return_if_fail(set != NULL && resolve != NULL);
	g_return_if_fail(vigil_ruleset_size(set) == 0);
	set->resolve = resolve;
}

/* moves @path's rules to the bucket of the file it names now */
static void
move_path(VigilRuleset *set, ProgramPath *path, Bucket *to)
{
	Bucket *from = path->bucket;

	for (Entry *entry = path->entries; entry != NULL; entry = entry->path_next) {
		bucket_remove(set, from, entry);
		bucket_insert(set, to, entry);
		set_program_target(entry->rule, to);
	}
	path->bucket = to;
	bucket_release(set, from);
}

/* looks at the file @path names again; TRUE when that is another path than before */
static gboolean
recheck_path(VigilRuleset *set, ProgramPath *path)
{
	g_autofree char *resolved = NULL;
	VigilFileId file;
	const char *key;

	set->resolve(path->path, &resolved, &file);
	key = resolved != NULL ? resolved : path->path;
	if (g_str_equal(key, path->bucket->program)) {
		path->bucket->file = file;
		return FALSE;
	}
	g_info("app %s now names %s (was %s)", path->path, key, path->bucket->program);
	move_path(set, path, program_bucket(set, key, &file));
	return TRUE;
}

gboolean
vigil_ruleset_names_file(VigilRuleset *set, const VigilRule *rule)
{
	Entry *entry;

	g_return_val_if_fail(set != NULL && rule != NULL, TRUE);
	entry = g_hash_table_lookup(set->by_id, &rule->id);
	return entry == NULL || entry->path == NULL || entry->path->bucket->file.ino != 0;
}

guint
vigil_ruleset_recheck_programs(VigilRuleset *set, guint max)
{
	guint n;
	guint moved = 0;

	g_return_val_if_fail(set != NULL, 0);

	n = MIN(max, set->path_list->len);
	for (guint i = 0; i < n; i++) {
		if (set->recheck_pos >= set->path_list->len)
			set->recheck_pos = 0;
		moved += recheck_path(set, g_ptr_array_index(set->path_list, set->recheck_pos++));
	}
	return moved;
}

/* ---- questions about the rules (D-Bus, answers) ---- */

VigilRule *
vigil_ruleset_find_equal(VigilRuleset *set, VigilRule *rule, guint64 except_id)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(set);
	gboolean enabled = rule->enabled;
	char *note = rule->note;
	VigilRule *found = NULL;

	for (guint i = 0; i < rules->len && found == NULL; i++) {
		VigilRule *other = g_ptr_array_index(rules, i);

		if (other->id == except_id)
			continue;
		rule->enabled = other->enabled;
		rule->note = other->note;
		if (vigil_rule_equal(rule, other, FALSE))
			found = other;
	}
	rule->enabled = enabled;
	rule->note = note;
	return found;
}

guint
vigil_ruleset_count_learned(VigilRuleset *set, guint32 uid)
{
	g_autoptr(GPtrArray) rules = vigil_ruleset_list(set);
	guint n = 0;

	for (guint i = 0; i < rules->len; i++) {
		VigilRule *rule = g_ptr_array_index(rules, i);

		n += !rule->system && !rule->all_users && rule->uid == uid;
	}
	return n;
}
